// Package executor defines how workflow runs are started and controlled:
// the [Executor] interface, run statuses, history events and the errors every
// executor returns. Implementations live in sub-packages: executor/local
// (durable, on SQLite; the default) and executor/temporal.
//
// Quick start, with the local executor:
//
//	greet := workflow.Define("greet", func(wctx workflow.Context, name string) (string, error) {
//		return workflow.Step(wctx, "hello", func(ctx context.Context, sc workflow.StepContext) (string, error) {
//			return "hello " + name, nil
//		}, nil)
//	}, nil)
//	ex, err := local.Open(ctx, "runs.db", workflow.NewRegistry(greet), nil)
//	...
//	defer ex.Close()
//	out, runID, err := executor.Execute(ctx, ex, greet, "ada", nil)
package executor

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// Executor starts and controls workflow runs. Every method that changes a
// run returns only after the change is durable (journaled) in the
// executor's store, so an acknowledged request is never lost.
type Executor interface {
	// Start starts a run of the registered workflow named name and returns
	// its run ID. The input is validated against the workflow's input schema
	// first ([workflow.ErrInvalidPayload]). opts may be nil.
	Start(ctx context.Context, name string, input json.RawMessage, opts *StartOptions) (runID string, err error)
	// Status returns the run's current state.
	Status(ctx context.Context, runID string) (*Run, error)
	// Result waits until the run has finished (or ctx is done) and returns
	// its output. A run that did not complete returns a [*RunError].
	Result(ctx context.Context, runID string) (json.RawMessage, error)
	// List yields runs, newest first, filtered by opts (nil: all).
	List(ctx context.Context, opts *ListOptions) iter.Seq2[*Run, error]
	// History returns every event of the run, oldest first.
	History(ctx context.Context, runID string) ([]Event, error)
	// Pause asks the run to stop before its next operation; it stays paused
	// (across restarts) until Resume. A step in flight finishes first.
	Pause(ctx context.Context, runID string) error
	// Resume lifts a Pause and/or delivers payload as a signal (default
	// [workflow.ResumeSignal]) to the run, e.g. the input a paused run asked
	// for. See [ResumeOptions] and the package doc for the exact rules.
	Resume(ctx context.Context, runID string, payload json.RawMessage, opts *ResumeOptions) error
	// Signal delivers a named signal to the run, or buffers it until the run
	// waits for it.
	Signal(ctx context.Context, runID, name string, payload json.RawMessage) error
	// Cancel asks the run to stop: its context is cancelled, blocking
	// workflow calls return workflow.ErrCanceled, and the run ends as
	// cancelled when its function returns.
	Cancel(ctx context.Context, runID string) error
	// Terminate ends the run at once as terminated, without running any more
	// of its code.
	Terminate(ctx context.Context, runID, reason string) error
	// Workflows yields the registered workflows.
	Workflows() iter.Seq[workflow.Workflow]
}

// Status is a run's lifecycle state.
type Status string

const (
	StatusScheduled  Status = "scheduled"  // accepted, not yet picked up by a worker
	StatusRunning    Status = "running"    // executing (including sleeping on a timer)
	StatusPaused     Status = "paused"     // waiting for input or a signal, or paused by Pause
	StatusCompleted  Status = "completed"  // returned a result
	StatusFailed     Status = "failed"     // returned an error, or broke the determinism rules
	StatusCancelled  Status = "cancelled"  // ended after Cancel
	StatusTerminated Status = "terminated" // ended by Terminate
)

// Terminal reports whether a run in this status has finished for good.
func (s Status) Terminal() bool {
	switch s {
	case StatusCompleted, StatusFailed, StatusCancelled, StatusTerminated:
		return true
	}
	return false
}

// Valid reports whether s is one of the defined statuses.
func (s Status) Valid() bool {
	switch s {
	case StatusScheduled, StatusRunning, StatusPaused, StatusCompleted, StatusFailed, StatusCancelled, StatusTerminated:
		return true
	}
	return false
}

