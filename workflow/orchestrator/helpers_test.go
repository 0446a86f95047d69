package orchestrator_test

import (
	"context"
	"fmt"
	"iter"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// The fixtures these tests share with the other patterns are in
// workflow/internal/patterntest.

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// failing is an AugmentedLLM whose every turn fails with err, after
// waiting for release (if non-nil) or for ctx to end.
type failing struct {
	name    string
	err     error
	release chan struct{}
}

func (f *failing) Name() string { return f.name }

func (f *failing) Generate(ctx context.Context, _ []llm.Message, _ *llm.RequestParams) ([]llm.Message, error) {
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return nil, f.err
}

func (f *failing) Stream(ctx context.Context, msgs []llm.Message, p *llm.RequestParams) iter.Seq2[*llm.Event, error] {
	return func(yield func(*llm.Event, error) bool) {
		_, err := f.Generate(ctx, msgs, p)
		yield(nil, err)
	}
}

// wordsServer is an MCP server with a tool "count" that counts the words
// of its text argument.
func wordsServer() *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "words", Version: "v0"}, nil)
	type in struct {
		Text string `json:"text"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "count", Description: "Count the words of a text."}, func(ctx context.Context, _ *mcp.CallToolRequest, a in) (*mcp.CallToolResult, any, error) {
		n := 0
		inWord := false
		for _, r := range a.Text {
			if r == ' ' || r == '\n' || r == '\t' {
				inWord = false
				continue
			}
			if !inWord {
				n++
			}
			inWord = true
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf("%d words", n)}}}, nil, nil
	})
	return srv
}
