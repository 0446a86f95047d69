package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsFullExample loads the full example of docs/config.md.
func TestDocsFullExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/config.md")
	if err != nil {
		t.Fatal(err)
	}
	_, full, ok := strings.Cut(string(doc), "## Full example")
	if !ok {
		t.Fatal(`docs/config.md has no "## Full example"`)
	}
	var blocks []string
	for rest := full; ; {
		_, after, ok := strings.Cut(rest, "```yaml\n")
		if !ok {
			break
		}
		block, tail, _ := strings.Cut(after, "```")
		blocks = append(blocks, block)
		rest = tail
	}
	if len(blocks) != 2 {
		t.Fatalf("found %d yaml blocks, want config and secrets", len(blocks))
	}
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "mcp_agent.config.yaml"), blocks[0])
	writeFile(t, filepath.Join(dir, "mcp_agent.secrets.yaml"), blocks[1])
	o := opts(map[string]string{"GITHUB_TOKEN": "ghp_0123456789abcdef"})
	o.Dir = dir
	s, err := Load(o)
	if err != nil {
		t.Fatal(err)
	}
	if len(s.MCP.Servers) != 4 || s.Workflows["report"].Type != WorkflowEvaluatorOptimizer ||
		s.MCP.Servers["github"].Env["GITHUB_PERSONAL_ACCESS_TOKEN"] != "ghp_0123456789abcdef" ||
		s.Workflows["report"].Options["min_rating"] != "good" || s.Extra["google"] == nil ||
		s.Agents.Definitions[2].MaxTokens != 800 || s.Agents.Definitions[2].Temperature == nil {
		t.Errorf("loaded %+v", s)
	}
}
