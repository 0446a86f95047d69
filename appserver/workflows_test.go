package appserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/appserver"
	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

type draftIn struct {
	Title string `json:"title" jsonschema:"the post's title"`
}

type approval struct {
	Approved bool `json:"approved"`
}

type draftOut struct {
	Title    string `json:"title"`
	Approved bool   `json:"approved"`
}

// approve is a human-input workflow: it pauses until resumed with an
// approval.
var approve = workflow.Define("approve", func(wctx workflow.Context, in draftIn) (draftOut, error) {
	ok, err := workflow.RequestInput[approval](wctx, "Publish "+in.Title+"?", nil)
	if err != nil {
		return draftOut{}, err
	}
	return draftOut{Title: in.Title, Approved: ok.Approved}, nil
}, &workflow.DefineOptions{Description: "Ask before publishing."})

// waitForever waits on a signal nobody sends.
var waitForever = workflow.Define("wait_forever", func(wctx workflow.Context, _ struct{}) (string, error) {
	_, _, err := workflow.WaitSignal[string](wctx, "never", 0)
	return "", err
}, nil)

func TestWorkflowToolsRunGetStatusResume(t *testing.T) {
	f := newFixture(t, nil, nil)
	ex := executorFor(t, approve, waitForever)
	_, cs := serve(t, f, &appserver.Options{Agents: []*agent.Agent{}, Executor: ex}, nil)

	got := toolNames(t, cs)
	slices.Sort(got)
	want := []string{"workflows-approve-run", "workflows-cancel", "workflows-get_status", "workflows-list", "workflows-pause", "workflows-resume",
		"workflows-run", "workflows-runs-list", "workflows-wait_forever-run"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tools (-want +got):\n%s", diff)
	}

	var list appserver.WorkflowsList
	decode(t, callOK(t, cs, appserver.ToolWorkflowsList, nil), &list)
	info := list.Workflows["approve"]
	if info.Description != "Ask before publishing." || info.RunParameters == nil || info.RunParameters.Properties["title"] == nil {
		t.Errorf("workflows-list approve = %+v, want its description and input schema", info)
	}

	var started appserver.RunStarted
	res := callOK(t, cs, appserver.ToolWorkflowsRun, map[string]any{"workflow_name": "approve", "run_parameters": map[string]any{"title": "Otters"}})
	decode(t, res, &started)
	if started.WorkflowID != "approve" || started.RunID == "" || started.ExecutionID != started.RunID {
		t.Fatalf("workflows-run = %+v", started)
	}
	if link, ok := res.Content[len(res.Content)-1].(*mcp.ResourceLink); !ok || link.URI != appserver.RunURI(started.RunID) {
		t.Errorf("workflows-run content = %v, want a link to the run's resource last", res.Content)
	}

	st := waitStatus(t, cs, started.RunID, "paused")
	if st.Waiting == nil || st.Waiting.Prompt != "Publish Otters?" || st.Waiting.Signal != "resume" {
		t.Fatalf("paused run waits for %+v, want the prompt on the resume signal", st.Waiting)
	}
	// A payload that does not match the schema is refused and changes nothing.
	bad := call(t, cs, appserver.ToolWorkflowsResume, map[string]any{"run_id": started.RunID, "payload": map[string]any{"approved": "yes"}})
	if !bad.IsError || !strings.Contains(text(bad), "approved") {
		t.Errorf("bad payload: %q (error %v), want an error naming the field", text(bad), bad.IsError)
	}
	// The Python project's clients send the payload as a string of JSON.
	var resumed appserver.Resumed
	decode(t, callOK(t, cs, appserver.ToolWorkflowsResume, map[string]any{"run_id": started.RunID, "payload": `{"approved": true}`}), &resumed)
	if !resumed.Resumed || resumed.SignalName != "resume" {
		t.Errorf("workflows-resume = %+v", resumed)
	}
	st = waitStatus(t, cs, started.RunID, "completed")
	var out draftOut
	if err := json.Unmarshal(st.Result, &out); err != nil || !out.Approved || out.Title != "Otters" {
		t.Errorf("result = %s (%v), want approved Otters", st.Result, err)
	}

	// The latest run of a workflow, by workflow_id alone.
	var latest appserver.RunStatus
	decode(t, callOK(t, cs, appserver.ToolWorkflowsGetStatus, map[string]any{"workflow_id": "approve"}), &latest)
	if latest.RunID != started.RunID {
		t.Errorf("latest run of approve = %s, want %s", latest.RunID, started.RunID)
	}
}

