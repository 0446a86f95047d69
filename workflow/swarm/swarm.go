package swarm

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patternkit"
)

// DefaultMaxHandoffs is the handoff limit of a turn when
// Options.MaxHandoffs is 0.
const DefaultMaxHandoffs = 10

// ErrMaxHandoffs is wrapped by [*MaxHandoffsError].
var ErrMaxHandoffs = errors.New("too many handoffs")

// MaxHandoffsError reports a turn whose agents kept handing off beyond
// Options.MaxHandoffs. It wraps [ErrMaxHandoffs].
type MaxHandoffsError struct {
	Swarm string
	Max   int
	// Path lists the agents in the order they were active, ending with the
	// refused handoff's target.
	Path []string
}

func (e *MaxHandoffsError) Error() string {
	return fmt.Sprintf("swarm %q: more than %d handoffs in one turn (%s): the agents keep handing the conversation back and forth; raise Options.MaxHandoffs or tell the agents when to answer",
		e.Swarm, e.Max, strings.Join(e.Path, " -> "))
}

func (e *MaxHandoffsError) Unwrap() error { return ErrMaxHandoffs }

// Options configures a [Swarm]. A nil *Options uses every default.
type Options struct {
	// Name names the pattern in events, errors and usage reports; "" is
	// "swarm".
	Name string
	// Start is the agent that answers first; "" is the first agent.
	Start string
	// MaxHandoffs bounds the handoffs of one turn; 0 means
	// DefaultMaxHandoffs. The handoff beyond it fails the turn with a
	// *MaxHandoffsError.
	MaxHandoffs int
	// Handoffs adds handoff tools without Go code (for agents built from
	// configuration): it maps an agent's name to the agents it may hand
	// off to, and each gets a "transfer_to_<target>" tool like
	// [TransferTo] on that agent. A tool of the agent with the same name
	// is hidden by it.
	Handoffs map[string][]string
	// Params are the defaults of every agent's model calls (Model,
	// MaxIterations, ...); an agent's Agents[name].Params override them,
	// and the caller's RequestParams override both.
	Params *llm.RequestParams
	// Agents gives agents, by name, their own provider and request
	// defaults, such as a cheap model for a triage agent and a stronger one
	// for a specialist. An agent without an entry uses New's provider and
	// Params.
	Agents map[string]AgentOptions
	// Variables are the initial context variables.
	Variables map[string]any
	// Instructions, when set, computes an agent's system prompt from its
	// instruction and the context variables before each of its turns (the
	// Swarm feature of instructions that depend on context). Nil uses the
	// agent's instruction as it is.
	Instructions func(agent llm.ToolSource, vars map[string]any) string
	// Memory keeps the conversation between turns (every message of every
	// turn); nil uses a new llm.SimpleMemory.
	Memory llm.Memory
	// Retry and Prices are passed to the agents' LLMs (see llm.Options).
	Retry  *llm.RetryPolicy
	Prices *llm.PriceTable
}

// AgentOptions gives one agent of a swarm its own model (Options.Agents).
// The zero value uses the swarm's provider and Options.Params.
type AgentOptions struct {
	// Provider, when set, takes the agent's model calls instead of the
	// provider given to New.
	Provider llm.Provider
	// Params are the agent's request defaults: the fields they set (Model,
	// Temperature, MaxTokens, ...) override Options.Params for this agent;
	// the caller's RequestParams override both.
	Params *llm.RequestParams
}

// Swarm is OpenAI's Swarm pattern on any model provider: agents with
// instructions and tools, where a tool can hand the conversation to
// another agent ([TransferTo], [Func]), share context variables and end the
// turn. It is an [llm.AugmentedLLM] and safe for concurrent use; turns
// share the context variables and the active agent, so run one turn at a
// time per conversation.
type Swarm struct {
	name        string
	members     map[string]*llm.LLM
	sources     map[string]llm.ToolSource
	order       []string
	start       string
	maxHandoffs int
	instr       func(llm.ToolSource, map[string]any) string
	memory      llm.Memory
	initVars    map[string]any
	vars        *Variables

	mu     sync.Mutex
	active string
}

var _ llm.AugmentedLLM = (*Swarm)(nil)

