// Package swarm is OpenAI's Swarm pattern, model-agnostic: agents with
// instructions and tools, where a tool can hand the conversation to another
// agent, read and write shared context variables, or end the turn. The
// agents' model calls go to any [llm.Provider] (OpenAI, Anthropic, replay,
// ...) through LLMs built with llm.New.
//
// Quick start:
//
//	refund := swarm.Func("issue_refund", "Refund the customer.",
//		func(ctx context.Context, in struct{ Amount float64 `json:"amount"` }) (swarm.FuncResult, error) {
//			customer, _ := swarm.VariablesFrom(ctx).Get("customer")
//			return swarm.FuncResult{Value: fmt.Sprintf("Refunded %v to %v.", in.Amount, customer), Done: true}, nil
//		})
//	triage, _ := agent.New(agent.Config{Name: "triage", Instruction: "Route the customer.",
//		Tools: []agent.Tool{swarm.TransferTo("billing", "For invoices and refunds.")}}, nil)
//	billing, _ := agent.New(agent.Config{Name: "billing", Instruction: "Handle billing.",
//		ServerNames: []string{"ledger"}, Tools: []agent.Tool{refund}}, registry)
//
//	s, err := swarm.New(provider, []llm.ToolSource{triage, billing},
//		&swarm.Options{Variables: map[string]any{"customer": "Ada"}})
//	res, err := s.Run(ctx, llm.Prompt("I want my 42 EUR back"), nil)
//	fmt.Println(res.Answer(), res.Agent, res.Handoffs)
//
// A [Swarm] is an [llm.AugmentedLLM], so it can be a worker of an
// orchestrator, a route of a router or a member of a parallel.
//
// # Turns and handoffs
//
// A turn starts with the active agent (Options.Start, then whichever agent
// answered the previous turn). The agent runs its tool loop; when one of
// its tools hands off ([TransferTo], or a [Func] returning
// FuncResult.Agent), the other tool calls of the same response still run,
// then the next model call is the target agent's, with its own instruction
// and tools and the whole conversation so far. The turn ends when an agent
// answers without calling tools, or when a function returns
// FuncResult.Done (its Value is the answer; no further model call is
// made). Options.Handoffs adds transfer tools without Go code, by agent
// name (for agents built from configuration). A handoff to an unknown agent, to the active agent itself, or a
// second handoff in one response is an error result the model can correct.
//
// Options.MaxHandoffs (default 10) bounds the handoffs of one turn: agents
// that keep handing the conversation back and forth fail the turn with a
// [*MaxHandoffsError] listing the path (a -> b -> a -> ...). Each agent's
// tool loop is bounded by RequestParams.MaxIterations as usual.
//
// # Context variables
//
// [Variables] are shared by the swarm's functions (any function tool can
// reach them with [VariablesFrom] on its ctx; a Func can also return
// FuncResult.Variables) and by Options.Instructions, which computes each
// agent's system prompt from its instruction and the variables. They
// persist across turns; [Swarm.Reset] restores the initial ones.
//
// # Models per agent
//
// The agents share New's provider and Options.Params unless
// Options.Agents gives one its own: a cheap model for triage, a stronger
// one for the specialist, even another provider:
//
//	s, err := swarm.New(openaiProvider, []llm.ToolSource{triage, billing}, &swarm.Options{
//		Params: &llm.RequestParams{MaxTokens: 1024},
//		Agents: map[string]swarm.AgentOptions{
//			"triage":  {Params: &llm.RequestParams{Model: "gpt-4o-mini"}},
//			"billing": {Provider: anthropicProvider, Params: &llm.RequestParams{Model: "claude-sonnet-4-5", Temperature: llm.Float(0.2)}},
//		},
//	})
//
// An agent's Params override the fields of Options.Params they set; the
// caller's RequestParams (of Generate, Stream, Run) override both, so a
// Model passed there applies to every agent. New's provider may be nil when
// every agent has its own.
//
// # Conversation, events and usage
//
// The swarm owns the conversation (Options.Memory) and keeps every message
// of every turn, tool calls included, so that the next agent sees what
// happened. [Swarm.Run] returns a [Result] with the turn's messages, the
// answering agent, the handoffs and the variables. Stream forwards each
// agent's events with the agent's name as Source. When the context
// carries an [llm.UsageTracker], each agent's calls are recorded under a
// node of kind [llm.UsageWorkflow] named after the swarm, in a child node
// named after the agent, by model: the report shows which agent spent
// what. [Swarm.Agent](name).UsageReport() reports one agent's calls across
// turns.
//
// Ending an agent's tool loop at a handoff works through the provider the
// swarm gives its agents: once a handoff or the end of the turn is
// pending, that agent's next model call is not made. So a handoff costs no
// extra model call.
package swarm
