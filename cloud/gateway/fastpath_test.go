package gateway

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// fastReady waits until the gateway's fast path serves the session cs.
func fastReady(t *testing.T, g *Gateway, name string, cs *mcp.ClientSession) *fastSession {
	t.Helper()
	s := g.lookup(name).stdio
	var fs *fastSession
	waitFor(t, 10*time.Second, func() bool {
		fs = s.lookupSession(cs.ID())
		return fs != nil && fs.ready.Load()
	})
	return fs
}

func (fs *fastSession) inFlight() int {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.calls)
}

// TestFastPath checks that requests of established sessions are answered
// by the fast path, with the same results, sampling relayed on the
// request's own stream, and cancellation, in both modes.
func TestFastPath(t *testing.T) {
	for _, mode := range []Mode{Shared, PerSession} {
		t.Run(mode.String(), func(t *testing.T) {
			g, base := newTestGateway(t, nil)
			g.Register("t", testBackend("test"), mode)
			s := g.lookup("t").stdio
			ctx := testCtx(t)
			cs := connect(t, base+"/servers/t/mcp", legacy, &mcp.ClientOptions{
				CreateMessageHandler: func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
					in := req.Params.Messages[0].Content.(*mcp.TextContent).Text
					return &mcp.CreateMessageResult{Model: "m", Role: "assistant", Content: &mcp.TextContent{Text: "model says " + in}}, nil
				},
			})
			fs := fastReady(t, g, "t", cs)

			for _, tc := range []struct {
				tool string
				args map[string]any
				want string
			}{
				{"echo", map[string]any{"message": "hi"}, "hi"},
				{"sample", map[string]any{"prompt": "q"}, "sampled: model says q"},
			} {
				before := s.served.Load()
				got, err := callText(ctx, cs, tc.tool, tc.args)
				if err != nil || got != tc.want {
					t.Errorf("%s = %q, %v; want %q", tc.tool, got, err, tc.want)
				}
				if n := s.served.Load() - before; n != 1 {
					t.Errorf("%s: fast path answered %d requests, want 1", tc.tool, n)
				}
			}
			if _, err := cs.ListTools(ctx, nil); err != nil {
				t.Errorf("tools/list: %v", err)
			}
			if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "nope"}); err == nil {
				t.Error("unknown tool: no error")
			}

			// Cancelling a call without a progress token (so one the fast
			// path serves) reaches the server.
			before, err := callText(ctx, cs, "cancelled", nil)
			if err != nil {
				t.Fatal(err)
			}
			callCtx, cancel := context.WithCancel(ctx)
			errc := make(chan error, 1)
			go func() {
				_, err := cs.CallTool(callCtx, &mcp.CallToolParams{Name: "block"})
				errc <- err
			}()
			waitFor(t, 10*time.Second, func() bool { return fs.inFlight() == 1 })
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled call: err = %v", err)
			}
			n, _ := strconv.Atoi(before)
			waitFor(t, 10*time.Second, func() bool {
				s, err := callText(ctx, cs, "cancelled", nil)
				m, _ := strconv.Atoi(s)
				return err == nil && m == n+1
			})
		})
	}
}

// rawSession initializes a session with plain HTTP requests and returns
// its ID once the fast path serves it.
func rawSession(t *testing.T, g *Gateway, endpoint string) (string, map[string]string) {
	t.Helper()
	h := map[string]string{"Accept": "application/json, text/event-stream"}
	r := do(t, "POST", endpoint, `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"v0"}}}`, h)
	id := r.header.Get("Mcp-Session-Id")
	if r.status != http.StatusOK || id == "" {
		t.Fatalf("initialize: status %d, session %q, body %s", r.status, id, r.body)
	}
	h["Mcp-Session-Id"] = id
	h["Mcp-Protocol-Version"] = legacy
	if r := do(t, "POST", endpoint, `{"jsonrpc":"2.0","method":"notifications/initialized"}`, h); r.status != http.StatusAccepted {
		t.Fatalf("initialized: status %d", r.status)
	}
	s := g.lookup("t").stdio
	waitFor(t, 10*time.Second, func() bool {
		fs := s.lookupSession(id)
		return fs != nil && fs.ready.Load()
	})
	return id, h
}

