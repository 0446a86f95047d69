package declarative_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// load parses a config file written in the test.
func load(t *testing.T, yaml string) *config.Settings {
	t.Helper()
	s, err := config.LoadBytes("mcp_agent.config.yaml", []byte(yaml), config.LoadOptions{NoEnvOverrides: true, Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatalf("load config: %v", err)
	}
	return s
}

// fleet makes agent-backed LLMs playing replay scripts (YAML text) by agent
// name, and records what each agent was asked. An agent without a script
// answers "unscripted NAME"; with no scripts at all, building one fails.
type fleet struct {
	t       *testing.T
	scripts map[string]string

	mu     sync.Mutex
	builds map[string]int
	reqs   map[string][]*llm.Request
}

func newFleet(t *testing.T, scripts map[string]string) *fleet {
	return &fleet{t: t, scripts: scripts, builds: map[string]int{}, reqs: map[string][]*llm.Request{}}
}

func (f *fleet) agent(_ context.Context, spec config.AgentSpec) (llm.AugmentedLLM, error) {
	text, ok := f.scripts[spec.Name]
	switch {
	case !ok && f.scripts == nil:
		return nil, fmt.Errorf("no script for agent %q", spec.Name)
	case !ok: // built but not expected to be called
		text = "turns: [{text: unscripted " + spec.Name + "}]"
	}
	s, err := replay.Parse([]byte(text), spec.Name+".yaml")
	if err != nil {
		f.t.Fatal(err)
	}
	f.mu.Lock()
	f.builds[spec.Name]++
	f.mu.Unlock()
	return llm.New(nil, &recorder{Provider: replay.New(s, nil), name: spec.Name, f: f}, &llm.Options{Name: spec.Name}), nil
}

// asked returns the last user message of each request agent name got.
func (f *fleet) asked(name string) []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, r := range f.reqs[name] {
		for i := len(r.Messages) - 1; i >= 0; i-- {
			if r.Messages[i].Role == llm.RoleUser {
				out = append(out, r.Messages[i].Text())
				break
			}
		}
	}
	return out
}

func (f *fleet) calls(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.reqs[name])
}

type recorder struct {
	llm.Provider
	name string
	f    *fleet
}

func (r *recorder) note(req *llm.Request) {
	r.f.mu.Lock()
	r.f.reqs[r.name] = append(r.f.reqs[r.name], req)
	r.f.mu.Unlock()
}

func (r *recorder) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	r.note(req)
	return r.Provider.Complete(ctx, req)
}

func (r *recorder) Stream(ctx context.Context, req *llm.Request) iter.Seq2[*llm.Chunk, error] {
	r.note(req)
	return r.Provider.Stream(ctx, req)
}

// embeddingsAPI serves POST /v1/embeddings with keyword vectors: one
// dimension per keyword, counting its occurrences (plus a small constant so
// no vector is zero).
func embeddingsAPI(t *testing.T, keywords ...string) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/embeddings" {
			http.NotFound(w, r)
			return
		}
		var body struct {
			Model string   `json:"model"`
			Input []string `json:"input"`
		}
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		type item struct {
			Object    string    `json:"object"`
			Index     int       `json:"index"`
			Embedding []float64 `json:"embedding"`
		}
		data := []item{}
		for i, in := range body.Input {
			v := make([]float64, len(keywords)+1)
			v[len(keywords)] = 0.01
			for j, k := range keywords {
				v[j] = float64(strings.Count(strings.ToLower(in), k))
			}
			data = append(data, item{"embedding", i, v})
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{
			"object": "list", "model": body.Model, "data": data,
			"usage": map[string]int{"prompt_tokens": len(body.Input), "total_tokens": len(body.Input)},
		})
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/v1"
}

// weatherServer is a real go-sdk MCP server with one tool, connected in
// memory; it implements router.ToolLister for the server "weather".
type weatherServer struct{ cs *mcp.ClientSession }

func newWeatherServer(t *testing.T) weatherServer {
	t.Helper()
	srv := mcp.NewServer(&mcp.Implementation{Name: "weather", Version: "1"}, nil)
	type in struct {
		City string `json:"city"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "forecast", Description: "Tomorrow's weather forecast for a city."}, func(ctx context.Context, req *mcp.CallToolRequest, a in) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "sunny in " + a.City}}}, nil, nil
	})
	ct, st := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(t.Context(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(t.Context(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close(); ss.Wait() })
	return weatherServer{cs}
}

func (w weatherServer) ListTools(ctx context.Context, server string) ([]*mcp.Tool, error) {
	if server != "weather" {
		return nil, fmt.Errorf("no server %q", server)
	}
	res, err := w.cs.ListTools(ctx, nil)
	if err != nil {
		return nil, err
	}
	return res.Tools, nil
}
