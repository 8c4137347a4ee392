// Package vision is a flows.Verifier that asks a vision-capable chat model
// (through package ai: OpenAI, or a local Ollama, vLLM or llama.cpp server)
// whether the face photo shows the person on the ID card, and for the
// general channel whether the liveness photo shows that person holding up
// the right code.
//
// A model may only say yes. Only a confident, consistent positive answer
// approves a case. Everything else — a negative answer, low confidence, a
// reason given, an answer that is not the JSON asked for, a refusal, a
// timeout, an API error, a picture that cannot be decoded — goes to the
// fallback verifier (normally the staff review queue), unchanged. A model
// must not take a pension away, so this package never rejects.
//
// The prompt holds no name, ID number or phone: comparing faces does not
// need them. The photos themselves are sent (the card photo shows the name
// and number; that cannot be helped), re-encoded as JPEG data URLs. Logs
// name the case by CaseID and say why a case went to the fallback, without
// personal data.
package vision

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strings"
	"time"

	"pensionbot/ai"
	"pensionbot/domain"
	"pensionbot/flows"
	"pensionbot/photo"
)

var _ flows.Verifier = (*Verifier)(nil)

// By is the Decision.By of approvals made by the model.
const By = "vision"

// Defaults of Options.
const (
	DefaultThreshold   = 0.9
	DefaultTimeout     = 60 * time.Second
	DefaultMaxTokens   = 200
	DefaultTemperature = 0.01
	DefaultMaxSide     = 1280
)

// Options configure New. The zero value works.
type Options struct {
	// Threshold is the least confidence that approves (DefaultThreshold
	// when 0). A value above 1 never approves.
	Threshold float64
	// Timeout bounds the model's answer (DefaultTimeout when 0). go-openai
	// does not retry; a timed-out case goes to the fallback.
	Timeout time.Duration
	// Logger receives one line per case (approved, or why it went to the
	// fallback); nil discards.
	Logger *slog.Logger
	// MaxTokens bounds the answer (DefaultMaxTokens when 0).
	MaxTokens int
	// Temperature of the answer (DefaultTemperature when 0: go-openai
	// drops a zero temperature).
	Temperature float32
	// MaxSide is the longest side of each picture sent, in pixels; larger
	// pictures are scaled down (DefaultMaxSide when 0).
	MaxSide int
	// Detail is the image_url detail (high when empty).
	Detail ai.Detail
}

// Verifier asks a model and passes every case it does not approve to a
// fallback verifier. It is safe for concurrent use.
type Verifier struct {
	client   *ai.Client
	model    string
	fallback flows.Verifier
	opts     Options
	logger   *slog.Logger
}

