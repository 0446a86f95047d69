package platform_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/client"
	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
)

// docsDir returns a directory with one file, for the filesystem server.
func docsDir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "docs")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "hello.txt"), []byte("hello from the cloud\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestFilesystemBuiltinEndToEnd(t *testing.T) {
	e := startPlatform(t, t.TempDir())
	docs := docsDir(t)
	s := e.create(api.CreateServerRequest{Name: "files", Type: "filesystem", AllowedPaths: []api.AllowedPath{{Path: docs}}})
	if s.FullName != "local.files" || s.Endpoint != e.p.URL()+"/servers/local.files/mcp" {
		t.Errorf("created server: full name %q, endpoint %q", s.FullName, s.Endpoint)
	}
	e.waitStatus("files", "running")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// MCP through the gateway, by short name and by full name.
	for _, name := range []string{"files", "local.files"} {
		cs := e.connect(name, e.key)
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "read_text_file", Arguments: map[string]any{"path": filepath.Join(docs, "hello.txt")}})
		if err != nil {
			t.Fatalf("%s: read_text_file: %v", name, err)
		}
		if got := textOf(t, res); !strings.Contains(got, "hello from the cloud") {
			t.Errorf("%s: read_text_file = %q", name, got)
		}
		// Read-only: writes are refused by the server (":ro" root).
		res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "write_file", Arguments: map[string]any{"path": filepath.Join(docs, "new.txt"), "content": "x"}})
		if err != nil || !res.IsError {
			t.Errorf("%s: write_file in a read-only path: err %v, result %+v", name, err, res)
		}
	}

	// REST conveniences.
	var tools struct {
		Tools []struct{ Name string } `json:"tools"`
	}
	if st := e.do("GET", "/v1/servers/files/tools", e.key, nil, &tools); st != 200 || len(tools.Tools) == 0 {
		t.Fatalf("GET tools: %d %+v", st, tools)
	}
	var res mcp.CallToolResult
	st := e.do("POST", "/v1/servers/files/call_tool", e.key, map[string]any{"name": "list_directory", "arguments": map[string]any{"path": docs}}, &res)
	if st != 200 || res.IsError || !strings.Contains(textOf(t, &res), "hello.txt") {
		t.Fatalf("POST call_tool list_directory: %d %+v", st, res)
	}

	// Listing and status.
	var list api.ServerList
	if st := e.do("GET", "/v1/servers", e.key, nil, &list); st != 200 || len(list.Servers) != 1 || list.Servers[0].Name != "files" {
		t.Fatalf("GET /v1/servers: %d %+v", st, list)
	}
	got := list.Servers[0]
	if got.Runtime == nil || got.Runtime.State != "running" || got.Runtime.PID == 0 {
		t.Errorf("runtime status = %+v", got.Runtime)
	}
	if diff := cmp.Diff([]api.AllowedPath{{Path: docs, Mode: "r"}}, got.Spec.AllowedPaths); diff != "" {
		t.Errorf("allowed paths (-want +got):\n%s", diff)
	}

	// Stop: the endpoint answers 503 with a hint; start brings it back.
	if st := e.do("POST", "/v1/servers/files/stop", e.key, nil, &s); st != 200 || s.Status != "stopped" || s.DesiredState != "stopped" {
		t.Fatalf("stop: %d %+v", st, s)
	}
	st, ae := e.apiError("POST", "/v1/servers/files/call_tool", e.key, map[string]any{"name": "list_directory", "arguments": map[string]any{"path": docs}})
	if st != http.StatusServiceUnavailable || !strings.Contains(ae.Message, "mcp-agent servers start files") {
		t.Errorf("call on a stopped server: %d %+v", st, ae)
	}
	if st := e.do("POST", "/v1/servers/files/start", e.key, nil, &s); st != 200 || s.DesiredState != "running" {
		t.Fatalf("start: %d %+v", st, s)
	}
	e.waitStatus("files", "running")
	if st := e.do("POST", "/v1/servers/files/call_tool", e.key, map[string]any{"name": "list_directory", "arguments": map[string]any{"path": docs}}, &res); st != 200 || res.IsError {
		t.Fatalf("call after start: %d %+v", st, res)
	}
	before := e.waitStatus("files", "running").Runtime.PID
	if st := e.do("POST", "/v1/servers/files/restart", e.key, nil, &s); st != 200 {
		t.Fatalf("restart: %d", st)
	}
	if after := e.waitStatus("files", "running").Runtime.PID; after == before {
		t.Errorf("restart kept pid %d", after)
	}

	// Events recorded the lifecycle.
	var evs api.EventList
	if st := e.do("GET", "/v1/servers/files/events?limit=1000", e.key, nil, &evs); st != 200 {
		t.Fatalf("events: %d", st)
	}
	kinds := map[string]int{}
	for _, ev := range evs.Events {
		kinds[ev.Kind]++
	}
	for _, k := range []string{"created", "started", "stopped", "status", "desired_state"} {
		if kinds[k] == 0 {
			t.Errorf("no %q event in %v", k, kinds)
		}
	}

	// Delete: gone from the list, 404 on every endpoint, name free again.
	if st := e.do("DELETE", "/v1/servers/files", e.key, nil, nil); st != http.StatusNoContent {
		t.Fatalf("delete: %d", st)
	}
	for _, path := range []string{"/v1/servers/files", "/v1/servers/files/tools", "/servers/files/mcp"} {
		if st, ae := e.apiError("GET", path, e.key, nil); st != 404 || ae.Code != "not_found" {
			t.Errorf("GET %s after delete: %d %+v", path, st, ae)
		}
	}
	e.create(api.CreateServerRequest{Name: "files", Type: "filesystem", AllowedPaths: []api.AllowedPath{{Path: docs, Mode: "rw"}}})
	e.waitStatus("files", "running")
}

