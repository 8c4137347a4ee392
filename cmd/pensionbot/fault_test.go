package main

import (
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"pensionbot/internal/telegramtest"
)

// submitCase takes an English-speaking person from /start to a submitted
// green-channel case, typing name and number (OCR=none).
func submitCase(t *testing.T, h *harness, u telegramtest.User) {
	t.Helper()
	submitCaseWith(t, h, u, func() { h.tg.SendPhoto(u, fixture(t, "li_jianguo_photo.jpg"), "") })
}

// submitCaseWith is submitCase with the card sent by sendCard.
func submitCaseWith(t *testing.T, h *harness, u telegramtest.User, sendCard func()) {
	t.Helper()
	h.tg.SendText(u, "/start")
	press(h, u, waitFor(t, h, u.ID, "language"), "English")
	press(h, u, waitFor(t, h, u.ID, "What would you like"), "Certify now")
	press(h, u, waitFor(t, h, u.ID, "Do you agree?"), "I agree")
	waitFor(t, h, u.ID, "front of your ID card")
	sendCard()
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
}

// countText counts the bot's messages in chat that contain substr.
func countText(h *harness, chat int64, substr string) int {
	n := 0
	for _, m := range h.tg.Messages(chat) {
		if strings.Contains(m.Text, substr) {
			n++
		}
	}
	return n
}

// A staff member's Approve reaches the person exactly once, whatever point
// between the press and the person being told the process is killed at:
// after the decision was made but before it was committed, after the
// commit but before anything was delivered, after the staff member's
// confirmation was sent, and after the decision was queued for the person
// but before that was recorded. A restarted process finishes the work.
func TestStaffDecisionSurvivesKillAtEveryPoint(t *testing.T) {
	for i, point := range []string{"decided", "committed", "effect:send", "effect:decision"} {
		t.Run(strings.ReplaceAll(point, ":", "-"), func(t *testing.T) {
			t.Parallel()
			staffID := int64(9301 + i)
			h := newHarness(t, 50+i, map[string]string{"OCR": "none", "STAFF_IDS": strconv.FormatInt(staffID, 10)})
			start := h.binary()
			bot := start()
			u := telegramtest.User{ID: int64(4301 + i), LanguageCode: "en"}
			staff := telegramtest.User{ID: staffID, LanguageCode: "en"}
			submitCase(t, h, u)
			h.tg.SendText(staff, "/start")
			press(h, staff, waitFor(t, h, staffID, "language"), "English")
			h.tg.SendText(staff, "/review")
			caseMsg := waitFor(t, h, staffID, "Case for review")

			// Restart with the failpoint armed, then press Approve.
			bot.Process.Kill()
			bot.Wait()
			h.env["PENSIONBOT_FAILPOINT"] = point
			bot = start()
			press(h, staff, caseMsg, "Approve")
			done := make(chan error, 1)
			go func() { done <- bot.Wait() }()
			select {
			case err := <-done:
				if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 137 {
					t.Fatalf("the process did not stop at %s: %v", point, err)
				}
			case <-time.After(30 * time.Second):
				bot.Process.Kill()
				t.Fatalf("failpoint %s never reached", point)
			}

			delete(h.env, "PENSIONBOT_FAILPOINT")
			bot = start()
			defer func() { bot.Process.Kill(); bot.Wait() }()
			// The killed process's lease lapses within 15 s; then the
			// restarted one goes on.
			h.tg.WaitMessages(t, u.ID, len(h.tg.Messages(u.ID))+1, 45*time.Second)
			waitFor(t, h, u.ID, "You are certified")
			time.Sleep(2 * time.Second) // a second copy would arrive by now
			if n := countText(h, u.ID, "You are certified"); n != 1 {
				t.Fatalf("the person was told %d times", n)
			}
			waitFor(t, h, staffID, "Approved")
		})
	}
}

// Someone removed from STAFF_IDS cannot decide the case they held.
func TestRemovedStaffCannotDecide(t *testing.T) {
	const staffID = 9311
	h := newHarness(t, 55, map[string]string{"OCR": "none", "STAFF_IDS": "9311"})
	_, stop := h.start()
	u := telegramtest.User{ID: 4311, LanguageCode: "en"}
	staff := telegramtest.User{ID: staffID, LanguageCode: "en"}
	submitCase(t, h, u)
	h.tg.SendText(staff, "/start")
	press(h, staff, waitFor(t, h, staffID, "language"), "English")
	h.tg.SendText(staff, "/review")
	caseMsg := waitFor(t, h, staffID, "Case for review")
	stop()

	h.env["STAFF_IDS"] = "9999" // someone else now
	h.start()
	press(h, staff, caseMsg, "Approve")
	waitFor(t, h, staffID, "not on the staff list")
	time.Sleep(time.Second)
	if n := countText(h, u.ID, "You are certified"); n != 0 {
		t.Fatal("a removed staff member's press decided the case")
	}
}
