package llm

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// SamplingOptions configures [SamplingHandler]. A nil *SamplingOptions uses
// the defaults.
type SamplingOptions struct {
	// Model answers every request; "" selects one from the request's model
	// preferences among Prices' models of the provider (when it states any),
	// else leaves the provider's default model.
	Model string
	// Prices is the table for model selection and usage; nil is DefaultPrices.
	Prices *PriceTable
	// Usage, when set, records every sampling call.
	Usage *UsageTracker
}

// SamplingHandler returns a handler answering MCP sampling requests
// (sampling/createMessage from a server) with provider. It is meant for the
// app's server connections (servers.Options.SamplingHandler). The server's
// system prompt, messages (text, image, tool use and tool results), max
// tokens, temperature and stop sequences are honoured.
func SamplingHandler(provider Provider, opts *SamplingOptions) func(ctx context.Context, server string, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
	if opts == nil {
		opts = &SamplingOptions{}
	}
	return func(ctx context.Context, server string, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
		if req == nil || req.Params == nil {
			return nil, fmt.Errorf("sampling request from server %q has no params", server)
		}
		p := req.Params
		r := &Request{
			Model:         opts.Model,
			System:        p.SystemPrompt,
			MaxTokens:     int(p.MaxTokens),
			StopSequences: p.StopSequences,
		}
		if p.Temperature != 0 {
			r.Temperature = Float(p.Temperature)
		}
		if r.Model == "" && p.ModelPreferences != nil {
			mp := p.ModelPreferences
			prefs := ModelPreferences{
				CostPriority: mp.CostPriority, SpeedPriority: mp.SpeedPriority, IntelligencePriority: mp.IntelligencePriority,
				Providers: []string{provider.Name()},
			}
			for _, h := range mp.Hints {
				if h != nil {
					prefs.Hints = append(prefs.Hints, h.Name)
				}
			}
			if m, err := SelectModel(opts.Prices, prefs); err == nil {
				r.Model = m
			}
		}
		for _, m := range p.Messages {
			if m == nil {
				continue
			}
			r.Messages = append(r.Messages, messageFromSampling(m))
		}
		if len(r.Messages) == 0 {
			return nil, fmt.Errorf("sampling request from server %q has no messages", server)
		}
		resp, err := provider.Complete(ctx, r)
		if err != nil {
			return nil, fmt.Errorf("answering sampling request from server %q: %w", server, err)
		}
		model := resp.Model
		if model == "" {
			model = r.Model
		}
		if opts.Usage != nil {
			opts.Usage.Child("sampling:"+server, UsageLLM).Record(model, resp.Usage)
		}
		var content mcp.Content = &mcp.TextContent{Text: resp.Message.Text()}
		if resp.Message.Text() == "" {
			for _, part := range resp.Message.Parts {
				if img, ok := part.(*Image); ok && len(img.Data) > 0 {
					content = &mcp.ImageContent{Data: img.Data, MIMEType: img.MIMEType}
					break
				}
			}
		}
		return &mcp.CreateMessageResult{Content: content, Model: model, Role: "assistant", StopReason: samplingStopReason(resp.StopReason)}, nil
	}
}

func messageFromSampling(m *mcp.SamplingMessage) Message {
	role := RoleUser
	if m.Role == "assistant" {
		role = RoleAssistant
	}
	var parts []Part
	switch c := m.Content.(type) {
	case *mcp.ToolUseContent:
		args, _ := json.Marshal(c.Input)
		parts = []Part{&ToolCall{ID: c.ID, Name: c.Name, Arguments: args}}
	case *mcp.ToolResultContent:
		role = RoleTool
		parts = []Part{&ToolResult{CallID: c.ToolUseID, Content: PartsFromMCP(c.Content), IsError: c.IsError}}
	case nil:
	default:
		parts = PartsFromMCP([]mcp.Content{c})
	}
	return Message{Role: role, Parts: parts}
}

func samplingStopReason(r StopReason) string {
	switch r {
	case StopEndTurn:
		return "endTurn"
	case StopMaxTokens:
		return "maxTokens"
	case StopSequence:
		return "stopSequence"
	case StopToolUse:
		return "toolUse"
	}
	return string(r)
}
