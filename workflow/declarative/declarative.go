package declarative

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/embedding"
	"github.com/mcp-agent-go/mcp-agent/workflow/evaluator"
	"github.com/mcp-agent-go/mcp-agent/workflow/intent"
	"github.com/mcp-agent-go/mcp-agent/workflow/orchestrator"
	"github.com/mcp-agent-go/mcp-agent/workflow/parallel"
	"github.com/mcp-agent-go/mcp-agent/workflow/router"
	"github.com/mcp-agent-go/mcp-agent/workflow/swarm"
)

var (
	// ErrUnknownWorkflow is returned (wrapped) by Build for a name that is
	// not declared under workflows.
	ErrUnknownWorkflow = errors.New("unknown workflow")
	// ErrNoSwarm is returned (wrapped) for a declared swarm when
	// Options.Swarm is nil.
	ErrNoSwarm = errors.New("swarm workflows need Options.Swarm")
	// ErrNoServers is returned (wrapped) when a router lists MCP servers but
	// Options.Servers is nil.
	ErrNoServers = errors.New("no server registry to describe the router's servers")
)

// AgentFunc returns the LLM that runs a declared agent: usually llm.New over
// the app's agent, with the provider and model the caller chooses for it
// (spec.Provider, and AgentParams(spec) for the model and request
// parameters, say what the declaration asks for). The
// builder calls it once per agent and shares the LLM among the workflows
// that use it; patterns call their members statelessly.
type AgentFunc func(ctx context.Context, spec config.AgentSpec) (llm.AugmentedLLM, error)

// Options configures a Builder. A nil *Options uses every default.
type Options struct {
	// Servers lists an MCP server's tools, which describe a router's server
	// categories (servers: in a router declaration) to the ranker. Usually
	// the app's *servers.Registry (app.App.Servers). Nil: building a router
	// that lists servers fails with ErrNoServers.
	Servers router.ToolLister
	// ServerLLM, when set, returns the LLM that answers a request routed to
	// a server category (typically an agent using only that server). Nil:
	// server categories are ranked but have no target, and running one
	// fails with router.ErrNoTarget.
	ServerLLM func(ctx context.Context, server string) (llm.AugmentedLLM, error)
	// Embedder returns the embedder of a model, for routers and intent
	// classifiers with ranker (classifier): embedding. Nil uses the openai
	// section of the settings (api_key, base_url, headers; see
	// embedding.FromConfig), one cached client per model.
	Embedder func(model string) (embedding.Embedder, error)
	// Swarm is what declared swarms need; nil: building one fails with
	// ErrNoSwarm.
	Swarm *SwarmOptions
}

// SwarmOptions gives a declared swarm what its agents need. A swarm's agents
// are built here from their declarations, with a transfer_to_AGENT tool for
// each handoff. Each runs on the swarm's provider and request defaults
// (Provider), unless its declaration names its own provider or model (see
// Agent).
type SwarmOptions struct {
	// Provider returns the provider of the named swarm's model calls and the
	// defaults of its agents' requests (the model; nil for none). Required.
	Provider func(ctx context.Context, swarm string) (llm.Provider, *llm.RequestParams, error)
	// Agent, when set, returns one agent's own provider and request
	// defaults from its declaration (spec.Provider; AgentParams(spec)), as
	// an AgentFunc does for the agents of the other patterns: a nil
	// provider uses the swarm's, and the params override the fields of the
	// swarm's they set (nil: none). Nil: an agent's declared model and
	// request parameters (AgentParams) override the swarm's, and an agent
	// that declares a provider other than the swarm provider's
	// (llm.Provider.Name) fails the build.
	Agent func(ctx context.Context, swarm string, spec config.AgentSpec) (llm.Provider, *llm.RequestParams, error)
	// Tools adds Go function tools (agent.NewTool, swarm.Func: handoffs,
	// context variables, ending the turn) to declared agents, by agent
	// name, in every swarm that has the agent. A name that is not a
	// declared agent fails the build.
	Tools map[string][]agent.Tool
	// Servers connects the agents' MCP servers (the app's
	// *servers.Registry); nil is only valid for agents without servers.
	Servers agent.Servers
	// HumanInput answers the agents declared with human_input: true.
	HumanInput agent.HumanInputFunc
}

