package servers

import (
	"io"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
)

// everythingSpecs returns server-everything over every transport it
// serves: stdio, Streamable HTTP and SSE.
func everythingSpec(t *testing.T, transport string) config.ServerSpec {
	t.Helper()
	switch transport {
	case config.TransportStdio:
		cmd, args := testenv.Everything(t)
		return config.ServerSpec{Command: cmd, Args: args}
	case config.TransportStreamableHTTP:
		return config.ServerSpec{Transport: transport, URL: testenv.StartEverythingHTTP(t, "streamableHttp") + "/mcp"}
	case config.TransportSSE:
		return config.ServerSpec{Transport: transport, URL: testenv.StartEverythingHTTP(t, "sse") + "/sse"}
	}
	t.Fatalf("no server-everything for %s", transport)
	return config.ServerSpec{}
}

// TestEverything runs the reference server (TypeScript SDK) over each
// transport: tools, a call, resources, prompts and the protocol version.
func TestEverything(t *testing.T) {
	for _, tr := range []string{config.TransportStdio, config.TransportStreamableHTTP, config.TransportSSE} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			spec := everythingSpec(t, tr)
			r := newTestRegistry(t, map[string]config.ServerSpec{"everything": spec}, nil)
			ctx := testContext(t)

			c, err := r.Conn(ctx, "everything")
			if err != nil {
				t.Fatal(err)
			}
			// The TypeScript SDK does not speak 2026-07-28: the client falls
			// back to the 2025-11-25 handshake.
			if got := c.ProtocolVersion(); got != "2025-11-25" {
				t.Errorf("negotiated %q, want 2025-11-25", got)
			}
			if tr == config.TransportStreamableHTTP && c.Session().ID() == "" {
				t.Error("no Mcp-Session-Id for a stateful Streamable HTTP session")
			}

			tools, err := r.ListTools(ctx, "everything")
			if err != nil {
				t.Fatal(err)
			}
			toolNames := names(tools, func(t *mcp.Tool) string { return t.Name })
			for _, want := range []string{"echo", "get-sum", "trigger-long-running-operation"} {
				if !strings.Contains(" "+strings.Join(toolNames, " ")+" ", " "+want+" ") {
					t.Errorf("tool %q missing from %v", want, toolNames)
				}
			}
			if got := callText(t, r, "everything", "echo", map[string]any{"message": "hello over " + tr}); got != "Echo: hello over "+tr {
				t.Errorf("echo = %q", got)
			}

			resources, err := r.ListResources(ctx, "everything")
			if err != nil {
				t.Fatal(err)
			}
			if len(resources) == 0 {
				t.Fatal("no resources listed")
			}
			rr, err := r.ReadResource(ctx, "everything", resources[0].URI)
			if err != nil {
				t.Fatal(err)
			}
			if len(rr.Contents) == 0 || rr.Contents[0].URI != resources[0].URI {
				t.Errorf("ReadResource(%s) = %+v", resources[0].URI, rr.Contents)
			}
			templates, err := r.ListResourceTemplates(ctx, "everything")
			if err != nil || len(templates) == 0 {
				t.Errorf("ListResourceTemplates = %d templates, %v", len(templates), err)
			}
			// A templated resource reads too.
			rr, err = r.ReadResource(ctx, "everything", "demo://resource/dynamic/text/1")
			if err != nil || len(rr.Contents) == 0 || rr.Contents[0].Text == "" {
				t.Errorf("ReadResource(dynamic text 1) = %+v, %v", rr, err)
			}

			prompts, err := r.ListPrompts(ctx, "everything")
			if err != nil {
				t.Fatal(err)
			}
			if got := names(prompts, func(p *mcp.Prompt) string { return p.Name }); !strings.Contains(strings.Join(got, " "), "args-prompt") {
				t.Errorf("prompts = %v, want args-prompt among them", got)
			}
			pr, err := r.GetPrompt(ctx, "everything", "args-prompt", map[string]string{"city": "Paris"})
			if err != nil {
				t.Fatal(err)
			}
			if len(pr.Messages) == 0 || !strings.Contains(pr.Messages[0].Content.(*mcp.TextContent).Text, "Paris") {
				t.Errorf("GetPrompt(args-prompt) = %+v", pr.Messages)
			}
		})
	}
}

