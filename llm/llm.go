package llm

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// An AugmentedLLM is a model with tools: given messages, it runs model calls
// and tool calls until the model answers. [LLM] (from [New]) is the
// agent-backed implementation; every workflow pattern implements the same
// interface, so patterns nest.
//
// [GenerateString] and [GenerateStructured] are built on Generate and work
// with every implementation.
type AugmentedLLM interface {
	// Name identifies the LLM in events and usage reports (usually its
	// agent's name).
	Name() string
	// Generate runs one turn and returns the messages it produced, in order:
	// assistant messages (text, thinking, tool calls) and tool-result
	// messages; the last one is the final assistant answer. params may be nil.
	Generate(ctx context.Context, msgs []Message, params *RequestParams) ([]Message, error)
	// Stream runs one turn like Generate and reports its progress as events,
	// ending with an EventFinal. An error ends the sequence. Stopping the
	// iteration early cancels the turn and waits for its tool calls.
	Stream(ctx context.Context, msgs []Message, params *RequestParams) iter.Seq2[*Event, error]
}

// GenerateString runs one turn and returns the text of the final answer.
func GenerateString(ctx context.Context, l AugmentedLLM, msgs []Message, params *RequestParams) (string, error) {
	out, err := l.Generate(ctx, msgs, params)
	if err != nil {
		return "", err
	}
	return FinalText(out), nil
}

// FinalText returns the text of the last assistant message in msgs ("" if
// there is none).
func FinalText(msgs []Message) string {
	for i := len(msgs) - 1; i >= 0; i-- {
		if msgs[i].Role == RoleAssistant {
			return msgs[i].Text()
		}
	}
	return ""
}

// A ToolSource is what an LLM needs from an agent: its identity and
// instruction, and its tools. Package agent's Agent satisfies it.
type ToolSource interface {
	// Name is the agent's name.
	Name() string
	// Instruction is the agent's system prompt.
	Instruction() string
	// ListTools lists the tools the agent offers.
	ListTools(ctx context.Context) ([]*mcp.Tool, error)
	// CallTool calls a tool by name with JSON object arguments. A tool that
	// fails returns a result with IsError set; a Go error means the call
	// could not be made (unknown tool, server down). The LLM reports both to
	// the model as an error result.
	CallTool(ctx context.Context, name string, args json.RawMessage) (*mcp.CallToolResult, error)
}

// Memory stores a conversation between turns. Implementations must be safe
// for concurrent use. [NewMemory] is the in-process default.
type Memory interface {
	// Load returns the stored messages, oldest first.
	Load(ctx context.Context) ([]Message, error)
	// Append adds messages at the end.
	Append(ctx context.Context, msgs ...Message) error
	// Clear forgets every message.
	Clear(ctx context.Context) error
}

// EventKind is the kind of an [Event].
type EventKind string

// Event kinds, in the order they occur within one iteration:
// iteration_started, text_delta/thinking_delta (streaming only), usage,
// message (the assistant message), tool_call_started and
// tool_call_finished for each call (with parallel calls: every start in call
// order, then the finishes as they complete), message (the tool results),
// iteration_finished. The turn ends with final.
const (
	EventIterationStarted  EventKind = "iteration_started"
	EventTextDelta         EventKind = "text_delta"
	EventThinkingDelta     EventKind = "thinking_delta"
	EventUsage             EventKind = "usage"
	EventMessage           EventKind = "message"
	EventToolCallStarted   EventKind = "tool_call_started"
	EventToolCallFinished  EventKind = "tool_call_finished"
	EventIterationFinished EventKind = "iteration_finished"
	EventFinal             EventKind = "final"
)

// An Event reports progress of a turn. Which fields are set depends on Kind.
type Event struct {
	Kind EventKind `json:"kind"`
	// Source is the name of the LLM that emitted the event (patterns
	// forward their members' events with the member's name).
	Source string `json:"source,omitempty"`
	// Iteration is the 1-based model call of the turn.
	Iteration int `json:"iteration,omitempty"`
	// Text is the delta of text_delta and thinking_delta.
	Text string `json:"text,omitempty"`
	// ToolCall is set on tool_call_started and tool_call_finished.
	ToolCall *ToolCall `json:"tool_call,omitempty"`
	// ToolResult and Duration are set on tool_call_finished.
	ToolResult *ToolResult   `json:"tool_result,omitempty"`
	Duration   time.Duration `json:"duration,omitempty"`
	// Usage and Model are set on usage.
	Usage *Usage `json:"usage,omitempty"`
	Model string `json:"model,omitempty"`
	// StopReason is set on iteration_finished.
	StopReason StopReason `json:"stop_reason,omitempty"`
	// Message is set on message and final (the final answer).
	Message *Message `json:"message,omitempty"`
}

// Errors reported by the LLM; test with errors.Is.
var (
	// ErrMaxIterations: the model still asked for tools after
	// RequestParams.MaxIterations model calls.
	ErrMaxIterations = errors.New("maximum iterations reached")
	// ErrNoFinalResponse: a provider stream ended without its final chunk.
	ErrNoFinalResponse = errors.New("provider stream ended without a final response")
	// ErrInvalidStructuredOutput: the answer did not match the schema, even
	// after the repair attempt.
	ErrInvalidStructuredOutput = errors.New("structured output does not match the schema")
)
