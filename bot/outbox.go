package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"pensionbot/domain"
	"pensionbot/flows"
	"pensionbot/store"
)

// entry is one update's effects as they are committed with its state: the
// transactional outbox. Everything is rendered before the commit (in the
// person's language, or a recipient's), so delivering is only sending.
type entry struct {
	Update  int64    `json:"u"`
	Effects []effect `json:"e"`
}

// effect is one thing to do outside. ID (update and position) names it in
// logs and dead letters.
type effect struct {
	Kind string `json:"k"` // send, photo, delete, clear, decision, erase
	Chat int64  `json:"c"`
	ID   string `json:"id"`
	// send and photo
	Text    string          `json:"t,omitempty"`
	Markup  json.RawMessage `json:"m,omitempty"`
	PhotoOf *flows.PhotoRef `json:"po,omitempty"` // fetched when sent
	// Photo is the picture itself in entries committed before photos
	// were named (PhotoOf); an outbox keeps entries up to 48 hours.
	Photo     []byte `json:"p,omitempty"`
	Protect   bool   `json:"pr,omitempty"`
	Ephemeral bool   `json:"eph,omitempty"`
	// delete
	Message int `json:"msg,omitempty"`
	// decision: queued into Chat's inbox
	Decision *domain.Decision `json:"d,omitempty"`
	// ext: a feature's own effect (see effects.go)
	Ext *flows.Effect `json:"x,omitempty"`
}

// prepare turns an engine result into the outbox entry: the replies
// rendered, deletions, notices to others rendered in their language,
// decisions for other people's inboxes.
func (b *Bot) prepare(ctx context.Context, update int64, chat int64, lang string, userMsg int, res *flows.Result) (*entry, error) {
	e := &entry{Update: update}
	add := func(f effect) {
		f.ID = fmt.Sprintf("%d.%d", update, len(e.Effects))
		e.Effects = append(e.Effects, f)
	}
	if res.DeleteInput && !b.opt.KeepPhotoMessages && userMsg != 0 {
		add(effect{Kind: "delete", Chat: chat, Message: userMsg})
	}
	if res.ClearEphemeral {
		add(effect{Kind: "clear", Chat: chat})
	}
	// Features' own effects come before the messages: a person who blocks
	// the bot right after /forget must still be forgotten, and delivery
	// skips a blocked chat's later effects.
	for i := range res.Effects {
		add(effect{Kind: "ext", Chat: res.Effects[i].User, Ext: &res.Effects[i]})
	}
	sends, err := b.renderAll(chat, lang, res.State.Turn, res.Replies)
	if err != nil {
		return nil, err
	}
	for _, f := range sends {
		add(f)
	}
	// Messages to others are in each recipient's language, read from
	// their states (a read before the commit, like OCR): all at once, as
	// a new case tells every staff member.
	var readers []int64
	for _, n := range res.Tell {
		if n.Decision == nil && n.Reply != nil && !slices.Contains(readers, n.User) {
			readers = append(readers, n.User)
		}
	}
	var langs map[int64]string
	if len(readers) > 0 {
		langs = b.languagesOf(ctx, readers, b.catalog.Default())
	}
	for _, n := range res.Tell {
		if n.Clear {
			add(effect{Kind: "clear", Chat: n.User})
		}
		switch {
		case n.Decision != nil:
			add(effect{Kind: "decision", Chat: n.User, Decision: n.Decision})
		case n.Reply != nil:
			sends, err := b.renderAll(n.User, langs[n.User], 0, []flows.Reply{*n.Reply})
			if err != nil {
				return nil, err
			}
			for _, f := range sends {
				add(f)
			}
		}
	}
	if res.Forget {
		// What services keep about the person goes once the state is gone:
		// committed with the forgetting, done by the dispatcher.
		add(effect{Kind: "erase", Chat: chat})
	}
	return e, nil
}

// renderAll renders replies for one chat. A reply that cannot be rendered
// is left out with a log line: the others still help the person.
func (b *Bot) renderAll(chat int64, lang string, turn int, replies []flows.Reply) ([]effect, error) {
	var out []effect
	for _, r := range replies {
		l := lang
		if r.Lang != "" {
			l = r.Lang // a text to read aloud in Chinese
		}
		msgs, err := b.render(l, turn, r)
		if err != nil {
			b.log.Error("render reply", "id", r.ID, "lang", lang, "err", err)
			b.metrics.errors.WithLabelValues("render").Inc()
			continue
		}
		for _, m := range msgs {
			f := effect{Kind: "send", Chat: chat, Text: m.Text, Ephemeral: r.Ephemeral, Protect: r.Protect}
			if m.ReplyMarkup != nil {
				raw, err := json.Marshal(m.ReplyMarkup)
				if err != nil {
					return nil, fmt.Errorf("encode markup of %q: %w", r.ID, err)
				}
				f.Markup = raw
			}
			if r.PhotoOf != nil {
				f.Kind, f.PhotoOf, f.Protect = "photo", r.PhotoOf, true
			}
			out = append(out, f)
		}
	}
	return out, nil
}

