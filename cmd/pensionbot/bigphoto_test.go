package main

import (
	"bytes"
	"image"
	_ "image/jpeg"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"pensionbot/internal/telegramtest"
)

// bigCard is the sample card as a camera's full-size file: 7000×5000 and
// about 18 MB, within what the bot takes from people (20 MB, 40 MP) but
// beyond what sendPhoto takes (10 MB, width + height ≤ 10000).
func bigCard(t *testing.T) []byte {
	t.Helper()
	out := filepath.Join(t.TempDir(), "big.jpg")
	cmd := exec.Command("go", "run", "./testdata/bigcard", filepath.Join("..", "..", "testdata", "cards", "li_jianguo_photo.jpg"), out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make the big card: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(data); n < 15<<20 || n > 20<<20 {
		t.Fatalf("big card is %d bytes, want about 18 MB", n)
	}
	return data
}

// A card photo sent as a file at full camera size reaches staff: the bot
// makes it fit sendPhoto's limits (the fake enforces them, as Telegram
// does), and the case's text and buttons follow.
func TestHugeCardFileReachesStaff(t *testing.T) {
	const staffID = 9101
	h := newHarness(t, 12, map[string]string{"OCR": "none", "STAFF_IDS": "9101"})
	// The real binary, built without the race detector: decoding 35
	// megapixels under it takes minutes.
	bot := h.binary()()
	defer func() { bot.Process.Kill(); bot.Wait() }()
	u := telegramtest.User{ID: 4101, LanguageCode: "en"}
	staff := telegramtest.User{ID: staffID, LanguageCode: "en"}
	h.tg.SendText(u, "/start")
	press(h, u, waitFor(t, h, u.ID, "language"), "English")
	press(h, u, waitFor(t, h, u.ID, "What would you like"), "Certify now")
	press(h, u, waitFor(t, h, u.ID, "Do you agree?"), "I agree")
	waitFor(t, h, u.ID, "front of your ID card")
	h.tg.SendDocument(u, bigCard(t), "IMG_0001.jpg", "image/jpeg")
	waitFor(t, h, u.ID, "type your name")
	h.tg.SendText(u, "李建国")
	waitFor(t, h, u.ID, "18-character ID number")
	h.tg.SendText(u, "53010219200508011X")
	press(h, u, waitFor(t, h, u.ID, "Are they correct?"), "Correct")
	waitFor(t, h, u.ID, "share your phone number")
	h.tg.SendContact(u, "+8613812345678", u.ID)
	press(h, u, waitFor(t, h, u.ID, "household registration"), "Same as on my ID card")
	press(h, u, waitFor(t, h, u.ID, "green channel"), "green channel")
	press(h, u, waitFor(t, h, u.ID, "photo of your face"), "I agree")
	waitFor(t, h, u.ID, "Look straight at the camera")
	h.tg.SendPhoto(u, pigoSample(t), "")
	press(h, u, waitFor(t, h, u.ID, "Shall I send it"), "Send")
	waitFor(t, h, u.ID, "Sent.")

	h.tg.SendText(staff, "/start")
	press(h, staff, waitFor(t, h, staffID, "language"), "English")
	h.tg.SendText(staff, "/review")
	caseMsg := waitFor(t, h, staffID, "Case for review")
	var card *telegramtest.Message
	for _, m := range h.tg.Messages(staffID) {
		if len(m.Photo) > 0 && card == nil {
			card = &m
		}
	}
	if card == nil {
		t.Fatal("the card photo did not reach staff")
	}
	cfg, _, err := image.DecodeConfig(bytes.NewReader(card.Photo))
	if err != nil || len(card.Photo) > telegramtest.MaxPhotoUpload || cfg.Width+cfg.Height > 10000 || cfg.Width < 2000 {
		t.Fatalf("card sent to staff: %d bytes, %dx%d, %v", len(card.Photo), cfg.Width, cfg.Height, err)
	}
	if len(caseMsg.Buttons) == 0 {
		t.Fatal("case without its buttons")
	}
}
