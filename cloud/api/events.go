package api

// GET /v1/events: the org's events (deployments' lifecycle and status,
// versions, runs' status changes and human-input requests), as a JSON list,
// a Server-Sent Events stream resumable with Last-Event-ID, or a WebSocket
// of JSON messages. Followers also get live-only events (log lines, from a
// LiveEventService) as they happen.

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
)

// Event kinds recorded for runs of apps (besides the deployment kinds:
// created, status, desired_state, version, started, exited, ...).
const (
	// EventRunStatus: a run appeared or changed status. Data is a
	// RunEventData.
	EventRunStatus = "run_status"
	// EventHumanInput: a run waits for a person's input (Data.Waiting says
	// what to send to /v1/runs/{run}/resume).
	EventHumanInput = "human_input"
	// EventLog: a line of a deployment's output (Data is a LogEventData).
	// Log events are live only: they reach followers of GET /v1/events
	// (SSE without an event ID, or WebSocket) as they happen, at a bounded
	// rate per deployment; the event list and a resumed stream do not
	// have them (GET /v1/{servers,apps}/{name}/logs has every line).
	EventLog = "log"
)

// LogEventData is the data of a log event.
type LogEventData struct {
	// Stream is "stdout", "stderr", "runtime" (a note of the runtime) or
	// "system" (a note of the platform, such as lines left out).
	Stream string `json:"stream"`
	Line   string `json:"line"`
}

