package flows

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// Certification and family help change things outside the state: photos
// are deleted, records kept or removed, cases closed or withdrawn, links
// between accounts changed. A step asks for these as effects (the changes
// below); the bot's dispatcher carries them out after the state that asked
// for them is committed, through the handlers registered here. So a step
// that fails to commit leaves nothing changed, and every handler is
// idempotent, as delivery may repeat after a crash.
//
// A few calls still happen inside steps, because the step needs their
// answer and each is keyed so that running the step again is harmless: a
// photo kept for the next steps (PutPhoto, overwritten in place), holding
// a pensioner's ID number for one case (OpenCases.Open, the same case may
// open again), submitting to the verifier (Submit, keyed by the case ID),
// staff claiming, putting back and deciding a case (Claim; Release, which
// the next Claim must see; Decide: deciding again returns the stored
// decision), and making or using an invitation (Invite,
// Accept). A pensioner unlinking a helper is done at once too: revoking
// rights must hold even if the rest of the step is lost.

// The changes' kinds.
const (
	EffectPhotosDelete = "cert.photos.delete"  // PersonRef
	EffectRecordSave   = "cert.record.save"    // RecordSave
	EffectRecordDelete = "cert.record.delete"  // PersonRef
	EffectCaseClose    = "cert.case.close"     // CaseRef
	EffectCaseWithdraw = "cert.case.withdraw"  // CaseRef
	EffectLinksForget  = "family.links.forget" // no data
	EffectUnlink       = "family.unlink"       // LinkRef
	EffectLinkRelation = "family.relation"     // LinkRef
	EffectLinkPending  = "family.pending"      // LinkRef
)

// PersonRef names a person on an account (Me or a relative's ID).
type PersonRef struct {
	Who string `json:"who"`
}

// RecordSave keeps a certification record.
type RecordSave struct {
	Who    string `json:"who"`
	Record Record `json:"record"`
}

// CaseRef names a case, and the key holding its pensioner's ID number.
type CaseRef struct {
	CaseID string `json:"case"`
	Key    string `json:"key,omitempty"`
}

// LinkRef names a link between a pensioner's and a helper's accounts.
type LinkRef struct {
	Pensioner int64     `json:"p"`
	Helper    int64     `json:"h"`
	Relation  string    `json:"rel,omitempty"`
	Since     time.Time `json:"since,omitzero"` // EffectLinkPending: zero clears
}

// EffectHandler carries out an effect with the engine's services.
type EffectHandler func(ctx context.Context, fx Effect, env *Env) error

// OnEffect registers the handler of an effect kind.
func (e *Engine) OnEffect(kind string, h EffectHandler) {
	if e.handlers == nil {
		e.handlers = map[string]EffectHandler{}
	}
	e.handlers[kind] = h
}

// Perform carries out an effect whose handler a feature registered; ok is
// false for a kind the engine does not know (the bot's own handlers then
// take it).
func (e *Engine) Perform(ctx context.Context, fx Effect) (ok bool, err error) {
	h := e.handlers[fx.Kind]
	if h == nil {
		return false, nil
	}
	return true, h(ctx, fx, &e.env)
}

// with makes a handler of f, which takes the effect's data decoded.
func with[T any](f func(ctx context.Context, user int64, d T, env *Env) error) EffectHandler {
	return func(ctx context.Context, fx Effect, env *Env) error {
		var d T
		if len(fx.Data) > 0 {
			if err := json.Unmarshal(fx.Data, &d); err != nil {
				return fmt.Errorf("%s: %w", fx.Kind, err)
			}
		}
		return f(ctx, fx.User, d, env)
	}
}

// registerCertChanges registers the handlers of certification's changes.
func registerCertChanges(e *Engine) {
	e.OnEffect(EffectPhotosDelete, with(func(ctx context.Context, user int64, p PersonRef, env *Env) error {
		return env.Photos.DeletePhotos(ctx, user, p.Who)
	}))
	e.OnEffect(EffectRecordSave, with(func(ctx context.Context, user int64, r RecordSave, env *Env) error {
		return env.Records.SaveRecord(ctx, user, r.Who, r.Record)
	}))
	e.OnEffect(EffectRecordDelete, with(func(ctx context.Context, user int64, p PersonRef, env *Env) error {
		return env.Records.DeleteRecord(ctx, user, p.Who)
	}))
	e.OnEffect(EffectCaseClose, with(func(ctx context.Context, _ int64, c CaseRef, env *Env) error {
		if env.OpenCases == nil {
			return nil
		}
		return env.OpenCases.Close(ctx, c.Key, c.CaseID)
	}))
	e.OnEffect(EffectCaseWithdraw, with(func(ctx context.Context, _ int64, c CaseRef, env *Env) error {
		// The case waits with the verifier, or in the review queue when a
		// model handed it on.
		for _, v := range []any{env.Verifier, env.Desk} {
			if w, ok := v.(Withdrawer); ok {
				if err := w.Withdraw(ctx, c.CaseID); err != nil {
					return err
				}
			}
		}
		return nil
	}))
}

// registerFamilyChanges registers the handlers of family help's changes.
// Without a link store (family help switched off) there is nothing to do.
func registerFamilyChanges(e *Engine) {
	links := func(f func(ctx context.Context, user int64, l LinkRef, links Links) error) EffectHandler {
		return with(func(ctx context.Context, user int64, l LinkRef, env *Env) error {
			if env.Links == nil {
				return nil
			}
			return f(ctx, user, l, env.Links)
		})
	}
	e.OnEffect(EffectLinksForget, links(func(ctx context.Context, user int64, _ LinkRef, ls Links) error {
		return ls.Forget(ctx, user)
	}))
	e.OnEffect(EffectUnlink, links(func(ctx context.Context, _ int64, l LinkRef, ls Links) error {
		return ls.Unlink(ctx, l.Pensioner, l.Helper)
	}))
	e.OnEffect(EffectLinkRelation, links(func(ctx context.Context, _ int64, l LinkRef, ls Links) error {
		return ls.SetRelation(ctx, l.Pensioner, l.Helper, l.Relation)
	}))
	e.OnEffect(EffectLinkPending, links(func(ctx context.Context, _ int64, l LinkRef, ls Links) error {
		return ls.SetPending(ctx, l.Pensioner, l.Helper, l.Since)
	}))
}

// linkPending tells a linked pensioner's side of the link that the helper
// sent a certification for them on since (zero: decided or withdrawn).
func linkPending(p *Person, helper int64, since time.Time) Effect {
	return NewEffect(EffectLinkPending, helper, LinkRef{Pensioner: p.Linked, Helper: helper, Since: since})
}
