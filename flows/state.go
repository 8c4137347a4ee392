package flows

import "time"

// SchemaVersion is the version of State's stored form. Raise it when a change
// would make an older stored state mean something else, and teach Migrate how
// to carry the old form forward.
const SchemaVersion = 1

// State is everything the bot remembers about one person between messages.
// It is stored as one encrypted record, so every field here is protected at
// rest; still, keep in it only what a flow needs.
type State struct {
	Version int `json:"v"`
	// Lang is the language the person chose; "" until they choose.
	Lang string `json:"lang,omitempty"`
	// Hint is the language closest to the person's Telegram settings, used
	// until they choose.
	Hint string `json:"hint,omitempty"`
	// Step is the step waiting for the person's next input; "" for a person
	// the bot has not met (or whose idle state expired).
	Step string `json:"step,omitempty"`
	// Turn is raised every time a step is shown, and buttons carry the turn
	// they were shown at, so a press on an old message is recognised.
	Turn int `json:"turn,omitempty"`
	// Seen is when the person last wrote.
	Seen time.Time `json:"seen,omitzero"`
	// Page is the position inside a multi-page step (a walk-through).
	Page int `json:"page,omitempty"`
	// Back is the step to return to from a side step such as the language
	// choice or the privacy notice.
	Back string `json:"back,omitempty"`
	// Group is the media group (album) whose first photo a step took; the
	// album's other photos are not used.
	Group      string `json:"group,omitempty"`
	GroupNoted bool   `json:"group_noted,omitempty"`
	// Hinted and HintedAt remember the last "I cannot use this here" hint,
	// so a flood of the same thing is answered once.
	Hinted   string    `json:"hinted,omitempty"`
	HintedAt time.Time `json:"hinted_at,omitzero"`
	// Keyboard is set while a reply keyboard (share contact) is shown.
	Keyboard bool `json:"kb,omitempty"`
	// Cert is the certification of the person chatting, in progress, or
	// nil. (Family help will hold one per relative.)
	Cert *Cert `json:"cert,omitempty"`
	// Record is the person's certification record while a step shows it;
	// the record itself lives in the record store, not in the state.
	Record *Record `json:"-"`
	// ReviewID is the case a staff member holds; Review its contents while
	// a step shows it (never stored: it holds another person's data).
	ReviewID string      `json:"review,omitempty"`
	Review   *ReviewCase `json:"-"`
	// Rejections counts rejected certifications since the last success.
	Rejections int `json:"rejections,omitempty"`
	// Notify is a staff member's broadcast in preparation, and what the
	// notice steps show (see notify.go).
	Notify *Notify `json:"notify,omitempty"`
}

// Migrate brings a stored state to SchemaVersion. It reports false when the
// state cannot be understood (it was written by a newer version), in which
// case the caller starts the person over with an apology.
func Migrate(s *State) bool {
	switch {
	case s.Version == SchemaVersion:
		return true
	case s.Version == 0 && s.Step == "" && s.Lang == "":
		// A zero state is a new person.
		s.Version = SchemaVersion
		return true
	}
	return false
}

// Language is the language to speak: the person's choice, else the hint
// from Telegram, else def.
func (s *State) Language(def string) string {
	switch {
	case s.Lang != "":
		return s.Lang
	case s.Hint != "":
		return s.Hint
	}
	return def
}

// HoldsPersonalData reports whether the state holds what a person typed
// or what was read from their card (an unfinished certification): such a
// state is kept only as long as photos are.
func (s *State) HoldsPersonalData() bool {
	return s.Cert != nil && (s.Cert.Name != "" || s.Cert.Number != "" || s.Cert.Phone != "" || s.Cert.District != "")
}

// Fresh reports whether the bot has not met this person (or forgot them).
func (s *State) Fresh() bool { return s.Step == "" }
