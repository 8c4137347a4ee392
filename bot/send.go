package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
	"unicode/utf16"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"pensionbot/flows"
	"pensionbot/retry"
)

// maxText is Telegram's limit for one message, in UTF-16 code units.
const maxText = 4096

// render turns a reply into the messages to send (long texts are split).
func (b *Bot) render(lang string, turn int, r flows.Reply) ([]*tg.SendMessageParams, error) {
	if r.Lang != "" {
		lang = r.Lang // a preview in another language
	}
	text := r.Text
	if r.ID != "" {
		var err error
		text, err = b.catalog.Text(lang, r.ID, r.Data)
		if err != nil {
			if text == "" {
				return nil, err
			}
			b.log.Warn("message rendered with fallback", "err", err)
		}
	}
	if strings.TrimSpace(text) == "" {
		return nil, fmt.Errorf("reply %q renders empty", r.ID)
	}
	var markup models.ReplyMarkup
	switch {
	case len(r.Buttons) > 0:
		kb := &models.InlineKeyboardMarkup{}
		for _, row := range r.Buttons {
			var out []models.InlineKeyboardButton
			for _, btn := range row {
				label, err := b.label(lang, btn)
				if err != nil {
					return nil, err
				}
				data := callbackData(turn, btn.Action)
				if len(data) > 64 {
					return nil, fmt.Errorf("button %q: callback data over 64 bytes", btn.Action)
				}
				out = append(out, models.InlineKeyboardButton{Text: label, CallbackData: data})
			}
			kb.InlineKeyboard = append(kb.InlineKeyboard, out)
		}
		markup = kb
	case r.AskContact != "":
		label, err := b.catalog.Text(lang, r.AskContact, nil)
		if err != nil {
			return nil, err
		}
		markup = &models.ReplyKeyboardMarkup{
			Keyboard:       [][]models.KeyboardButton{{{Text: label, RequestContact: true}}},
			ResizeKeyboard: true, OneTimeKeyboard: true,
		}
	case r.RemoveKeyboard:
		markup = &models.ReplyKeyboardRemove{RemoveKeyboard: true}
	}
	if r.PhotoOf != nil {
		// A photo's caption is limited to 1024 characters.
		return []*tg.SendMessageParams{{Text: firstRunes(text, 1000), ReplyMarkup: markup}}, nil
	}
	parts := split(text, maxText)
	out := make([]*tg.SendMessageParams, len(parts))
	for i, p := range parts {
		out[i] = &tg.SendMessageParams{Text: p}
	}
	// Buttons go under the last part, where the person's eyes end.
	out[len(out)-1].ReplyMarkup = markup
	return out, nil
}

func (b *Bot) label(lang string, btn flows.Button) (string, error) {
	if btn.Verbatim {
		return btn.Label, nil
	}
	if btn.Lang != "" {
		lang = btn.Lang
	}
	return b.catalog.Text(lang, btn.Label, btn.Data)
}

func firstRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n])
}

// split cuts text into parts of at most limit UTF-16 units, at line breaks
// where possible.
func split(text string, limit int) []string {
	var parts []string
	for len(utf16.Encode([]rune(text))) > limit {
		runes := []rune(text)
		n, cut := 0, 0
		for i, r := range runes {
			n += len(utf16.Encode([]rune{r}))
			if n > limit {
				break
			}
			cut = i + 1
		}
		if i := strings.LastIndex(string(runes[:cut]), "\n"); i > 0 {
			cut = len([]rune(string(runes[:cut])[:i]))
		}
		parts = append(parts, strings.TrimSpace(string(runes[:cut])))
		text = strings.TrimSpace(string(runes[cut:]))
	}
	return append(parts, text)
}

// errBlocked means the person blocked the bot; sending to them is pointless.
var errBlocked = errors.New("blocked by the person")

// send delivers one message, retrying on flood limits (honouring
// retry_after), server errors and network errors.
func (b *Bot) send(ctx context.Context, chat int64, p *tg.SendMessageParams) (*models.Message, error) {
	p.ChatID = chat
	var msg *models.Message
	err := b.retry(ctx, "sendMessage", func(ctx context.Context) error {
		var err error
		msg, err = b.sendMessage(ctx, p)
		return err
	})
	return msg, err
}

// sendPhoto uploads a photo with a caption, protected: staff must not
// forward or save a person's photos. A picture beyond what sendPhoto takes
// is first made to fit (see fitPhoto).
func (b *Bot) sendPhoto(ctx context.Context, chat int64, photo []byte, caption string, markup json.RawMessage) (*models.Message, error) {
	photo, err := fitPhoto(photo)
	if err != nil {
		return nil, fmt.Errorf("sendPhoto: %w", err)
	}
	var msg *models.Message
	err = b.retry(ctx, "sendPhoto", func(ctx context.Context) error {
		p := &tg.SendPhotoParams{
			ChatID:         chat,
			Photo:          &models.InputFileUpload{Filename: "photo.jpg", Data: bytes.NewReader(photo)},
			Caption:        caption,
			ProtectContent: true,
		}
		if len(markup) > 0 {
			p.ReplyMarkup = markup
		}
		var err error
		msg, err = b.tg.SendPhoto(ctx, p)
		return err
	})
	return msg, err
}

// retry runs call with the program's one retry policy (package retry):
// flood limits wait for retry_after however long, server and network
// errors back off and try again, a blocked person is not tried again.
func (b *Bot) retry(ctx context.Context, what string, call func(context.Context) error) error {
	_, err := b.policy.Do(ctx, call, b.classify, nil)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, tg.ErrorForbidden):
		return fmt.Errorf("%s: %w: %w", what, errBlocked, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// classify judges a failed Bot API call for the retry policy.
func (b *Bot) classify(err error) retry.Verdict {
	var tooMany *tg.TooManyRequestsError
	switch {
	case errors.Is(err, tg.ErrorForbidden):
		return retry.Verdict{}
	case errors.As(err, &tooMany):
		b.metrics.retries.WithLabelValues("429").Inc()
		return retry.Verdict{Retry: true, After: max(time.Duration(tooMany.RetryAfter)*time.Second, time.Second)}
	case transient(err):
		b.metrics.retries.WithLabelValues("transient").Inc()
		return retry.Verdict{Retry: true}
	}
	return retry.Verdict{}
}

// transient reports errors worth retrying: network failures and 5xx
// answers (go-telegram/bot reports those as plain errors with the code).
func transient(err error) bool {
	var netErr net.Error
	if errors.As(err, &netErr) {
		return true
	}
	msg := err.Error()
	for _, code := range []string{" 500 ", " 502 ", " 503 ", " 504 "} {
		if strings.Contains(msg, code) {
			return true
		}
	}
	return strings.Contains(msg, "error do request") || strings.Contains(msg, "EOF")
}
