package anthropic

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/packages/ssestream"
	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// collect drains a stream into its text and thinking deltas and the final
// response.
func collect(t *testing.T, seq func(func(*llm.Chunk, error) bool)) (texts, thinking []string, resp *llm.Response, err error) {
	t.Helper()
	finals := 0
	for c, e := range seq {
		if e != nil {
			return texts, thinking, resp, e
		}
		n := 0
		if c.Text != "" {
			texts = append(texts, c.Text)
			n++
		}
		if c.Thinking != "" {
			thinking = append(thinking, c.Thinking)
			n++
		}
		if c.Response != nil {
			resp = c.Response
			finals++
			n++
		}
		if n != 1 {
			t.Errorf("chunk %+v has %d fields set, want exactly one", c, n)
		}
		if finals > 0 && c.Response == nil {
			t.Errorf("chunk after the final response: %+v", c)
		}
	}
	if finals != 1 {
		t.Errorf("%d final chunks, want 1", finals)
	}
	return texts, thinking, resp, nil
}

func TestStreamText(t *testing.T) {
	f := newFakeAPI(t, &reply{file: "stream_text.sse", check: func(t *testing.T, body map[string]any) {
		if body["stream"] != true {
			t.Errorf("stream = %v, want true", body["stream"])
		}
	}})
	texts, thinking, resp, err := collect(t, f.provider(nil).Stream(context.Background(), &llm.Request{Messages: llm.Prompt("hi"), ReasoningEffort: llm.ReasoningLow}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Hello", ", world", "!"}, texts); diff != "" {
		t.Errorf("text deltas (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"The user greets me. ", "I should greet back."}, thinking); diff != "" {
		t.Errorf("thinking deltas (-want +got):\n%s", diff)
	}
	want := &llm.Response{
		ID:         "msg_01StreamText",
		Model:      "claude-sonnet-4-6",
		StopReason: llm.StopEndTurn,
		Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
			&llm.Thinking{Text: "The user greets me. I should greet back.", Signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds", Provider: "anthropic"},
			&llm.Text{Text: "Hello, world!"},
		}},
		Usage: llm.Usage{InputTokens: 25 + 1024, OutputTokens: 15, CacheReadTokens: 1024, ReasoningTokens: 9},
	}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
}

func TestStreamToolCalls(t *testing.T) {
	f := newFakeAPI(t, json200("stream_tools.sse"))
	texts, _, resp, err := collect(t, f.provider(nil).Stream(context.Background(), &llm.Request{Messages: llm.Prompt("Paris and Rome?"), Tools: []llm.ToolSpec{weatherTool}}))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"Checking both cities."}, texts); diff != "" {
		t.Errorf("text deltas (-want +got):\n%s", diff)
	}
	want := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
		&llm.Text{Text: "Checking both cities."},
		&llm.ToolCall{ID: "toolu_01Paris", Name: "weather_forecast", Arguments: json.RawMessage(`{"city": "Paris", "days": 2}`)},
		&llm.ToolCall{ID: "toolu_02Rome", Name: "weather_forecast", Arguments: json.RawMessage(`{"city": "Rome"}`)},
	}}
	if diff := cmp.Diff(want, resp.Message); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	if resp.StopReason != llm.StopToolUse || resp.Usage.OutputTokens != 89 || resp.Usage.InputTokens != 472 {
		t.Errorf("stop %q usage %+v", resp.StopReason, resp.Usage)
	}
}

