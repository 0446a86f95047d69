package openai_test

// A fake Responses API server: the fakeServer of server_test.go on path
// /v1/responses, validating each request against the rules of the real
// API (item shapes, tool outputs answering earlier calls, strict schemas).

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-agent-go/mcp-agent/llm/openai"
)

func newResponsesServer(t *testing.T, replies ...reply) *fakeServer {
	t.Helper()
	f := newFakeServer(t, replies...)
	f.path = "/v1/responses"
	f.validate = validateResponsesRequest
	return f
}

func newResponsesProvider(t *testing.T, f *fakeServer, opts *openai.Options) *openai.Provider {
	t.Helper()
	var o openai.Options
	if opts != nil {
		o = *opts
	}
	o.API = openai.APIResponses
	return newProvider(t, f, &o)
}

var allowedResponsesTop = []string{"model", "input", "instructions", "tools", "tool_choice", "parallel_tool_calls", "max_output_tokens", "temperature", "reasoning", "text", "stream", "store", "user", "metadata", "include"}

// validateResponsesRequest checks a Responses API request body the way the
// API does and returns what is wrong ("" when it is valid).
func validateResponsesRequest(body map[string]any) string {
	for k := range body {
		if !slices.Contains(allowedResponsesTop, k) {
			return fmt.Sprintf("unexpected top-level field %q", k)
		}
	}
	model, _ := body["model"].(string)
	if model == "" {
		return "model is missing or empty"
	}
	store, ok := body["store"].(bool)
	if !ok || store {
		return fmt.Sprintf("store = %v; the provider must send store: false (stateless) unless Options.Store", body["store"])
	}
	if inc, ok := body["include"]; ok {
		list, _ := inc.([]any)
		if len(list) == 0 {
			return fmt.Sprintf("include = %v, want a non-empty array", inc)
		}
		for _, v := range list {
			if !slices.Contains([]any{"reasoning.encrypted_content", "message.output_text.logprobs", "file_search_call.results"}, v) {
				return fmt.Sprintf("include: unknown value %v", v)
			}
		}
	}
	if _, ok := body["instructions"]; ok {
		if s, _ := body["instructions"].(string); s == "" {
			return "instructions is not a non-empty string"
		}
	}
	if n, ok := body["max_output_tokens"]; ok {
		if f, _ := n.(float64); f < 16 {
			return fmt.Sprintf("max_output_tokens %v is below the minimum 16", n)
		}
	}
	if _, ok := body["temperature"]; ok && (strings.HasPrefix(model, "o") || strings.HasPrefix(model, "gpt-5")) {
		return fmt.Sprintf("temperature is not supported with reasoning model %s", model)
	}
	if r, ok := body["reasoning"]; ok {
		rm, _ := r.(map[string]any)
		if e, _ := rm["effort"].(string); !slices.Contains([]string{"none", "minimal", "low", "medium", "high", "xhigh"}, e) {
			return fmt.Sprintf("reasoning = %v, want {effort: one of none..xhigh}", r)
		}
	}

	tools, hasTools := body["tools"].([]any)
	toolNames := map[string]bool{}
	for i, tl := range tools {
		tm, _ := tl.(map[string]any)
		if tm["type"] != "function" {
			return fmt.Sprintf("tools[%d].type = %v, want function", i, tm["type"])
		}
		if _, ok := tm["function"]; ok {
			return fmt.Sprintf("tools[%d] has a Chat Completions function object; Responses tools are flat", i)
		}
		name, _ := tm["name"].(string)
		if !toolNameRE.MatchString(name) || toolNames[name] {
			return fmt.Sprintf("tools[%d].name %q is invalid or duplicate", i, name)
		}
		toolNames[name] = true
		strict, ok := tm["strict"].(bool)
		if !ok {
			return fmt.Sprintf("tools[%d] (%s): strict is missing (the API defaults to strict)", i, name)
		}
		params, ok := tm["parameters"].(map[string]any)
		if !ok || params["type"] != "object" {
			return fmt.Sprintf("tools[%d] (%s): parameters is not an object schema", i, name)
		}
		if msg := validSchema(params); msg != "" {
			return fmt.Sprintf("tools[%d] (%s): parameters: %s", i, name, msg)
		}
		if strict {
			if msg := strictSchema(params); msg != "" {
				return fmt.Sprintf("tools[%d] (%s): strict schema: %s", i, name, msg)
			}
		}
	}
	if tc, ok := body["tool_choice"]; ok {
		if !hasTools {
			return "tool_choice without tools"
		}
		switch tc := tc.(type) {
		case string:
			if !slices.Contains([]string{"auto", "none", "required"}, tc) {
				return fmt.Sprintf("tool_choice %q", tc)
			}
		case map[string]any:
			name, _ := tc["name"].(string)
			if tc["type"] != "function" || !toolNames[name] || len(tc) != 2 {
				return fmt.Sprintf("tool_choice %v is not {type: function, name: a tool of the request}", tc)
			}
		default:
			return fmt.Sprintf("tool_choice has type %T", tc)
		}
	}
	if _, ok := body["parallel_tool_calls"]; ok && !hasTools {
		return "parallel_tool_calls without tools"
	}
	if tx, ok := body["text"]; ok {
		txm, _ := tx.(map[string]any)
		format, _ := txm["format"].(map[string]any)
		if _, ok := txm["response_format"]; ok || format["type"] != "json_schema" {
			return fmt.Sprintf("text = %v, want {format: {type: json_schema, ...}}", tx)
		}
		name, _ := format["name"].(string)
		if !toolNameRE.MatchString(name) {
			return fmt.Sprintf("text.format.name %q does not match %s", name, toolNameRE)
		}
		schema, ok := format["schema"].(map[string]any)
		if !ok {
			return "text.format.schema is not an object"
		}
		if msg := validSchema(schema); msg != "" {
			return "text.format.schema: " + msg
		}
		if strict, _ := format["strict"].(bool); strict {
			if msg := strictSchema(schema); msg != "" {
				return "text.format.schema (strict): " + msg
			}
		}
	}

	input, ok := body["input"].([]any)
	if !ok || len(input) == 0 {
		return "input is missing or not a non-empty array of items"
	}
	calls := map[string]bool{} // call_id -> answered
	var unanswered []string    // calls awaiting output, in order
	reasoningIDs := map[string]bool{}
	for i, it := range input {
		im, ok := it.(map[string]any)
		if !ok {
			return fmt.Sprintf("input[%d] is not an object", i)
		}
		typ, _ := im["type"].(string)
		if typ == "" && im["role"] != nil {
			typ = "message"
		}
		switch typ {
		case "reasoning":
			if msg := validReasoningItem(im, store); msg != "" {
				return fmt.Sprintf("input[%d] (reasoning): %s", i, msg)
			}
			id := im["id"].(string)
			if reasoningIDs[id] {
				return fmt.Sprintf("input[%d]: duplicate reasoning item %q", i, id)
			}
			reasoningIDs[id] = true
			// The API wants a reasoning item followed by the output item it
			// preceded: a function call or an assistant message.
			next := map[string]any{}
			if i+1 < len(input) {
				next, _ = input[i+1].(map[string]any)
			}
			if next["type"] != "function_call" && next["type"] != "reasoning" && next["role"] != "assistant" {
				return fmt.Sprintf("Item %q of type 'reasoning' was provided without its required following item (input[%d] is %v)", id, i+1, next)
			}
		case "message":
			role, _ := im["role"].(string)
			if len(unanswered) > 0 {
				return fmt.Sprintf("input[%d] (%s message): function calls %v have no function_call_output", i, role, unanswered)
			}
			switch role {
			case "user":
				if msg := validInputContent(im["content"]); msg != "" {
					return fmt.Sprintf("input[%d] (user): %s", i, msg)
				}
			case "assistant":
				if s, ok := im["content"].(string); !ok || s == "" {
					return fmt.Sprintf("input[%d] (assistant): content %v is not a non-empty string", i, im["content"])
				}
			case "system", "developer":
			default:
				return fmt.Sprintf("input[%d].role = %q", i, role)
			}
		case "function_call":
			for k := range im {
				if !slices.Contains([]string{"type", "call_id", "name", "arguments", "id", "status"}, k) {
					return fmt.Sprintf("input[%d] (function_call): unexpected field %q", i, k)
				}
			}
			id, _ := im["call_id"].(string)
			name, _ := im["name"].(string)
			args, isString := im["arguments"].(string)
			if id == "" || name == "" || !isString {
				return fmt.Sprintf("input[%d] (function_call) is malformed: %v", i, im)
			}
			if !json.Valid([]byte(args)) {
				return fmt.Sprintf("input[%d] (function_call): arguments is not JSON: %q", i, args)
			}
			if _, dup := calls[id]; dup {
				return fmt.Sprintf("input[%d]: duplicate call_id %q", i, id)
			}
			calls[id] = false
			unanswered = append(unanswered, id)
		case "function_call_output":
			id, _ := im["call_id"].(string)
			answered, known := calls[id]
			if !known {
				return fmt.Sprintf("input[%d] (function_call_output): call_id %q answers no earlier function_call", i, id)
			}
			if answered {
				return fmt.Sprintf("input[%d] (function_call_output): call %q is already answered", i, id)
			}
			calls[id] = true
			unanswered = slices.DeleteFunc(unanswered, func(s string) bool { return s == id })
			switch out := im["output"].(type) {
			case string:
			case []any:
				if msg := validInputContent(out); msg != "" {
					return fmt.Sprintf("input[%d] (function_call_output): output: %s", i, msg)
				}
			default:
				return fmt.Sprintf("input[%d] (function_call_output): output has type %T", i, im["output"])
			}
		default:
			return fmt.Sprintf("input[%d]: item type %q", i, typ)
		}
	}
	if len(unanswered) > 0 {
		return fmt.Sprintf("No tool output found for function calls %v", unanswered)
	}
	return ""
}

