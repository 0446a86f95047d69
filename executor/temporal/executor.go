package temporal

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"slices"
	"strings"
	"sync"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/serviceerror"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// reusePolicy refuses a run ID that was ever used, as the local executor
// does.
const reusePolicy = enumspb.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE

// Options configures an Executor. The zero value is valid.
type Options struct {
	// TaskQueue is the Temporal task queue runs are started on and workers
	// poll; "" means DefaultTaskQueue.
	TaskQueue string
	// Worker runs a Temporal worker for the registry's workflows in this
	// process: New starts it and Close stops it. Without it, runs execute
	// only where a worker (`mcp-agent worker`, or NewWorker) polls the task
	// queue.
	Worker bool
	// WorkerOptions tunes that worker (nil: the SDK's defaults).
	// WorkflowPanicPolicy is always FailWorkflow.
	WorkerOptions *worker.Options
	// BatchSteps is WorkerOptions.BatchSteps for that worker.
	BatchSteps bool
	// Logger receives workflow and operational logs; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Executor starts and controls runs of registered workflows on Temporal.
// It implements executor.Executor; create one with [New] or [Dial]. It is
// safe for concurrent use.
//
// A run's ID is its Temporal workflow ID. Every method that changes a run
// returns after Temporal accepted the change (it is then durable in
// Temporal's history).
type Executor struct {
	c       client.Client
	ownsC   bool
	reg     *workflow.Registry
	queue   string
	logger  *slog.Logger
	w       worker.Worker
	closing sync.Once

	mu     sync.Mutex
	inputs map[string]json.RawMessage // run ID -> input (inputs never change)
}

// maxCachedInputs bounds Executor.inputs.
const maxCachedInputs = 4096

// input returns the run's input from the first event of its history.
func (e *Executor) input(ctx context.Context, runID string) (json.RawMessage, error) {
	e.mu.Lock()
	in, ok := e.inputs[runID]
	e.mu.Unlock()
	if ok {
		return in, nil
	}
	it := e.c.GetWorkflowHistory(ctx, runID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	if !it.HasNext() {
		return nil, nil
	}
	ev, err := it.Next()
	if err != nil {
		return nil, notFound(runID, err)
	}
	in = decodePayloads(ev.GetWorkflowExecutionStartedEventAttributes().GetInput())
	e.mu.Lock()
	if len(e.inputs) >= maxCachedInputs {
		clear(e.inputs)
	}
	e.inputs[runID] = in
	e.mu.Unlock()
	return in, nil
}

var _ executor.Executor = (*Executor)(nil)

// New returns an Executor that starts and controls runs of reg's workflows
// through c. Close does not close c. opts may be nil.
func New(c client.Client, reg *workflow.Registry, opts *Options) (*Executor, error) {
	if reg == nil {
		reg = workflow.NewRegistry()
	}
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.TaskQueue == "" {
		o.TaskQueue = DefaultTaskQueue
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	e := &Executor{c: c, reg: reg, queue: o.TaskQueue, logger: o.Logger.With("executor", "temporal"), inputs: map[string]json.RawMessage{}}
	if o.Worker {
		e.w = NewWorker(c, reg, &WorkerOptions{TaskQueue: o.TaskQueue, BatchSteps: o.BatchSteps, Options: o.WorkerOptions, Logger: o.Logger})
		if err := e.w.Start(); err != nil {
			return nil, fmt.Errorf("starting the Temporal worker on task queue %q: %w", o.TaskQueue, err)
		}
	}
	return e, nil
}

// Client returns the Temporal client the executor uses.
func (e *Executor) Client() client.Client { return e.c }

// TaskQueue returns the task queue runs are started on.
func (e *Executor) TaskQueue() string { return e.queue }

// Close stops the executor's worker, if it runs one, and closes the client
// if [Dial] created it. Runs keep going on Temporal.
func (e *Executor) Close() error {
	e.closing.Do(func() {
		if e.w != nil {
			e.w.Stop()
		}
		if e.ownsC {
			e.c.Close()
		}
	})
	return nil
}

// Workflows yields the registered workflows.
func (e *Executor) Workflows() iter.Seq[workflow.Workflow] { return e.reg.All() }

func newRunID() string {
	var b [10]byte
	rand.Read(b[:])
	return "run-" + hex.EncodeToString(b[:])
}

// Start validates the input and starts a Temporal workflow execution whose
// workflow ID is the run ID.
func (e *Executor) Start(ctx context.Context, name string, input json.RawMessage, opts *executor.StartOptions) (string, error) {
	wf, ok := e.reg.Lookup(name)
	if !ok {
		var names []string
		for w := range e.reg.All() {
			names = append(names, w.Name())
		}
		list := strings.Join(names, ", ")
		if list == "" {
			list = "none"
		}
		return "", fmt.Errorf("workflow %q is not registered (registered: %s): %w", name, list, executor.ErrWorkflowNotFound)
	}
	if err := wf.ValidateInput(input); err != nil {
		return "", err
	}
	if len(input) == 0 {
		input = json.RawMessage("null")
	}
	id := ""
	if opts != nil {
		id = opts.ID
	}
	if id == "" {
		id = newRunID()
	}
	_, err := e.c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{
		ID:                                       id,
		TaskQueue:                                e.queue,
		WorkflowIDReusePolicy:                    reusePolicy,
		WorkflowIDConflictPolicy:                 enumspb.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
	}, name, input)
	if err != nil {
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			return "", fmt.Errorf("cannot start workflow %q as run %q: %w", name, id, executor.ErrRunExists)
		}
		return "", fmt.Errorf("starting workflow %q on Temporal: %w", name, err)
	}
	return id, nil
}

// notFound maps Temporal's NotFound to executor.ErrRunNotFound.
func notFound(runID string, err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return executor.NotFound(runID)
	}
	return err
}

