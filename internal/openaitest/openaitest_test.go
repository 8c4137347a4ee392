package openaitest_test

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"pensionbot/internal/openaitest"
)

func TestChat(t *testing.T) {
	srv := openaitest.New(t)
	if !strings.HasSuffix(srv.URL, "/v1") {
		t.Fatalf("URL = %q, want it to end in /v1", srv.URL)
	}
	srv.SetChat(func(req openai.ChatCompletionRequest) (string, *openaitest.APIError) {
		return "你好, " + openaitest.MessageText(req.Messages[len(req.Messages)-1]), nil
	})
	cfg := openai.DefaultConfig(srv.Key)
	cfg.BaseURL = srv.URL
	client := openai.NewClientWithConfig(cfg)

	resp, err := client.CreateChatCompletion(context.Background(), openai.ChatCompletionRequest{
		Model:       "test-model",
		Temperature: 0.2,
		Messages: []openai.ChatCompletionMessage{
			{Role: openai.ChatMessageRoleSystem, Content: "be brief"},
			{Role: openai.ChatMessageRoleUser, Content: "王伟"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := resp.Choices[0].Message.Content; got != "你好, 王伟" {
		t.Errorf("content = %q", got)
	}
	if resp.ID == "" || resp.Model != "test-model" || resp.Object != "chat.completion" || resp.Created == 0 {
		t.Errorf("response header fields = %q %q %q %d", resp.ID, resp.Model, resp.Object, resp.Created)
	}
	if resp.Choices[0].Message.Role != openai.ChatMessageRoleAssistant || resp.Choices[0].FinishReason != openai.FinishReasonStop {
		t.Errorf("choice = %+v", resp.Choices[0])
	}
	if u := resp.Usage; u.PromptTokens == 0 || u.CompletionTokens == 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Errorf("usage = %+v", u)
	}

	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("recorded %d requests, want 1", len(reqs))
	}
	if r := reqs[0]; r.Model != "test-model" || r.Temperature != 0.2 || len(r.Messages) != 2 || r.Messages[0].Content != "be brief" {
		t.Errorf("recorded request = %+v", r)
	}
}

func TestChatMultiContentAndSchema(t *testing.T) {
	srv := openaitest.New(t)
	srv.SetChat(func(openai.ChatCompletionRequest) (string, *openaitest.APIError) { return `{"ok":true}`, nil })
	client := srv.Client()
	schema := []byte(`{"type":"object","properties":{"ok":{"type":"boolean"}},"required":["ok"],"additionalProperties":false}`)
	_, err := client.CreateChatCompletion(context.Background(), openai.ChatCompletionRequest{
		Model: "vision",
		Messages: []openai.ChatCompletionMessage{{
			Role: openai.ChatMessageRoleUser,
			MultiContent: []openai.ChatMessagePart{
				{Type: openai.ChatMessagePartTypeText, Text: "what is this?"},
				{Type: openai.ChatMessagePartTypeImageURL, ImageURL: &openai.ChatMessageImageURL{URL: "data:image/jpeg;base64,AAAA", Detail: openai.ImageURLDetailHigh}},
			},
		}},
		ResponseFormat: &openai.ChatCompletionResponseFormat{
			Type: openai.ChatCompletionResponseFormatTypeJSONSchema,
			JSONSchema: &openai.ChatCompletionResponseFormatJSONSchema{
				Name: "answer", Strict: true, Schema: rawJSON(schema),
			},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	req := srv.Requests()[0]
	if got := openaitest.ImageURLs(req); len(got) != 1 || got[0] != "data:image/jpeg;base64,AAAA" {
		t.Errorf("ImageURLs = %q", got)
	}
	if got := openaitest.MessageText(req.Messages[0]); got != "what is this?" {
		t.Errorf("MessageText = %q", got)
	}
	rf := req.ResponseFormat
	if rf == nil || rf.Type != openai.ChatCompletionResponseFormatTypeJSONSchema || rf.JSONSchema == nil || !rf.JSONSchema.Strict || rf.JSONSchema.Name != "answer" {
		t.Fatalf("response format = %+v", rf)
	}
	if got, _ := rf.JSONSchema.Schema.MarshalJSON(); !bytes.Equal(got, schema) {
		t.Errorf("schema = %s", got)
	}
}

type rawJSON []byte

func (r rawJSON) MarshalJSON() ([]byte, error) { return r, nil }

func TestChatErrors(t *testing.T) {
	srv := openaitest.New(t)
	client := srv.Client()
	req := openai.ChatCompletionRequest{Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}}}

	// No handler yet.
	_, err := client.CreateChatCompletion(context.Background(), req)
	assertAPIError(t, err, http.StatusNotImplemented, "no chat handler")

	srv.SetChat(func(openai.ChatCompletionRequest) (string, *openaitest.APIError) {
		return "", openaitest.Error(http.StatusInternalServerError, "The server had an error")
	})
	_, err = client.CreateChatCompletion(context.Background(), req)
	apiErr := assertAPIError(t, err, http.StatusInternalServerError, "The server had an error")
	if apiErr != nil && apiErr.Type != "server_error" {
		t.Errorf("type = %q", apiErr.Type)
	}

	srv.SetChat(func(openai.ChatCompletionRequest) (string, *openaitest.APIError) { return "", openaitest.RateLimited() })
	_, err = client.CreateChatCompletion(context.Background(), req)
	if apiErr := assertAPIError(t, err, http.StatusTooManyRequests, "Rate limit"); apiErr != nil && apiErr.Code != "rate_limit_exceeded" {
		t.Errorf("code = %v", apiErr.Code)
	}

	// Both failed requests were recorded; the one without a handler too.
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("recorded %d requests, want 3", n)
	}
}

func TestAuth(t *testing.T) {
	srv := openaitest.New(t)
	srv.SetChat(func(openai.ChatCompletionRequest) (string, *openaitest.APIError) { return "ok", nil })
	for _, key := range []string{"sk-wrong", ""} {
		client := openai.NewClientWithConfig(func() openai.ClientConfig {
			cfg := openai.DefaultConfig(key)
			cfg.BaseURL = srv.URL
			return cfg
		}())
		_, err := client.CreateChatCompletion(context.Background(), openai.ChatCompletionRequest{
			Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}},
		})
		if apiErr := assertAPIError(t, err, http.StatusUnauthorized, "API key"); apiErr != nil && apiErr.Code != "invalid_api_key" {
			t.Errorf("code = %v", apiErr.Code)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("recorded %d unauthorised requests", n)
	}
}

func TestDelayAndTimeout(t *testing.T) {
	srv := openaitest.New(t)
	srv.SetChat(func(openai.ChatCompletionRequest) (string, *openaitest.APIError) { return "late", nil })
	srv.SetDelay(10 * time.Second)
	client := srv.Client()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := client.CreateChatCompletion(ctx, openai.ChatCompletionRequest{
		Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}},
	})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}

	srv.SetDelay(50 * time.Millisecond)
	resp, err := client.CreateChatCompletion(context.Background(), openai.ChatCompletionRequest{
		Model: "m", Messages: []openai.ChatCompletionMessage{{Role: "user", Content: "hi"}},
	})
	if err != nil || resp.Choices[0].Message.Content != "late" {
		t.Fatalf("after a short delay: %v %+v", err, resp)
	}
}