func TestFastPathHTTP(t *testing.T) {
	g, base := newTestGateway(t, nil)
	g.Register("t", testBackend("test"), Shared)
	endpoint := base + "/servers/t/mcp"
	id, h := rawSession(t, g, endpoint)
	fs := g.lookup("t").stdio.lookupSession(id)

	// Params spread over lines (the process reads one message per line)
	// get a plain JSON response with the client's ID.
	r := do(t, "POST", endpoint, "{\"jsonrpc\":\"2.0\",\"id\":\"a\",\"method\":\"tools/call\",\n\"params\":{\n  \"name\": \"echo\",\n  \"arguments\": {\"message\": \"x\\ny\"}\n}}", h)
	if ct := r.header.Get("Content-Type"); r.status != http.StatusOK || ct != "application/json" {
		t.Fatalf("status %d, Content-Type %q, body %s", r.status, ct, r.body)
	}
	var resp struct {
		ID     string             `json:"id"`
		Result mcp.CallToolResult `json:"result"`
	}
	if err := json.Unmarshal(r.body, &resp); err != nil {
		t.Fatalf("%s: %v", r.body, err)
	}
	if tc, ok := resp.Result.Content[0].(*mcp.TextContent); resp.ID != "a" || !ok || tc.Text != "x\ny" {
		t.Errorf("response %s, want id \"a\" and text \"x\\ny\"", r.body)
	}

	// A second request with the ID of one in flight is refused; a
	// cancellation of the first ends it.
	var wg sync.WaitGroup
	var first httpResult
	wg.Add(1)
	go func() {
		defer wg.Done()
		first = do(t, "POST", endpoint, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"block"}}`, h)
	}()
	waitFor(t, 10*time.Second, func() bool { return fs.inFlight() == 1 })
	if r := do(t, "POST", endpoint, `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"echo","arguments":{"message":"m"}}}`, h); r.status != http.StatusBadRequest || !strings.Contains(string(r.body), "duplicate in-flight request ID") {
		t.Errorf("duplicate ID: status %d, body %s", r.status, r.body)
	}
	if r := do(t, "POST", endpoint, `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":7}}`, h); r.status != http.StatusAccepted {
		t.Errorf("cancel: status %d, body %s", r.status, r.body)
	}
	wg.Wait()
	if !strings.Contains(string(first.body), `"id":7,"error"`) {
		t.Errorf("cancelled request: status %d, body %s", first.status, first.body)
	}

	// A server->client request during the call turns the response into an
	// SSE stream carrying it; the client's answer goes back to the server
	// and the result follows on the same stream.
	req, err := http.NewRequest("POST", endpoint, strings.NewReader(`{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"sample","arguments":{"prompt":"q"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range h {
		req.Header.Set(k, v)
	}
	hr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer hr.Body.Close()
	if ct := hr.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("sampling call: Content-Type %q, want text/event-stream", ct)
	}
	events := bufio.NewScanner(hr.Body)
	next := func() map[string]json.RawMessage {
		t.Helper()
		for events.Scan() {
			if data, ok := strings.CutPrefix(events.Text(), "data: "); ok {
				var m map[string]json.RawMessage
				if err := json.Unmarshal([]byte(data), &m); err != nil {
					t.Fatalf("event %q: %v", data, err)
				}
				return m
			}
		}
		t.Fatalf("stream ended: %v", events.Err())
		return nil
	}
	sreq := next()
	if string(sreq["method"]) != `"sampling/createMessage"` {
		t.Fatalf("first event: %v, want the sampling request", sreq)
	}
	answer := `{"jsonrpc":"2.0","id":` + string(sreq["id"]) + `,"result":{"model":"m","role":"assistant","content":{"type":"text","text":"raw says q"}}}`
	if r := do(t, "POST", endpoint, answer, h); r.status != http.StatusAccepted {
		t.Fatalf("answer: status %d, body %s", r.status, r.body)
	}
	final := next()
	if string(final["id"]) != "9" || !strings.Contains(string(final["result"]), "sampled: raw says q") {
		t.Errorf("final event: id %s result %s", final["id"], final["result"])
	}

	// A request in another protocol version than the session's goes to
	// the SDK, which refuses it.
	h2 := map[string]string{"Accept": h["Accept"], "Mcp-Session-Id": id, "Mcp-Protocol-Version": "1999-01-01"}
	before := g.lookup("t").stdio.served.Load()
	if r := do(t, "POST", endpoint, `{"jsonrpc":"2.0","id":8,"method":"tools/list"}`, h2); r.status != http.StatusBadRequest {
		t.Errorf("bad protocol version: status %d, body %s", r.status, r.body)
	}
	if n := g.lookup("t").stdio.served.Load() - before; n != 0 {
		t.Errorf("fast path answered a request with a bad protocol version")
	}

	// After DELETE the session is gone for the fast path too.
	if r := do(t, "DELETE", endpoint, "", h); r.status != http.StatusNoContent {
		t.Fatalf("DELETE: status %d, body %s", r.status, r.body)
	}
	if r := do(t, "POST", endpoint, `{"jsonrpc":"2.0","id":10,"method":"tools/list"}`, h); r.status != http.StatusNotFound {
		t.Errorf("after DELETE: status %d, want 404 (body %s)", r.status, r.body)
	}
}

// TestFastPathIdleTimeout: sessions the fast path serves are still closed
// when idle, and forgotten.
func TestFastPathIdleTimeout(t *testing.T) {
	g, base := newTestGateway(t, &Options{SessionIdleTimeout: 200 * time.Millisecond})
	g.Register("t", testBackend("test"), Shared)
	endpoint := base + "/servers/t/mcp"
	id, h := rawSession(t, g, endpoint)
	if r := do(t, "POST", endpoint, `{"jsonrpc":"2.0","id":2,"method":"tools/list"}`, h); r.status != http.StatusOK {
		t.Fatalf("tools/list: status %d, body %s", r.status, r.body)
	}
	s := g.lookup("t").stdio
	waitFor(t, 10*time.Second, func() bool { return s.lookupSession(id) == nil })
	if r := do(t, "POST", endpoint, `{"jsonrpc":"2.0","id":3,"method":"tools/list"}`, h); r.status != http.StatusNotFound {
		t.Errorf("after the idle timeout: status %d, want 404 (body %s)", r.status, r.body)
	}
}

// TestEncodeRequest: the hand-built requests decode, with the SDK's
// decoder, to what was encoded, on one line.
func TestEncodeRequest(t *testing.T) {
	for _, tc := range []struct {
		method string
		params string
	}{
		{"tools/call", `{"name":"echo","arguments":{"message":"x"}}`},
		{"notifications/initialized", ""},
		{"odd\"method\n<&>é", `[1,2]`},
	} {
		data := encodeRequest(42, tc.method, json.RawMessage(tc.params))
		if n := strings.Count(string(data), "\n"); n != 1 || data[len(data)-1] != '\n' {
			t.Errorf("%q: %d newlines, want one at the end", data, n)
		}
		msg, err := jsonrpc.DecodeMessage(data[:len(data)-1])
		if err != nil {
			t.Fatalf("%q: %v", data, err)
		}
		req, ok := msg.(*jsonrpc.Request)
		if !ok || req.Method != tc.method || string(req.Params) != tc.params || req.ID.Raw() != int64(42) {
			t.Errorf("%q decoded to %+v", data, msg)
		}
	}
}
