package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	legacy = "2025-11-25"
	modern = "2026-07-28"
)

// newTestGateway serves a new gateway on a loopback httptest server. The
// gateway is closed (ending sessions and processes) before the server.
func newTestGateway(t testing.TB, opts *Options) (*Gateway, string) {
	t.Helper()
	g := New(opts)
	srv := httptest.NewServer(g)
	t.Cleanup(srv.Close)
	t.Cleanup(func() { g.Close() })
	return g, srv.URL
}

// connect opens a go-sdk client session; version "" is the SDK's default.
func connect(t testing.TB, endpoint, version string, opts *mcp.ClientOptions) *mcp.ClientSession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "v0"}, opts)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, MaxRetries: -1}, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatalf("connect %s (protocol %q): %v", endpoint, version, err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

func callText(ctx context.Context, cs *mcp.ClientSession, tool string, args map[string]any) (string, error) {
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	if res.IsError {
		return "", fmt.Errorf("tool error: %s", b.String())
	}
	return b.String(), nil
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSharedBothProtocols(t *testing.T) {
	g, base := newTestGateway(t, nil)
	g.Register("t", testBackend("test"), Shared)
	endpoint := base + "/servers/t/mcp"
	for _, tc := range []struct{ ask, want string }{
		{"", modern}, // the SDK default: server/discover, stateless
		{modern, modern},
		{legacy, legacy},
	} {
		t.Run("ask="+tc.ask, func(t *testing.T) {
			ctx := testCtx(t)
			cs := connect(t, endpoint, tc.ask, nil)
			ir := cs.InitializeResult()
			if ir.ProtocolVersion != tc.want {
				t.Errorf("protocol version = %q, want %q", ir.ProtocolVersion, tc.want)
			}
			if ir.ServerInfo == nil || ir.ServerInfo.Name != "gateway-test" || ir.ServerInfo.Version != "v1.2.3" {
				t.Errorf("server info = %+v, want the stdio server's (gateway-test v1.2.3)", ir.ServerInfo)
			}
			if ir.Instructions != "test instructions" {
				t.Errorf("instructions = %q", ir.Instructions)
			}
			if ir.Capabilities == nil || ir.Capabilities.Tools == nil || ir.Capabilities.Resources == nil || !ir.Capabilities.Resources.Subscribe {
				t.Errorf("capabilities = %+v, want the stdio server's (tools, subscribable resources)", ir.Capabilities)
			}
			got, err := callText(ctx, cs, "echo", map[string]any{"message": "hello " + tc.ask})
			if err != nil || got != "hello "+tc.ask {
				t.Fatalf("echo = %q, %v", got, err)
			}
			var tools []string
			for tool, err := range cs.Tools(ctx, nil) {
				if err != nil {
					t.Fatal(err)
				}
				tools = append(tools, tool.Name)
			}
			if !contains(tools, "echo") || !contains(tools, "progress") {
				t.Errorf("tools = %v", tools)
			}
			rr, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: "test://r"})
			if err != nil || len(rr.Contents) != 1 || rr.Contents[0].Text != "hello resource" {
				t.Errorf("read resource = %+v, %v", rr, err)
			}
			gp, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "greet", Arguments: map[string]string{"name": "Ada"}})
			if err != nil || len(gp.Messages) != 1 || gp.Messages[0].Content.(*mcp.TextContent).Text != "Hello, Ada!" {
				t.Errorf("get prompt = %+v, %v", gp, err)
			}
			// An error from the server passes through unchanged.
			_, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "nope"})
			var werr *jsonrpc.Error
			if !errors.As(err, &werr) || werr.Code != jsonrpc.CodeInvalidParams || !strings.Contains(werr.Message, "nope") {
				t.Errorf("unknown tool: err = %v, want the server's invalid-params error naming the tool", err)
			}
		})
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestSharedConcurrentSessions: 32 sessions (both protocol generations) on
// one shared process, each calling echo with unique payloads, get only their
// own responses.
func TestSharedConcurrentSessions(t *testing.T) {
	g, base := newTestGateway(t, nil)
	g.Register("t", testBackend("test"), Shared)
	endpoint := base + "/servers/t/mcp"
	const sessions, calls = 32, 20
	ctx := testCtx(t)
	css := make([]*mcp.ClientSession, sessions)
	for i := range css {
		v := legacy
		if i%2 == 1 {
			v = ""
		}
		css[i] = connect(t, endpoint, v, nil)
	}
	var (
		wg        sync.WaitGroup
		mu        sync.Mutex
		misrouted []string
		failed    []error
	)
	for i, cs := range css {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range calls {
				want := fmt.Sprintf("session-%d-call-%d", i, j)
				args := map[string]any{"message": want}
				if j%5 == 0 {
					args["ms"] = 1 + (i+j)%7 // reorder responses upstream
				}
				got, err := callText(ctx, cs, "echo", args)
				mu.Lock()
				if err != nil {
					failed = append(failed, err)
				} else if got != want {
					misrouted = append(misrouted, fmt.Sprintf("%s got %s", want, got))
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if len(failed) > 0 {
		t.Errorf("%d calls failed, first: %v", len(failed), failed[0])
	}
	if len(misrouted) > 0 {
		t.Errorf("%d misrouted responses, e.g. %s", len(misrouted), misrouted[0])
	}
	// The shared process was not told about roots (it cannot have one
	// client's).
	if got, err := callText(ctx, css[0], "roots", nil); err != nil || got != "no roots capability" {
		t.Errorf("roots of the shared process = %q, %v", got, err)
	}
	// One process served everyone.
	pids := map[string]bool{}
	for _, cs := range css[:4] {
		pid, err := callText(ctx, cs, "pid", nil)
		if err != nil {
			t.Fatal(err)
		}
		pids[pid] = true
	}
	if len(pids) != 1 {
		t.Errorf("shared mode used %d processes, want 1", len(pids))
	}
}

// TestProgressRouting: sessions using the same progress token get only their
// own progress notifications, for both protocol generations (2026-07-28
// clients get them on the POST response stream).
func TestProgressRouting(t *testing.T) {
	g, base := newTestGateway(t, nil)
	g.Register("t", testBackend("test"), Shared)
	endpoint := base + "/servers/t/mcp"
	ctx := testCtx(t)
	const sessions, steps = 6, 5
	type rec struct {
		mu   sync.Mutex
		msgs []string
	}
	recs := make([]*rec, sessions)
	css := make([]*mcp.ClientSession, sessions)
	for i := range css {
		r := &rec{}
		recs[i] = r
		v := legacy
		if i%2 == 1 {
			v = modern
		}
		css[i] = connect(t, endpoint, v, &mcp.ClientOptions{
			ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
				r.mu.Lock()
				r.msgs = append(r.msgs, fmt.Sprintf("%v:%s", req.Params.ProgressToken, req.Params.Message))
				r.mu.Unlock()
			},
		})
	}
	var wg sync.WaitGroup
	for i, cs := range css {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p := &mcp.CallToolParams{Name: "progress", Arguments: map[string]any{"steps": steps, "tag": fmt.Sprintf("s%d", i)}}
			p.SetProgressToken("same-token")
			if _, err := cs.CallTool(ctx, p); err != nil {
				t.Errorf("session %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	for i, r := range recs {
		var want []string
		for s := 1; s <= steps; s++ {
			want = append(want, fmt.Sprintf("same-token:s%d-%d", i, s))
		}
		// Notifications may trail the response on the standalone stream.
		waitFor(t, 10*time.Second, func() bool {
			r.mu.Lock()
			defer r.mu.Unlock()
			return len(r.msgs) >= steps
		})
		r.mu.Lock()
		got := append([]string(nil), r.msgs...)
		r.mu.Unlock()
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("session %d progress (-want +got):\n%s", i, diff)
		}
	}
}

// waitFor polls cond until it holds, failing the test after timeout.
func waitFor(t testing.TB, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSamplingRelay(t *testing.T) {
	g, base := newTestGateway(t, nil)
	g.Register("t", testBackend("test"), Shared)
	endpoint := base + "/servers/t/mcp"
	ctx := testCtx(t)
	sampler := func(name string) *mcp.ClientOptions {
		return &mcp.ClientOptions{
			CreateMessageHandler: func(_ context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
				in := req.Params.Messages[0].Content.(*mcp.TextContent).Text
				return &mcp.CreateMessageResult{Model: "m", Role: "assistant", Content: &mcp.TextContent{Text: name + " answers " + in}}, nil
			},
		}
	}
	a := connect(t, endpoint, legacy, sampler("A"))
	b := connect(t, endpoint, legacy, sampler("B"))
	for _, tc := range []struct {
		cs   *mcp.ClientSession
		want string
	}{{a, "sampled: A answers q1"}, {b, "sampled: B answers q1"}} {
		got, err := callText(ctx, tc.cs, "sample", map[string]any{"prompt": "q1"})
		if err != nil || got != tc.want {
			t.Errorf("sample = %q, %v; want %q", got, err, tc.want)
		}
	}

	// While A has a call in flight, B's sampling request cannot be
	// attributed: the server gets an error rather than a guess.
	started := make(chan struct{}, 1)
	a2 := connect(t, endpoint, legacy, &mcp.ClientOptions{
		ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) {
			select {
			case started <- struct{}{}:
			default:
			}
		},
	})
	blockCtx, cancelBlock := context.WithCancel(ctx)
	blockDone := make(chan error, 1)
	go func() {
		p := &mcp.CallToolParams{Name: "block"}
		p.SetProgressToken(1)
		_, err := a2.CallTool(blockCtx, p)
		blockDone <- err
	}()
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("block call did not start")
	}
	_, err := callText(ctx, b, "sample", map[string]any{"prompt": "q2"})
	if err == nil || !strings.Contains(err.Error(), "cannot tell which one it is for; deploy the server in per-session mode") {
		t.Errorf("sampling with two sessions in flight: err = %v, want the unroutable error", err)
	}
	cancelBlock()
	<-blockDone
	// The client returns at once; the gateway ends the call when the
	// cancellation reaches it.
	s := g.lookup("t").stdio
	waitFor(t, 10*time.Second, func() bool { return s.clientCalls() == 0 })

	// A 2026-07-28 client has no channel for server->client requests: it
	// gets the request as an input_required result, which the go-sdk client
	// fulfils and retries (mrtr.go).
	m := connect(t, endpoint, modern, sampler("M"))
	if got, err := callText(ctx, m, "sample", map[string]any{"prompt": "q3"}); err != nil || got != "sampled: M answers q3" {
		t.Errorf("sample for a stateless 2026-07-28 session = %q, %v; want %q", got, err, "sampled: M answers q3")
	}
}

// pidOf returns the pid of the process serving cs.
func pidOf(ctx context.Context, t testing.TB, cs *mcp.ClientSession) int {
	t.Helper()
	s, err := callText(ctx, cs, "pid", nil)
	if err != nil {
		t.Fatalf("pid: %v", err)
	}
	pid, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return pid
}

func TestProcessExit(t *testing.T) {
	for _, mode := range []Mode{Shared, PerSession} {
		t.Run(mode.String(), func(t *testing.T) {
			g, base := newTestGateway(t, nil)
			g.Register("t", testBackend("test"), mode)
			ctx := testCtx(t)
			cs := connect(t, base+"/servers/t/mcp", legacy, nil)
			pid1 := pidOf(ctx, t, cs)

			// The server exits by itself mid-call.
			_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "crash"})
			var werr *jsonrpc.Error
			if !errors.As(err, &werr) || werr.Code != CodeServerExited || !strings.Contains(werr.Message, `server "t" exited while handling tools/call`) {
				t.Fatalf("crash: err = %v, want a CodeServerExited error naming the server", err)
			}
			pid2 := pidOf(ctx, t, cs)
			if pid2 == pid1 {
				t.Fatal("the next call was served by the dead process")
			}

			// The process is killed while calls are in flight.
			started := make(chan struct{}, 4)
			cs2 := connect(t, base+"/servers/t/mcp", legacy, &mcp.ClientOptions{
				ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) { started <- struct{}{} },
			})
			pid3 := pidOf(ctx, t, cs2)
			errc := make(chan error, 1)
			go func() {
				p := &mcp.CallToolParams{Name: "block"}
				p.SetProgressToken("k")
				_, err := cs2.CallTool(ctx, p)
				errc <- err
			}()
			<-started
			if err := syscall.Kill(pid3, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			err = <-errc
			if !errors.As(err, &werr) || werr.Code != CodeServerExited || !strings.Contains(werr.Message, "the gateway restarts it on the next request") {
				t.Fatalf("killed: err = %v, want CodeServerExited", err)
			}
			got, err := callText(ctx, cs2, "echo", map[string]any{"message": "back"})
			if err != nil || got != "back" {
				t.Fatalf("after kill: %q, %v", got, err)
			}
		})
	}
}

