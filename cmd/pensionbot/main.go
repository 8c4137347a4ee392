// Command pensionbot runs the pension certification bot for Telegram. It is
// the only place that reads the environment; see README.md for the
// settings. `pensionbot sandbox` runs it against a simulated Telegram with
// a web chat, to try it without a bot token.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"

	"pensionbot/bot"
)

func main() {
	if os.Getenv("GOGC") == "" {
		// The live heap is small (tens of MB) and memory plentiful; the
		// default GOGC=100 collected so often that the collector took a
		// tenth of the CPU per update. GOGC in the environment still wins.
		debug.SetGCPercent(400)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 {
		// `pensionbot sandbox`: the bot against a simulated Telegram with a
		// web chat (sandbox.go).
		if os.Args[1] != "sandbox" || len(os.Args) > 2 {
			fmt.Fprintln(os.Stderr, "usage: pensionbot [sandbox]  (settings come from the environment, see README.md)")
			os.Exit(2)
		}
		os.Exit(runSandbox(ctx, os.Getenv, os.Stdout, os.Stderr))
	}
	os.Exit(run(ctx, os.Getenv, os.Stderr))
}

// run is main without the process: it returns the exit status.
func run(ctx context.Context, getenv func(string) string, stderr io.Writer) int {
	cfg, err := LoadConfig(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "pensionbot: configuration:", err)
		return 2
	}
	log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	app, err := NewApp(ctx, cfg, log)
	if err != nil {
		if isConfigError(err) {
			fmt.Fprintln(stderr, "pensionbot: configuration:", err)
			return 2
		}
		log.Error("cannot start", "err", err)
		return 1
	}
	if err := app.Run(ctx); err != nil {
		if errors.Is(err, bot.ErrTokenRefused) {
			// Revoked while running: polling again cannot help, and a
			// process that keeps running would hide it.
			log.Error("stopped: TELEGRAM_BOT_TOKEN: "+tokenRefused, "err", err)
			return 2
		}
		log.Error("stopped with an error", "err", err)
		return 1
	}
	return 0
}

func newLogger(w io.Writer, level, format string) *slog.Logger {
	var lv slog.Level
	lv.UnmarshalText([]byte(level))
	opts := &slog.HandlerOptions{Level: lv}
	if format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}
