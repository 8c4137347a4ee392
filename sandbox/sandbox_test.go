package sandbox

import (
	"bufio"
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot/models"

	"pensionbot/internal/telegramtest"
)

// fixture is a sandbox on a Bot API emulator; the test plays the bot with
// plain Bot API calls, the way the real bot talks to the emulator.
type fixture struct {
	t   *testing.T
	api *telegramtest.Server
	web *httptest.Server
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	// Started as the sandbox starts it (misuse logged, not fatal).
	api := telegramtest.Start(telegramtest.Options{})
	t.Cleanup(api.Close)
	sb, err := New(Options{API: api})
	if err != nil {
		t.Fatal(err)
	}
	web := httptest.NewServer(sb.Handler())
	t.Cleanup(web.Close)
	return &fixture{t: t, api: api, web: web}
}

// bot calls a Bot API method as the bot and returns its result.
func (f *fixture) bot(method string, params map[string]any) json.RawMessage {
	f.t.Helper()
	body, _ := json.Marshal(params)
	resp, err := http.Post(f.api.URL+"/bot"+f.api.Token+"/"+method, "application/json", bytes.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		OK          bool            `json:"ok"`
		Result      json.RawMessage `json:"result"`
		Description string          `json:"description"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || !out.OK {
		f.t.Fatalf("%s: %v %s", method, err, out.Description)
	}
	return out.Result
}

// updates takes the pending updates as the bot's long poll would.
func (f *fixture) updates() []models.Update {
	f.t.Helper()
	var us []models.Update
	if err := json.Unmarshal(f.bot("getUpdates", map[string]any{"timeout": 0}), &us); err != nil {
		f.t.Fatal(err)
	}
	if len(us) > 0 {
		f.bot("getUpdates", map[string]any{"offset": us[len(us)-1].ID + 1, "timeout": 0})
	}
	return us
}

// do sends a request to the sandbox as the page does.
func (f *fixture) do(method, path, contentType string, body io.Reader) *http.Response {
	f.t.Helper()
	req, err := http.NewRequest(method, f.web.URL+path, body)
	if err != nil {
		f.t.Fatal(err)
	}
	req.Header.Set("X-Sandbox", "1")
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	f.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func (f *fixture) post(path string, v any) *http.Response {
	f.t.Helper()
	body, _ := json.Marshal(v)
	resp := f.do(http.MethodPost, path, "application/json", bytes.NewReader(body))
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(resp.Body)
		f.t.Fatalf("POST %s: %d %s", path, resp.StatusCode, msg)
	}
	return resp
}

func (f *fixture) upload(path, name, mime string, data []byte, fields map[string]string) *http.Response {
	f.t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	h := make(map[string][]string)
	h["Content-Disposition"] = []string{`form-data; name="file"; filename="` + name + `"`}
	h["Content-Type"] = []string{mime}
	part, _ := mw.CreatePart(h)
	part.Write(data)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	mw.Close()
	return f.do(http.MethodPost, path, mw.FormDataContentType(), &buf)
}

func (f *fixture) view(person string) chatView {
	f.t.Helper()
	resp := f.do(http.MethodGet, "/api/people/"+person+"/chat", "", nil)
	var v chatView
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		f.t.Fatal(err)
	}
	return v
}

func (f *fixture) download(fileID string) []byte {
	f.t.Helper()
	var file models.File
	json.Unmarshal(f.bot("getFile", map[string]any{"file_id": fileID}), &file)
	resp, err := http.Get(f.api.URL + "/file/bot" + f.api.Token + "/" + file.FilePath)
	if err != nil {
		f.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return data
}

func TestGuards(t *testing.T) {
	f := newFixture(t)
	req, _ := http.NewRequest(http.MethodGet, f.web.URL+"/", nil)
	req.Host = "sandbox.example.com" // DNS rebinding: a foreign name for 127.0.0.1
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMisdirectedRequest {
		t.Errorf("foreign Host: status %d, want 421", resp.StatusCode)
	}
	// A form posted from another site carries no X-Sandbox header.
	resp, err = http.Post(f.web.URL+"/api/people/1001/text", "text/plain", strings.NewReader(`{"text":"/forget"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST without X-Sandbox: status %d, want 403", resp.StatusCode)
	}
	if len(f.api.Calls("")) != 0 || len(f.updates()) != 0 {
		t.Error("a refused request reached the bot")
	}

	resp = f.do(http.MethodGet, "/", "", nil)
	page, _ := io.ReadAll(resp.Body)
	if !strings.Contains(string(page), "SANDBOX") {
		t.Error("page does not say SANDBOX")
	}
	csp := resp.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("CSP %q lets the page load from the network", csp)
	}
	for _, asset := range []string{"/app.js", "/style.css"} {
		if r := f.do(http.MethodGet, asset, "", nil); r.StatusCode != http.StatusOK {
			t.Errorf("%s: %d", asset, r.StatusCode)
		}
	}
}

