// Package openaitest is a fake OpenAI-compatible HTTP server for tests of
// code that uses github.com/sashabaranov/go-openai. It speaks the real wire
// format, so the code under test runs with the real client:
//
//	srv := openaitest.New(t)
//	srv.SetChat(func(req openai.ChatCompletionRequest) (string, *openaitest.APIError) {
//		return `{"name":"张秀兰"}`, nil
//	})
//	client := openai.NewClientWithConfig(srv.Config()) // or openai.DefaultConfig(srv.Key) with BaseURL = srv.URL
//	... exercise the code ...
//	reqs := srv.Requests() // what the client sent, decoded
//
// Endpoints:
//
//   - POST /v1/chat/completions: the JSON body is decoded into an
//     openai.ChatCompletionRequest and recorded, the chat handler makes the
//     answer, and the server replies with a ChatCompletionResponse (id,
//     object, created, model, one choice with the assistant message,
//     finish_reason "stop", usage). Streaming requests are refused (400).
//   - POST /v1/audio/transcriptions: the multipart form (file, model,
//     language, prompt, response_format, temperature) is recorded as a
//     TranscriptionCall, the transcription handler makes the text, and the
//     server replies {"text": ...} for json (the default), a verbose_json
//     object, or the bare text for text, srt and vtt, as OpenAI does.
//
// Every request must carry "Authorization: Bearer <Key>"; otherwise the
// server answers 401 with an OpenAI-style error body. A handler can fail a
// request with an *APIError (HTTP status and the OpenAI error JSON), which
// the go-openai client returns as *openai.APIError. SetDelay holds every
// answer back, to exercise the caller's timeouts.
//
// Requests are recorded before the handler runs, including those the
// handler fails; requests refused for a bad key or a malformed body are not.
// All methods are safe for concurrent use.
package openaitest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	openai "github.com/sashabaranov/go-openai"
)

// DefaultKey is the API key a new Server expects.
const DefaultKey = "sk-openaitest"

// APIError is an error answer: the HTTP status and the fields of the
// OpenAI error object, sent as {"error": {...}}. The go-openai client turns
// it into an *openai.APIError with HTTPStatusCode = Status.
type APIError struct {
	Status  int    // HTTP status; 500 when 0
	Message string // error.message
	Type    string // error.type, e.g. "server_error", "invalid_request_error"
	Code    any    // error.code: a string such as "rate_limit_exceeded", a number, or nil
	Param   string // error.param; null when empty
}

// Error makes an APIError with the type OpenAI uses for the status:
// "invalid_request_error" for 4xx and "server_error" for 5xx.
func Error(status int, message string) *APIError {
	typ := "invalid_request_error"
	if status >= 500 {
		typ = "server_error"
	}
	return &APIError{Status: status, Message: message, Type: typ}
}

// RateLimited is the 429 answer OpenAI gives when a quota is exceeded.
func RateLimited() *APIError {
	return &APIError{Status: http.StatusTooManyRequests, Message: "Rate limit reached (openaitest)",
		Type: "requests", Code: "rate_limit_exceeded"}
}

// ChatHandler answers one chat completion request with the assistant
// message's content, or fails it with an *APIError.
type ChatHandler func(req openai.ChatCompletionRequest) (content string, err *APIError)

// TranscribeHandler answers one transcription request with the transcribed
// text, or fails it with an *APIError.
type TranscribeHandler func(call TranscriptionCall) (text string, err *APIError)

// TranscriptionCall is one recorded POST /v1/audio/transcriptions: the form
// fields as the client sent them and the uploaded file.
type TranscriptionCall struct {
	Model          string
	Language       string // "" when not sent
	Prompt         string
	ResponseFormat string // "" when not sent (the API then answers JSON)
	Temperature    string // as sent, e.g. "0.20"; "" when not sent
	Filename       string // the file part's file name
	Audio          []byte // the file part's content
}

// Server is a running fake. Create it with New; it is closed when the test
// ends.
type Server struct {
	// URL is the API base URL, ending in /v1: use it as
	// openai.ClientConfig.BaseURL.
	URL string
	// Key is the API key the server accepts (DefaultKey).
	Key string

	srv *httptest.Server

	mu             sync.Mutex
	chat           ChatHandler
	transcribe     TranscribeHandler
	delay          time.Duration
	requests       []openai.ChatCompletionRequest
	transcriptions []TranscriptionCall
	seq            int
}

// New starts a server on a loopback port and closes it when t's test ends.
// Until SetChat or SetTranscribe is called, the endpoints answer 501 with
// an OpenAI-style error.
func New(t testing.TB) *Server {
	t.Helper()
	s := &Server{Key: DefaultKey}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/chat/completions", s.handleChat)
	mux.HandleFunc("/v1/audio/transcriptions", s.handleTranscription)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, &APIError{Status: http.StatusNotFound, Type: "invalid_request_error",
			Message: fmt.Sprintf("openaitest: unknown endpoint %s %s", r.Method, r.URL.Path)})
	})
	s.srv = httptest.NewServer(s.auth(mux))
	s.URL = s.srv.URL + "/v1"
	t.Cleanup(s.srv.Close)
	return s
}

