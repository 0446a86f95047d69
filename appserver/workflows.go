package appserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// Executor is what the server needs of a workflow executor; every
// executor.Executor (executor/local, ...) has it.
type Executor interface {
	// Workflows yields the registered workflows.
	Workflows() iter.Seq[workflow.Workflow]
	// Start starts a run and returns its ID.
	Start(ctx context.Context, name string, input json.RawMessage, opts *executor.StartOptions) (string, error)
	// Status returns a run's state.
	Status(ctx context.Context, runID string) (*executor.Run, error)
	// List yields runs, newest first.
	List(ctx context.Context, opts *executor.ListOptions) iter.Seq2[*executor.Run, error]
	// History returns a run's events, oldest first.
	History(ctx context.Context, runID string) ([]executor.Event, error)
	// Pause asks a run to stop before its next operation, until Resume.
	Pause(ctx context.Context, runID string) error
	// Resume lifts a pause and/or delivers a payload on a signal.
	Resume(ctx context.Context, runID string, payload json.RawMessage, opts *executor.ResumeOptions) error
	// Cancel asks a run to stop.
	Cancel(ctx context.Context, runID string) error
}

var _ Executor = executor.Executor(nil)

// Workflow tool names, as in the Python mcp-agent's app server.
const (
	ToolWorkflowsList      = "workflows-list"
	ToolWorkflowsRunsList  = "workflows-runs-list"
	ToolWorkflowsRun       = "workflows-run"
	ToolWorkflowsGetStatus = "workflows-get_status"
	ToolWorkflowsPause     = "workflows-pause"
	ToolWorkflowsResume    = "workflows-resume"
	ToolWorkflowsCancel    = "workflows-cancel"
)

// ErrAlreadyPaused is wrapped by the error workflows-pause answers for a
// run that is paused already (by a pause, or waiting for input).
var ErrAlreadyPaused = errors.New("run is already paused")

// WorkflowRunToolName is the name of a workflow's own run tool:
// "workflows-<name>-run".
func WorkflowRunToolName(name string) string { return "workflows-" + name + "-run" }

// WorkflowInfo describes a workflow in workflows-list.
type WorkflowInfo struct {
	Name          string             `json:"name"`
	Description   string             `json:"description,omitempty"`
	Capabilities  []string           `json:"capabilities"`
	ToolEndpoints []string           `json:"tool_endpoints"`
	RunParameters *jsonschema.Schema `json:"run_parameters"`
	Output        *jsonschema.Schema `json:"output_schema,omitempty"`
}

// WorkflowsList is the result of workflows-list: the workflows by name.
type WorkflowsList struct {
	Workflows map[string]WorkflowInfo `json:"workflows"`
}

// RunArgs are the arguments of workflows-run.
type RunArgs struct {
	WorkflowName  string          `json:"workflow_name" jsonschema:"the workflow to run (see workflows-list)"`
	RunParameters json.RawMessage `json:"run_parameters,omitempty" jsonschema:"the workflow's input, matching its run_parameters schema in workflows-list"`
}

// RunStarted is the result of starting a run: workflows-run,
// workflows-<name>-run and async app tools.
type RunStarted struct {
	WorkflowID string `json:"workflow_id" jsonschema:"the workflow's name"`
	RunID      string `json:"run_id" jsonschema:"the run's ID, for workflows-get_status, workflows-resume and workflows-cancel"`
	// ExecutionID equals RunID; the Python project returns both.
	ExecutionID string `json:"execution_id"`
}

// RunRef names a run: run_id, or the latest run of workflow_id.
type RunRef struct {
	RunID      string `json:"run_id,omitempty" jsonschema:"the run's ID from workflows-run or workflows-runs-list"`
	WorkflowID string `json:"workflow_id,omitempty" jsonschema:"the workflow's name; without run_id, its latest run is meant"`
}

