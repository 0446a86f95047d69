package platform

// The api.RunService implementation: workflow runs and agent runs of
// deployed apps, as calls of the apps' own MCP tools (appserver's
// workflows-* tools and run resources). Run control and durability are the
// app's: its local executor journals every run in the app's state
// directory, so paused runs survive the app's and the platform's restarts.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/mcp-agent-go/mcp-agent/appserver"
	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/store"
	"github.com/mcp-agent-go/mcp-agent/executor"
)

// runStatuses are the statuses a run filter accepts.
var runStatuses = []string{"scheduled", "running", "paused", "completed", "failed", "cancelled", "terminated"}

// runError turns an app's tool error into an API error naming the app.
func runError(err error, app string) error {
	var te *toolError
	if !errors.As(err, &te) {
		return err
	}
	m := te.msg
	switch {
	case strings.Contains(m, "unknown workflow"), strings.Contains(m, "not found"), strings.Contains(m, "has no runs"):
		return api.NotFound("app %q: %s", app, m)
	case strings.Contains(m, "invalid "), strings.Contains(m, "run_parameters"), strings.Contains(m, `give "run_id"`):
		return api.Invalid("app %q: %s", app, m)
	case strings.Contains(m, executor.ErrRunFinished.Error()), strings.Contains(m, executor.ErrNotPaused.Error()),
		strings.Contains(m, executor.ErrSignalPending.Error()), strings.Contains(m, executor.ErrRunExists.Error()):
		return api.Conflict("app %q: %s", app, m)
	}
	return api.Errorf(http.StatusBadGateway, "bad_gateway", "app %q: %s", app, m)
}

// apiRun converts an app's run status.
func apiRun(app string, r appserver.RunStatus) api.Run {
	out := api.Run{
		ID: app + "." + r.RunID, App: app, RunID: r.RunID, Workflow: r.WorkflowID,
		Status: r.Status, Result: r.Result, Error: r.Error, StatusMessage: r.StatusMessage,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, EndedAt: r.EndedAt,
	}
	if r.Progress != nil {
		out.Progress, _ = json.Marshal(r.Progress)
	}
	if w := r.Waiting; w != nil {
		out.Waiting = &api.RunWait{Kind: w.Kind, Signal: w.Signal, Prompt: w.Prompt, Deadline: w.Deadline}
		if w.Schema != nil {
			out.Waiting.Schema, _ = json.Marshal(w.Schema)
		}
	}
	return out
}

// RunWorkflow implements api.RunService.
func (p *Platform) RunWorkflow(ctx context.Context, org, app, wf string, input json.RawMessage) (api.Run, error) {
	d, err := p.runningApp(org, app)
	if err != nil {
		return api.Run{}, err
	}
	var started appserver.RunStarted
	if err := p.callTool(ctx, d, appserver.ToolWorkflowsRun, appserver.RunArgs{WorkflowName: wf, RunParameters: input}, &started); err != nil {
		return api.Run{}, runError(err, app)
	}
	return p.GetRun(ctx, org, app, started.RunID)
}

// GetRun implements api.RunService.
func (p *Platform) GetRun(ctx context.Context, org, app, runID string) (api.Run, error) {
	d, err := p.runningApp(org, app)
	if err != nil {
		return api.Run{}, err
	}
	st, err := p.runStatus(ctx, d, runID)
	if err != nil {
		return api.Run{}, err
	}
	return apiRun(app, st), nil
}

// runStatus is workflows-get_status of a run of app d: its status and
// transitions.
func (p *Platform) runStatus(ctx context.Context, d *deployment, runID string) (appserver.RunStatus, error) {
	var st appserver.RunStatus
	if err := p.callTool(ctx, d, appserver.ToolWorkflowsGetStatus, appserver.RunRef{RunID: runID}, &st); err != nil {
		return st, runError(err, d.name)
	}
	return st, nil
}

