package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/client"
	"github.com/mcp-agent-go/mcp-agent/cloud/platform"
	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
)

// TestExample deploys server-everything on an in-process platform and runs
// the example against it: list the tools, call echo.
func TestExample(t *testing.T) {
	node, args := testenv.Everything(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, err := platform.Start(ctx, t.TempDir(), &platform.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close(context.Background())
	key, err := os.ReadFile(p.AdminKeyPath())
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv(client.EnvURL, p.URL())
	t.Setenv(client.EnvKey, strings.TrimSpace(string(key)))
	c, _ := client.FromEnv()
	if _, err := c.CreateServer(ctx, api.CreateServerRequest{
		Name: "everything", Command: node, Args: args,
		AllowedPaths: []api.AllowedPath{{Path: filepath.Join(testenv.ToolsDir(), "node_modules"), Mode: "r"}},
	}); err != nil {
		t.Fatal(err)
	}

	var out bytes.Buffer
	if err := run(ctx, []string{"-server", "everything"}, &out); err != nil {
		t.Fatalf("list tools: %v", err)
	}
	if !strings.Contains(out.String(), "echo\t") {
		t.Errorf("tools:\n%s", out.String())
	}
	out.Reset()
	if err := run(ctx, []string{"-server", "everything", "-tool", "echo", "-args", `{"message": "from the example"}`}, &out); err != nil {
		t.Fatalf("call echo: %v", err)
	}
	if !strings.Contains(out.String(), "from the example") {
		t.Errorf("echo: %q", out.String())
	}
	if err := run(ctx, []string{"-server", "nope"}, &out); err == nil || !strings.Contains(err.Error(), `server "nope" not found`) {
		t.Errorf("unknown server: %v", err)
	}
}
