package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
)

// pricedApproval is the approval example on a priced model name, with
// usage on every turn.
func pricedApproval(t *testing.T) string {
	t.Helper()
	dir := approvalApp(t)
	script := `model: gpt-4o-mini
loop: true
turns:
  - match: publish
    tool_calls:
      - name: __human_input__
        arguments: {prompt: "Publish this post? Answer yes or no."}
    usage: {input: 1000, output: 100, cache_read: 200}
  - match: /^\s*yes/
    text: Published.
    usage: {input: 1000, output: 100, cache_read: 200}
`
	if err := os.WriteFile(filepath.Join(dir, "approval.replay.yaml"), []byte(script), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestCLIAgentsRunUsageAndStream(t *testing.T) {
	startCloudApps(t, t.TempDir())
	mustRun(t, "deploy", "app", pricedApproval(t), "--replay-script", "approval.replay.yaml")

	// The answer on stdout, tokens and cost on stderr:
	// gpt-4o-mini, 800 input at $0.15/M, 200 cached at $0.075/M, 100
	// output at $0.60/M = $0.000195.
	out, errOut, err := run(t, "agents", "run", "approval.publisher", "yes")
	if err != nil {
		t.Fatalf("agents run: %v\n%s%s", err, out, errOut)
	}
	if out != "Published.\n" {
		t.Errorf("stdout = %q", out)
	}
	wantContains(t, "agents run stderr", errOut, "1,000 in (200 cached) / 100 out tokens · $0.0002")
	out = mustRun(t, "agents", "run", "approval.publisher", "yes", "--json")
	wantContains(t, "agents run --json", out, `"usage": {`, `"input_tokens": 1000`, `"output_tokens": 100`, `"usd": 0.000195`)

	// Streamed: the run and its status on stderr, the question on stdout.
	out, errOut, err = run(t, "agents", "run", "approval.publisher", "publish it", "--stream")
	if err != nil {
		t.Fatalf("agents run --stream: %v\n%s%s", err, out, errOut)
	}
	id := runIDRE.FindString(errOut)
	if id == "" || !strings.Contains(errOut, "run "+id+": paused") {
		t.Errorf("agents run --stream stderr:\n%s", errOut)
	}
	wantContains(t, "agents run --stream", out, "the agent asks: Publish this post? Answer yes or no.", "mcp-agent runs resume "+id)

	// The agent's one paused run, resumed by the agent's name.
	wantContains(t, "agents resume", mustRun(t, "agents", "resume", "approval.publisher", "--answer", "yes"), "run "+id+" resumed")
	wantContains(t, "runs status --wait", mustRun(t, "runs", "status", id, "--wait"), "completed")
	_, _, err = run(t, "agents", "stop", "approval.publisher")
	if err == nil || !strings.Contains(err.Error(), "agent approval.publisher has no active run to stop") {
		t.Errorf("agents stop without runs: %v", err)
	}
	_, _, err = run(t, "agents", "pause", "approval.publisher", "--run", "approval.run-nope")
	if err == nil || !strings.Contains(err.Error(), `run "run-nope" not found`) {
		t.Errorf("agents pause of an unknown run: %v", err)
	}

	// --stream --json: one event per line, started first, result last.
	out = mustRun(t, "agents", "run", "approval.publisher", "yes", "--stream", "--json")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	var first, last api.AgentStreamEvent
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil {
		t.Fatal(err)
	}
	if first.Type != api.AgentStarted || last.Type != api.AgentResult || last.Result == nil || last.Result.Answer != "Published." || last.Result.Usage == nil {
		t.Errorf("--stream --json:\n%s", out)
	}
}