// ListRuns implements api.RunService.
func (p *Platform) ListRuns(ctx context.Context, org string, q api.RunQuery) ([]api.Run, error) {
	for _, s := range q.Statuses {
		if !slices.Contains(runStatuses, s) {
			return nil, api.Invalid("unknown status %q: want %s", s, strings.Join(runStatuses, ", "))
		}
	}
	if q.Limit <= 0 {
		q.Limit = 100
	}
	var apps []string
	if q.App != "" {
		apps = []string{q.App}
	} else {
		sds, err := p.store.ListDeployments(ctx, org, &store.ListOptions{Kind: store.KindApp, DesiredState: store.DesiredRunning})
		if err != nil {
			return nil, err
		}
		for _, sd := range sds {
			apps = append(apps, sd.Name)
		}
	}
	var out []api.Run
	for _, app := range apps {
		d, err := p.runningApp(org, app)
		if err != nil {
			if q.App != "" {
				return nil, err
			}
			continue
		}
		var list appserver.RunsList
		args := appserver.RunsListArgs{WorkflowID: q.Workflow, Status: q.Statuses, Limit: q.Offset + q.Limit}
		if err := p.callTool(ctx, d, appserver.ToolWorkflowsRunsList, args, &list); err != nil {
			if q.App != "" {
				return nil, runError(err, app)
			}
			p.logger.Warn("list runs", "app", d.full, "err", err)
			continue
		}
		for _, r := range list.Runs {
			out = append(out, apiRun(app, r))
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].CreatedAt.After(out[j].CreatedAt) })
	if q.Offset >= len(out) {
		return []api.Run{}, nil
	}
	out = out[q.Offset:]
	if len(out) > q.Limit {
		out = out[:q.Limit]
	}
	// The list does not say what paused runs wait for; ask for a few.
	asked := 0
	for i, r := range out {
		if r.Status != "paused" || r.Waiting != nil || asked >= maxWaitingLookups {
			continue
		}
		asked++
		if full, err := p.GetRun(ctx, org, r.App, r.RunID); err == nil {
			out[i] = full
		}
	}
	return out, nil
}

// maxWaitingLookups bounds the status calls ListRuns makes to show what
// paused runs wait for.
const maxWaitingLookups = 20

// RunHistory implements api.RunService.
func (p *Platform) RunHistory(ctx context.Context, org, app, runID string) ([]api.RunEvent, error) {
	d, err := p.runningApp(org, app)
	if err != nil {
		return nil, err
	}
	var h struct {
		Events []executor.Event `json:"events"`
	}
	if err := p.readResource(ctx, d, appserver.RunURI(runID)+"/history", &h); err != nil {
		var te *toolError
		if errors.As(err, &te) {
			return nil, api.NotFound("app %q: run %q not found", app, runID)
		}
		return nil, err
	}
	out := make([]api.RunEvent, len(h.Events))
	for i, e := range h.Events {
		out[i] = api.RunEvent{ID: e.ID, Time: e.Time, Type: string(e.Type), Seq: e.Seq, Name: e.Name, Attempt: e.Attempt, Payload: e.Payload, Error: e.Error}
	}
	return out, nil
}

// ResumeRun implements api.RunService.
func (p *Platform) ResumeRun(ctx context.Context, org, app, runID string, req api.ResumeRequest) (api.Run, error) {
	d, err := p.runningApp(org, app)
	if err != nil {
		return api.Run{}, err
	}
	args := appserver.ResumeArgs{RunID: runID, SignalName: req.Signal, Payload: req.Payload}
	if err := p.callTool(ctx, d, appserver.ToolWorkflowsResume, args, nil); err != nil {
		return api.Run{}, runError(err, app)
	}
	return p.GetRun(ctx, org, app, runID)
}