// dispatch delivers a claimed outbox in order, acknowledges what was done
// and goes on with whatever was committed meanwhile, until the outbox is
// empty or the claim is lost (another process then goes on).
func (b *Bot) dispatch(ctx context.Context, c *store.Claim) { b.dispatchFrom(ctx, c, nil) }

// dispatchFrom is dispatch where the claim's only entry is own, still in
// memory from the commit.
func (b *Bot) dispatchFrom(ctx context.Context, c *store.Claim, own *entry) {
	stop := b.keepRenewed(ctx, "renew outbox claim", c.User, func(ctx context.Context) error { return b.store.RenewClaim(ctx, c) })
	defer stop()
	for len(c.Entries) > 0 {
		var later []func()
		if own != nil {
			later = b.perform(ctx, c.User, own)
			own = nil
		} else {
			for _, raw := range c.Entries {
				later = append(later, b.deliverEntry(ctx, c.User, raw)...)
			}
		}
		res := b.acks.ack(ctx, store.Ack{Claim: c})
		// Decisions queued for people are applied only now: applied
		// earlier, a crash before the acknowledgement would queue them
		// again after their result had been sent, and a second copy of
		// the result would go out.
		for _, f := range later {
			f()
		}
		switch {
		case res.Err != nil:
			// The claim lapses and the sweeper, or the next commit, hands
			// the outbox over; what was sent may be sent again then.
			b.log.Error("acknowledge outbox", "user", c.User, "err", res.Err)
			b.metrics.errors.WithLabelValues("outbox").Inc()
			return
		case res.Lost:
			b.log.Warn("outbox claim lost; another process goes on", "user", c.User)
			return
		}
	}
}

// deliverEntry performs one update's effects. An effect that fails for
// good goes to the dead letters and the next one is tried: a photo
// Telegram refuses must not keep a case's text and buttons from staff.
func (b *Bot) deliverEntry(ctx context.Context, user int64, raw []byte) []func() {
	var e entry
	if len(raw) == 0 || json.Unmarshal(raw, &e) != nil {
		b.log.Error("outbox entry unreadable; skipped", "user", user)
		b.metrics.errors.WithLabelValues("outbox").Inc()
		return nil
	}
	return b.perform(ctx, user, &e)
}

// perform does an entry's effects in order. It returns what is to be done
// once the entry is acknowledged: applying the decisions it queued.
func (b *Bot) perform(ctx context.Context, user int64, e *entry) (later []func()) {
	var blocked map[int64]bool
	for _, f := range e.Effects {
		if blocked[f.Chat] {
			continue
		}
		var err error
		if f.Kind == "decision" {
			var apply func()
			if apply, err = b.queueDecision(ctx, f.Chat, *f.Decision); apply != nil {
				later = append(later, apply)
			}
		} else {
			err = b.do(ctx, user, f)
		}
		switch {
		case err == nil:
			b.failpoint("effect:" + f.Kind)
		case errors.Is(err, errBlocked):
			// Nothing more reaches this chat; not worth a dead letter.
			b.log.Info("person blocked the bot; messages dropped", "chat", f.Chat)
			if blocked == nil {
				blocked = map[int64]bool{}
			}
			blocked[f.Chat] = true
		default:
			b.log.Error("effect failed; kept as a dead letter", "user", user, "effect", f.ID, "kind", f.Kind, "chat", f.Chat, "err", redact(err, b.opt.Token))
			b.metrics.dead.Inc()
			if raw, jerr := json.Marshal(f); jerr == nil {
				if derr := b.store.DeadLetter(ctx, user, raw); derr != nil {
					b.log.Error("keep dead letter", "user", user, "err", derr)
				}
			}
		}
	}
	return later
}

