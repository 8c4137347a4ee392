package flows_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pensionbot/flows"
)

// In-memory implementations that really work, used by the transcripts in
// place of Redis, the image checks, OCR and the verifiers.

type memPhotos struct {
	mu     sync.Mutex
	photos map[string][]byte
	recs   map[string]flows.Record
	down   bool // records cannot be read, as when Redis is away
}

func newMemPhotos() *memPhotos {
	return &memPhotos{photos: map[string][]byte{}, recs: map[string]flows.Record{}}
}

func (m *memPhotos) PutPhoto(_ context.Context, user int64, who, kind string, data []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.photos[fmt.Sprint(user, "/", who, "/", kind)] = data
	return nil
}

func (m *memPhotos) Photo(_ context.Context, user int64, who, kind string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.photos[fmt.Sprint(user, "/", who, "/", kind)], nil
}

func (m *memPhotos) DeletePhotos(_ context.Context, user int64, who string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k := range m.photos {
		if strings.HasPrefix(k, fmt.Sprint(user, "/", who, "/")) {
			delete(m.photos, k)
		}
	}
	return nil
}

func (m *memPhotos) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.photos)
}

func (m *memPhotos) SaveRecord(_ context.Context, user int64, who string, r flows.Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.recs[fmt.Sprint(user, "/", who)] = r
	return nil
}

func (m *memPhotos) Record(_ context.Context, user int64, who string) (*flows.Record, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.down {
		return nil, errors.New("records down")
	}
	if r, ok := m.recs[fmt.Sprint(user, "/", who)]; ok {
		return &r, nil
	}
	return nil, nil
}

func (m *memPhotos) DeleteRecord(_ context.Context, user int64, who string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.recs, fmt.Sprint(user, "/", who))
	return nil
}

// memOpen keeps one open case per ID number (the fake keys by the number
// itself; the real store by its HMAC).
type memOpen struct {
	mu    sync.Mutex
	cases map[string]string
}

func (o *memOpen) Open(_ context.Context, number, caseID string, _ time.Duration) (string, bool, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	key := "h:" + number[len(number)-4:]
	if c, ok := o.cases[key]; ok && c != caseID {
		return "", false, nil
	}
	o.cases[key] = caseID
	return key, true, nil
}

func (o *memOpen) Close(_ context.Context, key, caseID string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.cases[key] == caseID {
		delete(o.cases, key)
	}
	return nil
}

// memLinks keeps invitations and links; codes are numbered.
type memLinks struct {
	mu      sync.Mutex
	n       int
	invites map[string]int64
	links   map[[2]int64]flows.Link // {pensioner, helper}
}

func (l *memLinks) Invite(_ context.Context, p int64, _ time.Duration) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.n++
	code := fmt.Sprintf("code%d", l.n)
	l.invites[code] = p
	return code, nil
}

func (l *memLinks) Accept(_ context.Context, code string, h int64, now time.Time) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p, ok := l.invites[code]
	delete(l.invites, code)
	if !ok || p == h {
		return 0, flows.ErrInvite
	}
	l.links[[2]int64{p, h}] = flows.Link{User: h, Since: now}
	return p, nil
}

func (l *memLinks) SetRelation(_ context.Context, p, h int64, rel string) error {
	l.change(p, h, func(k *flows.Link) { k.Relation = rel })
	return nil
}

func (l *memLinks) SetPending(_ context.Context, p, h int64, since time.Time) error {
	l.change(p, h, func(k *flows.Link) { k.Pending = since })
	return nil
}

// change edits an existing link; a removed one stays removed.
func (l *memLinks) change(p, h int64, edit func(*flows.Link)) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if k, ok := l.links[[2]int64{p, h}]; ok {
		edit(&k)
		l.links[[2]int64{p, h}] = k
	}
}

func (l *memLinks) Linked(_ context.Context, p, h int64) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	_, ok := l.links[[2]int64{p, h}]
	return ok, nil
}

func (l *memLinks) Helpers(_ context.Context, p int64) ([]flows.Link, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []flows.Link
	for k, v := range l.links {
		if k[0] == p {
			out = append(out, v)
		}
	}
	return out, nil
}

func (l *memLinks) Unlink(_ context.Context, p, h int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.links, [2]int64{p, h})
	return nil
}

func (l *memLinks) Forget(_ context.Context, u int64) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for k := range l.links {
		if k[0] == u || k[1] == u {
			delete(l.links, k)
		}
	}
	return nil
}

// memImages reads the problem from the photo's bytes: "kind:problem".
type memImages struct{}

func problemOf(data []byte) flows.PhotoProblem {
	_, p, _ := strings.Cut(string(data), ":")
	if p == "ok" || p == "" {
		return flows.PhotoOK
	}
	return flows.PhotoProblem(p)
}

func (memImages) CheckCard(_ context.Context, data []byte) (flows.PhotoProblem, error) {
	if string(data) == "broken" {
		return "", errors.New("decoder crashed")
	}
	return problemOf(data), nil
}

func (memImages) CheckFace(_ context.Context, data []byte) (flows.PhotoProblem, error) {
	return problemOf(data), nil
}