func TestWorkflowRunToolAndCancelAndRunsList(t *testing.T) {
	f := newFixture(t, nil, nil)
	ex := executorFor(t, approve, waitForever)
	_, cs := serve(t, f, &appserver.Options{Agents: []*agent.Agent{}, Executor: ex}, nil)

	var a, b appserver.RunStarted
	decode(t, callOK(t, cs, "workflows-approve-run", map[string]any{"run_parameters": map[string]any{"title": "A"}}), &a)
	decode(t, callOK(t, cs, "workflows-wait_forever-run", map[string]any{"run_parameters": map[string]any{}}), &b)
	waitStatus(t, cs, b.RunID, "paused")
	var c appserver.Cancelled
	decode(t, callOK(t, cs, appserver.ToolWorkflowsCancel, map[string]any{"run_id": b.RunID}), &c)
	if !c.Cancelled {
		t.Errorf("workflows-cancel = %+v", c)
	}
	waitStatus(t, cs, b.RunID, "cancelled")

	var runs appserver.RunsList
	decode(t, callOK(t, cs, appserver.ToolWorkflowsRunsList, nil), &runs)
	var ids []string
	for _, r := range runs.Runs {
		ids = append(ids, r.RunID)
	}
	if diff := cmp.Diff([]string{b.RunID, a.RunID}, ids); diff != "" {
		t.Errorf("runs, newest first (-want +got):\n%s", diff)
	}
	decode(t, callOK(t, cs, appserver.ToolWorkflowsRunsList, map[string]any{"status": []string{"cancelled"}}), &runs)
	if len(runs.Runs) != 1 || runs.Runs[0].RunID != b.RunID {
		t.Errorf("cancelled runs = %+v, want only %s", runs.Runs, b.RunID)
	}
}

func TestWorkflowToolErrors(t *testing.T) {
	f := newFixture(t, nil, nil)
	ex := executorFor(t, approve)
	_, cs := serve(t, f, &appserver.Options{Agents: []*agent.Agent{}, Executor: ex}, nil)
	for _, c := range []struct {
		tool string
		args map[string]any
		want string
	}{
		{appserver.ToolWorkflowsRun, map[string]any{"workflow_name": "nope"}, `unknown workflow "nope" (workflows: approve)`},
		{appserver.ToolWorkflowsRun, map[string]any{}, `"workflow_name" is required`},
		{appserver.ToolWorkflowsRun, map[string]any{"workflow_name": "approve", "run_parameters": map[string]any{"title": 3}}, "run_parameters: "},
		{appserver.ToolWorkflowsGetStatus, map[string]any{}, `give "run_id"`},
		{appserver.ToolWorkflowsGetStatus, map[string]any{"run_id": "run-nope"}, "run-nope"},
		{appserver.ToolWorkflowsGetStatus, map[string]any{"workflow_id": "approve"}, `workflow "approve" has no runs`},
		{appserver.ToolWorkflowsResume, map[string]any{"run_id": "run-nope", "payload": "x"}, "run-nope"},
		{appserver.ToolWorkflowsCancel, map[string]any{"run_id": "run-nope"}, "run-nope"},
		{appserver.ToolWorkflowsRunsList, map[string]any{"status": []string{"done"}}, `unknown status "done"`},
	} {
		res := call(t, cs, c.tool, c.args)
		if !res.IsError || !strings.Contains(text(res), c.want) {
			t.Errorf("%s %v: %q (error %v), want an error containing %q", c.tool, c.args, text(res), res.IsError, c.want)
		}
	}
}

