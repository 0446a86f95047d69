package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/client"
	"github.com/mcp-agent-go/mcp-agent/cloud/platform"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime/process"
)

// startCloudApps starts a platform in-process on dataDir whose apps run as
// this test binary acting as the CLI ("mcp-agent serve"), and points the
// CLI at it.
func startCloudApps(t *testing.T, dataDir string) *platform.Platform {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"MCP_AGENT_CLI_REEXEC": "1", "GORACE": "atexit_sleep_ms=0"}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := platform.Start(ctx, dataDir, &platform.Options{
		Addr:    "127.0.0.1:0",
		Builtin: &platform.Command{Path: exe, Args: []string{"builtin"}, Env: env},
		Serve:   &platform.Command{Path: exe, Env: env},
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

// approvalApp copies examples/approval to a temporary directory.
func approvalApp(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	for _, f := range []string{"mcp_agent.config.yaml", "approval.replay.yaml"} {
		b, err := os.ReadFile(filepath.Join("..", "..", "examples", "approval", f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dst, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}

func mustRun(t *testing.T, args ...string) string {
	t.Helper()
	out, errOut, err := run(t, args...)
	if err != nil {
		t.Fatalf("mcp-agent %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

func wantContains(t *testing.T, what, out string, wants ...string) {
	t.Helper()
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("%s lacks %q:\n%s", what, w, out)
		}
	}
}

var runIDRE = regexp.MustCompile(`approval\.run-[0-9a-f]+`)

// TestCLIDeployAppPauseRestartResume is the end to end of issue 8 through
// the CLI: deploy the human-input example (run by the real `mcp-agent
// serve`), run its agent, see the run paused on its question, restart the
// platform on the same data directory, answer, get the result.
func TestCLIDeployAppPauseRestartResume(t *testing.T) {
	data := t.TempDir()
	p := startCloudApps(t, data)
	dir := approvalApp(t)

	out := mustRun(t, "deploy", "app", dir, "--replay-script", "approval.replay.yaml")
	wantContains(t, "deploy app", out, "checking...", "packaging...", "2 files", "uploading...", "new app, version 1",
		"starting...", "initializing...", "healthy...", "app approval deployed (version 1)", p.URL()+"/servers/local.approval/mcp", "sandboxed")
	out = mustRun(t, "deploy", "app", dir, "--replay-script", "approval.replay.yaml")
	wantContains(t, "second deploy", out, "unchanged: version 1 is deployed already", "app approval unchanged (version 1)")

	out = mustRun(t, "agents", "run", "approval.publisher", "publish the launch post")
	wantContains(t, "agents run", out, "the agent asks: Publish this post? Answer yes or no.", "mcp-agent runs resume approval.run-")
	id := runIDRE.FindString(out)
	out = mustRun(t, "runs", "list", "--status", "paused")
	wantContains(t, "runs list", out, id, "publisher", "paused", "waits for input: Publish this post?")
	_, _, err := run(t, "runs", "resume", id, "--payload", `{"answer": 5}`)
	if err == nil || !strings.Contains(err.Error(), `field "answer"`) {
		t.Errorf("resume with a bad payload: %v", err)
	}

	// The platform goes down and comes back on the same data directory.
	if err := p.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	startCloudApps(t, data)
	out = mustRun(t, "runs", "status", id, "--wait")
	wantContains(t, "status after restart", out, "status:   paused", "Publish this post?", "--answer TEXT")
	// The request for input is on the event stream (recorded before the
	// restart, or by the new platform's first look at the app).
	c, err := client.FromEnv()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for ev, err := range c.FollowPlatformEvents(ctx, api.EventFilter{Run: id, Kinds: []string{api.EventHumanInput}}) {
		if err != nil {
			t.Fatalf("events of %s: %v", id, err)
		}
		wantContains(t, "human_input event", ev.Message, "asks: Publish this post?")
		break
	}
	// runs watch prints the run's events and ends when it finishes.
	type result struct {
		out string
		err error
	}
	watched := make(chan result, 1)
	go func() {
		out, _, err := run(t, "runs", "watch", id)
		watched <- result{out, err}
	}()
	out = mustRun(t, "runs", "resume", id, "--answer", "yes")
	wantContains(t, "resume", out, "run "+id+" resumed")
	w := <-watched
	if w.err != nil {
		t.Fatalf("runs watch: %v\n%s", w.err, w.out)
	}
	wantContains(t, "runs watch", w.out, "human_input", id+" (publisher) asks: Publish this post?", "run_status", id+" (publisher): completed")
	out = mustRun(t, "runs", "status", id, "--wait", "--json")
	var r struct {
		Status string `json:"status"`
		Result struct {
			Answer    string `json:"answer"`
			Exchanges []struct{ Question, Answer string }
		} `json:"result"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil || r.Status != "completed" || r.Result.Answer != "Published." || len(r.Result.Exchanges) != 1 || r.Result.Exchanges[0].Answer != "yes" {
		t.Errorf("run after resume: %+v %v\n%s", r, err, out)
	}
	out = mustRun(t, "runs", "history", id)
	wantContains(t, "history", out, "run_scheduled", "input_requested", "signal_received", "run_completed")

	// A workflow run started from the CLI; cancelled.
	out = mustRun(t, "runs", "start", "approval.publisher", "--input", `{"message":"publish the second post"}`, "--wait")
	wantContains(t, "runs start", out, "workflow: publisher", "status:   paused", `waiting:  input "resume": Publish this post?`)
	id2 := runIDRE.FindString(out)
	out = mustRun(t, "runs", "cancel", id2)
	wantContains(t, "cancel", out, "cancel requested")
	deadline := time.Now().Add(30 * time.Second)
	for out = mustRun(t, "runs", "status", id2); !strings.Contains(out, "status:   cancelled"); out = mustRun(t, "runs", "status", id2) {
		if time.Now().After(deadline) {
			t.Fatalf("run %s was not cancelled:\n%s", id2, out)
		}
		time.Sleep(20 * time.Millisecond)
	}

	// The agent on a message it answers at once.
	out = mustRun(t, "agents", "run", "approval.publisher", "yes", "--json")
	wantContains(t, "agents run --json", out, `"answer": "Published."`, `"status": "completed"`)

	// Management.
	wantContains(t, "apps list", mustRun(t, "apps", "list"), "approval", "running", "1", "/servers/local.approval/mcp")
	wantContains(t, "apps status", mustRun(t, "apps", "status", "approval"), "local.approval", "running", "replay script approval.replay.yaml", "recent events:")
	os.WriteFile(filepath.Join(dir, "README.md"), []byte("v2\n"), 0o644)
	wantContains(t, "deploy v2", mustRun(t, "deploy", "app", dir, "--replay-script", "approval.replay.yaml"), "version 2", "app approval deployed (version 2)")
	wantContains(t, "apps versions", mustRun(t, "apps", "versions", "approval"), "VERSION", "1  ", "2  ", "*")
	wantContains(t, "apps rollback", mustRun(t, "apps", "rollback", "approval", "1"), "app approval runs version 1")
	wantContains(t, "apps stop", mustRun(t, "apps", "stop", "approval"), "app approval stopped (status stopped)")
	if _, _, err := run(t, "runs", "list", "--app", "approval"); err == nil || !strings.Contains(err.Error(), "mcp-agent apps start approval") {
		t.Errorf("runs of a stopped app: %v", err)
	}
	wantContains(t, "apps start", mustRun(t, "apps", "start", "approval"), "app approval started")
	wantContains(t, "apps logs", mustRun(t, "apps", "logs", "approval"), "runtime")
	wantContains(t, "apps delete", mustRun(t, "apps", "delete", "approval"), "app approval deleted")
}

func TestCLIDeployAppBadInput(t *testing.T) {
	startCloudApps(t, t.TempDir())
	empty := t.TempDir()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"deploy", "app", empty}, "has no mcp_agent.config.yaml"},
		{[]string{"deploy", "app", filepath.Join(empty, "nope")}, "no such file or directory"},
		{[]string{"runs", "start", "nope.wf"}, `app "nope" not found`},
		{[]string{"runs", "start", "nodot"}, `"nodot" is not {app}.{workflow}`},
		{[]string{"runs", "status", "nope.run-1"}, `app "nope" not found`},
		{[]string{"agents", "run", "nope.a", "hi"}, `app "nope" not found`},
		{[]string{"runs", "start", "a.b", "--input", "{"}, "--input is not valid JSON"},
		{[]string{"apps", "rollback", "a", "x"}, `VERSION "x"`},
	} {
		_, _, err := run(t, tc.args...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%v: %v, want %q", tc.args, err, tc.want)
		}
	}
	bad := approvalApp(t)
	os.WriteFile(filepath.Join(bad, "mcp_agent.config.yaml"), []byte("name: bad\nagents:\n  definitions:\n    - name: a\n      instrction: hi\n"), 0o644)
	_, _, err := run(t, "deploy", "app", bad)
	if err == nil || !strings.Contains(err.Error(), "mcp_agent.config.yaml:5: agents.definitions[0].instrction: unknown key") {
		t.Errorf("config error: %v", err)
	}
	// A variable the platform does not have: refused there, with the way out.
	unset := approvalApp(t)
	os.WriteFile(filepath.Join(unset, "mcp_agent.config.yaml"), []byte("name: keyed\nopenai:\n  api_key: ${OPENAI_API_KEY}\n"), 0o644)
	out, _, err := run(t, "deploy", "app", unset)
	if err == nil || !strings.Contains(out, "uses OPENAI_API_KEY") || !strings.Contains(err.Error(), "mcp-agent secrets set keyed NAME") {
		t.Errorf("unset variable: %v\n%s", err, out)
	}
}

// runIn is run with stdin.
func runIn(t *testing.T, stdin string, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := newRootCmd()
	var out, errb strings.Builder
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader(stdin))
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	return out.String(), errb.String(), err
}

func TestCLISecrets(t *testing.T) {
	startCloudApps(t, t.TempDir())
	const value = "sk-cli-secret-value-42"
	out, _, err := runIn(t, value+"\n", "secrets", "set", "approval", "OPENAI_API_KEY")
	if err != nil || !strings.Contains(out, "secret OPENAI_API_KEY of app approval set") || strings.Contains(out, value) {
		t.Fatalf("secrets set: %v\n%s", err, out)
	}
	dir := approvalApp(t)
	cfg, _ := os.ReadFile(filepath.Join(dir, "mcp_agent.config.yaml"))
	os.WriteFile(filepath.Join(dir, "mcp_agent.config.yaml"), append(cfg, []byte("openai:\n  api_key: ${OPENAI_API_KEY}\n")...), 0o644)
	out = mustRun(t, "deploy", "app", dir, "--replay-script", "approval.replay.yaml")
	wantContains(t, "deploy with a secret", out, "uses OPENAI_API_KEY", "app approval deployed")
	out, _, err = runIn(t, "other\n", "secrets", "set", "approval", "OTHER")
	if err != nil || !strings.Contains(out, "mcp-agent apps restart approval") {
		t.Errorf("secrets set on a running app: %v\n%s", err, out)
	}
	out = mustRun(t, "secrets", "list", "approval")
	if out != "OPENAI_API_KEY\nOTHER\n" {
		t.Errorf("secrets list: %q", out)
	}
	out = mustRun(t, "apps", "status", "approval", "--json")
	if strings.Contains(out, value) || !strings.Contains(out, `"OPENAI_API_KEY"`) {
		t.Errorf("apps status shows the value or lacks the name:\n%s", out)
	}
	if _, _, err := runIn(t, "", "secrets", "set", "approval", "EMPTY"); err == nil || !strings.Contains(err.Error(), "no value on stdin") {
		t.Errorf("empty stdin: %v", err)
	}
	wantContains(t, "secrets delete", mustRun(t, "secrets", "delete", "approval", "OTHER"), "secret OTHER of app approval deleted")
	if _, _, err := run(t, "secrets", "delete", "approval", "OTHER"); err == nil || !strings.Contains(err.Error(), `has no secret "OTHER"`) {
		t.Errorf("delete twice: %v", err)
	}
}

// An app whose serve cannot start (no model configured, no replay script):
// the deploy fails with the app's own error in its last log lines.
func TestCLIDeployAppThatCannotStart(t *testing.T) {
	startCloudApps(t, t.TempDir())
	out, errOut, err := run(t, "deploy", "app", approvalApp(t), "--timeout", "60s")
	if err == nil || !strings.Contains(err.Error(), "deploy app approval: app \"approval\"") {
		t.Fatalf("deploy: %v\n%s%s", err, out, errOut)
	}
	wantContains(t, "stderr", errOut, "last log lines of approval:", `agent "publisher": no model provider configured`, "mcp-agent apps status approval")
	out = mustRun(t, "apps", "status", "approval")
	wantContains(t, "apps status", out, "restarts", "exited")
}
