package client_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/client"
)

// TestStreamAgentEnds checks how StreamAgent ends on the streams a
// platform may send: a result ends it, an error event is yielded as the
// *api.Error, a stream cut before its result and an answer that is not a
// stream are errors that say so.
func TestStreamAgentEnds(t *testing.T) {
	const (
		started = `{"type":"started","run":"a.run-1","status":"running"}`
		result  = `{"type":"result","run":"a.run-1","status":"completed","result":{"run":"a.run-1","status":"completed","answer":"ok"}}`
	)
	for _, tc := range []struct {
		name, contentType, body string
		wantTypes               []string
		wantErr                 string
	}{
		{"result", "text/event-stream", "id: 1\nevent: started\ndata: " + started + "\n\nid: 2\nevent: result\ndata: " + result + "\n\n", []string{"started", "result"}, ""},
		{"nothing after the result is read", "text/event-stream", "event: result\ndata: " + result + "\n\nevent: result\ndata: {bad\n\n", []string{"result"}, ""},
		{"error event", "text/event-stream", "event: started\ndata: " + started + "\n\nevent: error\ndata: {\"error\":{\"code\":\"bad_gateway\",\"message\":\"app \\\"a\\\" did not answer\"}}\n\n", []string{"started"}, `app "a" did not answer`},
		{"cut", "text/event-stream", "event: started\ndata: " + started + "\n\n", []string{"started"}, "ended the agent's event stream before its result"},
		{"not a stream", "application/json", `{"run":"a.run-1","status":"completed"}`, nil, "not an event stream: it predates streamed agent runs"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method != "POST" || r.URL.Path != "/v1/agents/a.helper/run" || r.URL.Query().Get("wait") != "1m0s" || r.Header.Get("Accept") != "text/event-stream" {
					http.Error(w, fmt.Sprintf("unexpected %s %s %s", r.Method, r.URL, r.Header), 400)
					return
				}
				w.Header().Set("Content-Type", tc.contentType)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			c := client.New(srv.URL, nil)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			var types []string
			var gotErr error
			for ev, err := range c.StreamAgent(ctx, "a", "helper", "hi", time.Minute) {
				if err != nil {
					gotErr = err
					continue // the iterator must stop by itself after an error
				}
				types = append(types, ev.Type)
			}
			if strings.Join(types, ",") != strings.Join(tc.wantTypes, ",") {
				t.Errorf("events %v, want %v", types, tc.wantTypes)
			}
			if tc.wantErr == "" && gotErr != nil || tc.wantErr != "" && (gotErr == nil || !strings.Contains(gotErr.Error(), tc.wantErr)) {
				t.Errorf("error %v, want %q", gotErr, tc.wantErr)
			}
			if _, ok := gotErr.(*api.Error); tc.name == "error event" && !ok {
				t.Errorf("error event yielded %T, want *api.Error", gotErr)
			}
		})
	}
}
