package declarative_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/declarative"
	"github.com/mcp-agent-go/mcp-agent/workflow/router"
)

const topKDesk = `
openai:
  api_key: sk-test
  base_url: EMBEDDINGS_URL
mcp:
  servers:
    weather: {command: weather-server, description: Weather forecasts.}
agents:
  definitions:
    - {name: dispatcher, instruction: Route requests.}
    - {name: billing, description: Invoices and refunds.}
    - {name: shipping, description: Where a parcel is.}
workflows:
  desk:
    type: router
    agents: [billing, shipping]
    servers: [weather]
    routing_agent: dispatcher
    top_k: 2
  desk_one_at_a_time:
    type: router
    agents: [billing, shipping]
    routing_agent: dispatcher
    top_k: 2
    max_concurrency: 1
  desk_by_embedding:
    type: router
    ranker: embedding
    embedding_model: keywords
    agents: [billing, shipping]
    top_k: 5                      # more than the categories: all of them
`

// TestRouterTopK: a declared router with top_k above 1 runs the k best
// categories and lists their answers, best first.
func TestRouterTopK(t *testing.T) {
	settings := load(t, strings.Replace(topKDesk, "EMBEDDINGS_URL", embeddingsAPI(t, "refund", "parcel"), 1))
	weather := newWeatherServer(t)
	build := func(t *testing.T, f *fleet, name string) llm.AugmentedLLM {
		t.Helper()
		w, err := declarative.Build(t.Context(), settings, name, f.agent, &declarative.Options{
			Servers: weather,
			ServerLLM: func(ctx context.Context, server string) (llm.AugmentedLLM, error) {
				return f.agent(ctx, config.AgentSpec{Name: server + "_helper"})
			},
		})
		if err != nil {
			t.Fatal(err)
		}
		if w.Name() != name {
			t.Errorf("Name() = %q, want %q", w.Name(), name)
		}
		return w
	}

	t.Run("LLM ranker", func(t *testing.T) {
		f := newFleet(t, map[string]string{
			// Three chosen, out of order: the two most confident run.
			"dispatcher": `turns: [{text: '{"categories": [
  {"category": "weather", "confidence": 0.2, "reasoning": "maybe"},
  {"category": "billing", "confidence": 0.9, "reasoning": "a refund"},
  {"category": "shipping", "confidence": 0.4, "reasoning": "a parcel"}]}'}]`,
			"billing":  "turns: [{text: Refunded.}]",
			"shipping": "turns: [{text: '  On its way.  '}]",
		})
		w := build(t, f, "desk")
		got, err := llm.GenerateString(t.Context(), w, llm.Prompt("Refund my lost parcel"), nil)
		if err != nil {
			t.Fatal(err)
		}
		want := "## billing (confidence 0.90)\n\nRefunded.\n\n## shipping (confidence 0.40)\n\nOn its way."
		if got != want {
			t.Errorf("answer =\n%s\nwant\n%s", got, want)
		}
		if asked := f.asked("dispatcher"); len(asked) != 1 || !strings.Contains(asked[0], "at most 2 categories") {
			t.Errorf("routing prompt %q does not ask for 2 categories", asked)
		}
		for _, m := range []string{"billing", "shipping"} {
			if asked := f.asked(m); len(asked) != 1 || asked[0] != "Refund my lost parcel" {
				t.Errorf("%s was asked %q, want the request once", m, asked)
			}
		}
		if n := f.calls("weather_helper"); n != 0 {
			t.Errorf("weather (ranked third) ran %d times", n)
		}
		// The declared router keeps the conversation: request and answer.
		mem, ok := w.(interface{ Memory() llm.Memory })
		if !ok {
			t.Fatalf("%T has no Memory", w)
		}
		msgs, err := mem.Memory().Load(t.Context())
		if err != nil || len(msgs) != 2 || msgs[1].Text() != want {
			t.Errorf("memory = %v, %v; want the request and the answer", msgs, err)
		}
	})

	t.Run("ranker chose fewer than top_k", func(t *testing.T) {
		f := newFleet(t, map[string]string{
			"dispatcher":     `turns: [{text: '{"categories": [{"category": "weather", "confidence": 0.7, "reasoning": "rain"}]}'}]`,
			"weather_helper": "turns: [{text: Rain.}]",
		})
		got, err := llm.GenerateString(t.Context(), build(t, f, "desk"), llm.Prompt("Umbrella?"), nil)
		if want := "## weather (confidence 0.70)\n\nRain."; err != nil || got != want {
			t.Errorf("answer = %q, %v; want %q", got, err, want)
		}
	})

	t.Run("embedding ranker, top_k above the categories", func(t *testing.T) {
		f := newFleet(t, map[string]string{
			"billing":  "turns: [{text: Refunded.}]",
			"shipping": "turns: [{text: On its way.}]",
		})
		got, err := llm.GenerateString(t.Context(), build(t, f, "desk_by_embedding"), llm.Prompt("where is my parcel"), nil)
		if err != nil {
			t.Fatal(err)
		}
		// shipping's description names a parcel; billing's only the
		// constant dimension: both run, shipping first.
		i, j := strings.Index(got, "## shipping (confidence "), strings.Index(got, "## billing (confidence ")
		if i != 0 || j < 0 || !strings.Contains(got, "On its way.") || !strings.Contains(got, "Refunded.") {
			t.Errorf("answer = %q, want shipping's section, then billing's", got)
		}
	})

	t.Run("stream", func(t *testing.T) {
		f := newFleet(t, map[string]string{
			"dispatcher": `turns: [{text: '{"categories": [{"category": "shipping", "confidence": 0.6, "reasoning": "a parcel"}, {"category": "billing", "confidence": 0.5, "reasoning": "money"}]}'}]`,
			"billing":    "turns: [{text: Refunded.}]",
			"shipping":   "turns: [{text: On its way.}]",
		})
		var got []string
		for ev, err := range build(t, f, "desk").Stream(t.Context(), llm.Prompt("Refund my parcel"), nil) {
			if err != nil {
				t.Fatal(err)
			}
			if ev.Kind == llm.EventMessage || ev.Kind == llm.EventFinal {
				got = append(got, fmt.Sprintf("%s %s: %s", ev.Kind, ev.Source, ev.Message.Text()))
			}
		}
		want := []string{
			`message desk: Routing to agent "shipping" (confidence 0.60), agent "billing" (confidence 0.50).`,
			"message shipping: On its way.",
			"message billing: Refunded.",
			"final desk: ## shipping (confidence 0.60)\n\nOn its way.\n\n## billing (confidence 0.50)\n\nRefunded.",
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("events:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("server category without ServerLLM", func(t *testing.T) {
		f := newFleet(t, map[string]string{
			"dispatcher": `turns: [{text: '{"categories": [{"category": "billing", "confidence": 0.9, "reasoning": "money"}, {"category": "weather", "confidence": 0.5, "reasoning": "rain"}]}'}]`,
		})
		w, err := declarative.Build(t.Context(), settings, "desk", f.agent, &declarative.Options{Servers: weather})
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.Generate(t.Context(), llm.Prompt("Refund, and will it rain?"), nil)
		want := `router "desk": category has no target: the request was routed to server "weather", which has nothing to run it: set declarative.Options.ServerLLM (an LLM using the server)`
		if err == nil || err.Error() != want || !errors.Is(err, router.ErrNoTarget) {
			t.Errorf("err = %v\nwant %s", err, want)
		}
		if n := f.calls("billing"); n != 0 {
			t.Errorf("billing ran %d times before the turn failed", n)
		}
	})
}

// gates is an AgentFunc whose agents (besides dispatcher, from a fleet)
// block until released, recording how many run at once.
type gates struct {
	dispatcher *fleet
	fail       string // this agent fails once started

	mu      sync.Mutex
	running int
	most    int
	started chan string
	release chan struct{}
}

func newGates(t *testing.T, routing string) *gates {
	return &gates{
		dispatcher: newFleet(t, map[string]string{"dispatcher": routing}),
		started:    make(chan string, 10),
		release:    make(chan struct{}),
	}
}

func (g *gates) agent(ctx context.Context, spec config.AgentSpec) (llm.AugmentedLLM, error) {
	if spec.Name == "dispatcher" {
		return g.dispatcher.agent(ctx, spec)
	}
	return &gated{name: spec.Name, g: g}, nil
}

type gated struct {
	name string
	g    *gates
}

func (a *gated) Name() string { return a.name }

func (a *gated) Generate(ctx context.Context, _ []llm.Message, _ *llm.RequestParams) ([]llm.Message, error) {
	g := a.g
	g.mu.Lock()
	g.running++
	g.most = max(g.most, g.running)
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.running--
		g.mu.Unlock()
	}()
	g.started <- a.name
	if a.name == g.fail {
		return nil, errors.New("ledger offline")
	}
	select {
	case <-g.release:
		return []llm.Message{llm.AssistantText("done by " + a.name)}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (a *gated) Stream(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) iter.Seq2[*llm.Event, error] {
	return func(yield func(*llm.Event, error) bool) {
		out, err := a.Generate(ctx, msgs, params)
		if err != nil {
			yield(nil, err)
			return
		}
		yield(&llm.Event{Kind: llm.EventFinal, Source: a.name, Message: &out[0]}, nil)
	}
}

const bothRoutes = `turns: [{text: '{"categories": [{"category": "billing", "confidence": 0.9, "reasoning": "money"}, {"category": "shipping", "confidence": 0.8, "reasoning": "parcel"}]}'}]`

// waitStarted returns the agents that started within d.
func waitStarted(t *testing.T, g *gates, n int, d time.Duration) []string {
	t.Helper()
	var got []string
	timeout := time.After(d)
	for len(got) < n {
		select {
		case name := <-g.started:
			got = append(got, name)
		case <-timeout:
			return got
		}
	}
	return got
}

func TestRouterTopKConcurrency(t *testing.T) {
	settings := load(t, strings.Replace(topKDesk, "EMBEDDINGS_URL", "http://127.0.0.1:1/v1", 1))
	type result struct {
		answer string
		err    error
	}
	// run starts a turn; the function it returns waits for its result (10s
	// at most: then the test fails, which cancels the turn).
	run := func(t *testing.T, g *gates, workflow string) func() (string, error) {
		w, err := declarative.Build(t.Context(), settings, workflow, g.agent, &declarative.Options{Servers: newWeatherServer(t)})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan result, 1)
		go func() {
			s, err := llm.GenerateString(t.Context(), w, llm.Prompt("Refund my parcel"), nil)
			done <- result{s, err}
		}()
		return func() (string, error) {
			t.Helper()
			select {
			case r := <-done:
				return r.answer, r.err
			case <-time.After(10 * time.Second):
				t.Fatal("the turn did not end")
				return "", nil
			}
		}
	}

	t.Run("routes run at once", func(t *testing.T) {
		g := newGates(t, bothRoutes)
		wait := run(t, g, "desk")
		// Neither route can finish before release: both starting proves
		// they run concurrently.
		if got := waitStarted(t, g, 2, 10*time.Second); len(got) != 2 {
			t.Fatalf("started %q, want both routes running at once", got)
		}
		close(g.release)
		if got, err := wait(); err != nil || got != "## billing (confidence 0.90)\n\ndone by billing\n\n## shipping (confidence 0.80)\n\ndone by shipping" {
			t.Errorf("answer = %q, %v", got, err)
		}
	})

	t.Run("max_concurrency 1", func(t *testing.T) {
		g := newGates(t, bothRoutes)
		wait := run(t, g, "desk_one_at_a_time")
		if got := waitStarted(t, g, 1, 10*time.Second); len(got) != 1 {
			t.Fatalf("no route started")
		}
		// While the first route is blocked, the second must not start (a
		// bounded wait for something that must not happen).
		if got := waitStarted(t, g, 1, 300*time.Millisecond); len(got) != 0 {
			t.Fatalf("%q started while the first route was running", got)
		}
		close(g.release) // the first finishes, then the second starts
		if got := waitStarted(t, g, 1, 10*time.Second); len(got) != 1 {
			t.Fatalf("the second route did not start")
		}
		if got, err := wait(); err != nil || !strings.Contains(got, "done by shipping") {
			t.Errorf("answer = %q, %v", got, err)
		}
		g.mu.Lock()
		defer g.mu.Unlock()
		if g.most != 1 {
			t.Errorf("%d routes ran at once, want 1", g.most)
		}
	})

	t.Run("a failing route cancels the others", func(t *testing.T) {
		g := newGates(t, bothRoutes)
		g.fail = "shipping"
		wait := run(t, g, "desk") // billing waits for a release that never comes
		_, err := wait()
		want := `router "desk": category "shipping": ledger offline`
		if err == nil || err.Error() != want {
			t.Errorf("err = %v\nwant %s", err, want)
		}
	})
}

// TestRouterTopKValidation: bad top_k values are reported with the file,
// line and key.
func TestRouterTopKValidation(t *testing.T) {
	_, err := config.LoadBytes("mcp_agent.config.yaml", []byte(`
agents:
  definitions: [{name: dispatcher}, {name: billing}]
workflows:
  desk:
    type: router
    agents: [billing]
    routing_agent: dispatcher
    top_k: 0
  desk2:
    type: router
    agents: [billing]
    routing_agent: dispatcher
    max_concurrency: 2
`), config.LoadOptions{NoEnvOverrides: true})
	want := "mcp_agent.config.yaml:9: workflows.desk.top_k: 0 is less than 1 (omit it for the default, 1: run the best category only)\n" +
		"mcp_agent.config.yaml:14: workflows.desk2.max_concurrency: only used with top_k above 1 (a router with top_k 1 runs one category)"
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}

	s := &config.Settings{
		Agents: &config.AgentsSettings{Definitions: []config.AgentSpec{{Name: "dispatcher"}, {Name: "billing"}}},
		Workflows: map[string]config.WorkflowSpec{
			"desk": {Type: config.WorkflowRouter, Agents: []string{"billing"}, Options: map[string]any{"routing_agent": "dispatcher", "top_k": "two"}},
		},
	}
	_, err = declarative.Build(t.Context(), s, "desk", newFleet(t, nil).agent, nil)
	want = `settings: workflows.desk.top_k: want a whole number, got the string "two"`
	if err == nil || err.Error() != want {
		t.Errorf("err = %v\nwant %s", err, want)
	}
}
