package servers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/config"
)

// testTimeout bounds every wait in these tests.
const testTimeout = 30 * time.Second

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func newTestRegistry(t testing.TB, specs map[string]config.ServerSpec, opts *Options) *Registry {
	t.Helper()
	r := NewRegistry(specs, opts)
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return r
}

// resultText joins the text content of a tool result.
func resultText(t testing.TB, res *mcp.CallToolResult) string {
	t.Helper()
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

func callText(t testing.TB, r *Registry, server, tool string, args map[string]any) string {
	t.Helper()
	res, err := r.CallTool(testContext(t), server, &mcp.CallToolParams{Name: tool, Arguments: args})
	if err != nil {
		t.Fatalf("CallTool(%s, %s): %v", server, tool, err)
	}
	if res.IsError {
		t.Fatalf("CallTool(%s, %s): tool error %q", server, tool, resultText(t, res))
	}
	return resultText(t, res)
}

func names[T any](items []*T, name func(*T) string) []string {
	var out []string
	for _, it := range items {
		out = append(out, name(it))
	}
	slices.Sort(out)
	return out
}

func TestRegistryStdio(t *testing.T) {
	r := newTestRegistry(t, map[string]config.ServerSpec{"basic": testServerSpec("", "basic")}, nil)
	ctx := testContext(t)

	if got, want := r.Names(), []string{"basic"}; !slices.Equal(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	if spec, ok := r.Spec("basic"); !ok || spec.Name != "basic" {
		t.Errorf("Spec(basic) = %+v, %v; want Name filled from the key", spec, ok)
	}

	tools, err := r.ListTools(ctx, "basic")
	if err != nil {
		t.Fatal(err)
	}
	// 9 named tools and the numbered ones, over pages of testPageSize.
	if got, want := len(tools), 9+numberedTools; got != want {
		t.Errorf("ListTools returned %d tools, want %d (all pages)", got, want)
	}
	if got := callText(t, r, "basic", "echo", map[string]any{"message": "hi"}); got != "hi" {
		t.Errorf("echo = %q, want %q", got, "hi")
	}

	resources, err := r.ListResources(ctx, "basic")
	if err != nil {
		t.Fatal(err)
	}
	wantRes := []string{"test://hello", "test://r0", "test://r1", "test://r2", "test://r3", "test://r4", "test://r5"}
	if diff := cmp.Diff(wantRes, names(resources, func(r *mcp.Resource) string { return r.URI })); diff != "" {
		t.Errorf("ListResources (-want +got):\n%s", diff)
	}
	templates, err := r.ListResourceTemplates(ctx, "basic")
	if err != nil {
		t.Fatal(err)
	}
	if len(templates) != 1 || templates[0].URITemplate != "test://items/{id}" {
		t.Errorf("ListResourceTemplates = %v", templates)
	}
	rr, err := r.ReadResource(ctx, "basic", "test://r3")
	if err != nil {
		t.Fatal(err)
	}
	if len(rr.Contents) != 1 || rr.Contents[0].Text != "content of test://r3" {
		t.Errorf("ReadResource = %+v", rr.Contents)
	}

	prompts, err := r.ListPrompts(ctx, "basic")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(prompts, func(p *mcp.Prompt) string { return p.Name }); !slices.Equal(got, []string{"greet"}) {
		t.Errorf("ListPrompts = %v", got)
	}
	pr, err := r.GetPrompt(ctx, "basic", "greet", map[string]string{"who": "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	if len(pr.Messages) != 1 || pr.Messages[0].Content.(*mcp.TextContent).Text != "Hello, Ada!" {
		t.Errorf("GetPrompt = %+v", pr.Messages)
	}

	// A tool that does not exist is a protocol error naming the server.
	_, err = r.CallTool(ctx, "basic", &mcp.CallToolParams{Name: "nope"})
	if err == nil || !strings.HasPrefix(err.Error(), `server "basic": `) || !strings.Contains(err.Error(), "nope") {
		t.Errorf("CallTool(nope) error = %v, want one naming the server and the tool", err)
	}
}

func TestUnknownServer(t *testing.T) {
	r := newTestRegistry(t, map[string]config.ServerSpec{
		"fetch":      {Command: "x"},
		"filesystem": {Command: "y"},
	}, nil)
	_, err := r.ListTools(testContext(t), "fetc")
	if !errors.Is(err, ErrUnknownServer) {
		t.Fatalf("err = %v, want ErrUnknownServer", err)
	}
	if got, want := err.Error(), `unknown server "fetc" (known: fetch, filesystem)`; got != want {
		t.Errorf("err = %q, want %q", got, want)
	}
	empty := newTestRegistry(t, nil, nil)
	_, err = empty.Session(testContext(t), "fetch")
	if want := `unknown server "fetch" (no servers are configured; add them under mcp.servers)`; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

func TestAllowedTools(t *testing.T) {
	spec := testServerSpec("", "basic")
	spec.AllowedTools = []string{"echo", "pid"}
	r := newTestRegistry(t, map[string]config.ServerSpec{"basic": spec}, nil)
	ctx := testContext(t)
	tools, err := r.ListTools(ctx, "basic")
	if err != nil {
		t.Fatal(err)
	}
	if got := names(tools, func(t *mcp.Tool) string { return t.Name }); !slices.Equal(got, []string{"echo", "pid"}) {
		t.Errorf("ListTools = %v, want [echo pid]", got)
	}
	_, err = r.CallTool(ctx, "basic", &mcp.CallToolParams{Name: "crash"})
	if !errors.Is(err, ErrToolNotAllowed) {
		t.Fatalf("CallTool(crash) = %v, want ErrToolNotAllowed", err)
	}
	if want := `server "basic": tool "crash": tool not allowed (allowed_tools: [echo pid])`; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
}

func TestConcurrentFirstUseConnectsOnce(t *testing.T) {
	var mu sync.Mutex
	connects := 0
	opts := &Options{Transport: func(name string, spec config.ServerSpec, stderr io.Writer) (mcp.Transport, error) {
		mu.Lock()
		connects++
		mu.Unlock()
		return NewTransport(spec, stderr)
	}}
	r := newTestRegistry(t, map[string]config.ServerSpec{"basic": testServerSpec("", "basic")}, opts)
	const n = 16
	pids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, err := r.CallTool(testContext(t), "basic", &mcp.CallToolParams{Name: "pid"})
			if err != nil {
				t.Error(err)
				return
			}
			pids[i] = resultText(t, res)
		})
	}
	wg.Wait()
	if connects != 1 {
		t.Errorf("%d concurrent first calls connected %d times, want 1", n, connects)
	}
	for _, p := range pids {
		if p != pids[0] {
			t.Errorf("calls reached different processes: %v", pids)
			break
		}
	}
}

func TestServerCrashMidCallThenReconnect(t *testing.T) {
	var logs lockedLog
	r := newTestRegistry(t, map[string]config.ServerSpec{"crashy": testServerSpec("", "basic")}, &Options{Logger: logs.logger()})
	ctx := testContext(t)
	pid1 := callText(t, r, "crashy", "pid", nil)

	_, err := r.CallTool(ctx, "crashy", &mcp.CallToolParams{Name: "crash"})
	var exited *ServerExitedError
	if !errors.As(err, &exited) {
		t.Fatalf("CallTool(crash) error = %v (%T), want *ServerExitedError", err, err)
	}
	if exited.Server != "crashy" || exited.Err == nil || exited.Err.Error() != "exit status 3" {
		t.Errorf("ServerExitedError = {Server: %q, Err: %v}, want crashy, exit status 3", exited.Server, exited.Err)
	}
	lines := strings.Split(exited.Stderr, "\n")
	if len(lines) != stderrTailLines || lines[len(lines)-1] != "panic: the disk is on fire" || lines[0] != "working 11" {
		t.Errorf("Stderr tail has %d lines, first %q, last %q; want the last %d lines", len(lines), lines[0], lines[len(lines)-1], stderrTailLines)
	}
	if msg := err.Error(); !strings.HasPrefix(msg, "server \"crashy\" exited: exit status 3; last stderr lines:\nworking 11\n") {
		t.Errorf("message = %q", msg)
	}

	// The next call reconnects to a new process.
	pid2 := callText(t, r, "crashy", "pid", nil)
	if pid2 == pid1 {
		t.Errorf("after the crash the call reached the same process %s", pid1)
	}
	if !logs.waitFor(t, "server connection lost") {
		t.Errorf("no warning logged about the lost server; log:\n%s", logs.String())
	}
}

func TestReadTimeout(t *testing.T) {
	spec := testServerSpec("", "basic")
	spec.ReadTimeoutSeconds = 0.3
	r := newTestRegistry(t, map[string]config.ServerSpec{"slow": spec}, nil)
	ctx := testContext(t)
	_, err := r.CallTool(ctx, "slow", &mcp.CallToolParams{Name: "hang"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want DeadlineExceeded", err)
	}
	if want := `server "slow": tools/call timed out after 300ms`; err.Error() != want {
		t.Errorf("err = %q, want %q", err, want)
	}
	// The server is slow, not dead: the session stays usable.
	if got := callText(t, r, "slow", "echo", map[string]any{"message": "still here"}); got != "still here" {
		t.Errorf("echo after timeout = %q", got)
	}

	// The caller's own deadline names the server and method too.
	r2 := newTestRegistry(t, map[string]config.ServerSpec{"slow": testServerSpec("", "basic")}, nil)
	if err := r2.ConnectAll(ctx); err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	_, err = r2.CallTool(short, "slow", &mcp.CallToolParams{Name: "hang"})
	var te *TimeoutError
	if !errors.As(err, &te) || te.Server != "slow" || te.Method != "tools/call" {
		t.Errorf("err = %v, want a TimeoutError for slow tools/call", err)
	}
}

func TestServerFailsAtStart(t *testing.T) {
	r := newTestRegistry(t, map[string]config.ServerSpec{"keyless": testServerSpec("", "fail-start")}, nil)
	_, err := r.ListTools(testContext(t), "keyless")
	var ce *ConnectError
	var exited *ServerExitedError
	if !errors.As(err, &ce) || !errors.As(err, &exited) {
		t.Fatalf("err = %v, want a ConnectError wrapping a ServerExitedError", err)
	}
	want := fmt.Sprintf("connect to server \"keyless\" (stdio %s -test.run=^$): server \"keyless\" exited: exit status 2; last stderr lines:\nstarting up\nError: FOO_API_KEY is not set", testServerSpec("", "").Command)
	if err.Error() != want {
		t.Errorf("err =\n%s\nwant\n%s", err, want)
	}
}

func TestServerWritesGarbage(t *testing.T) {
	r := newTestRegistry(t, map[string]config.ServerSpec{"noisy": testServerSpec("", "garbage")}, nil)
	_, err := r.ListTools(testContext(t), "noisy")
	if err == nil {
		t.Fatal("no error from a server printing garbage on stdout")
	}
	for _, want := range []string{`connect to server "noisy"`, "not JSON-RPC to stdout", "logs on stderr", "invalid character 'H'"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("err = %q, want it to contain %q", err, want)
		}
	}
}

func TestConnectRefused(t *testing.T) {
	r := newTestRegistry(t, map[string]config.ServerSpec{
		"x": {Transport: config.TransportStreamableHTTP, URL: "http://127.0.0.1:1/mcp"},
	}, nil)
	err := r.ConnectAll(testContext(t))
	if err == nil {
		t.Fatal("connected to a closed port")
	}
	if want := `connect to server "x" (streamable_http http://127.0.0.1:1/mcp): `; !strings.HasPrefix(err.Error(), want) || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("err = %q, want prefix %q and connection refused", err, want)
	}
}

