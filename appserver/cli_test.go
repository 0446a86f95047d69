package appserver_test

// Tests of `mcp-agent serve` as a process, with real third-party clients:
// the go-sdk client over stdio and Streamable HTTP, the MCP Inspector CLI,
// and the official conformance suite (installed by scripts/setup-conformance
// into .tools/conformance; skipped when missing, unless
// MCP_AGENT_REQUIRE_TOOLS=1).

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/appserver"
	"github.com/mcp-agent-go/mcp-agent/internal/conformance"
	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
)

var (
	binDir   string // removed by TestMain
	cliOnce  sync.Once
	cliPath  string
	cliError error
)

func TestMain(m *testing.M) {
	var err error
	binDir, err = os.MkdirTemp("", "appserver-test-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(binDir)
	os.Exit(code)
}

// mcpAgent builds the mcp-agent binary once per test run. Until the serve
// command is registered in root.go, it is built with a go build overlay
// that registers it.
func mcpAgent(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the mcp-agent binary")
	}
	cliOnce.Do(func() {
		root := testenv.RepoRoot()
		cliPath = filepath.Join(binDir, "mcp-agent")
		args := []string{"build", "-o", cliPath}
		rootGo := filepath.Join(root, "cmd", "mcp-agent", "root.go")
		src, err := os.ReadFile(rootGo)
		if err != nil {
			cliError = err
			return
		}
		if !bytes.Contains(src, []byte("newServeCmd(")) {
			patched := bytes.Replace(src, []byte("newChatCmd(g))"), []byte("newChatCmd(g), newServeCmd(g))"), 1)
			if bytes.Equal(patched, src) {
				cliError = fmt.Errorf("cannot register the serve command in %s: root.AddCommand changed shape", rootGo)
				return
			}
			pr := filepath.Join(binDir, "root.go")
			ov := filepath.Join(binDir, "overlay.json")
			b, _ := json.Marshal(map[string]any{"Replace": map[string]string{rootGo: pr}})
			if err := os.WriteFile(pr, patched, 0o644); err != nil {
				cliError = err
				return
			}
			if err := os.WriteFile(ov, b, 0o644); err != nil {
				cliError = err
				return
			}
			args = append(args, "-overlay", ov)
		}
		cmd := exec.Command("go", append(args, "./cmd/mcp-agent")...)
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			cliError = fmt.Errorf("go build ./cmd/mcp-agent: %v\n%s", err, out)
		}
	})
	if cliError != nil {
		t.Fatal(cliError)
	}
	return cliPath
}

// example returns the served example's config and replay script.
func example() (cfg, script string) {
	dir := filepath.Join(testenv.RepoRoot(), "examples", "served")
	return filepath.Join(dir, "mcp_agent.config.yaml"), filepath.Join(dir, "served.replay.yaml")
}

// serveArgs are the arguments of `mcp-agent serve` on the example, with its
// runs journaled in db.
func serveArgs(db string, extra ...string) []string {
	cfg, script := example()
	return append([]string{"serve", "-c", cfg, "--script", script, "--runs-db", db}, extra...)
}

var listeningRE = regexp.MustCompile(`listening on (http://\S+/mcp)`)

// serveHTTP starts `mcp-agent serve --transport http` on a free port and
// returns its /mcp URL and the process; the process gets SIGTERM at cleanup.
func serveHTTP(t *testing.T, db string, extra ...string) (string, *exec.Cmd) {
	t.Helper()
	bin := mcpAgent(t)
	cmd := exec.Command(bin, serveArgs(db, append([]string{"-t", "http", "--addr", "127.0.0.1:0"}, extra...)...)...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { stop(t, cmd) })
	urlc := make(chan string, 1)
	var logs lockedBuffer
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logs.WriteString(sc.Text() + "\n")
			if m := listeningRE.FindStringSubmatch(sc.Text()); m != nil {
				urlc <- m[1]
			}
		}
	}()
	select {
	case u := <-urlc:
		return u, cmd
	case <-time.After(testTimeout):
		t.Fatalf("mcp-agent serve did not listen within %s; stderr:\n%s", testTimeout, logs.String())
	}
	return "", nil
}

