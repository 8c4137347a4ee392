// Package telegramtest is an in-process fake of the Telegram Bot API for
// end-to-end tests of the whole bot.
//
// It runs on net/http/httptest and speaks the real wire format, so the real
// github.com/go-telegram/bot client (pointed at it with
// bot.WithServerURL(s.URL)) and hand-written HTTP code such as a JSON
// getUpdates poller run unmodified against it. Faking at the HTTP level rather
// than behind a Go interface is the point: request encoding, error decoding
// (429 retry_after, 403 blocked, 409 conflicts), long-poll offsets and file
// downloads are exactly the places where a bot breaks in production, and an
// interface-level fake would skip all of them.
//
// A test plays the person with SendText, SendPhoto, PressButton, BlockBot and
// friends (each enqueues one update and returns its update_id), lets the bot
// receive them by long polling or through Deliver (webhook mode), and then
// inspects what the bot did with Messages, WaitMessages, Calls, Answered,
// DeletedUserMessages and Commands. FailNext injects API errors.
//
// Behaviour that mirrors real Telegram and may surprise:
//   - Method names are case-insensitive, as in the real API.
//   - Only chats whose user has written to the bot (any Send*/Push) exist;
//     sendMessage to any other chat id answers 400 "Bad Request: chat not
//     found".
//   - Message ids are counted per chat and shared between the person's and the
//     bot's messages.
//   - editMessageText without reply_markup removes the message's inline
//     keyboard, and an edit that changes nothing answers 400 "Bad Request:
//     message is not modified: ...".
//   - A second getUpdates terminates the one already waiting: the older
//     request answers 409 "Conflict: terminated by other getUpdates request;
//     ...". (The newer request wins, as in Telegram; this also keeps a test
//     that restarts its bot from racing the old poller's shutdown.)
//   - file_ids are about as long as real ones (~80 bytes), so code that puts
//     a file_id into 64-byte callback_data fails here as it would in
//     production.
//
// Everything the fake generates is deterministic (update ids start at 1,
// message ids at 1 per chat, file and callback ids count up, the token is
// derived from the test name) except message dates, which follow the wall
// clock by default because bots commonly drop stale updates; SetClock pins
// them.
package telegramtest

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"net"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"
)

// Identity of the fake bot, as getMe reports it.
const (
	BotID        int64 = 123456
	BotFirstName       = "PensionBot"
	BotUsername        = "pension_test_bot"
)

// MaxDownloadSize is the largest file getFile serves; bigger files answer
// 400 "Bad Request: file is too big", as the real Bot API does.
const MaxDownloadSize = 20 << 20

// User is a person talking to the bot. Their private chat with the bot has
// the same id as the user.
type User struct {
	ID                                          int64
	FirstName, LastName, Username, LanguageCode string
}

// Call is one Bot API request the bot made. Params holds every parameter as
// a string, whichever body encoding the client used: JSON objects and arrays
// (reply_markup, entities, commands, ...) are re-encoded as canonical JSON
// (keys sorted, no HTML escaping). File parts of multipart bodies are not
// recorded. At is wall-clock time (even under SetClock) so tests can measure
// back-off between calls.
type Call struct {
	Method string
	Params map[string]string
	At     time.Time
}

// Message is a bot message as the fake stores it after sendMessage,
// editMessageText, editMessageReplyMarkup and deleteMessage.
//
// Text is the text exactly as the bot sent it (with its HTML/Markdown markup;
// ParseMode says which). ReplyMarkup is the last reply_markup the bot gave for
// this message as canonical JSON (nil if none); Buttons is its inline
// keyboard, Keyboard the texts of a reply keyboard sent with the message, and
// RemoveKeyboard reports a ReplyKeyboardRemove. Edits change Text, ParseMode,
// ReplyMarkup and Buttons but never Keyboard/RemoveKeyboard, which describe
// what the sending did to the person's keyboard.
type Message struct {
	ID             int
	ChatID         int64
	Text           string
	ReplyMarkup    json.RawMessage
	Buttons        [][]Button
	Keyboard       [][]string
	RemoveKeyboard bool
	Deleted        bool
	Edited         bool
	ParseMode      string
	// Photo holds the bytes of a photo the bot uploaded (sendPhoto); Text
	// is then its caption.
	Photo []byte
	// Protected reports protect_content: the person cannot forward or save
	// the message.
	Protected bool
}

