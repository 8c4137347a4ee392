package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"pensionbot/flows"
	"pensionbot/internal/redistest"
	"pensionbot/internal/telegramtest"
	"pensionbot/locales"
	"pensionbot/secret"
	"pensionbot/store"
)

// TestBroadcastOnRedisCluster: the registry, broadcasts, the rate limiter
// and reminders work on a three-node Redis Cluster (every script's keys in
// one slot).
func TestBroadcastOnRedisCluster(t *testing.T) {
	cluster := redistest.MustStartCluster(t, 3)
	h := newHarness(t, 0, map[string]string{"REDIS_URL": strings.Join(cluster.Addrs(), ","), "STAFF_IDS": "9001", "OCR": "none"})
	app, _ := h.start()
	ctx := context.Background()
	rdb := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cluster.Addrs()})
	t.Cleanup(func() { rdb.Close() })
	sealer, _ := secret.Parse(h.env["DATA_KEY"])
	aud := store.NewAudience(rdb, sealer, store.AudienceOptions{})
	const people, firstID = 60, 700001
	now := time.Now()
	for i := 0; i < people; i++ {
		id := int64(firstID + i)
		if err := aud.Touch(ctx, id, locales.Supported[i%4], now); err != nil {
			t.Fatal(err)
		}
		if err := aud.SaveCert(ctx, id, "self", now.AddDate(-1, 0, 60), now.AddDate(0, 0, 60), now); err != nil {
			t.Fatal(err)
		}
		h.tg.AddChat(telegramtest.User{ID: id})
	}
	staff := telegramtest.User{ID: 9001, LanguageCode: "en"}
	h.tg.SendText(staff, "/start")
	press(h, staff, h.wait(staff.ID, 1)[0], "English")
	waitText(t, h.tg, staff.ID, 10*time.Second, "What would you like")
	// Through the staff's steps: the count reads the registry on the
	// cluster.
	h.tg.SendText(staff, "/broadcast")
	press(h, staff, waitText(t, h.tg, staff.ID, 10*time.Second, "Who should get it"), "due soon")
	press(h, staff, waitText(t, h.tg, staff.ID, 10*time.Second, "how many days"), "90")
	waitText(t, h.tg, staff.ID, 10*time.Second, "60 people")
	press(h, staff, waitText(t, h.tg, staff.ID, 10*time.Second, "Which message"), "Certification is open")
	press(h, staff, waitText(t, h.tg, staff.ID, 10*time.Second, "Send it now"), "Send")
	waitText(t, h.tg, staff.ID, 30*time.Second, "finished", "Sent: 60 of 60")
	for i := 0; i < people; i++ {
		if n := h.tg.SentTo(int64(firstID + i)); n != 1 {
			t.Fatalf("%d got %d messages", firstID+i, n)
		}
	}
	// Reminders: 30 days before, a month from now (the program's own
	// ticker, on the wall clock, has nothing to send yet).
	sch := flows.DefaultSchedule()
	sent, err := app.bulk.RemindOnce(ctx, edge(now.AddDate(0, 0, 31), sch, 15*time.Hour))
	if err != nil || sent != people {
		t.Fatalf("reminders on the cluster: %d sent, %v", sent, err)
	}
	bs := store.NewBroadcasts(rdb, store.BroadcastOptions{})
	if l, err := bs.List(ctx, 5); err != nil || len(l) != 1 || l[0].Sent != people {
		t.Fatalf("audit on the cluster: %+v %v", l, err)
	}
}
