package anthropic

// Translation of an llm.Request into Messages API parameters.
//
// Structured output (Request.ResponseSchema) goes through a tool: the
// schema becomes the input schema of an extra "output tool" and the model
// is made to call it (tool_choice {type: tool} when no other tool may be
// called, {type: any} when real tools are offered, so the model either
// calls a real tool or answers through the output tool). The response
// translation turns that call back into one Text part holding the JSON.
// Schemas that are not objects (input_schema must be one) are wrapped as
// {"value": schema} and unwrapped on the way back.
//
// Extended thinking cannot be combined with a forced tool choice (the API
// accepts only auto and none with thinking). So:
//   - a Request that forces tools itself (ToolChoiceRequired, ToolChoiceTool)
//     is sent without thinking, and so is every later call of the same
//     tool-use turn (the API wants one thinking configuration per turn);
//   - a ResponseSchema with thinking offers the output tool with tool_choice
//     auto and tells the model, in the system prompt, to answer through it;
//     with ToolChoiceNone (the tool loop's last iteration) it asks for the
//     bare JSON in the system prompt instead. An answer given as plain text
//     is passed through as it is (GenerateStructured validates it and asks
//     once for a repair).

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// plan remembers what buildParams decided that the response translation
// needs to know.
type plan struct {
	// outputTool is the name of the structured-output tool ("" if none).
	outputTool string
	// wrapped: the output schema was wrapped as {"value": schema}.
	wrapped bool
}

// streamsOutput reports whether the content block at index is the output
// tool's call, whose JSON input can be streamed as answer text.
func (pl *plan) streamsOutput(msg *sdk.Message, index int64) bool {
	if pl.outputTool == "" || pl.wrapped || index < 0 || index >= int64(len(msg.Content)) {
		return false
	}
	b := msg.Content[index]
	return b.Type == "tool_use" && b.Name == pl.outputTool
}

