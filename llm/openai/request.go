package openai

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// IsReasoningModel reports whether model is one of OpenAI's reasoning
// models (o1, o3, o4 families and gpt-5, except gpt-5 chat models), which
// take the system prompt as a "developer" message, reject temperature and
// accept reasoning_effort. A "vendor/" prefix is ignored.
func IsReasoningModel(model string) bool {
	m := strings.ToLower(model)
	if i := strings.LastIndexByte(m, '/'); i >= 0 {
		m = m[i+1:]
	}
	switch {
	case strings.HasPrefix(m, "o1"), strings.HasPrefix(m, "o3"), strings.HasPrefix(m, "o4"):
		return true
	case strings.HasPrefix(m, "gpt-5"):
		return !strings.Contains(m, "chat")
	}
	return false
}

// buildParams translates a request into Chat Completions parameters. It
// never modifies req.
func (p *Provider) buildParams(req *llm.Request) (oai.ChatCompletionNewParams, string, error) {
	var params oai.ChatCompletionNewParams
	if req == nil {
		return params, "", fmt.Errorf("openai: nil request")
	}
	model := req.Model
	if model == "" {
		model = p.model
	}
	reasoning := IsReasoningModel(model)
	params.Model = model

	msgs, err := translateMessages(req, p.systemRole(reasoning))
	if err != nil {
		return params, "", err
	}
	params.Messages = msgs

	for _, t := range req.Tools {
		schema, err := toolParameters(t)
		if err != nil {
			return params, "", err
		}
		def := shared.FunctionDefinitionParam{Name: t.Name, Parameters: schema}
		if t.Description != "" {
			def.Description = oai.String(t.Description)
		}
		params.Tools = append(params.Tools, oai.ChatCompletionFunctionTool(def))
	}
	if len(req.Tools) > 0 {
		choice, err := toolChoice(req)
		if err != nil {
			return params, "", err
		}
		params.ToolChoice = choice
		if req.DisableParallelToolCalls {
			params.ParallelToolCalls = oai.Bool(false)
		}
	}

	maxTokens := req.MaxTokens
	if maxTokens == 0 {
		maxTokens = p.opts.MaxTokens
	}
	if maxTokens > 0 {
		if p.opts.LegacyMaxTokens {
			params.MaxTokens = oai.Int(int64(maxTokens))
		} else {
			params.MaxCompletionTokens = oai.Int(int64(maxTokens))
		}
	}
	temp := req.Temperature
	if temp == nil {
		temp = p.opts.Temperature
	}
	if temp != nil && !reasoning {
		params.Temperature = oai.Float(*temp)
	}
	if len(req.StopSequences) > 0 {
		params.Stop.OfStringArray = append([]string(nil), req.StopSequences...)
	}
	switch {
	case req.ReasoningEffort != "":
		params.ReasoningEffort = shared.ReasoningEffort(req.ReasoningEffort)
	case p.opts.ReasoningEffort != "" && reasoning:
		params.ReasoningEffort = shared.ReasoningEffort(p.opts.ReasoningEffort)
	}
	if p.opts.User != "" {
		params.User = oai.String(p.opts.User)
	}
	if p.opts.Store {
		params.Store = oai.Bool(true)
		if len(req.Metadata) > 0 {
			params.Metadata = make(shared.Metadata, len(req.Metadata))
			for k, v := range req.Metadata {
				params.Metadata[k] = v
			}
		}
	}
	if rs := req.ResponseSchema; rs != nil {
		format, err := responseFormat(rs)
		if err != nil {
			return params, "", err
		}
		params.ResponseFormat = format
	}
	return params, model, nil
}

func (p *Provider) systemRole(reasoning bool) string {
	if p.opts.SystemRole != "" {
		return p.opts.SystemRole
	}
	if reasoning {
		return "developer"
	}
	return "system"
}

