package platform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/platform"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime/process"
	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
	"github.com/mcp-agent-go/mcp-agent/servers/builtin"
	"github.com/mcp-agent-go/mcp-agent/servers/builtin/catalog"
)

// TestMain lets the test binary stand in for the mcp-agent binary's
// "builtin" command: the platform runs the built-in servers as
// "EXE builtin NAME ...", and under test EXE is this binary.
func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == "builtin" {
		srv, err := catalog.New(os.Args[2:], "")
		if err != nil {
			fmt.Fprintln(os.Stderr, "builtin:", err)
			os.Exit(2)
		}
		fmt.Fprintln(os.Stderr, "builtin", os.Args[2], "serving on stdio")
		if err := builtin.Serve(context.Background(), srv, builtin.ServeOptions{}); err != nil {
			fmt.Fprintln(os.Stderr, "builtin:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if dir := os.Getenv("PLATFORM_TEST_CHILD"); dir != "" {
		// A platform in its own process, for the kill -9 test: print the
		// URL, serve until killed.
		p, err := platform.Start(context.Background(), dir, &platform.Options{Addr: "127.0.0.1:0"})
		if err != nil {
			fmt.Println("err", err)
			os.Exit(1)
		}
		fmt.Println(p.URL())
		select {}
	}
	os.Exit(m.Run())
}

// env is a platform under test with its admin key.
type env struct {
	t    *testing.T
	p    *platform.Platform
	dir  string
	key  string
	logs *logBuffer
}

// startPlatform starts a platform on a free loopback port with dataDir.
func startPlatform(t *testing.T, dataDir string) *env {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	logs := &logBuffer{}
	p, err := platform.Start(ctx, dataDir, &platform.Options{
		Addr:        "127.0.0.1:0",
		Builtin:     &platform.Command{Path: exe, Args: []string{"builtin"}, Env: map[string]string{"GORACE": "atexit_sleep_ms=0"}},
		NodeModules: []string{filepath.Join(testenv.ToolsDir(), "node_modules")},
		Backoff:     process.Backoff{Initial: 50 * time.Millisecond, Max: time.Second},
		Logger:      slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	b, err := os.ReadFile(p.AdminKeyPath())
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, p: p, dir: dataDir, key: strings.TrimSpace(string(b)), logs: logs}
	return e
}

// logBuffer collects the platform's log for failure messages.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(b)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// do makes an API request and decodes a JSON answer into out (if not nil).
func (e *env) do(method, path, key string, body any, out any) int {
	e.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		r = bytes.NewReader(j)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, e.p.URL()+path, r)
	if err != nil {
		e.t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			e.t.Fatalf("%s %s: %d, body %q: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

// apiError does a request expected to fail and returns its status and
// error body.
func (e *env) apiError(method, path, key string, body any) (int, api.Error) {
	e.t.Helper()
	var eb struct {
		Error api.Error `json:"error"`
	}
	st := e.do(method, path, key, body, &eb)
	return st, eb.Error
}

// create deploys a server and fails the test unless the API accepts it.
func (e *env) create(req api.CreateServerRequest) api.Server {
	e.t.Helper()
	var s api.Server
	if st := e.do("POST", "/v1/servers", e.key, req, &s); st != http.StatusCreated {
		_, ae := e.apiError("GET", "/v1/servers/"+req.Name, e.key, nil)
		e.t.Fatalf("create %s: status %d (%+v) %v", req.Name, st, s, ae)
	}
	return s
}

// waitStatus waits until the server reports status, failing after 30s.
func (e *env) waitStatus(name, status string) api.Server {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	var s api.Server
	for time.Now().Before(deadline) {
		if st := e.do("GET", "/v1/servers/"+name, e.key, nil, &s); st == http.StatusOK && s.Status == status {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("server %s: status %q (%s), want %q; platform log:\n%s", name, s.Status, s.StatusMessage, status, e.logs)
	return s
}

// connect opens an MCP session to a deployed server through the gateway.
func (e *env) connect(name, key string) *mcp.ClientSession {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := mcp.NewClient(&mcp.Implementation{Name: "platform-test", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:   e.p.URL() + "/servers/" + name + "/mcp",
		HTTPClient: &http.Client{Transport: bearer(key)},
	}, nil)
	if err != nil {
		e.t.Fatalf("connect to %s: %v", name, err)
	}
	e.t.Cleanup(func() { _ = cs.Close() })
	return cs
}

// bearer is a RoundTripper adding an API key.
type bearer string

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if b != "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+string(b))
	}
	return http.DefaultTransport.RoundTrip(r)
}

func textOf(t *testing.T, res *mcp.CallToolResult) string {
	t.Helper()
	var sb strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			sb.WriteString(tc.Text)
		}
	}
	return sb.String()
}

// rawSSE posts body to path with the admin key and returns the status and
// the whole response (the stream ends when the platform closes it).
func (e *env) rawSSE(path, body string) (int, string) {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "POST", e.p.URL()+path, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}
