// Package patterntest holds the fixtures the workflow pattern tests share:
// a request-recording provider playing replay scripts, in-memory MCP
// servers for agents, and a keyword-counting embeddings endpoint. It is
// imported from _test files only.
//
//	planner, rec := patterntest.Scripted(t, "planner", script)
//	servers := patterntest.Connect(t, "words", wordsServer())
//	worker := patterntest.NewAgent(t, "counter", servers, "words")
package patterntest

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
)

// Recorder is an llm.Provider that remembers every request it is given.
type Recorder struct {
	llm.Provider
	mu   sync.Mutex
	reqs []*llm.Request
}

// Complete records req and passes it on.
func (r *Recorder) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	r.record(req)
	return r.Provider.Complete(ctx, req)
}

// Stream records req and passes it on.
func (r *Recorder) Stream(ctx context.Context, req *llm.Request) iter.Seq2[*llm.Chunk, error] {
	r.record(req)
	return r.Provider.Stream(ctx, req)
}

func (r *Recorder) record(req *llm.Request) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
}

// Requests returns the requests so far, oldest first.
func (r *Recorder) Requests() []*llm.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*llm.Request(nil), r.reqs...)
}

// Prompt returns the text of the last message of request i; the test
// fails when there were not that many requests.
func (r *Recorder) Prompt(t *testing.T, i int) string {
	t.Helper()
	reqs := r.Requests()
	if i >= len(reqs) {
		t.Fatalf("request %d of %d asked for", i, len(reqs))
	}
	msgs := reqs[i].Messages
	return msgs[len(msgs)-1].Text()
}

// Replay returns a replay provider playing the script text (YAML, named
// file in errors), recording its requests.
func Replay(t *testing.T, file, script string) *Recorder {
	t.Helper()
	s, err := replay.Parse([]byte(script), file)
	if err != nil {
		t.Fatal(err)
	}
	return &Recorder{Provider: replay.New(s, nil)}
}

// Scripted returns an LLM named name playing the script text (YAML), and
// the recorder of its requests.
func Scripted(t *testing.T, name, script string) (*llm.LLM, *Recorder) {
	t.Helper()
	return ScriptedWithTools(t, name, nil, script)
}

// ScriptedWithTools is [Scripted] for an LLM with the tools of src (which
// may be nil).
func ScriptedWithTools(t *testing.T, name string, src llm.ToolSource, script string) (*llm.LLM, *Recorder) {
	t.Helper()
	rec := Replay(t, name+".yaml", script)
	return llm.New(src, rec, &llm.Options{Name: name}), rec
}

// Servers implements agent.Servers over in-memory MCP sessions to real
// go-sdk servers, by server name. Only tools are offered.
type Servers map[string]*mcp.ClientSession

var _ agent.Servers = Servers(nil)

func (s Servers) session(name string) (*mcp.ClientSession, error) {
	cs, ok := s[name]
	if !ok {
		return nil, fmt.Errorf("no server named %q", name)
	}
	return cs, nil
}

// ListTools lists the tools of server.
func (s Servers) ListTools(ctx context.Context, server string) ([]*mcp.Tool, error) {
	cs, err := s.session(server)
	if err != nil {
		return nil, err
	}
	res, err := cs.ListTools(ctx, nil)
	if err != nil {
		return nil, err
	}
	return res.Tools, nil
}

// CallTool calls a tool of server.
func (s Servers) CallTool(ctx context.Context, server string, p *mcp.CallToolParams) (*mcp.CallToolResult, error) {
	cs, err := s.session(server)
	if err != nil {
		return nil, err
	}
	return cs.CallTool(ctx, p)
}

// ListResources offers no resources.
func (Servers) ListResources(context.Context, string) ([]*mcp.Resource, error) { return nil, nil }

// ListResourceTemplates offers no resource templates.
func (Servers) ListResourceTemplates(context.Context, string) ([]*mcp.ResourceTemplate, error) {
	return nil, nil
}

// ReadResource fails: there are no resources.
func (Servers) ReadResource(context.Context, string, string) (*mcp.ReadResourceResult, error) {
	return nil, fmt.Errorf("no resources")
}

// ListPrompts offers no prompts.
func (Servers) ListPrompts(context.Context, string) ([]*mcp.Prompt, error) { return nil, nil }

// GetPrompt fails: there are no prompts.
func (Servers) GetPrompt(context.Context, string, string, map[string]string) (*mcp.GetPromptResult, error) {
	return nil, fmt.Errorf("no prompts")
}

// Connect serves srv in process as server name and returns the sessions;
// they are closed when the test ends.
func Connect(t *testing.T, name string, srv *mcp.Server) Servers {
	t.Helper()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "v0"}, nil).Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs.Close()
		ss.Wait()
	})
	return Servers{name: cs}
}

// NewAgent returns an agent named name ("You are NAME.") using the named
// servers.
func NewAgent(t *testing.T, name string, servers agent.Servers, serverNames ...string) *agent.Agent {
	t.Helper()
	a, err := agent.New(agent.Config{Name: name, Instruction: "You are " + name + ".", ServerNames: serverNames}, servers)
	if err != nil {
		t.Fatal(err)
	}
	return a
}
