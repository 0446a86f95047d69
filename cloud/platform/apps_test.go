package platform_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/client"
	"github.com/mcp-agent-go/mcp-agent/cloud/platform"
)

// exampleApp copies examples/approval to a temporary directory (tests
// change it) and returns the copy.
func exampleApp(t *testing.T) string {
	t.Helper()
	dst := t.TempDir()
	src := filepath.Join("..", "..", "examples", "approval")
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

func (e *env) client() *client.Client {
	return client.New(e.p.URL(), &client.Options{APIKey: e.key})
}

func testCtx(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// deployApp packages dir and deploys it as name on the replay script.
func deployApp(t *testing.T, c *client.Client, name, dir string) api.AppDeployResult {
	t.Helper()
	pkg, err := client.PackageApp(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := c.DeployApp(testCtx(t, time.Minute), api.DeployAppRequest{Name: name, ReplayScript: "approval.replay.yaml"}, pkg)
	if err != nil {
		t.Fatalf("deploy %s: %v", name, err)
	}
	return res
}

// waitApp waits until the app reports status.
func waitApp(t *testing.T, c *client.Client, name, status string) api.App {
	t.Helper()
	ctx := testCtx(t, 30*time.Second)
	for {
		a, err := c.GetApp(ctx, name)
		if err == nil && a.Status == status {
			return a
		}
		if ctx.Err() != nil {
			t.Fatalf("app %s: %+v %v, want status %s", name, a, err, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func waitRun(t *testing.T, c *client.Client, id string, done func(api.Run) bool) api.Run {
	t.Helper()
	r, err := c.WaitRun(testCtx(t, 30*time.Second), id, done)
	if err != nil {
		t.Fatalf("wait for run %s: %v (last %+v)", id, err, r)
	}
	return r
}

func pausedForInput(r api.Run) bool { return r.Status == "paused" && r.Waiting != nil || r.Terminal() }

func jsonEqual(got json.RawMessage, want string) bool {
	var a, b any
	return json.Unmarshal(got, &a) == nil && json.Unmarshal([]byte(want), &b) == nil && cmp.Equal(a, b)
}

func apiErr(t *testing.T, err error, status int, msg string) {
	t.Helper()
	if !client.IsStatus(err, status) || !strings.Contains(err.Error(), msg) {
		t.Errorf("error = %v, want status %d with %q", err, status, msg)
	}
}

func TestAppDeployRunResume(t *testing.T) {
	e := startPlatform(t, t.TempDir())
	c := e.client()
	ctx := testCtx(t, 2*time.Minute)
	dir := exampleApp(t)

	res := deployApp(t, c, "approval", dir)
	if !res.Created || res.Unchanged || res.Version != 1 || res.App.Endpoint != e.p.URL()+"/servers/local.approval/mcp" {
		t.Errorf("deploy: %+v", res)
	}
	a := waitApp(t, c, "approval", "running")
	if a.Spec.ReplayScript != "approval.replay.yaml" || a.Digest == "" {
		t.Errorf("app: %+v", a)
	}
	// The app is an MCP server behind the gateway like any other.
	cs := e.connect("approval", e.key)
	tools, err := cs.ListTools(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools.Tools {
		names = append(names, tl.Name)
	}
	for _, want := range []string{"workflows-run", "workflows-approve-run", "agents-publisher-generate_str"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("tools %v lack %s", names, want)
		}
	}

	// Deploying the same package again does nothing.
	again := deployApp(t, c, "approval", dir)
	if again.Created || !again.Unchanged || again.Version != 1 {
		t.Errorf("redeploy: %+v", again)
	}

	// The org's event stream: the run's status changes and its request
	// for input.
	next, stop := iter.Pull2(c.FollowPlatformEvents(ctx, api.EventFilter{App: "approval", Kinds: []string{api.EventRunStatus, api.EventHumanInput}}))
	defer stop()
	waitEvent := func(kind, run, status string) api.PlatformEvent {
		t.Helper()
		for {
			ev, err, ok := next()
			if err != nil || !ok {
				t.Fatalf("event stream ended: %v before %s %s %s", err, kind, run, status)
			}
			var d api.RunEventData
			_ = json.Unmarshal(ev.Data, &d)
			if ev.Kind == kind && ev.Resource.Run == run && (status == "" || d.Status == status) {
				return ev
			}
		}
	}

	// A workflow run pauses for approval; a bad payload is refused naming
	// the field; a good one completes it.
	run, err := c.RunWorkflow(ctx, "approval", "approve", json.RawMessage(`{"title":"Launch","body":"we ship today"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(run.ID, "approval.run-") || run.Workflow != "approve" {
		t.Errorf("run: %+v", run)
	}
	run = waitRun(t, c, run.ID, pausedForInput)
	if run.Status != "paused" || run.Waiting.Prompt != `Publish "Launch" (3 words)?` || !strings.Contains(string(run.Waiting.Schema), "approved") {
		t.Fatalf("paused run: %+v %+v", run, run.Waiting)
	}
	ev := waitEvent(api.EventHumanInput, run.ID, "paused")
	if ev.Resource.Kind != "app" || ev.Resource.Name != "approval" || !strings.Contains(ev.Message, `asks: Publish "Launch" (3 words)?`) {
		t.Errorf("human_input event: %+v", ev)
	}
	_, err = c.ResumeRun(ctx, run.ID, api.ResumeRequest{Payload: json.RawMessage(`{"approved":"yes"}`)})
	apiErr(t, err, 400, `field "approved"`)
	if _, err := c.ResumeRun(ctx, run.ID, api.ResumeRequest{Payload: json.RawMessage(`{"approved":true,"note":"go"}`)}); err != nil {
		t.Fatal(err)
	}
	waitEvent(api.EventRunStatus, run.ID, "completed")
	run = waitRun(t, c, run.ID, nil)
	if run.Status != "completed" || !jsonEqual(run.Result, `{"title":"Launch","words":3,"published":true,"note":"go"}`) {
		t.Errorf("completed run: %+v %s", run, run.Result)
	}
	hist, err := c.RunHistory(ctx, run.ID)
	if err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, ev := range hist {
		types = append(types, ev.Type)
	}
	for _, want := range []string{"run_scheduled", "step_completed", "input_requested", "signal_received", "run_completed"} {
		if !strings.Contains(strings.Join(types, " "), want) {
			t.Errorf("history %v lacks %s", types, want)
		}
	}

	// The agent, as its durable workflow: paused on its question, answered
	// by resume.
	ar, err := c.RunAgent(ctx, "approval", "publisher", "publish the launch post", 30*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if ar.Status != "paused" || ar.Waiting == nil || !strings.Contains(ar.Waiting.Prompt, "Publish this post?") {
		t.Fatalf("agent run: %+v", ar)
	}
	if _, err := c.ResumeRun(ctx, ar.Run, api.ResumeRequest{Payload: json.RawMessage(`{"answer":"yes"}`)}); err != nil {
		t.Fatal(err)
	}
	run = waitRun(t, c, ar.Run, nil)
	if run.Status != "completed" || !strings.Contains(string(run.Result), `"answer":"Published."`) {
		t.Errorf("agent run after resume: %+v %s", run, run.Result)
	}

	// Pausing a finished run or an unknown one says why.
	if _, err := c.PauseRun(ctx, run.ID); !client.IsStatus(err, http.StatusConflict) || !strings.Contains(err.Error(), "it is completed") {
		t.Errorf("pause a completed run: %v", err)
	}
	if _, err := c.PauseRun(ctx, "approval.no-such-run"); !client.IsStatus(err, http.StatusNotFound) || !strings.Contains(err.Error(), `"no-such-run" not found`) {
		t.Errorf("pause an unknown run: %v", err)
	}

	// Pause (twice: the second is answered with the paused run) and stop.
	r2, err := c.RunWorkflow(ctx, "approval", "approve", json.RawMessage(`{"title":"Two","body":"b"}`))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.PauseRun(ctx, r2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PauseRun(ctx, r2.ID); err != nil {
		t.Errorf("pause a paused run: %v", err)
	}
	if r, err := c.StopRun(ctx, r2.ID); err != nil || r.ID != r2.ID {
		t.Fatalf("stop: %+v %v", r, err)
	}
	r2 = waitRun(t, c, r2.ID, nil)
	if r2.Status != "cancelled" {
		t.Errorf("stopped run: %+v", r2)
	}

	// Lists, with filters.
	runs, err := c.ListRuns(ctx, api.RunQuery{App: "approval", Statuses: []string{"completed"}})
	if err != nil || len(runs) != 2 {
		t.Errorf("completed runs: %d %v", len(runs), err)
	}
	runs, err = c.ListRuns(ctx, api.RunQuery{Workflow: "approve"})
	if err != nil || len(runs) != 2 || runs[0].ID != r2.ID {
		t.Errorf("approve runs (all apps): %+v %v", runs, err)
	}
	runs, err = c.ListRuns(ctx, api.RunQuery{Limit: 1, Offset: 1})
	if err != nil || len(runs) != 1 {
		t.Errorf("page: %+v %v", runs, err)
	}
}

func TestAppBadInput(t *testing.T) {
	data := t.TempDir()
	p, err := platform.Start(testCtx(t, 30*time.Second), data, &platform.Options{Addr: "127.0.0.1:0", MaxAppBytes: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	key, _ := os.ReadFile(p.AdminKeyPath())
	c := client.New(p.URL(), &client.Options{APIKey: strings.TrimSpace(string(key))})
	ctx := testCtx(t, 2*time.Minute)

	deploy := func(name, dir, script string) error {
		pkg, err := client.PackageApp(dir, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.DeployApp(ctx, api.DeployAppRequest{Name: name, ReplayScript: script}, pkg)
		return err
	}
	empty := t.TempDir()
	os.WriteFile(filepath.Join(empty, "README.md"), []byte("hi"), 0o644)
	apiErr(t, deploy("x", empty, ""), 400, "no mcp_agent.config.yaml")

	bad := exampleApp(t)
	os.WriteFile(filepath.Join(bad, "mcp_agent.config.yaml"), []byte("name: x\nagents:\n  definitions:\n    - name: a\n      instrction: hi\n"), 0o644)
	apiErr(t, deploy("x", bad, ""), 400, `mcp_agent.config.yaml:5: agents.definitions[0].instrction: unknown key`)

	unset := exampleApp(t)
	os.WriteFile(filepath.Join(unset, "mcp_agent.config.yaml"), []byte("name: x\nopenai:\n  api_key: ${OPENAI_API_KEY}\n"), 0o644)
	apiErr(t, deploy("x", unset, ""), 400, "mcp-agent secrets set x NAME")

	gocode := exampleApp(t)
	os.WriteFile(filepath.Join(gocode, "go.mod"), []byte("module x\n"), 0o644)
	apiErr(t, deploy("x", gocode, ""), 400, "Go code app")

	apiErr(t, deploy("x", exampleApp(t), "nope.yaml"), 400, "replay_script: nope.yaml is not in the package")
	apiErr(t, deploy("Bad.Name", exampleApp(t), ""), 400, "invalid app name")

	big := exampleApp(t)
	noise := make([]byte, 256<<10)
	x := uint64(88172645463325252)
	for i := range noise { // xorshift: incompressible
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		noise[i] = byte(x)
	}
	os.WriteFile(filepath.Join(big, "data.bin"), noise, 0o644)
	apiErr(t, deploy("x", big, ""), 413, "exceeds the platform's limit of 64.0 KiB")

	if apps, err := c.ListApps(ctx); err != nil || len(apps) != 0 {
		t.Errorf("apps after refused deploys: %+v %v", apps, err)
	}

	_, err = c.GetApp(ctx, "nope")
	apiErr(t, err, 404, `app "nope" not found`)
	_, err = c.RunWorkflow(ctx, "nope", "approve", nil)
	apiErr(t, err, 404, `app "nope" not found`)
	_, err = c.GetRun(ctx, "nodot")
	apiErr(t, err, 400, "is not {app}.{run}")

	// A running app: unknown workflow, bad input, unknown run, unknown agent.
	if err := deploy("approval", exampleApp(t), "approval.replay.yaml"); err != nil {
		t.Fatal(err)
	}
	_, err = c.RunWorkflow(ctx, "approval", "nope", nil)
	apiErr(t, err, 404, `unknown workflow "nope"`)
	_, err = c.RunWorkflow(ctx, "approval", "approve", json.RawMessage(`{"title":5}`))
	apiErr(t, err, 400, `field "title"`)
	_, err = c.GetRun(ctx, "approval.run-nope")
	apiErr(t, err, 404, "not found")
	_, err = c.RunAgent(ctx, "approval", "nobody", "hi", 0)
	apiErr(t, err, 404, `app "approval" has no agent "nobody"`)
	_, err = c.ListRuns(ctx, api.RunQuery{Statuses: []string{"done"}})
	apiErr(t, err, 400, `unknown status "done"`)

	// A name taken by a server.
	if _, err := c.CreateServer(ctx, api.CreateServerRequest{Name: "srv", Command: "cat", Stopped: true}); err != nil {
		t.Fatal(err)
	}
	apiErr(t, deploy("srv", exampleApp(t), ""), 409, `a server named "srv" exists`)
	// Server endpoints do not act on apps.
	_, err = c.StopServer(ctx, "approval")
	apiErr(t, err, 404, `server "approval" not found`)
}

func TestAppVersionsRollbackRunsSurvive(t *testing.T) {
	e := startPlatform(t, t.TempDir())
	c := e.client()
	ctx := testCtx(t, 2*time.Minute)
	dir := exampleApp(t)
	deployApp(t, c, "approval", dir)
	waitApp(t, c, "approval", "running")
	run, err := c.RunWorkflow(ctx, "approval", "approve", json.RawMessage(`{"title":"T","body":"one two"}`))
	if err != nil {
		t.Fatal(err)
	}
	waitRun(t, c, run.ID, pausedForInput)

	os.WriteFile(filepath.Join(dir, "notes.md"), []byte("v2\n"), 0o644)
	res := deployApp(t, c, "approval", dir)
	if res.Created || res.Unchanged || res.Version != 2 {
		t.Fatalf("deploy v2: %+v", res)
	}
	waitApp(t, c, "approval", "running")
	vs, err := c.AppVersions(ctx, "approval")
	if err != nil || len(vs) != 2 || vs[0].Active || !vs[1].Active || vs[0].Digest == vs[1].Digest {
		t.Fatalf("versions: %+v %v", vs, err)
	}
	// The run paused under version 1 is resumed under version 2.
	if _, err := c.ResumeRun(ctx, run.ID, api.ResumeRequest{Payload: json.RawMessage(`{"approved":false}`)}); err != nil {
		t.Fatal(err)
	}
	if r := waitRun(t, c, run.ID, nil); r.Status != "completed" || !strings.Contains(string(r.Result), `"published":false`) {
		t.Errorf("run across versions: %+v", r)
	}

	a, err := c.RollbackApp(ctx, "approval", 1)
	if err != nil || a.Version != 1 || a.Digest != vs[0].Digest {
		t.Fatalf("rollback: %+v %v", a, err)
	}
	waitApp(t, c, "approval", "running")
	_, err = c.RollbackApp(ctx, "approval", 7)
	apiErr(t, err, 404, "has no version 7 (versions: 1, 2)")

	if a, err := c.StopApp(ctx, "approval"); err != nil || a.Status != "stopped" {
		t.Fatalf("stop: %+v %v", a, err)
	}
	_, err = c.RunWorkflow(ctx, "approval", "approve", nil)
	apiErr(t, err, 503, "is stopped")
	if _, err := c.StartApp(ctx, "approval"); err != nil {
		t.Fatal(err)
	}
	waitApp(t, c, "approval", "running")
	if err := c.DeleteApp(ctx, "approval"); err != nil {
		t.Fatal(err)
	}
	_, err = c.GetApp(ctx, "approval")
	apiErr(t, err, 404, "not found")
	if _, err := os.Stat(filepath.Join(e.dir, "apps", a.ID)); !os.IsNotExist(err) {
		t.Errorf("app files after delete: %v", err)
	}
}

// TestAppPausedRunSurvivesKill9 is the end to end of issue 8: deploy the
// human-input example, start a run, see it paused, kill -9 the platform
// (the app dies with it), start the platform again on the same data
// directory, resume with a payload, get the completed result.
func TestAppPausedRunSurvivesKill9(t *testing.T) {
	data := t.TempDir()
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
	keyb, err := os.ReadFile(filepath.Join(data, "admin.key"))
	if err != nil {
		t.Fatal(err)
	}
	key := strings.TrimSpace(string(keyb))
	c := client.New(strings.TrimSpace(line), &client.Options{APIKey: key})
	ctx := testCtx(t, 2*time.Minute)

	deployApp(t, c, "approval", exampleApp(t))
	a := waitApp(t, c, "approval", "running")
	run, err := c.RunWorkflow(ctx, "approval", "approve", json.RawMessage(`{"title":"Durable","body":"survives a crash"}`))
	if err != nil {
		t.Fatal(err)
	}
	// The paused event on the stream.
	for ev, err := range c.FollowPlatformEvents(ctx, api.EventFilter{Run: run.ID, Kinds: []string{api.EventHumanInput}}) {
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(ev.Message, `asks: Publish "Durable" (3 words)?`) {
			t.Errorf("event: %+v", ev)
		}
		break
	}
	appPID := a.Runtime.PID

	if err := child.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = child.Wait()
	for syscall.Kill(appPID, 0) == nil {
		if ctx.Err() != nil {
			t.Fatalf("app pid %d outlived its platform", appPID)
		}
		time.Sleep(10 * time.Millisecond)
	}

	e := startPlatform(t, data)
	c = e.client()
	waitApp(t, c, "approval", "running")
	if r, err := c.GetRun(ctx, run.ID); err != nil || r.Status != "paused" || r.Waiting == nil {
		t.Fatalf("run after kill -9 and restart: %+v %v", r, err)
	}
	if _, err := c.ResumeRun(ctx, run.ID, api.ResumeRequest{Payload: json.RawMessage(`{"approved":true}`)}); err != nil {
		t.Fatal(err)
	}
	r := waitRun(t, c, run.ID, nil)
	if r.Status != "completed" || !jsonEqual(r.Result, `{"title":"Durable","words":3,"published":true}`) {
		t.Errorf("result: %+v %s", r, r.Result)
	}
	// The events recorded before the kill are kept; the completion is
	// recorded after the restart.
	var kinds []string
	for ev, err := range c.FollowPlatformEvents(ctx, api.EventFilter{Run: run.ID}) {
		if err != nil {
			t.Fatal(err)
		}
		var d api.RunEventData
		_ = json.Unmarshal(ev.Data, &d)
		kinds = append(kinds, ev.Kind+":"+d.Status)
		if d.Status == "completed" {
			break
		}
	}
	if !slices.Contains(kinds, "human_input:paused") {
		t.Errorf("events of the run: %v", kinds)
	}
	if st := e.do("GET", "/v1/runs/"+run.ID, "", nil, nil); st != http.StatusUnauthorized {
		t.Errorf("run without a key: %d", st)
	}
}

func TestAppSecrets(t *testing.T) {
	e := startPlatform(t, t.TempDir())
	c := e.client()
	ctx := testCtx(t, time.Minute)
	const value = "sk-test-0123456789abcdef"

	// Set before the app exists; the config needs it to load.
	if err := c.SetSecret(ctx, "keyed", "OPENAI_API_KEY", value); err != nil {
		t.Fatal(err)
	}
	dir := exampleApp(t)
	cfg, _ := os.ReadFile(filepath.Join(dir, "mcp_agent.config.yaml"))
	os.WriteFile(filepath.Join(dir, "mcp_agent.config.yaml"), append(cfg, []byte("openai:\n  api_key: ${OPENAI_API_KEY}\n")...), 0o644)
	pkg, err := client.PackageApp(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeployApp(ctx, api.DeployAppRequest{Name: "keyed", ReplayScript: "approval.replay.yaml",
		Env: map[string]string{"PLATFORM_TEST_PRINT_ENV": "OPENAI_API_KEY"}}, pkg); err != nil {
		t.Fatal(err)
	}
	a := waitApp(t, c, "keyed", "running")
	if len(a.Spec.SecretEnv) != 1 || a.Spec.SecretEnv[0] != "OPENAI_API_KEY" || a.Spec.Env["PLATFORM_TEST_PRINT_ENV"] != "***" {
		t.Errorf("spec: %+v", a.Spec)
	}
	names, err := c.Secrets(ctx, "keyed")
	if err != nil || len(names) != 1 || names[0] != "OPENAI_API_KEY" {
		t.Errorf("secrets: %v %v", names, err)
	}

	// The app got the value; its log shows it masked.
	deadline := time.Now().Add(30 * time.Second)
	for {
		lines, err := c.AppLogs(ctx, "keyed", nil)
		if err != nil {
			t.Fatal(err)
		}
		var all strings.Builder
		for _, l := range lines {
			all.WriteString(l.Line + "\n")
		}
		if strings.Contains(all.String(), value) {
			t.Fatalf("the secret is in the app's log:\n%s", all.String())
		}
		if strings.Contains(all.String(), "serve: env OPENAI_API_KEY=***") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no masked env line in the log:\n%s", all.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	// Encrypted at rest, files private.
	for _, f := range []string{platform.SecretsFile, platform.SecretsKeyFile} {
		st, err := os.Stat(filepath.Join(e.dir, f))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", f, st.Mode(), err)
		}
	}
	raw, _ := os.ReadFile(filepath.Join(e.dir, platform.SecretsFile))
	if strings.Contains(string(raw), value) || !strings.Contains(string(raw), "OPENAI_API_KEY") {
		t.Errorf("secrets file:\n%s", raw)
	}
	// Nothing returns the value.
	for _, path := range []string{"/v1/apps/keyed", "/v1/apps", "/v1/apps/keyed/secrets", "/v1/apps/keyed/events", "/v1/events"} {
		var body json.RawMessage
		e.do("GET", path, e.key, nil, &body)
		if strings.Contains(string(body), value) {
			t.Errorf("GET %s returns the secret: %s", path, body)
		}
	}
	if strings.Contains(e.logs.String(), value) {
		t.Error("the platform's log holds the secret")
	}

	// Bad names, delete.
	apiErr(t, c.SetSecret(ctx, "keyed", "1BAD", "x"), 400, "invalid secret name")
	apiErr(t, c.SetSecret(ctx, "keyed", "EMPTY", ""), 400, `"value" is empty`)
	if err := c.DeleteSecret(ctx, "keyed", "OPENAI_API_KEY"); err != nil {
		t.Fatal(err)
	}
	apiErr(t, c.DeleteSecret(ctx, "keyed", "OPENAI_API_KEY"), 404, `app "keyed" has no secret "OPENAI_API_KEY"`)
	// Without it the config no longer loads: a redeploy says what to do.
	os.WriteFile(filepath.Join(dir, "notes.md"), []byte("v2"), 0o644)
	pkg, _ = client.PackageApp(dir, nil)
	_, err = c.DeployApp(ctx, api.DeployAppRequest{Name: "keyed", ReplayScript: "approval.replay.yaml"}, pkg)
	apiErr(t, err, 400, "environment variable OPENAI_API_KEY is not set")
}

// TestAppLoadConcurrentRuns starts 200 runs of one deployed app at once
// and checks that every one completes (none lost); it logs the rate.
func TestAppLoadConcurrentRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("load test")
	}
	const n = 200
	e := startPlatform(t, t.TempDir())
	c := e.client()
	ctx := testCtx(t, 3*time.Minute)
	deployApp(t, c, "load", exampleApp(t))
	waitApp(t, c, "load", "running")

	start := time.Now()
	ids := make(chan string, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			r, err := c.RunWorkflow(ctx, "load", "echo", json.RawMessage(fmt.Sprintf(`{"title":"t%d","body":"b"}`, i)))
			if err != nil {
				errs <- err
				return
			}
			ids <- r.ID
		})
	}
	wg.Wait()
	close(ids)
	close(errs)
	for err := range errs {
		t.Fatalf("start: %v", err)
	}
	started := time.Since(start)
	want := map[string]bool{}
	for id := range ids {
		want[id] = true
	}
	if len(want) != n {
		t.Fatalf("%d distinct runs started, want %d", len(want), n)
	}
	for {
		runs, err := c.ListRuns(ctx, api.RunQuery{App: "load", Workflow: "echo", Statuses: []string{"completed"}, Limit: 1000})
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == n {
			for _, r := range runs {
				if !want[r.ID] {
					t.Errorf("unexpected run %s", r.ID)
				}
			}
			break
		}
		if ctx.Err() != nil {
			t.Fatalf("%d of %d runs completed", len(runs), n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	all := time.Since(start)
	t.Logf("%d runs: started in %v (%.0f starts/s), all completed in %v (%.0f runs/s)", n, started.Round(time.Millisecond),
		float64(n)/started.Seconds(), all.Round(time.Millisecond), float64(n)/all.Seconds())
}

func TestAppTenantIsolation(t *testing.T) {
	e := startPlatform(t, t.TempDir())
	c := e.client()
	ctx := testCtx(t, time.Minute)
	deployApp(t, c, "approval", exampleApp(t))
	waitApp(t, c, "approval", "running")
	run, err := c.RunWorkflow(ctx, "approval", "approve", json.RawMessage(`{"title":"x","body":"y"}`))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.SetSecret(ctx, "approval", "TOKEN", "v"); err != nil {
		t.Fatal(err)
	}
	key, err := e.p.CreateAPIKey(ctx, "acme", "test")
	if err != nil {
		t.Fatal(err)
	}
	acme := client.New(e.p.URL(), &client.Options{APIKey: key})
	if apps, err := acme.ListApps(ctx); err != nil || len(apps) != 0 {
		t.Errorf("acme lists apps: %+v %v", apps, err)
	}
	if runs, err := acme.ListRuns(ctx, api.RunQuery{}); err != nil || len(runs) != 0 {
		t.Errorf("acme lists runs: %+v %v", runs, err)
	}
	if names, err := acme.Secrets(ctx, "approval"); err != nil || len(names) != 0 {
		t.Errorf("acme lists secrets: %v %v", names, err)
	}
	if evs, err := acme.PlatformEvents(ctx, api.EventFilter{}); err != nil || len(evs) != 0 {
		t.Errorf("acme sees events: %+v %v", evs, err)
	}
	for name, err := range map[string]error{
		"get app":    func() error { _, err := acme.GetApp(ctx, "approval"); return err }(),
		"stop app":   func() error { _, err := acme.StopApp(ctx, "approval"); return err }(),
		"delete app": acme.DeleteApp(ctx, "approval"),
		"get run":    func() error { _, err := acme.GetRun(ctx, run.ID); return err }(),
		"resume run": func() error { _, err := acme.ResumeRun(ctx, run.ID, api.ResumeRequest{}); return err }(),
		"start run":  func() error { _, err := acme.RunWorkflow(ctx, "approval", "approve", nil); return err }(),
		"agent":      func() error { _, err := acme.RunAgent(ctx, "approval", "publisher", "hi", 0); return err }(),
		"mcp":        func() error { _, err := acme.Tools(ctx, "local.approval"); return err }(),
	} {
		if !client.IsStatus(err, http.StatusNotFound) {
			t.Errorf("acme %s: %v, want 404", name, err)
		}
	}
	if a, err := c.GetApp(ctx, "approval"); err != nil || a.Status != "running" {
		t.Errorf("the app after acme's attempts: %+v %v", a, err)
	}
}

func TestAppEventsWebSocket(t *testing.T) {
	e := startPlatform(t, t.TempDir())
	c := e.client()
	ctx := testCtx(t, time.Minute)
	deployApp(t, c, "approval", exampleApp(t))
	waitApp(t, c, "approval", "running")

	ws, _, err := websocket.Dial(ctx, strings.Replace(e.p.URL(), "http", "ws", 1)+"/v1/events?app=approval&kind=human_input",
		&websocket.DialOptions{HTTPHeader: http.Header{"Authorization": {"Bearer " + e.key}}})
	if err != nil {
		t.Fatal(err)
	}
	defer ws.CloseNow()
	run, err := c.RunWorkflow(ctx, "approval", "approve", json.RawMessage(`{"title":"WS","body":"over a socket"}`))
	if err != nil {
		t.Fatal(err)
	}
	var ev api.PlatformEvent
	if err := wsjson.Read(ctx, ws, &ev); err != nil {
		t.Fatal(err)
	}
	if ev.Kind != api.EventHumanInput || ev.Resource.Run != run.ID || !strings.Contains(ev.Message, `asks: Publish "WS" (3 words)?`) {
		t.Errorf("event: %+v", ev)
	}
	// Without a key: refused before the upgrade.
	_, resp, err := websocket.Dial(ctx, strings.Replace(e.p.URL(), "http", "ws", 1)+"/v1/events", nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("dial without a key: %v %v", resp, err)
	}
}

// A secret set while the app runs reaches it at the next restart.
func TestAppSecretReachesAppOnRestart(t *testing.T) {
	e := startPlatform(t, t.TempDir())
	c := e.client()
	ctx := testCtx(t, time.Minute)
	pkg, err := client.PackageApp(exampleApp(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeployApp(ctx, api.DeployAppRequest{Name: "approval", ReplayScript: "approval.replay.yaml",
		Env: map[string]string{"PLATFORM_TEST_PRINT_ENV": "TOKEN"}}, pkg); err != nil {
		t.Fatal(err)
	}
	waitLog := func(want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			lines, err := c.AppLogs(ctx, "approval", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, l := range lines {
				if l.Line == want {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("no %q in the app's log: %+v", want, lines)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	waitLog("serve: env TOKEN=")
	if err := c.SetSecret(ctx, "approval", "TOKEN", "tok-123456"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RestartApp(ctx, "approval"); err != nil {
		t.Fatal(err)
	}
	waitLog("serve: env TOKEN=***")
}
