package flows_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"pensionbot/answer"
	"pensionbot/flows"
	"pensionbot/locales"
)

// memFiles serves attachments from memory.
type memFiles map[string][]byte

func (m memFiles) Fetch(_ context.Context, id string, max int64) ([]byte, error) {
	if data, ok := m[id]; ok {
		return data, nil
	}
	if id == "huge:nosize" {
		// Telegram did not state the size; the download finds it too large.
		return nil, fmt.Errorf("download: %w", flows.ErrTooLarge)
	}
	// Photos in transcripts are named by what they show: "zhang:dark".
	return []byte(id), nil
}

// memTranscriber "hears" the bytes of the file as text.
type memTranscriber struct{}

func (memTranscriber) Transcribe(_ context.Context, audio []byte, _, _ string) (string, error) {
	return string(audio), nil
}

// fixture is an engine with in-memory services, for one transcript.
type fixture struct {
	engine   *flows.Engine
	photos   *memPhotos
	verifier *memVerifier
	staff    map[int64]bool
}

func newFixture(t *testing.T) *fixture { return newFixtureWith(t, nil) }

// newFixtureWith is newFixture with a change to the environment.
func newFixtureWith(t *testing.T, change func(*flows.Env)) *fixture {
	t.Helper()
	cat, err := locales.NewCatalog(locales.Default)
	if err != nil {
		t.Fatal(err)
	}
	faq, err := answer.NewFAQ(cat.Bundle(), locales.Supported)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{photos: newMemPhotos(), verifier: &memVerifier{}, staff: map[int64]bool{}}
	env := flows.Env{
		Languages:   locales.Supported,
		Answerer:    faq,
		TopicAction: answer.MenuAction,
		Files:       memFiles{"v1": []byte("what should I bring to pay my premiums at the window?")},
		Transcriber: memTranscriber{},
		IsStaff:     func(u int64) bool { return f.staff[u] },
		StaffIDs:    []int64{7},
		// Dates are shown in the server's zone: late evening UTC is the
		// next day in Shanghai.
		Location: time.FixedZone("CST", 8*3600),
		CertServices: flows.CertServices{
			Photos:       f.photos,
			Records:      f.photos,
			Images:       memImages{},
			Cards:        memCards{},
			Verifier:     f.verifier,
			GreenAge:     80,
			Random:       func(n int) int { return 4821 % n },
			OpenCases:    &memOpen{cases: map[string]string{}},
			DeletePhotos: true,
		},
		FamilyServices: flows.FamilyServices{
			FamilyMax: 8,
			Links:     &memLinks{invites: map[string]int64{}, links: map[[2]int64]flows.Link{}},
			BotName:   func() string { return "pension_test_bot" },
		},
		StaffServices: flows.StaffServices{
			Desk: &memDesk{v: f.verifier, claimed: map[string]int64{}, decided: map[string]bool{}, viewers: map[string][]int64{}},
		},
	}
	if change != nil {
		change(&env)
	}
	// The features the program registers, reminders and broadcasts with
	// an audience of 1,500 people.
	aud := memAudience{count: flows.AudienceCount{Total: 1500, ByLang: map[string]int{"zh-Hans": 1000, "en": 300, "es": 200}, Excluded: 12}}
	settings := &memSettings{}
	f.engine, err = flows.New(env, flows.Certify{}, flows.Family{}, flows.Guide{}, flows.Staff{}, flows.Reminders{Settings: settings},
		flows.Broadcast{Audience: aud, Broadcasts: memBroadcasts{}, DefaultLanguage: "zh-Hans", ConfirmOver: 1000})
	// The program's registry carries /reminders' setting out; here an
	// in-memory one does, through the engine.
	f.engine.OnEffect(flows.EffectNotices, settings.set)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func newEngine(t *testing.T) *flows.Engine { return newFixture(t).engine }

func TestUnknownStepReturnsToMenu(t *testing.T) {
	e := newEngine(t)
	res := e.Handle(context.Background(), flows.State{Version: flows.SchemaVersion, Lang: "en", Step: "gone.step"}, flows.Input{Kind: flows.KindText, Text: "hi"})
	if res.State.Step != flows.StepMenu || res.Replies[0].ID != "error.step_gone" || len(res.Notes) == 0 {
		t.Fatalf("%+v", res)
	}
}

func TestNewerSchemaStartsOver(t *testing.T) {
	e := newEngine(t)
	res := e.Handle(context.Background(), flows.State{Version: flows.SchemaVersion + 1, Lang: "es", Step: "menu"}, flows.Input{Kind: flows.KindText, Text: "hola"})
	if res.State.Step != flows.StepMenu || res.State.Lang != "es" || res.Replies[0].ID != "error.state_reset" {
		t.Fatalf("%+v", res)
	}
}

// Every kind of input at every step leaves a consistent state and an
// answer: the step is still registered and something was said.
func TestEveryInputAtEveryStep(t *testing.T) {
	e := newEngine(t)
	kinds := []flows.Input{
		{Kind: flows.KindText, Text: "hello"}, {Kind: flows.KindText, Text: ""},
		{Kind: flows.KindPhoto, File: &flows.File{ID: "p"}}, {Kind: flows.KindDocument, File: &flows.File{ID: "d"}},
		{Kind: flows.KindVoice, File: &flows.File{ID: "v1"}}, {Kind: flows.KindVideoNote}, {Kind: flows.KindVideo},
		{Kind: flows.KindSticker}, {Kind: flows.KindLocation}, {Kind: flows.KindContact, Contact: &flows.Contact{Phone: "1"}},
		{Kind: flows.KindEdited}, {Kind: flows.KindOther}, {Kind: flows.KindButton, Action: "nonsense"},
		{Kind: flows.KindButton, Action: "go:nowhere"}, {Kind: flows.KindButton, Action: "lang:xx"},
		{Kind: flows.KindCommand, Command: "nosuch"}, {Kind: flows.KindButton, Action: "menu", Turn: -5},
	}
	for _, step := range []string{"", flows.StepMenu, flows.StepLanguage, flows.StepForget, flows.StepResume} {
		for _, in := range kinds {
			s := flows.State{Version: flows.SchemaVersion, Lang: "en", Step: step, Turn: 3, Back: flows.StepMenu}
			if in.Kind == flows.KindButton && in.Turn == 0 {
				in.Turn = 3
			}
			res := e.Handle(context.Background(), s, in)
			if _, ok := e.Step(res.State.Step); !ok {
				t.Errorf("step %q, input %v: left in unknown step %q", step, in.Kind, res.State.Step)
			}
			if len(res.Replies) == 0 {
				t.Errorf("step %q, input %v %q: no reply", step, in.Kind, in.Action)
			}
		}
	}
}

// /forget in the middle of a certification deletes the photos too, and
// /cancel before submitting does as well.
func TestForgetAndCancelDeletePhotos(t *testing.T) {
	for _, how := range []string{"forget", "cancel"} {
		f := newFixture(t)
		s := flows.State{Version: flows.SchemaVersion, Lang: "en", Step: flows.StepMenu, Turn: 1}
		step := func(in flows.Input) {
			in.User, in.Now = 1001, time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
			if in.Kind == flows.KindButton {
				in.Turn = s.Turn
			}
			s = f.handle(t, s, in).State
		}
		step(flows.Input{Kind: flows.KindCommand, Command: "certify"})
		step(flows.Input{Kind: flows.KindButton, Action: "agree"})
		step(flows.Input{Kind: flows.KindPhoto, File: &flows.File{ID: "zhang:ok"}})
		if f.photos.count() != 1 || s.Step != flows.StepCertConfirm {
			t.Fatalf("card photo not stored: %d photos, step %s", f.photos.count(), s.Step)
		}
		if how == "forget" {
			step(flows.Input{Kind: flows.KindCommand, Command: "forget"})
			step(flows.Input{Kind: flows.KindButton, Action: "yes"})
		} else {
			step(flows.Input{Kind: flows.KindCommand, Command: "cancel"})
		}
		if n := f.photos.count(); n != 0 || s.Me.Cert != nil {
			t.Errorf("/%s left %d photos and cert %+v", how, n, s.Me.Cert)
		}
	}
}
