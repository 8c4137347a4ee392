package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
)

// The two Bot API calls that every update makes, sendMessage and
// answerCallbackQuery, go out as JSON through call. go-telegram/bot builds
// every request as a multipart form by reflection, in a goroutine writing
// into a pipe, and decodes the whole reply twice (a full Message for a
// sendMessage): measured, that was a third of the bot's CPU per update.
// call takes the library's own parameter types, which carry the Bot API's
// JSON names, and returns the library's own errors (tg.ErrorForbidden,
// *tg.TooManyRequestsError, …), so retries and bulk sending treat both
// paths alike. Everything else (files, photos, webhooks, commands) stays
// with the library.

// apiReply is the Bot API's answer envelope. Result points to where the
// result goes, so that the reply is decoded in one pass.
type apiReply struct {
	OK          bool   `json:"ok"`
	Result      any    `json:"result"`
	ErrorCode   int    `json:"error_code"`
	Description string `json:"description"`
	Parameters  struct {
		RetryAfter int `json:"retry_after"`
	} `json:"parameters"`
}

var callBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// call runs a Bot API method with params as JSON and decodes the result
// into result (nil: ignored).
func (b *Bot) call(ctx context.Context, method string, params, result any) error {
	buf := callBufs.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 64<<10 {
			callBufs.Put(buf)
		}
	}()
	if err := encodeParams(buf, params); err != nil {
		return fmt.Errorf("encode %s: %w", method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, b.methodURL(method), bytes.NewReader(buf.Bytes()))
	if err != nil {
		return fmt.Errorf("request %s: %w", method, redact(err, b.opt.Token))
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := b.opt.HTTPClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			ue.URL = strings.ReplaceAll(ue.URL, b.opt.Token, "***")
		}
		// The words the retry policy knows a network failure by.
		return fmt.Errorf("error do request for method %s, %w", method, err)
	}
	defer resp.Body.Close()
	buf.Reset()
	if _, err := buf.ReadFrom(io.LimitReader(resp.Body, 1<<20)); err != nil {
		return fmt.Errorf("error do request for method %s, read reply: %w", method, err)
	}
	if result == nil {
		result = &ignored{}
	}
	r := apiReply{Result: result}
	if err := json.Unmarshal(buf.Bytes(), &r); err != nil {
		return fmt.Errorf("error response from telegram for method %s, %d undecodable reply: %w", method, resp.StatusCode, err)
	}
	if !r.OK {
		return apiError(method, r)
	}
	return nil
}

// ignored takes a result nobody needs.
type ignored struct{}

func (*ignored) UnmarshalJSON([]byte) error { return nil }

// encodeParams writes params as JSON. A message as the bot sends it (a
// numeric chat, text, a keyboard already encoded) is written directly:
// encoding/json would walk the struct by reflection and re-check the
// encoded keyboard byte by byte.
func encodeParams(buf *bytes.Buffer, params any) error {
	p, ok := params.(*tg.SendMessageParams)
	if !ok || !plainMessage(p) {
		return json.NewEncoder(buf).Encode(params)
	}
	chat, _ := p.ChatID.(int64)
	buf.WriteString(`{"chat_id":`)
	buf.Write(strconv.AppendInt(buf.AvailableBuffer(), chat, 10))
	buf.WriteString(`,"text":`)
	text, err := json.Marshal(p.Text)
	if err != nil {
		return err
	}
	buf.Write(text)
	if p.ProtectContent {
		buf.WriteString(`,"protect_content":true`)
	}
	if p.AllowPaidBroadcast {
		buf.WriteString(`,"allow_paid_broadcast":true`)
	}
	switch m := p.ReplyMarkup.(type) {
	case nil:
	case json.RawMessage:
		if len(m) > 0 {
			buf.WriteString(`,"reply_markup":`)
			buf.Write(m)
		}
	default:
		raw, err := json.Marshal(m)
		if err != nil {
			return err
		}
		buf.WriteString(`,"reply_markup":`)
		buf.Write(raw)
	}
	buf.WriteByte('}')
	return nil
}

// plainMessage reports whether a message uses only what encodeParams
// writes itself.
func plainMessage(p *tg.SendMessageParams) bool {
	_, numeric := p.ChatID.(int64)
	rest := *p
	rest.ChatID, rest.Text, rest.ProtectContent, rest.AllowPaidBroadcast, rest.ReplyMarkup = nil, "", false, false, nil
	return numeric && reflect.ValueOf(rest).IsZero()
}

// methodURL is where a method is called; it holds the token, so it never
// goes into an error or a log line.
func (b *Bot) methodURL(method string) string {
	return b.opt.APIURL + "/bot" + b.opt.Token + "/" + method
}

// apiError turns a refusal into the error go-telegram/bot would return.
func apiError(method string, r apiReply) error {
	switch r.ErrorCode {
	case http.StatusForbidden:
		return fmt.Errorf("%w, %s", tg.ErrorForbidden, r.Description)
	case http.StatusBadRequest:
		return fmt.Errorf("%w, %s", tg.ErrorBadRequest, r.Description)
	case http.StatusUnauthorized:
		return fmt.Errorf("%w, %s", tg.ErrorUnauthorized, r.Description)
	case http.StatusNotFound:
		return fmt.Errorf("%w, %s", tg.ErrorNotFound, r.Description)
	case http.StatusConflict:
		return fmt.Errorf("%w, %s", tg.ErrorConflict, r.Description)
	case http.StatusTooManyRequests:
		return &tg.TooManyRequestsError{Message: fmt.Sprintf("%s, %s", tg.ErrorTooManyRequests, r.Description), RetryAfter: r.Parameters.RetryAfter}
	}
	return fmt.Errorf("error response from telegram for method %s, %d %s", method, r.ErrorCode, r.Description)
}

// sentMessage is the part of a sent message the bot uses.
type sentMessage struct {
	ID int `json:"message_id"`
}

// sendMessage is tg.Bot.SendMessage through call.
func (b *Bot) sendMessage(ctx context.Context, p *tg.SendMessageParams) (*models.Message, error) {
	var m sentMessage
	if err := b.call(ctx, "sendMessage", p, &m); err != nil {
		return nil, err
	}
	return &models.Message{ID: m.ID}, nil
}
