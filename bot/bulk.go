package bot

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/prometheus/client_golang/prometheus"

	"pensionbot/domain"
	"pensionbot/flows"
	"pensionbot/locales"
	"pensionbot/ratelimit"
	"pensionbot/store"
)

// Bulk sends staff broadcasts and due-date reminders. Every replica runs
// one: broadcasts are split into chunks that replicas claim with leases,
// all sending goes through one rate limiter shared in Redis (bulk after
// people's own replies), a 429 pauses every replica's bulk sending for its
// retry_after, and each recipient's progress is recorded, so a process
// killed mid-broadcast is replaced without anyone getting it twice.
type Bulk struct {
	b   *Bot
	opt BulkOptions
	m   bulkMetrics

	mu      sync.Mutex
	running map[string]bool     // broadcasts this process works on
	samples map[string]sample   // sent counts seen by the progress holder
	langs   map[int64]langCache // staff languages for progress messages
}

type sample struct {
	at   time.Time
	done int
	rate float64
}

type langCache struct {
	lang string
	at   time.Time
}

// BulkOptions configure a Bulk. Broadcasts, Audience and Limiter are
// required.
type BulkOptions struct {
	Broadcasts *store.Broadcasts
	Audience   *store.Audience
	Limiter    *ratelimit.Limiter
	// Paid sets allow_paid_broadcast (above 30 messages a second; paid in
	// Stars).
	Paid bool
	// Schedule places reminders and their sending window.
	Schedule flows.ReminderSchedule
	// ChunkLease is how long a claimed chunk is this process's (default
	// 30 s, renewed while working): after a crash another replica goes on
	// within it.
	ChunkLease time.Duration
	// Poll is how often active broadcasts are looked at (default 500 ms);
	// Progress how often the staff's progress message is edited (default
	// 3 s).
	Poll, Progress time.Duration
	// Concurrency is how many sends one worker has in flight (default 32).
	Concurrency int
	// Now is the clock of reminders (default time.Now): tests run a year in
	// seconds.
	Now func() time.Time
	// Helpers lists the helpers a pensioner linked (family help): they get
	// the pensioner's own reminders too. Nil: none.
	Helpers func(ctx context.Context, pensioner int64) ([]domain.Link, error)
}

type bulkMetrics struct {
	queued    prometheus.Counter
	sent      prometheus.Counter
	failed    *prometheus.CounterVec
	pauses    prometheus.Counter
	reminders *prometheus.CounterVec
}

// NewBulk returns the broadcast and reminder sender of this bot.
func (b *Bot) NewBulk(opt BulkOptions) (*Bulk, error) {
	if opt.Broadcasts == nil || opt.Audience == nil || opt.Limiter == nil {
		return nil, errors.New("bulk: broadcasts, audience and limiter are required")
	}
	if opt.Schedule.Loc == nil {
		opt.Schedule = flows.DefaultSchedule()
	}
	if opt.ChunkLease <= 0 {
		opt.ChunkLease = 30 * time.Second
	}
	if opt.Poll <= 0 {
		opt.Poll = 500 * time.Millisecond
	}
	if opt.Progress <= 0 {
		opt.Progress = 3 * time.Second
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 32
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	k := &Bulk{b: b, opt: opt, running: map[string]bool{}, samples: map[string]sample{}, langs: map[int64]langCache{}}
	k.m = bulkMetrics{
		queued: prometheus.NewCounter(prometheus.CounterOpts{Name: "pensionbot_bulk_queued_total", Help: "Broadcast recipients queued (audiences fixed)."}),
		sent:   prometheus.NewCounter(prometheus.CounterOpts{Name: "pensionbot_bulk_sent_total", Help: "Broadcast messages sent."}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pensionbot_bulk_failed_total", Help: "Broadcast messages not delivered, by reason (blocked, deactivated, not_found, failed)."}, []string{"reason"}),
		pauses: prometheus.NewCounter(prometheus.CounterOpts{Name: "pensionbot_bulk_pauses_total", Help: "Pauses of bulk sending for a 429 retry_after."}),
		reminders: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "pensionbot_reminders_total", Help: "Due-date reminders, by outcome (sent, skipped, failed)."},
			[]string{"outcome"}),
	}
	for _, c := range []prometheus.Collector{k.m.queued, k.m.sent, k.m.failed, k.m.pauses, k.m.reminders} {
		if err := b.opt.Registry.Register(c); err != nil {
			return nil, fmt.Errorf("register bulk metrics: %w", err)
		}
	}
	return k, nil
}

