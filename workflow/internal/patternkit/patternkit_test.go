package patternkit_test

import (
	"context"
	"errors"
	"iter"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patternkit"
)

func texts(msgs []llm.Message) []string {
	var out []string
	for _, m := range msgs {
		out = append(out, string(m.Role)+": "+m.Text())
	}
	return out
}

// echo answers with the number of messages it got and the last one's text.
func echo(_ context.Context, conv []llm.Message, _ *llm.RequestParams, _ patternkit.Emit) ([]llm.Message, error) {
	return []llm.Message{llm.AssistantText("seen " + conv[len(conv)-1].Text())}, nil
}

func TestTurnUsesAndSavesMemory(t *testing.T) {
	p := &patternkit.Pattern{Kind: "test pattern", Name: "tp", Memory: llm.NewMemory()}
	ctx := t.Context()
	var convs [][]string
	run := func(ctx context.Context, conv []llm.Message, params *llm.RequestParams, emit patternkit.Emit) ([]llm.Message, error) {
		convs = append(convs, texts(conv))
		return echo(ctx, conv, params, emit)
	}
	if _, err := p.Turn(ctx, llm.Prompt("one"), nil, nil, run); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Turn(ctx, llm.Prompt("two"), nil, nil, run); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Turn(ctx, llm.Prompt("off the record"), &llm.RequestParams{UseHistory: llm.Bool(false)}, nil, run); err != nil {
		t.Fatal(err)
	}
	want := [][]string{
		{"user: one"},
		{"user: one", "assistant: seen one", "user: two"},
		{"user: off the record"},
	}
	if diff := cmp.Diff(want, convs); diff != "" {
		t.Errorf("conversations given to run (-want +got):\n%s", diff)
	}
	saved, err := p.Memory.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"user: one", "assistant: seen one", "user: two", "assistant: seen two"}, texts(saved)); diff != "" {
		t.Errorf("memory (-want +got):\n%s", diff)
	}
}

func TestTurnErrors(t *testing.T) {
	p := &patternkit.Pattern{Kind: "test pattern", Name: "tp", Memory: llm.NewMemory()}
	_, err := p.Turn(t.Context(), nil, nil, nil, echo)
	if err == nil || err.Error() != `test pattern "tp": no messages to send: pass at least one message` {
		t.Errorf("empty turn: got error %v", err)
	}
	none := func(context.Context, []llm.Message, *llm.RequestParams, patternkit.Emit) ([]llm.Message, error) {
		return nil, nil
	}
	_, err = p.Turn(t.Context(), llm.Prompt("hi"), nil, nil, none)
	if err == nil || err.Error() != `test pattern "tp": produced no answer` {
		t.Errorf("no answer: got error %v", err)
	}
	if saved, _ := p.Memory.Load(t.Context()); len(saved) != 0 {
		t.Errorf("failed turns were saved: %q", texts(saved))
	}
}

func TestTurnRecordsUsageUnderPatternNode(t *testing.T) {
	p := &patternkit.Pattern{Kind: "test pattern", Name: "tp", Memory: llm.NewMemory()}
	root := llm.NewUsageTracker("run", llm.UsageRun)
	var got *llm.UsageTracker
	run := func(ctx context.Context, conv []llm.Message, params *llm.RequestParams, emit patternkit.Emit) ([]llm.Message, error) {
		got = llm.UsageFromContext(ctx)
		return echo(ctx, conv, params, emit)
	}
	if _, err := p.Turn(llm.ContextWithUsage(t.Context(), root), llm.Prompt("hi"), nil, nil, run); err != nil {
		t.Fatal(err)
	}
	if got == nil || got != root.Child("tp", llm.UsageWorkflow) {
		t.Errorf("run got usage node %v, want the child tp of the run", got)
	}
	if ctx := patternkit.WithUsageNode(t.Context(), "tp"); llm.UsageFromContext(ctx) != nil {
		t.Error("WithUsageNode made a tracker where there was none")
	}
}

func TestStreamStopsWhenConsumerStops(t *testing.T) {
	var errOnStop error // run's context error as soon as emit reports the stop
	seq := patternkit.Stream(t.Context(), "tp", func(ctx context.Context, emit patternkit.Emit) ([]llm.Message, error) {
		for i := range 3 {
			m := llm.AssistantText(strings.Repeat("x", i+1))
			if !emit(&llm.Event{Kind: llm.EventMessage, Source: "member", Message: &m}) {
				errOnStop = ctx.Err()
				return nil, patternkit.ErrStopped
			}
		}
		return llm.Prompt("unreachable"), nil
	})
	var got []string
	for ev, err := range seq {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev.Message.Text())
		if len(got) == 2 {
			break
		}
	}
	if diff := cmp.Diff([]string{"x", "xx"}, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if !errors.Is(errOnStop, context.Canceled) {
		t.Errorf("run's context when the consumer stopped: error %v, want context.Canceled", errOnStop)
	}
}