// translateMessages maps the system prompt and the conversation onto Chat
// Completions messages.
func translateMessages(req *llm.Request, systemRole string) ([]oai.ChatCompletionMessageParamUnion, error) {
	var out []oai.ChatCompletionMessageParamUnion
	if req.System != "" {
		if systemRole == "developer" {
			out = append(out, oai.DeveloperMessage(req.System))
		} else {
			out = append(out, oai.SystemMessage(req.System))
		}
	}
	for i, m := range req.Messages {
		switch m.Role {
		case llm.RoleUser:
			msg, err := userMessage(m.Parts)
			if err != nil {
				return nil, fmt.Errorf("openai: message %d (user): %w", i, err)
			}
			out = append(out, msg)
		case llm.RoleAssistant:
			msg, err := assistantMessage(m.Parts)
			if err != nil {
				return nil, fmt.Errorf("openai: message %d (assistant): %w", i, err)
			}
			out = append(out, msg)
		case llm.RoleTool:
			msgs, err := toolMessages(m.Parts)
			if err != nil {
				return nil, fmt.Errorf("openai: message %d (tool): %w", i, err)
			}
			out = append(out, msgs...)
		default:
			return nil, fmt.Errorf("openai: message %d has role %q; want user, assistant or tool", i, m.Role)
		}
	}
	return out, nil
}

// userMessage maps text, images and resources; thinking is dropped. A
// message of one text part is sent as a plain string.
func userMessage(parts []llm.Part) (oai.ChatCompletionMessageParamUnion, error) {
	var content []oai.ChatCompletionContentPartUnionParam
	onlyText := true
	for _, part := range parts {
		switch part := part.(type) {
		case *llm.Text:
			content = append(content, oai.TextContentPart(part.Text))
		case *llm.Image:
			u, err := imageURL(part)
			if err != nil {
				return oai.ChatCompletionMessageParamUnion{}, err
			}
			content = append(content, oai.ImageContentPart(oai.ChatCompletionContentPartImageImageURLParam{URL: u}))
			onlyText = false
		case *llm.Resource:
			content = append(content, oai.TextContentPart(resourceText(part)))
		case *llm.Thinking:
			// Chat Completions takes no reasoning input.
		case *llm.ToolCall, *llm.ToolResult:
			return oai.ChatCompletionMessageParamUnion{}, fmt.Errorf("a user message cannot hold %T; tool calls belong in assistant messages and results in tool messages", part)
		default:
			return oai.ChatCompletionMessageParamUnion{}, fmt.Errorf("unsupported part %T", part)
		}
	}
	switch {
	case len(content) == 0:
		return oai.UserMessage(""), nil
	case len(content) == 1 && onlyText:
		return oai.UserMessage(*content[0].GetText()), nil
	}
	return oai.UserMessage(content), nil
}

// assistantMessage maps text (joined) and tool calls; thinking is dropped
// (OpenAI does not take reasoning back), and so are images, which
// assistant messages cannot carry.
func assistantMessage(parts []llm.Part) (oai.ChatCompletionMessageParamUnion, error) {
	var text strings.Builder
	var a oai.ChatCompletionAssistantMessageParam
	for _, part := range parts {
		switch part := part.(type) {
		case *llm.Text:
			text.WriteString(part.Text)
		case *llm.Resource:
			text.WriteString(resourceText(part))
		case *llm.ToolCall:
			args := string(part.Arguments)
			if strings.TrimSpace(args) == "" {
				args = "{}"
			}
			a.ToolCalls = append(a.ToolCalls, oai.ChatCompletionMessageToolCallUnionParam{
				OfFunction: &oai.ChatCompletionMessageFunctionToolCallParam{
					ID:       part.ID,
					Function: oai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: part.Name, Arguments: args},
				},
			})
		case *llm.Thinking, *llm.Image:
		case *llm.ToolResult:
			return oai.ChatCompletionMessageParamUnion{}, fmt.Errorf("an assistant message cannot hold a tool result; put it in a tool message")
		default:
			return oai.ChatCompletionMessageParamUnion{}, fmt.Errorf("unsupported part %T", part)
		}
	}
	if text.Len() > 0 || len(a.ToolCalls) == 0 {
		a.Content.OfString = oai.String(text.String())
	}
	return oai.ChatCompletionMessageParamUnion{OfAssistant: &a}, nil
}

