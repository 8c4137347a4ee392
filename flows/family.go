package flows

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Family is family help: one account certifies for several relatives
// (FAMILY_MAX besides the person themself), each with their own
// certification, case, photos, record and due date. A relative is added
// with a relationship, a label the helper chooses ("Mum") and the
// relative's consent, which the helper reads aloud to them. A pensioner
// who has Telegram can instead invite a helper with a one-time deep link;
// either side can unlink at any time.
type Family struct{}

// Step names of family help. They are stored with the state.
const (
	StepFamily         = "family"
	StepFamilyRelation = "family.relation"
	StepFamilyLabel    = "family.label"
	StepFamilyConsent  = "family.consent"
	StepFamilyRemove   = "family.remove"
	StepFamilyJoin     = "family.join"
)

// FamilyServices are what family help uses besides the state.
type FamilyServices struct {
	// FamilyMax is how many relatives an account may hold besides the
	// person themself (FAMILY_MAX); 0 turns family help off.
	FamilyMax int
	// Links keeps deep-link invitations and links between accounts.
	Links Links
	// BotName returns the bot's username (from getMe), for deep links.
	BotName func() string
}

// InviteTTL is how long an invitation link works.
const InviteTTL = 24 * time.Hour

// draftID names a relative being added until they get their own ID.
const draftID = "new"

// maxLabel is the longest label, in characters.
const maxLabel = 20

// Register adds the family steps, the /family command and its menu entry.
func (Family) Register(e *Engine) error {
	// Links made earlier are still changed (a /forget) when family help
	// is switched off.
	registerFamilyChanges(e)
	if e.env.FamilyMax <= 0 {
		return nil // switched off: /certify asks nobody "who is it for"
	}
	for _, s := range []*Step{
		{Name: StepFamily, Title: "step.family", NoQuestions: true, Load: loadLinks,
			Actions: []string{"add", "invite", "remove:", "unlink:", "certify"}, Show: showFamily, Handle: handleFamily},
		{Name: StepFamilyRelation, Title: "step.family", NoQuestions: true, Show: showRelation, Handle: handleRelation},
		{Name: StepFamilyLabel, Title: "step.family", Expects: []Kind{KindText}, Show: showLabel, Handle: handleLabel},
		{Name: StepFamilyConsent, Title: "step.family", NoQuestions: true, Show: showFamilyConsent, Handle: handleFamilyConsent},
		{Name: StepFamilyRemove, Title: "step.family", NoQuestions: true, Show: showRemove, Handle: handleRemove},
		{Name: StepFamilyJoin, Title: "step.family", NoQuestions: true, Show: showJoin, Handle: handleJoin},
	} {
		if err := e.AddStep(s); err != nil {
			return err
		}
	}
	e.AddMenu("family", "menu.btn.family", StepFamily)
	e.AddCommand("family", StepFamily)
	e.OnDeepLink(StepFamilyJoin)
	return nil
}

// label is how a person is named on a button: the suggested label in the
// reader's language, or the typed one as is.
func label(p *Person, action string) Button {
	if p.LabelID != "" {
		return Btn(p.LabelID, action)
	}
	return Button{Label: p.Label, Verbatim: true, Action: action}
}

// showWho asks who the certification is for, with a big button for each
// person on the account. Without relatives it is the consent itself.
func showWho(s *State, env *Env) []Reply {
	if len(s.Family) == 0 {
		s.For = ""
		return showConsent(s, env)
	}
	rows := [][]Button{Row(Btn("cert.who.me", "who:"+Me))}
	for _, p := range s.Family {
		rows = append(rows, Row(label(p, "who:"+p.ID)))
	}
	if len(s.Family) < env.FamilyMax {
		rows = append(rows, Row(Btn("cert.who.add", "who:add")))
	}
	rows = append(rows, Row(Btn("btn.menu", "menu")))
	return []Reply{{ID: "cert.who.ask", Buttons: rows}}
}