func TestRunResources(t *testing.T) {
	f := newFixture(t, nil, nil)
	ex := executorFor(t, approve)
	_, cs := serve(t, f, &appserver.Options{Agents: []*agent.Agent{}, Executor: ex}, nil)
	var started appserver.RunStarted
	decode(t, callOK(t, cs, "workflows-approve-run", map[string]any{"run_parameters": map[string]any{"title": "R"}}), &started)
	waitStatus(t, cs, started.RunID, "paused")

	var templates []string
	for rt, err := range cs.ResourceTemplates(testContext(t), nil) {
		if err != nil {
			t.Fatal(err)
		}
		templates = append(templates, rt.URITemplate)
	}
	if diff := cmp.Diff([]string{"mcp-agent://runs/{run_id}", "mcp-agent://runs/{run_id}/history"}, templates); diff != "" {
		t.Errorf("resource templates (-want +got):\n%s", diff)
	}

	read := func(uri string) string {
		res, err := cs.ReadResource(testContext(t), &mcp.ReadResourceParams{URI: uri})
		if err != nil {
			t.Fatalf("read %s: %v", uri, err)
		}
		return res.Contents[0].Text
	}
	var st appserver.RunStatus
	if err := json.Unmarshal([]byte(read(appserver.RunURI(started.RunID))), &st); err != nil || st.Status != "paused" {
		t.Errorf("run resource: %+v (%v), want the paused run", st, err)
	}
	var hist struct {
		Events []struct {
			Type string `json:"type"`
		} `json:"events"`
	}
	if err := json.Unmarshal([]byte(read(appserver.RunURI(started.RunID)+"/history")), &hist); err != nil || len(hist.Events) == 0 || hist.Events[0].Type != "run_scheduled" {
		t.Errorf("history resource: %+v (%v), want events from run_scheduled", hist, err)
	}
	_, err := cs.ReadResource(testContext(t), &mcp.ReadResourceParams{URI: appserver.RunURI("run-nope")})
	if err == nil || !strings.Contains(err.Error(), "not found") {
		t.Errorf("unknown run: %v, want resource not found", err)
	}
}

func TestAgentWorkflowPausesForAHumanAndResumes(t *testing.T) {
	f := newFixture(t, nil, nil)
	helper := f.agent(t, "helper")
	p := priced(t, fmt.Sprintf(`
  - {match: plan, tool_calls: [{name: %s, arguments: {prompt: "Which day?"}}], usage: {input: 100, output: 10}}
  - {match: friday, text: "Release on Friday.", usage: {input: 200, output: 20}}
`, agent.HumanInputToolName))
	ex := executorFor(t, appserver.AgentWorkflow(helper, llmOn(p), nil))
	_, cs := serve(t, f, &appserver.Options{Agents: []*agent.Agent{}, Executor: ex}, nil)
	var started appserver.RunStarted
	decode(t, callOK(t, cs, "workflows-helper-run", map[string]any{"run_parameters": map[string]any{"message": "plan the release"}}), &started)
	st := waitStatus(t, cs, started.RunID, "paused")
	if st.Waiting == nil || st.Waiting.Prompt != "Which day?" {
		t.Fatalf("waiting = %+v, want the agent's question", st.Waiting)
	}
	callOK(t, cs, appserver.ToolWorkflowsResume, map[string]any{"run_id": started.RunID, "payload": "Friday"})
	st = waitStatus(t, cs, started.RunID, "completed")
	var out appserver.AgentRunOutput
	if err := json.Unmarshal(st.Result, &out); err != nil {
		t.Fatal(err)
	}
	// Usage is the sum over the run's two turns (before and after the
	// pause), named after the workflow.
	want := appserver.AgentRunOutput{
		Answer:    "Release on Friday.",
		Exchanges: []appserver.HumanExchange{{Question: "Which day?", Answer: "Friday"}},
		Usage:     usageNode("helper", 2, 300, 30),
	}
	if diff := cmp.Diff(want, out, approx); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
}

type countArgs struct {
	Text string `json:"text" jsonschema:"the text"`
}

type counted struct {
	Words int `json:"words"`
}

