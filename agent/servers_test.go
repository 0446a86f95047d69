package agent_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
)

// sessionServers implements agent.Servers over real MCP client sessions, by
// server name: the test-only stand-in for the app's server registry.
type sessionServers struct {
	sessions map[string]*mcp.ClientSession
	// listCalls counts ListTools calls per server.
	mu        sync.Mutex
	listCalls map[string]int
}

var _ agent.Servers = (*sessionServers)(nil)

func (s *sessionServers) session(name string) (*mcp.ClientSession, error) {
	cs, ok := s.sessions[name]
	if !ok {
		return nil, fmt.Errorf("no server named %q", name)
	}
	return cs, nil
}

func collect[T any](seq iter.Seq2[*T, error]) ([]*T, error) {
	var out []*T
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

func (s *sessionServers) ListTools(ctx context.Context, server string) ([]*mcp.Tool, error) {
	s.mu.Lock()
	s.listCalls[server]++
	s.mu.Unlock()
	cs, err := s.session(server)
	if err != nil {
		return nil, err
	}
	return collect(cs.Tools(ctx, nil))
}

func (s *sessionServers) listCount(server string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.listCalls[server]
}

func (s *sessionServers) CallTool(ctx context.Context, server string, p *mcp.CallToolParams) (*mcp.CallToolResult, error) {
	cs, err := s.session(server)
	if err != nil {
		return nil, err
	}
	return cs.CallTool(ctx, p)
}

func (s *sessionServers) ListResources(ctx context.Context, server string) ([]*mcp.Resource, error) {
	cs, err := s.session(server)
	if err != nil {
		return nil, err
	}
	return collect(cs.Resources(ctx, nil))
}

func (s *sessionServers) ListResourceTemplates(ctx context.Context, server string) ([]*mcp.ResourceTemplate, error) {
	cs, err := s.session(server)
	if err != nil {
		return nil, err
	}
	return collect(cs.ResourceTemplates(ctx, nil))
}

func (s *sessionServers) ReadResource(ctx context.Context, server, uri string) (*mcp.ReadResourceResult, error) {
	cs, err := s.session(server)
	if err != nil {
		return nil, err
	}
	return cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
}

func (s *sessionServers) ListPrompts(ctx context.Context, server string) ([]*mcp.Prompt, error) {
	cs, err := s.session(server)
	if err != nil {
		return nil, err
	}
	return collect(cs.Prompts(ctx, nil))
}

func (s *sessionServers) GetPrompt(ctx context.Context, server, name string, args map[string]string) (*mcp.GetPromptResult, error) {
	cs, err := s.session(server)
	if err != nil {
		return nil, err
	}
	return cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: name, Arguments: args})
}

// connect connects a client to each server over in-memory transports.
// close ends every session.
func connect(ctx context.Context, servers map[string]*mcp.Server) (ss *sessionServers, close func() error, err error) {
	ss = &sessionServers{sessions: make(map[string]*mcp.ClientSession), listCalls: make(map[string]int)}
	var closers []func() error
	close = func() error {
		var errs []error
		for _, c := range slices.Backward(closers) {
			errs = append(errs, c())
		}
		return errors.Join(errs...)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "agent-test", Version: "v0.0.1"}, nil)
	for _, name := range slices.Sorted(maps.Keys(servers)) {
		st, ct := mcp.NewInMemoryTransports()
		sss, err := servers[name].Connect(ctx, st, nil)
		if err != nil {
			close()
			return nil, nil, err
		}
		closers = append(closers, sss.Close)
		cs, err := client.Connect(ctx, ct, nil)
		if err != nil {
			close()
			return nil, nil, err
		}
		closers = append(closers, cs.Close)
		ss.sessions[name] = cs
	}
	return ss, close, nil
}

// connectT is connect for tests: it fails the test on error and closes the
// sessions when the test ends.
func connectT(t *testing.T, servers map[string]*mcp.Server) *sessionServers {
	t.Helper()
	ss, closeAll, err := connect(t.Context(), servers)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { closeAll() })
	return ss
}

// identityServer returns a server named name whose tools answer with
// "name/tool <arguments JSON>", so tests can see where a call was routed.
// It counts tool calls in calls, when non-nil.
func identityServer(name string, calls *atomic.Int64, tools ...string) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: name, Version: "v0.0.1"}, nil)
	for _, tool := range tools {
		addIdentityTool(s, name, tool, calls)
	}
	return s
}

func addIdentityTool(s *mcp.Server, server, tool string, calls *atomic.Int64) {
	s.AddTool(&mcp.Tool{Name: tool, Description: "tool " + tool + " of " + server, InputSchema: map[string]any{"type": "object"}},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if calls != nil {
				calls.Add(1)
			}
			args := string(req.Params.Arguments)
			if args == "" {
				args = "{}"
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: server + "/" + tool + " " + args}}}, nil
		})
}

// text returns the concatenated text content of res.
func text(res *mcp.CallToolResult) string {
	var s string
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			s += tc.Text
		}
	}
	return s
}

func toolNames(tools []*mcp.Tool) []string {
	out := make([]string, len(tools))
	for i, t := range tools {
		out[i] = t.Name
	}
	return out
}