// Run is a snapshot of one run.
type Run struct {
	ID          string          `json:"id"`
	Workflow    string          `json:"workflow"`
	Status      Status          `json:"status"`
	Input       json.RawMessage `json:"input,omitempty"`
	Output      json.RawMessage `json:"output,omitempty"` // set when completed
	Error       string          `json:"error,omitempty"`  // set when failed, cancelled or terminated
	ParentRunID string          `json:"parent_run_id,omitempty"`
	// StatusMessage is the last workflow.SetStatus message.
	StatusMessage string `json:"status_message,omitempty"`
	// Progress is the last workflow.ReportProgress report, if any.
	Progress *workflow.Progress `json:"progress,omitempty"`
	// PauseRequested is true while a Pause is in effect.
	PauseRequested bool `json:"pause_requested,omitempty"`
	// CancelRequested is true once Cancel was accepted.
	CancelRequested bool `json:"cancel_requested,omitempty"`
	// Waiting describes what a paused run waits for, if anything.
	Waiting   *Wait     `json:"waiting,omitempty"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	EndedAt   time.Time `json:"ended_at,omitzero"`
}

// Wait describes a signal or human input a run is waiting for.
type Wait struct {
	Kind     string             `json:"kind"`             // "signal" or "input"
	Signal   string             `json:"signal"`           // the signal that satisfies it
	Prompt   string             `json:"prompt,omitempty"` // for input
	Schema   *jsonschema.Schema `json:"schema,omitempty"` // payloads must match it
	Deadline time.Time          `json:"deadline,omitzero"`
	Seq      int                `json:"seq"` // position in the journal
}

// EventType names a history event.
type EventType string

// History event types.
const (
	EventRunScheduled    EventType = "run_scheduled"
	EventRunStarted      EventType = "run_started"
	EventRunRecovered    EventType = "run_recovered" // re-executed by replay after a restart
	EventStepStarted     EventType = "step_started"
	EventStepFailed      EventType = "step_failed" // one attempt failed (Error), maybe retried
	EventStepCompleted   EventType = "step_completed"
	EventSideEffect      EventType = "side_effect"
	EventTimerStarted    EventType = "timer_started"
	EventTimerFired      EventType = "timer_fired"
	EventWaitStarted     EventType = "wait_started" // waiting for a signal
	EventInputRequested  EventType = "input_requested"
	EventWaitTimedOut    EventType = "wait_timed_out"
	EventSignalReceived  EventType = "signal_received"  // accepted (buffered or delivered)
	EventSignalDelivered EventType = "signal_delivered" // consumed by a wait
	EventSignalRejected  EventType = "signal_rejected"  // a buffered payload failed the wait's schema
	EventChildStarted    EventType = "child_started"
	EventChildCompleted  EventType = "child_completed"
	EventStatusSet       EventType = "status_set"
	EventProgress        EventType = "progress"
	EventPauseRequested  EventType = "pause_requested"
	EventResumed         EventType = "resumed"
	EventCancelRequested EventType = "cancel_requested"
	EventRunCompleted    EventType = "run_completed"
	EventRunFailed       EventType = "run_failed"
	EventRunCancelled    EventType = "run_cancelled"
	EventRunTerminated   EventType = "run_terminated"
)

// Event is one entry of a run's history.
type Event struct {
	ID      int64           `json:"id"` // increasing within a store
	RunID   string          `json:"run_id"`
	Time    time.Time       `json:"time"`
	Type    EventType       `json:"type"`
	Seq     int             `json:"seq,omitempty"`     // journal position of the operation
	Name    string          `json:"name,omitempty"`    // step, timer, signal or child workflow name
	Attempt int             `json:"attempt,omitempty"` // for step events
	Payload json.RawMessage `json:"payload,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// StartOptions configures Start. The zero value is valid.
type StartOptions struct {
	// ID is the run ID; "" means a generated one. Starting a second run with
	// an ID in use returns [ErrRunExists].
	ID string
}

// ListOptions filters List. The zero value lists every run.
type ListOptions struct {
	Workflow string   // only runs of this workflow; "" means all
	Statuses []Status // only runs in one of these statuses; empty means all
	Limit    int      // at most this many; 0 means no limit
}

// ResumeOptions configures Resume. The zero value is valid.
type ResumeOptions struct {
	// Signal is the signal that carries the payload; "" means
	// workflow.ResumeSignal ("resume").
	Signal string
}

// Errors every executor returns; match them with errors.Is.
var (
	// ErrRunNotFound: no run has the ID. The message names it.
	ErrRunNotFound = errors.New("run not found")
	// ErrRunExists: Start was given an ID already in use.
	ErrRunExists = errors.New("run ID already in use")
	// ErrWorkflowNotFound: Start named a workflow that is not registered.
	ErrWorkflowNotFound = errors.New("workflow not registered")
	// ErrRunFinished: the run has ended, so it cannot be paused, resumed,
	// signalled or cancelled.
	ErrRunFinished = errors.New("run has finished")
	// ErrSignalPending: a signal of the same name sent earlier has not been
	// consumed yet; a second one is refused rather than queued so that a
	// repeated resume cannot answer a later question by accident.
	ErrSignalPending = errors.New("an earlier signal is still pending")
	// ErrNotPaused: Resume without a payload for a run that is neither
	// paused by Pause nor waiting for input.
	ErrNotPaused = errors.New("run is not paused")
)

// RunError is the error Result returns for a run that ended without a
// result: failed, cancelled or terminated.
type RunError struct {
	RunID    string
	Workflow string
	Status   Status
	Message  string
}

func (e *RunError) Error() string {
	return fmt.Sprintf("workflow %q run %s %s: %s", e.Workflow, e.RunID, e.Status, e.Message)
}

// NotFound returns an error wrapping [ErrRunNotFound] that names the run.
func NotFound(runID string) error {
	return fmt.Errorf("run %q not found: %w", runID, ErrRunNotFound)
}

// Start starts a run of def with a typed input. opts may be nil.
func Start[In, Out any](ctx context.Context, ex Executor, def *workflow.Definition[In, Out], in In, opts *StartOptions) (runID string, err error) {
	b, err := json.Marshal(in)
	if err != nil {
		return "", fmt.Errorf("workflow %q: encoding input: %w", def.Name(), err)
	}
	return ex.Start(ctx, def.Name(), b, opts)
}

// ResultOf waits for a run's result and decodes it into Out.
func ResultOf[Out any](ctx context.Context, ex Executor, runID string) (Out, error) {
	var out Out
	raw, err := ex.Result(ctx, runID)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("run %s: decoding result: %w", runID, err)
	}
	return out, nil
}

// Execute starts a run of def and waits for its result.
func Execute[In, Out any](ctx context.Context, ex Executor, def *workflow.Definition[In, Out], in In, opts *StartOptions) (out Out, runID string, err error) {
	runID, err = Start(ctx, ex, def, in, opts)
	if err != nil {
		return out, "", err
	}
	out, err = ResultOf[Out](ctx, ex, runID)
	return out, runID, err
}

// WaitFor polls the run's status until cond holds and returns that status.
// It returns early with ctx's error, or with [*RunError] if the run ends
// without cond holding. Use it to wait for a run to pause for input:
//
//	r, err := executor.WaitFor(ctx, ex, runID, func(r *executor.Run) bool { return r.Waiting != nil })
func WaitFor(ctx context.Context, ex Executor, runID string, cond func(*Run) bool) (*Run, error) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		r, err := ex.Status(ctx, runID)
		if err != nil {
			return nil, err
		}
		if cond(r) {
			return r, nil
		}
		if r.Status.Terminal() {
			return r, &RunError{RunID: r.ID, Workflow: r.Workflow, Status: r.Status, Message: "ended before the awaited condition held"}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-t.C:
		}
	}
}