func (p *Provider) buildParams(req *llm.Request) (sdk.MessageNewParams, *plan, error) {
	var params sdk.MessageNewParams
	pl := &plan{}
	if req == nil || len(req.Messages) == 0 {
		return params, nil, fmt.Errorf("anthropic: the request has no messages: pass at least one user message")
	}
	params.Model = req.Model
	if params.Model == "" {
		params.Model = p.model
	}
	maxTokens := req.MaxTokens
	if maxTokens <= 0 {
		maxTokens = p.maxTokens
	}
	effort := req.ReasoningEffort
	if effort == "" {
		effort = p.effort
	}
	budget := 0
	if effort != "" {
		b, ok := p.budgets[effort]
		if !ok {
			return params, nil, fmt.Errorf("anthropic: unknown reasoning effort %q: want minimal, low, medium or high", effort)
		}
		budget = b
	}

	msgs, err := toMessages(req.Messages)
	if err != nil {
		return params, nil, err
	}
	params.Messages = msgs

	toolNames := make(map[string]bool, len(req.Tools))
	for _, t := range req.Tools {
		schema, _, err := inputSchema(t.InputSchema, false)
		if err != nil {
			return params, nil, fmt.Errorf("anthropic: tool %q: %w", t.Name, err)
		}
		tp := &sdk.ToolParam{Name: t.Name, InputSchema: schema}
		if t.Description != "" {
			tp.Description = sdk.String(t.Description)
		}
		params.Tools = append(params.Tools, sdk.ToolUnionParam{OfTool: tp})
		toolNames[t.Name] = true
	}

	mode := req.ToolChoice.Mode
	if mode == "" {
		mode = llm.ToolChoiceAuto
	}
	switch mode {
	case llm.ToolChoiceAuto, llm.ToolChoiceNone, llm.ToolChoiceRequired:
	case llm.ToolChoiceTool:
		if !toolNames[req.ToolChoice.Name] {
			return params, nil, fmt.Errorf("anthropic: tool choice names tool %q, which is not among the request's %d tools", req.ToolChoice.Name, len(req.Tools))
		}
	default:
		return params, nil, fmt.Errorf("anthropic: unknown tool choice mode %q: want auto, none, required or tool", mode)
	}
	thinking := budget > 0 && mode != llm.ToolChoiceRequired && mode != llm.ToolChoiceTool &&
		!midTurnWithoutThinking(req.Messages)
	setChoice := func(m llm.ToolChoiceMode, name string) {
		if len(params.Tools) == 0 {
			return // the API rejects a tool_choice without tools
		}
		switch m {
		case llm.ToolChoiceAuto:
			c := &sdk.ToolChoiceAutoParam{}
			if req.DisableParallelToolCalls {
				c.DisableParallelToolUse = sdk.Bool(true)
			}
			params.ToolChoice = sdk.ToolChoiceUnionParam{OfAuto: c}
		case llm.ToolChoiceRequired:
			c := &sdk.ToolChoiceAnyParam{}
			if req.DisableParallelToolCalls {
				c.DisableParallelToolUse = sdk.Bool(true)
			}
			params.ToolChoice = sdk.ToolChoiceUnionParam{OfAny: c}
		case llm.ToolChoiceTool:
			c := &sdk.ToolChoiceToolParam{Name: name}
			if req.DisableParallelToolCalls || name == pl.outputTool {
				c.DisableParallelToolUse = sdk.Bool(true)
			}
			params.ToolChoice = sdk.ToolChoiceUnionParam{OfTool: c}
		case llm.ToolChoiceNone:
			params.ToolChoice = sdk.ToolChoiceUnionParam{OfNone: &sdk.ToolChoiceNoneParam{}}
		}
	}

	system := req.System
	if rs := req.ResponseSchema; rs != nil {
		schema, wrapped, err := inputSchema(rs.Schema, true)
		if err != nil {
			return params, nil, fmt.Errorf("anthropic: response schema %q: %w", rs.Name, err)
		}
		switch {
		case thinking && mode == llm.ToolChoiceNone:
			// The last iteration of a tool loop: no tool may be called, and
			// thinking forbids forcing one. Ask for the bare JSON.
			system = appendSystem(system, "Reply with only a JSON value that conforms to this JSON Schema, with no other text:\n"+string(bytes.TrimSpace(rs.Schema)))
			setChoice(llm.ToolChoiceNone, "")
		default:
			pl.outputTool = outputToolName(rs.Name, toolNames)
			pl.wrapped = wrapped
			desc := rs.Description
			if desc == "" {
				desc = "Give your final answer. Its input is the answer, in the required format."
			}
			tp := &sdk.ToolParam{Name: pl.outputTool, Description: sdk.String(desc), InputSchema: schema}
			if rs.Strict {
				tp.Strict = sdk.Bool(true)
			}
			params.Tools = append(params.Tools, sdk.ToolUnionParam{OfTool: tp})
			switch {
			case thinking:
				system = appendSystem(system, fmt.Sprintf("When you have the final answer, give it by calling the %s tool (its input is the answer), not as text.", pl.outputTool))
				setChoice(llm.ToolChoiceAuto, "")
			case mode == llm.ToolChoiceTool:
				setChoice(llm.ToolChoiceTool, req.ToolChoice.Name)
			case mode == llm.ToolChoiceRequired, mode == llm.ToolChoiceAuto && len(req.Tools) > 0:
				setChoice(llm.ToolChoiceRequired, "")
			default: // none, or no other tools
				setChoice(llm.ToolChoiceTool, pl.outputTool)
			}
		}
	} else if len(req.Tools) > 0 {
		if mode != llm.ToolChoiceAuto || req.DisableParallelToolCalls {
			setChoice(mode, req.ToolChoice.Name)
		}
	}

	if system != "" {
		block := sdk.TextBlockParam{Text: system}
		if p.caching {
			block.CacheControl = sdk.NewCacheControlEphemeralParam()
		}
		params.System = []sdk.TextBlockParam{block}
	}
	if p.caching && len(params.Tools) > 0 {
		last := params.Tools[len(params.Tools)-1].OfTool
		last.CacheControl = sdk.NewCacheControlEphemeralParam()
	}

	if thinking {
		params.Thinking = sdk.ThinkingConfigParamOfEnabled(int64(budget))
		if maxTokens <= budget {
			// max_tokens counts thinking too: keep the requested room for
			// the answer on top of the budget.
			maxTokens += budget
		}
	}
	params.MaxTokens = int64(maxTokens)
	if len(req.StopSequences) > 0 {
		params.StopSequences = append([]string(nil), req.StopSequences...)
	}
	if uid := req.Metadata["user_id"]; uid != "" {
		params.Metadata.UserID = sdk.String(uid)
	}
	return params, pl, nil
}

