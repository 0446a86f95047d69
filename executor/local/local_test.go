package local_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/executor/local"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

const testTimeout = 30 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func open(t *testing.T, path string, reg *workflow.Registry, opts *local.Options) *local.Executor {
	t.Helper()
	if opts == nil {
		opts = &local.Options{PollInterval: 10 * time.Millisecond, Synchronous: "NORMAL"}
	}
	ex, err := local.Open(testContext(t), path, reg, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close() })
	return ex
}

// waitStatus waits until the run reaches want, failing after a deadline.
func waitStatus(t *testing.T, ex executor.Executor, runID string, want executor.Status) *executor.Run {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		r, err := ex.Status(t.Context(), runID)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == want {
			return r
		}
		if r.Status.Terminal() || time.Now().After(deadline) {
			t.Fatalf("run %s: status %s (error %q), want %s", runID, r.Status, r.Error, want)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// waitUntil polls cond until it holds, failing after a deadline.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func eventTypes(t *testing.T, ex executor.Executor, runID string) []string {
	t.Helper()
	evs, err := ex.History(t.Context(), runID)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, ev := range evs {
		s := string(ev.Type)
		if ev.Name != "" {
			s += ":" + ev.Name
		}
		out = append(out, s)
	}
	return out
}

type Topic struct {
	Name  string `json:"name"`
	Words int    `json:"words,omitempty"`
}

type Approval struct {
	Approved bool   `json:"approved"`
	Edits    string `json:"edits,omitempty"`
}

var fast = &workflow.StepOptions{Retry: &workflow.RetryPolicy{InitialInterval: time.Millisecond}}

func TestRunStepsAndHistory(t *testing.T) {
	var calls atomic.Int32
	greet := workflow.Define("greet", func(wctx workflow.Context, in Topic) (string, error) {
		a, err := workflow.Step(wctx, "first", func(ctx context.Context, sc workflow.StepContext) (string, error) {
			calls.Add(1)
			return "hello " + in.Name, nil
		}, nil)
		if err != nil {
			return "", err
		}
		workflow.SetStatus(wctx, "halfway")
		workflow.ReportProgress(wctx, 1, 2, "one down")
		b, err := workflow.Step(wctx, "second", func(ctx context.Context, sc workflow.StepContext) (string, error) {
			calls.Add(1)
			if sc.IdempotencyKey != sc.RunID+"/2" || sc.Seq != 2 || sc.Attempt != 1 {
				return "", fmt.Errorf("bad step context %+v", sc)
			}
			return "!", nil
		}, nil)
		return a + b, err
	}, nil)
	ex := open(t, filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(greet), nil)
	ctx := testContext(t)
	out, runID, err := executor.Execute(ctx, ex, greet, Topic{Name: "ada"}, &executor.StartOptions{ID: "r1"})
	if err != nil {
		t.Fatal(err)
	}
	if out != "hello ada!" || runID != "r1" || calls.Load() != 2 {
		t.Fatalf("got %q %q after %d calls", out, runID, calls.Load())
	}
	r, err := ex.Status(ctx, "r1")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != executor.StatusCompleted || r.StatusMessage != "halfway" || r.Progress == nil || r.Progress.Total != 2 || r.EndedAt.IsZero() {
		t.Errorf("status: %+v", r)
	}
	want := []string{"run_scheduled:greet", "run_started", "step_started:first", "step_completed:first",
		"status_set:halfway", "progress", "step_started:second", "step_completed:second", "run_completed"}
	if diff := cmp.Diff(want, eventTypes(t, ex, "r1")); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
	if _, err := ex.Start(ctx, "greet", json.RawMessage(`{"name":"x"}`), &executor.StartOptions{ID: "r1"}); !errors.Is(err, executor.ErrRunExists) {
		t.Errorf("second start with the same ID: %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	greet := workflow.Define("greet", func(wctx workflow.Context, in Topic) (string, error) { return in.Name, nil }, nil)
	ex := open(t, filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(greet), nil)
	ctx := testContext(t)
	tests := []struct {
		name, workflow, input, want string
		is                          error
	}{
		{"unknown workflow", "nope", `{}`, `workflow "nope" is not registered (registered: greet)`, executor.ErrWorkflowNotFound},
		{"wrong type", "greet", `{"name":5}`, `invalid input for workflow "greet": field "name": type: 5 has type "integer", want "string"`, workflow.ErrInvalidPayload},
		{"missing field", "greet", `{}`, `invalid input for workflow "greet": required: missing properties: ["name"]`, workflow.ErrInvalidPayload},
		{"unknown field", "greet", `{"name":"a","colour":"red"}`, `invalid input for workflow "greet": unexpected additional properties ["colour"]`, workflow.ErrInvalidPayload},
		{"not JSON", "greet", `{name`, `invalid input for workflow "greet": not valid JSON`, workflow.ErrInvalidPayload},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ex.Start(ctx, tt.workflow, json.RawMessage(tt.input), nil)
			if !errors.Is(err, tt.is) || !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("got %v, want %q (%v)", err, tt.want, tt.is)
			}
		})
	}
	for _, id := range []string{"abc"} {
		_, err := ex.Status(ctx, id)
		if !errors.Is(err, executor.ErrRunNotFound) || err.Error() != `run "abc" not found: run not found` {
			t.Errorf("Status of unknown run: %v", err)
		}
		for name, f := range map[string]func() error{
			"Resume":    func() error { return ex.Resume(ctx, id, json.RawMessage(`{}`), nil) },
			"Pause":     func() error { return ex.Pause(ctx, id) },
			"Cancel":    func() error { return ex.Cancel(ctx, id) },
			"Terminate": func() error { return ex.Terminate(ctx, id, "") },
			"Signal":    func() error { return ex.Signal(ctx, id, "x", nil) },
			"History":   func() error { _, err := ex.History(ctx, id); return err },
			"Result":    func() error { _, err := ex.Result(ctx, id); return err },
		} {
			if err := f(); !errors.Is(err, executor.ErrRunNotFound) || !strings.Contains(err.Error(), `run "abc" not found`) {
				t.Errorf("%s of unknown run: %v", name, err)
			}
		}
	}
}

