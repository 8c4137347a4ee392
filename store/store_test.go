package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"pensionbot/domain"
	"pensionbot/flows"
	"pensionbot/internal/redistest"
	"pensionbot/secret"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

func newStore(t *testing.T, db int, opt Options) (*Store, *redis.Client) {
	t.Helper()
	c := srv.Client(t, db)
	sl, err := secret.Parse(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	return New(c, sl, opt), c
}

func TestEnqueueCommitInOrder(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, 1, Options{})
	e, err := s.Enqueue(ctx, 7, 10, []byte("a"), true)
	if err != nil || e.Status != Queued || e.Lease == nil {
		t.Fatalf("first enqueue: %+v %v", e, err)
	}
	l := e.Lease
	if l.State != nil || string(l.Item.Payload) != "a" {
		t.Fatalf("lease: %+v", l)
	}
	// While held, later updates queue behind it.
	for i, p := range []string{"c", "b"} {
		e2, err := s.Enqueue(ctx, 7, int64(12-i), []byte(p), true)
		if err != nil || e2.Status != Queued || e2.Lease != nil || !e2.Busy || e2.RetryIn <= 0 {
			t.Fatalf("enqueue while held: %+v %v", e2, err)
		}
	}
	var got []string
	state := ""
	for {
		got = append(got, string(l.Item.Payload))
		state += string(l.Item.Payload)
		c, err := s.Commit(ctx, l, Save, []byte(state), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !c.More {
			break
		}
		if string(l.State) != state {
			t.Fatalf("lease state %q, want %q", l.State, state)
		}
	}
	if fmt.Sprint(got) != "[a b c]" {
		t.Fatalf("applied %v, want update_id order", got)
	}
	st, err := s.Load(ctx, 7)
	if err != nil || string(st) != "abc" {
		t.Fatalf("state %q %v", st, err)
	}
}

func TestDuplicateAndFull(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, 2, Options{MaxInbox: 2})
	e, _ := s.Enqueue(ctx, 1, 1, []byte("x"), true)
	commitRelease(t, s, e.Lease, Save, []byte("s1"))
	if e, _ := s.Enqueue(ctx, 1, 1, []byte("x"), true); e.Status != Duplicate || e.Lease != nil {
		t.Fatalf("redelivered update: %+v", e)
	}
	held, _ := s.Enqueue(ctx, 1, 2, nil, true)
	s.Enqueue(ctx, 1, 3, nil, true)
	if e, _ := s.Enqueue(ctx, 1, 4, nil, true); e.Status != Full {
		t.Fatalf("flood: %+v", e)
	}
	if held.Lease == nil {
		t.Fatal("no lease")
	}
}

func TestLeaseLostAndTakeover(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t, 3, Options{Lease: 50 * time.Millisecond})
	e, _ := s.Enqueue(ctx, 5, 1, []byte("x"), true)
	time.Sleep(80 * time.Millisecond) // the holder stalls past its lease
	l2, _, err := s.Acquire(ctx, 5)
	if err != nil || l2 == nil || l2.Item.UpdateID != 1 {
		t.Fatalf("takeover: %+v %v", l2, err)
	}
	if _, err := s.Commit(ctx, e.Lease, Save, []byte("old"), nil); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("stale holder committed: %v", err)
	}
	if err := s.Renew(ctx, e.Lease); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("stale holder renewed: %v", err)
	}
	if cm, err := s.Commit(ctx, l2, Save, []byte("new"), nil); err != nil || cm.More {
		t.Fatal(err)
	}
	// The last commit lets the lease go.
	if n, _ := c.Exists(ctx, "{u:5}:lock").Result(); n != 0 {
		t.Fatal("lock left behind")
	}
	if l, _, _ := s.Acquire(ctx, 5); l != nil {
		t.Fatal("acquired an empty inbox")
	}
}

