// Package sandbox is a web chat that stands in for Telegram on one machine,
// so that pensionbot can be tried without registering a bot.
//
// It does not shortcut the bot: the bot runs unchanged and talks over HTTP,
// through its usual client library, to internal/telegramtest's Bot API
// emulation (the same one the end-to-end tests use). The sandbox plays the
// people on the other side: what someone does in the web page (types, presses
// an inline button, shares their contact, sends a photo, a document or a
// voice note) becomes an update in the emulator, and what the bot does there
// (messages, photos, edits, deletions, keyboards, callback answers, the
// command menu) is streamed back to the page with server-sent events.
//
// The page (sandbox/web) is plain HTML, CSS and JavaScript embedded in the
// binary and loads nothing from the network. The server accepts requests
// for loopback host names only unless AllowRemote is set, and every POST
// must carry an X-Sandbox header, which a page from another origin cannot
// add without a CORS preflight this server never grants.
package sandbox

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"pensionbot/internal/telegramtest"
)

//go:embed web
var webFS embed.FS

// Person is one simulated Telegram user.
type Person struct {
	ID        int64  `json:"id"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name,omitempty"`
	// Role says who they are in the sandbox ("Pensioner", "Family member",
	// "Staff (STAFF_IDS)"); it is shown, the bot never sees it.
	Role string `json:"role"`
	// Language is the Telegram client's language_code.
	Language string `json:"language"`
	// Phone is what sharing one's contact sends.
	Phone string `json:"phone"`
}

func (p Person) user() telegramtest.User {
	return telegramtest.User{ID: p.ID, FirstName: p.FirstName, LastName: p.LastName, LanguageCode: p.Language}
}

// People is the default cast: a pensioner, a family member who helps, and a
// staff member, whose id must be among the bot's STAFF_IDS.
func People(staffID int64) []Person {
	return []Person{
		{ID: 1001, FirstName: "建国", LastName: "李", Role: "Pensioner", Language: "zh-hans", Phone: "+8613812345678"},
		{ID: 1002, FirstName: "小红", LastName: "李", Role: "Family member", Language: "zh-hans", Phone: "+8613900001111"},
		{ID: staffID, FirstName: "Wei", LastName: "Wang", Role: "Staff (STAFF_IDS)", Language: "en", Phone: "+8613700002222"},
	}
}

// Languages are the Telegram language codes a person can be given in the
// page: the bot's four, and one it does not speak.
var Languages = []string{"zh-hans", "zh-hant", "en", "es", "fr"}

// Options configure a Sandbox.
type Options struct {
	// API is the Bot API emulator the bot is connected to.
	API *telegramtest.Server
	// People are the simulated users (default People(9001)).
	People []Person
	// AllowRemote accepts requests for any host name; by default only
	// localhost and loopback addresses are answered (DNS-rebinding guard).
	AllowRemote bool
	Logger      *slog.Logger
}

// Sandbox is the web chat. Serve it with Handler.
type Sandbox struct {
	api         *telegramtest.Server
	log         *slog.Logger
	allowRemote bool
	mux         *http.ServeMux

	mu      sync.Mutex
	changed chan struct{} // closed and replaced when the sandbox's own state changes
	order   []int64
	people  map[int64]*Person
	sent    map[int64][]*sentMessage // the person's own messages, per chat
	presses map[int64][]string       // callback query ids, per chat
	media   map[string]mediaFile     // the person's attachments, by key
	nextKey int
}

// sentMessage is what a person sent, as their chat shows it; the emulator
// keeps only ids and dates of people's messages.
type sentMessage struct {
	ID       int
	Kind     string // text, photo, document, voice, contact
	Text     string
	Media    string // key in Sandbox.media
	FileName string
	Seconds  int
	Keyboard bool // sent by pressing a reply-keyboard button
}

type mediaFile struct {
	data []byte
	mime string
}

