package swarm_test

import (
	"context"
	"fmt"
	"iter"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/llm"
)

// The fixtures these tests share with the other patterns are in
// workflow/internal/patterntest.

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// newAgent returns an agent with function tools, using the named servers.
func newAgent(t *testing.T, name, instruction string, servers agent.Servers, serverNames []string, tools ...agent.Tool) *agent.Agent {
	t.Helper()
	a, err := agent.New(agent.Config{Name: name, Instruction: instruction, ServerNames: serverNames, Tools: tools}, servers)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// ledgerServer is an MCP server with a tool "balance" returning an
// account's balance.
func ledgerServer() *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "ledger", Version: "v0"}, nil)
	type in struct {
		Account string `json:"account"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "balance", Description: "The balance of an account."}, func(ctx context.Context, _ *mcp.CallToolRequest, a in) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf("account %s: -42.00 EUR", a.Account)}}}, nil, nil
	})
	return srv
}

// servedModel is a provider that reports the requested model in its
// responses, as a real API does (replay reports its script's model).
type servedModel struct{ llm.Provider }

func (p servedModel) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	return llm.CollectStream(p.Stream(ctx, req))
}

func (p servedModel) Stream(ctx context.Context, req *llm.Request) iter.Seq2[*llm.Chunk, error] {
	return func(yield func(*llm.Chunk, error) bool) {
		for c, err := range p.Provider.Stream(ctx, req) {
			if c != nil && c.Response != nil {
				resp := *c.Response
				resp.Model = req.Model
				c = &llm.Chunk{Text: c.Text, Thinking: c.Thinking, Response: &resp}
			}
			if !yield(c, err) {
				return
			}
		}
	}
}
