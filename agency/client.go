// Package agency is a client of a social-security agency's certification
// service, as described in docs/agency-api.md (a contract we expect: no
// real service exists yet). Client implements flows.Verifier: it sends a
// case with its photos and maps the answer to a domain.Decision. Cases the
// agency decides later come back through a Tracker, which keeps the pending
// tickets in Redis and polls them.
//
// The client never logs names, full ID numbers, phone numbers or photos:
// logs and errors name the case by its CaseID and show ID numbers masked
// (110105********002X).
package agency

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"pensionbot/domain"
	"pensionbot/flows"
	"pensionbot/idcard"
	"pensionbot/retry"
)

var _ flows.Verifier = (*Client)(nil)

// By is the Decision.By of decisions made by the agency.
const By = "agency"

// Defaults of Options.
const (
	DefaultTimeout     = 15 * time.Second
	DefaultMaxAttempts = 3
	DefaultBackoff     = 500 * time.Millisecond
	// MaxBackoff caps the wait between attempts, Retry-After included.
	MaxBackoff = 10 * time.Second
)

// maxAnswer bounds the answer body read into memory.
const maxAnswer = 1 << 20

// Errors; test for them with errors.Is. Error answers of the agency are
// *Error (use errors.As).
var (
	// ErrBadAnswer means the agency answered something that is not the
	// status object of the contract (or an answer for another case).
	ErrBadAnswer = errors.New("agency: answer is not the status object expected")
	// ErrNoTracker means the agency answered "pending" but the client has
	// no Tracker to follow the ticket: configure Options.Tracker.
	ErrNoTracker = errors.New("agency: case is pending but the client has no tracker")
	// ErrInvalidSubmission means the submission lacks what the contract
	// requires (case id, channel, photos); nothing was sent.
	ErrInvalidSubmission = errors.New("agency: invalid submission")
)

// Error is an error answer of the agency: the HTTP status and the error
// object. 4xx errors are returned at once; 5xx only after the last attempt.
type Error struct {
	Status int    // HTTP status
	Code   string // error.code, e.g. "invalid_request"; "" when the body had none
	// Message is error.message with digit runs masked and Chinese text
	// elided, so that it can be logged; bounded to 200 bytes.
	Message string
}

