package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/openai"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
)

// complete runs the request through Complete or Stream (collected).
func complete(t *testing.T, p *openai.Provider, mode string, req *llm.Request) (*llm.Response, error) {
	t.Helper()
	if mode == "stream" {
		return llm.CollectStream(p.Stream(context.Background(), req))
	}
	return p.Complete(context.Background(), req)
}

func TestResponsesPlain(t *testing.T) {
	f := newResponsesServer(t, reply{fixture: "responses_plain.json"})
	p := newResponsesProvider(t, f, &openai.Options{User: "u-1", MaxTokens: 256, Temperature: llm.Float(0.2)})
	if p.API() != openai.APIResponses {
		t.Errorf("API() = %q", p.API())
	}
	resp, err := p.Complete(context.Background(), &llm.Request{System: "Be brief.", Messages: llm.Prompt("hi"), Metadata: map[string]string{"run": "r1"}})
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.Response{
		ID:         "resp_plain",
		Message:    llm.AssistantText("Hello! How can I help?"),
		StopReason: llm.StopEndTurn,
		Usage:      llm.Usage{InputTokens: 36, OutputTokens: 7},
		Model:      "gpt-4.1-2025-04-14",
	}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	wantBody := parseJSON(t, `{
		"model": "gpt-4o-mini",
		"instructions": "Be brief.",
		"input": [{"type": "message", "role": "user", "content": "hi"}],
		"store": false,
		"max_output_tokens": 256,
		"temperature": 0.2,
		"user": "u-1",
		"metadata": {"run": "r1"}
	}`)
	if diff := cmp.Diff(wantBody, jsonOf(t, f.Requests()[0])); diff != "" {
		t.Errorf("request body (-want +got):\n%s", diff)
	}
}

// Options.Store sends store: true (the fake server insists on false
// otherwise, so this checks the field is passed through).
func TestResponsesStore(t *testing.T) {
	f := newResponsesServer(t)
	f.validate = func(body map[string]any) string {
		if body["store"] != true {
			return "store is not true"
		}
		return ""
	}
	f.replies = []reply{{fixture: "responses_plain.json"}}
	p := newResponsesProvider(t, f, &openai.Options{Store: true})
	if _, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}); err != nil {
		t.Fatal(err)
	}
}

// Every part kind becomes the documented input item (Anthropic's signed
// thinking is dropped, OpenAI's encrypted reasoning sent back).
func TestResponsesTranslateConversation(t *testing.T) {
	f := newResponsesServer(t, reply{fixture: "responses_plain.json"})
	p := newResponsesProvider(t, f, nil)
	if _, err := p.Complete(context.Background(), conversationRequest()); err != nil {
		t.Fatal(err)
	}
	pngURL := "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="
	want := parseJSON(t, `[
		{"type": "message", "role": "user", "content": [
			{"type": "input_text", "text": "What is in these images?"},
			{"type": "input_image", "image_url": "https://example.com/cat.jpg", "detail": "auto"},
			{"type": "input_image", "image_url": "`+pngURL+`", "detail": "auto"},
			{"type": "input_image", "image_url": "`+pngURL+`", "detail": "auto"}
		]},
		{"type": "reasoning", "id": "rs_1", "encrypted_content": "gAAAA-enc", "summary": [{"type": "summary_text", "text": "Responses reasoning"}]},
		{"type": "message", "role": "assistant", "content": "Let me look."},
		{"type": "function_call", "call_id": "call_1", "name": "weather_forecast", "arguments": "{\"city\":\"Paris\"}"},
		{"type": "function_call", "call_id": "call_2", "name": "fs_read", "arguments": "{}"},
		{"type": "function_call_output", "call_id": "call_1", "output": [
			{"type": "input_text", "text": "sunny"},
			{"type": "input_image", "image_url": "`+pngURL+`"}
		]},
		{"type": "function_call_output", "call_id": "call_2", "output": "Error: permission denied\nResource file:///etc/motd (text/plain):\nwelcome\n[Resource file:///bin/ls (application/octet-stream): 3 bytes of binary data, not shown]\n[Resource link: file:///docs \"docs\"]"},
		{"type": "function_call", "call_id": "call_3", "name": "fs_read", "arguments": "{\"path\":\"/x\"}"},
		{"type": "function_call_output", "call_id": "call_3", "output": "(no output)"},
		{"type": "message", "role": "user", "content": [
			{"type": "input_text", "text": "And this?"},
			{"type": "input_text", "text": "Resource mem://note:\na note"}
		]}
	]`)
	body := f.Requests()[0]
	if diff := cmp.Diff(want, jsonOf(t, body["input"])); diff != "" {
		t.Errorf("input (-want +got):\n%s", diff)
	}
	if body["instructions"] != "You are helpful." {
		t.Errorf("instructions = %v", body["instructions"])
	}
	wantTools := parseJSON(t, `[
		{"type": "function", "name": "weather_forecast", "description": "Forecast for a city.", "strict": false,
		 "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}},
		{"type": "function", "name": "fs_read", "strict": false,
		 "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}}
	]`)
	if diff := cmp.Diff(wantTools, jsonOf(t, body["tools"])); diff != "" {
		t.Errorf("tools (-want +got):\n%s", diff)
	}
}