func TestEverythingCommandKillMidCall(t *testing.T) {
	node, args := testenv.Everything(t)
	e := startPlatform(t, t.TempDir())
	modules := filepath.Join(testenv.ToolsDir(), "node_modules")
	e.create(api.CreateServerRequest{Name: "everything", Command: node, Args: args, AllowedPaths: []api.AllowedPath{{Path: modules, Mode: "r"}}})
	s := e.waitStatus("everything", "running")
	pid := s.Runtime.PID

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cs := e.connect("everything", e.key)
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi"}})
	if err != nil || !strings.Contains(textOf(t, res), "hi") {
		t.Fatalf("echo: %v %+v", err, res)
	}

	// A long call; kill the process once the server is working on it.
	progress := make(chan struct{}, 16)
	c := mcp.NewClient(&mcp.Implementation{Name: "kill-test", Version: "1"}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(context.Context, *mcp.ProgressNotificationClientRequest) {
			select {
			case progress <- struct{}{}:
			default:
			}
		},
	})
	ks, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: e.p.URL() + "/servers/everything/mcp", HTTPClient: &http.Client{Transport: bearer(e.key)}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ks.Close()
	callErr := make(chan error, 1)
	go func() {
		p := &mcp.CallToolParams{Name: "trigger-long-running-operation", Arguments: map[string]any{"duration": 30, "steps": 30}}
		p.SetProgressToken("kill-me")
		_, err := ks.CallTool(ctx, p)
		callErr <- err
	}()
	select {
	case <-progress:
	case err := <-callErr:
		t.Fatalf("long call ended before the kill: %v", err)
	case <-ctx.Done():
		t.Fatal("no progress from the long call")
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-callErr:
		if err == nil {
			t.Fatal("the call in flight succeeded although its server was killed")
		}
		t.Logf("call in flight failed as it should: %v", err)
	case <-ctx.Done():
		t.Fatal("the call in flight did not fail after the kill")
	}
	// The server restarts; the same session works again.
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "again"}})
	if err != nil || !strings.Contains(textOf(t, res), "again") {
		t.Fatalf("echo after the restart: %v %+v", err, res)
	}
	s = e.waitStatus("everything", "running")
	if s.Runtime.PID == pid || s.Runtime.Restarts < 1 {
		t.Errorf("after the kill: pid %d (was %d), restarts %d", s.Runtime.PID, pid, s.Runtime.Restarts)
	}

	// Its stderr and the runtime's note about the kill are in the logs.
	deadline := time.Now().Add(10 * time.Second)
	for {
		var logs api.LogList
		if st := e.do("GET", "/v1/servers/everything/logs?limit=1000", e.key, nil, &logs); st != 200 {
			t.Fatalf("logs: %d", st)
		}
		var all []string
		for _, l := range logs.Logs {
			all = append(all, l.Stream+": "+l.Line)
		}
		joined := strings.Join(all, "\n")
		if strings.Contains(joined, "Starting default (STDIO) server") && strings.Contains(joined, "killed") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("logs lack the server's stderr or the kill:\n%s", joined)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestRestartPlatformRestoresDeployments(t *testing.T) {
	data := t.TempDir()
	docs := docsDir(t)
	e := startPlatform(t, data)
	e.create(api.CreateServerRequest{Name: "files", Type: "filesystem", AllowedPaths: []api.AllowedPath{{Path: docs}}})
	e.create(api.CreateServerRequest{Name: "parked", Type: "filesystem", AllowedPaths: []api.AllowedPath{{Path: docs}}, Stopped: true})
	gone := docsDir(t)
	e.create(api.CreateServerRequest{Name: "broken", Type: "filesystem", AllowedPaths: []api.AllowedPath{{Path: gone}}})
	e.waitStatus("files", "running")
	e.waitStatus("parked", "stopped")
	e.waitStatus("broken", "running")
	key := e.key
	if err := e.p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(filepath.Join(data, "admin.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("admin.key: %v, mode %v", err, st.Mode())
	}

	// An allowed path that disappears while the platform is down.
	if err := os.Rename(gone, gone+".moved"); err != nil {
		t.Fatal(err)
	}

	e2 := startPlatform(t, data)
	if e2.key != key {
		t.Errorf("the admin key changed across a restart")
	}
	e2.waitStatus("files", "running")
	if s := e2.waitStatus("parked", "stopped"); s.DesiredState != "stopped" {
		t.Errorf("parked: desired state %q", s.DesiredState)
	}
	var res mcp.CallToolResult
	if st := e2.do("POST", "/v1/servers/files/call_tool", key, map[string]any{"name": "list_directory", "arguments": map[string]any{"path": docs}}, &res); st != 200 || !strings.Contains(textOf(t, &res), "hello.txt") {
		t.Fatalf("call after the platform restart: %d %+v", st, res)
	}

	// The broken one is listed as failed, says why, answers 503, and
	// starts once its path is back.
	b := e2.waitStatus("broken", "failed")
	if !strings.Contains(b.StatusMessage, gone) {
		t.Errorf("broken: status message %q does not name the missing path", b.StatusMessage)
	}
	if st, ae := e2.apiError("GET", "/v1/servers/broken/tools", key, nil); st != 503 || !strings.Contains(ae.Message, "cannot run") {
		t.Errorf("tools of the broken server: %d %+v", st, ae)
	}
	if st, ae := e2.apiError("POST", "/v1/servers/broken/start", key, nil); st != 400 || !strings.Contains(ae.Message, gone) {
		t.Errorf("start with the path missing: %d %+v", st, ae)
	}
	if err := os.Rename(gone+".moved", gone); err != nil {
		t.Fatal(err)
	}
	if st := e2.do("POST", "/v1/servers/broken/start", key, nil, nil); st != 200 {
		t.Fatalf("start with the path back: %d", st)
	}
	e2.waitStatus("broken", "running")
	if st := e2.do("DELETE", "/v1/servers/broken", key, nil, nil); st != 204 {
		t.Errorf("delete: %d", st)
	}
}

func TestAPIErrors(t *testing.T) {
	e := startPlatform(t, t.TempDir())
	docs := docsDir(t)
	e.create(api.CreateServerRequest{Name: "files", Type: "filesystem", AllowedPaths: []api.AllowedPath{{Path: docs}}})

	for _, tc := range []struct {
		name, method, path, key string
		body                    any
		status                  int
		code, message           string
	}{
		{"malformed JSON", "POST", "/v1/servers", e.key, `{"name": "x", `, 400, "bad_request", "ends in the middle of a value"},
		{"bad JSON syntax", "POST", "/v1/servers", e.key, `{"name": x}`, 400, "bad_request", "not valid JSON"},
		{"unknown field", "POST", "/v1/servers", e.key, `{"name": "x", "typ": "fetch"}`, 400, "bad_request", `unknown field "typ"`},
		{"empty body", "POST", "/v1/servers", e.key, "", 400, "bad_request", "empty"},
		{"oversize body", "POST", "/v1/servers", e.key, `{"name": "` + strings.Repeat("a", 2<<20) + `"}`, 413, "request_too_large", "exceeds"},
		{"no kind", "POST", "/v1/servers", e.key, api.CreateServerRequest{Name: "x"}, 400, "invalid", "exactly one of type"},
		{"bad name", "POST", "/v1/servers", e.key, api.CreateServerRequest{Name: "Bad.Name", Type: "fetch"}, 400, "invalid", `invalid server name "Bad.Name"`},
		{"unknown type", "POST", "/v1/servers", e.key, api.CreateServerRequest{Name: "x", Type: "ftp"}, 400, "invalid", `unknown type "ftp"`},
		{"filesystem without path", "POST", "/v1/servers", e.key, api.CreateServerRequest{Name: "x", Type: "filesystem"}, 400, "invalid", "at least one allowed path"},
		{"missing allowed path", "POST", "/v1/servers", e.key, api.CreateServerRequest{Name: "x", Type: "filesystem", AllowedPaths: []api.AllowedPath{{Path: "/no/such/dir"}}}, 400, "invalid", "/no/such/dir"},
		{"data dir allowed", "POST", "/v1/servers", e.key, api.CreateServerRequest{Name: "x", Type: "filesystem", AllowedPaths: []api.AllowedPath{{Path: e.p.DataDir()}}}, 400, "invalid", "allowed_paths"},
		{"bad url", "POST", "/v1/servers", e.key, api.CreateServerRequest{Name: "x", URL: "ftp://x"}, 400, "invalid", "invalid url"},
		{"taken name", "POST", "/v1/servers", e.key, api.CreateServerRequest{Name: "files", Type: "fetch"}, 409, "conflict", `server "files" already exists`},
		{"unknown server", "GET", "/v1/servers/nope", e.key, nil, 404, "not_found", `server "nope" not found`},
		{"unknown server stop", "POST", "/v1/servers/nope/stop", e.key, nil, 404, "not_found", `server "nope" not found`},
		{"unknown server mcp", "POST", "/servers/nope/mcp", e.key, `{}`, 404, "not_found", `server "nope" not found`},
		{"unknown server logs", "GET", "/v1/servers/nope/logs", e.key, nil, 404, "not_found", `server "nope" not found`},
		{"bad since", "GET", "/v1/servers/files/logs?since=yesterday", e.key, nil, 400, "bad_request", "since"},
		{"wrong method", "PUT", "/v1/servers/files", e.key, nil, 405, "method_not_allowed", "use"},
		{"unknown endpoint", "GET", "/v2/things", e.key, nil, 404, "not_found", "no such endpoint"},
		{"no key", "GET", "/v1/servers", "", nil, 401, "unauthorized", "missing API key"},
		{"invalid key", "GET", "/v1/servers", "mcpa_nope", nil, 401, "unauthorized", "invalid API key"},
		{"no key mcp", "POST", "/servers/files/mcp", "", `{}`, 401, "unauthorized", "missing API key"},
		{"no key full name mcp", "POST", "/servers/local.files/mcp", "", `{}`, 401, "unauthorized", "not public"},
		{"invalid key mcp", "POST", "/servers/files/mcp", "mcpa_nope", `{}`, 401, "unauthorized", "invalid API key"},
		{"no key rest", "GET", "/v1/servers/files/tools", "", nil, 401, "unauthorized", "missing API key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, ae := e.apiError(tc.method, tc.path, tc.key, tc.body)
			if st != tc.status || ae.Code != tc.code || !strings.Contains(ae.Message, tc.message) {
				t.Errorf("%s %s: %d %+v, want %d %s containing %q", tc.method, tc.path, st, ae, tc.status, tc.code, tc.message)
			}
		})
	}

	// Public endpoints need no key.
	var h api.Health
	if st := e.do("GET", "/healthz", "", nil, &h); st != 200 || h.Status != "ok" {
		t.Errorf("healthz: %d %+v", st, h)
	}
	var doc map[string]any
	if st := e.do("GET", "/v1/openapi.json", "", nil, &doc); st != 200 || doc["openapi"] != "3.1.0" {
		t.Errorf("openapi.json: %d %v", st, doc["openapi"])
	}
	// DNS-rebinding protection.
	req, _ := http.NewRequest("GET", e.p.URL()+"/healthz", nil)
	req.Host = "evil.example"
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Errorf("foreign Host: %d, want 403", resp.StatusCode)
	}

	// Keys never reach the log, even at debug level.
	if logs := e.logs.String(); strings.Contains(logs, e.key) || strings.Contains(logs, "mcpa_nope") || !strings.Contains(logs, "api: request") {
		t.Errorf("the platform's log holds a key (or no request lines):\n%s", logs)
	}
}

