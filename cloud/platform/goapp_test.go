package platform_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/client"
	"github.com/mcp-agent-go/mcp-agent/cloud/platform"
	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
)

// goApp copies examples/goapp (a Go code app, its own module) to a
// temporary directory and returns the copy.
func goApp(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("..", "..", "examples", "goapp")
	ents, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range ents {
		if e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, e.Name()), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

// startGoPlatform starts a platform that builds Go apps against this
// checkout, with the host's build cache: once it holds the CGO_ENABLED=0
// build of the dependencies (after the first run, ~4 minutes on 2 cores),
// a build takes seconds.
func startGoPlatform(t *testing.T, dataDir string) *env {
	t.Helper()
	out, err := exec.Command("go", "env", "GOCACHE").Output()
	if err != nil {
		t.Skipf("no go command: %v", err)
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	logs := &logBuffer{}
	p, err := platform.Start(testCtx(t, 2*time.Minute), dataDir, &platform.Options{
		Addr:     "127.0.0.1:0",
		Builtin:  &platform.Command{Path: exe, Args: []string{"builtin"}},
		GoSource: testenv.RepoRoot(),
		GoCache:  strings.TrimSpace(string(out)),
		Logger:   slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	key, err := os.ReadFile(p.AdminKeyPath())
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, p: p, dir: dataDir, key: strings.TrimSpace(string(key)), logs: logs}
}

func deployGoApp(c *client.Client, t *testing.T, name, dir string) (api.AppDeployResult, error) {
	t.Helper()
	pkg, err := client.PackageApp(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	return c.DeployApp(testCtx(t, 10*time.Minute), api.DeployAppRequest{Name: name, ReplayScript: "goapp.replay.yaml"}, pkg)
}

// TestGoApp deploys examples/goapp: the platform builds it (sandboxed, go
// build against this checkout) and runs the binary; its Go function tool,
// its Go workflow and its agent (whose tool is the same function) work
// through the gateway and the API. A copy with a syntax error fails to
// deploy with the compiler's message.
func TestGoApp(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a Go program")
	}
	data := t.TempDir()
	e := startGoPlatform(t, data)
	c := e.client()
	ctx := testCtx(t, 12*time.Minute) // a cold build cache: minutes
	dir := goApp(t)

	res, err := deployGoApp(c, t, "counter", dir)
	if err != nil {
		t.Fatalf("deploy: %v\nplatform log:\n%s", err, e.logs)
	}
	if !res.Created || res.Version != 1 || res.App.Spec.Kind != platform.AppKindGo {
		t.Errorf("deploy: %+v", res)
	}
	waitApp(t, c, "counter", "running")

	// The function tool, through the gateway.
	cs := e.connect("counter", e.key)
	out, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "word_count", Arguments: map[string]any{"text": "one two three\nfour"}})
	if err != nil {
		t.Fatal(err)
	}
	if out.IsError || !jsonEqual(json.RawMessage(textOf(t, out)), `{"words":4,"lines":2}`) {
		t.Errorf("word_count: error %v, %q", out.IsError, textOf(t, out))
	}

	// The Go workflow, durable in the app's runs database.
	run, err := c.RunWorkflow(ctx, "counter", "tally", json.RawMessage(`{"texts":["a b","c d e"]}`))
	if err != nil {
		t.Fatal(err)
	}
	run = waitRun(t, c, run.ID, nil)
	if run.Status != "completed" || !jsonEqual(run.Result, `{"texts":2,"words":5}`) {
		t.Errorf("tally run: %+v %s", run, run.Result)
	}

	// The agent calls the Go function tool (scripted model).
	ar, err := c.RunAgent(ctx, "counter", "clerk", "count the words of the quick brown fox", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if ar.Status != "completed" || ar.Answer != "That text has 4 words." {
		t.Errorf("agent run: %+v", ar)
	}
	// The same package again: no build, no new version.
	again, err := deployGoApp(c, t, "counter", dir)
	if err != nil || !again.Unchanged || again.Version != 1 {
		t.Errorf("redeploy: %+v %v", again, err)
	}

	// A compile error fails the deploy with go's message, and stores
	// nothing.
	broken := goApp(t)
	main := filepath.Join(broken, "main.go")
	b, err := os.ReadFile(main)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	n := 0
	for i, l := range lines {
		if strings.HasPrefix(l, "func countWords(") {
			lines[i+1] = "\treturn Count{}, nil nil"
			n = i + 2
			break
		}
	}
	if n == 0 {
		t.Fatal("main.go has no func countWords")
	}
	if err := os.WriteFile(main, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = deployGoApp(c, t, "broken", broken)
	apiErr(t, err, 400, "the Go code app does not build (go build):\n# example.com/goapp\n./main.go:")
	if want := "main.go:" + strconv.Itoa(n) + ":"; err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("build error = %v, want the compiler's %q... syntax error", err, want)
	}
	if _, err := c.GetApp(ctx, "broken"); !client.IsStatus(err, 404) {
		t.Errorf("the broken app exists: %v", err)
	}
	// The same mistake in a new version of a working app leaves the
	// running version alone.
	if _, err := deployGoApp(c, t, "counter", broken); err == nil || !strings.Contains(err.Error(), "syntax error") {
		t.Errorf("broken redeploy: %v", err)
	}
	if a, err := c.GetApp(ctx, "counter"); err != nil || a.Version != 1 || a.Status != "running" {
		t.Errorf("after a broken redeploy: %+v %v", a, err)
	}

	// After a platform restart the app runs again; a binary gone missing
	// is built again from the version's files.
	if err := os.Remove(filepath.Join(data, "apps", res.App.ID, "builds", "1", "app")); err != nil {
		t.Fatal(err)
	}
	if err := e.p.Close(ctx); err != nil {
		t.Fatal(err)
	}
	e = startGoPlatform(t, data)
	c = e.client()
	waitApp(t, c, "counter", "running")
	out, err = e.connect("counter", e.key).CallTool(ctx, &mcp.CallToolParams{Name: "word_count", Arguments: map[string]any{"text": "after the restart"}})
	if err != nil || out.IsError || !jsonEqual(json.RawMessage(textOf(t, out)), `{"words":3,"lines":1}`) {
		t.Errorf("word_count after restart: %v %+v", err, out)
	}
	// Runs survive: the tally run is still there.
	if r, err := c.GetRun(ctx, run.ID); err != nil || r.Status != "completed" {
		t.Errorf("tally run after restart: %+v %v", r, err)
	}
}
