package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"pensionbot/internal/redistest"
	"pensionbot/internal/telegramtest"
	"pensionbot/secret"
)

var redisSrv *redistest.Server

func TestMain(m *testing.M) { redistest.Main(m, &redisSrv) }

// syncBuffer is a log sink safe for concurrent writers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.buf.String()
}

type harness struct {
	t    testing.TB
	tg   *telegramtest.Server
	env  map[string]string
	logs *syncBuffer
}

func newHarness(t testing.TB, db int, extra map[string]string) *harness {
	t.Helper()
	redisSrv.Client(t, db) // empty database
	h := &harness{t: t, tg: telegramtest.New(t), logs: &syncBuffer{}}
	h.env = map[string]string{
		"TELEGRAM_BOT_TOKEN": h.tg.Token,
		"TELEGRAM_API_URL":   h.tg.URL,
		"REDIS_URL":          redisSrv.URL(db),
		"DATA_KEY":           secret.NewKey(),
		"LOG_LEVEL":          "debug",
		"LOG_FORMAT":         "json",
	}
	for k, v := range extra {
		h.env[k] = v
	}
	return h
}

// start runs the real program wiring until the returned stop is called.
func (h *harness) start() (app *App, stop func()) {
	h.t.Helper()
	cfg, err := LoadConfig(func(k string) string { return h.env[k] })
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	app, err = NewApp(ctx, cfg, slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		h.t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- app.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					h.t.Errorf("run: %v", err)
				}
			case <-time.After(40 * time.Second):
				h.t.Error("did not stop")
			}
		})
	}
	h.t.Cleanup(stop)
	return app, stop
}

func (h *harness) wait(chat int64, n int) []telegramtest.Message {
	h.t.Helper()
	return h.tg.WaitMessages(h.t, chat, n, 10*time.Second)
}

func press(h *harness, u telegramtest.User, m telegramtest.Message, textPart string) {
	h.t.Helper()
	for _, row := range m.Buttons {
		for _, b := range row {
			if strings.Contains(b.Text, textPart) {
				h.tg.PressButton(u, m.ID, b.Data)
				return
			}
		}
	}
	h.t.Fatalf("no button %q in %+v", textPart, m.Buttons)
}

func TestStartInPersonsLanguageAndSwitch(t *testing.T) {
	h := newHarness(t, 1, nil)
	h.start()
	u := telegramtest.User{ID: 1001, FirstName: "Mei", LanguageCode: "zh-TW"}
	h.tg.SendText(u, "/start")
	ms := h.wait(u.ID, 1)
	if !strings.Contains(ms[0].Text, "請選擇語言") {
		t.Fatalf("language prompt not in Traditional Chinese: %q", ms[0].Text)
	}
	if !strings.HasPrefix(ms[0].Buttons[0][0].Text, "✓ 繁體中文") {
		t.Fatalf("guessed language not first and marked: %+v", ms[0].Buttons)
	}
	press(h, u, ms[0], "English")
	ms = h.wait(u.ID, 3)
	if !strings.Contains(ms[1].Text, "never ask for your bank PIN") {
		t.Fatalf("welcome: %q", ms[1].Text)
	}
	if !strings.Contains(ms[2].Text, "What would you like to do") || len(ms[2].Buttons) == 0 {
		t.Fatalf("menu: %+v", ms[2])
	}
}

func TestCommandAfterChineseText(t *testing.T) {
	h := newHarness(t, 2, nil)
	h.start()
	u := telegramtest.User{ID: 1002, LanguageCode: "zh-CN"}
	h.tg.SendText(u, "/start")
	ms := h.wait(u.ID, 1)
	press(h, u, ms[0], "简体中文")
	h.wait(u.ID, 3)
	h.tg.SendText(u, "你好 /help")
	ms = h.wait(u.ID, 4)
	if !strings.Contains(ms[3].Text, "使用方法") {
		t.Fatalf("help after Chinese text not recognised: %q", ms[3].Text)
	}
}

// A double tap or a press on an old message is answered on the button
// ("out of date"); the step is shown again at most once in a while, never
// for a double tap: each showing would make the buttons above it stale.
func TestStaleButton(t *testing.T) {
	h := newHarness(t, 3, nil)
	h.start()
	u := telegramtest.User{ID: 1003, LanguageCode: "en"}
	h.tg.SendText(u, "/start")
	first := h.wait(u.ID, 1)[0]
	press(h, u, first, "English")
	h.wait(u.ID, 3)
	toast := func(cb string) string {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if text, ok := h.tg.Answered(cb); ok {
				return text
			}
		}
		t.Fatal("callback not answered")
		return ""
	}
	quiet := func(n int) {
		t.Helper()
		time.Sleep(500 * time.Millisecond)
		if ms := h.tg.Messages(u.ID); len(ms) != n {
			t.Fatalf("%d messages, want %d: %q", len(ms), n, ms[len(ms)-1].Text)
		}
	}
	// A double tap on the language button: a notice on the button only.
	_, cb := h.tg.PressButton(u, first.ID, first.Buttons[0][0].Data)
	if text := toast(cb); !strings.Contains(text, "out of date") {
		t.Fatalf("double tap answered with %q", text)
	}
	quiet(3)
	// Further on, a button far up: the step is shown again, once.
	h.tg.SendText(u, "/help")
	h.tg.SendText(u, "/help")
	h.wait(u.ID, 7)
	_, cb = h.tg.PressButton(u, first.ID, first.Buttons[0][0].Data)
	ms := h.wait(u.ID, 9)
	if !strings.Contains(ms[7].Text, "out of date") || !strings.Contains(ms[8].Text, "What would you like") {
		t.Fatalf("old press: %q, %q", ms[7].Text, ms[8].Text)
	}
	if text := toast(cb); !strings.Contains(text, "out of date") {
		t.Fatalf("old press answered with %q", text)
	}
	_, cb = h.tg.PressButton(u, first.ID, first.Buttons[0][0].Data)
	if text := toast(cb); !strings.Contains(text, "out of date") {
		t.Fatalf("second old press answered with %q", text)
	}
	quiet(9)
}

func TestConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "TELEGRAM_BOT_TOKEN: not set. Create a bot with @BotFather"},
		{map[string]string{"TELEGRAM_BOT_TOKEN": goodToken}, "DATA_KEY: not set"},
		{map[string]string{"TELEGRAM_BOT_TOKEN": goodToken, "DATA_KEY": "short"}, "DATA_KEY:"},
		{map[string]string{"TELEGRAM_BOT_TOKEN": goodToken, "DATA_KEY": secret.NewKey(), "DEFAULT_LANGUAGE": "fr"}, "DEFAULT_LANGUAGE:"},
		{map[string]string{"TELEGRAM_BOT_TOKEN": goodToken, "DATA_KEY": secret.NewKey(), "STAFF_IDS": "12,x"}, "STAFF_IDS:"},
		{map[string]string{"TELEGRAM_BOT_TOKEN": goodToken, "DATA_KEY": secret.NewKey(), "WEBHOOK_URL": "https://x.example/hook"}, "WEBHOOK_SECRET:"},
		{map[string]string{"TELEGRAM_BOT_TOKEN": goodToken, "DATA_KEY": secret.NewKey(), "REDIS_URL": "mysql://x"}, "REDIS_URL:"},
		{map[string]string{"TELEGRAM_BOT_TOKEN": goodToken, "DATA_KEY": secret.NewKey(), "FAMILY_MAX": "many"}, "FAMILY_MAX:"},
		{map[string]string{"TELEGRAM_BOT_TOKEN": goodToken, "DATA_KEY": secret.NewKey(), "TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE:"},
	} {
		var stderr bytes.Buffer
		code := run(context.Background(), func(k string) string { return tc.env[k] }, &stderr)
		out := stderr.String()
		if code != 2 || !strings.Contains(out, tc.want) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
			t.Errorf("env %v: exit %d, stderr %q; want 2 and one line with %q", tc.env, code, out, tc.want)
		}
	}
}

var _ = fmt.Sprint

func TestFamilyAndTimeZoneDefaults(t *testing.T) {
	cfg, err := LoadConfig(func(k string) string {
		return map[string]string{"TELEGRAM_BOT_TOKEN": goodToken, "DATA_KEY": secret.NewKey()}[k]
	})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.FamilyMax != 8 || cfg.TimeZone == nil || cfg.TimeZone.String() != "Asia/Shanghai" {
		t.Fatalf("defaults: FAMILY_MAX %d, TIME_ZONE %v", cfg.FamilyMax, cfg.TimeZone)
	}
}

// Staff find their commands (/review, /broadcast) in the command menu of
// their own chat, in their language; everyone else's menu has only
// everyone's commands.
func TestStaffCommandMenu(t *testing.T) {
	h := newHarness(t, 60, map[string]string{"STAFF_IDS": "9601"})
	_, stop := h.start()
	has := func(cmds []models.BotCommand, name string) bool {
		return slices.ContainsFunc(cmds, func(c models.BotCommand) bool { return c.Command == name })
	}
	described := func(cmds []models.BotCommand, desc string) bool {
		return slices.ContainsFunc(cmds, func(c models.BotCommand) bool { return c.Description == desc })
	}
	// The menus are set one language after the other at start: wait until
	// what a chat sees in a language is what it should be.
	eventually := func(chat int64, lang string, ok func([]models.BotCommand) bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !ok(h.tg.MenuCommands(chat, lang)) {
			if time.Now().After(deadline) {
				t.Fatalf("menu of %d in %s: %v", chat, lang, h.tg.MenuCommands(chat, lang))
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	staffMenu := func(desc string) func([]models.BotCommand) bool {
		return func(m []models.BotCommand) bool {
			return has(m, "review") && has(m, "broadcast") && has(m, "start") && described(m, desc)
		}
	}
	everyones := func(m []models.BotCommand) bool { return has(m, "start") && !has(m, "review") && !has(m, "broadcast") }
	eventually(9601, "zh-CN", staffMenu("审核下一个案件"))
	eventually(9601, "es", staffMenu("Revisar el siguiente caso"))
	eventually(4601, "zh-CN", everyones)

	// Someone else is staff now: the former staff member's menu is
	// everyone's again, in every language.
	stop()
	h.env["STAFF_IDS"] = "9602"
	h.start()
	eventually(9602, "en", staffMenu("Review the next case"))
	eventually(9601, "zh-CN", everyones)
	eventually(9601, "es", everyones)
}