// StopRun implements api.RunService: the run is cancelled.
func (p *Platform) StopRun(ctx context.Context, org, app, runID string) (api.Run, error) {
	d, err := p.runningApp(org, app)
	if err != nil {
		return api.Run{}, err
	}
	if err := p.callTool(ctx, d, appserver.ToolWorkflowsCancel, appserver.RunRef{RunID: runID}, nil); err != nil {
		return api.Run{}, runError(err, app)
	}
	return p.GetRun(ctx, org, app, runID)
}

// PauseRun implements api.RunService: the app's workflows-pause tool pauses
// the run through its executor (local or Temporal). Pausing a run that is
// paused already (by a pause, or waiting for input) is not an error here:
// the run is answered as it is.
func (p *Platform) PauseRun(ctx context.Context, org, app, runID string) (api.Run, error) {
	d, err := p.runningApp(org, app)
	if err != nil {
		return api.Run{}, err
	}
	if err := p.callTool(ctx, d, appserver.ToolWorkflowsPause, appserver.RunRef{RunID: runID}, nil); err != nil {
		var te *toolError
		if !errors.As(err, &te) || !strings.Contains(te.msg, appserver.ErrAlreadyPaused.Error()) {
			return api.Run{}, runError(err, app)
		}
	}
	return p.GetRun(ctx, org, app, runID)
}

// RunAgent implements api.RunService: the agent runs as its durable
// workflow (appserver.AgentWorkflow, registered by `mcp-agent serve` under
// the agent's name), so a question it asks a human pauses the run until
// POST /v1/runs/{id}/resume answers it.
func (p *Platform) RunAgent(ctx context.Context, org, app, agent string, req api.AgentRunRequest, wait time.Duration) (api.AgentRunResult, error) {
	runID, err := p.startAgent(ctx, org, app, agent, req)
	if err != nil {
		return api.AgentRunResult{}, err
	}
	run, err := p.waitRun(ctx, org, app, runID, wait)
	if err != nil {
		return api.AgentRunResult{}, err
	}
	return agentResult(app, agent, run)
}

// startAgent starts a run of agent's workflow on req and returns its ID.
func (p *Platform) startAgent(ctx context.Context, org, app, agent string, req api.AgentRunRequest) (string, error) {
	d, err := p.runningApp(org, app)
	if err != nil {
		return "", err
	}
	in, _ := json.Marshal(appserver.AgentRunInput{Message: req.Message})
	var started appserver.RunStarted
	if err := p.callTool(ctx, d, appserver.ToolWorkflowsRun, appserver.RunArgs{WorkflowName: agent, RunParameters: in}, &started); err != nil {
		var te *toolError
		if errors.As(err, &te) && strings.Contains(te.msg, "unknown workflow") {
			return "", api.NotFound("app %q has no agent %q: %s", app, agent, strings.TrimPrefix(te.msg, fmt.Sprintf("unknown workflow %q ", agent)))
		}
		return "", runError(err, app)
	}
	return started.RunID, nil
}

// agentStreamPoll bounds the interval of a streamed agent run's status
// polls.
const agentStreamPoll = 100 * time.Millisecond

