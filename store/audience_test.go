package store

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"pensionbot/flows"
	"pensionbot/secret"
)

func newAudience(t testing.TB, db int) (*Audience, *redis.Client) {
	t.Helper()
	c := srv.Client(t, db)
	sl, err := secret.Parse(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	return NewAudience(c, sl, AudienceOptions{Buckets: 16}), c
}

func TestAudienceRegistry(t *testing.T) {
	ctx := context.Background()
	a, rdb := newAudience(t, 40)
	now := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC)
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(a.Touch(ctx, 1, "en", now))
	must(a.Touch(ctx, 2, "zh-Hans", now))
	must(a.Touch(ctx, 3, "zh-Hans", now))
	must(a.Touch(ctx, 4, "es", now))
	must(a.SetNotices(ctx, 2, false))
	must(a.SetReach(ctx, 3, Blocked))
	must(a.SetReach(ctx, 99, Blocked)) // unknown: not added
	must(a.SetDistrict(ctx, 4, "海淀区"))
	must(a.SaveCert(ctx, 1, "self", now.AddDate(-1, 0, 10), now.AddDate(0, 0, 10), now))
	must(a.SaveCert(ctx, 4, "self", now.AddDate(-2, 0, 0), now.AddDate(-1, 0, 0), now))

	if p, _ := a.Get(ctx, 99); p != nil {
		t.Fatalf("unknown person added by a reachability mark: %+v", p)
	}
	for _, tc := range []struct {
		f    flows.AudienceFilter
		want int
		excl int
	}{
		{flows.AudienceFilter{Kind: flows.AudienceAll}, 2, 2},
		{flows.AudienceFilter{Kind: flows.AudienceLang, Lang: "zh-Hans"}, 0, 2},
		{flows.AudienceFilter{Kind: flows.AudienceDue, Days: 30}, 1, 0},
		{flows.AudienceFilter{Kind: flows.AudienceDue, Days: 7}, 0, 0},
		{flows.AudienceFilter{Kind: flows.AudienceLapsed}, 1, 0},
		{flows.AudienceFilter{Kind: flows.AudienceUncert}, 1, 2},
		{flows.AudienceFilter{Kind: flows.AudienceDistrict, District: "海淀区"}, 1, 0},
	} {
		c, err := a.Count(ctx, tc.f, now)
		if err != nil || c.Total != tc.want || c.Excluded != tc.excl {
			t.Errorf("%+v: %+v %v; want %d (%d excluded)", tc.f, c, err, tc.want, tc.excl)
		}
	}
	// The district is sealed: redis-cli does not show it.
	for n := 0; n < a.Buckets(); n++ {
		people, _ := bucketKeys(n)
		for _, v := range rdb.HGetAll(ctx, people).Val() {
			if containsStr(v, "海淀") {
				t.Fatalf("district stored in clear: %s", v)
			}
		}
	}
	if ds, _ := a.Districts(ctx, 5); len(ds) != 1 || ds[0] != "海淀区" {
		t.Fatalf("districts: %v", ds)
	}
	// Writing again means reachable again.
	must(a.Touch(ctx, 3, "zh-Hans", now))
	if p, _ := a.Get(ctx, 3); p == nil || p.Reach != Reachable {
		t.Fatalf("after a visit: %+v", p)
	}
	if on, _ := a.NoticesOn(ctx, 2); on {
		t.Fatal("notices still on")
	}
	// /forget removes the person and their reminders.
	must(a.Forget(ctx, 1))
	if p, _ := a.Get(ctx, 1); p != nil {
		t.Fatalf("forgotten person still there: %+v", p)
	}
	if due, _ := a.DueReminders(ctx, now.AddDate(1, 0, 0), 100); len(due) != 0 {
		t.Fatalf("reminders of a forgotten person: %+v", due)
	}
}

func containsStr(s, sub string) bool {
	return len(sub) > 0 && len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0)
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

