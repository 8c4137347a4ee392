package flows

import "time"

// SchemaVersion is the version of State's stored form. Raise it when a change
// would make an older stored state mean something else, and register with
// Engine.OnMigrate how each feature carries its part of the old form
// forward.
//
// Version 2 (family help) moved the account holder's certification and
// rejection count from the top of the state into Me, beside the relatives
// in Family.
const SchemaVersion = 2

// Me is the ID of the account holder among the people of an account. Their
// photos and record keep the keys they had before family help existed.
const Me = "me"

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
	// ShownAt is when the current step was last shown; StaleAt when a
	// press on an old button last made the bot show it again. Together
	// they keep a double tap or a row of old presses from answering with
	// the whole step each time (each answer makes the buttons above it
	// stale in turn).
	ShownAt time.Time `json:"shown_at,omitzero"`
	StaleAt time.Time `json:"stale_at,omitzero"`
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
	// StartArg is the payload of a /start deep link, kept until the step
	// that takes it has run (through the language choice of a new person).
	StartArg string `json:"start_arg,omitempty"`
	// The features' parts, each declared beside its steps. Embedding
	// flattens their fields into the state's stored form, one JSON object,
	// so a part moving between features changes no stored state.
	CertPart
	StaffPart
	NotifyPart
	// LoadErr is set when a step's Load could not read what the step shows
	// (Redis unreachable): Show then says there is a problem and to try
	// again, never "nothing there". Never stored.
	LoadErr error `json:"-"`
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

// Fresh reports whether the bot has not met this person (or forgot them).
func (s *State) Fresh() bool { return s.Step == "" }
