package bot

import (
	"context"
	"time"
)

// Sweep picks up work a stopped process left: inboxes whose lease lapsed
// and outboxes nobody delivers. In-process retries (kickLater) die with
// their process, so without this an update queued just before a crash
// would wait until the person writes again. It runs once at start and
// then every interval until ctx ends.
func (b *Bot) Sweep(ctx context.Context, every time.Duration) {
	// At start, also work whose lease has not lapsed: it may belong to the
	// process this one replaces; takeOver looks again when it lapses.
	b.sweepOnce(ctx, true)
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			b.sweepOnce(ctx, false)
		}
	}
}

func (b *Bot) sweepOnce(ctx context.Context, held bool) {
	seen := map[int64]bool{}
	err := b.store.Pending(ctx, held, func(user int64) {
		if seen[user] {
			return
		}
		seen[user] = true
		b.resume(ctx, user)
	})
	if err != nil && ctx.Err() == nil {
		b.log.Warn("sweep for left-over work", "err", err)
	}
}

// resume takes over a person's inbox and outbox if nobody holds them.
func (b *Bot) resume(ctx context.Context, user int64) {
	b.mu.Lock()
	closed := b.closed
	if !closed {
		b.wg.Add(1)
	}
	b.mu.Unlock()
	if closed {
		return
	}
	defer b.wg.Done()
	b.takeOver(context.WithoutCancel(ctx), user)
}
