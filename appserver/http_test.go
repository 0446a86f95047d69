package appserver_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/appserver"
	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
)

type echoArgs struct {
	Text string `json:"text"`
}

var echoTool = appserver.NewTool("echo", "Echo the text.", func(_ context.Context, in echoArgs) (string, error) { return in.Text, nil })

// httpServer serves an app with the echo tool over HTTP with opts.
func httpServer(t *testing.T, opts *appserver.HTTPOptions, tools ...*appserver.Tool) (*appserver.Server, string) {
	t.Helper()
	f := newFixture(t, nil, nil)
	srv, err := appserver.New(f.app, &appserver.Options{Agents: []*agent.Agent{}, Tools: append([]*appserver.Tool{echoTool}, tools...), Upstream: f.up, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv.Handler(opts))
	t.Cleanup(hs.Close)
	return srv, hs.URL
}

func clientOver(t *testing.T, tr mcp.Transport, version string) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "http-client", Version: "1"}, nil)
	cs, err := c.Connect(testContext(t), tr, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func TestHTTPTransports(t *testing.T) {
	for _, c := range []struct {
		name      string
		opts      *appserver.HTTPOptions
		transport func(base string) mcp.Transport
		version   string
	}{
		{"streamable stateful 2025-11-25", nil, func(b string) mcp.Transport { return &mcp.StreamableClientTransport{Endpoint: b + "/mcp"} }, v2025},
		{"streamable 2026-07-28 on the stateful endpoint", nil, func(b string) mcp.Transport { return &mcp.StreamableClientTransport{Endpoint: b + "/mcp"} }, v2026},
		{"streamable stateless", &appserver.HTTPOptions{Stateless: true}, func(b string) mcp.Transport { return &mcp.StreamableClientTransport{Endpoint: b + "/mcp"} }, ""},
		{"legacy sse", nil, func(b string) mcp.Transport { return &mcp.SSEClientTransport{Endpoint: b + "/sse"} }, ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, base := httpServer(t, c.opts)
			cs := clientOver(t, c.transport(base), c.version)
			if got := text(callOK(t, cs, "echo", map[string]any{"text": "hi"})); got != "hi" {
				t.Errorf("echo = %q, want hi", got)
			}
			// A request leaves the in-flight count once answered (which
			// go-sdk signals by ending its context), on every transport:
			// otherwise Shutdown would wait for it until its deadline.
			waitFor(t, "no request in flight", func() (bool, string) { n := srv.InFlight(); return n == 0, fmt.Sprint(n) })
		})
	}
}

func TestHTTPHostAndOriginChecks(t *testing.T) {
	_, base := httpServer(t, &appserver.HTTPOptions{AllowedHosts: []string{"app.example.com"}, AllowedOrigins: []string{"https://console.example.com"}})
	body := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"c","version":"1"}}}`
	for _, c := range []struct {
		name, host, origin string
		status             int
		body               string
	}{
		{"loopback host", "", "", http.StatusOK, ""},
		{"localhost name", "localhost:1234", "", http.StatusOK, ""},
		{"allowed host", "app.example.com", "", http.StatusOK, ""},
		{"rebinding host", "evil.example.com", "", http.StatusForbidden, `forbidden Host header "evil.example.com"`},
		{"loopback origin", "", "http://localhost:6274", http.StatusOK, ""},
		{"allowed origin", "", "https://console.example.com", http.StatusOK, ""},
		{"foreign origin", "", "https://evil.example.com", http.StatusForbidden, `forbidden Origin header "https://evil.example.com"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			req, _ := http.NewRequestWithContext(testContext(t), http.MethodPost, base+"/mcp", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Accept", "application/json, text/event-stream")
			if c.host != "" {
				req.Host = c.host
			}
			if c.origin != "" {
				req.Header.Set("Origin", c.origin)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.status || !strings.Contains(string(b), c.body) {
				t.Errorf("status %d body %q, want %d containing %q", resp.StatusCode, b, c.status, c.body)
			}
		})
	}
}

func TestHTTPBearerToken(t *testing.T) {
	_, base := httpServer(t, &appserver.HTTPOptions{TokenVerifier: appserver.StaticToken("s3cret")})
	withToken := func(tok string) *http.Client {
		return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
			r = r.Clone(r.Context())
			r.Header.Set("Authorization", "Bearer "+tok)
			return http.DefaultTransport.RoundTrip(r)
		})}
	}
	cs := clientOver(t, &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: withToken("s3cret")}, v2025)
	callOK(t, cs, "echo", map[string]any{"text": "ok"})

	c := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "1"}, nil)
	for _, hc := range []*http.Client{http.DefaultClient, withToken("wrong")} {
		_, err := c.Connect(testContext(t), &mcp.StreamableClientTransport{Endpoint: base + "/mcp", HTTPClient: hc, MaxRetries: -1}, &mcp.ClientSessionOptions{ProtocolVersion: v2025})
		if err == nil || !strings.Contains(err.Error(), "Unauthorized") {
			t.Errorf("connect without the right token: %v, want Unauthorized", err)
		}
	}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// blocker is an app tool that blocks until released or cancelled.
