package patternkit

import (
	"context"
	"iter"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// FuncLLM adapts a Go function to an [llm.AugmentedLLM] named name: fn gets
// the conversation and its string is the answer. It has no memory and
// ignores params. Callers check that fn is not nil.
func FuncLLM(name string, fn func(ctx context.Context, conv []llm.Message) (string, error)) llm.AugmentedLLM {
	return &funcLLM{name: name, fn: fn}
}

type funcLLM struct {
	name string
	fn   func(ctx context.Context, conv []llm.Message) (string, error)
}

func (f *funcLLM) Name() string { return f.name }

func (f *funcLLM) Generate(ctx context.Context, msgs []llm.Message, _ *llm.RequestParams) ([]llm.Message, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	s, err := f.fn(ctx, msgs)
	if err != nil {
		return nil, err
	}
	return []llm.Message{llm.AssistantText(s)}, nil
}

func (f *funcLLM) Stream(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) iter.Seq2[*llm.Event, error] {
	return func(yield func(*llm.Event, error) bool) {
		out, err := f.Generate(ctx, msgs, params)
		if err != nil {
			yield(nil, err)
			return
		}
		yield(&llm.Event{Kind: llm.EventFinal, Source: f.name, Message: &out[0]}, nil)
	}
}
