package api

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// fakeRuns is a fakeService that also runs agents: n paused runs of agent
// "helper" of app "a", and a stream of the given events.
type fakeRuns struct {
	fakeService
	paused int
	stream []AgentStreamEvent
	gap    time.Duration // between streamed events
	err    error         // after the streamed events
}

func (f *fakeRuns) RunWorkflow(context.Context, string, string, string, json.RawMessage) (Run, error) {
	return Run{}, nil
}
func (f *fakeRuns) ListRuns(_ context.Context, _ string, q RunQuery) ([]Run, error) {
	var out []Run
	for i := range min(f.paused, q.Limit) {
		out = append(out, Run{ID: fmt.Sprintf("a.run-%d", i+1), RunID: fmt.Sprintf("run-%d", i+1), Workflow: "helper", Status: "paused"})
	}
	return out, nil
}
func (f *fakeRuns) GetRun(_ context.Context, _, app, id string) (Run, error) {
	return Run{ID: app + "." + id, RunID: id, Workflow: "helper", Status: "paused"}, nil
}
func (f *fakeRuns) RunHistory(context.Context, string, string, string) ([]RunEvent, error) {
	return nil, nil
}
func (f *fakeRuns) PauseRun(_ context.Context, _, app, id string) (Run, error) {
	return Run{ID: app + "." + id, Status: "paused"}, nil
}
func (f *fakeRuns) ResumeRun(_ context.Context, _, app, id string, req ResumeRequest) (Run, error) {
	return Run{ID: app + "." + id, Status: "running", Result: req.Payload}, nil
}
func (f *fakeRuns) StopRun(_ context.Context, _, app, id string) (Run, error) {
	return Run{ID: app + "." + id, Status: "cancelled"}, nil
}
func (f *fakeRuns) RunAgent(context.Context, string, string, string, AgentRunRequest, time.Duration) (AgentRunResult, error) {
	return AgentRunResult{}, nil
}
func (f *fakeRuns) StreamAgent(ctx context.Context, _, app, agent string, _ AgentRunRequest, _ time.Duration) iter.Seq2[AgentStreamEvent, error] {
	return func(yield func(AgentStreamEvent, error) bool) {
		if agent != "helper" {
			yield(AgentStreamEvent{}, NotFound("app %q has no agent %q", app, agent))
			return
		}
		for _, ev := range f.stream {
			t := time.NewTimer(f.gap)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			if !yield(ev, nil) {
				return
			}
		}
		if f.err != nil {
			yield(AgentStreamEvent{}, f.err)
		}
	}
}

func post(t *testing.T, h http.Handler, path, body string, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	r := newRequest("POST", path, strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer good")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func TestStreamAgentSSE(t *testing.T) {
	svc := &fakeRuns{
		stream: []AgentStreamEvent{{Type: AgentStarted, Run: "a.run-1", Status: "running"}, {Type: AgentStatus, Run: "a.run-1", Status: "paused", Previous: "running"}},
		gap:    30 * time.Millisecond,
		err:    Errorf(http.StatusBadGateway, "bad_gateway", `app "a" did not answer`),
	}
	h := New(svc, http.NotFoundHandler(), &Options{Heartbeat: 10 * time.Millisecond})

	// Events with IDs from 1, keep-alive comments while quiet, a late error
	// as the last event.
	w := post(t, h, "/v1/agents/a.helper/run?stream=1", `{"message":"hi"}`)
	body := w.Body.String()
	for _, want := range []string{
		"id: 1\nevent: started\ndata: {\"type\":\"started\",\"run\":\"a.run-1\",\"status\":\"running\"}\n\n",
		"id: 2\nevent: status\ndata: {\"type\":\"status\",\"run\":\"a.run-1\",\"status\":\"paused\",\"previous\":\"running\"}\n\n",
		": keep-alive\n\n",
		"event: error\ndata: {\"error\":{\"code\":\"bad_gateway\",\"message\":\"app \\\"a\\\" did not answer\"}}\n\n",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("stream lacks %q:\n%s", want, body)
		}
	}
	if ct := w.Header().Get("Content-Type"); w.Code != 200 || ct != "text/event-stream" {
		t.Errorf("status %d, content type %q", w.Code, ct)
	}

	// An error before the first event is a JSON error; Accept selects the
	// stream too.
	w = post(t, h, "/v1/agents/a.nobody/run", `{"message":"hi"}`, "Accept", "text/event-stream")
	if w.Code != 404 || !strings.Contains(w.Body.String(), `"message":"app \"a\" has no agent \"nobody\""`) {
		t.Errorf("unknown agent: %d %s", w.Code, w.Body)
	}
	// The message is checked before anything runs.
	w = post(t, h, "/v1/agents/a.helper/run?stream=1", `{"message":" "}`)
	if w.Code != 400 || !strings.Contains(w.Body.String(), `\"message\" is required`) {
		t.Errorf("empty message: %d %s", w.Code, w.Body)
	}
}

func TestAgentRunOpErrors(t *testing.T) {
	for _, tc := range []struct {
		paused     int
		path, body string
		status     int
		want       string
	}{
		{0, "resume", `{"payload":"yes"}`, 404, `agent a.helper has no paused run to resume: start one with POST /v1/agents/a.helper/run`},
		{2, "resume", `{"payload":"yes"}`, 409, `agent a.helper has 2 paused runs: a.run-1, a.run-2; name one in the body, {\"run\": \"a.run-1\"}`},
		{25, "resume", ``, 409, `agent a.helper has more than 20 paused runs: a.run-1, a.run-2, `},
		{25, "resume", ``, 409, `a.run-20, ...; name one`},
		{1, "resume", `{"payload":"yes"}`, 200, `"id":"a.run-1","app":"","run_id":"","workflow":"","status":"running","result":"yes"`},
		{1, "stop", `{"run":"a.run-7"}`, 200, `"id":"a.run-7","app":"","run_id":"","workflow":"","status":"cancelled"`},
		{1, "pause", `{"run":"run-7"}`, 200, `"id":"a.run-7","app":"","run_id":"","workflow":"","status":"paused"`},
		{1, "stop", `{"payload":"x"}`, 400, `\"payload\" and \"signal\" are for resume, not stop`},
		{1, "pause", `{"signal":"go"}`, 400, `\"payload\" and \"signal\" are for resume, not pause`},
		{1, "pause", `[1]`, 400, `request body must be a JSON object`},
	} {
		h := New(&fakeRuns{paused: tc.paused}, http.NotFoundHandler(), nil)
		w := post(t, h, "/v1/agents/a.helper/"+tc.path, tc.body)
		if w.Code != tc.status || !strings.Contains(w.Body.String(), tc.want) {
			t.Errorf("%d paused, %s %s: %d %s, want %d with %s", tc.paused, tc.path, tc.body, w.Code, w.Body, tc.status, tc.want)
		}
	}
	// A run of another workflow is not the agent's.
	h := New(&fakeRuns{}, http.NotFoundHandler(), nil)
	w := post(t, h, "/v1/agents/a.other/stop", `{"run":"run-3"}`)
	if w.Code != 404 || !strings.Contains(w.Body.String(), `run a.run-3 is not a run of agent a.other (it runs workflow \"helper\"): use POST /v1/runs/a.run-3/stop`) {
		t.Errorf("run of another workflow: %d %s", w.Code, w.Body)
	}
}
