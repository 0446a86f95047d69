package agent

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"
)

// HumanInputToolName is the name of the tool through which the LLM asks a
// human, as in the Python mcp-agent.
const HumanInputToolName = "__human_input__"

// A HumanInputRequest is a question from the LLM to a human.
type HumanInputRequest struct {
	// Prompt is the question to show.
	Prompt string
	// Description optionally says why the input is needed.
	Description string
	// RequestID is unique per request ("hi_" + random), so an answer that
	// arrives later (for example as a workflow resume signal) can be matched.
	RequestID string
	// AgentName is the name of the asking agent.
	AgentName string
	// Timeout is how long the agent waits for the answer; 0 means no limit
	// beyond the caller's context. The agent also bounds the context passed
	// to the HumanInputFunc by it.
	Timeout time.Duration
}

// A HumanInputFunc answers a HumanInputRequest: it shows the prompt to a
// human (console, web console, a paused workflow's resume signal, ...) and
// returns the answer. It must return when ctx is done.
//
// An error is returned to the LLM as the text of an IsError tool result (a
// timeout reads "no answer from a human within 30s"), unless the context the
// agent was called with is done, in which case CallTool returns it.
type HumanInputFunc func(ctx context.Context, req HumanInputRequest) (string, error)

type humanInputArgs struct {
	Prompt         string  `json:"prompt" jsonschema:"the question or request to show the human"`
	Description    string  `json:"description,omitempty" jsonschema:"why the input is needed; shown with the prompt"`
	TimeoutSeconds float64 `json:"timeout_seconds,omitempty" jsonschema:"how long to wait for the answer, in seconds; absent or 0 means no limit"`
}

// humanInputTool is the function tool that forwards to a.human.
func humanInputTool(a *Agent) Tool {
	return NewTool(HumanInputToolName,
		"Ask a human for input: a question, a confirmation, missing information. Returns the human's answer as text.",
		func(ctx context.Context, in humanInputArgs) (string, error) {
			if in.TimeoutSeconds < 0 {
				return "", fmt.Errorf("timeout_seconds is %v; it must be 0 or more", in.TimeoutSeconds)
			}
			req := HumanInputRequest{
				Prompt:      in.Prompt,
				Description: in.Description,
				RequestID:   "hi_" + rand.Text(),
				AgentName:   a.name,
				Timeout:     time.Duration(in.TimeoutSeconds * float64(time.Second)),
			}
			hctx := ctx
			if req.Timeout > 0 {
				var cancel context.CancelFunc
				hctx, cancel = context.WithTimeout(ctx, req.Timeout)
				defer cancel()
			}
			answer, err := a.human(hctx, req)
			if err != nil {
				if ctx.Err() == nil && errors.Is(hctx.Err(), context.DeadlineExceeded) {
					return "", fmt.Errorf("no answer from a human within %s", req.Timeout)
				}
				return "", fmt.Errorf("human input: %w", err)
			}
			return answer, nil
		})
}
