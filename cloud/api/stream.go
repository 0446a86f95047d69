package api

// Logs and events, as JSON lists or, with follow, as Server-Sent Events:
// the stored history first, then what arrives, until the client leaves, the
// server is deleted or the platform shuts down. Each SSE message carries its
// cursor as the event ID, so a client that reconnects with Last-Event-ID
// misses nothing the store still holds.

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// maxListLimit bounds limit= on logs and events.
const maxListLimit = 10000

func (h *Handler) logs(w http.ResponseWriter, r *http.Request, p *Principal) {
	name := r.PathValue("name")
	q, follow, aerr := logQuery(r, time.Now())
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if !follow {
		lines, err := h.svc.Logs(r.Context(), p.Org, name, q)
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
	h.follow(w, r, p.Org, name, q.After, func(ctx context.Context, after int64, first bool) ([]any, int64, error) {
		qq := LogQuery{After: after, Limit: maxListLimit}
		if first {
			qq = q
		}
		lines, err := h.svc.Logs(ctx, p.Org, name, qq)
		out := make([]any, len(lines))
		for i, l := range lines {
			out[i] = l
			after = l.Seq
		}
		return out, after, err
	}, "log")
}

func (h *Handler) events(w http.ResponseWriter, r *http.Request, p *Principal) {
	name := r.PathValue("name")
	after, aerr := queryInt(r, "after")
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	limit, aerr := queryInt(r, "limit")
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	if limit > maxListLimit {
		limit = maxListLimit
	}
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > after {
			after = n
		}
	}
	q := EventQuery{After: after, Limit: int(limit)}
	if !wantsStream(r) {
		events, err := h.svc.Events(r.Context(), p.Org, name, q)
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
	h.follow(w, r, p.Org, name, after, func(ctx context.Context, after int64, first bool) ([]any, int64, error) {
		qq := EventQuery{After: after, Limit: maxListLimit}
		if first {
			qq = q
		}
		events, err := h.svc.Events(ctx, p.Org, name, qq)
		out := make([]any, len(events))
		for i, e := range events {
			out[i] = e
			after = e.ID
		}
		return out, after, err
	}, "event")
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
	q.After = after
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		if n, err := strconv.ParseInt(id, 10, 64); err == nil && n > q.After {
			q.After = n
		}
	}
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

// follow streams items as SSE: fetch(after) returns the items after the
// cursor and the new cursor; it is called again after every change.
func (h *Handler) follow(w http.ResponseWriter, r *http.Request, org, name string, after int64,
	fetch func(ctx context.Context, after int64, first bool) ([]any, int64, error), kind string) {
	ctx := r.Context()
	changed, err := h.svc.Changed(ctx, org, name)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	items, cursor, err := fetch(ctx, after, true)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	heartbeat := time.NewTicker(h.opts.Heartbeat)
	defer heartbeat.Stop()
	for {
		for _, it := range items {
			b, _ := json.Marshal(it)
			id := cursorOf(it)
			if _, err := fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", id, kind, b); err != nil {
				return
			}
		}
		if err := rc.Flush(); err != nil {
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil {
				return
			}
			items = nil
			continue
		case <-changed:
		}
		if changed, err = h.svc.Changed(ctx, org, name); err != nil {
			e, _ := asError(err)
			b, _ := json.Marshal(ErrorBody{Error: e})
			fmt.Fprintf(w, "event: error\ndata: %s\n\n", b)
			_ = rc.Flush()
			return
		}
		if items, cursor, err = fetch(ctx, cursor, false); err != nil {
			if ctx.Err() == nil {
				e, _ := asError(err)
				b, _ := json.Marshal(ErrorBody{Error: e})
				fmt.Fprintf(w, "event: error\ndata: %s\n\n", b)
				_ = rc.Flush()
			}
			return
		}
	}
}

func cursorOf(it any) int64 {
	switch v := it.(type) {
	case LogLine:
		return v.Seq
	case Event:
		return v.ID
	}
	return 0
}
