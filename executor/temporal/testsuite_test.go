package temporal

// Tests of the workflow side (runContext) on the SDK's test environment:
// time is skipped, signals are sent from delayed callbacks.

import (
	"encoding/json"
	"errors"
	"log/slog"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	sdktemporal "go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/mcp-agent-go/mcp-agent/executor/temporal/internal/testflows"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

func newEnv(t *testing.T, runID string, ws ...workflow.Workflow) *testsuite.TestWorkflowEnvironment {
	t.Helper()
	logger := testLogger(t)
	var s testsuite.WorkflowTestSuite
	s.SetLogger(sdklog.NewStructuredLogger(logger))
	env := s.NewTestWorkflowEnvironment()
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: runID, TaskQueue: DefaultTaskQueue})
	env.SetTestTimeout(time.Minute)
	Register(env, workflow.NewRegistry(ws...), &WorkerOptions{Logger: logger})
	return env
}

// testLogger logs warnings and errors to the test's output.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

func queryState(t *testing.T, env *testsuite.TestWorkflowEnvironment) runState {
	t.Helper()
	v, err := env.QueryWorkflow(StateQuery)
	if err != nil {
		t.Fatalf("query %s: %v", StateQuery, err)
	}
	var st runState
	if err := v.Get(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

func result[T any](t *testing.T, env *testsuite.TestWorkflowEnvironment) T {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	var raw json.RawMessage
	if err := env.GetWorkflowResult(&raw); err != nil {
		t.Fatalf("workflow failed: %v", err)
	}
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatalf("decoding result %s: %v", raw, err)
	}
	return v
}

// workflowError returns the message of the run's failure.
func workflowError(t *testing.T, env *testsuite.TestWorkflowEnvironment) string {
	t.Helper()
	if !env.IsWorkflowCompleted() {
		t.Fatal("workflow did not complete")
	}
	err := env.GetWorkflowError()
	if err == nil {
		t.Fatal("workflow succeeded, want an error")
	}
	var appErr *sdktemporal.ApplicationError
	if errors.As(err, &appErr) {
		return appErr.Message()
	}
	return err.Error()
}

func TestSuiteHumanInput(t *testing.T) {
	c := testflows.NewCounter()
	env := newEnv(t, "r1", testflows.ApprovalFlow(c))
	var waiting, afterBad runState
	env.RegisterDelayedCallback(func() {
		waiting = queryState(t, env)
		// A payload that does not match the schema is skipped.
		env.SignalWorkflow(workflow.ResumeSignal, json.RawMessage(`{"approved":"yes"}`))
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		afterBad = queryState(t, env)
		env.SignalWorkflow(workflow.ResumeSignal, json.RawMessage(`{"approved":true,"edits":" (Really.)"}`))
	}, 2*time.Minute)
	env.ExecuteWorkflow("approval", json.RawMessage(`{"name":"otters"}`))

	if got, want := result[string](t, env), testflows.Draft("otters")+" (Really.)"; got != want {
		t.Errorf("result = %q, want %q", got, want)
	}
	w := waiting.Waiting
	if w == nil || w.Kind != "input" || w.Signal != workflow.ResumeSignal || w.Seq != 2 ||
		w.Prompt != testflows.ApprovalPrompt+"\n\n"+testflows.Draft("otters") || w.Schema == nil || w.Schema.Properties["approved"] == nil {
		t.Errorf("state while waiting: %+v", w)
	}
	if waiting.StatusMessage != "waiting for approval" || !waiting.Started {
		t.Errorf("state while waiting = %+v", waiting)
	}
	if afterBad.Waiting == nil || len(afterBad.Pending) != 0 {
		t.Errorf("after a bad payload the run must still wait with nothing pending: %+v", afterBad)
	}
	if c.Get("draft") != 1 || c.Get("publish") != 1 {
		t.Errorf("steps ran draft=%d publish=%d times, want 1 each", c.Get("draft"), c.Get("publish"))
	}
	if diff := cmp.Diff([]string{"r1/1"}, c.Keys("draft")); diff != "" {
		t.Errorf("draft idempotency keys (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"r1/3"}, c.Keys("publish")); diff != "" {
		t.Errorf("publish idempotency keys (-want +got):\n%s", diff)
	}
}

func TestSuiteResumeBeforeWait(t *testing.T) {
	env := newEnv(t, "r1", testflows.ApprovalFlow(testflows.NewCounter()))
	// Sent while the run is still at its first step: kept for the wait.
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(workflow.ResumeSignal, json.RawMessage(`{"approved":false}`))
	}, 0)
	env.ExecuteWorkflow("approval", json.RawMessage(`{"name":"otters"}`))
	if got := result[string](t, env); got != "not published" {
		t.Errorf("result = %q, want %q", got, "not published")
	}
}

