package servers

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/config"
)

// startWebSocketServer serves the basic test server with WebSocketHandler
// and returns its ws:// URL.
func startWebSocketServer(t *testing.T) (string, *WebSocketHandler) {
	t.Helper()
	server := newBasicServer()
	h := NewWebSocketHandler(func(*http.Request) *mcp.Server { return server }, nil)
	ts := httptest.NewServer(h)
	t.Cleanup(func() {
		if err := h.Close(); err != nil {
			t.Errorf("WebSocketHandler.Close: %v", err)
		}
		ts.Close()
	})
	return "ws" + strings.TrimPrefix(ts.URL, "http"), h
}

func TestWebSocket(t *testing.T) {
	for _, v := range protocolVersions {
		t.Run(v, func(t *testing.T) {
			url, _ := startWebSocketServer(t)
			spec := config.ServerSpec{Transport: config.TransportWebSocket, URL: url,
				Roots: []config.Root{{URI: "file:///src", Name: "src"}}}
			r := newTestRegistry(t, map[string]config.ServerSpec{"ws": spec}, &Options{
				ProtocolVersion: v,
				SamplingHandler: func(context.Context, string, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
					return &mcp.CreateMessageResult{Content: &mcp.TextContent{Text: "ws!"}}, nil
				},
				ElicitationHandler: func(context.Context, string, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
					return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"name": "Grace"}}, nil
				},
			})
			ctx := testContext(t)
			c, err := r.Conn(ctx, "ws")
			if err != nil {
				t.Fatal(err)
			}
			if got := c.ProtocolVersion(); got != v {
				t.Errorf("negotiated %q, want %q", got, v)
			}
			tools, err := r.ListTools(ctx, "ws")
			if err != nil || len(tools) != 9+numberedTools {
				t.Errorf("ListTools = %d tools, %v", len(tools), err)
			}
			if got := callText(t, r, "ws", "echo", map[string]any{"message": "over websocket"}); got != "over websocket" {
				t.Errorf("echo = %q", got)
			}
			if got, want := callText(t, r, "ws", "work", nil), "sampled=ws! elicited=accept/Grace"; got != want {
				t.Errorf("work = %q, want %q", got, want)
			}
			if got, want := callText(t, r, "ws", "roots", nil), "file:///src src\n"; got != want {
				t.Errorf("roots = %q, want %q", got, want)
			}
			rr, err := r.ReadResource(ctx, "ws", "test://hello")
			if err != nil || rr.Contents[0].Text != "hello" {
				t.Errorf("ReadResource = %+v, %v", rr, err)
			}
		})
	}
}

func TestWebSocketDefaultVersion(t *testing.T) {
	url, _ := startWebSocketServer(t)
	c, err := Open(testContext(t), config.ServerSpec{Transport: config.TransportWebSocket, URL: url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if got := c.ProtocolVersion(); got != "2026-07-28" {
		t.Errorf("negotiated %q, want 2026-07-28", got)
	}
}

func TestWebSocketSubprotocol(t *testing.T) {
	url, _ := startWebSocketServer(t)
	ctx := testContext(t)
	c, _, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"mcp"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	if got := c.Subprotocol(); got != "mcp" {
		t.Errorf("subprotocol = %q, want mcp", got)
	}
	// One JSON-RPC message per text message.
	if err := c.Write(ctx, websocket.MessageText, []byte(`{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"0"}}}`)); err != nil {
		t.Fatal(err)
	}
	typ, data, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if typ != websocket.MessageText || !strings.Contains(string(data), `"protocolVersion":"2025-11-25"`) || !strings.Contains(string(data), `"id":1`) {
		t.Errorf("initialize answer: %v %s", typ, data)
	}
	c.Close(websocket.StatusNormalClosure, "")
}

// TestWebSocketDisconnect drops the connection on the server side under a
// call in flight: the call fails at once with the disconnection, and the
// next call reconnects.
func TestWebSocketDisconnect(t *testing.T) {
	server := newBasicServer()
	accepted := make(chan *websocket.Conn, 4)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"mcp"}})
		if err != nil {
			return
		}
		ss, err := server.Connect(context.Background(), wsServerTransport{newWSConn(c, "")}, nil)
		if err != nil {
			return
		}
		accepted <- c
		ss.Wait()
	}))
	t.Cleanup(func() {
		ts.Close()
		closeServerSessions(server)
	})
	r := newTestRegistry(t, map[string]config.ServerSpec{"ws": {Transport: config.TransportWebSocket, URL: ts.URL}}, nil)
	ctx := testContext(t)
	if err := r.ConnectAll(ctx); err != nil {
		t.Fatal(err)
	}
	first := <-accepted

	errc := make(chan error, 1)
	go func() {
		_, err := r.CallTool(ctx, "ws", &mcp.CallToolParams{Name: "hang"})
		errc <- err
	}()
	// Wait until the call is in flight on the server, then cut the connection.
	waitForInFlight(t)
	first.CloseNow()

	err := <-errc
	var exited *ServerExitedError
	if !errors.As(err, &exited) || exited.Transport != config.TransportWebSocket {
		t.Fatalf("in-flight call: %v (%T), want a *ServerExitedError", err, err)
	}
	if !strings.HasPrefix(err.Error(), `server "ws" disconnected: `) {
		t.Errorf("err = %q", err)
	}
	if got := callText(t, r, "ws", "echo", map[string]any{"message": "again"}); got != "again" {
		t.Errorf("echo after reconnect = %q", got)
	}
	<-accepted
}

// waitForInFlight waits until the in-process hang tool has started.
func waitForInFlight(t *testing.T) {
	t.Helper()
	select {
	case <-hangStarted:
	case <-testContext(t).Done():
		t.Fatal("the hang tool never started")
	}
}

func TestWebSocketHandshakeFails(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(ts.Close)
	r := newTestRegistry(t, map[string]config.ServerSpec{"ws": {Transport: config.TransportWebSocket, URL: ts.URL + "/ws"}}, nil)
	_, err := r.Session(testContext(t), "ws")
	want := `connect to server "ws" (websocket ` + ts.URL + `/ws): websocket handshake with ` + ts.URL + `/ws: HTTP 404 Not Found`
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v, want prefix %q", err, want)
	}
}

func TestWebSocketHandlerClose(t *testing.T) {
	url, h := startWebSocketServer(t)
	c, err := Open(testContext(t), config.ServerSpec{Name: "ws", Transport: config.TransportWebSocket, URL: url}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	// The server closed the session: the Conn learns it and says so.
	_, err = c.ListTools(testContext(t))
	var exited *ServerExitedError
	if !errors.As(err, &exited) {
		t.Errorf("ListTools after the server closed: %v, want *ServerExitedError", err)
	}
	// A closed handler refuses new sessions.
	if _, err := Open(testContext(t), config.ServerSpec{Name: "ws", Transport: config.TransportWebSocket, URL: url}, nil); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("Open after handler Close: %v, want HTTP 503", err)
	}
}
