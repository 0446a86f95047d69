package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

func TestMessageJSONRoundTrip(t *testing.T) {
	msgs := []llm.Message{
		llm.UserText("hi"),
		{Role: llm.RoleUser, Parts: []llm.Part{&llm.Image{Data: []byte{1, 2}, MIMEType: "image/png"}, &llm.Image{URL: "https://example.com/a.png"}}},
		{Role: llm.RoleAssistant, Parts: []llm.Part{
			&llm.Thinking{Text: "hmm", Signature: "sig"},
			&llm.Thinking{RedactedData: "opaque"},
			&llm.Thinking{Text: "plan", Provider: "openai", ID: "rs_1", EncryptedContent: "gAAA"},
			&llm.Text{Text: "calling"},
			&llm.ToolCall{ID: "c1", Name: "fs_read", Arguments: json.RawMessage(`{"path":"a"}`)},
		}},
		{Role: llm.RoleTool, Parts: []llm.Part{&llm.ToolResult{CallID: "c1", Name: "fs_read", IsError: true, Content: []llm.Part{
			&llm.Text{Text: "no"}, &llm.Resource{URI: "file:///a", MIMEType: "text/plain", Blob: []byte("x")},
		}}}},
	}
	data, err := json.Marshal(msgs)
	if err != nil {
		t.Fatal(err)
	}
	var got []llm.Message
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(msgs, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s\n%s", diff, data)
	}
	if !strings.Contains(string(data), `{"type":"tool_call","id":"c1","name":"fs_read","arguments":{"path":"a"}}`) {
		t.Errorf("wire form = %s", data)
	}
	var bad llm.Message
	err = json.Unmarshal([]byte(`{"role":"user","parts":[{"type":"video"}]}`), &bad)
	if err == nil || err.Error() != `llm: unknown message part type "video" (want text, image, thinking, tool_call, tool_result or resource)` {
		t.Errorf("err = %v", err)
	}
}

func TestMessageHelpers(t *testing.T) {
	m := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
		&llm.Text{Text: "a"}, &llm.ToolCall{ID: "1", Name: "x"}, &llm.Thinking{Text: "t"}, &llm.Text{Text: "b"},
	}}
	if m.Text() != "ab" || len(m.ToolCalls()) != 1 || m.ToolCalls()[0].ID != "1" {
		t.Errorf("Text = %q, ToolCalls = %v", m.Text(), m.ToolCalls())
	}
	if llm.FinalText([]llm.Message{llm.AssistantText("x"), {Role: llm.RoleTool}}) != "x" {
		t.Error("FinalText")
	}
}

func TestMergeParams(t *testing.T) {
	base := &llm.RequestParams{Model: "a", MaxTokens: 100, UseHistory: llm.Bool(false), Metadata: map[string]string{"k": "v"}, StopSequences: []string{"x"}}
	over := &llm.RequestParams{Model: "b", Temperature: llm.Float(0), ToolFilter: []string{}}
	got := llm.MergeParams(base, over)
	want := &llm.RequestParams{Model: "b", MaxTokens: 100, UseHistory: llm.Bool(false), Temperature: llm.Float(0), ToolFilter: []string{}, Metadata: map[string]string{"k": "v"}, StopSequences: []string{"x"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	got.Metadata["k"] = "changed"
	got.StopSequences[0] = "changed"
	if base.Metadata["k"] != "v" || base.StopSequences[0] != "x" {
		t.Error("MergeParams result shares maps or slices with its input")
	}
	if llm.MergeParams(nil, nil) == nil {
		t.Error("nil result")
	}
}

func TestEmptyToolFilterOffersNoTools(t *testing.T) {
	agent, _ := calcAgent(t)
	p := &capture{Provider: play(t, "turns: [{text: x}]")}
	if _, err := llm.New(agent, p, nil).Generate(context.Background(), llm.Prompt("x"), &llm.RequestParams{ToolFilter: []string{}}); err != nil {
		t.Fatal(err)
	}
	if n := len(p.requests()[0].Tools); n != 0 {
		t.Errorf("%d tools offered, want none", n)
	}
}

// brokenStream emits text, then fails: the failure must not be retried
// (the text was already shown).
type brokenStream struct{ flaky }

func (b *brokenStream) Stream(ctx context.Context, req *llm.Request) iter.Seq2[*llm.Chunk, error] {
	return func(yield func(*llm.Chunk, error) bool) {
		b.calls++
		if yield(&llm.Chunk{Text: "partial"}, nil) {
			yield(nil, &llm.StatusError{Code: 503})
		}
	}
}

func TestStreamNotRetriedAfterOutput(t *testing.T) {
	b := &brokenStream{}
	clock := &fakeClock{}
	l := llm.New(nil, b, &llm.Options{Retry: clock.policy(4)})
	var err error
	for _, e := range l.Stream(context.Background(), llm.Prompt("x"), nil) {
		if e != nil {
			err = e
		}
	}
	var se llm.HTTPStatusError
	if !errors.As(err, &se) || se.StatusCode() != 503 {
		t.Errorf("err = %v, want the 503", err)
	}
	if b.calls != 1 || len(clock.slept) != 0 {
		t.Errorf("calls = %d, sleeps = %v: a stream that produced output was retried", b.calls, clock.slept)
	}
}

// Thinking stored before Thinking.Provider existed decodes unmarked, and
// the marker is written only when set.
func TestThinkingJSONCompatibility(t *testing.T) {
	var m llm.Message
	old := `{"role":"assistant","parts":[{"type":"thinking","text":"hmm","signature":"sig"}]}`
	if err := json.Unmarshal([]byte(old), &m); err != nil {
		t.Fatal(err)
	}
	want := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{&llm.Thinking{Text: "hmm", Signature: "sig"}}}
	if diff := cmp.Diff(want, m); diff != "" {
		t.Errorf("old form (-want +got):\n%s", diff)
	}
	data, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != old {
		t.Errorf("re-encoded = %s, want %s", data, old)
	}
	m.Parts = []llm.Part{&llm.Thinking{Text: "t", Provider: "openai", ID: "rs_1", EncryptedContent: "enc"}}
	data, err = json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	if w := `{"type":"thinking","text":"t","provider":"openai","encrypted_content":"enc","id":"rs_1"}`; !strings.Contains(string(data), w) {
		t.Errorf("marked form = %s, want it to hold %s", data, w)
	}
}