func TestSuiteValues(t *testing.T) {
	c := testflows.NewCounter()
	env := newEnv(t, "r1", testflows.ValuesFlow(c))
	start := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	env.SetStartTime(start)
	env.ExecuteWorkflow("values", json.RawMessage(`{}`))
	v := result[testflows.Values](t, env)
	if !v.Start.Equal(start) || v.Now.Before(start) {
		t.Errorf("start = %v, now = %v; want start %v and now not before it", v.Start, v.Now, start)
	}
	if !regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(v.UUID) {
		t.Errorf("uuid = %q, want a version 4 UUID", v.UUID)
	}
	if v.Picked != "blue" || v.Info != "values/r1" {
		t.Errorf("picked = %q, info = %q", v.Picked, v.Info)
	}
	// random, uuid and pick are operations 1-3; the steps 4 and 5.
	if diff := cmp.Diff([]string{"r1/4", "r1/5"}, v.StepKeys); diff != "" {
		t.Errorf("step keys (-want +got):\n%s", diff)
	}
	st := queryState(t, env)
	if st.StatusMessage != "halfway" || st.Progress == nil || st.Progress.Current != 1 || st.Progress.Total != 2 {
		t.Errorf("state = %+v", st)
	}
}

func TestSuiteWaitSignal(t *testing.T) {
	t.Run("timeout", func(t *testing.T) {
		env := newEnv(t, "r1", testflows.WaitFlow())
		env.ExecuteWorkflow("waiter", json.RawMessage(`{"signal":"go","timeout":3600000000000}`))
		if got := result[testflows.WaitOut](t, env); !got.TimedOut || len(got.Got) != 0 {
			t.Errorf("result = %+v, want timed out", got)
		}
	})
	t.Run("buffered in order, bad payload skipped", func(t *testing.T) {
		env := newEnv(t, "r1", testflows.WaitFlow())
		env.RegisterDelayedCallback(func() {
			env.SignalWorkflow("go", json.RawMessage(`{"approved":true,"edits":"1"}`))
			env.SignalWorkflow("go", json.RawMessage(`{"approved":1}`))
			env.SignalWorkflow("go", json.RawMessage(`{"approved":false,"edits":"2"}`))
		}, 0)
		env.ExecuteWorkflow("waiter", json.RawMessage(`{"signal":"go","count":2,"timeout":3600000000000}`))
		want := testflows.WaitOut{Got: []testflows.Approval{{Approved: true, Edits: "1"}, {Approved: false, Edits: "2"}}}
		if diff := cmp.Diff(want, result[testflows.WaitOut](t, env)); diff != "" {
			t.Errorf("result (-want +got):\n%s", diff)
		}
	})
}

func TestSuiteStepRetries(t *testing.T) {
	for _, tc := range []struct {
		name     string
		in       testflows.FlakyIn
		want     int    // result, if no error
		wantErr  string // the run's error
		attempts int
	}{
		{"succeeds on the third attempt", testflows.FlakyIn{Failures: 2, MaxAttempts: 3}, 3, "", 3},
		{"fails after the last attempt", testflows.FlakyIn{Failures: 5, MaxAttempts: 3}, 0, `step "flaky" failed after 3 attempts: flaky: not yet`, 3},
		{"non-retryable", testflows.FlakyIn{Failures: 5, MaxAttempts: 3, NonRetryable: true}, 0, `step "flaky" failed after 1 attempt: flaky: not yet`, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testflows.NewCounter()
			env := newEnv(t, "r1", testflows.FlakyFlow(c))
			in, _ := json.Marshal(tc.in)
			env.ExecuteWorkflow("flaky", json.RawMessage(in))
			if tc.wantErr != "" {
				if got := workflowError(t, env); got != tc.wantErr {
					t.Errorf("error = %q, want %q", got, tc.wantErr)
				}
			} else if got := result[int](t, env); got != tc.want {
				t.Errorf("result = %d, want %d", got, tc.want)
			}
			if c.Get("flaky") != tc.attempts {
				t.Errorf("step ran %d times, want %d", c.Get("flaky"), tc.attempts)
			}
			if keys := c.Keys("flaky"); len(keys) > 0 && keys[0] != keys[len(keys)-1] {
				t.Errorf("attempts had different idempotency keys: %q", keys)
			}
		})
	}
}

