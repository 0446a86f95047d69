package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/executor/local"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// TestWorkflowsCLI drives runs of an app's process (an active local executor
// in this test) through the CLI, which only journals requests.
func TestWorkflowsCLI(t *testing.T) {
	type draft struct {
		Topic string `json:"topic"`
	}
	type approval struct {
		Approved bool   `json:"approved"`
		Edits    string `json:"edits,omitempty"`
	}
	wf := workflow.Define("draft", func(wctx workflow.Context, in draft) (string, error) {
		text, err := workflow.Step(wctx, "write", func(ctx context.Context, _ workflow.StepContext) (string, error) {
			return "A post about " + in.Topic, nil
		}, nil)
		if err != nil {
			return "", err
		}
		a, err := workflow.RequestInput[approval](wctx, "Approve the draft?", nil)
		if err != nil {
			return "", err
		}
		if !a.Approved {
			return "rejected", nil
		}
		return text + a.Edits, nil
	}, nil)

	dir := t.TempDir()
	cfg := writeConfig(t, dir, "name: drafts\n")
	state := filepath.Join(dir, ".mcp-agent", "state.db")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	active, err := local.Open(ctx, state, workflow.NewRegistry(wf), &local.Options{PollInterval: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer active.Close()

	out, errOut, err := run(t, "workflows", "run", "draft", "--input", `{"topic":"MCP"}`, "--id", "r1", "--wait", "--config", cfg)
	if err != nil {
		t.Fatalf("workflows run: %v\n%s", err, errOut)
	}
	for _, want := range []string{"run:      r1", "status:   paused", `waiting:  input "resume": Approve the draft?`} {
		if !strings.Contains(out, want) {
			t.Errorf("run --wait output lacks %q:\n%s", want, out)
		}
	}

	out, _, err = run(t, "workflows", "runs", "--status", "paused", "--config", cfg)
	if err != nil || !strings.Contains(out, "r1") || !strings.Contains(out, "waits for input: Approve the draft?") {
		t.Errorf("runs --status paused: %v\n%s", err, out)
	}

	// A payload that does not match the schema changes nothing.
	if _, _, err := run(t, "workflows", "resume", "r1", "--payload", `{"approved":"yes"}`, "--config", cfg); err == nil ||
		!strings.Contains(err.Error(), `"approved"`) {
		t.Errorf("resume with a bad payload: err = %v", err)
	}
	if _, _, err := run(t, "workflows", "resume", "r1", "--payload", `{"approved":`, "--config", cfg); err == nil ||
		!strings.Contains(err.Error(), "--payload is not valid JSON") {
		t.Errorf("resume with malformed JSON: err = %v", err)
	}
	if out, _, err := run(t, "workflows", "resume", "r1", "--payload", `{"approved":true,"edits":"!"}`, "--config", cfg); err != nil || !strings.Contains(out, "resume of r1 accepted") {
		t.Fatalf("resume: %v %s", err, out)
	}
	r, err := executor.WaitFor(ctx, active, "r1", func(r *executor.Run) bool { return r.Status.Terminal() })
	if err != nil {
		t.Fatal(err)
	}
	var got string
	if err := json.Unmarshal(r.Output, &got); err != nil || got != "A post about MCP!" {
		t.Errorf("output = %s (%v)", r.Output, err)
	}

	out, _, err = run(t, "workflows", "status", "r1", "--json", "--config", cfg)
	if err != nil || !strings.Contains(out, `"status": "completed"`) {
		t.Errorf("status --json: %v\n%s", err, out)
	}
	out, _, err = run(t, "workflows", "history", "r1", "--config", cfg)
	if err != nil || !strings.Contains(out, "write") {
		t.Errorf("history: %v\n%s", err, out)
	}
	if _, _, err := run(t, "workflows", "status", "nope", "--config", cfg); err == nil || !strings.Contains(err.Error(), `run "nope" not found`) {
		t.Errorf("status of an unknown run: err = %v", err)
	}
	if _, _, err := run(t, "workflows", "runs", "--status", "sleeping", "--config", cfg); err == nil || !strings.Contains(err.Error(), `unknown status "sleeping"`) {
		t.Errorf("runs --status sleeping: err = %v", err)
	}
	if _, _, err := run(t, "workflows", "run", "drat", "--config", cfg); err == nil || !strings.Contains(err.Error(), `workflow "drat" is not registered (registered: draft)`) {
		t.Errorf("run of an unknown workflow: err = %v", err)
	}
	if _, _, err := run(t, "workflows", "run", "draft", "--input", `{"topic":7}`, "--config", cfg); err == nil || !strings.Contains(err.Error(), `"topic"`) {
		t.Errorf("run with input failing the schema: err = %v", err)
	}
	out, _, err = run(t, "workflows", "list", "--config", cfg)
	if err != nil || !strings.Contains(out, "draft") {
		t.Errorf("list: %v\n%s", err, out)
	}
}
