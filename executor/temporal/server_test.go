package temporal_test

// End-to-end tests against a real Temporal server: the temporal-dev binary
// (tools/temporal-dev, built by scripts/temporal-dev), one per test binary.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/executor/temporal"
	"github.com/mcp-agent-go/mcp-agent/executor/temporal/devserver"
	"github.com/mcp-agent-go/mcp-agent/executor/temporal/internal/testflows"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

var dev struct {
	once sync.Once
	srv  *devserver.Server
	err  error
}

func TestMain(m *testing.M) {
	if os.Getenv(envCrashAddr) != "" {
		crashWorker()
		return
	}
	code := m.Run()
	if dev.srv != nil {
		dev.srv.Close()
	}
	os.Exit(code)
}

// devServer returns the test binary's temporal-dev server, starting it on
// first use. It skips the test when the binary cannot be built, unless
// MCP_AGENT_REQUIRE_TOOLS=1.
func devServer(t testing.TB) *devserver.Server {
	t.Helper()
	dev.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Minute)
		defer cancel()
		bin, err := devserver.Binary(ctx)
		if err != nil {
			dev.err = fmt.Errorf("cannot build temporal-dev: %w", err)
			return
		}
		dev.srv, dev.err = devserver.Start(ctx, &devserver.Options{Binary: bin})
	})
	if dev.err != nil {
		if os.Getenv("MCP_AGENT_REQUIRE_TOOLS") == "1" {
			t.Fatal(dev.err)
		}
		t.Skip(dev.err)
	}
	return dev.srv
}

var seq atomic.Int64

// unique returns a name for t that no other test, or run of it (-count),
// in this test binary uses: runs and task queues outlive a test on the
// shared server.
func unique(t testing.TB) string {
	return fmt.Sprintf("%s-%d", strings.NewReplacer("/", "-", " ", "_").Replace(t.Name()), seq.Add(1))
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// open returns an executor with a worker for ws on a task queue of its own.
func open(t testing.TB, ws ...workflow.Workflow) *temporal.Executor {
	t.Helper()
	return openWith(t, &temporal.Options{}, ws...)
}

// openWith is open with options; the task queue is named after the test
// and opts.TaskQueue.
func openWith(t testing.TB, opts *temporal.Options, ws ...workflow.Workflow) *temporal.Executor {
	t.Helper()
	srv := devServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	o := *opts
	o.TaskQueue = unique(t) + o.TaskQueue
	o.Worker = true
	o.Logger = testLogger(t)
	ex, err := temporal.Dial(ctx, &config.TemporalSettings{Host: srv.Addr, Namespace: srv.Namespace},
		workflow.NewRegistry(ws...), &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close() })
	return ex
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

func waitStatus(t *testing.T, ex executor.Executor, runID string, cond func(*executor.Run) bool) *executor.Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	r, err := executor.WaitFor(ctx, ex, runID, cond)
	if err != nil {
		t.Fatalf("waiting for run %s: %v", runID, err)
	}
	return r
}

// waitUntil polls cond every 50ms for at most a minute.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func eventTypes(t *testing.T, ex executor.Executor, runID string) []string {
	t.Helper()
	evs, err := ex.History(t.Context(), runID)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range evs {
		s := string(ev.Type)
		if ev.Name != "" {
			s += ":" + ev.Name
		}
		types = append(types, s)
	}
	return types
}