func handleWho(ctx context.Context, s *State, in Input, env *Env) Outcome {
	id, ok := strings.CutPrefix(in.Action, "who:")
	switch {
	case ok && id == "add":
		return startAdding(s, env)
	case ok:
		p := s.person(id)
		if p == nil {
			return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: StepCertWho}
		}
		return begin(ctx, s, p, in.User, env)
	}
	// Without relatives the consent was shown here.
	s.For = ""
	return handleConsent(ctx, s, in, env)
}

// startAdding begins adding a relative, if there is room.
func startAdding(s *State, env *Env) Outcome {
	if env.FamilyMax <= 0 {
		return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: StepMenu}
	}
	if len(s.Family) >= env.FamilyMax {
		return Outcome{Say: []Reply{Say("family.full", map[string]any{"Count": env.FamilyMax})}, Goto: StepFamily}
	}
	s.Draft = &Person{ID: draftID}
	return Outcome{Goto: StepFamilyRelation}
}

func showRelation(s *State, _ *Env) []Reply {
	var rows [][]Button
	for _, r := range Relations {
		rows = append(rows, Row(Btn("family.rel."+r, "rel:"+r)))
	}
	rows = append(rows, Row(Btn("btn.menu", "menu")))
	id := "family.relation.ask"
	if s.Draft != nil && s.Draft.Linked != 0 {
		id = "family.join.relation"
	}
	return []Reply{{ID: id, Buttons: rows}}
}

func handleRelation(_ context.Context, s *State, in Input, _ *Env) Outcome {
	r, ok := strings.CutPrefix(in.Action, "rel:")
	if !ok || !slices.Contains(Relations, r) {
		return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
	}
	if s.Draft == nil {
		s.Draft = &Person{ID: draftID}
	}
	s.Draft.Relation = r
	return Outcome{Goto: StepFamilyLabel}
}

// suggested labels per relationship: one press instead of typing.
var suggested = map[string][]string{
	RelParent:      {"mother", "father"},
	RelParentInLaw: {"mother_in_law", "father_in_law"},
	RelGrandparent: {"grandmother", "grandfather"},
	RelSpouse:      {"wife", "husband"},
}

func showLabel(s *State, _ *Env) []Reply {
	var rows [][]Button
	if s.Draft != nil {
		var row []Button
		for _, l := range suggested[s.Draft.Relation] {
			row = append(row, Btn("family.label."+l, "label:"+l))
		}
		if len(row) > 0 {
			rows = append(rows, row)
		}
	}
	rows = append(rows, Row(Btn("btn.menu", "menu")))
	return []Reply{{ID: "family.label.ask", Buttons: rows}}
}

// cleanLabel checks a typed label: a short name of letters, no digits
// (an ID number or phone typed here by mistake is not kept).
func cleanLabel(t string) (string, bool) {
	t = strings.Join(strings.Fields(t), " ")
	n := utf8.RuneCountInString(t)
	if n == 0 || n > maxLabel {
		return "", false
	}
	for _, r := range t {
		if !unicode.IsLetter(r) && r != ' ' && r != '-' && r != '\'' && r != '·' {
			return "", false
		}
	}
	return t, true
}

func handleLabel(ctx context.Context, s *State, in Input, env *Env) Outcome {
	if s.Draft == nil {
		return Outcome{Goto: StepFamilyRelation}
	}
	switch {
	case in.Kind == KindText:
		l, ok := cleanLabel(in.Text)
		if !ok {
			return Outcome{Say: []Reply{Say("family.label.invalid", map[string]any{"Count": maxLabel})}}
		}
		s.Draft.Label, s.Draft.LabelID = l, ""
	case strings.HasPrefix(in.Action, "label:"):
		s.Draft.LabelID, s.Draft.Label = "family.label."+strings.TrimPrefix(in.Action, "label:"), ""
	default:
		return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
	}
	if s.Draft.Linked != 0 {
		// The pensioner invited this helper themself: that is their
		// consent to being helped.
		return addRelative(ctx, s, in, env)
	}
	return Outcome{Goto: StepFamilyConsent}
}