// Run looks after active broadcasts until ctx ends: fixes audiences,
// works chunks, edits progress messages, sends final reports.
func (k *Bulk) Run(ctx context.Context) {
	t := time.NewTicker(k.opt.Poll)
	defer t.Stop()
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		k.pass(ctx, &wg)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (k *Bulk) pass(ctx context.Context, wg *sync.WaitGroup) {
	bs := k.opt.Broadcasts
	ids, err := bs.Active(ctx)
	if err != nil {
		if ctx.Err() == nil {
			k.b.log.Warn("list broadcasts", "err", err)
		}
		return
	}
	for _, id := range ids {
		m, err := bs.Meta(ctx, id)
		if err != nil {
			k.b.log.Warn("read broadcast", "id", id, "err", err)
			continue
		}
		if m == nil {
			bs.Retire(ctx, id)
			continue
		}
		switch m.Status {
		case flows.BroadcastConfirmed:
			if !m.Queued {
				k.start(ctx, wg, "queue:"+id, func(ctx context.Context) { k.queue(ctx, id) })
			}
		case flows.BroadcastSending:
			k.start(ctx, wg, id, func(ctx context.Context) { k.work(ctx, id) })
		case flows.BroadcastDone, flows.BroadcastCancelled:
			k.finish(ctx, m)
			continue
		}
		k.progress(ctx, m)
	}
}

// start runs job in the background unless it runs already here.
func (k *Bulk) start(ctx context.Context, wg *sync.WaitGroup, name string, job func(context.Context)) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.running[name] {
		return
	}
	k.running[name] = true
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer func() {
			k.mu.Lock()
			delete(k.running, name)
			k.mu.Unlock()
		}()
		job(ctx)
	}()
}

// queue fixes a confirmed broadcast's audience, on one replica at a time.
func (k *Bulk) queue(ctx context.Context, id string) {
	ok, err := k.opt.Broadcasts.TryLock(ctx, id, "queue", 2*time.Minute)
	if err != nil || !ok {
		return
	}
	start := time.Now()
	n, err := k.opt.Broadcasts.Queue(ctx, id, k.opt.Audience, time.Now())
	if err != nil {
		k.b.log.Error("fix a broadcast's audience", "id", id, "err", err)
		return
	}
	k.m.queued.Add(float64(n))
	k.b.log.Info("broadcast queued", "id", id, "recipients", n, "took", time.Since(start))
}

// rendered is a broadcast's message in one language.
type rendered struct {
	text   string
	markup models.ReplyMarkup
}

func (k *Bulk) render(m *store.BroadcastMeta) (map[string]rendered, error) {
	out := map[string]rendered{}
	def := k.b.catalog.Default()
	for _, lang := range locales.Supported {
		msgs, err := k.b.render(lang, flows.AnyTurn, flows.BroadcastReply(m.Template, m.Texts, lang, def))
		if err != nil {
			return nil, fmt.Errorf("render broadcast %s in %s: %w", m.ID, lang, err)
		}
		out[lang] = rendered{text: msgs[0].Text, markup: msgs[0].ReplyMarkup}
	}
	out[""] = out[def]
	return out, nil
}

