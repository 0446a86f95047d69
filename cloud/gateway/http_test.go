package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
)

type httpResult struct {
	status int
	header http.Header
	body   []byte
}

func do(t testing.TB, method, url, body string, header map[string]string) httpResult {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return httpResult{resp.StatusCode, resp.Header, b}
}

// jsonError decodes a gateway JSON error body.
func jsonError(t testing.TB, r httpResult) apiErrorBody {
	t.Helper()
	var e apiError
	if err := json.Unmarshal(r.body, &e); err != nil || e.Error.Code == "" {
		t.Fatalf("status %d body %q is not a JSON error (%v)", r.status, r.body, err)
	}
	if ct := r.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q, want application/json", ct)
	}
	return e.Error
}

func TestRESTStdio(t *testing.T) {
	for _, mode := range []Mode{Shared, PerSession} {
		t.Run(mode.String(), func(t *testing.T) {
			g, base := newTestGateway(t, nil)
			g.Register("t", testBackend("test"), mode)
			testREST(t, base+"/v1/servers/t")
		})
	}
}

func testREST(t *testing.T, api string) {
	t.Helper()
	r := do(t, "GET", api+"/tools", "", nil)
	var tools struct{ Tools []*mcp.Tool }
	if r.status != 200 || json.Unmarshal(r.body, &tools) != nil {
		t.Fatalf("tools: %d %s", r.status, r.body)
	}
	var names []string
	for _, tool := range tools.Tools {
		names = append(names, tool.Name)
	}
	if !contains(names, "echo") {
		t.Errorf("tools = %v", names)
	}

	r = do(t, "POST", api+"/call_tool", `{"name":"echo","arguments":{"message":"rest hi"}}`, nil)
	var res struct {
		Content []struct{ Type, Text string }
		IsError bool
	}
	if r.status != 200 || json.Unmarshal(r.body, &res) != nil || len(res.Content) != 1 || res.Content[0].Text != "rest hi" {
		t.Errorf("call_tool: %d %s", r.status, r.body)
	}

	r = do(t, "GET", api+"/resources", "", nil)
	var resources struct{ Resources []*mcp.Resource }
	if r.status != 200 || json.Unmarshal(r.body, &resources) != nil || len(resources.Resources) != 1 || resources.Resources[0].URI != "test://r" {
		t.Errorf("resources: %d %s", r.status, r.body)
	}
	r = do(t, "POST", api+"/read_resource", `{"uri":"test://r"}`, nil)
	var rr mcp.ReadResourceResult
	if r.status != 200 || json.Unmarshal(r.body, &rr) != nil || len(rr.Contents) != 1 || rr.Contents[0].Text != "hello resource" {
		t.Errorf("read_resource: %d %s", r.status, r.body)
	}
	r = do(t, "GET", api+"/prompts", "", nil)
	var prompts struct{ Prompts []*mcp.Prompt }
	if r.status != 200 || json.Unmarshal(r.body, &prompts) != nil || len(prompts.Prompts) != 1 || prompts.Prompts[0].Name != "greet" {
		t.Errorf("prompts: %d %s", r.status, r.body)
	}
	r = do(t, "POST", api+"/get_prompt", `{"name":"greet","arguments":{"name":"Ada"}}`, nil)
	if r.status != 200 || !strings.Contains(string(r.body), "Hello, Ada!") {
		t.Errorf("get_prompt: %d %s", r.status, r.body)
	}
}

