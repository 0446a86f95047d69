package api

// Logs and events, as JSON lists or, with follow, as Server-Sent Events:
// the stored history first, then what arrives, until the client leaves, the
// server is deleted or the platform shuts down. Each SSE message carries its
// cursor as the event ID, so a client that reconnects with Last-Event-ID
// misses nothing the store still holds.

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxListLimit bounds limit= on logs and events.
const maxListLimit = 10000

func (h *Handler) logs(w http.ResponseWriter, r *http.Request, p *Principal) {
	h.serveLogs(w, r, p.Org, r.PathValue("name"), h.svc.Logs)
}

func (h *Handler) events(w http.ResponseWriter, r *http.Request, p *Principal) {
	name := r.PathValue("name")
	q, aerr := eventQuery(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	h.serveEvents(w, r, p.Org, name, q, h.svc.Events)
}

// serveLogs answers GET .../{name}/logs of a server or an app: the lines
// fetch reads, as a JSON list or, with follow, as an SSE stream of "log"
// events.
func (h *Handler) serveLogs(w http.ResponseWriter, r *http.Request, org, name string,
	fetch func(ctx context.Context, org, name string, q LogQuery) ([]LogLine, error)) {
	q, follow, aerr := logQuery(r, time.Now())
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if !follow {
		lines, err := fetch(r.Context(), org, name, q)
		if err != nil {
			h.writeServiceError(w, r, err)
			return
		}
		if lines == nil {
			lines = []LogLine{}
		}
		writeJSON(w, http.StatusOK, LogList{Logs: lines})
		return
	}
	followSSE(h, w, r, org, name, q.After, func(ctx context.Context, after int64, first bool) ([]LogLine, error) {
		qq := LogQuery{After: after, Limit: maxListLimit}
		if first {
			qq = q
		}
		return fetch(ctx, org, name, qq)
	}, func(l LogLine) int64 { return l.Seq }, "log")
}

// serveEvents answers GET .../{name}/events of a server or an app: the
// events fetch reads from q on, as a JSON list or, when the request asks for
// a stream, as an SSE stream of "event" events.
func (h *Handler) serveEvents(w http.ResponseWriter, r *http.Request, org, name string, q EventQuery,
	fetch func(ctx context.Context, org, name string, q EventQuery) ([]Event, error)) {
	if !wantsStream(r) {
		events, err := fetch(r.Context(), org, name, q)
		if err != nil {
			h.writeServiceError(w, r, err)
			return
		}
		if events == nil {
			events = []Event{}
		}
		writeJSON(w, http.StatusOK, EventList{Events: events})
		return
	}
	followSSE(h, w, r, org, name, q.After, func(ctx context.Context, after int64, first bool) ([]Event, error) {
		qq := EventQuery{After: after, Limit: maxListLimit}
		if first {
			qq = q
		}
		return fetch(ctx, org, name, qq)
	}, func(e Event) int64 { return e.ID }, "event")
}

// eventQuery parses after, limit (at most maxListLimit) and Last-Event-ID (a
// reconnecting SSE client resumes where it left off) of an events request.
func eventQuery(r *http.Request) (EventQuery, *Error) {
	after, aerr := queryInt(r, "after")
	if aerr != nil {
		return EventQuery{}, aerr
	}
	limit, aerr := queryInt(r, "limit")
	if aerr != nil {
		return EventQuery{}, aerr
	}
	return EventQuery{After: afterLastEventID(r, after), Limit: int(min(limit, maxListLimit))}, nil
}

// afterLastEventID is after, or the request's Last-Event-ID when that is a
// greater cursor (a reconnecting SSE client).
func afterLastEventID(r *http.Request, after int64) int64 {
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > after {
			return n
		}
	}
	return after
}

// logQuery parses since, limit, after, follow and Last-Event-ID.
func logQuery(r *http.Request, now time.Time) (LogQuery, bool, *Error) {
	var q LogQuery
	vals := r.URL.Query()
	if s := vals.Get("since"); s != "" {
		t, err := ParseSince(s, now)
		if err != nil {
			return q, false, Errorf(http.StatusBadRequest, CodeBadRequest, "query parameter since=%q: %v", s, err)
		}
		q.Since = t
	}
	limit, aerr := queryInt(r, "limit")
	if aerr != nil {
		return q, false, aerr
	}
	q.Limit = int(min(limit, maxListLimit))
	after, aerr := queryInt(r, "after")
	if aerr != nil {
		return q, false, aerr
	}
	q.After = afterLastEventID(r, after)
	return q, wantsStream(r), nil
}

// ParseSince parses a since value: a duration back from now ("10m", "2h")
// or an RFC 3339 time.
func ParseSince(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("want a positive duration such as 10m, or an RFC 3339 time")
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("want a duration such as 10m or 2h, or an RFC 3339 time such as 2026-01-02T15:04:05Z")
	}
	return t, nil
}

// wantsStream reports whether the request asks for SSE: follow=true (or 1)
// or an Accept header of text/event-stream.
func wantsStream(r *http.Request) bool {
	switch strings.ToLower(r.URL.Query().Get("follow")) {
	case "1", "true", "yes":
		return true
	}
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// followSSE streams items as SSE: fetch(after) returns the items after the
// cursor, cursor says each one's cursor (its SSE event ID); fetch is called
// again after every change of the server or app name.
func followSSE[T any](h *Handler, w http.ResponseWriter, r *http.Request, org, name string, after int64,
	fetch func(ctx context.Context, after int64, first bool) ([]T, error), cursor func(T) int64, kind string) {
	ctx := r.Context()
	changed, err := h.svc.Changed(ctx, org, name)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	items, err := fetch(ctx, after, true)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	sse := startSSE(w)
	heartbeat := time.NewTicker(h.opts.Heartbeat)
	defer heartbeat.Stop()
	for {
		for _, it := range items {
			after = cursor(it)
			if err := sse.event(after, kind, it); err != nil {
				return
			}
		}
		if err := sse.flush(); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-heartbeat.C:
			if err := sse.keepAlive(); err != nil {
				return
			}
			items = nil
			continue
		case <-changed:
		}
		if changed, err = h.svc.Changed(ctx, org, name); err != nil {
			sse.fail(err)
			return
		}
		if items, err = fetch(ctx, after, false); err != nil {
			if ctx.Err() == nil {
				sse.fail(err)
			}
			return
		}
	}
}
