package agent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
)

// An agent with one Go function tool and no servers.
func ExampleNewTool() {
	type addArgs struct {
		A int `json:"a" jsonschema:"the first number"`
		B int `json:"b" jsonschema:"the second number"`
	}
	add := agent.NewTool("add", "Add two integers.", func(ctx context.Context, in addArgs) (int, error) {
		return in.A + in.B, nil
	})
	a, err := agent.New(agent.Config{Name: "calculator", Tools: []agent.Tool{add}}, nil)
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	res, err := a.CallTool(ctx, "add", json.RawMessage(`{"a": 2, "b": 3}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Content[0].(*mcp.TextContent).Text)

	// Bad arguments are reported to the LLM, naming the field.
	res, _ = a.CallTool(ctx, "add", json.RawMessage(`{"a": 2, "b": "three"}`))
	fmt.Println(res.IsError, res.Content[0].(*mcp.TextContent).Text)
	// Output:
	// 5
	// true invalid arguments for tool "add": field "b": type: three has type "string", want "integer"
}

// An agent over an MCP server: its tools are listed as "server_tool" next to
// the function tools, and calls are routed to the server under the tool's
// own name.
func ExampleAgent_ListTools() {
	ctx := context.Background()

	// An MCP server with one tool, connected in memory. In an app, the
	// servers come from the app's registry instead.
	server := mcp.NewServer(&mcp.Implementation{Name: "web", Version: "v1"}, nil)
	type fetchArgs struct {
		URL string `json:"url"`
	}
	mcp.AddTool(server, &mcp.Tool{Name: "fetch", Description: "Fetch a URL."},
		func(ctx context.Context, req *mcp.CallToolRequest, in fetchArgs) (*mcp.CallToolResult, any, error) {
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "<html>" + in.URL + "</html>"}}}, nil, nil
		})
	servers, closeAll, err := connect(ctx, map[string]*mcp.Server{"web": server})
	if err != nil {
		log.Fatal(err)
	}
	defer closeAll()

	now := agent.NewTool("now", "The current date.", func(ctx context.Context, _ struct{}) (string, error) {
		return "2026-01-02", nil
	})
	a, err := agent.New(agent.Config{
		Name:        "finder",
		Instruction: "Find information on the web.",
		ServerNames: []string{"web"},
		Tools:       []agent.Tool{now},
	}, servers)
	if err != nil {
		log.Fatal(err)
	}
	tools, err := a.ListTools(ctx)
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tools {
		fmt.Printf("%s: %s\n", t.Name, t.Description)
	}
	res, err := a.CallTool(ctx, "web_fetch", json.RawMessage(`{"url": "https://example.com"}`))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Content[0].(*mcp.TextContent).Text)
	// Output:
	// web_fetch: Fetch a URL.
	// now: The current date.
	// <html>https://example.com</html>
}
