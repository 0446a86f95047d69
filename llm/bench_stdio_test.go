package llm_test

import (
	"context"
	"testing"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/servers"
)

// BenchmarkTurnStdio is BenchmarkTurn through the whole stack a user runs:
// an agent on a server registry, the tool on server-everything over stdio
// (a real child process). ns/iteration includes the server's own time; the
// difference with BenchmarkTurn/direct-tool is what MCP over stdio costs.
func BenchmarkTurnStdio(b *testing.B) {
	cmd, args := testenv.Everything(b)
	reg := servers.NewRegistry(map[string]config.ServerSpec{
		"everything": {Name: "everything", Command: cmd, Args: args},
	}, nil)
	defer reg.Close()
	ag, err := agent.New(agent.Config{Name: "bench", ServerNames: []string{"everything"}}, reg)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	if _, err := ag.ListTools(ctx); err != nil {
		b.Fatal(err)
	}
	script := `
loop: true
turns:
  - tool_calls: [{name: everything_echo, arguments: {message: hi}}]
  - text: hi
`
	l := llm.New(ag, play(b, script), &llm.Options{Params: &llm.RequestParams{UseHistory: llm.Bool(false)}})
	msgs := llm.Prompt("echo hi")
	b.ReportAllocs()
	for b.Loop() {
		out, err := l.Generate(ctx, msgs, nil)
		if err != nil || len(out) != 3 {
			b.Fatal(err, len(out))
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/2, "ns/iteration")
}
