package agency

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"pensionbot/domain"
)

// Defaults of the tracker.
const (
	DefaultPrefix  = "agency"
	DefaultEvery   = 30 * time.Second
	DefaultLockTTL = 2 * time.Minute
)

// ErrNoClient means the tracker was not given to New, so it has nothing to
// poll with.
var ErrNoClient = errors.New("agency: tracker is not bound to a Client (pass it in Options.Tracker)")

// Pending is a ticket the tracker follows. It holds no personal data: only
// the agency's ticket, our case id and the Telegram user to tell.
type Pending struct {
	Ticket string `json:"ticket"`
	CaseID string `json:"case_id"`
	User   int64  `json:"user"`
}

// TrackerOptions configure NewTracker. The zero value works.
type TrackerOptions struct {
	// Prefix is the Redis hash tag of the tracker's keys (DefaultPrefix
	// when ""): the keys are "{<Prefix>}:pending" (a hash from ticket to
	// Pending as JSON) and "{<Prefix>}:poll" (the lock that lets one bot
	// instance poll at a time). Both share one cluster slot.
	Prefix string
	// LockTTL bounds how long one instance holds the polling lock
	// (DefaultLockTTL when 0). A round that takes longer may overlap with
	// another instance's, which at worst delivers a decision twice.
	LockTTL time.Duration
	// Logger receives deliveries (info) and failures (warn/error); nil
	// discards.
	Logger *slog.Logger
}

// Tracker keeps the tickets of pending cases in Redis and polls the agency
// until each is decided. Give it to New in Options.Tracker: Submit then
// registers every pending ticket, and the tracker polls through that
// client.
//
// Delivery is at least once: a ticket is removed only after deliver
// returned nil, so a crash (or a failed removal) between the two means the
// decision is delivered again later. The receiver must dedupe by
// Decision.CaseID. The tracker never drops an undecided ticket by itself,
// not even one the agency does not know (404): it logs a warning each
// round, and an operator removes it with Forget.
//
// It is safe for concurrent use, and several bot instances may run it on
// one Redis: a lock lets one of them poll per round.
type Tracker struct {
	rdb     redis.UniversalClient
	pending string
	lock    string
	lockTTL time.Duration
	logger  *slog.Logger
	client  atomic.Pointer[Client]
}