func TestStreamEndsWithFinalOrError(t *testing.T) {
	collect := func(seq iter.Seq2[*llm.Event, error]) (evs []*llm.Event, errs []error) {
		for ev, err := range seq {
			evs, errs = append(evs, ev), append(errs, err)
		}
		return evs, errs
	}
	evs, errs := collect(patternkit.Stream(t.Context(), "tp", func(context.Context, patternkit.Emit) ([]llm.Message, error) {
		return []llm.Message{llm.AssistantText("draft"), llm.AssistantText("answer")}, nil
	}))
	if len(evs) != 1 || errs[0] != nil || evs[0].Kind != llm.EventFinal || evs[0].Source != "tp" || evs[0].Message.Text() != "answer" {
		t.Errorf("got events %+v, errors %v; want one final answer from tp", evs, errs)
	}
	boom := errors.New("boom")
	evs, errs = collect(patternkit.Stream(t.Context(), "tp", func(context.Context, patternkit.Emit) ([]llm.Message, error) { return nil, boom }))
	if len(evs) != 1 || evs[0] != nil || !errors.Is(errs[0], boom) {
		t.Errorf("got events %+v, errors %v; want the run's error only", evs, errs)
	}
}

// streamer streams the events given and nothing else.
type streamer struct{ events []*llm.Event }

func (s *streamer) Name() string { return "streamer" }
func (s *streamer) Generate(context.Context, []llm.Message, *llm.RequestParams) ([]llm.Message, error) {
	return nil, errors.New("streamer only streams")
}
func (s *streamer) Stream(context.Context, []llm.Message, *llm.RequestParams) iter.Seq2[*llm.Event, error] {
	return func(yield func(*llm.Event, error) bool) {
		for _, ev := range s.events {
			if !yield(ev, nil) {
				return
			}
		}
	}
}

func TestCall(t *testing.T) {
	member := patternkit.FuncLLM("member", func(_ context.Context, conv []llm.Message) (string, error) {
		return "echo " + conv[0].Text(), nil
	})
	out, err := patternkit.Call(t.Context(), member, llm.Prompt("hi"), nil, nil)
	if err != nil || len(out) != 1 || out[0].Text() != "echo hi" {
		t.Errorf("Call = %q, %v; want echo hi", texts(out), err)
	}
	if p := patternkit.Stateless(&llm.RequestParams{Model: "m", UseHistory: llm.Bool(true)}); p.Model != "m" || p.UseHistory == nil || *p.UseHistory {
		t.Errorf("Stateless = %+v, want model m with history off", p)
	}

	step, final := llm.AssistantText("step"), llm.AssistantText("done")
	s := &streamer{events: []*llm.Event{{Kind: llm.EventMessage, Message: &step}, {Kind: llm.EventFinal, Message: &final}}}
	var emitted []string
	out, err = patternkit.Call(t.Context(), s, llm.Prompt("go"), nil, func(ev *llm.Event) bool {
		emitted = append(emitted, ev.Message.Text())
		return true
	})
	if err != nil || len(out) != 1 || out[0].Text() != "done" || !cmp.Equal(emitted, []string{"step"}) {
		t.Errorf("streamed Call = %q, %v, emitted %q; want done, emitted step", texts(out), err, emitted)
	}
	_, err = patternkit.Call(t.Context(), s, llm.Prompt("go"), nil, func(*llm.Event) bool { return false })
	if !errors.Is(err, patternkit.ErrStopped) {
		t.Errorf("Call with a stopped consumer: got %v, want ErrStopped", err)
	}
	s.events = s.events[:1]
	_, err = patternkit.Call(t.Context(), s, llm.Prompt("go"), nil, func(*llm.Event) bool { return true })
	if err == nil || err.Error() != `llm "streamer": stream ended without a final answer` {
		t.Errorf("stream without a final: got %v", err)
	}
}

func TestTranscript(t *testing.T) {
	if got := patternkit.Transcript(llm.Prompt("just this")); got != "just this" {
		t.Errorf("one message: %q", got)
	}
	conv := []llm.Message{llm.UserText("refund please"), llm.AssistantText("which order?"), llm.UserText("#42")}
	if got, want := patternkit.Transcript(conv), "user: refund please\n\nassistant: which order?\n\nuser: #42"; got != want {
		t.Errorf("Transcript = %q, want %q", got, want)
	}
	if got := patternkit.LastUserText(conv); got != "#42" {
		t.Errorf("LastUserText = %q", got)
	}
	if got := patternkit.LastUserText([]llm.Message{llm.AssistantText("hello")}); got != "" {
		t.Errorf("LastUserText without a user message = %q", got)
	}
}
