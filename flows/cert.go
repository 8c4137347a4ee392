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
	e.AddMenu("certify", "menu.btn.certify", StepCertConsent)
	e.AddMenu("status", "menu.btn.status", StepStatus)
	e.AddCommand("certify", StepCertConsent)
	e.AddCommand("status", StepStatus)
	e.OnCleanup(cleanupCert)
	return nil
}

// cleanupCert deletes what a certification stored outside the state (the
// photos) and, when the person asks to be forgotten, tells the staff
// their case was shown to: its photos and details leave their chats. The
// case itself, records of decisions and tickets are erased after the
// commit (the bot's erase effect), so nothing changes if the commit fails.
func cleanupCert(ctx context.Context, s *State, user int64, env *Env) []Notice {
	if s.Cert == nil {
		return nil
	}
	var tell []Notice
	if s.Cert.CaseID != "" {
		// Submitted: /cancel leaves the case with the verifier (the
		// person did finish it).
		if s.Step != "" && s.Step != StepForget {
			return nil
		}
		if env.Desk != nil {
			// A read, like OCR: who holds the case's messages.
			staff, err := env.Desk.Viewers(ctx, s.Cert.CaseID)
			if err != nil {
				staff = env.StaffIDs // cannot tell who: clear every staff chat
			}
			for _, id := range staff {
				tell = append(tell, Notice{User: id, Clear: true, Reply: &Reply{ID: "staff.withdrawn"}})
			}
		}
	}
	env.Photos.DeletePhotos(ctx, user)
	s.Cert = nil
	return tell
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
func pending(s *State, env *Env) bool {
	return s.Cert != nil && s.Cert.CaseID != "" && s.Seen.Sub(s.Cert.Submitted) <= env.PhotoTTL
}

func showConsent(s *State, env *Env) []Reply {
	if pending(s, env) {
		// One case at a time: a second would only wait behind the first.
		return []Reply{{ID: "cert.already_pending", Data: map[string]any{"Date": Date(s.Cert.Submitted)},
			Buttons: [][]Button{Row(Btn("btn.menu", "menu"))}}}
	}
	days := max(1, int(env.PhotoTTL.Hours()/24))
	return []Reply{{ID: "cert.consent.id", Data: map[string]any{"Days": days}, Buttons: [][]Button{
		Row(Btn("cert.btn.agree", "agree")),
		Row(Btn("cert.btn.decline", "decline")),
		altRow(),
	}}}
}

func handleConsent(ctx context.Context, s *State, in Input, env *Env) Outcome {
	if o, ok := common(s, in); ok {
		return o
	}
	switch in.Action {
	case "agree":
		if s.Cert != nil && s.Cert.CaseID != "" {
			// A new attempt replaces a decided or withdrawn one.
			s.Cert = nil
		}
		if s.Cert == nil {
			s.Cert = &Cert{Draft: crand.Text()}
		}
		return Outcome{Goto: StepCertCard}
	case "decline":
		cleanupCert(ctx, s, in.User, env)
		return Outcome{Say: []Reply{Say("cert.declined", nil)}, Goto: StepMenu}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}

func showCard(*State, *Env) []Reply {
	return []Reply{{ID: "cert.card.ask", Buttons: [][]Button{altRow(), Row(Btn("btn.menu", "menu"))}}}
}

// intake fetches and checks a photo; it returns the bytes, or the replies
// explaining what to do instead.
func intake(ctx context.Context, in Input, env *Env, face bool) ([]byte, []Reply, string) {
	f := in.File
	if f == nil {
		return nil, []Reply{Say("photo.problem.not_image", nil)}, ""
	}
	if in.Kind == KindDocument && !slices.Contains([]string{"image/jpeg", "image/png", "image/webp"}, strings.ToLower(f.MIME)) {
		return nil, []Reply{Say("photo.problem.not_image", nil)}, ""
	}
	if f.Size > 20<<20 {
		return nil, []Reply{Say("photo.problem.too_large", nil)}, ""
	}
	if env.Files == nil {
		return nil, []Reply{Say("error.photo_failed", nil)}, "no file fetcher"
	}
	data, err := env.Files.Fetch(ctx, f.ID, 20<<20)
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
		return nil, []Reply{Say("photo.problem."+string(problem), nil), Say("photo.again", nil)}, ""
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
	data, replies, note := intake(ctx, in, env, kind != PhotoCard)
	if data == nil {
		return nil, &Outcome{Say: replies, Note: note}
	}
	if err := env.Photos.PutPhoto(ctx, in.User, kind, data); err != nil {
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
	s.Cert.HaveCard = true
	var say []Reply
	if in.File.Group != "" {
		say = append(say, Say("photo.group_first", nil))
	}
	say = append(say, Say("cert.card.thanks", nil))
	// Read what the card says; a failed read means typing, never a dead end.
	var fields CardFields
	if env.Cards != nil {
		f, err := env.Cards.ReadCard(ctx, data)
		if err == nil {
			fields = f
		}
	}
	s.Cert.Read = false
	if id, err := idcard.Parse(fields.Number, in.Now); err == nil {
		s.Cert.Number, s.Cert.Read = id.Number, true
	}
	if validName(fields.Name) == "" {
		s.Cert.Name, s.Cert.Read = cleanName(fields.Name), true
	}
	o := Outcome{Say: say, DeleteInput: true}
	switch {
	case s.Cert.Name != "" && s.Cert.Number != "":
		o.Goto = StepCertConfirm
	case s.Cert.Name == "":
		if !s.Cert.Read {
			o.Say = append(o.Say, Say("cert.card.unread", nil))
		}
		o.Goto = StepCertName
	default:
		o.Goto = StepCertNumber
	}
	return o
}

func ensureCert(s *State) {
	if s.Cert == nil {
		s.Cert = &Cert{}
	}
}

func showConfirm(s *State, _ *Env) []Reply {
	ensureCert(s)
	id := "cert.confirm"
	if s.Cert.Read {
		id = "cert.confirm.read"
	}
	return []Reply{{ID: id, Data: map[string]any{"Name": s.Cert.Name, "Number": s.Cert.Number}, Buttons: [][]Button{
		Row(Btn("cert.btn.correct", "correct")),
		Row(Btn("cert.btn.fix_name", "fix_name"), Btn("cert.btn.fix_number", "fix_number")),
	}}}
}

func handleConfirm(_ context.Context, s *State, in Input, _ *Env) Outcome {
	ensureCert(s)
	switch in.Action {
	case "correct":
		if s.Cert.Name == "" {
			return Outcome{Goto: StepCertName}
		}
		if s.Cert.Number == "" {
			return Outcome{Goto: StepCertNumber}
		}
		s.Cert.Read = false
		return Outcome{Goto: StepCertPhone}
	case "fix_name":
		s.Cert.Name = ""
		return Outcome{Goto: StepCertName}
	case "fix_number":
		s.Cert.Number = ""
		return Outcome{Goto: StepCertNumber}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}

func showName(*State, *Env) []Reply { return []Reply{Say("cert.name.ask", nil)} }

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
	s.Cert.Name, s.Cert.Read = cleanName(in.Text), false
	if s.Cert.Number == "" {
		return Outcome{Goto: StepCertNumber}
	}
	return Outcome{Goto: StepCertConfirm}
}

func showNumber(*State, *Env) []Reply { return []Reply{Say("cert.number.ask", nil)} }

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
	s.Cert.Number, s.Cert.Read = id.Number, false
	if s.Cert.Name == "" {
		return Outcome{Goto: StepCertName}
	}
	return Outcome{Goto: StepCertConfirm}
}

func showPhone(*State, *Env) []Reply {
	return []Reply{{ID: "cert.phone.ask", AskContact: "cert.btn.share_phone"}}
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
	phone := in.Text
	if in.Kind == KindContact {
		if in.Contact == nil || !in.Contact.Own {
			return Outcome{Say: []Reply{Say("cert.phone.not_own", nil)}}
		}
		phone = in.Contact.Phone
	}
	p := normalizePhone(phone)
	if !mobile.MatchString(p) {
		return Outcome{Say: []Reply{Say("cert.phone.invalid", nil)}}
	}
	s.Cert.Phone = p
	return Outcome{Say: []Reply{Say("cert.phone.thanks", nil)}, Goto: StepCertDistrict}
}

// DistrictOnCard is the district when the person says their household
// registration is the address printed on their ID card. It is what staff
// and the agency read, so it is written in Chinese.
const DistrictOnCard = "同身份证住址"

func showDistrict(*State, *Env) []Reply {
	// Most people's hukou is the address on their card: one press, no
	// typing.
	return []Reply{{ID: "cert.district.ask", Buttons: [][]Button{Row(Btn("cert.btn.district_card", "card"))}}}
}

func handleDistrict(_ context.Context, s *State, in Input, _ *Env) Outcome {
	ensureCert(s)
	if in.Kind == KindButton {
		if in.Action != "card" {
			return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
		}
		s.Cert.District = DistrictOnCard
		return Outcome{Goto: StepCertChannel}
	}
	d := strings.Join(strings.Fields(in.Text), " ")
	n := utf8.RuneCountInString(d)
	if n < 2 || n > 40 || strings.ContainsAny(d, "0123456789") && n < 4 {
		return Outcome{Say: []Reply{Say("cert.district.invalid", nil)}}
	}
	s.Cert.District = d
	return Outcome{Goto: StepCertChannel}
}

// age is the person's age from their ID number, or 0.
func age(s *State, now time.Time) int {
	if s.Cert == nil {
		return 0
	}
	id, err := idcard.Parse(s.Cert.Number, now)
	if err != nil {
		return 0
	}
	return id.Age(now)
}

func showChannel(s *State, env *Env) []Reply {
	a := age(s, s.Seen)
	if a >= env.GreenAge {
		return []Reply{{ID: "cert.channel.green_age", Data: map[string]any{"Age": a, "Count": env.GreenAge}, Buttons: [][]Button{
			Row(Btn("cert.btn.green", "green")),
			altRow(),
		}}}
	}
	return []Reply{{ID: "cert.channel.ask", Data: map[string]any{"Count": env.GreenAge}, Buttons: [][]Button{
		Row(Btn("cert.btn.disabled_yes", "disabled")),
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
		s.Cert.Channel = ChannelGreen
		return Outcome{Say: []Reply{Say("cert.channel.green", nil)}, Goto: StepCertFaceConsent}
	case "disabled":
		s.Cert.Channel, s.Cert.Disabled = ChannelGreen, true
		return Outcome{Say: []Reply{Say("cert.channel.green", nil)}, Goto: StepCertFaceConsent}
	case "general":
		s.Cert.Channel = ChannelGeneral
		return Outcome{Say: []Reply{Say("cert.channel.general", nil)}, Goto: StepCertFaceConsent}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}

func showFaceConsent(*State, *Env) []Reply {
	return []Reply{{ID: "cert.consent.face", Buttons: [][]Button{
		Row(Btn("cert.btn.agree", "agree")),
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
		return Outcome{Goto: StepCertFace}
	case "decline":
		// Face recognition must not be the only way: say what else works,
		// and keep nothing.
		cleanupCert(ctx, s, in.User, env)
		return Outcome{Say: []Reply{Say("cert.declined", nil)}, Goto: StepMenu}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}

func showFace(*State, *Env) []Reply {
	return []Reply{{ID: "cert.face.ask", Buttons: [][]Button{altRow()}}}
}

func handleFace(ctx context.Context, s *State, in Input, env *Env) Outcome {
	if _, o := takePhoto(ctx, s, in, env, PhotoFace); o != nil {
		return *o
	}
	s.Cert.HaveFace = true
	o := Outcome{Say: []Reply{Say("cert.face.thanks", nil)}, DeleteInput: true}
	if s.Cert.Channel == ChannelGeneral {
		s.Cert.Code = fmt.Sprintf("%04d", 1000+env.Random(9000))
		o.Goto = StepCertLiveness
	} else {
		o.Goto = StepCertSubmit
	}
	return o
}

func showLiveness(s *State, _ *Env) []Reply {
	ensureCert(s)
	return []Reply{{ID: "cert.liveness.ask", Data: map[string]any{"Code": s.Cert.Code}, Buttons: [][]Button{altRow()}}}
}

func handleLiveness(ctx context.Context, s *State, in Input, env *Env) Outcome {
	if _, o := takePhoto(ctx, s, in, env, PhotoLiveness); o != nil {
		return *o
	}
	s.Cert.HaveLive = true
	return Outcome{Say: []Reply{Say("cert.face.thanks", nil)}, DeleteInput: true, Goto: StepCertSubmit}
}

func showSubmit(s *State, _ *Env) []Reply {
	ensureCert(s)
	channel := "cert.channel.name.general"
	if s.Cert.Channel == ChannelGreen {
		channel = "cert.channel.name.green"
	}
	var district any = s.Cert.District
	if s.Cert.District == DistrictOnCard {
		district = Msg{ID: "cert.district.on_card"}
	}
	return []Reply{{ID: "cert.summary", Data: map[string]any{
		"Name": s.Cert.Name, "Number": idcard.Mask(s.Cert.Number), "Phone": maskPhone(s.Cert.Phone),
		"District": district, "Channel": Msg{ID: channel},
	}, Buttons: [][]Button{
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
	switch in.Action {
	case "restart":
		cleanupCert(ctx, s, in.User, env)
		s.Cert = &Cert{}
		return Outcome{Goto: StepCertCard}
	case "submit":
	default:
		return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
	}
	c := s.Cert
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
	if c.Draft == "" {
		// Started before drafts were drawn at the consent.
		c.Draft = crand.Text()
	}
	sub := Submission{
		CaseID: c.Draft, User: in.User,
		Name: c.Name, Number: c.Number, Phone: c.Phone, District: c.District, Channel: c.Channel,
		LivenessCode: c.Code, Submitted: in.Now,
	}
	if id, err := idcard.Parse(c.Number, in.Now); err == nil {
		sub.Age, sub.Sex = id.Age(in.Now), id.Sex.String()
	}
	var err error
	for kind, dst := range map[string]*[]byte{PhotoCard: &sub.Card, PhotoFace: &sub.Face, PhotoLiveness: &sub.Liveness} {
		if kind == PhotoLiveness && c.Channel != ChannelGeneral {
			continue
		}
		if *dst, err = env.Photos.Photo(ctx, in.User, kind); err != nil || len(*dst) == 0 {
			// Photos expire (PHOTO_TTL): ask again rather than fail.
			c.HaveCard, c.HaveFace, c.HaveLive = kind != PhotoCard && c.HaveCard, kind != PhotoFace && c.HaveFace, false
			return Outcome{Say: []Reply{Say("cert.photos_expired", nil)}, Goto: StepCertCard, Note: fmt.Sprintf("photo %s missing at submit: %v", kind, err)}
		}
	}
	d, err := env.Verifier.Submit(ctx, sub)
	if err != nil {
		return Outcome{Say: []Reply{Say("cert.submit.failed", nil)}, Note: "submit: " + err.Error()}
	}
	c.CaseID, c.Submitted, c.Masked = sub.CaseID, in.Now, idcard.Mask(c.Number)
	if d.Outcome == OutcomePending {
		// The verifier has the case now: the state keeps no more personal
		// data than the record will.
		c.Name, c.Number, c.Phone, c.District = "", "", "", ""
		o := Outcome{Say: []Reply{Say("cert.submitted", nil)}, Goto: StepMenu}
		if d.By == "staff" {
			// Staff hear of the new case; the case itself comes with /review.
			for _, id := range env.StaffIDs {
				o.Tell = append(o.Tell, Notice{User: id, Reply: &Reply{ID: "staff.new_case", Data: map[string]any{"Channel": Msg{ID: "cert.channel.name." + c.Channel}}}})
			}
		}
		return o
	}
	d.CaseID = sub.CaseID
	return applyDecision(ctx, s, in.User, d, env)
}

// decision applies a verifier's decision that arrived later.
func (e *Engine) decision(ctx context.Context, r *run, in Input) {
	d := in.Decision
	if d == nil || r.s.Cert == nil || r.s.Cert.CaseID == "" || d.CaseID != r.s.Cert.CaseID {
		// The person cancelled, was forgotten, or it was delivered twice.
		r.note("decision for an unknown or finished case ignored")
		return
	}
	r.apply(applyDecision(ctx, &r.s, in.User, *d, &e.env))
}

// applyDecision tells the person the result, keeps the record, and deletes
// the photos and personal fields, which are no longer needed.
func applyDecision(ctx context.Context, s *State, user int64, d Decision, env *Env) Outcome {
	c := s.Cert
	when := d.DecidedAt
	if when.IsZero() {
		when = s.Seen
	}
	if err := env.Photos.DeletePhotos(ctx, user); err != nil {
		// They expire by PHOTO_TTL anyway.
		_ = err
	}
	switch d.Outcome {
	case OutcomeApproved:
		masked := c.Masked
		if masked == "" {
			masked = idcard.Mask(c.Number)
		}
		rec := Record{CertifiedOn: when, ValidUntil: when.Add(Validity), Channel: c.Channel, By: d.By, MaskedNumber: masked}
		o := Outcome{Goto: StepCertResult}
		if err := env.Records.SaveRecord(ctx, user, rec); err != nil {
			o.Note = "save record: " + err.Error()
		}
		s.Cert, s.Rejections, s.Group = nil, 0, ""
		o.Say = []Reply{{ID: "cert.approved", Data: map[string]any{"Date": Date(rec.CertifiedOn), "Until": Date(rec.ValidUntil)}}}
		return o
	case OutcomeRejected:
		s.Rejections++
		s.Cert, s.Group = nil, ""
		reason := d.Reason
		if !slices.Contains(Reasons, reason) {
			reason = ReasonOther
		}
		say := []Reply{Say("cert.rejected", map[string]any{"Reason": Msg{ID: "cert.reason." + reason}})}
		if s.Rejections >= MaxRejections {
			say = append(say, Say("cert.rejected.final", map[string]any{"Count": s.Rejections}))
		}
		return Outcome{Say: say, Goto: StepCertResult}
	}
	return Outcome{Note: "decision with unknown outcome " + d.Outcome}
}

// Date is a calendar date for messages; the renderer writes it in the
// person's language.
type Date time.Time

// DateValue lets the renderer see a Date without importing this package.
func (d Date) DateValue() time.Time { return time.Time(d) }

func showResult(s *State, _ *Env) []Reply {
	rows := [][]Button{Row(Btn("menu.btn.status", "status"))}
	if s.Rejections > 0 && s.Rejections < MaxRejections {
		rows = append([][]Button{Row(Btn("cert.btn.retry", "retry"))}, rows...)
	}
	if s.Rejections >= MaxRejections {
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
		return Outcome{Goto: StepCertConsent}
	case "status":
		return Outcome{Goto: StepStatus}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}

func loadStatus(ctx context.Context, s *State, user int64, env *Env) {
	s.Record = nil
	rec, err := env.Records.Record(ctx, user)
	if err != nil {
		// Not "no certification": the person would think it lapsed.
		s.LoadErr = fmt.Errorf("read the certification record: %w", err)
		return
	}
	s.Record = rec
}

func showStatus(s *State, env *Env) []Reply {
	if s.LoadErr != nil {
		return []Reply{unavailable("retry")}
	}
	certify := Row(Btn("menu.btn.certify", "certify"))
	menu := Row(Btn("btn.menu", "menu"))
	now := s.Seen
	switch {
	case s.Cert != nil && s.Cert.CaseID != "" && !pending(s, env):
		// The case and its photos were deleted undecided (nobody reviewed
		// it in time): say so, and offer to send it again.
		return []Reply{{ID: "status.pending_lapsed", Data: map[string]any{"Date": Date(s.Cert.Submitted)}, Buttons: [][]Button{certify, menu}}}
	case s.Cert != nil && s.Cert.CaseID != "":
		return []Reply{{ID: "status.pending", Data: map[string]any{"Date": Date(s.Cert.Submitted)}, Buttons: [][]Button{menu}}}
	case s.Record != nil && now.Before(s.Record.ValidUntil):
		days := int(s.Record.ValidUntil.Sub(now).Hours()/24) + 1
		return []Reply{{ID: "status.certified", Data: map[string]any{
			"Date": Date(s.Record.CertifiedOn), "Until": Date(s.Record.ValidUntil), "Count": days,
		}, Buttons: [][]Button{menu}}}
	case s.Record != nil:
		return []Reply{{ID: "status.expired", Data: map[string]any{"Until": Date(s.Record.ValidUntil)}, Buttons: [][]Button{certify, menu}}}
	case s.Cert != nil:
		return []Reply{{ID: "status.unfinished", Buttons: [][]Button{certify, menu}}}
	}
	return []Reply{{ID: "status.none", Buttons: [][]Button{certify, menu}}}
}

func handleStatus(_ context.Context, s *State, in Input, _ *Env) Outcome {
	switch in.Action {
	case "certify":
		return Outcome{Goto: StepCertConsent}
	case "retry":
		return Outcome{Goto: StepStatus}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}
