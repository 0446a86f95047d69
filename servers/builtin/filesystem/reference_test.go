package filesystem

import (
	"context"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestMatchesReferenceServer runs the official
// @modelcontextprotocol/server-filesystem on the same directory and checks
// that the tools we share have the same names and argument names, and that
// a few reads give the same text.
func TestMatchesReferenceServer(t *testing.T) {
	dir := realTempDir(t)
	writeFiles(t, dir, map[string]string{
		"notes.txt": "line 1\nline 2\nline 3\n", "sub/a.go": "package a\n", "sub/b.md": "# b\n",
	})
	command, args := testenv.Filesystem(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "v0"}, nil)
	ref, err := client.Connect(ctx, &mcp.CommandTransport{Command: exec.Command(command, args...)}, nil)
	if err != nil {
		t.Fatalf("start reference server: %v", err)
	}
	defer ref.Close()
	ours := connect(t, []Root{{Path: dir}}, nil)

	refTools := map[string]*mcp.Tool{}
	for tool, err := range ref.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		refTools[tool.Name] = tool
	}
	var shared, onlyOurs []string
	for tool, err := range ours.Tools(ctx, nil) {
		if err != nil {
			t.Fatal(err)
		}
		rt, ok := refTools[tool.Name]
		if !ok {
			onlyOurs = append(onlyOurs, tool.Name)
			continue
		}
		shared = append(shared, tool.Name)
		if diff := cmp.Diff(toolArgs(rt), toolArgs(tool)); diff != "" {
			t.Errorf("%s arguments differ from the reference (-ref +ours):\n%s", tool.Name, diff)
		}
	}
	if len(onlyOurs) > 0 {
		t.Errorf("tools the reference server does not have: %v", onlyOurs)
	}
	slices.Sort(shared)
	t.Logf("shared tools: %v", shared)
	if len(shared) != len(wantTools) {
		t.Errorf("shared %d tools with the reference, want all %d of ours", len(shared), len(wantTools))
	}

	text := func(cs *mcp.ClientSession, name string, args map[string]any) string {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.IsError {
			t.Fatalf("%s(%v): %s", name, args, resultText(res))
		}
		return resultText(res)
	}
	same := []struct {
		name string
		args map[string]any
		norm func(string) string
	}{
		{"read_text_file", map[string]any{"path": dir + "/notes.txt"}, nil},
		// The reference drops the last line's newline with head.
		{"read_text_file", map[string]any{"path": dir + "/notes.txt", "head": 2}, func(s string) string { return strings.TrimSuffix(s, "\n") }},
		{"list_directory", map[string]any{"path": dir + "/sub"}, sortLines},
		{"list_directory", map[string]any{"path": dir}, sortLines},
	}
	for _, c := range same {
		want, got := text(ref, c.name, c.args), text(ours, c.name, c.args)
		if c.norm != nil {
			want, got = c.norm(want), c.norm(got)
		}
		if got != want {
			t.Errorf("%s(%v): ours %q, reference %q", c.name, c.args, got, want)
		}
	}
}

func sortLines(s string) string {
	lines := strings.Split(s, "\n")
	slices.Sort(lines)
	return strings.Join(lines, "\n")
}
