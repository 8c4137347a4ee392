package bot

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-telegram/bot/models"

	"pensionbot/flows"
)

// performExt carries out a feature's own effect through the handler
// registered for its kind: with the engine (certification's and family
// help's changes) or in Options.Effects (the audience registry's,
// broadcasts'). An effect nobody handles is an error (a dead letter): a
// feature registered without its handler is a wiring mistake the operator
// must see.
func (b *Bot) performExt(ctx context.Context, e *flows.Effect) error {
	if e == nil {
		return errors.New("ext effect without data")
	}
	h := b.opt.Effects[e.Kind]
	if h == nil {
		h = func(ctx context.Context, fx flows.Effect) error {
			ok, err := b.engine.Perform(ctx, fx)
			if !ok {
				return fmt.Errorf("no handler for effect %q", fx.Kind)
			}
			return err
		}
	}
	// Handlers are idempotent: a passing Redis error is worth a few quick
	// tries before the effect becomes a dead letter.
	var err error
	for attempt, wait := 1, 100*time.Millisecond; attempt <= 3; attempt, wait = attempt+1, wait*2 {
		if err = h(ctx, *e); err == nil {
			return nil
		}
		if attempt < 3 {
			sleep(ctx, wait)
		}
	}
	return fmt.Errorf("effect %s for %d: %w", e.Kind, e.User, err)
}

// membership records a my_chat_member update: a person who blocks the bot
// (kicked) is unreachable until they come back (member), so broadcasts and
// reminders skip them.
func (b *Bot) membership(ctx context.Context, user int64, status models.ChatMemberType) {
	if b.opt.Reach == nil {
		return
	}
	reach := ""
	switch status {
	case models.ChatMemberTypeBanned:
		reach = "blocked"
	case models.ChatMemberTypeMember:
	default:
		return
	}
	if err := b.opt.Reach(ctx, user, reach); err != nil {
		b.log.Warn("record reachability", "user", user, "err", err)
	}
}
