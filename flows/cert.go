package flows

import (
	"context"
	crand "crypto/rand"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"pensionbot/idcard"
)

// Certify is the yearly certification in chat, following the official
// steps: consent, ID card photo, name and number read and confirmed, a
// short form, the green channel or the general path, a face photo, then a
// verifier's decision and the result. The bot collects and checks; it
// never decides itself.
type Certify struct{}

// CertServices are what the certification steps use besides the state.
type CertServices struct {
	// Photos keeps photos between steps (encrypted, short-lived).
	Photos PhotoStore
	// Images checks photos; Cards reads ID cards; Verifier decides.
	Images   ImageChecker
	Cards    CardReader
	Verifier Verifier
	// Records keeps certification results, which outlive idle states.
	Records RecordStore
	// OpenCases keeps one open case per pensioner across accounts.
	OpenCases OpenCases
	// GreenAge is the age from which the green channel is offered.
	GreenAge int
	// PhotoTTL is how long photos and undecided cases are kept.
	PhotoTTL time.Duration
	// Random returns a number in [0, n), for liveness codes.
	Random func(n int) int
	// DeletePhotos says that ID and face photos are removed from the chat
	// once stored (DELETE_PHOTO_MESSAGES), so the bot may say so.
	DeletePhotos bool
}

// Cert is a certification in progress. It holds personal data, so it lives
// only in the encrypted state, and goes with /cancel, /forget, the decision,
// or the idle expiry.
type Cert struct {
	Name     string `json:"name,omitempty"`
	Number   string `json:"number,omitempty"`
	Phone    string `json:"phone,omitempty"`
	District string `json:"district,omitempty"`
	// Read is true when the card reader filled in name or number, so the
	// person is asked to check rather than to type.
	Read     bool   `json:"read,omitempty"`
	Channel  string `json:"channel,omitempty"`
	Disabled bool   `json:"disabled,omitempty"`
	Code     string `json:"code,omitempty"` // liveness code shown to the person
	HaveCard bool   `json:"have_card,omitempty"`
	HaveFace bool   `json:"have_face,omitempty"`
	HaveLive bool   `json:"have_live,omitempty"`
	// PhoneOfHelper is set when a helper shared their own number for a
	// relative: staff see it marked as the contact person's.
	PhoneOfHelper bool `json:"phone_helper,omitempty"`
	// CardForwarded is set when the card photo was forwarded from another
	// chat: staff are told.
	CardForwarded bool `json:"card_fwd,omitempty"`
	// OpenKey is the keyed hash of the ID number under which the open case
	// is held (never the number), so the decision can release it.
	OpenKey string `json:"open,omitempty"`
	// Draft is the case ID this certification will be submitted under,
	// drawn when it starts: random, so that the ID (kept in an audit
	// record after /forget) points to nobody, and kept in the state, so
	// that a submit run again after a failed commit gives the same case.
	Draft     string    `json:"draft,omitempty"`
	CaseID    string    `json:"case,omitempty"`   // set once submitted
	Masked    string    `json:"masked,omitempty"` // the number, masked, kept after submitting
	Submitted time.Time `json:"submitted,omitzero"`
}

// Step names of the certification. They are stored with the state.
const (
	StepCertWho         = "cert.who"
	StepCertConsent     = "cert.consent"
	StepCertCard        = "cert.card"
	StepCertConfirm     = "cert.confirm"
	StepCertName        = "cert.name"
	StepCertNumber      = "cert.number"
	StepCertPhone       = "cert.phone"
	StepCertDistrict    = "cert.district"
	StepCertChannel     = "cert.channel"
	StepCertFaceConsent = "cert.face_consent"
	StepCertFace        = "cert.face"
	StepCertLiveness    = "cert.liveness"
	StepCertSubmit      = "cert.submit"
	StepCertResult      = "cert.result"
	StepStatus          = "status"
)

// MaxRejections is how many rejections send a person to the window or a
// home visit instead of another try.
const MaxRejections = 3

// Validity is how long one certification covers.
const Validity = 365 * 24 * time.Hour

// Register adds the certification steps, menu entries and commands.
func (Certify) Register(e *Engine) error {
	if e.env.Photos == nil || e.env.Images == nil || e.env.Verifier == nil || e.env.Records == nil {
		return errors.New("certification needs photos, image checks, a verifier and records")
	}
	if e.env.GreenAge <= 0 {
		e.env.GreenAge = 80
	}
	if e.env.Random == nil {
		e.env.Random = rand.IntN
	}
	if e.env.PhotoTTL <= 0 {
		e.env.PhotoTTL = 7 * 24 * time.Hour
	}
	photoKinds := []Kind{KindPhoto, KindDocument}
	for _, s := range []*Step{
		{Name: StepCertWho, Title: "step.cert.consent", NoQuestions: true, Show: showWho, Handle: handleWho},
		{Name: StepCertConsent, Title: "step.cert.consent", NoQuestions: true, Show: showConsent, Handle: handleConsent},
		{Name: StepCertCard, Title: "step.cert.card", Expects: photoKinds, Show: showCard, Handle: handleCard},
		{Name: StepCertConfirm, Title: "step.cert.confirm", NoQuestions: true, Show: showConfirm, Handle: handleConfirm},
		// A new photo of the card is welcome while typing: the first may
		// have been the back side, or blurred.
		{Name: StepCertName, Title: "step.cert.name", Expects: []Kind{KindText, KindPhoto, KindDocument}, Show: showName, Handle: handleName},
		{Name: StepCertNumber, Title: "step.cert.number", Expects: []Kind{KindText, KindPhoto, KindDocument}, Show: showNumber, Handle: handleNumber},
		{Name: StepCertPhone, Title: "step.cert.phone", Expects: []Kind{KindContact, KindText}, Show: showPhone, Handle: handlePhone},
		{Name: StepCertDistrict, Title: "step.cert.district", Expects: []Kind{KindText}, Show: showDistrict, Handle: handleDistrict},
		{Name: StepCertChannel, Title: "step.cert.channel", NoQuestions: true, Show: showChannel, Handle: handleChannel},
		{Name: StepCertFaceConsent, Title: "step.cert.face_consent", NoQuestions: true, Show: showFaceConsent, Handle: handleFaceConsent},
		{Name: StepCertFace, Title: "step.cert.face", Expects: photoKinds, Show: showFace, Handle: handleFace},
		{Name: StepCertLiveness, Title: "step.cert.liveness", Expects: photoKinds, Show: showLiveness, Handle: handleLiveness},
		{Name: StepCertSubmit, Title: "step.cert.submit", NoQuestions: true, Show: showSubmit, Handle: handleSubmit},
		{Name: StepCertResult, Title: "step.cert.result", Show: showResult, Handle: handleResult},
		{Name: StepStatus, Title: "step.status", Actions: []string{"certify", "retry"}, Load: loadStatus, Show: showStatus, Handle: handleStatus},
	} {
		if err := e.AddStep(s); err != nil {
			return err
		}
	}
	e.AddMenu("certify", "menu.btn.certify", StepCertWho)
	e.AddMenu("status", "menu.btn.status", StepStatus)
	e.AddCommand("certify", StepCertWho)
	e.AddCommand("status", StepStatus)
	e.OnCleanup(cleanupCert)
	registerCertChanges(e)
	// Decisions reach the person whatever they are doing; the people on
	// the account and their submitted cases outlive a restart.
	e.OnEvent(KindDecision, decisionEvent)
	e.OnRestart(func(old State, n *State) { n.Me, n.Family, n.NextID = old.kept() })
	// Shows fill in a certification's defaults in place; an unfinished
	// one holds what a person typed or a card showed.
	e.OnShowCopy(func(s *State) { s.CertPart = s.CertPart.forShow() })
	e.OnPersonalData(func(s *State) bool { return s.holdsPersonalData() })
	e.OnForgetAsk(func(s *State, data map[string]any) {
		if len(s.Family) > 0 {
			data["Family"] = true // their data goes too
		}
	})
	e.OnMigrate(1, func(s *State) {
		// Before family help the state held one certification: the
		// account holder's. It becomes Me's, with the rejections.
		s.Me.ID = Me
		s.Me.Cert, s.Me.Rejections = s.V1Cert, s.V1Rejections
		s.V1Cert, s.V1Rejections = nil, 0
	})
	return nil
}

