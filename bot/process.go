package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"pensionbot/domain"
	"pensionbot/flows"
	"pensionbot/store"
)

// errTryAgain marks failures after which the update must be delivered again
// (Redis unreachable): the poller does not confirm it and the webhook
// answers 500, so Telegram keeps it.
var errTryAgain = errors.New("temporary failure, deliver again")

// errBadUpdate marks an update that is not JSON: nothing to do with it.
var errBadUpdate = errors.New("update cannot be decoded")

// handle takes one raw update: queues it for its person and, if this
// process holds the person's lease, applies everything queued (in the
// background when async is set: the poller goes on fetching while one
// person's slow update runs; the webhook answers only once applied).
func (b *Bot) handle(ctx context.Context, raw []byte, async bool) error {
	start := b.opt.Now()
	var u models.Update
	if err := json.Unmarshal(raw, &u); err != nil {
		b.metrics.updates.WithLabelValues("undecodable").Inc()
		b.log.Warn("undecodable update", "err", err)
		return errBadUpdate // a redelivery would not decode either
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
		b.membership(ctx, sub.user, u.MyChatMember.NewChatMember.Type)
		b.metrics.updates.WithLabelValues("membership").Inc()
		return nil
	}
	e, err := b.store.Enqueue(ctx, sub.user, u.ID, raw, async)
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
	case store.Queued:
		b.answerPress(ctx, sub, &u, e.Lease)
	}
	switch {
	case e.Lease != nil && async:
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			// Polling stored the update (durable): a failure is retried
			// from the inbox.
			_ = b.drainFrom(context.WithoutCancel(ctx), e.Lease, &u)
		}()
	case e.Lease != nil:
		if b.drainFrom(ctx, e.Lease, &u) {
			return fmt.Errorf("update %d: %w", u.ID, errTryAgain)
		}
	case e.Busy:
		b.kickLater(sub.user, e.RetryIn)
	}
	b.metrics.latency.Observe(b.opt.Now().Sub(start).Seconds())
	return nil
}

// answerPress answers a button press as soon as it is queued, so the
// spinner on the person's button stops before the step runs. A press on
// an old message gets a short notice, when this process can tell (it holds
// the person's state).
func (b *Bot) answerPress(ctx context.Context, sub subject, u *models.Update, l *store.Lease) {
	if sub.callback == "" {
		return
	}
	toast := ""
	if l != nil && l.Item.UpdateID == u.ID {
		// Only the turn and the language: the whole state is decoded once,
		// when the press is applied.
		st := peekState(l.State)
		if turn, _ := parseCallback(u.CallbackQuery.Data); turn != st.Turn && turn != flows.AnyTurn {
			toast, _ = b.catalog.Text(st.language(firstNonEmpty(sub.langHint, b.catalog.Default())), "button.stale.toast", nil)
		}
	}
	b.answerCallback(ctx, sub.callback, toast)
}

// statePeek is what is read of a stored state without decoding the rest:
// the turn a press is checked against and the language to answer in.
type statePeek struct {
	Turn int    `json:"turn"`
	Lang string `json:"lang"`
	Hint string `json:"hint"`
}

// peekState reads a stored state's turn and language (zero when there is
// no state or it cannot be read).
func peekState(raw []byte) statePeek {
	var p statePeek
	if raw != nil {
		_ = json.Unmarshal(raw, &p)
	}
	return p
}

// language is as flows.State.Language: the chosen language, else the
// Telegram hint, else def.
func (p statePeek) language(def string) string {
	return (&flows.State{Lang: p.Lang, Hint: p.Hint}).Language(def)
}

// languageOf is the language another person reads (the recipient of a
// notice, a staff member), from their stored state; def when unknown.
// A read, like OCR.
func (b *Bot) languageOf(ctx context.Context, user int64, def string) string {
	return b.languagesOf(ctx, []int64{user}, def)[user]
}

// languagesOf is languageOf for many people, in one round trip.
func (b *Bot) languagesOf(ctx context.Context, users []int64, def string) map[int64]string {
	out := make(map[int64]string, len(users))
	states, _ := b.store.LoadMany(ctx, users)
	for i, u := range users {
		out[u] = peekState(states[i]).language(def) // def for a state that could not be read
	}
	return out
}

// drain applies queued updates while this process holds the lease.
func (b *Bot) drain(ctx context.Context, l *store.Lease) { _ = b.drainFrom(ctx, l, nil) }

