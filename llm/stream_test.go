package llm_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
)

func TestStreamEventOrder(t *testing.T) {
	agent, _ := calcAgent(t)
	s, err := replay.Parse([]byte(`
turns:
  - thinking: I should add.
    text: Adding now.
    tool_calls:
      - {id: c1, name: calc_add, arguments: {a: 1, b: 2}}
      - {id: c2, name: calc_add, arguments: {a: 3, b: 4}}
    usage: {input: 100, output: 20}
  - text: The sums are 3 and 7.
    usage: {input: 150, output: 10}
`), "order.yaml")
	if err != nil {
		t.Fatal(err)
	}
	l := llm.New(agent, replay.New(s, &replay.Options{ChunkSize: 5}), nil)
	var kinds []string
	var textDeltas, thinking strings.Builder
	var final *llm.Message
	for ev, err := range l.Stream(context.Background(), llm.Prompt("add"), &llm.RequestParams{ParallelToolCalls: llm.Bool(false)}) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Source != "calculator" {
			t.Errorf("event %s has source %q", ev.Kind, ev.Source)
		}
		k := string(ev.Kind)
		switch ev.Kind {
		case llm.EventTextDelta:
			textDeltas.WriteString(ev.Text)
			if len(kinds) > 0 && kinds[len(kinds)-1] == "text_delta*" {
				continue
			}
			k = "text_delta*"
		case llm.EventThinkingDelta:
			thinking.WriteString(ev.Text)
			if len(kinds) > 0 && kinds[len(kinds)-1] == "thinking_delta*" {
				continue
			}
			k = "thinking_delta*"
		case llm.EventToolCallStarted:
			k += ":" + ev.ToolCall.ID
		case llm.EventToolCallFinished:
			k += ":" + ev.ToolCall.ID + "=" + ev.ToolResult.Text()
		case llm.EventUsage:
			k += ":" + ev.Model
		case llm.EventMessage:
			k += ":" + string(ev.Message.Role)
		case llm.EventIterationFinished:
			k += ":" + string(ev.StopReason)
		case llm.EventFinal:
			final = ev.Message
		}
		kinds = append(kinds, k)
	}
	want := []string{
		"iteration_started", "thinking_delta*", "text_delta*", "usage:replay", "message:assistant",
		"tool_call_started:c1", "tool_call_finished:c1=3", "tool_call_started:c2", "tool_call_finished:c2=7",
		"message:tool", "iteration_finished:tool_use",
		"iteration_started", "text_delta*", "usage:replay", "message:assistant", "iteration_finished:end_turn",
		"final",
	}
	if diff := cmp.Diff(want, kinds); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if got := textDeltas.String(); got != "Adding now.The sums are 3 and 7." {
		t.Errorf("text deltas = %q", got)
	}
	if thinking.String() != "I should add." {
		t.Errorf("thinking = %q", thinking.String())
	}
	if final == nil || final.Text() != "The sums are 3 and 7." {
		t.Errorf("final = %+v", final)
	}
	u := l.UsageReport()
	if u.Calls != 2 || u.Usage.InputTokens != 250 || u.Usage.OutputTokens != 30 {
		t.Errorf("usage = %+v", u)
	}
}

func TestStreamParallelStartsBeforeFinishes(t *testing.T) {
	agent, _ := calcAgent(t)
	p := play(t, `
turns:
  - tool_calls:
      - {id: c1, name: calc_add, arguments: {a: 1, b: 2}}
      - {id: c2, name: calc_add, arguments: {a: 3, b: 4}}
  - text: ok
`)
	l := llm.New(agent, p, nil)
	var seq []string
	for ev, err := range l.Stream(context.Background(), llm.Prompt("add"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == llm.EventToolCallStarted || ev.Kind == llm.EventToolCallFinished {
			seq = append(seq, string(ev.Kind))
		}
	}
	want := []string{"tool_call_started", "tool_call_started", "tool_call_finished", "tool_call_finished"}
	if diff := cmp.Diff(want, seq); diff != "" {
		t.Errorf("tool events (-want +got):\n%s", diff)
	}
}

func TestStreamStopEarly(t *testing.T) {
	agent, _ := calcAgent(t)
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	p := play(t, `
turns:
  - tool_calls: [{name: calc_slow}, {name: calc_add, arguments: {a: 1, b: 2}}]
  - text: never reached
`)
	l := llm.New(agent, p, nil)
	n := 0
	for ev, err := range l.Stream(context.Background(), llm.Prompt("go"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if ev.Kind == llm.EventToolCallFinished && ev.ToolCall.Name == "calc_add" {
			break // stop while calc_slow runs: it must be cancelled and waited for
		}
	}
	if n == 0 {
		t.Fatal("no events")
	}
	if mem, _ := l.Memory().Load(context.Background()); len(mem) != 0 {
		t.Errorf("abandoned turn saved %d messages", len(mem))
	}
}

func TestStreamErrorEndsSequence(t *testing.T) {
	l := llm.New(nil, play(t, "turns: [{match: weather, text: sunny}]"), &llm.Options{Name: "w"})
	var gotErr error
	events := 0
	for ev, err := range l.Stream(context.Background(), llm.Prompt("stocks?"), nil) {
		if err != nil {
			gotErr = err
			continue
		}
		_ = ev
		events++
	}
	if !errors.Is(gotErr, replay.ErrNoMatch) {
		t.Fatalf("err = %v, want replay.ErrNoMatch", gotErr)
	}
	if events != 1 { // iteration_started
		t.Errorf("%d events before the error, want 1", events)
	}
}
