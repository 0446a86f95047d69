package anthropic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// response translates a Messages API message. Text, thinking (with its
// signature), redacted thinking and tool_use blocks map onto parts; server
// tool blocks are left out. A call of the structured-output tool becomes
// the response's only Text part (thinking kept) when the model called no
// other tool; when it did, the output call is dropped and the real calls
// run first.
func (pl *plan) response(msg *sdk.Message) *llm.Response {
	resp := &llm.Response{
		ID:         msg.ID,
		Model:      msg.Model,
		StopReason: stopReason(msg.StopReason),
		Usage:      usage(msg.Usage),
		Message:    llm.Message{Role: llm.RoleAssistant},
	}
	var output json.RawMessage
	calls := 0
	for _, b := range msg.Content {
		switch b.Type {
		case "text":
			if b.Text != "" {
				resp.Message.Parts = append(resp.Message.Parts, &llm.Text{Text: b.Text})
			}
		case "thinking":
			resp.Message.Parts = append(resp.Message.Parts, &llm.Thinking{Text: b.Thinking, Signature: b.Signature, Provider: providerName})
		case "redacted_thinking":
			resp.Message.Parts = append(resp.Message.Parts, &llm.Thinking{RedactedData: b.Data, Provider: providerName})
		case "tool_use":
			if pl != nil && pl.outputTool != "" && b.Name == pl.outputTool {
				if output == nil {
					output = pl.unwrap(b.Input)
				}
				continue
			}
			args := bytes.TrimSpace(b.Input)
			if len(args) == 0 {
				args = []byte("{}")
			}
			resp.Message.Parts = append(resp.Message.Parts, &llm.ToolCall{ID: b.ID, Name: b.Name, Arguments: append(json.RawMessage(nil), args...)})
			calls++
		}
	}
	if output != nil && calls == 0 {
		// The answer is the output tool's input: keep thinking, replace any
		// preamble text by the JSON.
		parts := resp.Message.Parts[:0]
		for _, p := range resp.Message.Parts {
			if _, ok := p.(*llm.Thinking); ok {
				parts = append(parts, p)
			}
		}
		resp.Message.Parts = append(parts, &llm.Text{Text: string(output)})
		if resp.StopReason == llm.StopToolUse {
			resp.StopReason = llm.StopEndTurn
		}
	}
	return resp
}

// unwrap returns the answer in the output tool's input: the input itself,
// or its "value" when the schema was wrapped. The JSON is compacted.
func (pl *plan) unwrap(input json.RawMessage) json.RawMessage {
	in := bytes.TrimSpace(input)
	if len(in) == 0 {
		in = []byte("{}")
	}
	if pl.wrapped {
		var w struct {
			Value json.RawMessage `json:"value"`
		}
		if json.Unmarshal(in, &w) == nil && len(w.Value) > 0 {
			in = w.Value
		}
	}
	var buf bytes.Buffer
	if json.Compact(&buf, in) != nil {
		return append(json.RawMessage(nil), in...)
	}
	return buf.Bytes()
}

// stopReason maps the API's stop reasons. model_context_window_exceeded is
// a truncation like max_tokens.
func stopReason(r sdk.StopReason) llm.StopReason {
	switch r {
	case "":
		return ""
	case sdk.StopReasonEndTurn:
		return llm.StopEndTurn
	case sdk.StopReasonToolUse:
		return llm.StopToolUse
	case sdk.StopReasonMaxTokens, sdk.StopReasonModelContextWindowExceeded:
		return llm.StopMaxTokens
	case sdk.StopReasonStopSequence:
		return llm.StopSequence
	case sdk.StopReasonRefusal:
		return llm.StopRefusal
	case sdk.StopReasonPauseTurn:
		return llm.StopPauseTurn
	}
	return llm.StopOtherUnknown
}

// usage maps token counts. The API reports cache reads and writes apart
// from input_tokens; llm.Usage.InputTokens counts them all.
func usage(u sdk.Usage) llm.Usage {
	return llm.Usage{
		InputTokens:      u.InputTokens + u.CacheReadInputTokens + u.CacheCreationInputTokens,
		OutputTokens:     u.OutputTokens,
		CacheReadTokens:  u.CacheReadInputTokens,
		CacheWriteTokens: u.CacheCreationInputTokens,
		ReasoningTokens:  u.OutputTokensDetails.ThinkingTokens,
	}
}

// errorStatus is the HTTP status an API error type stands for, for errors
// that arrive as an SSE error event inside a 200 response.
var errorStatus = map[sdk.ErrorType]int{
	sdk.ErrorTypeInvalidRequestError: http.StatusBadRequest,
	sdk.ErrorTypeAuthenticationError: http.StatusUnauthorized,
	sdk.ErrorTypeBillingError:        http.StatusPaymentRequired,
	sdk.ErrorTypePermissionError:     http.StatusForbidden,
	sdk.ErrorTypeNotFoundError:       http.StatusNotFound,
	sdk.ErrorTypeRateLimitError:      http.StatusTooManyRequests,
	sdk.ErrorTypeTimeoutError:        http.StatusGatewayTimeout,
	sdk.ErrorTypeAPIError:            http.StatusInternalServerError,
	sdk.ErrorTypeOverloadedError:     529,
	sdk.ErrorTypeConflictError:       http.StatusConflict,
	"request_too_large":              http.StatusRequestEntityTooLarge,
}

// apiError maps an SDK error onto an [llm.HTTPStatusError] that keeps the
// response's Retry-After headers and wraps the *sdk.Error (errors.As
// still finds it). Other errors (network, context) are returned wrapped.
func apiError(err error) error {
	var ae *sdk.Error
	if !errors.As(err, &ae) {
		return fmt.Errorf("anthropic: %w", err)
	}
	code := ae.StatusCode
	if code < 400 {
		// An error event in a stream that started with 200 OK.
		if c, ok := errorStatus[ae.Type()]; ok {
			code = c
		} else {
			code = http.StatusInternalServerError
		}
	}
	var header http.Header
	if ae.Response != nil {
		header = ae.Response.Header
	}
	return llm.NewStatusError(code, header, fmt.Errorf("anthropic: %s: %w", hint(code, ae), err))
}

// hint says what an error status means and what to do.
func hint(code int, ae *sdk.Error) string {
	msg := ae.Message
	if msg == "" {
		msg = http.StatusText(code)
	}
	switch {
	case code == http.StatusUnauthorized:
		return "authentication failed (HTTP 401: " + msg + "): check anthropic.api_key or ANTHROPIC_API_KEY"
	case code == http.StatusForbidden:
		return "permission denied (HTTP 403: " + msg + "): the API key may not use this model or feature"
	case code == http.StatusNotFound:
		return "not found (HTTP 404: " + msg + "): check the model name and anthropic.base_url"
	case code == http.StatusTooManyRequests:
		return "rate limited (HTTP 429: " + msg + ")"
	case code == 529:
		return "the API is overloaded (HTTP 529: " + msg + ")"
	case code >= 500:
		return fmt.Sprintf("server error (HTTP %d: %s)", code, msg)
	}
	return fmt.Sprintf("request rejected (HTTP %d: %s)", code, msg)
}
