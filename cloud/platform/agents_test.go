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
