package temporal

// How a registered workflow runs as a Temporal workflow.
//
// Each workflow.Workflow is registered under its own name as a Temporal
// workflow taking and returning JSON. Its function receives a runContext,
// this package's implementation of workflow.Context on top of Temporal's
// workflow.Context:
//
//   - Step is a local activity: a step's function is a closure over the
//     workflow's variables, which only the worker running the workflow can
//     call. Its result is recorded in a LocalActivity marker together with
//     the step's name and position (stepResult), retried per the step's
//     RetryPolicy, and never executed again on replay.
//   - Sleep is a timer; Now is workflow.Now; SideEffect is workflow.SideEffect.
//   - WaitSignal and RequestInput wait on Temporal signals: a coroutine per
//     signal name drains its channel into a buffer (so buffered signals are
//     counted and taken in order), and the wait is an Await with the
//     timeout.
//   - ExecuteChild is a child workflow on the same task queue.
//   - The run's state (what it waits for, Pause, status message, progress,
//     pending signals) is answered by the StateQuery query and upserted into
//     the memo on every change, so that Status and List read it from the
//     server without a worker.
//   - Pause and the pause-lifting half of Resume are the PauseSignal and
//     UnpauseSignal signals; a paused run blocks before its next operation.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"go.temporal.io/sdk/activity"
	sdktemporal "go.temporal.io/sdk/temporal"
	tw "go.temporal.io/sdk/workflow"

	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// maxStepTimeout bounds a step attempt that has no Timeout: Temporal needs
// a bound on every local activity.
const maxStepTimeout = 10 * 365 * 24 * time.Hour

// runContext implements workflow.Context for one Temporal workflow run.
// Its methods run on the workflow's coroutines, one at a time.
type runContext struct {
	ctx     tw.Context // the run's context, cancelled by Cancel
	memoCtx tw.Context // not cancelled: state is still recorded after Cancel
	std     context.Context
	info    workflow.Info
	reg     *workflow.Registry
	queue   string
	logger  *slog.Logger

	// checkpoint makes each step durable before the next operation (see
	// WorkerOptions.BatchSteps).
	checkpoint bool

	seq     int
	state   runState
	buf     map[string][]json.RawMessage // received, unconsumed signals
	drained map[string]bool              // signal names with a draining coroutine
}

var _ workflow.Context = (*runContext)(nil)

// nondeterminism is panicked by an operation that finds the history
// recorded for a different operation; the workflow function wrapper turns
// it into the run's failure.
type nondeterminism struct{ err *workflow.NondeterminismError }

// workflowFunc returns the Temporal workflow function that runs wf.
func workflowFunc(wf workflow.Workflow, reg *workflow.Registry, o *WorkerOptions) func(tw.Context, json.RawMessage) (json.RawMessage, error) {
	return func(ctx tw.Context, input json.RawMessage) (json.RawMessage, error) {
		rc := newRunContext(ctx, wf.Name(), reg, o.TaskQueue, o.Logger)
		rc.checkpoint = !o.BatchSteps
		if ctx.Err() != nil {
			// Cancelled before it started: end without running.
			return nil, sdktemporal.NewCanceledError("cancelled before it started")
		}
		out, err := rc.invoke(wf, input)
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			return nil, sdktemporal.NewCanceledError(err.Error())
		}
		return nil, sdktemporal.NewNonRetryableApplicationError(err.Error(), workflowErrorType, nil)
	}
}

