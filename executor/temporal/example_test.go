package temporal_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"time"

	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/executor/temporal"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

type approval struct {
	Approved bool   `json:"approved"`
	Edits    string `json:"edits,omitempty"`
}

// draft is an ordinary workflow of package workflow: it runs unchanged on
// the local executor and on Temporal.
var draft = workflow.Define("draft", func(wctx workflow.Context, topic string) (string, error) {
	text, err := workflow.Step(wctx, "write", func(ctx context.Context, sc workflow.StepContext) (string, error) {
		return "Otters hold hands while they sleep.", nil // an LLM call, in a real app
	}, nil)
	if err != nil {
		return "", err
	}
	a, err := workflow.RequestInput[approval](wctx, "Publish this draft?\n"+text, nil)
	if err != nil || !a.Approved {
		return "not published", err
	}
	return text + a.Edits, nil
}, nil)

// Run a workflow on a Temporal server: Dial with a worker in this process,
// start a run, wait until it asks for input, resume it.
func ExampleDial() {
	ctx := context.Background()
	ex, err := temporal.Dial(ctx, &config.TemporalSettings{Host: "127.0.0.1:7233", TaskQueue: "drafts"},
		workflow.NewRegistry(draft), &temporal.Options{Worker: true})
	if err != nil {
		log.Fatal(err)
	}
	defer ex.Close()
	runID, err := executor.Start(ctx, ex, draft, "otters", nil)
	if err != nil {
		log.Fatal(err)
	}
	r, err := executor.WaitFor(ctx, ex, runID, func(r *executor.Run) bool { return r.Waiting != nil })
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.Waiting.Prompt)
	if err := ex.Resume(ctx, runID, json.RawMessage(`{"approved":true,"edits":" (Really.)"}`), nil); err != nil {
		log.Fatal(err)
	}
	out, err := executor.ResultOf[string](ctx, ex, runID)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out)
}

// Test an app's workflows with the Temporal SDK's test environment:
// Register them, send the human input from a delayed callback, and read the
// run's state with the StateQuery query.
func ExampleRegister() {
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(sdklog.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := suite.NewTestWorkflowEnvironment()
	temporal.Register(env, workflow.NewRegistry(draft), nil)
	env.RegisterDelayedCallback(func() {
		v, _ := env.QueryWorkflow(temporal.StateQuery)
		var st struct {
			Waiting *executor.Wait `json:"waiting"`
		}
		_ = v.Get(&st)
		fmt.Printf("waiting for %s on %q\n", st.Waiting.Kind, st.Waiting.Signal)
		env.SignalWorkflow(workflow.ResumeSignal, json.RawMessage(`{"approved":true,"edits":" (Really.)"}`))
	}, time.Hour)
	env.ExecuteWorkflow("draft", json.RawMessage(`"otters"`))
	var out string
	if err := env.GetWorkflowResult(&out); err != nil {
		log.Fatal(err)
	}
	fmt.Println(out)
	// Output:
	// waiting for input on "resume"
	// Otters hold hands while they sleep. (Really.)
}
