// Package servers connects to MCP servers as a client: it turns the
// mcp.servers section of the configuration into live sessions of the
// official go-sdk, over stdio, Streamable HTTP, SSE or WebSocket.
//
// Quick start: a Registry keeps one persistent connection per configured
// server, opened on first use and shared by every caller.
//
//	settings, err := config.Load(config.LoadOptions{})
//	reg := servers.NewRegistry(settings.MCP.Servers, &servers.Options{Logger: logger})
//	defer reg.Close()
//
//	tools, err := reg.ListTools(ctx, "fetch")
//	res, err := reg.CallTool(ctx, "fetch", &mcp.CallToolParams{
//		Name:      "fetch",
//		Arguments: map[string]any{"url": "https://example.com"},
//	})
//
// For a connection of your own (Python mcp-agent's gen_client), Open one and
// Close it:
//
//	conn, err := servers.Open(ctx, config.ServerSpec{Command: "npx", Args: []string{"-y", "@modelcontextprotocol/server-everything"}}, nil)
//	defer conn.Close()
//
// # Failures
//
// When a stdio server exits, or a connection breaks, the calls in flight
// and the calls made on the dead connection fail at once with a
// *ServerExitedError carrying the exit status and the last lines of the
// server's stderr. A Registry drops the dead connection and reconnects on
// the next call. A server that does not answer within read_timeout_seconds
// (or the caller's deadline) gives a *TimeoutError naming the server and
// the method. A server that cannot be started or reached gives a
// *ConnectError naming the server, its transport and its command or URL.
//
// # Resource subscriptions
//
// Subscribe returns once the server has registered the subscription, so
// every update it sends afterwards reaches Options.OnResourceUpdated (under
// 2026-07-28 it waits for the server to acknowledge the subscriptions/listen
// stream). A Registry remembers what was subscribed through it and, when it
// reconnects to a server, subscribes the new connection again before any
// call uses it; Registry.Subscriptions lists those resources.
//
// # Protocol versions
//
// By default the client asks for the newest protocol, 2026-07-28
// (stateless), and falls back to the 2025-11-25 session handshake when the
// server does not speak it; Options.ProtocolVersion pins a version. Both
// generations support every feature here: server requests for sampling,
// elicitation and roots arrive as multi round-trip input requests in
// 2026-07-28 and as server-to-client requests before it, and reach the same
// Options handlers.
//
// See docs/servers.md for the configuration keys of each transport.
package servers