// Tools are strict only when their schema meets strict mode's rules.
func TestResponsesToolStrict(t *testing.T) {
	f := newResponsesServer(t, reply{fixture: "responses_plain.json"})
	p := newResponsesProvider(t, f, nil)
	strictTool := llm.ToolSpec{Name: "add", InputSchema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"number"},"b":{"type":"number"}},"required":["a","b"],"additionalProperties":false}`)}
	empty := llm.ToolSpec{Name: "now"}
	if _, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("x"), Tools: []llm.ToolSpec{strictTool, weatherTool, empty}}); err != nil {
		t.Fatal(err)
	}
	var got []any
	for _, tl := range f.Requests()[0]["tools"].([]any) {
		got = append(got, tl.(map[string]any)["strict"])
	}
	if diff := cmp.Diff([]any{true, false, false}, got); diff != "" {
		t.Errorf("strict per tool (-want +got):\n%s", diff)
	}
}

func TestResponsesToolChoice(t *testing.T) {
	tests := []struct {
		choice   llm.ToolChoice
		parallel bool
		want     map[string]any
	}{
		{llm.ToolChoice{}, false, map[string]any{}},
		{llm.ToolChoice{Mode: llm.ToolChoiceNone}, false, map[string]any{"tool_choice": "none"}},
		{llm.ToolChoice{Mode: llm.ToolChoiceRequired}, true, map[string]any{"tool_choice": "required", "parallel_tool_calls": false}},
		{llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "weather_forecast"}, false, map[string]any{"tool_choice": map[string]any{"type": "function", "name": "weather_forecast"}}},
	}
	for _, tt := range tests {
		f := newResponsesServer(t, reply{fixture: "responses_plain.json"})
		p := newResponsesProvider(t, f, nil)
		req := &llm.Request{Messages: llm.Prompt("x"), Tools: []llm.ToolSpec{weatherTool}, ToolChoice: tt.choice, DisableParallelToolCalls: tt.parallel}
		if _, err := p.Complete(context.Background(), req); err != nil {
			t.Fatal(err)
		}
		body := f.Requests()[0]
		got := map[string]any{}
		for _, k := range []string{"tool_choice", "parallel_tool_calls"} {
			if v, ok := body[k]; ok {
				got[k] = v
			}
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("%+v (-want +got):\n%s", tt.choice, diff)
		}
	}
	p := openai.New(&openai.Options{API: openai.APIResponses, BaseURL: "http://127.0.0.1:1/v1"})
	_, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("x"), Tools: []llm.ToolSpec{weatherTool}, ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "nope"}})
	if want := `openai: tool choice names tool "nope", which is not among the request's tools`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

