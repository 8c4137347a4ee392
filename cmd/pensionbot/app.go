package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"
	openai "github.com/sashabaranov/go-openai"

	"pensionbot/agency"
	"pensionbot/ai"
	"pensionbot/answer"
	"pensionbot/bot"
	"pensionbot/cardread"
	"pensionbot/domain"
	"pensionbot/flows"
	"pensionbot/intake"
	"pensionbot/locales"
	"pensionbot/ratelimit"
	"pensionbot/review"
	"pensionbot/speech"
	"pensionbot/store"
	"pensionbot/vision"
)

var (
	_ bot.Store  = (*store.Store)(nil)
	_ bot.Eraser = (*review.Queue)(nil)
	_ bot.Eraser = (*agency.Tracker)(nil)
)

// App is the wired program: what main runs and what end-to-end tests run.
type App struct {
	cfg      Config
	tracker  *agency.Tracker // polls the agency for late decisions, or nil
	log      *slog.Logger
	rdb      redis.UniversalClient
	bot      *bot.Bot
	bulk     *bot.Bulk             // broadcasts and reminders
	backfill func(context.Context) // enters records older than the registry, once
	hook     net.Listener          // webhook listener, nil when polling
	admin    net.Listener          // admin listener, nil when off
	conns    *prometheus.GaugeVec
	limiter  *ratelimit.Limiter // the sending budget all replicas share
	Metrics  *prometheus.Registry
}

