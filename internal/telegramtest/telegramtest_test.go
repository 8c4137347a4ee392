package telegramtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"pensionbot/internal/telegramtest"
)

var (
	alice = telegramtest.User{ID: 1001, FirstName: "Alice", Username: "alice", LanguageCode: "en"}
	bob   = telegramtest.User{ID: 1002, FirstName: "Bob", LanguageCode: "zh-hans"}
)

// newBot connects the real go-telegram client to the fake. bot.New calls
// getMe, so this also checks that the fake answers it.
func newBot(t *testing.T, s *telegramtest.Server, opts ...bot.Option) *bot.Bot {
	t.Helper()
	opts = append([]bot.Option{
		bot.WithServerURL(s.URL),
		// The default handler logs with the log package; errors the tests
		// provoke on purpose are checked where they happen.
		bot.WithErrorsHandler(func(error) {}),
	}, opts...)
	b, err := bot.New(s.Token, opts...)
	if err != nil {
		t.Fatalf("bot.New: %v", err)
	}
	return b
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// post sends a raw request, the way a hand-written client would.
func post(t *testing.T, u, contentType, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(u, contentType, strings.NewReader(body))
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatalf("POST %s: decode: %v", u, err)
	}
	return resp.StatusCode, out
}

func TestGetMeAtNew(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s)
	if got := len(s.Calls("getMe")); got != 1 {
		t.Fatalf("getMe calls = %d, want 1", got)
	}
	me, err := b.GetMe(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	want := models.User{ID: telegramtest.BotID, IsBot: true, FirstName: "PensionBot", Username: "pension_test_bot"}
	if *me != want {
		t.Fatalf("getMe = %+v, want %+v", *me, want)
	}
	if b.ID() != telegramtest.BotID || !strings.HasPrefix(s.Token, "123456:ABC-test") {
		t.Fatalf("bot id %d, token %q", b.ID(), s.Token)
	}
}

func TestWrongToken(t *testing.T) {
	s := telegramtest.New(t)
	_, err := bot.New("999:wrong", bot.WithServerURL(s.URL))
	if !errors.Is(err, bot.ErrorUnauthorized) {
		t.Fatalf("bot.New with a wrong token: %v, want ErrorUnauthorized", err)
	}
	status, body := post(t, s.URL+"/bot999:wrong/getMe", "application/json", "{}")
	want := map[string]any{"ok": false, "error_code": 401.0, "description": "Unauthorized"}
	if status != 401 || !reflect.DeepEqual(body, want) {
		t.Fatalf("got %d %v", status, body)
	}
	if len(s.Calls("")) != 0 {
		t.Fatalf("requests with a wrong token must not be recorded: %v", s.Calls(""))
	}
}

func TestUnknownMethod(t *testing.T) {
	s := telegramtest.New(t)
	status, body := post(t, s.URL+"/bot"+s.Token+"/sendPigeon", "application/json", `{"chat_id":1}`)
	want := map[string]any{"ok": false, "error_code": 404.0, "description": "Not Found: method not found"}
	if status != 404 || !reflect.DeepEqual(body, want) {
		t.Fatalf("got %d %v", status, body)
	}
	calls := s.Calls("sendPigeon")
	if len(calls) != 1 || calls[0].Params["chat_id"] != "1" {
		t.Fatalf("calls = %+v", calls)
	}
}

func TestSendMessageInlineKeyboard(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s)
	s.SendText(alice, "hi") // the chat exists once alice wrote; her message is id 1
	msg, err := b.SendMessage(ctxT(t), &bot.SendMessageParams{
		ChatID: alice.ID,
		Text:   "Pick one",
		ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{
			{{Text: "Yes", CallbackData: "yes"}, {Text: "No", CallbackData: "no"}},
			{{Text: "Site", URL: "https://example.com"}},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if msg.ID != 2 || msg.Chat.ID != alice.ID || msg.Text != "Pick one" || msg.From == nil || !msg.From.IsBot || msg.Date == 0 {
		t.Fatalf("returned message = %+v", msg)
	}
	if msg.ReplyMarkup == nil || msg.ReplyMarkup.InlineKeyboard[0][1].CallbackData != "no" {
		t.Fatalf("reply_markup not echoed: %+v", msg.ReplyMarkup)
	}
	msgs := s.Messages(alice.ID)
	if len(msgs) != 1 {
		t.Fatalf("messages = %+v", msgs)
	}
	wantButtons := [][]telegramtest.Button{
		{{Text: "Yes", Data: "yes"}, {Text: "No", Data: "no"}},
		{{Text: "Site", URL: "https://example.com"}},
	}
	if m := msgs[0]; m.ID != 2 || m.ChatID != alice.ID || m.Text != "Pick one" || !reflect.DeepEqual(m.Buttons, wantButtons) {
		t.Fatalf("stored message = %+v", m)
	}
	calls := s.Calls("sendmessage") // case-insensitive
	if len(calls) != 1 || calls[0].Params["chat_id"] != "1001" || !strings.Contains(calls[0].Params["reply_markup"], `"callback_data":"yes"`) {
		t.Fatalf("calls = %+v", calls)
	}
}

func TestReplyKeyboard(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s)
	s.SendText(alice, "hi")
	ctx := ctxT(t)
	msg, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "Your phone?",
		ReplyMarkup: &models.ReplyKeyboardMarkup{Keyboard: [][]models.KeyboardButton{{{Text: "Share", RequestContact: true}}}}})
	if err != nil {
		t.Fatal(err)
	}
	if msg.ReplyMarkup != nil {
		t.Fatalf("a reply keyboard is not part of the message: %+v", msg.ReplyMarkup)
	}
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "Thanks",
		ReplyMarkup: &models.ReplyKeyboardRemove{RemoveKeyboard: true}}); err != nil {
		t.Fatal(err)
	}
	msgs := s.Messages(alice.ID)
	if !reflect.DeepEqual(msgs[0].Keyboard, [][]string{{"Share"}}) || !msgs[1].RemoveKeyboard {
		t.Fatalf("messages = %+v", msgs)
	}
}