// TestServerHumanInput runs the human-input example on a real server: an
// agent drafts, the run pauses for approval, and resumes with edits.
func TestServerHumanInput(t *testing.T) {
	c := testflows.NewCounter()
	def := testflows.ApprovalFlow(c)
	ex := open(t, def)
	ctx := testContext(t)

	runID, err := executor.Start(ctx, ex, def, testflows.Topic{Name: "otters"}, &executor.StartOptions{ID: unique(t)})
	if err != nil {
		t.Fatal(err)
	}
	r := waitStatus(t, ex, runID, func(r *executor.Run) bool { return r.Waiting != nil })
	if r.Status != executor.StatusPaused || r.Waiting.Kind != "input" || r.Waiting.Signal != workflow.ResumeSignal ||
		r.Waiting.Prompt != testflows.ApprovalPrompt+"\n\n"+testflows.Draft("otters") || r.StatusMessage != "waiting for approval" {
		t.Errorf("paused run = %+v, waiting %+v", r, r.Waiting)
	}
	if string(r.Input) != `{"name":"otters"}` || r.Workflow != "approval" {
		t.Errorf("input = %s, workflow = %q", r.Input, r.Workflow)
	}

	// The state query says the same.
	v, err := ex.Client().QueryWorkflow(ctx, runID, "", temporal.StateQuery)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Waiting *executor.Wait `json:"waiting"`
	}
	if err := v.Get(&st); err != nil || st.Waiting == nil || st.Waiting.Prompt != r.Waiting.Prompt {
		t.Errorf("state query = %+v (%v)", st, err)
	}

	// A payload that does not match the schema is refused and changes nothing.
	err = ex.Resume(ctx, runID, json.RawMessage(`{"approved":"yes"}`), nil)
	var perr *workflow.PayloadError
	if !errors.As(err, &perr) || !errors.Is(err, workflow.ErrInvalidPayload) ||
		err.Error() != `invalid payload of signal "resume": field "approved": type: yes has type "string", want "boolean"` {
		t.Fatalf("Resume with a bad payload: %v", err)
	}
	if err := ex.Resume(ctx, runID, json.RawMessage(`{"approved":true,"edits":" (Really.)"}`), nil); err != nil {
		t.Fatal(err)
	}
	out, err := executor.ResultOf[string](ctx, ex, runID)
	if err != nil {
		t.Fatal(err)
	}
	if want := testflows.Draft("otters") + " (Really.)"; out != want {
		t.Errorf("result = %q, want %q", out, want)
	}
	if c.Get("draft") != 1 || c.Get("publish") != 1 {
		t.Errorf("steps ran draft=%d publish=%d times, want 1 each", c.Get("draft"), c.Get("publish"))
	}

	r, err = ex.Status(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != executor.StatusCompleted || string(r.Output) != fmt.Sprintf("%q", out) || r.Waiting != nil || r.EndedAt.IsZero() {
		t.Errorf("final status = %+v", r)
	}
	want := []string{
		"run_scheduled:approval", "run_started", "step_completed:draft", "status_set:waiting for approval",
		"input_requested:resume", "signal_received:resume", "signal_delivered:resume", "step_completed:publish", "run_completed",
	}
	if diff := cmp.Diff(want, eventTypes(t, ex, runID)); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}

	// Errors users can cause.
	err = ex.Resume(ctx, runID, json.RawMessage(`{"approved":true}`), nil)
	if !errors.Is(err, executor.ErrRunFinished) || err.Error() != `run "`+runID+`" is completed; only scheduled, running or paused runs can be resumed: run has finished` {
		t.Errorf("Resume of a completed run: %v", err)
	}
	if _, err := ex.Start(ctx, "approval", json.RawMessage(`{"name":"x"}`), &executor.StartOptions{ID: runID}); !errors.Is(err, executor.ErrRunExists) ||
		err.Error() != `cannot start workflow "approval" as run "`+runID+`": run ID already in use` {
		t.Errorf("Start with a used ID: %v", err)
	}
	if _, err := ex.Start(ctx, "nope", nil, nil); !errors.Is(err, executor.ErrWorkflowNotFound) ||
		err.Error() != `workflow "nope" is not registered (registered: approval): workflow not registered` {
		t.Errorf("Start of an unknown workflow: %v", err)
	}
	if _, err := ex.Start(ctx, "approval", json.RawMessage(`{"name":5}`), nil); !errors.Is(err, workflow.ErrInvalidPayload) {
		t.Errorf("Start with invalid input: %v", err)
	}
	if err := ex.Resume(ctx, "no-such-run", json.RawMessage(`{}`), nil); !errors.Is(err, executor.ErrRunNotFound) ||
		err.Error() != `run "no-such-run" not found: run not found` {
		t.Errorf("Resume of an unknown run: %v", err)
	}

	// Visibility lists it (asynchronously).
	waitUntil(t, "the run to be listed as completed", func() bool {
		for r, err := range ex.List(ctx, &executor.ListOptions{Workflow: "approval", Statuses: []executor.Status{executor.StatusCompleted}}) {
			if err != nil {
				t.Fatal(err)
			}
			if r.ID == runID {
				return true
			}
		}
		return false
	})
}