// New returns a swarm of agents whose model calls go to provider, or to an
// agent's own Options.Agents[name].Provider. Each agent (usually an
// [*agent.Agent] with MCP servers and function tools from [Func] and
// [TransferTo]) runs in an [llm.LLM] built with llm.New, named after it,
// so usage reports list each agent's calls and models separately.
//
// New fails for no agents, a nil or unnamed agent, duplicate names, an
// agent with no provider (provider is nil and it has none of its own), an
// Options.Agents or Options.Handoffs entry naming no agent, an unknown
// Start agent or a negative MaxHandoffs.
func New(provider llm.Provider, agents []llm.ToolSource, opts *Options) (*Swarm, error) {
	if opts == nil {
		opts = &Options{}
	}
	s := &Swarm{
		name:        opts.Name,
		members:     make(map[string]*llm.LLM, len(agents)),
		sources:     make(map[string]llm.ToolSource, len(agents)),
		start:       opts.Start,
		maxHandoffs: opts.MaxHandoffs,
		instr:       opts.Instructions,
		memory:      opts.Memory,
		initVars:    opts.Variables,
		vars:        newVariables(opts.Variables),
	}
	if s.name == "" {
		s.name = "swarm"
	}
	fail := func(format string, args ...any) (*Swarm, error) {
		return nil, fmt.Errorf("%s: %s", s.label(), fmt.Sprintf(format, args...))
	}
	if len(agents) == 0 {
		return fail("no agents: give at least one")
	}
	for i, a := range agents {
		if a == nil {
			return fail("agent %d is nil", i)
		}
		name := a.Name()
		if name == "" {
			return fail("agent %d has no name", i)
		}
		if _, dup := s.sources[name]; dup {
			return fail("two agents are named %q", name)
		}
		s.sources[name] = a
		s.order = append(s.order, name)
	}
	for _, from := range slices.Sorted(maps.Keys(opts.Handoffs)) {
		if _, ok := s.sources[from]; !ok {
			return fail("Handoffs[%q]: no such agent; the agents are: %s", from, strings.Join(s.order, ", "))
		}
		for _, to := range opts.Handoffs[from] {
			if _, ok := s.sources[to]; !ok || to == from {
				return fail("Handoffs[%q]: cannot hand off to %q: name another of the agents: %s", from, to, strings.Join(s.order, ", "))
			}
		}
		s.sources[from] = &withHandoffs{ToolSource: s.sources[from], targets: opts.Handoffs[from]}
	}
	for _, name := range slices.Sorted(maps.Keys(opts.Agents)) {
		if _, ok := s.sources[name]; !ok {
			return fail("Agents[%q]: no such agent; the agents are: %s", name, strings.Join(s.order, ", "))
		}
	}
	for _, name := range s.order {
		ao := opts.Agents[name]
		p, params := provider, opts.Params
		if ao.Provider != nil {
			p = ao.Provider
		}
		if ao.Params != nil {
			params = llm.MergeParams(opts.Params, ao.Params)
		}
		if p == nil {
			if len(opts.Agents) == 0 {
				return fail("no provider: give the llm.Provider the agents' model calls go to")
			}
			return fail("agent %q has no provider: give New the swarm's llm.Provider, or set Options.Agents[%q].Provider", name, name)
		}
		s.members[name] = llm.New(s.sources[name], &interceptProvider{Provider: p, swarm: s}, &llm.Options{Name: name, Params: params, Retry: opts.Retry, Prices: opts.Prices})
	}
	if s.start == "" {
		s.start = s.order[0]
	}
	if _, ok := s.sources[s.start]; !ok {
		return fail("Start agent %q is not one of the agents: %s", s.start, strings.Join(s.order, ", "))
	}
	if s.maxHandoffs < 0 {
		return fail("MaxHandoffs is %d: use 0 for the default or a positive bound", s.maxHandoffs)
	}
	if s.maxHandoffs == 0 {
		s.maxHandoffs = DefaultMaxHandoffs
	}
	if s.memory == nil {
		s.memory = llm.NewMemory()
	}
	s.active = s.start
	return s, nil
}

func (s *Swarm) label() string { return fmt.Sprintf("swarm %q", s.name) }

// Name returns the pattern's name.
func (s *Swarm) Name() string { return s.name }

// Memory returns the pattern's conversation memory.
func (s *Swarm) Memory() llm.Memory { return s.memory }

// Variables returns the swarm's context variables.
func (s *Swarm) Variables() *Variables { return s.vars }

// Agent returns the LLM running the named agent, or nil (for its usage
// report: Agent(name).UsageReport()).
func (s *Swarm) Agent(name string) *llm.LLM { return s.members[name] }

// ActiveAgent returns the agent that answers the next turn: the last
// turn's answering agent, or the Start agent.
func (s *Swarm) ActiveAgent() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.active
}

// Reset makes the Start agent active again, restores the initial context
// variables and clears the memory.
func (s *Swarm) Reset(ctx context.Context) error {
	s.mu.Lock()
	s.active = s.start
	s.mu.Unlock()
	s.vars.reset(s.initVars)
	return s.memory.Clear(ctx)
}

// Result is what one turn did.
type Result struct {
	// Messages are every message of the turn, from every agent, in order:
	// assistant messages (with tool calls) and tool results; the last is
	// the answer.
	Messages []llm.Message
	// Agent is the agent that answered (and answers the next turn).
	Agent string
	// Handoffs lists the turn's handoffs in order.
	Handoffs []Handoff
	// Variables is a snapshot of the context variables at the end.
	Variables map[string]any
}

// Handoff is one handoff of a turn.
type Handoff struct{ From, To string }

// Answer returns the text of the final answer.
func (r *Result) Answer() string { return llm.FinalText(r.Messages) }

// Generate runs one turn and returns its messages (see [Result].Messages).
func (s *Swarm) Generate(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) ([]llm.Message, error) {
	res, err := s.run(ctx, msgs, params, nil)
	if err != nil {
		return nil, err
	}
	return res.Messages, nil
}

