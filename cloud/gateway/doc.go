// Package gateway is the cloud platform's MCP gateway: it serves every
// deployment as an MCP server over Streamable HTTP at /servers/{name}/mcp,
// with REST conveniences under /v1/servers/{name}/.
//
// Stdio servers go through the STDIO-to-HTTP adapter: HTTP sessions of both
// MCP protocol generations (2025-11-25 sessions with Mcp-Session-Id and SSE
// streams; 2026-07-28 stateless requests) are mapped onto the server's
// stdin/stdout, either all onto one process ([Shared], request IDs and
// progress tokens rewritten so that concurrent sessions never see each
// other's messages) or one process per session ([PerSession]). Networked
// servers ([RemoteBackend]) are reverse-proxied.
//
// Quick start:
//
//	g := gateway.New(nil)
//	defer g.Close()
//	g.Register("everything", &gateway.Command{
//		Path: "npx", Args: []string{"-y", "@modelcontextprotocol/server-everything"},
//	}, gateway.Shared)
//	g.Register("remote", &gateway.RemoteBackend{URL: "http://127.0.0.1:3001/mcp"}, gateway.Shared)
//	log.Fatal(http.ListenAndServe("127.0.0.1:8750", g))
//
// Then any MCP client reaches http://127.0.0.1:8750/servers/everything/mcp,
// and
//
//	curl -X POST http://127.0.0.1:8750/v1/servers/everything/call_tool \
//	     -d '{"name":"echo","arguments":{"message":"hi"}}'
//
// calls a tool without an MCP client.
//
// The platform's runtime implements [StdioBackend] on supervised, sandboxed
// processes; [Command] is a plain child process for tests and local use.
// See docs/gateway.md for the routing rules, protocol support, errors and
// limits.
package gateway
