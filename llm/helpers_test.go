package llm_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
	"github.com/mcp-agent-go/mcp-agent/llm"
)

// testAgent is an llm.ToolSource over real MCP client sessions, with tools
// namespaced server_tool like package agent does.
type testAgent struct {
	name, instruction string
	sessions          map[string]*mcp.ClientSession
}

func (a *testAgent) Name() string        { return a.name }
func (a *testAgent) Instruction() string { return a.instruction }

func (a *testAgent) ListTools(ctx context.Context) ([]*mcp.Tool, error) {
	var out []*mcp.Tool
	for server, s := range a.sessions {
		res, err := s.ListTools(ctx, nil)
		if err != nil {
			return nil, err
		}
		for _, t := range res.Tools {
			c := *t
			c.Name = server + "_" + t.Name
			out = append(out, &c)
		}
	}
	return out, nil
}

func (a *testAgent) CallTool(ctx context.Context, name string, args json.RawMessage) (*mcp.CallToolResult, error) {
	for server, s := range a.sessions {
		if tool, ok := strings.CutPrefix(name, server+"_"); ok {
			return s.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
		}
	}
	return nil, fmt.Errorf("unknown tool %q", name)
}

// toolServer holds the state of the in-process "calc" test server.
type toolServer struct {
	inFlight, maxInFlight atomic.Int32
	calls                 atomic.Int32

	barrierN    int32
	barrierMu   sync.Mutex
	barrierAt   int32
	barrierCh   chan struct{}
	slowEntered chan struct{}
}

type addIn struct {
	A int `json:"a"`
	B int `json:"b"`
}

type idIn struct {
	ID string `json:"id"`
}

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

// newCalcServer returns an in-process MCP server with tools:
// add (a+b), fail (IsError), probe (records concurrency), barrier (returns
// only once barrierN calls are in flight: proves they run concurrently),
// slow (blocks until cancelled) and image.
func newCalcServer(ts *toolServer) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "calc", Version: "1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "add", Description: "adds a and b"}, func(ctx context.Context, _ *mcp.CallToolRequest, in addIn) (*mcp.CallToolResult, any, error) {
		ts.calls.Add(1)
		return text(fmt.Sprint(in.A + in.B)), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "fail", Description: "always fails"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		return nil, nil, fmt.Errorf("disk on fire")
	})
	mcp.AddTool(s, &mcp.Tool{Name: "probe", Description: "records concurrency"}, func(ctx context.Context, _ *mcp.CallToolRequest, in idIn) (*mcp.CallToolResult, any, error) {
		n := ts.inFlight.Add(1)
		defer ts.inFlight.Add(-1)
		for {
			m := ts.maxInFlight.Load()
			if n <= m || ts.maxInFlight.CompareAndSwap(m, n) {
				break
			}
		}
		return text("probe " + in.ID), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "barrier", Description: "waits for its peers"}, func(ctx context.Context, _ *mcp.CallToolRequest, in idIn) (*mcp.CallToolResult, any, error) {
		ts.barrierMu.Lock()
		ts.barrierAt++
		if ts.barrierAt == ts.barrierN {
			close(ts.barrierCh)
		}
		ch := ts.barrierCh
		ts.barrierMu.Unlock()
		select {
		case <-ch:
			return text("barrier " + in.ID), nil, nil
		case <-time.After(10 * time.Second):
			return nil, nil, fmt.Errorf("barrier %s: peers never arrived (calls not concurrent)", in.ID)
		case <-ctx.Done():
			return nil, nil, ctx.Err()
		}
	})
	mcp.AddTool(s, &mcp.Tool{Name: "slow", Description: "blocks until cancelled"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		if ts.slowEntered != nil {
			close(ts.slowEntered)
		}
		<-ctx.Done()
		return nil, nil, ctx.Err()
	})
	mcp.AddTool(s, &mcp.Tool{Name: "image", Description: "returns an image"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{
			&mcp.TextContent{Text: "a pixel"},
			&mcp.ImageContent{Data: []byte{0x89, 'P', 'N', 'G'}, MIMEType: "image/png"},
			&mcp.EmbeddedResource{Resource: &mcp.ResourceContents{URI: "file:///a.txt", MIMEType: "text/plain", Text: "hello"}},
		}}, nil, nil
	})
	return s
}

// connectInMemory connects a client session to server over in-memory
// transports; both ends close at cleanup.
func connectInMemory(t testing.TB, server *mcp.Server) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := server.Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cs.Close()
		ss.Wait()
	})
	return cs
}

// calcAgent returns an agent with the in-process calc server.
func calcAgent(t testing.TB) (*testAgent, *toolServer) {
	ts := &toolServer{}
	return &testAgent{
		name:        "calculator",
		instruction: "You add numbers.",
		sessions:    map[string]*mcp.ClientSession{"calc": connectInMemory(t, newCalcServer(ts))},
	}, ts
}

// everythingSession starts server-everything over stdio.
func everythingSession(t testing.TB, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	command, args := testenv.Everything(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "1"}, opts).Connect(ctx, &mcp.CommandTransport{Command: exec.Command(command, args...)}, nil)
	if err != nil {
		t.Fatalf("starting server-everything: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// capture is a Provider wrapper that records requests.
type capture struct {
	llm.Provider
	mu   sync.Mutex
	reqs []*llm.Request
}

func (c *capture) record(req *llm.Request) {
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := *req
	cp.Messages = append([]llm.Message(nil), req.Messages...)
	c.reqs = append(c.reqs, &cp)
}

func (c *capture) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	c.record(req)
	return c.Provider.Complete(ctx, req)
}

func (c *capture) requests() []*llm.Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]*llm.Request(nil), c.reqs...)
}

func roles(msgs []llm.Message) string {
	var rs []string
	for _, m := range msgs {
		rs = append(rs, string(m.Role))
	}
	return strings.Join(rs, ",")
}
