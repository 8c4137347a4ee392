package flows

import (
	"context"
	"errors"
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

// PhotoStore keeps the photos of the people on an account (who is Me or a
// relative's ID), encrypted, apart from their identity data and only
// briefly: until the decision, or PHOTO_TTL at most.
type PhotoStore interface {
	PutPhoto(ctx context.Context, user int64, who, kind string, data []byte) error
	Photo(ctx context.Context, user int64, who, kind string) ([]byte, error)
	DeletePhotos(ctx context.Context, user int64, who string) error
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

// RecordStore keeps certification records for longer than idle states,
// one per person on an account (who is Me or a relative's ID).
type RecordStore interface {
	SaveRecord(ctx context.Context, user int64, who string, r Record) error
	Record(ctx context.Context, user int64, who string) (*Record, error)
	DeleteRecord(ctx context.Context, user int64, who string) error
}

// OpenCases keeps one open case per pensioner across all accounts. The
// pensioner is known by a keyed hash of the ID number (HMAC), never by the
// number itself.
type OpenCases interface {
	// Open holds the pensioner with the ID number for caseID until ttl
	// has passed or Close is called. It returns the hash to close it with,
	// and false when another case holds the pensioner. Opening again for
	// the same caseID succeeds (a step run twice).
	Open(ctx context.Context, number, caseID string, ttl time.Duration) (key string, ok bool, err error)
	// Close lets go of the pensioner if caseID still holds them.
	Close(ctx context.Context, key, caseID string) error
}

// ErrTooLarge is what Files.Fetch wraps when a file is over the size asked
// for, so a step can tell "send a smaller photo" from "try again later".
var ErrTooLarge = errors.New("file too large")

// ErrInvite means an invitation code is unknown, used or expired.
var ErrInvite = errors.New("invitation unknown, used or expired")

// Links keeps invitations and links between pensioners and helpers.
type Links interface {
	// Invite makes a single-use code for pensioner, valid for ttl.
	Invite(ctx context.Context, pensioner int64, ttl time.Duration) (string, error)
	// Accept uses a code: helper becomes linked to the pensioner who made
	// it. It fails with ErrInvite when the code is unknown, used or expired.
	Accept(ctx context.Context, code string, helper int64, now time.Time) (int64, error)
	SetRelation(ctx context.Context, pensioner, helper int64, relation string) error
	// SetPending records when helper sent a certification for pensioner
	// that is not decided yet (zero: none).
	SetPending(ctx context.Context, pensioner, helper int64, since time.Time) error
	Linked(ctx context.Context, pensioner, helper int64) (bool, error)
	Helpers(ctx context.Context, pensioner int64) ([]Link, error)
	Unlink(ctx context.Context, pensioner, helper int64) error
	// Forget removes every link of user, on either side.
	Forget(ctx context.Context, user int64) error
}
