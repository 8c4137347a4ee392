package retry

import (
	"context"
	"errors"
	"testing"
	"time"
)

var errTemp = errors.New("temporary")
var errFinal = errors.New("final")

func classify(err error) Verdict {
	if errors.Is(err, errTemp) {
		return Verdict{Retry: true}
	}
	return Verdict{}
}

func TestDo(t *testing.T) {
	p := Policy{Attempts: 3, Base: time.Millisecond, Max: 4 * time.Millisecond}
	for _, tc := range []struct {
		name     string
		errs     []error
		attempts int
		wantErr  error
	}{
		{"success at once", []error{nil}, 1, nil},
		{"success after two failures", []error{errTemp, errTemp, nil}, 3, nil},
		{"final error is not retried", []error{errFinal}, 1, errFinal},
		{"attempts run out", []error{errTemp, errTemp, errTemp, nil}, 3, ErrGaveUp},
	} {
		t.Run(tc.name, func(t *testing.T) {
			i := 0
			n, err := p.Do(context.Background(), func(context.Context) error { i++; return tc.errs[i-1] }, classify, nil)
			if n != tc.attempts || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
				t.Fatalf("attempts %d err %v; want %d %v", n, err, tc.attempts, tc.wantErr)
			}
		})
	}
}

func TestAskedWaitIsHonoured(t *testing.T) {
	p := Policy{Attempts: 2, Base: time.Millisecond, Max: 2 * time.Millisecond}
	var waited time.Duration
	i := 0
	p.Do(context.Background(), func(context.Context) error {
		if i++; i == 1 {
			return errTemp
		}
		return nil
	}, func(error) Verdict { return Verdict{Retry: true, After: 50 * time.Millisecond} },
		func(_ int, d time.Duration, _ error) { waited = d })
	if waited != 50*time.Millisecond {
		t.Fatalf("waited %v, want the 50ms the service asked for (beyond Max)", waited)
	}
	p.CapAsked = true
	i = 0
	p.Do(context.Background(), func(context.Context) error {
		if i++; i == 1 {
			return errTemp
		}
		return nil
	}, func(error) Verdict { return Verdict{Retry: true, After: 50 * time.Millisecond} },
		func(_ int, d time.Duration, _ error) { waited = d })
	if waited > 2*time.Millisecond {
		t.Fatalf("waited %v, want at most Max with CapAsked", waited)
	}
}

func TestBackoffDoublesWithinCap(t *testing.T) {
	p := Policy{Base: 100 * time.Millisecond, Max: time.Second}
	for n, want := range map[int]time.Duration{1: 100 * time.Millisecond, 2: 200 * time.Millisecond, 3: 400 * time.Millisecond, 6: time.Second} {
		for range 20 {
			if d := p.Backoff(n); d < want/2 || d > want {
				t.Fatalf("backoff(%d) = %v, want in [%v, %v]", n, d, want/2, want)
			}
		}
	}
}

func TestContextEndsTheWait(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	p := Policy{Attempts: 5, Base: time.Hour}
	start := time.Now()
	_, err := p.Do(ctx, func(context.Context) error { return errTemp }, classify, nil)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > time.Second {
		t.Fatalf("err %v after %v", err, time.Since(start))
	}
}
