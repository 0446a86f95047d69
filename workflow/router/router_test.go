package router_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patterntest"
	"github.com/mcp-agent-go/mcp-agent/workflow/router"
)

type forecastIn struct {
	City string `json:"city" jsonschema:"the city"`
}

// fixture builds three categories: a server category ("weather", a real
// in-process MCP server, with an agent-backed LLM calling its forecast
// tool as target), an agent category ("finder") and a function category
// ("calculator").
func fixture(t *testing.T) []router.Category {
	t.Helper()
	srv := mcp.NewServer(&mcp.Implementation{Name: "weather", Version: "v0"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "forecast", Description: "Forecast the weather of a city."}, func(ctx context.Context, _ *mcp.CallToolRequest, in forecastIn) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "sunny in " + in.City}}}, nil, nil
	})
	servers := patterntest.Connect(t, "weather", srv)
	s, err := replay.Parse([]byte(`
turns:
  - tool_calls: [{name: weather_forecast, arguments: {city: Paris}}]
    usage: {input: 50, output: 5}
  - match: /(?s).*/
    text: It will be sunny in Paris.
    usage: {input: 70, output: 8}
`), "weather.yaml")
	if err != nil {
		t.Fatal(err)
	}
	weatherLLM := llm.New(patterntest.NewAgent(t, "weather_agent", servers, "weather"), replay.New(s, nil), nil)
	weather, err := router.ServerCategoryFrom(t.Context(), servers, "weather", "Weather forecasts.", weatherLLM)
	if err != nil {
		t.Fatal(err)
	}
	finder, _ := patterntest.Scripted(t, "finder", "turns: [{text: Found notes.txt.}]")
	calc := router.FunctionCategory("calculator", "Does arithmetic.", func(ctx context.Context, conv []llm.Message) (string, error) {
		return "42", nil
	})
	return []router.Category{weather, router.AgentCategory(finder, "Finds files on disk."), calc}
}

type choice struct {
	Name       string
	Confidence float64
	Reasoning  string
}

func choices(cs []router.Choice) []choice {
	var out []choice
	for _, c := range cs {
		out = append(out, choice{c.Category.Name, c.Confidence, c.Reasoning})
	}
	return out
}

