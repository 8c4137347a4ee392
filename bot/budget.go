package bot

import (
	"context"
	"sync/atomic"
	"time"

	"pensionbot/ratelimit"
)

// budgetEvery is how often the messages sent are counted into the shared
// budget. People's own replies never wait for the budget: they are
// counted afterwards, many at once (no round trip per message), and what
// they spend is what broadcasts then do not get.
const budgetEvery = 250 * time.Millisecond

// spent counts messages sent since they were last counted into the budget.
type spent struct {
	replies, notices atomic.Int64
}

// countSent notes one message: a reply in the person's own chat, or a
// notice to someone else (staff, a relative's helper).
func (b *Bot) countSent(owner, chat int64) {
	if owner == chat {
		b.spent.replies.Add(1)
	} else {
		b.spent.notices.Add(1)
	}
}

// UseBudget counts the messages this process sends into the budget that
// all replicas share (Telegram's limit across chats), until ctx ends.
func (b *Bot) UseBudget(ctx context.Context, l *ratelimit.Limiter) {
	t := time.NewTicker(budgetEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, c := range []struct {
			p ratelimit.Priority
			n *atomic.Int64
		}{{ratelimit.Reply, &b.spent.replies}, {ratelimit.Notice, &b.spent.notices}} {
			if n := c.n.Swap(0); n > 0 {
				if _, _, err := l.Take(ctx, c.p, int(n)); err != nil && ctx.Err() == nil {
					b.log.Debug("count messages into the budget", "err", err)
				}
			}
		}
	}
}
