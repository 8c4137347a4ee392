package flows

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// Staff broadcasts: /broadcast lets a staff member choose an audience by
// buttons (the count is shown at once), a prepared message or their own
// text (once per language), see a preview exactly as recipients will, and
// send it. Above a threshold a second staff member confirms with
// /broadcasts, which also lists what was sent (the audit). Sending is the
// bot's job: the steps only commit effects (create, confirm, control).

// Audience kinds staff choose from.
const (
	AudienceAll      = "all"      // everyone who may be reached
	AudienceLang     = "lang"     // one language
	AudienceDue      = "due"      // a certification falls due within Days
	AudienceUncert   = "uncert"   // no valid certification now (never, or lapsed)
	AudienceLapsed   = "lapsed"   // a certification lapsed and none replaced it
	AudienceDistrict = "district" // one district, as given in a certification
)

// AudienceFilter says who gets a broadcast.
type AudienceFilter struct {
	Kind     string `json:"kind,omitempty"`
	Lang     string `json:"lang,omitempty"`
	Days     int    `json:"days,omitempty"`
	District string `json:"district,omitempty"`
}

// AudienceCount is how many people a filter reaches, by language; Excluded
// are those it matches who turned notices off or cannot be reached.
type AudienceCount struct {
	Total    int            `json:"total,omitempty"`
	ByLang   map[string]int `json:"by_lang,omitempty"`
	Excluded int            `json:"excluded,omitempty"`
}

// Audience counts people for staff. A read before the commit, like OCR.
type Audience interface {
	Count(ctx context.Context, f AudienceFilter, now time.Time) (AudienceCount, error)
	Districts(ctx context.Context, limit int) ([]string, error)
}

// Broadcast statuses.
const (
	BroadcastAwaiting  = "awaiting"  // a second staff member must confirm
	BroadcastConfirmed = "confirmed" // the audience is being fixed
	BroadcastSending   = "sending"
	BroadcastPaused    = "paused"
	BroadcastCancelled = "cancelled"
	BroadcastDone      = "done"
)

// Broadcast templates (locale messages "notify.tpl.<name>"). The window's
// message carries a "Certify now" button.
var Templates = []string{"window", "closed", "scam", "procedure"}

// BroadcastInfo is a broadcast as staff see it in /broadcasts: the audit.
type BroadcastInfo struct {
	ID          string
	By          int64
	ConfirmedBy int64
	Created     time.Time
	Filter      AudienceFilter
	Template    string // "" for staff's own text
	Status      string
	Total, Sent int
	Failed      int
}

// Broadcasts reads broadcasts for staff.
type Broadcasts interface {
	List(ctx context.Context, n int) ([]BroadcastInfo, error)
	Get(ctx context.Context, id string) (*BroadcastInfo, error)
}

// Effect kinds of broadcasts; bot handles them.
const (
	EffectBroadcastCreate  = "broadcast.create"
	EffectBroadcastConfirm = "broadcast.confirm"
	EffectBroadcastControl = "broadcast.control"
)

// BroadcastDraft is the data of EffectBroadcastCreate.
type BroadcastDraft struct {
	ID       string            `json:"id"`
	By       int64             `json:"by"`
	Filter   AudienceFilter    `json:"filter"`
	Template string            `json:"tpl,omitempty"`
	Texts    map[string]string `json:"texts,omitempty"`
	// Confirm is set when a second staff member must confirm.
	Confirm bool      `json:"confirm,omitempty"`
	Count   int       `json:"count"`
	Created time.Time `json:"created"`
}

// BroadcastControl is the data of EffectBroadcastConfirm and
// EffectBroadcastControl (pause, resume, cancel).
type BroadcastControl struct {
	ID     string `json:"id"`
	By     int64  `json:"by"`
	Action string `json:"action,omitempty"`
}

// Broadcast is the staff broadcast feature.
type Broadcast struct {
	Audience   Audience
	Broadcasts Broadcasts
	// DefaultLanguage is what recipients get when staff did not write
	// their language; ConfirmOver is the audience size above which a
	// second staff member confirms.
	DefaultLanguage string
	ConfirmOver     int
}

// Step names of broadcasts.
const (
	StepBcAudience = "bc.audience"
	StepBcLang     = "bc.lang"
	StepBcDays     = "bc.days"
	StepBcDistrict = "bc.district"
	StepBcMessage  = "bc.message"
	StepBcText     = "bc.text"
	StepBcMore     = "bc.more"
	StepBcPreview  = "bc.preview"
	StepBcList     = "bc.list"
	StepBcControl  = "bc.control"
)

