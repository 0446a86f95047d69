package declarative_test

import (
	"context"
	"fmt"
	"iter"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/declarative"
	"github.com/mcp-agent-go/mcp-agent/workflow/swarm"
)

// servedModel reports the requested model in its responses, as a real API
// does (replay reports its script's model).
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
				c = &llm.Chunk{Text: c.Text, Response: &resp}
			}
			if !yield(c, err) {
				return
			}
		}
	}
}

// scripted returns a provider playing script, recording its requests under
// name in f.
func scripted(t *testing.T, f *fleet, name, script string) *recorder {
	t.Helper()
	s, err := replay.Parse([]byte(script), name+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return &recorder{Provider: servedModel{replay.New(s, nil)}, name: name, f: f}
}

const supportConfig = `
agents:
  definitions:
    - {name: triage, instruction: Route., model: gpt-4o-mini}
    - {name: billing, description: Refunds., instruction: Bill., model: gpt-4o%s}
workflows:
  support: {type: swarm, agents: [triage, billing]}
`

// TestSwarmAgentModels: a declared swarm runs each agent on its declared
// model, over the swarm's other defaults; usage is reported per agent.
func TestSwarmAgentModels(t *testing.T) {
	s := load(t, fmt.Sprintf(supportConfig, ""))
	f := newFleet(t, nil)
	rec := scripted(t, f, "support", `turns:
  - tool_calls: [{name: transfer_to_billing}]
    usage: {input: 100, output: 10}
  - text: Refunded.
    usage: {input: 200, output: 20}
`)
	w, err := declarative.Build(t.Context(), s, "support", f.agent, &declarative.Options{
		Swarm: &declarative.SwarmOptions{Provider: func(context.Context, string) (llm.Provider, *llm.RequestParams, error) {
			return rec, &llm.RequestParams{Model: "gpt-4.1", MaxTokens: 500}, nil
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	run := llm.NewUsageTracker("run", llm.UsageRun)
	got, err := llm.GenerateString(llm.ContextWithUsage(t.Context(), run), w, llm.Prompt("refund"), nil)
	if err != nil || got != "Refunded." {
		t.Fatalf("answer %q, %v", got, err)
	}
	var models []string
	for _, r := range f.reqs["support"] {
		models = append(models, r.System+" "+r.Model+" "+fmt.Sprintf("%d", r.MaxTokens))
	}
	if diff := cmp.Diff([]string{"Route. gpt-4o-mini 500", "Bill. gpt-4o 500"}, models); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	byAgent := map[string]map[string]llm.Usage{}
	for _, c := range run.Report(nil).Children[0].Children {
		byAgent[c.Name] = c.Models
	}
	want := map[string]map[string]llm.Usage{
		"triage":  {"gpt-4o-mini": {InputTokens: 100, OutputTokens: 10}},
		"billing": {"gpt-4o": {InputTokens: 200, OutputTokens: 20}},
	}
	if diff := cmp.Diff(want, byAgent); diff != "" {
		t.Errorf("usage by agent (-want +got):\n%s", diff)
	}
}

// TestSwarmAgentProviders: SwarmOptions.Agent gives an agent that declares
// its own provider that provider; without it, the build fails.
func TestSwarmAgentProviders(t *testing.T) {
	s := load(t, fmt.Sprintf(supportConfig, ", provider: anthropic"))
	f := newFleet(t, nil)
	shared := scripted(t, f, "support", "turns: [{tool_calls: [{name: transfer_to_billing}]}]")
	own := scripted(t, f, "billing", "turns: [{text: Refunded.}]")
	provider := func(context.Context, string) (llm.Provider, *llm.RequestParams, error) { return shared, nil, nil }

	_, err := declarative.Build(t.Context(), s, "support", f.agent, &declarative.Options{Swarm: &declarative.SwarmOptions{Provider: provider}})
	want := `workflows.support: agent "billing": declares provider "anthropic" but the swarm runs on "replay": set SwarmOptions.Agent to give agents their own providers`
	if err == nil || err.Error() != want {
		t.Fatalf("Build without SwarmOptions.Agent: %v\nwant %s", err, want)
	}

	var asked []string
	w, err := declarative.Build(t.Context(), s, "support", f.agent, &declarative.Options{Swarm: &declarative.SwarmOptions{
		Provider: provider,
		Agent: func(_ context.Context, swarmName string, spec config.AgentSpec) (llm.Provider, *llm.RequestParams, error) {
			asked = append(asked, swarmName+"/"+spec.Name+"/"+spec.Provider)
			params := &llm.RequestParams{Model: spec.Model, Temperature: llm.Float(0.2)}
			if spec.Provider == "anthropic" {
				return own, params, nil
			}
			return nil, params, nil
		},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := llm.GenerateString(t.Context(), w, llm.Prompt("refund"), nil); err != nil || got != "Refunded." {
		t.Fatalf("answer %q, %v", got, err)
	}
	if diff := cmp.Diff([]string{"support/triage/", "support/billing/anthropic"}, asked); diff != "" {
		t.Errorf("SwarmOptions.Agent calls (-want +got):\n%s", diff)
	}
	tr, bi := f.reqs["support"], f.reqs["billing"]
	if len(tr) != 1 || len(bi) != 1 {
		t.Fatalf("shared provider got %d requests, billing's own %d; want 1 each", len(tr), len(bi))
	}
	if tr[0].Model != "gpt-4o-mini" || bi[0].Model != "gpt-4o" || *bi[0].Temperature != 0.2 {
		t.Errorf("models: triage %q, billing %q", tr[0].Model, bi[0].Model)
	}
}

// TestSwarmTools: SwarmOptions.Tools gives declared agents Go function
// tools; a swarm.Func ends the turn.
func TestSwarmTools(t *testing.T) {
	s := load(t, fmt.Sprintf(supportConfig, ""))
	f := newFleet(t, nil)
	rec := scripted(t, f, "support", `turns:
  - tool_calls: [{name: transfer_to_billing}]
  - tool_calls: [{name: refund, arguments: {amount: 42}}]
`)
	type args struct {
		Amount float64 `json:"amount"`
	}
	refund := swarm.Func("refund", "Refund the customer.", func(_ context.Context, in args) (swarm.FuncResult, error) {
		return swarm.FuncResult{Value: fmt.Sprintf("Refunded %v EUR.", in.Amount), Done: true}, nil
	})
	opts := &declarative.Options{Swarm: &declarative.SwarmOptions{
		Provider: func(context.Context, string) (llm.Provider, *llm.RequestParams, error) { return rec, nil, nil },
		Tools:    map[string][]agent.Tool{"billing": {refund}},
	}}
	w, err := declarative.Build(t.Context(), s, "support", f.agent, opts)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := llm.GenerateString(t.Context(), w, llm.Prompt("refund"), nil); err != nil || got != "Refunded 42 EUR." {
		t.Fatalf("answer %q, %v", got, err)
	}
	if n := len(f.reqs["support"]); n != 2 {
		t.Errorf("%d model calls, want 2 (the refund ends the turn)", n)
	}

	opts.Swarm.Tools = map[string][]agent.Tool{"biling": {refund}}
	_, err = declarative.Build(t.Context(), s, "support", f.agent, opts)
	want := `workflows.support: SwarmOptions.Tools["biling"]: no agent of that name is declared (under agents.definitions)`
	if err == nil || err.Error() != want {
		t.Errorf("Build with a misnamed agent: %v\nwant %s", err, want)
	}
}
