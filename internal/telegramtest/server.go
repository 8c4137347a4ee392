package telegramtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// apiError is a Bot API error answer. The HTTP status equals Code, as with
// the real API.
type apiError struct {
	Code        int
	Description string
	RetryAfter  int
}

func badRequest(desc string) *apiError {
	return &apiError{Code: http.StatusBadRequest, Description: "Bad Request: " + desc}
}

func forbidden(desc string) *apiError {
	return &apiError{Code: http.StatusForbidden, Description: "Forbidden: " + desc}
}

var (
	errUnauthorized   = apiError{Code: http.StatusUnauthorized, Description: "Unauthorized"}
	errMethodNotFound = apiError{Code: http.StatusNotFound, Description: "Not Found: method not found"}
	errNotFound       = apiError{Code: http.StatusNotFound, Description: "Not Found"}
)

type okResponse struct {
	OK          bool   `json:"ok"`
	Result      any    `json:"result"`
	Description string `json:"description,omitempty"`
}

type errResponse struct {
	OK          bool            `json:"ok"`
	ErrorCode   int             `json:"error_code"`
	Description string          `json:"description"`
	Parameters  *responseParams `json:"parameters,omitempty"`
}

type responseParams struct {
	RetryAfter int `json:"retry_after,omitempty"`
}

// result is what a method handler answers: a value for "result" (and the
// optional top-level description some methods carry, e.g. "Webhook was set").
type result struct {
	value       any
	description string
}

type methodFunc func(s *Server, ctx context.Context, p map[string]string) (result, *apiError)

type methodDef struct {
	name string
	fn   methodFunc
	// locked handlers run with s.mu held; getUpdates manages the lock itself
	// because it waits.
	locked bool
}

// methods maps lower-cased method names (the real API is case-insensitive)
// to their handlers.
var methods = map[string]methodDef{}

func init() {
	for _, d := range []methodDef{
		{"getMe", (*Server).getMe, true},
		{"getUpdates", (*Server).getUpdates, false},
		{"setWebhook", (*Server).setWebhook, true},
		{"deleteWebhook", (*Server).deleteWebhook, true},
		{"getWebhookInfo", (*Server).getWebhookInfo, true},
		{"sendMessage", (*Server).sendMessage, true},
		{"sendPhoto", (*Server).sendPhoto, true},
		{"editMessageText", (*Server).editMessageText, true},
		{"editMessageReplyMarkup", (*Server).editMessageReplyMarkup, true},
		{"deleteMessage", (*Server).deleteMessage, true},
		{"answerCallbackQuery", (*Server).answerCallbackQuery, true},
		{"sendChatAction", (*Server).sendChatAction, true},
		{"setMyCommands", (*Server).setMyCommands, true},
		{"deleteMyCommands", (*Server).deleteMyCommands, true},
		{"getMyCommands", (*Server).getMyCommands, true},
		{"getFile", (*Server).getFile, true},
	} {
		methods[strings.ToLower(d.name)] = d
	}
}

// canonicalMethod spells a known method the way the API documentation does,
// so Calls and FailNext match whatever case the client used.
func canonicalMethod(name string) string {
	if d, ok := methods[strings.ToLower(name)]; ok {
		return d.name
	}
	return name
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	path := r.URL.Path
	if rest, ok := strings.CutPrefix(path, "/file/bot"); ok {
		s.serveFile(w, rest)
		return
	}
	rest, ok := strings.CutPrefix(path, "/bot")
	if !ok {
		writeError(w, errNotFound)
		return
	}
	token, method, ok := strings.Cut(rest, "/")
	if !ok {
		writeError(w, errNotFound)
		return
	}
	if token != s.Token {
		writeError(w, errUnauthorized)
		return
	}
	name := canonicalMethod(method)
	params, perr := readParams(r)

	s.mu.Lock()
	s.calls = append(s.calls, Call{Method: name, Params: params, At: time.Now()})
	var injected *apiError
	if q := s.faults[name]; len(q) > 0 {
		injected = &q[0]
		s.faults[name] = q[1:]
	}
	if injected == nil && perr == nil {
		injected = s.floodLocked(name, params, s.clock())
	}
	s.mu.Unlock()

	def, known := methods[strings.ToLower(method)]
	var res result
	var aerr *apiError
	switch {
	case injected != nil:
		aerr = injected
	case perr != nil:
		aerr = badRequest(perr.Error())
	case !known:
		e := errMethodNotFound
		aerr = &e
	case def.locked:
		s.mu.Lock()
		res, aerr = def.fn(s, r.Context(), params)
		s.mu.Unlock()
	default:
		res, aerr = def.fn(s, r.Context(), params)
	}
	if aerr != nil {
		s.mu.Lock()
		s.errs = append(s.errs, errorRecord{at: time.Now(), method: name, err: *aerr})
		s.mu.Unlock()
		writeError(w, *aerr)
		return
	}
	writeJSON(w, http.StatusOK, okResponse{OK: true, Result: res.value, Description: res.description})
}

