package flows_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"pensionbot/flows"
)

// A state stored by the program before family help (schema 1: one
// certification at the top of the state) becomes the account holder's,
// without loss: the case waiting for a decision, the rejections.
func TestMigrateStateOfVersion1(t *testing.T) {
	f := newFixture(t)
	stored := `{"v":1,"lang":"en","step":"menu","turn":4,"seen":"2026-11-20T09:00:00Z",` +
		`"cert":{"channel":"green","have_card":true,"have_face":true,"case":"1001-9",` +
		`"masked":"110105********002X","submitted":"2026-11-20T09:00:00Z"},"rejections":2}`
	var st flows.State
	if err := json.Unmarshal([]byte(stored), &st); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 11, 21, 9, 0, 0, 0, time.UTC)
	res := f.handle(t, st, flows.Input{Kind: flows.KindCommand, Command: "status", User: 1001, Now: now})
	if res.State.Version != flows.SchemaVersion || res.State.Me.Cert == nil || res.State.Me.Cert.CaseID != "1001-9" || res.State.Me.Rejections != 2 {
		t.Fatalf("not migrated into Me: %+v", res.State)
	}
	if res.Replies[0].ID != "status.pending" {
		t.Fatalf("status after migration: %+v", res.Replies)
	}
	raw, _ := json.Marshal(res.State)
	if strings.Contains(string(raw), `"cert":{"channel"`) && !strings.Contains(string(raw), `"me":{`) {
		t.Fatalf("stored form still of version 1: %s", raw)
	}
	// The decision for the old case reaches the holder.
	res = f.handle(t, res.State, flows.Input{Kind: flows.KindDecision, User: 1001, Now: now,
		Decision: &flows.Decision{CaseID: "1001-9", Outcome: flows.OutcomeApproved, By: "staff", DecidedAt: now}})
	if len(res.Replies) == 0 || res.Replies[0].ID != "cert.approved" || res.State.Me.Rejections != 0 {
		t.Fatalf("decision after migration: %+v", res.Replies)
	}
	if rec, _ := f.photos.Record(context.Background(), 1001, flows.Me); rec == nil || rec.MaskedNumber != "110105********002X" {
		t.Fatalf("record: %+v", rec)
	}
	// A state of a newer version is not guessed at.
	if f.engine.Migrate(&flows.State{Version: flows.SchemaVersion + 1, Step: "menu"}) {
		t.Fatal("a newer state was accepted")
	}
}

// run feeds inputs to one person and returns the final state.
func run(t *testing.T, f *fixture, st flows.State, user int64, inputs ...flows.Input) flows.State {
	t.Helper()
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	for i, in := range inputs {
		in.User, in.ID, in.Now = user, int64(100+i), now
		if in.Kind == flows.KindButton {
			in.Turn = st.Turn
		}
		st = f.handle(t, st, in).State
	}
	return st
}

func press(a string) flows.Input { return flows.Input{Kind: flows.KindButton, Action: a} }
func photo(id string) flows.Input {
	return flows.Input{Kind: flows.KindPhoto, File: &flows.File{ID: id, MIME: "image/jpeg"}}
}

// /forget deletes everything of everyone on the account: open cases are
// withdrawn, photos and records deleted.
func TestForgetRemovesAllPeople(t *testing.T) {
	f := newFixture(t)
	st := run(t, f, flows.State{}, 1001,
		flows.Input{Kind: flows.KindCommand, Command: "start"}, press("lang:en"),
		flows.Input{Kind: flows.KindCommand, Command: "certify"}, press("who:add"), press("rel:parent"), press("label:mother"), press("agree"),
		photo("zhang:ok"), press("correct"), flows.Input{Kind: flows.KindText, Text: "13812345678"}, press("card"), press("general"), press("agree"),
		photo("face:ok"), photo("live:ok"), press("submit"),
	)
	if len(st.Family) != 1 || st.Family[0].Cert == nil || st.Family[0].Cert.CaseID == "" || st.Family[0].Consent.IsZero() || st.Family[0].FaceConsent.IsZero() {
		t.Fatalf("relative not submitted with consents: %+v", st.Family)
	}
	f.photos.SaveRecord(context.Background(), 1001, "r1", flows.Record{Channel: "general"})
	f.photos.SaveRecord(context.Background(), 1001, flows.Me, flows.Record{Channel: "green"})
	// A second relative, half-way.
	st = run(t, f, st, 1001, flows.Input{Kind: flows.KindCommand, Command: "certify"}, press("who:add"), press("rel:spouse"), press("label:husband"), press("agree"), photo("li:ok"))
	if f.photos.count() == 0 || len(f.verifier.cases) != 1 {
		t.Fatalf("setup: %d photos, %d cases", f.photos.count(), len(f.verifier.cases))
	}
	st = run(t, f, st, 1001, flows.Input{Kind: flows.KindCommand, Command: "forget"})
	res := f.handle(t, st, flows.Input{Kind: flows.KindButton, Action: "yes", User: 1001, Turn: st.Turn})
	if !res.Forget || len(res.State.Family) != 0 {
		t.Fatalf("not forgotten: %+v", res)
	}
	if n := f.photos.count(); n != 0 {
		t.Errorf("%d photos left", n)
	}
	// The cases themselves are erased after the commit, by the bot's erase
	// effect (see cmd/pensionbot TestForgetErasesTheCaseEverywhere): a step
	// changes nothing outside that a failed commit could not undo.
	// The holder's record goes with the store's Forget; relatives' here.
	if r, _ := f.photos.Record(context.Background(), 1001, "r1"); r != nil {
		t.Errorf("relative's record left: %+v", r)
	}
}