// NewTracker returns a tracker that keeps its tickets in rdb.
func NewTracker(rdb redis.UniversalClient, opts TrackerOptions) *Tracker {
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.LockTTL <= 0 {
		opts.LockTTL = DefaultLockTTL
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	tag := "{" + opts.Prefix + "}"
	return &Tracker{rdb: rdb, pending: tag + ":pending", lock: tag + ":poll", lockTTL: opts.LockTTL, logger: logger}
}

// Add registers a pending ticket. Adding a ticket again overwrites it.
func (t *Tracker) Add(ctx context.Context, p Pending) error {
	if p.Ticket == "" || p.CaseID == "" {
		return errors.New("agency: tracker: a pending case needs a ticket and a case id")
	}
	v, err := json.Marshal(p)
	if err != nil {
		return err
	}
	if err := t.rdb.HSet(ctx, t.pending, p.Ticket, v).Err(); err != nil {
		return fmt.Errorf("agency: tracker: add ticket %s: %w", p.Ticket, err)
	}
	return nil
}

// List returns the pending tickets, in no particular order.
func (t *Tracker) List(ctx context.Context) ([]Pending, error) {
	all, err := t.rdb.HGetAll(ctx, t.pending).Result()
	if err != nil {
		return nil, fmt.Errorf("agency: tracker: list: %w", err)
	}
	ps := make([]Pending, 0, len(all))
	for ticket, v := range all {
		var p Pending
		if err := json.Unmarshal([]byte(v), &p); err != nil || p.Ticket != ticket {
			t.logger.Error("agency: tracker: malformed entry, skipped", slog.String("ticket", ticket))
			continue
		}
		ps = append(ps, p)
	}
	return ps, nil
}

// Forget stops following a ticket without delivering anything.
func (t *Tracker) Forget(ctx context.Context, ticket string) error {
	if err := t.rdb.HDel(ctx, t.pending, ticket).Err(); err != nil {
		return fmt.Errorf("agency: tracker: forget ticket %s: %w", ticket, err)
	}
	return nil
}

// Erase stops following every ticket of a person who asked to be
// forgotten: their decision can no longer be delivered (their state is
// gone), and the ticket names their Telegram user. What the agency keeps
// of the case is up to the agency.
func (t *Tracker) Erase(ctx context.Context, user int64) error {
	ps, err := t.List(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.User == user {
			if err := t.Forget(ctx, p.Ticket); err != nil {
				return err
			}
		}
	}
	return nil
}

// Run polls every pending ticket at once and then every interval (every;
// DefaultEvery when 0) until ctx ends, and calls deliver once per final
// decision (see Poll). deliver hands the decision to the person, normally
// as a KindDecision input in the user's inbox; it must be idempotent by
// d.CaseID, because after a crash a decision can be delivered again. It returns ctx's error when ctx ends, or ErrNoClient
// at once when the tracker was not given to New. Failures of a round are
// logged and the next round retries.
func (t *Tracker) Run(ctx context.Context, every time.Duration, deliver func(ctx context.Context, user int64, d domain.Decision) error) error {
	if t.client.Load() == nil {
		return ErrNoClient
	}
	if every <= 0 {
		every = DefaultEvery
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		if err := t.Poll(ctx, deliver); err != nil && ctx.Err() == nil {
			t.logger.Error("agency: tracker: poll round failed", slog.Any("error", err))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Poll makes one round: it asks the agency about every pending ticket and,
// for each that is decided, calls deliver with the decision (CaseID as
// registered) and then removes the ticket. A ticket whose status cannot be
// read, or whose delivery fails, stays for the next round. Poll returns an
// error only when Redis fails; when another instance holds the polling
// lock it does nothing.
func (t *Tracker) Poll(ctx context.Context, deliver func(ctx context.Context, user int64, d domain.Decision) error) error {
	c := t.client.Load()
	if c == nil {
		return ErrNoClient
	}
	token, ok, err := t.acquire(ctx)
	if err != nil {
		return err
	}
	if !ok {
		t.logger.Debug("agency: tracker: another instance is polling")
		return nil
	}
	defer t.release(token)

	ps, err := t.List(ctx)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		log := t.logger.With(slog.String("ticket", p.Ticket), slog.String("case_id", p.CaseID))
		d, err := c.Status(ctx, p.Ticket)
		if err != nil {
			var ae *Error
			if errors.As(err, &ae) && ae.Status == 404 {
				log.Warn("agency: tracker: the agency does not know this ticket; the case needs staff attention (remove with Forget)")
			} else {
				log.Warn("agency: tracker: cannot read the status, retrying next round", slog.Any("error", err))
			}
			continue
		}
		if d.Outcome == domain.OutcomePending {
			continue
		}
		if d.CaseID != "" && d.CaseID != p.CaseID {
			log.Warn("agency: tracker: the agency names another case id for this ticket; using ours",
				slog.String("agency_case_id", d.CaseID))
		}
		d.CaseID = p.CaseID
		if err := deliver(ctx, p.User, d); err != nil {
			log.Warn("agency: tracker: delivery failed, retrying next round", slog.Any("error", err))
			continue
		}
		if err := t.rdb.HDel(ctx, t.pending, p.Ticket).Err(); err != nil {
			log.Error("agency: tracker: decision delivered but the ticket could not be removed; it will be delivered again",
				slog.Any("error", err))
			continue
		}
		log.Info("agency: tracker: decision delivered", slog.String("outcome", d.Outcome), slog.String("reason", d.Reason))
	}
	return nil
}

// acquire takes the polling lock.
func (t *Tracker) acquire(ctx context.Context) (string, bool, error) {
	var b [16]byte
	rand.Read(b[:])
	token := hex.EncodeToString(b[:])
	ok, err := t.rdb.SetNX(ctx, t.lock, token, t.lockTTL).Result()
	if err != nil {
		return "", false, fmt.Errorf("agency: tracker: lock: %w", err)
	}
	return token, ok, nil
}

// unlock deletes the lock only if this instance still holds it.
var unlock = redis.NewScript(`if redis.call("GET", KEYS[1]) == ARGV[1] then return redis.call("DEL", KEYS[1]) end return 0`)

func (t *Tracker) release(token string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := unlock.Run(ctx, t.rdb, []string{t.lock}, token).Err(); err != nil {
		t.logger.Warn("agency: tracker: cannot release the polling lock; it expires by itself", slog.Any("error", err))
	}
}