// Button is one inline keyboard button.
type Button struct {
	Text, Data, URL string
}

// Server is the fake Bot API. Create it with New.
type Server struct {
	// URL is the base URL to give the client (bot.WithServerURL(s.URL)).
	URL string
	// Token is the only token the fake accepts; any other gets 401.
	Token string

	t         reporter // the test, or the sandbox's logger (see emulator.go)
	srv       *httptest.Server
	done      chan struct{} // closed by Close to release long polls
	closeOnce sync.Once
	client    *http.Client // for Deliver

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every state change
	clock   func() time.Time

	nextUpdateID int64
	pending      []int64          // unconfirmed update ids, ascending
	updates      map[int64][]byte // wire JSON of every update ever enqueued
	poll         *pollReq         // the getUpdates currently waiting, if any
	webhook      webhookState

	chats map[int64]*chatState
	users map[int64]User

	files          map[string]*storedFile // by file_id
	paths          map[string]*storedFile // by file_path
	nextFile       int
	nextMediaGroup int
	nextCallback   int
	callbacks      map[string]*callbackState

	onSend   func(chat int64) // see OnSend
	conns    atomic.Int64     // connections accepted, see Connections
	calls    []Call
	errs     []errorRecord
	faults   map[string][]apiError // canonical method name -> queued failures
	flood    *flood                // Telegram's flood control, when on
	commands map[string][]models.BotCommand
}

type webhookState struct {
	url            string
	secret         string
	maxConnections int
	allowedUpdates []string
}

type chatState struct {
	chat        models.Chat
	nextMsgID   int
	blocked     bool
	deactivated bool
	bot         []*botMsg
	botByID     map[int]*botMsg
	userMsgs    map[int]*userMsg
	deletedUser []int
}

type botMsg struct {
	Message
	date     int
	editDate int
	inline   *models.InlineKeyboardMarkup // echoed in responses and callback queries
}

type userMsg struct {
	date    int
	deleted bool
}

type storedFile struct {
	id, uniqueID, path string
	data               []byte
}

type callbackState struct {
	answered bool
	text     string
	created  int // unix time of the press
}

type pollReq struct {
	kicked chan struct{} // closed when a newer getUpdates or setWebhook ends this one
	reason string        // conflict description; written before kicked is closed
}

type errorRecord struct {
	at     time.Time
	method string
	err    apiError
}

// New starts a fake Bot API server; t.Cleanup closes it. The token is
// "123456:ABC-test-<hash of t.Name()>", so the bot's user id (the number
// before ':') is BotID and the token is stable between runs. The part
// after the colon has 35 characters, like a real token's, so programs
// that check a token's shape accept it.
func New(t testing.TB) *Server {
	t.Helper()
	h := fnv.New64a()
	_, _ = h.Write([]byte(t.Name()))
	s := newServer(t, fmt.Sprintf("%d:ABC-test-%026x", BotID, h.Sum64()))
	t.Cleanup(s.Close)
	return s
}

// newServer starts a server that reports misuse to t; New and Start share it.
func newServer(t reporter, token string) *Server {
	s := &Server{
		Token:        token,
		t:            t,
		done:         make(chan struct{}),
		client:       &http.Client{},
		changed:      make(chan struct{}),
		clock:        time.Now,
		nextUpdateID: 1,
		updates:      map[int64][]byte{},
		chats:        map[int64]*chatState{},
		users:        map[int64]User{},
		files:        map[string]*storedFile{},
		paths:        map[string]*storedFile{},
		callbacks:    map[string]*callbackState{},
		faults:       map[string][]apiError{},
		commands:     map[string][]models.BotCommand{},
	}
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(s.serveHTTP))
	s.srv.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateNew {
			s.conns.Add(1)
		}
	}
	s.srv.Start()
	s.URL = s.srv.URL
	return s
}

