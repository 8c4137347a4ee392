package telegramtest

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/go-telegram/bot/models"
)

// This file lets the fake run outside tests, as the Bot API server behind
// the sandbox (package sandbox, `pensionbot sandbox`): the repository keeps
// one emulation of the Bot API, and the bot talks to the sandbox through the
// same client library and wire format as to Telegram.

// reporter is what the server needs from a test: testing.TB satisfies it,
// and Start supplies one that logs.
type reporter interface {
	Helper()
	Fatalf(format string, args ...any)
}

// Options configure Start.
type Options struct {
	// Token is the token the server accepts (default SandboxToken).
	Token string
	// Logger receives misuse that would fail a test (a press on a button
	// that is gone, say); nil discards it.
	Logger *slog.Logger
}

// SandboxToken is the sandbox's default token: shaped like a real one so
// the client library and the program's shape check (35 characters after
// the colon) accept it, and plainly not one.
const SandboxToken = "123456:SANDBOX-not-a-telegram-token-000000"

// Start starts a server outside a test, on a loopback port; the caller
// Closes it. Where a test would fail (a Send* for a message that does not
// exist, a press on a button that is gone), the server logs and carries on,
// as every Send* method already does when Fatalf returns.
func Start(opts Options) *Server {
	if opts.Token == "" {
		opts.Token = SandboxToken
	}
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return newServer(logReporter{log}, opts.Token)
}

type logReporter struct{ log *slog.Logger }

func (logReporter) Helper() {}

func (r logReporter) Fatalf(format string, args ...any) {
	r.log.Warn("Bot API emulator: " + fmt.Sprintf(format, args...))
}

// Changed returns a channel that is closed at the next change of the
// server's state (an update enqueued, a message sent, edited or deleted, a
// callback answered, the command menu set), for live views such as the
// sandbox's server-sent events. Take it before reading the state, so that
// no change between the read and the wait is missed.
func (s *Server) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// MenuCommands is the command menu a Telegram client with languageCode
// shows in its private chat with the bot, in Telegram's order: the list
// set for that chat and the language (two letters, the key setMyCommands
// takes), for that chat, for all private chats and the language, for all
// private chats, by default for the language, by default.
func (s *Server) MenuCommands(chat int64, languageCode string) []models.BotCommand {
	lang := strings.ToLower(strings.SplitN(strings.ReplaceAll(languageCode, "_", "-"), "-", 2)[0])
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, scope := range []string{fmt.Sprintf("chat:%d", chat), "all_private_chats", "default"} {
		for _, l := range []string{lang, ""} {
			if cmds, ok := s.commands[scope+"|"+l]; ok {
				return append([]models.BotCommand{}, cmds...)
			}
		}
	}
	return nil
}

// SentMessageID is the message id the person's message in update id got
// (0 if the update holds no message).
func (s *Server) SentMessageID(updateID int64) int {
	u := s.Update(updateID)
	if u.Message != nil {
		return u.Message.ID
	}
	return 0
}
