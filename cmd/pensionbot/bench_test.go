package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"pensionbot/internal/telegramtest"
)

// BenchmarkConversation drives many people through several steps of the
// real program (webhook mode, so each delivery returns when its update was
// applied and answered) against a real redis-server and the fake Bot API.
// It reports updates per second, p50/p99 handling latency, and Redis
// commands per update, read from the server's own counters.
func BenchmarkConversation(b *testing.B) {
	h := newHarness(b, 11, webhookEnv())
	h.env["LOG_LEVEL"] = "error"
	app, _ := h.start()
	rdb := redisClient(b, 11)
	// Round trips are the commands a client sent: scripts count once
	// (EVALSHA, or EVAL after NOSCRIPT), the commands they run inside do
	// not. INFO itself is left out.
	trips := func() (roundTrips, all int64) {
		info, err := rdb.Info(context.Background(), "commandstats").Result()
		if err != nil {
			b.Fatal(err)
		}
		rdb.ConfigResetStat(context.Background())
		for _, line := range strings.Split(info, "\n") {
			name, rest, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":calls=")
			if !ok || !strings.HasPrefix(line, "cmdstat_") {
				continue
			}
			n, _ := strconv.ParseInt(strings.SplitN(rest, ",", 2)[0], 10, 64)
			all += n
			switch name {
			case "evalsha", "eval", "hello", "select", "ping", "client|setinfo":
				roundTrips += n
			}
		}
		return roundTrips, all
	}
	const people = 40
	script := []string{"/start", "press", "/help", "/privacy", "what is certification?", "/forget", "/cancel", "/language"}
	var (
		mu        sync.Mutex
		latencies []time.Duration
	)
	b.ResetTimer()
	start := time.Now()
	trips() // read once to reset the counters
	updates := 0
	for i := range b.N {
		var wg sync.WaitGroup
		sem := make(chan struct{}, 8)
		for p := range people {
			u := telegramtest.User{ID: int64(100000 + i*people + p), LanguageCode: "en"}
			wg.Add(1)
			sem <- struct{}{}
			go func() {
				defer wg.Done()
				defer func() { <-sem }()
				for _, step := range script {
					var id int64
					if step == "press" {
						// Replies leave after the commit, which the webhook
						// answer does not wait for: wait for the question.
						h.tg.WaitMessages(b, u.ID, 1, 10*time.Second)
						m := lastWithButtons(h.tg, u.ID)
						id, _ = h.tg.PressButton(u, m.ID, m.Buttons[0][0].Data)
					} else {
						id = h.tg.SendText(u, step)
					}
					t0 := time.Now()
					if code, err := h.tg.Deliver(context.Background(), "http://"+app.WebhookAddr()+"/hook", hookSecret, id); err != nil || code != 200 {
						b.Errorf("deliver: %d %v", code, err)
						return
					}
					d := time.Since(t0)
					mu.Lock()
					latencies = append(latencies, d)
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		updates += people * len(script)
	}
	elapsed := time.Since(start)
	b.StopTimer()
	roundTrips, all := trips()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
	}
	b.ReportMetric(float64(updates)/elapsed.Seconds(), "updates/s")
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(roundTrips)/float64(updates), "redis-trips/update")
	b.ReportMetric(float64(all)/float64(updates), "redis-cmds/update")
	_ = fmt.Sprint
}
