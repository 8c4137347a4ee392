package vision_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"pensionbot/ai"
	"pensionbot/domain"
	"pensionbot/internal/openaitest"
	"pensionbot/vision"
)

const (
	name   = "张秀兰"
	number = "11010519491231002X"
	masked = "110105********002X"
	phone  = "13800138000"
	model  = "gpt-4o-mini"
	code   = "4821"
)

func picture(t testing.TB, w, h int, shade uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{shade, uint8(x), uint8(y), 255})
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func submission(t testing.TB, channel string) domain.Submission {
	s := domain.Submission{
		CaseID: "c-1", User: 7, Name: name, Number: number, Age: 75, Sex: "F", Phone: phone,
		District: "朝阳区", Channel: channel,
		Card: picture(t, 96, 60, 10), Face: picture(t, 60, 80, 120),
		Submitted: time.Now(),
	}
	if channel == domain.ChannelGeneral {
		s.Liveness = picture(t, 60, 80, 200)
		s.LivenessCode = code
	}
	return s
}

// staff is a fallback that queues every case for review.
type staff struct {
	mu    sync.Mutex
	cases []domain.Submission
	ctxOK []bool
	err   error
}

func (f *staff) Submit(ctx context.Context, s domain.Submission) (domain.Decision, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cases = append(f.cases, s)
	f.ctxOK = append(f.ctxOK, ctx.Err() == nil)
	if f.err != nil {
		return domain.Decision{}, f.err
	}
	return domain.Decision{CaseID: s.CaseID, Outcome: domain.OutcomePending, By: "staff"}, nil
}

func (f *staff) calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.cases)
}

type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

type fixture struct {
	srv   *openaitest.Server
	staff *staff
	logs  *logBuffer
	v     *vision.Verifier
}

func setup(t *testing.T, opts vision.Options, answer string, apiErr *openaitest.APIError) *fixture {
	t.Helper()
	f := &fixture{srv: openaitest.New(t), staff: &staff{}, logs: &logBuffer{}}
	f.srv.SetChat(func(openai.ChatCompletionRequest) (string, *openaitest.APIError) { return answer, apiErr })
	opts.Logger = slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.v = vision.New(ai.New(f.srv.Client()), model, f.staff, opts)
	return f
}

// checkPrivate fails when text holds the name, the ID number (full or
// masked) or the phone number.
func checkPrivate(t *testing.T, what, text string) {
	t.Helper()
	for _, secret := range []string{name, number, masked, "002X", phone, "朝阳区"} {
		if strings.Contains(text, secret) {
			t.Errorf("%s contains %q", what, secret)
		}
	}
}

const yes = `{"same_person": true, "confidence": 0.97, "liveness_ok": true, "reason": ""}`

