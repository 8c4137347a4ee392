package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"pensionbot/internal/proctest"
	"pensionbot/internal/redistest"
	"pensionbot/internal/telegramtest"
	"pensionbot/secret"
)

// BenchmarkSideBySide measures pensionbot and the grammY peer
// (../shared/peers/grammy, a Node.js bot with @grammyjs/storage-redis) in
// one run, on the same machine, each against its own redis-server and a
// fresh fake Bot API, in webhook mode: many simulated people go through a
// five-update script at once. It prints, for each, updates/s, p50/p99 from
// the webhook POST to the first reply, CPU per update of the bot process
// and of redis-server (read from /proc), Redis round trips and commands per
// update, and the connections the bot opened to the Bot API after warm-up.
//
//	make bench-peer    (BENCH_PEOPLE=2000 to change the crowd,
//	                    BENCH_ROUNDS=3 for the median of three rounds;
//	                    BENCH_RATE=1000 for a paced load: people arrive
//	                    so that 1,000 updates/s are offered, and wait a
//	                    second after each reply, which measures latency
//	                    below saturation;
//	                    BENCH_CMDSTATS=1 prints Redis's command statistics
//	                    before and after the measured crowd)
//
// The peer does less than pensionbot (no encryption, no dedupe, no order
// across replicas, one message per reply): the figures say what each
// costs, not that the work is the same.
func BenchmarkSideBySide(b *testing.B) {
	people := 1000
	if v, err := strconv.Atoi(os.Getenv("BENCH_PEOPLE")); err == nil && v > 0 {
		people = v
	}
	peerDir := os.Getenv("GRAMMY_PEER")
	if peerDir == "" {
		peerDir = filepath.Join("..", "..", "..", "shared", "peers", "grammy")
	}
	if _, err := os.Stat(filepath.Join(peerDir, "node_modules")); err != nil {
		b.Fatalf("the grammY peer is not installed: run `npm ci` in %s (or set GRAMMY_PEER): %v", peerDir, err)
	}
	var results []sideResult
	for range b.N {
		results = append(results, runPensionbot(b, people), runGrammy(b, peerDir, people))
	}
	b.StopTimer()
	var sb strings.Builder
	fmt.Fprintf(&sb, "\n%d people × 5 updates, webhook mode, %d cores", people, numCPU())
	if rate := offeredRate(); rate > 0 {
		fmt.Fprintf(&sb, ", paced: %.0f updates/s offered, a second between a person's updates", rate)
	}
	sb.WriteString("\n")
	fmt.Fprintf(&sb, "%-11s %10s %8s %8s %14s %16s %10s %10s %10s %10s %16s\n", "bot", "updates/s", "p50 ms", "p99 ms", "bot CPU/upd", "redis CPU/upd", "trips/upd", "cmds/upd", "msgs/upd", "new conns", "harness CPU/upd")
	for _, r := range results {
		fmt.Fprintf(&sb, "%-11s %10.0f %8.1f %8.1f %12.0fµs %14.1fµs %10.2f %10.2f %10.2f %10d %14.0fµs\n", r.name, r.rate(), ms(r.pct(0.5)), ms(r.pct(0.99)),
			r.perUpdate(r.botCPU), r.perUpdate(r.redisCPU), float64(r.trips)/float64(r.updates), float64(r.cmds)/float64(r.updates),
			float64(r.msgs)/float64(r.updates), r.conns, r.perUpdate(r.harnessCPU))
	}
	// Each round's ratios come from the two bots measured one after the
	// other; with several rounds (-benchtime 3x) the median of each ratio
	// says more than any one round on a shared machine.
	var cpu, rcpu, rate, p99 []float64
	for i := 0; i+1 < len(results); i += 2 {
		p, g := results[i], results[i+1]
		cpu = append(cpu, p.perUpdate(p.botCPU)/g.perUpdate(g.botCPU))
		rcpu = append(rcpu, p.perUpdate(p.redisCPU)/g.perUpdate(g.redisCPU))
		rate = append(rate, p.rate()/g.rate())
		p99 = append(p99, float64(p.pct(0.99))/float64(g.pct(0.99)))
		fmt.Fprintf(&sb, "ratios pensionbot/grammY, round %d: bot CPU %.2f, redis CPU %.2f, throughput %.2f, p99 %.2f\n",
			i/2+1, cpu[len(cpu)-1], rcpu[len(rcpu)-1], rate[len(rate)-1], p99[len(p99)-1])
	}
	if len(cpu) > 1 {
		fmt.Fprintf(&sb, "median of %d rounds: bot CPU %.2f, redis CPU %.2f, throughput %.2f, p99 %.2f\n",
			len(cpu), median(cpu), median(rcpu), median(rate), median(p99))
	}
	b.Log(sb.String())
	fmt.Print(sb.String())
}