// Status returns the run's state: its lifecycle from Temporal, what it
// waits for and its messages from the state it last recorded (see
// [StateQuery]), its input and result from its history.
func (e *Executor) Status(ctx context.Context, runID string) (*executor.Run, error) {
	desc, err := e.c.DescribeWorkflowExecution(ctx, runID, "")
	if err != nil {
		return nil, notFound(runID, err)
	}
	r, err := runOf(desc.GetWorkflowExecutionInfo())
	if err != nil {
		return nil, err
	}
	if r.Input, err = e.input(ctx, runID); err != nil {
		return nil, err
	}
	if r.Status.Terminal() {
		it := e.c.GetWorkflowHistory(ctx, runID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_CLOSE_EVENT)
		if it.HasNext() {
			ev, err := it.Next()
			if err != nil {
				return nil, notFound(runID, err)
			}
			r.Output, r.Error = closeOutcome(ev)
		}
	}
	return r, nil
}

// runOf builds a Run from an execution's info (Describe or visibility);
// Input, Output and Error are left for the caller.
func runOf(info *workflowpb.WorkflowExecutionInfo) (*executor.Run, error) {
	r := &executor.Run{
		ID:          info.GetExecution().GetWorkflowId(),
		Workflow:    info.GetType().GetName(),
		ParentRunID: info.GetParentExecution().GetWorkflowId(),
		CreatedAt:   info.GetStartTime().AsTime(),
	}
	r.UpdatedAt = r.CreatedAt
	st, started, err := decodeState(info.GetMemo())
	if err != nil {
		return nil, err
	}
	switch info.GetStatus() {
	case enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:
		switch {
		case !started:
			r.Status = executor.StatusScheduled
		case st.Paused || st.Waiting != nil:
			r.Status = executor.StatusPaused
		default:
			r.Status = executor.StatusRunning
		}
	case enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED, enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW:
		r.Status = executor.StatusCompleted
	case enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:
		r.Status = executor.StatusCancelled
	case enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:
		r.Status = executor.StatusTerminated
	default: // failed, timed out
		r.Status = executor.StatusFailed
	}
	if st.UpdatedAt.After(r.UpdatedAt) {
		r.UpdatedAt = st.UpdatedAt
	}
	if ct := info.GetCloseTime(); ct != nil {
		r.EndedAt = ct.AsTime()
		r.UpdatedAt = r.EndedAt
	}
	r.StatusMessage = st.StatusMessage
	r.Progress = st.Progress
	r.CancelRequested = st.CancelRequested
	if !r.Status.Terminal() {
		r.PauseRequested = st.Paused
		r.Waiting = st.Waiting
	}
	return r, nil
}

