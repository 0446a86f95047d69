package anthropic

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"testing"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// weatherAgent is an llm.ToolSource with one MCP-shaped tool whose result
// holds text, an image and an embedded resource.
type weatherAgent struct {
	mu    sync.Mutex
	calls []string
}

func (*weatherAgent) Name() string        { return "weather" }
func (*weatherAgent) Instruction() string { return "You forecast the weather." }

func (*weatherAgent) ListTools(context.Context) ([]*mcp.Tool, error) {
	return []*mcp.Tool{{Name: weatherTool.Name, Description: weatherTool.Description, InputSchema: weatherTool.InputSchema}}, nil
}

func (a *weatherAgent) CallTool(_ context.Context, name string, args json.RawMessage) (*mcp.CallToolResult, error) {
	var in struct{ City string }
	if err := json.Unmarshal(args, &in); err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.calls = append(a.calls, name+" "+in.City)
	a.mu.Unlock()
	return &mcp.CallToolResult{Content: []mcp.Content{
		&mcp.TextContent{Text: "sunny, 21°C in " + in.City},
		&mcp.ImageContent{Data: []byte("GIF89a"), MIMEType: "image/gif"},
		&mcp.EmbeddedResource{Resource: &mcp.ResourceContents{URI: "weather://" + strings.ToLower(in.City), MIMEType: "application/json", Text: `{"t":21}`}},
	}}, nil
}

// toolResultsOf returns, for each tool_result block of the request's last
// user message, "tool_use_id: content JSON".
func toolResultsOf(t *testing.T, body map[string]any) []string {
	t.Helper()
	msgs := body["messages"].([]any)
	last := msgs[len(msgs)-1].(map[string]any)
	if last["role"] != "user" {
		t.Fatalf("last message is %v, want user", last["role"])
	}
	var out []string
	for _, b := range last["content"].([]any) {
		bm := b.(map[string]any)
		if bm["type"] == "tool_result" {
			c, _ := json.Marshal(bm["content"])
			out = append(out, bm["tool_use_id"].(string)+": "+string(c))
		}
	}
	return out
}

func parisResult(id, city string) string {
	return id + `: [{"text":"sunny, 21°C in ` + city + `","type":"text"},` +
		`{"source":{"data":"R0lGODlh","media_type":"image/gif","type":"base64"},"type":"image"},` +
		`{"text":"Resource weather://` + strings.ToLower(city) + ` (application/json):\n{\"t\":21}","type":"text"}]`
}