// ResumeArgs are the arguments of workflows-resume.
type ResumeArgs struct {
	RunID      string `json:"run_id,omitempty" jsonschema:"the run's ID from workflows-run or workflows-runs-list"`
	WorkflowID string `json:"workflow_id,omitempty" jsonschema:"the workflow's name; without run_id, its latest run is meant"`
	SignalName string `json:"signal_name,omitempty" jsonschema:"the signal that carries the payload; default resume"`
	// Payload is any JSON value; a string holding JSON is decoded when the
	// run waits for something other than a string.
	Payload json.RawMessage `json:"payload,omitempty" jsonschema:"the answer the run waits for (see waiting in workflows-get_status); absent to lift a pause"`
}

// RunsListArgs are the arguments of workflows-runs-list.
type RunsListArgs struct {
	WorkflowID string   `json:"workflow_id,omitempty" jsonschema:"only runs of this workflow"`
	Status     []string `json:"status,omitempty" jsonschema:"only runs in these statuses: scheduled, running, paused, completed, failed, cancelled, terminated"`
	Limit      int      `json:"limit,omitempty" jsonschema:"at most this many runs, newest first; default 100"`
}

// RunStatus is a run's state as workflows-get_status and
// workflows-runs-list report it.
type RunStatus struct {
	ID         string `json:"id"`
	RunID      string `json:"run_id"`
	WorkflowID string `json:"workflow_id"`
	Name       string `json:"name"`
	// Status is the executor's: scheduled, running, paused, completed,
	// failed, cancelled or terminated.
	Status    string          `json:"status"`
	Running   bool            `json:"running"`
	Completed bool            `json:"completed"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     string          `json:"error,omitempty"`
	// Waiting says what a paused run waits for: the prompt, the signal to
	// send with workflows-resume, and the payload's schema.
	Waiting       *executor.Wait     `json:"waiting,omitempty"`
	StatusMessage string             `json:"status_message,omitempty"`
	Progress      *workflow.Progress `json:"progress,omitempty"`
	CreatedAt     time.Time          `json:"created_at"`
	UpdatedAt     time.Time          `json:"updated_at"`
	EndedAt       time.Time          `json:"ended_at,omitzero"`
	// ResourceURI is the run's resource (its status and result).
	ResourceURI string `json:"resource_uri"`
	// Transitions are the run's status changes so far, oldest first, from
	// its history, so that a poller sees a pause and resume that happened
	// between two polls. workflows-get_status and the run resources set
	// it; workflows-runs-list does not.
	Transitions []StatusChange `json:"transitions,omitempty"`
}

// StatusChange is an event of a run's history that changes, or may change,
// its status: the run was scheduled, started (or recovered after a
// restart), paused (by workflows-pause, or waiting for input or a signal),
// resumed (the pause lifted, or the awaited input delivered), asked to
// cancel, or ended.
type StatusChange struct {
	// Status is the run's status after the event.
	Status string `json:"status" jsonschema:"the run's status after the event"`
	// Event is the history event: run_scheduled, run_started,
	// run_recovered, pause_requested, resumed, input_requested,
	// wait_started, signal_delivered, wait_timed_out, cancel_requested,
	// run_completed, run_failed, run_cancelled or run_terminated.
	Event string    `json:"event" jsonschema:"the history event behind the change"`
	At    time.Time `json:"at" jsonschema:"when it happened"`
	// Detail is the prompt of an input request, the signal waited for or
	// delivered, or the error a run ended with.
	Detail string `json:"detail,omitempty" jsonschema:"the prompt or signal waited for or delivered, or the error the run ended with"`
}

// statusChanges replays the status-changing events of a run's history.
func statusChanges(evs []executor.Event) []StatusChange {
	var (
		started, pauseReq bool
		ended             executor.Status
		waits             = map[int]bool{}
		out               = []StatusChange{}
	)
	status := func() executor.Status {
		switch {
		case ended != "":
			return ended
		case pauseReq || len(waits) > 0:
			return executor.StatusPaused
		case started:
			return executor.StatusRunning
		}
		return executor.StatusScheduled
	}
	for _, e := range evs {
		detail := ""
		switch e.Type {
		case executor.EventRunScheduled, executor.EventCancelRequested:
		case executor.EventRunStarted, executor.EventRunRecovered:
			started = true
		case executor.EventPauseRequested:
			pauseReq = true
		case executor.EventResumed:
			pauseReq = false
		case executor.EventInputRequested:
			waits[e.Seq] = true
			var in struct {
				Prompt string `json:"prompt"`
			}
			_ = json.Unmarshal(e.Payload, &in)
			detail = in.Prompt
		case executor.EventWaitStarted:
			waits[e.Seq] = true
			detail = "signal " + e.Name
		case executor.EventSignalDelivered, executor.EventWaitTimedOut:
			delete(waits, e.Seq)
			detail = "signal " + e.Name
		case executor.EventRunCompleted:
			ended = executor.StatusCompleted
		case executor.EventRunFailed:
			ended, detail = executor.StatusFailed, e.Error
		case executor.EventRunCancelled:
			ended, detail = executor.StatusCancelled, e.Error
		case executor.EventRunTerminated:
			ended, detail = executor.StatusTerminated, e.Error
		default:
			continue
		}
		out = append(out, StatusChange{Status: string(status()), Event: string(e.Type), At: e.Time, Detail: detail})
	}
	return out
}

// withTransitions adds the run's status changes to st; a history that
// cannot be read leaves them out (the status itself is still right).
func (s *Server) withTransitions(ctx context.Context, st RunStatus) RunStatus {
	evs, err := s.opts.Executor.History(ctx, st.RunID)
	if err != nil {
		s.logger.Debug("read run history", "run", st.RunID, "error", err)
		return st
	}
	st.Transitions = statusChanges(evs)
	return st
}

// RunsList is the result of workflows-runs-list.
type RunsList struct {
	Runs []RunStatus `json:"runs"`
}

// Resumed is the result of workflows-resume.
type Resumed struct {
	Resumed    bool   `json:"resumed"`
	RunID      string `json:"run_id"`
	SignalName string `json:"signal_name"`
	Status     string `json:"status" jsonschema:"the run's status after the resume was accepted"`
}

// Paused is the result of workflows-pause.
type Paused struct {
	Paused bool   `json:"paused"`
	RunID  string `json:"run_id"`
	Status string `json:"status" jsonschema:"the run's status after the pause was accepted"`
}

// Cancelled is the result of workflows-cancel.
type Cancelled struct {
	Cancelled bool   `json:"cancelled"`
	RunID     string `json:"run_id"`
	Status    string `json:"status"`
}

func runStatus(r *executor.Run) RunStatus {
	return RunStatus{
		ID: r.ID, RunID: r.ID, WorkflowID: r.Workflow, Name: r.Workflow,
		Status:        string(r.Status),
		Running:       r.Status == executor.StatusRunning || r.Status == executor.StatusScheduled,
		Completed:     r.Status == executor.StatusCompleted,
		Result:        r.Output,
		Error:         r.Error,
		Waiting:       r.Waiting,
		StatusMessage: r.StatusMessage,
		Progress:      r.Progress,
		CreatedAt:     r.CreatedAt,
		UpdatedAt:     r.UpdatedAt,
		EndedAt:       r.EndedAt,
		ResourceURI:   RunURI(r.ID),
	}
}

func (s *Server) workflows() []workflow.Workflow {
	var out []workflow.Workflow
	for w := range s.opts.Executor.Workflows() {
		out = append(out, w)
	}
	return out
}

func (s *Server) workflow(name string) (workflow.Workflow, bool) {
	for _, w := range s.workflows() {
		if w.Name() == name {
			return w, true
		}
	}
	return nil, false
}

func (s *Server) addWorkflowTools(add func(*mcp.Tool, mcp.ToolHandler, string) error) error {
	tools := []struct {
		tool *mcp.Tool
		h    mcp.ToolHandler
	}{
		{&mcp.Tool{
			Name:         ToolWorkflowsList,
			Description:  "List the workflows this app can run: name, description, and the schema of the run_parameters each takes.",
			InputSchema:  emptyObject(),
			OutputSchema: schemaFor[WorkflowsList](),
			Annotations:  &mcp.ToolAnnotations{ReadOnlyHint: true},
		}, s.listWorkflows},
		{&mcp.Tool{
			Name:         ToolWorkflowsRunsList,
			Description:  "List workflow runs, newest first, with their status (and result or error once finished).",
			InputSchema:  schemaFor[RunsListArgs](),
			OutputSchema: schemaFor[RunsList](),
			Annotations:  &mcp.ToolAnnotations{ReadOnlyHint: true},
		}, s.listRuns},
		{&mcp.Tool{
			Name:         ToolWorkflowsRun,
			Description:  "Start a run of a workflow with the given run_parameters and return its workflow_id and run_id at once (the run continues in the background; follow it with workflows-get_status).",
			InputSchema:  schemaFor[RunArgs](),
			OutputSchema: schemaFor[RunStarted](),
		}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var in RunArgs
			if err := decodeArgs(req, &in); err != nil {
				return toolError(err), nil
			}
			if in.WorkflowName == "" {
				return toolError(errors.New(`"workflow_name" is required (see workflows-list)`)), nil
			}
			return s.startRun(ctx, in.WorkflowName, in.RunParameters)
		}},
		{&mcp.Tool{
			Name:         ToolWorkflowsGetStatus,
			Description:  "Get the status of a workflow run: running, paused (and what it waits for), completed (with its result), failed, cancelled.",
			InputSchema:  schemaFor[RunRef](),
			OutputSchema: schemaFor[RunStatus](),
			Annotations:  &mcp.ToolAnnotations{ReadOnlyHint: true},
		}, s.getStatus},
		{&mcp.Tool{
			Name:         ToolWorkflowsPause,
			Description:  "Pause a running workflow run: it stops before its next operation (a step in flight finishes first) and stays paused, across restarts, until workflows-resume.",
			InputSchema:  schemaFor[RunRef](),
			OutputSchema: schemaFor[Paused](),
		}, s.pause},
		{&mcp.Tool{
			Name:         ToolWorkflowsResume,
			Description:  "Resume a paused workflow run: deliver payload (for example the human input it waits for) on signal_name (default resume), or lift a pause when there is no payload.",
			InputSchema:  schemaFor[ResumeArgs](),
			OutputSchema: schemaFor[Resumed](),
		}, s.resume},
		{&mcp.Tool{
			Name:         ToolWorkflowsCancel,
			Description:  "Cancel a workflow run: it stops at its next step and ends as cancelled.",
			InputSchema:  schemaFor[RunRef](),
			OutputSchema: schemaFor[Cancelled](),
			Annotations:  &mcp.ToolAnnotations{DestructiveHint: ptr(true)},
		}, s.cancel},
	}
	for _, t := range tools {
		if err := add(t.tool, t.h, "workflow tool "+t.tool.Name); err != nil {
			return err
		}
	}
	for _, w := range s.workflows() {
		name := w.Name()
		in := w.InputSchema()
		if in == nil {
			in = &jsonschema.Schema{}
		}
		args := &jsonschema.Schema{Type: "object", Properties: map[string]*jsonschema.Schema{"run_parameters": in}}
		if in.Type == "object" {
			args.Required = []string{"run_parameters"}
		}
		desc := fmt.Sprintf("Start a run of the %q workflow and return its workflow_id and run_id (follow it with workflows-get_status).", name)
		if d := w.Description(); d != "" {
			desc += "\n\nWorkflow description: " + d
		}
		if err := add(&mcp.Tool{
			Name:         WorkflowRunToolName(name),
			Description:  desc,
			InputSchema:  args,
			OutputSchema: schemaFor[RunStarted](),
		}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			var in struct {
				RunParameters json.RawMessage `json:"run_parameters"`
			}
			if err := decodeArgs(req, &in); err != nil {
				return toolError(err), nil
			}
			return s.startRun(ctx, name, in.RunParameters)
		}, fmt.Sprintf("workflow %q", name)); err != nil {
			return err
		}
	}
	return nil
}

func ptr[T any](v T) *T { return &v }

func (s *Server) listWorkflows(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	out := WorkflowsList{Workflows: map[string]WorkflowInfo{}}
	for _, w := range s.workflows() {
		out.Workflows[w.Name()] = WorkflowInfo{
			Name:          w.Name(),
			Description:   w.Description(),
			Capabilities:  []string{"run", "pause", "resume", "cancel", "get_status"},
			ToolEndpoints: []string{WorkflowRunToolName(w.Name()), ToolWorkflowsGetStatus, ToolWorkflowsPause, ToolWorkflowsResume, ToolWorkflowsCancel},
			RunParameters: w.InputSchema(),
			Output:        w.OutputSchema(),
		}
	}
	return structured(out)
}

// defaultRunsLimit bounds workflows-runs-list when the client sets no limit.
const defaultRunsLimit = 100

func (s *Server) listRuns(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var in RunsListArgs
	if err := decodeArgs(req, &in); err != nil {
		return toolError(err), nil
	}
	opts := &executor.ListOptions{Workflow: in.WorkflowID, Limit: in.Limit}
	if opts.Limit <= 0 {
		opts.Limit = defaultRunsLimit
	}
	for _, st := range in.Status {
		if !executor.Status(st).Valid() {
			return toolError(fmt.Errorf("unknown status %q (want scheduled, running, paused, completed, failed, cancelled or terminated)", st)), nil
		}
		opts.Statuses = append(opts.Statuses, executor.Status(st))
	}
	out := RunsList{Runs: []RunStatus{}}
	for r, err := range s.opts.Executor.List(ctx, opts) {
		if err != nil {
			return nil, fmt.Errorf("list runs: %w", err)
		}
		out.Runs = append(out.Runs, runStatus(r))
	}
	return structured(out)
}

// startRun starts a run of the named workflow with input and answers with
// its IDs (and a link to its resource).
func (s *Server) startRun(ctx context.Context, name string, input json.RawMessage) (*mcp.CallToolResult, error) {
	known := false
	var names []string
	for _, w := range s.workflows() {
		names = append(names, w.Name())
		known = known || w.Name() == name
	}
	if !known {
		if len(names) == 0 {
			return toolError(fmt.Errorf("unknown workflow %q: this app has no workflows", name)), nil
		}
		return toolError(fmt.Errorf("unknown workflow %q (workflows: %s)", name, strings.Join(names, ", "))), nil
	}
	if len(input) == 0 || string(input) == "null" {
		input = json.RawMessage("{}")
	}
	if w, ok := s.workflow(name); ok {
		input = decodeStringPayload(input, &executor.Wait{Signal: "input", Schema: w.InputSchema()}, "input")
	}
	runID, err := s.opts.Executor.Start(ctx, name, input, nil)
	if err != nil {
		if errors.Is(err, workflow.ErrInvalidPayload) {
			return toolError(fmt.Errorf("run_parameters: %w", err)), nil
		}
		return toolError(fmt.Errorf("start workflow %q: %w", name, err)), nil
	}
	notify(ctx, "info", name, fmt.Sprintf("started run %s of workflow %s", runID, name))
	res, err := structured(RunStarted{WorkflowID: name, RunID: runID, ExecutionID: runID})
	if err != nil {
		return nil, err
	}
	res.Content = append(res.Content, &mcp.ResourceLink{URI: RunURI(runID), Name: "run " + runID, MIMEType: "application/json", Description: "status and result of the run"})
	return res, nil
}

// resolveRun finds the run a RunRef names.
func (s *Server) resolveRun(ctx context.Context, runID, workflowID string) (*executor.Run, error) {
	if runID != "" {
		r, err := s.opts.Executor.Status(ctx, runID)
		if err != nil {
			return nil, err
		}
		if workflowID != "" && r.Workflow != workflowID {
			return nil, fmt.Errorf("run %s is a run of workflow %q, not %q", runID, r.Workflow, workflowID)
		}
		return r, nil
	}
	if workflowID == "" {
		return nil, errors.New(`give "run_id" (or "workflow_id" for its latest run)`)
	}
	for r, err := range s.opts.Executor.List(ctx, &executor.ListOptions{Workflow: workflowID, Limit: 1}) {
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	return nil, fmt.Errorf("workflow %q has no runs", workflowID)
}

func (s *Server) getStatus(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var in RunRef
	if err := decodeArgs(req, &in); err != nil {
		return toolError(err), nil
	}
	r, err := s.resolveRun(ctx, in.RunID, in.WorkflowID)
	if err != nil {
		return toolError(err), nil
	}
	return structured(s.withTransitions(ctx, runStatus(r)))
}

func (s *Server) resume(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var in ResumeArgs
	if err := decodeArgs(req, &in); err != nil {
		return toolError(err), nil
	}
	r, err := s.resolveRun(ctx, in.RunID, in.WorkflowID)
	if err != nil {
		return toolError(err), nil
	}
	signal := in.SignalName
	if signal == "" {
		signal = workflow.ResumeSignal
	}
	payload := decodeStringPayload(in.Payload, r.Waiting, signal)
	if string(payload) == "null" {
		payload = nil
	}
	if err := s.opts.Executor.Resume(ctx, r.ID, payload, &executor.ResumeOptions{Signal: signal}); err != nil {
		return toolError(fmt.Errorf("resume run %s: %w", r.ID, err)), nil
	}
	status := string(r.Status)
	if now, err := s.opts.Executor.Status(ctx, r.ID); err == nil {
		status = string(now.Status)
	}
	return structured(Resumed{Resumed: true, RunID: r.ID, SignalName: signal, Status: status})
}

// decodeStringPayload turns a payload sent as a JSON string holding JSON
// (as the Python project's clients send it: payload is a string there)
// into that JSON, when the run waits on signal for something other than a
// string.
func decodeStringPayload(payload json.RawMessage, w *executor.Wait, signal string) json.RawMessage {
	var str string
	if len(payload) == 0 || payload[0] != '"' || json.Unmarshal(payload, &str) != nil {
		return payload
	}
	if w != nil && w.Signal == signal && w.Schema != nil && (w.Schema.Type == "string" || slices.Contains(w.Schema.Types, "string")) {
		return payload
	}
	t := strings.TrimSpace(str)
	if json.Valid([]byte(t)) && (strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[")) {
		return json.RawMessage(t)
	}
	return payload
}

func (s *Server) pause(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var in RunRef
	if err := decodeArgs(req, &in); err != nil {
		return toolError(err), nil
	}
	r, err := s.resolveRun(ctx, in.RunID, in.WorkflowID)
	if err != nil {
		return toolError(err), nil
	}
	switch {
	case r.Status.Terminal():
		return toolError(fmt.Errorf("cannot pause run %s: it is %s; only scheduled, running or paused runs can be paused: %w", r.ID, r.Status, executor.ErrRunFinished)), nil
	case r.PauseRequested:
		return toolError(fmt.Errorf("cannot pause run %s: it was paused already; lift the pause with workflows-resume: %w", r.ID, ErrAlreadyPaused)), nil
	case r.Waiting != nil:
		return toolError(fmt.Errorf("cannot pause run %s: it is paused already, waiting for %s on signal %q; answer it with workflows-resume: %w", r.ID, waitingFor(r.Waiting), r.Waiting.Signal, ErrAlreadyPaused)), nil
	}
	if err := s.opts.Executor.Pause(ctx, r.ID); err != nil {
		return toolError(fmt.Errorf("pause run %s: %w", r.ID, err)), nil
	}
	status := executor.StatusPaused
	if now, err := s.opts.Executor.Status(ctx, r.ID); err == nil {
		status = now.Status
	}
	return structured(Paused{Paused: true, RunID: r.ID, Status: string(status)})
}

// waitingFor describes what a paused run waits for.
func waitingFor(w *executor.Wait) string {
	if w.Kind == "input" && w.Prompt != "" {
		return fmt.Sprintf("input (%q)", truncate(w.Prompt, 80))
	}
	if w.Kind == "input" {
		return "input"
	}
	return "a signal"
}

func (s *Server) cancel(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	var in RunRef
	if err := decodeArgs(req, &in); err != nil {
		return toolError(err), nil
	}
	r, err := s.resolveRun(ctx, in.RunID, in.WorkflowID)
	if err != nil {
		return toolError(err), nil
	}
	if err := s.opts.Executor.Cancel(ctx, r.ID); err != nil {
		return toolError(fmt.Errorf("cancel run %s: %w", r.ID, err)), nil
	}
	status := string(r.Status)
	if now, err := s.opts.Executor.Status(ctx, r.ID); err == nil {
		status = string(now.Status)
	}
	return structured(Cancelled{Cancelled: true, RunID: r.ID, Status: status})
}

// Run resources.

// RunURIPrefix starts the URI of every run resource.
const RunURIPrefix = "mcp-agent://runs/"

// RunURI is the URI of a run's resource: its status and result as JSON.
// RunURI(id)+"/history" is its history of events.
func RunURI(runID string) string { return RunURIPrefix + runID }

func (s *Server) addRunResources() {
	s.mcp.AddResourceTemplate(&mcp.ResourceTemplate{
		Name:        "workflow-run",
		Title:       "Workflow run",
		Description: "A workflow run's status, and its result or error once finished (JSON, as workflows-get_status).",
		URITemplate: RunURIPrefix + "{run_id}",
		MIMEType:    "application/json",
	}, s.readRun)
	s.mcp.AddResourceTemplate(&mcp.ResourceTemplate{
		Name:        "workflow-run-history",
		Title:       "Workflow run history",
		Description: "Every event of a workflow run, oldest first (JSON).",
		URITemplate: RunURIPrefix + "{run_id}/history",
		MIMEType:    "application/json",
	}, s.readRun)
}

func (s *Server) readRun(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	uri := req.Params.URI
	rest, ok := strings.CutPrefix(uri, RunURIPrefix)
	if !ok || rest == "" {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	runID, history := strings.CutSuffix(rest, "/history")
	if strings.Contains(runID, "/") {
		return nil, mcp.ResourceNotFoundError(uri)
	}
	var v any
	if history {
		evs, err := s.opts.Executor.History(ctx, runID)
		if errors.Is(err, executor.ErrRunNotFound) {
			return nil, mcp.ResourceNotFoundError(uri)
		}
		if err != nil {
			return nil, err
		}
		v = map[string]any{"run_id": runID, "transitions": statusChanges(evs), "events": evs}
	} else {
		r, err := s.opts.Executor.Status(ctx, runID)
		if errors.Is(err, executor.ErrRunNotFound) {
			return nil, mcp.ResourceNotFoundError(uri)
		}
		if err != nil {
			return nil, err
		}
		v = s.withTransitions(ctx, runStatus(r))
	}
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return nil, err
	}
	return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "application/json", Text: string(b)}}}, nil
}
