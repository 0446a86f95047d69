package router_test

import (
	"context"
	"fmt"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/router"
)

func Example() {
	// The routing model (scripted here) answers with ranked categories.
	routing := llm.New(nil, replay.NewFromTurns(replay.Turn{
		Text: `{"categories": [
			{"category": "calculator", "confidence": 0.92, "reasoning": "The request is arithmetic."},
			{"category": "poet", "confidence": 0.05, "reasoning": "Numbers are not poetry."}]}`,
	}), &llm.Options{Name: "routing"})
	poet := llm.New(nil, replay.NewFromTurns(replay.Turn{Text: "Roses are red."}), &llm.Options{Name: "poet"})
	calc := router.FunctionCategory("calculator", "Adds numbers.", func(ctx context.Context, conv []llm.Message) (string, error) {
		return "2 + 2 = 4", nil
	})

	r, err := router.NewLLM(routing, []router.Category{router.AgentCategory(poet, "Writes poems."), calc}, nil)
	if err != nil {
		panic(err)
	}
	ctx := context.Background()
	choices, err := r.Route(ctx, llm.Prompt("What is 2 + 2?"), 5)
	if err != nil {
		panic(err)
	}
	for _, c := range choices {
		fmt.Printf("%s (%s) %.2f: %s\n", c.Category.Name, c.Category.Kind, c.Confidence, c.Reasoning)
	}
	answer, err := r.Run(ctx, choices[0], llm.Prompt("What is 2 + 2?"), nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(llm.FinalText(answer))
	// Output:
	// calculator (function) 0.92: The request is arithmetic.
	// poet (agent) 0.05: Numbers are not poetry.
	// 2 + 2 = 4
}