func TestLLMRoute(t *testing.T) {
	cats := fixture(t)
	// The model ranks out of order, names an unknown category, changes the
	// case of one and repeats it, and overstates a confidence.
	routing, rec := patterntest.Scripted(t, "routing", `turns:
  - text: '{"categories": [
      {"category": "calculator", "confidence": 0.2, "reasoning": "Maybe numbers."},
      {"category": "nope", "confidence": 0.9, "reasoning": "Hallucinated."},
      {"category": "WEATHER", "confidence": 1.5, "reasoning": "Asks about the weather."},
      {"category": "weather", "confidence": 0.5, "reasoning": "Repeated."},
      {"category": "finder", "confidence": 0.1, "reasoning": "Unlikely."}]}'`)
	r, err := router.NewLLM(routing, cats, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Route(t.Context(), llm.Prompt("Weather in Paris tomorrow?"), 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []choice{{"weather", 1, "Asks about the weather."}, {"calculator", 0.2, "Maybe numbers."}}
	if diff := cmp.Diff(want, choices(got)); diff != "" {
		t.Errorf("choices (-want +got):\n%s", diff)
	}
	if got[0].Category.Kind != router.KindServer || got[0].Category.Target == nil {
		t.Errorf("first choice = %+v, want the weather server category with its target", got[0].Category)
	}

	reqs := rec.Requests()
	if len(reqs) != 1 || reqs[0].ResponseSchema == nil {
		t.Fatalf("routing LLM requests = %d, want 1 with a response schema", len(reqs))
	}
	wantPrompt := `You route requests. Choose the categories best suited to handle the request below.

Categories:

1. name: weather
   kind: server
   description: Weather forecasts.
   tools:
   - forecast: Forecast the weather of a city.

2. name: finder
   kind: agent
   description: Finds files on disk.

3. name: calculator
   kind: function
   description: Does arithmetic.

Request:
Weather in Paris tomorrow?

Answer with at most 2 categories, most suitable first, each with a confidence from 0 to 1 and a one-sentence reasoning. Use only the names listed above; leave out categories that do not fit.`
	if diff := cmp.Diff(wantPrompt, reqs[0].Messages[0].Text()); diff != "" {
		t.Errorf("routing prompt (-want +got):\n%s", diff)
	}

	// Run runs the chosen target; its usage nests under the router.
	run := llm.NewUsageTracker("run", llm.UsageRun)
	out, err := r.Run(llm.ContextWithUsage(t.Context(), run), got[0], llm.Prompt("Weather in Paris tomorrow?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if llm.FinalText(out) != "It will be sunny in Paris." {
		t.Errorf("Run answer = %q", llm.FinalText(out))
	}
	rep := run.Report(nil)
	if len(rep.Children) != 1 || rep.Children[0].Name != "router" || len(rep.Children[0].Children) != 1 || rep.Children[0].Children[0].Name != "weather_agent" {
		t.Errorf("usage of Run = %+v, want run/router/weather_agent", rep)
	}
}

func TestLLMRouteKLargerThanCategories(t *testing.T) {
	routing, rec := patterntest.Scripted(t, "routing", `turns: [{text: '{"categories": [{"category": "finder", "confidence": 0.7, "reasoning": "Files."}, {"category": "calculator", "confidence": 0.3, "reasoning": "Numbers."}, {"category": "weather", "confidence": 0.1, "reasoning": "No."}]}'}]`)
	r, err := router.NewLLM(routing, fixture(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Route(t.Context(), llm.Prompt("Find my notes"), 10)
	if err != nil {
		t.Fatal(err)
	}
	if names := choices(got); len(names) != 3 || names[0].Name != "finder" {
		t.Errorf("choices = %v, want all three, finder first", names)
	}
	if p := rec.Requests()[0].Messages[0].Text(); !strings.Contains(p, "Answer with at most 3 categories") {
		t.Errorf("k was not capped at the number of categories in the prompt:\n%s", p)
	}
}

func TestLLMRouteNoKnownCategory(t *testing.T) {
	routing, _ := patterntest.Scripted(t, "routing", `turns: [{text: '{"categories": [{"category": "billing", "confidence": 0.9, "reasoning": "Money."}]}'}]`)
	r, _ := router.NewLLM(routing, fixture(t), &router.Options{Name: "front"})
	_, err := r.Route(t.Context(), llm.Prompt("Refund me"), 1)
	if !errors.Is(err, router.ErrNoRoute) {
		t.Fatalf("err = %v, want ErrNoRoute", err)
	}
	want := `router "front": no category chosen: the routing LLM answered ["billing"], which is not a category (categories: weather, finder, calculator)`
	if err.Error() != want {
		t.Errorf("error text:\n got %s\nwant %s", err, want)
	}

	routing, _ = patterntest.Scripted(t, "routing", `turns: [{text: '{"categories": []}'}]`)
	r, _ = router.NewLLM(routing, fixture(t), &router.Options{Name: "front"})
	_, err = r.Route(t.Context(), llm.Prompt("Refund me"), 1)
	if want := `router "front": no category chosen: the routing LLM chose none of the categories (weather, finder, calculator)`; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}

// TestGenerateRunsTarget routes to the weather server category, whose
// target calls the real MCP tool; usage nests under the router.
func TestGenerateRunsTarget(t *testing.T) {
	routing, _ := patterntest.Scripted(t, "routing", `turns: [{text: '{"categories": [{"category": "weather", "confidence": 0.9, "reasoning": "Weather."}]}', usage: {input: 30, output: 10}}]`)
	r, err := router.NewLLM(routing, fixture(t), &router.Options{Name: "front"})
	if err != nil {
		t.Fatal(err)
	}
	run := llm.NewUsageTracker("run", llm.UsageRun)
	out, err := r.Generate(llm.ContextWithUsage(t.Context(), run), llm.Prompt("Weather in Paris?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := llm.FinalText(out); got != "It will be sunny in Paris." {
		t.Errorf("answer = %q", got)
	}
	// The tool really ran: its result is in the target's messages.
	var toolText string
	for _, m := range out {
		for _, p := range m.Parts {
			if tr, ok := p.(*llm.ToolResult); ok {
				toolText = tr.Text()
			}
		}
	}
	if toolText != "sunny in Paris" {
		t.Errorf("tool result = %q, want the MCP server's answer", toolText)
	}
	rep := run.Report(nil)
	front := rep.Children[0]
	var kids []string
	for _, c := range front.Children {
		kids = append(kids, fmt.Sprintf("%s/%s/%d", c.Name, c.Kind, c.Usage.InputTokens))
	}
	slices.Sort(kids)
	if front.Name != "front" || front.Kind != llm.UsageWorkflow || !slices.Equal(kids, []string{"routing/llm/30", "weather_agent/llm/120"}) {
		t.Errorf("usage: %s %s children %v", front.Name, front.Kind, kids)
	}
}

func TestGenerateServerWithoutTarget(t *testing.T) {
	routing, _ := patterntest.Scripted(t, "routing", `turns: [{text: '{"categories": [{"category": "fetch", "confidence": 0.9, "reasoning": "A URL."}]}'}]`)
	cats := []router.Category{router.ServerCategory("fetch", "Fetches URLs.", []*mcp.Tool{{Name: "fetch", Description: "Fetch a URL."}}, nil)}
	r, err := router.NewLLM(routing, cats, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = r.Generate(t.Context(), llm.Prompt("Get example.com"), nil)
	if !errors.Is(err, router.ErrNoTarget) {
		t.Fatalf("err = %v, want ErrNoTarget", err)
	}
	want := `router "router": category has no target: the request was routed to server "fetch", which has no Target to run: give its Category a Target (an LLM using the server)`
	if err.Error() != want {
		t.Errorf("error text:\n got %s\nwant %s", err, want)
	}
}

func TestEmbeddingRoute(t *testing.T) {
	emb, api := patterntest.NewEmbedder(t, "weather", "file", "arithmetic")
	r, err := router.NewEmbedding(emb, fixture(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := r.Route(t.Context(), llm.Prompt("Is the weather good for a walk?"), 5)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, c := range got {
		names = append(names, c.Category.Name)
	}
	if !slices.Equal(names, []string{"weather", "finder", "calculator"}) {
		t.Errorf("ranking = %v, want weather first and all three", names)
	}
	if got[0].Confidence < 0.9 || got[1].Confidence > 0.5 {
		t.Errorf("similarities = %v, %v: want the weather one near 1 and the others low", got[0].Confidence, got[1].Confidence)
	}
	got, err = r.Route(t.Context(), llm.Prompt("Where is the file with my arithmetic homework, the file?"), 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].Category.Name != "finder" {
		t.Errorf("second route = %v, want finder only", choices(got))
	}
	// Category embeddings are computed once: later routes embed only the request.
	reqs := api.Requests()
	if len(reqs) != 3 || len(reqs[0]) != 3 || len(reqs[1]) != 1 || len(reqs[2]) != 1 {
		t.Errorf("embedding requests = %q, want the 3 categories once, then one request text each", reqs)
	}
	if !strings.Contains(reqs[0][0], "forecast: Forecast the weather of a city.") {
		t.Errorf("the server category's embedded text lacks its tools: %q", reqs[0][0])
	}
}

func TestStream(t *testing.T) {
	routing, _ := patterntest.Scripted(t, "routing", `turns: [{text: '{"categories": [{"category": "finder", "confidence": 0.8, "reasoning": "Files."}]}'}]`)
	r, _ := router.NewLLM(routing, fixture(t), &router.Options{Name: "front"})
	var got []string
	for ev, err := range r.Stream(t.Context(), llm.Prompt("find notes"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == llm.EventMessage || ev.Kind == llm.EventFinal {
			got = append(got, fmt.Sprintf("%s %s: %s", ev.Kind, ev.Source, ev.Message.Text()))
		}
	}
	want := []string{
		`message front: Routing to agent "finder" (confidence 0.80). Files.`,
		"message finder: Found notes.txt.",
		"final front: Found notes.txt.",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestNewErrors(t *testing.T) {
	fn := func(context.Context, []llm.Message) (string, error) { return "", nil }
	f := router.FunctionCategory("f", "F.", fn)
	routing, _ := patterntest.Scripted(t, "routing", "turns: [{text: x}]")
	for _, tc := range []struct {
		name string
		cats []router.Category
		want string
	}{
		{"none", nil, `router "r": no categories: give at least one`},
		{"unnamed", []router.Category{f, {Kind: router.KindAgent, Target: routing}}, `router "r": category 1 has no name`},
		{"duplicate", []router.Category{f, f}, `router "r": category "f" is listed twice: names must be unique`},
		{"no target", []router.Category{{Name: "x", Kind: router.KindAgent}}, `router "r": category "x" has no target`},
		{"bad kind", []router.Category{{Name: "x", Kind: "robot", Target: routing}}, `router "r": category "x" has unknown kind "robot" (want agent, server or function)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := router.NewLLM(routing, tc.cats, &router.Options{Name: "r"})
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := router.NewLLM(nil, []router.Category{f}, nil); err == nil || err.Error() != `router "router": no routing LLM` {
		t.Errorf("nil LLM: err = %v", err)
	}
	if _, err := router.NewEmbedding(nil, []router.Category{f}, nil); err == nil || err.Error() != `router "router": no embedder` {
		t.Errorf("nil embedder: err = %v", err)
	}
}
