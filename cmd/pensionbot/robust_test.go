package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	openai "github.com/sashabaranov/go-openai"

	"pensionbot/internal/openaitest"
	"pensionbot/internal/telegramtest"
	"pensionbot/secret"
	"pensionbot/store"
)

const hookSecret = "s3cret-webhook-token-for-tests"

func webhookEnv() map[string]string {
	return map[string]string{
		"WEBHOOK_URL":    "http://127.0.0.1/hook", // Telegram's view; tests deliver to the listener
		"WEBHOOK_LISTEN": "127.0.0.1:0",
		"WEBHOOK_SECRET": hookSecret,
		"ADMIN_LISTEN":   "127.0.0.1:0",
	}
}

func deliver(t *testing.T, h *harness, app *App, id int64, secret string) int {
	t.Helper()
	code, err := h.tg.Deliver(context.Background(), "http://"+app.WebhookAddr()+"/hook", secret, id)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

func TestWebhookSecretAndDuplicates(t *testing.T) {
	h := newHarness(t, 4, webhookEnv())
	app, _ := h.start()
	u := telegramtest.User{ID: 2001, LanguageCode: "en"}
	id := h.tg.SendText(u, "/start")
	if code := deliver(t, h, app, id, "wrong-secret-wrong-secret"); code != http.StatusUnauthorized {
		t.Fatalf("wrong secret: status %d, want 401", code)
	}
	if code := deliver(t, h, app, id, ""); code != http.StatusUnauthorized {
		t.Fatalf("no secret: status %d, want 401", code)
	}
	if n := len(h.tg.Messages(u.ID)); n != 0 {
		t.Fatalf("update with a wrong secret was applied: %d messages", n)
	}
	for range 3 { // Telegram redelivers: one reply only
		if code := deliver(t, h, app, id, hookSecret); code != http.StatusOK {
			t.Fatalf("status %d", code)
		}
	}
	time.Sleep(200 * time.Millisecond)
	if ms := h.tg.Messages(u.ID); len(ms) != 1 {
		t.Fatalf("same update delivered 3 times gave %d replies", len(ms))
	}
}

// Two bot processes share one Redis; 200 updates of one person arrive
// alternately at both (each also redelivered to the other). Each is applied
// exactly once and in order.
func TestTwoProcessesApplyInOrderOnce(t *testing.T) {
	h := newHarness(t, 5, webhookEnv())
	a, _ := h.start()
	b, _ := h.start()
	u := telegramtest.User{ID: 2002, LanguageCode: "en"}
	deliver(t, h, a, h.tg.SendText(u, "/start"), hookSecret)
	first := h.wait(u.ID, 1)[0]
	_, _ = h.tg.PressButton(u, first.ID, first.Buttons[0][0].Data)
	deliver(t, h, b, h.tg.Calls("")[0].At.Unix()*0+h.lastUpdate(), hookSecret)
	base := len(h.wait(u.ID, 3))

	const n = 200
	ids := make([]int64, n)
	for i := range n {
		cmd := "/help"
		if i%2 == 1 {
			cmd = "/privacy"
		}
		ids[i] = h.tg.SendText(u, cmd)
	}
	var wg sync.WaitGroup
	for i, id := range ids {
		apps := []*App{a, b}
		// The update goes to one process and, concurrently, again to the
		// other, as a redelivery would.
		wg.Add(1)
		go func() { defer wg.Done(); deliver(t, h, apps[(i+1)%2], id, hookSecret) }()
		if code := deliver(t, h, apps[i%2], id, hookSecret); code != http.StatusOK {
			t.Fatalf("update %d: status %d", i, code)
		}
	}
	wg.Wait()
	h.tg.WaitMessages(t, u.ID, base+2*n, 60*time.Second)
	time.Sleep(300 * time.Millisecond)
	ms := h.tg.Messages(u.ID)
	if len(ms) != base+2*n {
		t.Fatalf("%d messages, want %d", len(ms), base+2*n)
	}
	for i := range n {
		info := ms[base+2*i].Text
		want := "How to use me"
		if i%2 == 1 {
			want = "What I keep"
		}
		if !strings.Contains(info, want) {
			t.Fatalf("reply %d out of order: %q, want %q", i, info, want)
		}
	}
}

// lastUpdate is the ID of the newest update the fake holds.
func (h *harness) lastUpdate() int64 {
	var id int64
	for i := int64(1); ; i++ {
		func() {
			defer func() { recover() }()
			u := h.tg.Update(i)
			if u.ID != 0 {
				id = u.ID
			}
		}()
		if id < i {
			return id
		}
	}
}

func TestNoSecretsOrPersonalDataInLogsOrRedis(t *testing.T) {
	h := newHarness(t, 6, map[string]string{"ADMIN_LISTEN": "127.0.0.1:0"})
	app, stop := h.start()
	const (
		name  = "张秀兰"
		idno  = "11010519491231002X"
		phone = "13812345678"
	)
	u := telegramtest.User{ID: 2003, FirstName: name, LastName: "Zhang", Username: "xiulan1949", LanguageCode: "zh-CN"}
	h.tg.SendText(u, "/start")
	ms := h.wait(u.ID, 1)
	press(h, u, ms[0], "简体中文")
	h.wait(u.ID, 3)
	h.tg.SendText(u, "我的身份证号是 "+idno+"，我叫"+name)
	h.tg.SendContact(u, "+86"+phone, u.ID)
	h.tg.SendText(u, "电话 "+phone)
	h.wait(u.ID, 6)

	resp, err := http.Get("http://" + app.AdminAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !bytes.Contains(metrics, []byte("pensionbot_updates_total")) || !bytes.Contains(metrics, []byte("pensionbot_update_seconds")) {
		t.Fatalf("metrics missing:\n%s", metrics)
	}
	if resp, err := http.Get("http://" + app.AdminAddr() + "/healthz"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", resp, err)
	}
	stop()

	logs := h.logs.String()
	if !strings.Contains(logs, "receiving updates") {
		t.Fatalf("no logs captured:\n%s", logs)
	}
	c := redisSrv.Client(t, 7) // another db, just for the scan helper below
	_ = c
	for _, secret := range []string{h.tg.Token, strings.Split(h.tg.Token, ":")[1], name, idno, phone, "xiulan1949", h.env["DATA_KEY"]} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
	// Everything stored in Redis is unreadable without the key.
	rdb := redisClient(t, 6)
	keys, err := rdb.Keys(context.Background(), "*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys: %v %v", keys, err)
	}
	for _, k := range keys {
		dump, _ := rdb.Dump(context.Background(), k).Bytes()
		for _, secret := range []string{name, idno, phone, "xiulan1949"} {
			if bytes.Contains(dump, []byte(secret)) {
				t.Errorf("redis key %s holds %q in plain text", k, secret)
			}
		}
	}
}

func TestRedisDownThenBack(t *testing.T) {
	// Its own server: this test stops it.
	h := newHarness(t, 0, map[string]string{"ADMIN_LISTEN": "127.0.0.1:0"})
	srv := startOwnRedis(t)
	h.env["REDIS_URL"] = srv.URL(0)
	app, _ := h.start()
	health := func() int {
		resp, err := http.Get("http://" + app.AdminAddr() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := health(); code != 200 {
		t.Fatalf("healthz %d with Redis up", code)
	}
	u := telegramtest.User{ID: 2004, LanguageCode: "en"}
	h.tg.SendText(u, "/start")
	ms := h.wait(u.ID, 1)
	press(h, u, ms[0], "English")
	h.wait(u.ID, 3)

	srv.Stop()
	if code := health(); code != http.StatusServiceUnavailable {
		t.Fatalf("healthz %d with Redis down, want 503", code)
	}
	h.tg.SendText(u, "/help")
	ms = h.wait(u.ID, 4)
	if !strings.Contains(ms[3].Text, "try again in a minute") {
		t.Fatalf("person not told to try again: %q", ms[3].Text)
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// Redis came back empty (it keeps nothing on disk here): the queued
	// /help is applied when the poller retries it, as a fresh start.
	ms = h.tg.WaitMessages(t, u.ID, 5, 30*time.Second)
	if len(ms) < 5 {
		t.Fatal("no recovery")
	}
}

// The built binary survives kill -9 mid-flow: after a restart the person
// continues at the same step.
func TestBinarySurvivesKill9(t *testing.T) {
	h := newHarness(t, 8, nil)
	startBin := h.binary()
	cmd := startBin()
	u := telegramtest.User{ID: 2005, LanguageCode: "es"}
	h.tg.SendText(u, "/start")
	ms := h.wait(u.ID, 1)
	press(h, u, ms[0], "Español")
	h.wait(u.ID, 3)
	h.tg.SendText(u, "/forget")
	ms = h.wait(u.ID, 4)
	if !strings.Contains(ms[3].Text, "borre todo") {
		t.Fatalf("forget prompt: %q", ms[3].Text)
	}
	// Killed once the prompt's delivery was recorded (a kill between the
	// send and that record would send it again: delivery is at least once).
	waitOutboxEmpty(t, redisClient(t, 8), u.ID)
	cmd.Process.Kill() // kill -9
	cmd.Wait()

	cmd = startBin()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	press(h, u, ms[3], "No")
	// The killed process may have held the person's lease; it expires
	// within one lease (15 s) and the restarted process goes on.
	ms = h.tg.WaitMessages(t, u.ID, 6, 40*time.Second)
	if !strings.Contains(ms[4].Text, "No he borrado nada") {
		t.Fatalf("after restart the person did not continue at the same step: %q", ms[4].Text)
	}
}

// SIGTERM while updates stream in: those in flight finish, the rest wait
// in Telegram for the next start, and none is lost or applied twice.
func TestGracefulShutdownLosesNothing(t *testing.T) {
	h := newHarness(t, 15, nil)
	startBin := h.binary()
	cmd := startBin()
	u := telegramtest.User{ID: 2009, LanguageCode: "en"}
	h.tg.SendText(u, "/start")
	press(h, u, h.wait(u.ID, 1)[0], "English")
	base := len(h.wait(u.ID, 3))
	const n = 40
	for i := range n {
		h.tg.SendText(u, "/help")
		if i == n/3 {
			cmd.Process.Signal(syscall.SIGTERM)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v", err)
	}
	cmd = startBin()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	h.tg.WaitMessages(t, u.ID, base+2*n, 30*time.Second)
	time.Sleep(500 * time.Millisecond)
	if got := len(h.tg.Messages(u.ID)); got != base+2*n {
		t.Fatalf("%d messages after restart, want %d: updates lost or applied twice", got, base+2*n)
	}
}

func TestSendRetriesOn429(t *testing.T) {
	h := newHarness(t, 9, nil)
	h.start()
	u := telegramtest.User{ID: 2006, LanguageCode: "en"}
	h.tg.FailNext("sendMessage", 1, 429, 1)
	h.tg.SendText(u, "/start")
	ms := h.tg.WaitMessages(t, u.ID, 1, 15*time.Second)
	calls := h.tg.Calls("sendMessage")
	if len(calls) < 2 || calls[1].At.Sub(calls[0].At) < 900*time.Millisecond {
		t.Fatalf("retry_after not honoured: %d calls", len(calls))
	}
	if !strings.Contains(ms[0].Text, "language") {
		t.Fatalf("%q", ms[0].Text)
	}
}

func TestSendRetriesOnServerErrors(t *testing.T) {
	h := newHarness(t, 16, nil)
	h.start()
	u := telegramtest.User{ID: 2010, LanguageCode: "en"}
	h.tg.FailNext("sendMessage", 2, 502, 0)
	h.tg.SendText(u, "/start")
	ms := h.tg.WaitMessages(t, u.ID, 1, 15*time.Second)
	if calls := h.tg.Calls("sendMessage"); len(calls) < 3 {
		t.Fatalf("%d sendMessage calls, want the 2 failures retried", len(calls))
	}
	if !strings.Contains(ms[0].Text, "language") {
		t.Fatalf("%q", ms[0].Text)
	}
}

func TestBlockedPersonDoesNotBreakTheBot(t *testing.T) {
	h := newHarness(t, 10, nil)
	h.start()
	u := telegramtest.User{ID: 2007, LanguageCode: "en"}
	h.tg.SendText(u, "/start")
	h.wait(u.ID, 1)
	h.tg.BlockBot(u)
	h.tg.SendText(u, "/help")
	other := telegramtest.User{ID: 2008, LanguageCode: "en"}
	h.tg.SendText(other, "/start")
	h.wait(other.ID, 1)
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(h.logs.String(), "blocked") {
		if time.Now().After(deadline) {
			t.Fatal("block not noticed")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var _ = fmt.Sprint

// binary builds the real program and returns a function that starts it
// with the harness's environment, as a separate process.
func (h *harness) binary() func() *exec.Cmd {
	h.t.Helper()
	bin := filepath.Join(h.t.TempDir(), "pensionbot")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		h.t.Fatalf("build: %v\n%s", err, out)
	}
	return func() *exec.Cmd {
		cmd := exec.Command(bin)
		for k, v := range h.env {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		cmd.Stderr = h.logs
		if err := cmd.Start(); err != nil {
			h.t.Fatal(err)
		}
		return cmd
	}
}

// waitOutboxEmpty waits until every effect committed for user was
// delivered and acknowledged.
func waitOutboxEmpty(t *testing.T, rdb *redis.Client, user int64) {
	t.Helper()
	key := fmt.Sprintf("{u:%d}:state", user)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		n, err := rdb.HGet(context.Background(), key, "op").Int()
		if err == nil && n == 0 || errors.Is(err, redis.Nil) {
			return // delivered; after /forget the whole home goes with it
		}
	}
	t.Fatalf("outbox of %d not delivered", user)
}

// An effect Telegram keeps refusing goes to the dead letters, with a log
// line and a metric, and the effects after it are still delivered.
func TestFailingEffectBecomesDeadLetter(t *testing.T) {
	h := newHarness(t, 17, nil)
	app, _ := h.start()
	u := telegramtest.User{ID: 2011, LanguageCode: "en"}
	h.tg.SendText(u, "/start")
	ms := h.wait(u.ID, 1)
	h.tg.FailNext("sendMessage", 1, 400, 0) // the welcome is refused for good
	press(h, u, ms[0], "English")
	ms = h.wait(u.ID, 2)
	if !strings.Contains(ms[1].Text, "What would you like") {
		t.Fatalf("the menu after the refused welcome did not arrive: %q", ms[1].Text)
	}
	waitOutboxEmpty(t, redisClient(t, 17), u.ID)
	sl, err := secret.Parse(h.env["DATA_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	dead, err := store.New(redisClient(t, 17), sl, store.Options{}).DeadLetters(context.Background(), u.ID)
	if err != nil || len(dead) != 1 || !strings.Contains(string(dead[0]), "Welcome") {
		t.Fatalf("dead letters: %q %v", dead, err)
	}
	if !strings.Contains(h.logs.String(), "dead letter") {
		t.Error("no log line for the dead letter")
	}
	mfs, _ := app.Metrics.Gather()
	found := false
	for _, mf := range mfs {
		if mf.GetName() == "pensionbot_dead_letters_total" && mf.GetMetric()[0].GetCounter().GetValue() == 1 {
			found = true
		}
	}
	if !found {
		t.Error("dead letter not counted in pensionbot_dead_letters_total")
	}
}

// A Redis that answers PING but refuses every write (out of memory under
// noeviction) cannot commit an update: /healthz says so.
func TestHealthWhenRedisRefusesWrites(t *testing.T) {
	h := newHarness(t, 0, map[string]string{"ADMIN_LISTEN": "127.0.0.1:0"})
	srv := startOwnRedis(t) // its own: this test starves it of memory
	h.env["REDIS_URL"] = srv.URL(0)
	app, _ := h.start()
	health := func() int {
		resp, err := http.Get("http://" + app.AdminAddr() + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := health(); code != http.StatusOK {
		t.Fatalf("healthz %d with a healthy Redis", code)
	}
	rdb := redis.NewClient(&redis.Options{Addr: srv.Addr})
	defer rdb.Close()
	ctx := context.Background()
	for _, kv := range [][2]string{{"maxmemory-policy", "noeviction"}, {"maxmemory", "1"}} {
		if err := rdb.ConfigSet(ctx, kv[0], kv[1]).Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := rdb.Set(ctx, "probe", "x", 0).Err(); err == nil || !strings.Contains(err.Error(), "OOM") {
		t.Fatalf("Redis still takes writes (%v): the test does not test anything", err)
	}
	if code := health(); code != http.StatusServiceUnavailable {
		t.Fatalf("healthz %d while Redis refuses writes, want 503", code)
	}
	if err := rdb.ConfigSet(ctx, "maxmemory", "0").Err(); err != nil {
		t.Fatal(err)
	}
	if code := health(); code != http.StatusOK {
		t.Fatalf("healthz %d once Redis takes writes again", code)
	}
}

// kill -9 while an update sits in the person's inbox, stored but not yet
// applied (the model is slow to answer it): the restarted program finds
// it (the sweep at start) and applies it, though Telegram will not deliver
// it again and the person does not write again.
func TestBinaryAppliesQueuedUpdateAfterKill9(t *testing.T) {
	ai := openaitest.New(t)
	ai.SetChat(func(openai.ChatCompletionRequest) (string, *openaitest.APIError) {
		return `{"topic":"payment","answer":"Take your ID card to the personal-payment window."}`, nil
	})
	ai.SetDelay(time.Minute) // the first process never gets the answer
	h := newHarness(t, 21, map[string]string{
		"OPENAI_BASE_URL": ai.URL, "OPENAI_API_KEY": ai.Key, "OPENAI_MODEL": "test-model", "ANSWERER": "llm",
	})
	startBin := h.binary()
	cmd := startBin()
	u := telegramtest.User{ID: 2014, LanguageCode: "en"}
	h.tg.SendText(u, "/start")
	press(h, u, h.wait(u.ID, 1)[0], "English")
	h.wait(u.ID, 3)
	h.tg.SendText(u, "what do I bring to pay my premiums at the window?")
	for deadline := time.Now().Add(10 * time.Second); len(ai.Requests()) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the question never reached the model")
		}
	}
	rdb := redisClient(t, 21)
	inbox := fmt.Sprintf("{u:%d}:inbox", u.ID)
	if n, err := rdb.ZCard(context.Background(), inbox).Result(); err != nil || n != 1 {
		t.Fatalf("question not waiting in the inbox while the model thinks: %d %v", n, err)
	}
	cmd.Process.Kill() // kill -9, with the question stored and not applied
	cmd.Wait()
	if n := len(h.tg.Messages(u.ID)); n != 3 {
		t.Fatalf("%d messages before the restart, want 3", n)
	}

	ai.SetDelay(0)
	cmd = startBin()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	// The killed process's lease lapses within one lease (15 s).
	ms := h.tg.WaitMessages(t, u.ID, 5, 40*time.Second)
	if !strings.Contains(ms[4].Text, "personal-payment window") {
		t.Fatalf("queued question not answered after the restart: %q", ms[4].Text)
	}
	if n, _ := rdb.Exists(context.Background(), inbox).Result(); n != 0 {
		t.Fatal("inbox not emptied")
	}
}

// In polling mode one person's slow update (a model taking its time) does
// not hold back anyone else's: the poller goes on fetching while it runs.
func TestSlowPersonDoesNotHoldBackOthers(t *testing.T) {
	ai := openaitest.New(t)
	ai.SetChat(func(openai.ChatCompletionRequest) (string, *openaitest.APIError) {
		return `{"topic":"payment","answer":"Take your ID card to the personal-payment window."}`, nil
	})
	h := newHarness(t, 22, map[string]string{
		"OPENAI_BASE_URL": ai.URL, "OPENAI_API_KEY": ai.Key, "OPENAI_MODEL": "test-model", "ANSWERER": "llm",
	})
	h.start()
	slow := telegramtest.User{ID: 2021, LanguageCode: "en"}
	quick := telegramtest.User{ID: 2022, LanguageCode: "en"}
	for _, u := range []telegramtest.User{slow, quick} {
		h.tg.SendText(u, "/start")
		press(h, u, h.wait(u.ID, 1)[0], "English")
		h.wait(u.ID, 3)
	}
	ai.SetDelay(8 * time.Second)
	h.tg.SendText(slow, "what do I bring to pay my premiums at the window?")
	for deadline := time.Now().Add(10 * time.Second); len(ai.Requests()) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the question never reached the model")
		}
	}
	start := time.Now()
	h.tg.SendText(quick, "/help")
	h.tg.WaitMessages(t, quick.ID, 4, 5*time.Second)
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the quick person waited %v behind the slow one", d)
	}
	if n := len(h.tg.Messages(slow.ID)); n != 3 {
		t.Fatalf("the slow person's answer came before the model's: %d messages", n)
	}
	h.tg.WaitMessages(t, slow.ID, 4, 20*time.Second)
}

// People's replies are counted into the sending budget all replicas share
// (after they went: a reply never waits), so broadcasts get what is left.
func TestRepliesSpendTheSharedBudget(t *testing.T) {
	h := newHarness(t, 23, nil)
	h.start()
	rdb := redisClient(t, 23)
	u := telegramtest.User{ID: 2031, LanguageCode: "en"}
	h.tg.SendText(u, "/start")
	press(h, u, h.wait(u.ID, 1)[0], "English")
	h.wait(u.ID, 3)
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if n, _ := rdb.Exists(context.Background(), "{rl:telegram}:tat").Result(); n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the replies were not counted into the shared budget")
		}
	}
}