// showFamilyConsent gives the helper a short text to read aloud to the
// relative (in Chinese too, when the helper reads another language), then
// asks whether the relative agrees.
func showFamilyConsent(s *State, env *Env) []Reply {
	if s.Draft == nil {
		return []Reply{{ID: "button.unknown", Buttons: [][]Button{Row(Btn("btn.menu", "menu"))}}}
	}
	days := max(1, int(env.PhotoTTL.Hours()/24))
	read := Reply{ID: "family.consent.read", Data: map[string]any{"Days": days}}
	out := []Reply{Say("family.consent.intro", who(s.Draft, nil)), read}
	if !strings.HasPrefix(s.Language(""), "zh") {
		zh := read
		zh.Lang = "zh-Hans"
		out = append(out, zh)
	}
	return append(out, Reply{ID: "family.consent.ask", Data: who(s.Draft, nil), Buttons: [][]Button{
		Row(Button{Label: "family.btn.agrees", Action: "agree", Data: who(s.Draft, nil)}),
		Row(Btn("family.btn.not_agree", "decline")),
	}})
}

func handleFamilyConsent(ctx context.Context, s *State, in Input, env *Env) Outcome {
	switch in.Action {
	case "agree":
		if s.Draft == nil {
			return Outcome{Goto: StepFamily}
		}
		s.Draft.Consent = in.Now
		return addRelative(ctx, s, in, env)
	case "decline":
		s.Draft = nil
		return Outcome{Say: []Reply{Say("family.consent.declined", nil)}, Goto: StepMenu}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}

// addRelative puts the draft on the account and starts their
// certification (or, for a linked pensioner, shows the family).
func addRelative(ctx context.Context, s *State, in Input, env *Env) Outcome {
	d := s.Draft
	s.Draft = nil
	if len(s.Family) >= env.FamilyMax {
		return Outcome{Say: []Reply{Say("family.full", map[string]any{"Count": env.FamilyMax})}, Goto: StepFamily}
	}
	s.NextID++
	d.ID = "r" + strconv.Itoa(s.NextID)
	s.Family = append(s.Family, d)
	if d.Linked != 0 {
		return Outcome{Say: []Reply{sayAbout(d, "family.join.done", nil)}, Goto: StepCertWho,
			Effects: []Effect{NewEffect(EffectLinkRelation, in.User, LinkRef{Pensioner: d.Linked, Helper: in.User, Relation: d.Relation})}}
	}
	return begin(ctx, s, d, in.User, env)
}

// loadLinks reads the accounts linked to this one, and drops relatives
// whose link the pensioner removed (authority ends with the link).
func loadLinks(ctx context.Context, s *State, user int64, env *Env) []Effect {
	s.Links = nil
	if env.Links == nil {
		return nil
	}
	var fx []Effect
	if l, err := env.Links.Helpers(ctx, user); err == nil {
		s.Links = l
	}
	kept := s.Family[:0]
	for _, p := range s.Family {
		if p.Linked != 0 {
			if ok, err := env.Links.Linked(ctx, p.Linked, user); err == nil && !ok {
				fx = append(fx, dropCert(p, user)...)
				s.Notice = "family.link.gone"
				continue
			}
		}
		kept = append(kept, p)
	}
	s.Family = kept
	if len(s.Family) == 0 {
		s.Family = nil
	}
	return fx
}

func showFamily(s *State, env *Env) []Reply {
	var out []Reply
	if s.Notice != "" {
		out = append(out, Say(s.Notice, nil))
		s.Notice = ""
	}
	var rows [][]Button
	if len(s.Family) == 0 {
		out = append(out, Say("family.empty", map[string]any{"Count": env.FamilyMax}))
	} else {
		var lines Lines
		for _, p := range s.Family {
			lines = append(lines, Msg{ID: "family.line", Data: map[string]any{"Who": p.Who(), "Relation": Msg{ID: "family.rel." + p.Relation}, "Linked": p.Linked != 0}})
			rows = append(rows, Row(Button{Label: "family.btn.remove", Action: "remove:" + p.ID, Data: map[string]any{"Who": p.Who()}}))
		}
		out = append(out, Reply{ID: "family.list", Data: map[string]any{"Lines": lines}})
		if len(s.Family) > 0 {
			rows = append([][]Button{Row(Btn("menu.btn.certify", "certify"))}, rows...)
		}
	}
	if len(s.Links) > 0 {
		// The pensioner's side: who may act for them.
		var lines Lines
		for i, l := range s.Links {
			rel := RelOther
			if l.Relation != "" {
				rel = l.Relation
			}
			lines = append(lines, Msg{ID: "family.helper.line", Data: map[string]any{"N": i + 1, "Helper": Msg{ID: "family.helper." + rel}, "Date": env.Date(l.Since)}})
			rows = append(rows, Row(Button{Label: "family.btn.unlink", Action: "unlink:" + strconv.FormatInt(l.User, 10), Data: map[string]any{"N": i + 1}}))
		}
		out = append(out, Reply{ID: "family.helpers", Data: map[string]any{"Lines": lines}})
	}
	if len(s.Family) < env.FamilyMax {
		rows = append(rows, Row(Btn("family.btn.add", "add")))
	}
	if env.Links != nil && env.BotName != nil && env.BotName() != "" {
		rows = append(rows, Row(Btn("family.btn.invite", "invite")))
	}
	rows = append(rows, Row(Btn("btn.menu", "menu")))
	out = append(out, Reply{ID: "family.ask", Buttons: rows})
	return out
}

func handleFamily(ctx context.Context, s *State, in Input, env *Env) Outcome {
	switch {
	case in.Action == "add":
		return startAdding(s, env)
	case in.Action == "certify":
		return Outcome{Goto: StepCertWho}
	case in.Action == "invite":
		if env.Links == nil || env.BotName == nil || env.BotName() == "" {
			return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: StepFamily}
		}
		code, err := env.Links.Invite(ctx, in.User, InviteTTL)
		if err != nil {
			return Outcome{Say: []Reply{Say("error.try_again", nil)}, Note: "make invitation: " + err.Error()}
		}
		link := "https://t.me/" + env.BotName() + "?start=" + code
		return Outcome{Say: []Reply{Say("family.invite", map[string]any{"Link": link, "Count": int(InviteTTL.Hours())})}}
	case strings.HasPrefix(in.Action, "remove:"):
		id := strings.TrimPrefix(in.Action, "remove:")
		if p := s.person(id); p == nil || p.IsMe() {
			return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: StepFamily}
		}
		s.Removing = id
		return Outcome{Goto: StepFamilyRemove}
	case strings.HasPrefix(in.Action, "unlink:"):
		helper, err := strconv.ParseInt(strings.TrimPrefix(in.Action, "unlink:"), 10, 64)
		if err != nil || env.Links == nil {
			return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: StepFamily}
		}
		// Only this account's own helpers can be unlinked here: the link
		// is looked up with this account as the pensioner.
		if ok, err := env.Links.Linked(ctx, in.User, helper); err != nil || !ok {
			return Outcome{Goto: StepFamily}
		}
		// Revoking a helper's rights is done at once, not after the commit:
		// it must hold even if the rest of the step is lost, and the list
		// shown next must no longer name the helper.
		if err := env.Links.Unlink(ctx, in.User, helper); err != nil {
			return Outcome{Say: []Reply{Say("error.try_again", nil)}, Note: "unlink: " + err.Error()}
		}
		return Outcome{Say: []Reply{Say("family.unlinked", nil)}, Goto: StepFamily,
			Tell: []Notice{{User: helper, Reply: &Reply{ID: "family.unlinked.helper"}}}}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: StepFamily}
}