// cleanupCert deletes what certifications stored outside the state: the
// photos of unfinished ones on /cancel; on /forget also every relative's
// record and the links to other accounts, and it tells the staff each
// submitted case was shown to, so that its photos and details leave their
// chats. The cases themselves, records of decisions and tickets are erased
// after the commit (the bot's erase effect), so nothing changes if the
// commit fails.
func cleanupCert(ctx context.Context, s *State, user int64, env *Env) ([]Notice, []Effect) {
	forget := s.Step == "" || s.Step == StepForget
	var tell []Notice
	var fx []Effect
	for _, p := range s.people() {
		if c := p.Cert; c != nil && c.CaseID != "" {
			if !forget {
				// Submitted: /cancel leaves the case with the verifier (the
				// person did finish it).
				continue
			}
			tell = append(tell, viewersOf(ctx, c.CaseID, env)...)
			fx = append(fx, closeCase(c, user)...)
			fx = append(fx, NewEffect(EffectPhotosDelete, user, PersonRef{Who: p.key()}))
			p.Cert = nil
		} else {
			fx = append(fx, dropCert(p, user)...)
		}
		if forget {
			fx = append(fx, forgetPerson(p, user)...)
		}
	}
	if forget && env.Links != nil {
		fx = append(fx, Effect{Kind: EffectLinksForget, User: user})
	}
	s.Draft = nil
	return tell, fx
}

// viewersOf tells the staff a case was shown to that it was withdrawn: its
// photos and details leave their chats.
func viewersOf(ctx context.Context, caseID string, env *Env) []Notice {
	if env.Desk == nil {
		return nil
	}
	// A read, like OCR: who holds the case's messages.
	staff, err := env.Desk.Viewers(ctx, caseID)
	if err != nil {
		staff = env.StaffIDs // cannot tell who: clear every staff chat
	}
	var tell []Notice
	for _, id := range staff {
		tell = append(tell, Notice{User: id, Clear: true, Reply: &Reply{ID: "staff.withdrawn"}})
	}
	return tell
}

// Withdrawer is implemented by verifiers that can drop a case that has not
// been decided (a relative removed from the account).
type Withdrawer interface {
	Withdraw(ctx context.Context, caseID string) error
}

// dropCert deletes one person's certification (a relative removed, a
// consent declined, a link gone): a case waiting for a decision is
// withdrawn, the photos are deleted. It returns those changes, for the
// step's outcome.
func dropCert(p *Person, user int64) []Effect {
	var fx []Effect
	if c := p.Cert; c != nil && c.CaseID != "" {
		fx = append(fx, NewEffect(EffectCaseWithdraw, user, CaseRef{CaseID: c.CaseID}))
		fx = append(fx, closeCase(c, user)...)
		if p.Linked != 0 {
			fx = append(fx, linkPending(p, user, time.Time{}))
		}
	}
	fx = append(fx, NewEffect(EffectPhotosDelete, user, PersonRef{Who: p.key()}))
	p.Cert = nil
	return fx
}

// forgetPerson deletes what is kept about a person beyond a certification:
// a relative's record (a linked pensioner's record is their own).
func forgetPerson(p *Person, user int64) []Effect {
	if p.Linked != 0 {
		return nil
	}
	return []Effect{NewEffect(EffectRecordDelete, user, PersonRef{Who: p.key()})}
}

// closeCase lets the pensioner's ID number take a new case.
func closeCase(c *Cert, user int64) []Effect {
	if c.OpenKey == "" {
		return nil
	}
	fx := []Effect{NewEffect(EffectCaseClose, user, CaseRef{CaseID: c.CaseID, Key: c.OpenKey})}
	c.OpenKey = ""
	return fx
}

// alternatives is the button row offered wherever photos may be too hard.
func altRow() []Button { return Row(Btn("cert.btn.alternatives", "alt")) }

// common handles the actions every certification step offers.
func common(s *State, in Input) (Outcome, bool) {
	switch in.Action {
	case "alt":
		return Outcome{Say: []Reply{{ID: "cert.alternatives", Buttons: [][]Button{Row(Btn("btn.menu", "menu"))}}}}, true
	}
	return Outcome{}, false
}

// pending reports whether the person has a case waiting for a decision
// that has not lapsed.
func pending(p *Person, now time.Time, env *Env) bool {
	return p.Cert != nil && p.Cert.CaseID != "" && now.Sub(p.Cert.Submitted) <= env.PhotoTTL
}

