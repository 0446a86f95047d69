// Package declarative builds the workflows an app declares in
// mcp_agent.config.yaml under workflows: (parallel, router, intent,
// evaluator-optimizer, orchestrator, swarm) into llm.AugmentedLLM values, so
// an app with no Go code runs them (mcp-agent run --workflow NAME "message").
//
// Quick start:
//
//	settings, err := config.Load(config.LoadOptions{})
//	if err != nil {
//		log.Fatal(err) // e.g. mcp_agent.config.yaml:31: workflows.review.min_rating: unknown rating "grate" (want poor, fair, good, excellent)
//	}
//	a, err := app.New(app.Options{Settings: settings})
//	...
//	w, err := declarative.Build(ctx, settings, "review",
//		func(ctx context.Context, spec config.AgentSpec) (llm.AugmentedLLM, error) {
//			ag, err := a.Agent(spec.Name)
//			if err != nil {
//				return nil, err
//			}
//			return llm.New(ag, provider, &llm.Options{Params: declarative.AgentParams(spec)}), nil
//		},
//		&declarative.Options{Servers: a.Servers()})
//	answer, err := llm.GenerateString(ctx, w, llm.Prompt("Review this story: ..."), nil)
//
// The caller makes each agent's LLM (AgentFunc), so it chooses the provider
// and model of every agent (honouring AgentSpec.Provider and Model, or
// replaying scripts in tests). [AgentParams] turns an agent's declared
// model and request parameters (temperature, max_tokens, max_iterations,
// reasoning_effort, parallel_tool_calls) into llm.RequestParams. A workflow's members are declared agents or
// other declared workflows, so declarations compose: a parallel of
// evaluator-optimizers, a router whose route is a parallel. Each agent and
// each workflow is built once per Builder and shared.
//
// Declarations are checked when the configuration is loaded (config.Load
// reports unknown members, missing or unknown keys, wrong value types and
// cycles with the file, line and key); Build checks settings built in code
// the same way (config.ValidateWorkflows). The keys of each type are listed
// in docs/patterns.md, "Declaring workflows".
//
// A router declared with top_k above 1 runs each of its k best categories
// on the request, concurrently (at most max_concurrency at once), and
// answers with one Markdown section per route, best first:
// "## NAME (confidence 0.90)" followed by that route's answer. The first
// route to fail fails the turn.
//
// A swarm is the exception to "the caller makes each agent's LLM": its
// agents are built here (agent.FromSpec, plus a transfer_to_AGENT tool per
// declared handoff, plus SwarmOptions.Tools for Go function tools such as
// swarm.Func) and run on the swarm's provider and request defaults
// (SwarmOptions.Provider), each with its own declared model and request
// parameters (AgentParams, over the swarm's defaults). An agent that
// declares its own provider needs SwarmOptions.Agent, which returns each
// agent's provider and request defaults from its AgentSpec, as an
// AgentFunc does for the other patterns:
//
//	Swarm: &declarative.SwarmOptions{
//		Provider: func(ctx context.Context, swarm string) (llm.Provider, *llm.RequestParams, error) {
//			return openaiProvider, nil, nil
//		},
//		Agent: func(ctx context.Context, swarm string, spec config.AgentSpec) (llm.Provider, *llm.RequestParams, error) {
//			p, err := providerNamed(spec.Provider) // nil for "": the swarm's
//			return p, declarative.AgentParams(spec), err
//		},
//		Servers: a.Servers(),
//	}
//
// The swarm's usage report has one node per agent, by model.
package declarative
