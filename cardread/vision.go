package cardread

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"pensionbot/ai"
	"pensionbot/flows"
	"pensionbot/idcard"
	"pensionbot/photo"
)

var _ flows.CardReader = (*Vision)(nil)

// ErrBadAnswer is returned (wrapped) when the model's answer holds no JSON
// object with the fields asked for. The answer itself is not included: it
// may contain personal data.
var ErrBadAnswer = errors.New("model answer is not the JSON asked for")

// Defaults of VisionOptions.
const (
	DefaultVisionTimeout     = 60 * time.Second
	DefaultVisionMaxTokens   = 300
	DefaultVisionTemperature = 0.01
	DefaultVisionMaxSide     = 1600
)

// VisionOptions configure NewVision. The zero value works.
type VisionOptions struct {
	// Timeout bounds one ReadCard, the model's answer included
	// (DefaultVisionTimeout when 0). go-openai does not retry.
	Timeout time.Duration
	// MaxTokens bounds the answer (DefaultVisionMaxTokens when 0). It is
	// sent as max_tokens, or as max_completion_tokens for reasoning models
	// that refuse max_tokens.
	MaxTokens int
	// Temperature of the answer (DefaultVisionTemperature when 0: go-openai
	// drops a zero temperature, and the server's default is often 1).
	Temperature float32
	// MaxSide is the longest side of the picture sent, in pixels; larger
	// pictures are scaled down (DefaultVisionMaxSide when 0).
	MaxSide int
	// Detail is the image_url detail (high when empty).
	Detail ai.Detail
	// MaxPixels refuses larger pictures (DefaultMaxPixels when 0).
	MaxPixels int
	// Logger receives debug lines with timings and masked results; nil
	// discards them. The image and the full number are never logged.
	Logger *slog.Logger
	// Now gives the date for the "birth date not in the future" check
	// (time.Now when nil).
	Now func() time.Time
}

// Vision reads cards with a vision-capable chat model behind an
// OpenAI-compatible API (OpenAI, or a local Ollama, vLLM or llama.cpp
// server through the client's BaseURL). The picture goes inline as a
// base64 JPEG data URL; the model is asked for {"name", "id_number"} with a
// strict JSON schema. Local servers may ignore the schema, so the answer is
// parsed leniently (code fences and text around the object are tolerated)
// and checked like OCR output: the number must pass idcard.Parse, the name
// must look like a Chinese name.
type Vision struct {
	client *ai.Client
	model  string
	opts   VisionOptions
	logger *slog.Logger
}

// NewVision returns a reader that asks model through client.
func NewVision(client *ai.Client, model string, opts VisionOptions) *Vision {
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultVisionTimeout
	}
	if opts.MaxTokens <= 0 {
		opts.MaxTokens = DefaultVisionMaxTokens
	}
	if opts.Temperature <= 0 {
		opts.Temperature = DefaultVisionTemperature
	}
	if opts.MaxSide <= 0 {
		opts.MaxSide = DefaultVisionMaxSide
	}
	if opts.Detail == "" {
		opts.Detail = ai.DetailHigh
	}
	if opts.MaxPixels <= 0 {
		opts.MaxPixels = DefaultMaxPixels
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Vision{client: client, model: model, opts: opts, logger: logger}
}

const visionSystemPrompt = `You read the front of a Chinese resident identity card (居民身份证) in a photo.
Answer with one JSON object and nothing else: {"name": "...", "id_number": "..."}.
- name: the 姓名 field exactly as printed, in Chinese characters (keep the middle dot · of transcribed names).
- id_number: the 18-character 公民身份号码 exactly as printed: 17 digits and a last digit or X, no spaces.
Use "" for a field you cannot read with certainty. Never guess, correct or invent characters.
If the picture is not the front of a resident identity card, answer {"name": "", "id_number": ""}.`

const visionUserPrompt = "Read the name and the ID number on this card."

// visionSchema is the strict JSON schema of the answer.
var visionSchema = json.RawMessage(`{"type":"object","properties":{` +
	`"name":{"type":"string","description":"姓名 as printed, or empty"},` +
	`"id_number":{"type":"string","description":"18-character 公民身份号码 as printed, or empty"}},` +
	`"required":["name","id_number"],"additionalProperties":false}`)

