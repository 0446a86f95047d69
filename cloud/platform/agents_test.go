package platform_test

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/appserver"
	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/client"
)

// pricedReplay is the approval example's script on a priced model name
// with usage on every turn: 1000 input (200 of them cached) and 100 output
// tokens.
const pricedReplay = `model: gpt-4o-mini
loop: true
turns:
  - match: publish
    tool_calls:
      - name: __human_input__
        arguments: {prompt: "Publish this post? Answer yes or no."}
    usage: {input: 1000, output: 100, cache_read: 200}
  - match: /^\s*yes/
    text: Published.
    usage: {input: 1000, output: 100, cache_read: 200}
  - match: /^\s*no/
    text: Not published.
    usage: {input: 1000, output: 100, cache_read: 200}
`

// pricedApp deploys the approval example on pricedReplay as name.
func pricedApp(t *testing.T, c *client.Client, name string) {
	t.Helper()
	dir := exampleApp(t)
	if err := os.WriteFile(filepath.Join(dir, "approval.replay.yaml"), []byte(pricedReplay), 0o644); err != nil {
		t.Fatal(err)
	}
	deployApp(t, c, name, dir)
	waitApp(t, c, name, "running")
}

// appReportsUsage reports whether the appserver's agent workflow puts its
// usage in its result (the field the platform passes through).
func appReportsUsage() bool {
	_, ok := reflect.TypeFor[appserver.AgentRunOutput]().FieldByName("Usage")
	return ok
}