func TestBadSpecs(t *testing.T) {
	for _, tc := range []struct {
		spec config.ServerSpec
		want string
	}{
		{config.ServerSpec{}, `has neither a command (stdio) nor a url: set mcp.servers.bad.command or .url`},
		{config.ServerSpec{Transport: "grpc", URL: "http://x"}, `unknown transport "grpc" (use stdio, sse, streamable_http or websocket)`},
		{config.ServerSpec{Transport: "sse"}, `the sse transport needs a url (set mcp.servers.bad.url)`},
		{config.ServerSpec{URL: "localhost:8080/mcp"}, `url "localhost:8080/mcp" is not an absolute http:// or https:// URL`},
		{config.ServerSpec{Command: "/nonexistent/server"}, `fork/exec /nonexistent/server: no such file or directory`},
	} {
		r := newTestRegistry(t, map[string]config.ServerSpec{"bad": tc.spec}, nil)
		_, err := r.Session(testContext(t), "bad")
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.HasPrefix(err.Error(), `connect to server "bad"`) {
			t.Errorf("spec %+v: err = %v, want it to contain %q", tc.spec, err, tc.want)
		}
	}
}

func TestConnectAll(t *testing.T) {
	r := newTestRegistry(t, map[string]config.ServerSpec{
		"a":      testServerSpec("", "basic"),
		"b":      testServerSpec("", "basic"),
		"broken": testServerSpec("", "fail-start"),
	}, nil)
	err := r.ConnectAll(testContext(t))
	if err == nil || !strings.Contains(err.Error(), `connect to server "broken"`) || strings.Contains(err.Error(), `server "a"`) {
		t.Fatalf("ConnectAll error = %v, want only broken's failure", err)
	}
	if err := r.ConnectAll(testContext(t), "a", "b"); err != nil {
		t.Errorf("ConnectAll(a, b) = %v", err)
	}
	err = r.ConnectAll(testContext(t), "a", "zzz")
	if !errors.Is(err, ErrUnknownServer) {
		t.Errorf("ConnectAll(a, zzz) = %v, want ErrUnknownServer", err)
	}
}