// drainFrom is drain where the caller already decoded the lease's first
// update (the common case: the update just received is the one to apply),
// so it is not decoded twice.
//
// It reports whether the update the caller received failed before it was
// committed: an update applied at once is stored nowhere else, so the
// webhook must then answer with an error and Telegram delivers it again.
func (b *Bot) drainFrom(ctx context.Context, l *store.Lease, first *models.Update) (firstFailed bool) {
	for {
		var more bool
		var err error
		isFirst := first != nil && first.ID == l.Item.UpdateID
		if isFirst {
			more, err = b.applyUpdate(ctx, l, first)
		} else {
			more, err = b.applyOne(ctx, l)
		}
		first = nil
		if err != nil {
			firstFailed = isFirst
			if errors.Is(err, store.ErrLeaseLost) {
				b.log.Warn("lease lost; another process goes on", "user", l.User, "err", err)
			} else {
				b.log.Error("apply update", "user", l.User, "update", l.Item.UpdateID, "err", err)
				b.metrics.errors.WithLabelValues("apply").Inc()
				// The lease expires and the update is tried again then.
				b.kickLater(l.User, b.opt.Lease)
			}
			return firstFailed
		}
		if !more {
			return false
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
		c, err := b.store.Commit(ctx, l, store.Keep, nil, nil)
		return c.More, err
	}
	return b.applyUpdate(ctx, l, &u)
}

// applyUpdate applies a Telegram update, the lease's current item.
func (b *Bot) applyUpdate(ctx context.Context, l *store.Lease, u *models.Update) (bool, error) {
	sub, ok := subjectOf(u)
	if !ok {
		c, err := b.store.Commit(ctx, l, store.Keep, nil, nil)
		return c.More, err
	}
	in := inputOf(u, sub.langHint, updateTime(u, b.opt.Now()))
	in.User, in.ID = l.User, u.ID
	return b.applyInput(ctx, l, sub, u, in)
}

// event is a queued input that is not a Telegram update: a verifier's
// decision for the person.
type event struct {
	Decision *domain.Decision `json:"pensionbot_decision"`
}

// applyInput runs one input through the engine and commits the new state
// with the effects, then hands the outbox to a dispatcher if this commit
// claimed it.
func (b *Bot) applyInput(ctx context.Context, l *store.Lease, sub subject, u *models.Update, in flows.Input) (bool, error) {
	state := b.decodeState(l)
	// The lease is renewed while this update is worked on (a model's
	// answer may take a while), so it can be short: after a crash another
	// process takes over within one lease.
	stop := b.keepRenewed(ctx, "renew lease", l.User, func(ctx context.Context) error { return b.store.Renew(ctx, l) })
	defer stop()
	stopTyping := b.typingWhileSlow(ctx, sub.chat, in.Kind)
	res := b.engine.Handle(ctx, state, in)
	stopTyping()
	for _, n := range res.Tell {
		if n.Decision != nil {
			b.failpoint("decided")
		}
	}
	for _, n := range res.Notes {
		b.log.Warn("flow note", "user", l.User, "step", state.Step, "note", n)
	}
	mode, blob := store.Save, []byte(nil)
	if res.Sensitive {
		mode = store.SaveSensitive
	}
	lang := res.State.Language(b.catalog.Default())
	if res.Forget {
		mode = store.Forget
		lang = state.Language(b.catalog.Default())
		b.log.Info("person's data deleted on request", "user", l.User)
	} else {
		var err error
		if blob, err = json.Marshal(res.State); err != nil {
			return false, fmt.Errorf("encode state: %w", err)
		}
	}
	userMsg := 0
	if u != nil && u.Message != nil {
		userMsg = u.Message.ID
	}
	e, err := b.prepare(ctx, l.Item.UpdateID, sub.chat, lang, userMsg, &res)
	if err != nil {
		return false, fmt.Errorf("prepare effects: %w", err)
	}
	var effects []byte
	if len(e.Effects) > 0 {
		if effects, err = json.Marshal(e); err != nil {
			return false, fmt.Errorf("encode effects: %w", err)
		}
	}
	c, err := b.store.Commit(ctx, l, mode, blob, effects)
	if err != nil {
		return false, err
	}
	b.metrics.steps.WithLabelValues(stepLabel(res.State.Step)).Inc()
	if len(e.Effects) > 0 {
		b.failpoint("committed")
	}
	if c.OutboxBusy > 0 {
		// Another process delivers this person's outbox and takes these
		// effects too; should it have stopped, look again once its claim
		// lapses.
		b.kickLater(l.User, c.OutboxBusy)
	}
	if c.Claim != nil {
		var own *entry
		if len(c.Claim.Entries) == 1 && len(e.Effects) > 0 {
			own = e // this commit's effects alone: no need to decode them again
		}
		b.wg.Add(1)
		go func() {
			defer b.wg.Done()
			b.dispatchFrom(context.WithoutCancel(ctx), c.Claim, own)
		}()
	}
	return c.More, nil
}

// decodeState reads the lease's state; one that cannot be read is
// replaced by a fresh one: the person starts over rather than being stuck.
func (b *Bot) decodeState(l *store.Lease) flows.State {
	var state flows.State
	if l.State != nil {
		if err := json.Unmarshal(l.State, &state); err != nil {
			b.log.Error("stored state unreadable; starting over", "user", l.User, "err", err)
			state = flows.State{Version: -1}
		}
	}
	return state
}

// typingWhileSlow shows "typing…" in the person's chat while a step takes
// long (reading a card, checking a face, a model's answer), so that an
// older person sees the bot is working and does not send the photo again.
// Quick steps show nothing. Decisions arriving for the person show nothing
// either: they did not ask.
func (b *Bot) typingWhileSlow(ctx context.Context, chat int64, kind flows.Kind) (stop func()) {
	if kind == flows.KindDecision {
		return func() {}
	}
	// A timer, not a goroutine: most steps end long before it fires.
	var mu sync.Mutex
	stopped := false
	var t *time.Timer
	mu.Lock()
	t = time.AfterFunc(400*time.Millisecond, func() {
		// Telegram shows the action for 5 s or until a message comes.
		if _, err := b.tg.SendChatAction(ctx, &tg.SendChatActionParams{ChatID: chat, Action: models.ChatActionTyping}); err != nil {
			b.log.Debug("typing action", "err", redact(err, b.opt.Token))
		}
		mu.Lock()
		defer mu.Unlock()
		if !stopped {
			t.Reset(4 * time.Second)
		}
	})
	mu.Unlock()
	return func() {
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		t.Stop()
	}
}

// keepRenewed renews a lease (a person's inbox, or their outbox claim)
// every third of its length until stop is called, so that leases can be
// short (after a crash another process goes on within one) while slow work
// (a model's answer, a long retry_after) keeps them.
func (b *Bot) keepRenewed(ctx context.Context, what string, user int64, renew func(context.Context) error) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(b.opt.Lease / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := renew(ctx); err != nil {
					b.log.Warn(what, "user", user, "err", err)
				}
			}
		}
	}()
	return func() { close(done) }
}

