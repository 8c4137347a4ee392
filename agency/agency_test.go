package agency_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"pensionbot/agency"
	"pensionbot/domain"
	"pensionbot/internal/agencytest"
	"pensionbot/internal/redistest"
)

var redisServer *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &redisServer) }

const (
	name   = "张秀兰"
	number = "11010519491231002X"
	masked = "110105********002X"
	phone  = "13800138000"
)

func submission(caseID, channel string) domain.Submission {
	s := domain.Submission{
		CaseID: caseID, User: 4242, Name: name, Number: number, Age: 75, Sex: "F",
		Phone: phone, District: "朝阳区", Channel: channel,
		Card: []byte("card-jpeg-bytes"), Face: []byte("face-jpeg-bytes"),
		Submitted: time.Date(2025, 3, 1, 9, 29, 41, 0, time.FixedZone("CST", 8*3600)),
	}
	if channel == domain.ChannelGeneral {
		s.Liveness = []byte("liveness-jpeg-bytes")
		s.LivenessCode = "4821"
	}
	return s
}

// logBuffer collects JSON log lines at debug level.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewJSONHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// checkNoPersonalData fails when text holds the name, the full ID number
// or the phone number.
func checkNoPersonalData(t *testing.T, what, text string) {
	t.Helper()
	for _, secret := range []string{name, number, phone, "card-jpeg", "Y2FyZC1qcGVn" /* base64 of the card */} {
		if strings.Contains(text, secret) {
			t.Errorf("%s contains personal data %q:\n%s", what, secret, text)
		}
	}
}

// fastOptions retries quickly.
func fastOptions(logs *logBuffer) agency.Options {
	o := agency.Options{Timeout: 2 * time.Second, Backoff: time.Millisecond}
	if logs != nil {
		o.Logger = logs.logger()
	}
	return o
}

func newTracker(t *testing.T, db int, logs *logBuffer) (*agency.Tracker, *redis.Client) {
	t.Helper()
	rdb := redisServer.Client(t, db)
	opts := agency.TrackerOptions{Prefix: "agencytest"}
	if logs != nil {
		opts.Logger = logs.logger()
	}
	return agency.NewTracker(rdb, opts), rdb
}

func TestApprovedAtOnce(t *testing.T) {
	t.Parallel()
	srv := agencytest.New(t)
	srv.SetPolicy(agencytest.Approve())
	var logs logBuffer
	c := agency.New(srv.URL, srv.Token, fastOptions(&logs))

	before := time.Now().Add(-time.Second)
	d, err := c.Submit(context.Background(), submission("c-1", domain.ChannelGeneral))
	if err != nil {
		t.Fatal(err)
	}
	if d.CaseID != "c-1" || d.Outcome != domain.OutcomeApproved || d.Reason != "" || d.By != agency.By {
		t.Errorf("decision = %+v", d)
	}
	if d.DecidedAt.Before(before) {
		t.Errorf("DecidedAt = %v", d.DecidedAt)
	}

	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/v1/certifications" || r.Token != srv.Token || r.ContentType != "application/json" {
		t.Errorf("request %s %s token=%q type=%q", r.Method, r.Path, r.Token, r.ContentType)
	}
	b := r.Body
	if b == nil {
		t.Fatal("body not decoded")
	}
	want := agencytest.Certification{
		CaseID: "c-1", Name: name, IDNumber: number, Phone: phone, District: "朝阳区", Channel: "general",
		Photos:       agencytest.Photos{Card: []byte("card-jpeg-bytes"), Face: []byte("face-jpeg-bytes"), Liveness: []byte("liveness-jpeg-bytes")},
		LivenessCode: "4821", SubmittedAt: "2025-03-01T09:29:41+08:00",
	}
	if b.CaseID != want.CaseID || b.Name != want.Name || b.IDNumber != want.IDNumber || b.Phone != want.Phone ||
		b.District != want.District || b.Channel != want.Channel || b.LivenessCode != want.LivenessCode ||
		b.SubmittedAt != want.SubmittedAt || len(b.Extra) != 0 ||
		!bytes.Equal(b.Photos.Card, want.Photos.Card) || !bytes.Equal(b.Photos.Face, want.Photos.Face) ||
		!bytes.Equal(b.Photos.Liveness, want.Photos.Liveness) {
		t.Errorf("body = %+v\nwant %+v", *b, want)
	}

	out := logs.String()
	checkNoPersonalData(t, "log", out)
	if !strings.Contains(out, masked) || !strings.Contains(out, `"case_id":"c-1"`) {
		t.Errorf("log lacks the masked number or case id:\n%s", out)
	}
}