type sideResult struct {
	name             string
	updates          int
	elapsed          time.Duration
	lat              []time.Duration
	botCPU, redisCPU time.Duration
	harnessCPU       time.Duration // this process: the load generator and the fake Bot API
	trips, cmds      int64
	conns            int64
	msgs             int // messages the bot sent
}

func (r sideResult) rate() float64 { return float64(r.updates) / r.elapsed.Seconds() }
func (r sideResult) perUpdate(d time.Duration) float64 {
	return float64(d.Microseconds()) / float64(r.updates)
}
func (r sideResult) pct(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	return r.lat[int(p*float64(len(r.lat)-1))]
}
func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func numCPU() int {
	out, _ := exec.Command("nproc").Output()
	n, _ := strconv.Atoi(strings.TrimSpace(string(out)))
	return n
}

// cpuTime is a process's user+system CPU time from /proc.
func cpuTime(b *testing.B, pid int) time.Duration {
	d, err := proctest.CPU(pid)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// redisCommands is the number of commands the server ran, those run
// inside scripts included; INFO and CONFIG are left out.
func redisCommands(b *testing.B, rdb *redis.Client) int64 {
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, line := range strings.Split(info, "\n") {
		name, rest, ok := strings.Cut(strings.TrimPrefix(line, "cmdstat_"), ":calls=")
		if !ok || !strings.HasPrefix(line, "cmdstat_") || name == "info" || strings.HasPrefix(name, "config") {
			continue
		}
		c, _ := strconv.ParseInt(strings.SplitN(rest, ",", 2)[0], 10, 64)
		n += c
	}
	return n
}

func freeAddr(b *testing.B) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// crowd drives people through a script over webhook and times each
// update from its POST to its first reply.
type crowd struct {
	b       *testing.B
	tg      *telegramtest.Server
	hook    string
	secret  string
	client  *http.Client
	replies map[int64]chan struct{}
	// With a pace, people arrive one every arrive and wait think after
	// each reply (an offered load); without, everyone starts at once and
	// goes on at once (the most the bot can take).
	arrive, think time.Duration
}

func newCrowd(b *testing.B, tg *telegramtest.Server, hook, secret string, users []int64) *crowd {
	c := &crowd{b: b, tg: tg, hook: hook, secret: secret, replies: map[int64]chan struct{}{}}
	for _, u := range users {
		c.replies[u] = make(chan struct{}, 64)
	}
	tg.OnSend(func(chat int64) {
		if ch := c.replies[chat]; ch != nil {
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	})
	// Telegram opens at most 40 connections to a webhook by default.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost = 40, 40
	c.client = &http.Client{Transport: tr, Timeout: time.Minute}
	return c
}

// step is one update of a script: it makes the update and says how many
// replies it brings.
type step func(u telegramtest.User) (update int64, replies int)

func (c *crowd) run(users []telegramtest.User, script []step) ([]time.Duration, time.Duration) {
	var (
		mu  sync.Mutex
		lat []time.Duration
		wg  sync.WaitGroup
	)
	start := time.Now()
	for i, u := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			time.Sleep(time.Until(start.Add(time.Duration(i) * c.arrive)))
			for j, st := range script {
				if j > 0 {
					time.Sleep(c.think)
				}
				id, n := st(u)
				t0 := time.Now()
				if err := c.post(id); err != nil {
					c.b.Error(err)
					return
				}
				for i := range n {
					select {
					case <-c.replies[u.ID]:
					case <-time.After(30 * time.Second):
						c.b.Errorf("person %d: reply %d of %d did not come", u.ID, i+1, n)
						return
					}
					if i == 0 {
						d := time.Since(t0)
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	slices.Sort(lat)
	return lat, elapsed
}

func (c *crowd) post(id int64) error {
	body := c.tg.RawUpdate(id)
	req, _ := http.NewRequest(http.MethodPost, c.hook, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if c.secret != "" {
		req.Header.Set("X-Telegram-Bot-Api-Secret-Token", c.secret)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return fmt.Errorf("post update %d: %w", id, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("post update %d: status %d", id, resp.StatusCode)
	}
	return nil
}

func lastWithButtons(tg *telegramtest.Server, chat int64) telegramtest.Message {
	ms := tg.Messages(chat)
	for i := len(ms) - 1; i >= 0; i-- {
		if len(ms[i].Buttons) > 0 {
			return ms[i]
		}
	}
	return telegramtest.Message{}
}

func makeUsers(base int64, n int, lang string) ([]telegramtest.User, []int64) {
	users := make([]telegramtest.User, n)
	ids := make([]int64, n)
	for i := range users {
		users[i] = telegramtest.User{ID: base + int64(i), LanguageCode: lang}
		ids[i] = users[i].ID
	}
	return users, ids
}

// measure runs a warm-up crowd, then the measured one, reading CPU and
// Redis counters around the latter.
func measure(b *testing.B, name string, tg *telegramtest.Server, hook, secret string, botPID int, rsrv *redistest.Server,
	people int, script []step, trips func() int64) sideResult {
	rdb := redis.NewClient(&redis.Options{Addr: rsrv.Addr})
	defer rdb.Close()
	warm, warmIDs := makeUsers(5_000_000, 300, "en")
	users, ids := makeUsers(1_000_000, people, "en")
	c := newCrowd(b, tg, hook, secret, append(warmIDs, ids...))
	c.run(warm, script)
	if rate := offeredRate(); rate > 0 {
		// Each person sends len(script) updates, a second apart.
		c.arrive = time.Duration(float64(time.Second) * float64(len(script)) / rate)
		c.think = time.Second
	}
	time.Sleep(200 * time.Millisecond) // let the warm-up's last acknowledgements land
	botCPU0, redisCPU0, cmds0, trips0, conns0 := cpuTime(b, botPID), cpuTime(b, rsrv.PID()), redisCommands(b, rdb), trips(), tg.Connections()
	harness0 := cpuTime(b, os.Getpid())
	msgs0 := len(tg.Calls("sendMessage"))
	stats0, _ := rdb.Info(context.Background(), "commandstats").Result()
	lat, elapsed := c.run(users, script)
	time.Sleep(200 * time.Millisecond)
	if os.Getenv("BENCH_CMDSTATS") != "" {
		stats1, _ := rdb.Info(context.Background(), "commandstats").Result()
		fmt.Printf("%s before:\n%s\nafter:\n%s\n", name, stats0, stats1)
	}
	return sideResult{
		name: name, updates: people * len(script), elapsed: elapsed, lat: lat,
		botCPU: cpuTime(b, botPID) - botCPU0, redisCPU: cpuTime(b, rsrv.PID()) - redisCPU0, harnessCPU: cpuTime(b, os.Getpid()) - harness0,
		cmds: redisCommands(b, rdb) - cmds0, trips: trips() - trips0, conns: tg.Connections() - conns0,
		msgs: len(tg.Calls("sendMessage")) - msgs0,
	}
}

// offeredRate is BENCH_RATE, the updates per second people send in all
// when the load is paced (0: as fast as the bot answers).
func offeredRate() float64 {
	r, _ := strconv.ParseFloat(os.Getenv("BENCH_RATE"), 64)
	return max(r, 0)
}

func runPensionbot(b *testing.B, people int) sideResult {
	rsrv, err := redistest.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer rsrv.Close()
	tg := telegramtest.New(b)
	hookAddr, adminAddr := freeAddr(b), freeAddr(b)
	h := &harness{t: b, tg: tg, logs: &syncBuffer{}, env: map[string]string{
		"TELEGRAM_BOT_TOKEN": tg.Token, "TELEGRAM_API_URL": tg.URL,
		"REDIS_URL": "redis://" + rsrv.Addr + "/0", "DATA_KEY": secret.NewKey(),
		"LOG_LEVEL": "error", "WEBHOOK_URL": "https://bot.example/hook", "WEBHOOK_SECRET": hookSecret,
		"WEBHOOK_LISTEN": hookAddr, "ADMIN_LISTEN": adminAddr,
	}}
	start := h.binary
	if bin := os.Getenv("PENSIONBOT_BIN"); bin != "" {
		// Another build (an earlier version) on the same load, for a
		// before/after figure.
		start = func() func() *exec.Cmd {
			return func() *exec.Cmd {
				cmd := exec.Command(bin)
				for k, v := range h.env {
					cmd.Env = append(cmd.Env, k+"="+v)
				}
				cmd.Stderr = h.logs
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				return cmd
			}
		}
	}
	cmd := start()()
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	waitHTTP(b, "http://"+adminAddr+"/healthz")
	trips := func() int64 {
		return scrapeCounter(b, "http://"+adminAddr+"/metrics", "pensionbot_redis_round_trips_total")
	}
	script := []step{
		func(u telegramtest.User) (int64, int) { return tg.SendText(u, "/start"), 1 },
		func(u telegramtest.User) (int64, int) {
			m := lastWithButtons(tg, u.ID)
			id, _ := tg.PressButton(u, m.ID, m.Buttons[0][0].Data) // the language
			return id, 2                                           // welcome, menu
		},
		// Three questions, each answered with one message, as the peer's
		// steps are.
		func(u telegramtest.User) (int64, int) { return tg.SendText(u, "what is certification?"), 1 },
		func(u telegramtest.User) (int64, int) {
			return tg.SendText(u, "how do I pay premiums at the window?"), 1
		},
		func(u telegramtest.User) (int64, int) {
			return tg.SendText(u, "what does the law say about pensions?"), 1
		},
	}
	if path := os.Getenv("BENCH_PROFILE"); path != "" {
		// A CPU profile of the bot while the crowd runs (after warm-up).
		go func() {
			time.Sleep(1500 * time.Millisecond)
			resp, err := http.Get("http://" + adminAddr + "/debug/pprof/profile?seconds=3")
			if err != nil {
				b.Error(err)
				return
			}
			defer resp.Body.Close()
			f, err := os.Create(path)
			if err != nil {
				b.Error(err)
				return
			}
			defer f.Close()
			io.Copy(f, resp.Body)
		}()
	}
	r := measure(b, "pensionbot", tg, "http://"+hookAddr+"/hook", hookSecret, cmd.Process.Pid, rsrv, people, script, trips)
	if s := h.logs.String(); strings.Contains(s, `"level":"ERROR"`) {
		b.Errorf("pensionbot logged errors:\n%s", s)
	}
	return r
}

func runGrammy(b *testing.B, dir string, people int) sideResult {
	rsrv, err := redistest.Start()
	if err != nil {
		b.Fatal(err)
	}
	defer rsrv.Close()
	tg := telegramtest.New(b)
	addr := freeAddr(b)
	_, port, _ := net.SplitHostPort(addr)
	cmd := exec.Command("node", "bot.js")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "TELEGRAM_BOT_TOKEN="+tg.Token, "TELEGRAM_API_URL="+tg.URL,
		"REDIS_URL=redis://"+rsrv.Addr+"/0", "PORT="+port)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatalf("start the grammY peer (is node installed?): %v", err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "listening") {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(30 * time.Second):
		b.Fatal("the grammY peer did not start")
	}
	rdb := redis.NewClient(&redis.Options{Addr: rsrv.Addr})
	defer rdb.Close()
	// ioredis sends one command per round trip (no pipelining here), so its
	// round trips are the commands the server saw.
	trips := func() int64 { return redisCommands(b, rdb) }
	script := []step{
		func(u telegramtest.User) (int64, int) { return tg.SendText(u, "/start"), 1 },
		func(u telegramtest.User) (int64, int) { return tg.SendText(u, "Li Jianguo"), 1 },
		func(u telegramtest.User) (int64, int) { return tg.SendText(u, "11010519491231002X"), 1 },
		func(u telegramtest.User) (int64, int) { return tg.SendText(u, "13812345678"), 1 },
		func(u telegramtest.User) (int64, int) {
			m := lastWithButtons(tg, u.ID)
			id, _ := tg.PressButton(u, m.ID, m.Buttons[0][0].Data) // "Yes"
			return id, 1
		},
	}
	return measure(b, "grammY", tg, "http://"+addr+"/", "", cmd.Process.Pid, rsrv, people, script, trips)
}

func waitHTTP(b *testing.B, url string) {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
	}
	b.Fatalf("%s did not answer", url)
}

func scrapeCounter(b *testing.B, url, name string) int64 {
	resp, err := http.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			f, _ := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return int64(f)
		}
	}
	return -1 // an earlier build without the metric
}