func (e *Error) Error() string {
	s := "agency: HTTP " + strconv.Itoa(e.Status)
	if e.Code != "" {
		s += " " + e.Code
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return s
}

// Temporary reports whether the request may succeed when sent again (5xx).
func (e *Error) Temporary() bool { return e.Status >= 500 }

// Options configure New. The zero value works.
type Options struct {
	// HTTPClient sends the requests (a new http.Client on the default
	// transport when nil). Its own Timeout, if any, should exceed Timeout.
	HTTPClient *http.Client
	// Timeout bounds one attempt, the answer body included
	// (DefaultTimeout when 0).
	Timeout time.Duration
	// MaxAttempts bounds the attempts of one call, the first included
	// (DefaultMaxAttempts when 0). Only network errors, timeouts and 5xx
	// answers are retried.
	MaxAttempts int
	// Backoff is the wait after the first failed attempt; it doubles with
	// every further attempt, with jitter, up to MaxBackoff
	// (DefaultBackoff when 0).
	Backoff time.Duration
	// Logger receives retries (warn) and outcomes (info); nil discards.
	Logger *slog.Logger
	// Tracker follows pending tickets. Without it a pending answer makes
	// Submit fail with ErrNoTracker. New binds the tracker to the client:
	// the tracker polls its tickets through this client.
	Tracker *Tracker
}

// Client talks to the agency's certification service. It is safe for
// concurrent use.
type Client struct {
	base    string
	token   string
	http    *http.Client
	opts    Options
	logger  *slog.Logger
	tracker *Tracker
}

// New returns a client of the service at baseURL (e.g.
// "https://cert.example.gov.cn", without /v1) that authenticates with the
// bearer token. It panics if opts.Tracker is already bound to another
// Client: a Tracker serves one Client.
func New(baseURL, token string, opts Options) *Client {
	if opts.HTTPClient == nil {
		opts.HTTPClient = &http.Client{}
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.Backoff <= 0 {
		opts.Backoff = DefaultBackoff
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	c := &Client{
		base:    strings.TrimRight(baseURL, "/"),
		token:   token,
		http:    opts.HTTPClient,
		opts:    opts,
		logger:  logger,
		tracker: opts.Tracker,
	}
	if c.tracker != nil && !c.tracker.client.CompareAndSwap(nil, c) {
		panic("agency: the Tracker in Options already serves another Client")
	}
	return c
}

// LogValue keeps the token out of logs.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base_url", c.base), slog.String("token", "[redacted]"))
}

// wire types of the contract.
type (
	photos struct {
		Card     string `json:"card"`
		Face     string `json:"face"`
		Liveness string `json:"liveness,omitempty"`
	}
	certification struct {
		CaseID       string `json:"case_id"`
		Name         string `json:"name"`
		IDNumber     string `json:"id_number"`
		Phone        string `json:"phone"`
		District     string `json:"district"`
		Channel      string `json:"channel"`
		Photos       photos `json:"photos"`
		LivenessCode string `json:"liveness_code,omitempty"`
		SubmittedAt  string `json:"submitted_at,omitempty"`
	}
	statusObject struct {
		Status    string `json:"status"`
		Reason    string `json:"reason"`
		CaseID    string `json:"case_id"`
		Ticket    string `json:"ticket"`
		DecidedAt string `json:"decided_at"`
	}
	errorObject struct {
		Error *struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	}
)

// Submit implements flows.Verifier. It sends the case (retrying network
// errors and 5xx answers: resending is safe because the agency keys cases
// by CaseID) and returns the agency's decision, or OutcomePending after
// registering the ticket with the tracker. The error never contains
// personal data.
func (c *Client) Submit(ctx context.Context, s domain.Submission) (domain.Decision, error) {
	if err := checkSubmission(s); err != nil {
		return domain.Decision{}, err
	}
	start := time.Now()
	w := certification{
		CaseID: s.CaseID, Name: s.Name, IDNumber: idcard.Normalize(s.Number), Phone: s.Phone,
		District: s.District, Channel: s.Channel,
		Photos: photos{
			Card: base64.StdEncoding.EncodeToString(s.Card),
			Face: base64.StdEncoding.EncodeToString(s.Face),
		},
	}
	if len(s.Liveness) > 0 {
		w.Photos.Liveness = base64.StdEncoding.EncodeToString(s.Liveness)
		w.LivenessCode = s.LivenessCode
	}
	if !s.Submitted.IsZero() {
		w.SubmittedAt = s.Submitted.Format(time.RFC3339)
	}
	body, err := json.Marshal(w)
	if err != nil {
		return domain.Decision{}, fmt.Errorf("agency: case %s: encode: %w", s.CaseID, err)
	}
	log := c.logger.With(slog.String("case_id", s.CaseID), slog.String("channel", s.Channel),
		slog.String("number", idcard.Mask(s.Number)))

	status, answer, attempts, err := c.do(ctx, log, http.MethodPost, "/v1/certifications", body)
	if err != nil {
		log.Warn("agency: submission failed", slog.Int("attempts", attempts), slog.Any("error", err))
		return domain.Decision{}, fmt.Errorf("agency: submit case %s: %w", s.CaseID, err)
	}
	if status != http.StatusOK && status != http.StatusAccepted {
		return domain.Decision{}, fmt.Errorf("agency: submit case %s: HTTP %d: %w", s.CaseID, status, ErrBadAnswer)
	}
	st, err := parseStatus(answer)
	if err != nil {
		return domain.Decision{}, fmt.Errorf("agency: submit case %s: %w", s.CaseID, err)
	}
	if st.CaseID != "" && st.CaseID != s.CaseID {
		return domain.Decision{}, fmt.Errorf("agency: submit case %s: answer is for another case: %w", s.CaseID, ErrBadAnswer)
	}
	d, err := c.decision(log, st)
	if err != nil {
		return domain.Decision{}, fmt.Errorf("agency: submit case %s: %w", s.CaseID, err)
	}
	d.CaseID = s.CaseID
	if d.Outcome == domain.OutcomePending {
		if c.tracker == nil {
			log.Error("agency: case is pending but no tracker is configured", slog.String("ticket", st.Ticket))
			return domain.Decision{}, fmt.Errorf("agency: submit case %s: %w", s.CaseID, ErrNoTracker)
		}
		// The agency holds the case now; registering the ticket must not
		// fail because the caller's context ends just at this moment.
		tctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		err := c.tracker.Add(tctx, Pending{Ticket: st.Ticket, CaseID: s.CaseID, User: s.User})
		cancel()
		if err != nil {
			log.Error("agency: cannot keep the ticket of a pending case", slog.String("ticket", st.Ticket), slog.Any("error", err))
			return domain.Decision{}, fmt.Errorf("agency: submit case %s: keep ticket: %w", s.CaseID, err)
		}
	}
	log.Info("agency: case submitted", slog.String("outcome", d.Outcome), slog.String("reason", d.Reason),
		slog.String("ticket", st.Ticket), slog.Int("attempts", attempts), slog.Duration("took", time.Since(start)))
	return d, nil
}

// Status asks the agency about a pending ticket. The decision's Outcome is
// OutcomePending while the case is undecided; CaseID is the agency's
// case_id ("" when it sent none).
func (c *Client) Status(ctx context.Context, ticket string) (domain.Decision, error) {
	if ticket == "" {
		return domain.Decision{}, errors.New("agency: status: empty ticket")
	}
	log := c.logger.With(slog.String("ticket", ticket))
	status, answer, _, err := c.do(ctx, log, http.MethodGet, "/v1/certifications/"+url.PathEscape(ticket), nil)
	if err != nil {
		return domain.Decision{}, fmt.Errorf("agency: status of ticket %s: %w", ticket, err)
	}
	if status != http.StatusOK {
		return domain.Decision{}, fmt.Errorf("agency: status of ticket %s: HTTP %d: %w", ticket, status, ErrBadAnswer)
	}
	st, err := parseStatus(answer)
	if err != nil {
		return domain.Decision{}, fmt.Errorf("agency: status of ticket %s: %w", ticket, err)
	}
	d, err := c.decision(log.With(slog.String("case_id", st.CaseID)), st)
	if err != nil {
		return domain.Decision{}, fmt.Errorf("agency: status of ticket %s: %w", ticket, err)
	}
	d.CaseID = st.CaseID
	return d, nil
}

// decision maps a status object to a Decision (without CaseID).
func (c *Client) decision(log *slog.Logger, st statusObject) (domain.Decision, error) {
	d := domain.Decision{By: By}
	switch st.Status {
	case domain.OutcomePending:
		if st.Ticket == "" {
			return domain.Decision{}, fmt.Errorf("pending without a ticket: %w", ErrBadAnswer)
		}
		d.Outcome = domain.OutcomePending
		return d, nil
	case domain.OutcomeApproved:
		d.Outcome = domain.OutcomeApproved
	case domain.OutcomeRejected:
		d.Outcome = domain.OutcomeRejected
		d.Reason = st.Reason
		if !slices.Contains(domain.Reasons, st.Reason) {
			log.Warn("agency: unknown rejection reason, taken as other", slog.String("reason", mask(st.Reason)))
			d.Reason = domain.ReasonOther
		}
	default:
		return domain.Decision{}, fmt.Errorf("status %q: %w", mask(st.Status), ErrBadAnswer)
	}
	t, err := time.Parse(time.RFC3339, st.DecidedAt)
	if err != nil {
		if st.DecidedAt != "" {
			log.Warn("agency: decided_at is not RFC 3339, using the time of receipt")
		}
		t = time.Now()
	}
	d.DecidedAt = t
	return d, nil
}

func parseStatus(b []byte) (statusObject, error) {
	var st statusObject
	if err := json.Unmarshal(b, &st); err != nil {
		return statusObject{}, fmt.Errorf("%d-byte body: %w", len(b), ErrBadAnswer)
	}
	return st, nil
}

func checkSubmission(s domain.Submission) error {
	var problem string
	switch {
	case s.CaseID == "":
		problem = "no case id"
	case s.Channel != domain.ChannelGreen && s.Channel != domain.ChannelGeneral:
		problem = fmt.Sprintf("channel %q", s.Channel)
	case len(s.Card) == 0:
		problem = "no card photo"
	case len(s.Face) == 0:
		problem = "no face photo"
	case s.Channel == domain.ChannelGeneral && (len(s.Liveness) == 0 || s.LivenessCode == ""):
		problem = "general channel without liveness photo and code"
	default:
		return nil
	}
	return fmt.Errorf("%w: case %s: %s", ErrInvalidSubmission, s.CaseID, problem)
}

// do sends one request with retries. It returns the status and body of the
// first answer below 400, or an error: an *Error for a 4xx (at once) or a
// 5xx (after the last attempt), or the cause of the last network failure.
// attempts counts the requests made.
func (c *Client) do(ctx context.Context, log *slog.Logger, method, path string, body []byte) (status int, answer []byte, attempts int, err error) {
	// The program's one retry policy; the agency's Retry-After is capped
	// at MaxBackoff (a person may be waiting for this call).
	policy := retry.Policy{Attempts: c.opts.MaxAttempts, Base: c.opts.Backoff, Max: MaxBackoff, CapAsked: true}
	var retryAfter time.Duration
	attempts, err = policy.Do(ctx, func(ctx context.Context) error {
		var err error
		status, answer, retryAfter, err = c.attempt(ctx, method, path, body)
		if err == nil && status >= 400 {
			return apiError(status, answer)
		}
		return err
	}, func(err error) retry.Verdict {
		var e *Error
		if errors.As(err, &e) && !e.Temporary() {
			return retry.Verdict{}
		}
		return retry.Verdict{Retry: true, After: retryAfter}
	}, func(n int, wait time.Duration, err error) {
		log.Warn("agency: request failed, retrying", slog.String("method", method), slog.Int("attempt", n),
			slog.Duration("wait", wait), slog.Any("error", err))
	})
	if err != nil {
		var e *Error
		if errors.As(err, &e) && !e.Temporary() {
			return 0, nil, attempts, e
		}
		return 0, nil, attempts, err
	}
	return status, answer, attempts, nil
}

// attempt makes one request within Timeout. A network failure, a timeout
// or a body that cannot be read is returned as an error; any HTTP answer
// as its status and body.
func (c *Client) attempt(ctx context.Context, method, path string, body []byte) (int, []byte, time.Duration, error) {
	actx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, method, c.base+path, rd)
	if err != nil {
		return 0, nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, 0, c.netError(ctx, actx, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return 0, nil, 0, c.netError(ctx, actx, fmt.Errorf("read answer: %w", err))
	}
	var retryAfter time.Duration
	if resp.StatusCode == http.StatusServiceUnavailable {
		if secs, err := strconv.Atoi(strings.TrimSpace(resp.Header.Get("Retry-After"))); err == nil && secs > 0 {
			retryAfter = time.Duration(secs) * time.Second
		}
	}
	return resp.StatusCode, b, retryAfter, nil
}

// netError says that an attempt timed out when its own deadline passed
// while the caller's context is still alive.
func (c *Client) netError(ctx, actx context.Context, err error) error {
	if ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("attempt timed out after %v: %w", c.opts.Timeout, context.DeadlineExceeded)
	}
	return err
}

func apiError(status int, body []byte) *Error {
	e := &Error{Status: status}
	var eo errorObject
	if json.Unmarshal(body, &eo) == nil && eo.Error != nil {
		e.Code = mask(eo.Error.Code)
		e.Message = mask(eo.Error.Message)
	}
	return e
}

var (
	digitRun = regexp.MustCompile(`[0-9]{17}[0-9Xx]|[0-9]{5,}`)
	hanRun   = regexp.MustCompile(`\p{Han}+(?:[·•]\p{Han}+)*`)
)

// mask makes text from the agency safe to log: an ID-number-like run is
// masked like 110105********002X, an 11-digit run like a phone 138****8000,
// any other run of 5 or more digits becomes stars, and Chinese text (which
// may hold a name) is elided. The result is at most 200 bytes.
func mask(s string) string {
	s = digitRun.ReplaceAllStringFunc(s, func(m string) string {
		switch len(m) {
		case 18:
			return idcard.Mask(m)
		case 11:
			return m[:3] + "****" + m[7:]
		}
		return strings.Repeat("*", len(m))
	})
	s = hanRun.ReplaceAllString(s, "…")
	if len(s) > 200 {
		s = strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}