func TestServerResumeRules(t *testing.T) {
	def := workflow.Define("twice", func(wctx workflow.Context, _ struct{}) ([]testflows.Approval, error) {
		var got []testflows.Approval
		for range 2 {
			if _, err := workflow.Step(wctx, "work", func(ctx context.Context, sc workflow.StepContext) (int, error) { return 1, nil }, nil); err != nil {
				return nil, err
			}
			a, err := workflow.RequestInput[testflows.Approval](wctx, "ok?", nil)
			if err != nil {
				return nil, err
			}
			got = append(got, a)
		}
		return got, nil
	}, nil)
	ex := open(t, def)
	ctx := testContext(t)
	runID, err := executor.Start(ctx, ex, def, struct{}{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, ex, runID, func(r *executor.Run) bool { return r.Waiting != nil && r.Waiting.Seq == 2 })
	// Two resumes: the first answers this wait, the second is kept for the next.
	if err := ex.Resume(ctx, runID, json.RawMessage(`{"approved":true,"edits":"1"}`), nil); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, ex, runID, func(r *executor.Run) bool { return r.Waiting != nil && r.Waiting.Seq == 4 })
	if err := ex.Resume(ctx, runID, json.RawMessage(`{"approved":false,"edits":"2"}`), nil); err != nil {
		t.Fatal(err)
	}
	out, err := executor.ResultOf[[]testflows.Approval](ctx, ex, runID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]testflows.Approval{{Approved: true, Edits: "1"}, {Approved: false, Edits: "2"}}, out); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