// memCards "reads" sample cards by their photo's name.
type memCards struct{}

func (memCards) ReadCard(_ context.Context, data []byte) (flows.CardFields, error) {
	switch strings.SplitN(string(data), ":", 2)[0] {
	case "zhang":
		return flows.CardFields{Name: "张秀兰", Number: "11010519491231002X"}, nil
	case "li": // born 1920: green channel by age
		return flows.CardFields{Name: "李建国", Number: "53010219200508011X"}, nil
	case "misread": // a wrong check character must not pass
		return flows.CardFields{Name: "王伟", Number: "110105194912310021"}, nil
	case "nameonly":
		return flows.CardFields{Name: "陈静"}, nil
	}
	return flows.CardFields{}, errors.New("nothing readable")
}

// memVerifier queues every case (like the staff review) and keeps them.
type memVerifier struct {
	mu    sync.Mutex
	cases []flows.Submission
	now   string // "approved" decides at once, "" leaves it pending
	fail  bool
	down  bool // the review queue cannot be read, as when Redis is away
}

func (v *memVerifier) Submit(_ context.Context, s flows.Submission) (flows.Decision, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.fail {
		return flows.Decision{}, errors.New("verifier down")
	}
	v.cases = append(v.cases, s)
	if v.now != "" {
		return flows.Decision{CaseID: s.CaseID, Outcome: v.now, By: "vision", DecidedAt: s.Submitted}, nil
	}
	return flows.Decision{CaseID: s.CaseID, Outcome: flows.OutcomePending, By: "staff"}, nil
}

// erase drops a person's cases, as the bot's erase effect does after
// /forget.
func (v *memVerifier) erase(user int64) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.cases = slices.DeleteFunc(v.cases, func(c flows.Submission) bool { return c.User == user })
}

// memDesk serves the verifier's cases to staff, one claim at a time.
type memDesk struct {
	v       *memVerifier
	claimed map[string]int64
	decided map[string]bool
	viewers map[string][]int64
}

func (d *memDesk) Claim(_ context.Context, staff int64) (*flows.ReviewCase, error) {
	d.v.mu.Lock()
	defer d.v.mu.Unlock()
	if d.v.down {
		return nil, errors.New("queue down")
	}
	for _, c := range d.v.cases {
		if d.decided[c.CaseID] {
			continue
		}
		if who, ok := d.claimed[c.CaseID]; !ok || who == staff {
			d.claimed[c.CaseID] = staff
			if !slices.Contains(d.viewers[c.CaseID], staff) {
				d.viewers[c.CaseID] = append(d.viewers[c.CaseID], staff)
			}
			rc := &flows.ReviewCase{Submission: c}
			for kind, data := range map[string][]byte{flows.PhotoCard: c.Card, flows.PhotoFace: c.Face, flows.PhotoLiveness: c.Liveness} {
				if len(data) > 0 {
					rc.Photos = append(rc.Photos, kind)
				}
			}
			return rc, nil
		}
	}
	return nil, nil
}

func (d *memDesk) Decide(_ context.Context, caseID string, staff int64, outcome, reason string) (flows.Decision, int64, error) {
	d.v.mu.Lock()
	defer d.v.mu.Unlock()
	if d.decided[caseID] {
		return flows.Decision{}, 0, errors.New("decided")
	}
	if d.claimed[caseID] != staff {
		return flows.Decision{}, 0, errors.New("not the claimant")
	}
	d.decided[caseID] = true
	for _, c := range d.v.cases {
		if c.CaseID == caseID {
			return flows.Decision{CaseID: caseID, Outcome: outcome, Reason: reason, By: "staff"}, c.User, nil
		}
	}
	return flows.Decision{}, 0, errors.New("no case")
}

func (d *memDesk) Viewers(_ context.Context, caseID string) ([]int64, error) {
	d.v.mu.Lock()
	defer d.v.mu.Unlock()
	if d.v.down {
		return nil, errors.New("queue down")
	}
	for _, c := range d.v.cases {
		if c.CaseID == caseID && !d.decided[caseID] {
			return d.viewers[caseID], nil
		}
	}
	return nil, nil
}

func (d *memDesk) Release(_ context.Context, caseID string, staff int64) error {
	d.v.mu.Lock()
	defer d.v.mu.Unlock()
	delete(d.claimed, caseID)
	return nil
}

// perform carries out a result's effects that features registered with
// the engine, as the bot's dispatcher does after the commit; the others
// (the audience registry's, broadcasts') belong to services these tests
// do not run.
func perform(t *testing.T, e *flows.Engine, res flows.Result) {
	t.Helper()
	for _, fx := range res.Effects {
		if _, err := e.Perform(context.Background(), fx); err != nil {
			t.Fatalf("effect %s: %v", fx.Kind, err)
		}
	}
}

// handle applies an input and then, as the bot does after the commit,
// the changes it asked for.
func (f *fixture) handle(t *testing.T, st flows.State, in flows.Input) flows.Result {
	t.Helper()
	res := f.engine.Handle(context.Background(), st, in)
	perform(t, f.engine, res)
	return res
}