func showRemove(s *State, _ *Env) []Reply {
	p := s.person(s.Removing)
	if p == nil || p.IsMe() {
		return []Reply{{ID: "button.unknown", Buttons: [][]Button{Row(Btn("btn.menu", "menu"))}}}
	}
	return []Reply{{ID: "family.remove.ask", Data: who(p, nil), Buttons: [][]Button{
		Row(Button{Label: "family.btn.remove_yes", Action: "yes", Data: who(p, nil)}),
		Row(Btn("forget.no", "no")),
	}}}
}

// handleRemove removes a relative: an open case is withdrawn, and their
// photos, record and consent are deleted. A linked pensioner is unlinked.
func handleRemove(ctx context.Context, s *State, in Input, env *Env) Outcome {
	id := s.Removing
	s.Removing = ""
	p := s.person(id)
	if in.Action != "yes" || p == nil || p.IsMe() {
		return Outcome{Goto: StepFamily}
	}
	fx := append(dropCert(p, in.User), forgetPerson(p, in.User)...)
	o := Outcome{Say: []Reply{sayAbout(p, "family.removed", nil)}, Goto: StepFamily, Effects: fx}
	if p.Linked != 0 && env.Links != nil {
		o.Effects = append(o.Effects, NewEffect(EffectUnlink, in.User, LinkRef{Pensioner: p.Linked, Helper: in.User}))
		o.Tell = append(o.Tell, Notice{User: p.Linked, Reply: &Reply{ID: "family.unlinked.pensioner"}})
	}
	s.Family = slices.DeleteFunc(s.Family, func(q *Person) bool { return q.ID == id })
	if len(s.Family) == 0 {
		s.Family = nil
	}
	if s.For == id {
		s.For = ""
	}
	return o
}