func TestServerSignalsAndPending(t *testing.T) {
	def := testflows.WaitFlow()
	ex := open(t, def)
	ctx := testContext(t)
	runID, err := executor.Start(ctx, ex, def, testflows.WaitIn{Signal: "go", Count: 3}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, ex, runID, func(r *executor.Run) bool { return r.Waiting != nil })
	for _, p := range []string{`{"approved":true,"edits":"1"}`, `{"approved":1}`, `{"approved":true,"edits":"2"}`, `{"approved":true,"edits":"3"}`} {
		if err := ex.Signal(ctx, runID, "go", json.RawMessage(p)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := executor.ResultOf[testflows.WaitOut](ctx, ex, runID)
	if err != nil {
		t.Fatal(err)
	}
	want := testflows.WaitOut{Got: []testflows.Approval{{Approved: true, Edits: "1"}, {Approved: true, Edits: "2"}, {Approved: true, Edits: "3"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if types := eventTypes(t, ex, runID); !slices.Contains(types, "signal_rejected:go") {
		t.Errorf("history has no signal_rejected event: %q", types)
	}
	if err := ex.Signal(ctx, runID, "go", nil); !errors.Is(err, executor.ErrRunFinished) {
		t.Errorf("Signal to a finished run: %v", err)
	}
}

func TestServerPauseResumeCancel(t *testing.T) {
	def := testflows.WaitFlow()
	ex := open(t, def)
	ctx := testContext(t)

	runID, err := executor.Start(ctx, ex, def, testflows.WaitIn{Signal: "go", Count: 2}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, ex, runID, func(r *executor.Run) bool { return r.Waiting != nil })
	err = ex.Resume(ctx, runID, nil, nil)
	if !errors.Is(err, executor.ErrNotPaused) || err.Error() != `run "`+runID+`" is paused: it is neither paused nor waiting for "resume"; to deliver input before the run asks for it, resume with a payload: run is not paused` {
		t.Errorf("Resume without payload of a run waiting for another signal: %v", err)
	}
	// Paused while waiting: the wait still takes its signal, and the run
	// stops before its next operation.
	if err := ex.Pause(ctx, runID); err != nil {
		t.Fatal(err)
	}
	waitStatus(t, ex, runID, func(r *executor.Run) bool { return r.PauseRequested })
	if err := ex.Signal(ctx, runID, "go", json.RawMessage(`{"approved":true}`)); err != nil {
		t.Fatal(err)
	}
	r := waitStatus(t, ex, runID, func(r *executor.Run) bool { return r.Waiting == nil })
	if r.Status != executor.StatusPaused || !r.PauseRequested {
		t.Errorf("run after its wait while paused = %+v, want paused", r)
	}
	if err := ex.Resume(ctx, runID, nil, nil); err != nil {
		t.Fatal(err)
	}
	r = waitStatus(t, ex, runID, func(r *executor.Run) bool { return r.Waiting != nil })
	if r.PauseRequested || r.Waiting.Seq != 2 {
		t.Errorf("run after Resume = %+v, waiting %+v; want its second wait", r, r.Waiting)
	}

	// Cancel while waiting.
	if err := ex.Cancel(ctx, runID); err != nil {
		t.Fatal(err)
	}
	_, err = ex.Result(ctx, runID)
	var rerr *executor.RunError
	if !errors.As(err, &rerr) || rerr.Status != executor.StatusCancelled || rerr.Message != `waiting for "go": workflow run cancelled` {
		t.Errorf("Result after Cancel: %v", err)
	}
	if err := ex.Cancel(ctx, runID); !errors.Is(err, executor.ErrRunFinished) {
		t.Errorf("second Cancel: %v", err)
	}
	types := eventTypes(t, ex, runID)
	for _, want := range []string{"pause_requested", "resumed", "cancel_requested", "run_cancelled"} {
		if !slices.Contains(types, want) {
			t.Errorf("history has no %s: %q", want, types)
		}
	}
}

func TestServerCancelMidStepAndTerminate(t *testing.T) {
	c := testflows.NewCounter()
	def := testflows.BlockFlow(c, make(chan struct{}))
	ex := open(t, def)
	ctx := testContext(t)

	runID, err := executor.Start(ctx, ex, def, struct{}{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "step block to start", func() bool { return c.Get("block") == 1 })
	if err := ex.Cancel(ctx, runID); err != nil {
		t.Fatal(err)
	}
	_, err = ex.Result(ctx, runID)
	var rerr *executor.RunError
	if !errors.As(err, &rerr) || rerr.Status != executor.StatusCancelled {
		t.Fatalf("Result after Cancel mid-step: %v", err)
	}
	if !strings.HasPrefix(rerr.Message, `step "block" cancelled: `) {
		t.Errorf("cancelled run's error = %q, want the step's cancellation", rerr.Message)
	}

	runID, err = executor.Start(ctx, ex, def, struct{}{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "step block to start again", func() bool { return c.Get("block") == 2 })
	if err := ex.Terminate(ctx, runID, "stuck"); err != nil {
		t.Fatal(err)
	}
	_, err = ex.Result(ctx, runID)
	if !errors.As(err, &rerr) || rerr.Status != executor.StatusTerminated || rerr.Message != "stuck" {
		t.Errorf("Result after Terminate: %v", err)
	}
	if err := ex.Terminate(ctx, runID, ""); !errors.Is(err, executor.ErrRunFinished) {
		t.Errorf("second Terminate: %v", err)
	}
	if c.Get("after") != 0 {
		t.Error("step after ran")
	}
}

func TestServerChildrenAndList(t *testing.T) {
	c := testflows.NewCounter()
	child := testflows.ChildFlow(c)
	parent := testflows.ParentFlow(child)
	ex := open(t, child, parent)
	ctx := testContext(t)
	out, runID, err := executor.Execute(ctx, ex, parent, 3, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out != 14 {
		t.Errorf("result = %d, want 14", out)
	}
	r, err := ex.Status(ctx, runID+"-c1")
	if err != nil {
		t.Fatal(err)
	}
	if r.ParentRunID != runID || r.Workflow != "double" || r.Status != executor.StatusCompleted {
		t.Errorf("child run = %+v", r)
	}
	var ids []string
	waitUntil(t, "visibility to list the parent and its children", func() bool {
		ids = ids[:0]
		for r, err := range ex.List(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			ids = append(ids, r.ID)
		}
		return len(ids) == 3
	})
	// Newest first: the second child, the first, the parent.
	if diff := cmp.Diff([]string{runID + "-c2", runID + "-c1", runID}, ids); diff != "" {
		t.Errorf("List (-want +got):\n%s", diff)
	}
	var limited []string
	for r, err := range ex.List(ctx, &executor.ListOptions{Workflow: "double", Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		limited = append(limited, r.ID)
	}
	if diff := cmp.Diff([]string{runID + "-c2"}, limited); diff != "" {
		t.Errorf("List limited (-want +got):\n%s", diff)
	}
	for _, err := range ex.List(ctx, &executor.ListOptions{Statuses: []executor.Status{"odd"}}) {
		if err == nil || err.Error() != `unknown run status "odd" (want scheduled, running, paused, completed, failed, cancelled or terminated)` {
			t.Errorf("List with a bad status: %v", err)
		}
	}
}

// TestServerNondeterminism changes a workflow's steps while a run of it is
// paused: the new worker replays the run's history, finds another step
// recorded where the code asks for a different one, and fails the run
// naming the workflow, the run and the step.
func TestServerNondeterminism(t *testing.T) {
	step := func(name string) *workflow.Definition[struct{}, int] {
		return workflow.Define("evolving", func(wctx workflow.Context, _ struct{}) (int, error) {
			if _, err := workflow.Step(wctx, name, func(ctx context.Context, sc workflow.StepContext) (int, error) { return 1, nil }, nil); err != nil {
				return 0, err
			}
			_, err := workflow.RequestInput[testflows.Approval](wctx, "ok?", nil)
			return 2, err
		}, nil)
	}
	srv := devServer(t)
	ctx := testContext(t)
	queue := unique(t)
	settings := &config.TemporalSettings{Host: srv.Addr, Namespace: srv.Namespace, TaskQueue: queue}
	v1, err := temporal.Dial(ctx, settings, workflow.NewRegistry(step("approve")), &temporal.Options{Worker: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	runID, err := v1.Start(ctx, "evolving", nil, &executor.StartOptions{ID: unique(t)})
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, v1, runID, func(r *executor.Run) bool { return r.Waiting != nil })
	v1.Close()

	// The new worker has never seen the run: it replays its history.
	v2, err := temporal.Dial(ctx, settings, workflow.NewRegistry(step("publish")), &temporal.Options{Worker: true, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	defer v2.Close()
	if err := v2.Resume(ctx, runID, json.RawMessage(`{"approved":true}`), nil); err != nil {
		t.Fatal(err)
	}
	_, err = v2.Result(ctx, runID)
	var rerr *executor.RunError
	if !errors.As(err, &rerr) || rerr.Status != executor.StatusFailed {
		t.Fatalf("Result: %v, want the run failed", err)
	}
	want := `workflow "evolving" run ` + runID + `: nondeterminism at step 1: journal has "approve", code asked for "publish"`
	if !strings.Contains(rerr.Message, want) {
		t.Errorf("error = %q, want it to contain %q", rerr.Message, want)
	}
}

// TestServerWorkerDown stops the worker of a paused run: Status still
// answers (from the run's memo), Resume is accepted by the server, and a new
// worker replays the run without executing its completed step again.
func TestServerWorkerDown(t *testing.T) {
	c := testflows.NewCounter()
	def := testflows.ApprovalFlow(c)
	srv := devServer(t)
	ctx := testContext(t)
	settings := &config.TemporalSettings{Host: srv.Addr, Namespace: srv.Namespace, TaskQueue: unique(t)}
	dial := func(worker bool) *temporal.Executor {
		ex, err := temporal.Dial(ctx, settings, workflow.NewRegistry(def), &temporal.Options{Worker: worker, Logger: testLogger(t)})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ex.Close() })
		return ex
	}
	first := dial(true)
	runID, err := executor.Start(ctx, first, def, testflows.Topic{Name: "otters"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	waitStatus(t, first, runID, func(r *executor.Run) bool { return r.Waiting != nil })
	first.Close()

	client := dial(false) // no worker anywhere now
	r, err := client.Status(ctx, runID)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != executor.StatusPaused || r.Waiting == nil || r.Waiting.Kind != "input" {
		t.Errorf("status without a worker = %+v", r)
	}
	if err := client.Resume(ctx, runID, json.RawMessage(`{"approved":true,"edits":"!"}`), nil); err != nil {
		t.Fatal(err)
	}
	if r, err := client.Status(ctx, runID); err != nil || r.Status.Terminal() {
		t.Errorf("status after Resume without a worker = %+v, %v; want the run still open", r, err)
	}

	dial(true)
	out, err := executor.ResultOf[string](ctx, client, runID)
	if err != nil {
		t.Fatal(err)
	}
	if want := testflows.Draft("otters") + "!"; out != want {
		t.Errorf("result = %q, want %q", out, want)
	}
	if c.Get("draft") != 1 || c.Get("publish") != 1 {
		t.Errorf("steps ran draft=%d publish=%d times, want 1 each (draft is replayed, not executed)", c.Get("draft"), c.Get("publish"))
	}
}