// Close releases waiting long polls and shuts the server down. It is safe to
// call more than once; New registers it with t.Cleanup.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		// httptest.Server.Close waits for in-flight requests, so a long poll
		// with a 59-second timeout must be released first.
		close(s.done)
		s.srv.Close()
		s.client.CloseIdleConnections()
	})
}

// SetClock replaces the clock used for message dates (date, edit_date), for
// tests that need byte-identical updates. The default is time.Now.
func (s *Server) SetClock(now func() time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.clock = now
}

// BotUser is the bot's own user, as getMe returns it.
func (s *Server) BotUser() models.User {
	return models.User{ID: BotID, IsBot: true, FirstName: BotFirstName, Username: BotUsername}
}

// Webhook returns the URL and secret token of the last setWebhook ("" when
// no webhook is set).
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.webhook.url, s.webhook.secret
}

// Calls returns the Bot API requests the bot made for method (compared
// case-insensitively), or all of them for "", in order. Failed calls (bad
// parameters, injected faults, unknown methods) are included; requests with a
// wrong token are not. getUpdates polls are included too, so Calls("") of a
// polling bot is mostly getUpdates.
func (s *Server) Calls(method string) []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Call
	for _, c := range s.calls {
		if method == "" || strings.EqualFold(method, c.Method) {
			out = append(out, copyCall(c))
		}
	}
	return out
}

func copyCall(c Call) Call {
	p := make(map[string]string, len(c.Params))
	for k, v := range c.Params {
		p[k] = v
	}
	c.Params = p
	return c
}

// Messages returns the bot's messages in a chat in the order they were sent,
// deleted ones included (marked Deleted).
func (s *Server) Messages(chatID int64) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.messagesLocked(chatID)
}

func (s *Server) messagesLocked(chatID int64) []Message {
	c := s.chats[chatID]
	if c == nil {
		return nil
	}
	out := make([]Message, 0, len(c.bot))
	for _, m := range c.bot {
		out = append(out, copyMessage(m.Message))
	}
	return out
}

func copyMessage(m Message) Message {
	if m.ReplyMarkup != nil {
		m.ReplyMarkup = append(json.RawMessage(nil), m.ReplyMarkup...)
	}
	if m.Buttons != nil {
		rows := make([][]Button, len(m.Buttons))
		for i, r := range m.Buttons {
			rows[i] = append([]Button(nil), r...)
		}
		m.Buttons = rows
	}
	if m.Keyboard != nil {
		rows := make([][]string, len(m.Keyboard))
		for i, r := range m.Keyboard {
			rows[i] = append([]string(nil), r...)
		}
		m.Keyboard = rows
	}
	return m
}

// WaitMessages waits until the chat has at least n bot messages (deleted ones
// count) and returns them all. On timeout it fails the test with a dump of
// the chat, the API errors the fake answered and the last calls. Like
// t.Fatal, call it from the test goroutine.
func (s *Server) WaitMessages(t testing.TB, chatID int64, n int, timeout time.Duration) []Message {
	t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		msgs := s.messagesLocked(chatID)
		ch := s.changed
		s.mu.Unlock()
		if len(msgs) >= n {
			return msgs
		}
		select {
		case <-ch:
		case <-timer.C:
			s.mu.Lock()
			dump := s.dumpLocked(chatID)
			s.mu.Unlock()
			t.Fatalf("telegramtest: waited %v for %d bot messages in chat %d, have %d\n%s",
				timeout, n, chatID, len(msgs), dump)
			return nil
		}
	}
}