// PlatformEvent is an event of the org, with the resource it is about.
type PlatformEvent struct {
	ID       int64           `json:"id"`
	Time     time.Time       `json:"time"`
	Kind     string          `json:"kind"`
	Message  string          `json:"message,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	Resource Resource        `json:"resource"`
}

// Resource names what an event is about.
type Resource struct {
	// Kind is "server" or "app".
	Kind string `json:"kind"`
	Name string `json:"name"`
	// Run is "{app}.{run_id}" for run events.
	Run string `json:"run,omitempty"`
}

// RunEventData is the data of run_status and human_input events.
type RunEventData struct {
	Run      string   `json:"run"` // {app}.{run_id}
	Workflow string   `json:"workflow"`
	Status   string   `json:"status"`
	Previous string   `json:"previous,omitempty"`
	Waiting  *RunWait `json:"waiting,omitempty"`
	Error    string   `json:"error,omitempty"`
}

// PlatformEventList is the body of GET /v1/events without follow.
type PlatformEventList struct {
	Events []PlatformEvent `json:"events"`
}

// EventFilter selects events of GET /v1/events. The zero value selects
// every event of the org.
type EventFilter struct {
	After int64    // only events with a greater ID
	Limit int      // at most this many (0: 100); without After, the newest
	Kinds []string // only these kinds
	App   string   // only events of this app (its runs included)
	// Server selects events of this server.
	Server string
	Run    string // only events of this run ({app}.{run_id})
}

// Match reports whether e passes the filter's kind and resource tests.
func (f EventFilter) Match(e PlatformEvent) bool {
	if len(f.Kinds) > 0 && !contains(f.Kinds, e.Kind) {
		return false
	}
	if f.App != "" && (e.Resource.Kind != "app" || e.Resource.Name != f.App) {
		return false
	}
	if f.Server != "" && (e.Resource.Kind != "server" || e.Resource.Name != f.Server) {
		return false
	}
	if f.Run != "" && e.Resource.Run != f.Run {
		return false
	}
	return true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// EventService serves the org's events. A Service that also implements it
// serves GET /v1/events.
type EventService interface {
	// PlatformEvents returns the org's events selected by f, in ID order,
	// and the ID of the last event it looked at (matching or not), the
	// cursor to continue from.
	PlatformEvents(ctx context.Context, org string, f EventFilter) ([]PlatformEvent, int64, error)
	// EventsChanged returns a channel closed when the org may have new
	// events (followers also poll, so it may never close).
	EventsChanged(ctx context.Context, org string) <-chan struct{}
}

// LiveEventService is an EventService with live-only events (EventLog):
// not stored, so without an ID, delivered to followers only.
type LiveEventService interface {
	// LiveEvents returns the org's live events that pass f as they happen,
	// until ctx ends; then the channel is closed. A follower that does not
	// keep up loses events.
	LiveEvents(ctx context.Context, org string, f EventFilter) <-chan PlatformEvent
}

// liveEvents subscribes to the live events f selects, or returns nil (a
// channel that never delivers) when there are none to select.
func liveEvents(ctx context.Context, svc EventService, org string, f EventFilter) <-chan PlatformEvent {
	ls, ok := svc.(LiveEventService)
	if !ok || f.Run != "" || len(f.Kinds) > 0 && !contains(f.Kinds, EventLog) {
		return nil
	}
	return ls.LiveEvents(ctx, org, f)
}

// eventsPoll is how often a follower of /v1/events looks for new events
// besides being woken by EventsChanged.
var eventsPoll = 250 * time.Millisecond

func (h *Handler) platformEvents(w http.ResponseWriter, r *http.Request, p *Principal) {
	svc, ok := h.svc.(EventService)
	if !ok {
		writeError(w, notImplemented("events"))
		return
	}
	vals := r.URL.Query()
	var f EventFilter
	var aerr *Error
	if f.After, aerr = queryInt(r, "after"); aerr != nil {
		writeError(w, aerr)
		return
	}
	limit, aerr := queryInt(r, "limit")
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	f.Limit = int(min(limit, maxListLimit))
	for _, k := range vals["kind"] {
		for _, s := range strings.Split(k, ",") {
			if s = strings.TrimSpace(s); s != "" {
				f.Kinds = append(f.Kinds, s)
			}
		}
	}
	f.App, f.Server, f.Run = vals.Get("app"), vals.Get("server"), vals.Get("run")
	if f.Run != "" {
		app, _, err := SplitName(f.Run, "run")
		if err != nil {
			writeError(w, err)
			return
		}
		if f.App == "" {
			f.App = app
		}
	}
	f.After = afterLastEventID(r, f.After)
	ctx := r.Context()
	if strings.EqualFold(r.Header.Get("Upgrade"), "websocket") {
		h.eventsWebSocket(w, r, svc, p.Org, f)
		return
	}
	if !wantsStream(r) {
		evs, _, err := svc.PlatformEvents(ctx, p.Org, f)
		if err != nil {
			h.writeServiceError(w, r, err)
			return
		}
		if evs == nil {
			evs = []PlatformEvent{}
		}
		writeJSON(w, http.StatusOK, PlatformEventList{Events: evs})
		return
	}
	changed := svc.EventsChanged(ctx, p.Org)
	evs, cursor, err := svc.PlatformEvents(ctx, p.Org, f)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	live := liveEvents(ctx, svc, p.Org, f)
	sse := startSSE(w)
	heartbeat := time.NewTicker(h.opts.Heartbeat)
	defer heartbeat.Stop()
	poll := time.NewTicker(eventsPoll)
	defer poll.Stop()
	cursor = max(cursor, f.After)
	for {
		for _, e := range evs {
			if err := sse.event(e.ID, e.Kind, e); err != nil {
				return
			}
		}
		if err := sse.flush(); err != nil {
			return
		}
		evs = nil
		select {
		case <-ctx.Done():
			return
		case <-heartbeat.C:
			if err := sse.keepAlive(); err != nil {
				return
			}
			continue
		case e, ok := <-live:
			if !ok {
				return
			}
			if err := sse.liveEvent(e.Kind, e); err != nil {
				return
			}
			continue
		case <-changed:
			changed = svc.EventsChanged(ctx, p.Org)
		case <-poll.C:
		}
		ff := f
		ff.After, ff.Limit = cursor, maxListLimit
		var next int64
		if evs, next, err = svc.PlatformEvents(ctx, p.Org, ff); err != nil {
			if ctx.Err() == nil {
				sse.fail(err)
			}
			return
		}
		cursor = max(cursor, next)
	}
}

// eventsWebSocket streams events over a WebSocket: one JSON PlatformEvent
// per text message, the selected events first, then new ones. The client
// sends nothing (pings and close frames are answered). Browsers' cross-origin
// connections are refused (the Origin must match the Host).
func (h *Handler) eventsWebSocket(w http.ResponseWriter, r *http.Request, svc EventService, org string, f EventFilter) {
	evs, cursor, err := svc.PlatformEvents(r.Context(), org, f)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	c, err := websocket.Accept(w, r, nil)
	if err != nil {
		return // Accept answered the request
	}
	defer c.CloseNow()
	ctx := c.CloseRead(r.Context())
	changed := svc.EventsChanged(ctx, org)
	live := liveEvents(ctx, svc, org, f)
	heartbeat := time.NewTicker(h.opts.Heartbeat)
	defer heartbeat.Stop()
	poll := time.NewTicker(eventsPoll)
	defer poll.Stop()
	cursor = max(cursor, f.After)
	for {
		for _, e := range evs {
			wctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := wsjson.Write(wctx, c, e)
			cancel()
			if err != nil {
				return
			}
		}
		select {
		case <-ctx.Done():
			c.Close(websocket.StatusGoingAway, "")
			return
		case <-heartbeat.C:
			pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			err := c.Ping(pctx)
			cancel()
			if err != nil {
				return
			}
			evs = nil
			continue
		case e, ok := <-live:
			if !ok {
				return
			}
			evs = []PlatformEvent{e}
			continue
		case <-changed:
			changed = svc.EventsChanged(ctx, org)
		case <-poll.C:
		}
		ff := f
		ff.After, ff.Limit = cursor, maxListLimit
		var next int64
		if evs, next, err = svc.PlatformEvents(ctx, org, ff); err != nil {
			if ctx.Err() == nil {
				c.Close(websocket.StatusInternalError, "cannot read events: see the platform's log")
			}
			return
		}
		cursor = max(cursor, next)
	}
}
