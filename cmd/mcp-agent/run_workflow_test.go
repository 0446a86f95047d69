package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
)

// TestRunWorkflowExample runs every workflow of examples/declarative (an app
// with only mcp_agent.config.yaml and replay scripts) end to end.
func TestRunWorkflowExample(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(), "examples/declarative")
	cfg, scripts := filepath.Join(dir, "mcp_agent.config.yaml"), filepath.Join(dir, "replay")
	tests := []struct {
		workflow, msg string
		answer        string   // standard output, exactly
		progress      []string // in standard error
	}{
		{
			workflow: "desk", msg: "Write a short post about tide pools",
			answer: "Tide pools are small worlds left by the sea, where sea stars cling to the rocks and anemones wait for the next wave.\n",
			progress: []string{
				`· desk: Routing to agent "polished_post" (confidence 0.92)`,
				"· critic: Attempt 1 rated FAIR. Pleasant but vague. Name one animal that lives there.",
				"· critic: Attempt 2 rated GOOD.",
				"in / 0 out tokens",
			},
		},
		{
			workflow: "desk", msg: "Review this post: Tide pools are home to sea stars.",
			answer: "Verdict: publish. Spelling is clean and the one claim (sea stars live in tide pools) is true.\n",
			progress: []string{
				`· desk: Routing to agent "review"`,
				"· proofreader: No spelling or grammar mistakes.",
				"· fact_checker: True - sea stars do live in tide pools.",
			},
		},
		{
			workflow: "triage", msg: "Where is my order 1234?",
			answer: `[{"intent":"order_status","confidence":0.93,"reasoning":"The customer asks where an order is."}]` + "\n",
		},
		{
			workflow: "newsroom", msg: "A post about coral reefs, fact-checked",
			answer: "Coral reefs are cities built by tiny animals. They cover under 1% of the ocean floor, yet shelter about a quarter of all marine species.\n",
			progress: []string{
				`· chief: {"steps":[{"description":"Draft and check"`,
				"· writer: Coral reefs are cities built by tiny animals, home to a quarter of all sea life.",
			},
		},
		{
			workflow: "frontdesk", msg: "I was charged twice for my subscription",
			answer:   "Sorry about that. I refunded the duplicate charge; it shows on your card in 3 days.\n",
			progress: []string{"→ transfer_to_billing_clerk"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.workflow+"/"+tt.msg, func(t *testing.T) {
			out, errOut, err := run(t, "run", "--config", cfg, "--script", scripts, "--workflow", tt.workflow, tt.msg)
			if err != nil {
				t.Fatalf("run: %v\n%s", err, errOut)
			}
			if out != tt.answer {
				t.Errorf("stdout = %q, want %q", out, tt.answer)
			}
			for _, want := range tt.progress {
				if !strings.Contains(errOut, want) {
					t.Errorf("stderr lacks %q:\n%s", want, errOut)
				}
			}
		})
	}

	out, _, err := run(t, "run", "--json", "--config", cfg, "--script", scripts, "--workflow", "triage", "Where is my order 1234?")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"answer": "[{\"intent\":\"order_status\"`) || strings.Contains(out, "·") {
		t.Errorf("--json output:\n%s", out)
	}
}

// TestRunWorkflowRecordAndReplay records a workflow's agents into a
// directory (from the example's scripts) and replays the recording.
func TestRunWorkflowRecordAndReplay(t *testing.T) {
	dir := filepath.Join(testenv.RepoRoot(), "examples/declarative")
	cfg := filepath.Join(dir, "mcp_agent.config.yaml")
	rec := filepath.Join(t.TempDir(), "recorded")
	msg := "Write a short post about tide pools"
	first, errOut, err := run(t, "run", "--config", cfg, "--script", filepath.Join(dir, "replay"), "--record", rec, "--workflow", "desk", msg)
	if err != nil {
		t.Fatalf("record: %v\n%s", err, errOut)
	}
	for _, agent := range []string{"dispatcher", "writer", "critic"} {
		if _, err := os.Stat(filepath.Join(rec, agent+".yaml")); err != nil {
			t.Errorf("no recording for %s: %v", agent, err)
		}
	}
	again, errOut, err := run(t, "run", "--config", cfg, "--script", rec, "--workflow", "desk", msg)
	if err != nil {
		t.Fatalf("replay the recording: %v\n%s", err, errOut)
	}
	if again != first || !strings.Contains(first, "sea stars") {
		t.Errorf("replayed answer %q, recorded %q", again, first)
	}
}