func TestGreenChannelSendsNoLiveness(t *testing.T) {
	t.Parallel()
	srv := agencytest.New(t)
	c := agency.New(srv.URL, srv.Token, fastOptions(nil))
	if _, err := c.Submit(context.Background(), submission("c-g", domain.ChannelGreen)); err != nil {
		t.Fatal(err)
	}
	b := srv.Requests()[0].Body
	if b.Channel != "green" || b.Photos.Liveness != nil || b.LivenessCode != "" {
		t.Errorf("green body = %+v", *b)
	}
}

func TestRejectedAtOnce(t *testing.T) {
	t.Parallel()
	for _, reason := range domain.Reasons {
		srv := agencytest.New(t)
		srv.SetPolicy(agencytest.Reject(reason))
		c := agency.New(srv.URL, srv.Token, fastOptions(nil))
		d, err := c.Submit(context.Background(), submission("c-"+reason, domain.ChannelGreen))
		if err != nil {
			t.Fatal(err)
		}
		if d.Outcome != domain.OutcomeRejected || d.Reason != reason || d.By != agency.By || d.CaseID != "c-"+reason {
			t.Errorf("decision = %+v, want rejected %s", d, reason)
		}
	}
}

func TestPendingDeliveredOnceByTracker(t *testing.T) {
	t.Parallel()
	srv := agencytest.New(t)
	srv.SetPolicy(agencytest.Pend())
	var logs logBuffer
	tr, rdb := newTracker(t, 1, &logs)
	opts := fastOptions(&logs)
	opts.Tracker = tr
	c := agency.New(srv.URL, srv.Token, opts)
	ctx := context.Background()

	d, err := c.Submit(ctx, submission("c-p", domain.ChannelGeneral))
	if err != nil {
		t.Fatal(err)
	}
	if d.Outcome != domain.OutcomePending || d.CaseID != "c-p" || d.By != agency.By {
		t.Fatalf("decision = %+v, want pending", d)
	}
	tickets := srv.Tickets()
	if len(tickets) != 1 {
		t.Fatalf("server tickets = %v", tickets)
	}
	ticket := tickets[0]
	ps, err := tr.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0] != (agency.Pending{Ticket: ticket, CaseID: "c-p", User: 4242}) {
		t.Fatalf("pending = %+v", ps)
	}
	// Redis holds the ticket, the case id and the user id, nothing else.
	keys, _ := rdb.Keys(ctx, "*").Result()
	for _, k := range keys {
		if !strings.HasPrefix(k, "{agencytest}:") {
			t.Errorf("key %q outside the hash tag", k)
		}
	}
	raw, err := rdb.HGet(ctx, "{agencytest}:pending", ticket).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"ticket":"` + ticket + `","case_id":"c-p","user":4242}`; raw != want {
		t.Errorf("stored %s, want %s", raw, want)
	}

	var mu sync.Mutex
	var got []domain.Decision
	var users []int64
	deliver := func(ctx context.Context, user int64, d domain.Decision) error {
		mu.Lock()
		defer mu.Unlock()
		got = append(got, d)
		users = append(users, user)
		return nil
	}
	delivered := func() int {
		mu.Lock()
		defer mu.Unlock()
		return len(got)
	}

	// Undecided: nothing is delivered and the ticket stays.
	if err := tr.Poll(ctx, deliver); err != nil {
		t.Fatal(err)
	}
	if delivered() != 0 {
		t.Fatalf("delivered %d while pending", delivered())
	}

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- tr.Run(runCtx, 10*time.Millisecond, deliver) }()
	time.Sleep(30 * time.Millisecond)
	if err := srv.Decide(ticket, agencytest.StatusRejected, domain.ReasonLiveness); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for delivered() == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(60 * time.Millisecond) // several more rounds
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run returned %v", err)
	}

	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 {
		t.Fatalf("delivered %d times, want once: %+v", len(got), got)
	}
	if d := got[0]; d.CaseID != "c-p" || d.Outcome != domain.OutcomeRejected || d.Reason != domain.ReasonLiveness ||
		d.By != agency.By || d.DecidedAt.IsZero() || users[0] != 4242 {
		t.Errorf("delivered %+v to %d", d, users[0])
	}
	if ps, _ := tr.List(ctx); len(ps) != 0 {
		t.Errorf("still pending after delivery: %+v", ps)
	}
	checkNoPersonalData(t, "log", logs.String())
}

func TestFailedDeliveryKeepsTicket(t *testing.T) {
	t.Parallel()
	srv := agencytest.New(t)
	srv.SetPolicy(agencytest.Pend())
	tr, _ := newTracker(t, 2, nil)
	opts := fastOptions(nil)
	opts.Tracker = tr
	c := agency.New(srv.URL, srv.Token, opts)
	ctx := context.Background()
	if _, err := c.Submit(ctx, submission("c-f", domain.ChannelGreen)); err != nil {
		t.Fatal(err)
	}
	if err := srv.Decide(srv.Tickets()[0], agencytest.StatusApproved, ""); err != nil {
		t.Fatal(err)
	}

	calls := 0
	failing := func(ctx context.Context, user int64, d domain.Decision) error {
		calls++
		return errors.New("inbox down")
	}
	if err := tr.Poll(ctx, failing); err != nil {
		t.Fatal(err)
	}
	if ps, _ := tr.List(ctx); calls != 1 || len(ps) != 1 {
		t.Fatalf("after a failed delivery: %d calls, pending %+v", calls, ps)
	}

	// Like a restart after a crash: the decision comes again, then once only.
	var got []domain.Decision
	ok := func(ctx context.Context, user int64, d domain.Decision) error {
		got = append(got, d)
		return nil
	}
	for range 3 {
		if err := tr.Poll(ctx, ok); err != nil {
			t.Fatal(err)
		}
	}
	if len(got) != 1 || got[0].Outcome != domain.OutcomeApproved || got[0].CaseID != "c-f" {
		t.Errorf("delivered %+v", got)
	}
}

func TestTrackerKeepsUnknownTicket(t *testing.T) {
	t.Parallel()
	srv := agencytest.New(t)
	var logs logBuffer
	tr, _ := newTracker(t, 3, &logs)
	opts := fastOptions(nil)
	opts.Tracker = tr
	agency.New(srv.URL, srv.Token, opts)
	ctx := context.Background()
	if err := tr.Add(ctx, agency.Pending{Ticket: "tk_lost", CaseID: "c-l", User: 1}); err != nil {
		t.Fatal(err)
	}
	calls := 0
	if err := tr.Poll(ctx, func(context.Context, int64, domain.Decision) error { calls++; return nil }); err != nil {
		t.Fatal(err)
	}
	if ps, _ := tr.List(ctx); calls != 0 || len(ps) != 1 {
		t.Errorf("unknown ticket: %d deliveries, pending %+v", calls, ps)
	}
	if !strings.Contains(logs.String(), "does not know this ticket") {
		t.Errorf("no warning about the unknown ticket:\n%s", logs.String())
	}
	if err := tr.Forget(ctx, "tk_lost"); err != nil {
		t.Fatal(err)
	}
	if ps, _ := tr.List(ctx); len(ps) != 0 {
		t.Errorf("after Forget: %+v", ps)
	}
}

func TestTrackerLock(t *testing.T) {
	t.Parallel()
	srv := agencytest.New(t)
	srv.SetPolicy(agencytest.Pend())
	tr, rdb := newTracker(t, 4, nil)
	opts := fastOptions(nil)
	opts.Tracker = tr
	c := agency.New(srv.URL, srv.Token, opts)
	ctx := context.Background()
	if _, err := c.Submit(ctx, submission("c-k", domain.ChannelGreen)); err != nil {
		t.Fatal(err)
	}
	srv.Decide(srv.Tickets()[0], agencytest.StatusApproved, "")
	rdb.Set(ctx, "{agencytest}:poll", "another-instance", time.Minute)
	calls := 0
	deliver := func(context.Context, int64, domain.Decision) error { calls++; return nil }
	if err := tr.Poll(ctx, deliver); err != nil || calls != 0 {
		t.Fatalf("with the lock held elsewhere: err %v, %d deliveries", err, calls)
	}
	rdb.Del(ctx, "{agencytest}:poll")
	if err := tr.Poll(ctx, deliver); err != nil || calls != 1 {
		t.Fatalf("after the lock is free: err %v, %d deliveries", err, calls)
	}
	if n, _ := rdb.Exists(ctx, "{agencytest}:poll").Result(); n != 0 {
		t.Errorf("lock not released")
	}
}

func TestTrackerWithoutClient(t *testing.T) {
	t.Parallel()
	tr, _ := newTracker(t, 5, nil)
	err := tr.Run(context.Background(), time.Millisecond, func(context.Context, int64, domain.Decision) error { return nil })
	if !errors.Is(err, agency.ErrNoClient) {
		t.Errorf("Run = %v, want ErrNoClient", err)
	}
}

func TestPendingWithoutTracker(t *testing.T) {
	t.Parallel()
	srv := agencytest.New(t)
	srv.SetPolicy(agencytest.Pend())
	c := agency.New(srv.URL, srv.Token, fastOptions(nil))
	_, err := c.Submit(context.Background(), submission("c-n", domain.ChannelGreen))
	if !errors.Is(err, agency.ErrNoTracker) {
		t.Errorf("err = %v, want ErrNoTracker", err)
	}
}

func TestServerErrorsRetried(t *testing.T) {
	t.Parallel()
	for _, status := range []int{500, 502, 503, 504} {
		srv := agencytest.New(t)
		srv.FailNext(2, status)
		var logs logBuffer
		c := agency.New(srv.URL, srv.Token, fastOptions(&logs))
		d, err := c.Submit(context.Background(), submission("c-r", domain.ChannelGeneral))
		if err != nil {
			t.Fatalf("%d: %v", status, err)
		}
		if d.Outcome != domain.OutcomeApproved {
			t.Errorf("%d: decision %+v", status, d)
		}
		if n := len(srv.Requests()); n != 3 {
			t.Errorf("%d: %d requests, want 3", status, n)
		}
		if srv.Cases() != 1 {
			t.Errorf("%d: %d cases", status, srv.Cases())
		}
		if !strings.Contains(logs.String(), "retrying") {
			t.Errorf("%d: retries not logged", status)
		}
		checkNoPersonalData(t, "log", logs.String())
	}
}

func TestServerErrorsGiveUp(t *testing.T) {
	t.Parallel()
	srv := agencytest.New(t)
	srv.FailNext(10, 500)
	opts := fastOptions(nil)
	opts.MaxAttempts = 4
	c := agency.New(srv.URL, srv.Token, opts)
	_, err := c.Submit(context.Background(), submission("c-x", domain.ChannelGreen))
	var ae *agency.Error
	if !errors.As(err, &ae) || ae.Status != 500 || ae.Code != "internal" || !ae.Temporary() {
		t.Fatalf("err = %v, want a 500 *Error", err)
	}
	if n := len(srv.Requests()); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
	checkNoPersonalData(t, "error", err.Error())
}

func TestClientErrorsNotRetried(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 404, 409, 429} {
		srv := agencytest.New(t)
		srv.FailNext(1, status)
		c := agency.New(srv.URL, srv.Token, fastOptions(nil))
		_, err := c.Submit(context.Background(), submission("c-4", domain.ChannelGreen))
		var ae *agency.Error
		if !errors.As(err, &ae) || ae.Status != status || ae.Code != "invalid_request" || ae.Temporary() {
			t.Errorf("%d: err = %v", status, err)
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("%d: %d requests, want 1", status, n)
		}
	}
}

func TestInvalidRequestAnswer(t *testing.T) {
	t.Parallel()
	srv := agencytest.New(t)
	c := agency.New(srv.URL, srv.Token, fastOptions(nil))
	s := submission("c-bad", domain.ChannelGreen)
	s.Number = "1101051949" // the fake refuses it with 400
	_, err := c.Submit(context.Background(), s)
	var ae *agency.Error
	if !errors.As(err, &ae) || ae.Status != 400 || ae.Code != "invalid_request" || !strings.Contains(ae.Message, "id_number") {
		t.Errorf("err = %v", err)
	}
}

func TestWrongToken(t *testing.T) {
	t.Parallel()
	srv := agencytest.New(t)
	c := agency.New(srv.URL, "not-the-token", fastOptions(nil))
	_, err := c.Submit(context.Background(), submission("c-t", domain.ChannelGreen))
	var ae *agency.Error
	if !errors.As(err, &ae) || ae.Status != 401 || ae.Code != "unauthorized" {
		t.Fatalf("err = %v, want 401", err)
	}
	if strings.Contains(err.Error(), "not-the-token") {
		t.Errorf("error shows the token: %v", err)
	}
	if n := len(srv.Requests()); n != 1 || srv.Cases() != 0 {
		t.Errorf("%d requests, %d cases", n, srv.Cases())
	}
	if _, err := c.Status(context.Background(), "tk_000001"); !errors.As(err, &ae) || ae.Status != 401 {
		t.Errorf("Status err = %v, want 401", err)
	}
}

func TestIdempotentResubmission(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("lost answer", func(t *testing.T) {
		srv := agencytest.New(t)
		srv.SetPolicy(agencytest.Reject(domain.ReasonPhotoUnclear))
		srv.LoseNextAnswers(1)
		c := agency.New(srv.URL, srv.Token, fastOptions(nil))
		d, err := c.Submit(ctx, submission("c-i", domain.ChannelGeneral))
		if err != nil {
			t.Fatal(err)
		}
		if d.Outcome != domain.OutcomeRejected || d.Reason != domain.ReasonPhotoUnclear {
			t.Errorf("decision %+v", d)
		}
		reqs := srv.Requests()
		if len(reqs) != 2 || reqs[0].Body.CaseID != "c-i" || reqs[1].Body.CaseID != "c-i" {
			t.Fatalf("requests %+v", reqs)
		}
		if k, _ := srv.Case("c-i"); srv.Cases() != 1 || k.Submissions != 2 {
			t.Errorf("%d cases, %d submissions", srv.Cases(), k.Submissions)
		}
	})

	t.Run("pending twice", func(t *testing.T) {
		srv := agencytest.New(t)
		srv.SetPolicy(agencytest.Pend())
		tr, _ := newTracker(t, 6, nil)
		opts := fastOptions(nil)
		opts.Tracker = tr
		c := agency.New(srv.URL, srv.Token, opts)
		for range 2 {
			if d, err := c.Submit(ctx, submission("c-pp", domain.ChannelGreen)); err != nil || d.Outcome != domain.OutcomePending {
				t.Fatalf("submit: %+v, %v", d, err)
			}
		}
		ps, _ := tr.List(ctx)
		if srv.Cases() != 1 || len(srv.Tickets()) != 1 || len(ps) != 1 {
			t.Errorf("%d cases, tickets %v, tracked %+v", srv.Cases(), srv.Tickets(), ps)
		}
		// Once decided, a resubmission gets the decision at once.
		srv.Decide(srv.Tickets()[0], agencytest.StatusApproved, "")
		if d, err := c.Submit(ctx, submission("c-pp", domain.ChannelGreen)); err != nil || d.Outcome != domain.OutcomeApproved {
			t.Errorf("after decision: %+v, %v", d, err)
		}
	})

	t.Run("conflict", func(t *testing.T) {
		srv := agencytest.New(t)
		c := agency.New(srv.URL, srv.Token, fastOptions(nil))
		if _, err := c.Submit(ctx, submission("c-c", domain.ChannelGreen)); err != nil {
			t.Fatal(err)
		}
		s := submission("c-c", domain.ChannelGreen)
		s.Face = []byte("another face")
		_, err := c.Submit(ctx, s)
		var ae *agency.Error
		if !errors.As(err, &ae) || ae.Status != 409 || ae.Code != "case_conflict" {
			t.Errorf("err = %v, want 409 case_conflict", err)
		}
		if n := len(srv.Requests()); n != 2 {
			t.Errorf("%d requests, want 2 (409 is not retried)", n)
		}
	})
}

func TestTimeouts(t *testing.T) {
	t.Parallel()
	t.Run("attempt timeout retried", func(t *testing.T) {
		t.Parallel()
		srv := agencytest.New(t)
		srv.SetDelay(10 * time.Second)
		c := agency.New(srv.URL, srv.Token, agency.Options{Timeout: 50 * time.Millisecond, MaxAttempts: 2, Backoff: time.Millisecond})
		start := time.Now()
		_, err := c.Submit(context.Background(), submission("c-to", domain.ChannelGreen))
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want a deadline", err)
		}
		if took := time.Since(start); took > 3*time.Second {
			t.Errorf("took %v", took)
		}
		if n := len(srv.Requests()); n != 2 {
			t.Errorf("%d requests, want 2", n)
		}
	})
	t.Run("slow then fast", func(t *testing.T) {
		t.Parallel()
		srv := agencytest.New(t)
		srv.SetDelay(10 * time.Second)
		c := agency.New(srv.URL, srv.Token, agency.Options{Timeout: 50 * time.Millisecond, MaxAttempts: 3, Backoff: 100 * time.Millisecond})
		go func() {
			time.Sleep(60 * time.Millisecond)
			srv.SetDelay(0)
		}()
		d, err := c.Submit(context.Background(), submission("c-sf", domain.ChannelGreen))
		if err != nil || d.Outcome != domain.OutcomeApproved {
			t.Fatalf("%+v, %v", d, err)
		}
	})
	t.Run("caller deadline stops retries", func(t *testing.T) {
		t.Parallel()
		srv := agencytest.New(t)
		srv.SetDelay(10 * time.Second)
		c := agency.New(srv.URL, srv.Token, agency.Options{Timeout: 5 * time.Second, MaxAttempts: 5})
		ctx, cancel := context.WithTimeout(context.Background(), 80*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := c.Status(ctx, "tk_1")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v, want a deadline", err)
		}
		if took := time.Since(start); took > 2*time.Second {
			t.Errorf("took %v", took)
		}
		if n := len(srv.Requests()); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
	})
}

func TestInvalidSubmissionNotSent(t *testing.T) {
	t.Parallel()
	srv := agencytest.New(t)
	c := agency.New(srv.URL, srv.Token, fastOptions(nil))
	for _, mod := range []func(*domain.Submission){
		func(s *domain.Submission) { s.CaseID = "" },
		func(s *domain.Submission) { s.Channel = "express" },
		func(s *domain.Submission) { s.Face = nil },
		func(s *domain.Submission) { s.Liveness = nil },
		func(s *domain.Submission) { s.LivenessCode = "" },
	} {
		s := submission("c-v", domain.ChannelGeneral)
		mod(&s)
		_, err := c.Submit(context.Background(), s)
		if !errors.Is(err, agency.ErrInvalidSubmission) {
			t.Errorf("err = %v", err)
		} else {
			checkNoPersonalData(t, "error", err.Error())
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestStatus(t *testing.T) {
	t.Parallel()
	srv := agencytest.New(t)
	srv.SetPolicy(agencytest.Pend())
	tr, _ := newTracker(t, 7, nil)
	opts := fastOptions(nil)
	opts.Tracker = tr
	c := agency.New(srv.URL, srv.Token, opts)
	ctx := context.Background()
	if _, err := c.Submit(ctx, submission("c-s", domain.ChannelGreen)); err != nil {
		t.Fatal(err)
	}
	ticket := srv.Tickets()[0]
	d, err := c.Status(ctx, ticket)
	if err != nil || d.Outcome != domain.OutcomePending || d.CaseID != "c-s" {
		t.Fatalf("%+v, %v", d, err)
	}
	decided := time.Date(2025, 3, 3, 6, 12, 9, 0, time.UTC)
	srv.SetNow(func() time.Time { return decided })
	srv.Decide(ticket, agencytest.StatusRejected, domain.ReasonNotInScope)
	d, err = c.Status(ctx, ticket)
	if err != nil {
		t.Fatal(err)
	}
	if d.Outcome != domain.OutcomeRejected || d.Reason != domain.ReasonNotInScope || !d.DecidedAt.Equal(decided) || d.By != agency.By {
		t.Errorf("%+v", d)
	}
	var ae *agency.Error
	if _, err := c.Status(ctx, "tk_unknown"); !errors.As(err, &ae) || ae.Status != 404 {
		t.Errorf("unknown ticket: %v", err)
	}
}

func TestTrackerBindsOneClient(t *testing.T) {
	t.Parallel()
	tr, _ := newTracker(t, 8, nil)
	agency.New("http://127.0.0.1:1", "x", agency.Options{Tracker: tr})
	defer func() {
		if recover() == nil {
			t.Error("second New with the same tracker did not panic")
		}
	}()
	agency.New("http://127.0.0.1:1", "x", agency.Options{Tracker: tr})
}

// Erase stops following a forgotten person's tickets, and only theirs.
func TestTrackerErasePerson(t *testing.T) {
	ctx := context.Background()
	tr, _ := newTracker(t, 9, nil)
	for _, p := range []agency.Pending{{Ticket: "t1", CaseID: "c1", User: 11}, {Ticket: "t2", CaseID: "c2", User: 11}, {Ticket: "t3", CaseID: "c3", User: 12}} {
		if err := tr.Add(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	if err := tr.Erase(ctx, 11); err != nil {
		t.Fatal(err)
	}
	ps, err := tr.List(ctx)
	if err != nil || len(ps) != 1 || ps[0].User != 12 {
		t.Fatalf("tickets after erasing user 11: %+v %v", ps, err)
	}
}