// A tool loop through the LLM: the function_call of the first response
// comes back as an item with its call ID, answered by a
// function_call_output, and the MCP tool result's image travels in the
// output list.
func TestResponsesToolLoop(t *testing.T) {
	camCall := `{"id":"resp_cam","object":"response","created_at":1,"status":"completed","model":"gpt-4.1","output":[` +
		`{"type":"function_call","id":"fc_cam","call_id":"call_cam","name":"camera_snapshot","arguments":"{\"city\":\"Paris\"}","status":"completed"}],` +
		`"usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":0},"output_tokens":5,"output_tokens_details":{"reasoning_tokens":0},"total_tokens":10}}`
	f := newResponsesServer(t,
		reply{fixture: "responses_tool_call.json", check: func(t *testing.T, body map[string]any) {
			if body["instructions"] != "You forecast the weather." {
				t.Errorf("instructions = %v", body["instructions"])
			}
			var names []string
			for _, tl := range body["tools"].([]any) {
				names = append(names, tl.(map[string]any)["name"].(string))
			}
			if diff := cmp.Diff([]string{"weather_forecast", "camera_snapshot"}, names); diff != "" {
				t.Errorf("tools (-want +got):\n%s", diff)
			}
		}},
		reply{body: camCall, check: func(t *testing.T, body map[string]any) {
			want := parseJSON(t, `[
				{"type": "message", "role": "user", "content": "Weather in Paris?"},
				{"type": "function_call", "call_id": "call_paris", "name": "weather_forecast", "arguments": "{\"city\":\"Paris\"}"},
				{"type": "function_call_output", "call_id": "call_paris", "output": "sunny in Paris, 24°C"}
			]`)
			if diff := cmp.Diff(want, jsonOf(t, body["input"])); diff != "" {
				t.Errorf("second request input (-want +got):\n%s", diff)
			}
		}},
		reply{fixture: "responses_answer.json", check: func(t *testing.T, body map[string]any) {
			input := body["input"].([]any)
			want := parseJSON(t, `{"type": "function_call_output", "call_id": "call_cam", "output": [
				{"type": "input_text", "text": "snapshot of Paris\nResource camera://Paris/meta (application/json):\n{\"lens\":\"wide\"}"},
				{"type": "input_image", "image_url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="}
			]}`)
			if diff := cmp.Diff(want, jsonOf(t, input[len(input)-1])); diff != "" {
				t.Errorf("camera output (-want +got):\n%s", diff)
			}
		}})
	var calls []string
	l := llm.New(weatherAgent(t, &calls), newResponsesProvider(t, f, nil), nil)
	out, err := l.Generate(context.Background(), llm.Prompt("Weather in Paris?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := llm.FinalText(out); got != "Paris is sunny, 24°C." {
		t.Errorf("answer %q", got)
	}
	if diff := cmp.Diff([]string{"Paris"}, calls); diff != "" {
		t.Errorf("tool calls (-want +got):\n%s", diff)
	}
	u := l.Usage().Report(nil).Usage
	if want := (llm.Usage{InputTokens: 80 + 5 + 120, OutputTokens: 18 + 5 + 9, CacheReadTokens: 64}); u != want {
		t.Errorf("usage %+v, want %+v", u, want)
	}
	// The next turn sends the whole history again (stateless).
	f.mu.Lock()
	f.replies = append(f.replies, reply{fixture: "responses_plain.json", check: func(t *testing.T, body map[string]any) {
		if n := len(body["input"].([]any)); n != 7 {
			t.Errorf("next turn input has %d items, want 7 (user, call, output, call, output, answer, user)", n)
		}
	}})
	f.mu.Unlock()
	if _, err := l.Generate(context.Background(), llm.Prompt("thanks"), nil); err != nil {
		t.Fatal(err)
	}
}

// Parallel calls of one response are all executed and answered, in order,
// in Complete and Stream (argument deltas reassembled, with and without
// the output in response.completed).
func TestResponsesParallelToolCalls(t *testing.T) {
	for _, fixture := range []string{"responses_parallel.json", "responses_stream_tools.sse", "responses_stream_tools_deltas.sse"} {
		t.Run(fixture, func(t *testing.T) {
			answer := "responses_answer.json"
			if strings.HasSuffix(fixture, ".sse") {
				answer = "responses_stream_text.sse"
			}
			f := newResponsesServer(t,
				reply{fixture: fixture},
				reply{fixture: answer, check: func(t *testing.T, body map[string]any) {
					input := body["input"].([]any)
					tail := jsonOf(t, input[len(input)-2:])
					want := parseJSON(t, `[
						{"type": "function_call_output", "call_id": "call_paris", "output": "sunny in Paris, 24°C"},
						{"type": "function_call_output", "call_id": "call_rome", "output": "sunny in Rome, 24°C"}
					]`)
					if diff := cmp.Diff(want, tail); diff != "" {
						t.Errorf("outputs (-want +got):\n%s", diff)
					}
				}})
			var calls []string
			// Sequential execution keeps weatherAgent's record of calls
			// race-free; the request then carries parallel_tool_calls: false.
			l := llm.New(weatherAgent(t, &calls), newResponsesProvider(t, f, nil), &llm.Options{
				Params: &llm.RequestParams{ParallelToolCalls: llm.Bool(false)},
			})
			var err error
			if strings.HasSuffix(fixture, ".sse") {
				for _, e := range l.Stream(context.Background(), llm.Prompt("Paris and Rome?"), nil) {
					if e != nil {
						err = e
					}
				}
			} else {
				_, err = l.Generate(context.Background(), llm.Prompt("Paris and Rome?"), nil)
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"Paris", "Rome"}, calls); diff != "" {
				t.Errorf("tool calls (-want +got):\n%s", diff)
			}
			for i, r := range f.Requests() {
				if r["parallel_tool_calls"] != false {
					t.Errorf("request %d: parallel_tool_calls = %v, want false", i, r["parallel_tool_calls"])
				}
			}
		})
	}
	// The response itself: text before the calls, stop reason tool_use.
	f := newResponsesServer(t, reply{fixture: "responses_parallel.json"})
	resp, err := newResponsesProvider(t, f, nil).Complete(context.Background(), &llm.Request{Messages: llm.Prompt("x"), Tools: []llm.ToolSpec{weatherTool}})
	if err != nil {
		t.Fatal(err)
	}
	want := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
		&llm.Text{Text: "Checking both."},
		&llm.ToolCall{ID: "call_paris", Name: "weather_forecast", Arguments: json.RawMessage(`{"city":"Paris"}`)},
		&llm.ToolCall{ID: "call_rome", Name: "weather_forecast", Arguments: json.RawMessage(`{"city":"Rome"}`)},
	}}
	if diff := cmp.Diff(want, resp.Message); diff != "" || resp.StopReason != llm.StopToolUse {
		t.Errorf("stop %s, message (-want +got):\n%s", resp.StopReason, diff)
	}
}

