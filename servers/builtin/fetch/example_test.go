package fetch_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/mcp-agent-go/mcp-agent/servers/builtin/fetch"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ExampleNew serves the fetch server to an MCP client over in-memory
// transports, fetches a page as markdown, and shows a blocked destination.
func ExampleNew() {
	ctx := context.Background()
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, `<html><body><nav>Menu</nav><main><h1>Hello</h1><p>A <em>small</em> page.</p></main></body></html>`)
	}))
	defer site.Close()

	srv, err := fetch.New(&fetch.Options{DenyHosts: []string{"*.internal.example"}})
	if err != nil {
		log.Fatal(err)
	}
	ct, st := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(ctx, st, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer ss.Wait()
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "example", Version: "v0"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer cs.Close()

	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "fetch", Arguments: map[string]any{"url": site.URL}})
	if err != nil {
		log.Fatal(err)
	}
	var out fetch.Result
	b, _ := json.Marshal(res.StructuredContent)
	if err := json.Unmarshal(b, &out); err != nil {
		log.Fatal(err)
	}
	fmt.Println(out.Content)

	for _, u := range []string{"http://169.254.169.254/latest/meta-data", "https://db.internal.example/"} {
		res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "fetch", Arguments: map[string]any{"url": u}})
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(res.IsError, res.Content[0].(*mcp.TextContent).Text)
	}
	// Output:
	// # Hello
	//
	// A *small* page.
	// true fetch http://169.254.169.254/latest/meta-data: address 169.254.169.254 is link-local/cloud metadata and is blocked (set allow_link_local to permit)
	// true fetch https://db.internal.example/: host db.internal.example matches deny_hosts pattern "*.internal.example" and is blocked
}
