package declarative_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/declarative"
	"github.com/mcp-agent-go/mcp-agent/workflow/embedding"
)

const everyType = `
openai:
  api_key: sk-test
  base_url: EMBEDDINGS_URL
mcp:
  servers:
    weather: {command: weather-server, description: Weather forecasts.}
agents:
  definitions:
    - {name: proofreader, instruction: Fix typos.}
    - {name: fact_checker, instruction: Check facts.}
    - {name: grader, instruction: Combine the reviews.}
    - {name: billing, description: Invoices and refunds., instruction: You handle billing.}
    - {name: dispatcher, instruction: Route requests.}
    - {name: triager, instruction: Classify requests.}
    - {name: writer, instruction: Write poems.}
    - {name: critic, instruction: Rate poems.}
    - {name: planner, instruction: Plan the work.}
workflows:
  review:
    type: parallel
    agents: [proofreader, fact_checker]
    fan_in: grader
    max_concurrency: 1
  support:
    type: router
    agents: [billing]
    servers: [weather]
    routing_agent: dispatcher
  support_by_embedding:
    type: router
    ranker: embedding
    embedding_model: keywords
    agents: [billing]
    servers: [weather]
  triage:
    type: intent
    agents: [triager]
    intents:
      - {name: refund, description: Money back for an order.}
      - {name: shipping, description: Where an order is.}
  triage_by_embedding:
    type: intent
    classifier: embedding
    top_k: 2
    intents:
      - {name: refund, description: Money back., examples: [I want a refund]}
      - {name: shipping, description: Where an order is., examples: [where is my parcel]}
  poem:
    type: evaluator-optimizer
    optimizer: writer
    evaluator: critic
    min_rating: Excellent
    max_refinements: 2
    criteria: Exactly three lines.
  project:
    type: orchestrator
    planner: planner
    agents: [writer, critic]
    plan_type: full
`