// DueDays are the choices for "due within".
var DueDays = []int{7, 14, 30, 60, 90}

// maxBroadcastText leaves room under Telegram's 4096 for a button and
// keeps a broadcast one message.
const maxBroadcastText = 3500

// Register adds /broadcast and /broadcasts for staff.
func (f Broadcast) Register(e *Engine) error {
	if f.Audience == nil || f.Broadcasts == nil {
		return nil // switched off: no command leads nowhere
	}
	if f.DefaultLanguage == "" && len(e.env.Languages) > 0 {
		f.DefaultLanguage = e.env.Languages[0]
	}
	langs := make([]string, 0, len(e.env.Languages))
	for _, l := range e.env.Languages {
		langs = append(langs, "lang:"+l)
	}
	days := []string{"back"}
	for _, d := range DueDays {
		days = append(days, "days:"+strconv.Itoa(d))
	}
	for _, s := range []*Step{
		{Name: StepBcAudience, Title: "step.broadcast", NoQuestions: true, StaffOnly: true,
			Actions: []string{"aud:", "cancel"}, Load: f.loadAudience, Show: showBcAudience, Handle: f.handleAudience},
		{Name: StepBcLang, Title: "step.broadcast", NoQuestions: true, StaffOnly: true,
			Actions: append([]string{"back"}, langs...), Show: showBcLang, Handle: f.handleLang},
		{Name: StepBcDays, Title: "step.broadcast", NoQuestions: true, StaffOnly: true,
			Actions: days, Show: showBcDays, Handle: f.handleDays},
		{Name: StepBcDistrict, Title: "step.broadcast", NoQuestions: true, StaffOnly: true, Expects: []Kind{KindText},
			Actions: []string{"back"}, Load: f.loadDistricts, Show: showBcDistrict, Handle: f.handleDistrict},
		{Name: StepBcMessage, Title: "step.broadcast", NoQuestions: true, StaffOnly: true,
			Actions: []string{"tpl:", "own", "back", "cancel"}, Show: showBcMessage, Handle: f.handleMessage},
		{Name: StepBcText, Title: "step.broadcast", NoQuestions: true, StaffOnly: true, Expects: []Kind{KindText},
			Actions: []string{"cancel"}, Show: showBcText, Handle: f.handleText},
		{Name: StepBcMore, Title: "step.broadcast", NoQuestions: true, StaffOnly: true,
			Actions: append([]string{"preview", "cancel"}, langs...), Show: f.showBcMore, Handle: f.handleMore},
		{Name: StepBcPreview, Title: "step.broadcast", NoQuestions: true, StaffOnly: true,
			Actions: []string{"send", "message", "cancel"}, Load: f.loadPreview, Show: f.showBcPreview, Handle: f.handlePreview},
		{Name: StepBcList, Title: "step.broadcasts", NoQuestions: true, StaffOnly: true,
			Actions: []string{"bc.confirm:"}, Load: f.loadList, Show: showBcList, Handle: f.handleList},
		{Name: StepBcControl, Title: "step.broadcasts", NoQuestions: true, StaffOnly: true,
			Actions: []string{"bc.pause:", "bc.resume:", "bc.cancel:"}, Show: showBcList, Handle: handleBcControl},
	} {
		if err := e.AddStep(s); err != nil {
			return err
		}
	}
	e.AddCommand("broadcast", StepBcAudience)
	e.AddCommand("broadcasts", StepBcList)
	e.staffOnly = append(e.staffOnly, "broadcast", "broadcasts")
	// The buttons under a broadcast's progress message act from anywhere.
	for _, a := range []string{"bc.pause:", "bc.resume:", "bc.cancel:"} {
		e.AddGlobalAction(a, StepBcControl)
	}
	return nil
}

func draft(s *State) *Notify {
	if s.Notify == nil {
		s.Notify = &Notify{}
	}
	return s.Notify
}

func (f Broadcast) loadAudience(_ context.Context, s *State, _ int64, _ *Env) []Effect {
	// A new broadcast starts from nothing.
	s.Notify = &Notify{}
	return nil
}