// validStartArg keeps deep-link payloads to what Telegram allows (64 of
// A-Z a-z 0-9 _ -).
func validStartArg(a string) bool {
	if a == "" || len(a) > 64 {
		return false
	}
	return strings.Trim(a, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") == ""
}

func showJoin(s *State, env *Env) []Reply {
	if !validStartArg(s.StartArg) || env.Links == nil {
		s.StartArg = ""
		return []Reply{{ID: "family.join.invalid", Buttons: [][]Button{Row(Btn("btn.menu", "menu"))}}}
	}
	return []Reply{{ID: "family.join.ask", Buttons: [][]Button{
		Row(Btn("family.btn.join", "join")),
		Row(Btn("family.btn.not_join", "menu")),
	}}}
}

// handleJoin uses an invitation: this account becomes a helper of the
// pensioner who made it, once.
func handleJoin(ctx context.Context, s *State, in Input, env *Env) Outcome {
	code := s.StartArg
	s.StartArg = ""
	if in.Action != "join" || env.Links == nil || !validStartArg(code) {
		return Outcome{Goto: StepMenu}
	}
	if len(s.Family) >= env.FamilyMax {
		return Outcome{Say: []Reply{Say("family.full", map[string]any{"Count": env.FamilyMax})}, Goto: StepMenu}
	}
	pensioner, err := env.Links.Accept(ctx, code, in.User, in.Now)
	switch {
	case errors.Is(err, ErrInvite):
		return Outcome{Say: []Reply{Say("family.join.invalid", nil)}, Goto: StepMenu}
	case err != nil:
		return Outcome{Say: []Reply{Say("error.try_again", nil)}, Note: "accept invitation: " + err.Error()}
	}
	for _, p := range s.Family {
		if p.Linked == pensioner {
			return Outcome{Say: []Reply{sayAbout(p, "family.join.already", nil)}, Goto: StepFamily}
		}
	}
	s.Draft = &Person{ID: draftID, Linked: pensioner, Consent: in.Now}
	return Outcome{
		Say:  []Reply{Say("family.join.linked", nil)},
		Goto: StepFamilyRelation,
		Tell: []Notice{{User: pensioner, Reply: &Reply{ID: "family.linked.pensioner"}}},
	}
}
