package review_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"pensionbot/domain"
	"pensionbot/internal/redistest"
	"pensionbot/review"
	"pensionbot/secret"
)

var srv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &srv) }

// clock is a fake clock the tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func sealer(t testing.TB) *secret.Sealer {
	t.Helper()
	s, err := secret.Parse(secret.NewKey())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newQueue(t testing.TB, rdb redis.UniversalClient, c *clock, opt review.Options) *review.Queue {
	opt.Now = c.Now
	return review.New(rdb, sealer(t), opt)
}

func photo(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sub(id, channel string, at time.Time) domain.Submission {
	return domain.Submission{
		CaseID: id, User: 4242, Name: "张秀英", Number: "11010519491231002X", Age: 75,
		Sex: "female", Phone: "13912345678", District: "朝阳区", Channel: channel,
		LivenessCode: "4711", Submitted: at,
	}
}

func claimID(t *testing.T, q *review.Queue, staff int64) string {
	t.Helper()
	c, err := q.Claim(context.Background(), staff)
	if err != nil {
		t.Fatalf("claim by %d: %v", staff, err)
	}
	if c == nil {
		return ""
	}
	return c.CaseID
}

func TestOrder(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	q := newQueue(t, srv.Client(t, 1), c, review.Options{})
	t0 := c.Now()
	// Submitted out of order on purpose: order follows channel, then the
	// submission time, not the order of Submit calls.
	for _, s := range []domain.Submission{
		sub("gen2", domain.ChannelGeneral, t0.Add(2*time.Minute)),
		sub("grn2", domain.ChannelGreen, t0.Add(3*time.Minute)),
		sub("gen1", domain.ChannelGeneral, t0.Add(1*time.Minute)),
		sub("grn1", domain.ChannelGreen, t0.Add(4*time.Second)),
		sub("gen3", domain.ChannelGeneral, t0.Add(5*time.Minute)),
	} {
		d, err := q.Submit(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if d != (domain.Decision{CaseID: s.CaseID, Outcome: domain.OutcomePending, By: "staff"}) {
			t.Fatalf("submit %s: %+v", s.CaseID, d)
		}
	}
	green, general, err := q.Pending(ctx)
	if err != nil || green != 2 || general != 3 {
		t.Fatalf("pending = %d, %d, %v; want 2, 3", green, general, err)
	}
	var got []string
	for staff := int64(1); ; staff++ {
		cs, err := q.Claim(ctx, staff)
		if err != nil {
			t.Fatal(err)
		}
		if cs == nil {
			break
		}
		got = append(got, cs.CaseID)
		if cs.Position != 5-len(got) {
			t.Errorf("%s: position %d, want %d", cs.CaseID, cs.Position, 5-len(got))
		}
	}
	if want := "grn1 grn2 gen1 gen2 gen3"; strings.Join(got, " ") != want {
		t.Fatalf("claim order %q, want %q", strings.Join(got, " "), want)
	}
	green, general, err = q.Pending(ctx)
	if err != nil || green != 0 || general != 0 {
		t.Fatalf("pending after claims = %d, %d, %v; want 0, 0 (claimed cases do not wait)", green, general, err)
	}
}

func TestClaimRoundTrip(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	q := newQueue(t, srv.Client(t, 2), c, review.Options{})
	s := sub("rt", domain.ChannelGeneral, c.Now())
	s.Card, s.Face, s.Liveness = photo(t, 3000), photo(t, 2000), photo(t, 1000)
	if _, err := q.Submit(ctx, s); err != nil {
		t.Fatal(err)
	}
	c.Add(time.Second)
	cs, err := q.Claim(ctx, 7)
	if err != nil || cs == nil {
		t.Fatalf("claim: %v, %v", cs, err)
	}
	if cs.ClaimedBy != 7 || !cs.ClaimedAt.Equal(c.Now()) || cs.Position != 0 {
		t.Errorf("claim meta: by %d at %v pos %d", cs.ClaimedBy, cs.ClaimedAt, cs.Position)
	}
	// The photos are named, not read: Photo reads one when it is sent.
	if !slices.Equal(cs.Photos, []string{"card", "face", "liveness"}) {
		t.Errorf("photos %v", cs.Photos)
	}
	want := s
	want.Card, want.Face, want.Liveness = nil, nil, nil
	if !cs.Submitted.Equal(want.Submitted) {
		t.Errorf("submitted %v, want %v", cs.Submitted, want.Submitted)
	}
	cs.Submitted, want.Submitted = time.Time{}, time.Time{}
	if fmt.Sprintf("%#v", cs.Submission) != fmt.Sprintf("%#v", want) {
		t.Errorf("claimed submission differs:\n got %#v\nwant %#v", cs.Submission, want)
	}
	// One photo at a time, for the message that shows it; none once the
	// case is decided.
	if p, err := q.Photo(ctx, "rt", "face"); err != nil || !bytes.Equal(p, s.Face) {
		t.Fatalf("face photo: %d bytes, %v", len(p), err)
	}
	if p, err := q.Photo(ctx, "rt", "passport"); p != nil || err != nil {
		t.Fatalf("unknown kind: %d bytes, %v", len(p), err)
	}
	defer func() {
		if _, _, err := q.Decide(ctx, "rt", 7, domain.OutcomeApproved, ""); err != nil {
			t.Fatal(err)
		}
		if p, err := q.Photo(ctx, "rt", "card"); p != nil || err != nil {
			t.Fatalf("photo of a decided case: %d bytes, %v", len(p), err)
		}
	}()
	// Asking again gives the same case, not a second one.
	if _, err := q.Submit(ctx, sub("other", domain.ChannelGreen, c.Now())); err != nil {
		t.Fatal(err)
	}
	if id := claimID(t, q, 7); id != "rt" {
		t.Fatalf("second claim by the same staff gave %q, want rt", id)
	}
	if id := claimID(t, q, 8); id != "other" {
		t.Fatalf("other staff got %q, want other", id)
	}
}

func TestGeneratedID(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	q := newQueue(t, srv.Client(t, 3), c, review.Options{})
	d1, err := q.Submit(ctx, sub("", domain.ChannelGreen, c.Now()))
	if err != nil {
		t.Fatal(err)
	}
	d2, err := q.Submit(ctx, sub("", domain.ChannelGreen, c.Now()))
	if err != nil {
		t.Fatal(err)
	}
	if len(d1.CaseID) < 16 || d1.CaseID == d2.CaseID || strings.Trim(d1.CaseID, "0123456789abcdef") != "" {
		t.Fatalf("generated ids %q, %q", d1.CaseID, d2.CaseID)
	}
	if g, _, _ := q.Pending(ctx); g != 2 {
		t.Fatalf("pending green %d, want 2", g)
	}
	if _, err := q.Submit(ctx, sub("bad:id{x}", domain.ChannelGreen, c.Now())); err == nil {
		t.Fatal("submit with a key-breaking id succeeded")
	}
}

func TestIdempotentSubmit(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	rdb := srv.Client(t, 4)
	q := newQueue(t, rdb, c, review.Options{})
	s := sub("same", domain.ChannelGeneral, c.Now())
	for i := 0; i < 3; i++ {
		d, err := q.Submit(ctx, s)
		if err != nil || d.Outcome != domain.OutcomePending {
			t.Fatalf("submit %d: %+v, %v", i, d, err)
		}
	}
	if _, general, _ := q.Pending(ctx); general != 1 {
		t.Fatalf("pending general %d after 3 submits, want 1", general)
	}
	if id := claimID(t, q, 1); id != "same" {
		t.Fatalf("claim %q", id)
	}
	// Submitting again while claimed must not queue it beside the claim.
	if _, err := q.Submit(ctx, s); err != nil {
		t.Fatal(err)
	}
	if id := claimID(t, q, 2); id != "" {
		t.Fatalf("second staff got %q while the case was claimed", id)
	}
	if _, _, err := q.Decide(ctx, "same", 1, domain.OutcomeRejected, domain.ReasonPhotoUnclear); err != nil {
		t.Fatal(err)
	}
	// After the decision a resubmission (a redelivered update) reports
	// the decision and queues nothing.
	d, err := q.Submit(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	if d.Outcome != domain.OutcomeRejected || d.Reason != domain.ReasonPhotoUnclear || d.By != "staff" || !d.DecidedAt.Equal(c.Now()) {
		t.Fatalf("resubmit after decision: %+v", d)
	}
	if id := claimID(t, q, 2); id != "" {
		t.Fatalf("decided case queued again: %q", id)
	}
	if n, _ := rdb.Exists(ctx, "{review}:case:same").Result(); n != 0 {
		t.Fatal("resubmission after the decision stored the case again")
	}
}

func TestConcurrentClaims(t *testing.T) {
	const (
		db     = 5
		staffN = 8
		cases  = 50
	)
	ctx := context.Background()
	c := newClock()
	// One client per staff member, as if each ran in its own process.
	// Client flushes the database, so make them all before submitting.
	clients := make([]*redis.Client, staffN)
	for i := range clients {
		clients[i] = srv.Client(t, db)
	}
	sl := sealer(t)
	q0 := review.New(clients[0], sl, review.Options{Now: c.Now})
	for i := 0; i < cases; i++ {
		ch := domain.ChannelGeneral
		if i%3 == 0 {
			ch = domain.ChannelGreen
		}
		if _, err := q0.Submit(ctx, sub(fmt.Sprintf("c%02d", i), ch, c.Now().Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu      sync.Mutex
		claimed = map[string][]int64{}
		wg      sync.WaitGroup
		start   = make(chan struct{})
	)
	errs := make(chan error, staffN)
	for i := 0; i < staffN; i++ {
		staff := int64(100 + i)
		q := review.New(clients[i], sl, review.Options{Now: c.Now})
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for {
				cs, err := q.Claim(ctx, staff)
				if err != nil {
					errs <- err
					return
				}
				if cs == nil {
					return
				}
				mu.Lock()
				claimed[cs.CaseID] = append(claimed[cs.CaseID], staff)
				mu.Unlock()
				if _, _, err := q.Decide(ctx, cs.CaseID, staff, domain.OutcomeApproved, ""); err != nil {
					errs <- fmt.Errorf("staff %d decide %s: %w", staff, cs.CaseID, err)
					return
				}
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(claimed) != cases {
		t.Errorf("%d cases claimed, want %d", len(claimed), cases)
	}
	for id, by := range claimed {
		if len(by) != 1 {
			t.Errorf("case %s claimed by %v, want exactly one staff member", id, by)
		}
	}
}

func TestConcurrentHolds(t *testing.T) {
	// Staff who claim and keep their cases must all hold different ones,
	// also when each asks several times at once.
	const db = 6
	ctx := context.Background()
	c := newClock()
	clients := make([]*redis.Client, 8)
	for i := range clients {
		clients[i] = srv.Client(t, db)
	}
	sl := sealer(t)
	q0 := review.New(clients[0], sl, review.Options{Now: c.Now})
	for i := 0; i < 20; i++ {
		if _, err := q0.Submit(ctx, sub(fmt.Sprintf("h%02d", i), domain.ChannelGeneral, c.Now().Add(time.Duration(i)*time.Second))); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu    sync.Mutex
		holds = map[int64]map[string]bool{}
		wg    sync.WaitGroup
	)
	for i := 0; i < 8; i++ {
		holds[int64(200+i)] = map[string]bool{}
	}
	start := make(chan struct{})
	for i := 0; i < 8; i++ {
		staff := int64(200 + i)
		q := review.New(clients[i], sl, review.Options{Now: c.Now})
		for j := 0; j < 3; j++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				cs, err := q.Claim(ctx, staff)
				if err != nil || cs == nil {
					t.Errorf("claim by %d: %v, %v", staff, cs, err)
					return
				}
				mu.Lock()
				holds[staff][cs.CaseID] = true
				mu.Unlock()
			}()
		}
	}
	close(start)
	wg.Wait()
	seen := map[string]int64{}
	for staff, ids := range holds {
		if len(ids) != 1 {
			t.Errorf("staff %d holds %v, want one case", staff, ids)
		}
		for id := range ids {
			if other, ok := seen[id]; ok {
				t.Errorf("case %s held by %d and %d", id, other, staff)
			}
			seen[id] = staff
		}
	}
	if _, general, _ := q0.Pending(ctx); general != 20-8 {
		t.Errorf("pending %d, want 12", general)
	}
}

func TestClaimExpiry(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	q := newQueue(t, srv.Client(t, 7), c, review.Options{ClaimTTL: time.Minute})
	t0 := c.Now()
	for _, s := range []domain.Submission{
		sub("old", domain.ChannelGeneral, t0),
		sub("new", domain.ChannelGeneral, t0.Add(time.Second)),
	} {
		if _, err := q.Submit(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if id := claimID(t, q, 1); id != "old" {
		t.Fatalf("staff 1 got %q", id)
	}
	c.Add(59 * time.Second)
	if id := claimID(t, q, 2); id != "new" {
		t.Fatalf("staff 2 got %q before the claim expired", id)
	}
	c.Add(time.Second) // staff 1's claim is now expired
	// An expired claim is no claim, even before anybody else took the case.
	if _, _, err := q.Decide(ctx, "old", 1, domain.OutcomeApproved, ""); !errors.Is(err, review.ErrNotClaimant) {
		t.Fatalf("decide on an expired claim: %v, want ErrNotClaimant", err)
	}
	if g, n, _ := q.Pending(ctx); g != 0 || n != 1 {
		t.Fatalf("pending %d, %d after expiry; want the case back in the queue", g, n)
	}
	// The case went back in its old place and someone else takes it.
	if id := claimID(t, q, 3); id != "old" {
		t.Fatalf("staff 3 got %q, want the returned case", id)
	}
	if _, _, err := q.Decide(ctx, "old", 1, domain.OutcomeApproved, ""); !errors.Is(err, review.ErrNotClaimant) {
		t.Fatalf("old claimant decide: %v, want ErrNotClaimant", err)
	}
	// Staff 1 no longer holds anything, so asks and finds the queue empty.
	if id := claimID(t, q, 1); id != "" {
		t.Fatalf("old claimant got %q", id)
	}
	if _, _, err := q.Decide(ctx, "old", 3, domain.OutcomeApproved, ""); err != nil {
		t.Fatalf("new claimant decide: %v", err)
	}
}

func TestClaimExpiryRealTime(t *testing.T) {
	// The same with the real clock, so nothing depends on the fake one.
	ctx := context.Background()
	q := review.New(srv.Client(t, 8), sealer(t), review.Options{ClaimTTL: 150 * time.Millisecond})
	if _, err := q.Submit(ctx, sub("rt", domain.ChannelGreen, time.Time{})); err != nil {
		t.Fatal(err)
	}
	if c, err := q.Claim(ctx, 1); err != nil || c == nil || c.CaseID != "rt" {
		t.Fatalf("claim: %v, %v", c, err)
	}
	if c, err := q.Claim(ctx, 2); err != nil || c != nil {
		t.Fatalf("claim while held: %v, %v", c, err)
	}
	time.Sleep(200 * time.Millisecond)
	if c, err := q.Claim(ctx, 2); err != nil || c == nil || c.CaseID != "rt" {
		t.Fatalf("claim after expiry: %v, %v", c, err)
	}
	if _, _, err := q.Decide(ctx, "rt", 1, domain.OutcomeApproved, ""); !errors.Is(err, review.ErrNotClaimant) {
		t.Fatalf("old claimant: %v", err)
	}
}

func TestDecide(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	q := newQueue(t, srv.Client(t, 9), c, review.Options{})
	s := sub("d1", domain.ChannelGreen, c.Now())
	s.User = 777
	if _, err := q.Submit(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, _, err := q.Decide(ctx, "d1", 1, domain.OutcomeApproved, ""); !errors.Is(err, review.ErrNotClaimant) {
		t.Fatalf("decide unclaimed: %v", err)
	}
	claimID(t, q, 1)
	if _, _, err := q.Decide(ctx, "d1", 2, domain.OutcomeApproved, ""); !errors.Is(err, review.ErrNotClaimant) {
		t.Fatalf("decide by another staff member: %v", err)
	}
	for _, bad := range [][2]string{{domain.OutcomePending, ""}, {"maybe", ""}, {domain.OutcomeRejected, ""}, {domain.OutcomeRejected, "because"}} {
		if _, _, err := q.Decide(ctx, "d1", 1, bad[0], bad[1]); err == nil || errors.Is(err, review.ErrDecided) {
			t.Fatalf("decide %q/%q: %v, want a validation error", bad[0], bad[1], err)
		}
	}
	c.Add(time.Minute)
	d, user, err := q.Decide(ctx, "d1", 1, domain.OutcomeRejected, domain.ReasonFaceMismatch)
	if err != nil {
		t.Fatal(err)
	}
	want := domain.Decision{CaseID: "d1", Outcome: domain.OutcomeRejected, Reason: domain.ReasonFaceMismatch, By: "staff", DecidedAt: c.Now()}
	if d != want || user != 777 {
		t.Fatalf("decide = %+v, %d; want %+v, 777", d, user, want)
	}
	for _, staff := range []int64{1, 2} {
		if _, _, err := q.Decide(ctx, "d1", staff, domain.OutcomeApproved, ""); !errors.Is(err, review.ErrDecided) {
			t.Fatalf("second decision by %d: %v, want ErrDecided", staff, err)
		}
	}
	if err := q.Release(ctx, "d1", 1); !errors.Is(err, review.ErrDecided) {
		t.Fatalf("release after decision: %v", err)
	}
	if _, _, err := q.Decide(ctx, "nope", 1, domain.OutcomeApproved, ""); !errors.Is(err, review.ErrNoCase) {
		t.Fatalf("decide unknown: %v", err)
	}
	// The staff member is free for the next case.
	if _, err := q.Submit(ctx, sub("d2", domain.ChannelGeneral, c.Now())); err != nil {
		t.Fatal(err)
	}
	if id := claimID(t, q, 1); id != "d2" {
		t.Fatalf("next claim %q", id)
	}
}

func TestRelease(t *testing.T) {
	ctx := context.Background()
	c := newClock()
	q := newQueue(t, srv.Client(t, 10), c, review.Options{})
	t0 := c.Now()
	q.Submit(ctx, sub("a", domain.ChannelGeneral, t0))
	q.Submit(ctx, sub("b", domain.ChannelGeneral, t0.Add(time.Second)))
	if id := claimID(t, q, 1); id != "a" {
		t.Fatal(id)
	}
	if err := q.Release(ctx, "a", 2); !errors.Is(err, review.ErrNotClaimant) {
		t.Fatalf("release by non-claimant: %v", err)
	}
	if err := q.Release(ctx, "zzz", 1); !errors.Is(err, review.ErrNoCase) {
		t.Fatalf("release unknown: %v", err)
	}
	if err := q.Release(ctx, "a", 1); err != nil {
		t.Fatal(err)
	}
	if _, n, _ := q.Pending(ctx); n != 2 {
		t.Fatalf("pending %d after release, want 2", n)
	}
	// Back in its old place, ahead of the newer case.
	if id := claimID(t, q, 2); id != "a" {
		t.Fatalf("after release staff 2 got %q, want a", id)
	}
	if _, _, err := q.Decide(ctx, "a", 1, domain.OutcomeApproved, ""); !errors.Is(err, review.ErrNotClaimant) {
		t.Fatalf("decide after own release: %v", err)
	}
}

// dumps returns every key of the database with its DUMP, without
// compression so plaintext would show.
func dumps(t *testing.T, rdb *redis.Client) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, k := range keys {
		d, err := rdb.Dump(ctx, k).Result()
		if err != nil {
			t.Fatalf("dump %s: %v", k, err)
		}
		out[k] = []byte(d)
	}
	return out
}

func leaks(dump map[string][]byte, secrets map[string][]byte) []string {
	var found []string
	for k, d := range dump {
		for what, s := range secrets {
			if bytes.Contains(d, s) || strings.Contains(k, string(s)) {
				found = append(found, what+" in "+k)
			}
		}
	}
	return found
}

func TestNoPersonalDataAtRest(t *testing.T) {
	ctx := context.Background()
	rdb := srv.Client(t, 11)
	// DUMP compresses long strings; turn that off so a plaintext copy
	// could not hide from the search below.
	old, err := rdb.ConfigGet(ctx, "rdbcompression").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.ConfigSet(ctx, "rdbcompression", "no").Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.ConfigSet(context.Background(), "rdbcompression", old["rdbcompression"]) })

	c := newClock()
	q := newQueue(t, rdb, c, review.Options{})
	s := sub("pd", domain.ChannelGeneral, c.Now())
	s.Card, s.Face, s.Liveness = photo(t, 4096), photo(t, 4096), photo(t, 4096)
	secrets := map[string][]byte{
		"name":     []byte(s.Name),
		"number":   []byte(s.Number),
		"number17": []byte(s.Number[:17]),
		"phone":    []byte(s.Phone),
		"district": []byte(s.District),
		"card":     s.Card[1000:1064],
		"face":     s.Face[2000:2064],
		"liveness": s.Liveness[3000:3064],
	}
	// The search works: a plaintext copy is found.
	rdb.Set(ctx, "probe", "x"+s.Name+"y"+s.Number+string(s.Card), 0)
	if got := leaks(dumps(t, rdb), secrets); len(got) < 3 {
		t.Fatalf("probe not detected: %v", got)
	}
	rdb.Del(ctx, "probe")

	if _, err := q.Submit(ctx, s); err != nil {
		t.Fatal(err)
	}
	if got := leaks(dumps(t, rdb), secrets); len(got) > 0 {
		t.Fatalf("plaintext at rest while queued: %v", got)
	}
	if ttl := rdb.PTTL(ctx, "{review}:case:pd").Val(); ttl <= 0 || ttl > 7*24*time.Hour {
		t.Fatalf("case TTL %v, want up to 7 days", ttl)
	}
	cs, err := q.Claim(ctx, 5)
	if err != nil || cs == nil || !slices.Contains(cs.Photos, "liveness") {
		t.Fatalf("claim: %v", err)
	}
	if p, err := q.Photo(ctx, "pd", "liveness"); err != nil || !bytes.Equal(p, s.Liveness) {
		t.Fatalf("liveness photo: %v", err)
	}
	if _, _, err := q.Decide(ctx, "pd", 5, domain.OutcomeApproved, ""); err != nil {
		t.Fatal(err)
	}
	dump := dumps(t, rdb)
	if got := leaks(dump, secrets); len(got) > 0 {
		t.Fatalf("personal data left after the decision: %v", got)
	}
	for k, d := range dump {
		if strings.HasPrefix(k, "{review}:case:") {
			t.Errorf("case key %s left after the decision", k)
		}
		if len(d) > 512 {
			t.Errorf("key %s is %d bytes after the decision: photos left?", k, len(d))
		}
	}
	rec := rdb.HGetAll(ctx, "{review}:done:pd").Val()
	want := map[string]string{
		"case": "pd", "user": "4242", "channel": "general", "masked": "110105********002X",
		"outcome": "approved", "reason": "", "by": "staff", "staff": "5",
		"decided_at": fmt.Sprint(c.Now().UnixMilli()),
	}
	if fmt.Sprint(rec) != fmt.Sprint(want) {
		t.Errorf("record %v, want %v", rec, want)
	}
	if ttl := rdb.PTTL(ctx, "{review}:done:pd").Val(); ttl < 399*24*time.Hour {
		t.Errorf("record TTL %v, want about 400 days", ttl)
	}
}

func TestWithdraw(t *testing.T) {
	ctx := context.Background()
	rdb := srv.Client(t, 12)
	c := newClock()
	q := newQueue(t, rdb, c, review.Options{})
	for _, id := range []string{"w1", "w2"} {
		s := sub(id, domain.ChannelGreen, c.Now())
		s.Card, s.Face = photo(t, 500), photo(t, 500)
		if _, err := q.Submit(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if id := claimID(t, q, 9); id != "w1" {
		t.Fatal(id)
	}
	if err := q.Withdraw(ctx, "w2"); err != nil {
		t.Fatal(err)
	}
	if err := q.Withdraw(ctx, "w1"); err != nil { // claimed: staff loses it
		t.Fatal(err)
	}
	if err := q.Withdraw(ctx, "w1"); err != nil {
		t.Fatalf("second withdraw: %v", err)
	}
	if _, _, err := q.Decide(ctx, "w1", 9, domain.OutcomeApproved, ""); !errors.Is(err, review.ErrNoCase) {
		t.Fatalf("decide withdrawn: %v", err)
	}
	if id := claimID(t, q, 9); id != "" {
		t.Fatalf("claim after withdraw: %q", id)
	}
	if g, n, _ := q.Pending(ctx); g != 0 || n != 0 {
		t.Fatalf("pending %d, %d", g, n)
	}
	// Nothing is left, not even in the indexes.
	if keys := rdb.Keys(ctx, "*").Val(); len(keys) != 0 {
		t.Fatalf("keys left after withdraw: %v", keys)
	}
}

func TestCaseTTL(t *testing.T) {
	ctx := context.Background()
	rdb := srv.Client(t, 13)
	c := newClock()
	q := newQueue(t, rdb, c, review.Options{CaseTTL: time.Hour, ClaimTTL: 2 * time.Hour})
	q.Submit(ctx, sub("e1", domain.ChannelGreen, c.Now()))
	q.Submit(ctx, sub("e2", domain.ChannelGeneral, c.Now()))
	if id := claimID(t, q, 1); id != "e1" {
		t.Fatal(id)
	}
	c.Add(time.Hour)
	if g, n, _ := q.Pending(ctx); g != 0 || n != 0 {
		t.Fatalf("pending %d, %d after CaseTTL", g, n)
	}
	if _, _, err := q.Decide(ctx, "e1", 1, domain.OutcomeApproved, ""); !errors.Is(err, review.ErrNoCase) {
		t.Fatalf("decide expired case: %v", err)
	}
	if keys := rdb.Keys(ctx, "*").Val(); len(keys) != 0 {
		t.Fatalf("keys left after CaseTTL: %v", keys)
	}
}

func TestErrorsCarryNoPersonalData(t *testing.T) {
	ctx := context.Background()
	rdb := srv.Client(t, 14)
	c := newClock()
	q := newQueue(t, rdb, c, review.Options{})
	s := sub("x1", domain.ChannelGreen, c.Now())
	q.Submit(ctx, s)
	claimID(t, q, 1)
	// A case sealed with another key cannot be opened: the error says so
	// without personal data, and the staff member still gets the case.
	other := newQueue(t, rdb, c, review.Options{})
	cs, err := other.Claim(ctx, 1)
	if !errors.Is(err, secret.ErrOpen) || cs == nil || cs.CaseID != "x1" || cs.Name != "" {
		t.Fatalf("claim with the wrong key: %+v, %v", cs, err)
	}
	_, _, err2 := q.Decide(ctx, "x1", 2, domain.OutcomeApproved, "")
	for _, e := range []error{err, err2} {
		for _, p := range []string{s.Name, s.Number, s.Phone, s.Number[6:14]} {
			if strings.Contains(e.Error(), p) {
				t.Errorf("error %q contains personal data", e)
			}
		}
	}
}

// Erase removes everything the queue keeps about a person: undecided cases
// with their photos, and the person in the records of decided ones (an
// audit record without user or masked number stays). Other people's cases
// are untouched, and the staff a case was shown to are known until then.
func TestErasePerson(t *testing.T) {
	ctx := context.Background()
	rdb := srv.Client(t, 15)
	c := newClock()
	q := newQueue(t, rdb, c, review.Options{})
	other := sub("o1", domain.ChannelGreen, c.Now())
	other.User = 5151
	for _, s := range []domain.Submission{sub("e1", domain.ChannelGreen, c.Now()), sub("e2", domain.ChannelGreen, c.Now()), other} {
		if _, err := q.Submit(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if id := claimID(t, q, 9); id != "e1" {
		t.Fatal(id)
	}
	if _, _, err := q.Decide(ctx, "e1", 9, domain.OutcomeApproved, ""); err != nil {
		t.Fatal(err)
	}
	if id := claimID(t, q, 8); id != "e2" {
		t.Fatal(id)
	}
	if v, err := q.Viewers(ctx, "e2"); err != nil || len(v) != 1 || v[0] != 8 {
		t.Fatalf("viewers of e2: %v %v", v, err)
	}
	if err := q.Erase(ctx, 4242); err != nil {
		t.Fatal(err)
	}
	if err := q.Erase(ctx, 4242); err != nil {
		t.Fatalf("second erase: %v", err)
	}
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if strings.Contains(k, "e2") || strings.Contains(k, "4242") {
			t.Errorf("key %s left after erasing the person", k)
		}
		if typ, _ := rdb.Type(ctx, k).Result(); typ == "hash" {
			h, _ := rdb.HGetAll(ctx, k).Result()
			if strings.Contains(k, "done:e1") {
				if h["user"] != "" || h["masked"] != "" || h["outcome"] != domain.OutcomeApproved || h["erased_at"] == "" {
					t.Errorf("audit record of e1: %v", h)
				}
			}
			for f, v := range h {
				if v == "4242" || strings.Contains(v, "********") && !strings.Contains(k, "o1") {
					t.Errorf("%s.%s still names the person: %q", k, f, v)
				}
			}
		}
	}
	if v, _ := q.Viewers(ctx, "e2"); len(v) != 0 {
		t.Fatalf("viewers of an erased case: %v", v)
	}
	if _, _, err := q.Decide(ctx, "e2", 8, domain.OutcomeApproved, ""); !errors.Is(err, review.ErrNoCase) {
		t.Fatalf("decide an erased case: %v", err)
	}
	// Someone else's case still waits.
	if id := claimID(t, q, 7); id != "o1" {
		t.Fatalf("other person's case: %q", id)
	}
}