func showBcAudience(*State, *Env) []Reply {
	return []Reply{{ID: "bc.audience.ask", Buttons: [][]Button{
		Row(Btn("bc.aud.btn.all", "aud:"+AudienceAll)),
		Row(Btn("bc.aud.btn.lang", "aud:"+AudienceLang)),
		Row(Btn("bc.aud.btn.due", "aud:"+AudienceDue)),
		Row(Btn("bc.aud.btn.uncert", "aud:"+AudienceUncert)),
		Row(Btn("bc.aud.btn.lapsed", "aud:"+AudienceLapsed)),
		Row(Btn("bc.aud.btn.district", "aud:"+AudienceDistrict)),
		Row(Btn("bc.btn.cancel", "cancel")),
	}}}
}

func cancelBroadcast(s *State) Outcome {
	s.Notify = nil
	return Outcome{Say: []Reply{Say("bc.cancelled", nil)}, Goto: StepMenu}
}

func (f Broadcast) handleAudience(ctx context.Context, s *State, in Input, env *Env) Outcome {
	kind, ok := strings.CutPrefix(in.Action, "aud:")
	switch {
	case in.Action == "cancel":
		return cancelBroadcast(s)
	case !ok:
	case kind == AudienceLang:
		return Outcome{Goto: StepBcLang}
	case kind == AudienceDue:
		return Outcome{Goto: StepBcDays}
	case kind == AudienceDistrict:
		return Outcome{Goto: StepBcDistrict}
	case kind == AudienceAll || kind == AudienceUncert || kind == AudienceLapsed:
		return f.chosen(ctx, s, AudienceFilter{Kind: kind}, in.Now)
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}

// chosen counts the audience and shows the count before anything else.
func (f Broadcast) chosen(ctx context.Context, s *State, flt AudienceFilter, now time.Time) Outcome {
	n := draft(s)
	c, err := f.Audience.Count(ctx, flt, now)
	if err != nil {
		return Outcome{Say: []Reply{Say("bc.count_failed", nil)}, Goto: StepBcAudience, Note: "count audience: " + err.Error()}
	}
	if c.Total == 0 {
		return Outcome{Say: []Reply{countReply(c, flt)}, Goto: StepBcAudience}
	}
	n.Filter, n.Count = flt, c
	return Outcome{Say: []Reply{countReply(c, flt)}, Goto: StepBcMessage}
}

// countReply is "12,345 people: 9,870 Simplified Chinese, …".
func countReply(c AudienceCount, f AudienceFilter) Reply {
	data := map[string]any{"Count": c.Total, "Total": Thousands(c.Total), "Excluded": Thousands(c.Excluded), "Audience": AudienceMsg(f),
		"OneLang": f.Kind == AudienceLang} // the split by language says nothing then
	for _, l := range []string{"zh-Hans", "zh-Hant", "en", "es"} {
		data[langKey(l)] = Thousands(c.ByLang[l])
	}
	if c.Total == 0 {
		return Say("bc.count.none", data)
	}
	return Say("bc.count", data)
}

func langKey(l string) string { return "N_" + strings.ReplaceAll(l, "-", "_") }

// AudienceMsg describes an audience in words.
func AudienceMsg(f AudienceFilter) Msg {
	switch f.Kind {
	case AudienceLang:
		return Msg{ID: "bc.aud.lang", Data: map[string]any{"Lang": Msg{ID: "bc.lang." + f.Lang}}}
	case AudienceDue:
		return Msg{ID: "bc.aud.due", Data: map[string]any{"Count": f.Days}}
	case AudienceDistrict:
		return Msg{ID: "bc.aud.district", Data: map[string]any{"District": f.District}}
	case AudienceUncert, AudienceLapsed:
		return Msg{ID: "bc.aud." + f.Kind}
	}
	return Msg{ID: "bc.aud.all"}
}

// Thousands writes 12345 as "12,345".
func Thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + Thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func showBcLang(_ *State, env *Env) []Reply {
	var rows [][]Button
	for _, l := range env.Languages {
		rows = append(rows, Row(Btn("bc.lang."+l, "lang:"+l)))
	}
	return []Reply{{ID: "bc.lang.ask", Buttons: append(rows, Row(Btn("btn.back", "back")))}}
}

func (f Broadcast) handleLang(ctx context.Context, s *State, in Input, env *Env) Outcome {
	if l, ok := strings.CutPrefix(in.Action, "lang:"); ok && slices.Contains(env.Languages, l) {
		return f.chosen(ctx, s, AudienceFilter{Kind: AudienceLang, Lang: l}, in.Now)
	}
	return Outcome{Goto: StepBcAudience}
}

func showBcDays(*State, *Env) []Reply {
	var row []Button
	for _, d := range DueDays {
		row = append(row, Button{Label: "bc.days", Action: "days:" + strconv.Itoa(d), Data: map[string]any{"Count": d}})
	}
	return []Reply{{ID: "bc.days.ask", Buttons: [][]Button{row, Row(Btn("btn.back", "back"))}}}
}

func (f Broadcast) handleDays(ctx context.Context, s *State, in Input, _ *Env) Outcome {
	if d, ok := strings.CutPrefix(in.Action, "days:"); ok {
		if n, err := strconv.Atoi(d); err == nil && slices.Contains(DueDays, n) {
			return f.chosen(ctx, s, AudienceFilter{Kind: AudienceDue, Days: n}, in.Now)
		}
	}
	return Outcome{Goto: StepBcAudience}
}

func (f Broadcast) loadDistricts(ctx context.Context, s *State, _ int64, _ *Env) []Effect {
	n := draft(s)
	n.Known = ""
	if ds, err := f.Audience.Districts(ctx, 12); err == nil {
		n.Known = strings.Join(ds, "、")
	}
	return nil
}

func showBcDistrict(s *State, _ *Env) []Reply {
	known := ""
	if s.Notify != nil {
		known = s.Notify.Known
	}
	id := "bc.district.ask"
	if known == "" {
		id = "bc.district.ask_none"
	}
	return []Reply{{ID: id, Data: map[string]any{"Known": known}, Buttons: [][]Button{Row(Btn("btn.back", "back"))}}}
}

func (f Broadcast) handleDistrict(ctx context.Context, s *State, in Input, _ *Env) Outcome {
	if in.Kind != KindText {
		return Outcome{Goto: StepBcAudience}
	}
	d := strings.TrimSpace(in.Text)
	if d == "" || utf8.RuneCountInString(d) > 60 {
		return Outcome{Say: []Reply{Say("bc.district.bad", nil)}, Goto: StepBcDistrict}
	}
	return f.chosen(ctx, s, AudienceFilter{Kind: AudienceDistrict, District: d}, in.Now)
}

func showBcMessage(*State, *Env) []Reply {
	var rows [][]Button
	for _, t := range Templates {
		rows = append(rows, Row(Btn("bc.tpl.btn."+t, "tpl:"+t)))
	}
	rows = append(rows, Row(Btn("bc.btn.own", "own")), Row(Btn("btn.back", "back"), Btn("bc.btn.cancel", "cancel")))
	return []Reply{{ID: "bc.message.ask", Buttons: rows}}
}

func (f Broadcast) handleMessage(_ context.Context, s *State, in Input, _ *Env) Outcome {
	n := draft(s)
	switch {
	case in.Action == "cancel":
		return cancelBroadcast(s)
	case in.Action == "back":
		return Outcome{Goto: StepBcAudience}
	case in.Action == "own":
		n.Template, n.Texts, n.Writing = "", map[string]string{}, f.DefaultLanguage
		return Outcome{Goto: StepBcText}
	}
	if t, ok := strings.CutPrefix(in.Action, "tpl:"); ok && slices.Contains(Templates, t) {
		n.Template, n.Texts = t, nil
		return Outcome{Goto: StepBcPreview}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}

func showBcText(s *State, _ *Env) []Reply {
	lang := ""
	if s.Notify != nil {
		lang = s.Notify.Writing
	}
	return []Reply{{ID: "bc.text.ask", Data: map[string]any{"Lang": Msg{ID: "bc.lang." + lang}},
		Buttons: [][]Button{Row(Btn("bc.btn.cancel", "cancel"))}}}
}

func (f Broadcast) handleText(_ context.Context, s *State, in Input, env *Env) Outcome {
	n := draft(s)
	if in.Kind != KindText {
		return cancelBroadcast(s)
	}
	text := strings.TrimSpace(in.Text)
	// Telegram counts UTF-16 units: an emoji is two.
	if text == "" || len(utf16.Encode([]rune(text))) > maxBroadcastText {
		return Outcome{Say: []Reply{Say("bc.text.too_long", map[string]any{"Count": maxBroadcastText})}, Goto: StepBcText}
	}
	if n.Writing == "" || !slices.Contains(env.Languages, n.Writing) {
		n.Writing = f.DefaultLanguage
	}
	if n.Texts == nil {
		n.Texts = map[string]string{}
	}
	n.Texts[n.Writing] = text
	n.Writing = ""
	return Outcome{Goto: StepBcMore}
}

func (f Broadcast) showBcMore(s *State, env *Env) []Reply {
	var rows [][]Button
	var written []string
	n := draft(s)
	for _, l := range env.Languages {
		if _, ok := n.Texts[l]; ok {
			written = append(written, l)
			continue
		}
		rows = append(rows, Row(Btn("bc.lang.add."+l, "lang:"+l)))
	}
	rows = append(rows, Row(Btn("bc.btn.preview", "preview")), Row(Btn("bc.btn.cancel", "cancel")))
	return []Reply{{ID: "bc.more.ask", Data: map[string]any{"Count": len(written), "Default": Msg{ID: "bc.lang." + f.DefaultLanguage}}, Buttons: rows}}
}

func (f Broadcast) handleMore(_ context.Context, s *State, in Input, env *Env) Outcome {
	n := draft(s)
	switch {
	case in.Action == "cancel":
		return cancelBroadcast(s)
	case in.Action == "preview":
		return Outcome{Goto: StepBcPreview}
	}
	if l, ok := strings.CutPrefix(in.Action, "lang:"); ok && slices.Contains(env.Languages, l) {
		n.Writing = l
		return Outcome{Goto: StepBcText}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
}

func (f Broadcast) loadPreview(ctx context.Context, s *State, _ int64, _ *Env) []Effect {
	// Counted again: people come and go while staff write.
	if n := draft(s); n.Filter.Kind != "" {
		if c, err := f.Audience.Count(ctx, n.Filter, s.Seen); err == nil {
			n.Count = c
		}
	}
	return nil
}

// BroadcastReply is the message a recipient in lang gets: a template, or
// staff's text in lang, else in the default language. The renderer shows
// it in lang; the preview uses the same function, so staff see exactly
// what recipients will.
func BroadcastReply(template string, texts map[string]string, lang, def string) Reply {
	r := Reply{Lang: lang}
	if template != "" {
		r.ID = "notify.tpl." + template
		if template == "window" {
			r.Buttons = [][]Button{Row(Btn("notify.btn.certify", "go:"+StepCertWho))}
		}
		return r
	}
	r.Text = texts[lang]
	if r.Text == "" {
		r.Text = texts[def]
	}
	return r
}

func (f Broadcast) showBcPreview(s *State, env *Env) []Reply {
	n := s.Notify
	if n == nil || n.Filter.Kind == "" {
		return []Reply{{ID: "bc.gone", Buttons: [][]Button{Row(Btn("btn.menu", "menu"))}}}
	}
	out := []Reply{Say("bc.preview.intro", nil)}
	for _, l := range env.Languages {
		if n.Count.ByLang[l] == 0 {
			continue
		}
		out = append(out, Say("bc.preview.lang", map[string]any{"Lang": Msg{ID: "bc.lang." + l}, "Count": n.Count.ByLang[l], "People": Thousands(n.Count.ByLang[l])}))
		out = append(out, BroadcastReply(n.Template, n.Texts, l, f.DefaultLanguage))
	}
	send := "bc.btn.send"
	if n.Count.Total > f.ConfirmOver {
		send = "bc.btn.send_confirm"
	}
	ask := countReply(n.Count, n.Filter)
	ask.ID = "bc.preview.ask"
	ask.Data["Over"] = Thousands(f.ConfirmOver)
	ask.Data["NeedConfirm"] = n.Count.Total > f.ConfirmOver
	ask.Buttons = [][]Button{Row(Btn(send, "send")), Row(Btn("bc.btn.change", "message")), Row(Btn("bc.btn.cancel", "cancel"))}
	return append(out, ask)
}

func (f Broadcast) handlePreview(_ context.Context, s *State, in Input, env *Env) Outcome {
	n := draft(s)
	switch in.Action {
	case "cancel":
		return cancelBroadcast(s)
	case "message":
		return Outcome{Goto: StepBcMessage}
	case "send":
	default:
		return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
	}
	if n.Filter.Kind == "" || n.Template == "" && n.Texts[f.DefaultLanguage] == "" {
		return Outcome{Goto: StepBcAudience}
	}
	d := BroadcastDraft{
		// The same press delivered twice makes the same broadcast.
		ID: fmt.Sprintf("%d-%d", in.User, in.ID), By: in.User, Filter: n.Filter, Template: n.Template,
		Texts: n.Texts, Confirm: n.Count.Total > f.ConfirmOver, Count: n.Count.Total, Created: in.Now,
	}
	s.Notify = nil
	o := Outcome{Goto: StepMenu, Effects: []Effect{NewEffect(EffectBroadcastCreate, in.User, d)}}
	if !d.Confirm {
		o.Say = []Reply{Say("bc.started", map[string]any{"Count": d.Count, "Total": Thousands(d.Count)})}
		return o
	}
	o.Say = []Reply{Say("bc.awaiting", map[string]any{"Count": d.Count, "Total": Thousands(d.Count)})}
	for _, id := range env.StaffIDs {
		if id != in.User {
			o.Tell = append(o.Tell, Notice{User: id, Reply: &Reply{ID: "bc.confirm_needed",
				Data: map[string]any{"Count": d.Count, "Total": Thousands(d.Count), "Audience": AudienceMsg(d.Filter)}}})
		}
	}
	return o
}

func (f Broadcast) loadList(ctx context.Context, s *State, _ int64, _ *Env) []Effect {
	n := draft(s)
	n.List = nil
	if l, err := f.Broadcasts.List(ctx, 8); err == nil {
		n.List = l
	}
	return nil
}

func showBcList(s *State, _ *Env) []Reply {
	if s.Notify == nil || len(s.Notify.List) == 0 {
		return []Reply{{ID: "bc.list.none", Buttons: [][]Button{Row(Btn("btn.menu", "menu"))}}}
	}
	out := []Reply{Say("bc.list.intro", map[string]any{"Count": len(s.Notify.List)})}
	for _, b := range s.Notify.List {
		r := Reply{ID: "bc.list.item", Data: map[string]any{
			"ID": b.ID, "Date": Date(b.Created), "By": b.By, "ConfirmedBy": b.ConfirmedBy,
			"Audience": AudienceMsg(b.Filter), "Message": messageMsg(b.Template), "Status": Msg{ID: "bc.status." + b.Status},
			"Sent": Thousands(b.Sent), "Total": Thousands(b.Total), "Failed": Thousands(b.Failed),
		}}
		if b.Status == BroadcastAwaiting {
			r.Buttons = [][]Button{Row(Btn("bc.btn.confirm", "bc.confirm:"+b.ID))}
		}
		out = append(out, r)
	}
	out[len(out)-1].Buttons = append(out[len(out)-1].Buttons, Row(Btn("btn.menu", "menu")))
	return out
}

func messageMsg(template string) Msg {
	if template == "" {
		return Msg{ID: "bc.own_text"}
	}
	return Msg{ID: "bc.tpl.btn." + template}
}

func (f Broadcast) handleList(ctx context.Context, s *State, in Input, _ *Env) Outcome {
	id, ok := strings.CutPrefix(in.Action, "bc.confirm:")
	if !ok {
		return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
	}
	// Checked now, at the press: the broadcast may have been confirmed
	// or cancelled meanwhile, and its author may not confirm it.
	b, err := f.Broadcasts.Get(ctx, id)
	switch {
	case err != nil || b == nil:
		return Outcome{Say: []Reply{Say("bc.gone", nil)}, Goto: StepBcList}
	case b.By == in.User:
		return Outcome{Say: []Reply{Say("bc.confirm.own", nil)}, Goto: StepBcList}
	case b.Status != BroadcastAwaiting:
		return Outcome{Say: []Reply{Say("bc.confirm.not_waiting", map[string]any{"Status": Msg{ID: "bc.status." + b.Status}})}, Goto: StepBcList}
	}
	return Outcome{Say: []Reply{Say("bc.confirmed", map[string]any{"Count": b.Total, "Total": Thousands(b.Total)})}, Goto: StepMenu,
		Effects: []Effect{NewEffect(EffectBroadcastConfirm, in.User, BroadcastControl{ID: id, By: in.User})}}
}

// handleBcControl takes the buttons under a progress message. Staff rights
// are checked by the engine at the press (StaffOnly).
func handleBcControl(_ context.Context, _ *State, in Input, _ *Env) Outcome {
	for _, a := range []string{"pause", "resume", "cancel"} {
		if id, ok := strings.CutPrefix(in.Action, "bc."+a+":"); ok && id != "" {
			return Outcome{Say: []Reply{Say("bc.control."+a, nil)},
				Effects: []Effect{NewEffect(EffectBroadcastControl, in.User, BroadcastControl{ID: id, By: in.User, Action: a})}}
		}
	}
	return Outcome{Say: []Reply{Say("button.unknown", nil)}}
}