// An account holds at most FAMILY_MAX relatives.
func TestFamilyMax(t *testing.T) {
	f := newFixture(t)
	st := run(t, f, flows.State{}, 1001, flows.Input{Kind: flows.KindCommand, Command: "start"}, press("lang:en"))
	for range 8 {
		st = run(t, f, st, 1001, flows.Input{Kind: flows.KindCommand, Command: "family"}, press("add"), press("rel:other"),
			flows.Input{Kind: flows.KindText, Text: "Aunt"}, press("agree"), flows.Input{Kind: flows.KindCommand, Command: "cancel"})
	}
	if len(st.Family) != 8 {
		t.Fatalf("%d relatives", len(st.Family))
	}
	st = run(t, f, st, 1001, flows.Input{Kind: flows.KindCommand, Command: "family"})
	res := f.handle(t, st, flows.Input{Kind: flows.KindButton, Action: "add", User: 1001, Turn: st.Turn})
	if res.Replies[0].ID != "family.full" || len(res.State.Family) != 8 {
		t.Fatalf("a ninth relative: %+v", res.Replies[0])
	}
}

// "I will remove it from this chat" is said only when deleting photo
// messages is configured (DELETE_PHOTO_MESSAGES); and a card forwarded
// from another chat is passed to staff as such.
func TestPhotoThanksAndForwardedCard(t *testing.T) {
	for _, del := range []bool{true, false} {
		f := newFixtureWith(t, func(env *flows.Env) { env.DeletePhotos = del })
		st := run(t, f, flows.State{}, 1001, flows.Input{Kind: flows.KindCommand, Command: "start"}, press("lang:en"),
			flows.Input{Kind: flows.KindCommand, Command: "certify"}, press("agree"))
		fwd := photo("zhang:ok")
		fwd.Forwarded = true
		st = run(t, f, st, 1001, fwd, press("correct"), flows.Input{Kind: flows.KindText, Text: "13812345678"}, press("card"),
			press("disabled"), press("agree"))
		res := f.handle(t, st, flows.Input{Kind: flows.KindPhoto, File: &flows.File{ID: "face:ok"}, User: 1001, Now: st.Seen})
		thanks := res.Replies[0]
		if thanks.ID != "cert.face.thanks" || (thanks.Data["Delete"] == true) != del {
			t.Fatalf("DeletePhotos=%v: %+v", del, thanks)
		}
		st = run(t, f, res.State, 1001, press("submit"))
		if len(f.verifier.cases) != 1 || !f.verifier.cases[0].CardForwarded {
			t.Fatalf("forwarded card not passed to staff: %+v", f.verifier.cases)
		}
	}
}

