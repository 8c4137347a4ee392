package flows

import (
	"context"
	"encoding/json"
	"strings"
)

// Effect is a feature's own change to the outside world, as data: it is
// committed with the state that led to it and carried out afterwards by the
// bot's dispatcher, through the handler registered for its Kind (such as
// "audience.notices"). A step never makes the change itself, so a change
// happens only if the state that asked for it was stored, and the handler
// must be idempotent: an effect may be carried out again after a crash.
type Effect struct {
	Kind string          `json:"k"`
	User int64           `json:"u"`
	Data json.RawMessage `json:"d,omitempty"`
}

// NewEffect encodes v as an effect's data. Data are plain values (strings,
// numbers, structs of them), so encoding cannot fail; should it, the effect
// carries no data and its handler refuses it.
func NewEffect(kind string, user int64, v any) Effect {
	raw, err := json.Marshal(v)
	if err != nil {
		raw = nil
	}
	return Effect{Kind: kind, User: user, Data: raw}
}

// AnyTurn is the turn of buttons shown outside any step: a reminder's
// "Certify now", a broadcast's progress message. They stay valid whatever
// the person did since, and only do what a main-menu entry does or what a
// global action (AddGlobalAction) allows.
const AnyTurn = -2

// Observer looks at every handled input and may add effects: the audience
// registry learns a person's language and last visit this way, without any
// step knowing about it. It is called with the state as loaded, takes
// from it what it compares, and returns what looks at the state to be
// committed (zero when the person asked to be forgotten). Steps change
// the state in place, so an observer keeps its own copy of what it needs;
// the engine copies nothing for it.
type Observer func(before *State) func(in Input, after *State, forget bool) []Effect

// Observe registers an observer.
func (e *Engine) Observe(o Observer) { e.observers = append(e.observers, o) }

// AddGlobalAction lets a button with AnyTurn whose action starts with
// prefix be handled by step's Handle, whatever step the person is at. The
// step's StaffOnly rule is checked at the press. The outcome applies as at
// any step; without a Goto the person stays where they were.
func (e *Engine) AddGlobalAction(prefix, step string) {
	if e.global == nil {
		e.global = map[string]string{}
	}
	e.global[prefix] = step
}

// anywhere handles a press on a button shown outside any step.
func (e *Engine) anywhere(ctx context.Context, r *run, in Input) {
	if e.commonAction(r, in) {
		return
	}
	for prefix, name := range e.global {
		if !strings.HasPrefix(in.Action, prefix) {
			continue
		}
		st := e.steps[name]
		if st == nil {
			break
		}
		if st.StaffOnly && (e.env.IsStaff == nil || !e.env.IsStaff(in.User)) {
			r.note("staff action by someone who is not staff (any more); refused")
			r.say(Say("staff.not_allowed", nil))
			return
		}
		r.apply(st.Handle(ctx, &r.s, in, &e.env))
		return
	}
	r.note("button " + in.Action + " shown outside a step is unknown")
	r.say(Say("button.unknown", nil))
	r.show()
}