// stop sends SIGTERM and waits for the process (killing it after a deadline).
func stop(t *testing.T, cmd *exec.Cmd) error {
	if cmd.ProcessState != nil {
		return nil
	}
	_ = cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(testTimeout):
		_ = cmd.Process.Kill()
		<-done
		t.Errorf("mcp-agent serve did not exit within %s of SIGTERM", testTimeout)
		return nil
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) WriteString(s string) {
	l.mu.Lock()
	l.b.WriteString(s)
	l.mu.Unlock()
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func connectClient(t *testing.T, tr mcp.Transport) *mcp.ClientSession {
	t.Helper()
	c := mcp.NewClient(&mcp.Implementation{Name: "cli-test", Version: "1"}, nil)
	cs, err := c.Connect(testContext(t), tr, nil)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// checkExample runs the example agent through the client: its filesystem
// tool call really reads notes.md.
func checkExample(t *testing.T, cs *mcp.ClientSession) {
	t.Helper()
	names := toolNames(t, cs)
	for _, want := range []string{"agents-helper-generate", "workflows-helper-run", "workflows-resume"} {
		if !slices.Contains(names, want) {
			t.Errorf("tools %v lack %s", names, want)
		}
	}
	var out appserver.GenerateResult
	decode(t, callOK(t, cs, "agents-helper-generate", map[string]any{"message": "What is in notes.md?"}), &out)
	b, _ := json.Marshal(out.Messages)
	if !strings.Contains(out.Answer, "release checklist") || !strings.Contains(string(b), "Tag the release") {
		t.Errorf("answer %q, messages %s: want the checklist read from notes.md", out.Answer, b)
	}
}

func TestServeStdio(t *testing.T) {
	bin := mcpAgent(t)
	cmd := exec.Command(bin, serveArgs(filepath.Join(t.TempDir(), "runs.db"))...)
	cs := connectClient(t, &mcp.CommandTransport{Command: cmd})
	checkExample(t, cs)
}

func TestServeHTTPAndGracefulExit(t *testing.T) {
	url, cmd := serveHTTP(t, filepath.Join(t.TempDir(), "runs.db"))
	cs := connectClient(t, &mcp.StreamableClientTransport{Endpoint: url})
	checkExample(t, cs)
	if err := stop(t, cmd); err != nil {
		t.Errorf("mcp-agent serve exited with %v after SIGTERM, want status 0", err)
	}
}

func TestServeFlagErrors(t *testing.T) {
	bin := mcpAgent(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-t", "carrier-pigeon"}, `unknown transport "carrier-pigeon": use --transport stdio or --transport http`},
		{[]string{"--token-env", "X"}, "--token-env applies to --transport http only"},
		{[]string{"-t", "http", "--token-env", "MCP_AGENT_TEST_UNSET_TOKEN"}, "--token-env MCP_AGENT_TEST_UNSET_TOKEN: the variable is empty or unset"},
	} {
		cmd := exec.Command(bin, serveArgs(filepath.Join(t.TempDir(), "runs.db"), c.args...)...)
		out, err := cmd.CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("serve %v: %v\n%s\nwant an error containing %q", c.args, err, out, c.want)
		}
	}
}

// conformanceTools returns Node and the conformance tools folder, skipping
// (or failing, when MCP_AGENT_REQUIRE_TOOLS=1) when it is not installed.
func conformanceTools(t *testing.T) (node, dir string) {
	t.Helper()
	tl := conformance.Require(t)
	return tl.Node, tl.Dir
}

// inspector runs the MCP Inspector CLI on target with args and decodes its
// JSON output.
func inspector(t *testing.T, target []string, args ...string) map[string]any {
	t.Helper()
	node, dir := conformanceTools(t)
	ctx, cancel := context.WithTimeout(testContext(t), testTimeout)
	defer cancel()
	full := append([]string{filepath.Join(dir, "@modelcontextprotocol", "inspector", "clients", "launcher", "build", "index.js"), "--cli"}, target...)
	cmd := exec.CommandContext(ctx, node, append(full, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir()) // its catalog lives under HOME
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("inspector %v: %v\nstdout: %s\nstderr: %s", args, err, stdout.String(), stderr.String())
	}
	var out map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("inspector %v: output is not JSON: %v\n%s", args, err, stdout.String())
	}
	return out
}

