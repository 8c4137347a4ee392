package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"pensionbot/domain"
	"pensionbot/internal/agencytest"
	"pensionbot/internal/telegramtest"
)

func fixture(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "..", "testdata", "cards", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// pigoSample is the portrait shipped in pigo's module (MIT), read from the
// module cache rather than downloaded.
func pigoSample(t *testing.T) []byte {
	t.Helper()
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/esimov/pigo").Output()
	if err != nil {
		t.Fatalf("find pigo: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(strings.TrimSpace(string(out)), "testdata", "sample.jpg"))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func waitFor(t *testing.T, h *harness, chat int64, substr string) telegramtest.Message {
	t.Helper()
	return waitForAfter(t, h, chat, substr, 0)
}

// waitForAfter is waitFor among the chat's messages from index seen on.
func waitForAfter(t *testing.T, h *harness, chat int64, substr string, seen int) telegramtest.Message {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second * slowdown)
	for time.Now().Before(deadline) {
		ms := h.tg.Messages(chat)
		for _, m := range ms[seen:] {
			if strings.Contains(m.Text, substr) {
				return m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	var texts []string
	for _, m := range h.tg.Messages(chat) {
		texts = append(texts, m.Text)
	}
	t.Fatalf("no message with %q in chat %d; have:\n%s", substr, chat, strings.Join(texts, "\n---\n"))
	return telegramtest.Message{}
}

// The whole certification on the green channel through the real program:
// a synthetic ID card read by tesseract, a real portrait checked by the
// face detector, the case reviewed by staff in Telegram, and the result
// delivered to the person. The person types nothing.
func TestCertificationEndToEnd(t *testing.T) {
	if _, err := exec.LookPath("tesseract"); err != nil && os.Getenv("CI") != "true" {
		t.Skip("tesseract not installed (make test installs it)")
	}
	const staffID = 9001
	h := newHarness(t, 13, map[string]string{"OCR": "tesseract", "STAFF_IDS": "9001"})
	h.start()
	u := telegramtest.User{ID: 4001, FirstName: "建国", LanguageCode: "zh-CN"}
	staff := telegramtest.User{ID: staffID, LanguageCode: "en"}
	h.tg.SendText(staff, "/start")
	press(h, staff, waitFor(t, h, staffID, "language"), "English")
	waitFor(t, h, staffID, "What would you like")

	h.tg.SendText(u, "/start")
	press(h, u, waitFor(t, h, u.ID, "请选择语言"), "简体中文")
	certifyGreen(t, h, u)
	if deleted := h.tg.DeletedUserMessages(u.ID); len(deleted) < 2 {
		t.Fatalf("photo messages not deleted from the chat: %v", deleted)
	}
	// Reading the card takes a while: the person sees "typing…" meanwhile.
	typing := false
	for _, c := range h.tg.Calls("sendChatAction") {
		typing = typing || c.Params["chat_id"] == strconv.FormatInt(u.ID, 10) && c.Params["action"] == "typing"
	}
	if !typing {
		t.Error("no typing action while the card was read")
	}

	// Staff hear of it, take it, see the photos, approve.
	waitFor(t, h, staffID, "new case is waiting")
	h.tg.SendText(staff, "/review")
	caseMsg := waitFor(t, h, staffID, "Case for review")
	// The text shows the number and phone masked (the card photo shows
	// the number to whoever compares it), and no message of the case can
	// be forwarded or saved.
	if !strings.Contains(caseMsg.Text, "530102********011X") || strings.Contains(caseMsg.Text, "53010219200508011X") {
		t.Fatalf("case text must show the number masked: %q", caseMsg.Text)
	}
	for _, c := range append(h.tg.Calls("sendMessage"), h.tg.Calls("sendPhoto")...) {
		isCase := c.Method == "sendPhoto" || strings.Contains(c.Params["text"], "Case for review")
		if c.Params["chat_id"] == strconv.FormatInt(staffID, 10) && isCase && c.Params["protect_content"] != "true" {
			t.Fatalf("%s to staff without protect_content: %v", c.Method, c.Params)
		}
	}
	photos := 0
	for _, m := range h.tg.Messages(staffID) {
		if len(m.Photo) > 0 {
			photos++
		}
	}
	if photos != 2 {
		t.Fatalf("staff got %d photos, want card and face", photos)
	}
	press(h, staff, caseMsg, "Approve")
	waitFor(t, h, staffID, "Approved")
	for _, m := range h.tg.Messages(staffID) {
		if (len(m.Photo) > 0 || strings.Contains(m.Text, "Case for review")) && !m.Deleted {
			t.Errorf("case message %d left in the staff chat after the decision", m.ID)
		}
	}
	result := waitFor(t, h, u.ID, "认证成功")
	if !strings.Contains(result.Text, "有效期到") {
		t.Fatalf("result without validity: %q", result.Text)
	}

	// Afterwards only the record is left: no photos, no readable data.
	rdb := redisClient(t, 13)
	keys, _ := rdb.Keys(context.Background(), "*").Result()
	for _, k := range keys {
		if strings.Contains(k, ":photo:") {
			t.Errorf("photo kept after the decision: %s", k)
		}
		dump, _ := rdb.Dump(context.Background(), k).Bytes()
		for _, secret := range []string{"53010219200508011X", "李建国", "13812345678"} {
			if bytes.Contains(dump, []byte(secret)) {
				t.Errorf("%s holds %q in plain text", k, secret)
			}
		}
	}
	h.tg.SendText(u, "/status")
	waitFor(t, h, u.ID, "您已认证")
	logs := h.logs.String()
	for _, secret := range []string{"53010219200508011X", "李建国", "13812345678", h.tg.Token} {
		if strings.Contains(logs, secret) {
			t.Errorf("logs contain %q", secret)
		}
	}
}

// certifyGreen goes from the menu (in Simplified Chinese) to a submitted
// green-channel case, with a wrong file and a photo without a face on the
// way.
func certifyGreen(t *testing.T, h *harness, u telegramtest.User) {
	t.Helper()
	certifyGreenAfter(t, h, u, 0)
}

// certifyGreenAfter is certifyGreen looking only at the chat's messages
// from index seen on (a second certification in the same chat).
func certifyGreenAfter(t *testing.T, h *harness, u telegramtest.User, seen int) {
	t.Helper()
	waitFor := func(t *testing.T, h *harness, chat int64, substr string) telegramtest.Message {
		t.Helper()
		return waitForAfter(t, h, chat, substr, seen)
	}
	press(h, u, waitFor(t, h, u.ID, "您想办什么"), "马上认证")
	press(h, u, waitFor(t, h, u.ID, "您同意吗"), "同意")
	waitFor(t, h, u.ID, "身份证正面的照片")

	// Wrong things first: a PDF, then the card photo itself.
	h.tg.SendDocument(u, fixture(t, "not_a_card.pdf"), "card.pdf", "application/pdf")
	waitFor(t, h, u.ID, "不是图片")
	card := fixture(t, "li_jianguo_photo.jpg")
	h.tg.SendPhoto(u, card, "")
	confirm := waitFor(t, h, u.ID, "我从身份证上读到")
	if !strings.Contains(confirm.Text, "53010219200508011X") {
		t.Fatalf("tesseract did not read the number: %q", confirm.Text)
	}
	press(h, u, confirm, "对")
	waitFor(t, h, u.ID, "手机号")
	h.tg.SendContact(u, "+8613812345678", u.ID)
	press(h, u, waitFor(t, h, u.ID, "户口在哪个区县"), "和身份证地址一样")
	press(h, u, waitFor(t, h, u.ID, "绿色通道"), "走绿色通道")
	press(h, u, waitFor(t, h, u.ID, "脸部照片"), "同意")
	waitFor(t, h, u.ID, "正面照")
	h.tg.SendPhoto(u, card, "") // no face in a card photo on a table
	waitFor(t, h, u.ID, "看不到脸")
	h.tg.SendPhoto(u, pigoSample(t), "")
	summary := waitFor(t, h, u.ID, "发送前请核对")
	if !strings.Contains(summary.Text, "530102********011X") || strings.Contains(summary.Text, "53010219200508011X") {
		t.Fatalf("summary must show the number masked: %q", summary.Text)
	}
	press(h, u, summary, "发送")
	waitFor(t, h, u.ID, "已发送")

}

// With VERIFIER=agency the case goes to the agency's service, which answers
// "pending"; its decision, polled later, reaches the person.
func TestAgencyDecisionArrivesLater(t *testing.T) {
	if _, err := exec.LookPath("tesseract"); err != nil && os.Getenv("CI") != "true" {
		t.Skip("tesseract not installed (make test installs it)")
	}
	ag := agencytest.New(t)
	ag.SetPolicy(agencytest.Pend())
	h := newHarness(t, 14, map[string]string{"OCR": "tesseract", "VERIFIER": "agency", "AGENCY_URL": ag.URL, "AGENCY_TOKEN": ag.Token})
	app, _ := h.start()
	u := telegramtest.User{ID: 4002, LanguageCode: "zh-CN"}
	h.tg.SendText(u, "/start")
	press(h, u, waitFor(t, h, u.ID, "请选择语言"), "简体中文")
	certifyGreen(t, h, u)
	tickets := ag.Tickets()
	if len(tickets) != 1 {
		t.Fatalf("agency tickets: %v", tickets)
	}
	if err := ag.Decide(tickets[0], agencytest.StatusRejected, "face_mismatch"); err != nil {
		t.Fatal(err)
	}
	if err := app.tracker.Poll(context.Background(), func(ctx context.Context, user int64, d domain.Decision) error {
		return app.bot.Inject(ctx, user, d)
	}); err != nil {
		t.Fatal(err)
	}
	msg := waitFor(t, h, u.ID, "没有通过")
	if !strings.Contains(msg.Text, "派出所") {
		t.Fatalf("rejection without advice: %q", msg.Text)
	}
	// Polling again delivers nothing twice.
	app.tracker.Poll(context.Background(), func(ctx context.Context, user int64, d domain.Decision) error {
		return app.bot.Inject(ctx, user, d)
	})
	time.Sleep(300 * time.Millisecond)
	n := 0
	for _, m := range h.tg.Messages(u.ID) {
		if strings.Contains(m.Text, "没有通过") {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("decision shown %d times", n)
	}
}

// /forget with a case under review removes what it says: the case with its
// photos and details from Redis and from the staff member's chat, and the
// person from the record of an earlier decision; only an audit record
// without the person stays.
func TestForgetErasesTheCaseEverywhere(t *testing.T) {
	if _, err := exec.LookPath("tesseract"); err != nil && os.Getenv("CI") != "true" {
		t.Skip("tesseract not installed (make test installs it)")
	}
	const staffID = 9002
	h := newHarness(t, 20, map[string]string{"OCR": "tesseract", "STAFF_IDS": "9002"})
	h.start()
	u := telegramtest.User{ID: 4003, LanguageCode: "zh-CN"}
	staff := telegramtest.User{ID: staffID, LanguageCode: "en"}
	h.tg.SendText(staff, "/start")
	press(h, staff, waitFor(t, h, staffID, "language"), "English")
	waitFor(t, h, staffID, "What would you like")
	h.tg.SendText(u, "/start")
	press(h, u, waitFor(t, h, u.ID, "请选择语言"), "简体中文")

	// A first case, approved: its record names the person.
	certifyGreen(t, h, u)
	h.tg.SendText(staff, "/review")
	press(h, staff, waitFor(t, h, staffID, "Case for review"), "Approve")
	waitFor(t, h, u.ID, "认证成功")
	// A second one, held by staff with its photos in their chat.
	seen := len(h.tg.Messages(u.ID))
	h.tg.SendText(u, "/menu")
	certifyGreenAfter(t, h, u, seen)
	staffSeen := len(h.tg.Messages(staffID))
	h.tg.SendText(staff, "/review")
	waitForAfter(t, h, staffID, "Case for review", staffSeen)

	h.tg.SendText(u, "/forget")
	press(h, u, waitFor(t, h, u.ID, "要删除我保存的"), "全部删除")
	waitFor(t, h, u.ID, "已删除我保存的")
	waitFor(t, h, staffID, "withdrew a case")
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		left := 0
		for _, m := range h.tg.Messages(staffID) {
			if (len(m.Photo) > 0 || strings.Contains(m.Text, "Case for review")) && !m.Deleted {
				left++
			}
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d case messages left in the staff chat after /forget", left)
		}
	}
	waitOutboxEmpty(t, redisClient(t, 20), u.ID)

	rdb := redisClient(t, 20)
	ctx := context.Background()
	keys, _ := rdb.Keys(ctx, "*").Result()
	user := strconv.FormatInt(u.ID, 10)
	audits := 0
	for _, k := range keys {
		if strings.Contains(k, user) || strings.Contains(k, "{review}:case:") {
			t.Errorf("key %s left after /forget", k)
		}
		if strings.HasPrefix(k, "{review}:done:") {
			audits++
			h, _ := rdb.HGetAll(ctx, k).Result()
			if h["user"] != "" || h["masked"] != "" {
				t.Errorf("decision record %s still names the person: %v", k, h)
			}
		}
		dump, _ := rdb.Dump(ctx, k).Bytes()
		for _, secret := range []string{user, "530102********011X", "53010219200508011X"} {
			if bytes.Contains(dump, []byte(secret)) {
				t.Errorf("%s holds %q after /forget", k, secret)
			}
		}
	}
	if audits != 1 {
		t.Errorf("%d audit records of decisions, want the one decided", audits)
	}
}
