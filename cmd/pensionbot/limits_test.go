package main

import (
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"pensionbot/internal/telegramtest"
)

// Idle connections that never send a request are closed, and no more
// than MaxConns are served at once: the rest wait in the backlog and are
// served (and closed) in turn, and Telegram's updates still get through.
func TestWebhookBoundsIdleConnections(t *testing.T) {
	saved := webhookLimits
	t.Cleanup(func() { webhookLimits = saved })
	webhookLimits = httpLimits{ReadHeader: 300 * time.Millisecond, Read: time.Second, Write: 5 * time.Second, Idle: 300 * time.Millisecond, MaxConns: 8}
	h := newHarness(t, 18, webhookEnv())
	app, _ := h.start()

	const idle = 40
	var closed atomic.Int32
	conns := make([]net.Conn, idle)
	for i := range conns {
		c, err := net.Dial("tcp", app.WebhookAddr())
		if err != nil {
			t.Fatal(err)
		}
		conns[i] = c
		t.Cleanup(func() { c.Close() })
		go func() {
			// Blocks until the server closes the connection.
			c.SetReadDeadline(time.Now().Add(20 * time.Second))
			if _, err := c.Read(make([]byte, 1)); errors.Is(err, io.EOF) || isReset(err) {
				closed.Add(1)
			}
		}()
	}
	peak := 0.0
	deadline := time.Now().Add(15 * time.Second)
	for closed.Load() < idle && time.Now().Before(deadline) {
		if v := gauge(t, app, "pensionbot_http_connections", "webhook"); v > peak {
			peak = v
		}
		time.Sleep(2 * time.Millisecond)
	}
	if n := closed.Load(); n < idle {
		t.Fatalf("%d of %d idle connections closed by the server", n, idle)
	}
	if peak > float64(webhookLimits.MaxConns) || peak == 0 {
		t.Fatalf("at most %v connections open at once, want 1..%d", peak, webhookLimits.MaxConns)
	}
	// The server still takes updates.
	u := telegramtest.User{ID: 2012, LanguageCode: "en"}
	if code := deliver(t, h, app, h.tg.SendText(u, "/start"), hookSecret); code != http.StatusOK {
		t.Fatalf("update after the idle flood: status %d", code)
	}
}

func isReset(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && !errors.Is(err, os.ErrDeadlineExceeded)
}

// gauge reads one labelled gauge from the app's registry.
func gauge(t *testing.T, app *App, name, label string) float64 {
	t.Helper()
	mfs, err := app.Metrics.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetValue() == label {
					return m.GetGauge().GetValue()
				}
			}
		}
	}
	return 0
}