// validReasoningItem checks a reasoning input item. Stateless (store:
// false), the API has no stored item to look up by ID: the item must carry
// its encrypted content.
func validReasoningItem(im map[string]any, store bool) string {
	for k := range im {
		if !slices.Contains([]string{"type", "id", "summary", "encrypted_content", "content", "status"}, k) {
			return fmt.Sprintf("unexpected field %q", k)
		}
	}
	id, _ := im["id"].(string)
	if !strings.HasPrefix(id, "rs_") {
		return fmt.Sprintf("id %q is not a reasoning item ID (rs_...)", id)
	}
	summary, ok := im["summary"].([]any)
	if !ok {
		return fmt.Sprintf("summary = %v, want an array (required, may be empty)", im["summary"])
	}
	for j, s := range summary {
		sm, _ := s.(map[string]any)
		if _, ok := sm["text"].(string); !ok || sm["type"] != "summary_text" || len(sm) != 2 {
			return fmt.Sprintf("summary[%d] = %v, want {type: summary_text, text}", j, s)
		}
	}
	enc, hasEnc := im["encrypted_content"]
	if hasEnc {
		if e, _ := enc.(string); e == "" {
			return fmt.Sprintf("encrypted_content = %v, want a non-empty string", enc)
		}
	}
	if !hasEnc && !store {
		return fmt.Sprintf("Item with id %q not found. Items are not persisted when `store` is set to false. Try again with `store` set to true, or remove this item from your input.", id)
	}
	return ""
}