func newRunContext(ctx tw.Context, name string, reg *workflow.Registry, queue string, logger *slog.Logger) *runContext {
	ti := tw.GetInfo(ctx)
	rc := &runContext{
		ctx:     ctx,
		reg:     reg,
		queue:   queue,
		buf:     map[string][]json.RawMessage{},
		drained: map[string]bool{},
		info: workflow.Info{
			Workflow:  name,
			RunID:     ti.WorkflowExecution.ID,
			StartTime: ti.WorkflowStartTime,
		},
	}
	if ti.ParentWorkflowExecution != nil {
		rc.info.ParentRunID = ti.ParentWorkflowExecution.ID
	}
	rc.memoCtx, _ = tw.NewDisconnectedContext(ctx)
	std, cancel := context.WithCancel(context.Background())
	rc.std = std
	if logger == nil {
		logger = slog.Default()
	}
	rc.logger = slog.New(&replayHandler{ctx: ctx, h: logger.Handler()}).With("workflow", name, "run", rc.info.RunID)

	if err := tw.SetQueryHandler(ctx, StateQuery, func() (runState, error) {
		st := rc.state
		st.Event = nil
		return st, nil
	}); err != nil {
		panic(err) // only for a bad handler signature
	}
	// Cancellation: cancel the context workflow code and steps see, and
	// record it.
	tw.Go(rc.memoCtx, func(c tw.Context) {
		ctx.Done().Receive(c, nil)
		cancel()
		rc.state.CancelRequested = true
		rc.record(nil)
	})
	// Pause and unpause, in the order sent.
	pauses := tw.GetSignalChannel(ctx, PauseSignal)
	unpauses := tw.GetSignalChannel(ctx, UnpauseSignal)
	tw.Go(rc.memoCtx, func(c tw.Context) {
		for {
			s := tw.NewSelector(c)
			s.AddReceive(pauses, func(ch tw.ReceiveChannel, _ bool) { ch.Receive(c, nil); rc.state.Paused = true })
			s.AddReceive(unpauses, func(ch tw.ReceiveChannel, _ bool) { ch.Receive(c, nil); rc.state.Paused = false })
			s.Select(c)
			rc.record(nil)
		}
	})
	checkpoints := tw.GetSignalChannel(ctx, checkpointSignal)
	tw.Go(rc.memoCtx, func(c tw.Context) {
		for {
			checkpoints.Receive(c, nil)
		}
	})
	rc.drain(workflow.ResumeSignal)
	rc.state.Started = true
	rc.record(nil)
	return rc
}

// record upserts the run's state into the memo, with ev if not nil.
func (rc *runContext) record(ev *executor.Event) {
	rc.state.UpdatedAt = tw.Now(rc.ctx)
	st := rc.state
	st.Event = ev
	if err := tw.UpsertMemo(rc.memoCtx, map[string]any{memoKey: st}); err != nil {
		rc.logger.Warn("recording run state", "error", err)
	}
}

// drain starts a coroutine that moves the signals called name into the
// run's buffer, in the order received.
func (rc *runContext) drain(name string) {
	if rc.drained[name] {
		return
	}
	rc.drained[name] = true
	ch := tw.GetSignalChannel(rc.ctx, name)
	tw.Go(rc.memoCtx, func(c tw.Context) {
		for {
			var p json.RawMessage
			ch.Receive(c, &p)
			rc.buf[name] = append(rc.buf[name], p)
			rc.setPending(name)
			rc.record(nil)
		}
	})
}

func (rc *runContext) setPending(name string) {
	if rc.state.Pending == nil {
		rc.state.Pending = map[string]int{}
	}
	if n := len(rc.buf[name]); n > 0 {
		rc.state.Pending[name] = n
	} else {
		delete(rc.state.Pending, name)
	}
}

// invoke calls the workflow function, turning a panic into an error.
func (rc *runContext) invoke(wf workflow.Workflow, input json.RawMessage) (out json.RawMessage, err error) {
	defer func() {
		if p := recover(); p != nil {
			if nd, ok := p.(nondeterminism); ok {
				// A panic reaching the SDK fails the run (the worker's
				// WorkflowPanicPolicy is FailWorkflow) with this message,
				// without Temporal checking the rest of the history first.
				panic(nd.err)
			}
			rc.logger.Error("workflow panicked", "panic", p, "stack", string(debug.Stack()))
			out, err = nil, fmt.Errorf("workflow %q run %s panicked: %v", rc.info.Workflow, rc.info.RunID, p)
		}
	}()
	return wf.Execute(rc, input)
}

// next honours a Pause and assigns the next operation's position.
func (rc *runContext) next() int {
	if rc.state.Paused && rc.ctx.Err() == nil {
		_ = tw.Await(rc.ctx, func() bool { return !rc.state.Paused })
	}
	rc.seq++
	return rc.seq
}

func (rc *runContext) mismatch(seq int, journal, code string) {
	panic(nondeterminism{&workflow.NondeterminismError{Workflow: rc.info.Workflow, RunID: rc.info.RunID, Seq: seq, Journal: journal, Code: code}})
}