// A reminder is advanced by one caller only; a new certification moves it
// so that an old claim fails.
func TestReminderAdvanceOnce(t *testing.T) {
	ctx := context.Background()
	a, _ := newAudience(t, 41)
	now := time.Date(2026, 1, 1, 10, 0, 0, 0, time.UTC)
	due := now.AddDate(0, 2, 0)
	if err := a.SaveCert(ctx, 7, "self", now, due, now); err != nil {
		t.Fatal(err)
	}
	later := due.AddDate(0, 0, -20)
	rs, err := a.DueReminders(ctx, later, 10)
	if err != nil || len(rs) != 1 {
		t.Fatalf("due: %+v %v", rs, err)
	}
	next, _ := flows.DefaultSchedule().Next(due, later)
	ok1, _ := a.Advance(ctx, rs[0], next)
	ok2, _ := a.Advance(ctx, rs[0], next)
	if !ok1 || ok2 {
		t.Fatalf("advance twice: %v %v", ok1, ok2)
	}
	// Re-certified: the old schedule's claim fails.
	rs, _ = a.DueReminders(ctx, due, 10)
	if err := a.SaveCert(ctx, 7, "self", due.AddDate(0, 0, -1), due.AddDate(1, 0, 0), due.AddDate(0, 0, -1)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := a.Advance(ctx, rs[0], time.Time{}); ok {
		t.Fatal("a reminder of the replaced certification was claimed")
	}
}

func fillAudience(b testing.TB, a *Audience, rdb *redis.Client, n int) {
	ctx := context.Background()
	langs := []string{"zh-Hans", "zh-Hans", "zh-Hans", "zh-Hant", "en", "es"}
	pipe := rdb.Pipeline()
	for i := 1; i <= n; i++ {
		people, _ := bucketKeys(a.Bucket(int64(i)))
		pipe.HSet(ctx, people, strconv.Itoa(i), fmt.Sprintf(`{"l":%q,"s":20400}`, langs[i%len(langs)]))
		if pipe.Len() >= 10000 {
			if _, err := pipe.Exec(ctx); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, err := pipe.Exec(ctx); err != nil {
		b.Fatal(err)
	}
}

func TestQueueAndChunks(t *testing.T) {
	ctx := context.Background()
	a, rdb := newAudience(t, 42)
	fillAudience(t, a, rdb, 2500)
	if err := a.SetReach(ctx, 10, Blocked); err != nil {
		t.Fatal(err)
	}
	bs := NewBroadcasts(rdb, BroadcastOptions{ChunkSize: 1000})
	d := flows.BroadcastDraft{ID: "9-1", By: 9, Filter: flows.AudienceFilter{Kind: flows.AudienceAll}, Template: "scam", Confirm: true, Created: time.Now()}
	if err := bs.Create(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := bs.Control(ctx, d.ID, "confirm", 9); err == nil {
		t.Fatal("the author confirmed their own broadcast")
	}
	if st, err := bs.Control(ctx, d.ID, "confirm", 8); err != nil || st != flows.BroadcastConfirmed {
		t.Fatalf("confirm by another: %q %v", st, err)
	}
	total, err := bs.Queue(ctx, d.ID, a, time.Now())
	if err != nil || total != 2499 {
		t.Fatalf("queued %d, %v; want 2499", total, err)
	}
	seen := map[int64]bool{}
	for {
		c, done, err := bs.ClaimChunk(ctx, d.ID, time.Minute, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
		if c == nil {
			t.Fatal("chunks leased by nobody")
		}
		res := map[int64]string{}
		for _, r := range c.To {
			if seen[r.User] {
				t.Fatalf("%d queued twice", r.User)
			}
			seen[r.User] = true
			res[r.User] = StatusSent
		}
		if err := bs.Record(ctx, c, res); err != nil {
			t.Fatal(err)
		}
		if _, err := bs.FinishChunk(ctx, c, 0, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	m, _ := bs.Meta(ctx, d.ID)
	if len(seen) != 2499 || m.Status != flows.BroadcastDone || m.Counts["sent"] != 2499 || m.ConfirmedBy != 8 {
		t.Fatalf("after all chunks: %d seen, %+v", len(seen), m)
	}
	list, err := bs.List(ctx, 5)
	if err != nil || len(list) != 1 || list[0].Sent != 2499 || list[0].Status != flows.BroadcastDone {
		t.Fatalf("audit: %+v %v", list, err)
	}
}

// BenchmarkQueue1M fixes the audience of a broadcast to a million people:
// scan the registry (256 buckets) and write the chunks.
func BenchmarkQueue1M(b *testing.B) {
	ctx := context.Background()
	c := srv.Client(b, 43)
	sl, _ := secret.Parse(secret.NewKey())
	a := NewAudience(c, sl, AudienceOptions{})
	fillAudience(b, a, c, 1_000_000)
	bs := NewBroadcasts(c, BroadcastOptions{})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		d := flows.BroadcastDraft{ID: fmt.Sprintf("bench-%d", i), By: 1, Filter: flows.AudienceFilter{Kind: flows.AudienceAll}, Template: "scam", Created: time.Now()}
		if err := bs.Create(ctx, d); err != nil {
			b.Fatal(err)
		}
		n, err := bs.Queue(ctx, d.ID, a, time.Now())
		if err != nil || n != 1_000_000 {
			b.Fatalf("queued %d: %v", n, err)
		}
	}
}

func TestBackfillOnce(t *testing.T) {
	ctx := context.Background()
	a, rdb := newAudience(t, 44)
	recs := NewPhotos(rdb, a.sealer, 0, 0)
	now := time.Now()
	for _, u := range []int64{1, 2} {
		if err := recs.SaveRecord(ctx, u, flows.Me, flows.Record{CertifiedOn: now.AddDate(0, -6, 0), ValidUntil: now.AddDate(0, 6, 0)}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := a.Backfill(ctx, recs, now); err != nil || n != 2 {
		t.Fatalf("backfilled %d, %v", n, err)
	}
	if p, _ := a.Get(ctx, 2); p == nil || p.Certs["self"].Due != now.AddDate(0, 6, 0).Unix() {
		t.Fatalf("entry %+v", p)
	}
	if n, _ := a.Backfill(ctx, recs, now); n != 0 {
		t.Fatalf("second backfill did %d", n)
	}
}