func TestClosedRegistry(t *testing.T) {
	r := NewRegistry(map[string]config.ServerSpec{"basic": testServerSpec("", "basic")}, nil)
	ctx := testContext(t)
	sess, err := r.Session(ctx, "basic")
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := r.ListTools(ctx, "basic"); !errors.Is(err, ErrClosed) {
		t.Errorf("ListTools after Close = %v, want ErrClosed", err)
	}
	if err := sess.Ping(ctx, nil); err == nil {
		t.Error("the session still answers after Close")
	}
}

// protocolVersions are the protocol generations tested: the stateless
// 2026-07-28 (multi round-trip requests, log level per request) and the
// 2025-11-25 session (server-to-client requests, logging/setLevel).
var protocolVersions = []string{"2026-07-28", "2025-11-25"}

func TestHandlers(t *testing.T) {
	for _, v := range protocolVersions {
		t.Run(v, func(t *testing.T) { testHandlers(t, v) })
	}
}

func testHandlers(t *testing.T, version string) {
	type event struct{ server, what string }
	events := make(chan event, 100)
	opts := &Options{
		SamplingHandler: func(_ context.Context, server string, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			events <- event{server, "sampling"}
			return &mcp.CreateMessageResult{Model: "test", Role: "assistant", Content: &mcp.TextContent{Text: "hi!"}}, nil
		},
		ElicitationHandler: func(_ context.Context, server string, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			events <- event{server, "elicit " + req.Params.Message}
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"name": "Ada"}}, nil
		},
		OnLog: func(server string, p *mcp.LoggingMessageParams) {
			events <- event{server, fmt.Sprintf("log %s %s %v", p.Level, p.Logger, p.Data)}
		},
		OnProgress: func(server string, p *mcp.ProgressNotificationParams) {
			events <- event{server, fmt.Sprintf("progress %v/%v %s", p.Progress, p.Total, p.Message)}
		},
		OnResourceUpdated: func(server string, p *mcp.ResourceUpdatedNotificationParams) {
			events <- event{server, "updated " + p.URI}
		},
		OnToolsChanged:  func(server string) { events <- event{server, "tools changed"} },
		ProtocolVersion: version,
	}
	r := newTestRegistry(t, map[string]config.ServerSpec{"w": testServerSpec("", "basic")}, opts)
	ctx := testContext(t)
	if c, err := r.Conn(ctx, "w"); err != nil || c.ProtocolVersion() != version {
		t.Fatalf("Conn: %v, want protocol %s", err, version)
	}

	p := &mcp.CallToolParams{Name: "work"}
	p.SetProgressToken("tok-1")
	res, err := r.CallTool(ctx, "w", p)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := resultText(t, res), "sampled=hi! elicited=accept/Ada"; got != want {
		t.Errorf("work = %q, want %q", got, want)
	}
	if err := r.Subscribe(ctx, "w", "test://hello"); err != nil {
		t.Fatal(err)
	}
	callText(t, r, "w", "touch", nil)
	callText(t, r, "w", "addtool", nil)

	want := []event{
		{"w", "log info worker starting work"},
		{"w", "progress 1/2 step 1"},
		{"w", "progress 2/2 step 2"},
		{"w", "sampling"},
		{"w", "elicit your name?"},
		{"w", "updated test://hello"},
		{"w", "tools changed"},
	}
	// Subscribe returned, so the server had registered the subscription
	// (under 2026-07-28 too): the update of the touch arrives.
	var got []event
	deadline := time.After(testTimeout)
	for len(got) < len(want) {
		select {
		case e := <-events:
			got = append(got, e)
		case <-deadline:
			t.Fatalf("timed out waiting for events; got %v", got)
		}
	}
	// Notifications are delivered asynchronously: compare as sets.
	sortEvents := func(es []event) { slices.SortFunc(es, func(a, b event) int { return strings.Compare(a.what, b.what) }) }
	sortEvents(got)
	sortEvents(want)
	if diff := cmp.Diff(want, got, cmp.AllowUnexported(event{})); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if err := r.Unsubscribe(ctx, "w", "test://hello"); err != nil {
		t.Errorf("Unsubscribe: %v", err)
	}
}