func TestConfidentMatchApproved(t *testing.T) {
	t.Parallel()
	for _, channel := range []string{domain.ChannelGeneral, domain.ChannelGreen} {
		t.Run(channel, func(t *testing.T) {
			f := setup(t, vision.Options{}, yes, nil)
			before := time.Now()
			d, err := f.v.Submit(context.Background(), submission(t, channel))
			if err != nil {
				t.Fatal(err)
			}
			if d.CaseID != "c-1" || d.Outcome != domain.OutcomeApproved || d.Reason != "" || d.By != vision.By || d.DecidedAt.Before(before) {
				t.Errorf("decision %+v", d)
			}
			if f.staff.calls() != 0 {
				t.Errorf("fallback called on a confident match")
			}

			reqs := f.srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("%d requests", len(reqs))
			}
			req := reqs[0]
			if req.Model != model {
				t.Errorf("model %q", req.Model)
			}
			want := 2
			if channel == domain.ChannelGeneral {
				want = 3
			}
			urls := openaitest.ImageURLs(req)
			if len(urls) != want {
				t.Errorf("%d images, want %d", len(urls), want)
			}
			for _, u := range urls {
				b64, ok := strings.CutPrefix(u, "data:image/jpeg;base64,")
				if !ok {
					t.Fatalf("image URL %.40q is not a JPEG data URL", u)
				}
				raw, err := base64.StdEncoding.DecodeString(b64)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := jpeg.DecodeConfig(bytes.NewReader(raw)); err != nil {
					t.Errorf("image is not a JPEG: %v", err)
				}
			}
			rf := req.ResponseFormat
			if rf == nil || rf.Type != openai.ChatCompletionResponseFormatTypeJSONSchema || rf.JSONSchema == nil || !rf.JSONSchema.Strict {
				t.Errorf("response format %+v", rf)
			}
			var text strings.Builder
			for _, m := range req.Messages {
				text.WriteString(openaitest.MessageText(m))
			}
			if hasCode := strings.Contains(text.String(), code); hasCode != (channel == domain.ChannelGeneral) {
				t.Errorf("liveness code in prompt: %v", hasCode)
			}
			whole, _ := json.Marshal(req)
			checkPrivate(t, "request", string(whole))
			checkPrivate(t, "log", f.logs.String())
			if !strings.Contains(f.logs.String(), "approved by the model") {
				t.Errorf("log:\n%s", f.logs.String())
			}
		})
	}
}

func TestFencedAnswerApproved(t *testing.T) {
	t.Parallel()
	f := setup(t, vision.Options{}, "```json\n"+yes+"\n```", nil)
	d, err := f.v.Submit(context.Background(), submission(t, domain.ChannelGeneral))
	if err != nil || d.Outcome != domain.OutcomeApproved {
		t.Errorf("%+v, %v", d, err)
	}
}

func TestThreshold(t *testing.T) {
	t.Parallel()
	at := `{"same_person": true, "confidence": 0.9, "liveness_ok": true, "reason": ""}`
	f := setup(t, vision.Options{}, at, nil)
	if d, _ := f.v.Submit(context.Background(), submission(t, domain.ChannelGreen)); d.Outcome != domain.OutcomeApproved {
		t.Errorf("confidence 0.9 with the default threshold: %+v", d)
	}
	f = setup(t, vision.Options{Threshold: 0.95}, `{"same_person": true, "confidence": 0.93, "liveness_ok": true, "reason": ""}`, nil)
	if d, _ := f.v.Submit(context.Background(), submission(t, domain.ChannelGreen)); d.Outcome != domain.OutcomePending || f.staff.calls() != 1 {
		t.Errorf("confidence 0.93 with threshold 0.95: %+v", d)
	}
}

func TestGreenIgnoresLiveness(t *testing.T) {
	t.Parallel()
	f := setup(t, vision.Options{}, `{"same_person": true, "confidence": 0.95, "liveness_ok": false, "reason": ""}`, nil)
	if d, _ := f.v.Submit(context.Background(), submission(t, domain.ChannelGreen)); d.Outcome != domain.OutcomeApproved {
		t.Errorf("green: %+v", d)
	}
	if d, _ := f.v.Submit(context.Background(), submission(t, domain.ChannelGeneral)); d.Outcome != domain.OutcomePending {
		t.Errorf("general: %+v", d)
	}
}

