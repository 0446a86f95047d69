package local_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/executor/local"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// An agent drafts a text, pauses for a person's approval and publishes the
// approved text with the person's edits.
func Example() {
	type Topic struct {
		Name string `json:"name"`
	}
	type Review struct {
		Approved bool   `json:"approved"`
		Edits    string `json:"edits,omitempty"`
	}
	draft := workflow.Define("draft", func(wctx workflow.Context, in Topic) (string, error) {
		text, err := workflow.Step(wctx, "write", func(ctx context.Context, sc workflow.StepContext) (string, error) {
			return "Sea " + in.Name + " hold hands while they sleep.", nil // an LLM call in a real app
		}, nil)
		if err != nil {
			return "", err
		}
		review, err := workflow.RequestInput[Review](wctx, "Publish this draft? "+text, nil)
		if err != nil {
			return "", err
		}
		if !review.Approved {
			return "not published", nil
		}
		return workflow.Step(wctx, "publish", func(ctx context.Context, sc workflow.StepContext) (string, error) {
			// sc.IdempotencyKey lets the publishing service drop a repeat.
			return text + " " + review.Edits, nil
		}, nil)
	}, nil)

	dir, err := os.MkdirTemp("", "workflows")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	ctx := context.Background()
	ex, err := local.Open(ctx, filepath.Join(dir, "runs.db"), workflow.NewRegistry(draft), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ex.Close()

	runID, err := executor.Start(ctx, ex, draft, Topic{Name: "otters"}, &executor.StartOptions{ID: "draft-1"})
	if err != nil {
		log.Fatal(err)
	}
	r, err := executor.WaitFor(ctx, ex, runID, func(r *executor.Run) bool { return r.Waiting != nil })
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Status+":", r.Waiting.Prompt)

	// A payload that does not match the requested schema is refused.
	err = ex.Resume(ctx, runID, json.RawMessage(`{"approved":"yes"}`), nil)
	fmt.Println(err)

	err = ex.Resume(ctx, runID, json.RawMessage(`{"approved":true,"edits":"(Really.)"}`), nil)
	if err != nil {
		log.Fatal(err)
	}
	out, err := executor.ResultOf[string](ctx, ex, runID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out)
	// Output:
	// paused: Publish this draft? Sea otters hold hands while they sleep.
	// invalid payload of signal "resume": field "approved": type: yes has type "string", want "boolean"
	// Sea otters hold hands while they sleep. (Really.)
}