func TestRoots(t *testing.T) {
	for _, v := range protocolVersions {
		t.Run(v, func(t *testing.T) { testRoots(t, v) })
	}
}

func testRoots(t *testing.T, version string) {
	spec := testServerSpec("", "basic")
	spec.Roots = []config.Root{
		{URI: "file:///home/me/project", Name: "project", ServerURIAlias: "file:///workspace"},
		{URI: "file:///tmp/data", Name: "data"},
	}
	r := newTestRegistry(t, map[string]config.ServerSpec{"r": spec}, &Options{ProtocolVersion: version})
	got := callText(t, r, "r", "roots", nil)
	want := "file:///tmp/data data\nfile:///workspace project\n" // sorted by URI
	if got != want {
		t.Errorf("roots seen by the server = %q, want %q", got, want)
	}
}

func TestOpen(t *testing.T) {
	ctx := testContext(t)
	c, err := Open(ctx, testServerSpec("one", "basic"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Name() != "one" || c.Session() == nil || c.ProtocolVersion() == "" {
		t.Errorf("Conn: name %q, session %v, protocol %q", c.Name(), c.Session(), c.ProtocolVersion())
	}
	res, err := c.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "one-shot"}})
	if err != nil || resultText(t, res) != "one-shot" {
		t.Fatalf("CallTool = %v, %v", res, err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	// A dead Conn does not reconnect: calls fail fast with the exit.
	_, err = c.CallTool(ctx, &mcp.CallToolParams{Name: "crash"})
	var exited *ServerExitedError
	if !errors.As(err, &exited) {
		t.Fatalf("crash: %v", err)
	}
	_, err = c.ListTools(ctx)
	if !errors.As(err, &exited) || exited.Err.Error() != "exit status 3" {
		t.Errorf("call on a dead Conn = %v, want the ServerExitedError again", err)
	}
	if err := c.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if _, err := c.ListTools(ctx); !errors.Is(err, ErrClosed) {
		t.Errorf("ListTools after Close = %v, want ErrClosed", err)
	}
}

func TestProtocolVersions(t *testing.T) {
	for _, v := range []string{"", "2025-11-25", "2025-06-18"} {
		t.Run("v="+v, func(t *testing.T) {
			c, err := Open(testContext(t), testServerSpec("v", "basic"), &Options{ProtocolVersion: v})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			want := v
			if v == "" {
				want = "2026-07-28" // go-sdk servers speak the stateless protocol over stdio
			}
			if got := c.ProtocolVersion(); got != want {
				t.Errorf("negotiated %q, want %q", got, want)
			}
		})
	}
}

// lockedLog collects slog output for assertions.
type lockedLog struct {
	mu      sync.Mutex
	b       strings.Builder
	changed chan struct{} // receives after writes
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.changed == nil {
		l.changed = make(chan struct{}, 1)
	}
	select {
	case l.changed <- struct{}{}:
	default:
	}
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func (l *lockedLog) logger() *slog.Logger {
	l.mu.Lock()
	if l.changed == nil {
		l.changed = make(chan struct{}, 1)
	}
	l.mu.Unlock()
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// waitFor waits until the log contains s, or testTimeout passes.
func (l *lockedLog) waitFor(t testing.TB, s string) bool {
	t.Helper()
	deadline := time.NewTimer(testTimeout)
	defer deadline.Stop()
	for !strings.Contains(l.String(), s) {
		select {
		case <-l.changed:
		case <-deadline.C:
			return false
		}
	}
	return true
}

// TestServerKilledWhileIdle: a server that dies between calls is dropped
// when its death is seen, and the next call reconnects without an error.
func TestServerKilledWhileIdle(t *testing.T) {
	var logs lockedLog
	r := newTestRegistry(t, map[string]config.ServerSpec{"victim": testServerSpec("", "basic")}, &Options{Logger: logs.logger()})
	pid1 := callText(t, r, "victim", "pid", nil)
	pid, err := strconv.Atoi(pid1)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	if !logs.waitFor(t, "server connection lost") {
		t.Fatalf("the death was not noticed; log:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "signal: killed") {
		t.Errorf("the log does not say how the server died:\n%s", logs.String())
	}
	if pid2 := callText(t, r, "victim", "pid", nil); pid2 == pid1 {
		t.Errorf("reached the killed process %s again", pid1)
	}
}

func TestConnectTimeout(t *testing.T) {
	spec := testServerSpec("", "silent")
	spec.ReadTimeoutSeconds = 0.3
	r := newTestRegistry(t, map[string]config.ServerSpec{"mute": spec}, nil)
	_, err := r.ListTools(testContext(t), "mute")
	want := "no answer after 300ms (read_timeout_seconds); is the server running and speaking MCP?"
	if err == nil || !strings.HasPrefix(err.Error(), `connect to server "mute"`) || !strings.HasSuffix(err.Error(), want) {
		t.Errorf("err = %v, want it to end with %q", err, want)
	}

	// Without a read timeout the caller's deadline bounds connecting, and
	// the connect is abandoned when the only caller gives up.
	r2 := newTestRegistry(t, map[string]config.ServerSpec{"mute": testServerSpec("", "silent")}, nil)
	ctx, cancel := context.WithTimeout(testContext(t), 200*time.Millisecond)
	defer cancel()
	_, err = r2.Session(ctx, "mute")
	if !errors.Is(err, context.DeadlineExceeded) || !strings.HasPrefix(err.Error(), `connect to server "mute" (stdio `) {
		t.Errorf("err = %v, want a connect error wrapping DeadlineExceeded", err)
	}
}

func TestStderrLogged(t *testing.T) {
	var logs lockedLog
	r := newTestRegistry(t, map[string]config.ServerSpec{"keyless": testServerSpec("", "fail-start")}, &Options{Logger: logs.logger()})
	if _, err := r.Session(testContext(t), "keyless"); err == nil {
		t.Fatal("connected to a server that exits at start")
	}
	if !strings.Contains(logs.String(), `level=DEBUG msg="server stderr" server=keyless line="Error: FOO_API_KEY is not set"`) {
		t.Errorf("stderr line not logged at debug:\n%s", logs.String())
	}
}

// TestSharedCallsAfterCrash: many callers share one connection; when the
// server crashes under them every call in flight fails fast with the exit,
// and the registry then serves everyone from one new process.
func TestSharedCallsAfterCrash(t *testing.T) {
	spec := testServerSpec("", "basic")
	r := newTestRegistry(t, map[string]config.ServerSpec{"s": spec}, nil)
	ctx := testContext(t)
	callText(t, r, "s", "echo", map[string]any{"message": "warm"})

	const n = 8
	errs := make(chan error, n)
	for range n {
		go func() {
			_, err := r.CallTool(ctx, "s", &mcp.CallToolParams{Name: "hang"})
			errs <- err
		}()
	}
	// The server crashes once all the hang calls are in flight.
	_, err := r.CallTool(ctx, "s", &mcp.CallToolParams{Name: "crash", Arguments: map[string]any{"after_hangs": n}})
	var exited *ServerExitedError
	if !errors.As(err, &exited) {
		t.Fatalf("crash: %v", err)
	}
	for range n {
		if err := <-errs; !errors.As(err, &exited) || exited.Err.Error() != "exit status 3" {
			t.Errorf("in-flight call: %v, want *ServerExitedError with exit status 3", err)
		}
	}
	callText(t, r, "s", "echo", map[string]any{"message": "after"})
}

// barrierTransport connects only once all n transports of its barrier are
// connecting at the same time, so connecting them one after the other
// fails.
type barrierTransport struct {
	inner mcp.Transport
	all   chan struct{}
	once  *sync.Once
	n     int
	count *int
	mu    *sync.Mutex
}

func (b *barrierTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	b.mu.Lock()
	*b.count++
	if *b.count == b.n {
		b.once.Do(func() { close(b.all) })
	}
	b.mu.Unlock()
	select {
	case <-b.all:
		return b.inner.Connect(ctx)
	case <-time.After(5 * time.Second):
		return nil, errors.New("connected alone: connects are not concurrent")
	}
}

func TestConnectAllIsParallel(t *testing.T) {
	const n = 4
	specs := map[string]config.ServerSpec{}
	for i := range n {
		specs[fmt.Sprintf("s%d", i)] = config.ServerSpec{}
	}
	var (
		mu    sync.Mutex
		count int
		once  sync.Once
		all   = make(chan struct{})
	)
	server := newBasicServer()
	t.Cleanup(func() { closeServerSessions(server) })
	r := newTestRegistry(t, specs, &Options{Transport: func(name string, spec config.ServerSpec, stderr io.Writer) (mcp.Transport, error) {
		clientEnd, serverEnd := mcp.NewInMemoryTransports()
		if _, err := server.Connect(context.Background(), serverEnd, nil); err != nil {
			return nil, err
		}
		return &barrierTransport{inner: clientEnd, all: all, once: &once, n: n, count: &count, mu: &mu}, nil
	}})
	if err := r.ConnectAll(testContext(t)); err != nil {
		t.Fatal(err)
	}
	for _, name := range r.Names() {
		if got := callText(t, r, name, "echo", map[string]any{"message": name}); got != name {
			t.Errorf("%s: echo = %q", name, got)
		}
	}
}

// TestCloseWhileConnecting: Close abandons a connect in progress and its
// caller gets ErrClosed.
func TestCloseWhileConnecting(t *testing.T) {
	connecting := make(chan struct{})
	r := NewRegistry(map[string]config.ServerSpec{"mute": testServerSpec("", "silent")}, &Options{
		Transport: func(name string, spec config.ServerSpec, stderr io.Writer) (mcp.Transport, error) {
			close(connecting)
			return NewTransport(spec, stderr)
		},
	})
	errc := make(chan error, 1)
	go func() {
		_, err := r.Session(testContext(t), "mute")
		errc <- err
	}()
	<-connecting
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; !errors.Is(err, ErrClosed) {
		t.Errorf("Session during Close = %v, want ErrClosed", err)
	}
}
