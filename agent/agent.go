package agent

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Servers is what an Agent needs from the app's MCP server connections: list
// and call a named server's tools, resources and prompts. *servers.Registry
// satisfies it; tests may back it with in-memory sessions.
//
// A server that does not offer a capability (no resources, no prompts) may
// return an empty list or a JSON-RPC "method not found" error; the agent
// treats both as "nothing offered".
type Servers interface {
	ListTools(ctx context.Context, server string) ([]*mcp.Tool, error)
	CallTool(ctx context.Context, server string, p *mcp.CallToolParams) (*mcp.CallToolResult, error)
	ListResources(ctx context.Context, server string) ([]*mcp.Resource, error)
	ListResourceTemplates(ctx context.Context, server string) ([]*mcp.ResourceTemplate, error)
	ReadResource(ctx context.Context, server, uri string) (*mcp.ReadResourceResult, error)
	ListPrompts(ctx context.Context, server string) ([]*mcp.Prompt, error)
	GetPrompt(ctx context.Context, server, name string, args map[string]string) (*mcp.GetPromptResult, error)
}

// Errors reported by New and by the agent's methods; check them with errors.Is.
var (
	// ErrInvalidConfig is wrapped by every error New and FromSpec return for
	// a bad Config.
	ErrInvalidConfig = errors.New("invalid agent config")
	// ErrUnknownTool is wrapped by CallTool when no listed tool has the name.
	ErrUnknownTool = errors.New("unknown tool")
	// ErrNoHumanInput is wrapped (with ErrUnknownTool) when the human input
	// tool is called on an agent without a HumanInputFunc.
	ErrNoHumanInput = errors.New("agent has no human input handler")
	// ErrUnknownPrompt is wrapped by GetPrompt when no listed prompt has the name.
	ErrUnknownPrompt = errors.New("unknown prompt")
	// ErrUnknownServer is wrapped when a server is named that is not one of
	// the agent's ServerNames.
	ErrUnknownServer = errors.New("unknown server")
	// ErrResourceNotFound is wrapped by ReadResource, called without a server
	// name, when no server of the agent lists the URI.
	ErrResourceNotFound = errors.New("resource not found")
)

// Reserved ToolFilter keys, as in the Python mcp-agent.
const (
	// FilterAnyServer ("*") is the allow-list for every server without its own
	// key, and for function tools and human input when FilterNonNamespaced is absent.
	FilterAnyServer = "*"
	// FilterNonNamespaced ("non_namespaced_tools") is the allow-list for
	// function tools and the human input tool.
	FilterNonNamespaced = "non_namespaced_tools"
)

// ToolFilter limits the tools an agent lists and lets be called. It maps a
// server name to the names of that server's tools to keep, as the server
// names them (not namespaced). FilterNonNamespaced lists the function tools
// (and HumanInputToolName) to keep. FilterAnyServer applies to every server
// without its own key, and to function tools when FilterNonNamespaced is
// absent. A present key with an empty list hides everything it covers; an
// absent key (with no applicable "*") hides nothing. A nil ToolFilter keeps
// every tool.
type ToolFilter map[string][]string

// allows reports whether the filter keeps tool under key (a server name or
// FilterNonNamespaced).
func (f ToolFilter) allows(key, tool string) bool {
	if f == nil {
		return true
	}
	if allowed, ok := f[key]; ok {
		return slices.Contains(allowed, tool)
	}
	if allowed, ok := f[FilterAnyServer]; ok {
		return slices.Contains(allowed, tool)
	}
	return true
}

// Config describes an agent. Name is required; every other field is optional.
type Config struct {
	// Name identifies the agent (in logs, in the app, to the LLM layer).
	Name string
	// Instruction is the agent's system prompt. Empty means none.
	Instruction string
	// ServerNames are the MCP servers whose tools, resources and prompts the
	// agent offers, in order; the order decides collision suffixes (see
	// ListTools). Each name must be unique and non-empty.
	ServerNames []string
	// Tools are Go function tools, built with NewTool. Names must be unique.
	Tools []Tool
	// HumanInput, when non-nil, adds the HumanInputToolName tool, answered by
	// this function. Nil means the agent cannot ask a human.
	HumanInput HumanInputFunc
	// ToolFilter limits which tools are listed and callable. Nil keeps all.
	ToolFilter ToolFilter
}

