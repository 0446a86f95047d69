package openai

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/responses"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// FuzzReadResponsesStream feeds arbitrary bytes as an SSE body through the
// SDK's decoder and our Responses event assembly: it must never panic, must
// end with either an error or a response, must yield only non-empty
// deltas, and when the terminal event carries no output the streamed text
// must add up to the final text.
func FuzzReadResponsesStream(f *testing.F) {
	addFixtures(f, "responses_*.sse")
	f.Add([]byte("data: {\"type\":\"response.output_text.delta\",\"output_index\":-1,\"delta\":\"x\"}\n\n"))
	f.Add([]byte("data: {\"type\":\"response.function_call_arguments.delta\",\"output_index\":99999999,\"delta\":\"{\"}\n\n"))
	f.Add([]byte("data: {\"type\":\"response.output_text.delta\",\"output_index\":0,\"delta\":\"a\"}\n\ndata: {\"type\":\"response.completed\",\"response\":{\"status\":\"completed\",\"output\":[]}}\n\n"))
	f.Fuzz(func(t *testing.T, body []byte) {
		res := &http.Response{
			StatusCode: 200,
			Header:     http.Header{"Content-Type": []string{"text/event-stream"}},
			Body:       io.NopCloser(strings.NewReader(string(body))),
		}
		stream := ssestream.NewStream[responses.ResponseStreamEventUnion](ssestream.NewDecoder(res), nil)
		defer stream.Close()
		var text strings.Builder
		resp, err := readResponsesStream(stream, func(c *llm.Chunk, err error) bool {
			if c == nil || c.Response != nil || (c.Text == "" && c.Thinking == "") {
				t.Fatalf("yielded %+v, %v", c, err)
			}
			text.WriteString(c.Text)
			return true
		})
		if err != nil {
			if resp != nil {
				t.Fatalf("both a response and an error (%v)", err)
			}
			var re *ResponseError
			if !errors.As(err, &re) && !errors.Is(err, errStreamTransport) && !errors.Is(err, io.ErrUnexpectedEOF) && !strings.Contains(err.Error(), "malformed") {
				t.Fatalf("unexpected error kind %T: %v", err, err)
			}
			return
		}
		if resp == nil || resp.Message.Role != llm.RoleAssistant {
			t.Fatalf("response %+v", resp)
		}
		if _, err := json.Marshal(resp.Message); err != nil {
			t.Fatalf("response message does not encode: %v", err)
		}
		for _, c := range resp.Message.ToolCalls() {
			if len(c.Arguments) == 0 {
				t.Fatalf("tool call %q with empty arguments", c.Name)
			}
		}
		// Output reassembled from deltas alone (no output_item.done, no
		// terminal output) must equal what was streamed.
		if !strings.Contains(string(body), "output_item.done") && !strings.Contains(string(body), `"output":[{`) &&
			!strings.Contains(string(body), "refusal") && resp.Message.Text() != text.String() {
			t.Fatalf("final text %q != streamed text %q", resp.Message.Text(), text.String())
		}
	})
}

// FuzzStopFilter: whatever the deltas, the filter emits exactly the text
// before the earliest stop sequence of the whole text.
func FuzzStopFilter(f *testing.F) {
	f.Add("Hello, wörld!", "o, wö", "x", uint8(3))
	f.Add("aaab", "aab", "", uint8(1))
	f.Add("ééé", "é", "zz", uint8(1))
	f.Fuzz(func(t *testing.T, text, stop1, stop2 string, step uint8) {
		stops := []string{stop1, stop2}
		n := int(step%7) + 1
		sf := newStopFilter(stops)
		var out strings.Builder
		for i := 0; i < len(text); i += n {
			out.WriteString(sf.add(text[i:min(i+n, len(text))]))
		}
		out.WriteString(sf.flush())
		want := text
		if cut := stopIndex(text, stops, 0); cut >= 0 {
			want = text[:cut]
		}
		if out.String() != want {
			t.Fatalf("emitted %q, want %q", out.String(), want)
		}
	})
}