func TestResponsesStructured(t *testing.T) {
	f := newResponsesServer(t, reply{fixture: "responses_structured.json", check: func(t *testing.T, body map[string]any) {
		format := body["text"].(map[string]any)["format"].(map[string]any)
		if format["type"] != "json_schema" || format["name"] != "forecast" || format["strict"] != true {
			t.Errorf("text.format = %v", format)
		}
		schema := format["schema"].(map[string]any)
		if schema["type"] != "object" || schema["additionalProperties"] != false {
			t.Errorf("schema %v", schema)
		}
	}})
	l := llm.New(nil, newResponsesProvider(t, f, nil), nil)
	got, err := llm.GenerateStructured[forecast](context.Background(), l, llm.Prompt("Forecast for Paris as JSON"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := forecast{City: "Paris", TemperatureC: 24, Conditions: []string{"sunny", "light wind"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("structured answer (-want +got):\n%s", diff)
	}
}

// Reasoning models: reasoning.effort (from the request or, for reasoning
// models, the options), no temperature, the summary as thinking, and the
// reasoning and cached tokens in the usage.
func TestResponsesReasoning(t *testing.T) {
	f := newResponsesServer(t,
		reply{fixture: "responses_reasoning.json", check: func(t *testing.T, body map[string]any) {
			if diff := cmp.Diff(map[string]any{"effort": "high"}, body["reasoning"]); diff != "" {
				t.Errorf("reasoning (-want +got):\n%s", diff)
			}
			if _, ok := body["temperature"]; ok {
				t.Error("temperature sent to a reasoning model")
			}
			if diff := cmp.Diff([]any{"reasoning.encrypted_content"}, body["include"]); diff != "" {
				t.Errorf("include (-want +got):\n%s", diff)
			}
		}},
		reply{fixture: "responses_plain.json", check: func(t *testing.T, body map[string]any) {
			if _, ok := body["reasoning"]; ok {
				t.Errorf("reasoning %v sent to a non-reasoning model by default", body["reasoning"])
			}
			if _, ok := body["include"]; ok {
				t.Errorf("include %v sent for a non-reasoning model", body["include"])
			}
		}})
	p := newResponsesProvider(t, f, &openai.Options{DefaultModel: "o4-mini", ReasoningEffort: llm.ReasoningHigh, Temperature: llm.Float(0.5)})
	resp, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("How many r in strawberry?")})
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.Response{
		ID: "resp_reason",
		Message: llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
			&llm.Thinking{Text: "**Planning**\n\nThe user wants a number.\n\nCounting the letters.",
				Provider: "openai", ID: "rs_1", EncryptedContent: "gAAAAABreasoning-1-encrypted"},
			&llm.Text{Text: "There are 3."},
		}},
		StopReason: llm.StopEndTurn,
		Usage:      llm.Usage{InputTokens: 1200, OutputTokens: 310, CacheReadTokens: 1024, ReasoningTokens: 256},
		Model:      "o4-mini-2025-04-16",
	}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	if _, err := p.Complete(context.Background(), &llm.Request{Model: "gpt-4.1", Messages: llm.Prompt("x")}); err != nil {
		t.Fatal(err)
	}
}

