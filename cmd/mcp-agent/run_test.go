package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
)

// TestRunFinderOnReplay is the finder example end to end: the scripted model
// asks for real tool calls on the built-in filesystem server.
func TestRunFinderOnReplay(t *testing.T) {
	root := testenv.RepoRoot()
	cfg := filepath.Join(root, "examples/finder/mcp_agent.config.yaml")
	script := filepath.Join(root, "examples/finder/finder.replay.yaml")
	out, errOut, err := run(t, "run", "--config", cfg, "--script", script, "What is in README.md?")
	if err != nil {
		t.Fatalf("run: %v\n%s", err, errOut)
	}
	if !strings.Contains(out, "README.md is the finder example's guide") {
		t.Errorf("answer = %q", out)
	}
	for _, want := range []string{
		"→ filesystem_list_directory",
		"← filesystem_list_directory",
		"→ filesystem_read_text_file",
		"← filesystem_read_text_file",
		"in / 0 out tokens",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("stderr lacks %q:\n%s", want, errOut)
		}
	}

	out, _, err = run(t, "run", "--json", "--config", cfg, "--script", script, "What is in README.md?")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, `"answer": "README.md is the finder example's guide`) || !strings.Contains(out, `"usage"`) {
		t.Errorf("--json output:\n%s", out)
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	two := writeConfig(t, dir, "agents:\n  definitions:\n    - name: a\n    - name: b\n")
	none := filepath.Join(t.TempDir(), "mcp_agent.config.yaml")
	if err := os.WriteFile(none, []byte("name: empty\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	badScript := filepath.Join(dir, "bad.replay.yaml")
	if err := os.WriteFile(badScript, []byte("turns:\n  - txt: hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("ANTHROPIC_API_KEY", "")
	cases := []struct {
		name string
		args []string
		want string
	}{
		{"no agents", []string{"run", "--config", none, "hi"}, "no agents are declared"},
		{"ambiguous", []string{"run", "--config", two, "hi"}, "several agents are declared (a, b): choose one with --agent"},
		{"unknown agent", []string{"run", "--config", two, "--agent", "c", "hi"}, `unknown agent "c" (declared: a, b)`},
		{"no provider", []string{"run", "--config", two, "--agent", "a", "hi"}, "no model provider configured"},
		{"unknown provider", []string{"run", "--config", two, "--agent", "a", "--provider", "gemini", "hi"}, `unknown provider "gemini" (want openai, anthropic, replay)`},
		{"replay without script", []string{"run", "--config", two, "--agent", "a", "--provider", "replay", "hi"}, "the replay provider needs a script"},
		{"bad script", []string{"run", "--config", two, "--agent", "a", "--script", badScript, "hi"}, `bad.replay.yaml:2: invalid replay script: unknown field "txt"`},
		{"empty message", []string{"run", "--config", two, "--agent", "a", " "}, "empty message"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := run(t, c.args...)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

func TestChatOnReplay(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "agents:\n  definitions:\n    - name: talker\n      instruction: talk\n")
	script := filepath.Join(dir, "chat.replay.yaml")
	if err := os.WriteFile(script, []byte("turns:\n  - match: hello\n    text: Hello, human.\n  - match: bye\n    text: Goodbye.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := newRootCmd()
	var out, errb strings.Builder
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader("hello there\n\nbye now\n/exit\nnever read\n"))
	cmd.SetArgs([]string{"chat", "--config", cfg, "--script", script})
	if err := cmd.Execute(); err != nil {
		t.Fatalf("chat: %v\n%s", err, errb.String())
	}
	if got, want := out.String(), "Hello, human.\nGoodbye.\n"; got != want {
		t.Errorf("chat output = %q, want %q", got, want)
	}
	if strings.Count(errb.String(), "you> ") != 4 {
		t.Errorf("want 4 prompts (two turns, a blank line, /exit), stderr:\n%s", errb.String())
	}
}
