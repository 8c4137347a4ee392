package main

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"pensionbot/flows"
	"pensionbot/internal/telegramtest"
	"pensionbot/locales"
	"pensionbot/secret"
	"pensionbot/store"
)

// TestBroadcastPauseResumeCancel: the buttons under the progress message
// pause sending, resume it and cancel the rest; the report says so.
func TestBroadcastPauseResumeCancel(t *testing.T) {
	const (
		db      = 23
		people  = 300
		firstID = 500001
		staff   = int64(9001)
	)
	h := newHarness(t, db, map[string]string{"STAFF_IDS": "9001", "BROADCAST_RATE": "30", "LOG_LEVEL": "info"})
	ctx := context.Background()
	rdb := registerPeople(t, h, db, firstID, people)
	var sent atomic.Int64
	h.tg.OnSend(func(chat int64) {
		if chat >= firstID {
			sent.Add(1)
		}
	})
	h.start()
	su := startInEnglish(t, h, staff)
	bs := store.NewBroadcasts(rdb, store.BroadcastOptions{})
	if err := bs.Create(ctx, flows.BroadcastDraft{ID: "9001-1", By: staff, Filter: flows.AudienceFilter{Kind: flows.AudienceLang, Lang: "en"},
		Template: "closed", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	want := people/4 + 1 // English readers, the staff member too
	waitSent := func(n int64) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for sent.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("only %d sent, waiting for %d", sent.Load(), n)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitSent(10)
	progress := waitText(t, h.tg, staff, 10*time.Second, "Broadcast #9001-1", "Sent")
	press(h, su, progress, "Pause")
	waitText(t, h.tg, staff, 5*time.Second, "Pausing the broadcast")
	time.Sleep(time.Second) // batches in flight finish
	paused := sent.Load()
	time.Sleep(1500 * time.Millisecond)
	if n := sent.Load(); n != paused || n >= int64(want) {
		t.Fatalf("sending went on while paused: %d then %d (of %d)", paused, n, want)
	}
	// The progress message now offers Resume.
	deadline := time.Now().Add(10 * time.Second)
	for {
		m := h.tg.Messages(staff)[progressIndex(h.tg.Messages(staff), progress.ID)]
		if strings.Contains(m.Text, "paused") && hasButton(m, "Resume") {
			press(h, su, m, "Resume")
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("progress message not showing the pause: %q %+v", m.Text, m.Buttons)
		}
		time.Sleep(50 * time.Millisecond)
	}
	waitSent(paused + 10)
	press(h, su, h.tg.Messages(staff)[progressIndex(h.tg.Messages(staff), progress.ID)], "Cancel the rest")
	report := waitText(t, h.tg, staff, 10*time.Second, "Broadcast #9001-1 cancelled")
	time.Sleep(time.Second)
	if n := sent.Load(); n >= int64(want) {
		t.Fatalf("all %d sent despite the cancel", n)
	}
	m, _ := bs.Meta(ctx, "9001-1")
	if m.Status != flows.BroadcastCancelled || int64(m.Counts["sent"]) > sent.Load()+1 || m.Total != want {
		t.Fatalf("record %+v; %d sent", m, sent.Load())
	}
	t.Logf("report: %s", report.Text)
}

// registerPeople puts people IDs from firstID in the audience registry of
// database db, reading the supported languages in turn, and makes them
// chats the fake knows. It returns a client of that database.
func registerPeople(t testing.TB, h *harness, db int, firstID int64, people int) *redis.Client {
	t.Helper()
	sealer, _ := secret.Parse(h.env["DATA_KEY"])
	rdb := redisClient(t, db)
	aud := store.NewAudience(rdb, sealer, store.AudienceOptions{})
	for i := 0; i < people; i++ {
		id := firstID + int64(i)
		if err := aud.Touch(context.Background(), id, locales.Supported[i%4], time.Now()); err != nil {
			t.Fatal(err)
		}
		h.tg.AddChat(telegramtest.User{ID: id})
	}
	return rdb
}

func progressIndex(ms []telegramtest.Message, id int) int {
	for i, m := range ms {
		if m.ID == id {
			return i
		}
	}
	return 0
}

func hasButton(m telegramtest.Message, text string) bool {
	for _, row := range m.Buttons {
		for _, b := range row {
			if strings.Contains(b.Text, text) {
				return true
			}
		}
	}
	return false
}

// At the default BROADCAST_RATE a broadcast stays within Telegram's flood
// control (about 30 messages a second across chats), which the fake
// applies here: no recipient's message is refused, and everyone gets it
// once.
func TestBroadcastWithinTelegramLimits(t *testing.T) {
	const (
		db      = 61
		people  = 150
		firstID = 610001
		staff   = int64(9611)
	)
	h := newHarness(t, db, map[string]string{"STAFF_IDS": "9611"})
	ctx := context.Background()
	rdb := registerPeople(t, h, db, firstID, people)
	h.tg.FloodControl(30, 1, 3)
	h.start()
	startInEnglish(t, h, staff)
	bs := store.NewBroadcasts(rdb, store.BroadcastOptions{})
	start := time.Now()
	if err := bs.Create(ctx, flows.BroadcastDraft{ID: "9611-1", By: staff, Filter: flows.AudienceFilter{Kind: flows.AudienceAll},
		Template: "scam", Created: time.Now()}); err != nil {
		t.Fatal(err)
	}
	report := waitText(t, h.tg, staff, 60*time.Second, "finished", "Sent:")
	took := time.Since(start)
	for i := 0; i < people; i++ {
		if n := h.tg.SentTo(int64(firstID + i)); n != 1 {
			t.Fatalf("person %d got %d messages", firstID+i, n)
		}
	}
	// The staff chat may see a refusal (its menu, then at once the
	// progress message: a burst in one chat), which the bot waits out;
	// no recipient's message is ever refused.
	for _, chat := range h.tg.Floods() {
		if chat != "9611" {
			t.Fatalf("Telegram's flood control refused sends in chats %v; report: %s", h.tg.Floods(), report.Text)
		}
	}
	// 150 people at 25 a second take about six seconds (a few go at once
	// after a quiet spell).
	if took < 4500*time.Millisecond {
		t.Fatalf("sent to %d people in %v: faster than the rate", people, took)
	}
	t.Logf("%d people in %v, no recipient's message refused", people, took.Round(100*time.Millisecond))
}

// startInEnglish has a person start the bot and choose English, and waits
// for the main menu.
func startInEnglish(t *testing.T, h *harness, id int64) telegramtest.User {
	t.Helper()
	u := telegramtest.User{ID: id, LanguageCode: "en"}
	h.tg.SendText(u, "/start")
	press(h, u, h.wait(id, 1)[0], "English")
	waitText(t, h.tg, id, 10*time.Second, "What would you like")
	return u
}
