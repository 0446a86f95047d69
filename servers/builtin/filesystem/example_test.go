package filesystem_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"

	"github.com/mcp-agent-go/mcp-agent/servers/builtin/filesystem"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Example serves a directory read-only and calls two tools through an MCP
// client, as an agent would.
func Example() {
	dir, err := os.MkdirTemp("", "fs-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("buy milk\ncall Bob\n"), 0o644); err != nil {
		log.Fatal(err)
	}

	realDir, _ := filepath.EvalSymlinks(dir) // the server reports evaluated paths

	root, err := filesystem.ParseRoot(dir + ":ro") // as given to --root
	if err != nil {
		log.Fatal(err)
	}
	srv, err := filesystem.New([]filesystem.Root{root}, nil)
	if err != nil {
		log.Fatal(err)
	}

	ctx := context.Background()
	clientTransport, serverTransport := mcp.NewInMemoryTransports()
	if _, err := srv.Connect(ctx, serverTransport, nil); err != nil {
		log.Fatal(err)
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "example", Version: "v0"}, nil)
	session, err := client.Connect(ctx, clientTransport, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer session.Close()

	call := func(name string, args map[string]any) {
		res, err := session.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			log.Fatal(err)
		}
		text := res.Content[0].(*mcp.TextContent).Text
		fmt.Printf("%s (error: %v):\n%s\n", name, res.IsError, strings.ReplaceAll(text, realDir, "DIR"))
	}
	call("read_text_file", map[string]any{"path": "notes.txt", "tail": 1})
	call("write_file", map[string]any{"path": "notes.txt", "content": "gone"})
	// Output:
	// read_text_file (error: false):
	// call Bob
	//
	// write_file (error: true):
	// path "notes.txt" is in a read-only root (DIR)
}