// incomplete_details and refusals map onto stop reasons.
func TestResponsesStopReasons(t *testing.T) {
	tests := []struct {
		fixture string
		stop    llm.StopReason
		text    string
	}{
		{"responses_max_tokens.json", llm.StopMaxTokens, "Once upon a"},
		{"responses_reasoning_max_tokens.json", llm.StopMaxTokens, ""},
		{"responses_content_filter.json", llm.StopRefusal, "I"},
		{"responses_refusal.json", llm.StopRefusal, "I can't help with that."},
		{"responses_stream_reasoning.sse", llm.StopMaxTokens, "42"},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			f := newResponsesServer(t, reply{fixture: tt.fixture, check: func(t *testing.T, body map[string]any) {
				if body["max_output_tokens"] != 16.0 {
					t.Errorf("max_output_tokens = %v, want 5 raised to 16", body["max_output_tokens"])
				}
			}})
			mode := "complete"
			if strings.HasSuffix(tt.fixture, ".sse") {
				mode = "stream"
			}
			resp, err := complete(t, newResponsesProvider(t, f, nil), mode, &llm.Request{Messages: llm.Prompt("x"), MaxTokens: 5})
			if err != nil {
				t.Fatal(err)
			}
			if resp.StopReason != tt.stop || resp.Message.Text() != tt.text {
				t.Errorf("stop %q text %q, want %q %q", resp.StopReason, resp.Message.Text(), tt.stop, tt.text)
			}
		})
	}
}

// Streamed deltas add up to the final text; thinking deltas are thinking.
func TestResponsesStream(t *testing.T) {
	tests := []struct {
		fixture, text, thinking string
		usage                   llm.Usage
	}{
		{"responses_stream_text.sse", "Hello, wörld!", "", llm.Usage{InputTokens: 12, OutputTokens: 5}},
		{"responses_stream_reasoning.sse", "42", "Thinking hard.", llm.Usage{InputTokens: 30, OutputTokens: 100, ReasoningTokens: 98}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			f := newResponsesServer(t, reply{fixture: tt.fixture, check: func(t *testing.T, body map[string]any) {
				if body["stream"] != true {
					t.Errorf("stream = %v", body["stream"])
				}
			}})
			p := newResponsesProvider(t, f, nil)
			var text, thinking strings.Builder
			var final *llm.Response
			n := 0
			for c, err := range p.Stream(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}) {
				if err != nil {
					t.Fatal(err)
				}
				if final != nil {
					t.Fatal("a chunk after the final response")
				}
				n++
				text.WriteString(c.Text)
				thinking.WriteString(c.Thinking)
				final = c.Response
			}
			if final == nil {
				t.Fatal("no final response")
			}
			if text.String() != tt.text || final.Message.Text() != tt.text {
				t.Errorf("streamed %q, final %q, want %q", text.String(), final.Message.Text(), tt.text)
			}
			if thinking.String() != tt.thinking {
				t.Errorf("thinking %q, want %q", thinking.String(), tt.thinking)
			}
			if final.Usage != tt.usage {
				t.Errorf("usage %+v, want %+v", final.Usage, tt.usage)
			}
			if tt.text == "Hello, wörld!" && n != 5 {
				t.Errorf("%d chunks, want 4 deltas and the response", n)
			}
		})
	}
}

// Stopping a stream early releases it without further chunks.
func TestResponsesStreamEarlyStop(t *testing.T) {
	f := newResponsesServer(t, reply{fixture: "responses_stream_text.sse"})
	p := newResponsesProvider(t, f, nil)
	n := 0
	for _, err := range p.Stream(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		break
	}
	if n != 1 {
		t.Errorf("%d chunks", n)
	}
}

