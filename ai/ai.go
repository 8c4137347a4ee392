// Package ai is the program's one adapter to OpenAI-compatible services
// (OpenAI, vLLM, Ollama, llama.cpp …), through go-openai: a chat whose
// answer is one JSON object (text and pictures in, a schema out), and the
// transcription of speech. The packages that use a model (the answerer,
// the card reader, the vision verifier, voice questions) say what to ask
// and what the answer means; how a request is built, which models refuse
// which settings, how an answer wrapped in a code fence is unwrapped and
// how a failure is described without quoting personal data is here, once.
package ai

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"

	openai "github.com/sashabaranov/go-openai"
)

// Client talks to one OpenAI-compatible server.
type Client struct {
	c *openai.Client
}

// New wraps a go-openai client (configured with the server's base URL and
// key in cmd/).
func New(c *openai.Client) *Client { return &Client{c: c} }

// Detail is how closely a model looks at pictures.
type Detail = openai.ImageURLDetail

// The details a picture may be looked at with.
const (
	DetailHigh = openai.ImageURLDetailHigh
	DetailLow  = openai.ImageURLDetailLow
	DetailAuto = openai.ImageURLDetailAuto
)

// Part is one piece of the user's message: a text, or a picture as a data
// URL (see photo.DataURL).
type Part struct {
	Text  string
	Image string
}

// Schema is the JSON schema the answer must follow (strict structured
// output; servers that ignore it are caught by the caller's validation).
type Schema struct {
	Name, Description string
	JSON              json.RawMessage
}

// Chat is one question to a model.
type Chat struct {
	Model  string
	System string
	Parts  []Part
	Schema *Schema
	// MaxTokens bounds the answer (0: the server's default).
	MaxTokens int
	// Temperature 0 is dropped by go-openai (omitempty), which leaves the
	// server's default; use a small positive value for "almost none".
	Temperature float32
	// Detail is how closely pictures are looked at (default high).
	Detail Detail
}

// Reply is a model's answer.
type Reply struct {
	Content, Refusal, FinishReason string
	PromptTokens, CompletionTokens int
}

// ErrNoChoices means the server answered without any choice.
var ErrNoChoices = errors.New("ai: the answer has no choices")

// Ask sends a chat and returns the first choice.
func (c *Client) Ask(ctx context.Context, ch Chat) (Reply, error) {
	resp, err := c.c.CreateChatCompletion(ctx, request(ch))
	if err != nil {
		return Reply{}, fmt.Errorf("ai: chat with %s: %w", ch.Model, err)
	}
	if len(resp.Choices) == 0 {
		return Reply{}, fmt.Errorf("ai: chat with %s: %w", ch.Model, ErrNoChoices)
	}
	m := resp.Choices[0]
	return Reply{
		Content: m.Message.Content, Refusal: m.Message.Refusal, FinishReason: string(m.FinishReason),
		PromptTokens: resp.Usage.PromptTokens, CompletionTokens: resp.Usage.CompletionTokens,
	}, nil
}

// request builds the chat request. Reasoning models (o-series, gpt-5)
// refuse max_tokens and a temperature; go-openai's own validator says
// which, and such requests use max_completion_tokens instead.
func request(ch Chat) openai.ChatCompletionRequest {
	detail := ch.Detail
	if detail == "" {
		detail = openai.ImageURLDetailHigh
	}
	user := openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser}
	if len(ch.Parts) == 1 && ch.Parts[0].Image == "" {
		user.Content = ch.Parts[0].Text
	} else {
		for _, p := range ch.Parts {
			if p.Image != "" {
				user.MultiContent = append(user.MultiContent, openai.ChatMessagePart{
					Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: p.Image, Detail: detail}})
			} else {
				user.MultiContent = append(user.MultiContent, openai.ChatMessagePart{Type: openai.ChatMessagePartTypeText, Text: p.Text})
			}
		}
	}
	req := openai.ChatCompletionRequest{
		Model:       ch.Model,
		Messages:    []openai.ChatCompletionMessage{{Role: openai.ChatMessageRoleSystem, Content: ch.System}, user},
		MaxTokens:   ch.MaxTokens,
		Temperature: ch.Temperature,
	}
	if ch.Schema != nil {
		req.ResponseFormat = &openai.ChatCompletionResponseFormat{
			Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{
				Name: ch.Schema.Name, Description: ch.Schema.Description, Schema: ch.Schema.JSON, Strict: true,
			},
		}
	}
	if openai.NewReasoningValidator().Validate(req) != nil {
		req.MaxCompletionTokens, req.MaxTokens = req.MaxTokens, 0
		req.Temperature = 0
	}
	return req
}

