package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/mcp-agent-go/mcp-agent/cloud/platform"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime/process"
	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
)

// builtinForTests runs the built-in servers as this test binary acting as
// the CLI (TestMain's re-exec), inside the sandbox where the environment is
// only what the deployment declares.
func builtinForTests(t *testing.T) *platform.Command {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return &platform.Command{Path: exe, Args: []string{"builtin"}, Env: map[string]string{"MCP_AGENT_CLI_REEXEC": "1", "GORACE": "atexit_sleep_ms=0"}}
}

// startCloud starts a platform in-process and points the CLI at it.
func startCloud(t *testing.T) *platform.Platform {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := platform.Start(ctx, t.TempDir(), &platform.Options{
		Addr:    "127.0.0.1:0",
		Builtin: builtinForTests(t),
		Backoff: process.Backoff{Initial: 50 * time.Millisecond, Max: time.Second},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	key, err := os.ReadFile(p.AdminKeyPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("MCP_AGENT_CLOUD_URL", p.URL())
	t.Setenv("MCP_AGENT_API_KEY", strings.TrimSpace(string(key)))
	return p
}

func TestCloudCLIDeployListStatusLogsStop(t *testing.T) {
	p := startCloud(t)
	docs := t.TempDir()
	if err := os.WriteFile(filepath.Join(docs, "hello.txt"), []byte("hi"), 0o644); err != nil {
		t.Fatal(err)
	}

	out, errOut, err := run(t, "deploy", "server", "files", "--type", "filesystem", "--allow-path", docs+":ro")
	if err != nil {
		t.Fatalf("deploy: %v\n%s%s", err, out, errOut)
	}
	for _, want := range []string{"validating...", "starting...", "initializing...", "tools", "healthy...",
		"server files deployed", p.URL() + "/servers/local.files/mcp", "dep_", "running", "/console/servers/local.files"} {
		if !strings.Contains(out, want) {
			t.Errorf("deploy output lacks %q:\n%s", want, out)
		}
	}

	out, _, err = run(t, "list")
	if err != nil || !strings.Contains(out, "files") || !strings.Contains(out, "running") || !strings.Contains(out, "type filesystem") {
		t.Errorf("list: %v\n%s", err, out)
	}
	out, _, err = run(t, "list", "servers", "--json")
	var list []map[string]any
	if err != nil || json.Unmarshal([]byte(out), &list) != nil || len(list) != 1 || list[0]["name"] != "files" {
		t.Errorf("list servers --json: %v\n%s", err, out)
	}
	if _, _, err := run(t, "list", "apps"); err == nil {
		t.Error("list apps: accepted")
	}

	out, _, err = run(t, "status", "files")
	if err != nil {
		t.Fatalf("status: %v", err)
	}
	for _, want := range []string{"local.files", "running", "pid", docs + " (r)", "recent events:", "started"} {
		if !strings.Contains(out, want) {
			t.Errorf("status output lacks %q:\n%s", want, out)
		}
	}
	if out2, _, err := run(t, "servers", "status", "files"); err != nil || !strings.Contains(out2, "local.files") {
		t.Errorf("servers status: %v\n%s", err, out2)
	}

	if _, _, err := run(t, "logs", "files", "--since", "10m"); err != nil {
		t.Errorf("logs: %v", err)
	}
	if _, _, err := run(t, "logs", "files", "--since", "soon"); err == nil || !strings.Contains(err.Error(), "--since") {
		t.Errorf("logs --since soon: %v", err)
	}

	out, _, err = run(t, "servers", "stop", "files")
	if err != nil || !strings.Contains(out, "server files stopped (status stopped)") {
		t.Fatalf("servers stop: %v\n%s", err, out)
	}
	// The stop shows in the logs (a runtime note) and the status.
	out, _, err = run(t, "status", "files", "--json")
	if err != nil || !strings.Contains(out, `"desired_state": "stopped"`) {
		t.Errorf("status after stop: %v\n%s", err, out)
	}
	if out, _, err = run(t, "servers", "restart", "files"); err != nil || !strings.Contains(out, "restarted") {
		t.Errorf("servers restart: %v\n%s", err, out)
	}
	if out, _, err = run(t, "servers", "delete", "files"); err != nil || !strings.Contains(out, "server files deleted") {
		t.Errorf("servers delete: %v\n%s", err, out)
	}
	if _, _, err = run(t, "status", "files"); err == nil || !strings.Contains(err.Error(), `server "files" not found`) {
		t.Errorf("status of a deleted server: %v", err)
	}
	// The local-config servers commands are still there.
	if _, _, err := run(t, "servers", "tools", "--help"); err != nil {
		t.Errorf("servers tools --help: %v", err)
	}
}

func TestCloudCLIDeployFailures(t *testing.T) {
	startCloud(t)

	// A server that exits at once: non-zero, with its last log lines.
	out, errOut, err := run(t, "deploy", "server", "bad", "--command", "/bin/sh", "--arg", "-c", "--arg", "echo cannot find config.json >&2; exit 3")
	if err == nil {
		t.Fatalf("deploy of a crashing server succeeded:\n%s", out)
	}
	for _, want := range []string{"last log lines of bad:", "cannot find config.json", "exit status 3", "mcp-agent servers delete bad"} {
		if !strings.Contains(errOut+err.Error(), want) {
			t.Errorf("failure output lacks %q:\nstderr: %s\nerr: %v", want, errOut, err)
		}
	}
	if !strings.Contains(out, "starting failed") && !strings.Contains(out, "initializing failed") {
		t.Errorf("progress does not say which stage failed:\n%s", out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"deploy", "server", "x", "--type", "filesystem"}, "needs at least one allowed path"},
		{[]string{"deploy", "server", "x"}, "give exactly one of --type, --command or --url"},
		{[]string{"deploy", "server", "x", "--type", "fetch", "--memory", "lots"}, `invalid memory size "lots"`},
		{[]string{"deploy", "server", "x", "--type", "fetch", "--env", "NOVALUE"}, `--env "NOVALUE": want NAME=VALUE`},
		{[]string{"deploy", "server", "x", "--type", "fetch", "--mode", "solo"}, `--mode "solo"`},
		{[]string{"deploy", "server", "x", "--type", "fetch", "--call-timeout", "-5s"}, "--call-timeout -5s: want a positive duration, e.g. 30s"},
		{[]string{"deploy", "server", "Bad!", "--type", "fetch"}, `invalid server name "Bad!"`},
		{[]string{"servers", "stop", "nope"}, `server "nope" not found`},
	} {
		_, _, err := run(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want an error containing %q", tc.args, err, tc.want)
		}
	}

	t.Setenv("MCP_AGENT_API_KEY", "mcpa_wrong")
	if _, _, err := run(t, "list"); err == nil || !strings.Contains(err.Error(), "invalid API key") {
		t.Errorf("list with a wrong key: %v", err)
	}
	t.Setenv("MCP_AGENT_CLOUD_URL", "http://127.0.0.1:1")
	if _, _, err := run(t, "list"); err == nil || !strings.Contains(err.Error(), "mcp-agent cloud up") {
		t.Errorf("list without a platform: %v", err)
	}
}

func TestCloudCLIDeployEverything(t *testing.T) {
	node, args := testenv.Everything(t)
	startCloud(t)
	modules := filepath.Join(testenv.ToolsDir(), "node_modules")
	cmdArgs := []string{"deploy", "server", "everything", "--command", node, "--allow-path", modules + ":ro"}
	for _, a := range args {
		cmdArgs = append(cmdArgs, "--arg", a)
	}
	out, errOut, err := run(t, cmdArgs...)
	if err != nil {
		t.Fatalf("deploy everything: %v\n%s%s", err, out, errOut)
	}
	if !strings.Contains(out, "healthy") {
		t.Errorf("deploy output:\n%s", out)
	}
	out, _, err = run(t, "logs", "everything")
	if err != nil || !strings.Contains(out, "Starting default (STDIO) server") {
		t.Errorf("logs everything: %v\n%s", err, out)
	}
}

// TestReadmeThreeCommands runs the three commands of docs/cloud.md's quick
// start: cloud up, deploy the filesystem built-in, call it through the
// gateway (curl there, net/http here). The only change: a free port instead
// of 8750, which other tests on this machine may use.
func TestReadmeThreeCommands(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("MCP_AGENT_API_KEY", "")
	docs := filepath.Join(home, "docs")
	if err := os.Mkdir(docs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(docs, "notes.md"), []byte("# notes\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	t.Setenv("MCP_AGENT_CLOUD_URL", "http://"+addr)

	// 1. mcp-agent cloud up
	cloudUpConfigure = func(o *platform.Options) {
		o.Builtin = builtinForTests(t)
		o.Logger = slog.New(slog.DiscardHandler)
	}
	ready := make(chan *platform.Platform, 1)
	cloudUpHook = func(p *platform.Platform) { ready <- p }
	t.Cleanup(func() { cloudUpConfigure, cloudUpHook = nil, nil })
	ctx, cancel := context.WithCancel(context.Background())
	upErr := make(chan error, 1)
	var upOut bytes.Buffer
	go func() {
		cmd := newRootCmd()
		cmd.SetOut(io.Discard)
		cmd.SetErr(&upOut)
		cmd.SetArgs([]string{"cloud", "up", "--addr", addr})
		upErr <- cmd.ExecuteContext(ctx)
	}()
	var p *platform.Platform
	select {
	case p = <-ready:
	case err := <-upErr:
		t.Fatalf("cloud up: %v", err)
	case <-time.After(30 * time.Second):
		t.Fatal("cloud up did not start")
	}
	defer func() {
		cancel()
		if err := <-upErr; err != nil {
			t.Errorf("cloud up ended with %v", err)
		}
	}()
	keyFile := filepath.Join(home, ".mcp-agent-cloud", "admin.key")
	if p.AdminKeyPath() != keyFile {
		t.Fatalf("admin key at %s, want %s", p.AdminKeyPath(), keyFile)
	}
	if st, err := os.Stat(filepath.Dir(keyFile)); err != nil || st.Mode().Perm() != 0o700 {
		t.Errorf("data dir: %v, mode %v", err, st.Mode().Perm())
	}

	// 2. mcp-agent deploy server files --type filesystem --allow-path ~/docs:ro
	out, errOut, err := run(t, "deploy", "server", "files", "--type", "filesystem", "--allow-path", "~/docs:ro")
	if err != nil {
		t.Fatalf("deploy: %v\n%s%s", err, out, errOut)
	}

	// 3. curl -H "Authorization: Bearer $(cat ~/.mcp-agent-cloud/admin.key)" \
	//      -d '{"name":"list_directory","arguments":{"path":"'$HOME/docs'"}}' \
	//      http://127.0.0.1:8750/v1/servers/files/call_tool
	key, err := os.ReadFile(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	body := `{"name":"list_directory","arguments":{"path":"` + docs + `"}}`
	req, _ := http.NewRequest("POST", "http://"+addr+"/v1/servers/files/call_tool", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(key)))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded") // what curl -d sends
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	res, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 || !strings.Contains(string(res), "notes.md") {
		t.Fatalf("call_tool: %d %s", resp.StatusCode, res)
	}
}

func TestDeployModelStages(t *testing.T) {
	canceled := false
	m := &deployModel{stages: deployStages, current: -1, notes: map[int][]string{}, cancel: func() { canceled = true }}
	var tm tea.Model = m
	for _, s := range []string{stageValidating, stageStarting} {
		tm, _ = tm.Update(stageMsg{s})
	}
	tm, _ = tm.Update(noteMsg{"pid 7, sandboxed"})
	view := tm.View().Content
	for _, want := range []string{"✓ validating", "starting  pid 7, sandboxed", "· initializing"} {
		if !strings.Contains(view, want) {
			t.Errorf("view lacks %q:\n%s", want, view)
		}
	}
	tm, _ = tm.Update(failMsg{})
	if view := tm.View().Content; !strings.Contains(view, "✗ starting") {
		t.Errorf("failed view:\n%s", view)
	}
	tm.Update(tea.KeyPressMsg{Code: 'c', Mod: tea.ModCtrl})
	if !canceled {
		t.Error("ctrl+c did not cancel the deploy")
	}
	_, cmd := tm.Update(doneMsg{})
	if cmd == nil {
		t.Error("done did not quit")
	}
}
