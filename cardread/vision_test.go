package cardread

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"image/jpeg"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	openai "github.com/sashabaranov/go-openai"

	"pensionbot/ai"
	"pensionbot/internal/cardgen"
	"pensionbot/internal/openaitest"
)

const visionModel = "test-vision-model"

func fixture(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "cards", name))
	if err != nil {
		t.Fatalf("%v (generate with go run ./cmd/gencards)", err)
	}
	return data
}

func newVision(t *testing.T, answer string, opts VisionOptions) (*Vision, *openaitest.Server) {
	t.Helper()
	srv := openaitest.New(t)
	srv.SetChat(func(openai.ChatCompletionRequest) (string, *openaitest.APIError) { return answer, nil })
	return NewVision(ai.New(srv.Client()), visionModel, opts), srv
}

// want is what a reader should return.
type want struct{ Name, Number string }

func TestVisionAnswers(t *testing.T) {
	card := cardgen.ZhangXiulan
	tests := []struct {
		name, answer string
		want         want
	}{
		{"json", `{"name":"张秀兰","id_number":"11010519491231002X"}`, want{card.Name, card.Number}},
		{"fenced", "Here is what I read:\n```json\n{\"name\": \"张秀兰\", \"id_number\": \"11010519491231002x\"}\n```\nLet me know if you need more.", want{card.Name, card.Number}},
		{"text around", `Sure! {"name": "张秀兰", "id_number": "110105 19491231 002X"} Hope this helps.`, want{card.Name, card.Number}},
		{"full-width and spaces", `{"name":" 张秀兰 ","id_number":"１１０１０５１９４９１２３１００２Ｘ"}`, want{card.Name, card.Number}},
		{"bad checksum", `{"name":"张秀兰","id_number":"110105194912310021"}`, want{card.Name, ""}},
		{"future birth", `{"name":"张秀兰","id_number":"110105209912310028"}`, want{card.Name, ""}},
		{"unquoted number", `{"name":"王伟","id_number":110101199003077838}`, want{"王伟", "110101199003077838"}},
		{"other keys", `{"姓名":"李建国","公民身份号码":"53010219200508011X"}`, want{"李建国", "53010219200508011X"}},
		{"not a name", `{"name":"Zhang Xiulan","id_number":""}`, want{"", ""}},
		{"empty fields", `{"name":"","id_number":""}`, want{"", ""}},
		{"dotted name", `{"name":"阿依古丽·买买提","id_number":"11010119900307002X"}`, want{"阿依古丽·买买提", "11010119900307002X"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, _ := newVision(t, tt.answer, VisionOptions{})
			got, err := v.ReadCard(context.Background(), fixture(t, "zhang_xiulan_photo.jpg"))
			if err != nil {
				t.Fatal(err)
			}
			if got.Name != tt.want.Name || got.Number != tt.want.Number {
				t.Errorf("got %q %q, want %q %q", got.Name, got.Number, tt.want.Name, tt.want.Number)
			}
		})
	}
}

func TestVisionRequest(t *testing.T) {
	v, srv := newVision(t, `{"name":"张秀兰","id_number":"11010519491231002X"}`, VisionOptions{})
	if _, err := v.ReadCard(context.Background(), fixture(t, "zhang_xiulan_photo.jpg")); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests", len(reqs))
	}
	req := reqs[0]
	if req.Model != visionModel {
		t.Errorf("model = %q", req.Model)
	}
	if req.Temperature <= 0 || req.Temperature > 0.2 {
		t.Errorf("temperature = %v, want small and non-zero", req.Temperature)
	}
	if req.MaxTokens == 0 {
		t.Error("max_tokens not set")
	}
	if req.Messages[0].Role != openai.ChatMessageRoleSystem || !strings.Contains(req.Messages[0].Content, "id_number") {
		t.Errorf("system message = %+v", req.Messages[0])
	}
	rf := req.ResponseFormat
	if rf == nil || rf.Type != openai.ChatCompletionResponseFormatTypeJSONSchema || rf.JSONSchema == nil || !rf.JSONSchema.Strict {
		t.Fatalf("response format = %+v", rf)
	}
	schema, _ := rf.JSONSchema.Schema.MarshalJSON()
	if !bytes.Contains(schema, []byte(`"id_number"`)) || !bytes.Contains(schema, []byte(`"additionalProperties":false`)) {
		t.Errorf("schema = %s", schema)
	}

	urls := openaitest.ImageURLs(req)
	if len(urls) != 1 {
		t.Fatalf("%d images in the request", len(urls))
	}
	b64, ok := strings.CutPrefix(urls[0], "data:image/jpeg;base64,")
	if !ok {
		t.Fatalf("image URL starts %q, want a JPEG data URL", urls[0][:min(40, len(urls[0]))])
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	img, err := jpeg.Decode(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != cardgen.PhotoWidth || b.Dy() != cardgen.PhotoHeight {
		t.Errorf("sent %v, want the photo's size", b)
	}
}

func TestVisionScalesLargePictures(t *testing.T) {
	v, srv := newVision(t, `{"name":"","id_number":""}`, VisionOptions{MaxSide: 640})
	if _, err := v.ReadCard(context.Background(), fixture(t, "zhang_xiulan_photo.jpg")); err != nil {
		t.Fatal(err)
	}
	url := openaitest.ImageURLs(srv.Requests()[0])[0]
	raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(url, "data:image/jpeg;base64,"))
	cfg, err := jpeg.DecodeConfig(bytes.NewReader(raw))
	if err != nil || cfg.Width != 640 || cfg.Height != 480 {
		t.Errorf("sent %dx%d (%v), want 640x480", cfg.Width, cfg.Height, err)
	}
}

