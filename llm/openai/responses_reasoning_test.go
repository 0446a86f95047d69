package openai_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/openai"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
)

// reasoningCall is a reasoning model's first answer in a tool loop: a
// reasoning item (with encrypted content, as include asks) and the call it
// led to.
const reasoningCall = `{"id":"resp_rc","object":"response","created_at":1,"status":"completed","model":"o4-mini-2025-04-16","output":[` +
	`{"type":"reasoning","id":"rs_tool","summary":[{"type":"summary_text","text":"Need the forecast."}],"encrypted_content":"gAAAAB-enc-tool"},` +
	`{"type":"function_call","id":"fc_1","call_id":"call_paris","name":"weather_forecast","arguments":"{\"city\":\"Paris\"}","status":"completed"}],` +
	`"usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":0},"output_tokens":50,"output_tokens_details":{"reasoning_tokens":40},"total_tokens":55}}`

// reasoningCallSSE is the same answer streamed, with an empty output in
// response.completed (the items come from output_item.done; the encrypted
// content of output_item.added is incomplete).
var reasoningCallSSE = sse(
	`{"type":"response.created","sequence_number":0,"response":{"id":"resp_rc","object":"response","created_at":1,"status":"in_progress","model":"o4-mini-2025-04-16","output":[]}}`,
	`{"type":"response.output_item.added","sequence_number":1,"output_index":0,"item":{"type":"reasoning","id":"rs_tool","summary":[],"encrypted_content":"gAAAAB-partial"}}`,
	`{"type":"response.reasoning_summary_text.delta","sequence_number":2,"item_id":"rs_tool","output_index":0,"summary_index":0,"delta":"Need the forecast."}`,
	`{"type":"response.output_item.done","sequence_number":3,"output_index":0,"item":{"type":"reasoning","id":"rs_tool","summary":[{"type":"summary_text","text":"Need the forecast."}],"encrypted_content":"gAAAAB-enc-tool"}}`,
	`{"type":"response.output_item.added","sequence_number":4,"output_index":1,"item":{"type":"function_call","id":"fc_1","call_id":"call_paris","name":"weather_forecast","arguments":"","status":"in_progress"}}`,
	`{"type":"response.function_call_arguments.delta","sequence_number":5,"item_id":"fc_1","output_index":1,"delta":"{\"city\":\"Paris\"}"}`,
	`{"type":"response.output_item.done","sequence_number":6,"output_index":1,"item":{"type":"function_call","id":"fc_1","call_id":"call_paris","name":"weather_forecast","arguments":"{\"city\":\"Paris\"}","status":"completed"}}`,
	`{"type":"response.completed","sequence_number":7,"response":{"id":"resp_rc","object":"response","created_at":1,"status":"completed","model":"o4-mini-2025-04-16","output":[],"usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":0},"output_tokens":50,"output_tokens_details":{"reasoning_tokens":40},"total_tokens":55}}}`,
)

func sse(events ...string) string {
	var b strings.Builder
	for _, e := range events {
		var ev struct{ Type string }
		if err := json.Unmarshal([]byte(e), &ev); err != nil {
			panic(err)
		}
		b.WriteString("event: " + ev.Type + "\ndata: " + e + "\n\n")
	}
	return b.String()
}