// fence matches a Markdown code fence around an answer.
var fence = regexp.MustCompile("(?s)```[a-zA-Z]*\\s*(.*?)```")

// Unfence returns the inside of an answer that is one ``` fence and
// nothing else, and any other answer as it is (trimmed): for callers that
// want the object and nothing around it.
func Unfence(content string) string {
	text := strings.TrimSpace(content)
	if m := fence.FindStringSubmatchIndex(text); m != nil && m[0] == 0 && m[1] == len(text) {
		return strings.TrimSpace(text[m[2]:m[3]])
	}
	return text
}

// Objects returns the texts in a model's answer that may be the JSON
// object asked for, most likely first: the whole answer, the inside of
// each ``` fence, and the first balanced {...} in the text (models wrap
// answers in fences and prose despite the schema).
func Objects(content string) []string {
	out := []string{strings.TrimSpace(content)}
	for _, m := range fence.FindAllStringSubmatch(content, -1) {
		out = append(out, strings.TrimSpace(m[1]))
	}
	if obj := firstObject(content); obj != "" {
		out = append(out, obj)
	}
	return out
}

// firstObject returns the first balanced {...} of s, minding strings.
func firstObject(s string) string {
	start := strings.IndexByte(s, '{')
	if start < 0 {
		return ""
	}
	depth, inString, escaped := 0, false, false
	for i := start; i < len(s); i++ {
		c := s[i]
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{':
			depth++
		case c == '}':
			depth--
			if depth == 0 {
				return s[start : i+1]
			}
		}
	}
	return ""
}

// dataURLs matches inline pictures a server might echo in an error.
var dataURLs = regexp.MustCompile(`data:[a-z/+-]+;base64,[A-Za-z0-9+/=]+`)

// Describe says what went wrong with a call, for the log, without its
// text (which may quote the request: a question, a card): the status and
// type of an API error, or a bounded message without inline pictures.
func Describe(err error) string {
	var api *openai.APIError
	if errors.As(err, &api) {
		return fmt.Sprintf("HTTP %d %s %v", api.HTTPStatusCode, api.Type, api.Code)
	}
	var re *openai.RequestError
	if errors.As(err, &re) {
		return fmt.Sprintf("HTTP %d", re.HTTPStatusCode)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	if errors.Is(err, context.Canceled) {
		return "canceled"
	}
	msg := dataURLs.ReplaceAllString(err.Error(), "data:…")
	if len(msg) > 200 {
		msg = strings.ToValidUTF8(msg[:200], "") + "…"
	}
	return msg
}

// Attrs describes a failed call for a structured log line, without its
// text: the kind of failure ("timeout", "canceled", "api_error",
// "http_error", "transport") and status codes. parent is the caller's own
// context, to tell a call's timeout from the caller giving up.
func Attrs(parent context.Context, err error) []any {
	var apiErr *openai.APIError
	var reqErr *openai.RequestError
	switch {
	case errors.Is(err, context.DeadlineExceeded) && parent.Err() == nil:
		return []any{"cause", "timeout"}
	case errors.Is(err, context.Canceled) || parent.Err() != nil:
		return []any{"cause", "canceled"}
	case errors.As(err, &apiErr):
		return []any{"cause", "api_error", "status", apiErr.HTTPStatusCode, "type", apiErr.Type, "code", fmt.Sprint(apiErr.Code)}
	case errors.As(err, &reqErr):
		return []any{"cause", "http_error", "status", reqErr.HTTPStatusCode}
	}
	return []any{"cause", "transport", "error_type", fmt.Sprintf("%T", errors.Unwrap(err))}
}

// Redact bounds what an error prints, keeping its cause for errors.Is and
// errors.As: servers sometimes echo parts of the request in an error, and
// the request holds pictures of cards and faces.
func Redact(err error) error {
	msg := dataURLs.ReplaceAllString(err.Error(), "data:…")
	if len(msg) > 300 {
		msg = strings.ToValidUTF8(msg[:300], "") + "…"
	}
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

// redactedError prints a bounded message and unwraps to the cause.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// Transcribe turns speech into text with a transcription model; lang is a
// hint ("zh", "en", "es" or "").
func (c *Client) Transcribe(ctx context.Context, model string, audio []byte, filename, lang string) (string, error) {
	resp, err := c.c.CreateTranscription(ctx, openai.AudioRequest{
		Model:    model,
		Reader:   bytes.NewReader(audio),
		FilePath: filename,
		Language: lang,
		Format:   openai.AudioResponseFormatJSON,
	})
	if err != nil {
		return "", fmt.Errorf("ai: transcribe with %s: %w", model, err)
	}
	return resp.Text, nil
}
