package platform_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/client"
	"github.com/mcp-agent-go/mcp-agent/cloud/platform"
)

// Start a platform, deploy the built-in filesystem server on one directory
// and call one of its tools through the gateway.
func ExampleStart() {
	ctx := context.Background()
	dataDir, _ := os.MkdirTemp("", "cloud-data-")
	defer os.RemoveAll(dataDir)
	docs, _ := os.MkdirTemp("", "docs-")
	defer os.RemoveAll(docs)
	_ = os.WriteFile(filepath.Join(docs, "hello.txt"), []byte("hello"), 0o644)

	p, err := platform.Start(ctx, dataDir, &platform.Options{Addr: "127.0.0.1:0"})
	if err != nil {
		log.Fatal(err)
	}
	defer p.Close(ctx)

	key, _ := os.ReadFile(p.AdminKeyPath()) // written on first start, mode 0600
	c := client.New(p.URL(), &client.Options{APIKey: strings.TrimSpace(string(key))})
	s, err := c.CreateServer(ctx, api.CreateServerRequest{
		Name: "files", Type: "filesystem",
		AllowedPaths: []api.AllowedPath{{Path: docs, Mode: "r"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(s.FullName, strings.TrimPrefix(s.Endpoint, p.URL()))

	// MCP clients use s.Endpoint; the REST conveniences do one call each.
	res, err := c.CallTool(ctx, "files", "list_directory", map[string]any{"path": docs})
	if err != nil {
		log.Fatal(err)
	}
	var out struct {
		Content []struct{ Text string } `json:"content"`
	}
	_ = json.Unmarshal(res, &out)
	fmt.Println(out.Content[0].Text)
	// Output:
	// local.files /servers/local.files/mcp
	// [FILE] hello.txt
}
