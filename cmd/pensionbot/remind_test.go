package main

import (
	"context"
	"log/slog"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pensionbot/flows"
	"pensionbot/internal/telegramtest"
	"pensionbot/secret"
	"pensionbot/store"
)

// TestRemindersOverAYear runs a simulated year of reminders for 1,000
// certification records with two processes ticking at the same moments:
// each reminder goes exactly once, only inside the sending window, never
// after a re-certification, never to someone who turned them off.
func TestRemindersOverAYear(t *testing.T) {
	const (
		db      = 21
		records = 1000
		firstID = 300001
	)
	// Paid rate only so that 4,000 reminders take seconds of wall time.
	h := newHarness(t, db, map[string]string{"BROADCAST_PAID": "true", "BROADCAST_RATE": "900", "LOG_LEVEL": "warn"})
	cfg, err := LoadConfig(func(k string) string { return h.env[k] })
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var apps []*App
	for i := 0; i < 2; i++ {
		a, err := NewApp(ctx, cfg, slog.New(slog.NewJSONHandler(h.logs, nil)))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(a.close)
		apps = append(apps, a)
	}
	sch := cfg.Notify.Schedule
	sealer, _ := secret.Parse(h.env["DATA_KEY"])
	aud := store.NewAudience(redisClient(t, db), sealer, store.AudienceOptions{Schedule: sch})

	t0 := time.Date(2027, 1, 1, 0, 30, 0, 0, sch.Loc)
	end := t0.AddDate(1, 0, 0)
	due := map[int64]time.Time{}
	off, recert := map[int64]bool{}, map[int64]time.Time{}
	for i := 0; i < records; i++ {
		id := int64(firstID + i)
		h.tg.AddChat(telegramtest.User{ID: id})
		if err := aud.Touch(ctx, id, "en", t0); err != nil {
			t.Fatal(err)
		}
		// Certified over the last year: due dates spread over this one
		// (and a little beyond it).
		d := t0.Add(time.Duration(i) * (380 * 24 * time.Hour / records)).Add(time.Duration(i%24) * time.Hour)
		due[id] = d
		if err := aud.SaveCert(ctx, id, "self", d.AddDate(-1, 0, 0), d, t0); err != nil {
			t.Fatal(err)
		}
		switch {
		case i%10 == 3:
			off[id] = true
			if err := aud.SetNotices(ctx, id, false); err != nil {
				t.Fatal(err)
			}
		case i%10 == 6 && d.Sub(t0) > 20*24*time.Hour:
			// Certifies again 10 days before it falls due, after the
			// 30-day reminder.
			recert[id] = d.AddDate(0, 0, -10)
		}
	}

	type sentAt struct {
		chat int64
		at   time.Time
	}
	var (
		mu   sync.Mutex
		log  []sentAt
		now  atomic.Int64
		step = 2 * time.Hour
	)
	h.tg.OnSend(func(chat int64) {
		mu.Lock()
		log = append(log, sentAt{chat, time.Unix(0, now.Load())})
		mu.Unlock()
	})
	for tick := t0; tick.Before(end); tick = tick.Add(step) {
		// Re-certifications between ticks.
		for id, at := range recert {
			if !at.After(tick) && at.After(tick.Add(-step)) {
				if err := aud.SaveCert(ctx, id, "self", at, at.AddDate(1, 0, 0), at); err != nil {
					t.Fatal(err)
				}
			}
		}
		// The window's edges too: 08:59:59 and 20:00:00 must send nothing.
		for _, at := range []time.Time{tick, edge(tick, sch, 9*time.Hour-time.Second), edge(tick, sch, 20*time.Hour)} {
			now.Store(at.UnixNano())
			var wg sync.WaitGroup
			for _, a := range apps {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if _, err := a.bulk.RemindOnce(ctx, at); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
		}
	}

	stageOf := regexp.MustCompile(`due in (\d+) day|ran out`)
	got := map[int64][]string{}
	for _, s := range log {
		if !sch.InWindow(s.at) {
			t.Errorf("reminder to %d at %v: outside the window", s.chat, s.at)
		}
		if off[s.chat] {
			t.Errorf("reminder to %d, who turned them off", s.chat)
		}
	}
	for id := range due {
		for _, m := range h.tg.Messages(id) {
			sm := stageOf.FindStringSubmatch(m.Text)
			if sm == nil {
				t.Errorf("unexpected message to %d: %q", id, m.Text)
				continue
			}
			got[id] = append(got[id], sm[0])
		}
	}
	total := 0
	for id, d := range due {
		var want []string
		add := func(d, from, until time.Time) {
			for i, st := range sch.Stages(d) {
				if !st.After(from) || !st.Before(until) {
					continue
				}
				if n := sch.StageDays(i); n >= 0 {
					want = append(want, "due in "+strconv.Itoa(n)+" day")
				} else {
					want = append(want, "ran out")
				}
			}
		}
		if !off[id] {
			// The old certification's reminders until it is replaced, then
			// the new one's: none of the old after re-certifying.
			until := end.Add(-step)
			if r, ok := recert[id]; ok {
				add(d, t0, r)
				add(r.AddDate(1, 0, 0), r, until)
			} else {
				add(d, t0, until)
			}
		}
		total += len(want)
		if !slices.Equal(got[id], want) {
			t.Errorf("%d (due %v): got %q, want %q", id, d, got[id], want)
		}
	}
	if total < 2500 {
		t.Fatalf("only %d reminders expected: the test covers too little", total)
	}
	t.Logf("%d reminders over the year, each once, both processes ticking together", total)
	_ = flows.AnyTurn
}

// edge is the moment d after local midnight on tick's day.
func edge(tick time.Time, sch flows.ReminderSchedule, d time.Duration) time.Time {
	l := tick.In(sch.Loc)
	return time.Date(l.Year(), l.Month(), l.Day(), 0, 0, 0, 0, sch.Loc).Add(d)
}

// TestReminderCertifyNow: a reminder arrives in the person's language, and
// its button starts the certification whatever they were doing, without
// an "out of date" notice.
func TestReminderCertifyNow(t *testing.T) {
	const db = 24
	h := newHarness(t, db, nil)
	app, _ := h.start()
	ctx := context.Background()
	u := telegramtest.User{ID: 600001, LanguageCode: "es"}
	h.tg.SendText(u, "/start")
	press(h, u, h.wait(u.ID, 1)[0], "Español")
	waitText(t, h.tg, u.ID, 10*time.Second, "Pulse un botón")
	h.tg.SendText(u, "/law") // somewhere else when the reminder comes
	n := len(h.wait(u.ID, 4))
	sealer, _ := secret.Parse(h.env["DATA_KEY"])
	aud := store.NewAudience(redisClient(t, db), sealer, store.AudienceOptions{})
	// Due in 37 days; the program's own ticker (wall clock) has nothing to
	// send before the 30-day reminder, a week from now.
	now := time.Now()
	if err := aud.SaveCert(ctx, u.ID, "self", now.AddDate(-1, 0, 37), now.AddDate(0, 0, 37), now); err != nil {
		t.Fatal(err)
	}
	sch := flows.DefaultSchedule()
	at := edge(now.AddDate(0, 0, 7), sch, 10*time.Hour)
	if sent, err := app.bulk.RemindOnce(ctx, at); err != nil || sent != 1 {
		t.Fatalf("reminders sent %d, %v", sent, err)
	}
	rem := h.wait(u.ID, n+1)[n]
	if !strings.Contains(rem.Text, "vence en 30 días") {
		t.Fatalf("reminder: %q", rem.Text)
	}
	_, cb := h.tg.PressButton(u, rem.ID, rem.Buttons[0][0].Data)
	waitText(t, h.tg, u.ID, 10*time.Second, "foto")
	deadline := time.Now().Add(5 * time.Second)
	for {
		if text, ok := h.tg.Answered(cb); ok {
			if text != "" {
				t.Fatalf("the press was answered with %q", text)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("press not answered")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The same reminder again: nothing.
	if sent, _ := app.bulk.RemindOnce(ctx, at.Add(time.Hour)); sent != 0 {
		t.Fatalf("%d reminders sent twice", sent)
	}
	// Blocking the bot (my_chat_member "kicked") marks the person
	// unreachable; unblocking and writing again undoes it.
	reach := func(want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			p, err := aud.Get(ctx, u.ID)
			if err == nil && p != nil && p.Reach == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("registry entry %+v %v; want reach %q", p, err, want)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	h.tg.BlockBot(u)
	reach(store.Blocked)
	h.tg.UnblockBot(u)
	reach(store.Reachable)
}

// A pensioner's own reminder reaches the helpers they linked too, in each
// helper's language, with a button to certify.
func TestReminderReachesLinkedHelper(t *testing.T) {
	const db = 25
	h := newHarness(t, db, nil)
	app, _ := h.start()
	ctx := context.Background()
	pensioner := telegramtest.User{ID: 600101, LanguageCode: "zh-CN"}
	helper := telegramtest.User{ID: 600102, LanguageCode: "en"}
	for _, u := range []telegramtest.User{pensioner, helper} {
		h.tg.SendText(u, "/start")
		h.wait(u.ID, 1)
	}
	press(h, pensioner, h.tg.Messages(pensioner.ID)[0], "简体中文")
	press(h, helper, h.tg.Messages(helper.ID)[0], "English")
	h.wait(pensioner.ID, 3)
	h.wait(helper.ID, 3)
	sealer, _ := secret.Parse(h.env["DATA_KEY"])
	rdb := redisClient(t, db)
	family := store.NewFamily(rdb, sealer)
	code, err := family.Invite(ctx, pensioner.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := family.Accept(ctx, code, helper.ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	aud := store.NewAudience(rdb, sealer, store.AudienceOptions{})
	now := time.Now()
	if err := aud.SaveCert(ctx, pensioner.ID, "self", now.AddDate(-1, 0, 37), now.AddDate(0, 0, 37), now); err != nil {
		t.Fatal(err)
	}
	at := edge(now.AddDate(0, 0, 7), flows.DefaultSchedule(), 10*time.Hour)
	if sent, err := app.bulk.RemindOnce(ctx, at); err != nil || sent != 2 {
		t.Fatalf("reminders sent %d, %v; want the pensioner's and the helper's", sent, err)
	}
	own := waitText(t, h.tg, pensioner.ID, 10*time.Second, "30 天到期")
	theirs := waitText(t, h.tg, helper.ID, 10*time.Second, "certification of the person you help is due in 30 days")
	if len(own.Buttons) == 0 || len(theirs.Buttons) == 0 {
		t.Fatal("a reminder without its button")
	}
}