// toolMessages maps each tool result onto one "tool" message. Chat
// Completions tool messages carry only text, so images of the results
// follow in one user message, introduced by a note naming their calls.
func toolMessages(parts []llm.Part) ([]oai.ChatCompletionMessageParamUnion, error) {
	var out []oai.ChatCompletionMessageParamUnion
	var images []oai.ChatCompletionContentPartUnionParam
	for _, part := range parts {
		r, ok := part.(*llm.ToolResult)
		if !ok {
			return nil, fmt.Errorf("a tool message holds only tool results, not %T", part)
		}
		if r.CallID == "" {
			return nil, fmt.Errorf("the result of tool %q has no call ID", r.Name)
		}
		var texts []string
		var resultImages []oai.ChatCompletionContentPartUnionParam
		for _, c := range r.Content {
			switch c := c.(type) {
			case *llm.Text:
				texts = append(texts, c.Text)
			case *llm.Resource:
				texts = append(texts, resourceText(c))
			case *llm.Image:
				u, err := imageURL(c)
				if err != nil {
					return nil, fmt.Errorf("result of tool %q: %w", r.Name, err)
				}
				resultImages = append(resultImages, oai.ImageContentPart(oai.ChatCompletionContentPartImageImageURLParam{URL: u}))
			case *llm.Thinking:
			default:
				return nil, fmt.Errorf("result of tool %q: unsupported content %T", r.Name, c)
			}
		}
		if len(resultImages) > 0 {
			n := "an image"
			if len(resultImages) > 1 {
				n = fmt.Sprintf("%d images", len(resultImages))
			}
			texts = append(texts, fmt.Sprintf("[The tool returned %s; %s in the next message.]", n, itThem(len(resultImages))))
			images = append(images, oai.TextContentPart(fmt.Sprintf("Images returned by tool %q (call %s):", r.Name, r.CallID)))
			images = append(images, resultImages...)
		}
		text := strings.Join(texts, "\n")
		if text == "" {
			text = "(no output)"
		}
		if r.IsError {
			text = "Error: " + text
		}
		out = append(out, oai.ToolMessage(text, r.CallID))
	}
	if len(images) > 0 {
		out = append(out, oai.UserMessage(images))
	}
	return out, nil
}

func itThem(n int) string {
	if n == 1 {
		return "it follows"
	}
	return "they follow"
}

// imageURL returns the image's URL, or its data as a base64 data URL.
func imageURL(img *llm.Image) (string, error) {
	if img.URL != "" {
		return img.URL, nil
	}
	if len(img.Data) == 0 {
		return "", fmt.Errorf("an image part has neither data nor a URL")
	}
	mime := img.MIMEType
	if mime == "" {
		mime = http.DetectContentType(img.Data)
	}
	return "data:" + mime + ";base64," + base64.StdEncoding.EncodeToString(img.Data), nil
}

// resourceText renders an MCP resource as text: embedded text with its
// URI, a note for binary data, or the link.
func resourceText(r *llm.Resource) string {
	label := r.URI
	if r.MIMEType != "" {
		label += " (" + r.MIMEType + ")"
	}
	switch {
	case r.Text != "":
		return "Resource " + label + ":\n" + r.Text
	case len(r.Blob) > 0:
		return fmt.Sprintf("[Resource %s: %d bytes of binary data, not shown]", label, len(r.Blob))
	}
	if r.Name != "" {
		return fmt.Sprintf("[Resource link: %s %q]", label, r.Name)
	}
	return "[Resource link: " + label + "]"
}

// toolParameters returns the tool's input schema as an object schema with
// "type": "object" and "properties", as OpenAI requires even when the MCP
// server gave an empty schema.
func toolParameters(t llm.ToolSpec) (shared.FunctionParameters, error) {
	schema := shared.FunctionParameters{}
	if raw := bytes.TrimSpace(t.InputSchema); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
		if err := json.Unmarshal(raw, &schema); err != nil || schema == nil {
			return nil, fmt.Errorf("openai: tool %q: the input schema is not a JSON object: %s", t.Name, truncate(string(raw), 120))
		}
	}
	if _, ok := schema["type"]; !ok {
		schema["type"] = "object"
	}
	if _, ok := schema["properties"]; !ok {
		schema["properties"] = map[string]any{}
	}
	return schema, nil
}