func TestRESTErrors(t *testing.T) {
	g, base := newTestGateway(t, &Options{MaxRequestBytes: 1024, CallTimeout: 500 * time.Millisecond})
	g.Register("t", testBackend("test"), Shared)
	g.Register("stopped", StdioFunc(func(context.Context) (io.ReadWriteCloser, error) {
		return nil, fmt.Errorf("deployment is stopped: %w", ErrStopped)
	}), Shared)
	g.Register("broken", testBackend("exit"), Shared)
	api := base + "/v1/servers/"
	big := `{"name":"echo","arguments":{"message":"` + strings.Repeat("x", 2000) + `"}}`
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code, message            string
	}{
		{"unknown server", "GET", "nope/tools", "", 404, "not_found", `server "nope" not found`},
		{"unknown server call", "POST", "nope/call_tool", `{"name":"echo"}`, 404, "not_found", `server "nope" not found`},
		{"unknown operation", "GET", "t/list_tools", "", 404, "not_found", `unknown operation "list_tools": want one of tools, call_tool, resources, read_resource, prompts, get_prompt`},
		{"wrong method", "GET", "t/call_tool", "", 405, "method_not_allowed", `GET /v1/servers/t/call_tool is not supported: use POST`},
		{"truncated JSON", "POST", "t/call_tool", `{"name":`, 400, "bad_request", `request body is not valid JSON: it ends in the middle of a value`},
		{"syntax error", "POST", "t/call_tool", `{"name" "echo"}`, 400, "bad_request", `request body is not valid JSON: invalid character '"' after object key (at byte 9)`},
		{"empty body", "POST", "t/call_tool", ``, 400, "bad_request", `request body is empty: send a JSON object`},
		{"unknown field", "POST", "t/call_tool", `{"name":"echo","argumens":{}}`, 400, "bad_request", `request body has an unknown field "argumens"`},
		{"wrong type", "POST", "t/call_tool", `{"name":"echo","arguments":"x"}`, 400, "bad_request", `field "arguments" must be an object, not string`},
		{"not an object", "POST", "t/call_tool", `[1]`, 400, "bad_request", `request body must be a JSON object, not array`},
		{"trailing data", "POST", "t/call_tool", `{"name":"echo"} {}`, 400, "bad_request", `request body: data after the JSON object`},
		{"missing name", "POST", "t/call_tool", `{}`, 400, "bad_request", `"name" is required: the name of the tool to call`},
		{"missing uri", "POST", "t/read_resource", `{}`, 400, "bad_request", `"uri" is required: the URI of the resource to read`},
		{"missing prompt", "POST", "t/get_prompt", `{}`, 400, "bad_request", `"name" is required: the name of the prompt to get`},
		{"oversize", "POST", "t/call_tool", big, 413, "request_too_large", `request body exceeds 1024 bytes`},
		{"unknown tool", "POST", "t/call_tool", `{"name":"nope"}`, 400, "invalid_params", `server "t": unknown tool "nope"`},
		{"stopped", "POST", "stopped/call_tool", `{"name":"echo"}`, 503, "unavailable", `server "stopped" is stopped; start it to use it`},
		{"fails to start", "GET", "broken/tools", ``, 503, "unavailable", `server "broken" failed to start: it exited during the MCP handshake`},
		{"timeout", "POST", "t/call_tool", `{"name":"block"}`, 504, "timeout", ``},
		{"exit", "POST", "t/call_tool", `{"name":"crash"}`, 502, "bad_gateway", ``},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, api+tc.path, tc.body, nil)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d (body %s)", r.status, tc.status, r.body)
			}
			e := jsonError(t, r)
			if e.Code != tc.code {
				t.Errorf("code = %q, want %q", e.Code, tc.code)
			}
			switch tc.name {
			case "timeout":
				if !strings.HasPrefix(e.Message, `server "t" did not answer`) {
					t.Errorf("message = %q", e.Message)
				}
			case "exit":
				if !strings.HasPrefix(e.Message, `server "t" exited while handling tools/call`) {
					t.Errorf("message = %q", e.Message)
				}
			default:
				if e.Message != tc.message {
					t.Errorf("message = %q\nwant      %q", e.Message, tc.message)
				}
			}
		})
	}
	// After the timeout and the exit, the server works again.
	r := do(t, "POST", api+"t/call_tool", `{"name":"echo","arguments":{"message":"ok"}}`, nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"ok"`) {
		t.Errorf("after errors: %d %s", r.status, r.body)
	}
}

func TestMCPEndpointErrors(t *testing.T) {
	g, base := newTestGateway(t, &Options{MaxRequestBytes: 1024})
	g.Register("t", testBackend("test"), Shared)
	mcpHeaders := map[string]string{"Accept": "application/json, text/event-stream"}
	for _, tc := range []struct {
		name, method, path, body string
		header                   map[string]string
		status                   int
		code, message            string
	}{
		{"unknown server", "POST", "/servers/nope/mcp", `{}`, mcpHeaders, 404, "not_found", `server "nope" not found`},
		{"bad JSON", "POST", "/servers/t/mcp", `{"jsonrpc":`, mcpHeaders, 400, "bad_request", ""},
		{"oversize", "POST", "/servers/t/mcp", `{"jsonrpc":"2.0","id":1,"method":"ping","params":{"x":"` + strings.Repeat("y", 2000) + `"}}`, mcpHeaders, 413, "request_too_large", "request body exceeds 1024 bytes"},
		{"unknown session", "POST", "/servers/t/mcp", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`, map[string]string{"Accept": "application/json, text/event-stream", "Mcp-Session-Id": "nope"}, 404, "not_found", "session not found"},
		{"no such endpoint", "GET", "/other", ``, nil, 404, "not_found", "no such endpoint /other: MCP is served at /servers/{name}/mcp, REST at /v1/servers/{name}/{tools,call_tool,resources,read_resource,prompts,get_prompt}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, tc.method, base+tc.path, tc.body, tc.header)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d (body %s)", r.status, tc.status, r.body)
			}
			e := jsonError(t, r)
			if e.Code != tc.code {
				t.Errorf("code = %q, want %q", e.Code, tc.code)
			}
			if tc.message != "" && e.Message != tc.message {
				t.Errorf("message = %q, want %q", e.Message, tc.message)
			}
			if tc.name == "bad JSON" && !strings.Contains(e.Message, "malformed payload") {
				t.Errorf("message = %q, want the SDK's reason", e.Message)
			}
		})
	}
}

