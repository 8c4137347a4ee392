package flows

import "time"

// CertPart is the certification's part of a state (family help
// included): the people certified from the account and where the steps
// about them are.
type CertPart struct {
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
	// Notice is a message ID a step shows once on entering (family list).
	Notice string `json:"notice,omitempty"`
	// Removing is the relative whose removal waits for confirmation.
	Removing string `json:"removing,omitempty"`
	// Links are the accounts linked to this one while a step shows them
	// (never stored: they live in the link store).
	Links []Link `json:"-"`
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
func (s *CertPart) people() []*Person {
	out := make([]*Person, 0, 1+len(s.Family))
	out = append(out, &s.Me)
	return append(out, s.Family...)
}

// person finds someone on the account by ID ("" is Me), or nil.
func (s *CertPart) person(id string) *Person {
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
func (s *CertPart) byCase(caseID string) *Person {
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

// holdsPersonalData reports whether the state holds what a person typed
// or what was read from a card (an unfinished certification, for the
// holder or a relative): such a state is kept only as long as photos are.
func (s *CertPart) holdsPersonalData() bool {
	for _, p := range s.people() {
		if c := p.Cert; c != nil && (c.Name != "" || c.Number != "" || c.Phone != "" || c.District != "") {
			return true
		}
	}
	return false
}

// kept is what survives going back to the menu with nothing half-done:
// the people on the account, each keeping a case already submitted (its
// decision must still reach the helper) and their rejections, but no
// unfinished certification.
func (s CertPart) kept() (Person, []*Person, int) {
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
func (s CertPart) forShow() CertPart {
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