// An Agent is a name, an instruction and a set of tools: the tools of its MCP
// servers, namespaced "server_tool", its Go function tools, and optionally
// the human input tool. It lists them for an LLM and routes the LLM's calls.
//
// An Agent is safe for concurrent use by multiple goroutines.
type Agent struct {
	name        string
	instruction string
	serverNames []string
	servers     Servers
	funcs       []*Tool          // function tools kept by the filter, in Config order
	funcByName  map[string]*Tool // includes the human input tool when enabled
	human       HumanInputFunc   // nil when disabled or filtered out
	humanHidden bool             // a HumanInputFunc was set but the filter hides it
	filter      ToolFilter

	mu      sync.Mutex
	cache   map[string][]*mcp.Tool // server -> tools as listed by the server
	gens    map[string]uint64      // server -> invalidation count
	epoch   uint64                 // total invalidations; an index built across one is not published
	index   *toolIndex             // nil when stale
	prompts *promptIndex           // last prompt listing, nil before the first
}

// New returns an agent for cfg. servers supplies the MCP servers named in
// cfg.ServerNames; it may be nil only when ServerNames is empty. New does not
// contact any server: tools are listed on the first ListTools or CallTool.
//
// New reports (wrapping ErrInvalidConfig) an empty name, empty or duplicate
// server names, a zero or badly built Tool, duplicate or invalid function tool
// names, a function tool named HumanInputToolName, and ToolFilter keys or
// function tool names that name nothing.
func New(cfg Config, servers Servers) (*Agent, error) {
	fail := func(format string, args ...any) (*Agent, error) {
		prefix := "agent"
		if cfg.Name != "" {
			prefix = fmt.Sprintf("agent %q", cfg.Name)
		}
		return nil, fmt.Errorf("%s: %w: %s", prefix, ErrInvalidConfig, fmt.Sprintf(format, args...))
	}
	if strings.TrimSpace(cfg.Name) == "" {
		return fail("name is empty; set Config.Name")
	}
	if len(cfg.ServerNames) > 0 && servers == nil {
		return fail("ServerNames lists %q but servers is nil; pass the app's server registry", cfg.ServerNames)
	}
	seenServer := make(map[string]bool)
	for i, s := range cfg.ServerNames {
		if s == "" {
			return fail("ServerNames[%d] is empty", i)
		}
		if seenServer[s] {
			return fail("server %q is listed twice in ServerNames", s)
		}
		seenServer[s] = true
	}
	a := &Agent{
		name:        cfg.Name,
		instruction: cfg.Instruction,
		serverNames: slices.Clone(cfg.ServerNames),
		servers:     servers,
		funcByName:  make(map[string]*Tool),
		filter:      cfg.ToolFilter,
		cache:       make(map[string][]*mcp.Tool),
		gens:        make(map[string]uint64),
	}
	index := make(map[string]int)
	for i := range cfg.Tools {
		t := &cfg.Tools[i]
		if t.err != nil {
			return fail("Tools[%d]: %v", i, t.err)
		}
		if t.def == nil {
			return fail("Tools[%d] is a zero Tool; build tools with NewTool", i)
		}
		name := t.def.Name
		if err := validateToolName(name); err != nil {
			return fail("Tools[%d]: %v", i, err)
		}
		if name == HumanInputToolName {
			return fail("Tools[%d]: the name %q is reserved for the human input tool; set Config.HumanInput instead", i, name)
		}
		if j, dup := index[name]; dup {
			return fail("function tool name %q is used by Tools[%d] and Tools[%d]; tool names must be unique", name, j, i)
		}
		index[name] = i
		if a.filter.allows(FilterNonNamespaced, name) {
			a.funcs = append(a.funcs, t)
			a.funcByName[name] = t
		}
	}
	if cfg.HumanInput != nil {
		if a.filter.allows(FilterNonNamespaced, HumanInputToolName) {
			a.human = cfg.HumanInput
			h := humanInputTool(a)
			a.funcByName[HumanInputToolName] = &h
		} else {
			a.humanHidden = true
		}
	}
	for key, names := range cfg.ToolFilter {
		switch {
		case key == FilterAnyServer:
		case key == FilterNonNamespaced:
			for _, n := range names {
				if _, ok := index[n]; !ok && n != HumanInputToolName {
					return fail("ToolFilter[%q] names %q, which is not a function tool of this agent", key, n)
				}
			}
		case !seenServer[key]:
			return fail("ToolFilter has key %q, which is not in ServerNames %q (nor %q or %q)", key, cfg.ServerNames, FilterAnyServer, FilterNonNamespaced)
		}
	}
	return a, nil
}

// Name returns the agent's name.
func (a *Agent) Name() string { return a.name }

// Instruction returns the agent's instruction (system prompt).
func (a *Agent) Instruction() string { return a.instruction }

// ServerNames returns a copy of the agent's server names, in order.
func (a *Agent) ServerNames() []string { return slices.Clone(a.serverNames) }

// hasServer reports whether server is one of the agent's servers.
func (a *Agent) hasServer(server string) bool { return slices.Contains(a.serverNames, server) }
