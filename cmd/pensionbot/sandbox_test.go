package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// `pensionbot sandbox` as `make run` starts it: it prints the web chat's
// URL, and a message sent there is answered by the real bot.
func TestSandboxCommand(t *testing.T) {
	const db = 41
	redisSrv.Client(t, db)
	env := map[string]string{"SANDBOX_LISTEN": "127.0.0.1:0", "SANDBOX_REDIS_URL": redisSrv.URL(db), "OCR": "none"}
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() { done <- runSandbox(ctx, func(k string) string { return env[k] }, stdout, stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("exit status %d; stderr:\n%s", code, stderr.String())
			}
		case <-time.After(40 * time.Second):
			t.Error("sandbox did not stop")
		}
	})

	urlRE := regexp.MustCompile(`open (http://127\.0\.0\.1:\d+/) in a browser`)
	var url string
	for deadline := time.Now().Add(20 * time.Second); url == ""; time.Sleep(20 * time.Millisecond) {
		if m := urlRE.FindStringSubmatch(stdout.String()); m != nil {
			url = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no URL printed; stdout %q, stderr:\n%s", stdout.String(), stderr.String())
		}
	}
	if !strings.Contains(stdout.String(), "SANDBOX") {
		t.Errorf("the banner does not say SANDBOX: %q", stdout.String())
	}

	req, _ := http.NewRequest(http.MethodPost, url+"api/people/1001/text", strings.NewReader(`{"text":"/start"}`))
	req.Header.Set("X-Sandbox", "1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("send: %d", resp.StatusCode)
	}
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		resp, err := http.Get(url + "api/people/1001/chat")
		if err != nil {
			t.Fatal(err)
		}
		var v struct {
			Messages []struct{ From, Text string }
			Commands []struct{ Command string }
		}
		json.NewDecoder(resp.Body).Decode(&v)
		resp.Body.Close()
		if len(v.Messages) == 2 && strings.Contains(v.Messages[1].Text, "请选择语言") && len(v.Commands) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no answer from the bot in the sandbox: %+v\nstderr:\n%s", v, stderr.String())
		}
	}
}

func TestSandboxRefuses(t *testing.T) {
	const db = 42
	rdb := redisSrv.Client(t, db)
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"TELEGRAM_BOT_TOKEN": "123:real"}, "TELEGRAM_BOT_TOKEN: is set, but the sandbox never talks to Telegram"},
		{map[string]string{"WEBHOOK_URL": "https://x.example/hook"}, "WEBHOOK_URL:"},
		{map[string]string{"SANDBOX_LISTEN": "0.0.0.0:8080"}, "SANDBOX_LISTEN: \"0.0.0.0\" is not a loopback address"},
		{map[string]string{"SANDBOX_LISTEN": "8080"}, "SANDBOX_LISTEN: must be host:port"},
		{map[string]string{"REDIS_URL": "127.0.0.1:7000,127.0.0.1:7001"}, "REDIS_URL: the sandbox needs one redis:// server"},
		// A database with someone else's data is never emptied.
		{map[string]string{"SANDBOX_LISTEN": "127.0.0.1:0", "SANDBOX_REDIS_URL": redisSrv.URL(db)}, "holds data that is not the sandbox's; the sandbox empties its database at every start"},
	} {
		if err := rdb.Set(context.Background(), "{u:1}:state", "a real bot's", 0).Err(); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr bytes.Buffer
		code := runSandbox(context.Background(), func(k string) string { return tc.env[k] }, &stdout, &stderr)
		out := stderr.String()
		if code != 2 || !strings.Contains(out, tc.want) {
			t.Errorf("env %v: exit %d, stderr %q; want 2 and %q", tc.env, code, out, tc.want)
		}
		if stdout.Len() != 0 {
			t.Errorf("env %v: printed %q", tc.env, stdout.String())
		}
	}
	if n, _ := rdb.Exists(context.Background(), "{u:1}:state").Result(); n != 1 {
		t.Error("the sandbox erased a database that was not its own")
	}
}

func TestSandboxRedisURL(t *testing.T) {
	for in, want := range map[string]string{
		"redis://127.0.0.1:6379/0":       "redis://127.0.0.1:6379/15",
		"redis://:pw@10.0.0.5:6380":      "redis://:pw@10.0.0.5:6380/15",
		"rediss://user:pw@r.example/3":   "rediss://user:pw@r.example/15",
		"127.0.0.1:7000,127.0.0.1:7001":  "",
		"redis://a:1/0,redis://b:1/0":    "",
		"postgres://127.0.0.1:5432/app0": "",
	} {
		got, err := sandboxRedisURL(in)
		if (err != nil) != (want == "") || got != want {
			t.Errorf("sandboxRedisURL(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}