// work claims chunks of a broadcast and sends them until none is left for
// this process, or the broadcast is paused or cancelled.
func (k *Bulk) work(ctx context.Context, id string) {
	m, err := k.opt.Broadcasts.Meta(ctx, id)
	if err != nil || m == nil {
		return
	}
	msgs, err := k.render(m)
	if err != nil {
		k.b.log.Error("broadcast cannot be rendered", "id", id, "err", err)
		return
	}
	for ctx.Err() == nil {
		c, done, err := k.opt.Broadcasts.ClaimChunk(ctx, id, k.opt.ChunkLease, time.Now())
		if err != nil {
			k.b.log.Warn("claim a broadcast chunk", "id", id, "err", err)
			return
		}
		if done || c == nil {
			return
		}
		if !k.workChunk(ctx, c, msgs) {
			return
		}
	}
}

// outcome of one send.
type outcome struct {
	r      store.Recipient
	status string        // a store.Status…, "" when unknown (shutdown mid-send)
	retry  time.Duration // 429: Telegram's retry_after
}

// workChunk sends a chunk's messages in batches as the rate limiter
// allows: each batch is marked in flight before it is sent (so that a
// crash never sends it twice) and recorded after. A few batches are in
// flight at once, so a slow answer from Telegram does not leave the
// budget unused. It reports false when the worker should stop.
func (k *Bulk) workChunk(ctx context.Context, c *store.Chunk, msgs map[string]rendered) bool {
	bs := k.opt.Broadcasts
	var queue []store.Recipient
	uncertain := 0
	for _, r := range c.To {
		switch c.Done[r.User] {
		case "":
			queue = append(queue, r)
		case store.StatusInFlight:
			// A process died while sending to them: they may have it.
			uncertain++
		}
	}
	var (
		mu     sync.Mutex
		again  []store.Recipient // answered 429: to send after the pause
		broken bool              // Redis failed: stop, the lease passes on
		wg     sync.WaitGroup
	)
	slots := make(chan struct{}, 4)
	stop := func(ok bool) bool {
		wg.Wait()
		if !ok {
			bs.RenewChunk(context.WithoutCancel(ctx), c, time.Now()) // release
		}
		return ok
	}
	renewed, checked := time.Now(), time.Time{}
	for {
		mu.Lock()
		queue = append(again, queue...)
		again = nil
		failed := broken
		mu.Unlock()
		if failed || ctx.Err() != nil {
			return stop(false)
		}
		if len(queue) == 0 {
			wg.Wait()
			mu.Lock()
			more, failed := len(again) > 0, broken
			mu.Unlock()
			if failed {
				// A batch could not be recorded: leave the chunk to the
				// next claim, which counts its marks.
				return stop(false)
			}
			if !more {
				break
			}
			continue
		}
		if time.Since(checked) > 500*time.Millisecond {
			checked = time.Now()
			m, err := bs.Meta(ctx, c.Broadcast)
			if err != nil || m == nil || m.Status != flows.BroadcastSending {
				return stop(false)
			}
		}
		if time.Since(renewed) > k.opt.ChunkLease/3 {
			renewed = time.Now()
			if ok, err := bs.RenewChunk(ctx, c, time.Now().Add(k.opt.ChunkLease)); err != nil || !ok {
				k.b.log.Warn("broadcast chunk lease lost", "id", c.Broadcast, "chunk", c.N, "err", err)
				wg.Wait()
				return false
			}
		}
		n, wait, err := k.opt.Limiter.Take(ctx, ratelimit.Bulk, min(len(queue), 2*k.opt.Concurrency))
		if err != nil {
			k.b.log.Warn("rate limiter", "err", err)
			sleep(ctx, time.Second)
			continue
		}
		if n == 0 {
			sleep(ctx, min(wait, time.Second))
			continue
		}
		batch := queue[:n:n]
		queue = queue[n:]
		users := make([]int64, n)
		for i, r := range batch {
			users[i] = r.User
		}
		if err := bs.MarkInFlight(ctx, c, users); err != nil {
			k.b.log.Warn("mark broadcast recipients", "err", err)
			return stop(false)
		}
		slots <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-slots }()
			// Sends under way finish and are recorded even at shutdown,
			// so a graceful stop leaves nobody uncertain.
			if !k.sendBatch(context.WithoutCancel(ctx), c, batch, msgs, func(r []store.Recipient) {
				mu.Lock()
				again = append(again, r...)
				mu.Unlock()
			}) {
				mu.Lock()
				broken = true
				mu.Unlock()
			}
		}()
	}
	left, err := bs.FinishChunk(ctx, c, uncertain, time.Now())
	if err != nil {
		k.b.log.Warn("finish broadcast chunk", "err", err)
		return false
	}
	return left >= 0
}

