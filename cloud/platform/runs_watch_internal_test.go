package platform

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/appserver"
)

func TestNewTransitions(t *testing.T) {
	at := func(ms int) time.Time { return time.Date(2026, 1, 1, 0, 0, 0, ms*int(time.Millisecond), time.UTC) }
	all := []appserver.StatusChange{
		{Status: "scheduled", Event: "run_scheduled", At: at(0)},
		{Status: "running", Event: "run_started", At: at(1)},
		{Status: "paused", Event: "pause_requested", At: at(2)},
		{Status: "running", Event: "resumed", At: at(3)},
		// A wait that took a buffered answer at once: never observably paused.
		{Status: "paused", Event: "input_requested", At: at(4), Detail: "ok?"},
		{Status: "running", Event: "signal_delivered", At: at(4)},
		{Status: "running", Event: "cancel_requested", At: at(5)},
		{Status: "cancelled", Event: "run_cancelled", At: at(6)},
	}
	statuses := func(cs []appserver.StatusChange) []string {
		var out []string
		for _, c := range cs {
			out = append(out, c.Status+" "+c.Event)
		}
		return out
	}
	for _, tc := range []struct {
		name string
		old  seenRun
		seen bool
		want []string
	}{
		{"new run", seenRun{}, false, []string{"scheduled run_scheduled", "running run_started", "paused pause_requested", "running resumed", "cancelled run_cancelled"}},
		{"from the cursor", seenRun{status: "running", changes: 2}, true, []string{"paused pause_requested", "running resumed", "cancelled run_cancelled"}},
		{"all recorded", seenRun{status: "cancelled", changes: 8}, true, nil},
		{"no cursor: after the last time at the recorded status", seenRun{status: "paused", changes: -1}, true, []string{"running resumed", "cancelled run_cancelled"}},
		{"no cursor, status never reached", seenRun{status: "failed", changes: -1}, true, nil},
	} {
		got, n := newTransitions(all, tc.old, tc.seen)
		if diff := cmp.Diff(tc.want, statuses(got)); diff != "" || n != len(all) {
			t.Errorf("%s: cursor %d, transitions (-want +got):\n%s", tc.name, n, diff)
		}
	}
	if got, n := newTransitions(nil, seenRun{status: "running"}, true); got != nil || n != -1 {
		t.Errorf("without transitions: %v %d", got, n)
	}
}
