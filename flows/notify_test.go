package flows_test

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"
	"time"

	"pensionbot/flows"
	"pensionbot/locales"
)

// memAudience counts a fixed audience.
type memAudience struct{ count flows.AudienceCount }

func (m memAudience) Count(_ context.Context, f flows.AudienceFilter, _ time.Time) (flows.AudienceCount, error) {
	if f.Kind != flows.AudienceLang {
		return m.count, nil
	}
	// One language: only its readers.
	n := m.count.ByLang[f.Lang]
	return flows.AudienceCount{Total: n, ByLang: map[string]int{f.Lang: n}}, nil
}
func (m memAudience) Districts(context.Context, int) ([]string, error) {
	return []string{"海淀区"}, nil
}

type memBroadcasts map[string]flows.BroadcastInfo

func (m memBroadcasts) List(context.Context, int) ([]flows.BroadcastInfo, error) {
	var out []flows.BroadcastInfo
	for _, b := range m {
		out = append(out, b)
	}
	return out, nil
}

func (m memBroadcasts) Get(_ context.Context, id string) (*flows.BroadcastInfo, error) {
	if b, ok := m[id]; ok {
		return &b, nil
	}
	return nil, nil
}

type memSettings struct {
	mu sync.Mutex
	on map[int64]bool
}

func (m *memSettings) NoticesOn(_ context.Context, user int64) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	on, ok := m.on[user]
	return on || !ok, nil
}

// set is the registry's handler of EffectNotices.
func (m *memSettings) set(_ context.Context, fx flows.Effect, _ *flows.Env) error {
	var d flows.NoticesSetting
	if err := json.Unmarshal(fx.Data, &d); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.on == nil {
		m.on = map[int64]bool{}
	}
	m.on[fx.User] = d.On
	return nil
}

type notifyFixture struct {
	t     *testing.T
	e     *flows.Engine
	staff map[int64]bool
	now   time.Time
}