// sendBatch sends a marked batch and records the outcomes. Recipients
// answered with 429 are unmarked and handed to retry, and bulk sending
// pauses for the retry_after on every replica, however long it is.
func (k *Bulk) sendBatch(ctx context.Context, c *store.Chunk, batch []store.Recipient, msgs map[string]rendered, retry func([]store.Recipient)) bool {
	bs := k.opt.Broadcasts
	done := map[int64]string{}
	var again []store.Recipient
	var pause time.Duration
	for _, o := range k.sendAll(ctx, batch, msgs) {
		switch o.status {
		case "":
		case "429":
			again = append(again, o.r)
			pause = max(pause, o.retry)
		default:
			done[o.r.User] = o.status
			k.count(ctx, o)
		}
	}
	if err := bs.Record(ctx, c, done); err != nil {
		k.b.log.Warn("record broadcast progress", "err", err)
		return false
	}
	if len(again) == 0 {
		return true
	}
	ids := make([]int64, len(again))
	for i, r := range again {
		ids[i] = r.User
	}
	if err := bs.Unmark(ctx, c, ids); err != nil {
		k.b.log.Warn("unmark broadcast recipients", "err", err)
		return false
	}
	if err := k.opt.Limiter.Pause(ctx, pause); err != nil {
		k.b.log.Warn("pause bulk sending", "err", err)
	}
	k.m.pauses.Inc()
	k.b.log.Warn("Telegram asked to slow down: bulk sending paused", "retry_after", pause, "broadcast", c.Broadcast)
	retry(again)
	return true
}

func (k *Bulk) count(ctx context.Context, o outcome) {
	switch o.status {
	case store.StatusSent:
		k.m.sent.Inc()
		return
	case store.StatusBlocked, store.StatusDeactivated, store.StatusNotFound:
		reach := map[string]string{store.StatusBlocked: store.Blocked, store.StatusDeactivated: store.Deactivated, store.StatusNotFound: store.NotFound}[o.status]
		k.m.failed.WithLabelValues(reach).Inc()
		if err := k.opt.Audience.SetReach(ctx, o.r.User, reach); err != nil {
			k.b.log.Warn("mark unreachable", "user", o.r.User, "err", err)
		}
	default:
		k.m.failed.WithLabelValues("failed").Inc()
	}
}

// sendAll sends a batch concurrently.
func (k *Bulk) sendAll(ctx context.Context, batch []store.Recipient, msgs map[string]rendered) []outcome {
	out := make([]outcome, len(batch))
	sem := make(chan struct{}, k.opt.Concurrency)
	var wg sync.WaitGroup
	for i, r := range batch {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			m, ok := msgs[r.Lang]
			if !ok {
				m = msgs[""]
			}
			status, retry := k.b.sendOne(ctx, r.User, &tg.SendMessageParams{Text: m.text, ReplyMarkup: m.markup, AllowPaidBroadcast: k.opt.Paid})
			out[i] = outcome{r: r, status: status, retry: retry}
		}()
	}
	wg.Wait()
	return out
}

