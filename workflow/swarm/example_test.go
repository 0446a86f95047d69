package swarm_test

import (
	"context"
	"fmt"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/swarm"
)

// Triage hands the customer to billing, whose refund function ends the
// turn with the answer.
func ExampleNew() {
	type refundArgs struct {
		Amount float64 `json:"amount" jsonschema:"the amount in EUR"`
	}
	refund := swarm.Func("issue_refund", "Refund the customer.", func(ctx context.Context, in refundArgs) (swarm.FuncResult, error) {
		customer, _ := swarm.VariablesFrom(ctx).Get("customer")
		return swarm.FuncResult{
			Value:     fmt.Sprintf("Refunded %v EUR to %v.", in.Amount, customer),
			Variables: map[string]any{"refunded": in.Amount},
			Done:      true,
		}, nil
	})
	triage, err := agent.New(agent.Config{
		Name:        "triage",
		Instruction: "Route the customer to the right agent.",
		Tools:       []agent.Tool{swarm.TransferTo("billing", "For invoices and refunds.")},
	}, nil)
	if err != nil {
		panic(err)
	}
	billing, err := agent.New(agent.Config{Name: "billing", Instruction: "Handle billing.", Tools: []agent.Tool{refund}}, nil)
	if err != nil {
		panic(err)
	}

	// The model's side, scripted; any provider works (openai.New, anthropic.New).
	provider := replay.NewFromTurns(
		replay.Turn{ToolCalls: []replay.ToolCall{{Name: "transfer_to_billing"}}},                                   // triage
		replay.Turn{ToolCalls: []replay.ToolCall{{Name: "issue_refund", Arguments: map[string]any{"amount": 42}}}}, // billing
	)
	s, err := swarm.New(provider, []llm.ToolSource{triage, billing}, &swarm.Options{
		Variables: map[string]any{"customer": "Ada"},
	})
	if err != nil {
		panic(err)
	}
	res, err := s.Run(context.Background(), llm.Prompt("I was charged twice, I want 42 EUR back."), nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Answer())
	fmt.Println("handoffs:", res.Handoffs, "answered by:", res.Agent)
	fmt.Println("variables:", res.Variables)
	// Output:
	// Refunded 42 EUR to Ada.
	// handoffs: [{triage billing}] answered by: billing
	// variables: map[customer:Ada refunded:42]
}

// A cheap model triages, a stronger one answers; the usage report shows
// which agent spent what.
func ExampleAgentOptions() {
	triage, err := agent.New(agent.Config{Name: "triage", Instruction: "Route the customer.",
		Tools: []agent.Tool{swarm.TransferTo("billing", "For invoices and refunds.")}}, nil)
	if err != nil {
		panic(err)
	}
	billing, err := agent.New(agent.Config{Name: "billing", Instruction: "Handle billing."}, nil)
	if err != nil {
		panic(err)
	}
	// Scripted models; with a real provider, Params.Model picks the model.
	cheap := replay.New(&replay.Script{Model: "gpt-4o-mini", Turns: []replay.Turn{
		{ToolCalls: []replay.ToolCall{{Name: "transfer_to_billing"}}, Usage: &replay.Usage{Input: 1000, Output: 20}},
	}}, nil)
	strong := replay.New(&replay.Script{Model: "gpt-4o", Turns: []replay.Turn{
		{Text: "Your refund is on its way.", Usage: &replay.Usage{Input: 1200, Output: 80}},
	}}, nil)
	s, err := swarm.New(nil, []llm.ToolSource{triage, billing}, &swarm.Options{
		Name: "support",
		Agents: map[string]swarm.AgentOptions{
			"triage":  {Provider: cheap, Params: &llm.RequestParams{Model: "gpt-4o-mini"}},
			"billing": {Provider: strong, Params: &llm.RequestParams{Model: "gpt-4o", Temperature: llm.Float(0.2)}},
		},
	})
	if err != nil {
		panic(err)
	}
	run := llm.NewUsageTracker("run", llm.UsageRun)
	answer, err := llm.GenerateString(llm.ContextWithUsage(context.Background(), run), s, llm.Prompt("Refund me."), nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(answer)
	for _, a := range run.Report(nil).Children[0].Children {
		for model, u := range a.Models {
			fmt.Printf("%s: %s, %d tokens, %s\n", a.Name, model, u.InputTokens+u.OutputTokens, a.Cost)
		}
	}
	// Output:
	// Your refund is on its way.
	// triage: gpt-4o-mini, 1020 tokens, $0.0002
	// billing: gpt-4o, 1280 tokens, $0.0038
}
