package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// workflowPrelude declares a server and three agents; the workflows of a
// test start at line 10.
var workflowPrelude = []string{
	"mcp:",
	"  servers:",
	"    weather: {command: weather-server}",
	"agents:",
	"  definitions:",
	"    - name: writer",
	"    - name: critic",
	"    - name: dispatcher",
	"workflows:",
}

func workflowYAML(l ...string) string {
	return lines(append(append([]string(nil), workflowPrelude...), l...)...)
}

func TestWorkflowDeclarations(t *testing.T) {
	s := mustLoadBytes(t, workflowYAML(
		"  drafts:",
		"    type: parallel",
		"    agents: [writer, review]", // a workflow as a member
		"    fan_in: critic",
		"    max_concurrency: 2",
		"    error_policy: Collect_Errors",
		"  review:",
		"    type: evaluator_optimizer",
		"    optimizer: writer",
		"    evaluator: critic",
		"    min_rating: EXCELLENT",
		"    max_refinements: 2",
		"    criteria: short",
		"    require_threshold: true",
		"  support:",
		"    type: router",
		"    agents: [writer, drafts]",
		"    servers: [weather]",
		"    routing_agent: dispatcher",
		"    instruction: prefer writer",
		"    top_k: 1",
		"  support_by_embedding:",
		"    type: router",
		"    ranker: embedding",
		"    embedding_model: nomic-embed-text",
		"    servers: [weather]",
		"    agents: [writer, critic]",
		"    top_k: 5", // more than the categories: capped when run
		"    max_concurrency: 2",
		"  triage:",
		"    type: intent_classifier",
		"    agents: [dispatcher]",
		"    top_k: 2",
		"    intents:",
		"      - name: refund",
		"        description: Money back.",
		"        examples: [refund me]",
		"        metadata: {team: billing}",
		"      - {name: shipping}",
		"  plan:",
		"    type: orchestrator",
		"    planner: review", // a workflow as the planner
		"    agents: [writer, support]",
		"    synthesizer: critic",
		"    plan_type: iterative",
		"    max_steps: 3",
		"    max_iterations: 4",
		"    max_concurrency: 1",
		"    error_policy: report_errors",
		"  team:",
		"    type: swarm",
		"    agents: [writer, critic]",
		"    start: critic",
		"    max_handoffs: 4",
		"    handoffs: {critic: [writer], writer: []}",
	), nil)
	if got := s.Workflows["review"].Options["min_rating"]; got != "EXCELLENT" {
		t.Errorf("min_rating = %v, want it kept as written", got)
	}
	if got := s.Workflows["drafts"].Agents; !cmp.Equal(got, []string{"writer", "review"}) {
		t.Errorf("drafts agents = %v", got)
	}
}

func TestWorkflowDeclarationErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml []string // after the prelude: line 10 onwards
		want []string // the errors, one per line
	}{
		{
			name: "unknown rating",
			yaml: []string{"  review:", "    type: evaluator-optimizer", "    agents: [writer, critic]", "    min_rating: grate"},
			want: []string{`mcp_agent.config.yaml:13: workflows.review.min_rating: unknown rating "grate" (want poor, fair, good, excellent)`},
		},
		{
			name: "missing threshold",
			yaml: []string{"  review:", "    type: evaluator-optimizer", "    agents: [writer, critic]", "    require_threshold: true"},
			want: []string{`mcp_agent.config.yaml:13: workflows.review.require_threshold: is true but no min_rating says which rating to require: add min_rating (poor, fair, good or excellent)`},
		},
		{
			name: "evaluator-optimizer members",
			yaml: []string{
				"  a: {type: evaluator-optimizer, agents: [writer]}",
				"  b: {type: evaluator-optimizer, agents: [writer, critic], optimizer: writer}",
				"  c: {type: evaluator-optimizer}",
				"  d: {type: evaluator-optimizer, evaluator: critic}",
				"  e: {type: evaluator-optimizer, optimizer: writer}",
				"  f: {type: evaluator-optimizer, optimizer: writer, evaluator: critic, max_refinements: 0, require_threshold: maybe}",
			},
			want: []string{
				`mcp_agent.config.yaml:10: workflows.a.agents: want two agents, the optimizer then the evaluator (e.g. agents: [writer, critic]); got 1`,
				`mcp_agent.config.yaml:11: workflows.b.agents: set either optimizer and evaluator, or agents: [optimizer, evaluator], not both`,
				`mcp_agent.config.yaml:12: workflows.c: an evaluator-optimizer needs an optimizer and an evaluator: set optimizer: and evaluator:, or agents: [optimizer, evaluator]`,
				`mcp_agent.config.yaml:13: workflows.d: an evaluator-optimizer needs an optimizer: set optimizer: (the agent or workflow that writes)`,
				`mcp_agent.config.yaml:14: workflows.e: an evaluator-optimizer needs an evaluator: set evaluator: (the agent or workflow that rates)`,
				`mcp_agent.config.yaml:15: workflows.f.max_refinements: 0 is less than 1 (omit it for the default, 3; use a plain agent for a single attempt)`,
				`mcp_agent.config.yaml:15: workflows.f.require_threshold: want true or false, got the string "maybe"`,
			},
		},
		{
			name: "unknown agent among agents and workflows",
			yaml: []string{
				"  review: {type: evaluator-optimizer, optimizer: writer, evaluator: editor}",
				"  drafts: {type: parallel, agents: [writer]}",
			},
			want: []string{`mcp_agent.config.yaml:10: workflows.review.evaluator: workflow "review" uses unknown agent or workflow "editor" (known agents: critic, dispatcher, writer; workflows: drafts)`},
		},
		{
			name: "router without routing agent",
			yaml: []string{"  support:", "    type: router", "    agents: [writer, critic]"},
			want: []string{`mcp_agent.config.yaml:10: workflows.support.routing_agent: required when ranker is llm: name the agent that chooses the category (or set ranker: embedding)`},
		},
		{
			name: "router keys",
			yaml: []string{
				"  a: {type: router, agents: [writer, writer], servers: [weather, writer, rain], routing_agent: critic, top_k: 0, max_concurrency: 2, embedding_model: m}",
				"  b: {type: router, ranker: embedding, routing_agent: critic}",
				"  c: {type: router, ranker: semantic, agents: [writer]}",
				"  d: {type: router, ranker: embedding, servers: weather}",
			},
			want: []string{
				`mcp_agent.config.yaml:10: workflows.a.agents[1]: "writer" is listed twice: each category appears once`,
				`mcp_agent.config.yaml:10: workflows.a.servers[1]: "writer" is already a category (an agent or workflow, or a server listed before): category names must be unique`,
				`mcp_agent.config.yaml:10: workflows.a.servers[2]: workflow "a" uses unknown server "rain" (known servers: weather)`,
				`mcp_agent.config.yaml:10: workflows.a.embedding_model: only used with ranker: embedding (remove it, or set ranker: embedding)`,
				`mcp_agent.config.yaml:10: workflows.a.top_k: 0 is less than 1 (omit it for the default, 1: run the best category only)`,
				`mcp_agent.config.yaml:10: workflows.a.max_concurrency: only used with top_k above 1 (a router with top_k 1 runs one category)`,
				`mcp_agent.config.yaml:11: workflows.b: a router needs categories: list agents or workflows under agents, or MCP servers under servers`,
				`mcp_agent.config.yaml:11: workflows.b.routing_agent: not used with ranker: embedding (remove it, or set ranker: llm)`,
				`mcp_agent.config.yaml:12: workflows.c.ranker: unknown ranker "semantic" (want llm, embedding)`,
				`mcp_agent.config.yaml:13: workflows.d.servers: want a list, got the string "weather"`,
				`mcp_agent.config.yaml:13: workflows.d: a router needs categories: list agents or workflows under agents, or MCP servers under servers`,
			},
		},
		{
			name: "parallel keys",
			yaml: []string{
				"  a: {type: parallel}",
				"  b: {type: parallel, agents: [writer], fan_in: grader, max_concurrency: -1, error_policy: ignore}",
				"  c: {type: parallel, agents: [writer], max_concurrency: two, fan_in: [critic]}",
				"  d: {type: parallel, agents: [writer], min_rating: good, fanin: critic}",
			},
			want: []string{
				`mcp_agent.config.yaml:10: workflows.a: a parallel workflow needs agents: the agents or workflows to fan out to (e.g. agents: [proofreader, fact_checker])`,
				`mcp_agent.config.yaml:11: workflows.b.fan_in: workflow "b" uses unknown agent or workflow "grader" (known agents: critic, dispatcher, writer; workflows: a, c, d)`,
				`mcp_agent.config.yaml:11: workflows.b.max_concurrency: -1 is less than 0`,
				`mcp_agent.config.yaml:11: workflows.b.error_policy: unknown error policy "ignore" (want fail_fast, collect_errors)`,
				`mcp_agent.config.yaml:12: workflows.c.fan_in: want a single value, got a list`,
				`mcp_agent.config.yaml:12: workflows.c.max_concurrency: want a whole number, got the string "two"`,
				`mcp_agent.config.yaml:13: workflows.d.fanin: unknown key "fanin" for a parallel workflow (did you mean "fan_in"?)`,
				`mcp_agent.config.yaml:13: workflows.d.min_rating: unknown key "min_rating" for a parallel workflow (known keys: agents, description, error_policy, fan_in, max_concurrency, type)`,
			},
		},
		{
			name: "intent keys",
			yaml: []string{
				"  a: {type: intent, agents: [dispatcher]}",
				"  b: {type: intent, agents: [dispatcher, writer], intents: [{name: x}]}",
				"  c: {type: intent, classifier: embedding, agents: [dispatcher], top_k: 0, intents: []}",
				"  d:",
				"    type: intent",
				"    agents: [dispatcher]",
				"    intents:",
				"      - name: refund",
				"        examples: refund me",
				"      - name: refund",
				"      - description: no name",
				"      - shipping",
				"      - {name: x, sample: y}",
				"  e: {type: intent, intents: [{name: x}]}",
			},
			want: []string{
				`mcp_agent.config.yaml:10: workflows.a: an intent classifier needs intents: a list of {name, description, examples}`,
				`mcp_agent.config.yaml:11: workflows.b.agents: an intent classifier with classifier: llm needs exactly one agent, the one that classifies (e.g. agents: [triager]); got 2`,
				`mcp_agent.config.yaml:12: workflows.c.agents: not used with classifier: embedding (remove it, or set classifier: llm)`,
				`mcp_agent.config.yaml:12: workflows.c.top_k: 0 is less than 1`,
				`mcp_agent.config.yaml:12: workflows.c.intents: the list is empty: add at least one intent ({name, description, examples})`,
				`mcp_agent.config.yaml:18: workflows.d.intents[0].examples: want a list of example requests, got the string "refund me"`,
				`mcp_agent.config.yaml:19: workflows.d.intents[1].name: intent "refund" is listed twice: names must be unique`,
				`mcp_agent.config.yaml:20: workflows.d.intents[2]: intent has no name (set name)`,
				`mcp_agent.config.yaml:21: workflows.d.intents[3]: want an intent ({name, description, examples}), got the string "shipping"`,
				`mcp_agent.config.yaml:22: workflows.d.intents[4].sample: unknown key "sample" (known keys: description, examples, metadata, name)`,
				`mcp_agent.config.yaml:23: workflows.e: an intent classifier with classifier: llm needs agents: [NAME], the agent that classifies (or set classifier: embedding)`,
			},
		},
		{
			name: "orchestrator keys",
			yaml: []string{
				"  a: {type: orchestrator}",
				"  b: {type: orchestrator, planner: dispatcher, agents: [writer, writer], plan_type: greedy, max_steps: 0, error_policy: fail_fast}",
				"  c: {type: orchestrator, planner: dispatcher, agents: [writer], max_iterations: 3}",
			},
			want: []string{
				`mcp_agent.config.yaml:10: workflows.a: an orchestrator needs a planner: the agent or workflow that plans the steps (planner: NAME)`,
				`mcp_agent.config.yaml:10: workflows.a: an orchestrator needs agents: the workers the planner assigns tasks to (e.g. agents: [researcher, writer])`,
				`mcp_agent.config.yaml:11: workflows.b.agents[1]: "writer" is listed twice: each worker appears once`,
				`mcp_agent.config.yaml:11: workflows.b.plan_type: unknown plan type "greedy" (want full, iterative)`,
				`mcp_agent.config.yaml:11: workflows.b.max_steps: 0 is less than 1 (omit it for the default, 10)`,
				`mcp_agent.config.yaml:11: workflows.b.error_policy: unknown error policy "fail_fast" (want fail_step, report_errors)`,
				`mcp_agent.config.yaml:12: workflows.c.max_iterations: only used with plan_type: iterative (a full plan is made in one round)`,
			},
		},
		{
			name: "swarm members must be agents",
			yaml: []string{"  team: {type: swarm, agents: [writer, helpers]}", "  helpers: {type: parallel, agents: [writer]}"},
			want: []string{`mcp_agent.config.yaml:10: workflows.team.agents[1]: workflow "team" uses workflow "helpers" where only agents can be used (known agents: critic, dispatcher, writer)`},
		},
		{
			name: "swarm keys",
			yaml: []string{
				"  a: {type: swarm}",
				"  b: {type: swarm, agents: [writer, critic, writer], start: dispatcher, max_handoffs: 0}",
				"  c:",
				"    type: swarm",
				"    agents: [writer, critic]",
				"    handoffs:",
				"      writer: [critic, writer, dispatcher, 3]",
				"      editor: [writer]",
				"      critic: writer",
				"  d: {type: swarm, agents: [writer], handoffs: [writer], fan_in: x}",
			},
			want: []string{
				`mcp_agent.config.yaml:10: workflows.a: a swarm needs agents: the agents that hand the conversation to each other (e.g. agents: [triage, billing])`,
				`mcp_agent.config.yaml:11: workflows.b.agents[2]: "writer" is listed twice: each agent appears once`,
				`mcp_agent.config.yaml:11: workflows.b.start: "dispatcher" is not one of the swarm's agents (writer, critic, writer)`,
				`mcp_agent.config.yaml:11: workflows.b.max_handoffs: 0 is less than 1 (omit it for the default, 10)`,
				`mcp_agent.config.yaml:16: workflows.c.handoffs.writer[1]: "writer" cannot hand off to itself`,
				`mcp_agent.config.yaml:16: workflows.c.handoffs.writer[2]: "dispatcher" is not one of the swarm's agents (writer, critic)`,
				`mcp_agent.config.yaml:16: workflows.c.handoffs.writer[3]: want an agent name, got the number 3`,
				`mcp_agent.config.yaml:17: workflows.c.handoffs.editor: "editor" is not one of the swarm's agents (writer, critic)`,
				`mcp_agent.config.yaml:18: workflows.c.handoffs.critic: want a list of agents, got the string "writer"`,
				`mcp_agent.config.yaml:19: workflows.d.fan_in: unknown key "fan_in" for a swarm workflow (known keys: agents, description, handoffs, max_handoffs, start, type)`,
				`mcp_agent.config.yaml:19: workflows.d.handoffs: want a mapping from each agent to the agents it can hand off to (e.g. triage: [billing]), got a list`,
			},
		},
		{
			name: "workflow named like an agent",
			yaml: []string{"  writer: {type: parallel, agents: [critic]}"},
			want: []string{`mcp_agent.config.yaml:10: workflows.writer: workflow "writer" has the name of a declared agent: members are found by name, so rename the workflow or the agent`},
		},
		{
			name: "cycle of two",
			yaml: []string{
				"  b: {type: parallel, agents: [writer, a]}",
				"  a:",
				"    type: router",
				"    routing_agent: dispatcher",
				"    agents: [critic, b]",
			},
			want: []string{`mcp_agent.config.yaml:14: workflows.a.agents[1]: workflows contain each other: workflows.a -> workflows.b -> workflows.a (a workflow cannot be its own member, directly or through others)`},
		},
		{
			name: "self cycle and a longer one, each reported once",
			yaml: []string{
				"  self: {type: evaluator-optimizer, optimizer: writer, evaluator: self}",
				"  x: {type: parallel, agents: [y]}",
				"  y: {type: parallel, agents: [z]}",
				"  z: {type: orchestrator, planner: x, agents: [writer, y]}",
			},
			want: []string{
				`mcp_agent.config.yaml:10: workflows.self.evaluator: workflows contain each other: workflows.self -> workflows.self (a workflow cannot be its own member, directly or through others)`,
				`mcp_agent.config.yaml:11: workflows.x.agents[0]: workflows contain each other: workflows.x -> workflows.y -> workflows.z -> workflows.x (a workflow cannot be its own member, directly or through others)`,
				`mcp_agent.config.yaml:12: workflows.y.agents[0]: workflows contain each other: workflows.y -> workflows.z -> workflows.y (a workflow cannot be its own member, directly or through others)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadBytes(file, []byte(workflowYAML(tt.yaml...)), opts(nil))
			if err == nil {
				t.Fatalf("LoadBytes succeeded (%+v), want errors", s.Workflows)
			}
			if diff := cmp.Diff(strings.Join(tt.want, "\n"), err.Error()); diff != "" {
				t.Errorf("errors (-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateWorkflows(t *testing.T) {
	s := &Settings{
		Agents: &AgentsSettings{Definitions: []AgentSpec{{Name: "writer"}}},
		Workflows: map[string]WorkflowSpec{
			"ok":  {Type: WorkflowParallel, Agents: []string{"writer"}, Options: map[string]any{"max_concurrency": 2}},
			"bad": {Type: WorkflowEvaluatorOptimizer, Agents: []string{"writer", "writer"}, Options: map[string]any{"min_rating": "great"}},
		},
	}
	err := ValidateWorkflows(s)
	want := `settings: workflows.bad.min_rating: unknown rating "great" (want poor, fair, good, excellent)`
	if err == nil || err.Error() != want {
		t.Fatalf("ValidateWorkflows = %v, want %s", err, want)
	}
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Path != "workflows.bad.min_rating" || fe.Line != 0 {
		t.Errorf("FieldError = %+v", fe)
	}
	delete(s.Workflows, "bad")
	if err := ValidateWorkflows(s); err != nil {
		t.Errorf("ValidateWorkflows of valid settings: %v", err)
	}
}

// TestSwarmAgentProviders: a swarm runs each agent on the provider its
// declaration names, so an unknown one is reported where it is written,
// once even when two swarms use the agent.
func TestSwarmAgentProviders(t *testing.T) {
	yaml := lines(
		"agents:",
		"  definitions:",
		"    - {name: triage, provider: openai, model: gpt-4o-mini}",
		"    - {name: billing, provider: Anthropic, model: claude-sonnet-4-5}",
		"    - {name: sales, provider: opneai}",
		"    - {name: solo, provider: ollama}", // in no swarm: its AgentFunc decides
		"workflows:",
		"  support: {type: swarm, agents: [triage, billing, sales]}",
		"  shop: {type: swarm, agents: [sales, triage]}",
	)
	_, err := LoadBytes(file, []byte(yaml), opts(nil))
	want := `mcp_agent.config.yaml:5: agents.definitions[2].provider: unknown provider "opneai" for agent "sales" of swarm "shop" (want openai, anthropic, replay)`
	if err == nil || err.Error() != want {
		t.Fatalf("LoadBytes error = %v\nwant %s", err, want)
	}
	s, err := LoadBytes(file, []byte(strings.Replace(yaml, "opneai", "replay", 1)), opts(nil))
	if err != nil {
		t.Fatal(err)
	}
	if got := s.Agents.Definitions[1]; got.Provider != "Anthropic" || got.Model != "claude-sonnet-4-5" {
		t.Errorf("billing = %+v", got)
	}
}
