package flows

import (
	"context"
	"time"
)

// Reminders and notices: the audience registry (who may be reached, in
// which language, with which certifications due) is kept outside the state,
// which expires after IDLE_DAYS. Flows never write it: an observer turns
// what a person does into effects (their language, the day they were last
// seen, the district they gave), and /reminders turns notices off and on
// with an effect. Reminders themselves are sent by the bot's scheduler.

// Effect kinds of the audience registry; bot handles them (see bot.Bulk).
const (
	EffectTouch    = "audience.touch"    // AudienceTouch: language, last seen; reachable again
	EffectNotices  = "audience.notices"  // NoticesSetting: reminders and broadcasts on or off
	EffectDistrict = "audience.district" // DistrictGiven: the district given in a certification
	EffectForget   = "audience.forget"   // the person is removed from the registry
)

// AudienceTouch is the data of EffectTouch.
type AudienceTouch struct {
	Lang string    `json:"lang"`
	Seen time.Time `json:"seen"`
}

// NoticesSetting is the data of EffectNotices.
type NoticesSetting struct {
	On bool `json:"on"`
}

// DistrictGiven is the data of EffectDistrict.
type DistrictGiven struct {
	District string `json:"district"`
}

// NotifyPart is the notices' and broadcasts' part of a state.
type NotifyPart struct {
	// Notify is a staff member's broadcast in preparation, and what the
	// notice steps show.
	Notify *Notify `json:"notify,omitempty"`
}

// Notify is what the notice and broadcast steps keep in a state.
type Notify struct {
	// A broadcast in preparation (staff only).
	Filter   AudienceFilter    `json:"filter,omitzero"`
	Count    AudienceCount     `json:"count,omitzero"`
	Template string            `json:"tpl,omitempty"`
	Texts    map[string]string `json:"texts,omitempty"`
	Writing  string            `json:"writing,omitempty"`
	// Off is the person's notice setting and List the broadcasts, loaded
	// for a step's Show; neither is stored.
	Off   bool            `json:"-"`
	List  []BroadcastInfo `json:"-"`
	Known string          `json:"-"` // districts in the registry, as a hint

}

// NoticeSettings reads a person's notice setting (for /reminders).
type NoticeSettings interface {
	NoticesOn(ctx context.Context, user int64) (bool, error)
}

// Reminders is the feature behind /reminders and the observer that keeps
// the audience registry up to date.
type Reminders struct {
	Settings NoticeSettings
}

// StepReminders is the /reminders step.
const StepReminders = "notify.reminders"

// Register adds /reminders and the registry's observer.
func (f Reminders) Register(e *Engine) error {
	err := e.AddStep(&Step{Name: StepReminders, Title: "step.reminders", NoQuestions: true,
		Actions: []string{"on", "off"}, Load: f.load, Show: showReminders, Handle: handleReminders})
	if err != nil {
		return err
	}
	e.AddCommand("reminders", StepReminders)
	e.Observe(observeAudience)
	return nil
}

func (f Reminders) load(ctx context.Context, s *State, user int64, _ *Env) []Effect {
	if s.Notify == nil {
		s.Notify = &Notify{}
	}
	s.Notify.Off = false
	if f.Settings != nil {
		if on, err := f.Settings.NoticesOn(ctx, user); err == nil {
			s.Notify.Off = !on
		}
	}
	return nil
}

func showReminders(s *State, _ *Env) []Reply {
	if s.Notify != nil && s.Notify.Off {
		return []Reply{{ID: "notify.reminders.off", Buttons: [][]Button{
			Row(Btn("notify.btn.on", "on")), Row(Btn("btn.menu", "menu"))}}}
	}
	return []Reply{{ID: "notify.reminders.on", Buttons: [][]Button{
		Row(Btn("notify.btn.off", "off")), Row(Btn("btn.menu", "menu"))}}}
}

func handleReminders(_ context.Context, s *State, in Input, _ *Env) Outcome {
	on := in.Action == "on"
	if !on && in.Action != "off" {
		return Outcome{Say: []Reply{Say("button.unknown", nil)}, Goto: s.Step}
	}
	if s.Notify != nil && s.Notify.Filter == (AudienceFilter{}) && len(s.Notify.Texts) == 0 {
		s.Notify = nil // nothing else kept: keep the state small
	}
	msg := "notify.turned_off"
	if on {
		msg = "notify.turned_on"
	}
	return Outcome{Say: []Reply{Say(msg, nil)}, Goto: StepMenu,
		Effects: []Effect{NewEffect(EffectNotices, in.User, NoticesSetting{On: on})}}
}

// observeAudience keeps the registry in step with what people do, cheaply:
// a write when someone new (or returning after their state expired)
// writes, when the language changes, and at most once a day for the last
// visit. Decisions arriving for a person are not visits.
func observeAudience(before *State) func(in Input, after *State, forget bool) []Effect {
	fresh, lang0, seen0, district0 := before.Fresh(), before.Language(""), before.Seen, districtOf(before)
	return func(in Input, after *State, forget bool) []Effect {
		if in.User == 0 || in.Kind == KindDecision {
			return nil
		}
		if forget {
			return []Effect{{Kind: EffectForget, User: in.User}}
		}
		var out []Effect
		lang := after.Language("")
		if fresh || lang0 != lang || !sameDay(seen0, after.Seen) {
			out = append(out, NewEffect(EffectTouch, in.User, AudienceTouch{Lang: lang, Seen: after.Seen}))
		}
		if d := districtOf(after); d != "" && d != district0 {
			out = append(out, NewEffect(EffectDistrict, in.User, DistrictGiven{District: d}))
		}
		return out
	}
}

// districtOf is the district given in a certification, if one was typed
// ("as on my ID card" tells nothing the registry could use).
func districtOf(s *State) string {
	// The account holder's own district: the registry is about the person
	// who reads the messages.
	if s.Me.Cert == nil || s.Me.Cert.District == DistrictOnCard {
		return ""
	}
	return s.Me.Cert.District
}

func sameDay(a, b time.Time) bool {
	return a.UTC().Truncate(24 * time.Hour).Equal(b.UTC().Truncate(24 * time.Hour))
}