func TestHostAndOrigin(t *testing.T) {
	g, base := newTestGateway(t, &Options{
		AllowedHosts:   []string{"mcp.example.com", ".corp.example", "pinned.example:8443"},
		AllowedOrigins: []string{"https://console.example.com"},
	})
	g.Register("t", testBackend("test"), Shared)
	url := base + "/v1/servers/t/prompts"
	for _, tc := range []struct {
		name   string
		header map[string]string
		status int
		msg    string
	}{
		{"loopback", nil, 200, ""},
		{"localhost", map[string]string{"Host": "localhost:9"}, 200, ""},
		{"ipv6 loopback", map[string]string{"Host": "[::1]:9"}, 200, ""},
		{"allowed host any port", map[string]string{"Host": "mcp.example.com:1234"}, 200, ""},
		{"allowed subdomain", map[string]string{"Host": "a.corp.example"}, 200, ""},
		{"allowed host:port", map[string]string{"Host": "pinned.example:8443"}, 200, ""},
		{"other port of host:port", map[string]string{"Host": "pinned.example:9999"}, 403, `host "pinned.example:9999" is not allowed: add it to the gateway's allowed hosts (DNS-rebinding protection)`},
		{"rebinding", map[string]string{"Host": "evil.example"}, 403, `host "evil.example" is not allowed: add it to the gateway's allowed hosts (DNS-rebinding protection)`},
		{"loopback origin", map[string]string{"Origin": "http://localhost:6274"}, 200, ""},
		{"allowed origin", map[string]string{"Origin": "https://console.example.com"}, 200, ""},
		{"same origin", map[string]string{"Host": "mcp.example.com", "Origin": "https://mcp.example.com"}, 200, ""},
		{"bad origin", map[string]string{"Origin": "https://evil.example"}, 403, `origin "https://evil.example" is not allowed: add it to the gateway's allowed origins`},
		{"null origin", map[string]string{"Origin": "null"}, 403, `origin "null" is not allowed: add it to the gateway's allowed origins`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := do(t, "GET", url, "", tc.header)
			if r.status != tc.status {
				t.Fatalf("status = %d, want %d (%s)", r.status, tc.status, r.body)
			}
			if tc.status == 403 {
				e := jsonError(t, r)
				if diff := cmp.Diff(apiErrorBody{Code: "forbidden", Message: tc.msg}, e); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
			}
		})
	}
	// The MCP endpoint is protected too.
	r := do(t, "POST", base+"/servers/t/mcp", `{}`, map[string]string{"Host": "evil.example"})
	if r.status != 403 {
		t.Errorf("MCP endpoint with a bad host: %d", r.status)
	}
}

