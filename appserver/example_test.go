package appserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/app"
	"github.com/mcp-agent-go/mcp-agent/appserver"
	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/executor/local"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow"
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

// An agent run as a durable workflow: its result carries the run's usage
// and cost, summed over its turns.
func ExampleAgentWorkflow() {
	ctx := context.Background()
	a, err := app.New(app.Options{Settings: &config.Settings{Name: "demo"}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	defer a.Close()
	greeter, err := a.NewAgent(agent.Config{Name: "greeter", Instruction: "Greet people."})
	if err != nil {
		log.Fatal(err)
	}
	script, err := replay.Parse([]byte("model: gpt-4o-mini\nturns:\n  - {text: 'Hello, Ada!', usage: {input: 1000, output: 100}}\n"), "demo")
	if err != nil {
		log.Fatal(err)
	}
	model := replay.New(script, nil)
	wf := appserver.AgentWorkflow(greeter, func(ag *agent.Agent) (llm.AugmentedLLM, error) { return llm.New(ag, model, nil), nil }, nil)

	dir, err := os.MkdirTemp("", "agentworkflow")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ex, err := local.Open(ctx, filepath.Join(dir, "runs.db"), workflow.NewRegistry(wf), &local.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		log.Fatal(err)
	}
	defer ex.Close()
	runID, err := ex.Start(ctx, wf.Name(), json.RawMessage(`{"message": "I am Ada"}`), nil)
	if err != nil {
		log.Fatal(err)
	}
	out, err := executor.ResultOf[appserver.AgentRunOutput](ctx, ex, runID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out.Answer)
	fmt.Println(out.Usage.Name, out.Usage.Calls, "call:", out.Usage.Summary(0))
	// Output:
	// Hello, Ada!
	// greeter 1 call: 1,000 in / 100 out tokens · $0.0002
}