// Stream runs one turn like Generate and forwards the agents' events as
// they happen (Source: the active agent's name), then the final answer
// (Source: the swarm's name).
func (s *Swarm) Stream(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) iter.Seq2[*llm.Event, error] {
	return patternkit.Stream(ctx, s.name, func(ctx context.Context, emit patternkit.Emit) ([]llm.Message, error) {
		res, err := s.run(ctx, msgs, params, emit)
		if err != nil {
			return nil, err
		}
		return res.Messages, nil
	})
}

// Run runs one turn like Generate and returns its [Result]. A failed turn
// returns what happened until the failure along with the error.
func (s *Swarm) Run(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) (*Result, error) {
	return s.run(ctx, msgs, params, nil)
}

// errIntercepted is returned by the swarm's provider, instead of making a
// model call, once a function has handed off or ended the turn: it ends
// the agent's tool loop right after the tool calls.
var errIntercepted = errors.New("swarm: turn handed over")

// interceptProvider wraps an agent's provider: a model call made while a
// handoff or an end of turn is pending fails with errIntercepted.
type interceptProvider struct {
	llm.Provider
	swarm *Swarm
}

func (p *interceptProvider) intercepted(ctx context.Context) bool {
	st := stateFrom(ctx)
	return st != nil && st.swarm == p.swarm && st.pending()
}

func (p *interceptProvider) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if p.intercepted(ctx) {
		return nil, errIntercepted
	}
	return p.Provider.Complete(ctx, req)
}

func (p *interceptProvider) Stream(ctx context.Context, req *llm.Request) iter.Seq2[*llm.Chunk, error] {
	if p.intercepted(ctx) {
		return func(yield func(*llm.Chunk, error) bool) { yield(nil, errIntercepted) }
	}
	return p.Provider.Stream(ctx, req)
}

func (s *Swarm) run(ctx context.Context, msgs []llm.Message, params *llm.RequestParams, emit patternkit.Emit) (*Result, error) {
	s.mu.Lock()
	active := s.active
	s.mu.Unlock()
	res := &Result{Agent: active}
	defer func() { res.Variables = s.vars.Snapshot() }()
	conv, err := patternkit.LoadConversation(ctx, s.label(), s.memory, msgs, params)
	if err != nil {
		return res, err
	}
	ctx = patternkit.WithUsageNode(ctx, s.name)
	st := &turnState{swarm: s}
	ctx = context.WithValue(ctx, stateKey{}, st)
	path := []string{active}
	for {
		st.begin(active)
		p := patternkit.Stateless(params)
		p.SystemPrompt = "" // each agent's own instruction
		if s.instr != nil {
			p.SystemPrompt = s.instr(s.sources[active], s.vars.Snapshot())
		}
		out, err := s.agentTurn(ctx, active, append(slices.Clip(conv), res.Messages...), p, emit, st)
		res.Messages = append(res.Messages, out...)
		if err == nil {
			break
		}
		handoff, done := st.outcome()
		if errors.Is(err, patternkit.ErrStopped) || !errors.Is(err, errIntercepted) || (handoff == "" && done == nil) {
			if errors.Is(err, patternkit.ErrStopped) {
				return res, err
			}
			return res, fmt.Errorf("%s: agent %q: %w", s.label(), active, err)
		}
		if done != nil {
			answer := llm.AssistantText(*done)
			res.Messages = append(res.Messages, answer)
			if emit != nil && !emit(&llm.Event{Kind: llm.EventMessage, Source: active, Message: &answer}) {
				return res, patternkit.ErrStopped
			}
			break
		}
		path = append(path, handoff)
		if len(res.Handoffs) >= s.maxHandoffs {
			return res, &MaxHandoffsError{Swarm: s.name, Max: s.maxHandoffs, Path: path}
		}
		res.Handoffs = append(res.Handoffs, Handoff{From: active, To: handoff})
		active = handoff
		res.Agent = active
	}
	s.mu.Lock()
	s.active = active
	s.mu.Unlock()
	if patternkit.UseHistory(params) {
		if err := s.memory.Append(ctx, append(slices.Clip(msgs), res.Messages...)...); err != nil {
			return res, fmt.Errorf("%s: saving memory: %w", s.label(), err)
		}
	}
	return res, nil
}

// agentTurn runs one agent's tool loop on conv, streaming it (also for
// Generate: the messages of a turn that ends in a handoff are only seen as
// events), and returns the messages it produced. Its events, except the
// final one and the start of an intercepted iteration, go to emit.
func (s *Swarm) agentTurn(ctx context.Context, name string, conv []llm.Message, p *llm.RequestParams, emit patternkit.Emit, st *turnState) ([]llm.Message, error) {
	var out []llm.Message
	for ev, err := range s.members[name].Stream(ctx, conv, p) {
		if err != nil {
			return out, err
		}
		switch ev.Kind {
		case llm.EventFinal:
			continue
		case llm.EventMessage:
			out = append(out, *ev.Message)
		case llm.EventIterationStarted:
			if st.pending() {
				continue // the model call about to be intercepted
			}
		}
		if emit != nil && !emit(ev) {
			return out, patternkit.ErrStopped
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("agent %q produced no message", name)
	}
	return out, nil
}