func TestForgetDeletesState(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t, 4, Options{})
	p := NewPhotos(c, s.sealer, 0, 0)
	if err := p.PutPhoto(ctx, 9, flows.Me, "face", []byte("jpeg")); err != nil {
		t.Fatal(err)
	}
	if err := p.SaveRecord(ctx, 9, flows.Me, domain.Record{Channel: "green"}); err != nil {
		t.Fatal(err)
	}
	e, _ := s.Enqueue(ctx, 9, 1, []byte("x"), true)
	commitRelease(t, s, e.Lease, Save, []byte("secret state"))
	e, _ = s.Enqueue(ctx, 9, 2, []byte("y"), true)
	commitRelease(t, s, e.Lease, Forget, nil)
	keys, _ := c.Keys(ctx, "*").Result()
	if len(keys) != 0 {
		t.Fatalf("keys left after forget: %v", keys)
	}
}

func commitRelease(t *testing.T, s *Store, l *Lease, mode Mode, state []byte) {
	t.Helper()
	c, err := s.Commit(context.Background(), l, mode, state, nil)
	more := c.More
	if err != nil || more {
		t.Fatalf("commit: more=%v err=%v", more, err)
	}
}

func TestSensitiveStateExpiresSooner(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t, 9, Options{IdleTTL: 30 * time.Hour, SensitiveTTL: time.Hour})
	e, _ := s.Enqueue(ctx, 3, 1, []byte("x"), true)
	commitRelease(t, s, e.Lease, SaveSensitive, []byte("name and number"))
	if ttl, _ := c.PTTL(ctx, "{u:3}:state").Result(); ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("sensitive state ttl %v, want 1h", ttl)
	}
	if st, _ := s.Load(ctx, 3); string(st) != "name and number" {
		t.Fatalf("state %q", st)
	}
	e, _ = s.Enqueue(ctx, 3, 2, []byte("y"), true)
	commitRelease(t, s, e.Lease, Save, []byte("menu"))
	if ttl, _ := c.PTTL(ctx, "{u:3}:state").Result(); ttl <= 29*time.Hour {
		t.Fatalf("plain state ttl %v, want 30h", ttl)
	}
	// Personal data typed again: the shorter time applies again.
	e, _ = s.Enqueue(ctx, 3, 3, []byte("z"), true)
	commitRelease(t, s, e.Lease, SaveSensitive, []byte("name again"))
	if ttl, _ := c.PTTL(ctx, "{u:3}:state").Result(); ttl > time.Hour {
		t.Fatalf("sensitive state ttl %v after a plain one, want 1h", ttl)
	}
}

// LoadMany reads many people's states in one go: nil for someone unknown.
func TestLoadMany(t *testing.T) {
	ctx := context.Background()
	s, _ := newStore(t, 24, Options{})
	for _, u := range []int64{5, 6} {
		e, _ := s.Enqueue(ctx, u, 1, []byte("x"), true)
		commitRelease(t, s, e.Lease, Save, []byte(fmt.Sprintf("state of %d", u)))
	}
	states, errs := s.LoadMany(ctx, []int64{6, 99, 5})
	if string(states[0]) != "state of 6" || states[1] != nil || string(states[2]) != "state of 5" {
		t.Fatalf("states %q", states)
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("state %d: %v", i, err)
		}
	}
}

func TestPhotosAndRecords(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t, 8, Options{})
	p := NewPhotos(c, s.sealer, time.Hour, 0)
	if got, err := p.Photo(ctx, 1, flows.Me, "card"); got != nil || err != nil {
		t.Fatalf("missing photo: %v %v", got, err)
	}
	photo := []byte("\xff\xd8 a jpeg 张秀兰")
	if err := p.PutPhoto(ctx, 1, flows.Me, "card", photo); err != nil {
		t.Fatal(err)
	}
	if got, err := p.Photo(ctx, 1, flows.Me, "card"); err != nil || !bytes.Equal(got, photo) {
		t.Fatalf("photo: %q %v", got, err)
	}
	if ttl, _ := c.PTTL(ctx, "{u:1}:photo:card").Result(); ttl <= 0 || ttl > time.Hour {
		t.Fatalf("photo ttl %v", ttl)
	}
	dump, _ := c.Dump(ctx, "{u:1}:photo:card").Bytes()
	if bytes.Contains(dump, []byte("张秀兰")) {
		t.Fatal("photo stored in the clear")
	}
	if err := p.DeletePhotos(ctx, 1, flows.Me); err != nil {
		t.Fatal(err)
	}
	if n, _ := c.Exists(ctx, "{u:1}:photo:card").Result(); n != 0 {
		t.Fatal("photo not deleted")
	}
	rec := domain.Record{CertifiedOn: time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC), Channel: "green", By: "staff", MaskedNumber: "110105********002X"}
	if err := p.SaveRecord(ctx, 1, flows.Me, rec); err != nil {
		t.Fatal(err)
	}
	got, err := p.Record(ctx, 1, flows.Me)
	if err != nil || got == nil || !got.CertifiedOn.Equal(rec.CertifiedOn) || got.Channel != "green" {
		t.Fatalf("record: %+v %v", got, err)
	}
}

