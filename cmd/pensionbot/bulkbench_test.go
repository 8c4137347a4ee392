package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"pensionbot/flows"
	"pensionbot/store"
)

// BenchmarkBroadcastPaid sends broadcasts to 10,000 people with
// BROADCAST_PAID=true at BROADCAST_RATE=1000 through the real program
// against the fake Bot API, and reports the rate the sender sustained
// from its first message to its last.
func BenchmarkBroadcastPaid(b *testing.B) {
	const (
		db      = 22
		people  = 10000
		firstID = 400001
	)
	h := newHarness(b, db, map[string]string{"BROADCAST_PAID": "true", "BROADCAST_RATE": "1000", "LOG_LEVEL": "warn"})
	ctx := context.Background()
	rdb := registerPeople(b, h, db, firstID, people)
	var sent atomic.Int64
	var first, last atomic.Int64
	h.tg.OnSend(func(chat int64) {
		now := time.Now().UnixNano()
		first.CompareAndSwap(0, now)
		last.Store(now)
		sent.Add(1)
	})
	h.start()
	bs := store.NewBroadcasts(rdb, store.BroadcastOptions{})
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := sent.Load()
		first.Store(0)
		err := bs.Create(ctx, flows.BroadcastDraft{ID: fmt.Sprintf("bench-%d", i), By: firstID,
			Filter: flows.AudienceFilter{Kind: flows.AudienceAll}, Template: "closed", Created: time.Now()})
		if err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(2 * time.Minute)
		for sent.Load()-start < people {
			if time.Now().After(deadline) {
				b.Fatalf("only %d sent", sent.Load()-start)
			}
			time.Sleep(10 * time.Millisecond)
		}
		span := time.Duration(last.Load() - first.Load())
		b.ReportMetric(float64(people-1)/span.Seconds(), "msgs/s")
	}
}
