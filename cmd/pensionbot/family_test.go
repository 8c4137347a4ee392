package main

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"pensionbot/internal/telegramtest"
)

// conv follows one chat of the fake Telegram: wait finds the next message
// after the last one found that holds substr.
type conv struct {
	t    *testing.T
	h    *harness
	u    telegramtest.User
	seen int
}

func (c *conv) wait(substr string) telegramtest.Message {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		ms := c.h.tg.Messages(c.u.ID)
		for i := c.seen; i < len(ms); i++ {
			if strings.Contains(ms[i].Text, substr) {
				c.seen = i + 1
				return ms[i]
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	var texts []string
	for _, m := range c.h.tg.Messages(c.u.ID)[c.seen:] {
		texts = append(texts, m.Text)
	}
	c.t.Fatalf("chat %d: no message with %q after #%d; have:\n%s", c.u.ID, substr, c.seen, strings.Join(texts, "\n---\n"))
	return telegramtest.Message{}
}

func (c *conv) press(substr, button string) { c.t.Helper(); press(c.h, c.u, c.wait(substr), button) }
func (c *conv) say(text string)             { c.h.tg.SendText(c.u, text) }

// certifyFrom goes from the card question to a sent case, typing the name
// and number (OCR=none), sharing the helper's own phone, on the general
// path or the green channel.
func (c *conv) certifyFrom(card, face []byte, name, number string, green bool) {
	c.t.Helper()
	c.h.tg.SendPhoto(c.u, card, "")
	c.wait("name as it is")
	c.say(name)
	c.wait("18-character")
	c.say(number)
	c.press("Are they correct", "Correct")
	c.wait("phone number")
	c.h.tg.SendContact(c.u, "+8613812345678", c.u.ID)
	c.press("household registration", "Same as on")
	if green {
		c.press("green channel", "green channel")
	} else {
		c.press("disability", "No")
	}
	c.press("agree?", "agree")
	c.wait("camera")
	c.h.tg.SendPhoto(c.u, face, "")
	if !green {
		c.wait("One more photo")
		c.h.tg.SendPhoto(c.u, face, "")
	}
	c.press("Please check before I send", "Send")
	c.wait("Sent")
}

// A daughter certifies herself, her mother (76, general path) and her
// father (90, green channel) from one account; staff approve the mother
// and reject the father with a reason; the daughter is told both results
// by label; /status lists three lines, most urgent first; the father's
// retry works; /forget removes everything of all three.
func TestFamilyHelpEndToEnd(t *testing.T) {
	const staffID = 9101
	h := newHarness(t, 40, map[string]string{"OCR": "none", "STAFF_IDS": "9101"})
	h.start()
	d := &conv{t: t, h: h, u: telegramtest.User{ID: 4101, FirstName: "Fang", LanguageCode: "en"}}
	s := &conv{t: t, h: h, u: telegramtest.User{ID: staffID, LanguageCode: "en"}}
	card, face := fixture(t, "zhang_xiulan_photo.jpg"), pigoSample(t)

	s.say("/start")
	s.press("language", "English")
	d.say("/start")
	d.press("language", "English")
	d.wait("What would you like")

	// Mum first: from the consent screen of an account without relatives.
	d.say("/certify")
	d.press("Do you agree", "For a family member")
	d.press("What is this person to you", "Father or mother")
	d.press("What do you call", "Mum")
	d.wait("read the next message aloud to Mum")
	d.wait("Your relative wants to do your pension certification")
	d.wait("您的家人想在这个聊天里帮您") // the same text in Chinese, for the relative
	d.press("Does Mum agree", "Mum agrees")
	d.wait("front of Mum's ID card")
	d.certifyFrom(card, face, "张秀兰", "11010519491231002X", false)

	// Dad: 90, so the green channel is offered by his age.
	d.say("/certify")
	d.press("Who is this certification for", "Someone else")
	d.press("What is this person to you", "Father or mother")
	d.press("What do you call", "Dad")
	d.press("Does Dad agree", "Dad agrees")
	d.wait("front of Dad's ID card")
	d.certifyFrom(card, face, "李建国", "110102193603150014", true)

	// Herself, last.
	d.say("/certify")
	d.press("Who is this certification for", "Myself")
	d.press("Do you agree", "I agree")
	d.wait("front of your ID card")
	d.certifyFrom(card, face, "王芳", "11010119900307002X", false)

	// Staff: the green channel comes first (Dad), then the oldest general
	// case (Mum). Each says that a family member sent it.
	s.say("/review")
	c := s.wait("Case for review")
	if !strings.Contains(c.Text, "李建国") || !strings.Contains(c.Text, "Sent by a family member (the pensioner's child)") || !strings.Contains(c.Text, "helper's") {
		t.Fatalf("first case is not Dad's, or does not say who sent it: %q", c.Text)
	}
	press(h, s.u, c, "Reject")
	s.press("Why is it rejected", "Face is not the pensioner")
	c = s.wait("Case for review")
	if !strings.Contains(c.Text, "张秀兰") {
		t.Fatalf("second case is not Mum's: %q", c.Text)
	}
	press(h, s.u, c, "Approve")
	s.wait("Approved")

	// The daughter hears both, by label.
	d.wait("the certification for Dad was not accepted")
	d.wait("Mum is certified")
	d.say("/status")
	st := d.wait("Certification status")
	lines := strings.Split(st.Text, "\n")
	if len(lines) != 4 || !strings.Contains(lines[1], "Dad: not accepted") || !strings.Contains(lines[2], "You: under review") || !strings.Contains(lines[3], "Mum: certified on") {
		t.Fatalf("status not three lines, most urgent first: %q", st.Text)
	}

	// Dad again: a new case is accepted for his number.
	d.say("/certify")
	d.press("Who is this certification for", "Dad")
	d.wait("front of Dad's ID card")
	d.certifyFrom(card, face, "李建国", "110102193603150014", true)
	s.wait("new case is waiting")

	// Everything of all three goes.
	d.say("/forget")
	d.press("delete everything", "Yes, delete everything")
	d.wait("deleted")
	rdb := redisClient(t, 40)
	ctx := context.Background()
	deadline := time.Now().Add(10 * time.Second)
	for {
		keys, _ := rdb.Keys(ctx, "*").Result()
		var left []string
		for _, k := range keys {
			switch {
			case strings.HasPrefix(k, "{review}:done:"):
				// The decision log staff keep: case ID, outcome, masked number.
			case strings.Contains(k, "4101") || strings.HasPrefix(k, "{review}:case:") || strings.HasPrefix(k, "{pensioner:"):
				left = append(left, k)
			}
		}
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("left after /forget: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n, _ := rdb.ZCard(ctx, "{review}:queue").Result(); n != 0 {
		t.Fatalf("%d cases still queued after /forget", n)
	}
}

// Two accounts send a case for the same ID number at the same moment:
// one case exists; the other is told a certification is under way,
// without saying by whom.
func TestSameNumberFromTwoAccounts(t *testing.T) {
	h := newHarness(t, 41, map[string]string{"OCR": "none", "STAFF_IDS": "9102"})
	h.start()
	card, face := fixture(t, "zhang_xiulan_photo.jpg"), pigoSample(t)
	var cs []*conv
	for _, id := range []int64{4201, 4202} {
		c := &conv{t: t, h: h, u: telegramtest.User{ID: id, LanguageCode: "en"}}
		c.say("/start")
		c.press("language", "English")
		c.say("/certify")
		c.press("Do you agree", "I agree")
		c.h.tg.SendPhoto(c.u, card, "")
		c.wait("name as it is")
		c.say("张秀兰")
		c.wait("18-character")
		c.say("11010519491231002X")
		c.press("Are they correct", "Correct")
		c.wait("phone number")
		c.say("13812345678")
		c.press("household registration", "Same as on")
		c.press("disability", "No")
		c.press("agree?", "agree")
		c.wait("camera")
		c.h.tg.SendPhoto(c.u, face, "")
		c.wait("One more photo")
		c.h.tg.SendPhoto(c.u, face, "")
		cs = append(cs, c)
	}
	var sums []telegramtest.Message
	for _, c := range cs {
		sums = append(sums, c.wait("Please check before I send"))
	}
	var wg sync.WaitGroup
	for i, c := range cs {
		wg.Add(1)
		go func() { defer wg.Done(); press(h, c.u, sums[i], "Send") }()
	}
	wg.Wait()
	sent, refused := 0, 0
	for _, c := range cs {
		deadline := time.Now().Add(20 * time.Second)
		for {
			m := h.tg.Messages(c.u.ID)
			last := m[len(m)-1].Text + m[max(0, len(m)-2)].Text
			if strings.Contains(last, "Sent.") {
				sent++
				break
			}
			if strings.Contains(last, "already under way") {
				if strings.Contains(last, "4201") || strings.Contains(last, "4202") {
					t.Fatalf("the refusal says who: %q", last)
				}
				refused++
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("no answer to Send for %d: %q", c.u.ID, last)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if sent != 1 || refused != 1 {
		t.Fatalf("%d sent, %d refused", sent, refused)
	}
	rdb := redisClient(t, 41)
	if n, _ := rdb.ZCard(context.Background(), "{review}:queue").Result(); n != 1 {
		t.Fatalf("%d cases queued, want 1", n)
	}
}

// A pensioner who has Telegram invites a helper with a deep link made
// from the bot's username (getMe): it works once; the helper sees the
// pensioner on their list and status; either side can unlink, and the
// other is told.
func TestDeepLinkInvitation(t *testing.T) {
	h := newHarness(t, 42, map[string]string{"OCR": "none", "STAFF_IDS": "9103"})
	h.start()
	p := &conv{t: t, h: h, u: telegramtest.User{ID: 4301, LanguageCode: "zh-CN"}}
	h1 := &conv{t: t, h: h, u: telegramtest.User{ID: 4302, LanguageCode: "en"}}
	h2 := &conv{t: t, h: h, u: telegramtest.User{ID: 4303, LanguageCode: "en"}}
	p.say("/start")
	p.press("请选择语言", "简体中文")
	invite := func() string {
		t.Helper()
		p.say("/family")
		p.press("您想做什么", "邀请家人帮忙")
		m := p.wait("只能用一次")
		prefix := "https://t.me/" + telegramtest.BotUsername + "?start="
		i := strings.Index(m.Text, prefix)
		if i < 0 {
			t.Fatalf("no deep link in %q", m.Text)
		}
		code := strings.Fields(m.Text[i+len(prefix):])[0]
		if len(code) > 64 || strings.Trim(code, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-") != "" {
			t.Fatalf("payload %q is not a valid deep-link payload", code)
		}
		return code
	}
	code := invite()
	h1.say("/start " + code)
	h1.press("language", "English")
	h1.press("Do you accept", "Accept")
	h1.press("What is this person to you", "Father or mother")
	h1.press("What do you call", "Mum")
	h1.wait("Mum is on your list")
	p.wait("一位家人已经成为您的帮手")

	// Single use.
	h2.say("/start " + code)
	h2.press("language", "English")
	h2.press("Do you accept", "Accept")
	h2.wait("does not work")

	// Both see the status: the helper sees Mum, the pensioner their own.
	h1.say("/status")
	h1.wait("Mum: not certified yet")
	p.say("/status")
	p.wait("还没有")
	p.say("/family")
	p.wait("您的子女")

	// The helper certifies Mum: she is told, and her own /status says it
	// is under review until the decision, which reaches her too.
	s := &conv{t: t, h: h, u: telegramtest.User{ID: 9103, LanguageCode: "en"}}
	s.say("/start")
	s.press("language", "English")
	h1.say("/certify")
	h1.press("Who is this certification for", "Mum")
	h1.wait("The photos show Mum's ID card")
	h1.certifyFrom(fixture(t, "zhang_xiulan_photo.jpg"), pigoSample(t), "张秀兰", "11010519491231002X", false)
	p.wait("家人已经帮您提交了资格认证")
	p.say("/status")
	p.wait("正在审核")
	s.say("/review")
	press(h, s.u, s.wait("Case for review"), "Reject")
	s.press("Why is it rejected", "Face is not the pensioner")
	h1.wait("the certification for Mum was not accepted")
	p.wait("家人帮您提交的资格认证没有通过。原因：")
	p.say("/status")
	p.wait("还没有您的认证记录")

	// The helper unlinks (removes Mum): the pensioner is told.
	h1.say("/family")
	h1.wait("People you certify for")
	h1.press("What would you like", "Remove Mum")
	h1.press("Remove Mum?", "Yes, remove Mum")
	p.wait("帮您的家人解除了关联")

	// Linked again, then the pensioner unlinks: the helper is told and
	// loses Mum from the list.
	code = invite()
	h1.say("/start " + code)
	h1.press("Do you accept", "Accept")
	h1.press("What is this person to you", "Father or mother")
	h1.press("What do you call", "Mum")
	h1.wait("Mum is on your list")
	p.say("/family")
	p.press("您想做什么", "解除第1位的关联")
	p.wait("已解除关联")
	h1.wait("has unlinked you")
	h1.say("/status")
	h1.wait("I have no certification for you yet")
	dumpChats(t, h, p.u.ID, h1.u.ID)
}
