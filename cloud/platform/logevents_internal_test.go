package platform

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/store"
)

// testHub is a logHub over two orgs' apps, on a clock the test moves.
func testHub() (*logHub, *time.Time) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := newLogHub(func(full string) (string, api.Resource, bool) {
		org, name, _ := strings.Cut(full, ".")
		return org, api.Resource{Kind: "app", Name: name}, org != "gone"
	})
	h.now = func() time.Time { return now }
	return h, &now
}

func lines(prefix string, n int) []store.LogLine {
	out := make([]store.LogLine, n)
	for i := range out {
		out[i] = store.LogLine{Stream: "stderr", Line: fmt.Sprintf("%s %d", prefix, i+1)}
	}
	return out
}

// drain returns what ch holds now.
func drain(ch <-chan api.PlatformEvent) []api.PlatformEvent {
	var out []api.PlatformEvent
	for {
		select {
		case e := <-ch:
			out = append(out, e)
		default:
			return out
		}
	}
}

func TestLogHubRateLimit(t *testing.T) {
	h, now := testHub()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := h.subscribe(ctx, "local", api.EventFilter{})

	// A burst: logEventBurst lines pass, the rest are counted.
	h.publish("local.chatty", lines("a", 100))
	got := drain(ch)
	h.publish("local.chatty", lines("b", 500))
	got = append(got, drain(ch)...)
	if len(got) != logEventBurst {
		t.Fatalf("%d events of a burst of 600 lines, want %d", len(got), logEventBurst)
	}
	var d api.LogEventData
	if err := json.Unmarshal(got[0].Data, &d); err != nil || d != (api.LogEventData{Stream: "stderr", Line: "a 1"}) ||
		got[0].Kind != api.EventLog || got[0].ID != 0 || got[0].Resource != (api.Resource{Kind: "app", Name: "chatty"}) || got[0].Message != "a 1" {
		t.Errorf("first event: %+v %s", got[0], got[0].Data)
	}
	if got[len(got)-1].Message != "b 100" {
		t.Errorf("last event of the burst: %+v", got[len(got)-1])
	}

	// A second later, logEventRate lines are allowed again: the first
	// event says how many were left out.
	*now = now.Add(time.Second)
	h.publish("local.chatty", lines("c", 10))
	got = drain(ch)
	if len(got) != 11 || !strings.Contains(got[0].Message, "platform: 400 log lines not sent as events (over 50 lines/s); the app's log has them all: mcp-agent apps logs chatty") || got[1].Message != "c 1" {
		t.Errorf("after a second: %d events, first %+v", len(got), got[0])
	}

	// Another app has its own budget; another org's follower and a
	// filtered-out resource see nothing.
	other := h.subscribe(ctx, "acme", api.EventFilter{})
	only := h.subscribe(ctx, "local", api.EventFilter{App: "quiet"})
	h.publish("local.quiet", lines("q", 3))
	if got := drain(ch); len(got) != 3 {
		t.Errorf("another app: %d events, want 3", len(got))
	}
	if got := drain(only); len(got) != 3 || got[0].Resource.Name != "quiet" {
		t.Errorf("filtered follower: %+v", got)
	}
	h.publish("local.chatty", lines("d", 3))
	if got := drain(only); len(got) != 0 {
		t.Errorf("filtered follower got another app's lines: %+v", got)
	}
	if got := drain(other); len(got) != 0 {
		t.Errorf("acme got local's lines: %+v", got)
	}
	drain(ch)

	// Lines of a deployment that is gone are not published.
	h.publish("gone.x", lines("g", 1))
	if got := drain(ch); len(got) != 0 {
		t.Errorf("lines of a deleted app: %+v", got)
	}

	// Followers that leave are closed and forgotten.
	cancel()
	for _, c := range []<-chan api.PlatformEvent{ch, other, only} {
		for range c {
		}
	}
	h.mu.Lock()
	n := len(h.subs)
	h.mu.Unlock()
	if n != 0 {
		t.Errorf("%d followers after all left", n)
	}
}

func TestLogHubSlowFollower(t *testing.T) {
	h, now := testHub()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ch := h.subscribe(ctx, "local", api.EventFilter{})
	// More lines than the follower's buffer, within the rate (one a
	// second): the excess is lost, and announced once there is room.
	for i := range logEventBuffer + 10 {
		*now = now.Add(time.Second)
		h.publish("local.app", []store.LogLine{{Stream: "stdout", Line: fmt.Sprint("l", i)}})
	}
	if got := drain(ch); len(got) != logEventBuffer {
		t.Fatalf("%d events buffered, want %d", len(got), logEventBuffer)
	}
	*now = now.Add(time.Second)
	h.publish("local.app", []store.LogLine{{Stream: "stdout", Line: "after"}})
	got := drain(ch)
	if len(got) != 2 || got[0].Message != "platform: 10 log events dropped: this follower reads slower than they come" || got[1].Message != "after" {
		t.Errorf("after the follower caught up: %+v", got)
	}
}