// Config returns a go-openai client configuration for this server: the
// default configuration with Key and BaseURL = URL.
func (s *Server) Config() openai.ClientConfig {
	cfg := openai.DefaultConfig(s.Key)
	cfg.BaseURL = s.URL
	return cfg
}

// Client returns a go-openai client for this server.
func (s *Server) Client() *openai.Client { return openai.NewClientWithConfig(s.Config()) }

// SetChat sets the handler for chat completions.
func (s *Server) SetChat(h ChatHandler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.chat = h
}

// SetTranscribe sets the handler for audio transcriptions.
func (s *Server) SetTranscribe(h TranscribeHandler) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.transcribe = h
}

// SetDelay makes the server wait d before answering each request (after
// recording it, before calling the handler). The wait ends early when the
// client gives up, so a test of a client timeout does not wait d in full.
// It is a method rather than a field so that changing it while requests
// are served is not a data race.
func (s *Server) SetDelay(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delay = d
}

// Requests returns the chat completion requests received so far, oldest
// first.
func (s *Server) Requests() []openai.ChatCompletionRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]openai.ChatCompletionRequest(nil), s.requests...)
}

// Transcriptions returns the transcription requests received so far,
// oldest first.
func (s *Server) Transcriptions() []TranscriptionCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]TranscriptionCall(nil), s.transcriptions...)
}

// auth checks the bearer token like the real API.
func (s *Server) auth(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok || got != s.Key {
			msg := "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
			if ok {
				msg = "Incorrect API key provided (openaitest)."
			}
			writeError(w, &APIError{Status: http.StatusUnauthorized, Message: msg,
				Type: "invalid_request_error", Code: "invalid_api_key"})
			return
		}
		next.ServeHTTP(w, r)
	})
}

// wait sleeps for the configured delay or until the client goes away; it
// reports whether the request should still be answered.
func (s *Server) wait(r *http.Request) bool {
	s.mu.Lock()
	d := s.delay
	s.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-r.Context().Done():
		return false
	}
}

func (s *Server) handleChat(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, &APIError{Status: http.StatusMethodNotAllowed, Type: "invalid_request_error",
			Message: "openaitest: chat completions take POST"})
		return
	}
	var req openai.ChatCompletionRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		writeError(w, &APIError{Status: http.StatusBadRequest, Type: "invalid_request_error",
			Message: "openaitest: cannot decode the request body: " + err.Error()})
		return
	}
	switch {
	case req.Model == "":
		writeError(w, &APIError{Status: http.StatusBadRequest, Type: "invalid_request_error",
			Param: "model", Code: "missing_required_parameter", Message: "you must provide a model parameter"})
		return
	case len(req.Messages) == 0:
		writeError(w, &APIError{Status: http.StatusBadRequest, Type: "invalid_request_error",
			Param: "messages", Message: "[] is too short - 'messages'"})
		return
	case req.Stream:
		writeError(w, &APIError{Status: http.StatusBadRequest, Type: "invalid_request_error",
			Param: "stream", Message: "openaitest: streaming is not supported"})
		return
	}

	s.mu.Lock()
	s.requests = append(s.requests, req)
	s.seq++
	id := fmt.Sprintf("chatcmpl-openaitest-%d", s.seq)
	h := s.chat
	s.mu.Unlock()

	if !s.wait(r) {
		return
	}
	if h == nil {
		writeError(w, &APIError{Status: http.StatusNotImplemented, Type: "server_error",
			Message: "openaitest: no chat handler set (call SetChat)"})
		return
	}
	content, apiErr := h(req)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	prompt := 0
	for _, m := range req.Messages {
		prompt += tokens(MessageText(m)) + 4
		prompt += 85 * len(imageURLs(m)) // what OpenAI charges a low-detail image
	}
	completion := tokens(content)
	writeJSON(w, http.StatusOK, openai.ChatCompletionResponse{
		ID:      id,
		Object:  "chat.completion",
		Created: time.Now().Unix(),
		Model:   req.Model,
		Choices: []openai.ChatCompletionChoice{{
			Index:        0,
			Message:      openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: content},
			FinishReason: openai.FinishReasonStop,
		}},
		Usage:             openai.Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion},
		SystemFingerprint: "fp_openaitest",
	})
}

// maxAudio bounds the multipart form the server reads into memory.
const maxAudio = 32 << 20

