package servers

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/config"
)

// requestLog records the requests an HTTP test server received.
type requestLog struct {
	mu   sync.Mutex
	reqs []*http.Request
}

func (l *requestLog) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		l.mu.Lock()
		l.reqs = append(l.reqs, r.Clone(r.Context()))
		l.mu.Unlock()
		h.ServeHTTP(w, r)
	})
}

func (l *requestLog) all() []*http.Request {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]*http.Request(nil), l.reqs...)
}

// swappableHandler serves through a handler that a test can replace, to
// simulate a server restart that forgets its sessions.
type swappableHandler struct{ h atomic.Pointer[http.Handler] }

func (s *swappableHandler) set(h http.Handler) { s.h.Store(&h) }
func (s *swappableHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	(*s.h.Load()).ServeHTTP(w, r)
}

// closeServerSessions closes the sessions a test server still holds (a
// stateful HTTP server keeps them until the client's DELETE).
func closeServerSessions(s *mcp.Server) {
	for ss := range s.Sessions() {
		ss.Close()
	}
}

// startGoSDKServer serves the basic test server in-process over
// Streamable HTTP (sse == false) or SSE, and returns its URL.
func startGoSDKServer(t *testing.T, sse bool, opts *mcp.StreamableHTTPOptions) (url string, log *requestLog, sw *swappableHandler) {
	t.Helper()
	server := newBasicServer()
	newHandler := func() http.Handler {
		if sse {
			return mcp.NewSSEHandler(func(*http.Request) *mcp.Server { return server }, nil)
		}
		return mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return server }, opts)
	}
	sw = &swappableHandler{}
	sw.set(newHandler())
	log = &requestLog{}
	ts := httptest.NewServer(log.wrap(sw))
	t.Cleanup(func() {
		ts.Close()
		closeServerSessions(server)
	})
	return ts.URL, log, sw
}

// TestStreamableProtocolGenerations connects to go-sdk Streamable HTTP
// servers in both modes and checks the negotiated protocol and that the
// features work in each: the stateless 2026-07-28 mode (no session id,
// multi round-trip requests) and a stateful 2025-11-25 session.
func TestStreamableProtocolGenerations(t *testing.T) {
	for _, tc := range []struct {
		name        string
		stateless   bool
		ask         string // Options.ProtocolVersion
		wantVersion string
		wantSession bool
	}{
		{"stateless", true, "", "2026-07-28", false},
		{"stateful-2025-11-25", false, "2025-11-25", "2025-11-25", true},
		{"stateful-latest", false, "", "2025-11-25", true}, // a stateful server answers the 2026 discover with 2025-11-25
	} {
		t.Run(tc.name, func(t *testing.T) {
			url, _, _ := startGoSDKServer(t, false, &mcp.StreamableHTTPOptions{Stateless: tc.stateless})
			sampled := make(chan string, 1)
			r := newTestRegistry(t, map[string]config.ServerSpec{"go": {URL: url}}, &Options{
				ProtocolVersion: tc.ask,
				SamplingHandler: func(_ context.Context, server string, _ *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
					sampled <- server
					return &mcp.CreateMessageResult{Content: &mcp.TextContent{Text: "sampled"}}, nil
				},
				ElicitationHandler: func(context.Context, string, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
					return &mcp.ElicitResult{Action: "decline"}, nil
				},
			})
			ctx := testContext(t)
			c, err := r.Conn(ctx, "go")
			if err != nil {
				t.Fatal(err)
			}
			if got := c.Session().InitializeResult().ProtocolVersion; got != tc.wantVersion {
				t.Errorf("negotiated %q, want %q", got, tc.wantVersion)
			}
			if got := c.Session().ID() != ""; got != tc.wantSession {
				t.Errorf("has session id = %v, want %v", got, tc.wantSession)
			}
			tools, err := r.ListTools(ctx, "go")
			if err != nil || len(tools) != 9+numberedTools {
				t.Errorf("ListTools = %d tools, %v; want %d", len(tools), err, 9+numberedTools)
			}
			if got := callText(t, r, "go", "echo", map[string]any{"message": "hi"}); got != "hi" {
				t.Errorf("echo = %q", got)
			}
			if got, want := callText(t, r, "go", "work", nil), "sampled=sampled elicited=decline/<nil>"; got != want {
				t.Errorf("work = %q, want %q", got, want)
			}
			if got := <-sampled; got != "go" {
				t.Errorf("sampling handler got server %q", got)
			}
		})
	}
}

