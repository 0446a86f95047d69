package openai

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/respjson"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// ErrNoChoices is returned when a response (or a finished stream) has no
// choice: the server answered without a message.
var ErrNoChoices = errors.New("the response has no choices")

// reasoningFields are the non-standard message fields in which
// OpenAI-compatible servers return reasoning text (DeepSeek and vLLM:
// reasoning_content; Ollama: reasoning). They become [llm.Thinking].
var reasoningFields = []string{"reasoning_content", "reasoning"}

// translateResponse maps a chat completion (its first choice) onto a
// provider-neutral response.
func translateResponse(cc *oai.ChatCompletion) (*llm.Response, error) {
	if cc == nil || len(cc.Choices) == 0 {
		return nil, fmt.Errorf("openai: %w", ErrNoChoices)
	}
	choice := cc.Choices[0]
	return buildResponse(cc, choice.Message, choice.FinishReason, extraString(choice.Message.JSON.ExtraFields)), nil
}

func buildResponse(cc *oai.ChatCompletion, msg oai.ChatCompletionMessage, finish, thinking string) *llm.Response {
	var parts []llm.Part
	if thinking != "" {
		parts = append(parts, &llm.Thinking{Text: thinking, Provider: providerName})
	}
	if msg.Content != "" {
		parts = append(parts, &llm.Text{Text: msg.Content})
	}
	if msg.Refusal != "" {
		parts = append(parts, &llm.Text{Text: msg.Refusal})
	}
	calls := 0
	for _, tc := range msg.ToolCalls {
		name, args := tc.Function.Name, tc.Function.Arguments
		if tc.Type == "custom" {
			name, args = tc.Custom.Name, tc.Custom.Input
		}
		if strings.TrimSpace(args) == "" {
			args = "{}"
		}
		parts = append(parts, &llm.ToolCall{ID: tc.ID, Name: name, Arguments: json.RawMessage(args)})
		calls++
	}
	resp := &llm.Response{
		ID:         cc.ID,
		Message:    llm.Message{Role: llm.RoleAssistant, Parts: parts},
		StopReason: stopReason(finish, calls > 0, msg.Refusal != ""),
		Model:      cc.Model,
		Usage: llm.Usage{
			InputTokens:     cc.Usage.PromptTokens,
			OutputTokens:    cc.Usage.CompletionTokens,
			CacheReadTokens: cc.Usage.PromptTokensDetails.CachedTokens,
			ReasoningTokens: cc.Usage.CompletionTokensDetails.ReasoningTokens,
		},
	}
	return resp
}

// stopReason maps finish_reason. A refusal wins; a response with tool
// calls is tool_use even when a compatible server says "stop"; an empty
// finish_reason (some compatible servers) counts as a complete answer.
func stopReason(finish string, hasCalls, refused bool) llm.StopReason {
	switch {
	case refused:
		return llm.StopRefusal
	case finish == "length":
		return llm.StopMaxTokens
	case finish == "content_filter":
		return llm.StopRefusal
	case hasCalls && (finish == "stop" || finish == "tool_calls" || finish == "function_call" || finish == ""):
		return llm.StopToolUse
	case finish == "stop" || finish == "":
		return llm.StopEndTurn
	case finish == "tool_calls" || finish == "function_call":
		// Announced tool calls that did not arrive.
		return llm.StopEndTurn
	}
	return llm.StopOtherUnknown
}

// extraString returns the first reasoning field present as a JSON string.
func extraString(fields map[string]respjson.Field) string {
	for _, k := range reasoningFields {
		f, ok := fields[k]
		if !ok {
			continue
		}
		var s string
		if json.Unmarshal([]byte(f.Raw()), &s) == nil && s != "" {
			return s
		}
	}
	return ""
}

// streamAccumulator turns stream chunks into llm chunks and assembles the
// final response with the SDK's ChatCompletionAccumulator (text, refusal,
// tool-call fragments by index, usage). Only the first choice is used.
type streamAccumulator struct {
	acc      oai.ChatCompletionAccumulator
	thinking strings.Builder
	chunks   int
}

// add accumulates one chunk and returns the deltas to emit.
func (s *streamAccumulator) add(chunk oai.ChatCompletionChunk) ([]*llm.Chunk, error) {
	s.chunks++
	if !s.acc.AddChunk(chunk) {
		return nil, fmt.Errorf("openai: stream chunk %d (id %q) is inconsistent with the previous ones; the server's stream is malformed", s.chunks, chunk.ID)
	}
	var out []*llm.Chunk
	for _, c := range chunk.Choices {
		if c.Index != 0 {
			continue
		}
		if t := extraString(c.Delta.JSON.ExtraFields); t != "" {
			s.thinking.WriteString(t)
			out = append(out, &llm.Chunk{Thinking: t})
		}
		if c.Delta.Content != "" {
			out = append(out, &llm.Chunk{Text: c.Delta.Content})
		}
		if c.Delta.Refusal != "" {
			out = append(out, &llm.Chunk{Text: c.Delta.Refusal})
		}
	}
	return out, nil
}

// response returns the accumulated response. A stream that ended before
// the model finished (no finish_reason) is reported as cut short
// (io.ErrUnexpectedEOF, which the LLM's retry policy retries).
func (s *streamAccumulator) response() (*llm.Response, error) {
	cc := &s.acc.ChatCompletion
	if len(cc.Choices) == 0 {
		if s.chunks == 0 {
			return nil, fmt.Errorf("openai: the stream ended without any chunk: %w", io.ErrUnexpectedEOF)
		}
		return nil, fmt.Errorf("openai: %w (after %d stream chunks)", ErrNoChoices, s.chunks)
	}
	choice := cc.Choices[0]
	if choice.FinishReason == "" {
		return nil, fmt.Errorf("openai: the stream ended before the model finished (no finish_reason): %w", io.ErrUnexpectedEOF)
	}
	return buildResponse(cc, choice.Message, choice.FinishReason, s.thinking.String()), nil
}
