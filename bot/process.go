package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"pensionbot/flows"
	"pensionbot/store"
)

// errTryAgain marks failures after which the update must be delivered again
// (Redis unreachable): the poller does not confirm it and the webhook
// answers 500, so Telegram keeps it.
var errTryAgain = errors.New("temporary failure, deliver again")

// handle takes one raw update: queues it for its person and, if this
// process holds the person's lease, applies everything queued.
func (b *Bot) handle(ctx context.Context, raw []byte) error {
	start := b.opt.Now()
	var u models.Update
	if err := json.Unmarshal(raw, &u); err != nil {
		b.metrics.updates.WithLabelValues("undecodable").Inc()
		b.log.Warn("undecodable update", "err", err)
		return nil // a redelivery would not decode either
	}
	sub, ok := subjectOf(&u)
	if !ok {
		b.metrics.updates.WithLabelValues("ignored").Inc()
		return nil
	}
	if u.MyChatMember != nil {
		if u.MyChatMember.NewChatMember.Type == models.ChatMemberTypeBanned {
			b.log.Info("person blocked the bot", "user", sub.user)
		}
		b.metrics.updates.WithLabelValues("membership").Inc()
		return nil
	}
	e, err := b.store.Enqueue(ctx, sub.user, u.ID, raw)
	if err != nil {
		b.fail(ctx, sub, "enqueue", err)
		return fmt.Errorf("update %d: %w: %w", u.ID, errTryAgain, err)
	}
	b.metrics.updates.WithLabelValues(e.Status.String()).Inc()
	switch e.Status {
	case store.Duplicate:
		b.log.Debug("duplicate update dropped", "update", u.ID, "user", sub.user)
	case store.Full:
		b.log.Warn("inbox full, update dropped", "update", u.ID, "user", sub.user)
		b.answerCallback(ctx, sub.callback, "")
		b.warnOnce(ctx, sub, "error.busy")
	}
	if e.Lease != nil {
		b.drain(ctx, e.Lease)
	} else if e.Busy {
		b.kickLater(sub.user, e.RetryIn)
	}
	b.metrics.latency.Observe(b.opt.Now().Sub(start).Seconds())
	return nil
}

// drain applies queued updates while this process holds the lease.
func (b *Bot) drain(ctx context.Context, l *store.Lease) {
	for {
		more, err := b.applyOne(ctx, l)
		if err != nil {
			if errors.Is(err, store.ErrLeaseLost) {
				b.log.Warn("lease lost; another process goes on", "user", l.User, "err", err)
			} else {
				b.log.Error("apply update", "user", l.User, "update", l.Item.UpdateID, "err", err)
				b.metrics.errors.WithLabelValues("apply").Inc()
				// The lease expires and the update is tried again then.
				b.kickLater(l.User, b.opt.Lease)
			}
			return
		}
		if !more {
			return
		}
	}
}

// applyOne runs the lease's current update through the engine, commits
// the new state and, only once committed, sends the replies.
func (b *Bot) applyOne(ctx context.Context, l *store.Lease) (bool, error) {
	var u models.Update
	var ev event
	// Only our own events start with this key (see Inject); Telegram's
	// updates are not parsed twice.
	if bytes.HasPrefix(l.Item.Payload, []byte(`{"pensionbot_decision"`)) && json.Unmarshal(l.Item.Payload, &ev) == nil && ev.Decision != nil {
		return b.applyInput(ctx, l, subject{user: l.User, chat: l.User}, nil,
			flows.Input{Kind: flows.KindDecision, Decision: ev.Decision, User: l.User, Now: b.opt.Now()})
	}
	if len(l.Item.Payload) == 0 || json.Unmarshal(l.Item.Payload, &u) != nil {
		b.log.Warn("queued update unreadable; skipped", "user", l.User, "update", l.Item.UpdateID)
		more, err := b.store.Commit(ctx, l, store.Keep, nil)
		if err == nil && !more {
			more, err = b.store.Release(ctx, l)
		}
		return more, err
	}
	sub, _ := subjectOf(&u)
	in := inputOf(&u, sub.langHint, updateTime(&u, b.opt.Now()))
	in.User, in.ID = l.User, u.ID
	return b.applyInput(ctx, l, sub, &u, in)
}

// event is a queued input that is not a Telegram update: a verifier's
// decision for the person.
type event struct {
	Decision *flows.Decision `json:"pensionbot_decision"`
}

