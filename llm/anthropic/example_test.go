package anthropic_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/anthropic"
)

// fakeMessagesAPI stands in for https://api.anthropic.com in examples.
func fakeMessagesAPI() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"msg_1","type":"message","role":"assistant","model":"claude-sonnet-4-6",
			"content":[{"type":"text","text":"Paris."}],"stop_reason":"end_turn","stop_sequence":null,
			"usage":{"input_tokens":20,"cache_read_input_tokens":0,"cache_creation_input_tokens":0,"output_tokens":3}}`)
	}))
}

func ExampleNew() {
	srv := fakeMessagesAPI() // in real use, leave BaseURL empty
	defer srv.Close()

	p := anthropic.New(&anthropic.Options{APIKey: "sk-ant-...", BaseURL: srv.URL})
	resp, err := p.Complete(context.Background(), &llm.Request{
		System:   "Answer in one word.",
		Messages: llm.Prompt("What is the capital of France?"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Message.Text(), resp.StopReason, resp.Usage.InputTokens, resp.Usage.OutputTokens)
	// Output: Paris. end_turn 20 3
}

func ExampleProvider_withLLM() {
	srv := fakeMessagesAPI()
	defer srv.Close()

	p := anthropic.New(&anthropic.Options{APIKey: "sk-ant-...", BaseURL: srv.URL})
	// A nil ToolSource gives a model without tools; pass an agent to give it
	// the agent's MCP tools.
	l := llm.New(nil, p, nil)
	answer, err := llm.GenerateString(context.Background(), l, llm.Prompt("What is the capital of France?"), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(answer)
	// Output: Paris.
}
