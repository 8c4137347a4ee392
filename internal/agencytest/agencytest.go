// Package agencytest is a fake agency certification service for tests,
// implementing the contract in docs/agency-api.md over real HTTP
// (httptest), so that package agency is tested with its real HTTP client:
//
//	srv := agencytest.New(t)
//	srv.SetPolicy(agencytest.Reject(domain.ReasonFaceMismatch)) // or Approve(), Pend()
//	c := agency.New(srv.URL, srv.Token, agency.Options{})
//	... exercise the code ...
//	reqs := srv.Requests() // what the client sent, decoded
//
// Behaviour per test:
//
//   - SetPolicy decides what a new case gets: a decision at once (200) or a
//     ticket (202) that the test decides later with Decide.
//   - FailNext answers the next n requests with an error status (5xx or
//     4xx) before looking at them; LoseNextAnswers processes the next n
//     requests and then answers 502 as if a gateway lost the answer (to test
//     idempotency); SetDelay holds answers back (to test timeouts).
//   - Every request must carry "Authorization: Bearer <Token>", otherwise
//     401 unauthorized.
//
// The server keeps cases by case_id like the real one should: the same
// case_id with the same content gets the same answer (the same ticket while
// pending), with other content 409 case_conflict. It does not import
// package agency on purpose: it is a second, independent reading of the
// contract. All methods are safe for concurrent use.
package agencytest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"pensionbot/domain"
)

// DefaultToken is the bearer token a new Server expects.
const DefaultToken = "agencytest-token"

// MaxBody is the largest request body accepted (413 above).
const MaxBody = 32 << 20

// Status values of the contract.
const (
	StatusApproved = "approved"
	StatusRejected = "rejected"
	StatusPending  = "pending"
)

// Photos are the decoded photos of a submission.
type Photos struct {
	Card, Face, Liveness []byte
}

// Certification is a decoded POST /v1/certifications body.
type Certification struct {
	CaseID       string
	Name         string
	IDNumber     string
	Phone        string
	District     string
	Channel      string
	Photos       Photos
	LivenessCode string
	SubmittedAt  string
	// Extra lists top-level JSON fields that the contract does not know.
	Extra []string
}

// Request is one recorded HTTP request.
type Request struct {
	Method string
	Path   string
	// Token is the bearer token presented ("" when none).
	Token string
	// ContentType is the Content-Type header.
	ContentType string
	// Body is the decoded submission for a POST that could be decoded, else nil.
	Body *Certification
	// Ticket is the ticket asked about by a GET.
	Ticket string
	// Status is the HTTP status the server answered.
	Status int
}

// Verdict is what a policy gives a new case: Status "approved" or
// "rejected" (with Reason) decides at once, "pending" makes a ticket.
type Verdict struct {
	Status string
	Reason string
}

// Policy decides what a new case gets.
type Policy func(c Certification) Verdict

// Approve approves every new case at once.
func Approve() Policy { return func(Certification) Verdict { return Verdict{Status: StatusApproved} } }

// Reject rejects every new case at once with reason.
func Reject(reason string) Policy {
	return func(Certification) Verdict { return Verdict{Status: StatusRejected, Reason: reason} }
}

// Pend gives every new case a ticket, to be decided with Decide.
func Pend() Policy { return func(Certification) Verdict { return Verdict{Status: StatusPending} } }

// Case is what the server keeps of a case.
type Case struct {
	CaseID    string
	Ticket    string // "" when decided at once
	Status    string
	Reason    string
	DecidedAt time.Time // zero while pending
	// Submissions counts the accepted POSTs of this case_id (resubmissions
	// included).
	Submissions int
	digest      [32]byte
}

// Server is a running fake. Create it with New; it is closed when the
// test ends.
type Server struct {
	// URL is the base URL (no trailing slash), for agency.New.
	URL string
	// Token is the bearer token the server accepts (DefaultToken).
	Token string

	srv *httptest.Server

	mu       sync.Mutex
	policy   Policy
	cases    map[string]*Case // by case_id
	tickets  map[string]*Case // by ticket
	requests []Request
	failN    int
	failCode int
	loseN    int
	delay    time.Duration
	seq      int
	now      func() time.Time
}