type blocker struct {
	started  chan struct{}
	release  chan struct{}
	canceled chan error
}

func newBlocker() *blocker {
	return &blocker{started: make(chan struct{}, 4), release: make(chan struct{}), canceled: make(chan error, 4)}
}

func (b *blocker) tool() *appserver.Tool {
	return appserver.NewTool("block", "Block until released.", func(ctx context.Context, _ struct{}) (string, error) {
		b.started <- struct{}{}
		select {
		case <-b.release:
			return "released", nil
		case <-ctx.Done():
			b.canceled <- context.Cause(ctx)
			return "", ctx.Err()
		}
	})
}

func TestShutdownLetsCallsFinish(t *testing.T) {
	f := newFixture(t, nil, nil)
	b := newBlocker()
	srv, cs := serve(t, f, &appserver.Options{Agents: []*agent.Agent{}, Tools: []*appserver.Tool{b.tool(), echoTool}}, nil)
	type result struct {
		res *mcp.CallToolResult
		err error
	}
	resc := make(chan result, 1)
	go func() {
		res, err := cs.CallTool(testContext(t), &mcp.CallToolParams{Name: "block", Arguments: map[string]any{}})
		resc <- result{res, err}
	}()
	<-b.started
	done := make(chan error, 1)
	go func() { done <- srv.Shutdown(testContext(t)) }()
	// New requests are refused once shutdown has begun.
	waitFor(t, "new calls to be refused", func() (bool, string) {
		_, err := cs.CallTool(testContext(t), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}})
		return err != nil && strings.Contains(err.Error(), "shutting down"), errString(err)
	})
	close(b.release)
	if err := <-done; err != nil {
		t.Errorf("Shutdown = %v, want nil: the call finished in time", err)
	}
	if r := <-resc; r.err != nil || r.res.IsError || text(r.res) != "released" {
		t.Errorf("the call in flight got %v, %v; want its result", r.res, r.err)
	}
}

func TestShutdownCancelsCallsAtTheDeadline(t *testing.T) {
	f := newFixture(t, nil, nil)
	b := newBlocker()
	srv, cs := serve(t, f, &appserver.Options{Agents: []*agent.Agent{}, Tools: []*appserver.Tool{b.tool()}}, nil)
	errc := make(chan error, 1)
	go func() {
		_, err := cs.CallTool(testContext(t), &mcp.CallToolParams{Name: "block", Arguments: map[string]any{}})
		errc <- err
	}()
	<-b.started
	ctx, cancel := context.WithCancel(testContext(t))
	cancel() // the deadline has passed already
	err := srv.Shutdown(ctx)
	if err == nil || !strings.Contains(err.Error(), "1 request(s) still running at the shutdown deadline were cancelled") {
		t.Errorf("Shutdown = %v, want the cancelled request counted", err)
	}
	if cause := <-b.canceled; !errors.Is(cause, appserver.ErrShuttingDown) {
		t.Errorf("the tool's context ended with %v, want ErrShuttingDown", cause)
	}
	if err := <-errc; err == nil || !strings.Contains(err.Error(), "shutting down") {
		t.Errorf("client got %v, want the shutdown named", err)
	}
}