// New returns a verifier that asks model through client and hands every
// case the model does not approve to fallback. It panics when fallback is
// nil: without it, cases the model does not approve would have nowhere to
// go.
func New(client *ai.Client, model string, fallback flows.Verifier, opts Options) *Verifier {
	if fallback == nil {
		panic("vision: New needs a fallback verifier (the staff review queue)")
	}
	if opts.Threshold <= 0 {
		opts.Threshold = DefaultThreshold
	}
	if opts.Timeout <= 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxTokens <= 0 {
		opts.MaxTokens = DefaultMaxTokens
	}
	if opts.Temperature <= 0 {
		opts.Temperature = DefaultTemperature
	}
	if opts.MaxSide <= 0 {
		opts.MaxSide = DefaultMaxSide
	}
	if opts.Detail == "" {
		opts.Detail = ai.DetailHigh
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Verifier{client: client, model: model, fallback: fallback, opts: opts, logger: logger}
}

// Causes for passing a case to the fallback, as logged.
const (
	CauseNotSamePerson = "not_same_person" // the model says the faces differ
	CauseLowConfidence = "low_confidence"  // a positive answer below the threshold
	CauseLiveness      = "liveness"        // general channel: liveness_ok false
	CauseReason        = "reason_given"    // positive but with a reason: inconsistent
	CauseInvalid       = "invalid_answer"  // not the JSON asked for
	CauseRefused       = "refused"         // the model refused
	CauseTimeout       = "timeout"
	CauseRequestFailed = "request_failed" // API error, network error
	CauseBadPhoto      = "bad_photo"      // a picture that cannot be decoded
	CauseNoLiveness    = "no_liveness"    // general channel without liveness photo or code
)

// Answer is the model's answer, validated.
type Answer struct {
	SamePerson bool    `json:"same_person"`
	Confidence float64 `json:"confidence"`
	LivenessOK bool    `json:"liveness_ok"`
	Reason     string  `json:"reason"`
}

// ErrBadAnswer is wrapped by ParseAnswer's errors.
var ErrBadAnswer = errors.New("vision: model answer is not the JSON asked for")

// Submit implements flows.Verifier: it approves the case when the model
// answers a confident yes, and otherwise returns fallback.Submit's result.
// It returns an error only when the fallback fails.
func (v *Verifier) Submit(ctx context.Context, s domain.Submission) (domain.Decision, error) {
	start := time.Now()
	log := v.logger.With(slog.String("case_id", s.CaseID), slog.String("channel", s.Channel), slog.String("model", v.model))
	ans, cause, detail := v.judge(ctx, s)
	attrs := []any{slog.Duration("took", time.Since(start))}
	if ans != nil {
		attrs = append(attrs, slog.Bool("same_person", ans.SamePerson), slog.Float64("confidence", ans.Confidence),
			slog.Bool("liveness_ok", ans.LivenessOK), slog.String("reason", ans.Reason))
	}
	if cause == "" {
		log.Info("vision: approved by the model", attrs...)
		return domain.Decision{CaseID: s.CaseID, Outcome: domain.OutcomeApproved, By: By, DecidedAt: time.Now()}, nil
	}
	attrs = append(attrs, slog.String("cause", cause))
	if detail != "" {
		attrs = append(attrs, slog.String("detail", detail))
	}
	switch cause {
	case CauseNotSamePerson, CauseLowConfidence, CauseLiveness, CauseReason:
		log.Info("vision: not approved by the model, passing to the fallback", attrs...)
	default:
		log.Warn("vision: no usable answer from the model, passing to the fallback", attrs...)
	}
	d, err := v.fallback.Submit(ctx, s)
	if err != nil {
		return domain.Decision{}, fmt.Errorf("vision: case %s: fallback: %w", s.CaseID, err)
	}
	return d, nil
}

// judge asks the model. It returns the answer when there was one, and the
// cause for the fallback ("" to approve) with a loggable detail.
func (v *Verifier) judge(ctx context.Context, s domain.Submission) (*Answer, string, string) {
	general := s.Channel == domain.ChannelGeneral
	if general && (len(s.Liveness) == 0 || s.LivenessCode == "") {
		return nil, CauseNoLiveness, ""
	}
	pics := [][]byte{s.Card, s.Face}
	if general {
		pics = append(pics, s.Liveness)
	}
	urls := make([]string, len(pics))
	for i, p := range pics {
		u, err := v.dataURL(p)
		if err != nil {
			return nil, CauseBadPhoto, fmt.Sprintf("photo %d: %v", i+1, err)
		}
		urls[i] = u
	}

	ctx, cancel := context.WithTimeout(ctx, v.opts.Timeout)
	defer cancel()
	reply, err := v.client.Ask(ctx, v.chat(urls, general, s.LivenessCode))
	switch {
	case errors.Is(err, ai.ErrNoChoices):
		return nil, CauseInvalid, "no choices"
	case err != nil && (errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded)):
		return nil, CauseTimeout, fmt.Sprintf("no answer within %v", v.opts.Timeout)
	case err != nil:
		return nil, CauseRequestFailed, ai.Describe(err)
	case reply.Content == "" && reply.Refusal != "":
		return nil, CauseRefused, ""
	}
	ans, err := ParseAnswer(reply.Content)
	if err != nil {
		return nil, CauseInvalid, err.Error()
	}
	switch {
	case !ans.SamePerson:
		return &ans, CauseNotSamePerson, ""
	case ans.Reason != "":
		return &ans, CauseReason, ""
	case general && !ans.LivenessOK:
		return &ans, CauseLiveness, ""
	case ans.Confidence < v.opts.Threshold:
		return &ans, CauseLowConfidence, ""
	}
	return &ans, "", ""
}

const systemPrompt = `You assist the staff of a pension agency with the yearly pension certification. You compare photos; staff make every decision, so say honestly when you are unsure.
You get photo 1: the front of a Chinese resident ID card, with a printed portrait; photo 2: a face photo taken now; for some cases photo 3: the same person holding up a paper with a code written on it.
Answer with one JSON object and nothing else:
{"same_person": true or false, "confidence": number from 0 to 1, "liveness_ok": true or false, "reason": "" or a code}
- same_person: true when the face in photo 2 is the person of the portrait on the card. The card photo may be up to 20 years old: ageing, glasses, hair and lighting alone are no reason for false.
- confidence: how sure you are of your whole answer, from 0 (guess) to 1 (certain). Use a low value when a face is small, blurred, dark, covered or turned away.
- liveness_ok: with photo 3, true only when it shows the same person as photo 2, live (not a photo of a screen or of a printed picture), holding up a paper with exactly the code given. Without photo 3, answer true.
- reason: "" when everything is right; otherwise the main problem: "photo_unclear" (a photo cannot be judged), "face_mismatch" (not the same person), "liveness" (photo 3 is wrong), or "other".
Do not copy any text, name or number from the card into your answer.`

