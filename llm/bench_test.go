package llm_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// directAgent is a ToolSource without MCP: it isolates the loop's own cost.
type directAgent struct{ tools []*mcp.Tool }

func (directAgent) Name() string        { return "direct" }
func (directAgent) Instruction() string { return "" }
func (a directAgent) ListTools(context.Context) ([]*mcp.Tool, error) {
	return a.tools, nil
}
func (directAgent) CallTool(context.Context, string, json.RawMessage) (*mcp.CallToolResult, error) {
	return text("5"), nil
}

// BenchmarkTurn measures one turn of two iterations (a model call asking
// for one tool call, the tool call, a model call answering) on the replay
// provider. ns/iteration is the framework overhead per loop iteration.
func BenchmarkTurn(b *testing.B) {
	script := `
loop: true
turns:
  - tool_calls: [{name: calc_add, arguments: {a: 2, b: 3}}]
  - text: "5"
`
	bench := func(b *testing.B, agent llm.ToolSource, stream bool) {
		l := llm.New(agent, play(b, script), &llm.Options{Params: &llm.RequestParams{UseHistory: llm.Bool(false)}})
		ctx := context.Background()
		msgs := llm.Prompt("2+3?")
		b.ReportAllocs()
		for b.Loop() {
			if stream {
				for _, err := range l.Stream(ctx, msgs, nil) {
					if err != nil {
						b.Fatal(err)
					}
				}
				continue
			}
			out, err := l.Generate(ctx, msgs, nil)
			if err != nil || len(out) != 3 {
				b.Fatal(err, len(out))
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/2, "ns/iteration")
	}
	b.Run("in-process-mcp", func(b *testing.B) {
		agent, _ := calcAgent(b)
		bench(b, agent, false)
	})
	b.Run("in-process-mcp-stream", func(b *testing.B) {
		agent, _ := calcAgent(b)
		bench(b, agent, true)
	})
	b.Run("direct-tool", func(b *testing.B) {
		agent, _ := calcAgent(b)
		tools, err := agent.ListTools(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		bench(b, directAgent{tools: tools}, false)
	})
}