func TestSuiteChildWorkflows(t *testing.T) {
	c := testflows.NewCounter()
	child := testflows.ChildFlow(c)
	t.Run("results", func(t *testing.T) {
		env := newEnv(t, "r1", child, testflows.ParentFlow(child))
		env.ExecuteWorkflow("parent", json.RawMessage(`3`))
		if got := result[int](t, env); got != 14 {
			t.Errorf("result = %d, want 14", got)
		}
	})
	t.Run("child fails", func(t *testing.T) {
		env := newEnv(t, "r2", child, testflows.ParentFlow(child))
		env.ExecuteWorkflow("parent", json.RawMessage(`-1`))
		want := `child workflow "double" run r2-c1 failed: step "double" failed after 1 attempt: negative input`
		if got := workflowError(t, env); got != want {
			t.Errorf("error = %q, want %q", got, want)
		}
	})
	t.Run("child not registered", func(t *testing.T) {
		env := newEnv(t, "r3", testflows.ParentFlow(child))
		env.ExecuteWorkflow("parent", json.RawMessage(`1`))
		if got, want := workflowError(t, env), `child workflow "double" is not registered: workflow not registered`; got != want {
			t.Errorf("error = %q, want %q", got, want)
		}
	})
}

func TestSuiteSleep(t *testing.T) {
	env := newEnv(t, "r1", testflows.SleepFlow())
	env.ExecuteWorkflow("sleeper", json.RawMessage(`7200000000000`)) // 2h, skipped
	if got := result[time.Duration](t, env); got != 2*time.Hour {
		t.Errorf("slept %v of run time, want 2h", got)
	}
}

func TestSuiteCancelWhileWaiting(t *testing.T) {
	c := testflows.NewCounter()
	env := newEnv(t, "r1", testflows.ApprovalFlow(c))
	env.RegisterDelayedCallback(env.CancelWorkflow, time.Minute)
	env.ExecuteWorkflow("approval", json.RawMessage(`{"name":"otters"}`))
	err := env.GetWorkflowError()
	var canceled *sdktemporal.CanceledError
	if !errors.As(err, &canceled) {
		t.Fatalf("error = %v, want a CanceledError", err)
	}
	var msg string
	if err := canceled.Details(&msg); err != nil || msg != `waiting for "resume": workflow run cancelled` {
		t.Errorf("cancellation details = %q (%v), want the workflow's error", msg, err)
	}
	if c.Get("publish") != 0 {
		t.Error("publish ran after cancel")
	}
}

func TestSuitePause(t *testing.T) {
	c := testflows.NewCounter()
	env := newEnv(t, "r1", testflows.ApprovalFlow(c))
	var paused runState
	published := -1
	env.RegisterDelayedCallback(func() {
		env.SignalWorkflow(PauseSignal, nil)
		env.SignalWorkflow(workflow.ResumeSignal, json.RawMessage(`{"approved":true}`))
	}, time.Minute)
	env.RegisterDelayedCallback(func() {
		paused = queryState(t, env)
		published = c.Get("publish")
		env.SignalWorkflow(UnpauseSignal, nil)
	}, time.Hour)
	env.ExecuteWorkflow("approval", json.RawMessage(`{"name":"otters"}`))
	if got := result[string](t, env); got != testflows.Draft("otters") {
		t.Errorf("result = %q", got)
	}
	if !paused.Paused || paused.Waiting != nil {
		t.Errorf("state an hour after Pause = %+v, want paused and not waiting", paused)
	}
	if published != 0 {
		t.Errorf("publish ran %d times while paused, want 0", published)
	}
}

func TestSuitePanic(t *testing.T) {
	def := workflow.Define("boom", func(wctx workflow.Context, _ struct{}) (int, error) { panic("kaboom") }, nil)
	env := newEnv(t, "r1", def)
	env.ExecuteWorkflow("boom", json.RawMessage(`{}`))
	if got, want := workflowError(t, env), `workflow "boom" run r1 panicked: kaboom`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestSuiteInvalidInput(t *testing.T) {
	env := newEnv(t, "r1", testflows.ApprovalFlow(testflows.NewCounter()))
	env.ExecuteWorkflow("approval", json.RawMessage(`{"name":5}`))
	if got, want := workflowError(t, env), `invalid input for workflow "approval": field "name": type: 5 has type "integer", want "string"`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}