// TestEverythingProgressAndLogs checks notifications from the reference
// server: progress of a long-running operation and simulated logging.
func TestEverythingProgressAndLogs(t *testing.T) {
	progress := make(chan *mcp.ProgressNotificationParams, 10)
	logs := make(chan *mcp.LoggingMessageParams, 100)
	spec := everythingSpec(t, config.TransportStdio)
	r := newTestRegistry(t, map[string]config.ServerSpec{"everything": spec}, &Options{
		OnProgress: func(_ string, p *mcp.ProgressNotificationParams) { progress <- p },
		OnLog: func(_ string, p *mcp.LoggingMessageParams) {
			select {
			case logs <- p:
			default:
			}
		},
		LogLevel: "debug",
	})
	p := &mcp.CallToolParams{Name: "trigger-long-running-operation", Arguments: map[string]any{"duration": 0.2, "steps": 2}}
	p.SetProgressToken("op-1")
	res, err := r.CallTool(testContext(t), "everything", p)
	if err != nil || res.IsError {
		t.Fatalf("CallTool = %+v, %v", res, err)
	}
	for i := range 2 {
		select {
		case p := <-progress:
			if p.ProgressToken != "op-1" {
				t.Errorf("progress token %v, want op-1", p.ProgressToken)
			}
		case <-testContext(t).Done():
			t.Fatalf("got %d progress notifications, want 2", i)
		}
	}
	callText(t, r, "everything", "toggle-simulated-logging", nil)
	select {
	case l := <-logs:
		if l.Level == "" {
			t.Errorf("log message without a level: %+v", l)
		}
	case <-testContext(t).Done():
		t.Fatal("no log message from simulated logging")
	}
}

// TestEverythingResubscribe: server-everything (TypeScript SDK) loses its
// session — the stdio process is killed, or the Streamable HTTP session is
// terminated — and the registry's next call reconnects and subscribes
// again, so the server's simulated resource updates (sent at once by its
// toggle-subscriber-updates tool, for the resources the session subscribed)
// arrive again.
func TestEverythingResubscribe(t *testing.T) {
	for _, tr := range []string{config.TransportStdio, config.TransportStreamableHTTP} {
		t.Run(tr, func(t *testing.T) {
			t.Parallel()
			spec := everythingSpec(t, tr)
			var (
				mu   sync.Mutex
				cmds []*exec.Cmd // the stdio processes started
			)
			var logs lockedLog
			u := make(updates, 100)
			opts := u.options(&Options{
				Logger: logs.logger(),
				Transport: func(_ string, spec config.ServerSpec, stderr io.Writer) (mcp.Transport, error) {
					tp, err := NewTransport(spec, stderr)
					if ct, ok := tp.(*mcp.CommandTransport); ok {
						mu.Lock()
						cmds = append(cmds, ct.Command)
						mu.Unlock()
					}
					return tp, err
				},
			})
			r := newTestRegistry(t, map[string]config.ServerSpec{"everything": spec}, opts)
			ctx := testContext(t)
			resources, err := r.ListResources(ctx, "everything")
			if err != nil || len(resources) == 0 {
				t.Fatalf("ListResources = %d resources, %v", len(resources), err)
			}
			uri := resources[0].URI
			if err := r.Subscribe(ctx, "everything", uri); err != nil {
				t.Fatal(err)
			}
			callText(t, r, "everything", "toggle-subscriber-updates", nil)
			u.waitFor(t, uri)

			// End the session under the registry.
			c, err := r.Conn(ctx, "everything")
			if err != nil {
				t.Fatal(err)
			}
			if tr == config.TransportStdio {
				mu.Lock()
				cmd := cmds[len(cmds)-1]
				mu.Unlock()
				if err := cmd.Process.Kill(); err != nil {
					t.Fatal(err)
				}
			} else {
				terminateSession(t, spec.URL, c.Session().ID())
			}

			// Calls reconnect (the first may see the session gone, if the
			// client did not notice first); the new session is subscribed
			// before the call runs, so turning updates on for it sends one.
			var res *mcp.CallToolResult
			for range 3 {
				if res, err = r.CallTool(ctx, "everything", &mcp.CallToolParams{Name: "toggle-subscriber-updates"}); err == nil {
					break
				}
				t.Logf("call after the session ended: %v", err)
			}
			if err != nil || res.IsError {
				t.Fatalf("toggle-subscriber-updates after the session ended = %+v, %v", res, err)
			}
			c2, err := r.Conn(ctx, "everything")
			if err != nil || c2 == c {
				t.Fatalf("no new connection (err %v)", err)
			}
			u.waitFor(t, uri)
			if !strings.Contains(logs.String(), "server connection lost") {
				t.Errorf("the lost connection was not logged:\n%s", logs.String())
			}
		})
	}
}

// terminateSession ends a Streamable HTTP session on the server side, as a
// server that expires idle sessions would.
func terminateSession(t *testing.T, url, id string) {
	t.Helper()
	if id == "" {
		t.Fatal("no session id")
	}
	req, err := http.NewRequestWithContext(testContext(t), http.MethodDelete, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Mcp-Session-Id", id)
	req.Header.Set("Mcp-Protocol-Version", "2025-11-25")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("DELETE session: %s", resp.Status)
	}
}
