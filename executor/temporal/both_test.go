package temporal_test

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/executor/local"
	"github.com/mcp-agent-go/mcp-agent/executor/temporal/internal/testflows"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// TestSameWorkflowsOnBothExecutors runs the same definitions on the local
// executor and on Temporal and expects the same results, step executions
// and idempotency keys.
func TestSameWorkflowsOnBothExecutors(t *testing.T) {
	type outcome struct {
		Draft    string
		Rejected string
		Flaky    int
		Parent   int
		Waited   testflows.WaitOut
		Keys     []string
		Counts   map[string]int
	}
	run := func(t *testing.T, ex func(ws ...workflow.Workflow) executor.Executor) outcome {
		c := testflows.NewCounter()
		approval := testflows.ApprovalFlow(c)
		flaky := testflows.FlakyFlow(c)
		child := testflows.ChildFlow(c)
		parent := testflows.ParentFlow(child)
		waiter := testflows.WaitFlow()
		values := testflows.ValuesFlow(c)
		e := ex(approval, flaky, child, parent, waiter, values)
		ctx := testContext(t)
		var o outcome

		for i, payload := range []string{`{"approved":true,"edits":" (Really.)"}`, `{"approved":false}`} {
			id, err := executor.Start(ctx, e, approval, testflows.Topic{Name: "otters"}, &executor.StartOptions{ID: unique(t)})
			if err != nil {
				t.Fatal(err)
			}
			waitStatus(t, e, id, func(r *executor.Run) bool { return r.Waiting != nil })
			if err := e.Resume(ctx, id, json.RawMessage(payload), nil); err != nil {
				t.Fatal(err)
			}
			out, err := executor.ResultOf[string](ctx, e, id)
			if err != nil {
				t.Fatal(err)
			}
			if i == 0 {
				o.Draft = out
			} else {
				o.Rejected = out
			}
		}
		var err error
		if o.Flaky, _, err = executor.Execute(ctx, e, flaky, testflows.FlakyIn{Failures: 1, MaxAttempts: 3}, nil); err != nil {
			t.Fatal(err)
		}
		if o.Parent, _, err = executor.Execute(ctx, e, parent, 5, nil); err != nil {
			t.Fatal(err)
		}
		id, err := executor.Start(ctx, e, waiter, testflows.WaitIn{Signal: "go", Count: 2}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range []string{`{"approved":true,"edits":"a"}`, `{"approved":"x"}`, `{"approved":false,"edits":"b"}`} {
			err := e.Signal(ctx, id, "go", json.RawMessage(p))
			// A payload failing the schema is refused at once when the run
			// already waits for the signal, or buffered and then rejected
			// by the run when it does not yet: either way it is not
			// delivered, which is what the outcome compares.
			if err != nil && !(p == `{"approved":"x"}` && errors.Is(err, workflow.ErrInvalidPayload)) {
				t.Fatal(err)
			}
		}
		if o.Waited, err = executor.ResultOf[testflows.WaitOut](ctx, e, id); err != nil {
			t.Fatal(err)
		}
		v, runID, err := executor.Execute(ctx, e, values, struct{}{}, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range v.StepKeys {
			o.Keys = append(o.Keys, k[len(runID):]) // "/4", "/5"
		}
		o.Counts = map[string]int{}
		for _, s := range []string{"draft", "publish", "flaky", "double", "s0", "s1"} {
			o.Counts[s] = c.Get(s)
		}
		return o
	}
	var got [2]outcome
	var ran [2]bool
	t.Run("local", func(t *testing.T) {
		got[0] = run(t, func(ws ...workflow.Workflow) executor.Executor {
			ex, err := local.Open(t.Context(), filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(ws...), &local.Options{Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ex.Close() })
			return ex
		})
		ran[0] = true
	})
	t.Run("temporal", func(t *testing.T) {
		got[1] = run(t, func(ws ...workflow.Workflow) executor.Executor { return open(t, ws...) })
		ran[1] = true // not reached when the server is unavailable (skipped)
	})
	if t.Failed() {
		return
	}
	want := outcome{
		Draft: testflows.Draft("otters") + " (Really.)", Rejected: "not published", Flaky: 2, Parent: 22,
		Waited: testflows.WaitOut{Got: []testflows.Approval{{Approved: true, Edits: "a"}, {Approved: false, Edits: "b"}}},
		Keys:   []string{"/4", "/5"},
		Counts: map[string]int{"draft": 2, "publish": 1, "flaky": 2, "double": 2, "s0": 1, "s1": 1},
	}
	for i, name := range []string{"local", "temporal"} {
		if !ran[i] {
			continue
		}
		if diff := cmp.Diff(want, got[i]); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
}