// Builder builds the workflows declared in settings. It builds each agent
// and each workflow once, so a workflow used by several others is one
// instance (with one conversation memory, used only when it is called with
// history on). Its methods are safe for concurrent use.
type Builder struct {
	s      *config.Settings
	agents AgentFunc
	opts   Options

	mu        sync.Mutex
	checked   error
	validated bool
	llms      map[string]llm.AugmentedLLM // by agent name
	flows     map[string]llm.AugmentedLLM // by workflow name
	building  []string                    // workflows being built, outermost first
	embedders map[string]embedding.Embedder
}

// NewBuilder returns a builder of the workflows of s, whose agents are made
// by agents. It panics if s or agents is nil.
func NewBuilder(s *config.Settings, agents AgentFunc, opts *Options) *Builder {
	if s == nil || agents == nil {
		panic("declarative.NewBuilder: nil settings or AgentFunc")
	}
	b := &Builder{s: s, agents: agents, llms: map[string]llm.AugmentedLLM{}, flows: map[string]llm.AugmentedLLM{}, embedders: map[string]embedding.Embedder{}}
	if opts != nil {
		b.opts = *opts
	}
	return b
}

// Build builds the workflow declared as workflows.<name> in s, with the
// workflows it uses. It is NewBuilder(s, agents, opts).Build(ctx, name).
func Build(ctx context.Context, s *config.Settings, name string, agents AgentFunc, opts *Options) (llm.AugmentedLLM, error) {
	return NewBuilder(s, agents, opts).Build(ctx, name)
}

