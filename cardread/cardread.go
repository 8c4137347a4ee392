// Package cardread reads the holder's name and ID number from a photo of
// the front of a Chinese resident ID card. It implements flows.CardReader
// with three backends:
//
//   - Tesseract: offline OCR with the tesseract binary (chi_sim and eng).
//   - Vision: a vision-capable chat model behind an OpenAI-compatible API
//     (through package ai), asked for JSON.
//   - None: reads nothing; the person types both fields.
//
// Whatever the backend, a number is returned only when it passes
// idcard.Parse (checksum and birth date), and a name only when it is made
// of Chinese characters (with a middle dot for transcribed minority
// names). A field that could not be read is empty, and the bot asks the
// person to confirm or type it. Errors and log lines carry no personal
// data: no image, no name, numbers only masked (idcard.Mask).
package cardread

import (
	"context"

	"pensionbot/flows"
)

var _ flows.CardReader = None{}

// None is the reader for deployments without OCR: it returns empty fields,
// and the person types their name and number.
type None struct{}

// ReadCard returns empty fields.
func (None) ReadCard(context.Context, []byte) (flows.CardFields, error) {
	return flows.CardFields{}, nil
}