// New starts a server on a loopback port and closes it when t's test ends.
// Until SetPolicy is called, new cases are approved at once.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{
		Token:   DefaultToken,
		policy:  Approve(),
		cases:   map[string]*Case{},
		tickets: map[string]*Case{},
		now:     func() time.Time { return time.Now().UTC().Truncate(time.Second) },
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// SetPolicy sets what new cases get.
func (s *Server) SetPolicy(p Policy) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.policy = p
}

// SetToken changes the token the server accepts.
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.Token = token
}

// FailNext answers the next n requests with status (an error object with
// code "internal"/"unavailable" for 5xx, "invalid_request" for 4xx) without
// processing them. 503 answers carry "Retry-After: 0".
func (s *Server) FailNext(n, status int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failN, s.failCode = n, status
}

// LoseNextAnswers processes the next n authorised requests normally and
// then answers 502 instead, as a gateway that lost the answer would.
func (s *Server) LoseNextAnswers(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.loseN = n
}

// SetDelay holds every answer back by d (after recording the request). The
// wait ends early when the client gives up.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// SetNow sets the clock used for decided_at.
func (s *Server) SetNow(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.now = now
}

// Decide decides a pending ticket: status "approved", or "rejected" with
// one of domain.Reasons.
func (s *Server) Decide(ticket, status, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.tickets[ticket]
	switch {
	case !ok:
		return fmt.Errorf("agencytest: unknown ticket %q", ticket)
	case c.Status != StatusPending:
		return fmt.Errorf("agencytest: ticket %q is already %s", ticket, c.Status)
	}
	if err := checkVerdict(Verdict{Status: status, Reason: reason}, false); err != nil {
		return err
	}
	c.Status, c.Reason, c.DecidedAt = status, reason, s.now()
	return nil
}

// Requests returns the requests received so far, oldest first.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// Case returns what the server keeps of caseID.
func (s *Server) Case(caseID string) (Case, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases[caseID]
	if !ok {
		return Case{}, false
	}
	return *c, true
}

// Cases returns the number of distinct cases.
func (s *Server) Cases() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.cases)
}

// Tickets returns the tickets still pending, sorted.
func (s *Server) Tickets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ts []string
	for t, c := range s.tickets {
		if c.Status == StatusPending {
			ts = append(ts, t)
		}
	}
	slices.Sort(ts)
	return ts
}

func checkVerdict(v Verdict, pendingOK bool) error {
	switch v.Status {
	case StatusApproved:
		if v.Reason != "" {
			return fmt.Errorf("agencytest: approval with reason %q", v.Reason)
		}
	case StatusRejected:
		if !slices.Contains(domain.Reasons, v.Reason) {
			return fmt.Errorf("agencytest: unknown rejection reason %q", v.Reason)
		}
	case StatusPending:
		if !pendingOK {
			return errors.New("agencytest: cannot decide to pending")
		}
	default:
		return fmt.Errorf("agencytest: unknown status %q", v.Status)
	}
	return nil
}

// serve records the request and answers it.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rec := Request{Method: r.Method, Path: r.URL.Path, ContentType: r.Header.Get("Content-Type")}
	if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		rec.Token = tok
	}
	var body []byte
	if r.Method == http.MethodPost {
		b, err := io.ReadAll(io.LimitReader(r.Body, MaxBody+1))
		if err != nil {
			return // client went away
		}
		body = b
		if c, err := decode(body); err == nil {
			rec.Body = &c
		}
	}
	if t, ok := strings.CutPrefix(r.URL.Path, "/v1/certifications/"); ok {
		rec.Ticket = t
	}

	s.mu.Lock()
	i := len(s.requests)
	s.requests = append(s.requests, rec)
	delay := s.delay
	s.mu.Unlock()

	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			s.setStatus(i, 0)
			return
		}
	}
	status, hdr, answer := s.answer(r, rec, body)
	s.setStatus(i, status)
	for k, v := range hdr {
		w.Header().Set(k, v)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(answer)
}

func (s *Server) setStatus(i, status int) {
	s.mu.Lock()
	s.requests[i].Status = status
	s.mu.Unlock()
}

type errorBody struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func errorAnswer(status int, code, message string) (int, map[string]string, []byte) {
	var e errorBody
	e.Error.Code, e.Error.Message = code, message
	b, _ := json.Marshal(e)
	return status, nil, b
}

