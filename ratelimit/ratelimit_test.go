package ratelimit_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"pensionbot/internal/redistest"
	"pensionbot/ratelimit"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

// Two limiters (two replicas) sending bulk in batches together keep to the
// bulk rate, not twice it.
func TestBulkRateSharedByReplicas(t *testing.T) {
	ctx := context.Background()
	opt := ratelimit.Options{Rate: 300, BulkRate: 200}
	a := ratelimit.New(srv.Client(t, 1), "tg", opt)
	b := ratelimit.New(srv.Client(t, 1), "tg", opt)
	var sent atomic.Int64
	// The first half second spends the burst; then count 1.5 s.
	start := time.Now()
	counting, deadline := start.Add(500*time.Millisecond), start.Add(2*time.Second)
	var wg sync.WaitGroup
	for _, l := range []*ratelimit.Limiter{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(deadline) {
				n, wait, err := l.Take(ctx, ratelimit.Bulk, 16)
				if err != nil {
					t.Error(err)
					return
				}
				if time.Now().After(counting) {
					sent.Add(int64(n))
				}
				if n == 0 {
					time.Sleep(wait)
				}
			}
		}()
	}
	wg.Wait()
	got := sent.Load()
	if got < 270 || got > 330 {
		t.Fatalf("sent %d in 1.5 s at 200/s shared by two replicas; want about 300", got)
	}
}

// Replies go through while bulk uses its share; bulk waits once replies
// have eaten into the bucket.
func TestRepliesBeforeBulk(t *testing.T) {
	ctx := context.Background()
	l := ratelimit.New(srv.Client(t, 2), "tg", ratelimit.Options{Rate: 30, Burst: 10})
	// Replies spend the whole burst.
	for i := 0; i < 10; i++ {
		n, _, err := l.Take(ctx, ratelimit.Reply, 1)
		if err != nil || n != 1 {
			t.Fatalf("reply %d: granted %d, err %v", i, n, err)
		}
	}
	if n, wait, _ := l.Take(ctx, ratelimit.Bulk, 5); n != 0 || wait <= 0 {
		t.Fatalf("bulk granted %d (wait %v) while replies hold the bucket", n, wait)
	}
	if n, _, _ := l.Take(ctx, ratelimit.Notice, 1); n != 0 {
		t.Fatalf("a notice went out with the burst spent by replies")
	}
	// A reply still gets through within one interval.
	start := time.Now()
	if err := l.Wait(ctx, ratelimit.Reply); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Fatalf("reply waited %v", d)
	}
}

// A pause (429) stops bulk on every replica for its whole length, and only
// bulk.
func TestPause(t *testing.T) {
	ctx := context.Background()
	l := ratelimit.New(srv.Client(t, 3), "tg", ratelimit.Options{Rate: 30})
	other := ratelimit.New(srv.Client(t, 3), "tg", ratelimit.Options{Rate: 30})
	if err := l.Pause(ctx, 3*time.Hour); err != nil {
		t.Fatal(err)
	}
	if err := l.Pause(ctx, time.Second); err != nil { // shorter: kept at 3 h
		t.Fatal(err)
	}
	n, wait, err := other.Take(ctx, ratelimit.Bulk, 1)
	if err != nil || n != 0 || wait < 2*time.Hour {
		t.Fatalf("bulk during a 3 h pause: granted %d, wait %v, err %v", n, wait, err)
	}
	if p, _ := other.Paused(ctx); p < 2*time.Hour {
		t.Fatalf("paused for %v", p)
	}
	if n, _, _ := other.Take(ctx, ratelimit.Reply, 1); n != 1 {
		t.Fatal("a reply was paused with bulk")
	}
}
