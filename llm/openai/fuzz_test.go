package openai

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

func addFixtures(f *testing.F, pattern string) {
	files, err := filepath.Glob(filepath.Join("testdata", pattern))
	if err != nil || len(files) == 0 {
		f.Fatalf("no fixtures %s: %v", pattern, err)
	}
	for _, name := range files {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
}

// FuzzReadStream feeds arbitrary bytes as an SSE body through the SDK's
// decoder and our stream assembly: it must never panic, must end with
// either an error or exactly one final response, and the text deltas must
// add up to the final text.
func FuzzReadStream(f *testing.F) {
	addFixtures(f, "*.sse")
	f.Add([]byte("data: {\"choices\":[{\"index\":5,\"delta\":{\"tool_calls\":[{\"index\":-1}]}}]}\n\n"))
	f.Add([]byte("data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":100000}]}}]}\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		res := &http.Response{
			StatusCode: 200,
			Header:     http.Header{"Content-Type": []string{"text/event-stream"}},
			Body:       io.NopCloser(strings.NewReader(string(body))),
		}
		stream := ssestream.NewStream[oai.ChatCompletionChunk](ssestream.NewDecoder(res), nil)
		defer stream.Close()
		var text strings.Builder
		resp, err := readStream(stream, func(c *llm.Chunk, err error) bool {
			if c == nil || c.Response != nil || (c.Text == "" && c.Thinking == "") {
				t.Fatalf("readStream yielded %+v, %v", c, err)
			}
			text.WriteString(c.Text)
			return true
		}, func(err error) error { return err })
		if err != nil {
			if resp != nil {
				t.Fatalf("both a response and an error (%v)", err)
			}
			return
		}
		if resp == nil {
			t.Fatal("neither a response nor an error")
		}
		if got := resp.Message.Text(); got != text.String() {
			t.Fatalf("final text %q != streamed text %q", got, text.String())
		}
		for _, c := range resp.Message.ToolCalls() {
			if len(c.Arguments) == 0 {
				t.Fatalf("tool call %q with empty arguments", c.Name)
			}
		}
	})
}

// FuzzTranslateResponse decodes arbitrary bytes as a chat completion the way
// the SDK does and translates it: never a panic, and a response always has
// an assistant message.
func FuzzTranslateResponse(f *testing.F) {
	addFixtures(f, "*.json")
	f.Add([]byte(`{"choices":[{"message":{"tool_calls":[{"type":"custom","custom":{"name":"x","input":"raw"}}]}}]}`))
	f.Add([]byte(`{"choices":[{"message":{"content":"a","reasoning_content":"think"},"finish_reason":"weird"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var cc oai.ChatCompletion
		if err := json.Unmarshal(data, &cc); err != nil {
			return
		}
		resp, err := translateResponse(&cc)
		if err != nil {
			return
		}
		if resp.Message.Role != llm.RoleAssistant {
			t.Fatalf("role %q", resp.Message.Role)
		}
		if _, err := json.Marshal(resp.Message); err != nil {
			t.Fatalf("response message does not encode: %v", err)
		}
	})
}