// sendOne sends one bulk message and classifies the answer: sent; 429
// (with retry_after: pause, never retry at once); blocked, deactivated,
// chat not found (never retried); other failures after a few quick tries.
func (b *Bot) sendOne(ctx context.Context, chat int64, p *tg.SendMessageParams) (string, time.Duration) {
	p.ChatID = chat
	backoff := 200 * time.Millisecond
	for attempt := 1; ; attempt++ {
		_, err := b.sendMessage(ctx, p)
		var tooMany *tg.TooManyRequestsError
		switch {
		case err == nil:
			return store.StatusSent, 0
		case errors.As(err, &tooMany):
			return "429", max(time.Duration(tooMany.RetryAfter)*time.Second, time.Second)
		case errors.Is(err, tg.ErrorForbidden):
			if strings.Contains(err.Error(), "deactivated") {
				return store.StatusDeactivated, 0
			}
			return store.StatusBlocked, 0
		case errors.Is(err, tg.ErrorBadRequest):
			if strings.Contains(err.Error(), "chat not found") || strings.Contains(err.Error(), "user not found") {
				return store.StatusNotFound, 0
			}
			b.log.Warn("bulk message refused", "chat", chat, "err", redact(err, b.opt.Token))
			return store.StatusFailed, 0
		case ctx.Err() != nil:
			return "", 0
		case transient(err) && attempt < 3:
			sleep(ctx, backoff)
			backoff *= 2
		default:
			b.log.Warn("bulk message failed", "chat", chat, "err", redact(err, b.opt.Token))
			return store.StatusFailed, 0
		}
	}
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// staffLang is the language of a staff member's chat (their state's).
func (k *Bulk) staffLang(ctx context.Context, user int64) string {
	k.mu.Lock()
	c, ok := k.langs[user]
	k.mu.Unlock()
	if ok && time.Since(c.at) < time.Minute {
		return c.lang
	}
	lang := k.b.languageOf(ctx, user, k.b.catalog.Default())
	k.mu.Lock()
	k.langs[user] = langCache{lang: lang, at: time.Now()}
	k.mu.Unlock()
	return lang
}

// clock writes a duration as h:mm:ss or m:ss, the same in every language.
func clock(d time.Duration) string {
	d = d.Round(time.Second)
	h, m, s := int(d.Hours()), int(d.Minutes())%60, int(d.Seconds())%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}

func (k *Bulk) progressData(ctx context.Context, m *store.BroadcastMeta) map[string]any {
	processed := m.Counts["sent"] + m.Counts["blocked"] + m.Counts["deactivated"] + m.Counts["not_found"] + m.Counts["failed"] + m.Counts["uncertain"]
	now := time.Now()
	k.mu.Lock()
	s, ok := k.samples[m.ID]
	if ok && now.Sub(s.at) >= time.Second {
		s.rate = float64(processed-s.done) / now.Sub(s.at).Seconds()
	}
	if !ok || now.Sub(s.at) >= time.Second {
		s.at, s.done = now, processed
	}
	k.samples[m.ID] = s
	k.mu.Unlock()
	left := "?"
	if s.rate > 0 {
		left = clock(time.Duration(float64(m.Total-processed) / s.rate * float64(time.Second)))
	}
	paused := ""
	if d, err := k.opt.Limiter.Paused(ctx); err == nil && d > 0 {
		paused = clock(d)
	}
	took := ""
	if !m.Started.IsZero() {
		end := m.Finished
		if end.IsZero() {
			end = now
		}
		took = clock(end.Sub(m.Started))
	}
	return map[string]any{
		"ID": m.ID, "Status": flows.Msg{ID: "bc.status." + m.Status},
		"Sent": flows.Thousands(m.Counts["sent"]), "Total": flows.Thousands(m.Total),
		"Blocked": flows.Thousands(m.Counts["blocked"]), "Deactivated": flows.Thousands(m.Counts["deactivated"]),
		"NotFound": flows.Thousands(m.Counts["not_found"]), "Failed": flows.Thousands(m.Counts["failed"]),
		"Uncertain": flows.Thousands(m.Counts["uncertain"]),
		"Rate":      fmt.Sprintf("%.0f", s.rate), "Left": left, "Paused": paused, "Took": took,
	}
}

// progress edits the staff's progress message (one replica every few
// seconds; the first time, it sends it).
func (k *Bulk) progress(ctx context.Context, m *store.BroadcastMeta) {
	if m.Status == flows.BroadcastAwaiting {
		return
	}
	ok, err := k.opt.Broadcasts.TryLock(ctx, m.ID, "progress", k.opt.Progress)
	if err != nil || !ok {
		return
	}
	lang := k.staffLang(ctx, m.By)
	r := flows.Reply{ID: "bc.progress", Data: k.progressData(ctx, m)}
	switch m.Status {
	case flows.BroadcastPaused:
		r.Buttons = [][]flows.Button{flows.Row(flows.Btn("bc.btn.resume", "bc.resume:"+m.ID), flows.Btn("bc.btn.stop", "bc.cancel:"+m.ID))}
	default:
		r.Buttons = [][]flows.Button{flows.Row(flows.Btn("bc.btn.pause", "bc.pause:"+m.ID), flows.Btn("bc.btn.stop", "bc.cancel:"+m.ID))}
	}
	k.show(ctx, m, lang, r)
}

// show sends or edits the progress message.
func (k *Bulk) show(ctx context.Context, m *store.BroadcastMeta, lang string, r flows.Reply) {
	msgs, err := k.b.render(lang, flows.AnyTurn, r)
	if err != nil {
		k.b.log.Error("render broadcast progress", "err", err)
		return
	}
	p := msgs[0]
	if m.ProgressMsg == 0 {
		sent, err := k.b.send(ctx, m.By, p)
		if err != nil {
			k.b.log.Warn("send broadcast progress", "err", redact(err, k.b.opt.Token))
			return
		}
		if _, err := k.opt.Broadcasts.SetProgress(ctx, m.ID, m.By, sent.ID); err != nil {
			k.b.log.Warn("remember progress message", "err", err)
		}
		return
	}
	_, err = k.b.tg.EditMessageText(ctx, &tg.EditMessageTextParams{ChatID: m.ProgressChat, MessageID: m.ProgressMsg, Text: p.Text, ReplyMarkup: p.ReplyMarkup})
	if err != nil && !strings.Contains(err.Error(), "not modified") {
		k.b.log.Debug("edit broadcast progress", "err", redact(err, k.b.opt.Token))
	}
}

// finish sends the final report once and takes the broadcast off the
// active list.
func (k *Bulk) finish(ctx context.Context, m *store.BroadcastMeta) {
	if !m.Reported {
		ok, err := k.opt.Broadcasts.MarkReported(ctx, m.ID)
		if err != nil {
			return
		}
		if ok {
			lang := k.staffLang(ctx, m.By)
			data := k.progressData(ctx, m)
			if m.ProgressMsg != 0 {
				k.show(ctx, m, lang, flows.Reply{ID: "bc.progress", Data: data})
			}
			msgs, err := k.b.render(lang, 0, flows.Reply{ID: "bc.report", Data: data})
			if err == nil {
				_, err = k.b.send(ctx, m.By, msgs[0])
			}
			if err != nil {
				k.b.log.Warn("send broadcast report", "id", m.ID, "err", redact(err, k.b.opt.Token))
			}
			k.b.log.Info("broadcast finished", "id", m.ID, "status", m.Status, "total", m.Total, "sent", m.Counts["sent"],
				"blocked", m.Counts["blocked"], "deactivated", m.Counts["deactivated"], "not_found", m.Counts["not_found"],
				"failed", m.Counts["failed"], "uncertain", m.Counts["uncertain"])
		}
	}
	if err := k.opt.Broadcasts.Retire(ctx, m.ID); err != nil {
		k.b.log.Warn("retire broadcast", "err", err)
	}
}
