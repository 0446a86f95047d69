package servers_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/servers"
)

type greetIn struct {
	Name string `json:"name" jsonschema:"who to greet"`
}

// newGreeter is a small in-process MCP server.
func newGreeter() *mcp.Server {
	server := mcp.NewServer(&mcp.Implementation{Name: "greeter", Version: "v1"}, nil)
	mcp.AddTool(server, &mcp.Tool{Name: "greet", Description: "says hello"}, func(_ context.Context, _ *mcp.CallToolRequest, in greetIn) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "Hello, " + in.Name + "!"}}}, nil, nil
	})
	return server
}

// A Registry connects to the configured servers on first use and keeps the
// connections. Servers normally come from mcp.servers in the configuration
// (a command or a URL); here Options.Transport connects an in-process
// server through an in-memory pipe so that the example runs anywhere.
func Example() {
	ctx := context.Background()
	greeter := newGreeter()

	reg := servers.NewRegistry(map[string]config.ServerSpec{
		"greeter": {Description: "an in-process server"},
	}, &servers.Options{
		Transport: func(name string, spec config.ServerSpec, stderr io.Writer) (mcp.Transport, error) {
			clientEnd, serverEnd := mcp.NewInMemoryTransports()
			if _, err := greeter.Connect(ctx, serverEnd, nil); err != nil {
				return nil, err
			}
			return clientEnd, nil
		},
	})
	defer reg.Close()

	tools, err := reg.ListTools(ctx, "greeter")
	if err != nil {
		log.Fatal(err)
	}
	res, err := reg.CallTool(ctx, "greeter", &mcp.CallToolParams{Name: "greet", Arguments: map[string]any{"name": "Ada"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(tools[0].Name, "->", res.Content[0].(*mcp.TextContent).Text)
	// Output: greet -> Hello, Ada!
}

// Open makes a one-shot connection from a server spec; the caller closes
// it. This one starts the reference "everything" server with npx.
func ExampleOpen() {
	ctx := context.Background()
	conn, err := servers.Open(ctx, config.ServerSpec{
		Name:    "everything",
		Command: "npx",
		Args:    []string{"-y", "@modelcontextprotocol/server-everything"},
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	res, err := conn.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "hi"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Content[0].(*mcp.TextContent).Text) // Echo: hi
}

// WebSocketHandler serves an MCP server over WebSocket; the "websocket"
// transport of a ServerSpec connects to it.
func ExampleNewWebSocketHandler() {
	ctx := context.Background()
	greeter := newGreeter()
	h := servers.NewWebSocketHandler(func(*http.Request) *mcp.Server { return greeter }, nil)
	ts := httptest.NewServer(h) // or http.ListenAndServe(addr, h)
	defer ts.Close()
	defer h.Close()

	conn, err := servers.Open(ctx, config.ServerSpec{
		Name:      "greeter",
		Transport: config.TransportWebSocket,
		URL:       "ws" + ts.URL[len("http"):],
	}, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	res, err := conn.CallTool(ctx, &mcp.CallToolParams{Name: "greet", Arguments: map[string]any{"name": "WebSocket"}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(res.Content[0].(*mcp.TextContent).Text)
	// Output: Hello, WebSocket!
}

// A Registry's subscriptions last: once Subscribe returns, the server's
// updates of the resource reach OnResourceUpdated, and after a reconnect
// the registry subscribes the new connection again.
func ExampleRegistry_Subscribe() {
	ctx := context.Background()
	server := mcp.NewServer(&mcp.Implementation{Name: "notes", Version: "v1"}, &mcp.ServerOptions{
		SubscribeHandler:   func(context.Context, *mcp.SubscribeRequest) error { return nil },
		UnsubscribeHandler: func(context.Context, *mcp.UnsubscribeRequest) error { return nil },
	})
	server.AddResource(&mcp.Resource{URI: "notes://today", Name: "today"}, func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: "notes://today", Text: "buy milk"}}}, nil
	})

	updated := make(chan string, 1)
	reg := servers.NewRegistry(map[string]config.ServerSpec{"notes": {}}, &servers.Options{
		OnResourceUpdated: func(server string, p *mcp.ResourceUpdatedNotificationParams) {
			updated <- server + " " + p.URI
		},
		Transport: func(string, config.ServerSpec, io.Writer) (mcp.Transport, error) {
			clientEnd, serverEnd := mcp.NewInMemoryTransports()
			if _, err := server.Connect(ctx, serverEnd, nil); err != nil {
				return nil, err
			}
			return clientEnd, nil
		},
	})
	defer reg.Close()

	if err := reg.Subscribe(ctx, "notes", "notes://today"); err != nil {
		log.Fatal(err)
	}
	// The server changes the resource.
	if err := server.ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: "notes://today"}); err != nil {
		log.Fatal(err)
	}
	fmt.Println("updated:", <-updated)
	fmt.Println("restored on reconnect:", reg.Subscriptions("notes"))
	// Output:
	// updated: notes notes://today
	// restored on reconnect: [notes://today]
}
