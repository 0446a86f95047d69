package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

const agentServers = "mcp:\n  servers:\n    fetch:\n      command: mcp-agent\n    filesystem:\n      command: mcp-agent\n"

func TestAgentFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"mcp_agent.config.yaml": agentServers +
			"agents:\n  definitions:\n    - name: finder\n      instruction: from the config\n      server_names: [fetch]\n" +
			"workflows:\n  pair:\n    type: parallel\n    agents: [reviewer, writer]\n",
		// Claude Code subagent format.
		".claude/agents/reviewer.md": "---\nname: reviewer\ndescription: Reviews code for bugs\ntools: Read, Grep, fetch_fetch\nmodel: inherit\ncolor: blue\n---\n\nYou are a careful reviewer.\nBe brief.\n",
		// A list in YAML, and one agent in JSON.
		".claude/agents/team.yaml": "- name: writer\n  instruction: You write.\n  server_names: [filesystem]\n- name: finder\n  instruction: shadowed by the config\n",
		".claude/agents/solo.json": `{"name": "solo", "description": "Works alone", "model": "gpt-4o", "provider": "openai"}`,
		".claude/agents/notes.txt": "not an agent file",
	})
	s, err := Load(LoadOptions{Path: filepath.Join(dir, "mcp_agent.config.yaml"), NoEnvOverrides: true, Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]AgentSpec{}
	for _, a := range s.Agents.Definitions {
		got[a.Name] = a
	}
	want := map[string]AgentSpec{
		"finder":   {Name: "finder", Instruction: "from the config", ServerNames: []string{"fetch"}},
		"reviewer": {Name: "reviewer", Description: "Reviews code for bugs", Instruction: "You are a careful reviewer.\nBe brief.", Tools: []string{"Read", "Grep", "fetch_fetch"}},
		"writer":   {Name: "writer", Instruction: "You write.", ServerNames: []string{"filesystem"}},
		"solo":     {Name: "solo", Description: "Works alone", Instruction: "Works alone", Model: "gpt-4o", Provider: "openai"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("agents (-want +got):\n%s", diff)
	}
}

func TestAgentFileErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{
			"unknown key",
			map[string]string{"agents/a.yaml": "name: a\ninstrution: typo\n"},
			`a.yaml:2: instrution: unknown key`,
		},
		{
			"unknown server",
			map[string]string{"agents/b.md": "---\nname: b\nserver_names: [fecth]\n---\nhi\n"},
			`b.md:3: agents.definitions[0].server_names[0]: agent "b" uses unknown server "fecth" (known servers: fetch, filesystem)`,
		},
		{
			"no front matter",
			map[string]string{"agents/c.md": "just text\n"},
			`c.md:1: agent file has no front matter`,
		},
		{
			"duplicate across files",
			map[string]string{"agents/d1.yaml": "name: d\n", "agents/d2.yaml": "name: d\n"},
			`agent "d" is also defined in`,
		},
		{
			"markdown temperature out of range",
			map[string]string{"agents/f.md": "---\nname: f\ndescription: Finds\ntemperature: 2.5\n---\nFind things.\n"},
			"f.md:4: agents.definitions[0].temperature: 2.5 is outside 0..2 (lower is more deterministic; e.g. temperature: 0.2)",
		},
		{
			"yaml reasoning effort",
			map[string]string{"agents/g.yaml": "name: g\nmax_tokens: -1\nreasoning_effort: max\n"},
			`g.yaml:3: agents.definitions[0].reasoning_effort: unknown reasoning effort "max" (want minimal, low, medium, high)`,
		},
		{
			"json max iterations",
			map[string]string{"agents/h.json": "{\n  \"name\": \"h\",\n  \"max_iterations\": 0\n}\n"},
			`h.json:3: agents.definitions[0].max_iterations: 0 is not a positive number of model calls`,
		},
		{
			"no name",
			map[string]string{"agents/e.yaml": "instruction: nameless\n"},
			`e.yaml:1: agent has no name (set name)`,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			c.files["mcp_agent.config.yaml"] = agentServers + "agents:\n  search_paths: [agents]\n"
			writeFiles(t, dir, c.files)
			_, err := Load(LoadOptions{Path: filepath.Join(dir, "mcp_agent.config.yaml"), NoEnvOverrides: true, Env: func(string) (string, bool) { return "", false }})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want it to contain %q", err, c.want)
			}
		})
	}
}

// TestAgentFileRequestParams loads an agent's request parameters from a
// Markdown front matter and from the config file.
func TestAgentFileRequestParams(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"mcp_agent.config.yaml":     "agents:\n  definitions:\n    - name: writer\n      max_iterations: 3\n      reasoning_effort: high\n",
		".claude/agents/checker.md": "---\nname: checker\ndescription: Checks facts\ntemperature: 0\nmax_tokens: 512\nparallel_tool_calls: false\n---\nCheck.\n",
	})
	s, err := Load(LoadOptions{Path: filepath.Join(dir, "mcp_agent.config.yaml"), NoEnvOverrides: true, Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	zero, no := 0.0, false
	want := []AgentSpec{
		{Name: "writer", MaxIterations: 3, ReasoningEffort: "high"},
		{Name: "checker", Description: "Checks facts", Instruction: "Check.", Temperature: &zero, MaxTokens: 512, ParallelToolCalls: &no},
	}
	if diff := cmp.Diff(want, s.Agents.Definitions); diff != "" {
		t.Errorf("agents (-want +got):\n%s", diff)
	}
}

func TestAgentFilesDisabled(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"mcp_agent.config.yaml": "agents:\n  enabled: false\n",
		".claude/agents/x.yaml": "name: x\n",
	})
	s, err := Load(LoadOptions{Path: filepath.Join(dir, "mcp_agent.config.yaml"), NoEnvOverrides: true, Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Agents.Definitions) != 0 {
		t.Errorf("agents.enabled: false still loaded %v", s.Agents.Definitions)
	}
}

func TestRelativeCwdIsRelativeToConfigFile(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"app/mcp_agent.config.yaml": "mcp:\n  servers:\n    a:\n      command: x\n      cwd: data\n    b:\n      command: x\n      cwd: /abs\n",
	})
	s, err := Load(LoadOptions{Path: filepath.Join(dir, "app", "mcp_agent.config.yaml"), NoEnvOverrides: true, Env: func(string) (string, bool) { return "", false }})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := s.MCP.Servers["a"].Cwd, filepath.Join(dir, "app", "data"); got != want {
		t.Errorf("relative cwd = %q, want %q", got, want)
	}
	if got := s.MCP.Servers["b"].Cwd; got != "/abs" {
		t.Errorf("absolute cwd = %q, want /abs", got)
	}
}