// A helper sees a linked pensioner's record only while the pensioner keeps
// the link: /status checks the link each time it reads (loadLinks).
func TestLinkedStatusCheckedWhenRead(t *testing.T) {
	links := &memLinks{invites: map[string]int64{}, links: map[[2]int64]flows.Link{}}
	f := newFixtureWith(t, func(env *flows.Env) { env.Links = links })
	const pensioner, helper = 2001, 2002
	links.links[[2]int64{pensioner, helper}] = flows.Link{User: helper}
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	f.photos.SaveRecord(context.Background(), pensioner, flows.Me, flows.Record{CertifiedOn: now.AddDate(0, -1, 0), ValidUntil: now.AddDate(0, 11, 0)})
	st := flows.State{Version: flows.SchemaVersion, Lang: "en", Step: flows.StepMenu, Turn: 1, Seen: now,
		CertPart: flows.CertPart{Family: []*flows.Person{{ID: "r1", Label: "Mum", Relation: flows.RelParent, Linked: pensioner}}}}
	status := func() string {
		res := f.handle(t, st, flows.Input{Kind: flows.KindCommand, Command: "status", User: helper, Now: now})
		return fmt.Sprint(res.Replies)
	}
	if s := status(); !strings.Contains(s, "certified") {
		t.Fatalf("linked pensioner's record not shown: %s", s)
	}
	links.Unlink(context.Background(), pensioner, helper)
	if s := status(); strings.Contains(s, "status.line.certified") {
		t.Fatalf("record shown after the pensioner unlinked: %s", s)
	}
}

// A step asks for its changes outside and makes none itself: a decision
// whose commit failed would leave photos and records as they were. The
// dispatcher carries the changes out after the commit.
func TestChangesWaitForTheCommit(t *testing.T) {
	f := newFixture(t)
	st := run(t, f, flows.State{}, 1001,
		flows.Input{Kind: flows.KindCommand, Command: "start"}, press("lang:en"),
		flows.Input{Kind: flows.KindCommand, Command: "certify"}, press("agree"),
		photo("zhang:ok"), press("correct"), flows.Input{Kind: flows.KindText, Text: "13812345678"}, press("card"), press("general"), press("agree"),
		photo("face:ok"), photo("live:ok"), press("submit"),
	)
	if st.Me.Cert == nil || st.Me.Cert.CaseID == "" {
		t.Fatalf("not submitted: %+v", st.Me)
	}
	photos := f.photos.count()
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	res := f.engine.Handle(context.Background(), st, flows.Input{Kind: flows.KindDecision, User: 1001, Now: now,
		Decision: &flows.Decision{CaseID: st.Me.Cert.CaseID, Outcome: flows.OutcomeApproved, By: "staff", DecidedAt: now}})
	if len(res.Replies) == 0 || res.Replies[0].ID != "cert.approved" {
		t.Fatalf("decision not applied: %+v", res.Replies)
	}
	if rec, _ := f.photos.Record(context.Background(), 1001, flows.Me); rec != nil || f.photos.count() != photos || photos == 0 {
		t.Fatalf("the step changed the world itself: record %+v, %d of %d photos", rec, f.photos.count(), photos)
	}
	var kinds []string
	for _, fx := range res.Effects {
		kinds = append(kinds, fx.Kind)
	}
	if !slices.Contains(kinds, flows.EffectRecordSave) || !slices.Contains(kinds, flows.EffectPhotosDelete) {
		t.Fatalf("changes asked for: %v", kinds)
	}
	perform(t, f.engine, res)
	if rec, _ := f.photos.Record(context.Background(), 1001, flows.Me); rec == nil || !rec.CertifiedOn.Equal(now) || f.photos.count() != 0 {
		t.Fatalf("after the dispatcher: record %+v, %d photos", rec, f.photos.count())
	}
	// Carried out again (delivery after a crash), nothing changes.
	perform(t, f.engine, res)
	if rec, _ := f.photos.Record(context.Background(), 1001, flows.Me); rec == nil || f.photos.count() != 0 {
		t.Fatal("a repeated change did harm")
	}
}

// Asked whether to delete everything, a helper with relatives is told that
// their data goes too; someone alone is not.
func TestForgetAskNamesRelatives(t *testing.T) {
	f := newFixture(t)
	now := time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC)
	ask := func(st flows.State) flows.Reply {
		t.Helper()
		res := f.handle(t, st, flows.Input{Kind: flows.KindCommand, Command: "forget", User: 3001, Now: now})
		if len(res.Replies) == 0 || res.Replies[len(res.Replies)-1].ID != "forget.ask" {
			t.Fatalf("/forget: %+v", res.Replies)
		}
		return res.Replies[len(res.Replies)-1]
	}
	st := flows.State{Version: flows.SchemaVersion, Lang: "en", Step: flows.StepMenu, Turn: 1, Seen: now}
	if r := ask(st); r.Data["Family"] != nil {
		t.Errorf("alone: %+v", r.Data)
	}
	st.Family = []*flows.Person{{ID: "r1", Label: "Mum", Relation: flows.RelParent}}
	if r := ask(st); r.Data["Family"] != true {
		t.Errorf("with a relative: %+v", r.Data)
	}
}
