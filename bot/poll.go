package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"

	"pensionbot/retry"
)

// Poll receives updates by long polling until ctx ends. It confirms a batch
// to Telegram (by asking for the next offset) only after every update in it
// was queued in Redis, so updates are not lost when the process stops or
// Redis is away; go-telegram/bot's own poller confirms updates as soon as it
// reads them, which is why the bot polls by itself. A token Telegram
// refuses (revoked while running) stops it with an error wrapping
// ErrTokenRefused: retrying cannot help.
func (b *Bot) Poll(ctx context.Context) error {
	if _, err := b.tg.DeleteWebhook(ctx, &tg.DeleteWebhookParams{}); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting: a clean stop
		}
		if errors.Is(err, tg.ErrorUnauthorized) {
			return fmt.Errorf("delete webhook before polling: %w", ErrTokenRefused)
		}
		return fmt.Errorf("delete webhook before polling: %w", redact(err, b.opt.Token))
	}
	var offset int64
	backoff := time.Duration(0)
	failures := 0
	// Polling never gives up; it waits by the same policy as other calls.
	pollPolicy := retry.Policy{Base: 200 * time.Millisecond, Max: 10 * time.Second}
	for ctx.Err() == nil {
		if backoff > 0 {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(backoff):
			}
		}
		batch, err := b.getUpdates(ctx, offset)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			if errors.Is(err, ErrTokenRefused) {
				return err
			}
			failures++
			backoff = pollPolicy.Backoff(failures)
			b.metrics.errors.WithLabelValues("poll").Inc()
			b.log.Warn("getUpdates failed", "err", redact(err, b.opt.Token), "retry_in", backoff)
			continue
		}
		backoff, failures = 0, 0
		// In-flight updates finish even when shutdown begins.
		next, err := b.processBatch(context.WithoutCancel(ctx), batch)
		if next > offset {
			offset = next
		}
		if err != nil {
			backoff = 2 * time.Second
		}
	}
	// Confirm what was processed, so a restart does not fetch it again
	// (it would be dropped as a duplicate anyway).
	if offset > 0 {
		cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		b.getUpdatesTimeout(cctx, offset, 0, 1)
	}
	return nil
}

type rawUpdate struct {
	ID  int64
	Raw json.RawMessage
}

// processBatch handles one batch, each person's updates in order and
// different people in parallel. It returns the offset that confirms every
// update handled; on a temporary failure it stops before the failed update
// so that it is fetched again.
func (b *Bot) processBatch(ctx context.Context, batch []rawUpdate) (int64, error) {
	if len(batch) == 0 {
		return 0, nil
	}
	b.wg.Add(1)
	defer b.wg.Done()
	type group struct{ items []rawUpdate }
	groups := map[int64]*group{}
	var order []int64
	for _, u := range batch {
		user := userOf(u.Raw)
		g := groups[user]
		if g == nil {
			g = &group{}
			groups[user] = g
			order = append(order, user)
		}
		g.items = append(g.items, u)
	}
	var (
		mu     sync.Mutex
		failed = int64(-1) // lowest update ID that must come again
		wg     sync.WaitGroup
	)
	for _, user := range order {
		g := groups[user]
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, u := range g.items {
				if err := b.handle(ctx, u.Raw, true); errors.Is(err, errTryAgain) {
					mu.Lock()
					if failed < 0 || u.ID < failed {
						failed = u.ID
					}
					mu.Unlock()
					return
				}
			}
		}()
	}
	wg.Wait()
	if failed >= 0 {
		// Updates after the failed one that were queued will be dropped as
		// duplicates when they come again.
		return failed, errTryAgain
	}
	return batch[len(batch)-1].ID + 1, nil
}

// userOf reads just the sender's ID, to group a batch by person.
func userOf(raw json.RawMessage) int64 {
	var u struct {
		Message       *struct{ From *struct{ ID int64 } } `json:"message"`
		EditedMessage *struct{ From *struct{ ID int64 } } `json:"edited_message"`
		CallbackQuery *struct{ From struct{ ID int64 } }  `json:"callback_query"`
	}
	if json.Unmarshal(raw, &u) != nil {
		return 0
	}
	switch {
	case u.Message != nil && u.Message.From != nil:
		return u.Message.From.ID
	case u.EditedMessage != nil && u.EditedMessage.From != nil:
		return u.EditedMessage.From.ID
	case u.CallbackQuery != nil:
		return u.CallbackQuery.From.ID
	}
	return 0
}

func (b *Bot) getUpdates(ctx context.Context, offset int64) ([]rawUpdate, error) {
	return b.getUpdatesTimeout(ctx, offset, int(b.opt.PollTimeout/time.Second), 100)
}

func (b *Bot) getUpdatesTimeout(ctx context.Context, offset int64, timeout, limit int) ([]rawUpdate, error) {
	body, _ := json.Marshal(map[string]any{
		"offset": offset, "timeout": timeout, "limit": limit,
		"allowed_updates": []string{"message", "edited_message", "callback_query", "my_chat_member"},
	})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.opt.APIURL+"/bot"+b.opt.Token+"/getUpdates", bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("getUpdates: %w", redact(err, b.opt.Token))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.opt.HTTPClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("getUpdates: %w", redact(err, b.opt.Token))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, fmt.Errorf("getUpdates: read: %w", err)
	}
	var r struct {
		OK          bool              `json:"ok"`
		Result      []json.RawMessage `json:"result"`
		Description string            `json:"description"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("getUpdates: status %d: decode: %w", resp.StatusCode, err)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		return nil, fmt.Errorf("getUpdates: %w", ErrTokenRefused)
	}
	if !r.OK {
		return nil, fmt.Errorf("getUpdates: status %d: %s", resp.StatusCode, r.Description)
	}
	out := make([]rawUpdate, 0, len(r.Result))
	for _, raw := range r.Result {
		var id struct {
			UpdateID int64 `json:"update_id"`
		}
		if err := json.Unmarshal(raw, &id); err != nil {
			continue
		}
		out = append(out, rawUpdate{ID: id.UpdateID, Raw: raw})
	}
	return out, nil
}
