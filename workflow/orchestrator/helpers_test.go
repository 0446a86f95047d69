package orchestrator_test

import (
	"context"
	"fmt"
	"iter"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recorder is an llm.Provider that remembers every request it is given.
type recorder struct {
	llm.Provider
	mu   sync.Mutex
	reqs []*llm.Request
}

func (r *recorder) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	return r.Provider.Complete(ctx, req)
}

func (r *recorder) Stream(ctx context.Context, req *llm.Request) iter.Seq2[*llm.Chunk, error] {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	return r.Provider.Stream(ctx, req)
}

func (r *recorder) requests() []*llm.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*llm.Request(nil), r.reqs...)
}

// prompt returns the text of the last message of request i.
func (r *recorder) prompt(t *testing.T, i int) string {
	t.Helper()
	reqs := r.requests()
	if i >= len(reqs) {
		t.Fatalf("request %d of %d asked for", i, len(reqs))
	}
	msgs := reqs[i].Messages
	return msgs[len(msgs)-1].Text()
}

// scripted returns an LLM named name (with tools from src, which may be
// nil) playing the script text (YAML), and the recorder of its requests.
func scripted(t *testing.T, name string, src llm.ToolSource, script string) (*llm.LLM, *recorder) {
	t.Helper()
	s, err := replay.Parse([]byte(script), name+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{Provider: replay.New(s, nil)}
	return llm.New(src, rec, &llm.Options{Name: name}), rec
}

// failing is an AugmentedLLM whose every turn fails with err, after
// waiting for release (if non-nil) or for ctx to end.
type failing struct {
	name    string
	err     error
	release chan struct{}
}

func (f *failing) Name() string { return f.name }

func (f *failing) Generate(ctx context.Context, _ []llm.Message, _ *llm.RequestParams) ([]llm.Message, error) {
	if f.release != nil {
		select {
		case <-f.release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	return nil, f.err
}

func (f *failing) Stream(ctx context.Context, msgs []llm.Message, p *llm.RequestParams) iter.Seq2[*llm.Event, error] {
	return func(yield func(*llm.Event, error) bool) {
		_, err := f.Generate(ctx, msgs, p)
		yield(nil, err)
	}
}

// memServers implements agent.Servers over in-memory MCP sessions to real
// go-sdk servers. Only tools are offered.
type memServers map[string]*mcp.ClientSession

func (s memServers) session(name string) (*mcp.ClientSession, error) {
	cs, ok := s[name]
	if !ok {
		return nil, fmt.Errorf("no server named %q", name)
	}
	return cs, nil
}

func (s memServers) ListTools(ctx context.Context, server string) ([]*mcp.Tool, error) {
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

func (s memServers) CallTool(ctx context.Context, server string, p *mcp.CallToolParams) (*mcp.CallToolResult, error) {
	cs, err := s.session(server)
	if err != nil {
		return nil, err
	}
	return cs.CallTool(ctx, p)
}

func (memServers) ListResources(context.Context, string) ([]*mcp.Resource, error) { return nil, nil }
func (memServers) ListResourceTemplates(context.Context, string) ([]*mcp.ResourceTemplate, error) {
	return nil, nil
}
func (memServers) ReadResource(context.Context, string, string) (*mcp.ReadResourceResult, error) {
	return nil, fmt.Errorf("no resources")
}
func (memServers) ListPrompts(context.Context, string) ([]*mcp.Prompt, error) { return nil, nil }
func (memServers) GetPrompt(context.Context, string, string, map[string]string) (*mcp.GetPromptResult, error) {
	return nil, fmt.Errorf("no prompts")
}

// connect serves srv in process as server name and returns the sessions;
// they are closed when the test ends.
func connect(t *testing.T, name string, srv *mcp.Server) memServers {
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
	return memServers{name: cs}
}

// newAgent returns an agent using the named servers.
func newAgent(t *testing.T, name string, servers agent.Servers, serverNames ...string) *agent.Agent {
	t.Helper()
	a, err := agent.New(agent.Config{Name: name, Instruction: "You are " + name + ".", ServerNames: serverNames}, servers)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// wordsServer is an MCP server with a tool "count" that counts the words
// of its text argument.
func wordsServer() *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "words", Version: "v0"}, nil)
	type in struct {
		Text string `json:"text"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "count", Description: "Count the words of a text."}, func(ctx context.Context, _ *mcp.CallToolRequest, a in) (*mcp.CallToolResult, any, error) {
		n := 0
		inWord := false
		for _, r := range a.Text {
			if r == ' ' || r == '\n' || r == '\t' {
				inWord = false
				continue
			}
			if !inWord {
				n++
			}
			inWord = true
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf("%d words", n)}}}, nil, nil
	})
	return srv
}
