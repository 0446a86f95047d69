package llm_test

import (
	"context"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

func TestSamplingHandler(t *testing.T) {
	p := &capture{Provider: play(t, `
model: claude-haiku-4-5
turns:
  - text: A haiku about Go.
    stop_reason: max_tokens
    usage: {input: 30, output: 7}
`)}
	usage := llm.NewUsageTracker("app", llm.UsageRun)
	h := llm.SamplingHandler(p, &llm.SamplingOptions{Usage: usage})

	ctx := context.Background()
	server := mcp.NewServer(&mcp.Implementation{Name: "poet", Version: "1"}, nil)
	st, ct := mcp.NewInMemoryTransports()
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "app", Version: "1"}, &mcp.ClientOptions{
		CreateMessageHandler: func(ctx context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return h(ctx, "poet", req)
		},
	})
	cs, err := client.Connect(ctx, ct, &mcp.ClientSessionOptions{ProtocolVersion: "2025-11-25"}) // server-initiated sampling predates 2026-07-28
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()

	res, err := ss.CreateMessage(ctx, &mcp.CreateMessageParams{
		SystemPrompt: "You are a poet.",
		MaxTokens:    50,
		Temperature:  0.5,
		Messages: []*mcp.SamplingMessage{
			{Role: "user", Content: &mcp.TextContent{Text: "Write a haiku"}},
		},
		ModelPreferences: &mcp.ModelPreferences{Hints: []*mcp.ModelHint{{Name: "haiku"}}, SpeedPriority: 1},
	})
	if err != nil {
		t.Fatal(err)
	}
	if tc, ok := res.Content.(*mcp.TextContent); !ok || tc.Text != "A haiku about Go." {
		t.Errorf("content = %#v", res.Content)
	}
	if res.Model != "claude-haiku-4-5" || res.StopReason != "maxTokens" || res.Role != "assistant" {
		t.Errorf("result = %+v", res)
	}
	req := p.requests()[0]
	if req.System != "You are a poet." || req.MaxTokens != 50 || req.Temperature == nil || *req.Temperature != 0.5 {
		t.Errorf("request = %+v", req)
	}
	if req.Model != "replay" {
		t.Errorf("model = %q, want the only priced model of provider replay", req.Model)
	}
	if got := roles(req.Messages) + ":" + req.Messages[0].Text(); got != "user:Write a haiku" {
		t.Errorf("messages = %s", got)
	}
	if rep := usage.Report(nil); rep.Calls != 1 || rep.Children[0].Name != "sampling:poet" {
		t.Errorf("usage = %+v", rep)
	}
}

func TestSamplingServerEverything(t *testing.T) {
	p := play(t, "turns: [{text: sampled answer}]")
	h := llm.SamplingHandler(p, nil)
	cs := everythingSession(t, &mcp.ClientOptions{
		CreateMessageHandler: func(ctx context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return h(ctx, "everything", req)
		},
	})
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "trigger-sampling-request", Arguments: map[string]any{"prompt": "say something", "maxTokens": 20}})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	if res.IsError || !strings.Contains(b.String(), "sampled answer") {
		t.Errorf("tool result = %q (error %v)", b.String(), res.IsError)
	}
}