// NewApp builds every part from the configuration. It connects to the Bot
// API (getMe) but not yet to Redis: a Redis that is down at start-up is
// waited for, not fatal.
func NewApp(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	ropt, err := redisOptions(cfg.RedisURL, cfg.RedisMasterName)
	if err != nil {
		return nil, &configError{"REDIS_URL", err.Error()}
	}
	// Short timeouts: a person waits for every round trip.
	ropt.DialTimeout, ropt.ReadTimeout, ropt.WriteTimeout = 2*time.Second, 2*time.Second, 2*time.Second
	redis.SetLogger(redisLog{log})
	rdb := redis.NewUniversalClient(ropt)
	a := &App{cfg: cfg, log: log, rdb: rdb, Metrics: prometheus.NewRegistry()}
	a.conns = prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "pensionbot_http_connections", Help: "Open connections of the webhook and admin servers.",
	}, []string{"server"})
	a.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), a.conns)
	trips, err := newTripCounter(a.Metrics)
	if err != nil {
		return nil, err
	}
	rdb.AddHook(trips)
	ok := false
	defer func() {
		if !ok {
			a.close()
		}
	}()

	catalog, err := locales.NewCatalog(cfg.DefaultLanguage)
	if err != nil {
		return nil, fmt.Errorf("load messages: %w", err)
	}
	// Short, and renewed while an update is worked on: after a crash, a
	// person waits at most this long before another process goes on.
	const lease = 15 * time.Second
	// A state holding an unfinished certification's personal data is kept
	// no longer than its photos.
	st := store.New(rdb, cfg.DataKey, store.Options{IdleTTL: cfg.IdleTTL, SensitiveTTL: cfg.PhotoTTL, Lease: lease})

	env := flows.Env{
		IdleDays:    int(cfg.IdleTTL / (24 * time.Hour)),
		Languages:   locales.Supported,
		TopicAction: answer.MenuAction,
	}
	// One client for every OpenAI-compatible use; nothing is sent unless a
	// model is configured.
	oc := openai.DefaultConfig(cfg.OpenAIKey)
	oc.BaseURL = cfg.OpenAIBaseURL
	model := ai.New(openai.NewClientWithConfig(oc))
	if env.Answerer, env.Transcriber, err = answerers(cfg, model, catalog, log); err != nil {
		return nil, err
	}
	// Certification: photos and records in Redis, checks in process, the
	// card reader and the verifier as configured, staff review always (it
	// is also where uncertain model answers go).
	queue := review.New(rdb, cfg.DataKey, review.Options{CaseTTL: cfg.PhotoTTL})
	photos := store.NewPhotos(rdb, cfg.DataKey, cfg.PhotoTTL, 0)
	checker, err := intake.New()
	if err != nil {
		return nil, err
	}
	// The registry of people for reminders and broadcasts; every saved
	// record enters its due date there.
	aud := store.NewAudience(rdb, cfg.DataKey, store.AudienceOptions{Schedule: cfg.Notify.Schedule})
	broadcasts := store.NewBroadcasts(rdb, store.BroadcastOptions{AuditTTL: cfg.Notify.AuditTTL})
	env.CertServices = flows.CertServices{
		Photos: photos, Records: store.TrackedRecords{RecordStore: photos, Audience: aud}, Images: checker,
		GreenAge: cfg.GreenAge, PhotoTTL: cfg.PhotoTTL, DeletePhotos: cfg.DeletePhotos,
	}
	a.backfill = func(ctx context.Context) {
		if n, err := aud.Backfill(ctx, photos, time.Now()); err != nil {
			log.Warn("enter older records in the reminder registry", "err", err)
		} else if n > 0 {
			log.Info("older records entered in the reminder registry", "records", n)
		}
	}
	env.StaffServices = flows.StaffServices{Desk: desk{queue}}
	env.StaffIDs = cfg.StaffIDs
	staff := map[int64]bool{}
	for _, id := range cfg.StaffIDs {
		staff[id] = true
	}
	env.IsStaff = func(user int64) bool { return staff[user] }
	// Family help: one open case per pensioner across accounts, links
	// between pensioners and helpers, dates in the server's time zone.
	family := store.NewFamily(rdb, cfg.DataKey)
	env.OpenCases = family
	env.FamilyServices = flows.FamilyServices{FamilyMax: cfg.FamilyMax, Links: family}
	env.Location = cfg.TimeZone
	if env.Cards, err = cardReader(cfg, model, log); err != nil {
		return nil, err
	}
	switch cfg.Verifier {
	case "agency":
		a.tracker = agency.NewTracker(rdb, agency.TrackerOptions{Logger: log})
		env.Verifier = agency.New(cfg.AgencyURL, cfg.AgencyToken, agency.Options{Logger: log, Tracker: a.tracker})
	case "vision":
		env.Verifier = vision.New(model, cfg.VisionModel, queue, vision.Options{Logger: log})
	default:
		env.Verifier = queue
	}
	log.Info("certification ready", "verifier", cfg.Verifier, "staff", len(cfg.StaffIDs))
	if len(cfg.StaffIDs) == 0 && cfg.Verifier != "agency" {
		log.Warn("STAFF_IDS is empty: nobody can review certifications")
	}
	features := []flows.Feature{flows.Certify{}, flows.Family{}, flows.Guide{}, flows.Staff{}, flows.Reminders{Settings: aud},
		flows.Broadcast{Audience: aud, Broadcasts: broadcasts, DefaultLanguage: cfg.DefaultLanguage, ConfirmOver: cfg.Notify.ConfirmOver}}
	effects := aud.Handlers()
	for k, h := range broadcasts.Handlers() {
		effects[k] = h
	}
	// The engine fetches attachments through the bot, which needs the
	// engine: the fetcher is bound once the bot exists.
	files := &lateFiles{}
	env.Files = files
	var botName func() string
	env.BotName = func() string {
		if botName == nil {
			return ""
		}
		return botName()
	}
	engine, err := flows.New(env, features...)
	if err != nil {
		return nil, fmt.Errorf("build flows: %w", err)
	}
	// /forget reaches every service that keeps something about a person.
	erasers := []bot.Eraser{queue}
	if a.tracker != nil {
		erasers = append(erasers, a.tracker)
	}
	a.bot, err = bot.New(ctx, bot.Options{
		Token: cfg.Token, APIURL: cfg.APIURL, Engine: engine, Store: st, Catalog: catalog,
		Logger: log, Registry: a.Metrics, Lease: lease, KeepPhotoMessages: !cfg.DeletePhotos, Failpoint: cfg.Failpoint,
		Erasers: erasers, Effects: effects, Reach: aud.SetReach, CasePhoto: queue.Photo,
	})
	if errors.Is(err, bot.ErrTokenRefused) {
		return nil, &configError{"TELEGRAM_BOT_TOKEN", tokenRefused}
	}
	if err != nil {
		return nil, err
	}
	// One sending budget for all replicas: replies first, notices next,
	// broadcasts last.
	limiter := ratelimit.New(rdb, "telegram", ratelimit.Options{Rate: cfg.Notify.totalRate(), BulkRate: cfg.Notify.Rate})
	a.limiter = limiter
	a.bulk, err = a.bot.NewBulk(bot.BulkOptions{Broadcasts: broadcasts, Audience: aud, Limiter: limiter,
		Paid: cfg.Notify.Paid, Schedule: cfg.Notify.Schedule, Helpers: family.Helpers})
	if err != nil {
		return nil, err
	}
	files.Files = a.bot.Files()
	botName = a.bot.Username

	if cfg.WebhookURL != "" {
		if a.hook, err = net.Listen("tcp", cfg.WebhookListen); err != nil {
			return nil, &configError{"WEBHOOK_LISTEN", err.Error()}
		}
	}
	if cfg.AdminListen != "" {
		if a.admin, err = net.Listen("tcp", cfg.AdminListen); err != nil {
			return nil, &configError{"ADMIN_LISTEN", err.Error()}
		}
	}
	ok = true
	return a, nil
}

// tokenRefused is what to do when Telegram answers 401 to the token.
const tokenRefused = "Telegram refused this token (401 Unauthorized): it is mistyped or was revoked. " +
	"Get the current token from @BotFather (/mybots, API Token), set TELEGRAM_BOT_TOKEN to it and start again"

// answerers builds the question answerer (the offline FAQ, or a model that
// falls back to it) and, when a transcription model is set, the voice
// transcriber.
func answerers(cfg Config, client *ai.Client, catalog *locales.Catalog, log *slog.Logger) (flows.Answerer, flows.Transcriber, error) {
	faq, err := answer.NewFAQ(catalog.Bundle(), locales.Supported)
	if err != nil {
		return nil, nil, fmt.Errorf("load the FAQ: %w", err)
	}
	var ans flows.Answerer = faq
	if cfg.Answerer != "llm" && cfg.TranscribeModel == "" {
		log.Info("answering questions offline (FAQ); voice messages are not transcribed")
		return ans, nil, nil
	}
	if cfg.Answerer == "llm" {
		llm, err := answer.NewLLM(client, cfg.OpenAIModel, catalog.Bundle(), faq, answer.LLMOptions{Logger: log})
		if err != nil {
			return nil, nil, fmt.Errorf("set up the model answerer: %w", err)
		}
		ans = llm
		log.Info("answering questions with a model, FAQ as fallback", "model", cfg.OpenAIModel)
	}
	var tr flows.Transcriber
	if cfg.TranscribeModel != "" {
		w, err := speech.NewWhisper(client, speech.Options{Model: cfg.TranscribeModel})
		if err != nil {
			return nil, nil, fmt.Errorf("set up voice transcription: %w", err)
		}
		tr = w
		log.Info("transcribing voice messages", "model", cfg.TranscribeModel)
	}
	return ans, tr, nil
}

// cardReader picks the card reader: a vision model if configured, else
// tesseract if installed, else none (the person types).
func cardReader(cfg Config, model *ai.Client, log *slog.Logger) (flows.CardReader, error) {
	mode := cfg.OCR
	if mode == "auto" {
		mode = "none"
		if cfg.VisionModel != "" {
			mode = "vision"
		} else if t, err := cardread.NewTesseract(cardread.TesseractOptions{}); err == nil && t.Available() {
			mode = "tesseract"
		}
	}
	log.Info("reading ID cards", "ocr", mode)
	switch mode {
	case "vision":
		return cardread.NewVision(model, cfg.VisionModel, cardread.VisionOptions{}), nil
	case "tesseract":
		t, err := cardread.NewTesseract(cardread.TesseractOptions{})
		if err != nil {
			return nil, &configError{"OCR", "tesseract: " + err.Error() + " (apt-get install tesseract-ocr tesseract-ocr-chi-sim)"}
		}
		return t, nil
	}
	return cardread.None{}, nil
}

// lateFiles is a file fetcher bound after construction.
type lateFiles struct{ flows.Files }

// desk adapts the review queue to what the staff steps use.
type desk struct{ q *review.Queue }

func (d desk) Claim(ctx context.Context, staff int64) (*flows.ReviewCase, error) {
	c, err := d.q.Claim(ctx, staff)
	if c == nil {
		return nil, err
	}
	// A case with fields that could not be opened comes with the error:
	// the staff member holds it and can still reject it.
	return &flows.ReviewCase{Submission: c.Submission, Waiting: c.Position, Photos: c.Photos}, err
}

func (d desk) Decide(ctx context.Context, caseID string, staff int64, outcome, reason string) (domain.Decision, int64, error) {
	return d.q.Decide(ctx, caseID, staff, outcome, reason)
}

func (d desk) Release(ctx context.Context, caseID string, staff int64) error {
	return d.q.Release(ctx, caseID, staff)
}

func (d desk) Viewers(ctx context.Context, caseID string) ([]int64, error) {
	return d.q.Viewers(ctx, caseID)
}

// WebhookAddr is where the webhook listens ("" when polling).
func (a *App) WebhookAddr() string { return addr(a.hook) }

// AdminAddr is where /healthz and /metrics are served ("" when off).
func (a *App) AdminAddr() string { return addr(a.admin) }

func addr(l net.Listener) string {
	if l == nil {
		return ""
	}
	return l.Addr().String()
}

// Run serves until ctx ends, then shuts down gracefully: no new updates are
// taken, and those in flight finish.
func (a *App) Run(ctx context.Context) error {
	defer a.close()
	former, ferr := store.SwapStaffMenu(ctx, a.rdb, a.cfg.StaffIDs)
	if ferr != nil {
		// Redis may still be starting: former staff keep the menu's
		// entries for now (their presses are refused anyway).
		a.log.Warn("could not tell who had the staff menu", "err", ferr)
	}
	if err := a.bot.SetCommands(ctx, former); err != nil {
		// The command menu is a convenience; the bot works without it.
		a.log.Warn("could not set the command menu", "err", err)
	}
	var servers []*http.Server
	serve := func(name string, l net.Listener, lim httpLimits, h http.Handler) {
		srv := lim.server(h)
		servers = append(servers, srv)
		ll := newLimitListener(l, lim.MaxConns, a.conns.WithLabelValues(name))
		go func() {
			if err := srv.Serve(ll); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.log.Error("http server", "addr", l.Addr().String(), "err", err)
			}
		}()
	}
	if a.admin != nil {
		// The admin listener is the operator's: it also serves Go's profiler,
		// which is how the cost per update is looked into.
		mux := http.NewServeMux()
		mux.Handle("/", a.bot.AdminHandler())
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		serve("admin", a.admin, adminLimits, mux)
		a.log.Info("admin endpoints up", "addr", a.AdminAddr())
	}
	if a.tracker != nil {
		go func() {
			err := a.tracker.Run(ctx, agency.DefaultEvery, func(ctx context.Context, user int64, d domain.Decision) error {
				return a.bot.Inject(ctx, user, d)
			})
			if err != nil && !errors.Is(err, context.Canceled) {
				a.log.Error("agency tracker stopped", "err", err)
			}
		}()
	}
	// Work a stopped process left (an update queued but not applied, effects
	// committed but not delivered) is picked up now and then.
	// The loops beside the updates stop when Run ends, however it ends (a
	// refused token ends polling without ctx being cancelled).
	bg, stopBG := context.WithCancel(ctx)
	defer stopBG()
	go a.bot.Sweep(bg, time.Minute)
	// People's replies count into the budget broadcasts share.
	go a.bot.UseBudget(bg, a.limiter)
	// Broadcasts and reminders, on every replica; stopped before Redis is
	// closed.
	bulkDone := make(chan struct{}, 2)
	go func() { a.bulk.Run(bg); bulkDone <- struct{}{} }()
	go func() { a.backfill(bg); a.bulk.RunReminders(bg, time.Minute); bulkDone <- struct{}{} }()
	defer func() { stopBG(); <-bulkDone; <-bulkDone }()
	var err error
	if a.hook != nil {
		serve("webhook", a.hook, webhookLimits, a.bot.WebhookHandler(a.cfg.WebhookSecret))
		if err = a.bot.SetWebhook(ctx, a.cfg.WebhookURL, a.cfg.WebhookSecret); err != nil {
			a.log.Error("could not register the webhook", "err", err)
		}
		a.log.Info("receiving updates by webhook", "listen", a.WebhookAddr())
		<-ctx.Done()
	} else {
		a.log.Info("receiving updates by long polling")
		err = a.bot.Poll(ctx)
	}
	a.log.Info("shutting down: finishing updates in flight")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, srv := range servers {
		srv.Shutdown(sctx)
	}
	a.bot.Wait()
	a.log.Info("stopped")
	return err
}

func (a *App) close() {
	if a.hook != nil {
		a.hook.Close()
	}
	if a.admin != nil {
		a.admin.Close()
	}
	a.rdb.Close()
}
