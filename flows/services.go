package flows

import (
	"context"
	"time"
)

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

// Photo kinds kept during a certification.
const (
	PhotoCard     = "card"
	PhotoFace     = "face"
	PhotoLiveness = "liveness"
)

// PhotoStore keeps a person's photos, encrypted, apart from their identity
// data and only briefly: until the decision, or PHOTO_TTL at most.
type PhotoStore interface {
	PutPhoto(ctx context.Context, user int64, kind string, data []byte) error
	Photo(ctx context.Context, user int64, kind string) ([]byte, error)
	DeletePhotos(ctx context.Context, user int64) error
}

// PhotoProblem is what is wrong with a photo, "" for nothing. Each has a
// locale message "photo.problem.<problem>" with kind, specific advice.
type PhotoProblem string

// The photo problems.
const (
	PhotoOK          PhotoProblem = ""
	PhotoTooLarge    PhotoProblem = "too_large"
	PhotoNotImage    PhotoProblem = "not_image"
	PhotoTooSmall    PhotoProblem = "too_small"
	PhotoTooDark     PhotoProblem = "too_dark"
	PhotoOverexposed PhotoProblem = "overexposed"
	PhotoBlurred     PhotoProblem = "blurred"
	PhotoUnevenLight PhotoProblem = "uneven_light"
	PhotoNoFace      PhotoProblem = "no_face"
	PhotoManyFaces   PhotoProblem = "many_faces"
	PhotoFaceSmall   PhotoProblem = "face_too_small"
	PhotoFaceCut     PhotoProblem = "face_cut_off"
)

// ImageChecker checks photos before they are kept: decoding safely, then
// quality, then (for faces) exactly one frontal face. An error means the
// check itself failed, not the photo.
type ImageChecker interface {
	CheckCard(ctx context.Context, data []byte) (PhotoProblem, error)
	CheckFace(ctx context.Context, data []byte) (PhotoProblem, error)
}

// Record is the result of a certification, kept after everything else is
// deleted: dates, channel, who decided, and the masked ID number.
type Record struct {
	CertifiedOn  time.Time `json:"on"`
	ValidUntil   time.Time `json:"until"`
	Channel      string    `json:"channel"`
	By           string    `json:"by"`
	MaskedNumber string    `json:"number"`
}

// RecordStore keeps certification records for longer than idle states.
type RecordStore interface {
	SaveRecord(ctx context.Context, user int64, r Record) error
	Record(ctx context.Context, user int64) (*Record, error)
}

// Withdrawer is implemented by verifiers that can drop a case that has not
// been decided (the person asked to be forgotten).
type Withdrawer interface {
	Withdraw(ctx context.Context, caseID string) error
}