func canceled(what string) error { return fmt.Errorf("%s: %w", what, workflow.ErrCanceled) }

// Context returns a context cancelled when the run is cancelled.
func (rc *runContext) Context() context.Context { return rc.std }

// Info describes the run.
func (rc *runContext) Info() workflow.Info { return rc.info }

// IsReplaying reports whether Temporal is replaying the run's history.
func (rc *runContext) IsReplaying() bool { return tw.IsReplaying(rc.ctx) }

// Logger returns a logger that is silent during replay.
func (rc *runContext) Logger() *slog.Logger { return rc.logger }

// Now returns Temporal's deterministic workflow time.
func (rc *runContext) Now() time.Time { return tw.Now(rc.ctx) }

// RunStep runs fn as a local activity.
func (rc *runContext) RunStep(name string, opts workflow.StepOptions, fn workflow.RawStepFunc) (json.RawMessage, error) {
	seq := rc.next()
	if rc.ctx.Err() != nil {
		return nil, canceled(fmt.Sprintf("step %q", name))
	}
	policy := workflow.RetryPolicy{}
	if opts.Retry != nil {
		policy = *opts.Retry
	}
	policy = policy.Normalized()
	limit := maxStepTimeout
	if opts.Timeout > 0 {
		// The attempt's own context ends at Timeout; Temporal's bound is
		// a backstop for a function that ignores its context.
		limit = opts.Timeout + 10*time.Second
	}
	ctx := tw.WithLocalActivityOptions(rc.ctx, tw.LocalActivityOptions{
		StartToCloseTimeout: limit,
		RetryPolicy: &sdktemporal.RetryPolicy{
			InitialInterval:    policy.InitialInterval,
			BackoffCoefficient: policy.BackoffCoefficient,
			MaximumInterval:    policy.MaxInterval,
			MaximumAttempts:    int32(policy.MaxAttempts),
		},
		Summary: name,
	})
	run := rc.info
	key := fmt.Sprintf("%s/%d", run.RunID, seq)
	act := func(actx context.Context) (stepResult, error) {
		attempt := int(activity.GetInfo(actx).Attempt)
		sc := workflow.StepContext{Workflow: run.Workflow, RunID: run.RunID, Step: name, Seq: seq, Attempt: attempt, IdempotencyKey: key}
		res, err := callStep(actx, opts.Timeout, fn, sc)
		if err != nil {
			d := stepFailure{Step: name, Seq: seq, Attempt: attempt}
			if workflow.IsNonRetryable(err) || actx.Err() != nil {
				return stepResult{}, sdktemporal.NewNonRetryableApplicationError(err.Error(), stepErrorType, nil, d)
			}
			return stepResult{}, sdktemporal.NewApplicationError(err.Error(), stepErrorType, d)
		}
		return stepResult{Step: name, Seq: seq, Attempt: attempt, Result: res}, nil
	}
	var out stepResult
	err := tw.ExecuteLocalActivity(ctx, act).Get(ctx, &out)
	if rc.checkpoint && rc.ctx.Err() == nil {
		rc.checkpointStep()
	}
	if err != nil {
		se := &workflow.StepError{Step: name, Seq: seq, Attempts: 1, Message: err.Error()}
		var appErr *sdktemporal.ApplicationError
		if errors.As(err, &appErr) {
			se.Message = appErr.Message()
			var d stepFailure
			if appErr.HasDetails() && appErr.Details(&d) == nil {
				if d.Step != name {
					rc.mismatch(seq, fmt.Sprintf("%q", d.Step), fmt.Sprintf("%q", name))
				}
				se.Attempts = d.Attempt
			}
		}
		if rc.ctx.Err() != nil || sdktemporal.IsCanceledError(err) {
			se.Canceled = true
		}
		return nil, se
	}
	if out.Step != name {
		rc.mismatch(seq, fmt.Sprintf("%q", out.Step), fmt.Sprintf("%q", name))
	}
	return out.Result, nil
}

// checkpointStep makes the step just run durable: a local activity's result
// is recorded when the workflow task completes, and a signal the run sends
// itself completes the task and is acknowledged in the next one.
func (rc *runContext) checkpointStep() {
	ti := tw.GetInfo(rc.ctx)
	_ = tw.SignalExternalWorkflow(rc.ctx, ti.WorkflowExecution.ID, ti.WorkflowExecution.RunID, checkpointSignal, nil).Get(rc.ctx, nil)
}

