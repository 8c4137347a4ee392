package flows

import "time"

// SchemaVersion is the version of State's stored form. Raise it when a change
// would make an older stored state mean something else, and teach Migrate how
// to carry the old form forward.
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
	// Me is the account holder as a person to certify.
	Me Person `json:"me,omitzero"`
	// Family are the relatives the account holder certifies for (at most
	// Env.FamilyMax), in the order they were added.
	Family []*Person `json:"family,omitempty"`
	// For is the ID of the person the certification steps are about: Me
	// ("" means Me too) or a relative's ID.
	For string `json:"for,omitempty"`
	// NextID numbers relatives ("r1", "r2" …); IDs are never reused on an
	// account, so a removed relative's late decision finds nobody.
	NextID int `json:"next_id,omitempty"`
	// Draft is a relative being added (relationship, label, consent).
	Draft *Person `json:"draft,omitempty"`
	// StartArg is the payload of a /start deep link, kept until the step
	// that takes it has run (through the language choice of a new person).
	StartArg string `json:"start_arg,omitempty"`
	// Notice is a message ID a step shows once on entering (family list).
	Notice string `json:"notice,omitempty"`
	// Removing is the relative whose removal waits for confirmation.
	Removing string `json:"removing,omitempty"`
	// Links are the accounts linked to this one while a step shows them
	// (never stored: they live in the link store).
	Links []Link `json:"-"`
	// ReviewID is the case a staff member holds; Review its contents while
	// a step shows it (never stored: it holds another person's data).
	ReviewID string      `json:"review,omitempty"`
	Review   *ReviewCase `json:"-"`
	// Notify is a staff member's broadcast in preparation, and what the
	// notice steps show (see notify.go).
	Notify *Notify `json:"notify,omitempty"`
	// LoadErr is set when a step's Load could not read what the step shows
	// (Redis unreachable): Show then says there is a problem and to try
	// again, never "nothing there". Never stored.
	LoadErr error `json:"-"`

	// Version 1 kept the account holder's certification here; Migrate
	// moves them into Me.
	V1Cert       *Cert `json:"cert,omitempty"`
	V1Rejections int   `json:"rejections,omitempty"`
}

// Relationships a relative may have to the helper. Each has a locale
// message "family.rel.<relation>" and staff see the helper's side of it
// ("family.helper.<relation>": a parent's helper is their child).
const (
	RelParent      = "parent"
	RelParentInLaw = "parent_in_law"
	RelGrandparent = "grandparent"
	RelSpouse      = "spouse"
	RelOther       = "other"
)

// Relations lists the relationships in the order they are offered.
var Relations = []string{RelParent, RelParentInLaw, RelGrandparent, RelSpouse, RelOther}

// Person is someone certified from an account: the account holder (Me) or
// a relative. Each has their own certification, case, photos, record,
// rejections and due date.
type Person struct {
	// ID names the person's photos and record: Me, or "r1", "r2" … .
	ID string `json:"id,omitempty"`
	// Label is what the helper calls the relative ("Mum", "爸爸"), as typed;
	// LabelID is a locale message when they took a suggested label, so it
	// is shown in the language the helper reads.
	Label   string `json:"label,omitempty"`
	LabelID string `json:"label_id,omitempty"`
	// Relation is one of Relations (relatives only).
	Relation string `json:"rel,omitempty"`
	// Consent is when the helper confirmed that the relative agrees that
	// their ID card and number are used; FaceConsent the same for the face
	// photo (asked separately, as for oneself).
	Consent     time.Time `json:"consent,omitzero"`
	FaceConsent time.Time `json:"face_consent,omitzero"`
	// Linked is the relative's own Telegram account when they linked this
	// account as their helper (a deep link): their record is theirs.
	Linked int64 `json:"linked,omitempty"`
	// Cert is the person's certification in progress or submitted.
	Cert *Cert `json:"cert,omitempty"`
	// Rejections counts rejected certifications since the last success.
	Rejections int `json:"rejections,omitempty"`
	// Record is the person's certification record while a step shows it;
	// the record itself lives in the record store, not in the state.
	Record *Record `json:"-"`
}

// IsMe reports whether the person is the account holder.
func (p *Person) IsMe() bool { return p.ID == "" || p.ID == Me }

// key is the person's ID for photos and records.
func (p *Person) key() string {
	if p.IsMe() {
		return Me
	}
	return p.ID
}

// Who is the person as template data: nil for the account holder (the
// messages then speak to "you"), else the label, rendered in the reader's
// language when it is a suggested one.
func (p *Person) Who() any {
	if p == nil || p.IsMe() {
		return nil
	}
	if p.LabelID != "" {
		return Msg{ID: p.LabelID}
	}
	return p.Label
}

// people lists everyone on the account, the holder first.
func (s *State) people() []*Person {
	out := make([]*Person, 0, 1+len(s.Family))
	out = append(out, &s.Me)
	return append(out, s.Family...)
}

// person finds someone on the account by ID ("" is Me), or nil.
func (s *State) person(id string) *Person {
	if id == "" || id == Me {
		return &s.Me
	}
	for _, p := range s.Family {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// cur is the person the certification steps are about. A relative removed
// meanwhile leaves the steps speaking about the account holder.
func cur(s *State) *Person {
	if p := s.person(s.For); p != nil {
		return p
	}
	s.For = ""
	return &s.Me
}

// byCase finds the person whose submitted case has this ID, or nil.
func (s *State) byCase(caseID string) *Person {
	if caseID == "" {
		return nil
	}
	for _, p := range s.people() {
		if p.Cert != nil && p.Cert.CaseID == caseID {
			return p
		}
	}
	return nil
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
	case s.Version == 1:
		// Before family help the state held one certification: the
		// account holder's. It becomes Me's, with the rejections.
		s.Me.ID = Me
		s.Me.Cert, s.Me.Rejections = s.V1Cert, s.V1Rejections
		s.V1Cert, s.V1Rejections = nil, 0
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
// or what was read from a card (an unfinished certification, for the
// holder or a relative): such a state is kept only as long as photos are.
func (s *State) HoldsPersonalData() bool {
	for _, p := range s.people() {
		if c := p.Cert; c != nil && (c.Name != "" || c.Number != "" || c.Phone != "" || c.District != "") {
			return true
		}
	}
	return false
}

// Fresh reports whether the bot has not met this person (or forgot them).
func (s *State) Fresh() bool { return s.Step == "" }

// kept is what survives going back to the menu with nothing half-done:
// the people on the account, each keeping a case already submitted (its
// decision must still reach the helper) and their rejections, but no
// unfinished certification.
func (s State) kept() (Person, []*Person, int) {
	keep := func(p Person) Person {
		if p.Cert != nil && p.Cert.CaseID == "" {
			p.Cert = nil
		}
		return p
	}
	fam := make([]*Person, 0, len(s.Family))
	for _, p := range s.Family {
		q := keep(*p)
		fam = append(fam, &q)
	}
	if len(fam) == 0 {
		fam = nil
	}
	return keep(s.Me), fam, s.NextID
}

// forShow is a copy of the state whose certifications a Show may fill in
// without touching the real state.
func (s State) forShow() State {
	cp := func(p Person) Person {
		if p.Cert != nil {
			c := *p.Cert
			p.Cert = &c
		}
		return p
	}
	s.Me = cp(s.Me)
	fam := make([]*Person, len(s.Family))
	for i, p := range s.Family {
		q := cp(*p)
		fam[i] = &q
	}
	s.Family = fam
	return s
}