// approval drafts, asks for approval and publishes.
func approvalWorkflow(steps *atomic.Int32) *workflow.Definition[Topic, string] {
	return workflow.Define("approval", func(wctx workflow.Context, in Topic) (string, error) {
		draft, err := workflow.Step(wctx, "draft", func(ctx context.Context, sc workflow.StepContext) (string, error) {
			steps.Add(1)
			return "draft about " + in.Name, nil
		}, nil)
		if err != nil {
			return "", err
		}
		a, err := workflow.RequestInput[Approval](wctx, "approve "+draft+"?", nil)
		if err != nil {
			return "", err
		}
		if !a.Approved {
			return "rejected", nil
		}
		return workflow.Step(wctx, "publish", func(ctx context.Context, sc workflow.StepContext) (string, error) {
			steps.Add(1)
			return draft + a.Edits, nil
		}, nil)
	}, nil)
}

func TestHumanInput(t *testing.T) {
	var steps atomic.Int32
	def := approvalWorkflow(&steps)
	ex := open(t, filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(def), nil)
	ctx := testContext(t)
	runID, err := executor.Start(ctx, ex, def, Topic{Name: "otters"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := waitStatus(t, ex, runID, executor.StatusPaused)
	if r.Waiting == nil || r.Waiting.Kind != "input" || r.Waiting.Signal != "resume" || r.Waiting.Prompt != "approve draft about otters?" ||
		r.Waiting.Schema == nil || r.Waiting.Schema.Properties["approved"] == nil {
		t.Fatalf("waiting: %+v", r.Waiting)
	}

	// A payload that does not match the schema is refused and changes nothing.
	err = ex.Resume(ctx, runID, json.RawMessage(`{"approved":"yes"}`), nil)
	if !errors.Is(err, workflow.ErrInvalidPayload) ||
		err.Error() != `invalid payload of signal "resume": field "approved": type: yes has type "string", want "boolean"` {
		t.Fatalf("bad payload: %v", err)
	}
	if r := waitStatus(t, ex, runID, executor.StatusPaused); r.Waiting == nil {
		t.Fatal("run stopped waiting after a rejected payload")
	}

	if err := ex.Resume(ctx, runID, json.RawMessage(`{"approved":true,"edits":" (edited)"}`), nil); err != nil {
		t.Fatal(err)
	}
	out, err := executor.ResultOf[string](ctx, ex, runID)
	if err != nil || out != "draft about otters (edited)" {
		t.Fatalf("result %q, %v", out, err)
	}
	if steps.Load() != 2 {
		t.Errorf("%d steps ran, want 2", steps.Load())
	}
	err = ex.Resume(ctx, runID, json.RawMessage(`{"approved":true}`), nil)
	if !errors.Is(err, executor.ErrRunFinished) || err.Error() != `run "`+runID+`" is completed; only scheduled, running or paused runs can be resumed: run has finished` {
		t.Errorf("resume of a completed run: %v", err)
	}
}

func TestResumeBeforeWaitAndTwice(t *testing.T) {
	gate := make(chan struct{})
	def := workflow.Define("gated", func(wctx workflow.Context, _ struct{}) ([]Approval, error) {
		if _, err := workflow.Step(wctx, "gate", func(ctx context.Context, sc workflow.StepContext) (int, error) {
			select {
			case <-gate:
				return 1, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}, nil); err != nil {
			return nil, err
		}
		var got []Approval
		for range 2 {
			a, err := workflow.RequestInput[Approval](wctx, "ok?", nil)
			if err != nil {
				return nil, err
			}
			got = append(got, a)
		}
		return got, nil
	}, nil)
	ex := open(t, filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(def), nil)
	ctx := testContext(t)
	runID, err := ex.Start(ctx, "gated", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, ex, runID, executor.StatusRunning)
	// The run is inside its first step: the resume is buffered...
	if err := ex.Resume(ctx, runID, json.RawMessage(`{"approved":true,"edits":"first"}`), nil); err != nil {
		t.Fatal(err)
	}
	// ... and a second resume is refused while the first is undelivered.
	err = ex.Resume(ctx, runID, json.RawMessage(`{"approved":true,"edits":"second"}`), nil)
	if !errors.Is(err, executor.ErrSignalPending) ||
		!strings.HasPrefix(err.Error(), `run "`+runID+`" already has an undelivered "resume" signal (sent `) {
		t.Fatalf("second resume: %v", err)
	}
	// Resume with no payload and nothing to resume.
	err = ex.Resume(ctx, runID, nil, nil)
	if !errors.Is(err, executor.ErrNotPaused) ||
		err.Error() != `run "`+runID+`" is running: it is neither paused nor waiting for "resume"; to deliver input before the run asks for it, resume with a payload: run is not paused` {
		t.Fatalf("empty resume: %v", err)
	}
	close(gate)
	// The buffered resume answers the first request; the run then pauses on
	// the second.
	r := waitStatus(t, ex, runID, executor.StatusPaused)
	if r.Waiting == nil || r.Waiting.Seq != 3 {
		t.Fatalf("waiting %+v, want the second request (seq 3)", r.Waiting)
	}
	if err := ex.Resume(ctx, runID, json.RawMessage(`{"approved":false,"edits":"third"}`), nil); err != nil {
		t.Fatal(err)
	}
	got, err := executor.ResultOf[[]Approval](ctx, ex, runID)
	if err != nil {
		t.Fatal(err)
	}
	want := []Approval{{true, "first"}, {false, "third"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("inputs (-want +got):\n%s", diff)
	}
}

// Two resumes of a run waiting once: the first answers the request, the
// second is kept for the run's next request, and a third is refused while the
// second is still undelivered.
func TestTwoResumes(t *testing.T) {
	gate := make(chan struct{})
	def := workflow.Define("twice", func(wctx workflow.Context, _ struct{}) ([]Approval, error) {
		a, err := workflow.RequestInput[Approval](wctx, "first?", nil)
		if err != nil {
			return nil, err
		}
		if _, err := workflow.Step(wctx, "gate", func(ctx context.Context, sc workflow.StepContext) (int, error) {
			select {
			case <-gate:
				return 1, nil
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}, nil); err != nil {
			return nil, err
		}
		b, err := workflow.RequestInput[Approval](wctx, "second?", nil)
		return []Approval{a, b}, err
	}, nil)
	ex := open(t, filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(def), nil)
	ctx := testContext(t)
	runID, _ := ex.Start(ctx, "twice", nil, nil)
	waitStatus(t, ex, runID, executor.StatusPaused)
	if err := ex.Resume(ctx, runID, json.RawMessage(`{"approved":true,"edits":"one"}`), nil); err != nil {
		t.Fatal(err)
	}
	if err := ex.Resume(ctx, runID, json.RawMessage(`{"approved":true,"edits":"two"}`), nil); err != nil {
		t.Fatalf("second resume: %v", err)
	}
	err := ex.Resume(ctx, runID, json.RawMessage(`{"approved":true,"edits":"three"}`), nil)
	if !errors.Is(err, executor.ErrSignalPending) {
		t.Fatalf("third resume: %v", err)
	}
	close(gate)
	got, err := executor.ResultOf[[]Approval](ctx, ex, runID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]Approval{{true, "one"}, {true, "two"}}, got); diff != "" {
		t.Errorf("inputs (-want +got):\n%s", diff)
	}
}

func TestBufferedPayloadRejected(t *testing.T) {
	def := workflow.Define("sig", func(wctx workflow.Context, _ struct{}) (Approval, error) {
		if err := workflow.Sleep(wctx, time.Millisecond); err != nil { // let the test buffer signals
			return Approval{}, err
		}
		for {
			v, ok, err := workflow.WaitSignal[Approval](wctx, "decision", 0)
			if err != nil || ok {
				return v, err
			}
		}
	}, nil)
	ex := open(t, filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(def), nil)
	ctx := testContext(t)
	// Start paused so that both signals are buffered before the wait.
	runID := "buffered"
	if _, err := ex.Start(ctx, "sig", nil, &executor.StartOptions{ID: runID}); err != nil {
		t.Fatal(err)
	}
	if err := ex.Pause(ctx, runID); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{`{"approved":"nope"}`, `{"approved":true}`} {
		if err := ex.Signal(ctx, runID, "decision", json.RawMessage(p)); err != nil {
			t.Fatal(err)
		}
	}
	if err := ex.Resume(ctx, runID, nil, nil); err != nil {
		t.Fatal(err)
	}
	got, err := executor.ResultOf[Approval](ctx, ex, runID)
	if err != nil || !got.Approved {
		t.Fatalf("got %+v, %v", got, err)
	}
	evs, err := ex.History(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	var rejected []string
	for _, ev := range evs {
		if ev.Type == executor.EventSignalRejected {
			rejected = append(rejected, ev.Error)
		}
	}
	want := []string{`invalid payload of signal "decision": field "approved": type: nope has type "string", want "boolean"`}
	if diff := cmp.Diff(want, rejected); diff != "" {
		t.Errorf("rejected signals (-want +got):\n%s", diff)
	}
}

func TestWaitSignalTimeout(t *testing.T) {
	def := workflow.Define("timeout", func(wctx workflow.Context, _ struct{}) (bool, error) {
		_, ok, err := workflow.WaitSignal[string](wctx, "never", 20*time.Millisecond)
		return ok, err
	}, nil)
	ex := open(t, filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(def), nil)
	ctx := testContext(t)
	ok, _, err := executor.Execute(ctx, ex, def, struct{}{}, nil)
	if err != nil || ok {
		t.Fatalf("got %v, %v; want a timeout", ok, err)
	}
}

func TestPauseResume(t *testing.T) {
	release := make(chan struct{})
	var second atomic.Bool
	def := workflow.Define("pausable", func(wctx workflow.Context, _ struct{}) (string, error) {
		if _, err := workflow.Step(wctx, "one", func(ctx context.Context, sc workflow.StepContext) (int, error) {
			<-release
			return 1, nil
		}, nil); err != nil {
			return "", err
		}
		return workflow.Step(wctx, "two", func(ctx context.Context, sc workflow.StepContext) (string, error) {
			second.Store(true)
			return "done", nil
		}, nil)
	}, nil)
	ex := open(t, filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(def), nil)
	ctx := testContext(t)
	runID, err := ex.Start(ctx, "pausable", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "step one starts", func() bool {
		return slices.Contains(eventTypes(t, ex, runID), "step_started:one")
	})
	if err := ex.Pause(ctx, runID); err != nil {
		t.Fatal(err)
	}
	if err := ex.Pause(ctx, runID); err != nil {
		t.Fatalf("second pause: %v", err)
	}
	close(release) // step one completes, step two must not start
	waitUntil(t, "step one is journaled", func() bool {
		return slices.Contains(eventTypes(t, ex, runID), "step_completed:one")
	})
	r := waitStatus(t, ex, runID, executor.StatusPaused)
	if !r.PauseRequested || second.Load() {
		t.Fatalf("paused run: %+v, second step ran: %v", r, second.Load())
	}
	if err := ex.Resume(ctx, runID, nil, nil); err != nil {
		t.Fatal(err)
	}
	if out, err := executor.ResultOf[string](ctx, ex, runID); err != nil || out != "done" {
		t.Fatalf("got %q, %v", out, err)
	}
}

func TestCancelMidStep(t *testing.T) {
	started := make(chan struct{})
	var stepErr atomic.Value
	def := workflow.Define("slow", func(wctx workflow.Context, _ struct{}) (string, error) {
		_, err := workflow.Step(wctx, "forever", func(ctx context.Context, sc workflow.StepContext) (int, error) {
			close(started)
			<-ctx.Done()
			return 0, ctx.Err()
		}, nil)
		stepErr.Store(err)
		return "", err
	}, nil)
	ex := open(t, filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(def), nil)
	ctx := testContext(t)
	runID, err := ex.Start(ctx, "slow", nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("step never started")
	}
	if err := ex.Cancel(ctx, runID); err != nil {
		t.Fatal(err)
	}
	_, err = ex.Result(ctx, runID)
	var re *executor.RunError
	if !errors.As(err, &re) || re.Status != executor.StatusCancelled ||
		err.Error() != `workflow "slow" run `+runID+` cancelled: step "forever" cancelled: context canceled` {
		t.Fatalf("result: %v", err)
	}
	if e, _ := stepErr.Load().(error); !errors.Is(e, workflow.ErrCanceled) {
		t.Errorf("step error %v does not wrap ErrCanceled", e)
	}
	if err := ex.Cancel(ctx, runID); !errors.Is(err, executor.ErrRunFinished) {
		t.Errorf("cancel of a cancelled run: %v", err)
	}
	want := []string{"run_scheduled:slow", "run_started", "step_started:forever", "cancel_requested", "step_failed:forever", "run_cancelled"}
	if diff := cmp.Diff(want, eventTypes(t, ex, runID)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

func TestCancelWhileWaiting(t *testing.T) {
	var steps atomic.Int32
	def := approvalWorkflow(&steps)
	ex := open(t, filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(def), nil)
	ctx := testContext(t)
	runID, _ := executor.Start(ctx, ex, def, Topic{Name: "x"}, nil)
	waitStatus(t, ex, runID, executor.StatusPaused)
	if err := ex.Cancel(ctx, runID); err != nil {
		t.Fatal(err)
	}
	r := waitStatus(t, ex, runID, executor.StatusCancelled)
	if r.Error != `waiting for "resume": workflow run cancelled` {
		t.Errorf("error %q", r.Error)
	}
}

func TestTerminate(t *testing.T) {
	var after atomic.Bool
	def := workflow.Define("stuck", func(wctx workflow.Context, _ struct{}) (string, error) {
		_, _, err := workflow.WaitSignal[string](wctx, "never", 0)
		after.Store(true)
		return "", err
	}, nil)
	ex := open(t, filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(def), nil)
	ctx := testContext(t)
	runID, _ := ex.Start(ctx, "stuck", nil, nil)
	waitStatus(t, ex, runID, executor.StatusPaused)
	if err := ex.Terminate(ctx, runID, "operator gave up"); err != nil {
		t.Fatal(err)
	}
	_, err := ex.Result(ctx, runID)
	if err == nil || err.Error() != `workflow "stuck" run `+runID+` terminated: operator gave up` {
		t.Fatalf("result: %v", err)
	}
	if after.Load() {
		t.Error("workflow code ran after Terminate")
	}
}

func TestStepRetries(t *testing.T) {
	var n atomic.Int32
	def := workflow.Define("flaky", func(wctx workflow.Context, _ struct{}) (int, error) {
		v, err := workflow.Step(wctx, "flaky", func(ctx context.Context, sc workflow.StepContext) (int, error) {
			if n.Add(1) < 3 {
				return 0, fmt.Errorf("attempt %d failed", sc.Attempt)
			}
			return sc.Attempt, nil
		}, fast)
		if err != nil {
			return 0, err
		}
		_, err = workflow.Step(wctx, "fatal", func(ctx context.Context, sc workflow.StepContext) (int, error) {
			return 0, workflow.NonRetryable(errors.New("bad request"))
		}, fast)
		return v, err
	}, nil)
	ex := open(t, filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(def), nil)
	ctx := testContext(t)
	runID, _ := ex.Start(ctx, "flaky", nil, nil)
	_, err := ex.Result(ctx, runID)
	if err == nil || err.Error() != `workflow "flaky" run `+runID+` failed: step "fatal" failed after 1 attempt: bad request` {
		t.Fatalf("result: %v", err)
	}
	want := []string{"run_scheduled:flaky", "run_started",
		"step_started:flaky", "step_failed:flaky", "step_started:flaky", "step_failed:flaky", "step_started:flaky", "step_completed:flaky",
		"step_started:fatal", "step_failed:fatal", "run_failed"}
	if diff := cmp.Diff(want, eventTypes(t, ex, runID)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

func TestListFilters(t *testing.T) {
	a := workflow.Define("a", func(wctx workflow.Context, _ struct{}) (int, error) { return 1, nil }, nil)
	b := workflow.Define("b", func(wctx workflow.Context, _ struct{}) (int, error) {
		_, _, err := workflow.WaitSignal[int](wctx, "x", 0)
		return 0, err
	}, nil)
	ex := open(t, filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(a, b), nil)
	ctx := testContext(t)
	for _, id := range []string{"a1", "a2"} {
		if _, _, err := executor.Execute(ctx, ex, a, struct{}{}, &executor.StartOptions{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ex.Start(ctx, "b", nil, &executor.StartOptions{ID: "b1"}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, ex, "b1", executor.StatusPaused)
	ids := func(opts *executor.ListOptions) []string {
		var out []string
		for r, err := range ex.List(ctx, opts) {
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, r.ID)
		}
		return out
	}
	for _, tt := range []struct {
		opts *executor.ListOptions
		want []string
	}{
		{nil, []string{"b1", "a2", "a1"}},
		{&executor.ListOptions{Workflow: "a"}, []string{"a2", "a1"}},
		{&executor.ListOptions{Statuses: []executor.Status{executor.StatusPaused}}, []string{"b1"}},
		{&executor.ListOptions{Workflow: "a", Statuses: []executor.Status{executor.StatusPaused}}, nil},
		{&executor.ListOptions{Limit: 1}, []string{"b1"}},
	} {
		if diff := cmp.Diff(tt.want, ids(tt.opts)); diff != "" {
			t.Errorf("List(%+v) (-want +got):\n%s", tt.opts, diff)
		}
	}
	for _, err := range ex.List(ctx, &executor.ListOptions{Statuses: []executor.Status{"done"}}) {
		if err == nil || err.Error() != `unknown run status "done" (want scheduled, running, paused, completed, failed, cancelled or terminated)` {
			t.Errorf("bad status filter: %v", err)
		}
	}
}

func TestChildWorkflow(t *testing.T) {
	child := workflow.Define("child", func(wctx workflow.Context, n int) (int, error) {
		return workflow.Step(wctx, "double", func(ctx context.Context, sc workflow.StepContext) (int, error) { return 2 * n, nil }, nil)
	}, nil)
	parent := workflow.Define("parent", func(wctx workflow.Context, n int) (int, error) {
		a, err := workflow.ExecuteChild(wctx, child, n, nil)
		if err != nil {
			return 0, err
		}
		b, err := workflow.ExecuteChild(wctx, child, a, nil)
		return a + b, err
	}, nil)
	ex := open(t, filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(child, parent), nil)
	ctx := testContext(t)
	out, runID, err := executor.Execute(ctx, ex, parent, 5, &executor.StartOptions{ID: "p"})
	if err != nil || out != 30 {
		t.Fatalf("got %d, %v", out, err)
	}
	c, err := ex.Status(ctx, runID+"-c1")
	if err != nil || c.ParentRunID != "p" || string(c.Output) != "10" {
		t.Fatalf("child: %+v, %v", c, err)
	}
}

func TestDeterministicValues(t *testing.T) {
	type vals struct {
		Now  time.Time
		UUID string
		Rand int
	}
	def := workflow.Define("values", func(wctx workflow.Context, _ struct{}) ([2]vals, error) {
		var out [2]vals
		for i := range out {
			u, err := workflow.NewUUID(wctx)
			if err != nil {
				return out, err
			}
			r, err := workflow.Random(wctx)
			if err != nil {
				return out, err
			}
			out[i] = vals{workflow.Now(wctx), u, r.IntN(1 << 30)}
			if i == 0 {
				if _, _, err := workflow.WaitSignal[int](wctx, "go", 0); err != nil {
					return out, err
				}
			}
		}
		return out, nil
	}, nil)
	path := filepath.Join(t.TempDir(), "runs.db")
	reg := workflow.NewRegistry(def)
	ex := open(t, path, reg, nil)
	ctx := testContext(t)
	runID, _ := ex.Start(ctx, "values", nil, nil)
	waitStatus(t, ex, runID, executor.StatusPaused)
	ex.Close()
	// Reopen: the run replays its first iteration; its values must match.
	ex = open(t, path, reg, nil)
	waitStatus(t, ex, runID, executor.StatusPaused)
	if err := ex.Signal(ctx, runID, "go", json.RawMessage(`1`)); err != nil {
		t.Fatal(err)
	}
	got, err := executor.ResultOf[[2]vals](ctx, ex, runID)
	if err != nil {
		t.Fatal(err)
	}
	evs, _ := ex.History(ctx, runID)
	var uuids []string
	for _, ev := range evs {
		if ev.Type == executor.EventSideEffect && ev.Name == "uuid" {
			var u string
			json.Unmarshal(ev.Payload, &u)
			uuids = append(uuids, u)
		}
	}
	if diff := cmp.Diff([]string{got[0].UUID, got[1].UUID}, uuids); diff != "" {
		t.Errorf("uuids returned differ from journaled (-got +journal):\n%s", diff)
	}
	if got[0].UUID == got[1].UUID || got[0].Now.IsZero() || got[1].Now.Before(got[0].Now) || len(got[0].UUID) != 36 {
		t.Errorf("values: %+v", got)
	}
	r, _ := ex.Status(ctx, runID)
	if !got[0].Now.Equal(r.CreatedAt) && got[0].Now.Before(r.CreatedAt) {
		t.Errorf("Now %v before the run was created %v", got[0].Now, r.CreatedAt)
	}
}

func TestNondeterminism(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	step := func(wctx workflow.Context, name string) error {
		_, err := workflow.Step(wctx, name, func(ctx context.Context, sc workflow.StepContext) (int, error) { return 1, nil }, nil)
		return err
	}
	v1 := workflow.Define("draft", func(wctx workflow.Context, _ struct{}) (int, error) {
		for _, s := range []string{"outline", "draft", "approve"} {
			if err := step(wctx, s); err != nil {
				return 0, err
			}
		}
		_, _, err := workflow.WaitSignal[int](wctx, "go", 0)
		return 0, err
	}, nil)
	v2 := workflow.Define("draft", func(wctx workflow.Context, _ struct{}) (int, error) {
		for _, s := range []string{"outline", "draft", "publish"} {
			if err := step(wctx, s); err != nil {
				return 0, err
			}
		}
		return 0, nil
	}, nil)
	ex := open(t, path, workflow.NewRegistry(v1), nil)
	ctx := testContext(t)
	if _, err := ex.Start(ctx, "draft", nil, &executor.StartOptions{ID: "r1"}); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, ex, "r1", executor.StatusPaused)
	ex.Close()
	ex = open(t, path, workflow.NewRegistry(v2), nil)
	_, err := ex.Result(ctx, "r1")
	want := `workflow "draft" run r1 failed: workflow "draft" run r1: nondeterminism at step 3: journal has "approve", code asked for "publish"`
	if err == nil || err.Error() != want {
		t.Fatalf("got %v\nwant %s", err, want)
	}
}

func TestRecoveryAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	var steps atomic.Int32
	def := approvalWorkflow(&steps)
	sleeper := workflow.Define("sleeper", func(wctx workflow.Context, d time.Duration) (string, error) {
		if err := workflow.Sleep(wctx, d); err != nil {
			return "", err
		}
		return "woke", nil
	}, nil)
	reg := workflow.NewRegistry(def, sleeper)
	ex := open(t, path, reg, nil)
	ctx := testContext(t)
	runID, _ := executor.Start(ctx, ex, def, Topic{Name: "x"}, nil)
	sleepID, _ := executor.Start(ctx, ex, sleeper, 200*time.Millisecond, nil)
	waitStatus(t, ex, runID, executor.StatusPaused)
	waitUntil(t, "the timer is journaled", func() bool {
		return slices.Contains(eventTypes(t, ex, sleepID), "timer_started:sleep")
	})
	ex.Close()

	// While no active executor runs, a passive one accepts the resume.
	passive := open(t, path, reg, &local.Options{Passive: true, PollInterval: 10 * time.Millisecond})
	if err := passive.Resume(ctx, runID, json.RawMessage(`{"approved":true}`), nil); err != nil {
		t.Fatal(err)
	}

	ex = open(t, path, reg, nil)
	if out, err := executor.ResultOf[string](ctx, ex, runID); err != nil || out != "draft about x" {
		t.Fatalf("got %q, %v", out, err)
	}
	if steps.Load() != 2 {
		t.Errorf("%d step executions, want 2 (draft must not run again)", steps.Load())
	}
	if out, err := executor.ResultOf[string](ctx, ex, sleepID); err != nil || out != "woke" {
		t.Fatalf("sleeper: %q, %v", out, err)
	}
	types := eventTypes(t, ex, runID)
	if !slices.Contains(types, "run_recovered") {
		t.Errorf("history has no run_recovered: %v", types)
	}
	// The passive executor sees the results too.
	if out, err := executor.ResultOf[string](ctx, passive, sleepID); err != nil || out != "woke" {
		t.Fatalf("passive result: %q, %v", out, err)
	}
}

func TestPassiveDeliversToActive(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	var steps atomic.Int32
	def := approvalWorkflow(&steps)
	reg := workflow.NewRegistry(def)
	ex := open(t, path, reg, nil)
	passive := open(t, path, reg, &local.Options{Passive: true, PollInterval: 10 * time.Millisecond})
	ctx := testContext(t)
	runID, err := passive.Start(ctx, "approval", json.RawMessage(`{"name":"cli"}`), nil)
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, passive, runID, executor.StatusPaused)
	if err := passive.Resume(ctx, runID, json.RawMessage(`{"approved":true}`), nil); err != nil {
		t.Fatal(err)
	}
	if out, err := executor.ResultOf[string](ctx, passive, runID); err != nil || out != "draft about cli" {
		t.Fatalf("got %q, %v", out, err)
	}
	_ = ex
}

func TestLocked(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	open(t, path, nil, nil)
	_, err := local.Open(testContext(t), path, nil, nil)
	if !errors.Is(err, local.ErrLocked) || !strings.Contains(err.Error(), "is used by another executor (pid ") {
		t.Fatalf("second active open: %v", err)
	}
}

// A run cancelled before it starts ends cancelled without running, and a
// busy worker pool makes later runs wait their turn.
func TestCancelScheduled(t *testing.T) {
	gate := make(chan struct{})
	var ran atomic.Int32
	def := workflow.Define("blocker", func(wctx workflow.Context, block bool) (int, error) {
		return workflow.Step(wctx, "work", func(ctx context.Context, sc workflow.StepContext) (int, error) {
			ran.Add(1)
			if block {
				select {
				case <-gate:
				case <-ctx.Done():
					return 0, ctx.Err()
				}
			}
			return 1, nil
		}, nil)
	}, nil)
	ex := open(t, filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(def),
		&local.Options{Workers: 1, PollInterval: 10 * time.Millisecond, Synchronous: "NORMAL"})
	ctx := testContext(t)
	first, _ := executor.Start(ctx, ex, def, true, nil)
	waitUntil(t, "the first run holds the only worker", func() bool { return ran.Load() == 1 })
	second, _ := executor.Start(ctx, ex, def, false, nil)
	third, _ := executor.Start(ctx, ex, def, false, nil)
	if r, _ := ex.Status(ctx, second); r.Status != executor.StatusScheduled {
		t.Fatalf("second run is %s, want scheduled while the worker is busy", r.Status)
	}
	if err := ex.Cancel(ctx, second); err != nil {
		t.Fatal(err)
	}
	close(gate)
	for _, id := range []string{first, third} {
		if _, err := ex.Result(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	r := waitStatus(t, ex, second, executor.StatusCancelled)
	if ran.Load() != 2 || r.Error != "workflow run cancelled" {
		t.Errorf("%d step executions (want 2), error %q", ran.Load(), r.Error)
	}
	want := []string{"run_scheduled:blocker", "cancel_requested", "run_cancelled"}
	if diff := cmp.Diff(want, eventTypes(t, ex, second)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}
}

// Database paths with characters that mean something in a SQLite URI.
func TestPathCharacters(t *testing.T) {
	def := workflow.Define("one", func(wctx workflow.Context, _ struct{}) (int, error) { return 1, nil }, nil)
	for _, name := range []string{"a b", "a#b", "a?b", "a%20b"} {
		p := filepath.Join(t.TempDir(), name, "runs.db")
		ex := open(t, p, workflow.NewRegistry(def), nil)
		if _, _, err := executor.Execute(testContext(t), ex, def, struct{}{}, nil); err != nil {
			t.Fatal(err)
		}
		ex.Close()
		if _, err := os.Stat(p); err != nil {
			t.Errorf("%q: database not at its path: %v", name, err)
		}
	}
}

// Cancelling or terminating a parent reaches its waiting child.
func TestParentEndsChild(t *testing.T) {
	child := workflow.Define("waiter", func(wctx workflow.Context, _ struct{}) (int, error) {
		v, _, err := workflow.WaitSignal[int](wctx, "never", 0)
		return v, err
	}, nil)
	parent := workflow.Define("parent", func(wctx workflow.Context, _ struct{}) (int, error) {
		return workflow.ExecuteChild(wctx, child, struct{}{}, nil)
	}, nil)
	ex := open(t, filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(child, parent), nil)
	ctx := testContext(t)
	for _, tt := range []struct {
		end         func(id string) error
		parent, kid executor.Status
	}{
		{func(id string) error { return ex.Cancel(ctx, id) }, executor.StatusCancelled, executor.StatusCancelled},
		{func(id string) error { return ex.Terminate(ctx, id, "stop") }, executor.StatusTerminated, executor.StatusTerminated},
	} {
		id, err := ex.Start(ctx, "parent", nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		waitUntil(t, "the child run exists", func() bool { _, err := ex.Status(ctx, id+"-c1"); return err == nil })
		waitStatus(t, ex, id+"-c1", executor.StatusPaused)
		if err := tt.end(id); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, ex, id, tt.parent)
		waitStatus(t, ex, id+"-c1", tt.kid)
	}
}
