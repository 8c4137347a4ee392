package flows

import "context"

// The interfaces below are the outside services a step may use. They are
// declared here, where they are used, and implemented in their own packages
// (each with a compile-time check), so that flows stays free of Telegram,
// Redis and HTTP and is tested with in-memory implementations.

// Answer is a reply to a free-form question.
type Answer struct {
	// Topic names the knowledge entry that answers the question, or "" when
	// nothing matched. Flows use it to offer the menu entry that helps.
	Topic string
	// MessageID is a locale message to show (offline answers), or "".
	MessageID string
	// Text is a ready-made answer in the person's language (model answers),
	// or "". Exactly one of MessageID and Text is set when Topic is set.
	Text string
}

// Answerer answers free-form questions in the person's language.
type Answerer interface {
	Answer(ctx context.Context, lang, question string) (Answer, error)
}

// CardFields is what a card reader found on the front of a resident ID card.
// Either field may be empty when it could not be read.
type CardFields struct {
	Name   string
	Number string
}

// CardReader reads the name and ID number from a photo of an ID card.
type CardReader interface {
	ReadCard(ctx context.Context, image []byte) (CardFields, error)
}

// Transcriber turns a voice message into text.
type Transcriber interface {
	Transcribe(ctx context.Context, audio []byte, filename, lang string) (string, error)
}