func TestCancellationForwarded(t *testing.T) {
	g, base := newTestGateway(t, nil)
	g.Register("t", testBackend("test"), Shared)
	for _, v := range []string{legacy, modern} {
		t.Run(v, func(t *testing.T) {
			ctx := testCtx(t)
			started := make(chan struct{}, 1)
			cs := connect(t, base+"/servers/t/mcp", v, &mcp.ClientOptions{
				ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) { started <- struct{}{} },
			})
			before, err := callText(ctx, cs, "cancelled", nil)
			if err != nil {
				t.Fatal(err)
			}
			callCtx, cancel := context.WithCancel(ctx)
			errc := make(chan error, 1)
			go func() {
				p := &mcp.CallToolParams{Name: "block"}
				p.SetProgressToken("c")
				_, err := cs.CallTool(callCtx, p)
				errc <- err
			}()
			<-started
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled call: err = %v", err)
			}
			// The server saw the cancellation (under its own request ID).
			n, _ := strconv.Atoi(before)
			waitFor(t, 10*time.Second, func() bool {
				s, err := callText(ctx, cs, "cancelled", nil)
				m, _ := strconv.Atoi(s)
				return err == nil && m == n+1
			})
		})
	}
}

func TestPerSession(t *testing.T) {
	g, base := newTestGateway(t, nil)
	g.Register("t", testBackend("test"), PerSession)
	endpoint := base + "/servers/t/mcp"
	ctx := testCtx(t)

	// The SDK's default client falls back to a 2025-11-25 session.
	a := connect(t, endpoint, "", nil)
	if v := a.InitializeResult().ProtocolVersion; v != legacy {
		t.Errorf("per-session protocol = %q, want %q", v, legacy)
	}
	// b has roots: its process asks for them right after initialization,
	// outside any call, and the gateway relays that to b.
	rc := mcp.NewClient(&mcp.Implementation{Name: "roots-client", Version: "v0"}, nil)
	rc.AddRoots(&mcp.Root{URI: "file:///b-root", Name: "b"})
	b, err := rc.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, MaxRetries: -1}, &mcp.ClientSessionOptions{ProtocolVersion: legacy})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got, err := callText(ctx, b, "roots", nil); err != nil || got != "file:///b-root" {
		t.Errorf("b's roots as its process saw them = %q, %v", got, err)
	}
	pa, pb := pidOf(ctx, t, a), pidOf(ctx, t, b)
	if pa == pb {
		t.Fatalf("two sessions share process %d", pa)
	}
	for i, want := range []string{"1", "2", "3"} {
		got, err := callText(ctx, a, "counter", nil)
		if err != nil || got != want {
			t.Fatalf("a counter %d = %q, %v", i, got, err)
		}
	}
	if got, _ := callText(ctx, b, "counter", nil); got != "1" {
		t.Errorf("b counter = %q, want its own state (1)", got)
	}
	// Ending a session ends its process.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 10*time.Second, func() bool { return syscall.Kill(pa, 0) != nil })
	if got, err := callText(ctx, b, "echo", map[string]any{"message": "still here"}); err != nil || got != "still here" {
		t.Errorf("b after a closed: %q, %v", got, err)
	}
}

