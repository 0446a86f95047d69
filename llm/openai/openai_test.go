package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/openai"
)

func newProvider(t *testing.T, f *fakeServer, opts *openai.Options) *openai.Provider {
	t.Helper()
	var o openai.Options
	if opts != nil {
		o = *opts
	}
	if o.APIKey == "" {
		o.APIKey = testKey
	}
	o.BaseURL = f.URL()
	return openai.New(&o)
}

// jsonOf re-encodes v for comparisons of request fragments.
func jsonOf(t *testing.T, v any) any {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func parseJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad JSON in test: %v\n%s", err, s)
	}
	return v
}

func TestCompletePlain(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "plain.json"})
	p := newProvider(t, f, nil)
	resp, err := p.Complete(context.Background(), &llm.Request{System: "Be brief.", Messages: llm.Prompt("hi")})
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.Response{
		ID:         "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
		Message:    llm.AssistantText("Hello! How can I help you today?"),
		StopReason: llm.StopEndTurn,
		Model:      "gpt-4o-mini-2024-07-18",
		Usage:      llm.Usage{InputTokens: 1219, OutputTokens: 10, CacheReadTokens: 1024},
	}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	got := f.Requests()[0]
	wantReq := parseJSON(t, `{
		"model": "gpt-4o-mini",
		"messages": [
			{"role": "system", "content": "Be brief."},
			{"role": "user", "content": "hi"}
		]
	}`)
	if diff := cmp.Diff(wantReq, jsonOf(t, got)); diff != "" {
		t.Errorf("request body (-want +got):\n%s", diff)
	}
	if p.Name() != "openai" {
		t.Errorf("Name() = %q", p.Name())
	}
}

