package llm_test

import (
	"context"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
)

func TestUsageTreeConcurrent(t *testing.T) {
	run := llm.NewUsageTracker("run-1", llm.UsageRun)
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			flow := run.Child("router", llm.UsageWorkflow)
			member := flow.Child(fmt.Sprintf("agent-%d", i%5), llm.UsageLLM)
			for range 20 {
				member.Record("gpt-4o-mini", llm.Usage{InputTokens: 1000, OutputTokens: 100})
			}
			run.Record("mystery-model", llm.Usage{InputTokens: 1})
		}()
	}
	wg.Wait()
	rep := run.Report(nil)
	if rep.Calls != 50*20+50 {
		t.Errorf("calls = %d", rep.Calls)
	}
	if rep.Usage.InputTokens != 50*20*1000+50 || rep.Usage.OutputTokens != 50*20*100 {
		t.Errorf("usage = %+v", rep.Usage)
	}
	if len(rep.Children) != 1 || len(rep.Children[0].Children) != 5 {
		t.Fatalf("tree shape: %d children, %d grandchildren", len(rep.Children), len(rep.Children[0].Children))
	}
	// gpt-4o-mini: $0.15 in, $0.60 out per 1M: 1M in + 100k out = 0.15 + 0.06.
	if got := rep.Cost.USD; math.Abs(got-0.21) > 1e-9 {
		t.Errorf("cost = %v, want 0.21", got)
	}
	if rep.Cost.Known() || !cmp.Equal(rep.Cost.UnknownModels, []string{"mystery-model"}) {
		t.Errorf("unknown models = %v", rep.Cost.UnknownModels)
	}
	if got, want := rep.Cost.String(), "$0.2100 + unknown (mystery-model)"; got != want {
		t.Errorf("cost string = %q, want %q", got, want)
	}
	if !rep.Children[0].Cost.Known() {
		t.Errorf("router subtree cost should be known")
	}
}

func TestUsageAttachCycle(t *testing.T) {
	a := llm.NewUsageTracker("a", llm.UsageWorkflow)
	b := a.Child("b", llm.UsageLLM)
	defer func() {
		if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "cycle") {
			t.Errorf("recover = %v, want a cycle panic", r)
		}
	}()
	b.Attach(a)
}