// TestRunWorkflowSharedScript plays one script file for every agent of a
// workflow whose members run one after the other.
func TestRunWorkflowSharedScript(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, `
agents:
  definitions: [{name: writer}, {name: critic}]
workflows:
  letter: {type: evaluator-optimizer, agents: [writer, critic], min_rating: excellent}
`)
	script := filepath.Join(dir, "all.yaml")
	if err := os.WriteFile(script, []byte(`turns:
  - text: Dear team, thanks.
  - text: '{"rating": "EXCELLENT", "feedback": "Warm.", "needs_improvement": false, "focus_areas": []}'
`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, err := run(t, "run", "--config", cfg, "--script", script, "--workflow", "letter", "A thank-you note")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errOut)
	}
	if out != "Dear team, thanks.\n" || !strings.Contains(errOut, "Attempt 1 rated EXCELLENT") {
		t.Errorf("stdout %q, stderr:\n%s", out, errOut)
	}
}

func TestRunWorkflowErrors(t *testing.T) {
	example := filepath.Join(testenv.RepoRoot(), "examples/declarative")
	cfg, scripts := filepath.Join(example, "mcp_agent.config.yaml"), filepath.Join(example, "replay")
	dir := t.TempDir()
	bad := writeConfig(t, dir, strings.Join([]string{
		"agents:",
		"  definitions: [{name: writer}, {name: critic}]",
		"workflows:",
		"  letter:",
		"    type: evaluator-optimizer",
		"    agents: [writer, critic]",
		"    min_rating: grate",
		"",
	}, "\n"))
	missing := t.TempDir() // a script directory without the agents' scripts
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"with --agent", []string{"--workflow", "desk", "--agent", "writer"}, "--agent and --workflow cannot be used together"},
		{"unknown workflow", []string{"--workflow", "nope"}, `unknown workflow "nope" (declared: desk, frontdesk, newsroom, polished_post, review, triage)`},
		{"declaration error", []string{"--config", bad, "--workflow", "letter"}, `mcp_agent.config.yaml:7: workflows.letter.min_rating: unknown rating "grate" (want poor, fair, good, excellent)`},
		{"no script for an agent", []string{"--script", missing, "--workflow", "review"}, `no replay script for "proofreader": want ` + filepath.Join(missing, "proofreader.yaml")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			args := append([]string{"run", "--config", cfg, "--script", scripts}, c.args...)
			_, _, err := run(t, append(args, "hello")...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestChatWorkflow: chat --workflow runs the workflow turn after turn.
func TestChatWorkflow(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, `
agents:
  definitions: [{name: a}, {name: b}]
workflows:
  pair: {type: parallel, agents: [a, b], max_concurrency: 1}
`)
	scripts := filepath.Join(dir, "replay")
	for name, text := range map[string]string{
		"a.yaml": "turns: [{match: hello, text: A hi.}, {match: again, text: A again.}]",
		"b.yaml": "turns: [{match: hello, text: B hi.}, {match: again, text: B again.}]",
	} {
		if err := os.MkdirAll(scripts, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(scripts, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := newRootCmd()
	var out, errb strings.Builder
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader("hello\nagain\n/exit\n"))
	cmd.SetArgs([]string{"chat", "--config", cfg, "--script", scripts, "--workflow", "pair"})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("chat: %v\n%s", err, errb.String())
	}
	want := "## a\n\nA hi.\n\n## b\n\nB hi.\n## a\n\nA again.\n\n## b\n\nB again.\n"
	if got := out.String(); got != want {
		t.Errorf("chat output = %q, want %q\nstderr:\n%s", got, want, errb.String())
	}
}