// applyInput runs one input through the engine, commits, then acts.
func (b *Bot) applyInput(ctx context.Context, l *store.Lease, sub subject, u *models.Update, in flows.Input) (bool, error) {
	var state flows.State
	if l.State != nil {
		if err := json.Unmarshal(l.State, &state); err != nil {
			// A state we cannot read is replaced by a fresh one: the
			// person starts over rather than being stuck.
			b.log.Error("stored state unreadable; starting over", "user", l.User, "err", err)
			state = flows.State{Version: -1}
		}
	}
	stale := in.Kind == flows.KindButton && in.Turn != state.Turn

	// The lease is renewed while this update is worked on, sending
	// included (a 429 may make it wait), so it can be short: after a crash
	// another process takes over within one lease.
	stop := b.renewWhileWorking(ctx, l)
	defer stop()
	res := b.engine.Handle(ctx, state, in)
	for _, n := range res.Notes {
		b.log.Warn("flow note", "user", l.User, "step", state.Step, "note", n)
	}
	mode, blob := store.Save, []byte(nil)
	if res.State.HoldsPersonalData() {
		mode = store.SaveSensitive
	}
	if res.Forget {
		mode = store.Forget
		b.log.Info("person's data deleted on request", "user", l.User)
	} else {
		var err error
		if blob, err = json.Marshal(res.State); err != nil {
			return false, fmt.Errorf("encode state: %w", err)
		}
	}
	lang := res.State.Language(b.catalog.Default())
	if res.Forget {
		lang = state.Language(b.catalog.Default())
	}
	more, err := b.store.Commit(ctx, l, mode, blob)
	if err != nil {
		return false, err
	}
	b.metrics.steps.WithLabelValues(stepLabel(res.State.Step)).Inc()
	toast := ""
	if stale {
		toast, _ = b.catalog.Text(lang, "button.stale", nil)
	}
	b.answerCallback(ctx, sub.callback, toast)
	if res.DeleteInput && !b.opt.KeepPhotoMessages && u != nil && u.Message != nil {
		b.deleteMessage(ctx, sub.chat, u.Message.ID)
	}
	if res.ClearEphemeral {
		ids, err := b.store.TakeEphemeral(ctx, sub.chat)
		if err != nil {
			b.log.Warn("could not list messages to delete", "chat", sub.chat, "err", err)
		}
		for _, id := range ids {
			b.deleteMessage(ctx, sub.chat, id)
		}
	}
	b.deliver(ctx, sub.chat, lang, res.State.Turn, res.Replies)
	b.tell(ctx, res.Tell)
	if !more {
		more, err = b.store.Release(ctx, l)
	}
	return more, err
}

// renewWhileWorking keeps the lease alive until stop is called.
func (b *Bot) renewWhileWorking(ctx context.Context, l *store.Lease) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(b.opt.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := b.store.Renew(ctx, l); err != nil {
					b.log.Warn("renew lease", "user", l.User, "err", err)
				}
			}
		}
	}()
	return func() { close(done) }
}

// deliver sends replies in order; a failed one stops the rest, since later
// replies refer to earlier ones.
func (b *Bot) deliver(ctx context.Context, chat int64, lang string, turn int, replies []flows.Reply) {
	for _, r := range replies {
		msgs, err := b.render(lang, turn, r)
		if err != nil {
			b.log.Error("render reply", "id", r.ID, "lang", lang, "err", err)
			b.metrics.errors.WithLabelValues("render").Inc()
			continue
		}
		for _, m := range msgs {
			send := b.send
			if len(r.Photo) > 0 {
				send = func(ctx context.Context, chat int64, m *tg.SendMessageParams) (*models.Message, error) {
					return b.sendPhoto(ctx, chat, r.Photo, m)
				}
			}
			sent, err := send(ctx, chat, m)
			if err == nil && r.Ephemeral && sent != nil {
				if err := b.store.AddEphemeral(ctx, chat, sent.ID); err != nil {
					b.log.Warn("could not remember a message to delete later", "chat", chat, "err", err)
				}
			}
			if err != nil {
				if errors.Is(err, errBlocked) {
					b.log.Info("person blocked the bot; replies dropped", "chat", chat)
				} else {
					b.log.Error("send reply", "chat", chat, "id", r.ID, "err", redact(err, b.opt.Token))
					b.metrics.errors.WithLabelValues("send").Inc()
				}
				return
			}
			b.metrics.sent.Inc()
		}
	}
}

// deleteMessage removes a message from a chat: a person's photo of an ID
// card or a face once stored safely, or a case's photos in a staff
// member's chat once decided. Telegram allows it for 48 hours.
func (b *Bot) deleteMessage(ctx context.Context, chat int64, id int) {
	err := b.retry(ctx, "deleteMessage", func(ctx context.Context) error {
		_, err := b.tg.DeleteMessage(ctx, &tg.DeleteMessageParams{ChatID: chat, MessageID: id})
		return err
	})
	if err != nil {
		b.log.Warn("could not delete a message with personal data", "chat", chat, "message", id, "err", redact(err, b.opt.Token))
	}
}

