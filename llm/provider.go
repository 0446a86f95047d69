package llm

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
)

// A Provider is a model API: OpenAI, Anthropic, the replay script, ... It
// translates one [Request] into one model response; the tool loop, retries,
// memory and usage accounting live above it, in [LLM].
//
// Implementations must be safe for concurrent use, must not modify the
// Request, and should return errors that implement [HTTPStatusError] for HTTP
// failures (so [RetryPolicy] can tell 429/5xx from other 4xx). Providers do
// not retry themselves: SDK retries are turned off and the LLM retries with
// one policy.
type Provider interface {
	// Name identifies the provider ("openai", "anthropic", "replay").
	Name() string
	// Complete returns the whole response at once.
	Complete(ctx context.Context, req *Request) (*Response, error)
	// Stream returns the response as it is generated: zero or more delta
	// chunks, then exactly one chunk whose Response is set (the complete
	// response, equal to what Complete would have returned), then the end
	// of the sequence. An error ends the sequence. When the consumer stops
	// early, the provider releases the underlying connection.
	Stream(ctx context.Context, req *Request) iter.Seq2[*Chunk, error]
}

// A Request is one model call, provider-neutral. Zero values mean "the
// provider's default".
type Request struct {
	// Model is the model name; "" lets the provider use its default model.
	Model string
	// System is the system prompt ("" for none).
	System string
	// Messages is the conversation, oldest first (never empty).
	Messages []Message
	// Tools are the tools the model may call.
	Tools []ToolSpec
	// ToolChoice constrains tool use; the zero value is "auto".
	ToolChoice ToolChoice
	// DisableParallelToolCalls asks the model for at most one tool call per
	// response (OpenAI parallel_tool_calls=false, Anthropic
	// disable_parallel_tool_use).
	DisableParallelToolCalls bool
	// MaxTokens caps the output tokens; 0 is the provider's default.
	MaxTokens int
	// Temperature, when non-nil, sets the sampling temperature.
	Temperature *float64
	// StopSequences end generation when produced.
	StopSequences []string
	// ReasoningEffort asks reasoning models to think less or more; "" is the
	// provider's default. Anthropic maps it onto an extended-thinking budget.
	ReasoningEffort ReasoningEffort
	// ResponseSchema, when set, asks for structured output: the final answer
	// (a response without tool calls) must be one JSON value conforming to
	// the schema, returned as a single [*Text] part. The provider picks the
	// mechanism (OpenAI response_format json_schema; Anthropic a forced tool
	// whose input it turns back into text).
	ResponseSchema *ResponseSchema
	// Metadata is passed to providers that accept request metadata.
	Metadata map[string]string
}

// ToolSpec describes a tool to the model.
type ToolSpec struct {
	Name        string
	Description string
	// InputSchema is the JSON Schema of the arguments (an object schema),
	// as listed by the MCP server.
	InputSchema json.RawMessage
}

// ToolChoiceMode is how the model may use tools.
type ToolChoiceMode string

// Tool choice modes. The zero value "" means ToolChoiceAuto.
const (
	ToolChoiceAuto     ToolChoiceMode = "auto"     // the model decides
	ToolChoiceNone     ToolChoiceMode = "none"     // no tool calls
	ToolChoiceRequired ToolChoiceMode = "required" // at least one tool call
	ToolChoiceTool     ToolChoiceMode = "tool"     // call the tool named in ToolChoice.Name
)

// ToolChoice constrains tool use. The zero value is automatic.
type ToolChoice struct {
	Mode ToolChoiceMode `json:"mode,omitempty"`
	// Name is the tool to call when Mode is ToolChoiceTool.
	Name string `json:"name,omitempty"`
}

// ReasoningEffort is how hard a reasoning model thinks.
type ReasoningEffort string

