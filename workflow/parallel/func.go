package parallel

import (
	"context"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patternkit"
)

// Func adapts a Go function to an [llm.AugmentedLLM] named name, so that
// plain code can be a fan-out member (or any pattern's member). fn gets the
// conversation; its string is the answer. Func has no memory: every call
// sees only the messages it is given.
func Func(name string, fn func(ctx context.Context, conv []llm.Message) (string, error)) llm.AugmentedLLM {
	if fn == nil {
		panic("parallel.Func: nil function")
	}
	return patternkit.FuncLLM(name, fn)
}
