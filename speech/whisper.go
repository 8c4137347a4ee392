// Package speech turns voice messages into text with an OpenAI-compatible
// transcription endpoint (Whisper and its successors), so that older people
// can speak their questions instead of typing them.
package speech

import (
	"context"
	"errors"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode"

	"pensionbot/ai"
	"pensionbot/flows"
)

var _ flows.Transcriber = (*Whisper)(nil)

// ErrNoSpeech means the audio held no words: empty audio, silence, or one of
// the phrases Whisper is known to invent on silence. The flow should ask the
// person to speak again or to type.
var ErrNoSpeech = errors.New("speech: no speech in the audio")

// ErrTooLarge means the audio is bigger than Options.MaxBytes; it is not
// sent.
var ErrTooLarge = errors.New("speech: audio too large")

// MaxTelegramBytes is the largest file a bot can download from Telegram.
const MaxTelegramBytes = 20 << 20

// Options tunes a Whisper. The zero value is usable.
type Options struct {
	// Model is the transcription model; "whisper-1" when empty.
	Model string
	// Timeout bounds one transcription; 60 s when 0.
	Timeout time.Duration
	// MaxBytes is the largest audio accepted; MaxTelegramBytes when 0.
	MaxBytes int
}

// Whisper transcribes through package ai (an OpenAI-compatible audio API). It is safe for concurrent
// use.
type Whisper struct {
	client *ai.Client
	opts   Options
}

// NewWhisper returns a Whisper that uses client.
func NewWhisper(client *ai.Client, opts Options) (*Whisper, error) {
	if client == nil {
		return nil, errors.New("speech: NewWhisper: nil client")
	}
	if strings.TrimSpace(opts.Model) == "" {
		opts.Model = "whisper-1"
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 60 * time.Second
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = MaxTelegramBytes
	}
	return &Whisper{client: client, opts: opts}, nil
}

// LanguageHint maps a bot language to the ISO-639-1 code the transcription
// API takes: both Chinese scripts → "zh", "en", "es"; "" (let the model
// detect) for anything else.
func LanguageHint(lang string) string {
	switch {
	case lang == "zh" || strings.HasPrefix(lang, "zh-"):
		return "zh"
	case lang == "en" || strings.HasPrefix(lang, "en-"):
		return "en"
	case lang == "es" || strings.HasPrefix(lang, "es-"):
		return "es"
	}
	return ""
}

// audioExts are the file types the transcription API accepts; it decides
// the format by the file name.
var audioExts = map[string]bool{
	".flac": true, ".m4a": true, ".mp3": true, ".mp4": true, ".mpeg": true, ".mpga": true,
	".oga": true, ".ogg": true, ".wav": true, ".webm": true,
}

// uploadName returns a safe file name for the upload: the base name of
// filename, with .ogg added when it has no known audio extension (Telegram
// voice messages are OGG/Opus).
func uploadName(filename string) string {
	name := path.Base(strings.ReplaceAll(strings.TrimSpace(filename), "\\", "/"))
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == '"' {
			return -1
		}
		return r
	}, name)
	if name == "" || name == "." || name == "/" {
		name = "voice"
	}
	if !audioExts[strings.ToLower(path.Ext(name))] {
		name += ".ogg"
	}
	return name
}

// Transcribe sends audio to the transcription endpoint and returns the text,
// trimmed. lang is the person's bot language, used as a hint. Empty audio,
// or a transcript without words, gives ErrNoSpeech; audio over MaxBytes
// gives ErrTooLarge without a request.
func (w *Whisper) Transcribe(ctx context.Context, audio []byte, filename, lang string) (string, error) {
	if len(audio) == 0 {
		return "", fmt.Errorf("speech: empty audio: %w", ErrNoSpeech)
	}
	if len(audio) > w.opts.MaxBytes {
		return "", fmt.Errorf("speech: %d bytes, limit %d: %w", len(audio), w.opts.MaxBytes, ErrTooLarge)
	}
	ctx, cancel := context.WithTimeout(ctx, w.opts.Timeout)
	defer cancel()
	text, err := w.client.Transcribe(ctx, w.opts.Model, audio, uploadName(filename), LanguageHint(lang))
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			return "", fmt.Errorf("speech: transcribe with %s: timed out after %v: %w", w.opts.Model, w.opts.Timeout, err)
		}
		return "", fmt.Errorf("speech: transcribe with %s: %w", w.opts.Model, err)
	}
	text = strings.TrimSpace(text)
	if !hasWords(text) || isSilenceHallucination(text) {
		return "", ErrNoSpeech
	}
	return text, nil
}

// hasWords reports whether s has a letter or a digit.
func hasWords(s string) bool {
	return strings.IndexFunc(s, func(r rune) bool { return unicode.IsLetter(r) || unicode.IsNumber(r) }) >= 0
}

// silencePhrases are texts Whisper is known to produce from silence or
// noise (subtitle credits from its training data). Compared after folding
// case and dropping punctuation and spaces; only whole transcripts match.
var silencePhrases = func() map[string]bool {
	m := make(map[string]bool)
	for _, p := range []string{
		"字幕由Amara.org社区提供",
		"字幕由Amara.org社群提供",
		"请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
		"Thanks for watching!",
		"Thank you for watching.",
		"Subtítulos realizados por la comunidad de Amara.org",
		"Subtitles by the Amara.org community",
	} {
		m[squash(p)] = true
	}
	return m
}()

func isSilenceHallucination(s string) bool { return silencePhrases[squash(s)] }

func squash(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsNumber(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, s)
}
