package main

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"pensionbot/internal/redistest"
	"pensionbot/internal/telegramtest"
)

// The real program on a three-node Redis Cluster, given as an address list:
// every script's keys share a hash slot, or the cluster would refuse them.
func TestRunsOnRedisCluster(t *testing.T) {
	cluster := redistest.MustStartCluster(t, 3)
	h := newHarness(t, 0, map[string]string{"REDIS_URL": strings.Join(cluster.Addrs(), ","), "STAFF_IDS": "5005", "OCR": "none"})
	h.start()
	for i := range 5 { // several people, spread over the slots
		u := telegramtest.User{ID: int64(5000 + i), LanguageCode: "en"}
		h.tg.SendText(u, "/start")
		press(h, u, h.wait(u.ID, 1)[0], "English")
		h.wait(u.ID, 3)
		h.tg.SendText(u, "/status")
		if ms := h.wait(u.ID, 4); !strings.Contains(ms[3].Text, "no certification") {
			t.Fatalf("status on the cluster: %q", ms[3].Text)
		}
		h.tg.SendText(u, "/forget")
		press(h, u, h.wait(u.ID, 5)[4], "Yes")
		if ms := h.wait(u.ID, 6); !strings.Contains(ms[5].Text, "deleted everything") {
			t.Fatalf("forget on the cluster: %q", ms[5].Text)
		}
	}
	staff := telegramtest.User{ID: 5005, LanguageCode: "en"}
	h.tg.SendText(staff, "/review")
	// A new person is greeted first; the command runs once the language
	// is chosen.
	press(h, staff, h.wait(staff.ID, 2)[1], "English")
	if ms := h.wait(staff.ID, 4); !strings.Contains(ms[3].Text, "No cases are waiting") {
		t.Fatalf("review queue on the cluster: %q", ms[3].Text)
	}

	// A whole certification: photos, the review queue, the record.
	u := telegramtest.User{ID: 5010, LanguageCode: "en"}
	h.tg.SendText(u, "/start")
	press(h, u, waitFor(t, h, u.ID, "Which language"), "English")
	press(h, u, waitFor(t, h, u.ID, "What would you like"), "Certify now")
	press(h, u, waitFor(t, h, u.ID, "Do you agree"), "I agree")
	h.tg.SendPhoto(u, fixture(t, "li_jianguo_photo.jpg"), "")
	waitFor(t, h, u.ID, "type your name")
	h.tg.SendText(u, "李建国")
	waitFor(t, h, u.ID, "18-character ID number")
	h.tg.SendText(u, "53010219200508011x")
	press(h, u, waitFor(t, h, u.ID, "Are they correct"), "Correct")
	waitFor(t, h, u.ID, "share your phone")
	h.tg.SendContact(u, "+8613812345678", u.ID)
	press(h, u, waitFor(t, h, u.ID, "household registration"), "Same as on my ID card")
	press(h, u, waitFor(t, h, u.ID, "green channel"), "Use the green channel")
	press(h, u, waitFor(t, h, u.ID, "photo of your face"), "I agree")
	h.tg.SendPhoto(u, pigoSample(t), "")
	press(h, u, waitFor(t, h, u.ID, "Shall I send it"), "Send")
	waitFor(t, h, u.ID, "A reviewer will check it")
	h.tg.SendText(staff, "/review")
	press(h, staff, waitFor(t, h, staff.ID, "Case for review"), "Approve")
	waitFor(t, h, u.ID, "You are certified")

	if strings.Contains(h.logs.String(), "CROSSSLOT") {
		t.Fatal("a command crossed hash slots")
	}
}

// With REDIS_MASTER_NAME the address list names Sentinels, which say where
// the master is.
func TestRunsBehindSentinel(t *testing.T) {
	s, err := redistest.StartSentinel("pension")
	if err != nil {
		if os.Getenv("CI") != "true" && errors.Is(err, redistest.ErrNoRedis) {
			t.Skip(err)
		}
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	h := newHarness(t, 0, map[string]string{"REDIS_URL": s.Sentinel.Addr, "REDIS_MASTER_NAME": "pension"})
	h.start()
	u := telegramtest.User{ID: 5100, LanguageCode: "es"}
	h.tg.SendText(u, "/start")
	press(h, u, h.wait(u.ID, 1)[0], "Español")
	h.wait(u.ID, 3)
	keys, err := redis.NewClient(&redis.Options{Addr: s.Master.Addr}).Keys(context.Background(), "{u:5100}:*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("state not on the master the Sentinel named: %v %v", keys, err)
	}
}
