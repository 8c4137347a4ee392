package flows

import "time"

// Kind says what a person sent.
type Kind int

// The kinds of input. Every step must cope with every kind: the engine
// answers kinds a step does not expect with a hint, so steps only handle the
// kinds they declare.
const (
	KindText Kind = iota + 1
	KindCommand
	KindButton
	KindPhoto
	KindDocument
	KindVoice
	KindVideoNote
	KindVideo
	KindSticker
	KindLocation
	KindContact
	KindEdited
	KindOther
	// KindDecision is a verifier's decision arriving later, through the
	// person's inbox like any other input.
	KindDecision
)

var kindNames = map[Kind]string{
	KindText: "text", KindCommand: "command", KindButton: "button", KindPhoto: "photo",
	KindDocument: "document", KindVoice: "voice", KindVideoNote: "video_note", KindVideo: "video",
	KindSticker: "sticker", KindLocation: "location", KindContact: "contact", KindEdited: "edited",
	KindOther: "other", KindDecision: "decision",
}

// String names the kind; the name is also the suffix of its locale message
// "kind.<name>".
func (k Kind) String() string {
	if n, ok := kindNames[k]; ok {
		return n
	}
	return "other"
}

// ParseKind is the inverse of Kind.String, for transcripts.
func ParseKind(s string) (Kind, bool) {
	for k, n := range kindNames {
		if n == s {
			return k, true
		}
	}
	return 0, false
}

// Input is one thing a person did: a message, a button press, an edit.
type Input struct {
	Kind Kind
	// Text is the message text or the media caption.
	Text string
	// Command is the command name without the slash, lower case, and Args
	// the rest of the text, for KindCommand.
	Command string
	Args    string
	// Action and Turn come from a pressed button: what it does and the turn
	// at which it was shown.
	Action string
	Turn   int
	// File describes an attached photo, document, voice or video note.
	File *File
	// Contact is a shared contact card.
	Contact *Contact
	// Decision is a verifier's decision, for KindDecision.
	Decision *Decision
	// User is the person's Telegram user ID (photos are stored under it).
	User int64
	// ID identifies the input (Telegram's update_id): a step that is run
	// again after a failed commit derives the same case ID from it.
	ID int64
	// LangHint is the supported language closest to the person's Telegram
	// settings, or "".
	LangHint string
	// Now is when the input arrived.
	Now time.Time
	// Forwarded is set for a message forwarded from another chat (a photo
	// someone else took).
	Forwarded bool
}

// File is an attachment, fetched on demand through Env.Files.
type File struct {
	ID       string
	Size     int64
	Width    int
	Height   int
	MIME     string
	Name     string
	Duration int
	// Group is Telegram's media_group_id: photos sent together share it.
	Group string
}

// Contact is a contact card. Own is true when it is the sender's own card,
// as Telegram's share-contact button sends it.
type Contact struct {
	Phone string
	Own   bool
}