// StreamAgent implements api.RunService: it starts the agent's run like
// RunAgent, then polls the run's status (every 20ms at first, then every
// agentStreamPoll) and yields each status the run went through (from its
// transitions, so a change between two polls is not lost) until the run
// ends or pauses, or wait has passed.
func (p *Platform) StreamAgent(ctx context.Context, org, app, agent string, req api.AgentRunRequest, wait time.Duration) iter.Seq2[api.AgentStreamEvent, error] {
	return func(yield func(api.AgentStreamEvent, error) bool) {
		runID, err := p.startAgent(ctx, org, app, agent, req)
		if err != nil {
			yield(api.AgentStreamEvent{}, err)
			return
		}
		deadline := time.Now().Add(wait)
		delay := 20 * time.Millisecond
		var (
			last    seenRun // the last status streamed, and the transitions seen
			started bool
		)
		for {
			d, err := p.runningApp(org, app)
			if err != nil {
				yield(api.AgentStreamEvent{}, err)
				return
			}
			st, err := p.runStatus(ctx, d, runID)
			if err != nil {
				yield(api.AgentStreamEvent{}, err)
				return
			}
			run := apiRun(app, st)
			steps, n := newTransitions(st.Transitions, last, started)
			if steps == nil && run.Status != last.status {
				steps = []appserver.StatusChange{{Status: run.Status}}
			}
			for i, c := range steps {
				cur := run
				if i < len(steps)-1 || c.Status != run.Status {
					cur = apiRun(app, transitionStatus(st, c))
				}
				ev := api.AgentStreamEvent{Type: api.AgentStatus, Run: run.ID, Status: c.Status, Previous: last.status}
				if !started {
					ev.Type, ev.Previous, started = api.AgentStarted, "", true
				}
				if !yield(ev, nil) {
					return
				}
				if cur.Status == "paused" && cur.Waiting != nil && cur.Waiting.Kind == "input" {
					if !yield(api.AgentStreamEvent{Type: api.AgentHumanInput, Run: run.ID, Status: cur.Status, Waiting: cur.Waiting}, nil) {
						return
					}
				}
				last.status = c.Status
			}
			last.changes = n
			if run.Terminal() || run.Status == "paused" || !time.Now().Before(deadline) {
				res, err := agentResult(app, agent, run)
				if err != nil {
					yield(api.AgentStreamEvent{}, err)
					return
				}
				yield(api.AgentStreamEvent{Type: api.AgentResult, Run: run.ID, Status: run.Status, Result: &res}, nil)
				return
			}
			t := time.NewTimer(min(delay, time.Until(deadline)))
			select {
			case <-ctx.Done():
				t.Stop()
				yield(api.AgentStreamEvent{}, ctx.Err())
				return
			case <-t.C:
			}
			delay = min(delay*2, agentStreamPoll)
		}
	}
}

// agentOutput is the result of an agent workflow (appserver.AgentRunOutput)
// as the platform reads it: the usage is decoded into the API's type, and
// is absent from apps that do not report it.
type agentOutput struct {
	Answer    string                    `json:"answer"`
	Exchanges []appserver.HumanExchange `json:"exchanges"`
	Usage     *api.Usage                `json:"usage"`
}

// agentResult is the API's answer of an agent run in its current state.
func agentResult(app, agent string, run api.Run) (api.AgentRunResult, error) {
	res := api.AgentRunResult{Run: run.ID, Status: run.Status, Waiting: run.Waiting, Error: run.Error}
	if run.Status == "completed" {
		var out agentOutput
		if err := json.Unmarshal(run.Result, &out); err != nil {
			return res, fmt.Errorf("app %s: agent %s: decode its result: %w", app, agent, err)
		}
		res.Answer, res.Usage = out.Answer, out.Usage
		for _, e := range out.Exchanges {
			res.Exchanges = append(res.Exchanges, api.AgentExchange{Question: e.Question, Answer: e.Answer})
		}
	}
	return res, nil
}

// waitRun polls a run until it has finished, waits for input, or wait
// has passed.
func (p *Platform) waitRun(ctx context.Context, org, app, runID string, wait time.Duration) (api.Run, error) {
	deadline := time.Now().Add(wait)
	delay := 20 * time.Millisecond
	for {
		run, err := p.GetRun(ctx, org, app, runID)
		if err != nil {
			return run, err
		}
		if run.Terminal() || (run.Status == "paused" && run.Waiting != nil) || !time.Now().Before(deadline) {
			return run, nil
		}
		t := time.NewTimer(min(delay, time.Until(deadline)))
		select {
		case <-ctx.Done():
			t.Stop()
			return run, ctx.Err()
		case <-t.C:
		}
		delay = min(delay*2, 500*time.Millisecond)
	}
}

var _ api.RunService = (*Platform)(nil)