// who adds the person the message is about to template data: nothing for
// the account holder (the message speaks to "you"), the label for a
// relative ({{.Who}}: "Take a photo of Mum's ID card").
func who(p *Person, data map[string]any) map[string]any {
	w := p.Who()
	if w == nil {
		return data
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Who"] = w
	return data
}

// sayAbout is a reply without buttons about person p.
func sayAbout(p *Person, id string, data map[string]any) Reply { return Say(id, who(p, data)) }

func showConsent(s *State, env *Env) []Reply {
	p := cur(s)
	if pending(p, s.Seen, env) {
		// One case at a time: a second would only wait behind the first.
		return []Reply{{ID: "cert.already_pending", Data: who(p, map[string]any{"Date": env.Date(p.Cert.Submitted)}),
			Buttons: [][]Button{Row(Btn("btn.menu", "menu"))}}}
	}
	days := max(1, int(env.PhotoTTL.Hours()/24))
	rows := [][]Button{
		Row(Btn("cert.btn.agree", "agree")),
		Row(Btn("cert.btn.decline", "decline")),
		altRow(),
	}
	if p.IsMe() && len(s.Family) == 0 && env.FamilyMax > 0 {
		// Many who certify are the children of pensioners.
		rows = append(rows, Row(Btn("cert.btn.for_relative", "who:add")))
	}
	return []Reply{{ID: "cert.consent.id", Data: map[string]any{"Days": days}, Buttons: rows}}
}

func handleConsent(ctx context.Context, s *State, in Input, env *Env) Outcome {
	if o, ok := common(s, in); ok {
		return o
	}
	switch in.Action {
	case "agree":
		p := cur(s)
		if p.IsMe() {
			// A helper already sent this person's certification: going
			// through the photos again would end at "already under way".
			if sent := pendingByHelper(ctx, in.User, in.Now, env); !sent.IsZero() {
				return Outcome{Say: []Reply{{ID: "cert.pending_by_helper", Data: map[string]any{"Date": env.Date(sent)}}}, Goto: StepMenu}
			}
		}
		var fx []Effect
		if p.Cert != nil && p.Cert.CaseID != "" {
			// A new attempt replaces a decided or withdrawn one.
			fx = closeCase(p.Cert, in.User)
			p.Cert = nil
		}
		if p.Cert == nil {
			p.Cert = &Cert{Draft: crand.Text()}
		}
		return Outcome{Goto: StepCertCard, Effects: fx}
	case "decline":
		return Outcome{Say: []Reply{Say("cert.declined", nil)}, Goto: StepMenu, Effects: dropCert(cur(s), in.User)}
	case "who:add":
		return startAdding(s, env)
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}

func showCard(s *State, _ *Env) []Reply {
	return []Reply{{ID: "cert.card.ask", Data: who(cur(s), nil), Buttons: [][]Button{altRow(), Row(Btn("btn.menu", "menu"))}}}
}

// maxPhoto is the largest photo taken (Telegram lets bots download 20 MB).
const maxPhoto = 20 << 20

// tooLarge is the advice for a photo over maxPhoto: a file can be sent
// as a photo (Telegram makes it smaller); a photo that is still too large
// needs a lower camera resolution.
func tooLarge(in Input) Reply {
	if in.Kind == KindPhoto {
		return Say("photo.problem.too_large", map[string]any{"Photo": true})
	}
	return Say("photo.problem.too_large", nil)
}

// intake fetches and checks a photo; it returns the bytes, or the replies
// explaining what to do instead. Advice speaks of what is photographed:
// the card, or the face of the person the certification is for.
func intake(ctx context.Context, in Input, env *Env, p *Person, face bool) ([]byte, []Reply, string) {
	f := in.File
	if f == nil {
		return nil, []Reply{Say("photo.problem.not_image", nil)}, ""
	}
	if in.Kind == KindDocument && !slices.Contains([]string{"image/jpeg", "image/png", "image/webp"}, strings.ToLower(f.MIME)) {
		return nil, []Reply{Say("photo.problem.not_image", nil)}, ""
	}
	if f.Size > maxPhoto {
		return nil, []Reply{tooLarge(in)}, ""
	}
	if env.Files == nil {
		return nil, []Reply{Say("error.photo_failed", nil)}, "no file fetcher"
	}
	data, err := env.Files.Fetch(ctx, f.ID, maxPhoto)
	if errors.Is(err, ErrTooLarge) {
		// Telegram did not say the size, or said it wrong: trying again
		// would not help, a smaller photo does.
		return nil, []Reply{tooLarge(in)}, ""
	}
	if err != nil {
		return nil, []Reply{Say("error.photo_failed", nil)}, "fetch photo: " + err.Error()
	}
	check := env.Images.CheckCard
	if face {
		check = env.Images.CheckFace
	}
	problem, err := check(ctx, data)
	if err != nil {
		return nil, []Reply{Say("error.photo_failed", nil)}, "check photo: " + err.Error()
	}
	if problem != PhotoOK {
		var data map[string]any
		if face {
			data = who(p, map[string]any{"Face": true})
		}
		return nil, []Reply{Say("photo.problem."+string(problem), data), Say("photo.again", nil)}, ""
	}
	return data, nil, ""
}

// takePhoto is what every photo step does first: buttons it offers, then
// intake and checks, then storing the photo. It returns the photo, or the
// outcome to answer with instead.
func takePhoto(ctx context.Context, s *State, in Input, env *Env, kind string) ([]byte, *Outcome) {
	if o, ok := common(s, in); ok {
		return nil, &o
	}
	if in.Kind == KindButton {
		return nil, &Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
	}
	ensureCert(s)
	if in.Forwarded && kind != PhotoCard {
		// A face forwarded from another chat may be anyone's: the photo
		// must be taken now, of the pensioner.
		return nil, &Outcome{Say: []Reply{sayAbout(cur(s), "cert.face.forwarded", nil)}}
	}
	data, replies, note := intake(ctx, in, env, cur(s), kind != PhotoCard)
	if data == nil {
		return nil, &Outcome{Say: replies, Note: note}
	}
	if err := env.Photos.PutPhoto(ctx, in.User, cur(s).key(), kind, data); err != nil {
		return nil, &Outcome{Say: []Reply{Say("error.photo_failed", nil)}, Note: "store " + kind + " photo: " + err.Error()}
	}
	// Later photos of the same album are not used (see Engine.Handle).
	s.Group, s.GroupNoted = in.File.Group, false
	return data, nil
}

func handleCard(ctx context.Context, s *State, in Input, env *Env) Outcome {
	data, stop := takePhoto(ctx, s, in, env, PhotoCard)
	if stop != nil {
		return *stop
	}
	cur(s).Cert.HaveCard = true
	var say []Reply
	if in.File.Group != "" {
		say = append(say, Say("photo.group_first", nil))
	}
	say = append(say, sayAbout(cur(s), "cert.card.thanks", nil))
	cur(s).Cert.CardForwarded = in.Forwarded
	// Read what the card says; a failed read means typing, never a dead end.
	var fields CardFields
	if env.Cards != nil {
		f, err := env.Cards.ReadCard(ctx, data)
		if err == nil {
			fields = f
		}
	}
	cur(s).Cert.Read = false
	if id, err := idcard.Parse(fields.Number, in.Now); err == nil {
		cur(s).Cert.Number, cur(s).Cert.Read = id.Number, true
	}
	if validName(fields.Name) == "" {
		cur(s).Cert.Name, cur(s).Cert.Read = cleanName(fields.Name), true
	}
	o := Outcome{Say: say, DeleteInput: true}
	switch {
	case cur(s).Cert.Name != "" && cur(s).Cert.Number != "":
		o.Goto = StepCertConfirm
	case cur(s).Cert.Name == "":
		if !cur(s).Cert.Read {
			o.Say = append(o.Say, sayAbout(cur(s), "cert.card.unread", nil))
		}
		o.Goto = StepCertName
	default:
		o.Goto = StepCertNumber
	}
	return o
}

func ensureCert(s *State) {
	if cur(s).Cert == nil {
		cur(s).Cert = &Cert{}
	}
}

func showConfirm(s *State, _ *Env) []Reply {
	ensureCert(s)
	id := "cert.confirm"
	if cur(s).Cert.Read {
		id = "cert.confirm.read"
	}
	return []Reply{{ID: id, Data: who(cur(s), map[string]any{"Name": cur(s).Cert.Name, "Number": cur(s).Cert.Number}), Buttons: [][]Button{
		Row(Btn("cert.btn.correct", "correct")),
		Row(Btn("cert.btn.fix_name", "fix_name"), Btn("cert.btn.fix_number", "fix_number")),
	}}}
}

func handleConfirm(_ context.Context, s *State, in Input, _ *Env) Outcome {
	ensureCert(s)
	switch in.Action {
	case "correct":
		if cur(s).Cert.Name == "" {
			return Outcome{Goto: StepCertName}
		}
		if cur(s).Cert.Number == "" {
			return Outcome{Goto: StepCertNumber}
		}
		cur(s).Cert.Read = false
		return Outcome{Goto: StepCertPhone}
	case "fix_name":
		cur(s).Cert.Name = ""
		return Outcome{Goto: StepCertName}
	case "fix_number":
		cur(s).Cert.Number = ""
		return Outcome{Goto: StepCertNumber}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}

func showName(s *State, _ *Env) []Reply { return []Reply{sayAbout(cur(s), "cert.name.ask", nil)} }

var nameMarks = "·•・. -"

// cleanName trims a name and folds the middle dots people use in
// transliterated names to "·".
func cleanName(n string) string {
	n = strings.TrimSpace(n)
	n = strings.Map(func(r rune) rune {
		if r == '•' || r == '・' || r == '．' {
			return '·'
		}
		return r
	}, n)
	n = strings.Join(strings.Fields(n), " ")
	if strings.ContainsFunc(n, func(r rune) bool { return unicode.Is(unicode.Han, r) }) {
		// Chinese names have no spaces; people type them between
		// characters on some keyboards.
		n = strings.ReplaceAll(n, " ", "")
	}
	return n
}

// validName returns "" for a plausible name, or the message explaining why
// not. Chinese names are 2–6 characters; names of other scripts (ethnic
// minorities, foreigners) up to 40.
func validName(n string) string {
	n = cleanName(n)
	switch {
	case n == "":
		return "cert.name.empty"
	case utf8.RuneCountInString(n) > 40:
		return "cert.name.too_long"
	}
	letters := 0
	for _, r := range n {
		switch {
		case unicode.IsLetter(r):
			letters++
		case strings.ContainsRune(nameMarks, r):
		default:
			return "cert.name.invalid"
		}
	}
	if letters < 2 {
		return "cert.name.too_short"
	}
	return ""
}

func handleName(ctx context.Context, s *State, in Input, env *Env) Outcome {
	if in.Kind != KindText {
		return handleCard(ctx, s, in, env)
	}
	ensureCert(s)
	if msg := validName(in.Text); msg != "" {
		return Outcome{Say: []Reply{Say(msg, nil)}}
	}
	cur(s).Cert.Name, cur(s).Cert.Read = cleanName(in.Text), false
	if cur(s).Cert.Number == "" {
		return Outcome{Goto: StepCertNumber}
	}
	return Outcome{Goto: StepCertConfirm}
}

func showNumber(s *State, _ *Env) []Reply { return []Reply{sayAbout(cur(s), "cert.number.ask", nil)} }

// numberMessage gives the specific message for each way a typed number
// can be wrong.
func numberMessage(err error, typed string) Reply {
	switch {
	case errors.Is(err, idcard.ErrEmpty):
		return Say("cert.number.empty", nil)
	case errors.Is(err, idcard.ErrLength):
		return Say("cert.number.length", map[string]any{"Count": utf8.RuneCountInString(idcard.Normalize(typed))})
	case errors.Is(err, idcard.ErrCharacters):
		return Say("cert.number.characters", nil)
	case errors.Is(err, idcard.ErrBirthDate):
		return Say("cert.number.birth", nil)
	case errors.Is(err, idcard.ErrFutureBirth):
		return Say("cert.number.future", nil)
	case errors.Is(err, idcard.ErrChecksum):
		return Say("cert.number.checksum", nil)
	}
	return Say("cert.number.invalid", nil)
}

func handleNumber(ctx context.Context, s *State, in Input, env *Env) Outcome {
	if in.Kind != KindText {
		return handleCard(ctx, s, in, env)
	}
	ensureCert(s)
	id, err := idcard.Parse(in.Text, in.Now)
	if err != nil {
		return Outcome{Say: []Reply{numberMessage(err, in.Text)}}
	}
	cur(s).Cert.Number, cur(s).Cert.Read = id.Number, false
	if cur(s).Cert.Name == "" {
		return Outcome{Goto: StepCertName}
	}
	return Outcome{Goto: StepCertConfirm}
}

func showPhone(s *State, _ *Env) []Reply {
	return []Reply{{ID: "cert.phone.ask", Data: who(cur(s), nil), AskContact: "cert.btn.share_phone"}}
}

var mobile = regexp.MustCompile(`^1[3-9][0-9]{9}$`)

// normalizePhone reduces a Chinese mobile number to its 11 digits.
func normalizePhone(p string) string {
	p = strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９':
			return r - '０' + '0'
		case r == ' ' || r == '-' || r == '(' || r == ')' || r == '　':
			return -1
		}
		return r
	}, strings.TrimSpace(p))
	for _, prefix := range []string{"+86", "0086", "86"} {
		if len(p) == len(prefix)+11 && strings.HasPrefix(p, prefix) {
			p = p[len(prefix):]
		}
	}
	return p
}