func TestResponsesFailures(t *testing.T) {
	tests := []struct {
		name, fixture string
		code          int // HTTP status of the llm.StatusError; 0: none
		retryable     bool
		want          string
	}{
		{"failed response", "responses_failed.json", 0, false,
			"openai: the response failed: Invalid prompt: your prompt was flagged. (code invalid_prompt)"},
		{"response.failed event", "responses_stream_failed.sse", 500, true,
			"openai: the response failed: The model failed to generate a response. (code server_error)"},
		{"error event", "responses_stream_error.sse", 429, true,
			"openai: the response failed: Rate limit reached for requests. (code rate_limit_exceeded)"},
		{"cut short", "responses_stream_cut.sse", 0, true,
			"openai: the stream ended before the response completed (no response.completed event after 3 events): unexpected EOF"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newResponsesServer(t, reply{fixture: tt.fixture})
			mode := "complete"
			if strings.HasSuffix(tt.fixture, ".sse") {
				mode = "stream"
			}
			_, err := complete(t, newResponsesProvider(t, f, nil), mode, &llm.Request{Messages: llm.Prompt("hi")})
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v\nwant %s", err, tt.want)
			}
			var se llm.HTTPStatusError
			if got := errors.As(err, &se); got != (tt.code != 0) || (got && se.StatusCode() != tt.code) {
				t.Errorf("HTTPStatusError %v (%v), want status %d", got, se, tt.code)
			}
			if llm.Retryable(err) != tt.retryable {
				t.Errorf("Retryable = %v, want %v", !tt.retryable, tt.retryable)
			}
			var re *openai.ResponseError
			if tt.name != "cut short" && !errors.As(err, &re) {
				t.Errorf("error %T does not wrap an *openai.ResponseError", err)
			}
			if tt.name == "cut short" && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Errorf("error does not wrap io.ErrUnexpectedEOF")
			}
		})
	}
}

// HTTP errors map exactly as with Chat Completions.
func TestResponsesHTTPErrors(t *testing.T) {
	tests := []struct {
		name       string
		rep        reply
		code       int
		retryAfter time.Duration
		want       string
	}{
		{"429", reply{fixture: "error_429.json", status: 429, header: map[string]string{"Retry-After": "20"}}, 429, 20 * time.Second,
			"openai: HTTP 429 Too Many Requests: Rate limit reached for gpt-4o-mini in organization org-test on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. (type requests, code rate_limit_exceeded)"},
		{"500", reply{fixture: "error_500.json", status: 500}, 500, 0,
			"openai: HTTP 500 Internal Server Error: The server had an error while processing your request. Sorry about that! (type server_error)"},
		{"400", reply{body: `{"error":{"message":"Unsupported parameter: 'temperature' is not supported with this model.","type":"invalid_request_error","param":"temperature","code":"unsupported_parameter"}}`, status: 400}, 400, 0,
			"openai: HTTP 400 Bad Request: Unsupported parameter: 'temperature' is not supported with this model. (type invalid_request_error, code unsupported_parameter, param temperature)"},
		{"401", reply{body: `{"error":{"message":"bad key ` + testKey + `","type":"invalid_request_error","code":"invalid_api_key"}}`, status: 401}, 401, 0,
			"openai: HTTP 401 Unauthorized: bad key [redacted] (type invalid_request_error, code invalid_api_key); check openai.api_key or the OPENAI_API_KEY environment variable"},
		{"404", reply{body: `{"error":{"message":"The model 'gpt-9' does not exist or you do not have access to it.","type":"invalid_request_error","code":"model_not_found"}}`, status: 404}, 404, 0,
			"openai: HTTP 404 Not Found: The model 'gpt-9' does not exist or you do not have access to it. (type invalid_request_error, code model_not_found); check the model name (openai.default_model or the request's model) and openai.base_url"},
		{"502 html", reply{body: "<html>Bad Gateway</html>", contentType: "text/html", status: 502, header: map[string]string{"Retry-After": "3"}}, 502, 3 * time.Second, ""},
	}
	for _, tt := range tests {
		for _, mode := range []string{"complete", "stream"} {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				f := newResponsesServer(t, tt.rep)
				_, err := complete(t, newResponsesProvider(t, f, nil), mode, &llm.Request{Messages: llm.Prompt("hi")})
				var se llm.HTTPStatusError
				if !errors.As(err, &se) {
					t.Fatalf("error %v (%T) is not an llm.HTTPStatusError", err, err)
				}
				if se.StatusCode() != tt.code || se.RetryAfter() != tt.retryAfter {
					t.Errorf("status %d retry-after %v, want %d %v", se.StatusCode(), se.RetryAfter(), tt.code, tt.retryAfter)
				}
				if tt.want != "" && err.Error() != tt.want {
					t.Errorf("error text:\n got %s\nwant %s", err, tt.want)
				}
				var apiErr *openai.APIError
				if !errors.As(err, &apiErr) || apiErr.StatusCode != tt.code {
					t.Errorf("error does not wrap an *openai.APIError with status %d", tt.code)
				}
				if n := len(f.Requests()); n != 1 {
					t.Errorf("server got %d requests; SDK retries must be off", n)
				}
			})
		}
	}
}