func (s *Server) serveFile(w http.ResponseWriter, rest string) {
	token, path, ok := strings.Cut(rest, "/")
	if !ok {
		writeError(w, errNotFound)
		return
	}
	if token != s.Token {
		writeError(w, errUnauthorized)
		return
	}
	s.mu.Lock()
	f := s.paths[path]
	s.mu.Unlock()
	if f == nil {
		writeError(w, errNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
	_, _ = w.Write(f.data)
}

func writeError(w http.ResponseWriter, e apiError) {
	resp := errResponse{OK: false, ErrorCode: e.Code, Description: e.Description}
	if e.RetryAfter > 0 {
		resp.Parameters = &responseParams{RetryAfter: e.RetryAfter}
	}
	writeJSON(w, e.Code, resp)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := wireJSON(v)
	if err != nil {
		body = []byte(`{"ok":false,"error_code":500,"description":"Internal Server Error: telegramtest could not encode its answer"}`)
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// emptyCopyText is what models.InlineKeyboardButton's non-pointer CopyText
// field marshals to when unset. Telegram never sends it, so wireJSON removes
// it to keep the fake's answers looking like Telegram's. Text is the first,
// always-present field of a button, so the pattern is always preceded by a
// comma, and inside a JSON string its quotes would be escaped: no false hits.
var emptyCopyText = []byte(`,"copy_text":{"text":""}`)

// wireJSON encodes v the way the fake puts it on the wire.
func wireJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	b := bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
	return bytes.ReplaceAll(b, emptyCopyText, nil), nil
}

// maxBody bounds request bodies; well above what any implemented method needs.
const maxBody = 64 << 20

// jsonParams are parameters whose value is a JSON object or array. In form
// encodings they arrive as JSON text; they are canonicalised so that the
// recorded value does not depend on the client's encoder. Other form values
// (text, caption, ...) are kept byte for byte even if they look like JSON.
var jsonParams = map[string]bool{
	"reply_markup": true, "entities": true, "caption_entities": true,
	"commands": true, "scope": true, "allowed_updates": true,
	"link_preview_options": true, "reply_parameters": true, "media": true,
	"results": true, "options": true, "question_entities": true,
	"explanation_entities": true, "menu_button": true, "rights": true,
	"permissions": true, "suggested_post_parameters": true,
}

// readParams merges the query string and the body (multipart/form-data,
// application/json or application/x-www-form-urlencoded) into one flat map.
func readParams(r *http.Request) (map[string]string, error) {
	p := map[string]string{}
	for k, v := range r.URL.Query() {
		if len(v) > 0 {
			p[k] = formValue(k, v[0])
		}
	}
	if r.Body == nil {
		return p, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		return p, fmt.Errorf("can't read request body: %v", err)
	}
	// go-telegram/bot sends parameterless methods (getMe) as an empty body
	// with a multipart Content-Type, which a multipart reader rejects.
	if len(bytes.TrimSpace(body)) == 0 {
		return p, nil
	}
	mt, mp, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch mt {
	case "application/json":
		var m map[string]json.RawMessage
		if err := json.Unmarshal(body, &m); err != nil {
			return p, fmt.Errorf("can't parse JSON body: %v", err)
		}
		for k, raw := range m {
			if v, ok := jsonParam(raw); ok {
				p[k] = v
			}
		}
	case "multipart/form-data":
		mr := multipart.NewReader(bytes.NewReader(body), mp["boundary"])
		for {
			part, err := mr.NextPart()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return p, fmt.Errorf("can't parse multipart body: %v", err)
			}
			data, err := io.ReadAll(part)
			if err != nil {
				return p, fmt.Errorf("can't parse multipart body: %v", err)
			}
			if part.FileName() != "" {
				// Uploaded files (sendPhoto) are kept under "@" + field.
				p["@"+part.FormName()] = string(data)
				continue
			}
			p[part.FormName()] = formValue(part.FormName(), string(data))
		}
	default: // application/x-www-form-urlencoded, or no Content-Type
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return p, fmt.Errorf("can't parse form body: %v", err)
		}
		for k, v := range vals {
			if len(v) > 0 {
				p[k] = formValue(k, v[0])
			}
		}
	}
	return p, nil
}

// jsonParam turns one top-level JSON value into its string parameter form:
// strings unquoted, numbers and booleans as written, objects and arrays as
// canonical JSON; null means absent.
func jsonParam(raw json.RawMessage) (string, bool) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return "", false
	}
	switch raw[0] {
	case 'n':
		return "", false
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return string(raw), true
		}
		return s, true
	case '{', '[':
		if c, ok := canonicalJSON(raw); ok {
			return c, true
		}
	}
	return string(raw), true
}

func formValue(key, v string) string {
	if !jsonParams[key] {
		return v
	}
	t := strings.TrimSpace(v)
	if t == "" || (t[0] != '{' && t[0] != '[') {
		return v
	}
	if c, ok := canonicalJSON([]byte(t)); ok {
		return c
	}
	return v
}

// canonicalJSON re-encodes JSON with sorted keys, literal numbers and no
// HTML escaping.
func canonicalJSON(raw []byte) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", false
	}
	if dec.More() {
		return "", false
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return "", false
	}
	return strings.TrimSuffix(buf.String(), "\n"), true
}

func paramInt(p map[string]string, key string) (int64, bool) {
	v := strings.TrimSpace(p[key])
	if v == "" {
		return 0, false
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, false
	}
	return n, true
}

func paramBool(p map[string]string, key string) bool {
	b, _ := strconv.ParseBool(strings.TrimSpace(p[key]))
	return b
}