func TestConversation(t *testing.T) {
	f := newFixture(t)
	f.post("/api/people/1001/text", map[string]any{"text": "/start"})
	us := f.updates()
	if len(us) != 1 || us[0].Message.Text != "/start" || us[0].Message.From.LanguageCode != "zh-hans" ||
		len(us[0].Message.Entities) != 1 || us[0].Message.Entities[0].Type != models.MessageEntityTypeBotCommand {
		t.Fatalf("updates: %+v", us)
	}

	// The bot answers with inline buttons, then asks for the phone number
	// with a one-time share-contact keyboard.
	var menu models.Message
	json.Unmarshal(f.bot("sendMessage", map[string]any{
		"chat_id": 1001, "text": "选择",
		"reply_markup": map[string]any{"inline_keyboard": [][]map[string]any{{{"text": "认证", "callback_data": "1:certify"}}}},
	}), &menu)
	f.bot("sendMessage", map[string]any{
		"chat_id": 1001, "text": "手机号？",
		"reply_markup": map[string]any{"keyboard": [][]map[string]any{{{"text": "分享手机号", "request_contact": true}}}, "one_time_keyboard": true},
	})
	v := f.view("1001")
	if len(v.Messages) != 3 || v.Messages[0].From != "me" || v.Messages[1].Buttons[0][0].Data != "1:certify" {
		t.Fatalf("messages: %+v", v.Messages)
	}
	if v.Keyboard == nil || !v.Keyboard.Rows[0][0].RequestContact || !v.Keyboard.OneTime || v.Keyboard.Used {
		t.Fatalf("keyboard: %+v", v.Keyboard)
	}

	// A press reaches the bot as a callback query; the bot's answer shows
	// as a toast.
	resp := f.post("/api/people/1001/press", map[string]any{"message_id": menu.ID, "data": "1:certify"})
	var pressed struct {
		ID string `json:"callback_query_id"`
	}
	json.NewDecoder(resp.Body).Decode(&pressed)
	us = f.updates()
	if len(us) != 1 || us[0].CallbackQuery == nil || us[0].CallbackQuery.Data != "1:certify" {
		t.Fatalf("press: %+v", us)
	}
	f.bot("answerCallbackQuery", map[string]any{"callback_query_id": us[0].CallbackQuery.ID, "text": "好的"})
	if v := f.view("1001"); len(v.Toasts) != 1 || v.Toasts[0].Text != "好的" || v.Toasts[0].ID != pressed.ID {
		t.Fatalf("toasts: %+v", v.Toasts)
	}
	// A press on a button that is gone is refused, not sent.
	f.bot("editMessageText", map[string]any{"chat_id": 1001, "message_id": menu.ID, "text": "选择了认证"})
	b, _ := json.Marshal(map[string]any{"message_id": menu.ID, "data": "1:certify"})
	if r := f.do(http.MethodPost, "/api/people/1001/press", "application/json", bytes.NewReader(b)); r.StatusCode != http.StatusConflict {
		t.Errorf("press on a removed button: %d", r.StatusCode)
	}

	// Sharing the contact sends the person's own card and uses up the
	// one-time keyboard.
	f.post("/api/people/1001/contact", nil)
	us = f.updates()
	if len(us) != 1 || us[0].Message.Contact == nil || us[0].Message.Contact.UserID != 1001 || us[0].Message.Contact.PhoneNumber != "+8613812345678" {
		t.Fatalf("contact: %+v", us)
	}
	v = f.view("1001")
	if v.Keyboard == nil || !v.Keyboard.Used {
		t.Errorf("one-time keyboard not used up: %+v", v.Keyboard)
	}
	if m := v.Messages[1]; !m.Edited || m.Text != "选择了认证" || len(m.Buttons) != 0 {
		t.Errorf("edit not shown: %+v", m)
	}

	// The bot deletes its own message and the person's contact.
	f.bot("deleteMessage", map[string]any{"chat_id": 1001, "message_id": menu.ID})
	f.bot("deleteMessage", map[string]any{"chat_id": 1001, "message_id": us[0].Message.ID})
	f.bot("sendMessage", map[string]any{"chat_id": 1001, "text": "好", "reply_markup": map[string]any{"remove_keyboard": true}})
	v = f.view("1001")
	deleted := 0
	for _, m := range v.Messages {
		if m.Deleted {
			deleted++
		}
	}
	if deleted != 2 || v.Keyboard != nil {
		t.Errorf("deleted %d (want 2), keyboard %+v (want none)", deleted, v.Keyboard)
	}
}

func TestMenuAndLanguage(t *testing.T) {
	f := newFixture(t)
	cmds := func(desc string) []map[string]string {
		return []map[string]string{{"command": "start", "description": desc}}
	}
	f.bot("setMyCommands", map[string]any{"commands": cmds("开始")})
	f.bot("setMyCommands", map[string]any{"commands": cmds("Start"), "language_code": "en"})
	if v := f.view("1001"); len(v.Commands) != 1 || v.Commands[0].Description != "开始" {
		t.Errorf("zh-hans menu: %+v", v.Commands)
	}
	if v := f.view("9001"); len(v.Commands) != 1 || v.Commands[0].Description != "Start" {
		t.Errorf("en menu: %+v", v.Commands)
	}
	b, _ := json.Marshal(map[string]string{"language": "fr"})
	if r := f.do(http.MethodPut, "/api/people/1001/language", "application/json", bytes.NewReader(b)); r.StatusCode != http.StatusNoContent {
		t.Fatalf("set language: %d", r.StatusCode)
	}
	if v := f.view("1001"); v.Commands[0].Description != "开始" {
		t.Errorf("a language without its own menu gets the default: %+v", v.Commands)
	}
	f.post("/api/people/1001/text", map[string]any{"text": "bonjour"})
	if us := f.updates(); us[0].Message.From.LanguageCode != "fr" {
		t.Errorf("language_code %q, want fr", us[0].Message.From.LanguageCode)
	}
}