// Stateless reasoning: the provider asks for encrypted reasoning, keeps it
// in the thinking part and sends the reasoning item back, whole, before the
// function_call it preceded, in every later turn (Generate and Stream).
func TestResponsesReasoningToolLoop(t *testing.T) {
	wantSecond := `[
		{"type": "message", "role": "user", "content": "Weather in Paris?"},
		{"type": "reasoning", "id": "rs_tool", "encrypted_content": "gAAAAB-enc-tool", "summary": [{"type": "summary_text", "text": "Need the forecast."}]},
		{"type": "function_call", "call_id": "call_paris", "name": "weather_forecast", "arguments": "{\"city\":\"Paris\"}"},
		{"type": "function_call_output", "call_id": "call_paris", "output": "sunny in Paris, 24°C"}
	]`
	for _, stream := range []bool{false, true} {
		name := "Generate"
		first, answer := reply{body: reasoningCall}, "responses_answer.json"
		if stream {
			name = "Stream"
			first, answer = reply{body: reasoningCallSSE, contentType: "text/event-stream"}, "responses_stream_text.sse"
		}
		t.Run(name, func(t *testing.T) {
			first.check = func(t *testing.T, body map[string]any) {
				if diff := cmp.Diff([]any{"reasoning.encrypted_content"}, body["include"]); diff != "" {
					t.Errorf("include (-want +got):\n%s", diff)
				}
			}
			f := newResponsesServer(t, first,
				reply{fixture: answer, check: func(t *testing.T, body map[string]any) {
					if diff := cmp.Diff(parseJSON(t, wantSecond), jsonOf(t, body["input"])); diff != "" {
						t.Errorf("second request input (-want +got):\n%s", diff)
					}
				}},
				reply{fixture: "responses_plain.json", check: func(t *testing.T, body map[string]any) {
					input := body["input"].([]any)
					if len(input) != 6 {
						t.Fatalf("third request has %d items, want 6 (user, reasoning, call, output, answer, user)", len(input))
					}
					if diff := cmp.Diff(parseJSON(t, wantSecond), jsonOf(t, input[:4])); diff != "" {
						t.Errorf("third request input (-want +got):\n%s", diff)
					}
				}})
			var calls []string
			l := llm.New(weatherAgent(t, &calls), newResponsesProvider(t, f, &openai.Options{DefaultModel: "o4-mini"}), nil)
			var out []llm.Message
			var err error
			if stream {
				var thinking strings.Builder
				for ev, err2 := range l.Stream(context.Background(), llm.Prompt("Weather in Paris?"), nil) {
					if err2 != nil {
						t.Fatal(err2)
					}
					switch ev.Kind {
					case llm.EventThinkingDelta:
						thinking.WriteString(ev.Text)
					case llm.EventMessage:
						out = append(out, *ev.Message)
					}
				}
				if thinking.String() != "Need the forecast." {
					t.Errorf("streamed thinking %q", thinking.String())
				}
			} else {
				out, err = l.Generate(context.Background(), llm.Prompt("Weather in Paris?"), nil)
				if err != nil {
					t.Fatal(err)
				}
			}
			want := &llm.Thinking{Text: "Need the forecast.", Provider: "openai", ID: "rs_tool", EncryptedContent: "gAAAAB-enc-tool"}
			if len(out) == 0 || len(out[0].Parts) == 0 {
				t.Fatalf("messages %v", out)
			}
			if diff := cmp.Diff(want, out[0].Parts[0]); diff != "" {
				t.Errorf("first assistant part (-want +got):\n%s", diff)
			}
			if _, err := l.Generate(context.Background(), llm.Prompt("thanks"), nil); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// Reasoning that cannot be given back is dropped: thinking of other
// providers, and (stateless) OpenAI reasoning without encrypted content.
// Reasoning without a summary goes back with an empty summary list (the
// API requires the field). With Options.Store the item ID alone refers to
// the stored reasoning.
func TestResponsesReasoningDropped(t *testing.T) {
	call := &llm.ToolCall{ID: "call_1", Name: "weather_forecast", Arguments: json.RawMessage(`{"city":"Paris"}`)}
	msgs := []llm.Message{
		llm.UserText("Weather in Paris?"),
		{Role: llm.RoleAssistant, Parts: []llm.Part{
			&llm.Thinking{Text: "Anthropic's", Signature: "sig", Provider: "anthropic"},
			&llm.Thinking{Text: "old, unmarked", Signature: "sig"},
			&llm.Thinking{RedactedData: "redacted"},
			&llm.Thinking{Text: "no encrypted content", Provider: "openai", ID: "rs_plain"},
			&llm.Thinking{Text: "replayed", Signature: "replay", Provider: "replay"},
			&llm.Thinking{Provider: "openai", ID: "rs_nosummary", EncryptedContent: "gAAAAB-enc"},
			call,
		}},
		{Role: llm.RoleTool, Parts: []llm.Part{&llm.ToolResult{CallID: "call_1", Content: []llm.Part{&llm.Text{Text: "sunny"}}}}},
	}
	want := `[
		{"type": "message", "role": "user", "content": "Weather in Paris?"},
		{"type": "reasoning", "id": "rs_nosummary", "encrypted_content": "gAAAAB-enc", "summary": []},
		{"type": "function_call", "call_id": "call_1", "name": "weather_forecast", "arguments": "{\"city\":\"Paris\"}"},
		{"type": "function_call_output", "call_id": "call_1", "output": "sunny"}
	]`
	f := newResponsesServer(t, reply{fixture: "responses_answer.json", check: func(t *testing.T, body map[string]any) {
		if diff := cmp.Diff(parseJSON(t, want), jsonOf(t, body["input"])); diff != "" {
			t.Errorf("input (-want +got):\n%s", diff)
		}
	}})
	if _, err := newResponsesProvider(t, f, &openai.Options{DefaultModel: "o4-mini"}).Complete(context.Background(), &llm.Request{Messages: msgs}); err != nil {
		t.Fatal(err)
	}

	stored := newResponsesServer(t)
	stored.validate = func(body map[string]any) string { return "" }
	stored.replies = []reply{{fixture: "responses_answer.json", check: func(t *testing.T, body map[string]any) {
		input := body["input"].([]any)
		wantItem := parseJSON(t, `{"type": "reasoning", "id": "rs_plain", "summary": [{"type": "summary_text", "text": "no encrypted content"}]}`)
		if len(input) != 5 {
			t.Fatalf("input has %d items, want 5 (user, 2 reasoning, call, output)", len(input))
		}
		if diff := cmp.Diff(wantItem, jsonOf(t, input[1])); diff != "" {
			t.Errorf("stored reasoning item (-want +got):\n%s", diff)
		}
	}}}
	if _, err := newResponsesProvider(t, stored, &openai.Options{DefaultModel: "o4-mini", Store: true}).Complete(context.Background(), &llm.Request{Messages: msgs}); err != nil {
		t.Fatal(err)
	}
}

// Recording passes the marked reasoning through (the recorded conversation
// still sends it back); the script keeps its text, and replayed thinking is
// marked as the replay provider's, which survives the JSON form.
func TestResponsesReasoningRecordReplay(t *testing.T) {
	wantSecond := `[
		{"type": "message", "role": "user", "content": "Weather in Paris?"},
		{"type": "reasoning", "id": "rs_tool", "encrypted_content": "gAAAAB-enc-tool", "summary": [{"type": "summary_text", "text": "Need the forecast."}]},
		{"type": "function_call", "call_id": "call_paris", "name": "weather_forecast", "arguments": "{\"city\":\"Paris\"}"},
		{"type": "function_call_output", "call_id": "call_paris", "output": "sunny in Paris, 24°C"}
	]`
	f := newResponsesServer(t, reply{body: reasoningCall}, reply{fixture: "responses_answer.json", check: func(t *testing.T, body map[string]any) {
		if diff := cmp.Diff(parseJSON(t, wantSecond), jsonOf(t, body["input"])); diff != "" {
			t.Errorf("second request input (-want +got):\n%s", diff)
		}
	}})
	path := t.TempDir() + "/reasoning.replay.yaml"
	rec := replay.NewRecorder(newResponsesProvider(t, f, &openai.Options{DefaultModel: "o4-mini"}), path)
	var calls []string
	if _, err := llm.New(weatherAgent(t, &calls), rec, nil).Generate(context.Background(), llm.Prompt("Weather in Paris?"), nil); err != nil {
		t.Fatal(err)
	}
	script, err := replay.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := script.Turns[0].Thinking; got != "Need the forecast." {
		t.Errorf("recorded thinking %q", got)
	}
	out, err := llm.New(weatherAgent(t, &calls), replay.New(script, nil), nil).Generate(context.Background(), llm.Prompt("Weather in Paris?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(out)
	if err != nil {
		t.Fatal(err)
	}
	var stored []llm.Message
	if err := json.Unmarshal(data, &stored); err != nil {
		t.Fatal(err)
	}
	want := &llm.Thinking{Text: "Need the forecast.", Signature: "replay", Provider: "replay"}
	if diff := cmp.Diff(want, stored[0].Parts[0]); diff != "" {
		t.Errorf("replayed thinking after a JSON round trip (-want +got):\n%s", diff)
	}
}