var weatherTool = llm.ToolSpec{
	Name:        "weather_forecast",
	Description: "Forecast for a city.",
	InputSchema: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}`),
}

func TestCompleteToolCall(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "tool_call.json"})
	p := newProvider(t, f, nil)
	req := &llm.Request{
		Model:    "gpt-4o-mini",
		Messages: llm.Prompt("Weather in Paris?"),
		Tools: []llm.ToolSpec{
			weatherTool,
			{Name: "server_ping", InputSchema: nil}, // no schema at all
			{Name: "server_empty", InputSchema: json.RawMessage(`{}`)}, // empty schema
		},
		DisableParallelToolCalls: true,
	}
	resp, err := p.Complete(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	wantMsg := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
		&llm.ToolCall{ID: "call_DdmO9pD3xa9XTPNJ32zg2hcA", Name: "weather_forecast", Arguments: json.RawMessage(`{"city":"Paris"}`)},
	}}
	if diff := cmp.Diff(wantMsg, resp.Message); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	if resp.StopReason != llm.StopToolUse {
		t.Errorf("StopReason = %q, want tool_use", resp.StopReason)
	}
	body := f.Requests()[0]
	wantTools := parseJSON(t, `[
		{"type": "function", "function": {"name": "weather_forecast", "description": "Forecast for a city.",
			"parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
		{"type": "function", "function": {"name": "server_ping", "parameters": {"type": "object", "properties": {}}}},
		{"type": "function", "function": {"name": "server_empty", "parameters": {"type": "object", "properties": {}}}}
	]`)
	if diff := cmp.Diff(wantTools, jsonOf(t, body["tools"])); diff != "" {
		t.Errorf("tools (-want +got):\n%s", diff)
	}
	if body["parallel_tool_calls"] != false {
		t.Errorf("parallel_tool_calls = %v, want false", body["parallel_tool_calls"])
	}
	if _, ok := body["tool_choice"]; ok {
		t.Errorf("tool_choice = %v, want it omitted (auto)", body["tool_choice"])
	}
}

func TestToolChoice(t *testing.T) {
	tests := []struct {
		choice llm.ToolChoice
		want   any // nil: omitted
	}{
		{llm.ToolChoice{}, nil},
		{llm.ToolChoice{Mode: llm.ToolChoiceAuto}, nil},
		{llm.ToolChoice{Mode: llm.ToolChoiceNone}, "none"},
		{llm.ToolChoice{Mode: llm.ToolChoiceRequired}, "required"},
		{llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "weather_forecast"},
			map[string]any{"type": "function", "function": map[string]any{"name": "weather_forecast"}}},
	}
	for _, tt := range tests {
		t.Run(string(tt.choice.Mode), func(t *testing.T) {
			f := newFakeServer(t, reply{fixture: "plain.json"})
			p := newProvider(t, f, nil)
			_, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("hi"), Tools: []llm.ToolSpec{weatherTool}, ToolChoice: tt.choice})
			if err != nil {
				t.Fatal(err)
			}
			body := f.Requests()[0]
			if diff := cmp.Diff(tt.want, body["tool_choice"]); diff != "" {
				t.Errorf("tool_choice (-want +got):\n%s", diff)
			}
			if _, ok := body["parallel_tool_calls"]; ok {
				t.Errorf("parallel_tool_calls sent although parallel calls are allowed")
			}
		})
	}

	// Without tools, no tool fields are sent whatever the choice.
	f := newFakeServer(t, reply{fixture: "plain.json"})
	p := newProvider(t, f, nil)
	if _, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("hi"), ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceNone}, DisableParallelToolCalls: true}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"tools", "tool_choice", "parallel_tool_calls"} {
		if _, ok := f.Requests()[0][k]; ok {
			t.Errorf("%s sent without tools", k)
		}
	}
}

func TestRequestErrors(t *testing.T) {
	p := openai.New(&openai.Options{APIKey: testKey, BaseURL: "http://127.0.0.1:1/v1"})
	tests := []struct {
		name string
		req  *llm.Request
		want string
	}{
		{"unknown tool choice", &llm.Request{Messages: llm.Prompt("hi"), Tools: []llm.ToolSpec{weatherTool}, ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "nope"}},
			`openai: tool choice names tool "nope", which is not among the request's tools`},
		{"bad schema", &llm.Request{Messages: llm.Prompt("hi"), Tools: []llm.ToolSpec{{Name: "t", InputSchema: json.RawMessage(`[1]`)}}},
			`openai: tool "t": the input schema is not a JSON object: [1]`},
		{"bad role", &llm.Request{Messages: []llm.Message{{Role: "robot"}}},
			`openai: message 0 has role "robot"; want user, assistant or tool`},
		{"tool result in user message", &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{&llm.ToolResult{CallID: "c"}}}}},
			`openai: message 0 (user): a user message cannot hold *llm.ToolResult; tool calls belong in assistant messages and results in tool messages`},
		{"empty image", &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{&llm.Image{}}}}},
			`openai: message 0 (user): an image part has neither data nor a URL`},
		{"bad response schema", &llm.Request{Messages: llm.Prompt("hi"), ResponseSchema: &llm.ResponseSchema{Name: "x", Schema: json.RawMessage(`"str"`)}},
			`openai: response schema "x" is not a JSON object: "str"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := p.Complete(context.Background(), tt.req)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v\nwant    %s", err, tt.want)
			}
		})
	}
}

func TestCompleteParallelToolCalls(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "parallel_tool_calls.json"})
	p := newProvider(t, f, nil)
	resp, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("Paris and Tokyo?"), Tools: []llm.ToolSpec{weatherTool}})
	if err != nil {
		t.Fatal(err)
	}
	want := []*llm.ToolCall{
		{ID: "call_paris", Name: "weather_forecast", Arguments: json.RawMessage(`{"city":"Paris"}`)},
		{ID: "call_tokyo", Name: "weather_forecast", Arguments: json.RawMessage(`{"city":"Tokyo"}`)},
	}
	if diff := cmp.Diff(want, resp.Message.ToolCalls()); diff != "" {
		t.Errorf("tool calls (-want +got):\n%s", diff)
	}
	if resp.StopReason != llm.StopToolUse || resp.Usage.InputTokens != 90 || resp.Usage.OutputTokens != 50 {
		t.Errorf("stop %q usage %+v", resp.StopReason, resp.Usage)
	}
}

func TestCompleteRefusal(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "refusal.json"})
	p := newProvider(t, f, nil)
	resp, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("something bad")})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StopReason != llm.StopRefusal {
		t.Errorf("StopReason = %q, want refusal", resp.StopReason)
	}
	if got := resp.Message.Text(); got != "I'm sorry, I can't assist with that request." {
		t.Errorf("text = %q, want the refusal", got)
	}
}

// A reasoning model truncated by max tokens: developer role, max
// completion tokens, reasoning effort, no temperature; reasoning tokens
// counted.
func TestCompleteReasoningModelLength(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "length.json"})
	p := newProvider(t, f, &openai.Options{ReasoningEffort: llm.ReasoningLow, Temperature: llm.Float(0.2)})
	resp, err := p.Complete(context.Background(), &llm.Request{
		Model: "o4-mini", System: "You are a historian.", Messages: llm.Prompt("History of Paris"),
		MaxTokens: 64, StopSequences: []string{"END"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if resp.StopReason != llm.StopMaxTokens {
		t.Errorf("StopReason = %q, want max_tokens", resp.StopReason)
	}
	if want := (llm.Usage{InputTokens: 25, OutputTokens: 64, ReasoningTokens: 52}); resp.Usage != want {
		t.Errorf("usage = %+v, want %+v", resp.Usage, want)
	}
	wantReq := parseJSON(t, `{
		"model": "o4-mini",
		"messages": [
			{"role": "developer", "content": "You are a historian."},
			{"role": "user", "content": "History of Paris"}
		],
		"max_completion_tokens": 64,
		"stop": ["END"],
		"reasoning_effort": "low"
	}`)
	if diff := cmp.Diff(wantReq, jsonOf(t, f.Requests()[0])); diff != "" {
		t.Errorf("request body (-want +got):\n%s", diff)
	}
}

// Non-reasoning models get the system role, temperature and the legacy
// max_tokens field when asked; the default reasoning effort is not sent
// to them, but a request's explicit one is.
func TestCompleteOptionsDefaults(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "plain.json"}, reply{fixture: "plain.json"})
	p := newProvider(t, f, &openai.Options{
		DefaultModel: "llama3.2", ReasoningEffort: llm.ReasoningHigh, Temperature: llm.Float(0.5),
		MaxTokens: 100, LegacyMaxTokens: true, User: "user-42", Store: true,
	})
	_, err := p.Complete(context.Background(), &llm.Request{System: "sys", Messages: llm.Prompt("hi"), Metadata: map[string]string{"run": "r1"}})
	if err != nil {
		t.Fatal(err)
	}
	wantReq := parseJSON(t, `{
		"model": "llama3.2",
		"messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}],
		"max_tokens": 100,
		"temperature": 0.5,
		"user": "user-42",
		"store": true,
		"metadata": {"run": "r1"}
	}`)
	if diff := cmp.Diff(wantReq, jsonOf(t, f.Requests()[0])); diff != "" {
		t.Errorf("request body (-want +got):\n%s", diff)
	}
	_, err = p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("hi"), ReasoningEffort: llm.ReasoningMinimal, Temperature: llm.Float(0)})
	if err != nil {
		t.Fatal(err)
	}
	body := f.Requests()[1]
	if body["reasoning_effort"] != "minimal" || body["temperature"] != 0.0 {
		t.Errorf("reasoning_effort = %v, temperature = %v; want minimal, 0", body["reasoning_effort"], body["temperature"])
	}
}

// Metadata is not sent unless Store is set: the API rejects it otherwise.
func TestMetadataNeedsStore(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "plain.json"})
	p := newProvider(t, f, nil)
	if _, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("hi"), Metadata: map[string]string{"a": "b"}}); err != nil {
		t.Fatal(err)
	}
	if _, ok := f.Requests()[0]["metadata"]; ok {
		t.Error("metadata sent without store")
	}
}

func TestHeaders(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "plain.json"})
	var got http.Header
	f.auth = func(r *http.Request) string {
		got = r.Header.Clone()
		if r.Header.Get("Authorization") != "Bearer "+testKey {
			return "missing bearer"
		}
		return ""
	}
	p := newProvider(t, f, &openai.Options{Organization: "org-1", Project: "proj-1", Headers: map[string]string{"X-Trace": "abc"}})
	if _, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{"OpenAI-Organization": "org-1", "OpenAI-Project": "proj-1", "X-Trace": "abc"} {
		if got.Get(k) != v {
			t.Errorf("header %s = %q, want %q", k, got.Get(k), v)
		}
	}
}

// Azure: deployment URL, api-version query, api-key header, no bearer.
func TestAzure(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "plain.json"}, reply{fixture: "stream_text.sse"})
	f.path = "/openai/deployments/my-gpt4o/chat/completions"
	f.auth = func(r *http.Request) string {
		switch {
		case r.Header.Get("api-key") != testKey:
			return "api-key header missing"
		case r.Header.Get("Authorization") != "":
			return "Authorization sent to Azure: " + r.Header.Get("Authorization")
		case r.URL.Query().Get("api-version") != "2024-10-21":
			return "api-version query = " + r.URL.RawQuery
		}
		return ""
	}
	p := openai.New(&openai.Options{APIKey: testKey, BaseURL: f.srv.URL + "/", APIVersion: "2024-10-21", DefaultModel: "my-gpt4o"})
	if _, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}); err != nil {
		t.Fatal(err)
	}
	if _, err := llm.CollectStream(p.Stream(context.Background(), &llm.Request{Messages: llm.Prompt("hi")})); err != nil {
		t.Fatal(err)
	}

	// A base URL naming the deployment is used as it is.
	f2 := newFakeServer(t, reply{fixture: "plain.json"})
	f2.path = "/openai/deployments/fixed/chat/completions"
	f2.auth = f.auth
	p = openai.New(&openai.Options{APIKey: testKey, BaseURL: f2.srv.URL + "/openai/deployments/fixed", APIVersion: "2024-10-21"})
	if _, err := p.Complete(context.Background(), &llm.Request{Model: "ignored-in-url", Messages: llm.Prompt("hi")}); err != nil {
		t.Fatal(err)
	}

	// Azure needs the endpoint.
	p = openai.New(&openai.Options{APIKey: testKey, APIVersion: "2024-10-21"})
	_, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("hi")})
	if want := "openai: Azure OpenAI (api_version is set) needs base_url: set it to the resource endpoint, such as https://NAME.openai.azure.com"; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestBadBaseURL(t *testing.T) {
	p := openai.New(&openai.Options{BaseURL: "localhost:11434"})
	_, err := llm.CollectStream(p.Stream(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}))
	want := `openai: base URL "localhost:11434" is not an http(s) URL; set base_url to the API root, such as https://api.openai.com/v1`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

// The provider must not modify the request.
func TestRequestNotModified(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "plain.json"})
	p := newProvider(t, f, nil)
	req := conversationRequest()
	before, _ := json.Marshal(req.Messages)
	tools := append([]llm.ToolSpec(nil), req.Tools...)
	if _, err := p.Complete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	after, _ := json.Marshal(req.Messages)
	if string(before) != string(after) {
		t.Errorf("messages modified:\nbefore %s\nafter  %s", before, after)
	}
	if diff := cmp.Diff(tools, req.Tools); diff != "" {
		t.Errorf("tools modified (-before +after):\n%s", diff)
	}
}

