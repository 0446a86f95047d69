package gateway

// Unit tests of what the conformance suite found missing (TestConformance
// finds it too, but only with the suite installed): 2026-07-28 results carry
// resultType, a sessionless server/discover works in PerSession mode, and a
// 2026-07-28 client's own capabilities reach a shared process.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// inProcessBackend serves srv over in-memory pipes, a StdioBackend without
// a process; it counts the connections opened.
type inProcessBackend struct {
	srv   *mcp.Server
	mu    sync.Mutex
	opens int
}

func (b *inProcessBackend) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	b.mu.Lock()
	b.opens++
	b.mu.Unlock()
	toServerR, toServerW := io.Pipe()
	fromServerR, fromServerW := io.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = b.srv.Run(context.Background(), &mcp.IOTransport{Reader: toServerR, Writer: fromServerW})
		fromServerW.Close()
	}()
	return &pipeConn{r: fromServerR, w: toServerW, done: done}, nil
}

func (b *inProcessBackend) String() string { return "in-process" }

func (b *inProcessBackend) openCount() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.opens
}

type pipeConn struct {
	r    *io.PipeReader
	w    *io.PipeWriter
	done chan struct{}
}

func (c *pipeConn) Read(p []byte) (int, error)  { return c.r.Read(p) }
func (c *pipeConn) Write(p []byte) (int, error) { return c.w.Write(p) }

// Close ends the server's input (it returns on EOF) and waits for it.
func (c *pipeConn) Close() error {
	c.w.Close()
	c.r.Close()
	<-c.done
	return nil
}

type callerOut struct {
	Sampling   bool   `json:"sampling"`
	ClientName string `json:"clientName"`
}

// callerServer has a tool that reports the capabilities and identity of its
// caller, as the server sees them.
func callerServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "caller-server", Version: "v1"}, nil)
	mcp.AddTool(s, &mcp.Tool{Name: "caller"}, func(ctx context.Context, req *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, callerOut, error) {
		var out callerOut
		if c := req.ClientCapabilities(); c != nil {
			//lint:ignore SA1019 sampling is what the gateway declares to shared processes.
			out.Sampling = c.Sampling != nil
		}
		if ci := req.ClientInfo(); ci != nil {
			out.ClientName = ci.Name
		}
		return nil, out, nil
	})
	return s
}

// post2026 sends one 2026-07-28 request (stateless: headers and _meta per
// request) and returns its JSON-RPC response.
func post2026(t *testing.T, endpoint, method, name, params string) map[string]json.RawMessage {
	t.Helper()
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"raw-client","version":"v0"}}`
	if params == "" {
		params = "{" + meta + "}"
	} else {
		params = "{" + params + "," + meta + "}"
	}
	h := map[string]string{"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": modern, "Mcp-Method": method}
	if name != "" {
		h["Mcp-Name"] = name
	}
	r := do(t, "POST", endpoint, `{"jsonrpc":"2.0","id":1,"method":"`+method+`","params":`+params+`}`, h)
	if r.status != 200 {
		t.Fatalf("%s: status %d: %s", method, r.status, r.body)
	}
	body := r.body
	if strings.HasPrefix(r.header.Get("Content-Type"), "text/event-stream") {
		for line := range bytes.Lines(r.body) {
			if d, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("data: ")); ok {
				body = d
			}
		}
	}
	var msg map[string]json.RawMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		t.Fatalf("%s: response %q: %v", method, r.body, err)
	}
	if msg["error"] != nil {
		t.Fatalf("%s: error %s", method, msg["error"])
	}
	return msg
}

func TestModernResultType(t *testing.T) {
	g, base := newTestGateway(t, nil)
	g.Register("t", &inProcessBackend{srv: callerServer()}, Shared)
	for _, tc := range []struct{ method, name, params string }{
		{"tools/list", "", ""},
		{"tools/call", "caller", `"name":"caller","arguments":{}`},
	} {
		msg := post2026(t, base+"/servers/t/mcp", tc.method, tc.name, tc.params)
		var res struct {
			ResultType string         `json:"resultType"`
			Meta       map[string]any `json:"_meta"`
		}
		if err := json.Unmarshal(msg["result"], &res); err != nil {
			t.Fatal(err)
		}
		if res.ResultType != "complete" {
			t.Errorf("%s: resultType = %q, want complete (required by 2026-07-28); result %s", tc.method, res.ResultType, msg["result"])
		}
		if res.Meta[mcp.MetaKeyServerInfo] == nil {
			t.Errorf("%s: no server info in _meta: %s", tc.method, msg["result"])
		}
	}
	// A 2025-11-25 session gets the result as the process sent it.
	cs := connect(t, base+"/servers/t/mcp", legacy, nil)
	res, err := cs.CallTool(testCtx(t), &mcp.CallToolParams{Name: "caller"})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := json.Marshal(res)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("resultType")) {
		t.Errorf("2025-11-25 result %s has a resultType", raw)
	}
}

func TestPerSessionDiscoverWithoutSession(t *testing.T) {
	g, base := newTestGateway(t, nil)
	b := &inProcessBackend{srv: callerServer()}
	g.Register("t", b, PerSession)
	for i := range 3 {
		msg := post2026(t, base+"/servers/t/mcp", "server/discover", "", "")
		var res struct {
			Capabilities *mcp.ServerCapabilities `json:"capabilities"`
			Meta         map[string]any          `json:"_meta"`
		}
		if err := json.Unmarshal(msg["result"], &res); err != nil {
			t.Fatal(err)
		}
		if res.Capabilities == nil || res.Capabilities.Tools == nil {
			t.Errorf("discover %d: capabilities = %s, want the server's (tools)", i, msg["result"])
		}
		if info, _ := res.Meta[mcp.MetaKeyServerInfo].(map[string]any); info["name"] != "caller-server" {
			t.Errorf("discover %d: server info = %v, want caller-server", i, res.Meta[mcp.MetaKeyServerInfo])
		}
	}
	if n := b.openCount(); n != 1 {
		t.Errorf("the server was started %d times for 3 discovers, want once (the answer is kept)", n)
	}
}

func TestCallerCapabilitiesForwarded(t *testing.T) {
	g, base := newTestGateway(t, nil)
	g.Register("t", &inProcessBackend{srv: callerServer()}, Shared)
	endpoint := base + "/servers/t/mcp"
	for _, tc := range []struct {
		version string
		want    callerOut
	}{
		// A stateless client cannot answer sampling: the process sees
		// its capabilities, not the gateway's.
		{modern, callerOut{Sampling: false, ClientName: "test-client"}},
		// A session's process sees the gateway's handshake, which
		// relays sampling.
		{legacy, callerOut{Sampling: true, ClientName: "mcp-agent-gateway"}},
	} {
		cs := connect(t, endpoint, tc.version, nil)
		res, err := cs.CallTool(testCtx(t), &mcp.CallToolParams{Name: "caller"})
		if err != nil {
			t.Fatal(err)
		}
		var got callerOut
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatal(err)
		}
		if got != tc.want {
			t.Errorf("%s client: the server saw %+v, want %+v", tc.version, got, tc.want)
		}
	}
}
