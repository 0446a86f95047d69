package swarm

// The conversation plumbing every pattern shares (each pattern package keeps
// its own copy so that the packages stay independent): the pattern owns the
// conversation memory, calls its members statelessly, records usage under a
// node named after itself, and adapts a run function to Generate and
// Stream.

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// emitFunc forwards an event to the Stream consumer; it returns false once
// the consumer has stopped. A nil emitFunc means the turn is not streamed.
type emitFunc func(*llm.Event) bool

// errStopped ends a turn whose Stream consumer stopped iterating.
var errStopped = errors.New("stream consumer stopped")

// stream adapts run to [llm.AugmentedLLM.Stream]: events go to the
// consumer from this goroutine only, and the turn ends with an EventFinal
// whose Source is name.
func stream(ctx context.Context, name string, run func(ctx context.Context, emit emitFunc) ([]llm.Message, error)) iter.Seq2[*llm.Event, error] {
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
		yield(&llm.Event{Kind: llm.EventFinal, Source: name, Message: &final}, nil)
	}
}

// loadConversation returns the memory (unless params.UseHistory is false)
// followed by msgs.
func loadConversation(ctx context.Context, label string, mem llm.Memory, msgs []llm.Message, params *llm.RequestParams) ([]llm.Message, error) {
	var conv []llm.Message
	if useHistory(params) {
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

func useHistory(params *llm.RequestParams) bool {
	return params == nil || params.UseHistory == nil || *params.UseHistory
}

// stateless returns params with history off: members get everything they
// need from the pattern, which owns the memory.
func stateless(params *llm.RequestParams) *llm.RequestParams {
	return llm.MergeParams(params, &llm.RequestParams{UseHistory: llm.Bool(false)})
}