type statusBody struct {
	Status    string `json:"status"`
	Reason    string `json:"reason"`
	CaseID    string `json:"case_id"`
	Ticket    string `json:"ticket,omitempty"`
	DecidedAt string `json:"decided_at,omitempty"`
}

func (c *Case) status(withTicket bool) statusBody {
	b := statusBody{Status: c.Status, Reason: c.Reason, CaseID: c.CaseID}
	if withTicket || c.Status == StatusPending {
		b.Ticket = c.Ticket
	}
	if !c.DecidedAt.IsZero() {
		b.DecidedAt = c.DecidedAt.Format(time.RFC3339)
	}
	return b
}

func jsonAnswer(status int, v any) (int, map[string]string, []byte) {
	b, err := json.Marshal(v)
	if err != nil {
		return errorAnswer(http.StatusInternalServerError, "internal", err.Error())
	}
	return status, nil, b
}

// answer makes the answer to one request.
func (s *Server) answer(r *http.Request, rec Request, body []byte) (int, map[string]string, []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()

	if s.failN > 0 {
		s.failN--
		code := "invalid_request"
		var hdr map[string]string
		switch {
		case s.failCode == http.StatusServiceUnavailable:
			code, hdr = "unavailable", map[string]string{"Retry-After": "0"}
		case s.failCode >= 500:
			code = "internal"
		}
		st, _, b := errorAnswer(s.failCode, code, "agencytest: injected failure")
		return st, hdr, b
	}
	if rec.Token == "" || rec.Token != s.Token {
		return errorAnswer(http.StatusUnauthorized, "unauthorized", "missing or wrong bearer token")
	}
	lose := s.loseN > 0
	if lose {
		s.loseN--
	}
	st, hdr, b := s.route(r, rec, body)
	if lose {
		return http.StatusBadGateway, nil, []byte("<html>502 Bad Gateway</html>")
	}
	return st, hdr, b
}

// route handles an authorised request; s.mu is held.
func (s *Server) route(r *http.Request, rec Request, body []byte) (int, map[string]string, []byte) {
	switch {
	case r.URL.Path == "/v1/certifications":
		if r.Method != http.MethodPost {
			return errorAnswer(http.StatusMethodNotAllowed, "invalid_request", "use POST")
		}
		return s.submit(rec, body)
	case rec.Ticket != "":
		if r.Method != http.MethodGet {
			return errorAnswer(http.StatusMethodNotAllowed, "invalid_request", "use GET")
		}
		c, ok := s.tickets[rec.Ticket]
		if !ok {
			return errorAnswer(http.StatusNotFound, "not_found", "unknown ticket")
		}
		return jsonAnswer(http.StatusOK, c.status(true))
	default:
		return errorAnswer(http.StatusNotFound, "not_found", "unknown path")
	}
}

var (
	caseIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)
	idNumber      = regexp.MustCompile(`^[0-9]{17}[0-9X]$`)
)

