package declarative_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/declarative"
)

// sent is what a request carried of an agent's request parameters.
type sent struct {
	Model           string
	Temperature     *float64
	MaxTokens       int
	ReasoningEffort llm.ReasoningEffort
	OneToolCall     bool
}

func sentOf(r *llm.Request) sent {
	return sent{r.Model, r.Temperature, r.MaxTokens, r.ReasoningEffort, r.DisableParallelToolCalls}
}

const paramsConfig = `
agents:
  definitions:
    - name: checker
      instruction: Check.
      model: gpt-4o-mini
      temperature: 0
      max_tokens: 256
      parallel_tool_calls: false
    - name: writer
      instruction: Write.
      temperature: 1.2
      reasoning_effort: low
    - name: plain
      instruction: Plain.
workflows:
  review: {type: parallel, agents: [checker, writer, plain]}
  support: {type: swarm, agents: [writer, checker]}
`

// TestAgentRequestParams: an AgentFunc that applies AgentParams sends each
// agent's declared temperature, max_tokens, reasoning_effort and
// parallel_tool_calls to its provider.
func TestAgentRequestParams(t *testing.T) {
	s := load(t, paramsConfig)
	f := newFleet(t, nil)
	agents := func(ctx context.Context, spec config.AgentSpec) (llm.AugmentedLLM, error) {
		rec := scripted(t, f, spec.Name, "turns: [{text: ok}]")
		return llm.New(nil, rec, &llm.Options{Name: spec.Name, Params: declarative.AgentParams(spec)}), nil
	}
	w, err := declarative.Build(t.Context(), s, "review", agents, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := llm.GenerateString(t.Context(), w, llm.Prompt("draft"), nil); err != nil {
		t.Fatal(err)
	}
	got := map[string][]sent{}
	for name, reqs := range f.reqs {
		for _, r := range reqs {
			got[name] = append(got[name], sentOf(r))
		}
	}
	want := map[string][]sent{
		"checker": {{Model: "gpt-4o-mini", Temperature: llm.Float(0), MaxTokens: 256, OneToolCall: true}},
		"writer":  {{Temperature: llm.Float(1.2), ReasoningEffort: llm.ReasoningLow}},
		"plain":   {{}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

// TestSwarmAgentRequestParams: without SwarmOptions.Agent, a swarm's agents
// send their declared request parameters over the swarm's defaults.
func TestSwarmAgentRequestParams(t *testing.T) {
	s := load(t, paramsConfig)
	f := newFleet(t, nil)
	rec := scripted(t, f, "support", `turns:
  - tool_calls: [{name: transfer_to_checker}]
  - text: Checked.
`)
	w, err := declarative.Build(t.Context(), s, "support", f.agent, &declarative.Options{
		Swarm: &declarative.SwarmOptions{Provider: func(context.Context, string) (llm.Provider, *llm.RequestParams, error) {
			return rec, &llm.RequestParams{Model: "gpt-4.1", MaxTokens: 1000, Temperature: llm.Float(0.7)}, nil
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := llm.GenerateString(t.Context(), w, llm.Prompt("check this"), nil); err != nil || got != "Checked." {
		t.Fatalf("answer %q, %v", got, err)
	}
	var got []sent
	for _, r := range f.reqs["support"] {
		got = append(got, sentOf(r))
	}
	want := []sent{
		{Model: "gpt-4.1", Temperature: llm.Float(1.2), MaxTokens: 1000, ReasoningEffort: llm.ReasoningLow},
		{Model: "gpt-4o-mini", Temperature: llm.Float(0), MaxTokens: 256, OneToolCall: true},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
}

func TestAgentParams(t *testing.T) {
	if p := declarative.AgentParams(config.AgentSpec{Name: "a", Instruction: "x"}); p != nil {
		t.Errorf("AgentParams of an agent without params = %+v, want nil", p)
	}
	temp, par := 0.3, true
	spec := config.AgentSpec{Name: "a", Model: "m", Temperature: &temp, MaxTokens: 10, MaxIterations: 2, ReasoningEffort: "high", ParallelToolCalls: &par}
	got := declarative.AgentParams(spec)
	want := &llm.RequestParams{Model: "m", Temperature: llm.Float(0.3), MaxTokens: 10, MaxIterations: 2, ReasoningEffort: llm.ReasoningHigh, ParallelToolCalls: llm.Bool(true)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("AgentParams (-want +got):\n%s", diff)
	}
	temp, par = 1, false
	if *got.Temperature != 0.3 || !*got.ParallelToolCalls {
		t.Error("AgentParams shares the spec's pointers")
	}
}