func TestIdleStateExpires(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t, 5, Options{IdleTTL: time.Hour})
	e, _ := s.Enqueue(ctx, 3, 1, []byte("x"), true)
	s.Commit(ctx, e.Lease, Save, []byte("s"), nil)
	ttl, _ := c.PTTL(ctx, "{u:3}:state").Result()
	if ttl <= 59*time.Minute || ttl > time.Hour {
		t.Fatalf("state ttl %v", ttl)
	}
}

func TestNothingReadableAtRest(t *testing.T) {
	ctx := context.Background()
	s, c := newStore(t, 6, Options{})
	secretText := []byte("张秀兰 11010519491231002X 13800138000")
	e, _ := s.Enqueue(ctx, 4, 1, secretText, true)
	s.Enqueue(ctx, 4, 2, secretText, true)
	s.Commit(ctx, e.Lease, Save, secretText, nil)
	keys, _ := c.Keys(ctx, "*").Result()
	for _, k := range keys {
		dump, err := c.Dump(ctx, k).Bytes()
		if err != nil {
			t.Fatal(err)
		}
		for _, part := range bytes.Fields(secretText) {
			if bytes.Contains(dump, part) {
				t.Fatalf("%s holds %q in plain text", k, part)
			}
		}
	}
}

// Several "processes" (separate clients) receive one person's updates
// interleaved and concurrently; every update is applied exactly once, and
// in update_id order as long as each arrived before the next was sent.
func TestConcurrentProcessesApplyOnceInOrder(t *testing.T) {
	ctx := context.Background()
	key := secret.NewKey()
	var stores []*Store
	for range 3 {
		c := redis.NewClient(&redis.Options{Addr: srv.Addr, DB: 7})
		t.Cleanup(func() { c.Close() })
		sl, _ := secret.Parse(key)
		stores = append(stores, New(c, sl, Options{MaxInbox: 1000}))
	}
	srv.Client(t, 7) // flush
	const n = 200
	var wg sync.WaitGroup
	drain := func(s *Store, l *Lease) {
		for l != nil {
			st := string(l.State) + strconv.FormatInt(l.Item.UpdateID, 10) + ","
			c, err := s.Commit(ctx, l, Save, []byte(st), nil)
			more := c.More
			if err != nil {
				t.Error(err)
				return
			}
			if !more {
				return
			}
		}
	}
	for i := 1; i <= n; i++ {
		s := stores[i%len(stores)]
		e, err := s.Enqueue(ctx, 42, int64(i), []byte("u"), true)
		if err != nil {
			t.Fatal(err)
		}
		// Deliver the same update again through another process.
		if d, _ := stores[(i+1)%len(stores)].Enqueue(ctx, 42, int64(i), []byte("u"), true); d.Status != Duplicate {
			t.Fatalf("update %d redelivered: %v", i, d.Status)
		}
		if e.Lease != nil {
			wg.Add(1)
			go func() { defer wg.Done(); drain(s, e.Lease) }()
		}
	}
	wg.Wait()
	// A last holder may have released between our enqueue and its check;
	// drain anything left.
	for {
		l, _, err := stores[0].Acquire(ctx, 42)
		if err != nil {
			t.Fatal(err)
		}
		if l == nil {
			break
		}
		drain(stores[0], l)
	}
	st, _ := stores[0].Load(ctx, 42)
	want := ""
	for i := 1; i <= n; i++ {
		want += strconv.Itoa(i) + ","
	}
	if string(st) != want {
		t.Fatalf("applied\n%s\nwant\n%s", st, want)
	}
}