func TestTenantIsolation(t *testing.T) {
	e := startPlatform(t, t.TempDir())
	docs := docsDir(t)
	e.create(api.CreateServerRequest{Name: "files", Type: "filesystem", AllowedPaths: []api.AllowedPath{{Path: docs}}})
	e.create(api.CreateServerRequest{Name: "open", Type: "filesystem", AllowedPaths: []api.AllowedPath{{Path: docs}}, Public: true})
	e.waitStatus("files", "running")
	e.waitStatus("open", "running")

	other, err := e.p.CreateAPIKey(context.Background(), "acme", "test")
	if err != nil {
		t.Fatal(err)
	}
	var list api.ServerList
	if st := e.do("GET", "/v1/servers", other, nil, &list); st != 200 || len(list.Servers) != 0 {
		t.Errorf("acme lists %d servers (%d), want none", len(list.Servers), st)
	}
	call := map[string]any{"name": "list_directory", "arguments": map[string]any{"path": docs}}
	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/servers/files", nil},
		{"POST", "/v1/servers/files/stop", nil},
		{"DELETE", "/v1/servers/files", nil},
		{"GET", "/v1/servers/files/logs", nil},
		{"GET", "/v1/servers/files/events", nil},
		{"GET", "/v1/servers/local.files", nil},
		{"POST", "/v1/servers/files/call_tool", call},
		{"POST", "/v1/servers/local.files/call_tool", call},
		{"POST", "/servers/local.files/mcp", `{"jsonrpc":"2.0","id":1,"method":"tools/list"}`},
	} {
		if st, ae := e.apiError(tc.method, tc.path, other, tc.body); st != 404 || ae.Code != "not_found" {
			t.Errorf("acme: %s %s: %d %+v, want 404", tc.method, tc.path, st, ae)
		}
	}
	// The deployment is untouched.
	e.waitStatus("files", "running")

	// A public server is reachable by its full name with any key or none,
	// but managed only by its org.
	for _, key := range []string{"", other} {
		cs := e.connect("local.open", key)
		if _, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "list_directory", Arguments: map[string]any{"path": docs}}); err != nil {
			t.Errorf("public server with key %v: %v", key != "", err)
		}
	}
	if st, _ := e.apiError("POST", "/v1/servers/open/stop", other, nil); st != 404 {
		t.Errorf("acme stopping local's public server: %d, want 404", st)
	}
	// acme's own "files" is a different deployment.
	var s api.Server
	if st := e.do("POST", "/v1/servers", other, api.CreateServerRequest{Name: "files", Type: "filesystem", AllowedPaths: []api.AllowedPath{{Path: docs}}}, &s); st != 201 || s.FullName != "acme.files" {
		t.Fatalf("acme create files: %d %+v", st, s)
	}
}

