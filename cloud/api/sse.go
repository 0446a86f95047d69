package api

// Writing Server-Sent Events: the response headers, one event, keep-alive
// comments and the final error event, shared by the logs, events and
// platform-events streams.

import (
	"encoding/json"
	"fmt"
	"net/http"
)

// sseStream writes an SSE response.
type sseStream struct {
	w  http.ResponseWriter
	rc *http.ResponseController
}

// startSSE sends the status and headers of an event stream (uncached, not
// buffered by proxies).
func startSSE(w http.ResponseWriter) *sseStream {
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	return &sseStream{w: w, rc: rc}
}

// event writes v as JSON in an event of the kind, with id as its event ID
// (what a reconnecting client sends back as Last-Event-ID).
func (s *sseStream) event(id int64, kind string, v any) error {
	b, _ := json.Marshal(v)
	_, err := fmt.Fprintf(s.w, "id: %d\nevent: %s\ndata: %s\n\n", id, kind, b)
	return err
}

// liveEvent writes v as JSON in an event of the kind without an event ID
// (a live-only event: a reconnecting client resumes after the last event
// that had one), and flushes it.
func (s *sseStream) liveEvent(kind string, v any) error {
	b, _ := json.Marshal(v)
	if _, err := fmt.Fprintf(s.w, "event: %s\ndata: %s\n\n", kind, b); err != nil {
		return err
	}
	return s.flush()
}

// flush sends what is written so far.
func (s *sseStream) flush() error { return s.rc.Flush() }

// keepAlive writes a comment, so that idle connections stay open.
func (s *sseStream) keepAlive() error {
	_, err := fmt.Fprint(s.w, ": keep-alive\n\n")
	return err
}

// fail writes err as the stream's last event, "error" with an ErrorBody,
// and flushes it.
func (s *sseStream) fail(err error) {
	e, _ := asError(err)
	b, _ := json.Marshal(ErrorBody{Error: e})
	fmt.Fprintf(s.w, "event: error\ndata: %s\n\n", b)
	_ = s.rc.Flush()
}