func TestFallback(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, answer string
		apiErr       *openaitest.APIError
		cause        string
	}{
		{"low confidence", `{"same_person": true, "confidence": 0.6, "liveness_ok": true, "reason": ""}`, nil, vision.CauseLowConfidence},
		{"negative", `{"same_person": false, "confidence": 0.99, "liveness_ok": true, "reason": "face_mismatch"}`, nil, vision.CauseNotSamePerson},
		{"negative unsure", `{"same_person": false, "confidence": 0.2, "liveness_ok": false, "reason": "photo_unclear"}`, nil, vision.CauseNotSamePerson},
		{"positive with reason", `{"same_person": true, "confidence": 0.95, "liveness_ok": true, "reason": "photo_unclear"}`, nil, vision.CauseReason},
		{"liveness failed", `{"same_person": true, "confidence": 0.99, "liveness_ok": false, "reason": ""}`, nil, vision.CauseLiveness},
		{"garbage", `Yes, this is clearly the same person.`, nil, vision.CauseInvalid},
		{"empty", ``, nil, vision.CauseInvalid},
		{"text around", `Sure: ` + yes, nil, vision.CauseInvalid},
		{"text after", yes + ` I hope this helps`, nil, vision.CauseInvalid},
		{"two objects", yes + yes, nil, vision.CauseInvalid},
		{"unknown field", `{"same_person": true, "confidence": 0.97, "liveness_ok": true, "reason": "", "name": "` + name + `"}`, nil, vision.CauseInvalid},
		{"unknown reason", `{"same_person": true, "confidence": 0.97, "liveness_ok": true, "reason": "looks fine"}`, nil, vision.CauseInvalid},
		{"confidence percent", `{"same_person": true, "confidence": 97, "liveness_ok": true, "reason": ""}`, nil, vision.CauseInvalid},
		{"negative confidence", `{"same_person": true, "confidence": -0.5, "liveness_ok": true, "reason": ""}`, nil, vision.CauseInvalid},
		{"confidence string", `{"same_person": true, "confidence": "0.97", "liveness_ok": true, "reason": ""}`, nil, vision.CauseInvalid},
		{"bool string", `{"same_person": "true", "confidence": 0.97, "liveness_ok": true, "reason": ""}`, nil, vision.CauseInvalid},
		{"missing field", `{"same_person": true, "confidence": 0.97, "reason": ""}`, nil, vision.CauseInvalid},
		{"null field", `{"same_person": true, "confidence": null, "liveness_ok": true, "reason": ""}`, nil, vision.CauseInvalid},
		{"array", `[` + yes + `]`, nil, vision.CauseInvalid},
		{"HTTP 500", "", openaitest.Error(500, "The server had an error"), vision.CauseRequestFailed},
		{"HTTP 400", "", openaitest.Error(400, "Invalid image"), vision.CauseRequestFailed},
		{"rate limited", "", openaitest.RateLimited(), vision.CauseRequestFailed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := setup(t, vision.Options{}, tt.answer, tt.apiErr)
			s := submission(t, domain.ChannelGeneral)
			d, err := f.v.Submit(context.Background(), s)
			if err != nil {
				t.Fatal(err)
			}
			if d != (domain.Decision{CaseID: "c-1", Outcome: domain.OutcomePending, By: "staff"}) {
				t.Errorf("decision %+v, want the fallback's", d)
			}
			if f.staff.calls() != 1 || f.staff.cases[0].CaseID != "c-1" || !bytes.Equal(f.staff.cases[0].Face, s.Face) {
				t.Fatalf("fallback got %d cases", f.staff.calls())
			}
			if n := len(f.srv.Requests()); n != 1 {
				t.Errorf("%d requests (go-openai does not retry; neither do we)", n)
			}
			logs := f.logs.String()
			if !strings.Contains(logs, `"cause":"`+tt.cause+`"`) {
				t.Errorf("cause %s not logged:\n%s", tt.cause, logs)
			}
			checkPrivate(t, "log", logs)
		})
	}
}

func TestTimeoutFallsBack(t *testing.T) {
	t.Parallel()
	f := setup(t, vision.Options{Timeout: 100 * time.Millisecond}, yes, nil)
	f.srv.SetDelay(10 * time.Second)
	start := time.Now()
	d, err := f.v.Submit(context.Background(), submission(t, domain.ChannelGeneral))
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("took %v", took)
	}
	if d.Outcome != domain.OutcomePending || d.By != "staff" || f.staff.calls() != 1 {
		t.Errorf("decision %+v, %d fallback calls", d, f.staff.calls())
	}
	if !f.staff.ctxOK[0] {
		t.Error("the fallback got the model's expired context")
	}
	if !strings.Contains(f.logs.String(), `"cause":"timeout"`) {
		t.Errorf("log:\n%s", f.logs.String())
	}
}

