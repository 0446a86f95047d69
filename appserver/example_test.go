package appserver_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/app"
	"github.com/mcp-agent-go/mcp-agent/appserver"
	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
)

// An app with one agent, served to a client connected in memory (stdio or
// HTTP work the same way: ServeStdio, ListenAndServe).
func ExampleNew() {
	ctx := context.Background()
	up := appserver.NewUpstream()
	a, err := app.New(app.Options{
		Settings:   &config.Settings{Name: "demo"},
		Logger:     slog.New(slog.DiscardHandler),
		HumanInput: up.HumanInput(nil),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	greeter, err := a.NewAgent(agent.Config{Name: "greeter", Instruction: "Greet people."})
	if err != nil {
		log.Fatal(err)
	}
	model := replay.NewFromTurns(replay.Turn{Text: "Hello, Ada!"}) // a scripted model
	srv, err := appserver.New(a, &appserver.Options{
		Upstream: up,
		Agents:   []*agent.Agent{greeter},
		NewLLM:   func(ag *agent.Agent) (llm.AugmentedLLM, error) { return llm.New(ag, model, nil), nil },
		Logger:   slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}

	st, ct := mcp.NewInMemoryTransports()
	if _, err := srv.MCPServer().Connect(ctx, st, nil); err != nil {
		log.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "client", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "agents-greeter-generate_str", Arguments: map[string]any{"message": "I am Ada"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Content[0].(*mcp.TextContent).Text)
	// Output: Hello, Ada!
}

// A sync app tool: the input schema comes from the Go type, the result is
// structured content.
func ExampleNewTool() {
	type args struct {
		Text string `json:"text" jsonschema:"the text to shout"`
	}
	type shouted struct {
		Text string `json:"text"`
	}
	tool := appserver.NewTool("shout", "Upper-case a text.", func(ctx context.Context, in args) (shouted, error) {
		appserver.Progress(ctx, 1, 1, "shouting") // reaches the client when it asked for progress
		return shouted{Text: strings.ToUpper(in.Text)}, nil
	})
	fmt.Println(tool.Name())
	// Output: shout
}
