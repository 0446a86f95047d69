package agent

// Tool listing and routing.
//
// Each server's tool list is cached until InvalidateTools(server). From the
// cached lists, the function tools and the human input tool, a toolIndex is
// built: the namespaced tool list in listing order and an explicit map from
// each listed name to where it goes. Names are never split on "_" to route.
//
// Names are handed out in a fixed claim order: function tools (Config order),
// then the human input tool, then each server's tools as "server_tool" in
// ServerNames order and the server's own listing order. The first claimant of
// a name keeps it; a later one gets the first free "_2", "_3", ... suffix.
//
// The index is replaced as a whole under Agent.mu, and only if no
// invalidation happened while it was being built, so a reader always sees
// one consistent listing.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// NamespaceSeparator joins a server name and a tool or prompt name, as in the
// Python mcp-agent: tool "fetch" of server "web" is listed as "web_fetch".
const NamespaceSeparator = "_"

// route says where a listed tool name goes.
type route struct {
	server string // "" for function tools
	tool   string // the server's own name for the tool
	fn     *Tool  // non-nil for function tools
}

type toolIndex struct {
	tools  []*mcp.Tool // as listed: namespaced names, listing order
	routes map[string]route
}

// names hands out unique names: the first claimant of a name keeps it, later
// ones get the first free "_N" suffix, N >= 2.
type names map[string]bool

func (n names) claim(name string) string {
	if !n[name] {
		n[name] = true
		return name
	}
	// At most len(n)+1 candidates can be taken, so this ends.
	for i := 2; ; i++ {
		c := fmt.Sprintf("%s_%d", name, i)
		if !n[c] {
			n[c] = true
			return c
		}
	}
}

// buildToolIndex builds the index from the servers' tool lists. It must be
// deterministic in its inputs.
func (a *Agent) buildToolIndex(lists map[string][]*mcp.Tool) *toolIndex {
	idx := &toolIndex{routes: make(map[string]route)}
	taken := make(names)
	// Function tools claim first; their names are unique (checked by New).
	var own []*mcp.Tool
	for _, t := range a.funcs {
		n := taken.claim(t.def.Name)
		idx.routes[n] = route{fn: t}
		own = append(own, t.Definition())
	}
	if a.human != nil {
		t := a.funcByName[HumanInputToolName]
		n := taken.claim(HumanInputToolName)
		idx.routes[n] = route{fn: t}
		own = append(own, t.Definition())
	}
	for _, server := range a.serverNames {
		for _, t := range lists[server] {
			if t == nil || !a.filter.allows(server, t.Name) {
				continue
			}
			n := taken.claim(server + NamespaceSeparator + t.Name)
			idx.routes[n] = route{server: server, tool: t.Name}
			c := *t
			c.Name = n
			idx.tools = append(idx.tools, &c)
		}
	}
	idx.tools = append(idx.tools, own...)
	return idx
}

// ListTools returns the agent's tools: every tool of every server, named
// "server_tool" (see NamespaceSeparator), in ServerNames order, then the
// function tools in Config order, then HumanInputToolName if the agent has
// a HumanInputFunc; all after the ToolFilter.
//
// Names are unique. A function tool keeps its name; a server tool whose
// "server_tool" name is already taken (by a function tool or by an earlier
// server's tool: server "a_b" tool "c" and server "a" tool "b_c" are both
// "a_b_c") gets the first free suffix "_2", "_3", ..., in the claim order
// function tools, human input, then servers in ServerNames order.
//
// A server's list is fetched once and cached until InvalidateTools; servers
// not cached are listed concurrently, and if any of them fails ListTools
// returns an error naming it. The returned tools are copies; their
// InputSchema and OutputSchema values are shared and must not be modified.
func (a *Agent) ListTools(ctx context.Context) ([]*mcp.Tool, error) {
	idx, err := a.toolIndex(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*mcp.Tool, len(idx.tools))
	for i, t := range idx.tools {
		c := *t
		out[i] = &c
	}
	return out, nil
}

// InvalidateTools drops the cached tool lists of the named servers (all of
// the agent's servers when none are named), so the next ListTools or
// CallTool lists them again. Call it when a server sends
// notifications/tools/list_changed. Names that are not servers of this
// agent are ignored, so an app may call it on every agent.
func (a *Agent) InvalidateTools(servers ...string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(servers) == 0 {
		servers = a.serverNames
	}
	changed := false
	for _, s := range servers {
		if !a.hasServer(s) {
			continue
		}
		delete(a.cache, s)
		a.gens[s]++
		changed = true
	}
	if changed {
		a.epoch++
		a.index = nil
	}
}

// toolIndex returns the current index, listing the servers whose tools are
// not cached.
func (a *Agent) toolIndex(ctx context.Context) (*toolIndex, error) {
	a.mu.Lock()
	if idx := a.index; idx != nil {
		a.mu.Unlock()
		return idx, nil
	}
	epoch := a.epoch
	lists := make(map[string][]*mcp.Tool, len(a.serverNames))
	var missing []string
	gens := make(map[string]uint64)
	for _, s := range a.serverNames {
		if l, ok := a.cache[s]; ok {
			lists[s] = l
		} else {
			missing = append(missing, s)
			gens[s] = a.gens[s]
		}
	}
	a.mu.Unlock()

	fetched, err := eachServer(ctx, a, missing, "list tools of", func(ctx context.Context, s string) ([]*mcp.Tool, error) {
		return a.servers.ListTools(ctx, s)
	})
	if err != nil {
		return nil, err
	}

	a.mu.Lock()
	defer a.mu.Unlock()
	for i, s := range missing {
		lists[s] = fetched[i]
		if a.gens[s] == gens[s] {
			a.cache[s] = fetched[i]
		}
	}
	idx := a.buildToolIndex(lists)
	if a.epoch == epoch {
		a.index = idx
	}
	return idx, nil
}

