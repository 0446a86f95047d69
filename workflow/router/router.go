package router

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/embedding"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patternkit"
)

// Kind is what a [Category] routes to.
type Kind string

// Category kinds.
const (
	KindAgent    Kind = "agent"    // an AugmentedLLM: agent-backed LLM or pattern
	KindServer   Kind = "server"   // an MCP server, described by its tools
	KindFunction Kind = "function" // a Go function
)

// A Category is one destination of a router.
type Category struct {
	// Name identifies the category; the routing LLM answers with it.
	Name string
	// Description tells the router what the category handles.
	Description string
	// Kind is what the category is (for the router's prompt).
	Kind Kind
	// Tools are a server category's tools, described to the router.
	Tools []*mcp.Tool
	// Target handles requests routed to the category ([Router.Generate]
	// runs it). Server categories may leave it nil: then the router only
	// names them.
	Target llm.AugmentedLLM
}

// AgentCategory returns a category routing to target (an agent-backed LLM
// or a pattern), named after it.
func AgentCategory(target llm.AugmentedLLM, description string) Category {
	if target == nil {
		panic("router.AgentCategory: nil target")
	}
	return Category{Name: target.Name(), Description: description, Kind: KindAgent, Target: target}
}

// FunctionCategory returns a category routing to a Go function; fn gets
// the conversation and returns the answer.
func FunctionCategory(name, description string, fn func(ctx context.Context, conv []llm.Message) (string, error)) Category {
	if fn == nil {
		panic("router.FunctionCategory: nil function")
	}
	return Category{Name: name, Description: description, Kind: KindFunction, Target: patternkit.FuncLLM(name, fn)}
}

// ServerCategory returns a category for the MCP server name offering
// tools. target, which may be nil, is what runs a request routed to the
// server (typically an LLM whose agent uses the server).
func ServerCategory(name, description string, tools []*mcp.Tool, target llm.AugmentedLLM) Category {
	return Category{Name: name, Description: description, Kind: KindServer, Tools: tools, Target: target}
}

// ToolLister lists a server's tools; *servers.Registry and agent.Servers
// implementations satisfy it.
type ToolLister interface {
	ListTools(ctx context.Context, server string) ([]*mcp.Tool, error)
}

// ServerCategoryFrom is ServerCategory with the tools listed from the
// running server.
func ServerCategoryFrom(ctx context.Context, servers ToolLister, name, description string, target llm.AugmentedLLM) (Category, error) {
	tools, err := servers.ListTools(ctx, name)
	if err != nil {
		return Category{}, fmt.Errorf("router: listing the tools of server %q: %w", name, err)
	}
	return ServerCategory(name, description, tools, target), nil
}

// describe is the category as shown to the routing LLM and embedded.
func (c *Category) describe() string {
	var b strings.Builder
	fmt.Fprintf(&b, "name: %s\nkind: %s\n", c.Name, c.Kind)
	if c.Description != "" {
		fmt.Fprintf(&b, "description: %s\n", c.Description)
	}
	if len(c.Tools) > 0 {
		b.WriteString("tools:\n")
		for _, t := range c.Tools {
			if t == nil {
				continue
			}
			fmt.Fprintf(&b, "- %s", t.Name)
			if d := strings.TrimSpace(t.Description); d != "" {
				fmt.Fprintf(&b, ": %s", strings.ReplaceAll(d, "\n", " "))
			}
			b.WriteByte('\n')
		}
	}
	return b.String()
}

// A Choice is one ranked category.
type Choice struct {
	Category Category
	// Confidence is the routing LLM's confidence in [0, 1]; for the
	// embedding router, the cosine similarity of the request and the
	// category description.
	Confidence float64
	// Reasoning is the routing LLM's explanation ("" for the embedding
	// router).
	Reasoning string
}

// Errors of routing; test with errors.Is.
var (
	// ErrNoRoute: the routing LLM chose no known category.
	ErrNoRoute = errors.New("no category chosen")
	// ErrNoTarget: the chosen category has nothing to run.
	ErrNoTarget = errors.New("category has no target")
)

// Options configures a [Router]. A nil *Options uses every default.
type Options struct {
	// Name names the router in events, errors and usage reports; "" is
	// "router".
	Name string
	// Params are the RequestParams of the routing LLM's calls (history is
	// always off). The caller's RequestParams go to the chosen target.
	Params *llm.RequestParams
	// Instruction, when set, is added to the routing prompt (for example
	// "Prefer the billing agent for anything about money.").
	Instruction string
	// Memory keeps the router's conversation between turns; nil uses a new
	// llm.SimpleMemory.
	Memory llm.Memory
}

// ranker ranks every category for a conversation, best first.
type ranker func(ctx context.Context, r *Router, conv []llm.Message, k int) ([]Choice, error)

// Router routes a request to the best of its categories. It is an
// [llm.AugmentedLLM]: Generate routes the turn and runs the top choice's
// Target. It is safe for concurrent use.
type Router struct {
	pattern     patternkit.Pattern
	categories  []Category
	rank        ranker
	llm         llm.AugmentedLLM
	params      *llm.RequestParams
	instruction string

	emb  embedding.Embedder
	vecs vectors
}

var _ llm.AugmentedLLM = (*Router)(nil)

// NewLLM returns a router asking routerLLM (with structured output) for
// the top categories, each with a confidence and a reasoning.
func NewLLM(routerLLM llm.AugmentedLLM, categories []Category, opts *Options) (*Router, error) {
	r, err := newRouter(categories, opts)
	if err != nil {
		return nil, err
	}
	if routerLLM == nil {
		return nil, fmt.Errorf("%s: no routing LLM", r.pattern.Label())
	}
	r.llm = routerLLM
	r.rank = rankLLM
	return r, nil
}

