package swarm_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patterntest"
	"github.com/mcp-agent-go/mcp-agent/workflow/swarm"
)

// support returns the triage and billing agents; billing uses the ledger
// MCP server. extra tools go to triage.
func support(t *testing.T, billingTools []agent.Tool, triageTools ...agent.Tool) []llm.ToolSource {
	t.Helper()
	servers := patterntest.Connect(t, "ledger", ledgerServer())
	triage := newAgent(t, "triage", "You route customers.", nil, nil,
		append([]agent.Tool{swarm.TransferTo("billing", "For balances, invoices and refunds.")}, triageTools...)...)
	billing := newAgent(t, "billing", "You handle billing.", servers, []string{"ledger"}, billingTools...)
	return []llm.ToolSource{triage, billing}
}

func toolNames(req *llm.Request) []string {
	var names []string
	for _, s := range req.Tools {
		names = append(names, s.Name)
	}
	return names
}

func TestHandoff(t *testing.T) {
	rec := patterntest.Replay(t, "swarm.yaml", `
turns:
  - tool_calls: [{name: transfer_to_billing}]
    usage: {input: 50, output: 5}
  - tool_calls: [{name: ledger_balance, arguments: {account: A-1}}]
    usage: {input: 80, output: 10}
  - text: Your balance is -42.00 EUR.
    usage: {input: 120, output: 12}
  - match: thanks
    text: You're welcome.
`)
	s, err := swarm.New(rec, support(t, nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	run := llm.NewUsageTracker("run", llm.UsageRun)
	ctx := llm.ContextWithUsage(t.Context(), run)
	res, err := s.Run(ctx, llm.Prompt("What is my balance? Account A-1."), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer() != "Your balance is -42.00 EUR." || res.Agent != "billing" {
		t.Errorf("answer %q by %q", res.Answer(), res.Agent)
	}
	if diff := cmp.Diff([]swarm.Handoff{{From: "triage", To: "billing"}}, res.Handoffs); diff != "" {
		t.Errorf("handoffs (-want +got):\n%s", diff)
	}
	type msg struct {
		Role llm.Role
		Text string
	}
	var got []msg
	for _, m := range res.Messages {
		text := m.Text()
		for _, c := range m.ToolCalls() {
			text += "call " + c.Name
		}
		for _, p := range m.Parts {
			if r, ok := p.(*llm.ToolResult); ok {
				text += "result " + r.Text()
			}
		}
		got = append(got, msg{m.Role, text})
	}
	want := []msg{
		{llm.RoleAssistant, "call transfer_to_billing"},
		{llm.RoleTool, "result Transferred to billing."},
		{llm.RoleAssistant, "call ledger_balance"},
		{llm.RoleTool, "result account A-1: -42.00 EUR"},
		{llm.RoleAssistant, "Your balance is -42.00 EUR."},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}

	reqs := rec.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d model calls, want 3 (none after the handoff call)", len(reqs))
	}
	if reqs[0].System != "You route customers." || !cmp.Equal(toolNames(reqs[0]), []string{"transfer_to_billing"}) {
		t.Errorf("triage's request: system %q, tools %v", reqs[0].System, toolNames(reqs[0]))
	}
	if reqs[1].System != "You handle billing." || !cmp.Equal(toolNames(reqs[1]), []string{"ledger_balance"}) {
		t.Errorf("billing's request: system %q, tools %v", reqs[1].System, toolNames(reqs[1]))
	}
	if n := len(reqs[1].Messages); n != 3 {
		t.Errorf("billing sees %d messages, want the user's, triage's call and its result", n)
	}

	// The usage of both agents is under the swarm's node.
	node := run.Report(nil).Children[0]
	calls := map[string]int{}
	for _, c := range node.Children {
		calls[c.Name] = c.Calls
	}
	if node.Name != "swarm" || !cmp.Equal(calls, map[string]int{"triage": 1, "billing": 2}) || node.Usage.InputTokens != 250 {
		t.Errorf("usage node %s: calls %v, %d input tokens", node.Name, calls, node.Usage.InputTokens)
	}

	// The next turn starts with billing and sees the whole conversation.
	if s.ActiveAgent() != "billing" {
		t.Errorf("active agent = %q", s.ActiveAgent())
	}
	got2, err := llm.GenerateString(ctx, s, llm.Prompt("thanks"), nil)
	if err != nil {
		t.Fatal(err)
	}
	last := rec.Requests()[3]
	if got2 != "You're welcome." || last.System != "You handle billing." || len(last.Messages) != 7 {
		t.Errorf("second turn: %q, system %q, %d messages", got2, last.System, len(last.Messages))
	}
}

func TestVariablesAndDone(t *testing.T) {
	type refundArgs struct {
		Amount float64 `json:"amount"`
	}
	refund := swarm.Func("issue_refund", "Refund the customer.", func(ctx context.Context, in refundArgs) (swarm.FuncResult, error) {
		customer, _ := swarm.VariablesFrom(ctx).Get("customer")
		return swarm.FuncResult{
			Value:     fmt.Sprintf("Refunded %v EUR to %v.", in.Amount, customer),
			Variables: map[string]any{"refund": in.Amount},
			Done:      true,
		}, nil
	})
	type langArgs struct {
		Language string `json:"language"`
	}
	setLanguage := agent.NewTool("set_language", "Remember the customer's language.", func(ctx context.Context, in langArgs) (string, error) {
		swarm.VariablesFrom(ctx).Set("language", in.Language)
		return "noted", nil
	})
	rec := patterntest.Replay(t, "swarm.yaml", `
turns:
  - tool_calls: [{name: set_language, arguments: {language: fr}}, {name: transfer_to_billing}]
  - tool_calls: [{name: issue_refund, arguments: {amount: 42}}]
`)
	s, err := swarm.New(rec, support(t, []agent.Tool{refund}, setLanguage), &swarm.Options{
		Variables: map[string]any{"customer": "Ada"},
		Instructions: func(a llm.ToolSource, vars map[string]any) string {
			return fmt.Sprintf("%s Customer: %v. Language: %v.", a.Instruction(), vars["customer"], vars["language"])
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(t.Context(), llm.Prompt("Refund me 42 EUR."), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer() != "Refunded 42 EUR to Ada." {
		t.Errorf("answer = %q", res.Answer())
	}
	if diff := cmp.Diff(map[string]any{"customer": "Ada", "language": "fr", "refund": 42.0}, res.Variables); diff != "" {
		t.Errorf("variables (-want +got):\n%s", diff)
	}
	reqs := rec.Requests()
	if len(reqs) != 2 {
		t.Fatalf("%d model calls, want 2 (the refund ends the turn)", len(reqs))
	}
	if want := "You route customers. Customer: Ada. Language: <nil>."; reqs[0].System != want {
		t.Errorf("triage system = %q, want %q", reqs[0].System, want)
	}
	if want := "You handle billing. Customer: Ada. Language: fr."; reqs[1].System != want {
		t.Errorf("billing system = %q, want %q", reqs[1].System, want)
	}
	// Variables persist across turns; Reset restores them.
	if v, _ := s.Variables().Get("refund"); v != 42.0 {
		t.Errorf("refund variable after the turn = %v", v)
	}
	if err := s.Reset(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := s.Variables().Snapshot(); !cmp.Equal(got, map[string]any{"customer": "Ada"}) || s.ActiveAgent() != "triage" {
		t.Errorf("after Reset: variables %v, active %q", got, s.ActiveAgent())
	}
	if msgs, _ := s.Memory().Load(t.Context()); len(msgs) != 0 {
		t.Errorf("memory after Reset holds %d messages", len(msgs))
	}
}

// TestHandoffLoop bounds agents that hand the conversation back and forth.
func TestHandoffLoop(t *testing.T) {
	for _, tt := range []struct {
		max   int
		want  string
		calls int
	}{
		{3, `swarm "swarm": more than 3 handoffs in one turn (a -> b -> a -> b -> a): the agents keep handing the conversation back and forth; raise Options.MaxHandoffs or tell the agents when to answer`, 4},
		{0, `swarm "swarm": more than 10 handoffs in one turn (a -> b -> a -> b -> a -> b -> a -> b -> a -> b -> a -> b): the agents keep handing the conversation back and forth; raise Options.MaxHandoffs or tell the agents when to answer`, 11},
	} {
		t.Run(fmt.Sprint(tt.max), func(t *testing.T) {
			rec := patterntest.Replay(t, "swarm.yaml", `
loop: true
turns:
  - tool_calls: [{name: transfer_to_b}]
  - tool_calls: [{name: transfer_to_a}]
`)
			a := newAgent(t, "a", "A.", nil, nil, swarm.TransferTo("b", ""))
			b := newAgent(t, "b", "B.", nil, nil, swarm.TransferTo("a", ""))
			s, err := swarm.New(rec, []llm.ToolSource{a, b}, &swarm.Options{MaxHandoffs: tt.max})
			if err != nil {
				t.Fatal(err)
			}
			res, err := s.Run(t.Context(), llm.Prompt("help"), nil)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v\nwant    %s", err, tt.want)
			}
			var he *swarm.MaxHandoffsError
			if !errors.Is(err, swarm.ErrMaxHandoffs) || !errors.As(err, &he) || len(he.Path) != tt.calls+1 {
				t.Errorf("err = %#v", err)
			}
			if n := len(rec.Requests()); n != tt.calls {
				t.Errorf("%d model calls, want %d", n, tt.calls)
			}
			if len(res.Handoffs) != tt.calls-1 {
				t.Errorf("%d handoffs recorded", len(res.Handoffs))
			}
			if s.ActiveAgent() != "a" {
				t.Errorf("a failed turn changed the active agent to %q", s.ActiveAgent())
			}
			if msgs, _ := s.Memory().Load(t.Context()); len(msgs) != 0 {
				t.Errorf("a failed turn stored %d messages", len(msgs))
			}
		})
	}
}

// TestBadHandoffs: mistaken handoffs are error results the model can
// recover from.
func TestBadHandoffs(t *testing.T) {
	ghost := swarm.Func("escalate", "Escalate.", func(context.Context, struct{}) (swarm.FuncResult, error) {
		return swarm.FuncResult{Agent: "manager"}, nil
	})
	rec := patterntest.Replay(t, "swarm.yaml", `
turns:
  - tool_calls: [{name: escalate}, {name: transfer_to_triage}, {name: transfer_to_billing}, {name: transfer_to_sales}]
  - text: Billing here.
`)
	agents := support(t, nil, ghost, swarm.TransferTo("triage", ""), swarm.TransferTo("sales", ""))
	s, err := swarm.New(rec, agents, &swarm.Options{Params: &llm.RequestParams{ParallelToolCalls: llm.Bool(false)}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(t.Context(), llm.Prompt("help"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Agent != "billing" || res.Answer() != "Billing here." {
		t.Errorf("answer %q by %q", res.Answer(), res.Agent)
	}
	var results []string
	for _, p := range res.Messages[1].Parts {
		r := p.(*llm.ToolResult)
		results = append(results, fmt.Sprintf("%v %s", r.IsError, r.Text()))
	}
	want := []string{
		`true no agent named "manager" in swarm "swarm"; its agents are: triage, billing`,
		`true triage is already the active agent: answer, or hand off to another agent`,
		`false Transferred to billing.`,
		`true a handoff to billing is already pending from another call of this response; make one handoff at a time`,
	}
	if diff := cmp.Diff(want, results); diff != "" {
		t.Errorf("tool results (-want +got):\n%s", diff)
	}
}

// TestHandoffsOption: handoffs declared in Options (as from configuration)
// on agents that have no Go handoff tools; billing keeps its MCP tool.
func TestHandoffsOption(t *testing.T) {
	servers := patterntest.Connect(t, "ledger", ledgerServer())
	triage := newAgent(t, "triage", "Route.", nil, nil)
	billing := newAgent(t, "billing", "Bill.", servers, []string{"ledger"})
	rec := patterntest.Replay(t, "swarm.yaml", `
turns:
  - tool_calls: [{name: transfer_to_triage}]
  - tool_calls: [{name: transfer_to_billing}]
  - tool_calls: [{name: ledger_balance, arguments: {account: A-1}}]
  - text: -42.00 EUR.
`)
	s, err := swarm.New(rec, []llm.ToolSource{triage, billing}, &swarm.Options{
		Handoffs: map[string][]string{"triage": {"billing"}, "billing": {"triage"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Run(t.Context(), llm.Prompt("balance?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer() != "-42.00 EUR." || res.Agent != "billing" {
		t.Errorf("answer %q by %q", res.Answer(), res.Agent)
	}
	// triage's first call names a tool it does not have: an error result.
	if r := res.Messages[1].Parts[0].(*llm.ToolResult); !r.IsError || !strings.Contains(r.Text(), `tool "transfer_to_triage" is not available`) {
		t.Errorf("first tool result = %v %q", r.IsError, r.Text())
	}
	reqs := rec.Requests()
	if got := toolNames(reqs[0]); !cmp.Equal(got, []string{"transfer_to_billing"}) {
		t.Errorf("triage's tools = %v", got)
	}
	if got := toolNames(reqs[2]); !cmp.Equal(got, []string{"ledger_balance", "transfer_to_triage"}) {
		t.Errorf("billing's tools = %v", got)
	}
	if len(res.Handoffs) != 1 {
		t.Errorf("handoffs = %v", res.Handoffs)
	}
}

func TestFuncOutsideSwarm(t *testing.T) {
	a := newAgent(t, "solo", "Alone.", nil, nil, swarm.TransferTo("billing", ""))
	p := replay.NewFromTurns(replay.Turn{ToolCalls: []replay.ToolCall{{Name: "transfer_to_billing"}}}, replay.Turn{Text: "ok"})
	out, err := llm.New(a, p, nil).Generate(t.Context(), llm.Prompt("hi"), nil)
	if err != nil {
		t.Fatal(err)
	}
	r := out[1].Parts[0].(*llm.ToolResult)
	want := `tool "transfer_to_billing" asked for a handoff or the end of the turn outside a swarm: run it as a swarm agent's tool`
	if !r.IsError || r.Text() != want {
		t.Errorf("result = %v %q, want an error %q", r.IsError, r.Text(), want)
	}
}

func TestStream(t *testing.T) {
	rec := patterntest.Replay(t, "swarm.yaml", `
turns:
  - text: Let me transfer you.
    tool_calls: [{name: transfer_to_billing}]
  - text: Your balance is fine.
`)
	s, err := swarm.New(rec, support(t, nil), &swarm.Options{Name: "support"})
	if err != nil {
		t.Fatal(err)
	}
	var sources []string
	started, usage := 0, 0
	var final *llm.Event
	var deltas strings.Builder
	for ev, err := range s.Stream(t.Context(), llm.Prompt("balance?"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		switch ev.Kind {
		case llm.EventIterationStarted:
			started++
		case llm.EventUsage:
			usage++
		case llm.EventTextDelta:
			deltas.WriteString(ev.Text)
		case llm.EventFinal:
			final = ev
		}
		if len(sources) == 0 || sources[len(sources)-1] != ev.Source {
			sources = append(sources, ev.Source)
		}
	}
	if diff := cmp.Diff([]string{"triage", "billing", "support"}, sources); diff != "" {
		t.Errorf("event sources (-want +got):\n%s", diff)
	}
	if started != 2 || usage != 2 {
		t.Errorf("%d iterations started, %d model calls: the intercepted call must not show", started, usage)
	}
	if deltas.String() != "Let me transfer you.Your balance is fine." {
		t.Errorf("text deltas = %q", deltas.String())
	}
	if final == nil || final.Message.Text() != "Your balance is fine." {
		t.Errorf("final = %+v", final)
	}
}

// slowBilling returns support agents whose billing agent calls a tool
// that blocks until cancelled, and a channel receiving a value when it
// starts.
func slowBilling(t *testing.T) ([]llm.ToolSource, chan struct{}, *patterntest.Recorder) {
	entered := make(chan struct{}, 1)
	srv := mcp.NewServer(&mcp.Implementation{Name: "slow", Version: "v0"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "wait", Description: "Wait until cancelled."}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		entered <- struct{}{}
		<-ctx.Done()
		return nil, nil, ctx.Err()
	})
	servers := patterntest.Connect(t, "slow", srv)
	triage := newAgent(t, "triage", "Route.", nil, nil, swarm.TransferTo("billing", ""))
	billing := newAgent(t, "billing", "Bill.", servers, []string{"slow"})
	rec := patterntest.Replay(t, "swarm.yaml", `
turns:
  - tool_calls: [{name: transfer_to_billing}]
  - tool_calls: [{name: slow_wait}]
  - text: never
`)
	return []llm.ToolSource{triage, billing}, entered, rec
}

func TestCancelMidTool(t *testing.T) {
	agents, entered, rec := slowBilling(t)
	s, err := swarm.New(rec, agents, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		<-entered
		cancel()
	}()
	_, err = s.Generate(ctx, llm.Prompt("balance?"), nil)
	if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), `swarm "swarm": agent "billing": `) {
		t.Fatalf("err = %v, want billing's cancellation", err)
	}
	if s.ActiveAgent() != "triage" {
		t.Errorf("active agent after a failed turn = %q", s.ActiveAgent())
	}
}

// TestStreamStop stops consuming a stream after the handoff, as billing
// is about to call its tool: the turn must end without leaking.
func TestStreamStop(t *testing.T) {
	agents, _, rec := slowBilling(t)
	s, err := swarm.New(rec, agents, nil)
	if err != nil {
		t.Fatal(err)
	}
	for ev, err := range s.Stream(t.Context(), llm.Prompt("balance?"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == llm.EventToolCallStarted && ev.Source == "billing" {
			break
		}
	}
	if n := len(rec.Requests()); n != 2 {
		t.Errorf("%d model calls, want 2", n)
	}
}

func TestNewErrors(t *testing.T) {
	p := replay.NewFromTurns(replay.Turn{Text: "x"})
	a := newAgent(t, "a", "", nil, nil)
	b := newAgent(t, "b", "", nil, nil)
	tests := []struct {
		name     string
		provider llm.Provider
		agents   []llm.ToolSource
		opts     *swarm.Options
		want     string
	}{
		{"no provider", nil, []llm.ToolSource{a}, nil, `swarm "swarm": no provider: give the llm.Provider the agents' model calls go to`},
		{"no agents", p, nil, &swarm.Options{Name: "s"}, `swarm "s": no agents: give at least one`},
		{"nil agent", p, []llm.ToolSource{a, nil}, nil, `swarm "swarm": agent 1 is nil`},
		{"duplicate", p, []llm.ToolSource{a, a}, nil, `swarm "swarm": two agents are named "a"`},
		{"start", p, []llm.ToolSource{a}, &swarm.Options{Start: "b"}, `swarm "swarm": Start agent "b" is not one of the agents: a`},
		{"max handoffs", p, []llm.ToolSource{a}, &swarm.Options{MaxHandoffs: -1}, `swarm "swarm": MaxHandoffs is -1: use 0 for the default or a positive bound`},
		{"handoffs from", p, []llm.ToolSource{a}, &swarm.Options{Handoffs: map[string][]string{"x": {"a"}}}, `swarm "swarm": Handoffs["x"]: no such agent; the agents are: a`},
		{"handoffs to", p, []llm.ToolSource{a}, &swarm.Options{Handoffs: map[string][]string{"a": {"b"}}}, `swarm "swarm": Handoffs["a"]: cannot hand off to "b": name another of the agents: a`},
		{"agent without provider", nil, []llm.ToolSource{a, b}, &swarm.Options{Agents: map[string]swarm.AgentOptions{"a": {Provider: p}}}, `swarm "swarm": agent "b" has no provider: give New the swarm's llm.Provider, or set Options.Agents["b"].Provider`},
		{"agents", p, []llm.ToolSource{a}, &swarm.Options{Agents: map[string]swarm.AgentOptions{"x": {Params: &llm.RequestParams{Model: "m"}}}}, `swarm "swarm": Agents["x"]: no such agent; the agents are: a`},
		{"handoffs to self", p, []llm.ToolSource{a}, &swarm.Options{Handoffs: map[string][]string{"a": {"a"}}}, `swarm "swarm": Handoffs["a"]: cannot hand off to "a": name another of the agents: a`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := swarm.New(tt.provider, tt.agents, tt.opts)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v\nwant    %s", err, tt.want)
			}
		})
	}
}

func TestStart(t *testing.T) {
	rec := patterntest.Replay(t, "swarm.yaml", "turns: [{text: Billing speaking.}]")
	s, err := swarm.New(rec, support(t, nil), &swarm.Options{Start: "billing"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := llm.GenerateString(t.Context(), s, llm.Prompt("hi"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != "Billing speaking." || rec.Requests()[0].System != "You handle billing." {
		t.Errorf("answer %q, system %q", got, rec.Requests()[0].System)
	}
}