func TestBuildEachType(t *testing.T) {
	settings := load(t, strings.Replace(everyType, "EMBEDDINGS_URL", embeddingsAPI(t, "refund", "forecast", "parcel"), 1))
	weather := newWeatherServer(t)
	tests := []struct {
		name     string
		workflow string
		scripts  map[string]string
		msg      string
		want     string
		// wantPrefix, when set, replaces want (scores that are not round).
		wantPrefix string
		check      func(t *testing.T, f *fleet)
	}{
		{
			name: "parallel", workflow: "review", msg: "Review: Teh cat sat.",
			scripts: map[string]string{
				"proofreader":  "turns: [{text: 'Typo: Teh.'}]",
				"fact_checker": "turns: [{text: Cats do sit.}]",
				"grader":       "turns: [{text: 'One typo, facts fine.'}]",
			},
			want: "One typo, facts fine.",
			check: func(t *testing.T, f *fleet) {
				got := f.asked("grader")
				if len(got) != 1 || !strings.Contains(got[0], `<response member="proofreader">`) || !strings.Contains(got[0], "Cats do sit.") {
					t.Errorf("grader was asked %q, want both answers", got)
				}
				for _, m := range []string{"proofreader", "fact_checker"} {
					if got := f.asked(m); len(got) != 1 || got[0] != "Review: Teh cat sat." {
						t.Errorf("%s was asked %q", m, got)
					}
				}
			},
		},
		{
			name: "router by LLM to a server", workflow: "support", msg: "Will it rain in Paris?",
			scripts: map[string]string{
				"dispatcher":     `turns: [{text: '{"categories": [{"category": "weather", "confidence": 0.9, "reasoning": "a forecast"}]}'}]`,
				"weather_helper": "turns: [{text: Sunny tomorrow.}]",
			},
			want: "Sunny tomorrow.",
			check: func(t *testing.T, f *fleet) {
				got := f.asked("dispatcher")
				if len(got) != 1 || !strings.Contains(got[0], "forecast") || !strings.Contains(got[0], "Invoices and refunds.") || !strings.Contains(got[0], "Weather forecasts.") {
					t.Errorf("routing prompt %q lacks the categories' descriptions and tools", got)
				}
			},
		},
		{
			name: "router by LLM to an agent", workflow: "support", msg: "Refund order 7",
			scripts: map[string]string{
				"dispatcher": `turns: [{text: '{"categories": [{"category": "billing", "confidence": 0.8, "reasoning": "money"}]}'}]`,
				"billing":    "turns: [{text: Refunded.}]",
			},
			want: "Refunded.",
		},
		{
			name: "router by embeddings", workflow: "support_by_embedding", msg: "I need a refund",
			scripts: map[string]string{"billing": "turns: [{text: Refund issued.}]"},
			want:    "Refund issued.",
		},
		{
			name: "intent by LLM", workflow: "triage", msg: "my money back please",
			scripts: map[string]string{
				"triager": `turns: [{text: '{"intents": [{"intent": "refund", "confidence": 0.9, "reasoning": "money back"}]}'}]`,
			},
			want: `[{"intent":"refund","confidence":0.9,"reasoning":"money back"}]`,
			check: func(t *testing.T, f *fleet) {
				if got := f.asked("triager"); len(got) != 1 || !strings.Contains(got[0], "Where an order is.") {
					t.Errorf("classification prompt %q lacks the intents", got)
				}
			},
		},
		{
			name: "intent by embeddings", workflow: "triage_by_embedding", msg: "where did my parcel go",
			wantPrefix: `[{"intent":"shipping","confidence":1`, // ~1 and ~0: cosine of keyword vectors
		},
		{
			name: "evaluator-optimizer", workflow: "poem", msg: "A poem about rain",
			scripts: map[string]string{
				"writer": "turns: [{text: Rain falls.}, {text: \"Rain falls.\\nOn roofs.\\nThen stops.\"}]",
				"critic": `turns:
  - text: '{"rating": "GOOD", "feedback": "Make it three lines.", "needs_improvement": true, "focus_areas": ["length"]}'
  - text: '{"rating": "EXCELLENT", "feedback": "Done.", "needs_improvement": false, "focus_areas": []}'`,
			},
			want: "Rain falls.\nOn roofs.\nThen stops.",
			check: func(t *testing.T, f *fleet) {
				if got := f.asked("writer"); len(got) != 2 || !strings.Contains(got[1], "Make it three lines.") {
					t.Errorf("writer was asked %q, want a revision with the feedback", got)
				}
				if got := f.asked("critic"); len(got) != 2 || !strings.Contains(got[0], "Exactly three lines.") {
					t.Errorf("critic was asked %q, want the criteria (min_rating excellent: two rounds)", got)
				}
			},
		},
		{
			name: "orchestrator", workflow: "project", msg: "A rated haiku",
			scripts: map[string]string{
				"planner": `turns:
  - text: '{"steps": [{"description": "draft and criteria", "tasks": [{"description": "Write a haiku", "worker": "writer"}, {"description": "List haiku criteria", "worker": "critic"}]}]}'
  - text: Here is the haiku, rated.`,
				"writer": "turns: [{text: Old pond.}]",
				"critic": "turns: [{text: Five seven five.}]",
			},
			want: "Here is the haiku, rated.",
			check: func(t *testing.T, f *fleet) {
				got := f.asked("planner")
				if len(got) != 2 || !strings.Contains(got[0], "Write poems.") || !strings.Contains(got[1], "Old pond.") || !strings.Contains(got[1], "Five seven five.") {
					t.Errorf("planner was asked %q, want the workers' descriptions, then their results", got)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFleet(t, tt.scripts)
			b := declarative.NewBuilder(settings, f.agent, &declarative.Options{
				Servers: weather,
				ServerLLM: func(ctx context.Context, server string) (llm.AugmentedLLM, error) {
					return f.agent(ctx, config.AgentSpec{Name: server + "_helper"})
				},
			})
			w, err := b.Build(t.Context(), tt.workflow)
			if err != nil {
				t.Fatal(err)
			}
			if w.Name() != tt.workflow {
				t.Errorf("Name() = %q, want %q", w.Name(), tt.workflow)
			}
			got, err := llm.GenerateString(t.Context(), w, llm.Prompt(tt.msg), nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantPrefix != "" {
				if !strings.HasPrefix(got, tt.wantPrefix) || !strings.Contains(got, `},{"intent":"refund"`) {
					t.Errorf("answer = %q, want %s... then refund", got, tt.wantPrefix)
				}
			} else if got != tt.want {
				t.Errorf("answer = %q, want %q", got, tt.want)
			}
			if tt.check != nil {
				tt.check(t, f)
			}
		})
	}
}

const composed = `
agents:
  definitions:
    - {name: writer_a}
    - {name: critic_a}
    - {name: writer_b}
    - {name: critic_b}
    - {name: chooser}
    - {name: dispatcher}
    - {name: billing, description: Invoices.}
    - {name: optimist}
    - {name: skeptic}
workflows:
  letters:
    type: parallel
    agents: [formal, casual]
    fan_in: chooser
  formal: {type: evaluator-optimizer, agents: [writer_a, critic_a]}
  casual: {type: evaluator-optimizer, agents: [writer_b, critic_b], min_rating: fair}
  support:
    type: router
    agents: [billing, architecture]
    routing_agent: dispatcher
  architecture:
    type: parallel
    description: Architecture decisions, reviewed from two sides.
    agents: [optimist, skeptic]
`

func TestComposition(t *testing.T) {
	settings := load(t, composed)
	t.Run("parallel of evaluator-optimizers", func(t *testing.T) {
		f := newFleet(t, map[string]string{
			"writer_a": "turns: [{text: Dear Sir.}]",
			"critic_a": `turns: [{text: '{"rating": "GOOD", "feedback": "fine", "needs_improvement": false, "focus_areas": []}'}]`,
			"writer_b": "turns: [{text: Hey!}, {text: Hey there!}]",
			"critic_b": `turns:
  - text: '{"rating": "POOR", "feedback": "too short", "needs_improvement": true, "focus_areas": []}'
  - text: '{"rating": "FAIR", "feedback": "ok", "needs_improvement": false, "focus_areas": []}'`,
			"chooser": "turns: [{text: The formal one.}]",
		})
		w, err := declarative.Build(t.Context(), settings, "letters", f.agent, nil)
		if err != nil {
			t.Fatal(err)
		}
		got, err := llm.GenerateString(t.Context(), w, llm.Prompt("Write a letter"), nil)
		if err != nil || got != "The formal one." {
			t.Fatalf("answer = %q, %v", got, err)
		}
		asked := f.asked("chooser")
		if len(asked) != 1 || !strings.Contains(asked[0], `<response member="formal">`) || !strings.Contains(asked[0], "Dear Sir.") || !strings.Contains(asked[0], "Hey there!") {
			t.Errorf("chooser was asked %q, want each evaluator-optimizer's best attempt", asked)
		}
		if f.calls("critic_b") != 2 {
			t.Errorf("critic_b rated %d times, want 2 (POOR, then FAIR reaches min_rating fair)", f.calls("critic_b"))
		}
	})
	t.Run("router whose route is a parallel", func(t *testing.T) {
		f := newFleet(t, map[string]string{
			"dispatcher": `turns: [{text: '{"categories": [{"category": "architecture", "confidence": 0.9, "reasoning": "design"}]}'}]`,
			"optimist":   "turns: [{text: Postgres is great.}]",
			"skeptic":    "turns: [{text: Migrations hurt.}]",
		})
		b := declarative.NewBuilder(settings, f.agent, nil)
		w, err := b.Build(t.Context(), "support")
		if err != nil {
			t.Fatal(err)
		}
		got, err := llm.GenerateString(t.Context(), w, llm.Prompt("Move to Postgres?"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(got, "Postgres is great.") || !strings.Contains(got, "Migrations hurt.") {
			t.Errorf("answer = %q, want both reviewers' answers joined", got)
		}
		if asked := f.asked("dispatcher"); len(asked) != 1 || !strings.Contains(asked[0], "Architecture decisions, reviewed from two sides.") {
			t.Errorf("routing prompt %q lacks the workflow's description", asked)
		}
		// The nested workflow is built once and shared.
		inner, err := b.Build(t.Context(), "architecture")
		if err != nil {
			t.Fatal(err)
		}
		again, _ := b.Build(t.Context(), "support")
		if again != w || inner.Name() != "architecture" {
			t.Errorf("Build again returned a new instance")
		}
		for name, n := range f.builds {
			if n != 1 {
				t.Errorf("agent %s built %d times, want once", name, n)
			}
		}
	})
}

func TestBuildErrors(t *testing.T) {
	f := newFleet(t, nil)
	settings := load(t, `
mcp:
  servers:
    weather: {command: weather-server}
agents:
  definitions: [{name: a}, {name: b}]
workflows:
  team: {type: swarm, agents: [a, b]}
  support: {type: router, servers: [weather], routing_agent: a}
  pair: {type: parallel, agents: [a, b]}
`)
	cases := []struct {
		name, workflow string
		settings       *config.Settings
		want           string
		is             error
	}{
		{"unknown", "nope", settings, `unknown workflow "nope" (declared: pair, support, team)`, declarative.ErrUnknownWorkflow},
		{"none declared", "x", &config.Settings{}, `unknown workflow "x": no workflows are declared (add one under workflows: in mcp_agent.config.yaml; see docs/patterns.md)`, declarative.ErrUnknownWorkflow},
		{"swarm without Options.Swarm", "team", settings, `workflows.team: swarm workflows need Options.Swarm (the provider and servers of its agents)`, declarative.ErrNoSwarm},
		{"no server registry", "support", settings, `workflows.support: no server registry to describe the router's servers: server "weather" needs Options.Servers (the app's server registry)`, declarative.ErrNoServers},
		{"agent fails", "pair", settings, `workflows.pair: agent "a": no script for agent "a"`, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := declarative.Build(t.Context(), c.settings, c.workflow, f.agent, nil)
			if err == nil || err.Error() != c.want {
				t.Fatalf("err = %v\nwant %s", err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("errors.Is(%v) = false", c.is)
			}
		})
	}
}

// TestBuildValidates: settings built in code are checked like loaded ones,
// cycles included.
func TestBuildValidates(t *testing.T) {
	s := &config.Settings{
		Agents: &config.AgentsSettings{Definitions: []config.AgentSpec{{Name: "w"}}},
		Workflows: map[string]config.WorkflowSpec{
			"a": {Type: config.WorkflowParallel, Agents: []string{"b"}},
			"b": {Type: config.WorkflowEvaluatorOptimizer, Options: map[string]any{"optimizer": "w", "evaluator": "a"}},
		},
	}
	_, err := declarative.Build(t.Context(), s, "a", newFleet(t, nil).agent, nil)
	want := "settings: workflows.a.agents[0]: workflows contain each other: workflows.a -> workflows.b -> workflows.a (a workflow cannot be its own member, directly or through others)"
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant %s", err, want)
	}
	var fe *config.FieldError
	if !errors.As(err, &fe) || fe.Path != "workflows.a.agents[0]" {
		t.Errorf("FieldError = %+v", fe)
	}
}

// TestEmbedderOption: Options.Embedder replaces the openai section's client.
func TestEmbedderOption(t *testing.T) {
	s := load(t, `
workflows:
  triage:
    type: intent
    classifier: embedding
    embedding_model: local
    intents: [{name: a, examples: [apple]}, {name: b, examples: [banana]}]
`)
	var models []string
	w, err := declarative.Build(t.Context(), s, "triage", newFleet(t, nil).agent, &declarative.Options{
		Embedder: func(model string) (embedding.Embedder, error) {
			models = append(models, model)
			return vowels{}, nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := llm.GenerateString(t.Context(), w, llm.Prompt("a banana"), nil)
	if err != nil || !strings.HasPrefix(got, `[{"intent":"b"`) || len(models) != 1 || models[0] != "local" {
		t.Errorf("answer %q, %v; embedder asked for %q", got, err, models)
	}
}

// vowels embeds a text as its counts of a, e, i, o, u.
type vowels struct{}

func (vowels) Embed(_ context.Context, texts []string) ([][]float64, error) {
	out := make([][]float64, len(texts))
	for i, s := range texts {
		v := make([]float64, 5)
		for j, c := range "aeiou" {
			v[j] = float64(strings.Count(s, string(c))) + 0.01
		}
		out[i] = v
	}
	return out, nil
}

func TestSwarm(t *testing.T) {
	s := load(t, `
agents:
  definitions:
    - {name: triage, instruction: Send the customer to the right desk.}
    - {name: billing, description: Invoices and refunds., instruction: You handle billing.}
    - {name: shipping, description: Parcels.}
workflows:
  desk:
    type: swarm
    agents: [triage, billing, shipping]
    handoffs: {triage: [billing, shipping]}
    max_handoffs: 2
  helpline:                     # a swarm as a parallel member
    type: parallel
    agents: [desk]
`)
	script, err := replay.Parse([]byte(`turns:
  - tool_calls: [{name: transfer_to_billing}]
  - text: Refunded 42 EUR.
`), "desk.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{Provider: replay.New(script, nil), name: "desk", f: newFleet(t, nil)}
	var asked []string
	w, err := declarative.Build(t.Context(), s, "helpline", newFleet(t, nil).agent, &declarative.Options{
		Swarm: &declarative.SwarmOptions{Provider: func(_ context.Context, name string) (llm.Provider, *llm.RequestParams, error) {
			asked = append(asked, name)
			return rec, &llm.RequestParams{Model: "m"}, nil
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := llm.GenerateString(t.Context(), w, llm.Prompt("My money back please"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "Refunded 42 EUR.") || len(asked) != 1 || asked[0] != "desk" {
		t.Errorf("answer %q; provider asked for %q", got, asked)
	}
	reqs := rec.f.reqs["desk"]
	if len(reqs) != 2 {
		t.Fatalf("%d model calls, want 2 (triage hands off, billing answers)", len(reqs))
	}
	tools := func(r *llm.Request) map[string]string {
		m := map[string]string{}
		for _, tl := range r.Tools {
			m[tl.Name] = tl.Description
		}
		return m
	}
	first, second := tools(reqs[0]), tools(reqs[1])
	if first["transfer_to_billing"] != "Invoices and refunds." || first["transfer_to_shipping"] != "Parcels." || len(first) != 2 {
		t.Errorf("triage's tools = %v, want its two handoffs described by their targets", first)
	}
	if len(second) != 0 || reqs[1].System != "You handle billing." || reqs[0].Model != "m" {
		t.Errorf("billing's request: tools %v, system %q, model %q (want no handoffs: only triage's are declared)", second, reqs[1].System, reqs[0].Model)
	}
}
