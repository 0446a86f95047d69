// Package patternkit is the conversation plumbing the workflow patterns
// (parallel, router, intent, evaluator, orchestrator, swarm) share: a
// pattern owns the conversation memory, calls its members statelessly with
// everything they need, records usage under a workflow node named after
// itself, and adapts one run function to both Generate and Stream.
//
// A pattern keeps a [Pattern] in an unexported field (not embedded, so that
// its methods stay out of the pattern's API) and calls [Pattern.Turn] and
// [Pattern.Stream]:
//
//	type Parallel struct{ pattern patternkit.Pattern /* ... */ }
//
//	func (p *Parallel) Generate(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) ([]llm.Message, error) {
//		return p.pattern.Turn(ctx, msgs, params, nil, p.run)
//	}
//
// A pattern with its own bookkeeping (orchestrator, swarm) uses the parts:
// [LoadConversation], [WithUsageNode], [Call], [UseHistory] and [Stream].
package patternkit

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// Emit forwards an event to the Stream consumer; it returns false once the
// consumer has stopped. A nil Emit means the turn is not streamed.
type Emit func(*llm.Event) bool

// Run runs a pattern on the whole conversation (memory included).
type Run func(ctx context.Context, conv []llm.Message, params *llm.RequestParams, emit Emit) ([]llm.Message, error)

// ErrStopped ends a turn whose Stream consumer stopped iterating. It never
// reaches the consumer: [Stream] returns quietly once the consumer stopped.
var ErrStopped = errors.New("stream consumer stopped")

// Label names a pattern in errors: kind "name", such as router "support".
func Label(kind, name string) string { return fmt.Sprintf("%s %q", kind, name) }

// Pattern is what every memory-owning pattern has: a kind (such as
// "parallel"), a name and a conversation memory.
type Pattern struct {
	Kind, Name string
	Memory     llm.Memory
}

// Label names the pattern in errors: kind "name".
func (p *Pattern) Label() string { return Label(p.Kind, p.Name) }

// Turn runs one Generate or Stream turn of the pattern: it prepends the
// memory (unless params.UseHistory is false), records usage under a
// workflow node named after the pattern, runs run and saves the turn (the
// new messages and the answer, the last message run returned) to memory.
// Errors from run are returned as they are, with run's messages.
func (p *Pattern) Turn(ctx context.Context, msgs []llm.Message, params *llm.RequestParams, emit Emit, run Run) ([]llm.Message, error) {
	label := p.Label()
	conv, err := LoadConversation(ctx, label, p.Memory, msgs, params)
	if err != nil {
		return nil, err
	}
	ctx = WithUsageNode(ctx, p.Name)
	out, err := run(ctx, conv, params, emit)
	if err != nil {
		return out, err
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: produced no answer", label)
	}
	if UseHistory(params) {
		if err := p.Memory.Append(ctx, append(slices.Clip(msgs), out[len(out)-1])...); err != nil {
			return nil, fmt.Errorf("%s: saving memory: %w", label, err)
		}
	}
	return out, nil
}

// Stream adapts [Pattern.Turn] to [llm.AugmentedLLM.Stream]; the final
// event's Source is the pattern's name.
func (p *Pattern) Stream(ctx context.Context, msgs []llm.Message, params *llm.RequestParams, run Run) iter.Seq2[*llm.Event, error] {
	return Stream(ctx, p.Name, func(ctx context.Context, emit Emit) ([]llm.Message, error) {
		return p.Turn(ctx, msgs, params, emit, run)
	})
}

// Stream adapts run to [llm.AugmentedLLM.Stream]: events go to the consumer
// from this goroutine only, the context run gets is cancelled once the
// consumer stops, and a successful turn ends with an EventFinal carrying
// the last message run returned, whose Source is source. run must return at
// least one message when it succeeds.
func Stream(ctx context.Context, source string, run func(ctx context.Context, emit Emit) ([]llm.Message, error)) iter.Seq2[*llm.Event, error] {
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
		out, err := run(ctx, emit)
		if stopped {
			return
		}
		if err != nil {
			yield(nil, err)
			return
		}
		final := out[len(out)-1]
		yield(&llm.Event{Kind: llm.EventFinal, Source: source, Message: &final}, nil)
	}
}

// UseHistory reports whether a turn with params uses the pattern's memory:
// unless params.UseHistory is set to false.
func UseHistory(params *llm.RequestParams) bool {
	return params == nil || params.UseHistory == nil || *params.UseHistory
}

// LoadConversation returns the memory (unless params.UseHistory is false)
// followed by msgs. label names the pattern in its errors.
func LoadConversation(ctx context.Context, label string, mem llm.Memory, msgs []llm.Message, params *llm.RequestParams) ([]llm.Message, error) {
	var conv []llm.Message
	if UseHistory(params) {
		prior, err := mem.Load(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: loading memory: %w", label, err)
		}
		conv = slices.Clip(prior)
	}
	conv = append(conv, msgs...)
	if len(conv) == 0 {
		return nil, fmt.Errorf("%s: no messages to send: pass at least one message", label)
	}
	return conv, nil
}

// WithUsageNode returns ctx recording usage under a child node of kind
// [llm.UsageWorkflow] named name, when ctx carries an [llm.UsageTracker];
// otherwise ctx itself.
func WithUsageNode(ctx context.Context, name string) context.Context {
	if t := llm.UsageFromContext(ctx); t != nil {
		return llm.ContextWithUsage(ctx, t.Child(name, llm.UsageWorkflow))
	}
	return ctx
}

// Stateless returns params with history off: members get everything they
// need from the pattern, which owns the memory.
func Stateless(params *llm.RequestParams) *llm.RequestParams {
	return llm.MergeParams(params, &llm.RequestParams{UseHistory: llm.Bool(false)})
}

// Call runs one member turn statelessly, streaming its events (all but its
// final one) through emit when emit is set. Streamed, it returns the final
// message only, or ErrStopped once emit reports the consumer stopped.
func Call(ctx context.Context, l llm.AugmentedLLM, msgs []llm.Message, params *llm.RequestParams, emit Emit) ([]llm.Message, error) {
	params = Stateless(params)
	if emit == nil {
		return l.Generate(ctx, msgs, params)
	}
	var final *llm.Message
	for ev, err := range l.Stream(ctx, msgs, params) {
		if err != nil {
			return nil, err
		}
		if ev.Kind == llm.EventFinal {
			final = ev.Message
			continue
		}
		if !emit(ev) {
			return nil, ErrStopped
		}
	}
	if final == nil {
		return nil, fmt.Errorf("llm %q: stream ended without a final answer", l.Name())
	}
	return []llm.Message{*final}, nil
}