func TestAppToolsSyncAndAsync(t *testing.T) {
	f := newFixture(t, nil, nil)
	ex := executorFor(t, approve)
	var mu sync.Mutex
	var progressed []float64
	count := appserver.NewTool("count", "Count words.", func(ctx context.Context, in countArgs) (counted, error) {
		if in.Text == "" {
			return counted{}, errors.New("nothing to count")
		}
		appserver.Progress(ctx, 1, 2, "counting")
		appserver.Progress(ctx, 1, 2, "not increasing: dropped")
		appserver.Progress(ctx, 2, 2, "counted")
		return counted{Words: len(strings.Fields(in.Text))}, nil
	})
	shout := appserver.NewTool("shout", "Upper-case a text.", func(_ context.Context, in countArgs) (string, error) { return strings.ToUpper(in.Text), nil })
	_, cs := serve(t, f, &appserver.Options{
		Agents:   []*agent.Agent{},
		Executor: ex,
		Tools:    []*appserver.Tool{count, shout, appserver.NewAsyncTool("approve_async", "", approve)},
	}, &mcp.ClientOptions{ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
		mu.Lock()
		progressed = append(progressed, r.Params.Progress)
		mu.Unlock()
	}})

	params := &mcp.CallToolParams{Name: "count", Arguments: map[string]any{"text": "one two three"}}
	params.SetProgressToken(7)
	res, err := cs.CallTool(testContext(t), params)
	if err != nil || res.IsError {
		t.Fatalf("count: %v %q", err, text(res))
	}
	var n counted
	decode(t, res, &n)
	if n.Words != 3 {
		t.Errorf("count = %d, want 3", n.Words)
	}
	waitFor(t, "two progress notifications", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(progressed) >= 2, fmt.Sprint(progressed)
	})
	mu.Lock()
	if diff := cmp.Diff([]float64{1, 2}, progressed); diff != "" {
		t.Errorf("progress (-want +got):\n%s", diff)
	}
	mu.Unlock()
	for _, c := range []struct {
		args any
		want string
	}{
		{map[string]any{"text": ""}, "nothing to count"},
		{map[string]any{}, "text"},
		{map[string]any{"text": 3}, "text"},
	} {
		res := call(t, cs, "count", c.args)
		if !res.IsError || !strings.Contains(text(res), c.want) {
			t.Errorf("count %v: %q (error %v), want an error containing %q", c.args, text(res), res.IsError, c.want)
		}
	}
	if res := callOK(t, cs, "shout", map[string]any{"text": "hi"}); text(res) != "HI" || res.StructuredContent != nil {
		t.Errorf("shout = %q, structured %v; want plain text HI", text(res), res.StructuredContent)
	}

	var started appserver.RunStarted
	decode(t, callOK(t, cs, "approve_async", map[string]any{"title": "Async"}), &started)
	if started.WorkflowID != "approve" {
		t.Errorf("async tool started %+v, want a run of approve", started)
	}
	waitStatus(t, cs, started.RunID, "paused")
}

// twoSteps runs step "first", which waits for the test, then step
// "second".
type twoSteps struct {
	started  chan struct{}
	release  chan struct{}
	workflow *workflow.Definition[struct{}, string]
}

