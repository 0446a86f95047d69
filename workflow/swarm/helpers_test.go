package swarm_test

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

// scriptedProvider returns a replay provider playing the script text
// (YAML), recording its requests.
func scriptedProvider(t *testing.T, script string) *recorder {
	t.Helper()
	s, err := replay.Parse([]byte(script), "swarm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return &recorder{Provider: replay.New(s, nil)}
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

// newAgent returns an agent with function tools, using the named servers.
func newAgent(t *testing.T, name, instruction string, servers agent.Servers, serverNames []string, tools ...agent.Tool) *agent.Agent {
	t.Helper()
	a, err := agent.New(agent.Config{Name: name, Instruction: instruction, ServerNames: serverNames, Tools: tools}, servers)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// ledgerServer is an MCP server with a tool "balance" returning an
// account's balance.
func ledgerServer() *mcp.Server {
	srv := mcp.NewServer(&mcp.Implementation{Name: "ledger", Version: "v0"}, nil)
	type in struct {
		Account string `json:"account"`
	}
	mcp.AddTool(srv, &mcp.Tool{Name: "balance", Description: "The balance of an account."}, func(ctx context.Context, _ *mcp.CallToolRequest, a in) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf("account %s: -42.00 EUR", a.Account)}}}, nil, nil
	})
	return srv
}
