package openai_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/openai"
)

// exampleServer stands in for api.openai.com (or Ollama, vLLM, ...): it
// answers every chat completion with a fixed message, as JSON or as an
// SSE stream.
func exampleServer() *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if bytes.Contains(body, []byte(`"stream":true`)) {
			w.Header().Set("Content-Type", "text/event-stream")
			for _, delta := range []string{"Paris is ", "the capital ", "of France."} {
				fmt.Fprintf(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{\"content\":%q}}]}\n\n", delta)
			}
			fmt.Fprint(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n")
			fmt.Fprint(w, "data: {\"id\":\"c1\",\"object\":\"chat.completion.chunk\",\"model\":\"gpt-4o-mini\",\"choices\":[],\"usage\":{\"prompt_tokens\":14,\"completion_tokens\":7,\"total_tokens\":21}}\n\n")
			fmt.Fprint(w, "data: [DONE]\n\n")
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"c1","object":"chat.completion","model":"gpt-4o-mini","choices":[{"index":0,"message":{"role":"assistant","content":"Paris is the capital of France."},"finish_reason":"stop"}],"usage":{"prompt_tokens":14,"completion_tokens":7,"total_tokens":21}}`)
	}))
}

// A provider used directly: one request, one response.
func ExampleProvider_Complete() {
	srv := exampleServer()
	defer srv.Close()

	p := openai.New(&openai.Options{APIKey: "sk-...", BaseURL: srv.URL + "/v1"})
	resp, err := p.Complete(context.Background(), &llm.Request{
		System:   "Answer in one sentence.",
		Messages: llm.Prompt("What is the capital of France?"),
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Message.Text())
	fmt.Println(resp.StopReason, resp.Usage.InputTokens, resp.Usage.OutputTokens)
	// Output:
	// Paris is the capital of France.
	// end_turn 14 7
}

// The usual way: the provider under an LLM, streaming the answer.
func ExampleProvider_Stream() {
	srv := exampleServer()
	defer srv.Close()

	p := openai.New(&openai.Options{APIKey: "sk-...", BaseURL: srv.URL + "/v1"})
	l := llm.New(nil, p, nil) // nil agent: no tools
	for ev, err := range l.Stream(context.Background(), llm.Prompt("What is the capital of France?"), nil) {
		if err != nil {
			log.Fatal(err)
		}
		switch ev.Kind {
		case llm.EventTextDelta:
			fmt.Printf("%q\n", ev.Text)
		case llm.EventFinal:
			fmt.Println(ev.Message.Text())
		}
	}
	// Output:
	// "Paris is "
	// "the capital "
	// "of France."
	// Paris is the capital of France.
}