// New builds the sandbox around a running emulator.
func New(opts Options) (*Sandbox, error) {
	if opts.API == nil {
		return nil, errors.New("sandbox: no Bot API emulator")
	}
	if opts.People == nil {
		opts.People = People(9001)
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Sandbox{
		api: opts.API, log: opts.Logger, allowRemote: opts.AllowRemote,
		changed: make(chan struct{}),
		people:  map[int64]*Person{}, sent: map[int64][]*sentMessage{},
		presses: map[int64][]string{}, media: map[string]mediaFile{},
	}
	for _, p := range opts.People {
		if p.ID <= 0 {
			return nil, fmt.Errorf("sandbox: person %q needs a positive id", p.FirstName)
		}
		if _, dup := s.people[p.ID]; dup {
			return nil, fmt.Errorf("sandbox: two people with id %d", p.ID)
		}
		p := p
		s.people[p.ID] = &p
		s.order = append(s.order, p.ID)
	}
	static, err := fs.Sub(webFS, "web")
	if err != nil {
		return nil, fmt.Errorf("sandbox: embedded page: %w", err)
	}
	m := http.NewServeMux()
	m.Handle("GET /", http.FileServerFS(static))
	m.HandleFunc("GET /api/people", s.listPeople)
	m.HandleFunc("PUT /api/people/{id}/language", s.person(s.setLanguage))
	m.HandleFunc("GET /api/events", s.events)
	m.HandleFunc("GET /api/people/{id}/chat", s.person(s.chat))
	m.HandleFunc("POST /api/people/{id}/text", s.person(s.sendText))
	m.HandleFunc("POST /api/people/{id}/press", s.person(s.press))
	m.HandleFunc("POST /api/people/{id}/contact", s.person(s.sendContact))
	m.HandleFunc("POST /api/people/{id}/photo", s.person(s.sendPhoto))
	m.HandleFunc("POST /api/people/{id}/document", s.person(s.sendDocument))
	m.HandleFunc("POST /api/people/{id}/voice", s.person(s.sendVoice))
	m.HandleFunc("GET /api/people/{id}/botphoto/{msg}", s.person(s.botPhoto))
	m.HandleFunc("GET /api/media/{key}", s.mediaFile)
	s.mux = m
	return s, nil
}

// Handler serves the page and its API.
func (s *Sandbox) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Sandbox) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if !s.allowRemote && !loopbackHost(r.Host) {
		http.Error(w, "sandbox: only answers requests for localhost (set SANDBOX_ALLOW_REMOTE=true to serve other names)", http.StatusMisdirectedRequest)
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead && r.Header.Get("X-Sandbox") == "" {
		http.Error(w, "sandbox: missing X-Sandbox header", http.StatusForbidden)
		return
	}
	h := w.Header()
	// Nothing may come from the network: the page is self-contained.
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	s.mux.ServeHTTP(w, r)
}

// loopbackHost reports whether a Host header names this machine.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func (s *Sandbox) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// person resolves {id} to a simulated person for h.
func (s *Sandbox) person(h func(http.ResponseWriter, *http.Request, Person)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
		s.mu.Lock()
		p, ok := s.people[id]
		var cp Person
		if ok {
			cp = *p
		}
		s.mu.Unlock()
		if err != nil || !ok {
			httpError(w, http.StatusNotFound, "no such person in the sandbox")
			return
		}
		h(w, r, cp)
	}
}

func (s *Sandbox) listPeople(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	out := make([]Person, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, *s.people[id])
	}
	s.mu.Unlock()
	writeJSON(w, map[string]any{"people": out, "languages": Languages, "bot": s.api.BotUser()})
}

func (s *Sandbox) setLanguage(w http.ResponseWriter, r *http.Request, p Person) {
	var body struct {
		Language string `json:"language"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 1<<10)).Decode(&body); err != nil {
		httpError(w, http.StatusBadRequest, "body must be JSON {\"language\": \"en\"}")
		return
	}
	lang := strings.TrimSpace(body.Language)
	if len(lang) > 35 || strings.Trim(lang, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-_") != "" {
		httpError(w, http.StatusBadRequest, "not a language code")
		return
	}
	s.mu.Lock()
	s.people[p.ID].Language = lang
	s.notifyLocked()
	s.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

// record keeps what a person sent, under the message id the emulator gave it.
func (s *Sandbox) record(p Person, updateID int64, m sentMessage) int {
	m.ID = s.api.SentMessageID(updateID)
	s.mu.Lock()
	defer s.mu.Unlock()
	if m.ID != 0 {
		s.sent[p.ID] = append(s.sent[p.ID], &m)
	}
	s.notifyLocked()
	return m.ID
}

func (s *Sandbox) storeMedia(data []byte, mime string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextKey++
	key := strconv.Itoa(s.nextKey)
	s.media[key] = mediaFile{data: data, mime: mime}
	return key
}

func (s *Sandbox) sendText(w http.ResponseWriter, r *http.Request, p Person) {
	var body struct {
		Text     string `json:"text"`
		Keyboard bool   `json:"keyboard"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 64<<10)).Decode(&body); err != nil {
		httpError(w, http.StatusBadRequest, "body must be JSON {\"text\": \"…\"}")
		return
	}
	text := strings.TrimSpace(body.Text)
	if text == "" {
		httpError(w, http.StatusBadRequest, "empty message")
		return
	}
	// Telegram clients refuse to send more than 4096 characters at once.
	if n := len([]rune(text)); n > 4096 {
		httpError(w, http.StatusBadRequest, fmt.Sprintf("message too long (%d characters, at most 4096)", n))
		return
	}
	id := s.api.SendText(p.user(), text)
	writeJSON(w, map[string]any{"message_id": s.record(p, id, sentMessage{Kind: "text", Text: text, Keyboard: body.Keyboard})})
}