// callStep runs one attempt, turning a panic into an error.
func callStep(ctx context.Context, timeout time.Duration, fn workflow.RawStepFunc, sc workflow.StepContext) (res json.RawMessage, err error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("step panicked: %v", p)
		}
	}()
	res, err = fn(ctx, sc)
	if err == nil && !json.Valid(res) {
		err = workflow.NonRetryable(errors.New("step returned invalid JSON"))
	}
	return res, err
}

// Sleep waits on a Temporal timer.
func (rc *runContext) Sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	rc.next()
	if rc.ctx.Err() != nil {
		return canceled("sleep")
	}
	if err := tw.NewTimerWithOptions(rc.ctx, d, tw.TimerOptions{Summary: "sleep"}).Get(rc.ctx, nil); err != nil {
		return canceled("sleep")
	}
	return nil
}

// SideEffect records fn's value in a SideEffect marker.
func (rc *runContext) SideEffect(name string, fn func() json.RawMessage) (json.RawMessage, error) {
	seq := rc.next()
	var se sideEffect
	if err := tw.SideEffect(rc.ctx, func(tw.Context) any {
		return sideEffect{Name: name, Seq: seq, Value: fn()}
	}).Get(&se); err != nil {
		return nil, fmt.Errorf("side effect %q: %w", name, err)
	}
	if se.Name != name {
		rc.mismatch(seq, fmt.Sprintf("side effect %q", se.Name), fmt.Sprintf("side effect %q", name))
	}
	return se.Value, nil
}

// WaitSignal waits for the next signal called name.
func (rc *runContext) WaitSignal(name string, timeout time.Duration, schema *jsonschema.Schema) (json.RawMessage, bool, error) {
	return rc.wait("signal", name, "", schema, timeout)
}

// RequestInput waits for human input on req.Signal.
func (rc *runContext) RequestInput(req workflow.InputRequest) (json.RawMessage, error) {
	sig := req.Signal
	if sig == "" {
		sig = workflow.ResumeSignal
	}
	v, ok, err := rc.wait("input", sig, req.Prompt, req.Schema, req.Timeout)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("input %q after %s: %w", req.Prompt, req.Timeout, workflow.ErrTimeout)
	}
	return v, nil
}

func (rc *runContext) wait(kind, signal, prompt string, schema *jsonschema.Schema, timeout time.Duration) (json.RawMessage, bool, error) {
	seq := rc.next()
	if rc.ctx.Err() != nil {
		return nil, false, canceled(fmt.Sprintf("waiting for %q", signal))
	}
	rc.drain(signal)
	w := &executor.Wait{Kind: kind, Signal: signal, Prompt: prompt, Schema: schema, Seq: seq}
	var deadline time.Time
	if timeout > 0 {
		deadline = tw.Now(rc.ctx).Add(timeout)
		w.Deadline = deadline
	}
	typ := executor.EventWaitStarted
	var payload json.RawMessage
	if kind == "input" {
		typ = executor.EventInputRequested
		payload, _ = json.Marshal(map[string]any{"prompt": prompt, "schema": schema})
	}
	rc.state.Waiting = w
	rc.record(&executor.Event{Type: typ, Seq: seq, Name: signal, Payload: payload})
	done := func(ev *executor.Event) {
		rc.state.Waiting = nil
		rc.setPending(signal)
		rc.record(ev)
	}
	for {
		ready := func() bool { return len(rc.buf[signal]) > 0 }
		var ok bool
		var err error
		if timeout > 0 {
			left := deadline.Sub(tw.Now(rc.ctx))
			if left > 0 {
				ok, err = tw.AwaitWithOptions(rc.ctx, tw.AwaitOptions{Timeout: left, TimerOptions: tw.TimerOptions{Summary: "timeout of " + kind + " " + signal}}, ready)
			}
		} else {
			err = tw.Await(rc.ctx, ready)
			ok = err == nil
		}
		if err != nil {
			done(nil)
			return nil, false, canceled(fmt.Sprintf("waiting for %q", signal))
		}
		if !ok {
			done(&executor.Event{Type: executor.EventWaitTimedOut, Seq: seq, Name: signal})
			return nil, false, nil
		}
		p := rc.buf[signal][0]
		rc.buf[signal] = rc.buf[signal][1:]
		if len(p) == 0 {
			p = json.RawMessage("null")
		}
		if verr := workflow.ValidatePayload(schema, p); verr != nil {
			perr := &workflow.PayloadError{Subject: fmt.Sprintf("payload of signal %q", signal), Err: verr}
			rc.setPending(signal)
			rc.record(&executor.Event{Type: executor.EventSignalRejected, Seq: seq, Name: signal, Payload: p, Error: perr.Error()})
			continue
		}
		done(&executor.Event{Type: executor.EventSignalDelivered, Seq: seq, Name: signal})
		return p, true, nil
	}
}