func TestTranscription(t *testing.T) {
	srv := openaitest.New(t)
	srv.SetTranscribe(func(c openaitest.TranscriptionCall) (string, *openaitest.APIError) {
		if string(c.Audio) != "OggS-fake-audio" {
			return "", openaitest.Error(http.StatusBadRequest, "unexpected audio")
		}
		return "我想认证", nil
	})
	client := srv.Client()
	for _, format := range []openai.AudioResponseFormat{"", openai.AudioResponseFormatJSON, openai.AudioResponseFormatText, openai.AudioResponseFormatVerboseJSON, openai.AudioResponseFormatSRT, openai.AudioResponseFormatVTT} {
		resp, err := client.CreateTranscription(context.Background(), openai.AudioRequest{
			Model:    openai.Whisper1,
			FilePath: "voice.ogg",
			Reader:   strings.NewReader("OggS-fake-audio"),
			Language: "zh",
			Format:   format,
		})
		if err != nil {
			t.Fatalf("format %q: %v", format, err)
		}
		if !strings.Contains(resp.Text, "我想认证") {
			t.Errorf("format %q: text = %q", format, resp.Text)
		}
		if (format == "" || format == openai.AudioResponseFormatJSON || format == openai.AudioResponseFormatText) && strings.TrimSpace(resp.Text) != "我想认证" {
			t.Errorf("format %q: text = %q, want exactly the transcription", format, resp.Text)
		}
	}
	calls := srv.Transcriptions()
	if len(calls) != 6 {
		t.Fatalf("recorded %d transcriptions, want 6", len(calls))
	}
	c := calls[2]
	if c.Model != openai.Whisper1 || c.Language != "zh" || c.ResponseFormat != "text" || c.Filename != "voice.ogg" || string(c.Audio) != "OggS-fake-audio" {
		t.Errorf("call = %+v", c)
	}

	srv.SetTranscribe(func(openaitest.TranscriptionCall) (string, *openaitest.APIError) {
		return "", openaitest.Error(http.StatusServiceUnavailable, "overloaded")
	})
	_, err := client.CreateTranscription(context.Background(), openai.AudioRequest{
		Model: openai.Whisper1, FilePath: "v.ogg", Reader: strings.NewReader("x"),
	})
	assertAPIError(t, err, http.StatusServiceUnavailable, "overloaded")
}

func TestUnknownEndpoint(t *testing.T) {
	srv := openaitest.New(t)
	_, err := srv.Client().ListModels(context.Background())
	assertAPIError(t, err, http.StatusNotFound, "unknown endpoint")
}

func assertAPIError(t *testing.T, err error, status int, msg string) *openai.APIError {
	t.Helper()
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) {
		t.Errorf("err = %v (%T), want *openai.APIError", err, err)
		return nil
	}
	if apiErr.HTTPStatusCode != status || !strings.Contains(apiErr.Message, msg) {
		t.Errorf("APIError = %d %q, want %d containing %q", apiErr.HTTPStatusCode, apiErr.Message, status, msg)
	}
	return apiErr
}