// midTurnWithoutThinking reports whether the conversation ends inside a
// tool-use turn (tool results answering the last assistant message) that
// started without thinking. The API wants one thinking configuration per
// assistant turn, so thinking stays off until the turn ends (for example
// on the tool loop's last iteration, after earlier ones forced tool use).
func midTurnWithoutThinking(msgs []llm.Message) bool {
	i := len(msgs) - 1
	if i < 0 || msgs[i].Role != llm.RoleTool {
		return false
	}
	for i >= 0 && msgs[i].Role != llm.RoleAssistant {
		i--
	}
	if i < 0 {
		return false
	}
	for _, part := range msgs[i].Parts {
		if th, ok := part.(*llm.Thinking); ok && ownThinking(th) {
			return false
		}
	}
	return true
}

// ownThinking reports whether thinking may be sent back to Anthropic: it is
// marked as Anthropic's, or it is unmarked (stored before
// [llm.Thinking.Provider] existed) and signed or redacted. Thinking of
// other providers (OpenAI's encrypted reasoning, replayed thinking) is not.
func ownThinking(th *llm.Thinking) bool {
	if th.Provider != "" {
		return th.Provider == providerName
	}
	return th.Signature != "" || th.RedactedData != ""
}

func appendSystem(system, s string) string {
	if system == "" {
		return s
	}
	return system + "\n\n" + s
}

// outputToolName names the structured-output tool after the schema, making
// sure it does not collide with a real tool.
func outputToolName(name string, taken map[string]bool) string {
	var b strings.Builder
	for _, r := range name {
		if r == '_' || r == '-' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	n := b.String()
	if n == "" {
		n = "output"
	}
	if len(n) > 56 {
		n = n[:56]
	}
	for taken[n] {
		n = "answer_" + n
		if len(n) > 64 {
			n = n[:64]
		}
	}
	return n
}

// inputSchema converts a JSON Schema into a tool input schema. An empty
// schema is {"type": "object"}. A schema that is not an object schema is
// an error, unless wrap is set: then it is wrapped as the "value" property
// of an object schema, and wrapped reports it.
func inputSchema(raw json.RawMessage, wrap bool) (_ sdk.ToolInputSchemaParam, wrapped bool, _ error) {
	s := sdk.ToolInputSchemaParam{Type: "object"} // non-zero: never omitted
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return s, false, nil
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return s, false, fmt.Errorf("the schema is not a JSON object: %v", err)
	}
	isObject := m["type"] == "object" || m["type"] == nil && m["properties"] != nil
	if !isObject && wrap {
		var v any
		_ = json.Unmarshal(raw, &v)
		s.Properties = map[string]any{"value": v}
		s.Required = []string{"value"}
		return s, true, nil
	}
	if t, ok := m["type"]; ok && t != "object" {
		return s, false, fmt.Errorf(`the schema's type is %v: Anthropic requires an object schema ("type": "object")`, jsonText(t))
	}
	if props, ok := m["properties"]; ok {
		s.Properties = props
	}
	if req, ok := m["required"].([]any); ok {
		for _, r := range req {
			if name, ok := r.(string); ok {
				s.Required = append(s.Required, name)
			}
		}
	}
	delete(m, "type")
	delete(m, "properties")
	delete(m, "required")
	if len(m) > 0 {
		s.ExtraFields = m
	}
	return s, false, nil
}

