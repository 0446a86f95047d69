package llm_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
)

// exampleAgent returns an agent whose "calc" server (in process) has the
// tool add; close releases it.
func exampleAgent() (agent *testAgent, close func()) {
	ctx := context.Background()
	server := mcp.NewServer(&mcp.Implementation{Name: "calc", Version: "1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "add", Description: "adds a and b"}, func(ctx context.Context, _ *mcp.CallToolRequest, in addIn) (*mcp.CallToolResult, any, error) {
		return text(fmt.Sprint(in.A + in.B)), nil, nil
	})
	st, ct := mcp.NewInMemoryTransports()
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		log.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "app", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		log.Fatal(err)
	}
	agent = &testAgent{name: "calculator", instruction: "You add numbers.", sessions: map[string]*mcp.ClientSession{"calc": cs}}
	return agent, func() { cs.Close(); ss.Wait() }
}

func mustScript(src string) *replay.Provider {
	s, err := replay.Parse([]byte(src), "example.yaml")
	if err != nil {
		log.Fatal(err)
	}
	return replay.New(s, nil)
}

// The tool loop: the model calls calc_add, reads its result, answers.
func ExampleLLM_Generate() {
	agent, closeAgent := exampleAgent()
	defer closeAgent()
	provider := mustScript(`
turns:
  - tool_calls: [{name: calc_add, arguments: {a: 2, b: 3}}]
  - text: 2 + 3 = 5
`)
	l := llm.New(agent, provider, nil)
	out, err := l.Generate(context.Background(), llm.Prompt("What is 2 + 3?"), nil)
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range out {
		for _, p := range m.Parts {
			switch p := p.(type) {
			case *llm.ToolCall:
				fmt.Printf("%s: call %s %s\n", m.Role, p.Name, p.Arguments)
			case *llm.ToolResult:
				fmt.Printf("%s: %s -> %s\n", m.Role, p.Name, p.Text())
			case *llm.Text:
				fmt.Printf("%s: %s\n", m.Role, p.Text)
			}
		}
	}
	// Output:
	// assistant: call calc_add {"a":2,"b":3}
	// tool: calc_add -> 5
	// assistant: 2 + 3 = 5
}

// Streaming: text arrives in deltas; tool calls are reported as they run.
func ExampleLLM_Stream() {
	agent, closeAgent := exampleAgent()
	defer closeAgent()
	provider := mustScript(`
turns:
  - tool_calls: [{name: calc_add, arguments: {a: 40, b: 2}}]
  - text: The answer is 42.
`)
	l := llm.New(agent, provider, nil)
	for ev, err := range l.Stream(context.Background(), llm.Prompt("40 + 2?"), nil) {
		if err != nil {
			log.Fatal(err)
		}
		switch ev.Kind {
		case llm.EventToolCallStarted:
			fmt.Printf("[calling %s]\n", ev.ToolCall.Name)
		case llm.EventToolCallFinished:
			fmt.Printf("[%s returned %s]\n", ev.ToolCall.Name, ev.ToolResult.Text())
		case llm.EventTextDelta:
			fmt.Print(ev.Text)
		case llm.EventFinal:
			fmt.Println()
		}
	}
	// Output:
	// [calling calc_add]
	// [calc_add returned 42]
	// The answer is 42.
}

// Typed answers: the schema comes from the Go type.
func ExampleGenerateStructured() {
	type City struct {
		Name       string `json:"name"`
		Country    string `json:"country"`
		Population int    `json:"population"`
	}
	provider := mustScript(`
turns:
  - text: '{"name": "Lyon", "country": "France", "population": 522000}'
`)
	l := llm.New(nil, provider, &llm.Options{Name: "geo"})
	city, err := llm.GenerateStructured[City](context.Background(), l, llm.Prompt("Tell me about Lyon"), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s, %s: %d\n", city.Name, city.Country, city.Population)
	// Output: Lyon, France: 522000
}

// Usage of a run, as a tree with costs from the price table.
func ExampleUsageTracker() {
	run := llm.NewUsageTracker("run", llm.UsageRun)
	ctx := llm.ContextWithUsage(context.Background(), run)
	provider := mustScript(`
model: gpt-4o-mini
turns: [{text: hi, usage: {input: 1200, output: 300}}]
`)
	l := llm.New(nil, provider, &llm.Options{Name: "greeter"})
	if _, err := l.Generate(ctx, llm.Prompt("hello"), nil); err != nil {
		log.Fatal(err)
	}
	report := run.Report(nil)
	fmt.Println(report.Children[0].Name, report.Calls, "call")
	fmt.Println(report.Summary(1500 * time.Millisecond))
	// Output:
	// greeter 1 call
	// 1.5s · 1,200 in / 300 out tokens · $0.0004
}
