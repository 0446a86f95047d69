package evaluator

// The conversation plumbing every pattern shares (each pattern package keeps
// its own copy so that the packages stay independent): the pattern owns the
// conversation memory, calls its members statelessly with the whole
// conversation, records usage under a node named after itself, and adapts a
// run function to Generate and Stream.

import (
	"context"
	"fmt"
	"iter"
	"slices"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// emitFunc forwards an event to the Stream consumer; it returns false once
// the consumer has stopped. A nil emitFunc means the turn is not streamed.
type emitFunc func(*llm.Event) bool

// runFunc runs a pattern on the whole conversation.
type runFunc func(ctx context.Context, conv []llm.Message, params *llm.RequestParams, emit emitFunc) ([]llm.Message, error)

// errStopped ends a turn whose Stream consumer stopped iterating.
var errStopped = fmt.Errorf("stream consumer stopped")

// core is what every pattern has: a kind ("evaluator-optimizer"), a name and a
// conversation memory.
type core struct {
	kind, name string
	memory     llm.Memory
}

// label names the pattern in errors: evaluator-optimizer "name".
func (c *core) label() string { return fmt.Sprintf("%s %q", c.kind, c.name) }

// turn runs one Generate or Stream turn of the pattern: it prepends the
// memory (unless params.UseHistory is false), records usage under a
// workflow node named after the pattern, runs run and saves the turn (the
// new messages and the answer) to memory.
func (c *core) turn(ctx context.Context, msgs []llm.Message, params *llm.RequestParams, emit emitFunc, run runFunc) ([]llm.Message, error) {
	name, mem := c.label(), c.memory
	hist := params == nil || params.UseHistory == nil || *params.UseHistory
	var conv []llm.Message
	if hist {
		prior, err := mem.Load(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: loading memory: %w", name, err)
		}
		conv = prior
	}
	conv = append(conv, msgs...)
	if len(conv) == 0 {
		return nil, fmt.Errorf("%s: no messages to send: pass at least one message", name)
	}
	if t := llm.UsageFromContext(ctx); t != nil {
		ctx = llm.ContextWithUsage(ctx, t.Child(c.name, llm.UsageWorkflow))
	}
	out, err := run(ctx, conv, params, emit)
	if err != nil {
		return out, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: produced no answer", name)
	}
	if hist {
		final := out[len(out)-1]
		if err := mem.Append(ctx, append(slices.Clip(msgs), final)...); err != nil {
			return nil, fmt.Errorf("%s: saving memory: %w", name, err)
		}
	}
	return out, nil
}

// stream adapts c.turn to [llm.AugmentedLLM.Stream].
func (c *core) stream(ctx context.Context, msgs []llm.Message, params *llm.RequestParams, run runFunc) iter.Seq2[*llm.Event, error] {
	return func(yield func(*llm.Event, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stopped := false
		emit := func(ev *llm.Event) bool {
			if stopped {
				return false
			}
			if !yield(ev, nil) {
				stopped = true
				cancel()
			}
			return !stopped
		}
		out, err := c.turn(ctx, msgs, params, emit, run)
		if stopped {
			return
		}
		if err != nil {
			yield(nil, err)
			return
		}
		final := out[len(out)-1]
		yield(&llm.Event{Kind: llm.EventFinal, Source: c.name, Message: &final}, nil)
	}
}

// stateless returns params with history off: members get the whole
// conversation from the pattern, which owns the memory.
func stateless(params *llm.RequestParams) *llm.RequestParams {
	return llm.MergeParams(params, &llm.RequestParams{UseHistory: llm.Bool(false)})
}

// call runs one member turn statelessly, streaming its events (all but its
// final one) through emit when emit is set. Streamed, it returns the final
// message only.
func call(ctx context.Context, l llm.AugmentedLLM, conv []llm.Message, params *llm.RequestParams, emit emitFunc) ([]llm.Message, error) {
	params = stateless(params)
	if emit == nil {
		return l.Generate(ctx, conv, params)
	}
	var final *llm.Message
	for ev, err := range l.Stream(ctx, conv, params) {
		if err != nil {
			return nil, err
		}
		if ev.Kind == llm.EventFinal {
			final = ev.Message
			continue
		}
		if !emit(ev) {
			return nil, errStopped
		}
	}
	if final == nil {
		return nil, fmt.Errorf("llm %q: stream ended without a final answer", l.Name())
	}
	return []llm.Message{*final}, nil
}
