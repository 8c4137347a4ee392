package ai

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	openai "github.com/sashabaranov/go-openai"
)

func TestObjects(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"a":1}`, `{"a":1}`},
		{"```json\n{\"a\":1}\n```", `{"a":1}`},
		{"Here it is: {\"a\":\"}\"} and more", `{"a":"}"}`},
		{"```\n{\"a\":{\"b\":2}}```", `{"a":{"b":2}}`},
	} {
		found := false
		for _, c := range Objects(tc.in) {
			found = found || c == tc.want
		}
		if !found {
			t.Errorf("Objects(%q) = %q, want it to hold %q", tc.in, Objects(tc.in), tc.want)
		}
	}
}

func TestRequestForReasoningModels(t *testing.T) {
	ch := Chat{Model: "gpt-4o", System: "s", Parts: []Part{{Text: "q"}}, MaxTokens: 100, Temperature: 0.1}
	if r := request(ch); r.MaxTokens != 100 || r.Temperature != 0.1 || r.Messages[1].Content != "q" {
		t.Fatalf("chat model request: %+v", r)
	}
	ch.Model = "o3-mini"
	if r := request(ch); r.MaxTokens != 0 || r.MaxCompletionTokens != 100 || r.Temperature != 0 {
		t.Fatalf("reasoning model request: %+v", r)
	}
	ch.Parts = []Part{{Text: "look"}, {Image: "data:image/jpeg;base64,AAAA"}}
	ch.Schema = &Schema{Name: "x", JSON: []byte(`{}`)}
	r := request(ch)
	if len(r.Messages[1].MultiContent) != 2 || r.Messages[1].MultiContent[1].ImageURL.Detail != openai.ImageURLDetailHigh || !r.ResponseFormat.JSONSchema.Strict {
		t.Fatalf("picture request: %+v", r.Messages[1])
	}
}

func TestDescribeQuotesNothing(t *testing.T) {
	err := fmt.Errorf("post: %w", errors.New("bad request echoing data:image/jpeg;base64,QUJD and 李建国"))
	if d := Describe(err); d == "" || contains(d, "QUJD") {
		t.Fatalf("Describe leaked the picture: %q", d)
	}
	if d := Describe(&openai.APIError{HTTPStatusCode: 429, Type: "rate_limit", Message: "李建国"}); contains(d, "李建国") {
		t.Fatalf("Describe quoted the message: %q", d)
	}
	if d := Describe(context.DeadlineExceeded); d != "timeout" {
		t.Fatalf("%q", d)
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