// NewEmbedding returns a router ranking categories by the cosine
// similarity of the request's embedding and each category's (name,
// description and tools). Category embeddings are computed on first use and
// kept; wrap e in an [embedding.Cache] to share embeddings between routers.
func NewEmbedding(e embedding.Embedder, categories []Category, opts *Options) (*Router, error) {
	r, err := newRouter(categories, opts)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, fmt.Errorf("%s: no embedder", r.pattern.Label())
	}
	r.emb = e
	r.rank = rankEmbedding
	return r, nil
}

func newRouter(categories []Category, opts *Options) (*Router, error) {
	if opts == nil {
		opts = &Options{}
	}
	r := &Router{
		pattern:     patternkit.Pattern{Kind: "router", Name: opts.Name, Memory: opts.Memory},
		categories:  slices.Clone(categories),
		params:      opts.Params,
		instruction: opts.Instruction,
	}
	if r.pattern.Name == "" {
		r.pattern.Name = "router"
	}
	if r.pattern.Memory == nil {
		r.pattern.Memory = llm.NewMemory()
	}
	if len(categories) == 0 {
		return nil, fmt.Errorf("%s: no categories: give at least one", r.pattern.Label())
	}
	seen := map[string]bool{}
	for i, c := range categories {
		switch {
		case c.Name == "":
			return nil, fmt.Errorf("%s: category %d has no name", r.pattern.Label(), i)
		case seen[c.Name]:
			return nil, fmt.Errorf("%s: category %q is listed twice: names must be unique", r.pattern.Label(), c.Name)
		case c.Target == nil && c.Kind != KindServer:
			return nil, fmt.Errorf("%s: category %q has no target", r.pattern.Label(), c.Name)
		}
		switch c.Kind {
		case KindAgent, KindServer, KindFunction:
		default:
			return nil, fmt.Errorf("%s: category %q has unknown kind %q (want agent, server or function)", r.pattern.Label(), c.Name, c.Kind)
		}
		seen[c.Name] = true
	}
	return r, nil
}

// Name returns the router's name.
func (r *Router) Name() string { return r.pattern.Name }

// Memory returns the router's conversation memory.
func (r *Router) Memory() llm.Memory { return r.pattern.Memory }

// Categories returns the router's categories.
func (r *Router) Categories() []Category { return slices.Clone(r.categories) }

// Route returns the k categories that best fit the conversation, best
// first; k <= 0 means 1 and k above the number of categories means all of
// them. The LLM router may return fewer when the model chose fewer. The
// router's memory is not used.
func (r *Router) Route(ctx context.Context, conv []llm.Message, k int) ([]Choice, error) {
	if len(conv) == 0 {
		return nil, fmt.Errorf("%s: no messages to route: pass at least one message", r.pattern.Label())
	}
	ctx = patternkit.WithUsageNode(ctx, r.pattern.Name)
	return r.route(ctx, conv, k)
}

func (r *Router) route(ctx context.Context, conv []llm.Message, k int) ([]Choice, error) {
	k = max(1, min(k, len(r.categories)))
	choices, err := r.rank(ctx, r, conv, k)
	if err != nil {
		return nil, err
	}
	if len(choices) > k {
		choices = choices[:k]
	}
	return choices, nil
}

// Generate routes the conversation (memory included) to the best category
// and returns what its Target generated from it, called statelessly with
// the caller's params.
func (r *Router) Generate(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) ([]llm.Message, error) {
	return r.pattern.Turn(ctx, msgs, params, nil, r.run)
}

// Stream runs a turn like Generate. It emits a message event from the
// router (Source is the router's name) naming the chosen category, then
// the target's events, then the final answer.
func (r *Router) Stream(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) iter.Seq2[*llm.Event, error] {
	return r.pattern.Stream(ctx, msgs, params, r.run)
}

func (r *Router) run(ctx context.Context, conv []llm.Message, params *llm.RequestParams, emit patternkit.Emit) ([]llm.Message, error) {
	choices, err := r.route(ctx, conv, 1)
	if err != nil {
		return nil, err
	}
	c := choices[0]
	if emit != nil {
		note := llm.AssistantText(strings.TrimSpace(fmt.Sprintf("Routing to %s %q (confidence %.2f). %s", c.Category.Kind, c.Category.Name, c.Confidence, c.Reasoning)))
		if !emit(&llm.Event{Kind: llm.EventMessage, Source: r.pattern.Name, Message: &note}) {
			return nil, patternkit.ErrStopped
		}
	}
	target := c.Category.Target
	if target == nil {
		return nil, fmt.Errorf("%s: %w: the request was routed to %s %q, which has no Target to run: give its Category a Target (an LLM using the server)", r.pattern.Label(), ErrNoTarget, c.Category.Kind, c.Category.Name)
	}
	out, err := patternkit.Call(ctx, target, conv, params, emit)
	if err != nil {
		if errors.Is(err, patternkit.ErrStopped) {
			return nil, err
		}
		return nil, fmt.Errorf("%s: category %q: %w", r.pattern.Label(), c.Category.Name, err)
	}
	return out, nil
}

// Run runs a chosen category's Target on msgs with params, as given (the
// caller decides about history); its usage is recorded under the router's
// node. It fails with ErrNoTarget for a server category without one.
func (r *Router) Run(ctx context.Context, choice Choice, msgs []llm.Message, params *llm.RequestParams) ([]llm.Message, error) {
	if choice.Category.Target == nil {
		return nil, fmt.Errorf("%s: %w: %s %q has no Target to run", r.pattern.Label(), ErrNoTarget, choice.Category.Kind, choice.Category.Name)
	}
	ctx = patternkit.WithUsageNode(ctx, r.pattern.Name)
	return choice.Category.Target.Generate(ctx, msgs, params)
}