func (s *Sandbox) press(w http.ResponseWriter, r *http.Request, p Person) {
	var body struct {
		MessageID int    `json:"message_id"`
		Data      string `json:"data"`
	}
	if err := json.NewDecoder(io.LimitReader(r.Body, 4<<10)).Decode(&body); err != nil {
		httpError(w, http.StatusBadRequest, "body must be JSON {\"message_id\": 1, \"data\": \"…\"}")
		return
	}
	// A press on a button that is gone (the page lagged behind an edit) is
	// refused here; the emulator would only log it.
	if !hasButton(s.api.Messages(p.ID), body.MessageID, body.Data) {
		httpError(w, http.StatusConflict, "that button is no longer there")
		return
	}
	updateID, cb := s.api.PressButton(p.user(), body.MessageID, body.Data)
	if updateID == 0 {
		httpError(w, http.StatusConflict, "that button is no longer there")
		return
	}
	s.mu.Lock()
	s.presses[p.ID] = append(s.presses[p.ID], cb)
	s.mu.Unlock()
	writeJSON(w, map[string]any{"callback_query_id": cb})
}

func hasButton(msgs []telegramtest.Message, id int, data string) bool {
	for _, m := range msgs {
		if m.ID != id || m.Deleted {
			continue
		}
		for _, row := range m.Buttons {
			for _, b := range row {
				if b.Data == data && b.URL == "" {
					return true
				}
			}
		}
	}
	return false
}

// sendContact shares the person's own contact, as Telegram's share-contact
// keyboard button does.
func (s *Sandbox) sendContact(w http.ResponseWriter, _ *http.Request, p Person) {
	id := s.api.SendContact(p.user(), p.Phone, p.ID)
	writeJSON(w, map[string]any{"message_id": s.record(p, id, sentMessage{Kind: "contact", Text: p.Phone, Keyboard: true})})
}

// maxUpload bounds uploads: Telegram lets a bot download at most 20 MB, so
// anything larger could not reach the bot anyway.
const maxUpload = telegramtest.MaxDownloadSize

func readUpload(w http.ResponseWriter, r *http.Request) (data []byte, name, mime string, ok bool) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload+1<<20)
	f, hdr, err := r.FormFile("file")
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			httpError(w, http.StatusRequestEntityTooLarge, "file too large: a bot can receive at most 20 MB")
		} else {
			httpError(w, http.StatusBadRequest, "send the file as multipart field \"file\"")
		}
		return nil, "", "", false
	}
	defer f.Close()
	data, err = io.ReadAll(f)
	if err != nil {
		httpError(w, http.StatusBadRequest, "could not read the upload")
		return nil, "", "", false
	}
	if len(data) == 0 {
		httpError(w, http.StatusBadRequest, "empty file")
		return nil, "", "", false
	}
	if len(data) > maxUpload {
		httpError(w, http.StatusRequestEntityTooLarge, "file too large: a bot can receive at most 20 MB")
		return nil, "", "", false
	}
	return data, hdr.Filename, hdr.Header.Get("Content-Type"), true
}

func (s *Sandbox) sendPhoto(w http.ResponseWriter, r *http.Request, p Person) {
	data, _, _, ok := readUpload(w, r)
	if !ok {
		return
	}
	jpg, err := telegramPhoto(data)
	if err != nil {
		httpError(w, http.StatusBadRequest, err.Error())
		return
	}
	caption := strings.TrimSpace(r.FormValue("caption"))
	key := s.storeMedia(jpg, "image/jpeg")
	id := s.api.SendPhoto(p.user(), jpg, caption)
	writeJSON(w, map[string]any{"message_id": s.record(p, id, sentMessage{Kind: "photo", Text: caption, Media: key})})
}

