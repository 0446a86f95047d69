package parallel_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patterntest"
	"github.com/mcp-agent-go/mcp-agent/workflow/parallel"
)

// usageShape is the part of a usage tree the tests compare, children
// sorted by name (members finish in any order).
type usageShape struct {
	Name     string
	Kind     llm.UsageKind
	Calls    int
	Input    int64
	Children []usageShape
}

func shape(n llm.UsageNode) usageShape {
	s := usageShape{Name: n.Name, Kind: n.Kind, Calls: n.Calls, Input: n.Usage.InputTokens}
	for _, c := range n.Children {
		s.Children = append(s.Children, shape(c))
	}
	slices.SortFunc(s.Children, func(a, b usageShape) int { return strings.Compare(a.Name, b.Name) })
	return s
}

func TestGenerateWithAggregator(t *testing.T) {
	optimist, optRec := patterntest.Scripted(t, "optimist", "turns: [{text: Sunny., usage: {input: 10, output: 2}}]")
	pessimist, _ := patterntest.Scripted(t, "pessimist", "turns: [{text: Rainy., usage: {input: 20, output: 3}}]")
	clock := parallel.Func("clock", func(ctx context.Context, conv []llm.Message) (string, error) {
		return "It is noon.", nil
	})
	judge, judgeRec := patterntest.Scripted(t, "judge", `turns: [{text: '{"forecast": "mixed"}', usage: {input: 30, output: 4}}]`)

	p, err := parallel.New(parallel.Aggregator(judge), []llm.AugmentedLLM{optimist, pessimist, clock}, &parallel.Options{Name: "forecast"})
	if err != nil {
		t.Fatal(err)
	}
	run := llm.NewUsageTracker("run", llm.UsageRun)
	ctx := llm.ContextWithUsage(t.Context(), run)
	type forecast struct {
		Forecast string `json:"forecast"`
	}
	got, err := llm.GenerateStructured[forecast](ctx, p, llm.Prompt("Weather tomorrow?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Forecast != "mixed" {
		t.Errorf("answer = %+v, want mixed", got)
	}

	// Members are called statelessly with the conversation, without the
	// response schema; the aggregator gets the schema and every answer.
	optReqs := optRec.Requests()
	if len(optReqs) != 1 {
		t.Fatalf("optimist got %d requests, want 1", len(optReqs))
	}
	if diff := cmp.Diff(llm.Prompt("Weather tomorrow?"), optReqs[0].Messages); diff != "" {
		t.Errorf("member messages (-want +got):\n%s", diff)
	}
	if optReqs[0].ResponseSchema != nil {
		t.Errorf("member got a ResponseSchema")
	}
	judgeReqs := judgeRec.Requests()
	if len(judgeReqs) != 1 || judgeReqs[0].ResponseSchema == nil {
		t.Fatalf("aggregator requests = %d (schema set: %v), want 1 with a schema", len(judgeReqs), len(judgeReqs) == 1 && judgeReqs[0].ResponseSchema != nil)
	}
	want := `Weather tomorrow?

This request was sent to 3 members in parallel. Their responses:

<response member="optimist">
Sunny.
</response>

<response member="pessimist">
Rainy.
</response>

<response member="clock">
It is noon.
</response>

Combine the responses into one answer to the request.`
	if diff := cmp.Diff(want, judgeReqs[0].Messages[0].Text()); diff != "" {
		t.Errorf("aggregator prompt (-want +got):\n%s", diff)
	}

	wantUsage := usageShape{Name: "run", Kind: llm.UsageRun, Calls: 3, Input: 60, Children: []usageShape{
		{Name: "forecast", Kind: llm.UsageWorkflow, Calls: 3, Input: 60, Children: []usageShape{
			{Name: "judge", Kind: llm.UsageLLM, Calls: 1, Input: 30},
			{Name: "optimist", Kind: llm.UsageLLM, Calls: 1, Input: 10},
			{Name: "pessimist", Kind: llm.UsageLLM, Calls: 1, Input: 20},
		}},
	}}
	if diff := cmp.Diff(wantUsage, shape(run.Report(nil))); diff != "" {
		t.Errorf("usage tree (-want +got):\n%s", diff)
	}
}

func echo(name string) llm.AugmentedLLM {
	return parallel.Func(name, func(ctx context.Context, conv []llm.Message) (string, error) {
		return name + ": " + conv[len(conv)-1].Text(), nil
	})
}

func TestAggregateFuncAndDefaultFanIn(t *testing.T) {
	members := []llm.AugmentedLLM{echo("a"), echo("b")}
	var seen []parallel.Result
	agg := parallel.AggregateFunc(func(ctx context.Context, conv []llm.Message, results []parallel.Result) (string, error) {
		seen = results
		var parts []string
		for _, r := range results {
			parts = append(parts, r.Text())
		}
		return strings.Join(parts, " | "), nil
	})
	p, err := parallel.New(agg, members, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := llm.GenerateString(t.Context(), p, llm.Prompt("hi"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != "a: hi | b: hi" {
		t.Errorf("answer = %q", got)
	}
	if len(seen) != 2 || seen[0].Member != "a" || seen[1].Index != 1 {
		t.Errorf("results = %+v", seen)
	}

	p, err = parallel.New(nil, members, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err = llm.GenerateString(t.Context(), p, llm.Prompt("hi"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if want := "## a\n\na: hi\n\n## b\n\nb: hi"; got != want {
		t.Errorf("default fan-in = %q, want %q", got, want)
	}
}

func TestMaxConcurrency(t *testing.T) {
	const n, limit = 6, 2
	var inFlight, maxInFlight atomic.Int32
	var mu sync.Mutex
	var order []string
	started := make(chan struct{}, n)
	release := make(chan struct{})
	var members []llm.AugmentedLLM
	for i := range n {
		name := fmt.Sprint("m", i)
		members = append(members, parallel.Func(name, func(ctx context.Context, conv []llm.Message) (string, error) {
			v := inFlight.Add(1)
			defer inFlight.Add(-1)
			for {
				m := maxInFlight.Load()
				if v <= m || maxInFlight.CompareAndSwap(m, v) {
					break
				}
			}
			mu.Lock()
			order = append(order, name)
			mu.Unlock()
			started <- struct{}{}
			select {
			case <-release:
				return name, nil
			case <-ctx.Done():
				return "", ctx.Err()
			}
		}))
	}
	for _, tc := range []struct {
		limit     int
		wantOrder bool
	}{{limit, false}, {1, true}} {
		inFlight.Store(0)
		maxInFlight.Store(0)
		order = nil
		p, err := parallel.New(nil, members, &parallel.Options{MaxConcurrency: tc.limit})
		if err != nil {
			t.Fatal(err)
		}
		release = make(chan struct{})
		done := make(chan error, 1)
		go func() {
			_, err := p.Generate(t.Context(), llm.Prompt("go"), nil)
			done <- err
		}()
		for range tc.limit {
			<-started // the first tc.limit members are running, blocked
		}
		close(release)
		for range n - tc.limit {
			<-started
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if got := maxInFlight.Load(); got != int32(tc.limit) {
			t.Errorf("limit %d: at most %d members ran at once, want %d", tc.limit, got, tc.limit)
		}
		if tc.wantOrder {
			if want := []string{"m0", "m1", "m2", "m3", "m4", "m5"}; !slices.Equal(order, want) {
				t.Errorf("limit 1: start order %v, want %v", order, want)
			}
		}
	}
}

func TestFailFast(t *testing.T) {
	slowStarted := make(chan struct{})
	var slowCancelled atomic.Bool
	slow := parallel.Func("slow", func(ctx context.Context, conv []llm.Message) (string, error) {
		close(slowStarted)
		<-ctx.Done() // only a failing sibling ends this member
		slowCancelled.Store(true)
		return "", ctx.Err()
	})
	bad := parallel.Func("bad", func(ctx context.Context, conv []llm.Message) (string, error) {
		<-slowStarted
		return "", errors.New("boom")
	})
	judge, judgeRec := patterntest.Scripted(t, "judge", "turns: [{text: never}]")
	p, err := parallel.New(parallel.Aggregator(judge), []llm.AugmentedLLM{slow, bad}, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Generate(t.Context(), llm.Prompt("go"), nil)
	var me *parallel.MemberError
	if !errors.As(err, &me) || me.Member != "bad" || me.Index != 1 {
		t.Fatalf("err = %v, want a MemberError of bad", err)
	}
	if want := `parallel "parallel": parallel member 1 (bad): boom`; err.Error() != want {
		t.Errorf("error text = %q, want %q", err, want)
	}
	if !slowCancelled.Load() {
		t.Error("the slow member was not cancelled")
	}
	if n := len(judgeRec.Requests()); n != 0 {
		t.Errorf("aggregator called %d times after a failure", n)
	}
}

func TestCollectErrors(t *testing.T) {
	bad := parallel.Func("bad", func(ctx context.Context, conv []llm.Message) (string, error) {
		return "", errors.New("quota exceeded")
	})
	judge, judgeRec := patterntest.Scripted(t, "judge", "turns: [{text: 'Only good answered: fine.'}]")
	p, err := parallel.New(parallel.Aggregator(judge), []llm.AugmentedLLM{echo("good"), bad}, &parallel.Options{ErrorPolicy: parallel.CollectErrors})
	if err != nil {
		t.Fatal(err)
	}
	got, err := llm.GenerateString(t.Context(), p, llm.Prompt("go"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != "Only good answered: fine." {
		t.Errorf("answer = %q", got)
	}
	prompt := judgeRec.Requests()[0].Messages[0].Text()
	for _, want := range []string{"<response member=\"good\">\ngood: go\n</response>", "<response member=\"bad\" failed=\"true\">\nquota exceeded\n</response>"} {
		if !strings.Contains(prompt, want) {
			t.Errorf("aggregator prompt lacks %q:\n%s", want, prompt)
		}
	}

	p, err = parallel.New(nil, []llm.AugmentedLLM{bad, bad}, &parallel.Options{ErrorPolicy: parallel.CollectErrors})
	if err != nil {
		t.Fatal(err)
	}
	_, err = p.Generate(t.Context(), llm.Prompt("go"), nil)
	var me *parallel.MemberError
	if !errors.Is(err, parallel.ErrAllFailed) || !errors.As(err, &me) {
		t.Fatalf("err = %v, want ErrAllFailed with member errors", err)
	}
	want := "parallel \"parallel\": every parallel member failed: parallel member 0 (bad): quota exceeded\nparallel member 1 (bad): quota exceeded"
	if err.Error() != want {
		t.Errorf("error text = %q, want %q", err, want)
	}
}

// TestCancelMidFanOut cancels a fan-out whose members (agent-backed LLMs)
// are all inside a call to a real MCP tool; every goroutine must end (the
// package's TestMain checks for leaks).
func TestCancelMidFanOut(t *testing.T) {
	const n = 3
	entered := make(chan struct{}, n)
	srv := mcp.NewServer(&mcp.Implementation{Name: "slow", Version: "v0"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "wait", Description: "Wait until cancelled."}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		entered <- struct{}{}
		<-ctx.Done()
		return nil, nil, ctx.Err()
	})
	servers := patterntest.Connect(t, "slow", srv)
	var members []llm.AugmentedLLM
	for i := range n {
		s, err := replay.Parse([]byte("turns: [{tool_calls: [{name: slow_wait}]}, {text: done}]"), "wait.yaml")
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, llm.New(patterntest.NewAgent(t, fmt.Sprint("waiter", i), servers, "slow"), replay.New(s, nil), nil))
	}
	p, err := parallel.New(nil, members, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	go func() {
		for range n {
			<-entered
		}
		cancel()
	}()
	_, err = p.Generate(ctx, llm.Prompt("wait"), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if want := `parallel "parallel": context canceled`; err.Error() != want {
		t.Errorf("error text = %q, want %q", err, want)
	}
}

func TestStream(t *testing.T) {
	a, _ := patterntest.Scripted(t, "a", "turns: [{text: A says yes.}]")
	b, _ := patterntest.Scripted(t, "b", "turns: [{text: B says no.}]")
	judge, _ := patterntest.Scripted(t, "judge", "turns: [{text: Split decision.}]")
	p, err := parallel.New(parallel.Aggregator(judge), []llm.AugmentedLLM{a, b}, &parallel.Options{Name: "vote"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	var text strings.Builder
	for ev, err := range p.Stream(t.Context(), llm.Prompt("vote"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		switch ev.Kind {
		case llm.EventTextDelta:
			text.WriteString(ev.Text)
			continue
		case llm.EventMessage, llm.EventFinal:
			got = append(got, fmt.Sprintf("%s %s: %s", ev.Kind, ev.Source, ev.Message.Text()))
		default:
			got = append(got, fmt.Sprintf("%s %s", ev.Kind, ev.Source))
		}
	}
	want := []string{
		"message a: A says yes.",
		"message b: B says no.",
		"iteration_started judge",
		"usage judge",
		"message judge: Split decision.",
		"iteration_finished judge",
		"final vote: Split decision.",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if text.String() != "Split decision." {
		t.Errorf("streamed text = %q", text.String())
	}

	// Stopping early ends the turn (TestMain checks no goroutine is left).
	judge2, _ := patterntest.Scripted(t, "judge", "turns: [{text: Split decision.}]")
	p, _ = parallel.New(parallel.Aggregator(judge2), []llm.AugmentedLLM{echo("x")}, nil)
	for range p.Stream(t.Context(), llm.Prompt("vote"), nil) {
		break
	}
	if n, err := p.Memory().Load(t.Context()); err != nil || len(n) != 0 {
		t.Errorf("a stopped turn saved %d messages to memory (err %v)", len(n), err)
	}
}

func TestMemory(t *testing.T) {
	var mu sync.Mutex
	var convs [][]llm.Message
	member := parallel.Func("m", func(ctx context.Context, conv []llm.Message) (string, error) {
		mu.Lock()
		defer mu.Unlock()
		convs = append(convs, conv)
		return fmt.Sprint("answer ", len(convs)), nil
	})
	p, err := parallel.New(parallel.AggregateFunc(func(ctx context.Context, conv []llm.Message, rs []parallel.Result) (string, error) {
		return rs[0].Text(), nil
	}), []llm.AugmentedLLM{member}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Generate(t.Context(), llm.Prompt("one"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Generate(t.Context(), llm.Prompt("two"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Generate(t.Context(), llm.Prompt("alone"), &llm.RequestParams{UseHistory: llm.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	want := [][]llm.Message{
		{llm.UserText("one")},
		{llm.UserText("one"), llm.AssistantText("answer 1"), llm.UserText("two")},
		{llm.UserText("alone")},
	}
	if diff := cmp.Diff(want, convs); diff != "" {
		t.Errorf("member conversations (-want +got):\n%s", diff)
	}
}

func TestNewErrors(t *testing.T) {
	for _, tc := range []struct {
		name    string
		members []llm.AugmentedLLM
		opts    *parallel.Options
		want    string
	}{
		{"no members", nil, &parallel.Options{Name: "fan"}, `parallel "fan": no fan-out members: give at least one LLM`},
		{"nil member", []llm.AugmentedLLM{echo("a"), nil}, nil, `parallel "parallel": fan-out member 1 is nil`},
		{"negative limit", []llm.AugmentedLLM{echo("a")}, &parallel.Options{MaxConcurrency: -1}, `parallel "parallel": MaxConcurrency is -1: use 0 for no limit or a positive bound`},
		{"bad policy", []llm.AugmentedLLM{echo("a")}, &parallel.Options{ErrorPolicy: 7}, `parallel "parallel": unknown ErrorPolicy 7`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := parallel.New(nil, tc.members, tc.opts)
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func TestEmptyConversation(t *testing.T) {
	p, _ := parallel.New(nil, []llm.AugmentedLLM{echo("a")}, nil)
	_, err := p.Generate(t.Context(), nil, nil)
	if want := "parallel \"parallel\": no messages to send: pass at least one message"; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %q", err, want)
	}
}