// openai.api in the config selects the Responses API; unknown values are
// configuration errors.
func TestResponsesFromConfig(t *testing.T) {
	f := newResponsesServer(t, reply{fixture: "responses_plain.json"})
	p, err := openai.FromConfig(&config.ProviderSettings{APIKey: testKey, BaseURL: f.URL(), API: "responses"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}); err != nil {
		t.Fatal(err)
	}
	def, err := openai.FromConfig(&config.ProviderSettings{APIKey: testKey}, nil)
	if err != nil || def.API() != openai.APIChatCompletions {
		t.Errorf("default API = %q, %v; want %s", def.API(), err, openai.APIChatCompletions)
	}
	_, err = openai.FromConfig(&config.ProviderSettings{APIKey: testKey, API: "completions"}, nil)
	if want := `openai: unknown api "completions"; set openai.api to chat_completions (the default) or responses`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

// Azure's Responses API lives at /openai/responses?api-version=..., with
// the deployment as the model.
func TestResponsesAzure(t *testing.T) {
	f := newResponsesServer(t, reply{fixture: "responses_plain.json", check: func(t *testing.T, body map[string]any) {
		if body["model"] != "my-deployment" {
			t.Errorf("model = %v", body["model"])
		}
	}})
	f.path = "/openai/responses"
	f.auth = func(r *http.Request) string {
		if r.Header.Get("api-key") != testKey || r.URL.Query().Get("api-version") != "2025-04-01-preview" {
			return "want api-key header and api-version query, got " + r.URL.String()
		}
		return ""
	}
	p := openai.New(&openai.Options{API: openai.APIResponses, APIKey: testKey, BaseURL: f.srv.URL, APIVersion: "2025-04-01-preview", DefaultModel: "my-deployment"})
	if _, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}); err != nil {
		t.Fatal(err)
	}
	fixed := openai.New(&openai.Options{API: openai.APIResponses, APIKey: testKey, BaseURL: f.srv.URL + "/openai/deployments/d1", APIVersion: "2025-04-01-preview"})
	_, err := fixed.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("hi")})
	if err == nil || !strings.Contains(err.Error(), "the Responses API on Azure is not per deployment") {
		t.Errorf("error = %v", err)
	}
}

// Requests the provider cannot translate fail before any HTTP call, naming
// the message.
func TestResponsesRequestErrors(t *testing.T) {
	p := openai.New(&openai.Options{API: openai.APIResponses, BaseURL: "http://127.0.0.1:1/v1"})
	tests := []struct {
		msgs []llm.Message
		want string
	}{
		{[]llm.Message{{Role: "system", Parts: []llm.Part{&llm.Text{Text: "x"}}}}, `openai: message 0 has role "system"; want user, assistant or tool`},
		{[]llm.Message{{Role: llm.RoleTool, Parts: []llm.Part{&llm.ToolResult{Name: "t"}}}}, `openai: message 0 (tool): the result of tool "t" has no call ID`},
		{[]llm.Message{{Role: llm.RoleAssistant, Parts: []llm.Part{&llm.ToolCall{Name: "t"}}}}, `openai: message 0 (assistant): the call of tool "t" has no ID`},
		{[]llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{&llm.Image{}}}}, `openai: message 0 (user): an image part has neither data nor a URL`},
	}
	for _, tt := range tests {
		_, err := p.Complete(context.Background(), &llm.Request{Messages: tt.msgs})
		if err == nil || err.Error() != tt.want {
			t.Errorf("error = %v\nwant %s", err, tt.want)
		}
	}
}