func TestListenAndServeDrainsOnCancel(t *testing.T) {
	f := newFixture(t, nil, nil)
	b := newBlocker()
	srv, err := appserver.New(f.app, &appserver.Options{Agents: []*agent.Agent{}, Tools: []*appserver.Tool{b.tool()}, Logger: quietLogger(), ShutdownTimeout: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(testContext(t))
	addrc := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() {
		served <- srv.ListenAndServe(ctx, "127.0.0.1:0", &appserver.HTTPOptions{Ready: func(a net.Addr) { addrc <- a }})
	}()
	addr := <-addrc
	cs := clientOver(t, &mcp.StreamableClientTransport{Endpoint: "http://" + addr.String() + "/mcp"}, v2025)
	type result struct {
		res *mcp.CallToolResult
		err error
	}
	resc := make(chan result, 1)
	go func() {
		res, err := cs.CallTool(testContext(t), &mcp.CallToolParams{Name: "block", Arguments: map[string]any{}})
		resc <- result{res, err}
	}()
	<-b.started
	cancel()
	select {
	case err := <-served:
		t.Fatalf("ListenAndServe returned %v with a call in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(b.release)
	if r := <-resc; r.err != nil || text(r.res) != "released" {
		t.Errorf("call in flight got %v, %v; want its result", r.res, r.err)
	}
	if err := <-served; err != nil {
		t.Errorf("ListenAndServe = %v, want nil after a graceful shutdown", err)
	}
	if _, err := net.DialTimeout("tcp", addr.String(), time.Second); err == nil {
		t.Error("the listener still accepts connections after shutdown")
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestRunDrainsOnCancel(t *testing.T) {
	f := newFixture(t, nil, nil)
	b := newBlocker()
	srv, err := appserver.New(f.app, &appserver.Options{Agents: []*agent.Agent{}, Tools: []*appserver.Tool{b.tool()}, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	st, ct := mcp.NewInMemoryTransports()
	ctx, cancel := context.WithCancel(testContext(t))
	ran := make(chan error, 1)
	go func() { ran <- srv.Run(ctx, st) }()
	cs := clientOver(t, ct, v2025)
	type result struct {
		res *mcp.CallToolResult
		err error
	}
	resc := make(chan result, 1)
	go func() {
		res, err := cs.CallTool(testContext(t), &mcp.CallToolParams{Name: "block", Arguments: map[string]any{}})
		resc <- result{res, err}
	}()
	<-b.started
	cancel()
	select {
	case err := <-ran:
		t.Fatalf("Run returned %v with a call in flight", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(b.release) // the call finishes within the shutdown timeout: it is not cancelled
	if err := <-ran; err != nil {
		t.Errorf("Run = %v, want nil", err)
	}
	// Its response reached the client before the transport closed.
	if r := <-resc; r.err != nil || text(r.res) != "released" {
		t.Errorf("call in flight got %v, %v; want its result", r.res, r.err)
	}
	select {
	case cause := <-b.canceled:
		t.Errorf("the call in flight was cancelled (%v), want it to finish", cause)
	default:
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	f := newFixture(t, &config.Settings{Name: "bad"}, nil)
	a := f.agent(t, "a")
	spaced := f.agent(t, "has space")
	for _, c := range []struct {
		name string
		opts *appserver.Options
		want string
	}{
		{"agent without NewLLM", &appserver.Options{Agents: []*agent.Agent{a}}, "1 agent(s) are served but Options.NewLLM is nil"},
		{"tool name clash", &appserver.Options{Agents: []*agent.Agent{}, Tools: []*appserver.Tool{echoTool, echoTool}}, `app tool "echo" and app tool "echo" are both tool "echo": rename one`},
		{"invalid tool name", &appserver.Options{Agents: []*agent.Agent{spaced}, NewLLM: llmOn(turns(replay.Turn{Text: "x"}))}, `"agents-has space-generate_str" is not a valid MCP tool name`},
		{"async tool without executor", &appserver.Options{Agents: []*agent.Agent{}, Tools: []*appserver.Tool{appserver.NewAsyncTool("go", "", approve)}}, `async tool "go" needs Options.Executor to start workflow "approve"`},
		{"nil tool", &appserver.Options{Agents: []*agent.Agent{}, Tools: []*appserver.Tool{nil}}, "a nil or zero Tool"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := appserver.New(f.app, c.opts)
			if !errors.Is(err, appserver.ErrInvalidOptions) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("New = %v, want ErrInvalidOptions containing %q", err, c.want)
			}
		})
	}
}

// TestRunDeliversResponsesOfCallsFinishingDuringShutdown: a call that
// finishes while Run shuts down gets its response before the session
// closes. go-sdk encodes and writes a response after the handler has
// returned; closing the session in that window dropped it (the client saw
// EOF). The in-memory transport is the stdio one (newline-delimited JSON on
// a stream). A large result widens the window (its encoding and writing take
// a while), and the loop makes a regression all but certain to show.
func TestRunDeliversResponsesOfCallsFinishingDuringShutdown(t *testing.T) {
	const rounds = 20
	big := strings.Repeat("x", 1<<20)
	for i := range rounds {
		f := newFixture(t, nil, nil)
		started, release := make(chan struct{}), make(chan struct{})
		blockBig := appserver.NewTool("block", "Block until released, then answer at length.", func(ctx context.Context, _ struct{}) (string, error) {
			close(started)
			select {
			case <-release:
				return big, nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		})
		srv, err := appserver.New(f.app, &appserver.Options{Agents: []*agent.Agent{}, Tools: []*appserver.Tool{blockBig, echoTool}, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		st, ct := mcp.NewInMemoryTransports()
		ctx, cancel := context.WithCancel(testContext(t))
		ran := make(chan error, 1)
		go func() { ran <- srv.Run(ctx, st) }()
		cs := clientOver(t, ct, v2025)
		type result struct {
			res *mcp.CallToolResult
			err error
		}
		resc := make(chan result, 1)
		go func() {
			res, err := cs.CallTool(testContext(t), &mcp.CallToolParams{Name: "block", Arguments: map[string]any{}})
			resc <- result{res, err}
		}()
		<-started
		cancel()
		waitFor(t, "Run to refuse new calls", func() (bool, string) {
			_, err := cs.CallTool(testContext(t), &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"text": "x"}})
			return err != nil && strings.Contains(err.Error(), "shutting down"), errString(err)
		})
		close(release)
		if r := <-resc; r.err != nil || text(r.res) != big {
			n := 0
			if r.res != nil {
				n = len(text(r.res))
			}
			t.Errorf("round %d: the call that finished during shutdown got error %v (a result of %d bytes); want its result", i+1, r.err, n)
		}
		if err := <-ran; err != nil {
			t.Errorf("round %d: Run = %v", i+1, err)
		}
		cs.Close()
		if t.Failed() {
			return
		}
	}
}
