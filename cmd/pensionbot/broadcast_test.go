package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"pensionbot/flows"
	"pensionbot/internal/telegramtest"
	"pensionbot/locales"
	"pensionbot/secret"
	"pensionbot/store"
)

// A test binary started with PENSIONBOT_CHILD=1 is the bot itself, reading
// its settings from the environment like the real program: the broadcast
// test kills it with SIGKILL and starts another. This runs before TestMain
// (which would start a redis-server the killed child would leave behind).
func init() {
	if os.Getenv("PENSIONBOT_CHILD") != "1" {
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Getenv, os.Stderr)
	stop()
	os.Exit(code)
}

// child is the bot running as a separate process.
type child struct {
	cmd *exec.Cmd
	log string
}

func startChild(t *testing.T, env map[string]string, name string) *child {
	t.Helper()
	c := &child{log: filepath.Join(t.TempDir(), name+".log")}
	f, err := os.Create(c.log)
	if err != nil {
		t.Fatal(err)
	}
	c.cmd = exec.Command(os.Args[0], "-test.run=^$")
	c.cmd.Env = append(os.Environ(), "PENSIONBOT_CHILD=1")
	for k, v := range env {
		c.cmd.Env = append(c.cmd.Env, k+"="+v)
	}
	c.cmd.Stdout, c.cmd.Stderr = f, f
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.cmd.Process.Kill()
		c.cmd.Wait()
		f.Close()
		if t.Failed() {
			raw, _ := os.ReadFile(c.log)
			lines := strings.Split(string(raw), "\n")
			t.Logf("%s log (last lines):\n%s", name, strings.Join(lines[max(0, len(lines)-40):], "\n"))
		}
	})
	return c
}

func (c *child) kill() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	c.cmd.Wait()
}

