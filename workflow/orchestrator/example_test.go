package orchestrator_test

import (
	"context"
	"fmt"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/orchestrator"
)

// A planner assigns two parallel research tasks and a writing step; the
// result shows the plan and every task's answer.
func ExampleOrchestrator_Run() {
	model := func(name string, answers ...string) llm.AugmentedLLM {
		var turns []replay.Turn
		for _, a := range answers {
			turns = append(turns, replay.Turn{Text: a})
		}
		return llm.New(nil, replay.NewFromTurns(turns...), &llm.Options{Name: name})
	}
	planner := model("planner",
		`{"steps": [
		  {"description": "research", "tasks": [
		    {"description": "When was Go released?", "worker": "historian"},
		    {"description": "Who designed Go?", "worker": "historian"}]},
		  {"description": "write", "tasks": [{"description": "Write one sentence.", "worker": "writer"}]}]}`,
		"Go was designed at Google and released in 2009.", // the planner also synthesizes
	)
	// The historian's tasks run concurrently: each scripted answer matches its question.
	historian := llm.New(nil, replay.NewFromTurns(
		replay.Turn{Match: "released", Text: "2009."},
		replay.Turn{Match: "designed", Text: "Griesemer, Pike and Thompson."},
	), &llm.Options{Name: "historian"})
	writer := model("writer", "Designed by Griesemer, Pike and Thompson, Go appeared in 2009.")

	o, err := orchestrator.New(planner, []orchestrator.Worker{
		{LLM: historian, Description: "Knows the history of programming languages."},
		{LLM: writer},
	}, nil)
	if err != nil {
		panic(err)
	}
	res, err := o.Run(context.Background(), llm.Prompt("Write a sentence about Go's origins."), nil)
	if err != nil {
		panic(err)
	}
	for i, step := range res.Steps {
		for _, task := range step.Tasks {
			fmt.Printf("step %d, %s: %q -> %s\n", i+1, task.Task.Worker, task.Task.Description, task.Text())
		}
	}
	fmt.Println(res.Answer())
	// Output:
	// step 1, historian: "When was Go released?" -> 2009.
	// step 1, historian: "Who designed Go?" -> Griesemer, Pike and Thompson.
	// step 2, writer: "Write one sentence." -> Designed by Griesemer, Pike and Thompson, Go appeared in 2009.
	// Go was designed at Google and released in 2009.
}

// In Iterative mode the planner plans one step at a time and declares the
// objective complete when the results suffice.
func ExampleNew_iterative() {
	planner := llm.New(nil, replay.NewFromTurns(
		replay.Turn{Text: `{"description": "look it up", "tasks": [{"description": "Find Go's release year", "worker": "historian"}], "is_complete": false}`},
		replay.Turn{Text: `{"description": "", "tasks": [], "is_complete": true}`},
		replay.Turn{Text: "Go was released in 2009."},
	), &llm.Options{Name: "planner"})
	historian := llm.New(nil, replay.NewFromTurns(replay.Turn{Text: "2009"}), &llm.Options{Name: "historian"})

	o, err := orchestrator.New(planner, []orchestrator.Worker{{LLM: historian}}, &orchestrator.Options{Mode: orchestrator.Iterative})
	if err != nil {
		panic(err)
	}
	res, err := o.Run(context.Background(), llm.Prompt("When was Go released?"), nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(res.Iterations, "planning rounds,", len(res.Steps), "step")
	fmt.Println(res.Answer())
	// Output:
	// 2 planning rounds, 1 step
	// Go was released in 2009.
}
