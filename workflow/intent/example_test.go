package intent_test

import (
	"context"
	"fmt"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/intent"
)

func Example() {
	model := llm.New(nil, replay.NewFromTurns(replay.Turn{
		Text: `{"intents": [{"intent": "refund", "confidence": 0.88, "reasoning": "The user wants money back."}]}`,
	}), nil)
	c, err := intent.NewLLM(model, []intent.Intent{
		{Name: "refund", Description: "Money back for an order.", Examples: []string{"I want a refund"}},
		{Name: "shipping", Description: "Where an order is.", Examples: []string{"Where is my parcel?"}},
	}, nil)
	if err != nil {
		panic(err)
	}
	matches, err := c.Classify(context.Background(), llm.Prompt("This kettle is broken, give me my money back"), 2)
	if err != nil {
		panic(err)
	}
	for _, m := range matches {
		fmt.Printf("%s %.2f %s\n", m.Intent, m.Confidence, m.Reasoning)
	}
	// Output: refund 0.88 The user wants money back.
}
