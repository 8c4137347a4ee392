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
	h := newHarness(t, 26, map[string]string{"OCR": "none", "STAFF_IDS": "9101"})
	// The real binary, built without the race detector: decoding 35
	// megapixels under it takes minutes.
	bot := h.binary()()
	defer func() { bot.Process.Kill(); bot.Wait() }()
	u := telegramtest.User{ID: 4101, LanguageCode: "en"}
	staff := telegramtest.User{ID: staffID, LanguageCode: "en"}
	big := bigCard(t)
	submitCaseWith(t, h, u, func() { h.tg.SendDocument(u, big, "IMG_0001.jpg", "image/jpeg") })

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