func TestLogsAndEventsFollow(t *testing.T) {
	e := startPlatform(t, t.TempDir())
	docs := docsDir(t)
	e.create(api.CreateServerRequest{Name: "files", Type: "filesystem", AllowedPaths: []api.AllowedPath{{Path: docs}}})
	e.waitStatus("files", "running")

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", e.p.URL()+"/v1/servers/files/events?follow=true", nil)
	req.Header.Set("Authorization", "Bearer "+e.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("Content-Type %q", ct)
	}
	events := make(chan api.Event, 100)
	go func() {
		defer close(events)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if data, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
				var ev api.Event
				if json.Unmarshal([]byte(data), &ev) == nil {
					events <- ev
				}
			}
		}
	}()
	waitKind := func(kind string) {
		t.Helper()
		for {
			select {
			case ev, ok := <-events:
				if !ok {
					t.Fatalf("stream ended before a %q event", kind)
				}
				if ev.Kind == kind {
					return
				}
			case <-ctx.Done():
				t.Fatalf("no %q event", kind)
			}
		}
	}
	waitKind("started") // history
	if st := e.do("POST", "/v1/servers/files/stop", e.key, nil, nil); st != 200 {
		t.Fatal(st)
	}
	waitKind("stopped") // live

	// Deleting the server ends the stream.
	if st := e.do("DELETE", "/v1/servers/files", e.key, nil, nil); st != 204 {
		t.Fatal(st)
	}
	for range events {
	}
	if ctx.Err() != nil {
		t.Fatal("the event stream did not end when the server was deleted")
	}
}