func TestAttachments(t *testing.T) {
	f := newFixture(t)
	// A big PNG arrives as Telegram delivers photos: a JPEG, 1280 wide.
	img := image.NewRGBA(image.Rect(0, 0, 2000, 1000))
	for x := 0; x < 2000; x++ {
		img.Set(x, x/2, color.White)
	}
	var pngData bytes.Buffer
	png.Encode(&pngData, img)
	if r := f.upload("/api/people/1001/photo", "card.png", "image/png", pngData.Bytes(), map[string]string{"caption": "我的卡"}); r.StatusCode != http.StatusOK {
		t.Fatalf("photo: %d", r.StatusCode)
	}
	us := f.updates()
	m := us[0].Message
	if len(m.Photo) == 0 || m.Caption != "我的卡" {
		t.Fatalf("photo update: %+v", m)
	}
	got := f.download(m.Photo[len(m.Photo)-1].FileID)
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(got))
	if err != nil || cfg.Width != 1280 || cfg.Height != 640 {
		t.Errorf("photo as the bot gets it: %v %dx%d, want a 1280x640 JPEG", err, cfg.Width, cfg.Height)
	}
	// A PDF sent as a photo is refused, as a Telegram client would.
	if r := f.upload("/api/people/1001/photo", "a.pdf", "application/pdf", []byte("%PDF-1.4"), nil); r.StatusCode != http.StatusBadRequest {
		t.Errorf("PDF as photo: %d", r.StatusCode)
	}
	// As a document it goes through untouched.
	pdf := []byte("%PDF-1.4 sandbox")
	f.upload("/api/people/1001/document", "a.pdf", "application/pdf", pdf, nil)
	us = f.updates()
	if d := us[0].Message.Document; d == nil || d.FileName != "a.pdf" || d.MimeType != "application/pdf" || !bytes.Equal(f.download(d.FileID), pdf) {
		t.Errorf("document: %+v", us[0].Message)
	}
	f.upload("/api/people/1001/voice", "voice.ogg", "audio/ogg", []byte("OggS voice"), map[string]string{"duration": "3"})
	us = f.updates()
	if vo := us[0].Message.Voice; vo == nil || vo.Duration != 3 {
		t.Errorf("voice: %+v", us[0].Message)
	}
	v := f.view("1001")
	kinds := []string{}
	for _, m := range v.Messages {
		kinds = append(kinds, m.Kind)
		if r := f.do(http.MethodGet, m.Media, "", nil); r.StatusCode != http.StatusOK {
			t.Errorf("%s media %s: %d", m.Kind, m.Media, r.StatusCode)
		}
	}
	if strings.Join(kinds, ",") != "photo,document,voice" {
		t.Errorf("kinds: %v", kinds)
	}
}

// The page follows chats through one event stream: a whole view per person
// at once, and again when something changes.
func TestEvents(t *testing.T) {
	f := newFixture(t)
	resp := f.do(http.MethodGet, "/api/events?person=1001&person=9001", "", nil)
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	events := make(chan chatView, 10)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var v chatView
				json.Unmarshal([]byte(data), &v)
				events <- v
			}
		}
		close(events)
	}()
	next := func() chatView {
		t.Helper()
		select {
		case v := <-events:
			return v
		case <-time.After(5 * time.Second):
			t.Fatal("no event")
			return chatView{}
		}
	}
	first, second := next(), next()
	if first.Person.ID != 1001 || second.Person.ID != 9001 {
		t.Fatalf("first views for %d and %d", first.Person.ID, second.Person.ID)
	}
	f.post("/api/people/1001/text", map[string]any{"text": "你好"})
	f.bot("sendMessage", map[string]any{"chat_id": 1001, "text": "您好！"})
	for {
		v := next()
		if v.Person.ID != 1001 {
			t.Fatalf("event for %d, whose chat did not change", v.Person.ID)
		}
		if n := len(v.Messages); n == 2 && v.Messages[1].Text == "您好！" {
			break
		}
	}
}

func TestLoopbackHost(t *testing.T) {
	for host, want := range map[string]bool{
		"127.0.0.1:8080": true, "localhost:8080": true, "[::1]:8080": true, "localhost": true,
		"app.localhost:1": true, "192.168.1.5:8080": false, "example.com": false, "127.0.0.1.nip.io:80": false,
	} {
		if got := loopbackHost(host); got != want {
			t.Errorf("loopbackHost(%q) = %v", host, got)
		}
	}
}
