package swarm_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patterntest"
	"github.com/mcp-agent-go/mcp-agent/workflow/swarm"
)

// agentUsage returns, for each agent under the swarm's usage node, its
// calls and its usage by model.
func agentUsage(t *testing.T, run *llm.UsageTracker) (map[string]int, map[string]map[string]llm.Usage, llm.UsageNode) {
	t.Helper()
	rep := run.Report(nil)
	if len(rep.Children) != 1 || rep.Children[0].Name != "swarm" {
		t.Fatalf("usage tree: %+v", rep)
	}
	node := rep.Children[0]
	calls := map[string]int{}
	models := map[string]map[string]llm.Usage{}
	for _, c := range node.Children {
		calls[c.Name] = c.Calls
		models[c.Name] = c.Models
	}
	return calls, models, node
}

// TestAgentModels: triage runs on a cheap model, billing on a stronger one
// with its own sampling settings, through one provider; each agent's usage
// is reported under its own node, by model.
func TestAgentModels(t *testing.T) {
	rec := patterntest.Replay(t, "swarm.yaml", `
turns:
  - tool_calls: [{name: transfer_to_billing}]
    usage: {input: 1000, output: 100}
  - tool_calls: [{name: ledger_balance, arguments: {account: A-1}}]
    usage: {input: 2000, output: 200}
  - text: Your balance is -42.00 EUR.
    usage: {input: 3000, output: 300}
  - match: thanks
    text: You're welcome.
`)
	s, err := swarm.New(servedModel{rec}, support(t, nil), &swarm.Options{
		Params: &llm.RequestParams{Model: "gpt-4.1", MaxTokens: 100, Temperature: llm.Float(0.7)},
		Agents: map[string]swarm.AgentOptions{
			"triage":  {Params: &llm.RequestParams{Model: "gpt-4o-mini", Temperature: llm.Float(0)}},
			"billing": {Params: &llm.RequestParams{Model: "gpt-4o", MaxTokens: 800}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	run := llm.NewUsageTracker("run", llm.UsageRun)
	ctx := llm.ContextWithUsage(t.Context(), run)
	res, err := s.Run(ctx, llm.Prompt("What is my balance? Account A-1."), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer() != "Your balance is -42.00 EUR." || res.Agent != "billing" {
		t.Errorf("answer %q by %q", res.Answer(), res.Agent)
	}

	type sent struct {
		System      string
		Model       string
		MaxTokens   int
		Temperature float64
	}
	var got []sent
	for _, r := range rec.Requests() {
		got = append(got, sent{r.System, r.Model, r.MaxTokens, *r.Temperature})
	}
	want := []sent{
		{"You route customers.", "gpt-4o-mini", 100, 0}, // triage: its model and temperature, the swarm's max tokens
		{"You handle billing.", "gpt-4o", 800, 0.7},     // billing: its model and max tokens, the swarm's temperature
		{"You handle billing.", "gpt-4o", 800, 0.7},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}

	calls, models, node := agentUsage(t, run)
	wantModels := map[string]map[string]llm.Usage{
		"triage":  {"gpt-4o-mini": {InputTokens: 1000, OutputTokens: 100}},
		"billing": {"gpt-4o": {InputTokens: 5000, OutputTokens: 500}},
	}
	if diff := cmp.Diff(wantModels, models); diff != "" {
		t.Errorf("usage by agent and model (-want +got):\n%s", diff)
	}
	if !cmp.Equal(calls, map[string]int{"triage": 1, "billing": 2}) {
		t.Errorf("calls by agent = %v", calls)
	}
	// gpt-4o-mini: 1000 x 0.15 + 100 x 0.60 per million; gpt-4o: 5000 x 2.50 + 500 x 10.00.
	const triageUSD, billingUSD = 0.00021, 0.0175
	costs := map[string]float64{}
	for _, c := range node.Children {
		costs[c.Name] = c.Cost.USD
	}
	approx := cmp.Comparer(func(a, b float64) bool { return a-b < 1e-12 && b-a < 1e-12 })
	if !cmp.Equal(costs, map[string]float64{"triage": triageUSD, "billing": billingUSD}, approx) || !cmp.Equal(node.Cost.USD, triageUSD+billingUSD, approx) {
		t.Errorf("costs: by agent %v, swarm %v", costs, node.Cost.USD)
	}
	// Each agent's own LLM reports the same.
	if r := s.Agent("triage").UsageReport(); r.Calls != 1 || r.Models["gpt-4o-mini"].InputTokens != 1000 {
		t.Errorf("triage's own report: %+v", r)
	}

	// The caller's RequestParams override every agent's.
	if _, err := s.Generate(t.Context(), llm.Prompt("thanks"), &llm.RequestParams{Model: "o3"}); err != nil {
		t.Fatal(err)
	}
	if last := rec.Requests()[3]; last.Model != "o3" || last.MaxTokens != 800 {
		t.Errorf("with the caller's model: model %q, max tokens %d", last.Model, last.MaxTokens)
	}
}

// TestAgentProviders: each agent's calls go to its own provider; New needs
// no swarm provider when every agent has one.
func TestAgentProviders(t *testing.T) {
	small := patterntest.Replay(t, "small.yaml", `
model: gpt-4o-mini
turns:
  - tool_calls: [{name: transfer_to_billing}]
    usage: {input: 10, output: 1}
`)
	large := patterntest.Replay(t, "large.yaml", `
model: claude-sonnet-4-5
turns:
  - text: Billing here.
    usage: {input: 20, output: 2}
`)
	s, err := swarm.New(nil, support(t, nil), &swarm.Options{
		Agents: map[string]swarm.AgentOptions{
			"triage":  {Provider: small},
			"billing": {Provider: large, Params: &llm.RequestParams{Model: "claude-sonnet-4-5"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	run := llm.NewUsageTracker("run", llm.UsageRun)
	res, err := s.Run(llm.ContextWithUsage(t.Context(), run), llm.Prompt("balance?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer() != "Billing here." {
		t.Errorf("answer = %q", res.Answer())
	}
	if n, m := len(small.Requests()), len(large.Requests()); n != 1 || m != 1 {
		t.Fatalf("triage's provider got %d requests, billing's %d; want 1 each", n, m)
	}
	if r := small.Requests()[0]; r.System != "You route customers." || r.Model != "" {
		t.Errorf("triage's provider got system %q, model %q", r.System, r.Model)
	}
	if r := large.Requests()[0]; r.System != "You handle billing." || r.Model != "claude-sonnet-4-5" || len(r.Messages) != 3 {
		t.Errorf("billing's provider got system %q, model %q, %d messages", r.System, r.Model, len(r.Messages))
	}
	_, models, _ := agentUsage(t, run)
	want := map[string]map[string]llm.Usage{
		"triage":  {"gpt-4o-mini": {InputTokens: 10, OutputTokens: 1}},
		"billing": {"claude-sonnet-4-5": {InputTokens: 20, OutputTokens: 2}},
	}
	if diff := cmp.Diff(want, models); diff != "" {
		t.Errorf("usage by agent and model (-want +got):\n%s", diff)
	}
}