// schema is the JSON schema of the answer. The range of confidence is in
// its description: strict mode of some servers refuses minimum/maximum.
var schema = json.RawMessage(`{"type":"object","properties":{` +
	`"same_person":{"type":"boolean","description":"the face photo shows the person of the card's portrait"},` +
	`"confidence":{"type":"number","description":"0 to 1"},` +
	`"liveness_ok":{"type":"boolean","description":"the liveness photo is right; true when there is none"},` +
	`"reason":{"type":"string","enum":["","` + strings.Join(domain.Reasons, `","`) + `"]}},` +
	`"required":["same_person","confidence","liveness_ok","reason"],"additionalProperties":false}`)

// chat is the question to the model: the system prompt, then each photo
// after a short text that says what it is.
func (v *Verifier) chat(urls []string, general bool, code string) ai.Chat {
	labels := []string{"Photo 1: the front of the ID card.", "Photo 2: the face photo."}
	if general {
		labels = append(labels, fmt.Sprintf("Photo 3: the person holding up the code %q.", code))
	}
	var parts []ai.Part
	for i, u := range urls {
		parts = append(parts, ai.Part{Text: labels[i]}, ai.Part{Image: u})
	}
	task := "Compare photo 1 and photo 2. There is no photo 3."
	if general {
		task = fmt.Sprintf("Compare photo 1 and photo 2, and check photo 3 with the code %q.", code)
	}
	return ai.Chat{
		Model: v.model, System: systemPrompt, Parts: append(parts, ai.Part{Text: task}),
		MaxTokens: v.opts.MaxTokens, Temperature: v.opts.Temperature, Detail: v.opts.Detail,
		Schema: &ai.Schema{
			Name:        "face_check",
			Description: "Whether the face photo shows the person on the ID card, and whether the liveness photo is right",
			JSON:        schema,
		},
	}
}

// dataURL decodes a picture defensively (size limits, EXIF orientation),
// scales it down to MaxSide and returns it as a base64 JPEG data URL.
func (v *Verifier) dataURL(data []byte) (string, error) {
	img, _, err := photo.Decode(data, photo.Limits{})
	if err != nil {
		return "", err
	}
	return photo.DataURL(img, v.opts.MaxSide)
}

// ParseAnswer validates a model's answer: exactly one JSON object (bare or
// in a ``` fence) with exactly the four fields, of the right types,
// confidence within 0..1 and reason "" or one of domain.Reasons. Anything
// else is an error wrapping ErrBadAnswer; the error never quotes the
// answer.
func ParseAnswer(content string) (Answer, error) {
	// Strict: an answer that approves a case must be the object and
	// nothing else.
	text := ai.Unfence(content)
	var raw struct {
		SamePerson *bool    `json:"same_person"`
		Confidence *float64 `json:"confidence"`
		LivenessOK *bool    `json:"liveness_ok"`
		Reason     *string  `json:"reason"`
	}
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return Answer{}, fmt.Errorf("%w: %d-byte answer does not decode (%s)", ErrBadAnswer, len(content), decodeProblem(err))
	}
	if strings.TrimSpace(text[dec.InputOffset():]) != "" {
		return Answer{}, fmt.Errorf("%w: text after the object", ErrBadAnswer)
	}
	switch {
	case raw.SamePerson == nil, raw.Confidence == nil, raw.LivenessOK == nil, raw.Reason == nil:
		return Answer{}, fmt.Errorf("%w: a field is missing or null", ErrBadAnswer)
	case math.IsNaN(*raw.Confidence) || *raw.Confidence < 0 || *raw.Confidence > 1:
		return Answer{}, fmt.Errorf("%w: confidence %g outside 0..1", ErrBadAnswer, *raw.Confidence)
	case *raw.Reason != "" && !slices.Contains(domain.Reasons, *raw.Reason):
		return Answer{}, fmt.Errorf("%w: unknown reason (%d bytes)", ErrBadAnswer, len(*raw.Reason))
	}
	return Answer{SamePerson: *raw.SamePerson, Confidence: *raw.Confidence, LivenessOK: *raw.LivenessOK, Reason: *raw.Reason}, nil
}

// decodeProblem says what kind of decoding error err is, without quoting
// the answer (an unknown field's name could be anything the model wrote).
func decodeProblem(err error) string {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return "syntax error"
	case errors.As(err, &typ):
		return "wrong type of " + typ.Field
	case strings.Contains(err.Error(), "unknown field"):
		return "unknown field"
	}
	return "not an object"
}