var png = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")

func conversationRequest() *llm.Request {
	return &llm.Request{
		System: "You are helpful.",
		Tools:  []llm.ToolSpec{weatherTool, {Name: "fs_read", InputSchema: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}}}`)}},
		Messages: []llm.Message{
			{Role: llm.RoleUser, Parts: []llm.Part{
				&llm.Text{Text: "What is in these images?"},
				&llm.Image{URL: "https://example.com/cat.jpg"},
				&llm.Image{Data: png, MIMEType: "image/png"},
				&llm.Image{Data: png}, // MIME type sniffed
			}},
			{Role: llm.RoleAssistant, Parts: []llm.Part{
				&llm.Thinking{Text: "secret reasoning", Signature: "sig"},
				&llm.Thinking{Text: "Responses reasoning", Provider: "openai", ID: "rs_1", EncryptedContent: "gAAAA-enc"},
				&llm.Text{Text: "Let me look."},
				&llm.ToolCall{ID: "call_1", Name: "weather_forecast", Arguments: json.RawMessage(`{"city":"Paris"}`)},
				&llm.ToolCall{ID: "call_2", Name: "fs_read", Arguments: nil},
			}},
			{Role: llm.RoleTool, Parts: []llm.Part{
				&llm.ToolResult{CallID: "call_1", Name: "weather_forecast", Content: []llm.Part{
					&llm.Text{Text: "sunny"},
					&llm.Image{Data: png, MIMEType: "image/png"},
				}},
				&llm.ToolResult{CallID: "call_2", Name: "fs_read", IsError: true, Content: []llm.Part{
					&llm.Text{Text: "permission denied"},
					&llm.Resource{URI: "file:///etc/motd", MIMEType: "text/plain", Text: "welcome"},
					&llm.Resource{URI: "file:///bin/ls", MIMEType: "application/octet-stream", Blob: []byte{1, 2, 3}},
					&llm.Resource{URI: "file:///docs", Name: "docs"},
				}},
			}},
			{Role: llm.RoleAssistant, Parts: []llm.Part{&llm.ToolCall{ID: "call_3", Name: "fs_read", Arguments: json.RawMessage(`{"path":"/x"}`)}}},
			{Role: llm.RoleTool, Parts: []llm.Part{&llm.ToolResult{CallID: "call_3", Name: "fs_read"}}},
			{Role: llm.RoleAssistant, Parts: []llm.Part{&llm.Thinking{Text: "only thinking"}}},
			{Role: llm.RoleUser, Parts: []llm.Part{
				&llm.Text{Text: "And this?"},
				&llm.Resource{URI: "mem://note", Text: "a note"},
			}},
		},
	}
}

// Every part kind is translated as documented.
func TestTranslateConversation(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "plain.json"})
	p := newProvider(t, f, nil)
	if _, err := p.Complete(context.Background(), conversationRequest()); err != nil {
		t.Fatal(err)
	}
	pngURL := "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="
	want := parseJSON(t, `[
		{"role": "system", "content": "You are helpful."},
		{"role": "user", "content": [
			{"type": "text", "text": "What is in these images?"},
			{"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
			{"type": "image_url", "image_url": {"url": "`+pngURL+`"}},
			{"type": "image_url", "image_url": {"url": "`+pngURL+`"}}
		]},
		{"role": "assistant", "content": "Let me look.", "tool_calls": [
			{"id": "call_1", "type": "function", "function": {"name": "weather_forecast", "arguments": "{\"city\":\"Paris\"}"}},
			{"id": "call_2", "type": "function", "function": {"name": "fs_read", "arguments": "{}"}}
		]},
		{"role": "tool", "tool_call_id": "call_1", "content": "sunny\n[The tool returned an image; it follows in the next message.]"},
		{"role": "tool", "tool_call_id": "call_2", "content": "Error: permission denied\nResource file:///etc/motd (text/plain):\nwelcome\n[Resource file:///bin/ls (application/octet-stream): 3 bytes of binary data, not shown]\n[Resource link: file:///docs \"docs\"]"},
		{"role": "user", "content": [
			{"type": "text", "text": "Images returned by tool \"weather_forecast\" (call call_1):"},
			{"type": "image_url", "image_url": {"url": "`+pngURL+`"}}
		]},
		{"role": "assistant", "tool_calls": [
			{"id": "call_3", "type": "function", "function": {"name": "fs_read", "arguments": "{\"path\":\"/x\"}"}}
		]},
		{"role": "tool", "tool_call_id": "call_3", "content": "(no output)"},
		{"role": "assistant", "content": ""},
		{"role": "user", "content": [
			{"type": "text", "text": "And this?"},
			{"type": "text", "text": "Resource mem://note:\na note"}
		]}
	]`)
	if diff := cmp.Diff(want, jsonOf(t, f.Requests()[0]["messages"])); diff != "" {
		t.Errorf("messages (-want +got):\n%s", diff)
	}
}

func TestIsReasoningModel(t *testing.T) {
	for model, want := range map[string]bool{
		"o1": true, "o1-mini": true, "o3": true, "o3-mini": true, "o4-mini": true, "gpt-5": true, "gpt-5-mini": true,
		"openai/o3": true, "GPT-5.1": true,
		"gpt-5-chat-latest": false, "gpt-4o": false, "gpt-4o-mini": false, "gpt-4.1": false, "llama3.2": false, "omni": false,
	} {
		if got := openai.IsReasoningModel(model); got != want {
			t.Errorf("IsReasoningModel(%q) = %v, want %v", model, got, want)
		}
	}
}

func TestStreamText(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "stream_text.sse"})
	p := newProvider(t, f, nil)
	var deltas []string
	var final *llm.Response
	for c, err := range p.Stream(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}) {
		if err != nil {
			t.Fatal(err)
		}
		if final != nil {
			t.Fatal("chunk after the final response")
		}
		switch {
		case c.Response != nil:
			final = c.Response
		case c.Text != "":
			deltas = append(deltas, c.Text)
		default:
			t.Errorf("empty chunk %+v", c)
		}
	}
	if diff := cmp.Diff([]string{"Hello", "! How", " can I help?"}, deltas); diff != "" {
		t.Errorf("deltas (-want +got):\n%s", diff)
	}
	want := &llm.Response{
		ID:         "chatcmpl-s1",
		Message:    llm.AssistantText("Hello! How can I help?"),
		StopReason: llm.StopEndTurn,
		Model:      "gpt-4o-mini-2024-07-18",
		Usage:      llm.Usage{InputTokens: 1219, OutputTokens: 7, CacheReadTokens: 1152},
	}
	if diff := cmp.Diff(want, final); diff != "" {
		t.Errorf("final response (-want +got):\n%s", diff)
	}
	body := f.Requests()[0]
	if body["stream"] != true || jsonOf(t, body["stream_options"]).(map[string]any)["include_usage"] != true {
		t.Errorf("stream = %v, stream_options = %v", body["stream"], body["stream_options"])
	}
}

func TestStreamToolCalls(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "stream_tool_calls.sse"})
	p := newProvider(t, f, nil)
	resp, err := llm.CollectStream(p.Stream(context.Background(), &llm.Request{Messages: llm.Prompt("Paris and Tokyo?"), Tools: []llm.ToolSpec{weatherTool}}))
	if err != nil {
		t.Fatal(err)
	}
	want := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
		&llm.ToolCall{ID: "call_paris", Name: "weather_forecast", Arguments: json.RawMessage(`{"city": "Paris"}`)},
		&llm.ToolCall{ID: "call_tokyo", Name: "weather_forecast", Arguments: json.RawMessage(`{"city": "Tokyo"}`)},
	}}
	if diff := cmp.Diff(want, resp.Message); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	if resp.StopReason != llm.StopToolUse || resp.Usage.OutputTokens != 50 {
		t.Errorf("stop %q usage %+v", resp.StopReason, resp.Usage)
	}
}

func TestStreamRefusal(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "stream_refusal.sse"})
	p := newProvider(t, f, nil)
	var text strings.Builder
	var final *llm.Response
	for c, err := range p.Stream(context.Background(), &llm.Request{Messages: llm.Prompt("bad")}) {
		if err != nil {
			t.Fatal(err)
		}
		text.WriteString(c.Text)
		if c.Response != nil {
			final = c.Response
		}
	}
	const refusal = "I'm sorry, I can't assist with that."
	if text.String() != refusal || final.Message.Text() != refusal || final.StopReason != llm.StopRefusal {
		t.Errorf("streamed %q, final %q (%s); want the refusal", text.String(), final.Message.Text(), final.StopReason)
	}
}

// An OpenAI-compatible server (Ollama) without a key, streaming reasoning.
func TestStreamCompatibleServerReasoning(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "stream_reasoning_ollama.sse"})
	f.auth = func(r *http.Request) string {
		if a := r.Header.Get("Authorization"); a != "" {
			return "keyless provider sent Authorization " + a
		}
		return ""
	}
	p := openai.New(&openai.Options{BaseURL: f.URL(), DefaultModel: "qwen3:8b"})
	var thinking, text string
	var final *llm.Response
	for c, err := range p.Stream(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}) {
		if err != nil {
			t.Fatal(err)
		}
		thinking += c.Thinking
		text += c.Text
		if c.Response != nil {
			final = c.Response
		}
	}
	if thinking != "The user greets me." || text != "Hi there!" {
		t.Errorf("thinking %q text %q", thinking, text)
	}
	want := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{&llm.Thinking{Text: "The user greets me.", Provider: "openai"}, &llm.Text{Text: "Hi there!"}}}
	if diff := cmp.Diff(want, final.Message); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
}

func TestStreamCutShort(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "stream_truncated.sse"})
	p := newProvider(t, f, nil)
	_, err := llm.CollectStream(p.Stream(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}))
	if !errors.Is(err, io.ErrUnexpectedEOF) || !llm.Retryable(err) {
		t.Fatalf("error = %v; want one wrapping io.ErrUnexpectedEOF, retryable", err)
	}
	if want := "openai: the stream ended before the model finished (no finish_reason): unexpected EOF"; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

func TestStreamErrorEvent(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "stream_error_event.sse"})
	p := newProvider(t, f, nil)
	_, err := llm.CollectStream(p.Stream(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}))
	want := "openai: the server reported an error in the stream: The server had an error while processing your request. (type server_error)"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

// Stopping the iteration early closes the connection: the server sees its
// request context end.
func TestStreamEarlyStop(t *testing.T) {
	closed := make(chan struct{})
	f := newFakeServer(t)
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"first"},"finish_reason":null}]}`+"\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			close(closed)
		case <-time.After(10 * time.Second):
			t.Error("the server kept its connection 10s after the consumer stopped")
		}
	})
	p := newProvider(t, f, nil)
	n := 0
	for c, err := range p.Stream(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}) {
		if err != nil {
			t.Fatal(err)
		}
		if c.Text != "first" {
			t.Errorf("first chunk %+v", c)
		}
		n++
		break
	}
	if n != 1 {
		t.Fatalf("got %d chunks", n)
	}
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("connection not closed 10s after the consumer stopped")
	}
}

