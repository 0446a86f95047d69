package openai_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/openai"
)

// weatherAgent is an agent with a weather tool and a camera tool whose
// result holds text, an image and an embedded resource.
func weatherAgent(t *testing.T, calls *[]string) *agent.Agent {
	t.Helper()
	type cityArgs struct {
		City string `json:"city" jsonschema:"the city name"`
	}
	forecast := agent.NewTool("weather_forecast", "Forecast for a city.", func(ctx context.Context, in cityArgs) (string, error) {
		*calls = append(*calls, in.City)
		return "sunny in " + in.City + ", 24°C", nil
	})
	camera := agent.NewTool("camera_snapshot", "A photo of the city.", func(ctx context.Context, in cityArgs) (*mcp.CallToolResult, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{
			&mcp.TextContent{Text: "snapshot of " + in.City},
			&mcp.ImageContent{Data: png, MIMEType: "image/png"},
			&mcp.EmbeddedResource{Resource: &mcp.ResourceContents{URI: "camera://" + in.City + "/meta", MIMEType: "application/json", Text: `{"lens":"wide"}`}},
		}}, nil
	})
	a, err := agent.New(agent.Config{Name: "weather", Instruction: "You forecast the weather.", Tools: []agent.Tool{forecast, camera}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// messagesOf returns the messages of a request body.
func messagesOf(t *testing.T, body map[string]any) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, m := range body["messages"].([]any) {
		out = append(out, m.(map[string]any))
	}
	return out
}

// A full tool loop: the model asks for a tool, the LLM calls it through
// the agent, sends the result back, and the model answers.
func TestToolLoop(t *testing.T) {
	checkSecond := func(t *testing.T, body map[string]any) {
		msgs := messagesOf(t, body)
		if len(msgs) != 4 {
			t.Fatalf("second request has %d messages, want system, user, assistant, tool: %v", len(msgs), msgs)
		}
		if msgs[0]["role"] != "system" || msgs[0]["content"] != "You forecast the weather." {
			t.Errorf("system message %v", msgs[0])
		}
		calls := msgs[2]["tool_calls"].([]any)
		if id := calls[0].(map[string]any)["id"]; id != "call_DdmO9pD3xa9XTPNJ32zg2hcA" {
			t.Errorf("assistant tool call id %v", id)
		}
		want := map[string]any{"role": "tool", "tool_call_id": "call_DdmO9pD3xa9XTPNJ32zg2hcA", "content": "sunny in Paris, 24°C"}
		if diff := cmp.Diff(want, msgs[3]); diff != "" {
			t.Errorf("tool message (-want +got):\n%s", diff)
		}
	}
	f := newFakeServer(t, reply{fixture: "tool_call.json", check: func(t *testing.T, body map[string]any) {
		var names []string
		for _, tl := range body["tools"].([]any) {
			fn := tl.(map[string]any)["function"].(map[string]any)
			names = append(names, fn["name"].(string))
			if fn["name"] == "weather_forecast" {
				props := fn["parameters"].(map[string]any)["properties"].(map[string]any)
				if _, ok := props["city"]; !ok {
					t.Errorf("weather_forecast parameters lack city: %v", fn["parameters"])
				}
			}
		}
		if diff := cmp.Diff([]string{"weather_forecast", "camera_snapshot"}, names); diff != "" {
			t.Errorf("tools offered (-want +got):\n%s", diff)
		}
	}}, reply{fixture: "answer_paris.json", check: checkSecond})

	var calls []string
	l := llm.New(weatherAgent(t, &calls), newProvider(t, f, nil), nil)
	out, err := l.Generate(context.Background(), llm.Prompt("Weather in Paris?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := llm.FinalText(out); got != "It will be sunny in Paris, 24°C." {
		t.Errorf("answer %q", got)
	}
	if diff := cmp.Diff([]string{"Paris"}, calls); diff != "" {
		t.Errorf("tool calls (-want +got):\n%s", diff)
	}
	if n := len(f.Requests()); n != 2 {
		t.Errorf("%d model calls, want 2", n)
	}
	u := l.Usage().Report(nil).Usage
	if u.InputTokens != 82+120 || u.OutputTokens != 17+12 {
		t.Errorf("usage %+v", u)
	}
}

// The same loop streamed, with two parallel calls assembled from argument
// fragments, and the 429 of the first attempt retried by the LLM.
func TestToolLoopStreamParallel(t *testing.T) {
	f := newFakeServer(t,
		reply{fixture: "error_429.json", status: http.StatusTooManyRequests, header: map[string]string{"Retry-After-Ms": "1"}},
		reply{fixture: "stream_tool_calls.sse"},
		reply{fixture: "stream_text.sse", check: func(t *testing.T, body map[string]any) {
			msgs := messagesOf(t, body)
			tail := msgs[len(msgs)-2:]
			want := []map[string]any{
				{"role": "tool", "tool_call_id": "call_paris", "content": "sunny in Paris, 24°C"},
				{"role": "tool", "tool_call_id": "call_tokyo", "content": "sunny in Tokyo, 24°C"},
			}
			if diff := cmp.Diff(want, tail); diff != "" {
				t.Errorf("tool messages (-want +got):\n%s", diff)
			}
		}})
	var calls []string
	l := llm.New(weatherAgent(t, &calls), newProvider(t, f, nil), &llm.Options{
		Params: &llm.RequestParams{ParallelToolCalls: llm.Bool(false)},
		Retry:  &llm.RetryPolicy{BaseDelay: time.Millisecond},
	})
	var text strings.Builder
	var final *llm.Message
	for ev, err := range l.Stream(context.Background(), llm.Prompt("Paris and Tokyo?"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		switch ev.Kind {
		case llm.EventTextDelta:
			text.WriteString(ev.Text)
		case llm.EventFinal:
			final = ev.Message
		}
	}
	if text.String() != "Hello! How can I help?" || final == nil || final.Text() != text.String() {
		t.Errorf("streamed %q, final %v", text.String(), final)
	}
	if diff := cmp.Diff([]string{"Paris", "Tokyo"}, calls); diff != "" {
		t.Errorf("tool calls (-want +got):\n%s", diff)
	}
	reqs := f.Requests()
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (429, tool calls, answer)", len(reqs))
	}
	for i, r := range reqs {
		if r["parallel_tool_calls"] != false {
			t.Errorf("request %d: parallel_tool_calls = %v, want false", i, r["parallel_tool_calls"])
		}
	}
}

// MCP tool results with text, an image and an embedded resource: the tool
// message carries the text and the resource; the image follows in a user
// message.
func TestToolLoopMCPContent(t *testing.T) {
	toolCall := `{"id":"chatcmpl-cam","object":"chat.completion","created":1,"model":"gpt-4o","choices":[{"index":0,"message":{"role":"assistant","content":null,"tool_calls":[{"id":"call_cam","type":"function","function":{"name":"camera_snapshot","arguments":"{\"city\":\"Paris\"}"}}]},"finish_reason":"tool_calls"}],"usage":{"prompt_tokens":5,"completion_tokens":5,"total_tokens":10}}`
	f := newFakeServer(t, reply{body: toolCall}, reply{fixture: "answer_paris.json", check: func(t *testing.T, body map[string]any) {
		msgs := messagesOf(t, body)
		tail := jsonOf(t, msgs[len(msgs)-2:])
		want := parseJSON(t, `[
			{"role": "tool", "tool_call_id": "call_cam", "content": "snapshot of Paris\nResource camera://Paris/meta (application/json):\n{\"lens\":\"wide\"}\n[The tool returned an image; it follows in the next message.]"},
			{"role": "user", "content": [
				{"type": "text", "text": "Images returned by tool \"camera_snapshot\" (call call_cam):"},
				{"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgoAAAANSUhEUg=="}}
			]}
		]`)
		if diff := cmp.Diff(want, tail); diff != "" {
			t.Errorf("tail of the conversation (-want +got):\n%s", diff)
		}
	}})
	var calls []string
	l := llm.New(weatherAgent(t, &calls), newProvider(t, f, nil), nil)
	if _, err := llm.GenerateString(context.Background(), l, llm.Prompt("Show me Paris"), nil); err != nil {
		t.Fatal(err)
	}
	// The next turn (history on) still pairs every tool message with its call.
	f.mu.Lock()
	f.replies = append(f.replies, reply{fixture: "plain.json"})
	f.mu.Unlock()
	if _, err := llm.GenerateString(context.Background(), l, llm.Prompt("thanks"), nil); err != nil {
		t.Fatal(err)
	}
}

type forecast struct {
	City         string   `json:"city"`
	TemperatureC int      `json:"temperature_c"`
	Conditions   []string `json:"conditions"`
}

// Structured output: response_format json_schema, decoded into a Go type.
func TestGenerateStructured(t *testing.T) {
	f := newFakeServer(t, reply{fixture: "structured.json", check: func(t *testing.T, body map[string]any) {
		rf := body["response_format"].(map[string]any)
		js := rf["json_schema"].(map[string]any)
		if js["name"] != "forecast" || js["strict"] != true {
			t.Errorf("json_schema name %v strict %v, want forecast true", js["name"], js["strict"])
		}
		schema := js["schema"].(map[string]any)
		if schema["type"] != "object" || schema["additionalProperties"] != false {
			t.Errorf("schema %v", schema)
		}
	}})
	l := llm.New(nil, newProvider(t, f, nil), nil)
	got, err := llm.GenerateStructured[forecast](context.Background(), l, llm.Prompt("Forecast for Paris as JSON"), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := forecast{City: "Paris", TemperatureC: 24, Conditions: []string{"sunny", "light wind"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("structured answer (-want +got):\n%s", diff)
	}
}

// Strict mode is only used when the schema allows it.
func TestResponseSchemaStrict(t *testing.T) {
	tests := []struct {
		name   string
		schema string
		strict bool
		want   bool
	}{
		{"strict schema", `{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}`, true, true},
		{"caller asks non-strict", `{"type":"object","properties":{"a":{"type":"string"}},"required":["a"],"additionalProperties":false}`, false, false},
		{"optional property", `{"type":"object","properties":{"a":{"type":"string"},"b":{"type":"string"}},"required":["a"],"additionalProperties":false}`, true, false},
		{"open object", `{"type":"object","properties":{"a":{"type":"string"}},"required":["a"]}`, true, false},
		{"nested open object", `{"type":"object","properties":{"a":{"type":"array","items":{"type":"object","properties":{"x":{"type":"integer"}},"required":["x"]}}},"required":["a"],"additionalProperties":false}`, true, false},
		{"nested strict in $defs", `{"type":"object","properties":{"a":{"$ref":"#/$defs/A"}},"required":["a"],"additionalProperties":false,"$defs":{"A":{"type":"object","properties":{},"additionalProperties":false}}}`, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeServer(t, reply{fixture: "plain.json"})
			p := newProvider(t, f, nil)
			_, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("x"), ResponseSchema: &llm.ResponseSchema{Name: "my schema!", Description: "d", Schema: json.RawMessage(tt.schema), Strict: tt.strict}})
			if err != nil {
				t.Fatal(err)
			}
			js := f.Requests()[0]["response_format"].(map[string]any)["json_schema"].(map[string]any)
			if js["strict"] != tt.want || js["name"] != "my_schema_" || js["description"] != "d" {
				t.Errorf("json_schema strict=%v name=%v description=%v, want strict=%v name=my_schema_", js["strict"], js["name"], js["description"], tt.want)
			}
			if diff := cmp.Diff(parseJSON(t, tt.schema), js["schema"]); diff != "" {
				t.Errorf("schema changed (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFromConfig(t *testing.T) {
	_, err := openai.FromConfig(nil, nil)
	want := "openai: no OpenAI API key configured: set openai.api_key in mcp_agent.secrets.yaml (or mcp_agent.config.yaml) or the OPENAI_API_KEY environment variable; for a local OpenAI-compatible server that needs no key, set openai.base_url"
	if !errors.Is(err, openai.ErrNoAPIKey) || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
	if _, err := openai.FromConfig(&config.ProviderSettings{DefaultModel: "gpt-4o"}, nil); !errors.Is(err, openai.ErrNoAPIKey) {
		t.Errorf("no key: error = %v", err)
	}

	_, err = openai.FromConfig(&config.ProviderSettings{APIKey: "k", ReasoningEffort: "extreme"}, nil)
	if want := `openai: reasoning_effort "extreme" is not one of none, minimal, low, medium, high, xhigh`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
	_, err = openai.FromConfig(&config.ProviderSettings{APIKey: "k", BaseURL: "ftp://x"}, nil)
	if want := `openai: base URL "ftp://x" is not an http(s) URL; set base_url to the API root, such as https://api.openai.com/v1`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}

	// Keyless local server: base_url alone is enough.
	if p, err := openai.FromConfig(&config.ProviderSettings{BaseURL: "http://127.0.0.1:11434/v1"}, nil); err != nil || p.DefaultModel() != openai.DefaultModel {
		t.Errorf("keyless: %v, %v", p, err)
	}

	// Every setting reaches the request; opts win where set.
	f := newFakeServer(t, reply{fixture: "plain.json"})
	var headers http.Header
	auth := f.auth
	f.auth = func(r *http.Request) string { headers = r.Header.Clone(); return auth(r) }
	ps := &config.ProviderSettings{
		APIKey: testKey, BaseURL: f.URL(), DefaultModel: "gpt-4.1", ReasoningEffort: "high",
		Headers: map[string]string{"X-A": "headers"}, DefaultHeaders: map[string]string{"X-A": "default", "X-B": "default"},
		MaxTokens: 300, Temperature: llm.Float(0.7), User: "u1",
	}
	p, err := openai.FromConfig(ps, &openai.Options{DefaultModel: "gpt-4o", HTTPClient: &http.Client{}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}); err != nil {
		t.Fatal(err)
	}
	wantReq := parseJSON(t, `{
		"model": "gpt-4o",
		"messages": [{"role": "user", "content": "hi"}],
		"max_completion_tokens": 300,
		"temperature": 0.7,
		"user": "u1"
	}`)
	if diff := cmp.Diff(wantReq, jsonOf(t, f.Requests()[0])); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	if headers.Get("X-A") != "headers" || headers.Get("X-B") != "default" {
		t.Errorf("headers X-A=%q X-B=%q, want headers, default", headers.Get("X-A"), headers.Get("X-B"))
	}
}
