package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"pensionbot/internal/telegramtest"
	"pensionbot/sandbox"
	"pensionbot/secret"
	"pensionbot/store"
)

// sandboxDB is the Redis database the sandbox uses on the REDIS_URL server
// when SANDBOX_REDIS_URL is not set: apart from a real bot's (database 0 by
// default), and emptied at every start.
const sandboxDB = 15

// sandboxStaffID is the simulated staff member's user id when STAFF_IDS is
// empty.
const sandboxStaffID = 9001

// Sandbox runs the real program against the Bot API emulator, with the web
// chat that plays the people (`pensionbot sandbox`, `make run` without a
// token).
type Sandbox struct {
	App  *App
	API  *telegramtest.Server
	Web  *sandbox.Sandbox
	web  net.Listener
	log  *slog.Logger
	rdb  *redis.Client
	URL  string // the web chat, for people
	ran  bool   // App.Run was called, and closes the App itself
	done bool
}

// NewSandbox reads the sandbox's settings, starts the emulator and builds
// the program connected to it. It refuses a real token: the sandbox never
// talks to Telegram.
func NewSandbox(ctx context.Context, getenv func(string) string, log *slog.Logger) (*Sandbox, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	for _, name := range []string{"TELEGRAM_BOT_TOKEN", "TELEGRAM_API_URL", "WEBHOOK_URL"} {
		if get(name, "") != "" {
			return nil, &configError{name, "is set, but the sandbox never talks to Telegram: unset it for `pensionbot sandbox` (or run without `sandbox` to use Telegram)"}
		}
	}
	listen := get("SANDBOX_LISTEN", "127.0.0.1:8080")
	var allowRemote bool
	switch get("SANDBOX_ALLOW_REMOTE", "false") {
	case "true", "1", "yes":
		allowRemote = true
	case "false", "0", "no":
	default:
		return nil, &configError{"SANDBOX_ALLOW_REMOTE", "use true or false"}
	}
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, &configError{"SANDBOX_LISTEN", "must be host:port, such as 127.0.0.1:8080"}
	}
	if ip := net.ParseIP(host); !allowRemote && host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return nil, &configError{"SANDBOX_LISTEN", fmt.Sprintf("%q is not a loopback address; the sandbox serves this machine only unless SANDBOX_ALLOW_REMOTE=true", host)}
	}
	redisURL := get("SANDBOX_REDIS_URL", "")
	if redisURL == "" {
		if redisURL, err = sandboxRedisURL(get("REDIS_URL", "redis://127.0.0.1:6379/0")); err != nil {
			return nil, &configError{"REDIS_URL", err.Error() + "; or set SANDBOX_REDIS_URL to a redis:// URL of its own"}
		}
	}
	ropt, err := redis.ParseURL(redisURL)
	if err != nil {
		return nil, &configError{"SANDBOX_REDIS_URL", "cannot parse it: " + err.Error()}
	}

	api := telegramtest.Start(telegramtest.Options{Logger: log})
	sb := &Sandbox{API: api, log: log}
	ok := false
	defer func() {
		if !ok {
			sb.close()
		}
	}()
	// The program reads its usual settings, with the emulator standing in
	// for Telegram and the sandbox's own database.
	staff := get("STAFF_IDS", "")
	if staff == "" {
		staff = fmt.Sprint(sandboxStaffID)
	}
	dataKey := get("DATA_KEY", "")
	if dataKey == "" {
		// Everything is erased at the next start anyway.
		dataKey = secret.NewKey()
	}
	overlay := map[string]string{
		"TELEGRAM_BOT_TOKEN": api.Token,
		"TELEGRAM_API_URL":   api.URL,
		"REDIS_URL":          redisURL,
		"REDIS_MASTER_NAME":  "",
		"STAFF_IDS":          staff,
		"DATA_KEY":           dataKey,
		"LOG_FORMAT":         get("LOG_FORMAT", "text"),
	}
	cfg, err := LoadConfig(func(name string) string {
		if v, ok := overlay[name]; ok {
			return v
		}
		return getenv(name)
	})
	if err != nil {
		return nil, err
	}

	sb.rdb = redis.NewClient(ropt)
	if err := store.ClaimSandbox(ctx, sb.rdb); err != nil {
		if errors.Is(err, store.ErrNotSandboxDB) {
			return nil, &configError{"SANDBOX_REDIS_URL", fmt.Sprintf("%s: %v; the sandbox empties its database at every start, so give it an empty one (redis://host:port/N)", redisURL, store.ErrNotSandboxDB)}
		}
		return nil, fmt.Errorf("sandbox redis at %s: %w", ropt.Addr, err)
	}
	if sb.App, err = NewApp(ctx, cfg, log); err != nil {
		return nil, err
	}
	if sb.Web, err = sandbox.New(sandbox.Options{
		API: api, People: sandbox.People(cfg.StaffIDs[0]), AllowRemote: allowRemote, Logger: log,
	}); err != nil {
		return nil, err
	}
	if sb.web, err = net.Listen("tcp", listen); err != nil {
		return nil, &configError{"SANDBOX_LISTEN", err.Error() + " (choose another port, e.g. SANDBOX_LISTEN=127.0.0.1:8081)"}
	}
	sb.URL = "http://" + sb.web.Addr().String() + "/"
	ok = true
	return sb, nil
}

// sandboxRedisURL is REDIS_URL's server with the sandbox's database.
func sandboxRedisURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "redis" && u.Scheme != "rediss") || strings.Contains(raw, ",") {
		return "", errors.New("the sandbox needs one redis:// server")
	}
	u.Path = fmt.Sprintf("/%d", sandboxDB)
	return u.String(), nil
}

// Run serves the web chat and runs the bot until ctx ends.
func (s *Sandbox) Run(ctx context.Context) error {
	defer s.close()
	s.ran = true
	srv := &http.Server{Handler: s.Web.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(s.web); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.log.Error("sandbox web chat", "err", err)
		}
	}()
	err := s.App.Run(ctx)
	sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	// Event streams never end by themselves: Shutdown waits for them until
	// the timeout, Close cuts them.
	if srv.Shutdown(sctx) != nil {
		srv.Close()
	}
	return err
}

func (s *Sandbox) close() {
	if s.done {
		return
	}
	s.done = true
	if s.App != nil && !s.ran {
		s.App.close()
	}
	if s.web != nil {
		s.web.Close()
	}
	if s.rdb != nil {
		s.rdb.Close()
	}
	s.API.Close()
}

// runSandbox is `pensionbot sandbox`: it returns the exit status.
func runSandbox(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) int {
	format := strings.ToLower(strings.TrimSpace(getenv("LOG_FORMAT")))
	if format == "" {
		format = "text"
	}
	level := strings.ToLower(strings.TrimSpace(getenv("LOG_LEVEL")))
	if level == "" {
		level = "info"
	}
	log := newLogger(stderr, level, format)
	sb, err := NewSandbox(ctx, getenv, log)
	if err != nil {
		if isConfigError(err) {
			fmt.Fprintln(stderr, "pensionbot sandbox: configuration:", err)
			return 2
		}
		log.Error("cannot start the sandbox", "err", err)
		return 1
	}
	fmt.Fprintf(stdout, "\npensionbot SANDBOX: open %s in a browser to chat with the bot as a pensioner, a family member or staff.\n"+
		"Simulated Telegram on this machine only; nothing reaches Telegram. Ctrl-C stops.\n\n", sb.URL)
	if err := sb.Run(ctx); err != nil {
		log.Error("stopped with an error", "err", err)
		return 1
	}
	return 0
}