// Reasoning efforts, as OpenAI names them. "" is the provider's default.
const (
	ReasoningMinimal ReasoningEffort = "minimal"
	ReasoningLow     ReasoningEffort = "low"
	ReasoningMedium  ReasoningEffort = "medium"
	ReasoningHigh    ReasoningEffort = "high"
)

// ResponseSchema asks for a structured answer.
type ResponseSchema struct {
	// Name names the output (OpenAI requires ^[a-zA-Z0-9_-]{1,64}$).
	Name string `json:"name"`
	// Description tells the model what the output is for.
	Description string `json:"description,omitempty"`
	// Schema is the JSON Schema of the answer.
	Schema json.RawMessage `json:"schema"`
	// Strict asks providers that support it to enforce the schema while
	// decoding (OpenAI strict mode; it needs every property required and
	// additionalProperties false).
	Strict bool `json:"strict,omitempty"`
}

// A Response is one model response.
type Response struct {
	// ID is the provider's response ID, when it has one.
	ID string
	// Message is the assistant message (Role is RoleAssistant).
	Message Message
	// StopReason is why generation stopped.
	StopReason StopReason
	// Usage counts the tokens of this call.
	Usage Usage
	// Model is the model that answered, as the provider reports it.
	Model string
}

// StopReason is why the model stopped generating.
type StopReason string

// Stop reasons. Providers map theirs onto these; "" means unknown.
const (
	StopEndTurn      StopReason = "end_turn"      // a complete answer
	StopToolUse      StopReason = "tool_use"      // the response has tool calls
	StopMaxTokens    StopReason = "max_tokens"    // truncated by MaxTokens
	StopSequence     StopReason = "stop_sequence" // a stop sequence was produced
	StopRefusal      StopReason = "refusal"       // refused (or content filtered)
	StopPauseTurn    StopReason = "pause_turn"    // the provider paused a long turn
	StopOtherUnknown StopReason = "other"         // anything else
)

// Usage counts the tokens of one or more model calls.
type Usage struct {
	// InputTokens is every input token, including CacheReadTokens and
	// CacheWriteTokens. (Anthropic reports cache tokens apart from
	// input_tokens: its provider adds them up.)
	InputTokens int64 `json:"input_tokens"`
	// OutputTokens is every output token, including ReasoningTokens.
	OutputTokens int64 `json:"output_tokens"`
	// CacheReadTokens is the part of InputTokens read from the prompt cache.
	CacheReadTokens int64 `json:"cache_read_tokens,omitempty"`
	// CacheWriteTokens is the part of InputTokens written to the prompt cache.
	CacheWriteTokens int64 `json:"cache_write_tokens,omitempty"`
	// ReasoningTokens is the part of OutputTokens spent thinking.
	ReasoningTokens int64 `json:"reasoning_tokens,omitempty"`
}

// Add adds v to u.
func (u *Usage) Add(v Usage) {
	u.InputTokens += v.InputTokens
	u.OutputTokens += v.OutputTokens
	u.CacheReadTokens += v.CacheReadTokens
	u.CacheWriteTokens += v.CacheWriteTokens
	u.ReasoningTokens += v.ReasoningTokens
}

// A Chunk is one piece of a streamed response. Exactly one field is set.
type Chunk struct {
	// Text is a delta of answer text.
	Text string
	// Thinking is a delta of reasoning text.
	Thinking string
	// Response is the complete response; it comes last.
	Response *Response
}

// CollectStream drains a [Provider.Stream] sequence and returns its final
// response. A provider can implement Complete as
//
//	return llm.CollectStream(p.Stream(ctx, req))
func CollectStream(seq iter.Seq2[*Chunk, error]) (*Response, error) {
	var final *Response
	for c, err := range seq {
		if err != nil {
			return nil, err
		}
		if c != nil && c.Response != nil {
			final = c.Response
		}
	}
	if final == nil {
		return nil, fmt.Errorf("llm: %w", ErrNoFinalResponse)
	}
	return final, nil
}