// closeOutcome returns the output or error message of a close event.
func closeOutcome(ev *historypb.HistoryEvent) (json.RawMessage, string) {
	switch {
	case ev.GetWorkflowExecutionCompletedEventAttributes() != nil:
		return decodePayloads(ev.GetWorkflowExecutionCompletedEventAttributes().GetResult()), ""
	case ev.GetWorkflowExecutionFailedEventAttributes() != nil:
		f := ev.GetWorkflowExecutionFailedEventAttributes().GetFailure()
		return nil, failureMessage(f.GetMessage(), f.GetCause().GetMessage())
	case ev.GetWorkflowExecutionCanceledEventAttributes() != nil:
		if d := decodePayloads(ev.GetWorkflowExecutionCanceledEventAttributes().GetDetails()); d != nil {
			var s string
			if json.Unmarshal(d, &s) == nil {
				return nil, s
			}
			return nil, string(d)
		}
		return nil, "cancelled"
	case ev.GetWorkflowExecutionTerminatedEventAttributes() != nil:
		return nil, ev.GetWorkflowExecutionTerminatedEventAttributes().GetReason()
	case ev.GetWorkflowExecutionTimedOutEventAttributes() != nil:
		return nil, "timed out"
	}
	return nil, ""
}

// Result waits for the run to finish and returns its output, or a
// *executor.RunError if it failed, was cancelled or was terminated.
func (e *Executor) Result(ctx context.Context, runID string) (json.RawMessage, error) {
	var out json.RawMessage
	err := e.c.GetWorkflow(ctx, runID, "").Get(ctx, &out)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if err != nil {
		if err := notFound(runID, err); errors.Is(err, executor.ErrRunNotFound) {
			return nil, err
		}
	}
	r, serr := e.Status(ctx, runID)
	if serr != nil {
		return nil, serr
	}
	switch {
	case r.Status == executor.StatusCompleted:
		return r.Output, nil
	case r.Status.Terminal():
		return nil, &executor.RunError{RunID: r.ID, Workflow: r.Workflow, Status: r.Status, Message: r.Error}
	}
	return nil, fmt.Errorf("waiting for run %q: %w", runID, err)
}

