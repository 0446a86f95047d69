package declarative_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/declarative"
)

// A parallel workflow declared in YAML, run on scripted agents.
func ExampleBuild() {
	settings, err := config.LoadBytes("mcp_agent.config.yaml", []byte(`
agents:
  definitions:
    - {name: optimist, instruction: Find the upside.}
    - {name: skeptic, instruction: Find the risks.}
    - {name: lead, instruction: Decide from the reviews.}
workflows:
  review:
    type: parallel
    agents: [optimist, skeptic]
    fan_in: lead
`), config.LoadOptions{NoEnvOverrides: true})
	if err != nil {
		log.Fatal(err)
	}
	answers := map[string]string{
		"optimist": "Faster queries.",
		"skeptic":  "A risky migration.",
		"lead":     "Go ahead, with a rollback plan.",
	}
	agents := func(ctx context.Context, spec config.AgentSpec) (llm.AugmentedLLM, error) {
		// A real app returns llm.New(appAgent, provider, ...) here.
		model := replay.NewFromTurns(replay.Turn{Text: answers[spec.Name]})
		return llm.New(nil, model, &llm.Options{Name: spec.Name}), nil
	}
	review, err := declarative.Build(context.Background(), settings, "review", agents, nil)
	if err != nil {
		log.Fatal(err)
	}
	answer, err := llm.GenerateString(context.Background(), review, llm.Prompt("Move to Postgres?"), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(review.Name()+":", answer)
	// Output: review: Go ahead, with a rollback plan.
}

// A declaration error names the file, line and key.
func ExampleBuild_error() {
	_, err := config.LoadBytes("mcp_agent.config.yaml", []byte(`
agents:
  definitions: [{name: writer}, {name: critic}]
workflows:
  letter:
    type: evaluator-optimizer
    agents: [writer, critic]
    min_rating: grate
`), config.LoadOptions{NoEnvOverrides: true})
	fmt.Println(err)
	// Output: mcp_agent.config.yaml:8: workflows.letter.min_rating: unknown rating "grate" (want poor, fair, good, excellent)
}

// A router declared with top_k: 2 runs its two best categories and lists
// their answers, best first.
func ExampleBuild_routerTopK() {
	settings, err := config.LoadBytes("mcp_agent.config.yaml", []byte(`
agents:
  definitions:
    - {name: dispatcher, instruction: Route customer requests.}
    - {name: billing, description: Invoices and refunds.}
    - {name: shipping, description: Where a parcel is.}
workflows:
  desk:
    type: router
    agents: [billing, shipping]
    routing_agent: dispatcher
    top_k: 2
    max_concurrency: 2
`), config.LoadOptions{NoEnvOverrides: true})
	if err != nil {
		log.Fatal(err)
	}
	answers := map[string]string{
		"dispatcher": `{"categories": [
			{"category": "shipping", "confidence": 0.4, "reasoning": "a parcel"},
			{"category": "billing", "confidence": 0.9, "reasoning": "a refund"}]}`,
		"billing":  "Your refund of 42 EUR is on its way.",
		"shipping": "The parcel left the depot this morning.",
	}
	agents := func(ctx context.Context, spec config.AgentSpec) (llm.AugmentedLLM, error) {
		model := replay.NewFromTurns(replay.Turn{Text: answers[spec.Name]})
		return llm.New(nil, model, &llm.Options{Name: spec.Name}), nil
	}
	desk, err := declarative.Build(context.Background(), settings, "desk", agents, nil)
	if err != nil {
		log.Fatal(err)
	}
	answer, err := llm.GenerateString(context.Background(), desk, llm.Prompt("Refund my lost parcel"), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(answer)
	// Output:
	// ## billing (confidence 0.90)
	//
	// Your refund of 42 EUR is on its way.
	//
	// ## shipping (confidence 0.40)
	//
	// The parcel left the depot this morning.
}

// A declared swarm whose triage agent runs on a cheap model and whose
// billing agent runs on another provider; the usage report splits per
// agent.
func ExampleSwarmOptions() {
	settings, err := config.LoadBytes("mcp_agent.config.yaml", []byte(`
agents:
  definitions:
    - {name: triage, instruction: Route the customer., model: gpt-4o-mini}
    - {name: billing, description: Refunds., instruction: Handle billing., provider: anthropic, model: claude-sonnet-4-5}
workflows:
  support: {type: swarm, agents: [triage, billing]}
`), config.LoadOptions{NoEnvOverrides: true})
	if err != nil {
		log.Fatal(err)
	}
	// Scripted models; a real app returns openai.New(...), anthropic.New(...).
	openaiProvider := replay.New(&replay.Script{Model: "gpt-4o-mini", Turns: []replay.Turn{
		{ToolCalls: []replay.ToolCall{{Name: "transfer_to_billing"}}, Usage: &replay.Usage{Input: 900, Output: 10}},
	}}, nil)
	anthropicProvider := replay.New(&replay.Script{Model: "claude-sonnet-4-5", Turns: []replay.Turn{
		{Text: "Your refund is on its way.", Usage: &replay.Usage{Input: 1000, Output: 60}},
	}}, nil)
	noAgents := func(context.Context, config.AgentSpec) (llm.AugmentedLLM, error) {
		return nil, errors.New("only the swarm's agents are used") // built by the swarm itself
	}
	w, err := declarative.Build(context.Background(), settings, "support", noAgents, &declarative.Options{
		Swarm: &declarative.SwarmOptions{
			Provider: func(ctx context.Context, swarm string) (llm.Provider, *llm.RequestParams, error) {
				return openaiProvider, nil, nil
			},
			Agent: func(ctx context.Context, swarm string, spec config.AgentSpec) (llm.Provider, *llm.RequestParams, error) {
				var p llm.Provider // nil: the swarm's
				if spec.Provider == "anthropic" {
					p = anthropicProvider
				}
				return p, &llm.RequestParams{Model: spec.Model}, nil
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	run := llm.NewUsageTracker("run", llm.UsageRun)
	answer, err := llm.GenerateString(llm.ContextWithUsage(context.Background(), run), w, llm.Prompt("Refund me."), nil)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(answer)
	for _, a := range run.Report(nil).Children[0].Children {
		for model := range a.Models {
			fmt.Printf("%s: %d call on %s, %s\n", a.Name, a.Calls, model, a.Cost)
		}
	}
	// Output:
	// Your refund is on its way.
	// triage: 1 call on gpt-4o-mini, $0.0001
	// billing: 1 call on claude-sonnet-4-5, $0.0039
}

// An agent's declared request parameters, as an AgentFunc passes them to
// llm.New.
func ExampleAgentParams() {
	settings, err := config.LoadBytes("mcp_agent.config.yaml", []byte(`
agents:
  definitions:
    - {name: critic, instruction: Grade the draft., temperature: 0, max_tokens: 400, reasoning_effort: low}
`), config.LoadOptions{NoEnvOverrides: true})
	if err != nil {
		log.Fatal(err)
	}
	p := declarative.AgentParams(settings.Agents.Definitions[0])
	fmt.Println(*p.Temperature, p.MaxTokens, p.ReasoningEffort)
	// Output: 0 400 low
}
