package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"pensionbot/internal/telegramtest"
	"pensionbot/secret"
)

// goodToken has the shape of a token from @BotFather.
const goodToken = "123456789:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"

func TestConfigChecksTokenAndWebhook(t *testing.T) {
	base := func(kv ...string) map[string]string {
		env := map[string]string{"TELEGRAM_BOT_TOKEN": goodToken, "DATA_KEY": secret.NewKey()}
		for i := 0; i+1 < len(kv); i += 2 {
			env[kv[i]] = kv[i+1]
		}
		return env
	}
	const hookSecret16 = "0123456789abcdef"
	for _, tc := range []struct {
		name string
		env  map[string]string
		want string // "" for accepted, else the start of the error
	}{
		{"BotFather's shape", base(), ""},
		{"no colon part", base("TELEGRAM_BOT_TOKEN", "abc:def"), "TELEGRAM_BOT_TOKEN: does not look like a bot token"},
		{"letters before the colon", base("TELEGRAM_BOT_TOKEN", "abc:AAHdqTcvCH1vGWJxfSeofSAs0K5PALDsawq"), "TELEGRAM_BOT_TOKEN: does not look"},
		{"secret too short", base("TELEGRAM_BOT_TOKEN", "123456:AAHdqTcvCH1vGWJxfSeofSAs0K5"), "TELEGRAM_BOT_TOKEN: does not look"},
		{"space inside", base("TELEGRAM_BOT_TOKEN", "123456:AAHdqTcvCH1vGWJx fSeofSAs0K5PALDsawq"), "TELEGRAM_BOT_TOKEN: does not look"},
		{"the fake Bot API's token", base("TELEGRAM_BOT_TOKEN", telegramtest.New(t).Token), ""},
		{"the sandbox's token", base("TELEGRAM_BOT_TOKEN", telegramtest.SandboxToken), ""},
		{"https webhook", base("WEBHOOK_URL", "https://bot.example.org/hook", "WEBHOOK_SECRET", hookSecret16), ""},
		{"http webhook with Telegram's API", base("WEBHOOK_URL", "http://bot.example.org/hook", "WEBHOOK_SECRET", hookSecret16), "WEBHOOK_URL: must start with https://"},
		{"http webhook with Telegram's API named", base("TELEGRAM_API_URL", "https://api.telegram.org/", "WEBHOOK_URL", "http://bot.example.org/hook", "WEBHOOK_SECRET", hookSecret16), "WEBHOOK_URL: must start with https://"},
		{"http webhook with a self-hosted Bot API", base("TELEGRAM_API_URL", "http://10.0.0.5:8081", "WEBHOOK_URL", "http://10.0.0.6/hook", "WEBHOOK_SECRET", hookSecret16), ""},
		{"webhook without a scheme", base("WEBHOOK_URL", "bot.example.org/hook", "WEBHOOK_SECRET", hookSecret16), "WEBHOOK_URL: must be the public https URL"},
		{"secret of 256", base("WEBHOOK_URL", "https://bot.example.org/hook", "WEBHOOK_SECRET", strings.Repeat("a", 256)), ""},
		{"secret of 257", base("WEBHOOK_URL", "https://bot.example.org/hook", "WEBHOOK_SECRET", strings.Repeat("a", 257)), "WEBHOOK_SECRET:"},
		{"secret of 15", base("WEBHOOK_URL", "https://bot.example.org/hook", "WEBHOOK_SECRET", strings.Repeat("a", 15)), "WEBHOOK_SECRET:"},
	} {
		_, err := LoadConfig(func(k string) string { return tc.env[k] })
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.want != "" && (err == nil || !strings.HasPrefix(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want %q…", tc.name, err, tc.want)
		}
	}
}

// A token Telegram does not know (401 from getMe) is reported as a
// TELEGRAM_BOT_TOKEN problem, with what to do, on one line, with status 2.
func TestRefusedTokenAtStart(t *testing.T) {
	tg := telegramtest.New(t)
	env := map[string]string{
		"TELEGRAM_BOT_TOKEN": goodToken, // well shaped, but not the fake's
		"TELEGRAM_API_URL":   tg.URL,
		"REDIS_URL":          redisSrv.URL(19),
		"DATA_KEY":           secret.NewKey(),
	}
	var stderr bytes.Buffer
	code := run(context.Background(), func(k string) string { return env[k] }, &stderr)
	out := stderr.String()
	lines := strings.Split(strings.TrimSpace(out), "\n")
	last := lines[len(lines)-1] // the log lines of the start come first
	if code != 2 || !strings.HasPrefix(last, "pensionbot: configuration: TELEGRAM_BOT_TOKEN: Telegram refused this token (401") || !strings.Contains(last, "@BotFather") {
		t.Fatalf("exit %d, stderr %q", code, out)
	}
	if strings.Contains(out, goodToken) {
		t.Fatal("the token was printed")
	}
}

// A token revoked while polling stops the program with a clear line and
// status 2, instead of polling for ever with a warning.
func TestTokenRevokedWhilePolling(t *testing.T) {
	h := newHarness(t, 19, nil)
	done := make(chan int, 1)
	go func() { done <- run(context.Background(), func(k string) string { return h.env[k] }, h.logs) }()
	u := telegramtest.User{ID: 2013, LanguageCode: "en"}
	h.tg.SendText(u, "/start")
	h.wait(u.ID, 1)
	h.tg.FailNext("getUpdates", 1000, 401, 0) // @BotFather revoked it
	h.tg.SendText(u, "/help")                 // ends the long poll in flight
	select {
	case code := <-done:
		if code != 2 {
			t.Fatalf("exit %d, want 2", code)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("still polling with a revoked token")
	}
	logs := h.logs.String()
	if !strings.Contains(logs, "stopped: TELEGRAM_BOT_TOKEN: Telegram refused this token") {
		t.Fatalf("no clear log line:\n%s", logs)
	}
	if n := len(h.tg.Calls("getUpdates")); n > 10 {
		t.Fatalf("%d getUpdates calls: kept polling", n)
	}
}