// tell reaches other people: decisions go into their inbox, to be applied
// in order with what they are doing; messages are sent in the
// recipient's language (staff).
func (b *Bot) tell(ctx context.Context, notices []flows.Notice) {
	for _, n := range notices {
		switch {
		case n.Decision != nil:
			if err := b.Inject(ctx, n.User, *n.Decision); err != nil {
				// The decision is recorded by the verifier; the person
				// sees it in /status even if this message is lost.
				b.log.Error("deliver decision", "user", n.User, "err", err)
				b.metrics.errors.WithLabelValues("decision").Inc()
			}
		case n.Reply != nil:
			// In the recipient's language, read from their state.
			lang := b.catalog.Default()
			if raw, err := b.store.Load(ctx, n.User); err == nil && raw != nil {
				var st flows.State
				if json.Unmarshal(raw, &st) == nil {
					lang = st.Language(lang)
				}
			}
			b.deliver(ctx, n.User, lang, 0, []flows.Reply{*n.Reply})
		}
	}
}

// Inject queues a verifier's decision for a person, as if it were an
// update from them, and applies it if nobody is busy with their inbox. It
// is how late decisions (staff, agency) reach the person.
func (b *Bot) Inject(ctx context.Context, user int64, d flows.Decision) error {
	payload, err := json.Marshal(event{Decision: &d})
	if err != nil {
		return fmt.Errorf("encode decision: %w", err)
	}
	// Negative IDs never collide with Telegram's update IDs, and come
	// before the person's queued messages.
	e, err := b.store.Enqueue(ctx, user, -b.opt.Now().UnixNano(), payload)
	if err != nil {
		return fmt.Errorf("queue decision for %d: %w", user, err)
	}
	switch {
	case e.Lease != nil:
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.drain(context.WithoutCancel(ctx), e.Lease)
		}()
	case e.Busy:
		b.kickLater(user, e.RetryIn)
	}
	return nil
}

func (b *Bot) answerCallback(ctx context.Context, id, text string) {
	if id == "" {
		return
	}
	err := b.retry(ctx, "answerCallbackQuery", func(ctx context.Context) error {
		_, err := b.tg.AnswerCallbackQuery(ctx, &tg.AnswerCallbackQueryParams{CallbackQueryID: id, Text: text})
		return err
	})
	if err != nil {
		// An old query cannot be answered any more; the step is shown anyway.
		b.log.Debug("answer callback", "err", redact(err, b.opt.Token))
	}
}

// fail is the one place that decides what a person and the operator see
// when something breaks: the person gets a localized apology and what to
// do (at most once a minute), the operator a log line with the cause.
func (b *Bot) fail(ctx context.Context, sub subject, where string, err error) {
	b.metrics.errors.WithLabelValues(where).Inc()
	b.log.Error("update failed", "where", where, "user", sub.user, "err", redact(err, b.opt.Token))
	b.answerCallback(ctx, sub.callback, "")
	b.warnOnce(ctx, sub, "error.try_again")
}

func (b *Bot) warnOnce(ctx context.Context, sub subject, id string) {
	now := b.opt.Now()
	b.mu.Lock()
	last, seen := b.warned[sub.user]
	if seen && now.Sub(last) < time.Minute {
		b.mu.Unlock()
		return
	}
	b.warned[sub.user] = now
	b.mu.Unlock()
	lang := sub.langHint
	if lang == "" {
		lang = b.catalog.Default()
	}
	b.deliver(ctx, sub.chat, lang, 0, []flows.Reply{flows.Say(id, nil)})
}

// kickLater tries a person's inbox again after d, in case the lease holder
// died and nothing else would wake the queue.
func (b *Bot) kickLater(user int64, d time.Duration) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed || b.kicks[user] != nil {
		return
	}
	b.wg.Add(1)
	b.kicks[user] = time.AfterFunc(d+50*time.Millisecond, func() {
		defer b.wg.Done()
		b.mu.Lock()
		delete(b.kicks, user)
		b.mu.Unlock()
		ctx, cancel := context.WithTimeout(context.Background(), 2*b.opt.Lease)
		defer cancel()
		l, retry, err := b.store.Acquire(ctx, user)
		switch {
		case err != nil:
			b.log.Warn("retry inbox", "user", user, "err", err)
		case l != nil:
			b.drain(ctx, l)
		case retry > 0:
			b.kickLater(user, retry)
		}
	})
}

func stepLabel(step string) string {
	if i := strings.IndexByte(step, '.'); i > 0 {
		return step[:i]
	}
	if step == "" {
		return "none"
	}
	return step
}

// redact removes the bot token from an error's text: go-telegram/bot's
// errors may carry request URLs, which hold the token.
func redact(err error, token string) error {
	if err == nil || token == "" || !strings.Contains(err.Error(), token) {
		return err
	}
	return redactedError{msg: strings.ReplaceAll(err.Error(), token, "<token>"), err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }
