// Package bot is pensionbot's only Telegram code. It receives updates (long
// polling or webhook), queues them per person in the store so that each
// person's updates are applied one at a time and in order, runs them through
// the dialogue engine, and sends the replies rendered in the person's
// language.
package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"

	tg "github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"
	"github.com/prometheus/client_golang/prometheus"

	"pensionbot/flows"
	"pensionbot/locales"
	"pensionbot/retry"
	"pensionbot/store"
)

// botAPIConns bounds the connections to the Bot API: enough for the sends
// in flight of a busy process (a call takes a few milliseconds), few enough
// to stay open and be reused.
const botAPIConns = 64

// Store is what the bot needs from state storage (see package store).
type Store interface {
	Enqueue(ctx context.Context, user, updateID int64, payload []byte, durable bool) (store.Enqueued, error)
	Acquire(ctx context.Context, user int64) (*store.Lease, time.Duration, error)
	Commit(ctx context.Context, l *store.Lease, mode store.Mode, state, effects []byte) (store.Committed, error)
	Renew(ctx context.Context, l *store.Lease) error
	AckMany(ctx context.Context, acks []store.Ack) []store.AckResult
	ClaimOutbox(ctx context.Context, user int64) (*store.Claim, time.Duration, error)
	RenewClaim(ctx context.Context, c *store.Claim) error
	DeadLetter(ctx context.Context, user int64, effect []byte) error
	Pending(ctx context.Context, held bool, each func(user int64)) error
	Load(ctx context.Context, user int64) ([]byte, error)
	LoadMany(ctx context.Context, users []int64) ([][]byte, []error)
	AddEphemeral(ctx context.Context, chat int64, messageID int) error
	TakeEphemeral(ctx context.Context, chat int64) ([]int, error)
	Ping(ctx context.Context) error
}

// Eraser is a service that keeps something about a person outside their
// state (the review queue's cases and records, the agency tracker's
// tickets). Erase removes it when the person asks to be forgotten; it
// runs from the outbox after the forgetting is committed, and again if
// delivery is repeated, so it must be idempotent.
type Eraser interface {
	Erase(ctx context.Context, user int64) error
}