func handlePhone(_ context.Context, s *State, in Input, _ *Env) Outcome {
	ensureCert(s)
	who := cur(s)
	phone, helpers := in.Text, false
	if in.Kind == KindContact {
		switch {
		case in.Contact != nil && !in.Contact.Own && !who.IsMe():
			// The relative's own card, shared from the helper's contacts.
		case in.Contact == nil || !in.Contact.Own:
			return Outcome{Say: []Reply{Say("cert.phone.not_own", nil)}}
		default:
			// For a relative, the helper's own number: staff see it as the
			// contact person's.
			helpers = !who.IsMe()
		}
		phone = in.Contact.Phone
	}
	p := normalizePhone(phone)
	if !mobile.MatchString(p) {
		return Outcome{Say: []Reply{Say("cert.phone.invalid", nil)}}
	}
	who.Cert.Phone, who.Cert.PhoneOfHelper = p, helpers
	say := Say("cert.phone.thanks", nil)
	if helpers {
		say = sayAbout(who, "cert.phone.helper", nil)
	}
	return Outcome{Say: []Reply{say}, Goto: StepCertDistrict}
}

// DistrictOnCard is the district when the person says their household
// registration is the address printed on their ID card. It is what staff
// and the agency read, so it is written in Chinese.
const DistrictOnCard = "同身份证住址"