func TestPerSessionAndRemoteServers(t *testing.T) {
	e := startPlatform(t, t.TempDir())
	docs := docsDir(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// per-session: each MCP session gets its own process.
	s := e.create(api.CreateServerRequest{Name: "solo", Type: "filesystem", AllowedPaths: []api.AllowedPath{{Path: docs}}, Mode: "per-session"})
	if s.Spec.Mode != "per-session" {
		t.Errorf("mode = %q", s.Spec.Mode)
	}
	e.waitStatus("solo", "running")
	for i := 0; i < 2; i++ {
		cs := e.connect("solo", e.key)
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "list_directory", Arguments: map[string]any{"path": docs}}); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}
	if s = e.waitStatus("solo", "running"); s.Runtime.Sessions != 2 {
		t.Errorf("per-session server has %d sessions, want 2", s.Runtime.Sessions)
	}

	// url: a networked server, reverse-proxied.
	if _, err := os.Stat(filepath.Join(testenv.ToolsDir(), "node_modules")); err != nil {
		t.Skip("npm tools not installed")
	}
	base := testenv.StartEverythingHTTP(t, "streamableHttp")
	s = e.create(api.CreateServerRequest{Name: "remote", URL: base + "/mcp"})
	if s.Status != "running" || s.Runtime != nil {
		t.Errorf("url server: status %q, runtime %+v", s.Status, s.Runtime)
	}
	cs := e.connect("remote", e.key)
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "through the proxy"}})
	if err != nil || !strings.Contains(textOf(t, res), "through the proxy") {
		t.Fatalf("echo through the remote: %v %+v", err, res)
	}
	if st := e.do("POST", "/v1/servers/remote/stop", e.key, nil, &s); st != 200 || s.Status != "stopped" {
		t.Fatalf("stop remote: %d %+v", st, s)
	}
	if st, _ := e.apiError("GET", "/v1/servers/remote/tools", e.key, nil); st != http.StatusServiceUnavailable {
		t.Errorf("tools of a stopped remote: %d, want 503", st)
	}
}

