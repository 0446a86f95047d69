package catalog

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/config"
)

func TestArgs(t *testing.T) {
	cases := []struct {
		spec config.ServerSpec
		want []string
	}{
		{config.ServerSpec{Command: "mcp-agent", Args: []string{"builtin", "fetch"}}, []string{"fetch"}},
		{config.ServerSpec{Command: "/usr/local/bin/mcp-agent", Args: []string{"builtin", "filesystem", "--root", "."}}, []string{"filesystem", "--root", "."}},
		{config.ServerSpec{Command: "mcp-agent", Args: []string{"serve"}}, nil},
		{config.ServerSpec{Command: "npx", Args: []string{"builtin", "fetch"}}, nil},
		{config.ServerSpec{URL: "http://x/mcp"}, nil},
	}
	for _, c := range cases {
		got, ok := Args(c.spec)
		if ok != (c.want != nil) || strings.Join(got, " ") != strings.Join(c.want, " ") {
			t.Errorf("Args(%v %v) = %q, %v; want %q", c.spec.Command, c.spec.Args, got, ok, c.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{nil, "no built-in server named (want one of filesystem, fetch)"},
		{[]string{"fech"}, `unknown built-in server "fech" (want one of filesystem, fetch)`},
		{[]string{"filesystem"}, "no allowed directory: give at least one --root DIR[:ro]"},
		{[]string{"fetch", "--bogus"}, "builtin fetch: unknown flag: --bogus"},
		{[]string{"fetch", "extra"}, `builtin fetch takes no arguments, got ["extra"]`},
	}
	for _, c := range cases {
		if _, err := New(c.args, ""); err == nil || err.Error() != c.want {
			t.Errorf("New(%q): err = %v, want %q", c.args, err, c.want)
		}
	}
}

func TestTransportRunsInProcess(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "note.txt"), []byte("in-process"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A relative root resolves against the spec's cwd, as it would for a
	// child process started there.
	spec := config.ServerSpec{Command: "mcp-agent", Args: []string{"builtin", "filesystem", "--root", ".:ro"}, Cwd: dir}
	tr, ok, err := Transport(spec)
	if !ok || err != nil {
		t.Fatalf("Transport: ok=%v err=%v", ok, err)
	}
	ctx := context.Background()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, tr, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "read_text_file", Arguments: map[string]any{"path": "note.txt"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError || res.Content[0].(*mcp.TextContent).Text != "in-process" {
		t.Errorf("read_text_file = %+v", res.Content)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "write_file", Arguments: map[string]any{"path": "x.txt", "content": "no"}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError {
		t.Error("write_file into a :ro root succeeded")
	}

	if _, ok, _ := Transport(config.ServerSpec{Command: "node", Args: []string{"x.js"}}); ok {
		t.Error("Transport claimed a non-builtin server")
	}
	if _, ok, err := Transport(config.ServerSpec{Command: "mcp-agent", Args: []string{"builtin", "nope"}}); !ok || err == nil {
		t.Errorf("Transport of an unknown builtin: ok=%v err=%v", ok, err)
	}
}
