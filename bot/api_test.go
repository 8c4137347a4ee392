package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"testing"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"pensionbot/flows"
	"pensionbot/internal/telegramtest"
)

// The JSON path for sendMessage and answerCallbackQuery speaks the Bot
// API's wire format and reports refusals as go-telegram/bot's own errors,
// which the retry policy and bulk sending rely on.
func TestCallSpeaksTheBotAPI(t *testing.T) {
	srv := telegramtest.New(t)
	b := &Bot{opt: Options{Token: srv.Token, APIURL: srv.URL, HTTPClient: http.DefaultClient}}
	ctx := context.Background()
	u := telegramtest.User{ID: 4242, LanguageCode: "en"}
	srv.AddChat(u)

	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "Yes", CallbackData: "1:yes"}}}}
	sent, err := b.sendMessage(ctx, &tg.SendMessageParams{ChatID: u.ID, Text: "Hello", ReplyMarkup: kb, ProtectContent: true})
	if err != nil {
		t.Fatal(err)
	}
	got := srv.Messages(u.ID)
	if len(got) != 1 || got[0].ID != sent.ID || got[0].Text != "Hello" || len(got[0].Buttons) != 1 || got[0].Buttons[0][0].Data != "1:yes" {
		t.Fatalf("sent %+v, the fake holds %+v", sent, got)
	}

	srv.FailNext("sendMessage", 1, http.StatusTooManyRequests, 7)
	_, err = b.sendMessage(ctx, &tg.SendMessageParams{ChatID: u.ID, Text: "again"})
	var tooMany *tg.TooManyRequestsError
	if !errors.As(err, &tooMany) || tooMany.RetryAfter != 7 {
		t.Fatalf("a 429 gave %v", err)
	}

	srv.FailNext("sendMessage", 1, http.StatusBadGateway, 0)
	_, err = b.sendMessage(ctx, &tg.SendMessageParams{ChatID: u.ID, Text: "again"})
	if err == nil || !transient(err) {
		t.Fatalf("a 502 is worth retrying: %v", err)
	}

	err = b.call(ctx, "answerCallbackQuery", &tg.AnswerCallbackQueryParams{CallbackQueryID: "no-such-query"}, nil)
	if !errors.Is(err, tg.ErrorBadRequest) {
		t.Fatalf("an unknown callback query gave %v", err)
	}

	srv.BlockQuietly(u)
	_, err = b.sendMessage(ctx, &tg.SendMessageParams{ChatID: u.ID, Text: "still there?"})
	if !errors.Is(err, tg.ErrorForbidden) {
		t.Fatalf("a blocked chat gave %v", err)
	}

	// A network failure is retried and never shows the token.
	b.opt.APIURL = "http://127.0.0.1:1"
	_, err = b.sendMessage(ctx, &tg.SendMessageParams{ChatID: u.ID, Text: "x"})
	if err == nil || !transient(err) || strings.Contains(err.Error(), srv.Token) {
		t.Fatalf("a refused connection gave %v", err)
	}
}

// A message written directly is the same JSON encoding/json would write.
func TestEncodeParamsMatchesEncodingJSON(t *testing.T) {
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "是 \"yes\" <ok>", CallbackData: "3:yes"}}}}
	raw, _ := json.Marshal(kb)
	for _, p := range []*tg.SendMessageParams{
		{ChatID: int64(42), Text: "Hello\nworld ⏎ 您好 \u2028 <b>"},
		{ChatID: int64(-100123), Text: "x", ProtectContent: true, ReplyMarkup: json.RawMessage(raw)},
		{ChatID: int64(7), Text: "y", AllowPaidBroadcast: true, ReplyMarkup: kb},
		{ChatID: int64(7), Text: "z", ReplyMarkup: &models.ReplyKeyboardRemove{RemoveKeyboard: true}},
		{ChatID: int64(7), Text: "not plain", ParseMode: models.ParseModeHTML},
		{ChatID: "@channel", Text: "not plain either"},
	} {
		var got bytes.Buffer
		if err := encodeParams(&got, p); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(p)
		var g, w any
		if err := json.Unmarshal(got.Bytes(), &g); err != nil {
			t.Fatalf("invalid JSON %s: %v", got.Bytes(), err)
		}
		json.Unmarshal(want, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("got  %s\nwant %s", got.Bytes(), want)
		}
	}
}

// A case's photo is read when its message is sent; a case decided or
// withdrawn meanwhile has none, and nothing is sent for it.
func TestCasePhotoReadWhenSent(t *testing.T) {
	asked := ""
	b := &Bot{log: slog.New(slog.DiscardHandler), opt: Options{CasePhoto: func(_ context.Context, caseID, kind string) ([]byte, error) {
		asked = caseID + "/" + kind
		return nil, nil
	}}}
	err := b.do(context.Background(), 1, effect{Kind: "photo", Chat: 7, PhotoOf: &flows.PhotoRef{Case: "c1", Kind: "face"}, Text: "Face"})
	if err != nil || asked != "c1/face" {
		t.Fatalf("err %v, asked for %q", err, asked)
	}
	b.opt.CasePhoto = func(context.Context, string, string) ([]byte, error) { return nil, errors.New("redis down") }
	if err := b.do(context.Background(), 1, effect{Kind: "photo", Chat: 7, PhotoOf: &flows.PhotoRef{Case: "c1", Kind: "face"}}); err == nil {
		t.Fatal("a photo that could not be read was counted as sent")
	}
}