// dumpLocked describes a chat and recent API traffic for failure messages.
func (s *Server) dumpLocked(chatID int64) string {
	var b strings.Builder
	fmt.Fprintf(&b, "bot messages in chat %d:\n", chatID)
	msgs := s.messagesLocked(chatID)
	if len(msgs) == 0 {
		b.WriteString("  (none)\n")
	}
	for _, m := range msgs {
		fmt.Fprintf(&b, "  #%d %q", m.ID, m.Text)
		if m.ParseMode != "" {
			fmt.Fprintf(&b, " parse_mode=%s", m.ParseMode)
		}
		if len(m.Buttons) > 0 {
			fmt.Fprintf(&b, " buttons=%v", m.Buttons)
		}
		if len(m.Keyboard) > 0 {
			fmt.Fprintf(&b, " keyboard=%v", m.Keyboard)
		}
		if m.RemoveKeyboard {
			b.WriteString(" remove_keyboard")
		}
		if m.Edited {
			b.WriteString(" (edited)")
		}
		if m.Deleted {
			b.WriteString(" (deleted)")
		}
		b.WriteString("\n")
	}
	if c := s.chats[chatID]; c == nil {
		b.WriteString("  (no user ever wrote in this chat, so sendMessage answers \"chat not found\")\n")
	} else if c.blocked {
		b.WriteString("  (the user blocked the bot)\n")
	}
	b.WriteString("API errors answered:\n")
	if len(s.errs) == 0 {
		b.WriteString("  (none)\n")
	}
	for _, e := range tail(s.errs, 20) {
		fmt.Fprintf(&b, "  %s %s -> %d %s\n", e.at.Format("15:04:05.000"), e.method, e.err.Code, e.err.Description)
	}
	b.WriteString("last calls (getUpdates omitted):\n")
	var calls []Call
	for _, c := range s.calls {
		if c.Method != "getUpdates" {
			calls = append(calls, c)
		}
	}
	if len(calls) == 0 {
		b.WriteString("  (none)\n")
	}
	for _, c := range tail(calls, 20) {
		fmt.Fprintf(&b, "  %s %s %s\n", c.At.Format("15:04:05.000"), c.Method, formatParams(c.Params))
	}
	return b.String()
}

func tail[T any](xs []T, n int) []T {
	if len(xs) > n {
		return xs[len(xs)-n:]
	}
	return xs
}

func formatParams(p map[string]string) string {
	keys := make([]string, 0, len(p))
	for k := range p {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		v := p[k]
		if len(v) > 200 {
			v = v[:200] + "…"
		}
		parts = append(parts, fmt.Sprintf("%s=%q", k, v))
	}
	return strings.Join(parts, " ")
}

// Answered reports whether the bot answered a callback query and with which
// text ("" for a silent answer).
func (s *Server) Answered(callbackID string) (text string, ok bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cb := s.callbacks[callbackID]
	if cb == nil || !cb.answered {
		return "", false
	}
	return cb.text, true
}

// DeletedUserMessages returns the ids of the person's messages the bot
// deleted in a chat, in deletion order.
func (s *Server) DeletedUserMessages(chatID int64) []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.chats[chatID]; c != nil {
		return append([]int(nil), c.deletedUser...)
	}
	return nil
}

// Commands returns the command list of the last setMyCommands for a
// language_code ("" = default) in the default scope, or nil if none is
// set (MenuCommands says what a chat sees).
func (s *Server) Commands(lang string) []models.BotCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmds, ok := s.commands["default|"+lang]
	if !ok {
		return nil
	}
	return append([]models.BotCommand{}, cmds...)
}

// FailNext makes the next n calls of method (case-insensitive) fail with an
// error code before doing anything: 429 answers "Too Many Requests: retry
// after N" with parameters.retry_after = retryAfter; any other code answers
// its HTTP status text (e.g. 502 "Bad Gateway: injected by telegramtest").
// Repeated calls queue up.
func (s *Server) FailNext(method string, n int, code int, retryAfter int) {
	name := canonicalMethod(method)
	e := apiError{Code: code}
	switch {
	case code == http.StatusTooManyRequests:
		e.Description = fmt.Sprintf("Too Many Requests: retry after %d", retryAfter)
		e.RetryAfter = retryAfter
	default:
		text := http.StatusText(code)
		if text == "" {
			text = fmt.Sprintf("Error %d", code)
		}
		e.Description = text + ": injected by telegramtest"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 0; i < n; i++ {
		s.faults[name] = append(s.faults[name], e)
	}
}

// notifyLocked wakes everyone waiting for a change (long polls,
// WaitMessages). Callers hold s.mu.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

func (s *Server) nowUnix() int {
	return int(s.clock().Unix())
}
