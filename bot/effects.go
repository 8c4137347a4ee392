package bot

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-telegram/bot/models"

	"pensionbot/flows"
)

// performExt carries out a feature's own effect through the handler
// registered for its kind. An effect nobody handles is an error (a dead
// letter): a feature registered without its handler is a wiring mistake
// the operator must see.
func (b *Bot) performExt(ctx context.Context, e *flows.Effect) error {
	if e == nil {
		return errors.New("ext effect without data")
	}
	h := b.opt.Effects[e.Kind]
	if h == nil {
		return fmt.Errorf("no handler for effect %q", e.Kind)
	}
	if err := h(ctx, *e); err != nil {
		return fmt.Errorf("effect %s for %d: %w", e.Kind, e.User, err)
	}
	return nil
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