func showDistrict(s *State, _ *Env) []Reply {
	// Most people's hukou is the address on their card: one press, no
	// typing.
	return []Reply{{ID: "cert.district.ask", Data: who(cur(s), nil), Buttons: [][]Button{Row(Button{Label: "cert.btn.district_card", Action: "card", Data: who(cur(s), nil)})}}}
}

func handleDistrict(_ context.Context, s *State, in Input, _ *Env) Outcome {
	ensureCert(s)
	if in.Kind == KindButton {
		if in.Action != "card" {
			return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
		}
		cur(s).Cert.District = DistrictOnCard
		return Outcome{Goto: StepCertChannel}
	}
	d := strings.Join(strings.Fields(in.Text), " ")
	n := utf8.RuneCountInString(d)
	if n < 2 || n > 40 || strings.ContainsAny(d, "0123456789") && n < 4 {
		return Outcome{Say: []Reply{Say("cert.district.invalid", nil)}}
	}
	cur(s).Cert.District = d
	return Outcome{Goto: StepCertChannel}
}

// age is the person's age from their ID number, or 0.
func age(s *State, now time.Time) int {
	if cur(s).Cert == nil {
		return 0
	}
	id, err := idcard.Parse(cur(s).Cert.Number, now)
	if err != nil {
		return 0
	}
	return id.Age(now)
}

func showChannel(s *State, env *Env) []Reply {
	a := age(s, s.Seen)
	if a >= env.GreenAge {
		return []Reply{{ID: "cert.channel.green_age", Data: who(cur(s), map[string]any{"Age": a, "Count": env.GreenAge}), Buttons: [][]Button{
			Row(Btn("cert.btn.green", "green")),
			altRow(),
		}}}
	}
	return []Reply{{ID: "cert.channel.ask", Data: who(cur(s), map[string]any{"Count": env.GreenAge}), Buttons: [][]Button{
		Row(Button{Label: "cert.btn.disabled_yes", Action: "disabled", Data: who(cur(s), nil)}),
		Row(Btn("cert.btn.disabled_no", "general")),
		altRow(),
	}}}
}

