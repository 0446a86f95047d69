package servers

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/config"
)

// updates collects the URIs of resource-updated notifications.
type updates chan string

func (u updates) options(o *Options) *Options {
	o.OnResourceUpdated = func(_ string, p *mcp.ResourceUpdatedNotificationParams) {
		select {
		case u <- p.URI:
		default: // the test is not reading: drop
		}
	}
	return o
}

// waitFor waits until an update of uri arrives, skipping others.
func (u updates) waitFor(t testing.TB, uri string) {
	t.Helper()
	deadline := time.NewTimer(testTimeout)
	defer deadline.Stop()
	for {
		select {
		case got := <-u:
			if got == uri {
				return
			}
		case <-deadline.C:
			t.Fatalf("no update of %s within %s", uri, testTimeout)
		}
	}
}

// waitCount waits until the log holds n occurrences of s.
func (l *lockedLog) waitCount(t testing.TB, s string, n int) {
	t.Helper()
	deadline := time.NewTimer(testTimeout)
	defer deadline.Stop()
	for strings.Count(l.String(), s) < n {
		select {
		case <-l.changed:
		case <-deadline.C:
			t.Fatalf("the log does not say %q %d times:\n%s", s, n, l.String())
		}
	}
}

// TestSubscribeThenUpdate: an update the server sends right after
// Subscribe returns is delivered, every time. Under 2026-07-28 this needs
// Subscribe to wait for the acknowledgement of the listen stream.
func TestSubscribeThenUpdate(t *testing.T) {
	type setup struct {
		name string
		spec func(t *testing.T) config.ServerSpec
		v    string
	}
	setups := []setup{
		{"stateless-http-2026-07-28", func(t *testing.T) config.ServerSpec {
			url, _, _ := startGoSDKServer(t, false, &mcp.StreamableHTTPOptions{Stateless: true})
			return config.ServerSpec{URL: url}
		}, "2026-07-28"},
		{"websocket-2026-07-28", func(t *testing.T) config.ServerSpec {
			url, _ := startWebSocketServer(t)
			return config.ServerSpec{Transport: config.TransportWebSocket, URL: url}
		}, "2026-07-28"},
	}
	for _, v := range protocolVersions {
		setups = append(setups, setup{"stdio-" + v, func(*testing.T) config.ServerSpec { return testServerSpec("", "basic") }, v})
	}
	for _, s := range setups {
		t.Run(s.name, func(t *testing.T) {
			u := make(updates, 100)
			r := newTestRegistry(t, map[string]config.ServerSpec{"w": s.spec(t)}, u.options(&Options{ProtocolVersion: s.v}))
			ctx := testContext(t)
			c, err := r.Conn(ctx, "w")
			if err != nil {
				t.Fatal(err)
			}
			if got := c.ProtocolVersion(); got != s.v {
				t.Fatalf("negotiated %s, want %s", got, s.v)
			}
			for i := range 20 {
				uri := fmt.Sprintf("test://items/%d", i)
				if i < 3 {
					uri = fmt.Sprintf("test://items/slow-%d", i) // the server registers it late
				}
				if err := r.Subscribe(ctx, "w", uri); err != nil {
					t.Fatal(err)
				}
				if err := r.Subscribe(ctx, "w", uri); err != nil { // again: nothing to do
					t.Fatal(err)
				}
				callText(t, r, "w", "touch", map[string]any{"uri": uri})
				u.waitFor(t, uri)
				if err := r.Unsubscribe(ctx, "w", uri); err != nil {
					t.Fatal(err)
				}
			}
			if got := r.Subscriptions("w"); len(got) != 0 {
				t.Errorf("Subscriptions after unsubscribing all = %v", got)
			}
		})
	}
}