func newTwoSteps() *twoSteps {
	ts := &twoSteps{started: make(chan struct{}), release: make(chan struct{})}
	var once sync.Once
	ts.workflow = workflow.Define("two_steps", func(wctx workflow.Context, _ struct{}) (string, error) {
		if _, err := workflow.Step(wctx, "first", func(ctx context.Context, _ workflow.StepContext) (string, error) {
			once.Do(func() { close(ts.started) })
			select {
			case <-ts.release:
				return "one", nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}, nil); err != nil {
			return "", err
		}
		return workflow.Step(wctx, "second", func(context.Context, workflow.StepContext) (string, error) { return "two", nil }, nil)
	}, nil)
	return ts
}

func TestWorkflowsPauseStopsARunUntilResumed(t *testing.T) {
	f := newFixture(t, nil, nil)
	ts := newTwoSteps()
	ex := executorFor(t, ts.workflow, approve)
	_, cs := serve(t, f, &appserver.Options{Agents: []*agent.Agent{}, Executor: ex}, nil)
	if !slices.Contains(toolNames(t, cs), appserver.ToolWorkflowsPause) {
		t.Fatalf("tools %v, want %s", toolNames(t, cs), appserver.ToolWorkflowsPause)
	}

	var started appserver.RunStarted
	decode(t, callOK(t, cs, "workflows-two_steps-run", map[string]any{"run_parameters": map[string]any{}}), &started)
	select {
	case <-ts.started:
	case <-testContext(t).Done():
		t.Fatal("step first never started")
	}
	var paused appserver.Paused
	decode(t, callOK(t, cs, appserver.ToolWorkflowsPause, map[string]any{"run_id": started.RunID}), &paused)
	if want := (appserver.Paused{Paused: true, RunID: started.RunID, Status: "paused"}); paused != want {
		t.Errorf("workflows-pause = %+v, want %+v", paused, want)
	}
	again := call(t, cs, appserver.ToolWorkflowsPause, map[string]any{"run_id": started.RunID})
	if !again.IsError || !strings.Contains(text(again), "paused already") || !strings.Contains(text(again), "workflows-resume") {
		t.Errorf("second pause: %q (error %v), want an already-paused error pointing to workflows-resume", text(again), again.IsError)
	}

	// The step in flight finishes; the next one waits for the resume.
	close(ts.release)
	history := func() []executor.Event {
		evs, err := ex.History(testContext(t), started.RunID)
		if err != nil {
			t.Fatal(err)
		}
		return evs
	}
	waitFor(t, "step first to complete", func() (bool, string) {
		evs := history()
		return slices.ContainsFunc(evs, func(e executor.Event) bool { return e.Type == executor.EventStepCompleted && e.Name == "first" }), fmt.Sprint(len(evs))
	})
	if st := waitStatus(t, cs, started.RunID, "paused"); st.Completed {
		t.Fatalf("status %+v", st)
	}
	callOK(t, cs, appserver.ToolWorkflowsResume, map[string]any{"run_id": started.RunID})
	st := waitStatus(t, cs, started.RunID, "completed")
	if string(st.Result) != `"two"` {
		t.Errorf("result %s, want \"two\"", st.Result)
	}
	// The second step started only after the resume.
	var order []string
	for _, e := range history() {
		switch {
		case e.Type == executor.EventPauseRequested, e.Type == executor.EventResumed:
			order = append(order, string(e.Type))
		case e.Type == executor.EventStepStarted || e.Type == executor.EventStepCompleted:
			order = append(order, string(e.Type)+" "+e.Name)
		}
	}
	want := []string{"step_started first", "pause_requested", "step_completed first", "resumed", "step_started second", "step_completed second"}
	if diff := cmp.Diff(want, order); diff != "" {
		t.Errorf("history (-want +got):\n%s", diff)
	}

	// A finished run cannot be paused.
	done := call(t, cs, appserver.ToolWorkflowsPause, map[string]any{"run_id": started.RunID})
	if !done.IsError || !strings.Contains(text(done), "it is completed") || !strings.Contains(text(done), executor.ErrRunFinished.Error()) {
		t.Errorf("pause of a completed run: %q (error %v), want a run-has-finished error", text(done), done.IsError)
	}
}

func TestWorkflowsPauseErrors(t *testing.T) {
	f := newFixture(t, nil, nil)
	ex := executorFor(t, approve)
	_, cs := serve(t, f, &appserver.Options{Agents: []*agent.Agent{}, Executor: ex}, nil)
	var waiting appserver.RunStarted
	decode(t, callOK(t, cs, "workflows-approve-run", map[string]any{"run_parameters": map[string]any{"title": "Otters"}}), &waiting)
	waitStatus(t, cs, waiting.RunID, "paused")
	for _, c := range []struct {
		args map[string]any
		want string
	}{
		{map[string]any{}, `give "run_id"`},
		{map[string]any{"run_id": "run-nope"}, `run "run-nope" not found`},
		{map[string]any{"run_id": waiting.RunID}, `paused already, waiting for input ("Publish Otters?") on signal "resume"; answer it with workflows-resume`},
	} {
		res := call(t, cs, appserver.ToolWorkflowsPause, c.args)
		if !res.IsError || !strings.Contains(text(res), c.want) {
			t.Errorf("pause %v: %q (error %v), want an error containing %q", c.args, text(res), res.IsError, c.want)
		}
	}
}

// changes formats a run's transitions as "status event [detail]", checking
// that each has a time and that times do not go back.
func changes(t *testing.T, st appserver.RunStatus) []string {
	t.Helper()
	var out []string
	for i, c := range st.Transitions {
		if c.At.IsZero() || (i > 0 && c.At.Before(st.Transitions[i-1].At)) {
			t.Errorf("transition %d %+v: time missing or earlier than the one before", i, c)
		}
		s := c.Status + " " + c.Event
		if c.Detail != "" {
			s += " " + c.Detail
		}
		out = append(out, s)
	}
	return out
}

// TestStatusTransitionsShowWhatHappenedBetweenPolls: a poller that reads a
// run's status before a pause and after the resume (and the end) still sees
// both, with their times, in workflows-get_status and the history resource.
func TestStatusTransitionsShowWhatHappenedBetweenPolls(t *testing.T) {
	f := newFixture(t, nil, nil)
	ts := newTwoSteps()
	ex := executorFor(t, ts.workflow, approve, waitForever)
	_, cs := serve(t, f, &appserver.Options{Agents: []*agent.Agent{}, Executor: ex}, nil)
	start := func(workflow string, params map[string]any) string {
		var started appserver.RunStarted
		decode(t, callOK(t, cs, "workflows-"+workflow+"-run", map[string]any{"run_parameters": params}), &started)
		return started.RunID
	}

	// Paused by workflows-pause, resumed by workflows-resume.
	paused := start("two_steps", map[string]any{})
	<-ts.started
	callOK(t, cs, appserver.ToolWorkflowsPause, map[string]any{"run_id": paused})
	close(ts.release)
	callOK(t, cs, appserver.ToolWorkflowsResume, map[string]any{"run_id": paused})
	// Paused for input, resumed with the answer.
	asked := start("approve", map[string]any{"title": "Otters"})
	waitStatus(t, cs, asked, "paused")
	callOK(t, cs, appserver.ToolWorkflowsResume, map[string]any{"run_id": asked, "payload": map[string]any{"approved": true}})
	// Waiting on a signal, cancelled.
	cancelled := start("wait_forever", map[string]any{})
	waitStatus(t, cs, cancelled, "paused")
	callOK(t, cs, appserver.ToolWorkflowsCancel, map[string]any{"run_id": cancelled})

	for _, c := range []struct {
		runID, final string
		want         []string
	}{
		{paused, "completed", []string{"scheduled run_scheduled", "running run_started", "paused pause_requested", "running resumed", "completed run_completed"}},
		{asked, "completed", []string{"scheduled run_scheduled", "running run_started", "paused input_requested Publish Otters?", "running signal_delivered signal resume", "completed run_completed"}},
		{cancelled, "cancelled", []string{"scheduled run_scheduled", "running run_started", "paused wait_started signal never", "paused cancel_requested", `cancelled run_cancelled waiting for "never": workflow run cancelled`}},
	} {
		st := waitStatus(t, cs, c.runID, c.final)
		if diff := cmp.Diff(c.want, changes(t, st)); diff != "" {
			t.Errorf("run %s transitions (-want +got):\n%s", c.runID, diff)
		}
	}

	// The history resource has them too, next to the raw events.
	res, err := cs.ReadResource(testContext(t), &mcp.ReadResourceParams{URI: appserver.RunURI(paused) + "/history"})
	if err != nil {
		t.Fatal(err)
	}
	var hist struct {
		Transitions []appserver.StatusChange `json:"transitions"`
		Events      []executor.Event         `json:"events"`
	}
	if err := json.Unmarshal([]byte(res.Contents[0].Text), &hist); err != nil {
		t.Fatal(err)
	}
	if got := changes(t, appserver.RunStatus{Transitions: hist.Transitions}); len(got) != 5 || got[2] != "paused pause_requested" || len(hist.Events) <= len(got) {
		t.Errorf("history resource: transitions %v, %d events; want the 5 transitions and every event", got, len(hist.Events))
	}
}