// Options configure a Bot. Token, Engine, Store and Catalog are required.
type Options struct {
	Token   string
	APIURL  string // default https://api.telegram.org
	Engine  *flows.Engine
	Store   Store
	Catalog *locales.Catalog
	Logger  *slog.Logger
	// Registry receives the bot's metrics; nil makes a private one.
	Registry *prometheus.Registry
	// HTTPClient talks to the Bot API; nil uses a client with sane timeouts.
	HTTPClient *http.Client
	// PollTimeout is the long-polling wait (default 50 s).
	PollTimeout time.Duration
	// MaxAttempts and RetryBase tune retries of Bot API calls (default 5,
	// 500 ms doubling).
	MaxAttempts int
	RetryBase   time.Duration
	// Lease is the store's lease, used to renew it while a slow step runs.
	Lease time.Duration
	// Erasers are told to erase a person who used /forget.
	Erasers []Eraser
	// CasePhoto fetches a case's photo for a message that names it
	// (flows.Reply.PhotoOf): the review queue's Photo.
	CasePhoto func(ctx context.Context, caseID, kind string) ([]byte, error)
	// KeepPhotoMessages leaves people's ID-card and face photos in the chat
	// (by default the bot deletes them once stored).
	KeepPhotoMessages bool
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Failpoint, for fault tests, kills the process (exit status 137, as
	// kill -9) the first time it reaches the named point: "decided" (a
	// step produced a decision, not yet committed), "committed" (the
	// commit is done, nothing delivered), "effect:<kind>" (right after an
	// effect of that kind was performed, before its acknowledgement).
	Failpoint string
	// Effects carry out features' own effects (flows.Effect), by kind;
	// Reach records whether a person can be reached (my_chat_member). Both
	// are optional (see effects.go).
	Effects map[string]func(context.Context, flows.Effect) error
	Reach   func(ctx context.Context, user int64, reach string) error
}

// Bot is a running Telegram bot.
type Bot struct {
	opt     Options
	tg      *tg.Bot
	engine  *flows.Engine
	store   Store
	catalog *locales.Catalog
	log     *slog.Logger
	metrics *metrics
	files   *fileFetcher
	policy  retry.Policy
	spent   spent // messages not yet counted into the shared budget
	acks    *acker
	stopAck context.CancelFunc

	wg     sync.WaitGroup // in-flight work, waited for at shutdown
	mu     sync.Mutex
	kicks  map[int64]*time.Timer // pending re-tries of a busy person's inbox
	warned map[int64]time.Time   // last "try again" apology per person
	closed bool
	// username is the bot's username from getMe, for deep links.
	username string
}

// ErrTokenRefused means Telegram answered 401 Unauthorized: the bot token
// is wrong or was revoked (in @BotFather). Nothing works without it, so
// the bot stops rather than retrying for ever.
var ErrTokenRefused = errors.New("Telegram refused the bot token (401 Unauthorized)")

// New connects to the Bot API (getMe) and returns a bot ready to run.
func New(ctx context.Context, opt Options) (*Bot, error) {
	if opt.Token == "" || opt.Engine == nil || opt.Store == nil || opt.Catalog == nil {
		return nil, errors.New("bot: token, engine, store and catalog are required")
	}
	if opt.APIURL == "" {
		opt.APIURL = "https://api.telegram.org"
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Registry == nil {
		opt.Registry = prometheus.NewRegistry()
	}
	if opt.PollTimeout <= 0 {
		opt.PollTimeout = 50 * time.Second
	}
	if opt.HTTPClient == nil {
		// One client for every Bot API call, with a keep-alive pool as large
		// as the work in flight: net/http keeps 2 idle connections per host
		// by default, and against the real Bot API every further one would
		// be a new TLS handshake.
		tr := http.DefaultTransport.(*http.Transport).Clone()
		// At most this many connections: beyond it a call waits for a free
		// one rather than dialing (and handshaking) anew.
		tr.MaxIdleConns, tr.MaxIdleConnsPerHost, tr.MaxConnsPerHost = botAPIConns, botAPIConns, botAPIConns
		tr.IdleConnTimeout = 90 * time.Second
		opt.HTTPClient = &http.Client{Timeout: opt.PollTimeout + 15*time.Second, Transport: bufferedBodies{next: tr}}
	}
	if opt.MaxAttempts <= 0 {
		opt.MaxAttempts = 5
	}
	if opt.RetryBase <= 0 {
		opt.RetryBase = 500 * time.Millisecond
	}
	if opt.Lease <= 0 {
		opt.Lease = 60 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	m, err := newMetrics(opt.Registry)
	if err != nil {
		return nil, err
	}
	b := &Bot{
		opt: opt, engine: opt.Engine, store: opt.Store, catalog: opt.Catalog,
		log: opt.Logger, metrics: m,
		policy: retry.Policy{Attempts: opt.MaxAttempts, Base: opt.RetryBase, Max: 30 * time.Second},
		kicks:  map[int64]*time.Timer{}, warned: map[int64]time.Time{},
	}
	client, err := tg.New(opt.Token,
		tg.WithServerURL(opt.APIURL),
		tg.WithHTTPClient(opt.PollTimeout, opt.HTTPClient),
		tg.WithCheckInitTimeout(15*time.Second),
		tg.WithErrorsHandler(func(err error) { b.log.Error("telegram client", "err", redact(err, opt.Token)) }),
		tg.WithDefaultHandler(func(context.Context, *tg.Bot, *models.Update) {}),
	)
	if errors.Is(err, tg.ErrorUnauthorized) {
		return nil, fmt.Errorf("connect to the Bot API: %w", ErrTokenRefused)
	}
	if err != nil {
		return nil, fmt.Errorf("connect to the Bot API: %w", redact(err, opt.Token))
	}
	b.tg = client
	// The username makes deep links (t.me/<username>?start=…).
	if me, err := client.GetMe(ctx); err == nil && me != nil {
		b.username = me.Username
	} else if err != nil {
		b.log.Warn("getMe failed; deep links are off until restart", "err", redact(err, opt.Token))
	}
	b.files = &fileFetcher{bot: b}
	b.acks = newAcker(opt.Store)
	var actx context.Context
	actx, b.stopAck = context.WithCancel(context.Background())
	go b.acks.run(actx)
	return b, nil
}

// Username is the bot's username from getMe ("" if unknown).
func (b *Bot) Username() string { return b.username }

// Files is how flows fetch attachments through this bot.
func (b *Bot) Files() flows.Files { return b.files }

// Wait blocks until all in-flight work is done; call it after the context
// given to Poll or the webhook was cancelled.
func (b *Bot) Wait() {
	b.mu.Lock()
	b.closed = true
	for user, t := range b.kicks {
		if t.Stop() {
			b.wg.Done() // its function will not run
		}
		delete(b.kicks, user)
	}
	b.mu.Unlock()
	b.wg.Wait()
	b.stopAck()
}
