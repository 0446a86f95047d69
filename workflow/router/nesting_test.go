package router_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patterntest"
	"github.com/mcp-agent-go/mcp-agent/workflow/parallel"
	"github.com/mcp-agent-go/mcp-agent/workflow/router"
)

// TestRouteToParallel nests a Parallel as a router's route: the router
// runs it like any LLM, and usage nests router -> parallel -> members.
func TestRouteToParallel(t *testing.T) {
	pro, _ := patterntest.Scripted(t, "pro", "turns: [{text: Buy., usage: {input: 10}}]")
	con, _ := patterntest.Scripted(t, "con", "turns: [{text: Wait., usage: {input: 20}}]")
	judge, judgeRec := patterntest.Scripted(t, "judge", "turns: [{text: Buy next month., usage: {input: 40}}]")
	debate, err := parallel.New(parallel.Aggregator(judge), []llm.AugmentedLLM{pro, con}, &parallel.Options{Name: "debate"})
	if err != nil {
		t.Fatal(err)
	}
	routing, _ := patterntest.Scripted(t, "routing", `turns: [{text: '{"categories": [{"category": "debate", "confidence": 0.9, "reasoning": "A decision."}]}', usage: {input: 5}}]`)
	cats := append(fixture(t), router.AgentCategory(debate, "Weighs both sides of a decision."))
	r, err := router.NewLLM(routing, cats, &router.Options{Name: "front"})
	if err != nil {
		t.Fatal(err)
	}
	run := llm.NewUsageTracker("run", llm.UsageRun)
	got, err := llm.GenerateString(llm.ContextWithUsage(t.Context(), run), r, llm.Prompt("Should I buy a house?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != "Buy next month." {
		t.Errorf("answer = %q", got)
	}
	if p := judgeRec.Requests()[0].Messages[0].Text(); p[:len("Should I buy a house?")] != "Should I buy a house?" {
		t.Errorf("the parallel's aggregator did not get the routed request: %q", p)
	}
	type node struct {
		Name  string
		Kind  llm.UsageKind
		Input int64
	}
	var flat []node
	var walk func(n llm.UsageNode)
	walk = func(n llm.UsageNode) {
		flat = append(flat, node{n.Name, n.Kind, n.Usage.InputTokens})
		for _, c := range n.Children {
			walk(c)
		}
	}
	rep := run.Report(nil)
	walk(rep.Children[0])
	want := []node{
		{"front", llm.UsageWorkflow, 75},
		{"routing", llm.UsageLLM, 5},
		{"debate", llm.UsageWorkflow, 70},
	}
	if diff := cmp.Diff(want, flat[:3]); diff != "" {
		t.Errorf("usage tree (-want +got):\n%s", diff)
	}
	if len(flat) != 6 {
		t.Errorf("usage tree has %d nodes, want 6 (front, routing, debate, pro, con, judge): %v", len(flat), flat)
	}
}
