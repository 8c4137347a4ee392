package bot

import (
	"context"
	"encoding/json"
	"time"

	tg "github.com/go-telegram/bot"

	"pensionbot/flows"
	"pensionbot/ratelimit"
	"pensionbot/store"
)

// RunReminders sends due-date reminders every interval until ctx ends.
func (k *Bulk) RunReminders(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		if _, err := k.RemindOnce(ctx, k.opt.Now()); err != nil && ctx.Err() == nil {
			k.b.log.Warn("reminders", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RemindOnce sends the reminders due at now, if now is inside the sending
// window, and returns how many were sent. Each reminder is first moved to
// its next time with a compare-and-set in Redis, and only the process that
// moved it sends it: exactly one replica sends each (at most once: a
// process that dies between the two loses that reminder rather than send
// it twice). Someone who certified since has a new schedule, so the old
// reminder's move fails; someone who turned notices off or blocked the bot
// is moved on without a message.
func (k *Bulk) RemindOnce(ctx context.Context, now time.Time) (int, error) {
	sch := k.opt.Schedule
	if !sch.InWindow(now) {
		return 0, nil
	}
	due, err := k.opt.Audience.DueReminders(ctx, now, 500)
	if err != nil {
		return 0, err
	}
	sent := 0
	start := time.Now()
	for _, r := range due {
		// A long list may take the pass past the window's end: stop there
		// (now is the tick's time, possibly simulated; the time spent is
		// real).
		if !sch.InWindow(now.Add(time.Since(start))) {
			return sent, nil
		}
		p, err := k.opt.Audience.Get(ctx, r.Account)
		if err != nil {
			return sent, err
		}
		var c store.CertDue
		ok := false
		if p != nil {
			c, ok = p.Certs[r.For]
		}
		if !ok {
			k.opt.Audience.Advance(ctx, r, time.Time{}) // forgotten or removed
			continue
		}
		dueAt := time.Unix(c.Due, 0)
		stage, isDue := sch.Current(dueAt, r.At, now)
		next, _ := sch.Next(dueAt, now)
		moved, err := k.opt.Audience.Advance(ctx, r, next)
		if err != nil {
			return sent, err
		}
		if !moved || !isDue {
			continue // another replica has it, or it was rescheduled
		}
		if !p.Reachable() {
			k.m.reminders.WithLabelValues("skipped").Inc()
			continue
		}
		if err := k.opt.Limiter.Wait(ctx, ratelimit.Notice); err != nil {
			k.opt.Audience.Undo(context.WithoutCancel(ctx), r, next)
			return sent, err
		}
		reply := flows.Reply{ID: "notify.remind.lapsed", Data: map[string]any{"Until": flows.Date(dueAt.In(sch.Loc))},
			Buttons: [][]flows.Button{flows.Row(flows.Btn("notify.btn.certify", "go:"+flows.StepCertWho))}}
		if d := sch.StageDays(stage); d >= 0 {
			reply.ID = "notify.remind.before"
			reply.Data["Count"] = d
		}
		lang := p.Lang
		if lang == "" {
			lang = k.b.catalog.Default()
		}
		msgs, err := k.b.render(lang, flows.AnyTurn, reply)
		if err != nil {
			k.b.log.Error("render reminder", "err", err)
			continue
		}
		status, retry := k.b.sendOne(ctx, r.Account, &tg.SendMessageParams{Text: msgs[0].Text, ReplyMarkup: msgs[0].ReplyMarkup})
		switch status {
		case store.StatusSent:
			sent++
			k.m.reminders.WithLabelValues("sent").Inc()
			if r.For == "self" {
				sent += k.remindHelpers(ctx, r.Account, reply)
			}
		case "429", "":
			// Put back: the next pass sends it.
			k.opt.Audience.Undo(context.WithoutCancel(ctx), r, next)
			k.m.reminders.WithLabelValues("failed").Inc()
			if retry > 0 {
				return sent, nil
			}
		case store.StatusBlocked, store.StatusDeactivated, store.StatusNotFound:
			k.count(ctx, outcome{r: store.Recipient{User: r.Account}, status: status})
			k.m.reminders.WithLabelValues("skipped").Inc()
		default:
			k.m.reminders.WithLabelValues("failed").Inc()
		}
	}
	return sent, nil
}

// remindHelpers sends a pensioner's own reminder to the helpers they
// linked, in each helper's language and naming the pensioner as the helper
// calls them ("Mum"); its button opens "who is it for?", where the
// pensioner is. It returns how many were sent. A helper who turned notices
// off or cannot be reached is skipped; a failure is logged, not retried
// (the pensioner was reminded).
func (k *Bulk) remindHelpers(ctx context.Context, pensioner int64, own flows.Reply) int {
	if k.opt.Helpers == nil {
		return 0
	}
	links, err := k.opt.Helpers(ctx, pensioner)
	if err != nil {
		k.b.log.Warn("list a pensioner's helpers for a reminder", "err", err)
		return 0
	}
	n := 0
	for _, l := range links {
		p, err := k.opt.Audience.Get(ctx, l.User)
		if err != nil || p == nil || !p.Reachable() {
			continue
		}
		reply := own
		reply.Data = map[string]any{"Who": k.b.labelOf(ctx, l.User, pensioner)}
		for key, v := range own.Data {
			reply.Data[key] = v
		}
		reply.ID += ".helper"
		lang := p.Lang
		if lang == "" {
			lang = k.b.catalog.Default()
		}
		msgs, err := k.b.render(lang, flows.AnyTurn, reply)
		if err != nil {
			k.b.log.Error("render a helper's reminder", "err", err)
			continue
		}
		if err := k.opt.Limiter.Wait(ctx, ratelimit.Notice); err != nil {
			return n
		}
		if status, _ := k.b.sendOne(ctx, l.User, &tg.SendMessageParams{Text: msgs[0].Text, ReplyMarkup: msgs[0].ReplyMarkup}); status == store.StatusSent {
			n++
			k.m.reminders.WithLabelValues("sent").Inc()
		}
	}
	return n
}

// labelOf is how helper calls the pensioner they help ("Mum"), read from
// the helper's state, or nil when it cannot be told (the message then says
// "the person you help").
func (b *Bot) labelOf(ctx context.Context, helper, pensioner int64) any {
	raw, err := b.store.Load(ctx, helper)
	if err != nil || raw == nil {
		return nil
	}
	var st flows.State
	if json.Unmarshal(raw, &st) != nil {
		return nil
	}
	for _, p := range st.Family {
		if p.Linked == pensioner {
			return p.Who()
		}
	}
	return nil
}
