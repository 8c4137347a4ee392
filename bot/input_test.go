package bot

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/go-telegram/bot/models"

	"pensionbot/flows"
)

func entity(text, cmd string) models.MessageEntity {
	// Offsets in UTF-16 code units, as Telegram sends them.
	i := strings.Index(text, cmd)
	return models.MessageEntity{
		Type:   models.MessageEntityTypeBotCommand,
		Offset: len(utf16.Encode([]rune(text[:i]))),
		Length: len(utf16.Encode([]rune(cmd))),
	}
}

func TestCommandFromEntities(t *testing.T) {
	for _, tc := range []struct {
		text, cmd, wantName, wantArgs string
	}{
		{"/start", "/start", "start", ""},
		{"你好 /help", "/help", "help", ""},
		{"👵🏻 请帮我 /Certify@pension_test_bot 谢谢", "/Certify@pension_test_bot", "certify", "谢谢"},
		{"𠀀𠀀 /law now", "/law", "law", "now"}, // characters outside the BMP take two units
	} {
		name, args, ok := command(tc.text, []models.MessageEntity{entity(tc.text, tc.cmd)})
		if !ok || name != tc.wantName || args != tc.wantArgs {
			t.Errorf("%q: got %q %q %v", tc.text, name, args, ok)
		}
	}
	if _, _, ok := command("/start", nil); ok {
		t.Error("a command without an entity (as in a forwarded caption) was taken")
	}
	if _, _, ok := command("ab", []models.MessageEntity{{Type: models.MessageEntityTypeBotCommand, Offset: 5, Length: 4}}); ok {
		t.Error("an entity beyond the text was taken")
	}
}

func TestCallbackData(t *testing.T) {
	turn, action := parseCallback(callbackData(12, "lang:zh-Hant"))
	if turn != 12 || action != "lang:zh-Hant" {
		t.Fatalf("round trip: %d %q", turn, action)
	}
	if turn, _ := parseCallback("garbage"); turn != -1 {
		t.Fatalf("garbage gave turn %d", turn)
	}
}

func TestSplitLongText(t *testing.T) {
	line := strings.Repeat("长", 100) + "\n"
	text := strings.Repeat(line, 100) // 10,100 characters
	parts := split(text, maxText)
	if len(parts) < 3 {
		t.Fatalf("%d parts", len(parts))
	}
	total := 0
	for _, p := range parts {
		if n := len(utf16.Encode([]rune(p))); n > maxText {
			t.Fatalf("part of %d units", n)
		}
		total += len([]rune(strings.ReplaceAll(p, "\n", "")))
	}
	if total != 100*100 {
		t.Fatalf("characters lost: %d", total)
	}
}

func TestRedactToken(t *testing.T) {
	const token = "123456:ABC-secret"
	base := errors.New("post https://api.telegram.org/bot123456:ABC-secret/getFile: timeout")
	err := redact(base, token)
	if strings.Contains(err.Error(), token) || !errors.Is(err, base) {
		t.Fatalf("%v", err)
	}
}

// A forwarded photo is marked, so the face and liveness steps can refuse
// it (someone else's photo) and staff are told of a forwarded card.
func TestForwardedPhotoIsMarked(t *testing.T) {
	photo := []models.PhotoSize{{FileID: "f", Width: 100, Height: 100}}
	var in flows.Input
	messageInput(&models.Message{Photo: photo}, &in)
	if in.Forwarded {
		t.Fatal("a photo taken now is marked as forwarded")
	}
	messageInput(&models.Message{Photo: photo, ForwardOrigin: &models.MessageOrigin{}}, &in)
	if !in.Forwarded || in.Kind != flows.KindPhoto {
		t.Fatalf("forwarded photo not marked: %+v", in)
	}
}

func TestSubjectOnlyInTheSendersOwnChat(t *testing.T) {
	person := &models.User{ID: 42, LanguageCode: "en"}
	own := models.Chat{ID: 42, Type: models.ChatTypePrivate}
	other := models.Chat{ID: 43, Type: models.ChatTypePrivate}
	for _, tc := range []struct {
		name string
		u    models.Update
		want bool
	}{
		{"message in own chat", models.Update{Message: &models.Message{From: person, Chat: own}}, true},
		{"message naming another person's chat", models.Update{Message: &models.Message{From: person, Chat: other}}, false},
		{"edit naming another person's chat", models.Update{EditedMessage: &models.Message{From: person, Chat: other}}, false},
		{"press in own chat", models.Update{CallbackQuery: &models.CallbackQuery{ID: "c", From: *person,
			Message: models.MaybeInaccessibleMessage{Message: &models.Message{Chat: own}}}}, true},
		{"press on a message in another person's chat", models.Update{CallbackQuery: &models.CallbackQuery{ID: "c", From: *person,
			Message: models.MaybeInaccessibleMessage{Message: &models.Message{Chat: other}}}}, false},
		{"group message", models.Update{Message: &models.Message{From: person, Chat: models.Chat{ID: -100, Type: models.ChatTypeGroup}}}, false},
	} {
		sub, ok := subjectOf(&tc.u)
		if ok != tc.want {
			t.Errorf("%s: taken %v, want %v", tc.name, ok, tc.want)
			continue
		}
		if ok && (sub.user != 42 || sub.chat != 42) {
			t.Errorf("%s: subject %+v", tc.name, sub)
		}
	}
}