func TestStreamContextCanceled(t *testing.T) {
	f := newFakeServer(t)
	release := make(chan struct{})
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		io.WriteString(w, `data: {"id":"c","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"first"},"finish_reason":null}]}`+"\n\n")
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	p := newProvider(t, f, nil)
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

func TestErrors(t *testing.T) {
	tests := []struct {
		name       string
		rep        reply
		code       int
		retryAfter time.Duration
		retryable  bool
		want       string
	}{
		{"429 retry-after", reply{fixture: "error_429.json", status: 429, header: map[string]string{"Retry-After": "20"}}, 429, 20 * time.Second, true,
			"openai: HTTP 429 Too Many Requests: Rate limit reached for gpt-4o-mini in organization org-test on requests per min (RPM): Limit 3, Used 3, Requested 1. Please try again in 20s. (type requests, code rate_limit_exceeded)"},
		{"429 retry-after-ms", reply{fixture: "error_429.json", status: 429, header: map[string]string{"Retry-After-Ms": "1500"}}, 429, 1500 * time.Millisecond, true, ""},
		{"500", reply{fixture: "error_500.json", status: 500}, 500, 0, true,
			"openai: HTTP 500 Internal Server Error: The server had an error while processing your request. Sorry about that! (type server_error)"},
		{"400", reply{fixture: "error_400.json", status: 400}, 400, 0, false,
			"openai: HTTP 400 Bad Request: Invalid schema for function 'broken': In context=(), 'properties' must be an object. (type invalid_request_error, code invalid_function_parameters, param tools[0].function.parameters)"},
		{"401", reply{fixture: "error_401.json", status: 401}, 401, 0, false,
			"openai: HTTP 401 Unauthorized: Incorrect API key provided: sk-test-s****cret. You can find your API key at https://platform.openai.com/account/api-keys. (type invalid_request_error, code invalid_api_key); check openai.api_key or the OPENAI_API_KEY environment variable"},
		{"401 echoing the key", reply{body: `{"error":{"message":"bad key ` + testKey + `","type":"auth"}}`, status: 401}, 401, 0, false,
			"openai: HTTP 401 Unauthorized: bad key [redacted] (type auth); check openai.api_key or the OPENAI_API_KEY environment variable"},
		{"502 html", reply{body: "<html>Bad Gateway</html>", contentType: "text/html", status: 502, header: map[string]string{"Retry-After": "3"}}, 502, 3 * time.Second, true,
			""},
	}
	for _, tt := range tests {
		for _, mode := range []string{"complete", "stream"} {
			t.Run(tt.name+"/"+mode, func(t *testing.T) {
				f := newFakeServer(t, tt.rep)
				p := newProvider(t, f, nil)
				req := &llm.Request{Messages: llm.Prompt("hi")}
				var err error
				if mode == "complete" {
					_, err = p.Complete(context.Background(), req)
				} else {
					_, err = llm.CollectStream(p.Stream(context.Background(), req))
				}
				var se llm.HTTPStatusError
				if !errors.As(err, &se) {
					t.Fatalf("error %v (%T) is not an llm.HTTPStatusError", err, err)
				}
				if se.StatusCode() != tt.code || se.RetryAfter() != tt.retryAfter {
					t.Errorf("status %d retry-after %v, want %d %v", se.StatusCode(), se.RetryAfter(), tt.code, tt.retryAfter)
				}
				if got := llm.Retryable(err); got != tt.retryable {
					t.Errorf("Retryable = %v, want %v", got, tt.retryable)
				}
				if tt.want != "" && err.Error() != tt.want {
					t.Errorf("error text:\n got %s\nwant %s", err, tt.want)
				}
				if strings.Contains(err.Error(), testKey) {
					t.Errorf("error leaks the API key: %s", err)
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

func TestConnectionRefused(t *testing.T) {
	p := openai.New(&openai.Options{APIKey: testKey, BaseURL: "http://127.0.0.1:1/v1"})
	_, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("hi")})
	if err == nil || !strings.HasPrefix(err.Error(), "openai: ") || strings.Contains(err.Error(), testKey) {
		t.Errorf("error = %v", err)
	}
}

// A connection reset by the server is kept in the error chain, so the LLM
// retries it.
func TestConnectionReset(t *testing.T) {
	f := newFakeServer(t)
	f.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		conn.(*net.TCPConn).SetLinger(0)
		conn.Close()
	})
	p := newProvider(t, f, nil)
	_, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("hi")})
	if !errors.Is(err, syscall.ECONNRESET) || !llm.Retryable(err) {
		t.Errorf("error = %v; want a retryable error wrapping ECONNRESET", err)
	}
	if err != nil && !strings.HasPrefix(err.Error(), "openai: ") {
		t.Errorf("error %q lacks the openai: prefix", err)
	}
}

// One provider serves concurrent requests.
func TestConcurrentUse(t *testing.T) {
	const n = 8
	f := newFakeServer(t)
	f.respond = func(body map[string]any) reply {
		if body["stream"] == true {
			return reply{fixture: "stream_text.sse"}
		}
		return reply{fixture: "plain.json"}
	}
	p := newProvider(t, f, nil)
	errs := make(chan error, 2*n)
	for range n {
		go func() {
			_, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("hi")})
			errs <- err
		}()
		go func() {
			_, err := llm.CollectStream(p.Stream(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}))
			errs <- err
		}()
	}
	for range 2 * n {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if got := len(f.Requests()); got != 2*n {
		t.Errorf("server got %d requests, want %d", got, 2*n)
	}
}