// deleteMessage removes a message from a chat: a person's photo of an ID
// card or a face once stored safely, or a case's photos in a staff
// member's chat once decided. Telegram allows it for 48 hours; a message
// already gone counts as deleted.
func (b *Bot) deleteMessage(ctx context.Context, chat int64, id int) error {
	err := b.retry(ctx, "deleteMessage", func(ctx context.Context) error {
		_, err := b.tg.DeleteMessage(ctx, &tg.DeleteMessageParams{ChatID: chat, MessageID: id})
		return err
	})
	if err != nil && strings.Contains(err.Error(), "message to delete not found") {
		return nil
	}
	return err
}

// Inject queues a verifier's decision for a person, as if it were an
// update from them, and applies it if nobody is busy with their inbox. It
// is how late decisions (staff, agency) reach the person.
func (b *Bot) Inject(ctx context.Context, user int64, d domain.Decision) error {
	apply, err := b.queueDecision(ctx, user, d)
	if apply != nil {
		apply()
	}
	return err
}

// queueDecision stores a decision in the person's inbox. If nobody was busy
// with the inbox, the caller got its lease and must call apply, which
// applies the inbox in the background.
func (b *Bot) queueDecision(ctx context.Context, user int64, d domain.Decision) (apply func(), err error) {
	payload, err := json.Marshal(event{Decision: &d})
	if err != nil {
		return nil, fmt.Errorf("encode decision: %w", err)
	}
	e, err := b.store.Enqueue(ctx, user, decisionID(d), payload, true)
	if err != nil {
		return nil, fmt.Errorf("queue decision for %d: %w", user, err)
	}
	switch {
	case e.Lease != nil:
		return func() {
			b.wg.Add(1)
			go func() {
				defer b.wg.Done()
				b.drain(context.WithoutCancel(ctx), e.Lease)
			}()
		}, nil
	case e.Busy:
		b.kickLater(user, e.RetryIn)
	}
	return nil, nil
}

func (b *Bot) answerCallback(ctx context.Context, id, text string) {
	if id == "" {
		return
	}
	err := b.retry(ctx, "answerCallbackQuery", func(ctx context.Context) error {
		return b.call(ctx, "answerCallbackQuery", &tg.AnswerCallbackQueryParams{CallbackQueryID: id, Text: text}, nil)
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
	// Sent directly, not through the outbox: this is what the person sees
	// when Redis, where the outbox lives, cannot be reached.
	msgs, err := b.render(lang, 0, flows.Say(id, nil))
	if err != nil {
		b.log.Error("render apology", "id", id, "err", err)
		return
	}
	for _, m := range msgs {
		if _, err := b.send(ctx, sub.chat, m); err != nil {
			b.log.Warn("send apology", "chat", sub.chat, "err", redact(err, b.opt.Token))
			return
		}
	}
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
		b.takeOver(context.Background(), user)
	})
}

// takeOver applies a person's queued updates and delivers their outbox if
// nobody else does; if someone holds either, it looks again when their
// lease lapses, in case they stopped.
func (b *Bot) takeOver(ctx context.Context, user int64) {
	l, retry, err := b.store.Acquire(ctx, user)
	switch {
	case err != nil:
		b.log.Warn("retry inbox", "user", user, "err", err)
	case l != nil:
		b.drain(ctx, l)
	case retry > 0:
		b.kickLater(user, retry)
	}
	c, retry, err := b.store.ClaimOutbox(ctx, user)
	switch {
	case err != nil:
		b.log.Warn("retry outbox", "user", user, "err", err)
	case c != nil:
		b.log.Info("delivering effects another process left", "user", user)
		b.dispatch(ctx, c)
	case retry > 0:
		b.kickLater(user, retry)
	}
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
