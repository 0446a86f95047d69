package platform_test

import (
	"encoding/json"
	"iter"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
)

// TestRunEventsPauseResumeWithinOneInterval: the run watcher polls every
// 500ms; a run paused and resumed between two polls looks unchanged to
// the poll, yet its paused and running events are recorded, in order, from
// the run's transitions.
func TestRunEventsPauseResumeWithinOneInterval(t *testing.T) {
	e := startPlatform(t, t.TempDir())
	c := e.client()
	ctx := testCtx(t, 2*time.Minute)
	deployApp(t, c, "approval", exampleApp(t))
	waitApp(t, c, "approval", "running")

	run, err := c.RunWorkflow(ctx, "approval", "ticks", json.RawMessage(`{"steps":600,"ms":50}`))
	if err != nil {
		t.Fatal(err)
	}
	defer c.StopRun(ctx, run.ID)
	next, stop := iter.Pull2(c.FollowPlatformEvents(ctx, api.EventFilter{Run: run.ID, Kinds: []string{api.EventRunStatus}}))
	defer stop()
	nextStatus := func() api.RunEventData {
		t.Helper()
		ev, err, ok := next()
		if err != nil || !ok {
			t.Fatalf("events of %s ended: %v", run.ID, err)
		}
		var d api.RunEventData
		if err := json.Unmarshal(ev.Data, &d); err != nil {
			t.Fatal(err)
		}
		return d
	}
	// The watcher has recorded the run as running.
	for d := nextStatus(); d.Status != "running"; d = nextStatus() {
	}

	// Pause and resume at once: well within one poll interval.
	if _, err := c.PauseRun(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ResumeRun(ctx, run.ID, api.ResumeRequest{}); err != nil {
		t.Fatal(err)
	}
	if r, err := c.GetRun(ctx, run.ID); err != nil || r.Status != "running" {
		t.Fatalf("run after pause and resume: %+v %v", r, err)
	}
	if d := nextStatus(); d.Status != "paused" || d.Previous != "running" {
		t.Errorf("event after running: %+v, want paused", d)
	}
	if d := nextStatus(); d.Status != "running" || d.Previous != "paused" {
		t.Errorf("event after paused: %+v, want running", d)
	}

	// And the end: stopped, cancelled.
	if _, err := c.StopRun(ctx, run.ID); err != nil {
		t.Fatal(err)
	}
	if d := nextStatus(); d.Status != "cancelled" || d.Previous != "running" {
		t.Errorf("event after stop: %+v, want cancelled", d)
	}
}