func TestNoModelCallWhenUnusable(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name  string
		mod   func(*domain.Submission)
		cause string
	}{
		{"not an image", func(s *domain.Submission) { s.Face = []byte("not a picture") }, vision.CauseBadPhoto},
		{"no liveness photo", func(s *domain.Submission) { s.Liveness = nil }, vision.CauseNoLiveness},
		{"no liveness code", func(s *domain.Submission) { s.LivenessCode = "" }, vision.CauseNoLiveness},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := setup(t, vision.Options{}, yes, nil)
			s := submission(t, domain.ChannelGeneral)
			tt.mod(&s)
			d, err := f.v.Submit(context.Background(), s)
			if err != nil || d.Outcome != domain.OutcomePending || f.staff.calls() != 1 {
				t.Errorf("%+v, %v, %d fallback calls", d, err, f.staff.calls())
			}
			if n := len(f.srv.Requests()); n != 0 {
				t.Errorf("%d requests", n)
			}
			if !strings.Contains(f.logs.String(), `"cause":"`+tt.cause+`"`) {
				t.Errorf("log:\n%s", f.logs.String())
			}
		})
	}
}

func TestFallbackError(t *testing.T) {
	t.Parallel()
	f := setup(t, vision.Options{}, `{"same_person": false, "confidence": 0.99, "liveness_ok": true, "reason": "face_mismatch"}`, nil)
	f.staff.err = errors.New("queue down")
	_, err := f.v.Submit(context.Background(), submission(t, domain.ChannelGreen))
	if err == nil || !strings.Contains(err.Error(), "queue down") {
		t.Errorf("err = %v", err)
	}
}

func TestLargePictureScaled(t *testing.T) {
	t.Parallel()
	f := setup(t, vision.Options{MaxSide: 100}, yes, nil)
	s := submission(t, domain.ChannelGreen)
	s.Card = picture(t, 800, 500, 50)
	if _, err := f.v.Submit(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	u := openaitest.ImageURLs(f.srv.Requests()[0])[0]
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(u, "data:image/jpeg;base64,"))
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(raw))
	if err != nil || cfg.Width != 100 || cfg.Height != 63 {
		t.Errorf("sent %dx%d (%v), want 100x63", cfg.Width, cfg.Height, err)
	}
}

func TestNewNeedsFallback(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("New without a fallback did not panic")
		}
	}()
	vision.New(ai.New(openai.NewClient("x")), model, nil, vision.Options{})
}

func TestParseAnswer(t *testing.T) {
	t.Parallel()
	for _, in := range []string{
		yes,
		"  " + yes + "\n",
		"```json\n" + yes + "\n```",
		"```\n" + yes + "```",
	} {
		a, err := vision.ParseAnswer(in)
		if err != nil || a != (vision.Answer{SamePerson: true, Confidence: 0.97, LivenessOK: true}) {
			t.Errorf("ParseAnswer(%q) = %+v, %v", in, a, err)
		}
	}
	for _, reason := range domain.Reasons {
		in := `{"same_person": false, "confidence": 0.5, "liveness_ok": false, "reason": "` + reason + `"}`
		if a, err := vision.ParseAnswer(in); err != nil || a.Reason != reason {
			t.Errorf("reason %s: %+v, %v", reason, a, err)
		}
	}
	secret := `{"same_person": true, "confidence": 0.97, "liveness_ok": true, "reason": "", "` + number + `": 1}`
	_, err := vision.ParseAnswer(secret)
	if !errors.Is(err, vision.ErrBadAnswer) || strings.Contains(err.Error(), number) {
		t.Errorf("err = %v", err)
	}
}