// TestSubscribeRefused: a server that refuses a subscription gives its
// reason (under 2026-07-28 too, where the refusal answers a listen stream
// nobody awaits), and the registry does not restore it later.
func TestSubscribeRefused(t *testing.T) {
	for _, v := range protocolVersions {
		t.Run(v, func(t *testing.T) {
			refuse := filepath.Join(t.TempDir(), "refuse")
			if err := os.WriteFile(refuse, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			spec := testServerSpec("", "basic")
			spec.Env[refuseSubscribeEnv] = refuse
			r := newTestRegistry(t, map[string]config.ServerSpec{"w": spec}, &Options{ProtocolVersion: v})
			ctx := testContext(t)
			err := r.Subscribe(ctx, "w", "test://hello")
			if err == nil {
				t.Fatal("Subscribe succeeded on a server that refuses")
			}
			if want := `server "w": resources/subscribe test://hello: subscriptions are refused for now`; err.Error() != want {
				t.Errorf("err = %q, want %q", err, want)
			}
			var te *TimeoutError
			if errors.As(err, &te) {
				t.Errorf("err = %q: a timeout, not the refusal", err)
			}
			if got := r.Subscriptions("w"); len(got) != 0 {
				t.Errorf("Subscriptions after a refusal = %v", got)
			}
			// The failed attempt left nothing behind: once the server
			// accepts, subscribing works.
			if err := os.Remove(refuse); err != nil {
				t.Fatal(err)
			}
			if err := r.Subscribe(ctx, "w", "test://hello"); err != nil {
				t.Fatalf("Subscribe once accepted: %v", err)
			}
			if got := callText(t, r, "w", "subscriptions", nil); got != "test://hello" {
				t.Errorf("server's subscriptions = %q", got)
			}
		})
	}
}

// TestResubscribeAfterReconnect kills a stdio server: the call that
// reconnects finds the resources subscribed again on the new process, and
// updates arrive. A resource the new process refuses is logged, the call
// still succeeds, and the next reconnect tries it again.
func TestResubscribeAfterReconnect(t *testing.T) {
	for _, v := range protocolVersions {
		t.Run(v, func(t *testing.T) { testResubscribeAfterReconnect(t, v) })
	}
}

func testResubscribeAfterReconnect(t *testing.T, version string) {
	refuse := filepath.Join(t.TempDir(), "refuse")
	spec := testServerSpec("", "basic")
	spec.Env[refuseSubscribeEnv] = refuse
	var logs lockedLog
	u := make(updates, 100)
	r := newTestRegistry(t, map[string]config.ServerSpec{"w": spec}, u.options(&Options{ProtocolVersion: version, Logger: logs.logger()}))
	ctx := testContext(t)

	for _, uri := range []string{"test://hello", "test://r1", "test://r2"} {
		if err := r.Subscribe(ctx, "w", uri); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Unsubscribe(ctx, "w", "test://r1"); err != nil {
		t.Fatal(err)
	}
	want := []string{"test://hello", "test://r2"}
	if diff := cmp.Diff(want, r.Subscriptions("w")); diff != "" {
		t.Errorf("Subscriptions (-want +got):\n%s", diff)
	}

	kill := func(n int) {
		t.Helper()
		pid, err := strconv.Atoi(callText(t, r, "w", "pid", nil))
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		logs.waitCount(t, "server connection lost", n)
	}

	kill(1)
	// This call reconnects; the subscriptions are back before it runs.
	if got := callText(t, r, "w", "subscriptions", nil); got != strings.Join(want, "\n") {
		t.Errorf("new process's subscriptions = %q, want %q", got, want)
	}
	callText(t, r, "w", "touch", map[string]any{"uri": "test://r2"})
	u.waitFor(t, "test://r2")

	// The next process refuses: the reconnecting call still works.
	if err := os.WriteFile(refuse, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	kill(2)
	if got := callText(t, r, "w", "subscriptions", nil); got != "" {
		t.Errorf("refusing process's subscriptions = %q", got)
	}
	logs.waitCount(t, "could not subscribe again", 2)
	for _, uri := range want {
		if !strings.Contains(logs.String(), `server=w uri=`+uri+` error="server \"w\": `) {
			t.Errorf("no warning naming server w and %s:\n%s", uri, logs.String())
		}
	}
	if diff := cmp.Diff(want, r.Subscriptions("w")); diff != "" {
		t.Errorf("Subscriptions after failed restore (-want +got):\n%s", diff)
	}

	// And the one after accepts again: restored.
	if err := os.Remove(refuse); err != nil {
		t.Fatal(err)
	}
	kill(3)
	if got := callText(t, r, "w", "subscriptions", nil); got != strings.Join(want, "\n") {
		t.Errorf("third process's subscriptions = %q, want %q", got, want)
	}
	callText(t, r, "w", "touch", nil)
	u.waitFor(t, "test://hello")
}

// TestResubscribeAfterSessionLost: a Streamable HTTP server restarts and
// forgets its sessions; the registry reconnects with a new session, which
// gets the subscriptions back.
func TestResubscribeAfterSessionLost(t *testing.T) {
	url, _, sw := startGoSDKServer(t, false, nil)
	u := make(updates, 100)
	r := newTestRegistry(t, map[string]config.ServerSpec{"go": {URL: url}}, u.options(&Options{ProtocolVersion: "2025-11-25"}))
	ctx := testContext(t)
	if err := r.Subscribe(ctx, "go", "test://hello"); err != nil {
		t.Fatal(err)
	}
	restarted := newBasicServer()
	t.Cleanup(func() { closeServerSessions(restarted) })
	sw.set(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return restarted }, nil))

	// The first call sees the session gone (unless the client noticed
	// first); a later one reconnects.
	var got string
	var err error
	for range 3 {
		var res *mcp.CallToolResult
		if res, err = r.CallTool(ctx, "go", &mcp.CallToolParams{Name: "subscriptions"}); err == nil {
			got = resultText(t, res)
			break
		}
	}
	if err != nil || got != "test://hello" {
		t.Fatalf("restarted server's subscriptions = %q, %v; want test://hello", got, err)
	}
	callText(t, r, "go", "touch", nil)
	u.waitFor(t, "test://hello")
}

func TestConnSubscribeNotSupported(t *testing.T) {
	server := mcp.NewServer(&mcp.Implementation{Name: "plain", Version: "v1"}, nil)
	server.AddResource(&mcp.Resource{URI: "test://x", Name: "x"}, func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{}, nil
	})
	ct, st := mcp.NewInMemoryTransports()
	ss, err := server.Connect(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ss.Close()
	c, err := Open(testContext(t), config.ServerSpec{Name: "plain", Command: "unused"}, &Options{
		Transport: func(string, config.ServerSpec, io.Writer) (mcp.Transport, error) { return ct, nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	err = c.Subscribe(testContext(t), "test://x")
	if !errors.Is(err, ErrNotSupported) {
		t.Errorf("Subscribe = %v, want ErrNotSupported", err)
	}
}

// TestSubscribeRefusedOverStreamableHTTP: over Streamable HTTP the go-sdk
// does not surface a refused subscriptions/listen, so Subscribe ends with
// the read timeout; the stream is cancelled, and a later Subscribe works.
func TestSubscribeRefusedOverStreamableHTTP(t *testing.T) {
	refuse := filepath.Join(t.TempDir(), "refuse")
	if err := os.WriteFile(refuse, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv(refuseSubscribeEnv, refuse) // read by the in-process server
	url, _, _ := startGoSDKServer(t, false, &mcp.StreamableHTTPOptions{Stateless: true})
	u := make(updates, 10)
	r := newTestRegistry(t, map[string]config.ServerSpec{"h": {URL: url, ReadTimeoutSeconds: 0.5}}, u.options(&Options{}))
	ctx := testContext(t)
	err := r.Subscribe(ctx, "h", "test://hello")
	var te *TimeoutError
	if !errors.As(err, &te) || err.Error() != `server "h": subscriptions/listen timed out after 500ms` {
		t.Fatalf("Subscribe = %v (%T), want the subscriptions/listen timeout", err, err)
	}
	if err := os.Remove(refuse); err != nil {
		t.Fatal(err)
	}
	if err := r.Subscribe(ctx, "h", "test://hello"); err != nil {
		t.Fatalf("Subscribe once accepted: %v", err)
	}
	callText(t, r, "h", "touch", nil)
	u.waitFor(t, "test://hello")
}