// RunChild runs a registered workflow as a Temporal child workflow.
func (rc *runContext) RunChild(name string, input json.RawMessage, opts workflow.ChildOptions) (json.RawMessage, error) {
	seq := rc.next()
	if rc.ctx.Err() != nil {
		return nil, canceled(fmt.Sprintf("child workflow %q", name))
	}
	wf, ok := rc.reg.Lookup(name)
	if !ok {
		return nil, fmt.Errorf("child workflow %q is not registered: %w", name, executor.ErrWorkflowNotFound)
	}
	if err := wf.ValidateInput(input); err != nil {
		return nil, err
	}
	childID := opts.ID
	if childID == "" {
		childID = fmt.Sprintf("%s-c%d", rc.info.RunID, seq)
	}
	ctx := tw.WithChildOptions(rc.ctx, tw.ChildWorkflowOptions{
		WorkflowID:            childID,
		TaskQueue:             rc.queue,
		WorkflowIDReusePolicy: reusePolicy,
	})
	var out json.RawMessage
	err := tw.ExecuteChildWorkflow(ctx, name, input).Get(ctx, &out)
	if err == nil {
		return out, nil
	}
	if rc.ctx.Err() != nil {
		return nil, canceled(fmt.Sprintf("child workflow %q", name))
	}
	if sdktemporal.IsWorkflowExecutionAlreadyStartedError(err) {
		return nil, fmt.Errorf("cannot start workflow %q as run %q: %w", name, childID, executor.ErrRunExists)
	}
	status, msg := executor.StatusFailed, err.Error()
	var cause error = err
	var cwe *sdktemporal.ChildWorkflowExecutionError
	if errors.As(err, &cwe) {
		cause = cwe.Unwrap()
	}
	var appErr *sdktemporal.ApplicationError
	var canErr *sdktemporal.CanceledError
	var termErr *sdktemporal.TerminatedError
	switch {
	case errors.As(cause, &appErr):
		msg = appErr.Message()
	case errors.As(cause, &canErr):
		status, msg = executor.StatusCancelled, canErr.Error()
	case errors.As(cause, &termErr):
		status, msg = executor.StatusTerminated, termErr.Error()
	case cause != nil:
		msg = cause.Error()
	}
	return nil, fmt.Errorf("child workflow %q run %s %s: %s", name, childID, status, msg)
}

// SetStatus records a status message.
func (rc *runContext) SetStatus(msg string) {
	rc.state.StatusMessage = msg
	rc.record(&executor.Event{Type: executor.EventStatusSet, Name: msg})
}

// ReportProgress records progress.
func (rc *runContext) ReportProgress(p workflow.Progress) {
	rc.state.Progress = &p
	b, _ := json.Marshal(p)
	rc.record(&executor.Event{Type: executor.EventProgress, Payload: b})
}

// replayHandler drops log records while the run replays.
type replayHandler struct {
	ctx tw.Context
	h   slog.Handler
}

func (h *replayHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return !tw.IsReplaying(h.ctx) && h.h.Enabled(ctx, l)
}
func (h *replayHandler) Handle(ctx context.Context, r slog.Record) error { return h.h.Handle(ctx, r) }
func (h *replayHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &replayHandler{ctx: h.ctx, h: h.h.WithAttrs(as)}
}
func (h *replayHandler) WithGroup(name string) slog.Handler {
	return &replayHandler{ctx: h.ctx, h: h.h.WithGroup(name)}
}
