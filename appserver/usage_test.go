package appserver_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/appserver"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
)

// priced returns a replay provider answering as gpt-4o-mini ($0.15 per 1M
// input tokens, $0.60 per 1M output tokens in the default price table).
func priced(t *testing.T, yaml string) *replay.Provider {
	t.Helper()
	s, err := replay.Parse([]byte("model: gpt-4o-mini\nturns:\n"+yaml), "test")
	if err != nil {
		t.Fatal(err)
	}
	return replay.New(s, nil)
}

// miniCost is what in and out tokens of gpt-4o-mini cost.
func miniCost(in, out int64) float64 { return (float64(in)*0.15 + float64(out)*0.60) / 1e6 }

// usageNode is the node a turn of agent name on gpt-4o-mini reports.
func usageNode(name string, calls int, in, out int64) llm.UsageNode {
	u := llm.Usage{InputTokens: in, OutputTokens: out}
	c := llm.Cost{USD: miniCost(in, out)}
	return llm.UsageNode{
		Name: name, Kind: llm.UsageRun, Calls: calls, Usage: u, Cost: c,
		Children: []llm.UsageNode{{Name: name, Kind: llm.UsageLLM, Calls: calls, Usage: u, Cost: c, Models: map[string]llm.Usage{"gpt-4o-mini": u}}},
	}
}

var approx = cmpopts.EquateApprox(0, 1e-12)

func TestConcurrentAgentCallsReportTheirOwnUsage(t *testing.T) {
	f := newFixture(t, nil, nil)
	// Both calls are inside the gate tool at the same time, between their
	// two model calls, so their turns overlap.
	var arrived sync.WaitGroup
	arrived.Add(2)
	release := make(chan struct{})
	go func() { arrived.Wait(); close(release) }()
	gate := agent.NewTool("gate", "Waits for the other call.", func(ctx context.Context, _ struct{}) (string, error) {
		arrived.Done()
		select {
		case <-release:
			return "open", nil
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(testTimeout):
			return "", errors.New("the other call never reached the gate")
		}
	})
	ag := f.agent(t, "counter", gate)
	p := priced(t, `
  - {match: alpha, tool_calls: [{name: gate}], usage: {input: 100, output: 10}}
  - {match: alpha, text: "alpha done", usage: {input: 150, output: 15}}
  - {match: beta, tool_calls: [{name: gate}], usage: {input: 1000, output: 100}}
  - {match: beta, text: "beta done", usage: {input: 1100, output: 110}}
`)
	// One LLM for every call: its own tracker sums them all; each call
	// must report only its own.
	shared := llm.New(ag, p, nil)
	_, cs := serve(t, f, &appserver.Options{Agents: []*agent.Agent{ag}, NewLLM: func(*agent.Agent) (llm.AugmentedLLM, error) { return shared, nil }}, nil)

	results := make(map[string]appserver.GenerateResult)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, msg := range []string{"alpha", "beta"} {
		wg.Go(func() {
			res, err := cs.CallTool(testContext(t), &mcp.CallToolParams{Name: "agents-counter-generate", Arguments: map[string]any{"message": msg}})
			if err != nil || res.IsError {
				t.Errorf("%s: %v %s", msg, err, text(res))
				return
			}
			var out appserver.GenerateResult
			decode(t, res, &out)
			// The text content is the same JSON, usage included.
			var fromText appserver.GenerateResult
			if err := json.Unmarshal([]byte(text(res)), &fromText); err != nil {
				t.Errorf("%s: text content: %v", msg, err)
			}
			if diff := cmp.Diff(out.Usage, fromText.Usage, approx); diff != "" {
				t.Errorf("%s: usage in text differs from structured (-structured +text):\n%s", msg, diff)
			}
			mu.Lock()
			results[msg] = out
			mu.Unlock()
		})
	}
	wg.Wait()
	want := map[string]llm.UsageNode{
		"alpha": usageNode("counter", 2, 250, 25),
		"beta":  usageNode("counter", 2, 2100, 210),
	}
	for msg, w := range want {
		got := results[msg]
		if got.Answer != msg+" done" {
			t.Errorf("%s: answer %q", msg, got.Answer)
		}
		if diff := cmp.Diff(w, got.Usage, approx); diff != "" {
			t.Errorf("%s: usage (-want +got):\n%s", msg, diff)
		}
	}
	if got := shared.UsageReport().Usage; got != (llm.Usage{InputTokens: 2350, OutputTokens: 235}) {
		t.Errorf("the shared LLM's own tracker = %+v, want both calls", got)
	}
}

func TestTextResultsCarryUsageInMeta(t *testing.T) {
	f := newFixture(t, nil, nil)
	ag := f.agent(t, "helper")
	p := priced(t, `
  - {match: str, text: "plain answer", usage: {input: 40, output: 4}}
  - {match: json, text: '{"n": 1}', usage: {input: 60, output: 6}}
`)
	_, cs := serve(t, f, &appserver.Options{Agents: []*agent.Agent{ag}, NewLLM: llmOn(p)}, nil)
	for _, c := range []struct {
		tool     string
		args     map[string]any
		text     string
		in, out  int64
		withJSON bool
	}{
		{"agents-helper-generate_str", map[string]any{"message": "str"}, "plain answer", 40, 4, false},
		{"agents-helper-generate_structured", map[string]any{"message": "json", "response_schema": map[string]any{"type": "object"}}, `{"n":1}`, 60, 6, true},
	} {
		res := callOK(t, cs, c.tool, c.args)
		if text(res) != c.text {
			t.Errorf("%s: text %q, want %q (usage stays out of the text)", c.tool, text(res), c.text)
		}
		b, err := json.Marshal(res.Meta[appserver.MetaKeyUsage])
		if err != nil {
			t.Fatal(err)
		}
		var got llm.UsageNode
		if err := json.Unmarshal(b, &got); err != nil {
			t.Fatalf("%s: _meta.usage %s: %v", c.tool, b, err)
		}
		if diff := cmp.Diff(usageNode("helper", 1, c.in, c.out), got, approx); diff != "" {
			t.Errorf("%s: _meta.usage (-want +got):\n%s", c.tool, diff)
		}
	}
}

// TestAgentUsageIncludesAbandonedTurns: a 2026-07-28 call whose agent asks
// a human ends its turn with an input request; the retry's usage includes
// the abandoned turn's.
func TestAgentUsageIncludesAbandonedTurns(t *testing.T) {
	f := newFixture(t, nil, nil)
	a := f.agent(t, "asker")
	p := priced(t, fmt.Sprintf(`
  - {match: pick, tool_calls: [{name: %s, arguments: {prompt: "Which colour?"}}], usage: {input: 10, output: 1}}
  - {match: blue, text: "you picked blue", usage: {input: 20, output: 2}}
`, agent.HumanInputToolName))
	_, cs := serveVersion(t, f, &appserver.Options{Agents: []*agent.Agent{a}, NewLLM: llmOn(p)}, &mcp.ClientOptions{
		ElicitationHandler: func(context.Context, *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"answer": "blue"}}, nil
		},
	}, v2026)
	var out appserver.GenerateResult
	decode(t, callOK(t, cs, "agents-asker-generate", map[string]any{"message": "pick"}), &out)
	if diff := cmp.Diff(usageNode("asker", 2, 30, 3), out.Usage, approx); diff != "" {
		t.Errorf("usage (-want +got):\n%s", diff)
	}
}