func handleChannel(_ context.Context, s *State, in Input, env *Env) Outcome {
	if o, ok := common(s, in); ok {
		return o
	}
	ensureCert(s)
	switch in.Action {
	case "green":
		if age(s, in.Now) < env.GreenAge {
			return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
		}
		cur(s).Cert.Channel = ChannelGreen
		return Outcome{Say: []Reply{Say("cert.channel.green", nil)}, Goto: StepCertFaceConsent}
	case "disabled":
		cur(s).Cert.Channel, cur(s).Cert.Disabled = ChannelGreen, true
		return Outcome{Say: []Reply{Say("cert.channel.green", nil)}, Goto: StepCertFaceConsent}
	case "general":
		cur(s).Cert.Channel = ChannelGeneral
		return Outcome{Say: []Reply{sayAbout(cur(s), "cert.channel.general", nil)}, Goto: StepCertFaceConsent}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}

func showFaceConsent(s *State, _ *Env) []Reply {
	p := cur(s)
	agree := Btn("cert.btn.agree", "agree")
	if !p.IsMe() {
		agree = Button{Label: "family.btn.agrees", Action: "agree", Data: who(p, nil)}
	}
	return []Reply{{ID: "cert.consent.face", Data: who(p, nil), Buttons: [][]Button{
		Row(agree),
		Row(Btn("cert.btn.decline", "decline")),
		altRow(),
	}}}
}

func handleFaceConsent(ctx context.Context, s *State, in Input, env *Env) Outcome {
	if o, ok := common(s, in); ok {
		return o
	}
	switch in.Action {
	case "agree":
		cur(s).FaceConsent = in.Now
		return Outcome{Goto: StepCertFace}
	case "decline":
		// Face recognition must not be the only way: say what else works,
		// and keep nothing.
		return Outcome{Say: []Reply{Say("cert.declined", nil)}, Goto: StepMenu, Effects: dropCert(cur(s), in.User)}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}

func showFace(s *State, _ *Env) []Reply {
	return []Reply{{ID: "cert.face.ask", Data: who(cur(s), nil), Buttons: [][]Button{altRow()}}}
}

func handleFace(ctx context.Context, s *State, in Input, env *Env) Outcome {
	if _, o := takePhoto(ctx, s, in, env, PhotoFace); o != nil {
		return *o
	}
	cur(s).Cert.HaveFace = true
	o := Outcome{Say: []Reply{photoThanks(env)}, DeleteInput: true}
	if cur(s).Cert.Channel == ChannelGeneral {
		cur(s).Cert.Code = fmt.Sprintf("%04d", 1000+env.Random(9000))
		o.Goto = StepCertLiveness
	} else {
		o.Goto = StepCertSubmit
	}
	return o
}

func showLiveness(s *State, _ *Env) []Reply {
	ensureCert(s)
	return []Reply{{ID: "cert.liveness.ask", Data: who(cur(s), map[string]any{"Code": cur(s).Cert.Code}), Buttons: [][]Button{altRow()}}}
}

func handleLiveness(ctx context.Context, s *State, in Input, env *Env) Outcome {
	if _, o := takePhoto(ctx, s, in, env, PhotoLiveness); o != nil {
		return *o
	}
	cur(s).Cert.HaveLive = true
	return Outcome{Say: []Reply{photoThanks(env)}, DeleteInput: true, Goto: StepCertSubmit}
}

// photoThanks says the photo is good, and that it will be removed from
// the chat only when that is configured: the deletion is delivered after
// the reply and may fail, so it is announced, not reported.
func photoThanks(env *Env) Reply {
	if env.DeletePhotos {
		return Say("cert.face.thanks", map[string]any{"Delete": true})
	}
	return Say("cert.face.thanks", nil)
}

func showSubmit(s *State, _ *Env) []Reply {
	ensureCert(s)
	channel := "cert.channel.name.general"
	if cur(s).Cert.Channel == ChannelGreen {
		channel = "cert.channel.name.green"
	}
	var district any = cur(s).Cert.District
	if cur(s).Cert.District == DistrictOnCard {
		district = Msg{ID: "cert.district.on_card"}
	}
	data := who(cur(s), map[string]any{
		"Name": cur(s).Cert.Name, "Number": idcard.Mask(cur(s).Cert.Number), "Phone": maskPhone(cur(s).Cert.Phone),
		"District": district, "Channel": Msg{ID: channel},
	})
	if cur(s).Cert.PhoneOfHelper {
		data["Contact"] = true // the helper's own number, marked as such
	}
	return []Reply{{ID: "cert.summary", Data: data, Buttons: [][]Button{
		Row(Btn("cert.btn.submit", "submit")),
		Row(Btn("cert.btn.restart", "restart")),
	}}}
}

func maskPhone(p string) string {
	if len(p) != 11 {
		return idcard.Mask(p)
	}
	return p[:3] + "****" + p[7:]
}

func handleSubmit(ctx context.Context, s *State, in Input, env *Env) Outcome {
	ensureCert(s)
	p := cur(s)
	switch in.Action {
	case "restart":
		fx := dropCert(p, in.User)
		p.Cert = &Cert{}
		return Outcome{Goto: StepCertCard, Effects: fx}
	case "submit":
	default:
		return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
	}
	c := p.Cert
	// Everything must be there; a state from an older flow may miss a part.
	switch {
	case !c.HaveCard:
		return Outcome{Goto: StepCertCard}
	case c.Name == "" || c.Number == "":
		return Outcome{Goto: StepCertConfirm}
	case c.Phone == "":
		return Outcome{Goto: StepCertPhone}
	case !c.HaveFace:
		return Outcome{Goto: StepCertFace}
	case c.Channel == ChannelGeneral && !c.HaveLive:
		return Outcome{Goto: StepCertLiveness}
	}
	if p.Linked != 0 && env.Links != nil {
		// Authority is checked when it applies: the pensioner may have
		// unlinked this helper meanwhile.
		if ok, err := env.Links.Linked(ctx, p.Linked, in.User); err == nil && !ok {
			return Outcome{Say: []Reply{Say("family.link.gone", nil)}, Goto: StepMenu, Effects: dropCert(p, in.User)}
		}
	}
	if c.Draft == "" {
		// Started before drafts were drawn at the consent.
		c.Draft = crand.Text()
	}
	sub := Submission{
		CaseID: c.Draft, User: in.User,
		Name: c.Name, Number: c.Number, Phone: c.Phone, District: c.District, Channel: c.Channel,
		LivenessCode: c.Code, Submitted: in.Now, ContactPerson: c.PhoneOfHelper, CardForwarded: c.CardForwarded,
	}
	if !p.IsMe() {
		sub.Helper = p.Relation
		if sub.Helper == "" {
			sub.Helper = RelOther
		}
	}
	if id, err := idcard.Parse(c.Number, in.Now); err == nil {
		sub.Age, sub.Sex = id.Age(in.Now), id.Sex.String()
	}
	var err error
	for kind, dst := range map[string]*[]byte{PhotoCard: &sub.Card, PhotoFace: &sub.Face, PhotoLiveness: &sub.Liveness} {
		if kind == PhotoLiveness && c.Channel != ChannelGeneral {
			continue
		}
		if *dst, err = env.Photos.Photo(ctx, in.User, p.key(), kind); err != nil || len(*dst) == 0 {
			// Photos expire (PHOTO_TTL): ask again rather than fail.
			c.HaveCard, c.HaveFace, c.HaveLive = kind != PhotoCard && c.HaveCard, kind != PhotoFace && c.HaveFace, false
			return Outcome{Say: []Reply{sayAbout(p, "cert.photos_expired", nil)}, Goto: StepCertCard, Note: fmt.Sprintf("photo %s missing at submit: %v", kind, err)}
		}
	}
	if env.OpenCases != nil {
		// One open case per pensioner, whoever sends it: the same ID
		// number cannot wait in two cases (a second helper, or the
		// pensioner themself). Who holds the other case is not said.
		key, ok, err := env.OpenCases.Open(ctx, c.Number, sub.CaseID, env.PhotoTTL)
		if err != nil {
			return Outcome{Say: []Reply{Say("cert.submit.failed", nil)}, Note: "open case: " + err.Error()}
		}
		if !ok {
			// Nothing of this attempt is kept: the other case goes on.
			return Outcome{Say: []Reply{sayAbout(p, "cert.open_elsewhere", nil)}, Goto: StepMenu, Effects: dropCert(p, in.User),
				Note: "a case for this ID number is open elsewhere"}
		}
		c.OpenKey = key
	}
	d, err := env.Verifier.Submit(ctx, sub)
	if err != nil {
		var fx []Effect
		if c.OpenKey != "" {
			// The key holds the number for this case, which is not c's yet.
			fx = []Effect{NewEffect(EffectCaseClose, in.User, CaseRef{CaseID: sub.CaseID, Key: c.OpenKey})}
			c.OpenKey = ""
		}
		return Outcome{Say: []Reply{Say("cert.submit.failed", nil)}, Effects: fx, Note: "submit: " + err.Error()}
	}
	c.CaseID, c.Submitted, c.Masked = sub.CaseID, in.Now, idcard.Mask(c.Number)
	if d.Outcome == OutcomePending {
		// The verifier has the case now: the state keeps no more personal
		// data than the record will.
		c.Name, c.Number, c.Phone, c.District = "", "", "", ""
		o := Outcome{Say: []Reply{sayAbout(p, "cert.submitted", nil)}, Goto: StepMenu}
		if p.Linked != 0 {
			// The pensioner's own /status says it is under review.
			o.Effects = append(o.Effects, linkPending(p, in.User, in.Now))
			o.Tell = append(o.Tell, Notice{User: p.Linked, Reply: &Reply{ID: "family.linked.submitted"}})
		}
		if d.By == "staff" {
			// Staff hear of the new case; the case itself comes with /review.
			for _, id := range env.StaffIDs {
				o.Tell = append(o.Tell, Notice{User: id, Reply: &Reply{ID: "staff.new_case", Data: map[string]any{"Channel": Msg{ID: "cert.channel.name." + c.Channel}}}})
			}
		}
		return o
	}
	d.CaseID = sub.CaseID
	return applyDecision(ctx, s, p, in.User, d, env)
}

// decisionEvent applies a verifier's decision that arrived later, to whoever on
// the account the case was for.
func decisionEvent(ctx context.Context, s *State, in Input, env *Env) Outcome {
	d := in.Decision
	var p *Person
	if d != nil {
		p = s.byCase(d.CaseID)
	}
	if p == nil {
		// The person cancelled, was removed or forgotten, or it was
		// delivered twice.
		return Outcome{Note: "decision for an unknown or finished case ignored"}
	}
	return applyDecision(ctx, s, p, in.User, *d, env)
}

// applyDecision tells the helper the result for person p, keeps the
// record, and deletes the photos and personal fields, which are no longer
// needed.
func applyDecision(ctx context.Context, s *State, p *Person, user int64, d Decision, env *Env) Outcome {
	c := p.Cert
	when := d.DecidedAt
	if when.IsZero() {
		when = s.Seen
	}
	fx := append(closeCase(c, user), NewEffect(EffectPhotosDelete, user, PersonRef{Who: p.key()}))
	if p.Linked != 0 {
		fx = append(fx, linkPending(p, user, time.Time{}))
	}
	// The result is about this person: "again" and "status" below act
	// for them.
	s.For = p.key()
	switch d.Outcome {
	case OutcomeApproved:
		masked := c.Masked
		if masked == "" {
			masked = idcard.Mask(c.Number)
		}
		rec := Record{CertifiedOn: when, ValidUntil: when.Add(Validity), Channel: c.Channel, By: d.By, MaskedNumber: masked}
		o := Outcome{Goto: StepCertResult, Effects: append(fx, NewEffect(EffectRecordSave, user, RecordSave{Who: p.key(), Record: rec}))}
		if p.Linked != 0 {
			// A linked pensioner's record is theirs: they see it too.
			o.Effects = append(o.Effects, NewEffect(EffectRecordSave, p.Linked, RecordSave{Who: Me, Record: rec}))
			o.Tell = append(o.Tell, Notice{User: p.Linked, Reply: &Reply{ID: "family.linked.certified",
				Data: map[string]any{"Until": env.Date(rec.ValidUntil)}}})
		}
		p.Cert, p.Rejections, s.Group = nil, 0, ""
		o.Say = []Reply{{ID: "cert.approved", Data: who(p, map[string]any{"Date": env.Date(rec.CertifiedOn), "Until": env.Date(rec.ValidUntil)})}}
		return o
	case OutcomeRejected:
		p.Rejections++
		p.Cert, s.Group = nil, ""
		reason := d.Reason
		if !slices.Contains(Reasons, reason) {
			reason = ReasonOther
		}
		say := []Reply{sayAbout(p, "cert.rejected", map[string]any{"Reason": Msg{ID: "cert.reason." + reason}})}
		if p.Rejections >= MaxRejections {
			say = append(say, sayAbout(p, "cert.rejected.final", map[string]any{"Count": p.Rejections}))
		}
		o := Outcome{Say: say, Goto: StepCertResult, Effects: fx}
		if p.Linked != 0 {
			o.Tell = append(o.Tell, Notice{User: p.Linked, Reply: &Reply{ID: "family.linked.rejected",
				Data: map[string]any{"Reason": Msg{ID: "cert.reason." + reason}}}})
		}
		return o
	}
	return Outcome{Effects: fx, Note: "decision with unknown outcome " + d.Outcome}
}

// Date is a calendar date for messages; the renderer writes it in the
// person's language. Make one with Env.Date, which puts it in the
// configured time zone.
type Date time.Time

// DateValue lets the renderer see a Date without importing this package.
func (d Date) DateValue() time.Time { return time.Time(d) }

// Date is t as a calendar date in the time zone people live in
// (TIME_ZONE), so that "certified on" is the day they remember.
func (env *Env) Date(t time.Time) Date {
	if env.Location != nil {
		t = t.In(env.Location)
	}
	return Date(t)
}

func showResult(s *State, _ *Env) []Reply {
	p := cur(s)
	rows := [][]Button{Row(Btn("menu.btn.status", "status"))}
	if p.Rejections > 0 && p.Rejections < MaxRejections {
		rows = append([][]Button{Row(Btn("cert.btn.retry", "retry"))}, rows...)
	}
	if p.Rejections >= MaxRejections {
		rows = append([][]Button{altRow()}, rows...)
	}
	rows = append(rows, Row(Btn("btn.menu", "menu")))
	return []Reply{{ID: "cert.result.next", Buttons: rows}}
}

func handleResult(ctx context.Context, s *State, in Input, env *Env) Outcome {
	if o, ok := common(s, in); ok {
		return o
	}
	switch in.Action {
	case "retry":
		return begin(ctx, s, cur(s), in.User, env)
	case "status":
		return Outcome{Goto: StepStatus}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}

// begin starts a certification for p: the account holder gives their
// consent; a relative's was given when they were added.
func begin(ctx context.Context, s *State, p *Person, user int64, env *Env) Outcome {
	s.For = p.key()
	if p.IsMe() {
		s.For = ""
		return Outcome{Goto: StepCertConsent}
	}
	if pending(p, s.Seen, env) {
		return Outcome{Say: []Reply{{ID: "cert.already_pending", Data: who(p, map[string]any{"Date": env.Date(p.Cert.Submitted)})}}, Goto: StepMenu}
	}
	var fx []Effect
	if p.Cert != nil && p.Cert.CaseID != "" {
		fx = closeCase(p.Cert, user)
		p.Cert = nil
	}
	if p.Cert == nil {
		p.Cert = &Cert{Draft: crand.Text()}
	}
	return Outcome{Say: []Reply{sayAbout(p, "family.cert.start", nil)}, Goto: StepCertCard, Effects: fx}
}

// status is one person's standing, for /status.
type status struct {
	p    *Person
	kind string // pending, lapsed, certified, due, expired, unfinished, none
	days int
	rank int       // lower is more urgent
	sent time.Time // pending: when the case was sent
}

// dueSoon is how close to the end of a certification "due in N days" is
// said instead of "certified".
const dueSoon = 30

func statusOf(s *State, p *Person, now time.Time, env *Env) status {
	st := status{p: p}
	byHelper := sentByHelper(s, p, now, env)
	switch {
	case p.Cert != nil && p.Cert.CaseID != "" && !pending(p, now, env):
		st.kind, st.rank, st.sent = "pending_lapsed", 0, p.Cert.Submitted
	case p.Cert != nil && p.Cert.CaseID != "":
		st.kind, st.rank, st.sent = "pending", 3, p.Cert.Submitted
	case !byHelper.IsZero():
		st.kind, st.rank, st.sent = "pending", 3, byHelper
	case p.Record != nil && now.Before(p.Record.ValidUntil):
		st.days = int(p.Record.ValidUntil.Sub(now).Hours()/24) + 1
		st.kind, st.rank = "certified", 4
		if st.days <= dueSoon {
			st.kind, st.rank = "due", 2
		}
	case p.Record != nil:
		st.kind, st.rank = "expired", 0
	case p.Cert != nil:
		st.kind, st.rank = "unfinished", 1
	default:
		st.kind, st.rank = "none", 1
	}
	if p.Rejections > 0 && (st.kind == "none" || st.kind == "expired" || st.kind == "unfinished") {
		st.kind, st.rank = "rejected", 0
	}
	return st
}

// sentByHelper is when a linked helper sent a certification for the
// account holder that is not decided yet (zero: none). The case lives in
// the helper's account; the link says it is under way.
func sentByHelper(s *State, p *Person, now time.Time, env *Env) time.Time {
	if !p.IsMe() {
		return time.Time{}
	}
	var t time.Time
	for _, l := range s.Links {
		if l.Pending.After(t) && now.Sub(l.Pending) < env.PhotoTTL {
			t = l.Pending
		}
	}
	if p.Record != nil && !p.Record.CertifiedOn.Before(t) {
		return time.Time{} // decided since
	}
	return t
}

// pendingByHelper reads whether a linked helper sent a certification for
// the account holder that is still undecided, and when (zero: no, or it
// cannot be told now; one open case per pensioner still holds at submit).
func pendingByHelper(ctx context.Context, user int64, now time.Time, env *Env) time.Time {
	if env.Links == nil {
		return time.Time{}
	}
	links, err := env.Links.Helpers(ctx, user)
	if err != nil {
		return time.Time{}
	}
	me := Person{}
	if me.Record, err = env.Records.Record(ctx, user, Me); err != nil {
		return time.Time{}
	}
	return sentByHelper(&State{CertPart: CertPart{Links: links}}, &me, now, env)
}

func loadStatus(ctx context.Context, s *State, user int64, env *Env) []Effect {
	for _, p := range s.people() {
		p.Record = nil
		owner, key := user, p.key()
		if p.Linked != 0 {
			owner, key = p.Linked, Me
		}
		rec, err := env.Records.Record(ctx, owner, key)
		if err != nil {
			// Not "no certification": the person would think it lapsed.
			s.LoadErr = fmt.Errorf("read the certification record: %w", err)
			return nil
		}
		p.Record = rec
	}
	return loadLinks(ctx, s, user, env)
}

func showStatus(s *State, env *Env) []Reply {
	if s.LoadErr != nil {
		return []Reply{unavailable("retry")}
	}
	certify := Row(Btn("menu.btn.certify", "certify"))
	menu := Row(Btn("btn.menu", "menu"))
	now := s.Seen
	if len(s.Family) > 0 {
		return showFamilyStatus(s, env)
	}
	p := &s.Me
	switch st := statusOf(s, p, now, env); st.kind {
	case "pending_lapsed":
		// The case and its photos were deleted undecided (nobody reviewed
		// it in time): say so, and offer to send it again.
		return []Reply{{ID: "status.pending_lapsed", Data: map[string]any{"Date": env.Date(st.sent)}, Buttons: [][]Button{certify, menu}}}
	case "pending":
		return []Reply{{ID: "status.pending", Data: map[string]any{"Date": env.Date(st.sent)}, Buttons: [][]Button{menu}}}
	case "certified", "due":
		return []Reply{{ID: "status.certified", Data: map[string]any{
			"Date": env.Date(p.Record.CertifiedOn), "Until": env.Date(p.Record.ValidUntil), "Count": st.days,
		}, Buttons: [][]Button{menu}}}
	case "expired":
		return []Reply{{ID: "status.expired", Data: map[string]any{"Until": env.Date(p.Record.ValidUntil)}, Buttons: [][]Button{certify, menu}}}
	case "unfinished":
		return []Reply{{ID: "status.unfinished", Buttons: [][]Button{certify, menu}}}
	}
	return []Reply{{ID: "status.none", Buttons: [][]Button{certify, menu}}}
}

// showFamilyStatus lists everyone on the account, most urgent first, one
// line each.
func showFamilyStatus(s *State, env *Env) []Reply {
	now := s.Seen
	var all []status
	for _, p := range s.people() {
		all = append(all, statusOf(s, p, now, env))
	}
	slices.SortStableFunc(all, func(a, b status) int {
		if a.rank != b.rank {
			return a.rank - b.rank
		}
		return a.days - b.days
	})
	var lines Lines
	for _, st := range all {
		p := st.p
		data := map[string]any{}
		if w := p.Who(); w != nil {
			data["Who"] = w
		}
		switch st.kind {
		case "pending", "pending_lapsed":
			data["Date"] = env.Date(st.sent)
		case "certified", "due":
			data["Date"], data["Until"], data["Count"] = env.Date(p.Record.CertifiedOn), env.Date(p.Record.ValidUntil), st.days
		case "expired":
			data["Until"] = env.Date(p.Record.ValidUntil)
		case "rejected":
			data["Count"] = p.Rejections
		}
		lines = append(lines, Msg{ID: "status.line." + st.kind, Data: data})
	}
	return []Reply{{ID: "status.list", Data: map[string]any{"Lines": lines}, Buttons: [][]Button{
		Row(Btn("menu.btn.certify", "certify")), Row(Btn("btn.menu", "menu")),
	}}}
}

func handleStatus(_ context.Context, s *State, in Input, _ *Env) Outcome {
	switch in.Action {
	case "certify":
		return Outcome{Goto: StepCertWho}
	case "retry":
		return Outcome{Goto: StepStatus}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}
