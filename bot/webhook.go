package bot

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"net/http"

	tg "github.com/go-telegram/bot"
)

// WebhookHandler receives updates pushed by Telegram. It checks the secret
// token itself (go-telegram/bot's handler answers 200 to a wrong one) and
// answers only once the update is queued and applied, so Telegram
// redelivers what a failed or stopped process did not take. The lease in
// Redis keeps one person's updates in order across replicas.
func (b *Bot) WebhookHandler(secret string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		got := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
		if secret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(secret)) != 1 {
			b.metrics.errors.WithLabelValues("webhook_auth").Inc()
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		raw, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if err != nil || len(raw) == 0 || raw[0] != '{' {
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		b.wg.Add(1)
		defer b.wg.Done()
		// Finish the update even if Telegram hangs up: it is queued now.
		switch err := b.handle(context.WithoutCancel(r.Context()), raw, false); {
		case errors.Is(err, errTryAgain):
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		case errors.Is(err, errBadUpdate):
			http.Error(w, "bad update", http.StatusBadRequest)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}

// SetWebhook registers url with Telegram, with the secret token.
func (b *Bot) SetWebhook(ctx context.Context, url, secret string) error {
	_, err := b.tg.SetWebhook(ctx, &tg.SetWebhookParams{
		URL:            url,
		SecretToken:    secret,
		AllowedUpdates: []string{"message", "edited_message", "callback_query", "my_chat_member"},
	})
	if err != nil {
		return fmt.Errorf("set webhook: %w", redact(err, b.opt.Token))
	}
	return nil
}