func inspectorCall(t *testing.T, target []string, tool string, args ...string) map[string]any {
	t.Helper()
	a := []string{"--method", "tools/call", "--tool-name", tool}
	for _, kv := range args {
		a = append(a, "--tool-arg", kv)
	}
	out := inspector(t, target, a...)
	if isErr, _ := out["isError"].(bool); isErr {
		t.Fatalf("inspector: %s %v: error result %v", tool, args, out["content"])
	}
	sc, _ := out["structuredContent"].(map[string]any)
	return sc
}

func TestInspectorCLI(t *testing.T) {
	conformanceTools(t)
	bin := mcpAgent(t)
	for _, transport := range []string{"stdio", "http"} {
		t.Run(transport, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "runs.db")
			// -c, not --config: the Inspector takes --config for itself.
			target := append([]string{bin}, serveArgs(db)...)
			if transport == "http" {
				url, _ := serveHTTP(t, db)
				target = []string{url}
			}
			list := inspector(t, target, "--method", "tools/list")
			var names []string
			for _, tl := range list["tools"].([]any) {
				names = append(names, tl.(map[string]any)["name"].(string))
			}
			for _, want := range []string{appserver.ToolWorkflowsRun, appserver.ToolWorkflowsGetStatus, appserver.ToolWorkflowsResume, "agents-helper-generate_str"} {
				if !slices.Contains(names, want) {
					t.Errorf("tools/list: %v lacks %s", names, want)
				}
			}

			started := inspectorCall(t, target, appserver.ToolWorkflowsRun, "workflow_name=helper", `run_parameters={"message":"Plan the release"}`)
			runID, _ := started["run_id"].(string)
			if runID == "" {
				t.Fatalf("workflows-run gave %v, want a run_id", started)
			}
			status := func() map[string]any {
				return inspectorCall(t, target, appserver.ToolWorkflowsGetStatus, "run_id="+runID)
			}
			// Over stdio every Inspector call starts a new server on the
			// same runs database: the run continues in whichever is up.
			var st map[string]any
			waitFor(t, "the run to pause for a human", func() (bool, string) { st = status(); return st["status"] == "paused", fmt.Sprint(st["status"]) })
			if w, _ := st["waiting"].(map[string]any); w == nil || w["prompt"] != "Which day should the release happen?" {
				t.Fatalf("waiting = %v, want the agent's question", st["waiting"])
			}
			inspectorCall(t, target, appserver.ToolWorkflowsResume, "run_id="+runID, "payload=Friday")
			waitFor(t, "the run to complete", func() (bool, string) { st = status(); return st["status"] == "completed", fmt.Sprint(st["status"]) })
			res, _ := st["result"].(map[string]any)
			if res == nil || res["answer"] != "The release is planned for Friday: tag, build, announce." {
				t.Errorf("result = %v, want the scripted answer after the human's answer", st["result"])
			}
		})
	}
}

// TestConformance runs the official conformance suite's server scenarios
// against `mcp-agent serve --transport http`: 0.1.x (the active suite, for
// 2025-11-25) and 0.2.0-alpha with --requirements 2026-07-28. Every failing
// check must be listed, with the reason, in testdata/conformance; a listed
// check that passes is a stale entry and fails the test too.
func TestConformance(t *testing.T) {
	tools := conformance.Require(t)
	url, _ := serveHTTP(t, filepath.Join(t.TempDir(), "runs.db"))
	for _, c := range conformance.Suites {
		t.Run(c.Version, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(testContext(t), 10*time.Minute)
			defer cancel()
			res, err := tools.Run(ctx, c, url, t.TempDir())
			if err != nil {
				t.Fatal(err)
			}
			passed, failed := res.Passed, res.Failed
			expected := map[string]string{}
			b, err := os.ReadFile(filepath.Join("testdata", "conformance", "expected-failures-"+c.Version+".json"))
			if err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(b, &expected); err != nil {
				t.Fatal(err)
			}
			for id, msg := range failed {
				if _, ok := expected[id]; !ok {
					t.Errorf("unexpected failure %s: %s", id, msg)
				}
			}
			for id, reason := range expected {
				if _, ok := failed[id]; !ok {
					if passed[id] {
						t.Errorf("stale expected failure %s (%s): it passes now; remove it", id, reason)
					}
				}
			}
			t.Logf("conformance %s: %d checks passed, %d failed (all expected: fixtures the app does not serve, or extensions)", c.Version, len(passed), len(failed))
		})
	}
}