func TestRemote(t *testing.T) {
	// An in-process go-sdk server, stateful and stateless, as upstreams.
	srv := newTestServer()
	stateful := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
	t.Cleanup(stateful.Close) // after the gateway and the clients
	stateless := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{Stateless: true}))
	t.Cleanup(stateless.Close)

	g, base := newTestGateway(t, nil)
	g.Register("sf", &RemoteBackend{URL: stateful.URL}, Shared)
	g.Register("sl", &RemoteBackend{URL: stateless.URL}, Shared)
	g.Register("down", &RemoteBackend{URL: "http://127.0.0.1:1/mcp"}, Shared)
	for _, tc := range []struct{ name, ask, want string }{
		{"sf", legacy, legacy},
		{"sf", "", legacy}, // a stateful upstream rejects 2026-07-28; the client falls back
		{"sl", "", modern},
	} {
		t.Run(tc.name+"/"+tc.ask, func(t *testing.T) {
			ctx := testCtx(t)
			var (
				mu       sync.Mutex
				progress []string
			)
			cs := connect(t, base+"/servers/"+tc.name+"/mcp", tc.ask, &mcp.ClientOptions{
				ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
					mu.Lock()
					progress = append(progress, r.Params.Message)
					mu.Unlock()
				},
			})
			if v := cs.InitializeResult().ProtocolVersion; v != tc.want {
				t.Errorf("protocol = %q, want %q", v, tc.want)
			}
			if tc.want == legacy && cs.ID() == "" {
				t.Error("no session ID passed through")
			}
			got, err := callText(ctx, cs, "echo", map[string]any{"message": "via proxy"})
			if err != nil || got != "via proxy" {
				t.Fatalf("echo = %q, %v", got, err)
			}
			if tc.ask != legacy {
				return // the SDK's own server sends progress to 2025-11-25 sessions only
			}
			// Progress streams through on the POST's SSE response.
			p := &mcp.CallToolParams{Name: "progress", Arguments: map[string]any{"steps": 3, "tag": "p"}}
			p.SetProgressToken("tok")
			if _, err := cs.CallTool(ctx, p); err != nil {
				t.Fatal(err)
			}
			// The client may handle notifications after the call returns.
			waitFor(t, 10*time.Second, func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(progress) >= 3
			})
			mu.Lock()
			defer mu.Unlock()
			if diff := cmp.Diff([]string{"p-1", "p-2", "p-3"}, progress); diff != "" {
				t.Errorf("progress (-want +got):\n%s", diff)
			}
		})
	}
	testREST(t, base+"/v1/servers/sf")

	r := do(t, "POST", base+"/servers/down/mcp", `{"jsonrpc":"2.0","id":1,"method":"ping"}`, map[string]string{"Accept": "application/json, text/event-stream"})
	if r.status != 502 {
		t.Fatalf("unreachable upstream: %d %s", r.status, r.body)
	}
	if e := jsonError(t, r); e.Code != "bad_gateway" || !strings.HasPrefix(e.Message, `server "down" at http://127.0.0.1:1/mcp is unreachable: `) {
		t.Errorf("unreachable upstream error = %+v", e)
	}
}

func TestRemoteEverything(t *testing.T) {
	upstream := testenv.StartEverythingHTTP(t, "streamableHttp")
	g, base := newTestGateway(t, nil)
	g.Register("ev", &RemoteBackend{URL: upstream + "/mcp"}, Shared)
	ctx := testCtx(t)
	cs := connect(t, base+"/servers/ev/mcp", "", nil)
	got, err := callText(ctx, cs, "echo", map[string]any{"message": "remote everything"})
	if err != nil || !strings.Contains(got, "remote everything") {
		t.Fatalf("echo = %q, %v", got, err)
	}
}

func TestUnregisterWhileServing(t *testing.T) {
	g, base := newTestGateway(t, nil)
	g.Register("t", testBackend("test"), Shared)
	ctx := testCtx(t)
	started := make(chan struct{}, 1)
	cs := connect(t, base+"/servers/t/mcp", legacy, &mcp.ClientOptions{
		ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) { started <- struct{}{} },
	})
	errc := make(chan error, 1)
	go func() {
		p := &mcp.CallToolParams{Name: "block"}
		p.SetProgressToken(7)
		_, err := cs.CallTool(ctx, p)
		errc <- err
	}()
	<-started
	if !g.Unregister("t") {
		t.Fatal("Unregister reported t as not registered")
	}
	err := <-errc
	var werr *jsonrpc.Error
	if !errors.As(err, &werr) || werr.Code != CodeServerUnavailable || !strings.Contains(err.Error(), `server "t" was closed while handling tools/call`) {
		t.Errorf("in-flight call: err = %v, want CodeServerUnavailable", err)
	}
	r := do(t, "GET", base+"/v1/servers/t/tools", "", nil)
	if r.status != 404 {
		t.Errorf("after Unregister: %d", r.status)
	}
	// Registering again serves a fresh process.
	g.Register("t", testBackend("test"), Shared)
	cs2 := connect(t, base+"/servers/t/mcp", "", nil)
	if got, err := callText(ctx, cs2, "echo", map[string]any{"message": "again"}); err != nil || got != "again" {
		t.Errorf("after re-register: %q, %v", got, err)
	}
}