// waitText waits for a bot message in chat containing all of parts.
func waitText(t *testing.T, tg *telegramtest.Server, chat int64, timeout time.Duration, parts ...string) telegramtest.Message {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		for _, m := range slices.Backward(tg.Messages(chat)) {
			ok := true
			for _, p := range parts {
				ok = ok && strings.Contains(m.Text, p)
			}
			if ok {
				return m
			}
		}
		if time.Now().After(deadline) {
			var texts []string
			for _, m := range tg.Messages(chat) {
				texts = append(texts, m.Text)
			}
			t.Fatalf("no message with %q in chat %d after %v; messages:\n%s", parts, chat, timeout, strings.Join(texts, "\n---\n"))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// replyTime is how long the bot takes to answer a new person's /start.
func replyTime(t *testing.T, tg *telegramtest.Server, id int64) time.Duration {
	t.Helper()
	u := telegramtest.User{ID: id, LanguageCode: "en"}
	start := time.Now()
	tg.SendText(u, "/start")
	tg.WaitMessages(t, id, 1, 10*time.Second)
	return time.Since(start)
}

// median is the middle value (the upper one of an even count).
func median[T cmp.Ordered](xs []T) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	return s[len(s)/2]
}

// TestBroadcastEndToEnd: 5,000 registered people, 5 % of them blocked
// (the bot learns it from Telegram's 403s), some deleted accounts and
// vanished chats; staff prepare a broadcast in Telegram, a second staff
// member confirms it; Telegram answers 429 twice (retry_after 1 s and
// 30 s) and the bot process is killed with SIGKILL mid-broadcast and
// started again. Every reachable person gets the message once, nobody
// twice; the unreachable are marked; the rate outside pauses holds; a
// person writing mid-broadcast is answered as fast as before it; /healthz
// answers throughout.
func TestBroadcastEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("about a minute")
	}
	const (
		db         = 20
		people     = 5000
		firstID    = 100001
		rate       = 400.0
		staffA     = int64(9001)
		staffB     = int64(9002)
		newcomerID = 200001
	)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	admin := l.Addr().String()
	l.Close()
	h := newHarness(t, db, map[string]string{
		"STAFF_IDS": "9001,9002", "BROADCAST_PAID": "true", "BROADCAST_RATE": strconv.Itoa(int(rate)),
		"ADMIN_LISTEN": admin, "LOG_LEVEL": "info",
	})
	ctx := context.Background()
	sealer, err := secret.Parse(h.env["DATA_KEY"])
	if err != nil {
		t.Fatal(err)
	}
	rdb := redisClient(t, db)
	aud := store.NewAudience(rdb, sealer, store.AudienceOptions{})

	// The audience: people who used the bot before. 250 blocked it since
	// (5 %), 20 deleted their account, 20 chats no longer exist.
	blocked, deactivated, gone := map[int64]bool{}, map[int64]bool{}, map[int64]bool{}
	for i := 0; i < people; i++ {
		id := int64(firstID + i)
		if err := aud.Touch(ctx, id, locales.Supported[i%4], time.Now().AddDate(0, -2, 0)); err != nil {
			t.Fatal(err)
		}
		u := telegramtest.User{ID: id}
		switch {
		case i%20 == 7:
			blocked[id] = true
			h.tg.BlockQuietly(u)
		case i%250 == 3:
			deactivated[id] = true
			h.tg.Deactivate(u)
		case i%250 == 5:
			gone[id] = true // never a chat in the fake: 400 chat not found
		default:
			h.tg.AddChat(u)
		}
	}
	var sent atomic.Int64
	h.tg.OnSend(func(chat int64) {
		if chat >= firstID && chat < firstID+people {
			sent.Add(1)
		}
	})

	a := startChild(t, h.env, "first")
	// Before the broadcast: how fast does a newcomer get an answer?
	var before []time.Duration
	for i := 0; i < 3; i++ {
		before = append(before, replyTime(t, h.tg, newcomerID+int64(i)))
	}

	// Staff prepare it in Telegram.
	sb := telegramtest.User{ID: staffB, LanguageCode: "en"}
	h.tg.SendText(sb, "/start")
	press(h, sb, waitText(t, h.tg, staffB, 10*time.Second, "language"), "English")
	waitText(t, h.tg, staffB, 10*time.Second, "What would you like")
	sa := telegramtest.User{ID: staffA, LanguageCode: "en"}
	h.tg.SendText(sa, "/start")
	press(h, sa, h.wait(staffA, 1)[0], "English")
	waitText(t, h.tg, staffA, 10*time.Second, "What would you like")
	h.tg.SendText(sa, "/broadcast")
	press(h, sa, waitText(t, h.tg, staffA, 10*time.Second, "Who should get it"), "Everyone")
	count := waitText(t, h.tg, staffA, 10*time.Second, "people. By language")
	reachable := people - len(blocked) - len(deactivated) - len(gone)
	// Everyone registered: the audience, the newcomers and both staff members.
	if !strings.Contains(count.Text, flows.Thousands(people+5)+" people") {
		t.Fatalf("count before sending: %q", count.Text)
	}
	press(h, sa, waitText(t, h.tg, staffA, 10*time.Second, "Which message"), "Scam warning")
	press(h, sa, waitText(t, h.tg, staffA, 10*time.Second, "second staff member must confirm"), "Ask a second")
	waitText(t, h.tg, staffA, 10*time.Second, "must confirm it with /broadcasts")
	if n := sent.Load(); n != 0 {
		t.Fatalf("%d sent before the confirmation", n)
	}
	waitText(t, h.tg, staffB, 10*time.Second, "waits for your confirmation")
	h.tg.SendText(sb, "/broadcasts")
	press(h, sb, waitText(t, h.tg, staffB, 10*time.Second, "waiting for confirmation"), "Confirm and send")
	waitText(t, h.tg, staffB, 10*time.Second, "Confirmed. Sending")

	waitFor := func(n int64, what string) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for sent.Load() < n {
			if time.Now().After(deadline) {
				t.Fatalf("waiting for %s: only %d sent", what, sent.Load())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor(600, "the broadcast to start")
	// Mid-broadcast: a newcomer is answered as fast as before; /healthz
	// answers.
	var during []time.Duration
	for i := 0; i < 3; i++ {
		during = append(during, replyTime(t, h.tg, newcomerID+10+int64(i)))
	}
	hc := http.Client{Timeout: time.Second}
	resp, err := hc.Get("http://" + admin + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz mid-broadcast: %v %v", resp, err)
	}
	resp.Body.Close()
	waitFor(1000, "the first 429")
	h.tg.FailNext("sendMessage", 1, http.StatusTooManyRequests, 1)
	waitFor(2300, "the kill")
	a.kill()
	killedAt := sent.Load()
	startChild(t, h.env, "second")
	waitFor(killedAt+300, "the restart to send")
	h.tg.FailNext("sendMessage", 1, http.StatusTooManyRequests, 30)

	report := waitText(t, h.tg, staffA, 90*time.Second, "finished", "Sent:")
	t.Logf("report: %s", report.Text)

	// Exactly once: nobody twice; the only ones without it are those a
	// killed process was sending to at that moment (uncertain).
	bs := store.NewBroadcasts(rdb, store.BroadcastOptions{})
	list, err := bs.List(ctx, 1)
	if err != nil || len(list) != 1 {
		t.Fatalf("audit: %+v %v", list, err)
	}
	m, err := bs.Meta(ctx, list[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	missing := 0
	for i := 0; i < people; i++ {
		id := int64(firstID + i)
		n := h.tg.SentTo(id)
		switch {
		case blocked[id] || deactivated[id] || gone[id]:
			if n != 0 {
				t.Errorf("%d is unreachable but has %d messages", id, n)
			}
		case n > 1:
			t.Errorf("%d got the broadcast %d times", id, n)
		case n == 0:
			missing++
		}
	}
	if missing > m.Counts["uncertain"] || m.Counts["uncertain"] > 64 {
		t.Errorf("%d reachable people without the message, %d uncertain", missing, m.Counts["uncertain"])
	}
	if got := m.Counts["sent"] + m.Counts["uncertain"]; got < reachable {
		t.Errorf("sent %d + uncertain %d < %d reachable", m.Counts["sent"], m.Counts["uncertain"], reachable)
	}
	if m.Counts["blocked"] != len(blocked) || m.Counts["deactivated"] != len(deactivated) || m.Counts["not_found"] != len(gone) {
		t.Errorf("failures counted: %v; want %d blocked, %d deactivated, %d not found", m.Counts, len(blocked), len(deactivated), len(gone))
	}
	// The unreachable are marked in the registry: the next broadcast
	// skips them.
	for id, want := range map[int64]string{firstID + 7: store.Blocked, firstID + 3: store.Deactivated, firstID + 5: store.NotFound} {
		p, err := aud.Get(ctx, id)
		if err != nil || p == nil || p.Reach != want {
			t.Errorf("registry entry of %d: %+v %v; want %s", id, p, err, want)
		}
	}
	if c, _ := aud.Count(ctx, flows.AudienceFilter{Kind: flows.AudienceAll}, time.Now()); c.Excluded != len(blocked)+len(deactivated)+len(gone) {
		t.Errorf("after the broadcast %d excluded, want %d", c.Excluded, len(blocked)+len(deactivated)+len(gone))
	}

	// The rate outside pauses: gaps over 250 ms are the pauses and the
	// restart.
	var at []time.Time
	for _, c := range h.tg.Calls("sendMessage") {
		id, _ := strconv.ParseInt(c.Params["chat_id"], 10, 64)
		if id >= firstID && id < firstID+people && !blocked[id] && !deactivated[id] && !gone[id] {
			at = append(at, c.At)
		}
	}
	slices.SortFunc(at, func(a, b time.Time) int { return a.Compare(b) })
	var busy time.Duration
	var pauses []time.Duration
	for i := 1; i < len(at); i++ {
		if d := at[i].Sub(at[i-1]); d < 250*time.Millisecond {
			busy += d
		} else {
			pauses = append(pauses, d)
		}
	}
	got := float64(len(at)-1) / busy.Seconds()
	if testing.Verbose() {
		perSecond := map[int]int{}
		for _, x := range at {
			perSecond[int(x.Sub(at[0]).Seconds())]++
		}
		t.Logf("per second: %v", perSecond)
	}
	t.Logf("%d messages; %.0f a second outside pauses (configured %.0f); pauses %v", len(at), got, rate, pauses)
	if got < 0.95*rate {
		t.Errorf("rate outside pauses %.0f/s, want ≥ %.0f", got, 0.95*rate)
	}
	if !slices.ContainsFunc(pauses, func(d time.Duration) bool { return d >= 29*time.Second }) {
		t.Errorf("no pause of retry_after 30 s: %v", pauses)
	}
	bm, dm := median(before), median(during)
	t.Logf("a newcomer's first answer: %v before the broadcast, %v during it", bm, dm)
	if dm > 2*bm+150*time.Millisecond {
		t.Errorf("answer during the broadcast took %v, before %v", dm, bm)
	}
	// Metrics of the second process.
	resp, err = hc.Get("http://" + admin + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, want := range []string{"pensionbot_bulk_sent_total", "pensionbot_bulk_pauses_total 1", `pensionbot_bulk_failed_total{reason="blocked"}`} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	_ = fmt.Sprint
}