func toolChoice(req *llm.Request) (oai.ChatCompletionToolChoiceOptionUnionParam, error) {
	var c oai.ChatCompletionToolChoiceOptionUnionParam
	switch req.ToolChoice.Mode {
	case "", llm.ToolChoiceAuto:
	case llm.ToolChoiceNone:
		c.OfAuto = oai.String("none")
	case llm.ToolChoiceRequired:
		c.OfAuto = oai.String("required")
	case llm.ToolChoiceTool:
		found := false
		for _, t := range req.Tools {
			found = found || t.Name == req.ToolChoice.Name
		}
		if !found {
			return c, fmt.Errorf("openai: tool choice names tool %q, which is not among the request's tools", req.ToolChoice.Name)
		}
		c = oai.ToolChoiceOptionFunctionToolChoice(oai.ChatCompletionNamedToolChoiceFunctionParam{Name: req.ToolChoice.Name})
	default:
		return c, fmt.Errorf("openai: unknown tool choice mode %q; want auto, none, required or tool", req.ToolChoice.Mode)
	}
	return c, nil
}

var schemaNameChars = regexp.MustCompile(`[^a-zA-Z0-9_-]+`)

// responseFormat maps a response schema onto response_format json_schema.
// Strict mode is used when the caller asks for it and the schema meets its
// rules (every object lists all its properties as required and sets
// additionalProperties false); otherwise the schema is sent non-strict.
func responseFormat(rs *llm.ResponseSchema) (oai.ChatCompletionNewParamsResponseFormatUnion, error) {
	var schema map[string]any
	if err := json.Unmarshal(rs.Schema, &schema); err != nil || schema == nil {
		return oai.ChatCompletionNewParamsResponseFormatUnion{}, fmt.Errorf("openai: response schema %q is not a JSON object: %s", rs.Name, truncate(string(rs.Schema), 120))
	}
	name := schemaNameChars.ReplaceAllString(rs.Name, "_")
	if name == "" {
		name = "output"
	}
	if len(name) > 64 {
		name = name[:64]
	}
	js := shared.ResponseFormatJSONSchemaJSONSchemaParam{
		Name:   name,
		Schema: schema,
		Strict: oai.Bool(rs.Strict && strictAllowed(schema)),
	}
	if rs.Description != "" {
		js.Description = oai.String(rs.Description)
	}
	return oai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{JSONSchema: js}}, nil
}

// strictAllowed reports whether a schema meets OpenAI strict mode: every
// object schema has additionalProperties false and requires all its
// properties; nested schemas are checked too.
func strictAllowed(s any) bool {
	switch s := s.(type) {
	case []any:
		for _, v := range s {
			if !strictAllowed(v) {
				return false
			}
		}
		return true
	case map[string]any:
	default:
		return true
	}
	m := s.(map[string]any)
	props, _ := m["properties"].(map[string]any)
	if isObjectSchema(m) {
		if ap, ok := m["additionalProperties"].(bool); !ok || ap {
			return false
		}
		req, _ := m["required"].([]any)
		if len(req) != len(props) {
			return false
		}
		for _, r := range req {
			name, _ := r.(string)
			if _, ok := props[name]; !ok {
				return false
			}
		}
	}
	for _, key := range []string{"properties", "$defs", "definitions"} {
		if sub, ok := m[key].(map[string]any); ok {
			for _, v := range sub {
				if !strictAllowed(v) {
					return false
				}
			}
		}
	}
	for _, key := range []string{"items", "anyOf", "allOf", "oneOf", "prefixItems"} {
		if v, ok := m[key]; ok && !strictAllowed(v) {
			return false
		}
	}
	return true
}

func isObjectSchema(m map[string]any) bool {
	if _, ok := m["properties"]; ok {
		return true
	}
	switch t := m["type"].(type) {
	case string:
		return t == "object"
	case []any:
		for _, v := range t {
			if v == "object" {
				return true
			}
		}
	}
	return false
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}