func TestStreamErrors(t *testing.T) {
	t.Run("overloaded event", func(t *testing.T) {
		f := newFakeAPI(t, json200("stream_overloaded.sse"))
		texts, _, _, err := collect(t, f.provider(nil).Stream(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}))
		if diff := cmp.Diff([]string{"Hel"}, texts); diff != "" {
			t.Errorf("text deltas before the error (-want +got):\n%s", diff)
		}
		checkStatusError(t, err, 529, 0, true, "anthropic: the API is overloaded (HTTP 529: Overloaded)")
	})
	t.Run("truncated", func(t *testing.T) {
		f := newFakeAPI(t, json200("stream_truncated.sse"))
		_, _, _, err := collect(t, f.provider(nil).Stream(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}))
		if !errors.Is(err, io.ErrUnexpectedEOF) || !llm.Retryable(err) {
			t.Errorf("error = %v, want a retryable io.ErrUnexpectedEOF", err)
		}
		if want := "anthropic: stream ended before message_stop: unexpected EOF"; err == nil || err.Error() != want {
			t.Errorf("error = %v, want %s", err, want)
		}
	})
	t.Run("429 before the stream", func(t *testing.T) {
		f := newFakeAPI(t, &reply{file: "error_429.json", status: 429, header: map[string]string{"Retry-After": "3"}})
		_, _, _, err := collect(t, f.provider(nil).Stream(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}))
		checkStatusError(t, err, 429, 3*time.Second, true, "anthropic: rate limited (HTTP 429")
	})
	t.Run("400 before the stream", func(t *testing.T) {
		f := newFakeAPI(t, &reply{file: "error_400.json", status: 400})
		_, _, _, err := collect(t, f.provider(nil).Stream(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}))
		checkStatusError(t, err, 400, 0, false, "anthropic: request rejected (HTTP 400: messages: text content blocks must be non-empty)")
	})
}

func TestStreamEarlyStopClosesConnection(t *testing.T) {
	rep := &reply{file: "stream_truncated.sse", hold: true, released: make(chan struct{})}
	f := newFakeAPI(t, rep)
	got := ""
	for c, err := range f.provider(nil).Stream(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}) {
		if err != nil {
			t.Fatal(err)
		}
		got = c.Text
		break
	}
	if got != "Hello" {
		t.Errorf("first chunk = %q, want Hello", got)
	}
	select {
	case <-rep.released:
	case <-time.After(10 * time.Second):
		t.Fatal("the server still holds the stream 10s after the consumer stopped: the response body was not closed")
	}
}

func TestStreamContextCanceled(t *testing.T) {
	rep := &reply{file: "stream_truncated.sse", hold: true, released: make(chan struct{})}
	f := newFakeAPI(t, rep)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var err error
	for c, e := range f.provider(nil).Stream(ctx, &llm.Request{Messages: llm.Prompt("hi")}) {
		if e != nil {
			err = e
			break
		}
		if c.Text != "" {
			cancel()
		}
	}
	if !errors.Is(err, context.Canceled) || llm.Retryable(err) {
		t.Errorf("error = %v, want a non-retryable context.Canceled", err)
	}
	<-rep.released
}

// streamOf decodes SSE bytes as the SDK does for a response.
func streamOf(data []byte) *ssestream.Stream[sdk.MessageStreamEventUnion] {
	res := &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"text/event-stream"}}, Body: io.NopCloser(bytes.NewReader(data))}
	return ssestream.NewStream[sdk.MessageStreamEventUnion](ssestream.NewDecoder(res), nil)
}

func TestDecodeStreamMalformed(t *testing.T) {
	for _, tc := range []struct{ name, sse, want string }{
		{"delta before start", "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n",
			`anthropic: stream event "content_block_delta" before message_start`},
		{"bad index", "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\"}}\n\nevent: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":3,\"delta\":{\"type\":\"text_delta\",\"text\":\"x\"}}\n\n",
			"anthropic: malformed stream: received event of type content_block_delta for content block at index 3 but there are only 0 content blocks"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			for _, e := range decodeStream(streamOf([]byte(tc.sse)), &plan{}) {
				err = e
			}
			if err == nil || err.Error() != tc.want {
				t.Errorf("error = %v\nwant %s", err, tc.want)
			}
		})
	}
}

// FuzzDecodeStream feeds arbitrary event streams to the stream decoder: it
// must never panic, and must end with either an error or exactly one final
// response.
func FuzzDecodeStream(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.sse"))
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, false)
		f.Add(data, true)
	}
	f.Fuzz(func(t *testing.T, data []byte, structured bool) {
		pl := &plan{}
		if structured {
			pl.outputTool = "Forecast"
		}
		finals := 0
		var err error
		for c, e := range decodeStream(streamOf(data), pl) {
			if e != nil {
				err = e
				break
			}
			if c.Response != nil {
				finals++
			}
		}
		if err == nil && finals != 1 {
			t.Errorf("stream ended without error after %d final responses", finals)
		}
	})
}