// TestKill9Platform kills the platform process with SIGKILL and starts a
// new one on the same data directory: the deployment comes back (its
// server died with the platform) and answers.
func TestKill9Platform(t *testing.T) {
	data := t.TempDir()
	docs := docsDir(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	child := exec.Command(exe, "-test.run=^$")
	child.Env = append(os.Environ(), "PLATFORM_TEST_CHILD="+data)
	stdout, err := child.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = child.Process.Kill(); _ = child.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "http://") {
		t.Fatalf("child platform: %q %v", line, err)
	}
	url := strings.TrimSpace(line)
	keyb, err := os.ReadFile(filepath.Join(data, "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(keyb))
	c := client.New(url, &client.Options{APIKey: key})
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := c.CreateServer(ctx, api.CreateServerRequest{Name: "files", Type: "filesystem", AllowedPaths: []api.AllowedPath{{Path: docs}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CallTool(ctx, "files", "list_directory", map[string]any{"path": docs}); err != nil {
		t.Fatal(err)
	}
	s, err := c.GetServer(ctx, "files")
	if err != nil || s.Runtime == nil || s.Runtime.PID == 0 {
		t.Fatalf("server: %+v %v", s, err)
	}
	serverPID := s.Runtime.PID

	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	// The server dies with its platform (parent-death signal).
	for syscall.Kill(serverPID, 0) == nil {
		if ctx.Err() != nil {
			t.Fatalf("server pid %d outlived its platform", serverPID)
		}
		time.Sleep(10 * time.Millisecond)
	}

	e := startPlatform(t, data)
	if e.key != key {
		t.Error("the admin key changed")
	}
	e.waitStatus("files", "running")
	var res mcp.CallToolResult
	if st := e.do("POST", "/v1/servers/files/call_tool", key, map[string]any{"name": "list_directory", "arguments": map[string]any{"path": docs}}, &res); st != 200 || !strings.Contains(textOf(t, &res), "hello.txt") {
		t.Fatalf("call after kill -9 and restart: %d %+v", st, res)
	}
}

func TestCatalogEverythingFromLocalCopy(t *testing.T) {
	testenv.Everything(t) // skips (or fails in CI) without node and the npm tools
	e := startPlatform(t, t.TempDir())
	s := e.create(api.CreateServerRequest{Name: "ev", Type: "everything"})
	if s.Spec.Command != "" || s.Spec.Type != "everything" {
		t.Errorf("stored spec %+v: the command is resolved at start, not stored", s.Spec)
	}
	e.waitStatus("ev", "running")
	var res mcp.CallToolResult
	if st := e.do("POST", "/v1/servers/ev/call_tool", e.key, map[string]any{"name": "echo", "arguments": map[string]any{"message": "catalog"}}, &res); st != 200 || !strings.Contains(textOf(t, &res), "catalog") {
		t.Fatalf("echo: %d %+v", st, res)
	}
}

// TestServerCallTimeout: a deployment's limits.call_timeout_seconds bounds
// each request at the gateway.
func TestServerCallTimeout(t *testing.T) {
	node, args := testenv.Everything(t)
	e := startPlatform(t, t.TempDir())
	modules := filepath.Join(testenv.ToolsDir(), "node_modules")
	e.create(api.CreateServerRequest{Name: "slow", Command: node, Args: args,
		AllowedPaths: []api.AllowedPath{{Path: modules, Mode: "r"}}, Limits: api.Limits{CallTimeoutSeconds: 0.5}})
	e.waitStatus("slow", "running")
	body := `{"name":"trigger-long-running-operation","arguments":{"duration":20,"steps":20}}`
	st, ae := e.apiError("POST", "/v1/servers/slow/call_tool", e.key, body)
	if st != http.StatusGatewayTimeout || !strings.Contains(ae.Message, `slow" did not answer`) || !strings.Contains(ae.Message, "within 500ms") {
		t.Errorf("long call: %d %+v", st, ae)
	}
}
