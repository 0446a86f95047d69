package gateway

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// headerServer has a tool whose region argument is mirrored in the
// Mcp-Param-Region header, and a tool that adds another such tool.
func headerServer() *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "header-server", Version: "v1"}, nil)
	schema := func(header string) json.RawMessage {
		return json.RawMessage(`{"type":"object","properties":{"region":{"type":"string","x-mcp-header":"` + header + `"}}}`)
	}
	echoRegion := func(_ context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var in struct{ Region string }
		_ = json.Unmarshal(req.Params.Arguments, &in)
		return text("region " + in.Region), nil
	}
	s.AddTool(&mcp.Tool{Name: "where", InputSchema: schema("Region")}, echoRegion)
	s.AddTool(&mcp.Tool{Name: "plain", InputSchema: json.RawMessage(`{"type":"object"}`)}, func(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		s.AddTool(&mcp.Tool{Name: "later", InputSchema: schema("Zone")}, echoRegion)
		return text("added"), nil
	})
	return s
}

// postWithHeaders sends a 2026-07-28 tools/call of tool with region as
// argument and header as Mcp-Param-Region (none if empty), returning the
// HTTP status and the JSON-RPC error code (0 if none).
func postWithHeaders(t *testing.T, endpoint, tool, param, region, header string) (int, int64) {
	t.Helper()
	h := map[string]string{"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": modern, "Mcp-Method": "tools/call", "Mcp-Name": tool}
	if header != "" {
		h["Mcp-Param-"+param] = header
	}
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"` + tool + `","arguments":{"region":"` + region + `"},` +
		`"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"raw","version":"v0"}}}}`
	r := do(t, "POST", endpoint, body, h)
	var resp struct {
		Error *struct {
			Code int64 `json:"code"`
		} `json:"error"`
	}
	b := r.body
	if i := strings.Index(string(b), "{"); i >= 0 {
		b = b[i:]
	}
	_ = json.Unmarshal([]byte(strings.SplitN(string(b), "\n", 2)[0]), &resp)
	if resp.Error != nil {
		return r.status, resp.Error.Code
	}
	return r.status, 0
}

// Mcp-Param-* headers of 2026-07-28 calls are validated against the
// x-mcp-header annotations of the stdio server's tools, also of tools it
// adds later.
func TestParamHeaders(t *testing.T) {
	g, base := newTestGateway(t, nil)
	g.Register("h", &inProcessBackend{srv: headerServer()}, Shared)
	endpoint := base + "/servers/h/mcp"
	s := g.lookup("h").stdio

	for _, tc := range []struct {
		name, header string
		status       int
		code         int64
	}{
		{"matching", "eu", 200, 0},
		{"base64", "=?base64?ZXU=?=", 200, 0},
		{"mismatch", "us", 400, -32020},
		{"missing", "", 400, -32020},
		{"invalid base64", "=?base64?ZX!!U=?=", 400, -32020},
	} {
		// Calls of annotated tools are left to the SDK's handler, which
		// checks the headers (not to the stateless fast path).
		before := s.served.Load()
		status, code := postWithHeaders(t, endpoint, "where", "Region", "eu", tc.header)
		if status != tc.status || code != tc.code {
			t.Errorf("%s header %q: status %d, code %d; want %d, %d", tc.name, tc.header, status, code, tc.status, tc.code)
		}
		if n := s.served.Load() - before; n != 0 {
			t.Errorf("%s header %q: the fast path answered %d requests, want 0", tc.name, tc.header, n)
		}
	}
	before := s.served.Load()
	if status, code := postWithHeaders(t, endpoint, "plain", "Region", "eu", ""); status != 200 || code != 0 {
		t.Errorf("tool without annotations: status %d, code %d; want 200, 0", status, code)
	}
	if n := s.served.Load() - before; n != 1 {
		t.Errorf("tool without annotations: the fast path answered %d requests, want 1", n)
	}

	// "plain" added a tool, which the gateway learns from the server's
	// tools/list_changed.
	waitFor(t, 20*time.Second, func() bool {
		status, code := postWithHeaders(t, endpoint, "later", "Zone", "eu", "us")
		return status == 400 && code == -32020
	})
	if status, code := postWithHeaders(t, endpoint, "later", "Zone", "eu", "eu"); status != 200 || code != 0 {
		t.Errorf("matching header of a tool added later: status %d, code %d; want 200, 0", status, code)
	}
}