// The Responses API has no stop parameter: stop sequences are emulated by
// cutting the text, also across streamed deltas.
func TestResponsesStopSequences(t *testing.T) {
	tests := []struct {
		fixture string
		stops   []string
		text    string
		stop    llm.StopReason
	}{
		{"responses_plain.json", []string{"How", "!"}, "Hello", llm.StopSequence},
		{"responses_plain.json", []string{"How"}, "Hello! ", llm.StopSequence},
		{"responses_plain.json", []string{"zzz"}, "Hello! How can I help?", llm.StopEndTurn},
		{"responses_stream_text.sse", []string{"o, wö"}, "Hell", llm.StopSequence},
		{"responses_stream_text.sse", []string{"ö"}, "Hello, w", llm.StopSequence},
		{"responses_stream_text.sse", []string{"Hel"}, "", llm.StopSequence},
		{"responses_stream_text.sse", []string{"d!?"}, "Hello, wörld!", llm.StopEndTurn},
	}
	for _, tt := range tests {
		t.Run(tt.fixture+"/"+strings.Join(tt.stops, "|"), func(t *testing.T) {
			f := newResponsesServer(t, reply{fixture: tt.fixture})
			p := newResponsesProvider(t, f, nil)
			req := &llm.Request{Messages: llm.Prompt("hi"), StopSequences: tt.stops}
			var resp *llm.Response
			var streamed strings.Builder
			if strings.HasSuffix(tt.fixture, ".sse") {
				for c, err := range p.Stream(context.Background(), req) {
					if err != nil {
						t.Fatal(err)
					}
					streamed.WriteString(c.Text)
					if c.Response != nil {
						resp = c.Response
					}
				}
				if streamed.String() != tt.text {
					t.Errorf("streamed %q, want %q", streamed.String(), tt.text)
				}
			} else {
				var err error
				if resp, err = p.Complete(context.Background(), req); err != nil {
					t.Fatal(err)
				}
			}
			if resp.Message.Text() != tt.text || resp.StopReason != tt.stop {
				t.Errorf("text %q stop %q, want %q %q", resp.Message.Text(), resp.StopReason, tt.text, tt.stop)
			}
		})
	}
}

// Canceling the context mid-stream ends the stream with the context's
// error.
func TestResponsesStreamContextCanceled(t *testing.T) {
	f := newResponsesServer(t)
	release := make(chan struct{})
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, "event: response.output_text.delta\ndata: {\"type\":\"response.output_text.delta\",\"sequence_number\":1,\"item_id\":\"m\",\"output_index\":0,\"content_index\":0,\"delta\":\"first\"}\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	p := newResponsesProvider(t, f, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var err error
	for c, e := range p.Stream(ctx, &llm.Request{Messages: llm.Prompt("hi")}) {
		if e != nil {
			err = e
			break
		}
		if c.Text == "first" {
			cancel()
		}
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error = %v, want context.Canceled", err)
	}
}

// A Responses tool loop recorded with the replay recorder plays back with
// the same tool calls and answer, without the server.
func TestResponsesRecordReplay(t *testing.T) {
	f := newResponsesServer(t, reply{fixture: "responses_tool_call.json"}, reply{fixture: "responses_answer.json"})
	path := t.TempDir() + "/weather.replay.yaml"
	rec := replay.NewRecorder(newResponsesProvider(t, f, nil), path)
	var calls []string
	out, err := llm.New(weatherAgent(t, &calls), rec, nil).Generate(context.Background(), llm.Prompt("Weather in Paris?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	script, err := replay.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	var replayed []string
	again, err := llm.New(weatherAgent(t, &replayed), replay.New(script, nil), nil).Generate(context.Background(), llm.Prompt("Weather in Paris?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if llm.FinalText(again) != llm.FinalText(out) || llm.FinalText(out) != "Paris is sunny, 24°C." {
		t.Errorf("replayed %q, recorded %q", llm.FinalText(again), llm.FinalText(out))
	}
	if diff := cmp.Diff(calls, replayed); diff != "" || len(calls) != 1 {
		t.Errorf("tool calls recorded %v, replayed (-recorded +replayed):\n%s", calls, diff)
	}
}