// do performs one effect.
func (b *Bot) do(ctx context.Context, owner int64, f effect) error {
	switch f.Kind {
	case "send", "photo":
		var sent *models.Message
		var err error
		if f.Kind == "photo" {
			photo := f.Photo
			if f.PhotoOf != nil {
				if b.opt.CasePhoto == nil {
					return fmt.Errorf("photo of case %s: no case photos here", f.PhotoOf.Case)
				}
				if photo, err = b.opt.CasePhoto(ctx, f.PhotoOf.Case, f.PhotoOf.Kind); err != nil {
					return err
				}
				if photo == nil {
					// Decided or withdrawn meanwhile: nothing to look at.
					b.log.Info("case photo gone before it was sent", "kind", f.PhotoOf.Kind)
					return nil
				}
			}
			sent, err = b.sendPhoto(ctx, f.Chat, photo, f.Text, f.Markup)
		} else {
			p := &tg.SendMessageParams{Text: f.Text, ProtectContent: f.Protect}
			if len(f.Markup) > 0 {
				p.ReplyMarkup = f.Markup
			}
			sent, err = b.send(ctx, f.Chat, p)
		}
		if err != nil {
			return err
		}
		b.metrics.sent.Inc()
		b.countSent(owner, f.Chat)
		if f.Ephemeral && sent != nil {
			if err := b.store.AddEphemeral(ctx, f.Chat, sent.ID); err != nil {
				b.log.Warn("could not remember a message to delete later", "chat", f.Chat, "err", err)
			}
		}
		return nil
	case "delete":
		return b.deleteMessage(ctx, f.Chat, f.Message)
	case "clear":
		ids, err := b.store.TakeEphemeral(ctx, f.Chat)
		if err != nil {
			return fmt.Errorf("list messages to delete in %d: %w", f.Chat, err)
		}
		for _, id := range ids {
			if err := b.deleteMessage(ctx, f.Chat, id); err != nil {
				b.log.Warn("could not delete a message with personal data", "chat", f.Chat, "message", id, "err", redact(err, b.opt.Token))
			}
		}
		return nil
	case "erase":
		return b.erase(ctx, f.Chat)
	case "ext":
		return b.performExt(ctx, f.Ext)
	}
	return fmt.Errorf("unknown effect kind %q", f.Kind)
}

// erase tells every eraser to forget a person, trying a few times: Redis
// may be away for a moment, and an erase that fails for good is only a
// dead letter and a log line for the operator.
func (b *Bot) erase(ctx context.Context, user int64) error {
	var errs []error
	for _, e := range b.opt.Erasers {
		var err error
		for attempt, wait := 0, b.opt.RetryBase; attempt < 3; attempt, wait = attempt+1, wait*2 {
			if err = e.Erase(ctx, user); err == nil {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("erase a person who asked to be forgotten: %w", err)
	}
	return nil
}

// decisionID is the inbox ID of a decision: the same decision always gets
// the same ID, so a decision delivered twice (a staff press redelivered
// after a crash, an agency polled again) is dropped as a duplicate.
// Negative IDs never collide with Telegram's update IDs and come before
// the person's queued messages.
func decisionID(d domain.Decision) int64 {
	h := fnv.New64a()
	h.Write([]byte(d.CaseID + "/" + d.Outcome + "/" + d.Reason))
	return -int64(h.Sum64()>>2) - 1
}

// acker batches outbox acknowledgements of many people into one Redis
// round trip: an acknowledgement waits only for the pipeline in flight,
// so under load hundreds share one trip.
type acker struct {
	store Store
	reqs  chan ackReq
}

type ackReq struct {
	ack  store.Ack
	done chan store.AckResult
}

func newAcker(s Store) *acker { return &acker{store: s, reqs: make(chan ackReq, 1024)} }

func (a *acker) ack(ctx context.Context, ack store.Ack) store.AckResult {
	r := ackReq{ack: ack, done: make(chan store.AckResult, 1)}
	select {
	case a.reqs <- r:
	case <-ctx.Done():
		return store.AckResult{Err: ctx.Err()}
	}
	select {
	case res := <-r.done:
		return res
	case <-ctx.Done():
		return store.AckResult{Err: ctx.Err()}
	}
}

// run serves acknowledgements until ctx ends.
func (a *acker) run(ctx context.Context) {
	const maxBatch = 512
	batch := make([]ackReq, 0, maxBatch)
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-a.reqs:
			batch = append(batch[:0], r)
		}
	more:
		for len(batch) < maxBatch {
			select {
			case r := <-a.reqs:
				batch = append(batch, r)
			default:
				break more
			}
		}
		acks := make([]store.Ack, len(batch))
		for i, r := range batch {
			acks[i] = r.ack
		}
		for i, res := range a.store.AckMany(context.WithoutCancel(ctx), acks) {
			batch[i].done <- res
		}
	}
}