// validInputContent checks a string or a list of input_text / input_image
// parts.
func validInputContent(c any) string {
	switch c := c.(type) {
	case string:
		return ""
	case []any:
		if len(c) == 0 {
			return "content is an empty array"
		}
		for j, p := range c {
			pm, _ := p.(map[string]any)
			switch pm["type"] {
			case "input_text":
				if _, ok := pm["text"].(string); !ok {
					return fmt.Sprintf("content[%d]: input_text without text", j)
				}
			case "input_image":
				u, _ := pm["image_url"].(string)
				if msg := validImageURL(u); msg != "" {
					return fmt.Sprintf("content[%d]: %s", j, msg)
				}
			default:
				return fmt.Sprintf("content[%d]: part type %v (want input_text or input_image)", j, pm["type"])
			}
		}
		return ""
	}
	return fmt.Sprintf("content has type %T", c)
}

// strictSchema checks the structure strict mode demands: every object
// schema sets additionalProperties false and requires all its properties.
func strictSchema(s map[string]any) string {
	if props, ok := s["properties"].(map[string]any); ok || s["type"] == "object" {
		if s["additionalProperties"] != false {
			return "an object schema lacks additionalProperties: false"
		}
		req, _ := s["required"].([]any)
		if len(req) != len(props) {
			return fmt.Sprintf("an object schema requires %v, not all of its properties", req)
		}
		for _, p := range props {
			if pm, ok := p.(map[string]any); ok {
				if msg := strictSchema(pm); msg != "" {
					return msg
				}
			}
		}
	}
	if items, ok := s["items"].(map[string]any); ok {
		return strictSchema(items)
	}
	return ""
}