func TestAgentRunUsage(t *testing.T) {
	e := startPlatform(t, t.TempDir())
	c := e.client()
	ctx := testCtx(t, 2*time.Minute)
	pricedApp(t, c, "approval")

	// One turn.
	ar, err := c.RunAgent(ctx, "approval", "publisher", "yes", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if ar.Status != "completed" || ar.Answer != "Published." {
		t.Fatalf("agent run: %+v", ar)
	}
	if !appReportsUsage() {
		t.Skip("the appserver does not report usage yet")
	}
	if ar.Usage == nil {
		t.Fatalf("agent run without usage: %+v", ar)
	}
	want := api.Tokens{InputTokens: 1000, OutputTokens: 100, CacheReadTokens: 200}
	if diff := cmp.Diff(want, ar.Usage.Tokens); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
	// gpt-4o-mini: $0.15/M input, $0.075/M cached input, $0.60/M output.
	wantUSD := (800*0.15 + 200*0.075 + 100*0.60) / 1e6
	if ar.Usage.Calls != 1 || math.Abs(ar.Usage.Cost.USD-wantUSD) > 1e-12 || len(ar.Usage.Cost.UnknownModels) != 0 {
		t.Errorf("usage: %+v, want 1 call costing $%g", ar.Usage, wantUSD)
	}

	// Two turns, the run paused for a human between them: the usage is the
	// sum over the run.
	ar, err = c.RunAgent(ctx, "approval", "publisher", "publish the launch post", 30*time.Second)
	if err != nil || ar.Status != "paused" {
		t.Fatalf("agent run: %+v %v", ar, err)
	}
	if ar.Usage != nil {
		t.Errorf("a paused run reports usage: %+v", ar.Usage)
	}
	if _, err := c.ResumeRun(ctx, ar.Run, api.ResumeRequest{Payload: json.RawMessage(`{"answer":"yes"}`)}); err != nil {
		t.Fatal(err)
	}
	run := waitRun(t, c, ar.Run, nil)
	var out struct {
		Usage api.Usage `json:"usage"`
	}
	if err := json.Unmarshal(run.Result, &out); err != nil {
		t.Fatal(err)
	}
	if want := (api.Tokens{InputTokens: 2000, OutputTokens: 200, CacheReadTokens: 400}); out.Usage.Tokens != want || out.Usage.Calls != 2 {
		t.Errorf("usage of a resumed run: %+v, want 2 calls, %+v", out.Usage, want)
	}
}

// streamAgent collects a streamed agent run's events.
func streamAgent(t *testing.T, c *client.Client, app, agent, message string) []api.AgentStreamEvent {
	t.Helper()
	var evs []api.AgentStreamEvent
	for ev, err := range c.StreamAgent(testCtx(t, time.Minute), app, agent, message, 30*time.Second) {
		if err != nil {
			t.Fatalf("stream %s.%s after %+v: %v", app, agent, evs, err)
		}
		evs = append(evs, ev)
	}
	return evs
}

func TestAgentRunStream(t *testing.T) {
	e := startPlatform(t, t.TempDir())
	c := e.client()
	ctx := testCtx(t, 2*time.Minute)
	pricedApp(t, c, "approval")

	// The agent asks: the stream shows the run, its question, and ends
	// with the paused result.
	evs := streamAgent(t, c, "approval", "publisher", "publish the launch post")
	if len(evs) < 3 {
		t.Fatalf("events: %+v", evs)
	}
	first, last := evs[0], evs[len(evs)-1]
	if first.Type != api.AgentStarted || !strings.HasPrefix(first.Run, "approval.run-") {
		t.Errorf("first event: %+v", first)
	}
	var asked *api.AgentStreamEvent
	for i, ev := range evs {
		if ev.Run != first.Run {
			t.Errorf("event %d of another run: %+v", i, ev)
		}
		if ev.Type == api.AgentHumanInput {
			asked = &evs[i]
		}
	}
	if asked == nil || asked.Waiting == nil || asked.Waiting.Prompt != "Publish this post? Answer yes or no." || asked.Status != "paused" {
		t.Errorf("human_input event: %+v in %+v", asked, evs)
	}
	if last.Type != api.AgentResult || last.Status != "paused" || last.Result == nil || last.Result.Waiting == nil || last.Result.Run != first.Run {
		t.Errorf("last event: %+v", last)
	}
	if _, err := c.ResumeRun(ctx, first.Run, api.ResumeRequest{Payload: json.RawMessage(`"yes"`)}); err != nil {
		t.Fatal(err)
	}

	// An answer at once: started, status changes, the result with the
	// answer and usage.
	evs = streamAgent(t, c, "approval", "publisher", "yes")
	last = evs[len(evs)-1]
	if evs[0].Type != api.AgentStarted || last.Type != api.AgentResult || last.Status != "completed" || last.Result.Answer != "Published." {
		t.Fatalf("events: %+v", evs)
	}
	if appReportsUsage() && (last.Result.Usage == nil || last.Result.Usage.Tokens.OutputTokens != 100) {
		t.Errorf("result usage: %+v", last.Result.Usage)
	}
	prev := evs[0].Status
	for _, ev := range evs[1 : len(evs)-1] {
		if ev.Type != api.AgentStatus || ev.Previous != prev || ev.Status == prev {
			t.Errorf("status event %+v after status %s", ev, prev)
		}
		prev = ev.Status
	}

	// Errors before the run starts are plain API errors.
	for _, tc := range []struct {
		app, agent string
		status     int
		msg        string
	}{
		{"approval", "nobody", 404, `app "approval" has no agent "nobody"`},
		{"nope", "publisher", 404, `app "nope" not found`},
	} {
		var err error
		for _, err = range c.StreamAgent(ctx, tc.app, tc.agent, "hi", 0) {
			break
		}
		apiErr(t, err, tc.status, tc.msg)
	}

	// Raw SSE with ?stream=1: event names and increasing IDs.
	st, body := e.rawSSE("/v1/agents/approval.publisher/run?stream=1", `{"message":"no"}`)
	if st != 200 || !strings.Contains(body, "id: 1\nevent: started\n") || !strings.Contains(body, "event: result\ndata: ") || !strings.Contains(body, `"answer":"Not published."`) {
		t.Errorf("raw stream: %d\n%s", st, body)
	}
}

func TestAgentRunControl(t *testing.T) {
	e := startPlatform(t, t.TempDir())
	c := e.client()
	ctx := testCtx(t, 2*time.Minute)
	pricedApp(t, c, "approval")
	const agentRuns = "/v1/agents/approval.publisher/"

	// No run to act on.
	_, err := c.ResumeAgent(ctx, "approval", "publisher", api.AgentRunControl{Payload: json.RawMessage(`"yes"`)})
	apiErr(t, err, 404, "agent approval.publisher has no paused run to resume: start one with POST /v1/agents/approval.publisher/run")
	_, err = c.PauseAgent(ctx, "approval", "publisher", "")
	apiErr(t, err, 404, "agent approval.publisher has no scheduled or running run to pause")
	_, err = c.StopAgent(ctx, "approval", "publisher", "")
	apiErr(t, err, 404, "agent approval.publisher has no active run to stop")

	// Two runs wait for an answer: resume must be told which.
	paused := func(msg string) string {
		t.Helper()
		ar, err := c.RunAgent(ctx, "approval", "publisher", msg, 30*time.Second)
		if err != nil || ar.Status != "paused" || ar.Waiting == nil {
			t.Fatalf("agent run: %+v %v", ar, err)
		}
		return ar.Run
	}
	one, two := paused("publish one"), paused("publish two")
	_, err = c.ResumeAgent(ctx, "approval", "publisher", api.AgentRunControl{Payload: json.RawMessage(`"yes"`)})
	apiErr(t, err, 409, "agent approval.publisher has 2 paused runs: ")
	for _, id := range []string{one, two} {
		if err == nil || !strings.Contains(err.Error(), id) {
			t.Errorf("the conflict does not list %s: %v", id, err)
		}
	}
	// Named, by full ID or run ID alone.
	r, err := c.ResumeAgent(ctx, "approval", "publisher", api.AgentRunControl{Run: one, Payload: json.RawMessage(`"yes"`)})
	if err != nil || r.ID != one {
		t.Fatalf("resume %s: %+v %v", one, r, err)
	}
	if r := waitRun(t, c, one, nil); r.Status != "completed" || !strings.Contains(string(r.Result), `"answer":"Published."`) {
		t.Errorf("run %s: %+v", one, r)
	}
	// Now one paused run is left: resume finds it.
	r, err = c.ResumeAgent(ctx, "approval", "publisher", api.AgentRunControl{Payload: json.RawMessage(`{"answer":"no"}`)})
	if err != nil || r.ID != two {
		t.Fatalf("resume the only paused run: %+v %v, want %s", r, err, two)
	}
	if r := waitRun(t, c, two, nil); r.Status != "completed" || !strings.Contains(string(r.Result), `"answer":"Not published."`) {
		t.Errorf("run %s: %+v", two, r)
	}

	// A run of another workflow of the app, or of nothing, is not the
	// agent's.
	wf, err := c.RunWorkflow(ctx, "approval", "approve", json.RawMessage(`{"title":"T","body":"b"}`))
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.StopAgent(ctx, "approval", "publisher", wf.ID)
	apiErr(t, err, 404, "run "+wf.ID+` is not a run of agent approval.publisher (it runs workflow "approve"): use POST /v1/runs/`+wf.ID+"/stop")
	_, err = c.StopAgent(ctx, "approval", "publisher", "run-nope")
	apiErr(t, err, 404, `run "run-nope" not found`)
	if st, ae := e.apiError("POST", agentRuns+"pause", e.key, `{"payload":"x"}`); st != 400 || ae.Message != `"payload" and "signal" are for resume, not pause` {
		t.Errorf("pause with a payload: %d %+v", st, ae)
	}
	if st, ae := e.apiError("POST", agentRuns+"stop", e.key, `{"runn":"x"}`); st != 400 || !strings.Contains(ae.Message, `unknown field "runn"`) {
		t.Errorf("stop with a misspelt field: %d %+v", st, ae)
	}

	// Stop finds the one active run (by its run ID alone too).
	three := paused("publish three")
	if r, err := c.StopAgent(ctx, "approval", "publisher", strings.TrimPrefix(three, "approval.")); err != nil || r.ID != three {
		t.Fatalf("stop %s: %+v %v", three, r, err)
	}
	if r := waitRun(t, c, three, nil); r.Status != "cancelled" {
		t.Errorf("stopped run: %+v", r)
	}

	// Another org reaches neither the agent nor its runs.
	four := paused("publish four")
	key, err := e.p.CreateAPIKey(ctx, "acme", "test")
	if err != nil {
		t.Fatal(err)
	}
	acme := client.New(e.p.URL(), &client.Options{APIKey: key})
	for name, err := range map[string]error{
		"pause named": func() error { _, err := acme.PauseAgent(ctx, "approval", "publisher", four); return err }(),
		"pause":       func() error { _, err := acme.PauseAgent(ctx, "approval", "publisher", ""); return err }(),
		"resume named": func() error {
			_, err := acme.ResumeAgent(ctx, "approval", "publisher", api.AgentRunControl{Run: four, Payload: json.RawMessage(`"yes"`)})
			return err
		}(),
		"resume": func() error {
			_, err := acme.ResumeAgent(ctx, "approval", "publisher", api.AgentRunControl{})
			return err
		}(),
		"stop named": func() error { _, err := acme.StopAgent(ctx, "approval", "publisher", four); return err }(),
		"stop":       func() error { _, err := acme.StopAgent(ctx, "approval", "publisher", ""); return err }(),
	} {
		if !client.IsStatus(err, 404) || !strings.Contains(err.Error(), `app "approval" not found`) {
			t.Errorf("acme: %s: %v, want 404 app not found", name, err)
		}
	}
	if r, err := c.GetRun(ctx, four); err != nil || r.Status != "paused" || r.Waiting == nil {
		t.Errorf("run %s after acme's attempts: %+v %v", four, r, err)
	}
}
