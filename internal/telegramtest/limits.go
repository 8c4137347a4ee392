package telegramtest

import (
	"bytes"
	"image"
	_ "image/jpeg" // sendPhoto uploads are checked like Telegram does
	_ "image/png"

	_ "golang.org/x/image/webp"
)

// Limits the real Bot API enforces and the fake enforces too, so that tests
// catch what Telegram would refuse.
const (
	// MaxPhotoUpload is the largest photo sendPhoto takes (10 MB); larger
	// pictures must be re-encoded or sent as documents.
	MaxPhotoUpload = 10 << 20
	// maxPhotoSides is sendPhoto's bound on width + height, maxPhotoRatio
	// on the ratio of the longer side to the shorter.
	maxPhotoSides = 10000
	maxPhotoRatio = 20
	// deleteWindow is how long (seconds) a bot may delete a message in a
	// private chat: 48 hours.
	deleteWindow = 48 * 3600
	// callbackAnswerWindow is how long (seconds) a callback query can be
	// answered; after that Telegram answers "query is too old".
	callbackAnswerWindow = 15
)

// checkPhotoUpload refuses an uploaded photo as sendPhoto does.
func checkPhotoUpload(data []byte) *apiError {
	if len(data) > MaxPhotoUpload {
		return badRequest("file is too big")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return badRequest("IMAGE_PROCESS_FAILED")
	}
	w, h := cfg.Width, cfg.Height
	if w+h > maxPhotoSides || max(w, h) > maxPhotoRatio*max(1, min(w, h)) {
		return badRequest("PHOTO_INVALID_DIMENSIONS")
	}
	return nil
}
