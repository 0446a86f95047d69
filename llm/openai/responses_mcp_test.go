package openai_test

import (
	"context"
	"testing"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/servers"
)

// A tool loop on the Responses API with the tools of a real MCP server
// (server-everything over stdio): its tool schemas pass the fake server's
// checks (strict only where allowed), and the echo tool's result comes back
// as the function_call_output of the model's call.
func TestResponsesToolLoopEverything(t *testing.T) {
	command, args := testenv.Everything(t)
	reg := servers.NewRegistry(map[string]config.ServerSpec{"everything": {Command: command, Args: args}}, nil)
	t.Cleanup(func() { reg.Close() })
	a, err := agent.New(agent.Config{Name: "tester", ServerNames: []string{"everything"}}, reg)
	if err != nil {
		t.Fatal(err)
	}
	echoCall := `{"id":"resp_echo","object":"response","created_at":1,"status":"completed","model":"gpt-4.1","output":[` +
		`{"type":"function_call","id":"fc_e","call_id":"call_echo","name":"everything_echo","arguments":"{\"message\":\"hi responses\"}","status":"completed"}],` +
		`"usage":{"input_tokens":300,"input_tokens_details":{"cached_tokens":0},"output_tokens":12,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":312}}`
	f := newResponsesServer(t,
		reply{body: echoCall, check: func(t *testing.T, body map[string]any) {
			found := false
			for _, tl := range body["tools"].([]any) {
				found = found || tl.(map[string]any)["name"] == "everything_echo"
			}
			if !found {
				t.Errorf("everything_echo not among the %d tools offered", len(body["tools"].([]any)))
			}
		}},
		reply{fixture: "responses_plain.json", check: func(t *testing.T, body map[string]any) {
			input := body["input"].([]any)
			last := input[len(input)-1].(map[string]any)
			if last["type"] != "function_call_output" || last["call_id"] != "call_echo" || last["output"] != "Echo: hi responses" {
				t.Errorf("last input item %v, want the echo output for call_echo", last)
			}
		}})
	l := llm.New(a, newResponsesProvider(t, f, nil), nil)
	if _, err := l.Generate(context.Background(), llm.Prompt("Echo 'hi responses'"), nil); err != nil {
		t.Fatal(err)
	}
	if n := len(f.Requests()); n != 2 {
		t.Errorf("%d model calls, want 2", n)
	}
}
