package speech

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"pensionbot/ai"
	"pensionbot/internal/openaitest"
)

var voice = []byte("OggS\x00\x02fake-opus-voice-message")

func TestTranscribe(t *testing.T) {
	srv := openaitest.New(t)
	srv.SetTranscribe(func(c openaitest.TranscriptionCall) (string, *openaitest.APIError) {
		return "  我妈的养老金怎么停了？\n", nil
	})
	w, err := NewWhisper(ai.New(srv.Client()), Options{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := w.Transcribe(context.Background(), voice, "voice/file_7.oga", "zh-Hant")
	if err != nil {
		t.Fatal(err)
	}
	if got != "我妈的养老金怎么停了？" {
		t.Errorf("text = %q", got)
	}
	calls := srv.Transcriptions()
	if len(calls) != 1 {
		t.Fatalf("%d calls", len(calls))
	}
	c := calls[0]
	if c.Model != openai.Whisper1 || c.Language != "zh" || c.Filename != "file_7.oga" || string(c.Audio) != string(voice) {
		t.Errorf("call = model %q lang %q file %q audio %q", c.Model, c.Language, c.Filename, c.Audio)
	}
	if c.ResponseFormat != "json" {
		t.Errorf("response_format = %q", c.ResponseFormat)
	}
}

func TestLanguageHints(t *testing.T) {
	srv := openaitest.New(t)
	srv.SetTranscribe(func(openaitest.TranscriptionCall) (string, *openaitest.APIError) { return "hola", nil })
	w, err := NewWhisper(ai.New(srv.Client()), Options{Model: "gpt-4o-mini-transcribe"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, want string }{
		{"zh-Hans", "zh"}, {"zh-Hant", "zh"}, {"en", "en"}, {"es", "es"}, {"fr", ""}, {"", ""},
	} {
		if _, err := w.Transcribe(context.Background(), voice, "", tc.lang); err != nil {
			t.Fatal(err)
		}
		calls := srv.Transcriptions()
		c := calls[len(calls)-1]
		if c.Language != tc.want {
			t.Errorf("%q: language %q, want %q", tc.lang, c.Language, tc.want)
		}
		if c.Model != "gpt-4o-mini-transcribe" {
			t.Errorf("model %q", c.Model)
		}
		if c.Filename != "voice.ogg" {
			t.Errorf("file name %q, want voice.ogg", c.Filename)
		}
	}
}

func TestUploadName(t *testing.T) {
	for in, want := range map[string]string{
		"":                  "voice.ogg",
		"voice/file_12.oga": "file_12.oga",
		"../../etc/passwd":  "passwd.ogg",
		`C:\tmp\note.MP3`:   "note.MP3",
		"file_3":            "file_3.ogg",
		"a\"b\r\n.ogg":      "ab.ogg",
		"/":                 "voice.ogg",
		"语音.webm":           "语音.webm",
		"recording.opus":    "recording.opus.ogg",
	} {
		if got := uploadName(in); got != want {
			t.Errorf("uploadName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNoSpeech(t *testing.T) {
	srv := openaitest.New(t)
	var text string
	srv.SetTranscribe(func(openaitest.TranscriptionCall) (string, *openaitest.APIError) { return text, nil })
	w, _ := NewWhisper(ai.New(srv.Client()), Options{})
	for _, text = range []string{"", "   \n", "…", "字幕由Amara.org社区提供", "Thanks for watching!"} {
		_, err := w.Transcribe(context.Background(), voice, "v.ogg", "en")
		if !errors.Is(err, ErrNoSpeech) {
			t.Errorf("%q: err = %v, want ErrNoSpeech", text, err)
		}
	}
	// Empty audio is refused without a request.
	n := len(srv.Transcriptions())
	if _, err := w.Transcribe(context.Background(), nil, "v.ogg", "en"); !errors.Is(err, ErrNoSpeech) {
		t.Errorf("empty audio: err = %v", err)
	}
	if len(srv.Transcriptions()) != n {
		t.Error("empty audio was sent")
	}
}

func TestTooLarge(t *testing.T) {
	srv := openaitest.New(t)
	srv.SetTranscribe(func(openaitest.TranscriptionCall) (string, *openaitest.APIError) { return "x", nil })
	w, _ := NewWhisper(ai.New(srv.Client()), Options{MaxBytes: 16})
	_, err := w.Transcribe(context.Background(), make([]byte, 17), "v.ogg", "en")
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("err = %v, want ErrTooLarge", err)
	}
	if len(srv.Transcriptions()) != 0 {
		t.Error("oversized audio was sent")
	}
	d, _ := NewWhisper(ai.New(srv.Client()), Options{})
	if d.opts.MaxBytes != 20<<20 {
		t.Errorf("default limit %d", d.opts.MaxBytes)
	}
}

func TestErrorsWrapped(t *testing.T) {
	srv := openaitest.New(t)
	srv.SetTranscribe(func(openaitest.TranscriptionCall) (string, *openaitest.APIError) {
		return "", openaitest.Error(http.StatusBadRequest, "Invalid file format.")
	})
	w, _ := NewWhisper(ai.New(srv.Client()), Options{})
	_, err := w.Transcribe(context.Background(), voice, "v.ogg", "es")
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != http.StatusBadRequest {
		t.Fatalf("err = %v, want a wrapped *openai.APIError 400", err)
	}
	if !strings.HasPrefix(err.Error(), "speech: transcribe with whisper-1:") {
		t.Errorf("err = %q", err)
	}
}

func TestTimeout(t *testing.T) {
	srv := openaitest.New(t)
	srv.SetTranscribe(func(openaitest.TranscriptionCall) (string, *openaitest.APIError) { return "late", nil })
	srv.SetDelay(10 * time.Second)
	w, _ := NewWhisper(ai.New(srv.Client()), Options{Timeout: 100 * time.Millisecond})
	start := time.Now()
	_, err := w.Transcribe(context.Background(), voice, "v.ogg", "en")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
}

func TestNewWhisperNilClient(t *testing.T) {
	if _, err := NewWhisper(nil, Options{}); err == nil {
		t.Error("nil client accepted")
	}
}
