package platform_test

import (
	"bufio"
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/client"
)

func TestLogEvents(t *testing.T) {
	e := startPlatform(t, t.TempDir())
	c := e.client()
	ctx := testCtx(t, 2*time.Minute)

	// Another org follows every event of its own from before the lines
	// come (its subscription is made when the response headers arrive).
	key, err := e.p.CreateAPIKey(ctx, "acme", "test")
	if err != nil {
		t.Fatal(err)
	}
	actx, acancel := context.WithCancel(ctx)
	defer acancel()
	req, _ := http.NewRequestWithContext(actx, "GET", e.p.URL()+"/v1/events?follow=true", nil)
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	acmeLines := make(chan string, 1000)
	go func() {
		defer close(acmeLines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			acmeLines <- sc.Text()
		}
	}()

	// A follower of the org's log events (a pulled stream connects at its
	// first read: the ticker's first line shows it is subscribed).
	all, stopAll := iter.Pull2(c.FollowPlatformEvents(ctx, api.EventFilter{Kinds: []string{api.EventLog}}))
	defer stopAll()
	e.create(api.CreateServerRequest{Name: "ticker", Command: "/bin/sh", Args: []string{"-c", "i=0; while :; do i=$((i+1)); echo tick $i >&2; sleep 0.05; done"}})
	for {
		ev, err, ok := all()
		if err != nil || !ok {
			t.Fatalf("log events ended: %v", err)
		}
		if ev.Kind != api.EventLog {
			t.Fatalf("kind=log follower got %+v", ev)
		}
		if ev.Resource.Name == "ticker" {
			break
		}
	}

	// A follower of the ticker's events sees its lines as log events.
	one, stopOne := iter.Pull2(c.FollowPlatformEvents(ctx, api.EventFilter{Server: "ticker"}))
	defer stopOne()
	var ticks int
	for ticks < 5 {
		ev, err, ok := one()
		if err != nil || !ok {
			t.Fatalf("ticker's events ended: %v", err)
		}
		if ev.Resource != (api.Resource{Kind: "server", Name: "ticker"}) {
			t.Fatalf("event of another resource: %+v", ev)
		}
		if ev.Kind != api.EventLog {
			continue
		}
		var d api.LogEventData
		if err := json.Unmarshal(ev.Data, &d); err != nil || d.Stream != "stderr" || !strings.HasPrefix(d.Line, "tick ") || ev.ID != 0 || ev.Message != d.Line {
			t.Fatalf("log event: %+v %s", ev, ev.Data)
		}
		ticks++
	}

	// Over a WebSocket too.
	ws, _, err := websocket.Dial(ctx, strings.Replace(e.p.URL(), "http", "ws", 1)+"/v1/events?server=ticker&kind=log",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + e.key}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	var wev api.PlatformEvent
	if err := wsjson.Read(ctx, ws, &wev); err != nil {
		t.Fatal(err)
	}
	if wev.Kind != api.EventLog || wev.Resource.Name != "ticker" || !strings.HasPrefix(wev.Message, "tick ") {
		t.Errorf("WebSocket event: %+v", wev)
	}
	ws.Close(websocket.StatusNormalClosure, "")

	// A chatty server: 5000 lines at once, then a line every 50ms.
	e.create(api.CreateServerRequest{Name: "chatty", Command: "/bin/sh", Args: []string{"-c", "i=0; while [ $i -lt 5000 ]; do i=$((i+1)); echo burst $i >&2; done; while :; do echo after >&2; sleep 0.05; done"}})

	// The org follower sees chatty's burst cut at the rate limit, then a
	// notice that says how many lines were left out and where they are.
	var burst int
	for {
		ev, err, ok := all()
		if err != nil || !ok {
			t.Fatalf("log events ended: %v", err)
		}
		if ev.Kind != api.EventLog {
			t.Fatalf("kind=log follower got %+v", ev)
		}
		if ev.Resource.Name != "chatty" {
			continue
		}
		if strings.HasPrefix(ev.Message, "burst ") {
			burst++
		}
		if strings.Contains(ev.Message, "log lines not sent as events (over 50 lines/s); the server's log has them all: mcp-agent servers logs chatty") {
			break
		}
	}
	if burst == 0 || burst >= 5000 {
		t.Errorf("%d of the burst's 5000 lines came as events, want some, not all", burst)
	}
	// The log has every line.
	deadline := time.Now().Add(30 * time.Second)
	for {
		logs, err := c.Logs(ctx, "chatty", &client.LogsOptions{Limit: 10000})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, l := range logs {
			if strings.HasPrefix(l.Line, "burst ") {
				n++
			}
		}
		if n == 5000 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log has %d of the 5000 lines", n)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The event list has no log events (they are live only).
	evs, err := c.PlatformEvents(ctx, api.EventFilter{Limit: 10000})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Kind == api.EventLog {
			t.Fatalf("the event list has a log event: %+v", ev)
		}
	}

	// acme saw none of it.
	acancel()
	for l := range acmeLines {
		if strings.Contains(l, "tick") || strings.Contains(l, "burst") || strings.Contains(l, "event: log") {
			t.Errorf("acme's stream has %q", l)
		}
	}
}