// temporalStatuses maps executor statuses to visibility's ExecutionStatus
// values.
func temporalStatuses(ss []executor.Status) ([]string, error) {
	var out []string
	add := func(v ...string) {
		for _, s := range v {
			if !slices.Contains(out, s) {
				out = append(out, s)
			}
		}
	}
	for _, s := range ss {
		switch s {
		case executor.StatusScheduled, executor.StatusRunning, executor.StatusPaused:
			add("Running")
		case executor.StatusCompleted:
			add("Completed", "ContinuedAsNew")
		case executor.StatusFailed:
			add("Failed", "TimedOut")
		case executor.StatusCancelled:
			add("Canceled")
		case executor.StatusTerminated:
			add("Terminated")
		default:
			return nil, fmt.Errorf("unknown run status %q (want scheduled, running, paused, completed, failed, cancelled or terminated)", s)
		}
	}
	return out, nil
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", `\'`) + "'" }

// List yields the runs on the executor's task queue from Temporal's
// visibility store, newest first. Runs do not carry Input or Output (read
// them with Status). Visibility is updated asynchronously, so a run started
// or changed a moment ago may show up a moment later.
func (e *Executor) List(ctx context.Context, opts *executor.ListOptions) iter.Seq2[*executor.Run, error] {
	return func(yield func(*executor.Run, error) bool) {
		if opts == nil {
			opts = &executor.ListOptions{}
		}
		q := []string{"TaskQueue = " + quote(e.queue)}
		if opts.Workflow != "" {
			q = append(q, "WorkflowType = "+quote(opts.Workflow))
		}
		if len(opts.Statuses) > 0 {
			ts, err := temporalStatuses(opts.Statuses)
			if err != nil {
				yield(nil, err)
				return
			}
			var qs []string
			for _, s := range ts {
				qs = append(qs, quote(s))
			}
			q = append(q, "ExecutionStatus IN ("+strings.Join(qs, ", ")+")")
		}
		// SQL visibility stores cannot ORDER BY, so read all matches and
		// sort them here.
		var runs []*executor.Run
		var token []byte
		for {
			resp, err := e.c.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
				Query:         strings.Join(q, " AND "),
				NextPageToken: token,
				PageSize:      1000,
			})
			if err != nil {
				yield(nil, fmt.Errorf("listing runs on Temporal: %w", err))
				return
			}
			for _, info := range resp.GetExecutions() {
				r, err := runOf(info)
				if err != nil {
					yield(nil, err)
					return
				}
				if len(opts.Statuses) > 0 && !slices.Contains(opts.Statuses, r.Status) {
					continue
				}
				runs = append(runs, r)
			}
			if token = resp.GetNextPageToken(); len(token) == 0 {
				break
			}
		}
		slices.SortStableFunc(runs, func(a, b *executor.Run) int {
			if c := b.CreatedAt.Compare(a.CreatedAt); c != 0 {
				return c
			}
			return strings.Compare(b.ID, a.ID)
		})
		if opts.Limit > 0 && len(runs) > opts.Limit {
			runs = runs[:opts.Limit]
		}
		for _, r := range runs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// active returns the run's state, refusing finished runs with
// ErrRunFinished (verb says what was refused).
func (e *Executor) active(ctx context.Context, runID, verb string) (*executor.Run, runState, error) {
	desc, err := e.c.DescribeWorkflowExecution(ctx, runID, "")
	if err != nil {
		return nil, runState{}, notFound(runID, err)
	}
	r, err := runOf(desc.GetWorkflowExecutionInfo())
	if err != nil {
		return nil, runState{}, err
	}
	if r.Status.Terminal() {
		return nil, runState{}, fmt.Errorf("run %q is %s; only scheduled, running or paused runs can be %s: %w", runID, r.Status, verb, executor.ErrRunFinished)
	}
	st, _, _ := decodeState(desc.GetWorkflowExecutionInfo().GetMemo())
	return r, st, nil
}

func (e *Executor) signal(ctx context.Context, runID, name string, payload json.RawMessage) error {
	if err := e.c.SignalWorkflow(ctx, runID, "", name, payload); err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			// Describe found it running: it finished in between.
			return fmt.Errorf("run %q has finished: %w", runID, executor.ErrRunFinished)
		}
		return fmt.Errorf("signalling run %q: %w", runID, err)
	}
	return nil
}

// Pause sends PauseSignal: the run stops before its next operation (a step
// in flight finishes first) and stays paused until Resume. The run's status
// shows paused once its worker has processed the signal.
func (e *Executor) Pause(ctx context.Context, runID string) error {
	_, st, err := e.active(ctx, runID, "paused")
	if err != nil || st.Paused {
		return err
	}
	return e.signal(ctx, runID, PauseSignal, nil)
}

