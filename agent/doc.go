// Package agent implements agents: a name, an instruction (system prompt),
// the MCP servers the agent may use, Go function tools, and optionally a
// human to ask. An Agent aggregates the tools, resources and prompts of its
// servers, namespaced by server, and routes calls to them; the LLM layer
// lists an agent's tools for the model and calls them on its behalf.
//
// Quick start:
//
//	type addArgs struct {
//		A int `json:"a" jsonschema:"the first number"`
//		B int `json:"b" jsonschema:"the second number"`
//	}
//	add := agent.NewTool("add", "Add two integers.",
//		func(ctx context.Context, in addArgs) (int, error) { return in.A + in.B, nil })
//
//	a, err := agent.New(agent.Config{
//		Name:        "finder",
//		Instruction: "Find information with the fetch and filesystem tools.",
//		ServerNames: []string{"fetch", "filesystem"}, // keys of mcp.servers in the config
//		Tools:       []agent.Tool{add},
//	}, registry) // the app's server registry: anything implementing Servers
//	...
//	tools, err := a.ListTools(ctx) // fetch_fetch, filesystem_read_file, ..., add
//	res, err := a.CallTool(ctx, "fetch_fetch", json.RawMessage(`{"url":"https://example.com"}`))
//
// # Namespacing
//
// A server's tool is listed as "server_tool" (NamespaceSeparator "_", as in
// the Python mcp-agent); function tools and HumanInputToolName keep their
// names. Routing uses a map built when the tools are listed, never a split
// on "_". Names are claimed in a fixed order, function tools, the human
// input tool, then servers in ServerNames order, each server's tools in the
// order it lists them; the first claimant keeps a name and a later one gets
// the first free suffix "_2", "_3", ... So with servers "a" (tool "b_c") and
// "a_b" (tool "c"), ServerNames {"a", "a_b"} lists "a_b_c" (a's) and
// "a_b_c_2" (a_b's).
//
// Prompts are namespaced the same way. Resources keep their URIs and carry
// their server's name; ReadResource takes (server, uri).
//
// # Caching
//
// Each server's tool list is fetched on first use and cached; call
// InvalidateTools(server) when the server sends tools/list_changed.
// Resources and prompts are listed on every call.
//
// An Agent is safe for concurrent use.
package agent
