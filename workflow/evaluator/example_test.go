package evaluator_test

import (
	"context"
	"fmt"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/evaluator"
)

func Example() {
	writer := llm.New(nil, replay.NewFromTurns(
		replay.Turn{Text: "Dear team, the release is late."},
		replay.Turn{Text: "Dear team, the release moves to Friday because of a failing test; a fix is under review."},
	), &llm.Options{Name: "writer"})
	critic := llm.New(nil, replay.NewFromTurns(
		replay.Turn{Text: `{"rating": "FAIR", "feedback": "Say why and when.", "needs_improvement": true, "focus_areas": ["cause", "new date"]}`},
		replay.Turn{Text: `{"rating": "EXCELLENT", "feedback": "Clear and complete.", "needs_improvement": false, "focus_areas": []}`},
	), &llm.Options{Name: "critic"})

	eo, err := evaluator.New(writer, critic, &evaluator.Options{MinRating: evaluator.Good, MaxRefinements: 3})
	if err != nil {
		panic(err)
	}
	res, err := eo.Run(context.Background(), llm.Prompt("Tell the team the release is delayed."), nil)
	if err != nil {
		panic(err)
	}
	for _, a := range res.Attempts {
		fmt.Printf("attempt %d: %s (%s)\n", a.Number, a.Evaluation.Rating, a.Evaluation.Feedback)
	}
	fmt.Println("reached threshold:", res.ReachedThreshold)
	fmt.Println(res.BestAttempt().Text())
	// Output:
	// attempt 1: FAIR (Say why and when.)
	// attempt 2: EXCELLENT (Clear and complete.)
	// reached threshold: true
	// Dear team, the release moves to Friday because of a failing test; a fix is under review.
}