func TestSendMessageValidation(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s)
	s.SendText(alice, "hi")
	ctx := ctxT(t)
	send := func(p *bot.SendMessageParams) error {
		_, err := b.SendMessage(ctx, p)
		return err
	}
	cases := []struct {
		name string
		p    *bot.SendMessageParams
		want string
	}{
		{"unknown chat", &bot.SendMessageParams{ChatID: 4242, Text: "x"}, "Bad Request: chat not found"},
		{"empty text", &bot.SendMessageParams{ChatID: alice.ID, Text: "  "}, "Bad Request: message text is empty"},
		{"too long", &bot.SendMessageParams{ChatID: alice.ID, Text: strings.Repeat("a", 4097)}, "Bad Request: message is too long"},
		// 2049 runes but 4098 UTF-16 units.
		{"too long in UTF-16", &bot.SendMessageParams{ChatID: alice.ID, Text: strings.Repeat("😀", 2049)}, "Bad Request: message is too long"},
		{"callback_data > 64 bytes", &bot.SendMessageParams{ChatID: alice.ID, Text: "x",
			ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "b", CallbackData: strings.Repeat("d", 65)}}}}},
			"Bad Request: BUTTON_DATA_INVALID"},
		{"inline button without action", &bot.SendMessageParams{ChatID: alice.ID, Text: "x",
			ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "b"}}}}},
			"Text buttons are unallowed"},
	}
	for _, c := range cases {
		err := send(c.p)
		if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want bad request %q", c.name, err, c.want)
		}
	}
	ok := []*bot.SendMessageParams{
		{ChatID: alice.ID, Text: strings.Repeat("a", 4096)},
		{ChatID: alice.ID, Text: strings.Repeat("😀", 2048)},
		// The limit applies to the text after HTML parsing.
		{ChatID: alice.ID, Text: "<b>" + strings.Repeat("a", 4096) + "</b>", ParseMode: models.ParseModeHTML},
		{ChatID: alice.ID, Text: "x", ReplyMarkup: &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "b", CallbackData: strings.Repeat("d", 64)}}}}},
	}
	for i, p := range ok {
		if err := send(p); err != nil {
			t.Errorf("ok[%d]: %v", i, err)
		}
	}
	if n := len(s.Messages(alice.ID)); n != len(ok) {
		t.Errorf("stored %d messages, want %d (failed sends store nothing)", n, len(ok))
	}
}

func TestFailNext(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s)
	s.SendText(alice, "hi")
	ctx := ctxT(t)
	p := &bot.SendMessageParams{ChatID: alice.ID, Text: "hello"}

	s.FailNext("sendMessage", 1, 429, 2)
	_, err := b.SendMessage(ctx, p)
	var tooMany *bot.TooManyRequestsError
	if !errors.As(err, &tooMany) || tooMany.RetryAfter != 2 {
		t.Fatalf("err = %v, want TooManyRequestsError with RetryAfter 2", err)
	}
	s.FailNext("SENDMESSAGE", 1, 502, 0)
	if _, err := b.SendMessage(ctx, p); err == nil || !strings.Contains(err.Error(), "502") {
		t.Fatalf("err = %v, want a 502", err)
	}
	if _, err := b.SendMessage(ctx, p); err != nil {
		t.Fatalf("third call: %v", err)
	}
	if n := len(s.Messages(alice.ID)); n != 1 {
		t.Fatalf("messages = %d, want 1: failed calls have no effect", n)
	}
	if n := len(s.Calls("sendMessage")); n != 3 {
		t.Fatalf("calls = %d, want 3: failed calls are recorded", n)
	}
}

