package agent_test

import (
	"os/exec"
	"slices"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
)

// The reference server-everything, over stdio, through the agent.
func TestEverythingEcho(t *testing.T) {
	command, args := testenv.Everything(t)
	client := mcp.NewClient(&mcp.Implementation{Name: "agent-test", Version: "v0.0.1"}, nil)
	cs, err := client.Connect(t.Context(), &mcp.CommandTransport{Command: exec.Command(command, args...), TerminateDuration: time.Second}, nil)
	if err != nil {
		t.Fatalf("connect to server-everything: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	ss := &sessionServers{sessions: map[string]*mcp.ClientSession{"everything": cs}, listCalls: map[string]int{}}

	a := mustNew(t, agent.Config{Name: "tester", ServerNames: []string{"everything"}}, ss)
	tools, err := a.ListTools(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if names := toolNames(tools); !slices.Contains(names, "everything_echo") {
		t.Fatalf("ListTools = %v, want everything_echo among them", names)
	}
	res := call(t, a, "everything_echo", `{"message":"hello agent"}`)
	if res.IsError || text(res) != "Echo: hello agent" {
		t.Errorf("everything_echo = %v %q, want %q", res.IsError, text(res), "Echo: hello agent")
	}
	// The server validates its own arguments; its error comes back as is.
	res, err = a.CallTool(t.Context(), "everything_echo", nil)
	if err == nil && !res.IsError {
		t.Errorf("everything_echo without a message succeeded: %q", text(res))
	}

	resources, err := a.ListResources(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(resources) == 0 {
		t.Fatal("ListResources: none from server-everything")
	}
	r, err := a.ReadResource(t.Context(), "", resources[0].Resource.URI)
	if err != nil || len(r.Contents) == 0 {
		t.Errorf("ReadResource(%q) = %v, %v", resources[0].Resource.URI, r, err)
	}
	prompts, err := a.ListPrompts(t.Context())
	if err != nil || len(prompts) == 0 || prompts[0].Server != "everything" {
		t.Errorf("ListPrompts = %v, %v", prompts, err)
	}
}