func newNotifyFixture(t *testing.T, bcs memBroadcasts) *notifyFixture {
	f := &notifyFixture{t: t, staff: map[int64]bool{7: true, 8: true}, now: time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)}
	aud := memAudience{count: flows.AudienceCount{Total: 1500, ByLang: map[string]int{"zh-Hans": 1000, "en": 500}, Excluded: 12}}
	var err error
	f.e, err = flows.New(flows.Env{
		Languages: locales.Supported, IsStaff: func(u int64) bool { return f.staff[u] }, StaffIDs: []int64{7, 8},
	}, flows.Reminders{Settings: &memSettings{}}, flows.Broadcast{Audience: aud, Broadcasts: bcs, DefaultLanguage: "zh-Hans", ConfirmOver: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// do applies one input; buttons are pressed at the state's turn.
func (f *notifyFixture) do(s *flows.State, user int64, in flows.Input) flows.Result {
	f.t.Helper()
	in.User, in.Now, in.ID = user, f.now, in.ID+1
	if in.Kind == flows.KindButton && in.Turn == 0 {
		in.Turn = s.Turn
	}
	res := f.e.Handle(context.Background(), *s, in)
	*s = res.State
	return res
}

func command(c string) flows.Input { return flows.Input{Kind: flows.KindCommand, Command: c} }
func effectsOf(r flows.Result) []string {
	var out []string
	for _, e := range r.Effects {
		out = append(out, e.Kind)
	}
	return out
}

func TestBroadcastNeedsASecondStaffMember(t *testing.T) {
	f := newNotifyFixture(t, memBroadcasts{})
	s := flows.State{Version: flows.SchemaVersion, Lang: "en", Step: flows.StepMenu, Turn: 1, Seen: f.now}
	f.do(&s, 7, command("broadcast"))
	res := f.do(&s, 7, press("aud:all"))
	if res.Replies[0].ID != "bc.count" || res.Replies[0].Data["Total"] != "1,500" || s.Step != flows.StepBcMessage {
		t.Fatalf("the count does not come first: %+v", res.Replies)
	}
	res = f.do(&s, 7, press("tpl:scam"))
	// A preview per language of the audience, exactly the recipients' reply.
	var langs []string
	for _, r := range res.Replies {
		if r.ID == "notify.tpl.scam" {
			langs = append(langs, r.Lang)
			if want := flows.BroadcastReply("scam", nil, r.Lang, "zh-Hans"); r.ID != want.ID || r.Lang != want.Lang {
				t.Errorf("preview %+v is not what recipients get (%+v)", r, want)
			}
		}
	}
	if len(langs) != 2 || langs[0] != "zh-Hans" || langs[1] != "en" {
		t.Fatalf("preview languages %v", langs)
	}
	res = f.do(&s, 7, press("send"))
	if len(res.Effects) != 1 || res.Effects[0].Kind != flows.EffectBroadcastCreate {
		t.Fatalf("effects %v", effectsOf(res))
	}
	var d flows.BroadcastDraft
	if err := json.Unmarshal(res.Effects[0].Data, &d); err != nil || !d.Confirm || d.By != 7 || d.Template != "scam" {
		t.Fatalf("draft %+v %v", d, err)
	}
	if len(res.Tell) != 1 || res.Tell[0].User != 8 || res.Tell[0].Reply.ID != "bc.confirm_needed" {
		t.Fatalf("the other staff member is not asked: %+v", res.Tell)
	}
	if s.Notify != nil {
		t.Fatalf("draft left in the state: %+v", s.Notify)
	}
}

func TestConfirmIsCheckedAtThePress(t *testing.T) {
	bcs := memBroadcasts{"7-1": {ID: "7-1", By: 7, Status: flows.BroadcastAwaiting, Total: 1500}}
	f := newNotifyFixture(t, bcs)
	for _, tc := range []struct {
		user    int64
		want    string
		effects int
	}{{7, "bc.confirm.own", 0}, {8, "bc.confirmed", 1}} {
		s := flows.State{Version: flows.SchemaVersion, Lang: "en", Step: flows.StepMenu, Turn: 1, Seen: f.now}
		f.do(&s, tc.user, command("broadcasts"))
		res := f.do(&s, tc.user, press("bc.confirm:7-1"))
		if res.Replies[0].ID != tc.want || len(res.Effects) != tc.effects {
			t.Errorf("confirm by %d: %s, effects %v", tc.user, res.Replies[0].ID, effectsOf(res))
		}
	}
	// Removed from the staff before pressing: refused.
	s := flows.State{Version: flows.SchemaVersion, Lang: "en", Step: flows.StepMenu, Turn: 1, Seen: f.now}
	f.do(&s, 8, command("broadcasts"))
	f.staff[8] = false
	if res := f.do(&s, 8, press("bc.confirm:7-1")); res.Replies[0].ID != "staff.not_allowed" || len(res.Effects) != 0 {
		t.Errorf("former staff confirmed: %s %v", res.Replies[0].ID, effectsOf(res))
	}
}

// The buttons under a progress message work from any step, for staff only.
func TestProgressButtonsFromAnywhere(t *testing.T) {
	f := newNotifyFixture(t, memBroadcasts{})
	s := flows.State{Version: flows.SchemaVersion, Lang: "en", Step: flows.StepReminders, Turn: 4, Seen: f.now}
	res := f.do(&s, 7, flows.Input{Kind: flows.KindButton, Action: "bc.pause:7-1", Turn: flows.AnyTurn})
	if res.Replies[0].ID != "bc.control.pause" || len(res.Effects) != 1 || s.Step != flows.StepReminders {
		t.Fatalf("pause: %+v %v, step %s", res.Replies, effectsOf(res), s.Step)
	}
	res = f.do(&s, 99, flows.Input{Kind: flows.KindButton, Action: "bc.cancel:7-1", Turn: flows.AnyTurn})
	if res.Replies[0].ID != "staff.not_allowed" || len(res.Effects) != 0 {
		t.Fatalf("a stranger cancelled a broadcast: %+v %v", res.Replies, effectsOf(res))
	}
	// "Certify now" under a reminder, for someone whose state expired:
	// the language first, then the certification.
	fresh := flows.State{}
	f.do(&fresh, 55, flows.Input{Kind: flows.KindButton, Action: "go:" + flows.StepCertConsent, Turn: flows.AnyTurn})
	if fresh.Step != flows.StepLanguage {
		t.Fatalf("fresh person at %s", fresh.Step)
	}
}

func TestRemindersAndTheRegistry(t *testing.T) {
	f := newNotifyFixture(t, memBroadcasts{})
	s := flows.State{}
	// Someone new: the registry learns of them once.
	if res := f.do(&s, 5, command("start")); !slices.Equal(effectsOf(res), []string{flows.EffectTouch}) {
		t.Fatalf("first contact: %v", effectsOf(res))
	}
	if res := f.do(&s, 5, press("lang:es")); !slices.Equal(effectsOf(res), []string{flows.EffectTouch}) {
		t.Fatalf("language chosen: %v", effectsOf(res))
	}
	if res := f.do(&s, 5, command("help")); len(res.Effects) != 0 {
		t.Fatalf("the same day again: %v", effectsOf(res))
	}
	f.do(&s, 5, command("reminders"))
	res := f.do(&s, 5, press("off"))
	var n flows.NoticesSetting
	if len(res.Effects) != 1 || json.Unmarshal(res.Effects[0].Data, &n) != nil || n.On {
		t.Fatalf("turning reminders off: %v", effectsOf(res))
	}
	f.now = f.now.Add(25 * time.Hour)
	if res := f.do(&s, 5, command("menu")); !slices.Equal(effectsOf(res), []string{flows.EffectTouch}) {
		t.Fatalf("next day: %v", effectsOf(res))
	}
	f.do(&s, 5, command("forget"))
	if res := f.do(&s, 5, press("yes")); !slices.Equal(effectsOf(res), []string{flows.EffectForget}) {
		t.Fatalf("forget: %v", effectsOf(res))
	}
}

// Staff's own text: written in the default language first, then others;
// a language staff did not write gets the default language's text.
func TestOwnTextPerLanguage(t *testing.T) {
	f := newNotifyFixture(t, memBroadcasts{})
	s := flows.State{Version: flows.SchemaVersion, Lang: "en", Step: flows.StepMenu, Turn: 1, Seen: f.now}
	f.do(&s, 7, command("broadcast"))
	f.do(&s, 7, press("aud:all"))
	if res := f.do(&s, 7, press("own")); s.Step != flows.StepBcText || res.Replies[0].Data["Lang"].(flows.Msg).ID != "bc.lang.zh-Hans" {
		t.Fatalf("own text starts with %+v at %s", res.Replies, s.Step)
	}
	f.do(&s, 7, flows.Input{Kind: flows.KindText, Text: "养老金认证已开始。"})
	f.do(&s, 7, press("lang:en"))
	res := f.do(&s, 7, flows.Input{Kind: flows.KindText, Text: "Certification is open."})
	if s.Step != flows.StepBcMore {
		t.Fatalf("after the English text at %s: %+v", s.Step, res.Replies)
	}
	res = f.do(&s, 7, press("preview"))
	texts := map[string]string{}
	for _, r := range res.Replies {
		if r.ID == "" {
			texts[r.Lang] = r.Text
		}
	}
	if texts["zh-Hans"] != "养老金认证已开始。" || texts["en"] != "Certification is open." {
		t.Fatalf("previews %v", texts)
	}
	if r := flows.BroadcastReply("", map[string]string{"zh-Hans": "中文"}, "es", "zh-Hans"); r.Text != "中文" || r.Lang != "es" {
		t.Fatalf("fallback: %+v", r)
	}
}