// Resume lifts a Pause (UnpauseSignal) and delivers payload as the signal
// opts.Signal (default "resume"), following the rules of the local
// executor (see executor/local's Resume): a payload for a run waiting on
// the signal is validated against the wait's schema first; a second payload
// while one is still pending is refused with ErrSignalPending; no payload,
// no Pause and no wait is ErrNotPaused. The checks read the state the run
// last recorded: a change the worker has not processed yet (a Pause sent a
// moment ago, say) is not seen, and the workflow checks the payload again
// when it takes it (recording a signal_rejected event on a mismatch).
func (e *Executor) Resume(ctx context.Context, runID string, payload json.RawMessage, opts *executor.ResumeOptions) error {
	sig := workflow.ResumeSignal
	if opts != nil && opts.Signal != "" {
		sig = opts.Signal
	}
	r, st, err := e.active(ctx, runID, "resumed")
	if err != nil {
		return err
	}
	waiting := st.Waiting != nil && st.Waiting.Signal == sig
	paused := st.Paused
	if len(payload) == 0 && !waiting {
		if !paused {
			// The run may not have processed a Pause sent a moment ago:
			// its history has the last word.
			if paused, err = e.pauseRequested(ctx, runID); err != nil {
				return err
			}
		}
		if !paused {
			return fmt.Errorf("run %q is %s: it is neither paused nor waiting for %q; to deliver input before the run asks for it, resume with a payload: %w",
				runID, r.Status, sig, executor.ErrNotPaused)
		}
		return e.signal(ctx, runID, UnpauseSignal, nil)
	}
	if len(payload) == 0 {
		payload = json.RawMessage("null")
	}
	if !json.Valid(payload) {
		return &workflow.PayloadError{Subject: fmt.Sprintf("payload of signal %q", sig), Err: errors.New("not valid JSON")}
	}
	if waiting {
		if err := workflow.ValidatePayload(st.Waiting.Schema, payload); err != nil {
			return &workflow.PayloadError{Subject: fmt.Sprintf("payload of signal %q", sig), Err: err}
		}
	} else if st.Pending[sig] > 0 {
		return fmt.Errorf("run %q already has an undelivered %q signal; it is delivered when the run next waits for %q: %w",
			runID, sig, sig, executor.ErrSignalPending)
	}
	if paused {
		if err := e.signal(ctx, runID, UnpauseSignal, nil); err != nil {
			return err
		}
	}
	return e.signal(ctx, runID, sig, payload)
}

// Signal sends a Temporal signal; the run takes it at its current or next
// wait on name (signals queue in the order sent).
func (e *Executor) Signal(ctx context.Context, runID, name string, payload json.RawMessage) error {
	if name == "" {
		return errors.New("signal name is empty")
	}
	if len(payload) == 0 {
		payload = json.RawMessage("null")
	}
	if !json.Valid(payload) {
		return &workflow.PayloadError{Subject: fmt.Sprintf("payload of signal %q", name), Err: errors.New("not valid JSON")}
	}
	if _, _, err := e.active(ctx, runID, "signalled"); err != nil {
		return err
	}
	return e.signal(ctx, runID, name, payload)
}

// Cancel requests cancellation: the run's context is cancelled, blocking
// workflow calls return workflow.ErrCanceled, and the run ends as cancelled
// when its function returns with an error. Child runs are cancelled too.
func (e *Executor) Cancel(ctx context.Context, runID string) error {
	if _, _, err := e.active(ctx, runID, "cancelled"); err != nil {
		return err
	}
	if err := e.c.CancelWorkflow(ctx, runID, ""); err != nil {
		return finished(runID, err)
	}
	return nil
}

// Terminate ends the run at once as terminated; its children are
// terminated by Temporal's parent close policy.
func (e *Executor) Terminate(ctx context.Context, runID, reason string) error {
	if reason == "" {
		reason = "terminated"
	}
	if _, _, err := e.active(ctx, runID, "terminated"); err != nil {
		return err
	}
	if err := e.c.TerminateWorkflow(ctx, runID, "", reason); err != nil {
		return finished(runID, err)
	}
	return nil
}

func finished(runID string, err error) error {
	var nf *serviceerror.NotFound
	if errors.As(err, &nf) {
		return fmt.Errorf("run %q has finished: %w", runID, executor.ErrRunFinished)
	}
	return err
}

// pauseRequested reports whether the last of the run's pause and unpause
// signals in its history is a pause.
func (e *Executor) pauseRequested(ctx context.Context, runID string) (bool, error) {
	paused := false
	it := e.c.GetWorkflowHistory(ctx, runID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			return false, notFound(runID, err)
		}
		switch ev.GetWorkflowExecutionSignaledEventAttributes().GetSignalName() {
		case PauseSignal:
			paused = true
		case UnpauseSignal:
			paused = false
		}
	}
	return paused, nil
}