func TestVisionReasoningModel(t *testing.T) {
	srv := openaitest.New(t)
	srv.SetChat(func(openai.ChatCompletionRequest) (string, *openaitest.APIError) {
		return `{"name":"王伟","id_number":""}`, nil
	})
	v := NewVision(ai.New(srv.Client()), "o4-mini", VisionOptions{})
	got, err := v.ReadCard(context.Background(), fixture(t, "wang_wei.jpg"))
	if err != nil || got.Name != "王伟" {
		t.Fatalf("got %+v, %v", got, err)
	}
	req := srv.Requests()[0]
	if req.MaxTokens != 0 || req.MaxCompletionTokens == 0 || req.Temperature != 0 {
		t.Errorf("max_tokens %d, max_completion_tokens %d, temperature %v", req.MaxTokens, req.MaxCompletionTokens, req.Temperature)
	}
}

func TestVisionGarbage(t *testing.T) {
	// The answer holds a number and a name but no JSON: the error must say
	// so without repeating them.
	answer := "The card belongs to 张秀兰, number 11010519491231002X."
	v, _ := newVision(t, answer, VisionOptions{})
	got, err := v.ReadCard(context.Background(), fixture(t, "zhang_xiulan.png"))
	if !errors.Is(err, ErrBadAnswer) {
		t.Fatalf("err = %v, want ErrBadAnswer", err)
	}
	if got.Name != "" || got.Number != "" {
		t.Errorf("got %+v from garbage", got)
	}
	assertNoPersonalData(t, err.Error())
}

func TestVisionHTTPError(t *testing.T) {
	srv := openaitest.New(t)
	srv.SetChat(func(openai.ChatCompletionRequest) (string, *openaitest.APIError) {
		return "", openaitest.Error(http.StatusInternalServerError, "The server had an error while processing your request.")
	})
	v := NewVision(ai.New(srv.Client()), visionModel, VisionOptions{})
	_, err := v.ReadCard(context.Background(), fixture(t, "zhang_xiulan.png"))
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != http.StatusInternalServerError {
		t.Fatalf("err = %v, want an *openai.APIError with status 500", err)
	}
	if !strings.Contains(err.Error(), visionModel) {
		t.Errorf("error %q does not name the model", err)
	}
}

func TestVisionRedactsEchoedImage(t *testing.T) {
	srv := openaitest.New(t)
	srv.SetChat(func(req openai.ChatCompletionRequest) (string, *openaitest.APIError) {
		return "", openaitest.Error(http.StatusBadRequest, "Invalid image: "+openaitest.ImageURLs(req)[0])
	})
	v := NewVision(ai.New(srv.Client()), visionModel, VisionOptions{})
	_, err := v.ReadCard(context.Background(), fixture(t, "wang_wei.jpg"))
	var apiErr *openai.APIError
	if !errors.As(err, &apiErr) || apiErr.HTTPStatusCode != http.StatusBadRequest {
		t.Fatalf("err = %v, want an *openai.APIError with status 400", err)
	}
	if strings.Contains(err.Error(), "base64,") || len(err.Error()) > 400 {
		t.Errorf("error prints the image: %.200s…", err)
	}
}

func TestVisionTimeout(t *testing.T) {
	srv := openaitest.New(t)
	srv.SetChat(func(openai.ChatCompletionRequest) (string, *openaitest.APIError) {
		return `{"name":"","id_number":""}`, nil
	})
	srv.SetDelay(10 * time.Second)
	v := NewVision(ai.New(srv.Client()), visionModel, VisionOptions{Timeout: 200 * time.Millisecond})
	start := time.Now()
	_, err := v.ReadCard(context.Background(), fixture(t, "zhang_xiulan.png"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want a deadline error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("gave up after %v", d)
	}
}

func TestVisionNotImage(t *testing.T) {
	v, srv := newVision(t, `{}`, VisionOptions{})
	_, err := v.ReadCard(context.Background(), fixture(t, "not_a_card.pdf"))
	if !errors.Is(err, ErrNotImage) {
		t.Fatalf("err = %v, want ErrNotImage", err)
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("sent %d requests for a non-image", n)
	}
}

func TestVisionLogsNoPersonalData(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	v, _ := newVision(t, `{"name":"张秀兰","id_number":"11010519491231002X"}`, VisionOptions{Logger: logger})
	got, err := v.ReadCard(context.Background(), fixture(t, "zhang_xiulan.png"))
	if err != nil || got.Number == "" {
		t.Fatalf("got %+v, %v", got, err)
	}
	if logs.Len() == 0 {
		t.Fatal("nothing logged at debug level")
	}
	assertNoPersonalData(t, logs.String())
	if !strings.Contains(logs.String(), "110105********002X") {
		t.Errorf("log lacks the masked number: %s", logs.String())
	}
}

// assertNoPersonalData checks s for the sample card's name, number and
// inline image data.
func assertNoPersonalData(t *testing.T, s string) {
	t.Helper()
	for _, secret := range []string{cardgen.ZhangXiulan.Number, cardgen.ZhangXiulan.Name, "base64,"} {
		if strings.Contains(s, secret) {
			t.Errorf("%q contains %q", s, secret)
		}
	}
}

func TestNone(t *testing.T) {
	got, err := None{}.ReadCard(context.Background(), []byte("anything"))
	if err != nil || got.Name != "" || got.Number != "" {
		t.Errorf("None.ReadCard = %+v, %v", got, err)
	}
}