func TestNotificationsRouting(t *testing.T) {
	g, base := newTestGateway(t, nil)
	g.Register("t", testBackend("test"), Shared)
	endpoint := base + "/servers/t/mcp"
	ctx := testCtx(t)
	type events struct {
		mu                       sync.Mutex
		logs, updated, listChang int
	}
	newClient := func(ev *events) *mcp.ClientOptions {
		return &mcp.ClientOptions{
			LoggingMessageHandler: func(context.Context, *mcp.LoggingMessageRequest) {
				ev.mu.Lock()
				ev.logs++
				ev.mu.Unlock()
			},
			ResourceUpdatedHandler: func(context.Context, *mcp.ResourceUpdatedNotificationRequest) {
				ev.mu.Lock()
				ev.updated++
				ev.mu.Unlock()
			},
			ToolListChangedHandler: func(context.Context, *mcp.ToolListChangedRequest) {
				ev.mu.Lock()
				ev.listChang++
				ev.mu.Unlock()
			},
		}
	}
	var ea, eb, ec events
	a := connect(t, endpoint, legacy, newClient(&ea))
	b := connect(t, endpoint, legacy, newClient(&eb))
	c := connect(t, endpoint, modern, newClient(&ec)) // listens (subscriptions/listen)
	// Only a and c subscribe, only a sets a log level.
	if err := a.Subscribe(ctx, &mcp.SubscribeParams{URI: "test://r"}); err != nil {
		t.Fatal(err)
	}
	if err := c.Subscribe(ctx, &mcp.SubscribeParams{URI: "test://r"}); err != nil {
		t.Fatal(err)
	}
	//lint:ignore SA1019 testing the deprecated logging feature on purpose
	if err := a.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
		t.Fatal(err)
	}
	if _, err := callText(ctx, b, "touch", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := callText(ctx, b, "log", map[string]any{"message": "m"}); err != nil {
		t.Fatal(err)
	}
	if _, err := callText(ctx, b, "add_tool", map[string]any{"message": "fresh"}); err != nil {
		t.Fatal(err)
	}
	get := func(ev *events) [3]int {
		ev.mu.Lock()
		defer ev.mu.Unlock()
		return [3]int{ev.logs, ev.updated, ev.listChang}
	}
	waitFor(t, 10*time.Second, func() bool { return get(&ea) == [3]int{1, 1, 1} })
	// c (2026-07-28): the update and the list change on its listen stream.
	waitFor(t, 10*time.Second, func() bool { return get(&ec) == [3]int{0, 1, 1} })
	// b: no subscription, no log level: only the list change.
	waitFor(t, 10*time.Second, func() bool { return get(&eb)[2] == 1 })
	if got := get(&eb); got != [3]int{0, 0, 1} {
		t.Errorf("b events (logs, updated, list changed) = %v, want [0 0 1]", got)
	}
	var names []string
	for tool, err := range b.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tool.Name)
	}
	if !contains(names, "fresh") || contains(names, placeholder) {
		t.Errorf("tools after list change = %v", names)
	}
}