func (s *Sandbox) sendDocument(w http.ResponseWriter, r *http.Request, p Person) {
	data, name, mime, ok := readUpload(w, r)
	if !ok {
		return
	}
	if name == "" {
		name = "file"
	}
	key := s.storeMedia(data, mime)
	id := s.api.SendDocument(p.user(), data, name, mime)
	writeJSON(w, map[string]any{"message_id": s.record(p, id, sentMessage{Kind: "document", Media: key, FileName: name})})
}

func (s *Sandbox) sendVoice(w http.ResponseWriter, r *http.Request, p Person) {
	data, _, mime, ok := readUpload(w, r)
	if !ok {
		return
	}
	secs, _ := strconv.Atoi(r.FormValue("duration"))
	secs = max(1, min(secs, 3600))
	if isWebM(data) {
		if ogg, err := webmToOgg(data); err != nil {
			s.log.Warn("sandbox: voice note sent as recorded (WebM), not as Telegram's Ogg", "err", err)
		} else {
			data, mime = ogg, "audio/ogg"
		}
	}
	if mime == "" {
		mime = "audio/ogg"
	}
	key := s.storeMedia(data, mime)
	id := s.api.SendVoice(p.user(), data, secs)
	writeJSON(w, map[string]any{"message_id": s.record(p, id, sentMessage{Kind: "voice", Media: key, Seconds: secs})})
}

func (s *Sandbox) botPhoto(w http.ResponseWriter, r *http.Request, p Person) {
	id, _ := strconv.Atoi(r.PathValue("msg"))
	for _, m := range s.api.Messages(p.ID) {
		if m.ID == id && len(m.Photo) > 0 && !m.Deleted {
			serveBytes(w, m.Photo, "image/jpeg")
			return
		}
	}
	httpError(w, http.StatusNotFound, "no such photo")
}

func (s *Sandbox) mediaFile(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	f, ok := s.media[r.PathValue("key")]
	s.mu.Unlock()
	if !ok {
		httpError(w, http.StatusNotFound, "no such file")
		return
	}
	serveBytes(w, f.data, f.mime)
}

func serveBytes(w http.ResponseWriter, data []byte, mime string) {
	if mime == "" {
		mime = "application/octet-stream"
	}
	w.Header().Set("Content-Type", mime)
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

func (s *Sandbox) chat(w http.ResponseWriter, _ *http.Request, p Person) {
	writeJSON(w, s.view(p.ID))
}

// events streams chats as server-sent events, one "chat" event per person
// with their whole view, at once and again after every change that alters
// it. A chat is small, and whole views keep the page simple and always
// right. One stream carries every person the page shows (?person=1&person=2;
// all by default) because browsers open at most six connections to a host.
func (s *Sandbox) events(w http.ResponseWriter, r *http.Request) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		httpError(w, http.StatusInternalServerError, "streaming unsupported")
		return
	}
	s.mu.Lock()
	ids := append([]int64(nil), s.order...)
	if want := r.URL.Query()["person"]; len(want) > 0 {
		ids = ids[:0]
		for _, v := range want {
			id, err := strconv.ParseInt(v, 10, 64)
			if _, known := s.people[id]; err != nil || !known {
				s.mu.Unlock()
				httpError(w, http.StatusNotFound, "no such person in the sandbox: "+v)
				return
			}
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	last := map[int64][]byte{}
	keepAlive := time.NewTicker(20 * time.Second)
	defer keepAlive.Stop()
	for {
		// Take both change channels before reading, so that nothing
		// changing in between is missed.
		apiChanged := s.api.Changed()
		s.mu.Lock()
		own := s.changed
		s.mu.Unlock()
		wrote := false
		for _, id := range ids {
			body, err := json.Marshal(s.view(id))
			if err != nil {
				s.log.Error("sandbox: encode chat", "err", err)
				return
			}
			if bytes.Equal(body, last[id]) {
				continue
			}
			if _, err := fmt.Fprintf(w, "event: chat\ndata: %s\n\n", body); err != nil {
				return
			}
			last[id], wrote = body, true
		}
		if wrote {
			flusher.Flush()
		}
		select {
		case <-r.Context().Done():
			return
		case <-apiChanged:
		case <-own:
		case <-keepAlive.C:
			if _, err := io.WriteString(w, ": keep-alive\n\n"); err != nil {
				return
			}
			flusher.Flush()
		}
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	if err := json.NewEncoder(w).Encode(v); err != nil {
		// Headers are out already; nothing more to tell the page.
		return
	}
}

func httpError(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}
