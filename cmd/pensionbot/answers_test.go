package main

import (
	"bytes"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"

	"pensionbot/internal/openaitest"
	"pensionbot/internal/telegramtest"
)

// A voice question travels the whole way: Telegram voice message, getFile
// and download, transcription, the model answerer grounded in the bot's
// own texts, the reply in the person's language with the helping button.
func TestVoiceQuestionAnsweredByModel(t *testing.T) {
	ai := openaitest.New(t)
	ai.SetTranscribe(func(c openaitest.TranscriptionCall) (string, *openaitest.APIError) {
		return "怎么到窗口交社保费", nil
	})
	ai.SetChat(func(req openai.ChatCompletionRequest) (string, *openaitest.APIError) {
		return `{"topic":"payment","answer":"请到社保经办机构的个人缴费窗口领表。"}`, nil
	})
	h := newHarness(t, 12, map[string]string{
		"OPENAI_BASE_URL":         ai.URL,
		"OPENAI_API_KEY":          ai.Key,
		"OPENAI_MODEL":            "test-model",
		"OPENAI_TRANSCRIBE_MODEL": "whisper-1",
	})
	h.start()
	u := telegramtest.User{ID: 3001, LanguageCode: "zh-CN"}
	h.tg.SendText(u, "/start")
	press(h, u, h.wait(u.ID, 1)[0], "简体中文")
	h.wait(u.ID, 3)
	audio := []byte("OggS fake opus bytes")
	h.tg.SendVoice(u, audio, 3)
	ms := h.wait(u.ID, 5)
	if !strings.Contains(ms[4].Text, "个人缴费窗口") {
		t.Fatalf("model answer not shown: %q", ms[4].Text)
	}
	if !strings.Contains(ms[3].Text, "12333") {
		t.Fatalf("model answer not marked as such: %q", ms[3].Text)
	}
	if len(ms[4].Buttons) == 0 || !strings.Contains(ms[4].Buttons[0][0].Text, "缴费") {
		t.Fatalf("no button to the payment guide: %+v", ms[4].Buttons)
	}
	tr := ai.Transcriptions()
	if len(tr) != 1 || !bytes.Equal(tr[0].Audio, audio) || tr[0].Language != "zh" {
		t.Fatalf("transcription call: %+v", tr)
	}
	reqs := ai.Requests()
	if len(reqs) != 1 || reqs[0].Model != "test-model" {
		t.Fatalf("chat requests: %d", len(reqs))
	}
	system := openaitest.MessageText(reqs[0].Messages[0])
	if !strings.Contains(system, "社会保险个人缴费申报表") {
		t.Fatal("system prompt not grounded in the Chinese guide texts")
	}
}