func TestToolLoopGenerate(t *testing.T) {
	f := newFakeAPI(t,
		&reply{file: "tool_use.json", check: func(t *testing.T, body map[string]any) {
			if got := jsonAt(t, body, "system", 0, "text"); got != `"You forecast the weather."` {
				t.Errorf("system = %s, want the agent's instruction", got)
			}
		}},
		&reply{file: "final_answer.json", check: func(t *testing.T, body map[string]any) {
			if diff := cmp.Diff([]string{parisResult("toolu_01A09q90qw90lq917835lq9", "Paris")}, toolResultsOf(t, body)); diff != "" {
				t.Errorf("tool results sent back (-want +got):\n%s", diff)
			}
			if got := jsonAt(t, body, "messages", 1, "content", 1, "id"); got != `"toolu_01A09q90qw90lq917835lq9"` {
				t.Errorf("second request does not replay the tool call: %s", got)
			}
		}},
	)
	agent := &weatherAgent{}
	l := llm.New(agent, f.provider(nil), nil)
	out, err := l.Generate(context.Background(), llm.Prompt("Weather in Paris?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := llm.FinalText(out); got != "It will be sunny in Paris, 21°C." {
		t.Errorf("answer = %q", got)
	}
	if diff := cmp.Diff([]string{"weather_forecast Paris"}, agent.calls); diff != "" {
		t.Errorf("tool calls (-want +got):\n%s", diff)
	}
	u := l.Usage().Report(nil)
	if u.Calls != 2 || u.Usage.InputTokens != 420+520+400 || u.Usage.CacheReadTokens != 400 {
		t.Errorf("usage report: %d calls, %+v", u.Calls, u.Usage)
	}
}

func TestToolLoopStream(t *testing.T) {
	f := newFakeAPI(t,
		json200("stream_tools.sse"),
		&reply{file: "stream_text.sse", check: func(t *testing.T, body map[string]any) {
			want := []string{parisResult("toolu_01Paris", "Paris"), parisResult("toolu_02Rome", "Rome")}
			if diff := cmp.Diff(want, toolResultsOf(t, body)); diff != "" {
				t.Errorf("tool results sent back (-want +got):\n%s", diff)
			}
		}},
	)
	agent := &weatherAgent{}
	l := llm.New(agent, f.provider(nil), nil)
	var text strings.Builder
	var final *llm.Message
	for ev, err := range l.Stream(context.Background(), llm.Prompt("Paris and Rome?"), nil) {
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
	if text.String() != "Checking both cities.Hello, world!" {
		t.Errorf("streamed text = %q", text.String())
	}
	if final == nil || final.Text() != "Hello, world!" {
		t.Errorf("final = %+v", final)
	}
	if len(agent.calls) != 2 {
		t.Errorf("tool calls = %v, want Paris and Rome", agent.calls)
	}
}

type Forecast struct {
	City         string   `json:"city"`
	TemperatureC int      `json:"temperature_c"`
	Conditions   []string `json:"conditions"`
}

func TestGenerateStructured(t *testing.T) {
	want := Forecast{City: "Paris", TemperatureC: 21, Conditions: []string{"sunny", "windy"}}
	t.Run("no tools", func(t *testing.T) {
		f := newFakeAPI(t, &reply{file: "structured.json", check: func(t *testing.T, body map[string]any) {
			if got := jsonAt(t, body, "tool_choice"); got != `{"disable_parallel_tool_use":true,"name":"Forecast","type":"tool"}` {
				t.Errorf("tool_choice = %s, want the forced output tool", got)
			}
			if got := jsonAt(t, body, "tools", 0, "name"); got != `"Forecast"` {
				t.Errorf("output tool = %s", got)
			}
			if got := jsonAt(t, body, "tools", 0, "input_schema", "required"); got != `["city","temperature_c","conditions"]` {
				t.Errorf("output tool schema required = %s", got)
			}
		}})
		got, err := llm.GenerateStructured[Forecast](context.Background(), llm.New(nil, f.provider(nil), nil), llm.Prompt("Forecast for Paris as JSON"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("with tools", func(t *testing.T) {
		f := newFakeAPI(t,
			&reply{file: "tool_use.json", check: func(t *testing.T, body map[string]any) {
				if got := jsonAt(t, body, "tool_choice"); got != `{"type":"any"}` {
					t.Errorf("tool_choice = %s, want any (a real tool or the output tool)", got)
				}
				if got := jsonAt(t, body, "tools", 1, "name"); got != `"Forecast"` {
					t.Errorf("tools[1] = %s, want the output tool after the agent's tools", got)
				}
			}},
			&reply{file: "structured.json", check: func(t *testing.T, body map[string]any) {
				if n := len(toolResultsOf(t, body)); n != 1 {
					t.Errorf("%d tool results sent back, want 1", n)
				}
			}},
		)
		l := llm.New(&weatherAgent{}, f.provider(nil), nil)
		got, err := llm.GenerateStructured[Forecast](context.Background(), l, llm.Prompt("Forecast for Paris"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	})
	t.Run("stream", func(t *testing.T) {
		f := newFakeAPI(t, json200("stream_structured.sse"))
		schema := &llm.ResponseSchema{Name: "Forecast", Schema: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"}}}`)}
		texts, _, resp, err := collect(t, f.provider(nil).Stream(context.Background(), &llm.Request{Messages: llm.Prompt("x"), ResponseSchema: schema}))
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Join(texts, ""); got != `{"city": "Paris", "temperature_c": 21, "conditions": ["sunny"]}` {
			t.Errorf("streamed text = %s", got)
		}
		wantMsg := llm.AssistantText(`{"city":"Paris","temperature_c":21,"conditions":["sunny"]}`)
		if diff := cmp.Diff(wantMsg, resp.Message); diff != "" || resp.StopReason != llm.StopEndTurn {
			t.Errorf("stop %q, message (-want +got):\n%s", resp.StopReason, diff)
		}
	})
}

func TestStructuredRequest(t *testing.T) {
	schema := &llm.ResponseSchema{Name: "Answer", Schema: json.RawMessage(`{"type":"object","properties":{"a":{"type":"string"}}}`), Strict: true}
	for _, tc := range []struct {
		name       string
		req        llm.Request
		effort     llm.ReasoningEffort
		choice     string // tool_choice JSON
		lastTool   string // name of the last tool, "" for none
		system     string // substring of the system prompt
		noThinking bool
	}{
		{"forced", llm.Request{}, "", `{"name":"Answer","disable_parallel_tool_use":true,"type":"tool"}`, "Answer", "", true},
		{"last iteration", llm.Request{Tools: []llm.ToolSpec{weatherTool}, ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceNone}}, "",
			`{"name":"Answer","disable_parallel_tool_use":true,"type":"tool"}`, "Answer", "", true},
		{"named tool", llm.Request{Tools: []llm.ToolSpec{weatherTool}, ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "weather_forecast"}}, "",
			`{"name":"weather_forecast","type":"tool"}`, "Answer", "", true},
		{"thinking", llm.Request{Tools: []llm.ToolSpec{weatherTool}}, llm.ReasoningLow, `{"type":"auto"}`, "Answer",
			"give it by calling the Answer tool", false},
		{"thinking last iteration", llm.Request{Tools: []llm.ToolSpec{weatherTool}, ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceNone}}, llm.ReasoningLow,
			`{"type":"none"}`, "weather_forecast", `Reply with only a JSON value that conforms to this JSON Schema, with no other text:
{"type":"object","properties":{"a":{"type":"string"}}}`, false},
		{"thinking last iteration, no tools", llm.Request{ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceNone}}, llm.ReasoningLow,
			`null`, "", "Reply with only a JSON value", false},
		{"name collision", llm.Request{Tools: []llm.ToolSpec{{Name: "Answer"}}}, "", `{"type":"any"}`, "answer_Answer", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			req.Messages = llm.Prompt("x")
			req.System = "Base."
			req.ResponseSchema = schema
			req.ReasoningEffort = tc.effort
			params, _, err := New(&Options{APIKey: "k"}).buildParams(&req)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := json.Marshal(params.ToolChoice)
			if string(b) != tc.choice {
				t.Errorf("tool_choice = %s, want %s", b, tc.choice)
			}
			if tc.lastTool == "" {
				if len(params.Tools) != 0 {
					t.Errorf("%d tools sent, want none", len(params.Tools))
				}
			} else if last := params.Tools[len(params.Tools)-1].OfTool; last.Name != tc.lastTool {
				t.Errorf("last tool = %s, want %s", last.Name, tc.lastTool)
			} else if last.Name == "Answer" && !last.Strict.Value {
				t.Errorf("output tool is not strict although the schema asks for it")
			}
			if sys := params.System[0].Text; !strings.HasPrefix(sys, "Base.") || !strings.Contains(sys, tc.system) {
				t.Errorf("system = %q, want it to contain %q", sys, tc.system)
			}
			if (params.Thinking.OfEnabled == nil) != tc.noThinking {
				t.Errorf("thinking = %+v, want enabled %v", params.Thinking.OfEnabled, !tc.noThinking)
			}
		})
	}
}

func messageOf(t *testing.T, js string) *sdk.Message {
	t.Helper()
	var m sdk.Message
	if err := json.Unmarshal([]byte(js), &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func TestStructuredResponse(t *testing.T) {
	t.Run("wrapped array schema", func(t *testing.T) {
		p := New(&Options{APIKey: "k"})
		params, pl, err := p.buildParams(&llm.Request{Messages: llm.Prompt("x"), ResponseSchema: &llm.ResponseSchema{Name: "list", Schema: json.RawMessage(`{"type":"array","items":{"type":"integer"}}`)}})
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(params.Tools[0].OfTool.InputSchema)
		if want := `{"properties":{"value":{"items":{"type":"integer"},"type":"array"}},"required":["value"],"type":"object"}`; string(b) != want {
			t.Errorf("input_schema = %s, want %s", b, want)
		}
		resp := pl.response(messageOf(t, `{"id":"m","content":[{"type":"tool_use","id":"t1","name":"list","input":{"value":[1, 2, 3]}}],"stop_reason":"tool_use"}`))
		if diff := cmp.Diff(llm.AssistantText("[1,2,3]"), resp.Message); diff != "" || resp.StopReason != llm.StopEndTurn {
			t.Errorf("stop %q, message (-want +got):\n%s", resp.StopReason, diff)
		}
	})
	t.Run("output next to a real call", func(t *testing.T) {
		pl := &plan{outputTool: "Answer"}
		resp := pl.response(messageOf(t, `{"content":[{"type":"text","text":"x"},{"type":"tool_use","id":"t1","name":"weather_forecast","input":{"city":"Oslo"}},{"type":"tool_use","id":"t2","name":"Answer","input":{"a":"b"}}],"stop_reason":"tool_use"}`))
		want := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{&llm.Text{Text: "x"}, &llm.ToolCall{ID: "t1", Name: "weather_forecast", Arguments: json.RawMessage(`{"city":"Oslo"}`)}}}
		if diff := cmp.Diff(want, resp.Message); diff != "" || resp.StopReason != llm.StopToolUse {
			t.Errorf("stop %q, message (-want +got):\n%s", resp.StopReason, diff)
		}
	})
	t.Run("thinking kept", func(t *testing.T) {
		pl := &plan{outputTool: "Answer"}
		resp := pl.response(messageOf(t, `{"content":[{"type":"thinking","thinking":"hm","signature":"s"},{"type":"text","text":"Sure:"},{"type":"tool_use","id":"t2","name":"Answer","input":{"a": "b"}}],"stop_reason":"tool_use"}`))
		want := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{&llm.Thinking{Text: "hm", Signature: "s", Provider: "anthropic"}, &llm.Text{Text: `{"a":"b"}`}}}
		if diff := cmp.Diff(want, resp.Message); diff != "" {
			t.Errorf("message (-want +got):\n%s", diff)
		}
	})
}