func TestEverythingStdio(t *testing.T) {
	command, args := everything(t)
	g, base := newTestGateway(t, nil)
	g.Register("everything", &Command{Path: command, Args: args}, Shared)
	endpoint := base + "/servers/everything/mcp"
	for _, v := range []string{"", legacy} {
		t.Run("ask="+v, func(t *testing.T) {
			ctx := testCtx(t)
			cs := connect(t, endpoint, v, nil)
			want := modern
			if v == legacy {
				want = legacy
			}
			if got := cs.InitializeResult().ProtocolVersion; got != want {
				t.Errorf("protocol = %q, want %q", got, want)
			}
			got, err := callText(ctx, cs, "echo", map[string]any{"message": "hi " + v})
			if err != nil || !strings.Contains(got, "hi "+v) {
				t.Fatalf("echo = %q, %v", got, err)
			}
			n := 0
			for _, err := range cs.Tools(ctx, nil) {
				if err != nil {
					t.Fatal(err)
				}
				n++
			}
			if n < 5 {
				t.Errorf("%d tools, want server-everything's", n)
			}
		})
	}
}

func TestLimitsAndStartFailures(t *testing.T) {
	g, base := newTestGateway(t, &Options{MaxResponseBytes: 1000, StartTimeout: 500 * time.Millisecond})
	g.Register("t", testBackend("test"), Shared)
	g.Register("noisy", testBackend("noisy"), Shared)
	g.Register("silent", testBackend("silent"), Shared)
	ctx := testCtx(t)
	cs := connect(t, base+"/servers/t/mcp", legacy, nil)

	// A response over MaxResponseBytes fails its call only.
	_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "big", Arguments: map[string]any{"n": 5000}})
	var werr *jsonrpc.Error
	if !errors.As(err, &werr) || werr.Code != CodeTooLarge ||
		werr.Message != `server "t" answered tools/call with a message of more than 1000 bytes, over the gateway's limit (Options.MaxResponseBytes)` {
		t.Errorf("big response: err = %v, want CodeTooLarge", err)
	}
	if got, err := callText(ctx, cs, "big", map[string]any{"n": 10}); err != nil || got != strings.Repeat("x", 10) {
		t.Errorf("after a big response: %q, %v", got, err)
	}

	// Non-JSON lines on stdout are ignored.
	noisy := connect(t, base+"/servers/noisy/mcp", legacy, nil)
	if got, err := callText(ctx, noisy, "echo", map[string]any{"message": "despite the banner"}); err != nil || got != "despite the banner" {
		t.Errorf("noisy server: %q, %v", got, err)
	}

	// A server that never answers initialize.
	r := do(t, "GET", base+"/v1/servers/silent/tools", "", nil)
	if e := jsonError(t, r); r.status != 503 || e.Message != `server "silent" failed to start: no answer to initialize within 500ms` {
		t.Errorf("silent server: %d %+v", r.status, e)
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "c"}, nil)
	_, err = c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: base + "/servers/silent/mcp", MaxRetries: -1}, &mcp.ClientSessionOptions{ProtocolVersion: legacy})
	if err == nil || !strings.Contains(err.Error(), `server "silent" failed to start: no answer to initialize within 500ms`) {
		t.Errorf("MCP client to a silent server: err = %v", err)
	}
}

