package store

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"
)

// An update that finds nobody busy is applied at once, without being
// stored; a redelivery while it is applied waits in the inbox and is
// dropped at the commit; one after the commit is a duplicate.
func TestFastPathAndRedelivery(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t, 20, Options{})
	e, err := s.Enqueue(ctx, 11, 100, []byte("a"), false)
	if err != nil || e.Lease == nil || string(e.Lease.Item.Payload) != "a" {
		t.Fatalf("fast path: %+v %v", e, err)
	}
	if n, _ := c.Exists(ctx, "{u:11}:inbox").Result(); n != 0 {
		t.Fatal("an update applied at once was stored in the inbox")
	}
	again, err := s.Enqueue(ctx, 11, 100, []byte("a"), false)
	if err != nil || again.Status != Queued || !again.Busy {
		t.Fatalf("redelivery while applying: %+v %v", again, err)
	}
	cm, err := s.Commit(ctx, e.Lease, Save, []byte("state1"), nil)
	if err != nil || cm.More {
		t.Fatalf("the queued copy must be dropped, not applied: %+v %v", cm, err)
	}
	if d, _ := s.Enqueue(ctx, 11, 100, []byte("a"), false); d.Status != Duplicate {
		t.Fatalf("after the commit: %v", d.Status)
	}
	if l, _, _ := s.Acquire(ctx, 11); l != nil {
		t.Fatalf("acquired an inbox with only a dropped copy: %+v", l)
	}
	next, _ := s.Enqueue(ctx, 11, 101, []byte("b"), false)
	if next.Lease == nil || string(next.Lease.State) != "state1" {
		t.Fatalf("next update: %+v", next)
	}
}

// The committer delivers its own effects; effects committed while another
// process delivers are handed over by its acknowledgement, in commit order.
func TestOutboxOrderAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, 21, Options{})
	e1, _ := s.Enqueue(ctx, 12, 1, []byte("u1"), false)
	c1, err := s.Commit(ctx, e1.Lease, Save, []byte("s1"), []byte("E1"))
	if err != nil || c1.Claim == nil || string(c1.Claim.Entries[0]) != "E1" {
		t.Fatalf("first commit: %+v %v", c1, err)
	}
	// Another process applies the next update while E1 is being sent.
	e2, _ := s.Enqueue(ctx, 12, 2, []byte("u2"), false)
	c2, err := s.Commit(ctx, e2.Lease, Save, []byte("s2"), []byte("E2"))
	if err != nil || c2.Claim != nil || c2.OutboxBusy <= 0 {
		t.Fatalf("second commit must leave delivery to the first: %+v %v", c2, err)
	}
	e3, _ := s.Enqueue(ctx, 12, 3, []byte("u3"), false)
	if _, err := s.Commit(ctx, e3.Lease, Save, []byte("s3"), []byte("E3")); err != nil {
		t.Fatal(err)
	}
	res := s.AckMany(ctx, []Ack{{Claim: c1.Claim}})
	if res[0].Err != nil || res[0].Lost || fmt.Sprintf("%s", c1.Claim.Entries) != "[E2 E3]" {
		t.Fatalf("handed over %s, %+v", c1.Claim.Entries, res[0])
	}
	res = s.AckMany(ctx, []Ack{{Claim: c1.Claim}})
	if res[0].Err != nil || len(c1.Claim.Entries) != 0 {
		t.Fatalf("final ack: %+v %s", res[0], c1.Claim.Entries)
	}
	if n, _ := s.OutboxLen(ctx, 12); n != 0 {
		t.Fatalf("%d entries left", n)
	}
}

// Effects of a process that stopped before acknowledging are found by
// Pending once its claim lapses, and delivered by whoever claims them.
func TestLeftOverOutboxIsPickedUp(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, 22, Options{Lease: 200 * time.Millisecond})
	e, _ := s.Enqueue(ctx, 13, 1, []byte("u"), false)
	if _, err := s.Commit(ctx, e.Lease, Save, []byte("s"), []byte("E")); err != nil {
		t.Fatal(err)
	}
	// A queued update whose lease holder stopped, too.
	q, _ := s.Enqueue(ctx, 14, 1, []byte("u"), true)
	if q.Lease == nil {
		t.Fatal("no lease")
	}
	if c, retry, _ := s.ClaimOutbox(ctx, 13); c != nil || retry <= 0 {
		t.Fatalf("claimed while the committer may still deliver: %+v %v", c, retry)
	}
	pending := func() []int64 {
		var out []int64
		if err := s.Pending(ctx, false, func(u int64) { out = append(out, u) }); err != nil {
			t.Fatal(err)
		}
		slices.Sort(out)
		return out
	}
	if p := pending(); len(p) != 0 {
		t.Fatalf("pending before the claims lapsed: %v", p)
	}
	var all []int64
	s.Pending(ctx, true, func(u int64) { all = append(all, u) })
	if slices.Sort(all); fmt.Sprint(all) != "[13 14]" {
		t.Fatalf("all with work, held or not: %v", all)
	}
	time.Sleep(300 * time.Millisecond)
	if p := pending(); fmt.Sprint(p) != "[13 14]" {
		t.Fatalf("pending after the claims lapsed: %v", p)
	}
	c, _, err := s.ClaimOutbox(ctx, 13)
	if err != nil || c == nil || fmt.Sprintf("%s", c.Entries) != "[E]" {
		t.Fatalf("claim left-over outbox: %+v %v", c, err)
	}
	if r := s.AckMany(ctx, []Ack{{Claim: c}}); r[0].Err != nil || r[0].Lost {
		t.Fatalf("ack: %+v", r[0])
	}
	l, _, err := s.Acquire(ctx, 14)
	if err != nil || l == nil || string(l.Item.Payload) != "u" {
		t.Fatalf("take over the inbox: %+v %v", l, err)
	}
}

// A claim that lapsed cannot acknowledge: the new holder goes on.
func TestLapsedClaimCannotAck(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, 23, Options{Lease: 100 * time.Millisecond})
	e, _ := s.Enqueue(ctx, 15, 1, []byte("u"), false)
	cm, _ := s.Commit(ctx, e.Lease, Save, []byte("s"), []byte("E"))
	time.Sleep(150 * time.Millisecond)
	taken, _, _ := s.ClaimOutbox(ctx, 15)
	if taken == nil {
		t.Fatal("lapsed claim not taken over")
	}
	if r := s.AckMany(ctx, []Ack{{Claim: cm.Claim}}); !r[0].Lost {
		t.Fatalf("stale holder acknowledged: %+v", r[0])
	}
}
