package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// chatAPI is an OpenAI-compatible chat completions server on loopback that
// answers "ok" and records, by system prompt, the parameters of each
// request it gets.
type chatAPI struct {
	mu   sync.Mutex
	reqs map[string][]chatParams
}

// chatParams are the request parameters an agent can declare, as sent.
type chatParams struct {
	Model     string   `json:"model"`
	Temp      *float64 `json:"temperature"`
	MaxTokens int      `json:"max_completion_tokens"`
}

func newChatAPI(t *testing.T) (*chatAPI, string) {
	api := &chatAPI{reqs: map[string][]chatParams{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/chat/completions" {
			http.NotFound(w, r)
			return
		}
		var body struct {
			chatParams
			Stream   bool `json:"stream"`
			Messages []struct {
				Role    string `json:"role"`
				Content any    `json:"content"`
			} `json:"messages"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		system := ""
		for _, m := range body.Messages {
			if m.Role == "system" || m.Role == "developer" {
				system = fmt.Sprint(m.Content)
			}
		}
		api.mu.Lock()
		api.reqs[system] = append(api.reqs[system], body.chatParams)
		api.mu.Unlock()
		usage := `{"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4}`
		if !body.Stream {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"id": "c1", "object": "chat.completion", "created": 1, "model": %q, "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}], "usage": %s}`, body.Model, usage)
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, c := range []string{
			`"choices": [{"index": 0, "delta": {"role": "assistant", "content": "ok"}, "finish_reason": null}]`,
			`"choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]`,
			`"choices": [], "usage": ` + usage,
		} {
			fmt.Fprintf(w, "data: {\"id\": \"c1\", \"object\": \"chat.completion.chunk\", \"created\": 1, \"model\": %q, %s}\n\n", body.Model, c)
		}
		fmt.Fprint(w, "data: [DONE]\n\n")
	}))
	t.Cleanup(srv.Close)
	return api, srv.URL + "/v1"
}

// take returns the recorded requests and forgets them.
func (a *chatAPI) take() map[string][]chatParams {
	a.mu.Lock()
	defer a.mu.Unlock()
	got := a.reqs
	a.reqs = map[string][]chatParams{}
	return got
}

// TestRunAgentRequestParams: the request parameters declared on agents
// reach the model API, in a declared workflow and for a single agent;
// --model wins over a declared model.
func TestRunAgentRequestParams(t *testing.T) {
	api, url := newChatAPI(t)
	cfg := writeConfig(t, t.TempDir(), fmt.Sprintf(`
openai:
  api_key: sk-test
  base_url: %s
  default_model: gpt-4o
agents:
  definitions:
    - {name: checker, instruction: Check., model: gpt-4o-mini, temperature: 0, max_tokens: 256}
    - {name: writer, instruction: Write., temperature: 1.2, max_tokens: 900}
workflows:
  review: {type: parallel, agents: [checker, writer]}
`, url))
	f := func(v float64) *float64 { return &v }

	if _, errOut, err := run(t, "run", "--config", cfg, "--provider", "openai", "--workflow", "review", "Check this"); err != nil {
		t.Fatalf("run --workflow: %v\n%s", err, errOut)
	}
	want := map[string][]chatParams{
		"Check.": {{Model: "gpt-4o-mini", Temp: f(0), MaxTokens: 256}},
		"Write.": {{Model: "gpt-4o", Temp: f(1.2), MaxTokens: 900}},
	}
	if diff := cmp.Diff(want, api.take()); diff != "" {
		t.Errorf("run --workflow: requests (-want +got):\n%s", diff)
	}

	if _, errOut, err := run(t, "run", "--config", cfg, "--provider", "openai", "--model", "gpt-4.1", "--workflow", "review", "Check this"); err != nil {
		t.Fatalf("run --workflow --model: %v\n%s", err, errOut)
	}
	want = map[string][]chatParams{
		"Check.": {{Model: "gpt-4.1", Temp: f(0), MaxTokens: 256}},
		"Write.": {{Model: "gpt-4.1", Temp: f(1.2), MaxTokens: 900}},
	}
	if diff := cmp.Diff(want, api.take()); diff != "" {
		t.Errorf("run --workflow --model: requests (-want +got):\n%s", diff)
	}

	out, errOut, err := run(t, "run", "--config", cfg, "--provider", "openai", "--agent", "checker", "Check this")
	if err != nil {
		t.Fatalf("run --agent: %v\n%s", err, errOut)
	}
	if strings.TrimSpace(out) != "ok" {
		t.Errorf("run --agent: stdout %q, want ok", out)
	}
	want = map[string][]chatParams{"Check.": {{Model: "gpt-4o-mini", Temp: f(0), MaxTokens: 256}}}
	if diff := cmp.Diff(want, api.take()); diff != "" {
		t.Errorf("run --agent: requests (-want +got):\n%s", diff)
	}
}

// TestRunAgentMaxIterations: an agent's declared max_iterations bounds its
// turn (on --script), and --max-iterations wins over it.
func TestRunAgentMaxIterations(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, `
agents:
  definitions:
    - {name: looper, instruction: Loop., max_iterations: 1}
`)
	script := writeConfig(t, t.TempDir(), `turns:
  - tool_calls: [{name: nowhere}]
  - text: done
`)
	_, errOut, err := run(t, "run", "--config", cfg, "--script", script, "Go")
	if err == nil || !strings.Contains(err.Error(), "model still called tools (nowhere) after 1 iterations") {
		t.Fatalf("run with max_iterations: 1: err %v, stderr:\n%s; want the iteration limit", err, errOut)
	}
	out, errOut, err := run(t, "run", "--config", cfg, "--script", script, "--max-iterations", "3", "Go")
	if err != nil || strings.TrimSpace(out) != "done" {
		t.Fatalf("run --max-iterations 3: %q, %v\n%s", out, err, errOut)
	}
}
