// Package retry is the program's one retry policy for calls to outside
// services (the Bot API, the agency, long polling): a bounded number of
// attempts, waits that double with jitter up to a cap, and a wait the
// service asks for (Telegram's retry_after, HTTP Retry-After) honoured
// however long it is, unless the policy caps it.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// Policy says how often and how patiently to try.
type Policy struct {
	// Attempts bounds the tries of one call, the first included (0: 1).
	Attempts int
	// Base is the wait after the first failure; it doubles with every
	// further one, up to Max (0: no cap).
	Base, Max time.Duration
	// CapAsked caps a wait the service asked for at Max too; without it
	// such a wait is honoured in full (Telegram's retry_after may be
	// hours after heavy sending, and must be).
	CapAsked bool
}

// Verdict is what a failed attempt allows: Retry or not, and After, a wait
// the service asked for (0 for none).
type Verdict struct {
	Retry bool
	After time.Duration
}

// Classifier judges a failed attempt's error.
type Classifier func(error) Verdict

// Backoff is the wait after failure n (1-based): Base·2^(n-1), capped at
// Max, with jitter in [d/2, d] so that many clients do not retry in step.
func (p Policy) Backoff(n int) time.Duration {
	d := p.Base
	for i := 1; i < n && (p.Max == 0 || d < p.Max); i++ {
		d *= 2
	}
	if p.Max > 0 {
		d = min(d, p.Max)
	}
	if d <= 0 {
		return 0
	}
	return d/2 + rand.N(d/2+1)
}

// ErrGaveUp wraps the last error when the attempts ran out.
var ErrGaveUp = errors.New("gave up")

// Do calls op until it succeeds, fails for good (classify says no), the
// attempts run out or ctx ends; wait, if not nil, hears of every wait
// (for metrics and logs). It returns the attempts made and the last error.
func (p Policy) Do(ctx context.Context, op func(context.Context) error, classify Classifier, wait func(attempt int, d time.Duration, err error)) (int, error) {
	attempts := max(p.Attempts, 1)
	for n := 1; ; n++ {
		err := op(ctx)
		if err == nil {
			return n, nil
		}
		v := classify(err)
		if !v.Retry {
			return n, err
		}
		if n >= attempts {
			return n, fmt.Errorf("%w after %d attempts: %w", ErrGaveUp, n, err)
		}
		d := p.Backoff(n)
		if v.After > 0 {
			asked := v.After
			if p.CapAsked && p.Max > 0 {
				asked = min(asked, p.Max)
			}
			d = max(d, asked)
		}
		if wait != nil {
			wait(n, d, err)
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return n, fmt.Errorf("%w (after %d attempts; last: %w)", ctx.Err(), n, err)
		}
	}
}