// Names returns the names of the workflows declared in s, sorted.
func Names(s *config.Settings) []string {
	if s == nil {
		return nil
	}
	names := make([]string, 0, len(s.Workflows))
	for n := range s.Workflows {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Build returns the workflow declared as workflows.<name>: an
// llm.AugmentedLLM named name. The declarations are first checked with
// config.ValidateWorkflows (settings from config.Load already were), so a
// bad declaration fails with a *config.ValidationError naming the key.
func (b *Builder) Build(ctx context.Context, name string) (llm.AugmentedLLM, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.validated {
		b.validated = true
		b.checked = config.ValidateWorkflows(b.s)
	}
	if b.checked != nil {
		return nil, b.checked
	}
	if _, ok := b.s.Workflows[name]; !ok {
		if len(b.s.Workflows) == 0 {
			return nil, fmt.Errorf("%w %q: no workflows are declared (add one under workflows: in mcp_agent.config.yaml; see docs/patterns.md)", ErrUnknownWorkflow, name)
		}
		return nil, fmt.Errorf("%w %q (declared: %s)", ErrUnknownWorkflow, name, strings.Join(Names(b.s), ", "))
	}
	return b.workflow(ctx, name)
}

// member returns the LLM of a member reference: a declared agent or
// another workflow.
func (b *Builder) member(ctx context.Context, ref string) (llm.AugmentedLLM, error) {
	if spec, ok := b.agentSpec(ref); ok {
		if l, ok := b.llms[ref]; ok {
			return l, nil
		}
		l, err := b.agents(ctx, spec)
		if err != nil {
			return nil, fmt.Errorf("agent %q: %w", ref, err)
		}
		b.llms[ref] = l
		return l, nil
	}
	if _, ok := b.s.Workflows[ref]; ok {
		return b.workflow(ctx, ref)
	}
	// Unreachable after validation.
	return nil, fmt.Errorf("%q is neither a declared agent nor a workflow", ref)
}

func (b *Builder) agentSpec(name string) (config.AgentSpec, bool) {
	if b.s.Agents == nil {
		return config.AgentSpec{}, false
	}
	for _, a := range b.s.Agents.Definitions {
		if a.Name == name {
			return a, true
		}
	}
	return config.AgentSpec{}, false
}

// describe is what a router or orchestrator is told a member does.
func (b *Builder) describe(ref string) string {
	if spec, ok := b.agentSpec(ref); ok {
		if spec.Description != "" {
			return spec.Description
		}
		return spec.Instruction
	}
	w := b.s.Workflows[ref]
	if w.Description != "" {
		return w.Description
	}
	return "A " + w.Type + " workflow."
}

func (b *Builder) workflow(ctx context.Context, name string) (llm.AugmentedLLM, error) {
	if l, ok := b.flows[name]; ok {
		return l, nil
	}
	for i, n := range b.building {
		if n == name { // unreachable after validation, kept as a guard
			chain := append(append([]string(nil), b.building[i:]...), name)
			for j := range chain {
				chain[j] = "workflows." + chain[j]
			}
			return nil, fmt.Errorf("workflows contain each other: %s", strings.Join(chain, " -> "))
		}
	}
	b.building = append(b.building, name)
	defer func() { b.building = b.building[:len(b.building)-1] }()

	d := decl{name: name, spec: b.s.Workflows[name]}
	var (
		l   llm.AugmentedLLM
		err error
	)
	switch d.spec.Type {
	case config.WorkflowParallel:
		l, err = b.parallel(ctx, d)
	case config.WorkflowRouter:
		l, err = b.router(ctx, d)
	case config.WorkflowIntent:
		l, err = b.intent(ctx, d)
	case config.WorkflowEvaluatorOptimizer:
		l, err = b.evaluatorOptimizer(ctx, d)
	case config.WorkflowOrchestrator:
		l, err = b.orchestrator(ctx, d)
	case config.WorkflowSwarm:
		l, err = b.swarm(ctx, d)
	default: // unreachable after validation
		err = fmt.Errorf("unknown workflow type %q", d.spec.Type)
	}
	if err != nil {
		return nil, fmt.Errorf("workflows.%s: %w", name, err)
	}
	b.flows[name] = l
	return l, nil
}

func (b *Builder) members(ctx context.Context, refs []string) ([]llm.AugmentedLLM, error) {
	out := make([]llm.AugmentedLLM, len(refs))
	for i, r := range refs {
		l, err := b.member(ctx, r)
		if err != nil {
			return nil, err
		}
		out[i] = l
	}
	return out, nil
}

func (b *Builder) parallel(ctx context.Context, d decl) (llm.AugmentedLLM, error) {
	fanOut, err := b.members(ctx, d.spec.Agents)
	if err != nil {
		return nil, err
	}
	var fanIn parallel.FanIn
	if ref := d.str("fan_in"); ref != "" {
		agg, err := b.member(ctx, ref)
		if err != nil {
			return nil, err
		}
		fanIn = parallel.Aggregator(agg)
	}
	opts := &parallel.Options{Name: d.name, MaxConcurrency: d.integer("max_concurrency")}
	if strings.EqualFold(d.str("error_policy"), "collect_errors") {
		opts.ErrorPolicy = parallel.CollectErrors
	}
	return parallel.New(fanIn, fanOut, opts)
}

func (b *Builder) router(ctx context.Context, d decl) (llm.AugmentedLLM, error) {
	var cats []router.Category
	for _, ref := range d.spec.Agents {
		l, err := b.member(ctx, ref)
		if err != nil {
			return nil, err
		}
		cats = append(cats, router.Category{Name: ref, Description: b.describe(ref), Kind: router.KindAgent, Target: l})
	}
	for _, srv := range d.list("servers") {
		if b.opts.Servers == nil {
			return nil, fmt.Errorf("%w: server %q needs Options.Servers (the app's server registry)", ErrNoServers, srv)
		}
		var target llm.AugmentedLLM
		if b.opts.ServerLLM != nil {
			var err error
			if target, err = b.opts.ServerLLM(ctx, srv); err != nil {
				return nil, fmt.Errorf("server %q: %w", srv, err)
			}
		}
		cat, err := router.ServerCategoryFrom(ctx, b.opts.Servers, srv, b.s.MCP.Servers[srv].Description, target)
		if err != nil {
			return nil, err
		}
		cats = append(cats, cat)
	}
	opts := &router.Options{Name: d.name, Instruction: d.str("instruction")}
	var r *router.Router
	if strings.EqualFold(d.str("ranker"), "embedding") {
		e, err := b.embedder(d.str("embedding_model"))
		if err != nil {
			return nil, err
		}
		if r, err = router.NewEmbedding(e, cats, opts); err != nil {
			return nil, err
		}
	} else {
		ranker, err := b.member(ctx, d.str("routing_agent"))
		if err != nil {
			return nil, err
		}
		if r, err = router.NewLLM(ranker, cats, opts); err != nil {
			return nil, err
		}
	}
	if k := d.integer("top_k"); k > 1 {
		// The answer lists the routes whenever top_k asks for several, even
		// when fewer categories exist or the ranker chose fewer.
		return newTopKRouter(r, min(k, len(cats)), d.integer("max_concurrency")), nil
	}
	return r, nil
}

func (b *Builder) intent(ctx context.Context, d decl) (llm.AugmentedLLM, error) {
	intents := d.intents()
	opts := &intent.Options{Name: d.name, TopK: d.integer("top_k"), Instruction: d.str("instruction")}
	if strings.EqualFold(d.str("classifier"), "embedding") {
		e, err := b.embedder(d.str("embedding_model"))
		if err != nil {
			return nil, err
		}
		return intent.NewEmbedding(e, intents, opts)
	}
	if len(d.spec.Agents) != 1 { // unreachable after validation
		return nil, errors.New("agents: want the one classifying agent")
	}
	c, err := b.member(ctx, d.spec.Agents[0])
	if err != nil {
		return nil, err
	}
	return intent.NewLLM(c, intents, opts)
}

func (b *Builder) evaluatorOptimizer(ctx context.Context, d decl) (llm.AugmentedLLM, error) {
	optRef, evalRef := d.str("optimizer"), d.str("evaluator")
	if len(d.spec.Agents) == 2 {
		optRef, evalRef = d.spec.Agents[0], d.spec.Agents[1]
	}
	opt, err := b.member(ctx, optRef)
	if err != nil {
		return nil, err
	}
	eval, err := b.member(ctx, evalRef)
	if err != nil {
		return nil, err
	}
	opts := &evaluator.Options{
		Name:             d.name,
		MaxRefinements:   d.integer("max_refinements"),
		Criteria:         d.str("criteria"),
		RequireThreshold: d.boolean("require_threshold"),
	}
	if r := d.str("min_rating"); r != "" {
		if opts.MinRating, err = evaluator.ParseRating(r); err != nil {
			return nil, fmt.Errorf("min_rating: %w", err)
		}
	}
	return evaluator.New(opt, eval, opts)
}

func (b *Builder) orchestrator(ctx context.Context, d decl) (llm.AugmentedLLM, error) {
	planner, err := b.member(ctx, d.str("planner"))
	if err != nil {
		return nil, err
	}
	workers := make([]orchestrator.Worker, 0, len(d.spec.Agents))
	for _, ref := range d.spec.Agents {
		l, err := b.member(ctx, ref)
		if err != nil {
			return nil, err
		}
		workers = append(workers, orchestrator.Worker{LLM: l, Name: ref, Description: b.describe(ref)})
	}
	opts := &orchestrator.Options{
		Name:           d.name,
		MaxSteps:       d.integer("max_steps"),
		MaxIterations:  d.integer("max_iterations"),
		MaxConcurrency: d.integer("max_concurrency"),
	}
	if strings.EqualFold(d.str("plan_type"), "iterative") {
		opts.Mode = orchestrator.Iterative
	}
	if strings.EqualFold(d.str("error_policy"), "report_errors") {
		opts.OnWorkerError = orchestrator.ReportErrors
	}
	if ref := d.str("synthesizer"); ref != "" {
		if opts.Synthesizer, err = b.member(ctx, ref); err != nil {
			return nil, err
		}
	}
	return orchestrator.New(planner, workers, opts)
}

func (b *Builder) swarm(ctx context.Context, d decl) (llm.AugmentedLLM, error) {
	so := b.opts.Swarm
	if so == nil || so.Provider == nil {
		return nil, fmt.Errorf("%w (the provider and servers of its agents)", ErrNoSwarm)
	}
	for _, name := range sortedKeys(so.Tools) {
		if _, ok := b.agentSpec(name); !ok {
			return nil, fmt.Errorf("SwarmOptions.Tools[%q]: no agent of that name is declared (under agents.definitions)", name)
		}
	}
	p, params, err := so.Provider(ctx, d.name)
	if err != nil {
		return nil, err
	}
	handoffs, explicit := d.handoffs()
	srcs := make([]llm.ToolSource, 0, len(d.spec.Agents))
	own := map[string]swarm.AgentOptions{}
	for _, name := range d.spec.Agents {
		spec, ok := b.agentSpec(name)
		if !ok { // unreachable after validation
			return nil, fmt.Errorf("%q is not a declared agent", name)
		}
		var targets []string
		if explicit {
			targets = handoffs[name]
		} else { // every agent can hand off to every other
			for _, to := range d.spec.Agents {
				if to != name {
					targets = append(targets, to)
				}
			}
		}
		tools := make([]agent.Tool, 0, len(targets)+len(so.Tools[name]))
		for _, to := range targets {
			tools = append(tools, swarm.TransferTo(to, b.describe(to)))
		}
		tools = append(tools, so.Tools[name]...)
		ag, err := agent.FromSpec(spec, so.Servers, &agent.FromSpecOptions{Tools: tools, HumanInput: so.HumanInput})
		if err != nil {
			return nil, fmt.Errorf("agent %q: %w", name, err)
		}
		srcs = append(srcs, ag)
		ao, err := swarmAgent(ctx, so, d.name, spec, p)
		if err != nil {
			return nil, fmt.Errorf("agent %q: %w", name, err)
		}
		if ao.Provider != nil || ao.Params != nil {
			own[name] = ao
		}
	}
	return swarm.New(p, srcs, &swarm.Options{
		Name:        d.name,
		Start:       d.str("start"),
		MaxHandoffs: d.integer("max_handoffs"),
		Params:      params,
		Agents:      own,
	})
}

// swarmAgent returns the provider and request defaults of a swarm's agent
// of its own, from SwarmOptions.Agent or else its declaration; p is the
// swarm's provider.
func swarmAgent(ctx context.Context, so *SwarmOptions, swarmName string, spec config.AgentSpec, p llm.Provider) (swarm.AgentOptions, error) {
	if so.Agent != nil {
		ap, params, err := so.Agent(ctx, swarmName, spec)
		return swarm.AgentOptions{Provider: ap, Params: params}, err
	}
	if prov := strings.TrimSpace(spec.Provider); prov != "" && p != nil && !strings.EqualFold(prov, p.Name()) {
		return swarm.AgentOptions{}, fmt.Errorf("declares provider %q but the swarm runs on %q: set SwarmOptions.Agent to give agents their own providers", prov, p.Name())
	}
	return swarm.AgentOptions{Params: AgentParams(spec)}, nil
}

// AgentParams returns the request parameters a declared agent asks for:
// its model, temperature, max_tokens, max_iterations, reasoning_effort and
// parallel_tool_calls, or nil when it sets none. Fields the declaration
// leaves unset are zero, so llm.MergeParams(defaults, AgentParams(spec))
// keeps the defaults for them. An AgentFunc passes it to llm.New (after
// applying the caller's overrides, such as a --model flag).
func AgentParams(spec config.AgentSpec) *llm.RequestParams {
	p := llm.RequestParams{
		Model:             strings.TrimSpace(spec.Model),
		MaxTokens:         spec.MaxTokens,
		MaxIterations:     spec.MaxIterations,
		ReasoningEffort:   llm.ReasoningEffort(spec.ReasoningEffort),
		ParallelToolCalls: spec.ParallelToolCalls,
	}
	if spec.Temperature != nil {
		p.Temperature = llm.Float(*spec.Temperature)
	}
	if p.ParallelToolCalls != nil {
		p.ParallelToolCalls = llm.Bool(*p.ParallelToolCalls)
	}
	if p.Model == "" && p.MaxTokens == 0 && p.MaxIterations == 0 && p.ReasoningEffort == "" && p.Temperature == nil && p.ParallelToolCalls == nil {
		return nil
	}
	return &p
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// embedder returns the (cached) embedder of model ("" is
// embedding.DefaultModel).
func (b *Builder) embedder(model string) (embedding.Embedder, error) {
	if e, ok := b.embedders[model]; ok {
		return e, nil
	}
	var e embedding.Embedder
	if b.opts.Embedder != nil {
		var err error
		if e, err = b.opts.Embedder(model); err != nil {
			return nil, fmt.Errorf("embedding model %q: %w", model, err)
		}
	} else {
		ps := b.s.OpenAI
		if ps == nil {
			ps = &config.ProviderSettings{}
		}
		e = embedding.NewCache(embedding.FromConfig(ps, &embedding.Options{Model: model}), nil)
	}
	b.embedders[model] = e
	return e, nil
}

// decl reads the options of one declaration. Values were checked by
// config.ValidateWorkflows; the readers only convert them.
type decl struct {
	name string
	spec config.WorkflowSpec
}

func (d decl) str(key string) string {
	switch v := d.spec.Options[key].(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(v)
	default:
		return fmt.Sprint(v)
	}
}

func (d decl) integer(key string) int {
	switch v := d.spec.Options[key].(type) {
	case int:
		return v
	case int64:
		return int(v)
	case uint64:
		return int(min(v, math.MaxInt32))
	case float64:
		return int(v)
	case string:
		n, _ := strconv.Atoi(strings.TrimSpace(v))
		return n
	}
	return 0
}

func (d decl) boolean(key string) bool {
	switch v := d.spec.Options[key].(type) {
	case bool:
		return v
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true", "yes", "on":
			return true
		}
	}
	return false
}

func (d decl) list(key string) []string {
	items, _ := d.spec.Options[key].([]any)
	out := make([]string, 0, len(items))
	for _, it := range items {
		if it != nil {
			out = append(out, fmt.Sprint(it))
		}
	}
	return out
}

// handoffs returns the handoffs option: targets by agent, and whether it is
// set.
func (d decl) handoffs() (map[string][]string, bool) {
	m, ok := d.spec.Options["handoffs"].(map[string]any)
	if !ok {
		return nil, false
	}
	out := map[string][]string{}
	for from, v := range m {
		list, _ := v.([]any)
		for _, to := range list {
			if s, ok := to.(string); ok {
				out[from] = append(out[from], s)
			}
		}
	}
	return out, true
}

func (d decl) intents() []intent.Intent {
	items, _ := d.spec.Options["intents"].([]any)
	out := make([]intent.Intent, 0, len(items))
	for _, it := range items {
		m, _ := it.(map[string]any)
		in := intent.Intent{}
		in.Name, _ = m["name"].(string)
		in.Description, _ = m["description"].(string)
		ex, _ := m["examples"].([]any)
		for _, e := range ex {
			if s, ok := e.(string); ok {
				in.Examples = append(in.Examples, s)
			}
		}
		if md, ok := m["metadata"].(map[string]any); ok {
			in.Metadata = map[string]string{}
			for k, v := range md {
				in.Metadata[k] = fmt.Sprint(v)
			}
		}
		out = append(out, in)
	}
	return out
}