func TestRegisterPanics(t *testing.T) {
	g := New(nil)
	defer g.Close()
	for _, tc := range []struct {
		name string
		b    Backend
		want string
	}{
		{"", testBackend("test"), `gateway: Register: invalid server name ""`},
		{"a/b", testBackend("test"), `gateway: Register: invalid server name "a/b"`},
		{"x", &RemoteBackend{URL: "ftp://x"}, `gateway: Register: remote server "x": URL "ftp://x" is not an absolute http(s) URL`},
		{"x", otherBackend{}, "gateway: Register: backend must be a StdioBackend or a *RemoteBackend"},
	} {
		func() {
			defer func() {
				if got := fmt.Sprint(recover()); got != tc.want {
					t.Errorf("Register(%q) panic = %q, want %q", tc.name, got, tc.want)
				}
			}()
			g.Register(tc.name, tc.b, Shared)
		}()
	}
	if names := g.Names(); len(names) != 0 {
		t.Errorf("names after failed registrations = %v", names)
	}
}

type otherBackend struct{}

func (otherBackend) String() string { return "other" }

// TestServerCallTimeout: a server registered with its own call timeout is
// bounded by it, on every path (fast path and SDK path of 2025-11-25
// sessions, 2026-07-28 requests, per-session processes, REST), while the
// other servers keep the gateway's.
func TestServerCallTimeout(t *testing.T) {
	g, base := newTestGateway(t, &Options{CallTimeout: time.Hour})
	g.RegisterWith("quick", testBackend("test"), Shared, &ServerOptions{CallTimeout: 300 * time.Millisecond})
	g.RegisterWith("quick-ps", testBackend("test"), PerSession, &ServerOptions{CallTimeout: 300 * time.Millisecond})
	g.Register("default", testBackend("test"), Shared)
	ctx := testCtx(t)
	for _, tc := range []struct{ server, version string }{
		{"quick", legacy}, {"quick", modern}, {"quick-ps", legacy},
	} {
		t.Run(tc.server+"/"+tc.version, func(t *testing.T) {
			cs := connect(t, base+"/servers/"+tc.server+"/mcp", tc.version, nil)
			_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "block"})
			var werr *jsonrpc.Error
			if !errors.As(err, &werr) || werr.Code != CodeTimeout || !strings.Contains(werr.Message, "within 300ms (the gateway's call timeout)") {
				t.Fatalf("block: err = %v, want CodeTimeout naming 300ms", err)
			}
			// The server is still usable.
			if got, err := callText(ctx, cs, "echo", map[string]any{"message": "still here"}); err != nil || got != "still here" {
				t.Errorf("after the timeout: %q, %v", got, err)
			}
		})
	}
	r := do(t, "POST", base+"/v1/servers/quick/call_tool", `{"name":"block"}`, nil)
	if e := jsonError(t, r); r.status != 504 || !strings.HasPrefix(e.Message, `server "quick" did not answer`) || !strings.Contains(e.Message, "within 300ms") {
		t.Errorf("REST block: %d %s", r.status, r.body)
	}

	// The gateway's own timeout (an hour) applies to the others: a call
	// still blocking after the quick server's timeout has passed is
	// cancelled by its client, not by the gateway.
	cs := connect(t, base+"/servers/default/mcp", legacy, nil)
	cctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	_, err := cs.CallTool(cctx, &mcp.CallToolParams{Name: "block"})
	var werr *jsonrpc.Error
	if err == nil || (errors.As(err, &werr) && werr.Code == CodeTimeout) || cctx.Err() == nil {
		t.Errorf("default server: err = %v, want the client's own deadline", err)
	}
}