func TestUsageThroughContext(t *testing.T) {
	run := llm.NewUsageTracker("run", llm.UsageRun)
	ctx := llm.ContextWithUsage(context.Background(), run)
	s, err := replay.Parse([]byte(`
model: claude-sonnet-4-5-20250929
loop: true
turns: [{text: hi, usage: {input: 2000, output: 1000, cache_read: 1000}}]
`), "usage.yaml")
	if err != nil {
		t.Fatal(err)
	}
	a := llm.New(nil, replay.New(s, nil), &llm.Options{Name: "writer"})
	b := llm.New(nil, replay.New(s, nil), &llm.Options{Name: "critic"})
	flow := llm.ContextWithUsage(ctx, run.Child("evaluator", llm.UsageWorkflow))
	for range 2 {
		if _, err := a.Generate(flow, llm.Prompt("x"), nil); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := b.Generate(ctx, llm.Prompt("x"), nil); err != nil {
		t.Fatal(err)
	}
	rep := run.Report(nil)
	var shape []string
	var walk func(n llm.UsageNode, depth int)
	walk = func(n llm.UsageNode, depth int) {
		shape = append(shape, fmt.Sprintf("%s%s/%s calls=%d in=%d", strings.Repeat(" ", depth), n.Name, n.Kind, n.Calls, n.Usage.InputTokens))
		for _, c := range n.Children {
			walk(c, depth+1)
		}
	}
	walk(rep, 0)
	want := []string{
		"run/run calls=3 in=6000",
		" evaluator/workflow calls=2 in=4000",
		"  writer/llm calls=2 in=4000",
		" critic/llm calls=1 in=2000",
	}
	if diff := cmp.Diff(want, shape); diff != "" {
		t.Errorf("tree (-want +got):\n%s", diff)
	}
	// sonnet 4.5: 1000 plain in x $3 + 1000 cached x $0.30 + 1000 out x $15, per call.
	perCall := (1000*3.0 + 1000*0.30 + 1000*15.0) / 1e6
	if got := rep.Cost.USD; math.Abs(got-3*perCall) > 1e-12 {
		t.Errorf("cost = %v, want %v", got, 3*perCall)
	}
	if got := a.UsageReport(); got.Calls != 2 {
		t.Errorf("writer's own tracker: %d calls, want 2", got.Calls)
	}
	if got, want := rep.Summary(1234*time.Millisecond), "1.2s · 6,000 in (3,000 cached) / 3,000 out tokens · $0.0549"; got != want {
		t.Errorf("summary = %q, want %q", got, want)
	}
}

func TestFormatSummary(t *testing.T) {
	for _, tt := range []struct {
		d    time.Duration
		u    llm.Usage
		c    llm.Cost
		want string
	}{
		{1200 * time.Millisecond, llm.Usage{InputTokens: 1234, OutputTokens: 567}, llm.Cost{USD: 0.0042}, "1.2s · 1,234 in / 567 out tokens · $0.0042"},
		{350 * time.Millisecond, llm.Usage{InputTokens: 1234567, OutputTokens: 0}, llm.Cost{USD: 12.5}, "350ms · 1,234,567 in / 0 out tokens · $12.50"},
		{0, llm.Usage{InputTokens: 5, OutputTokens: 5}, llm.Cost{UnknownModels: []string{"llama3"}}, "5 in / 5 out tokens · cost unknown (llama3)"},
		{95 * time.Second, llm.Usage{}, llm.Cost{}, "1m35s · 0 in / 0 out tokens · $0.0000"},
	} {
		if got := llm.FormatSummary(tt.d, tt.u, tt.c); got != tt.want {
			t.Errorf("FormatSummary = %q, want %q", got, tt.want)
		}
	}
}

func TestPriceLookup(t *testing.T) {
	prices := llm.DefaultPrices()
	for _, tt := range []struct {
		model string
		want  float64 // input price
		ok    bool
	}{
		{"gpt-4o", 2.50, true},
		{"gpt-4o-2024-08-06", 2.50, true},
		{"gpt-4o-mini-2024-07-18", 0.15, true},
		{"openai/gpt-4.1-mini", 0.40, true},
		{"claude-sonnet-4-5-20250929", 3.00, true},
		{"claude-haiku-4-5", 1.00, true},
		{"anthropic:claude-opus-4-5-20251101", 5.00, true},
		{"llama3.1:8b", 0, false},
		{"gpt-4", 0, false},
	} {
		p, ok := prices.Lookup(tt.model)
		if ok != tt.ok || p.Input != tt.want {
			t.Errorf("Lookup(%q) = %v, %v; want input %v, %v", tt.model, p.Input, ok, tt.want, tt.ok)
		}
	}
	over, err := llm.ParsePrices([]byte("models:\n  llama3.1: {provider: ollama, input: 0, output: 0}\n  gpt-4o: {input: 1, output: 2}\n"))
	if err != nil {
		t.Fatal(err)
	}
	merged := prices.With(over)
	if usd, ok := merged.Cost("llama3.1:8b", llm.Usage{InputTokens: 100}); !ok || usd != 0 {
		t.Errorf("overridden llama cost = %v, %v", usd, ok)
	}
	if usd, _ := merged.Cost("gpt-4o", llm.Usage{InputTokens: 1e6, OutputTokens: 1e6}); usd != 3 {
		t.Errorf("overridden gpt-4o cost = %v, want 3", usd)
	}
	if p, _ := prices.Lookup("gpt-4o"); p.Input != 2.50 {
		t.Errorf("With modified the default table")
	}
}

func TestParsePricesErrors(t *testing.T) {
	for _, tt := range []struct{ src, want string }{
		{"models:\n  m: {input: 1, outptu: 2}\n", `unknown field "outptu"`},
		{"models:\n  m: {input: -1, output: 2}\n", `model "m" has a negative price`},
		{"models: [1, 2]\n", "price table:"},
	} {
		_, err := llm.ParsePrices([]byte(tt.src))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("ParsePrices(%q) = %v, want error containing %q", tt.src, err, tt.want)
		}
	}
}

func TestSelectModel(t *testing.T) {
	for _, tt := range []struct {
		name  string
		prefs llm.ModelPreferences
		want  string
	}{
		{"cheapest", llm.ModelPreferences{CostPriority: 1}, "gpt-5-nano"},
		{"smartest", llm.ModelPreferences{IntelligencePriority: 1}, "claude-opus-4-6"},
		{"smartest anthropic fast", llm.ModelPreferences{IntelligencePriority: 0.5, SpeedPriority: 0.5, Providers: []string{"anthropic"}}, "claude-haiku-4-5"},
		{"hint", llm.ModelPreferences{Hints: []string{"nonexistent", "sonnet"}, IntelligencePriority: 1}, "claude-sonnet-4-6"},
		{"cheap openai", llm.ModelPreferences{CostPriority: 1, Providers: []string{"openai"}}, "gpt-5-nano"},
	} {
		got, err := llm.SelectModel(nil, tt.prefs)
		if err != nil || got != tt.want {
			t.Errorf("%s: SelectModel = %q, %v; want %q", tt.name, got, err, tt.want)
		}
	}
	if _, err := llm.SelectModel(nil, llm.ModelPreferences{Providers: []string{"mistral"}}); err == nil ||
		err.Error() != "llm: no model in the price table for providers [mistral]: add models to the price table or allow other providers" {
		t.Errorf("err = %v", err)
	}
}