// ReadCard implements flows.CardReader. It returns an error when the
// picture is not a usable image, the request fails or times out, or the
// answer holds no JSON object (ErrBadAnswer); an unreadable or invalid
// field is returned empty without an error.
func (v *Vision) ReadCard(ctx context.Context, data []byte) (flows.CardFields, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, v.opts.Timeout)
	defer cancel()

	img, err := decodeImage(data, v.opts.MaxPixels)
	if err != nil {
		return flows.CardFields{}, fmt.Errorf("cardread: vision: %w", err)
	}
	url, err := photo.DataURL(img, v.opts.MaxSide)
	if err != nil {
		return flows.CardFields{}, fmt.Errorf("cardread: vision: %w", err)
	}
	reply, err := v.client.Ask(ctx, v.chat(url))
	if errors.Is(err, ai.ErrNoChoices) {
		return flows.CardFields{}, fmt.Errorf("cardread: vision model %s: no choices: %w", v.model, ErrBadAnswer)
	}
	if err != nil {
		return flows.CardFields{}, fmt.Errorf("cardread: vision model %s: %w", v.model, ai.Redact(err))
	}
	if reply.Content == "" && reply.Refusal != "" {
		return flows.CardFields{}, fmt.Errorf("cardread: vision model %s refused: %w", v.model, ErrBadAnswer)
	}
	name, number, ok := parseAnswer(reply.Content)
	if !ok {
		return flows.CardFields{}, fmt.Errorf("cardread: vision model %s: %d-byte answer: %w", v.model, len(reply.Content), ErrBadAnswer)
	}
	var fields flows.CardFields
	fields.Name = cleanName(name)
	if ns := exactNumbers(idcard.Normalize(number), v.opts.Now()); len(ns) == 1 {
		fields.Number = ns[0]
	}
	v.logger.Debug("cardread: vision read a card",
		slog.String("model", v.model),
		slog.Duration("took", time.Since(start)),
		slog.String("number", idcard.Mask(fields.Number)),
		slog.Bool("number_rejected", number != "" && fields.Number == ""),
		slog.Bool("name", fields.Name != ""),
		slog.Int("prompt_tokens", reply.PromptTokens),
		slog.Int("completion_tokens", reply.CompletionTokens))
	return fields, nil
}

// chat is the question to the model: the prompt, the picture, the schema.
func (v *Vision) chat(dataURL string) ai.Chat {
	return ai.Chat{
		Model: v.model, System: visionSystemPrompt,
		Parts:     []ai.Part{{Text: visionUserPrompt}, {Image: dataURL}},
		MaxTokens: v.opts.MaxTokens, Temperature: v.opts.Temperature, Detail: v.opts.Detail,
		Schema: &ai.Schema{
			Name:        "id_card_front",
			Description: "Name and ID number read from the front of a Chinese resident identity card",
			JSON:        visionSchema,
		},
	}
}

// parseAnswer finds the JSON object in a model's answer: the whole answer,
// the inside of a ``` fence, or the first balanced {...} in the text. It
// accepts a few other key spellings that models use despite the schema.
func parseAnswer(content string) (name, number string, ok bool) {
	for _, c := range ai.Objects(content) {
		dec := json.NewDecoder(strings.NewReader(c))
		dec.UseNumber() // an unquoted 18-digit number must keep its digits
		var m map[string]any
		if dec.Decode(&m) != nil || m == nil {
			continue
		}
		name, nameOK := field(m, "name", "姓名", "full_name")
		number, numberOK := field(m, "id_number", "idNumber", "id", "number", "id_card_number", "公民身份号码")
		if nameOK || numberOK {
			return name, number, true
		}
	}
	return "", "", false
}

// field returns the first of keys present in m as a string.
func field(m map[string]any, keys ...string) (string, bool) {
	for _, k := range keys {
		switch v := m[k].(type) {
		case string:
			return v, true
		case json.Number:
			return v.String(), true
		case nil:
			if _, ok := m[k]; ok {
				return "", true
			}
		}
	}
	return "", false
}