func TestBlockBot(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s)
	ctx := ctxT(t)
	s.SendText(alice, "hi")
	id := s.BlockBot(alice)
	u := s.Update(id)
	if u.MyChatMember == nil || u.MyChatMember.NewChatMember.Type != models.ChatMemberTypeBanned ||
		u.MyChatMember.OldChatMember.Type != models.ChatMemberTypeMember || u.MyChatMember.Chat.ID != alice.ID {
		t.Fatalf("update = %+v", u)
	}
	_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "still there?"})
	if !errors.Is(err, bot.ErrorForbidden) || !strings.Contains(err.Error(), "bot was blocked by the user") {
		t.Fatalf("err = %v, want ErrorForbidden", err)
	}
	s.UnblockBot(alice)
	if _, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "welcome back"}); err != nil {
		t.Fatal(err)
	}
}

func TestLongPolling(t *testing.T) {
	s := telegramtest.New(t)
	got := make(chan *models.Update, 10)
	b := newBot(t, s, bot.WithDefaultHandler(func(ctx context.Context, b *bot.Bot, u *models.Update) {
		got <- u
		if u.Message != nil {
			_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.Message.Chat.ID, Text: "echo: " + u.Message.Text})
		}
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		b.Start(ctx)
		close(done)
	}()
	defer func() {
		cancel()
		<-done
	}()

	id := s.SendText(alice, "/start")
	select {
	case u := <-got:
		if u.ID != id || u.Message.Text != "/start" || len(u.Message.Entities) != 1 ||
			u.Message.Entities[0].Type != models.MessageEntityTypeBotCommand {
			t.Fatalf("update = %+v", u)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the handler never got /start")
	}
	msgs := s.WaitMessages(t, alice.ID, 1, 5*time.Second)
	if msgs[0].Text != "echo: /start" {
		t.Fatalf("reply = %+v", msgs[0])
	}
	s.SendText(bob, "second")
	if msgs := s.WaitMessages(t, bob.ID, 1, 5*time.Second); msgs[0].Text != "echo: second" {
		t.Fatalf("reply = %+v", msgs[0])
	}
	// The client confirms what it got via offset.
	waitFor(t, func() bool {
		calls := s.Calls("getUpdates")
		return calls[len(calls)-1].Params["offset"] == fmt.Sprint(id+2)
	})
}

func TestGetUpdatesOffsetAndJSON(t *testing.T) {
	s := telegramtest.New(t)
	u1 := s.SendText(alice, "one")
	u2 := s.SendText(alice, "two")
	getUpdates := func(body string) []models.Update {
		t.Helper()
		resp, err := http.Post(s.URL+"/bot"+s.Token+"/getUpdates", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var r struct {
			OK     bool            `json:"ok"`
			Result []models.Update `json:"result"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&r); err != nil || !r.OK {
			t.Fatalf("getUpdates %s: %v %+v", body, err, r)
		}
		return r.Result
	}
	if us := getUpdates(`{}`); len(us) != 2 || us[0].ID != u1 || us[1].ID != u2 {
		t.Fatalf("all: %+v", us)
	}
	if us := getUpdates(`{"limit":1}`); len(us) != 1 || us[0].ID != u1 {
		t.Fatalf("limit 1: %+v", us)
	}
	if us := getUpdates(fmt.Sprintf(`{"offset":%d}`, u2)); len(us) != 1 || us[0].Message.Text != "two" {
		t.Fatalf("offset u2: %+v", us)
	}
	// u1 is now confirmed and gone for good.
	if us := getUpdates(`{"offset":0}`); len(us) != 1 || us[0].ID != u2 {
		t.Fatalf("after confirming u1: %+v", us)
	}
	start := time.Now()
	if us := getUpdates(fmt.Sprintf(`{"offset":%d,"timeout":1}`, u2+1)); len(us) != 0 {
		t.Fatalf("after confirming all: %+v", us)
	}
	if d := time.Since(start); d < 900*time.Millisecond {
		t.Fatalf("long poll returned after %v, want ~1s", d)
	}
	// A long poll returns as soon as an update arrives.
	go func() {
		time.Sleep(50 * time.Millisecond)
		s.SendText(bob, "three")
	}()
	if us := getUpdates(fmt.Sprintf(`{"offset":%d,"timeout":30}`, u2+1)); len(us) != 1 || us[0].Message.Text != "three" {
		t.Fatalf("long poll: %+v", us)
	}
}

func TestConcurrentGetUpdatesConflict(t *testing.T) {
	s := telegramtest.New(t)
	type answer struct {
		status int
		body   map[string]any
	}
	poll := func(out chan<- answer) {
		resp, err := http.Post(s.URL+"/bot"+s.Token+"/getUpdates", "application/x-www-form-urlencoded", strings.NewReader("timeout=30"))
		if err != nil {
			out <- answer{status: -1}
			return
		}
		defer resp.Body.Close()
		var body map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&body)
		out <- answer{resp.StatusCode, body}
	}
	first, second := make(chan answer, 1), make(chan answer, 1)
	go poll(first)
	waitFor(t, func() bool { return len(s.Calls("getUpdates")) == 1 })
	go poll(second)
	waitFor(t, func() bool { return len(s.Calls("getUpdates")) == 2 })

	// One of the two (normally the first: the newer request wins, as in
	// Telegram) is terminated with 409; the other keeps waiting.
	var loser answer
	var winner chan answer
	select {
	case loser = <-first:
		winner = second
	case loser = <-second:
		winner = first
	case <-time.After(5 * time.Second):
		t.Fatal("no getUpdates was terminated")
	}
	if loser.status != 409 || !strings.HasPrefix(fmt.Sprint(loser.body["description"]), "Conflict: terminated by other getUpdates request") {
		t.Fatalf("terminated poll: %+v", loser)
	}
	s.SendText(alice, "hello")
	select {
	case a := <-winner:
		if a.status != 200 || len(a.body["result"].([]any)) != 1 {
			t.Fatalf("surviving poll: %+v", a)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the surviving poll did not get the update")
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestCommandEntitiesUTF16(t *testing.T) {
	s := telegramtest.New(t)
	cases := []struct {
		text string
		want []models.MessageEntity
	}{
		{"你好 /help", []models.MessageEntity{{Type: "bot_command", Offset: 3, Length: 5}}},
		{"/start", []models.MessageEntity{{Type: "bot_command", Offset: 0, Length: 6}}},
		// 😀 is two UTF-16 units; "/x" does not follow whitespace.
		{"😀/x /y@pension_test_bot z", []models.MessageEntity{{Type: "bot_command", Offset: 5, Length: 19}}},
		{"a/b and / alone and /привет", nil},
		{"/a\n/b_2", []models.MessageEntity{{Type: "bot_command", Offset: 0, Length: 2}, {Type: "bot_command", Offset: 3, Length: 4}}},
	}
	for _, c := range cases {
		u := s.Update(s.SendText(bob, c.text))
		if !reflect.DeepEqual(u.Message.Entities, c.want) {
			t.Errorf("%q: entities = %+v, want %+v", c.text, u.Message.Entities, c.want)
		}
	}
}

func pngBytes(t *testing.T, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, image.NewRGBA(image.Rect(0, 0, w, h))); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func download(t *testing.T, link string) (int, []byte) {
	t.Helper()
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, data
}

func TestPhotoGetFileDownload(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s)
	ctx := ctxT(t)
	img := pngBytes(t, 640, 480)
	u := s.Update(s.SendPhoto(alice, img, "my card /scan"))
	photo := u.Message.Photo
	if len(photo) != 3 {
		t.Fatalf("photo = %+v", photo)
	}
	if l := photo[2]; l.Width != 640 || l.Height != 480 || l.FileSize != len(img) {
		t.Fatalf("largest = %+v", l)
	}
	if p := photo[0]; p.Width != 90 || p.Height != 68 {
		t.Fatalf("smallest = %+v", p)
	}
	if photo[0].FileID == photo[1].FileID || photo[1].FileID == photo[2].FileID || len(photo[2].FileID) < 64 {
		t.Fatalf("file ids = %q %q %q", photo[0].FileID, photo[1].FileID, photo[2].FileID)
	}
	if u.Message.Caption != "my card /scan" || len(u.Message.CaptionEntities) != 1 || u.Message.CaptionEntities[0].Offset != 8 {
		t.Fatalf("caption = %q %+v", u.Message.Caption, u.Message.CaptionEntities)
	}
	for _, ps := range []models.PhotoSize{photo[2], photo[0]} {
		f, err := b.GetFile(ctx, &bot.GetFileParams{FileID: ps.FileID})
		if err != nil {
			t.Fatal(err)
		}
		if f.FileID != ps.FileID || f.FileUniqueID != ps.FileUniqueID || f.FileSize != int64(len(img)) ||
			!strings.HasPrefix(f.FilePath, "photos/file_") || !strings.HasSuffix(f.FilePath, ".jpg") {
			t.Fatalf("file = %+v", f)
		}
		status, data := download(t, b.FileDownloadLink(f))
		if status != 200 || !bytes.Equal(data, img) {
			t.Fatalf("download: %d, %d bytes", status, len(data))
		}
	}
	if _, err := b.GetFile(ctx, &bot.GetFileParams{FileID: "nope"}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("unknown file_id: %v", err)
	}
	if status, _ := download(t, s.URL+"/file/bot"+s.Token+"/photos/missing.jpg"); status != 404 {
		t.Fatalf("missing file: %d", status)
	}
	if status, _ := download(t, s.URL+"/file/bot1:bad/photos/file_1.jpg"); status != 401 {
		t.Fatalf("wrong token download: %d", status)
	}
}

func TestFileTooBig(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s)
	u := s.Update(s.SendDocument(alice, make([]byte, telegramtest.MaxDownloadSize+1), "scan.pdf", "application/pdf"))
	d := u.Message.Document
	if d == nil || d.FileName != "scan.pdf" || d.MimeType != "application/pdf" || d.FileSize != telegramtest.MaxDownloadSize+1 {
		t.Fatalf("document = %+v", d)
	}
	_, err := b.GetFile(ctxT(t), &bot.GetFileParams{FileID: d.FileID})
	if !errors.Is(err, bot.ErrorBadRequest) || !strings.Contains(err.Error(), "file is too big") {
		t.Fatalf("err = %v", err)
	}
}

func TestOtherUserUpdates(t *testing.T) {
	s := telegramtest.New(t)
	ids := s.SendMediaGroup(alice, [][]byte{pngBytes(t, 10, 20), []byte("not an image")})
	a, b := s.Update(ids[0]).Message, s.Update(ids[1]).Message
	if a.MediaGroupID == "" || a.MediaGroupID != b.MediaGroupID || a.ID+1 != b.ID {
		t.Fatalf("album: %+v / %+v", a, b)
	}
	if a.Photo[2].Width != 10 || a.Photo[2].Height != 20 || b.Photo[2].Width != 0 {
		t.Fatalf("sizes: %+v / %+v", a.Photo, b.Photo)
	}
	if v := s.Update(s.SendVoice(alice, []byte("ogg"), 7)).Message.Voice; v == nil || v.Duration != 7 || v.MimeType != "audio/ogg" {
		t.Fatalf("voice = %+v", v)
	}
	if st := s.Update(s.SendSticker(alice)).Message.Sticker; st == nil || st.FileID == "" {
		t.Fatalf("sticker = %+v", st)
	}
	if l := s.Update(s.SendLocation(alice, 39.9, 116.4)).Message.Location; l == nil || l.Latitude != 39.9 || l.Longitude != 116.4 {
		t.Fatalf("location = %+v", l)
	}
	c := s.Update(s.SendContact(alice, "+8613800000000", alice.ID)).Message.Contact
	if c == nil || c.PhoneNumber != "+8613800000000" || c.UserID != alice.ID || c.FirstName != "Alice" {
		t.Fatalf("contact = %+v", c)
	}
	if c := s.Update(s.SendContact(alice, "+1", 0)).Message.Contact; c.UserID != 0 {
		t.Fatalf("contact without user = %+v", c)
	}
	first := s.Update(s.SendText(alice, "helo")).Message
	e := s.Update(s.EditText(alice, first.ID, "hello /help")).EditedMessage
	if e == nil || e.ID != first.ID || e.Text != "hello /help" || e.EditDate == 0 || e.Date != first.Date || len(e.Entities) != 1 {
		t.Fatalf("edited = %+v", e)
	}
	if u := s.Update(999); u.ID != 0 {
		t.Fatalf("unknown update = %+v", u)
	}
}

func TestButtonsEditsDeletes(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s)
	ctx := ctxT(t)
	userMsg := s.Update(s.SendText(alice, "/menu")).Message.ID
	kb := &models.InlineKeyboardMarkup{InlineKeyboard: [][]models.InlineKeyboardButton{{{Text: "Go", CallbackData: "go"}}}}
	sent, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: alice.ID, Text: "<b>Menu</b>", ParseMode: models.ParseModeHTML, ReplyMarkup: kb})
	if err != nil {
		t.Fatal(err)
	}
	if sent.Text != "Menu" {
		t.Fatalf("answer text should have markup parsed away: %q", sent.Text)
	}

	upd, cb := s.PressButton(alice, sent.ID, "go")
	cq := s.Update(upd).CallbackQuery
	if cq == nil || cq.ID != cb || cq.Data != "go" || cq.From.ID != alice.ID || cq.Message.Message == nil ||
		cq.Message.Message.ID != sent.ID || cq.Message.Message.ReplyMarkup.InlineKeyboard[0][0].CallbackData != "go" {
		t.Fatalf("callback query = %+v", cq)
	}
	if _, ok := s.Answered(cb); ok {
		t.Fatal("answered before answerCallbackQuery")
	}
	if _, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: cb, Text: "On it"}); err != nil {
		t.Fatal(err)
	}
	if text, ok := s.Answered(cb); !ok || text != "On it" {
		t.Fatalf("Answered = %q %v", text, ok)
	}
	if _, err := b.AnswerCallbackQuery(ctx, &bot.AnswerCallbackQueryParams{CallbackQueryID: cb}); !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("second answer: %v", err)
	}

	// editMessageText without reply_markup drops the inline keyboard.
	edit := &bot.EditMessageTextParams{ChatID: alice.ID, MessageID: sent.ID, Text: "Working…"}
	if _, err := b.EditMessageText(ctx, edit); err != nil {
		t.Fatal(err)
	}
	if m := s.Messages(alice.ID)[0]; !m.Edited || m.Text != "Working…" || m.Buttons != nil || m.ReplyMarkup != nil || m.ParseMode != "" {
		t.Fatalf("after edit: %+v", m)
	}
	if _, err := b.EditMessageText(ctx, edit); err == nil || !strings.Contains(err.Error(), "message is not modified") {
		t.Fatalf("identical edit: %v", err)
	}
	if _, err := b.EditMessageReplyMarkup(ctx, &bot.EditMessageReplyMarkupParams{ChatID: alice.ID, MessageID: sent.ID, ReplyMarkup: kb}); err != nil {
		t.Fatal(err)
	}
	if m := s.Messages(alice.ID)[0]; len(m.Buttons) != 1 || m.Buttons[0][0].Data != "go" {
		t.Fatalf("after editMessageReplyMarkup: %+v", m)
	}
	if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: alice.ID, MessageID: userMsg, Text: "x"}); err == nil ||
		!strings.Contains(err.Error(), "message can't be edited") {
		t.Fatalf("editing the user's message: %v", err)
	}

	for _, id := range []int{userMsg, sent.ID} {
		if _, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: alice.ID, MessageID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.DeletedUserMessages(alice.ID); !reflect.DeepEqual(got, []int{userMsg}) {
		t.Fatalf("deleted user messages = %v", got)
	}
	if m := s.Messages(alice.ID)[0]; !m.Deleted {
		t.Fatalf("bot message not marked deleted: %+v", m)
	}
	if _, err := b.DeleteMessage(ctx, &bot.DeleteMessageParams{ChatID: alice.ID, MessageID: sent.ID}); err == nil ||
		!strings.Contains(err.Error(), "message to delete not found") {
		t.Fatalf("second delete: %v", err)
	}
	if _, err := b.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: alice.ID, MessageID: sent.ID, Text: "late"}); err == nil ||
		!strings.Contains(err.Error(), "message to edit not found") {
		t.Fatalf("editing a deleted message: %v", err)
	}
	if _, err := b.SendChatAction(ctx, &bot.SendChatActionParams{ChatID: alice.ID, Action: models.ChatActionTyping}); err != nil {
		t.Fatal(err)
	}
}

func TestMyCommands(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s)
	ctx := ctxT(t)
	en := []models.BotCommand{{Command: "start", Description: "Start"}, {Command: "help", Description: "Help"}}
	zh := []models.BotCommand{{Command: "start", Description: "开始"}}
	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: en}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: zh, LanguageCode: "zh"}); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s.Commands(""), en) || !reflect.DeepEqual(s.Commands("zh"), zh) || s.Commands("ru") != nil {
		t.Fatalf("commands: %v / %v / %v", s.Commands(""), s.Commands("zh"), s.Commands("ru"))
	}
	got, err := b.GetMyCommands(ctx, &bot.GetMyCommandsParams{LanguageCode: "zh"})
	if err != nil || !reflect.DeepEqual(got, zh) {
		t.Fatalf("getMyCommands = %v, %v", got, err)
	}
	if _, err := b.DeleteMyCommands(ctx, &bot.DeleteMyCommandsParams{LanguageCode: "zh"}); err != nil {
		t.Fatal(err)
	}
	if s.Commands("zh") != nil {
		t.Fatalf("zh commands survive deleteMyCommands: %v", s.Commands("zh"))
	}
	// One chat's own list (a staff member's) comes before the default,
	// in Telegram's order; other chats keep the default.
	staff := []models.BotCommand{{Command: "review", Description: "Review"}}
	if _, err := b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: staff, Scope: &models.BotCommandScopeChat{ChatID: 7}}); err != nil {
		t.Fatal(err)
	}
	if got := s.MenuCommands(7, "en-GB"); !reflect.DeepEqual(got, staff) {
		t.Fatalf("staff chat's menu: %v", got)
	}
	if got := s.MenuCommands(8, "en-GB"); !reflect.DeepEqual(got, en) {
		t.Fatalf("another chat's menu: %v", got)
	}
	if !reflect.DeepEqual(s.Commands(""), en) {
		t.Fatalf("a chat's list replaced the default one: %v", s.Commands(""))
	}
	_, err = b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: staff, LanguageCode: "english"})
	if !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("a language code of more than two letters: %v", err)
	}
	_, err = b.SetMyCommands(ctx, &bot.SetMyCommandsParams{Commands: []models.BotCommand{{Command: "Start", Description: "x"}}})
	if !errors.Is(err, bot.ErrorBadRequest) {
		t.Fatalf("upper-case command: %v", err)
	}
}

// TestParamEncodings checks that JSON, urlencoded and multipart bodies give
// the same Params.
func TestParamEncodings(t *testing.T) {
	s := telegramtest.New(t)
	s.SendText(alice, "hi")
	markup := `{"inline_keyboard":[[{"text":"A & B","callback_data":"ab"}]]}`
	u := s.URL + "/bot" + s.Token + "/sendMessage"

	if status, body := post(t, u, "application/json",
		`{"chat_id":1001,"text":"one","reply_markup":`+markup+`,"disable_notification":true}`); status != 200 {
		t.Fatalf("json: %d %v", status, body)
	}
	form := url.Values{"chat_id": {"1001"}, "text": {"one"}, "reply_markup": {markup}, "disable_notification": {"true"}}
	if status, body := post(t, u, "application/x-www-form-urlencoded", form.Encode()); status != 200 {
		t.Fatalf("form: %d %v", status, body)
	}
	var mp bytes.Buffer
	w := newMultipart(&mp, map[string]string{"chat_id": "1001", "text": "one", "reply_markup": "  " + markup, "disable_notification": "true"})
	if status, body := post(t, u, w, mp.String()); status != 200 {
		t.Fatalf("multipart: %d %v", status, body)
	}
	calls := s.Calls("sendMessage")
	if len(calls) != 3 {
		t.Fatalf("calls = %+v", calls)
	}
	for i := 1; i < 3; i++ {
		if !reflect.DeepEqual(calls[0].Params, calls[i].Params) {
			t.Fatalf("params differ:\n%v\n%v", calls[0].Params, calls[i].Params)
		}
	}
	if got := calls[0].Params["reply_markup"]; got != `{"inline_keyboard":[[{"callback_data":"ab","text":"A & B"}]]}` {
		t.Fatalf("canonical reply_markup = %s", got)
	}
	if m := s.Messages(alice.ID); len(m) != 3 || m[2].Buttons[0][0].Text != "A & B" {
		t.Fatalf("messages = %+v", m)
	}
}

func TestWebhook(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s)
	ctx := ctxT(t)

	type delivery struct {
		secret, contentType string
		body                []byte
	}
	got := make(chan delivery, 1)
	recv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Get("X-Telegram-Bot-Api-Secret-Token"), r.Header.Get("Content-Type"), body}
	}))
	defer recv.Close()

	if _, err := b.SetWebhook(ctx, &bot.SetWebhookParams{URL: recv.URL + "/hook", SecretToken: "s3cret_-1"}); err != nil {
		t.Fatal(err)
	}
	if u, secret := s.Webhook(); u != recv.URL+"/hook" || secret != "s3cret_-1" {
		t.Fatalf("webhook = %q %q", u, secret)
	}
	status, body := post(t, s.URL+"/bot"+s.Token+"/getUpdates", "application/json", `{}`)
	if status != 409 || !strings.HasPrefix(fmt.Sprint(body["description"]), "Conflict: can't use getUpdates method while webhook is active") {
		t.Fatalf("getUpdates with a webhook: %d %v", status, body)
	}

	id := s.SendText(alice, "hello")
	if info, err := b.GetWebhookInfo(ctx); err != nil || info.PendingUpdateCount != 1 || info.URL != recv.URL+"/hook" {
		t.Fatalf("webhook info = %+v, %v", info, err)
	}
	code, err := s.Deliver(ctx, "", "", id) // "" = the registered webhook and secret
	if err != nil || code != 200 {
		t.Fatalf("Deliver = %d, %v", code, err)
	}
	d := <-got
	var u models.Update
	if err := json.Unmarshal(d.body, &u); err != nil {
		t.Fatal(err)
	}
	if d.secret != "s3cret_-1" || d.contentType != "application/json" || u.ID != id || u.Message.Text != "hello" {
		t.Fatalf("delivery = %+v / %s", d, d.body)
	}
	if info, _ := b.GetWebhookInfo(ctx); info.PendingUpdateCount != 0 {
		t.Fatalf("a delivered update is still pending: %+v", info)
	}

	if _, err := b.DeleteWebhook(ctx, &bot.DeleteWebhookParams{}); err != nil {
		t.Fatal(err)
	}
	if u, _ := s.Webhook(); u != "" {
		t.Fatalf("webhook after deleteWebhook = %q", u)
	}
	if status, _ := post(t, s.URL+"/bot"+s.Token+"/getUpdates", "application/json", `{}`); status != 200 {
		t.Fatalf("getUpdates after deleteWebhook: %d", status)
	}
}

// TestWebhookEndToEnd runs the client's own webhook handler against Deliver.
func TestWebhookEndToEnd(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s,
		bot.WithWebhookSecretToken("tok"),
		bot.WithDefaultHandler(func(ctx context.Context, b *bot.Bot, u *models.Update) {
			_, _ = b.SendMessage(ctx, &bot.SendMessageParams{ChatID: u.Message.Chat.ID, Text: "got " + u.Message.Text})
		}))
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		b.StartWebhook(ctx)
	}()
	defer func() {
		cancel()
		wg.Wait()
	}()
	hook := httptest.NewServer(b.WebhookHandler())
	defer hook.Close()

	id := s.SendText(bob, "ping")
	// go-telegram's handler ignores a wrong secret but still answers 200.
	if code, err := s.Deliver(ctx, hook.URL, "wrong", id); err != nil || code != 200 {
		t.Fatalf("wrong secret: %d %v", code, err)
	}
	if code, err := s.Deliver(ctx, hook.URL, "tok", id); err != nil || code != 200 {
		t.Fatalf("Deliver: %d %v", code, err)
	}
	if m := s.WaitMessages(t, bob.ID, 1, 5*time.Second); m[0].Text != "got ping" {
		t.Fatalf("reply = %+v", m)
	}
	time.Sleep(50 * time.Millisecond) // a reply to the wrong-secret delivery would show up by now
	if m := s.Messages(bob.ID); len(m) != 1 {
		t.Fatalf("the wrong-secret delivery was handled: %+v", m)
	}
}

// newMultipart writes fields as multipart/form-data and returns the
// Content-Type.
func newMultipart(buf *bytes.Buffer, fields map[string]string) string {
	w := multipart.NewWriter(buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	_ = w.Close()
	return w.FormDataContentType()
}

// fakeTB records Fatalf instead of stopping, to test failure output.
type fakeTB struct {
	testing.TB
	mu  sync.Mutex
	msg string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.msg = fmt.Sprintf(format, args...)
}

func TestWaitMessagesDump(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s)
	s.SendText(alice, "hi")
	_, _ = b.SendMessage(ctxT(t), &bot.SendMessageParams{ChatID: alice.ID, Text: ""})
	f := &fakeTB{TB: t}
	if got := s.WaitMessages(f, alice.ID, 1, 50*time.Millisecond); got != nil {
		t.Fatalf("got %v", got)
	}
	for _, want := range []string{"waited", "sendMessage -> 400 Bad Request: message text is empty", `chat_id="1001"`} {
		if !strings.Contains(f.msg, want) {
			t.Errorf("dump lacks %q:\n%s", want, f.msg)
		}
	}
}

func TestPressButtonMisuse(t *testing.T) {
	f := &fakeTB{TB: t}
	s := telegramtest.New(f) // misuse is reported to f instead of ending the test
	s.SendText(alice, "hi")
	s.PressButton(alice, 42, "x")
	if !strings.Contains(f.msg, "no (undeleted) bot message 42") {
		t.Fatalf("message = %q", f.msg)
	}
}

func TestSetClockDeterministicUpdates(t *testing.T) {
	encode := func() []byte {
		s := telegramtest.New(t)
		s.SetClock(func() time.Time { return time.Unix(1700000000, 0) })
		s.SendText(alice, "hi")
		u := s.Update(s.SendPhoto(alice, pngBytes(t, 4, 4), ""))
		if u.Message.Date != 1700000000 {
			t.Fatalf("date = %d", u.Message.Date)
		}
		b, err := json.Marshal(u)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	if a, b := encode(), encode(); !bytes.Equal(a, b) {
		t.Fatalf("updates differ between runs:\n%s\n%s", a, b)
	}
}

// With flood control on, sends beyond Telegram's limits get 429 with a
// retry_after: a burst in one chat, more than the global rate across
// chats; a paid broadcast goes beyond the global rate.
func TestFloodControl(t *testing.T) {
	s := telegramtest.New(t)
	b := newBot(t, s)
	ctx := ctxT(t)
	s.FloodControl(30, 1, 3)
	// The fake's clock stands still: every send is in the same second.
	at := time.Now()
	s.SetClock(func() time.Time { return at })
	for i := int64(1); i <= 40; i++ {
		s.AddChat(telegramtest.User{ID: i})
	}
	send := func(chat int64, paid bool) error {
		_, err := b.SendMessage(ctx, &bot.SendMessageParams{ChatID: chat, Text: "hi", AllowPaidBroadcast: paid})
		return err
	}
	for i := 0; i < 3; i++ {
		if err := send(1, false); err != nil {
			t.Fatalf("burst message %d: %v", i+1, err)
		}
	}
	var tooMany *bot.TooManyRequestsError
	if err := send(1, false); !errors.As(err, &tooMany) || tooMany.RetryAfter < 1 {
		t.Fatalf("a fourth message in one chat at once: %v", err)
	}
	// 27 more chats fill the 30 a second; the next is refused, unless paid.
	for i := int64(2); i <= 28; i++ {
		if err := send(i, false); err != nil {
			t.Fatalf("chat %d: %v", i, err)
		}
	}
	if err := send(29, false); !errors.As(err, &tooMany) {
		t.Fatalf("the 31st message in a second: %v", err)
	}
	if err := send(30, true); err != nil {
		t.Fatalf("a paid broadcast message: %v", err)
	}
	if got := s.Floods(); !slices.Equal(got, []string{"1", "29"}) {
		t.Fatalf("sends refused in chats %v, want 1 and 29", got)
	}
}
