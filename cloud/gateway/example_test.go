package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// exampleServer is a stdio MCP server for the examples: this test binary
// re-executed as the test server. In real use it would be, e.g.,
// &Command{Path: "npx", Args: []string{"-y", "@modelcontextprotocol/server-everything"}}.
func exampleServer() *Command {
	return &Command{Path: os.Args[0], Args: []string{"-test.run=^$"}, Env: append(os.Environ(), testServerEnv+"=test")}
}

// A stdio server shared by all sessions, called with the go-sdk client.
func ExampleGateway() {
	g := New(nil)
	defer g.Close()
	g.Register("echo", exampleServer(), Shared)
	srv := httptest.NewServer(g)
	defer srv.Close()

	ctx := context.Background()
	client := mcp.NewClient(&mcp.Implementation{Name: "example", Version: "v1"}, nil)
	cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: srv.URL + "/servers/echo/mcp"}, nil)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer cs.Close()
	fmt.Println("protocol:", cs.InitializeResult().ProtocolVersion)
	fmt.Println("server:", cs.InitializeResult().ServerInfo.Name)
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hello"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("echo:", res.Content[0].(*mcp.TextContent).Text)
	// Output:
	// protocol: 2026-07-28
	// server: gateway-test
	// echo: hello
}

// The REST conveniences and their JSON errors.
func ExampleGateway_rest() {
	g := New(nil)
	defer g.Close()
	g.Register("echo", exampleServer(), PerSession)
	srv := httptest.NewServer(g)
	defer srv.Close()

	post := func(path, body string) {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(b)))
	}
	post("/v1/servers/echo/call_tool", `{"name":"echo","arguments":{"message":"hi"}}`)
	post("/v1/servers/nope/call_tool", `{"name":"echo"}`)
	post("/v1/servers/echo/call_tool", `{"name":`)
	// Output:
	// 200 {"content":[{"type":"text","text":"hi"}]}
	// 404 {"error":{"code":"not_found","message":"server \"nope\" not found"}}
	// 400 {"error":{"code":"bad_request","message":"request body is not valid JSON: it ends in the middle of a value"}}
}
