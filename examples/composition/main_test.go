package main

import (
	"strings"
	"testing"
)

func TestReplay(t *testing.T) {
	var out strings.Builder
	if err := run(t.Context(), &out, "replay", ""); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		// The router chose the orchestrator; its planner (an
		// evaluator-optimizer) had its first plan rejected, and the
		// orchestrator ran the second one.
		`request: Prepare a short briefing on adopting MCP for our internal tools: benefits and risks.
  [desk] Routing to agent "briefing" (confidence 0.93). The request asks for research and a written briefing.
  [plan_review] plan 1 rated FAIR: One task does everything and nobody looks at risks: research benefits and risks separately, in parallel.
  [plan_review] plan 2 rated GOOD: Independent research runs in parallel and each task has one clear worker.
  [briefing] step 1 (Research benefits and risks): researcher, risk_analyst
answer:
Adopting MCP lets us write each internal integration once`,
		// The router chose the parallel, which fanned out and in.
		`  [desk] Routing to agent "review" (confidence 0.96). The request asks to check a given text for spelling and facts.
  [review] proofreader: "anounced" should be "announced".
  [review] fact_checker: MCP was announced by Anthropic, not OpenAI (November 2024).
answer:
MCP was announced by Anthropic in November 2024.`,
		// Usage nests the same way.
		`usage:
  run (run): 12 calls
    desk (workflow): 12 calls
      briefing (workflow): 7 calls
        editor (llm): 1 calls
        plan_review (workflow): 4 calls
          plan_critic (llm): 2 calls
          planner (llm): 2 calls
        researcher (llm): 1 calls
        risk_analyst (llm): 1 calls
      review (workflow): 3 calls
        fact_checker (llm): 1 calls
        proofreader (llm): 1 calls
        review_editor (llm): 1 calls
      routing (llm): 2 calls
`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks:\n%s\n\noutput:\n%s", want, got)
		}
	}
}