// eachServer calls list for every server concurrently and returns the
// results in the order of servers. A server answering "method not found"
// offers nothing. Errors name the agent and server.
func eachServer[T any](ctx context.Context, a *Agent, servers []string, what string, list func(context.Context, string) ([]T, error)) ([][]T, error) {
	out := make([][]T, len(servers))
	errs := make([]error, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() {
			l, err := list(ctx, s)
			if err != nil && !isMethodNotFound(err) {
				errs[i] = fmt.Errorf("agent %q: %s server %q: %w", a.name, what, s, err)
				return
			}
			out[i] = l
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return out, nil
}

func isMethodNotFound(err error) bool {
	var we *jsonrpc.Error
	return errors.As(err, &we) && we.Code == jsonrpc.CodeMethodNotFound
}

// CallTool calls the tool listed by ListTools as name with the JSON object
// args (empty or "null" means no arguments).
//
// A function tool runs in-process: its arguments are validated against its
// schema first, and invalid arguments or an error from the function come back
// as a result with IsError set, which an LLM can read and correct. A server
// tool is called on its server under the server's own name; the server's
// result is returned as is.
//
// CallTool returns an error wrapping ErrUnknownTool, with the closest
// matching names, when no listed tool has the name (a tool hidden by the
// ToolFilter is not listed), and errors from listing or calling a server.
func (a *Agent) CallTool(ctx context.Context, name string, args json.RawMessage) (*mcp.CallToolResult, error) {
	if t, ok := a.funcByName[name]; ok {
		res, err := t.run(ctx, args)
		if err != nil {
			return nil, fmt.Errorf("agent %q: tool %q: %w", a.name, name, err)
		}
		return res, nil
	}
	if name == HumanInputToolName {
		if a.humanHidden {
			return nil, fmt.Errorf("agent %q: %w %q: the agent's ToolFilter hides it; add it to ToolFilter[%q]", a.name, ErrUnknownTool, name, FilterNonNamespaced)
		}
		return nil, fmt.Errorf("agent %q: %w %q: %w; set Config.HumanInput", a.name, ErrUnknownTool, name, ErrNoHumanInput)
	}
	idx, err := a.toolIndex(ctx)
	if err != nil {
		return nil, err
	}
	r, ok := idx.routes[name]
	if !ok {
		listed := make([]string, len(idx.tools))
		for i, t := range idx.tools {
			listed[i] = t.Name
		}
		return nil, fmt.Errorf("agent %q: %w %q%s", a.name, ErrUnknownTool, name, suggestion(name, listed, "tools"))
	}
	if r.fn != nil { // unreachable: function tools are found above
		return r.fn.run(ctx, args)
	}
	p := &mcp.CallToolParams{Name: r.tool}
	if raw := bytes.TrimSpace(args); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		if !json.Valid(raw) {
			return errorResult(fmt.Sprintf("arguments for tool %q are not valid JSON: %.200s", name, raw)), nil
		}
		p.Arguments = json.RawMessage(raw)
	}
	res, err := a.servers.CallTool(ctx, r.server, p)
	if err != nil {
		return nil, fmt.Errorf("agent %q: tool %q (%q of server %q): %w", a.name, name, r.tool, r.server, err)
	}
	return res, nil
}

// errorResult is a tool result carrying an error message for the LLM.
func errorResult(msg string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: msg}}}
}

// suggestion returns the tail of an unknown-name message: the closest names,
// or the list of names when it is short.
func suggestion(name string, listed []string, noun string) string {
	if close := closeMatches(name, listed, 3); len(close) > 0 {
		q := make([]string, len(close))
		for i, c := range close {
			q[i] = fmt.Sprintf("%q", c)
		}
		return "; did you mean " + strings.Join(q, " or ") + "?"
	}
	switch {
	case len(listed) == 0:
		return "; the agent has no " + noun
	case len(listed) <= 20:
		return "; the agent's " + noun + " are: " + strings.Join(listed, ", ")
	}
	return fmt.Sprintf("; the agent has %d %s, none close to this name", len(listed), noun)
}

// closeMatches returns up to n candidates close to name: a candidate that is
// name with a namespace ("web_fetch" for "fetch"), or within an edit
// distance of max(2, len(name)/3), closest first.
func closeMatches(name string, candidates []string, n int) []string {
	type scored struct {
		name string
		d    int
	}
	var found []scored
	lname := strings.ToLower(name)
	limit := max(2, len(name)/3)
	for _, c := range candidates {
		lc := strings.ToLower(c)
		d := editDistance(lname, lc)
		switch {
		case d <= limit:
		case strings.HasSuffix(lc, NamespaceSeparator+lname) || strings.HasSuffix(lname, NamespaceSeparator+lc):
			d = limit + 1
		default:
			continue
		}
		found = append(found, scored{c, d})
	}
	slices.SortFunc(found, func(x, y scored) int {
		if x.d != y.d {
			return x.d - y.d
		}
		return strings.Compare(x.name, y.name)
	})
	var out []string
	for _, f := range found[:min(n, len(found))] {
		out = append(out, f.name)
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