func (s *Server) submit(rec Request, body []byte) (int, map[string]string, []byte) {
	if len(body) > MaxBody {
		return errorAnswer(http.StatusRequestEntityTooLarge, "too_large", "body over the limit")
	}
	if mt, _, _ := strings.Cut(rec.ContentType, ";"); strings.TrimSpace(mt) != "application/json" {
		return errorAnswer(http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
	}
	if rec.Body == nil {
		_, err := decode(body)
		return errorAnswer(http.StatusBadRequest, "invalid_request", err.Error())
	}
	c := *rec.Body
	if msg := validate(c); msg != "" {
		return errorAnswer(http.StatusBadRequest, "invalid_request", msg)
	}
	digest := contentDigest(c)
	if old, ok := s.cases[c.CaseID]; ok {
		if old.digest != digest {
			return errorAnswer(http.StatusConflict, "case_conflict", "case_id reused with different content")
		}
		old.Submissions++
		return s.caseAnswer(old)
	}
	v := s.policy(c)
	if err := checkVerdict(v, true); err != nil {
		return errorAnswer(http.StatusInternalServerError, "internal", err.Error())
	}
	kc := &Case{CaseID: c.CaseID, Status: v.Status, Reason: v.Reason, Submissions: 1, digest: digest}
	if v.Status == StatusPending {
		s.seq++
		kc.Ticket = fmt.Sprintf("tk_%06d", s.seq)
		s.tickets[kc.Ticket] = kc
	} else {
		kc.DecidedAt = s.now()
	}
	s.cases[c.CaseID] = kc
	return s.caseAnswer(kc)
}

func (s *Server) caseAnswer(c *Case) (int, map[string]string, []byte) {
	if c.Status == StatusPending {
		return jsonAnswer(http.StatusAccepted, c.status(false))
	}
	return jsonAnswer(http.StatusOK, c.status(false))
}

// validate returns what is wrong with c, or "". Messages name fields, never
// their values.
func validate(c Certification) string {
	switch {
	case !caseIDPattern.MatchString(c.CaseID):
		return "case_id is missing or invalid"
	case strings.TrimSpace(c.Name) == "":
		return "name is missing"
	case !idNumber.MatchString(c.IDNumber):
		return "id_number is not 18 characters of digits and X"
	case c.Channel != "green" && c.Channel != "general":
		return "channel must be green or general"
	case len(c.Photos.Card) == 0:
		return "photos.card is missing"
	case len(c.Photos.Face) == 0:
		return "photos.face is missing"
	case c.Channel == "general" && len(c.Photos.Liveness) == 0:
		return "photos.liveness is required for the general channel"
	case c.Channel == "general" && c.LivenessCode == "":
		return "liveness_code is required for the general channel"
	case c.SubmittedAt != "":
		if _, err := time.Parse(time.RFC3339, c.SubmittedAt); err != nil {
			return "submitted_at is not RFC 3339"
		}
	}
	return ""
}

// contentDigest hashes everything but submitted_at, which a resend may
// legitimately change.
func contentDigest(c Certification) [32]byte {
	h := sha256.New()
	for _, f := range [][]byte{[]byte(c.CaseID), []byte(c.Name), []byte(c.IDNumber), []byte(c.Phone),
		[]byte(c.District), []byte(c.Channel), c.Photos.Card, c.Photos.Face, c.Photos.Liveness, []byte(c.LivenessCode)} {
		fmt.Fprintf(h, "%d:", len(f))
		h.Write(f)
	}
	var d [32]byte
	copy(d[:], h.Sum(nil))
	return d
}

type wireCertification struct {
	CaseID   string `json:"case_id"`
	Name     string `json:"name"`
	IDNumber string `json:"id_number"`
	Phone    string `json:"phone"`
	District string `json:"district"`
	Channel  string `json:"channel"`
	Photos   struct {
		Card     string `json:"card"`
		Face     string `json:"face"`
		Liveness string `json:"liveness"`
	} `json:"photos"`
	LivenessCode string `json:"liveness_code"`
	SubmittedAt  string `json:"submitted_at"`
}

var knownFields = []string{"case_id", "name", "id_number", "phone", "district", "channel", "photos", "liveness_code", "submitted_at"}

// decode decodes a submission body. Errors name fields, never values.
func decode(body []byte) (Certification, error) {
	var w wireCertification
	if err := json.Unmarshal(body, &w); err != nil {
		return Certification{}, errors.New("body is not the JSON object expected")
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(body, &all); err != nil {
		return Certification{}, errors.New("body is not a JSON object")
	}
	c := Certification{
		CaseID: w.CaseID, Name: w.Name, IDNumber: w.IDNumber, Phone: w.Phone, District: w.District,
		Channel: w.Channel, LivenessCode: w.LivenessCode, SubmittedAt: w.SubmittedAt,
	}
	for k := range all {
		if !slices.Contains(knownFields, k) {
			c.Extra = append(c.Extra, k)
		}
	}
	slices.Sort(c.Extra)
	var err error
	for _, p := range []struct {
		name string
		in   string
		out  *[]byte
	}{{"card", w.Photos.Card, &c.Photos.Card}, {"face", w.Photos.Face, &c.Photos.Face}, {"liveness", w.Photos.Liveness, &c.Photos.Liveness}} {
		if p.in == "" {
			continue
		}
		if *p.out, err = base64.StdEncoding.DecodeString(p.in); err != nil {
			return Certification{}, fmt.Errorf("photos.%s is not standard base64", p.name)
		}
	}
	return c, nil
}