func TestHTTPHeadersAndAPIKey(t *testing.T) {
	for _, tr := range []string{config.TransportStreamableHTTP, config.TransportSSE} {
		t.Run(tr, func(t *testing.T) {
			url, log, _ := startGoSDKServer(t, tr == config.TransportSSE, nil)
			r := NewRegistry(map[string]config.ServerSpec{"h": {
				Transport: tr,
				URL:       url,
				Headers:   map[string]string{"X-Team": "blue"},
				Auth:      &config.ServerAuth{APIKey: "sk-test"},
			}}, nil)
			callText(t, r, "h", "echo", map[string]any{"message": "x"})
			if err := r.Close(); err != nil {
				t.Fatal(err)
			}
			reqs := log.all()
			if len(reqs) < 2 {
				t.Fatalf("server saw %d requests", len(reqs))
			}
			for _, req := range reqs {
				if got := req.Header.Get("Authorization"); got != "Bearer sk-test" {
					t.Errorf("%s %s: Authorization = %q", req.Method, req.URL, got)
				}
				if got := req.Header.Get("X-Team"); got != "blue" {
					t.Errorf("%s %s: X-Team = %q", req.Method, req.URL, got)
				}
			}
		})
	}
}

func TestTerminateOnClose(t *testing.T) {
	for _, tc := range []struct {
		terminate   *bool
		wantDeletes int
	}{
		{nil, 1},
		{new(true), 1},
		{new(false), 0},
	} {
		url, log, _ := startGoSDKServer(t, false, nil)
		c, err := Open(testContext(t), config.ServerSpec{URL: url, TerminateOnClose: tc.terminate}, &Options{ProtocolVersion: "2025-11-25"})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Close(); err != nil {
			t.Fatal(err)
		}
		deletes := 0
		for _, req := range log.all() {
			if req.Method == http.MethodDelete {
				deletes++
			}
		}
		if deletes != tc.wantDeletes {
			t.Errorf("terminate_on_close %v: %d DELETE requests, want %d", tc.terminate, deletes, tc.wantDeletes)
		}
	}
}

// TestStreamableSessionLost restarts the server (which forgets its
// sessions): the next call fails with the disconnection, and the one after
// reconnects with a new session.
func TestStreamableSessionLost(t *testing.T) {
	url, _, sw := startGoSDKServer(t, false, nil)
	r := newTestRegistry(t, map[string]config.ServerSpec{"go": {URL: url}}, &Options{ProtocolVersion: "2025-11-25"})
	ctx := testContext(t)
	s1, err := r.Session(ctx, "go")
	if err != nil {
		t.Fatal(err)
	}
	restarted := newBasicServer()
	t.Cleanup(func() { closeServerSessions(restarted) })
	sw.set(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return restarted }, nil))

	_, err = r.CallTool(ctx, "go", &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "x"}})
	var exited *ServerExitedError
	if !errors.As(err, &exited) {
		t.Fatalf("call after the restart: %v (%T), want *ServerExitedError", err, err)
	}
	if !strings.HasPrefix(err.Error(), `server "go" disconnected: `) || !errors.Is(err, mcp.ErrSessionMissing) {
		t.Errorf("err = %q, want a disconnection wrapping ErrSessionMissing", err)
	}
	if got := callText(t, r, "go", "echo", map[string]any{"message": "back"}); got != "back" {
		t.Errorf("echo after reconnect = %q", got)
	}
	s2, err := r.Session(ctx, "go")
	if err != nil || s2 == s1 || s2.ID() == s1.ID() {
		t.Errorf("after reconnect: session %p (id %q), before %p (id %q), err %v", s2, s2.ID(), s1, s1.ID(), err)
	}
}