func jsonText(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// toMessages converts the conversation. Tool-result messages become user
// messages of tool_result blocks; consecutive messages of the same wire
// role are merged into one (the API requires the tool results answering
// one assistant message to be in the single user message that follows it,
// before any other content). Messages with no content are left out.
func toMessages(msgs []llm.Message) ([]sdk.MessageParam, error) {
	var out []sdk.MessageParam
	lastRole := ""
	for i, m := range msgs {
		var role string
		switch m.Role {
		case llm.RoleUser, llm.RoleTool:
			role = "user"
		case llm.RoleAssistant:
			role = "assistant"
		default:
			return nil, fmt.Errorf("anthropic: message %d has role %q: want user, assistant or tool", i, m.Role)
		}
		blocks, err := toBlocks(m, role, i)
		if err != nil {
			return nil, err
		}
		if len(blocks) == 0 {
			continue
		}
		if role == lastRole {
			prev := &out[len(out)-1]
			if role == "user" {
				prev.OfUser.Content = resultsFirst(append(prev.OfUser.Content, blocks...))
			} else {
				prev.OfAssistant.Content = append(prev.OfAssistant.Content, blocks...)
			}
			continue
		}
		if role == "user" {
			out = append(out, sdk.MessageParam{OfUser: &sdk.UserMessageParam{Content: resultsFirst(blocks)}})
		} else {
			out = append(out, sdk.MessageParam{OfAssistant: &sdk.AssistantMessageParam{Content: blocks}})
		}
		lastRole = role
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("anthropic: the request's %d messages have no content to send", len(msgs))
	}
	return out, nil
}

// resultsFirst moves tool_result blocks before the other blocks of a user
// message, keeping each group's order.
func resultsFirst(blocks []sdk.ContentBlockParamUnion) []sdk.ContentBlockParamUnion {
	sorted := make([]sdk.ContentBlockParamUnion, 0, len(blocks))
	for _, b := range blocks {
		if b.OfToolResult != nil {
			sorted = append(sorted, b)
		}
	}
	for _, b := range blocks {
		if b.OfToolResult == nil {
			sorted = append(sorted, b)
		}
	}
	return sorted
}

func toBlocks(m llm.Message, role string, i int) ([]sdk.ContentBlockParamUnion, error) {
	var blocks []sdk.ContentBlockParamUnion
	for _, part := range m.Parts {
		switch part := part.(type) {
		case *llm.Text:
			if part.Text != "" {
				blocks = append(blocks, sdk.NewTextBlock(part.Text))
			}
		case *llm.Image:
			if role != "user" {
				// Assistant messages cannot hold images: describe it.
				blocks = append(blocks, sdk.NewTextBlock(imageNote(part)))
				continue
			}
			if b, ok := imageBlock(part); ok {
				blocks = append(blocks, sdk.ContentBlockParamUnion{OfImage: b})
			} else if note := imageNote(part); note != "" {
				blocks = append(blocks, sdk.NewTextBlock(note))
			}
		case *llm.Resource:
			for _, c := range resourceContent(part) {
				switch {
				case c.OfText != nil:
					blocks = append(blocks, sdk.ContentBlockParamUnion{OfText: c.OfText})
				case c.OfImage != nil && role == "user":
					blocks = append(blocks, sdk.ContentBlockParamUnion{OfImage: c.OfImage})
				}
			}
		case *llm.Thinking:
			// Only the model's own, signed thinking can be sent back, and
			// only in assistant messages; thinking from other providers
			// is dropped.
			if role != "assistant" || !ownThinking(part) {
				continue
			}
			switch {
			case part.RedactedData != "":
				blocks = append(blocks, sdk.NewRedactedThinkingBlock(part.RedactedData))
			case part.Signature != "":
				blocks = append(blocks, sdk.NewThinkingBlock(part.Signature, part.Text))
			}
		case *llm.ToolCall:
			if role != "assistant" {
				return nil, fmt.Errorf("anthropic: message %d (%s) holds tool call %q: tool calls belong in assistant messages", i, m.Role, part.ID)
			}
			blocks = append(blocks, sdk.NewToolUseBlock(part.ID, toolInput(part.Arguments), part.Name))
		case *llm.ToolResult:
			if role != "user" {
				return nil, fmt.Errorf("anthropic: message %d (%s) holds the result of tool call %q: tool results belong in tool messages", i, m.Role, part.CallID)
			}
			blocks = append(blocks, sdk.ContentBlockParamUnion{OfToolResult: toolResult(part)})
		case nil:
			return nil, fmt.Errorf("anthropic: message %d has a nil part", i)
		default:
			return nil, fmt.Errorf("anthropic: message %d has an unsupported part %T", i, part)
		}
	}
	return blocks, nil
}

// toolInput returns a tool call's arguments as the JSON object tool_use
// input must be. Invalid or non-object arguments (a model error the tool
// loop already reported back) are sent as {}.
func toolInput(args json.RawMessage) json.RawMessage {
	a := bytes.TrimSpace(args)
	if len(a) == 0 || a[0] != '{' || !json.Valid(a) {
		return json.RawMessage(`{}`)
	}
	return append(json.RawMessage(nil), a...)
}

func toolResult(r *llm.ToolResult) *sdk.ToolResultBlockParam {
	b := &sdk.ToolResultBlockParam{ToolUseID: r.CallID}
	if r.IsError {
		b.IsError = sdk.Bool(true)
	}
	for _, part := range r.Content {
		switch part := part.(type) {
		case *llm.Text:
			if part.Text != "" {
				b.Content = append(b.Content, sdk.ToolResultBlockParamContentUnion{OfText: &sdk.TextBlockParam{Text: part.Text}})
			}
		case *llm.Image:
			if img, ok := imageBlock(part); ok {
				b.Content = append(b.Content, sdk.ToolResultBlockParamContentUnion{OfImage: img})
			} else if note := imageNote(part); note != "" {
				b.Content = append(b.Content, sdk.ToolResultBlockParamContentUnion{OfText: &sdk.TextBlockParam{Text: note}})
			}
		case *llm.Resource:
			b.Content = append(b.Content, resourceContent(part)...)
		}
	}
	return b
}

// mediaTypes are the image types the API accepts.
var mediaTypes = map[string]sdk.Base64ImageSourceMediaType{
	"image/jpeg": "image/jpeg",
	"image/jpg":  "image/jpeg",
	"image/png":  "image/png",
	"image/gif":  "image/gif",
	"image/webp": "image/webp",
}

// imageBlock returns the image as an image block: base64 data, or a URL
// source. ok is false for data of a type the API does not accept.
func imageBlock(img *llm.Image) (_ *sdk.ImageBlockParam, ok bool) {
	if len(img.Data) > 0 {
		mt, ok := mediaTypes[strings.ToLower(strings.TrimSpace(img.MIMEType))]
		if !ok {
			return nil, false
		}
		return &sdk.ImageBlockParam{Source: sdk.ImageBlockParamSourceUnion{OfBase64: &sdk.Base64ImageSourceParam{
			Data: base64.StdEncoding.EncodeToString(img.Data), MediaType: mt,
		}}}, true
	}
	if img.URL != "" {
		return &sdk.ImageBlockParam{Source: sdk.ImageBlockParamSourceUnion{OfURL: &sdk.URLImageSourceParam{URL: img.URL}}}, true
	}
	return nil, false
}

// imageNote describes an image that cannot be sent as an image block.
func imageNote(img *llm.Image) string {
	switch {
	case img.URL != "":
		return "[image: " + img.URL + "]"
	case len(img.Data) > 0:
		return fmt.Sprintf("[image of type %q, %d bytes: not shown, Anthropic accepts only JPEG, PNG, GIF and WebP]", img.MIMEType, len(img.Data))
	}
	return ""
}

// resourceContent renders an MCP resource: embedded text as a text block
// that names the URI, an embedded image as the image, other binary data
// and resource links as a text note naming the URI.
func resourceContent(r *llm.Resource) []sdk.ToolResultBlockParamContentUnion {
	text := func(s string) sdk.ToolResultBlockParamContentUnion {
		return sdk.ToolResultBlockParamContentUnion{OfText: &sdk.TextBlockParam{Text: s}}
	}
	label := "Resource " + r.URI
	if r.MIMEType != "" {
		label += " (" + r.MIMEType + ")"
	}
	switch {
	case r.Text != "":
		return []sdk.ToolResultBlockParamContentUnion{text(label + ":\n" + r.Text)}
	case len(r.Blob) > 0:
		if img, ok := imageBlock(&llm.Image{Data: r.Blob, MIMEType: r.MIMEType}); ok {
			return []sdk.ToolResultBlockParamContentUnion{text(label + ":"), {OfImage: img}}
		}
		return []sdk.ToolResultBlockParamContentUnion{text(fmt.Sprintf("%s: %d bytes of binary data, not shown", label, len(r.Blob)))}
	default:
		s := "Resource link: " + r.URI
		var attrs []string
		if r.Name != "" {
			attrs = append(attrs, "name "+r.Name)
		}
		if r.MIMEType != "" {
			attrs = append(attrs, "type "+r.MIMEType)
		}
		if len(attrs) > 0 {
			s += " (" + strings.Join(attrs, ", ") + ")"
		}
		return []sdk.ToolResultBlockParamContentUnion{text(s)}
	}
}