func (s *Server) handleTranscription(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		writeError(w, &APIError{Status: http.StatusMethodNotAllowed, Type: "invalid_request_error",
			Message: "openaitest: transcriptions take POST"})
		return
	}
	if err := r.ParseMultipartForm(maxAudio); err != nil {
		writeError(w, &APIError{Status: http.StatusBadRequest, Type: "invalid_request_error",
			Message: "openaitest: cannot parse the multipart form: " + err.Error()})
		return
	}
	f, hdr, err := r.FormFile("file")
	if err != nil {
		writeError(w, &APIError{Status: http.StatusBadRequest, Type: "invalid_request_error",
			Param: "file", Message: "openaitest: the form has no file part: " + err.Error()})
		return
	}
	audio, err := io.ReadAll(f)
	f.Close()
	if err != nil {
		writeError(w, &APIError{Status: http.StatusBadRequest, Type: "invalid_request_error",
			Param: "file", Message: "openaitest: cannot read the file part: " + err.Error()})
		return
	}
	call := TranscriptionCall{
		Model:          r.FormValue("model"),
		Language:       r.FormValue("language"),
		Prompt:         r.FormValue("prompt"),
		ResponseFormat: r.FormValue("response_format"),
		Temperature:    r.FormValue("temperature"),
		Filename:       hdr.Filename,
		Audio:          audio,
	}
	if call.Model == "" {
		writeError(w, &APIError{Status: http.StatusBadRequest, Type: "invalid_request_error",
			Param: "model", Code: "missing_required_parameter", Message: "you must provide a model parameter"})
		return
	}

	s.mu.Lock()
	s.transcriptions = append(s.transcriptions, call)
	h := s.transcribe
	s.mu.Unlock()

	if !s.wait(r) {
		return
	}
	if h == nil {
		writeError(w, &APIError{Status: http.StatusNotImplemented, Type: "server_error",
			Message: "openaitest: no transcription handler set (call SetTranscribe)"})
		return
	}
	text, apiErr := h(call)
	if apiErr != nil {
		writeError(w, apiErr)
		return
	}
	switch call.ResponseFormat {
	case "", string(openai.AudioResponseFormatJSON):
		writeJSON(w, http.StatusOK, map[string]string{"text": text})
	case string(openai.AudioResponseFormatVerboseJSON):
		writeJSON(w, http.StatusOK, map[string]any{
			"task": "transcribe", "language": call.Language, "duration": 1.0, "text": text,
			"segments": []map[string]any{{"id": 0, "start": 0.0, "end": 1.0, "text": text}},
		})
	case string(openai.AudioResponseFormatText):
		writeText(w, text+"\n")
	case string(openai.AudioResponseFormatSRT):
		writeText(w, "1\n00:00:00,000 --> 00:00:01,000\n"+text+"\n\n")
	case string(openai.AudioResponseFormatVTT):
		writeText(w, "WEBVTT\n\n00:00:00.000 --> 00:00:01.000\n"+text+"\n\n")
	default:
		writeError(w, &APIError{Status: http.StatusBadRequest, Type: "invalid_request_error", Param: "response_format",
			Message: fmt.Sprintf("openaitest: unsupported response_format %q", call.ResponseFormat)})
	}
}

// MessageText returns a message's text: Content, or its text parts joined
// by newlines when the message has MultiContent.
func MessageText(m openai.ChatCompletionMessage) string {
	if len(m.MultiContent) == 0 {
		return m.Content
	}
	var parts []string
	for _, p := range m.MultiContent {
		if p.Type == openai.ChatMessagePartTypeText {
			parts = append(parts, p.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// ImageURLs returns the URLs of all image parts in req's messages, in
// order: for inline images these are data URLs
// ("data:image/jpeg;base64,...").
func ImageURLs(req openai.ChatCompletionRequest) []string {
	var urls []string
	for _, m := range req.Messages {
		urls = append(urls, imageURLs(m)...)
	}
	return urls
}

func imageURLs(m openai.ChatCompletionMessage) []string {
	var urls []string
	for _, p := range m.MultiContent {
		if p.Type == openai.ChatMessagePartTypeImageURL && p.ImageURL != nil {
			urls = append(urls, p.ImageURL.URL)
		}
	}
	return urls
}

// tokens is a rough token count (about four bytes of English or one CJK
// character per token), enough for plausible usage numbers.
func tokens(s string) int {
	n := 0
	ascii := 0
	for _, r := range s {
		if r < utf8.RuneSelf {
			ascii++
		} else {
			n++
		}
	}
	return n + (ascii+3)/4
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Request-Id", "req_openaitest")
	w.WriteHeader(status)
	w.Write(body)
}

func writeText(w http.ResponseWriter, text string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, text)
}

// writeError sends e as OpenAI does: {"error": {"message", "type", "param",
// "code"}} with e.Status.
func writeError(w http.ResponseWriter, e *APIError) {
	status := e.Status
	if status == 0 {
		status = http.StatusInternalServerError
	}
	typ := e.Type
	if typ == "" {
		typ = Error(status, "").Type
	}
	var param any
	if e.Param != "" {
		param = e.Param
	}
	writeJSON(w, status, map[string]any{"error": map[string]any{
		"message": e.Message, "type": typ, "param": param, "code": e.Code,
	}})
}

// Error implements error, so that a handler's *APIError can be passed
// around and compared in tests.
func (e *APIError) Error() string {
	return fmt.Sprintf("openaitest: %d %s: %s", e.Status, e.Type, e.Message)
}

var _ error = (*APIError)(nil)
