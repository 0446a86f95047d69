package openai_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/openai"
)

// The Responses API (POST /responses), here with a reasoning model: the
// usage counts the reasoning tokens. The server stands in for
// api.openai.com.
func ExampleOptions_responses() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"id":"resp_1","object":"response","status":"completed","model":"o4-mini","output":[`+
			`{"type":"message","id":"msg_1","role":"assistant","status":"completed","content":[{"type":"output_text","text":"There are 3.","annotations":[]}]}],`+
			`"usage":{"input_tokens":20,"input_tokens_details":{"cached_tokens":0},"output_tokens":140,"output_tokens_details":{"reasoning_tokens":128},"total_tokens":160}}`)
	}))
	defer srv.Close()

	p := openai.New(&openai.Options{
		APIKey:          "sk-...",
		BaseURL:         srv.URL + "/v1",
		API:             openai.APIResponses, // config: openai.api: responses
		DefaultModel:    "o4-mini",
		ReasoningEffort: llm.ReasoningLow,
	})
	resp, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("How many r in strawberry?")})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(resp.Message.Text())
	fmt.Println(resp.StopReason, resp.Usage.OutputTokens, resp.Usage.ReasoningTokens)
	// Output:
	// There are 3.
	// end_turn 140 128
}
