package llm

import "path"

// Defaults applied by [LLM] when a [RequestParams] field is left at its zero
// value.
const (
	DefaultMaxIterations = 10
)

// RequestParams tunes one Generate or Stream call; they are the Python
// mcp-agent's RequestParams. A nil *RequestParams means all defaults. Every
// field's zero value means "not set": the LLM's defaults
// ([Options].Params) apply, then the documented default below. Pointer
// fields exist where the zero value is meaningful (false, 0.0).
type RequestParams struct {
	// Model is the model name; "" uses the LLM's default, then the
	// provider's default model.
	Model string `json:"model,omitempty"`
	// MaxTokens caps output tokens per model call; 0 is the provider's default.
	MaxTokens int `json:"max_tokens,omitempty"`
	// Temperature, when non-nil, sets the sampling temperature.
	Temperature *float64 `json:"temperature,omitempty"`
	// StopSequences end generation when produced.
	StopSequences []string `json:"stop_sequences,omitempty"`
	// SystemPrompt overrides the agent's instruction as the system prompt;
	// "" uses the instruction.
	SystemPrompt string `json:"system_prompt,omitempty"`
	// UseHistory, when nil or true, prepends the conversation memory to the
	// messages and appends the turn to it; false makes the call stateless.
	UseHistory *bool `json:"use_history,omitempty"`
	// MaxIterations bounds the model calls of one turn; 0 means
	// DefaultMaxIterations. The last iteration forbids tool calls
	// (ToolChoiceNone) so the model has to answer; if it still asks for
	// tools, the turn ends with ErrMaxIterations.
	MaxIterations int `json:"max_iterations,omitempty"`
	// ParallelToolCalls, when nil or true, lets the model ask for several
	// tools in one response and runs them concurrently; false asks for one
	// call at a time and runs calls sequentially.
	ParallelToolCalls *bool `json:"parallel_tool_calls,omitempty"`
	// ToolFilter, when non-nil, restricts the tools offered to the model to
	// those whose name matches one of the patterns (path.Match syntax:
	// "fetch_fetch", "filesystem_*"). A non-nil empty slice offers no tools.
	ToolFilter []string `json:"tool_filter,omitempty"`
	// ToolChoice constrains tool use on every iteration but the last; the
	// zero value is automatic.
	ToolChoice ToolChoice `json:"tool_choice,omitzero"`
	// ReasoningEffort for reasoning models; "" is the provider's default.
	ReasoningEffort ReasoningEffort `json:"reasoning_effort,omitempty"`
	// ResponseSchema asks for a structured final answer (see
	// [GenerateStructured], which sets it). Patterns pass it through to the
	// LLM that produces their final answer.
	ResponseSchema *ResponseSchema `json:"response_schema,omitempty"`
	// Metadata is passed to the provider.
	Metadata map[string]string `json:"metadata,omitempty"`
}

// Bool returns a pointer to b, for the pointer fields of RequestParams.
func Bool(b bool) *bool { return &b }

// Float returns a pointer to f, for RequestParams.Temperature.
func Float(f float64) *float64 { return &f }

// MergeParams returns base overridden by every field set in over (a field
// is set when it is not its zero value). Either may be nil; the result is
// never nil and shares no pointers with the inputs' maps and slices that
// callers could mutate through it.
func MergeParams(base, over *RequestParams) *RequestParams {
	var p RequestParams
	if base != nil {
		p = *base
	}
	if over != nil {
		if over.Model != "" {
			p.Model = over.Model
		}
		if over.MaxTokens != 0 {
			p.MaxTokens = over.MaxTokens
		}
		if over.Temperature != nil {
			p.Temperature = over.Temperature
		}
		if over.StopSequences != nil {
			p.StopSequences = over.StopSequences
		}
		if over.SystemPrompt != "" {
			p.SystemPrompt = over.SystemPrompt
		}
		if over.UseHistory != nil {
			p.UseHistory = over.UseHistory
		}
		if over.MaxIterations != 0 {
			p.MaxIterations = over.MaxIterations
		}
		if over.ParallelToolCalls != nil {
			p.ParallelToolCalls = over.ParallelToolCalls
		}
		if over.ToolFilter != nil {
			p.ToolFilter = over.ToolFilter
		}
		if over.ToolChoice != (ToolChoice{}) {
			p.ToolChoice = over.ToolChoice
		}
		if over.ReasoningEffort != "" {
			p.ReasoningEffort = over.ReasoningEffort
		}
		if over.ResponseSchema != nil {
			p.ResponseSchema = over.ResponseSchema
		}
		if over.Metadata != nil {
			p.Metadata = over.Metadata
		}
	}
	p.StopSequences = cloneSlice(p.StopSequences)
	p.ToolFilter = cloneSlice(p.ToolFilter)
	if p.Metadata != nil {
		m := make(map[string]string, len(p.Metadata))
		for k, v := range p.Metadata {
			m[k] = v
		}
		p.Metadata = m
	}
	return &p
}

func cloneSlice[T any](s []T) []T {
	if s == nil {
		return nil
	}
	return append(make([]T, 0, len(s)), s...)
}

// useHistory reports the effective UseHistory.
func (p *RequestParams) useHistory() bool { return p == nil || p.UseHistory == nil || *p.UseHistory }

// parallel reports the effective ParallelToolCalls.
func (p *RequestParams) parallel() bool {
	return p == nil || p.ParallelToolCalls == nil || *p.ParallelToolCalls
}

// maxIterations reports the effective MaxIterations.
func (p *RequestParams) maxIterations() int {
	if p == nil || p.MaxIterations <= 0 {
		return DefaultMaxIterations
	}
	return p.MaxIterations
}

// allowsTool reports whether the tool filter lets name through.
func (p *RequestParams) allowsTool(name string) bool {
	if p == nil || p.ToolFilter == nil {
		return true
	}
	for _, pat := range p.ToolFilter {
		if ok, _ := path.Match(pat, name); ok || pat == name {
			return true
		}
	}
	return false
}
