package anthropic

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
)

func json200(file string) *reply { return &reply{file: file} }

func TestCompletePlain(t *testing.T) {
	f := newFakeAPI(t, &reply{file: "plain.json", check: func(t *testing.T, body map[string]any) {
		if got, want := jsonAt(t, body, "system"), `[{"cache_control":{"type":"ephemeral"},"text":"Be brief.","type":"text"}]`; got != want {
			t.Errorf("system = %s, want %s", got, want)
		}
		if got := jsonAt(t, body, "model"); got != `"claude-sonnet-4-6"` {
			t.Errorf("model = %s, want the default model", got)
		}
		if got := jsonAt(t, body, "max_tokens"); got != "4096" {
			t.Errorf("max_tokens = %s, want the default 4096", got)
		}
		if got, want := jsonAt(t, body, "messages"), `[{"content":[{"text":"Hi","type":"text"}],"role":"user"}]`; got != want {
			t.Errorf("messages = %s, want %s", got, want)
		}
		if got, want := jsonAt(t, body, "stop_sequences"), `["END"]`; got != want {
			t.Errorf("stop_sequences = %s, want %s", got, want)
		}
		if got, want := jsonAt(t, body, "metadata"), `{"user_id":"u-42"}`; got != want {
			t.Errorf("metadata = %s, want %s", got, want)
		}
		if _, ok := body["tools"]; ok {
			t.Errorf("tools sent for a request without tools")
		}
	}})
	p := f.provider(nil)
	resp, err := p.Complete(context.Background(), &llm.Request{
		System:        "Be brief.",
		Messages:      llm.Prompt("Hi"),
		Temperature:   llm.Float(0.2), // not accepted by the API any more: dropped
		StopSequences: []string{"END"},
		Metadata:      map[string]string{"user_id": "u-42", "other": "ignored"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := &llm.Response{
		ID:         "msg_01XFDUDYJgAACzvnptvVoYEL",
		Model:      "claude-sonnet-4-6",
		StopReason: llm.StopEndTurn,
		Message:    llm.AssistantText("Hello! How can I help you today?"),
		Usage:      llm.Usage{InputTokens: 12 + 1500 + 2048, OutputTokens: 11, CacheReadTokens: 2048, CacheWriteTokens: 1500},
	}
	if diff := cmp.Diff(want, resp); diff != "" {
		t.Errorf("response (-want +got):\n%s", diff)
	}
	if p.Name() != "anthropic" {
		t.Errorf("Name() = %q", p.Name())
	}
}

func TestCompleteStopReasons(t *testing.T) {
	for _, tc := range []struct {
		file string
		stop llm.StopReason
		text string
	}{
		{"refusal.json", llm.StopRefusal, ""},
		{"max_tokens.json", llm.StopMaxTokens, "Once upon a time, in a land far"},
		{"final_answer.json", llm.StopEndTurn, "It will be sunny in Paris, 21°C."},
	} {
		t.Run(tc.file, func(t *testing.T) {
			f := newFakeAPI(t, json200(tc.file))
			resp, err := f.provider(nil).Complete(context.Background(), &llm.Request{Messages: llm.Prompt("go")})
			if err != nil {
				t.Fatal(err)
			}
			if resp.StopReason != tc.stop || resp.Message.Text() != tc.text {
				t.Errorf("got stop %q text %q, want %q %q", resp.StopReason, resp.Message.Text(), tc.stop, tc.text)
			}
		})
	}
}

func TestStopReasonMapping(t *testing.T) {
	for in, want := range map[sdk.StopReason]llm.StopReason{
		"end_turn": llm.StopEndTurn, "tool_use": llm.StopToolUse, "max_tokens": llm.StopMaxTokens,
		"stop_sequence": llm.StopSequence, "refusal": llm.StopRefusal, "pause_turn": llm.StopPauseTurn,
		"model_context_window_exceeded": llm.StopMaxTokens, "something_new": llm.StopOtherUnknown, "": "",
	} {
		if got := stopReason(in); got != want {
			t.Errorf("stopReason(%q) = %q, want %q", in, got, want)
		}
	}
}

var weatherTool = llm.ToolSpec{
	Name:        "weather_forecast",
	Description: "Forecast for a city",
	InputSchema: json.RawMessage(`{"type":"object","properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city"],"additionalProperties":false}`),
}

func TestCompleteToolCalls(t *testing.T) {
	f := newFakeAPI(t,
		&reply{file: "tool_use.json", check: func(t *testing.T, body map[string]any) {
			want := `[{"cache_control":{"type":"ephemeral"},"description":"Forecast for a city","input_schema":{"additionalProperties":false,"properties":{"city":{"type":"string"},"days":{"type":"integer"}},"required":["city"],"type":"object"},"name":"weather_forecast"}]`
			if got := jsonAt(t, body, "tools"); got != want {
				t.Errorf("tools =\n%s\nwant\n%s", got, want)
			}
			if got, want := jsonAt(t, body, "tool_choice"), `{"disable_parallel_tool_use":true,"type":"auto"}`; got != want {
				t.Errorf("tool_choice = %s, want %s", got, want)
			}
		}},
		json200("parallel_tools.json"),
	)
	p := f.provider(nil)
	resp, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("weather?"), Tools: []llm.ToolSpec{weatherTool}, DisableParallelToolCalls: true})
	if err != nil {
		t.Fatal(err)
	}
	want := llm.Message{Role: llm.RoleAssistant, Parts: []llm.Part{
		&llm.Text{Text: "I'll check the weather in Paris."},
		&llm.ToolCall{ID: "toolu_01A09q90qw90lq917835lq9", Name: "weather_forecast", Arguments: json.RawMessage(`{"city": "Paris", "days": 1}`)},
	}}
	if diff := cmp.Diff(want, resp.Message); diff != "" {
		t.Errorf("message (-want +got):\n%s", diff)
	}
	if resp.StopReason != llm.StopToolUse {
		t.Errorf("stop = %q", resp.StopReason)
	}

	resp, err = p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("weather in Paris and Rome?"), Tools: []llm.ToolSpec{weatherTool}})
	if err != nil {
		t.Fatal(err)
	}
	calls := resp.Message.ToolCalls()
	if len(calls) != 2 || calls[0].ID != "toolu_01Paris" || calls[1].ID != "toolu_02Rome" || string(calls[1].Arguments) != `{"city": "Rome"}` {
		t.Errorf("parallel calls = %+v", calls)
	}
	if _, ok := f.body(1)["tool_choice"]; ok {
		t.Errorf("tool_choice sent for the default (auto, parallel): %s", jsonAt(t, f.body(1), "tool_choice"))
	}
}

func TestToolChoice(t *testing.T) {
	for _, tc := range []struct {
		name   string
		choice llm.ToolChoice
		noPar  bool
		want   string // JSON of tool_choice, "" for absent
	}{
		{"auto", llm.ToolChoice{}, false, ""},
		{"auto-serial", llm.ToolChoice{Mode: llm.ToolChoiceAuto}, true, `{"disable_parallel_tool_use":true,"type":"auto"}`},
		{"required", llm.ToolChoice{Mode: llm.ToolChoiceRequired}, false, `{"type":"any"}`},
		{"required-serial", llm.ToolChoice{Mode: llm.ToolChoiceRequired}, true, `{"disable_parallel_tool_use":true,"type":"any"}`},
		{"none", llm.ToolChoice{Mode: llm.ToolChoiceNone}, false, `{"type":"none"}`},
		{"tool", llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "weather_forecast"}, false, `{"name":"weather_forecast","type":"tool"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := New(&Options{APIKey: "k"})
			params, _, err := p.buildParams(&llm.Request{Messages: llm.Prompt("x"), Tools: []llm.ToolSpec{weatherTool}, ToolChoice: tc.choice, DisableParallelToolCalls: tc.noPar})
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if params.ToolChoice.OfAuto != nil || params.ToolChoice.OfAny != nil || params.ToolChoice.OfTool != nil || params.ToolChoice.OfNone != nil {
				b, _ := json.Marshal(params.ToolChoice)
				got = string(b)
			}
			if got != tc.want {
				t.Errorf("tool_choice = %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRequestErrors(t *testing.T) {
	p := New(&Options{APIKey: "k"})
	for _, tc := range []struct {
		name string
		req  *llm.Request
		want string
	}{
		{"no messages", &llm.Request{}, "anthropic: the request has no messages: pass at least one user message"},
		{"bad effort", &llm.Request{Messages: llm.Prompt("x"), ReasoningEffort: "extreme"}, `anthropic: unknown reasoning effort "extreme": want minimal, low, medium or high`},
		{"bad role", &llm.Request{Messages: []llm.Message{{Role: "system", Parts: []llm.Part{&llm.Text{Text: "x"}}}}}, `anthropic: message 0 has role "system": want user, assistant or tool`},
		{"unknown tool choice", &llm.Request{Messages: llm.Prompt("x"), Tools: []llm.ToolSpec{weatherTool}, ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceTool, Name: "nope"}}, `anthropic: tool choice names tool "nope", which is not among the request's 1 tools`},
		{"array tool schema", &llm.Request{Messages: llm.Prompt("x"), Tools: []llm.ToolSpec{{Name: "t", InputSchema: json.RawMessage(`{"type":"array"}`)}}}, `anthropic: tool "t": the schema's type is "array": Anthropic requires an object schema ("type": "object")`},
		{"tool call in user message", &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{&llm.ToolCall{ID: "c1", Name: "t"}}}}}, `anthropic: message 0 (user) holds tool call "c1": tool calls belong in assistant messages`},
		{"empty", &llm.Request{Messages: []llm.Message{{Role: llm.RoleUser, Parts: []llm.Part{&llm.Text{}}}}}, "anthropic: the request's 1 messages have no content to send"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := p.Complete(context.Background(), tc.req)
			if err == nil || err.Error() != tc.want {
				t.Errorf("error = %v\nwant    %s", err, tc.want)
			}
		})
	}
}

func TestConversationTranslation(t *testing.T) {
	png := []byte("\x89PNG\r\n\x1a\nfake")
	msgs := []llm.Message{
		{Role: llm.RoleUser, Parts: []llm.Part{
			&llm.Text{Text: "Compare these"},
			&llm.Image{Data: png, MIMEType: "image/png"},
			&llm.Image{URL: "https://example.com/cat.jpg"},
			&llm.Image{Data: []byte("<svg/>"), MIMEType: "image/svg+xml"},
		}},
		{Role: llm.RoleAssistant, Parts: []llm.Part{
			&llm.Thinking{Text: "need tools", Signature: "sig-1"},
			&llm.Thinking{RedactedData: "redacted-1"},
			&llm.Thinking{Text: "unsigned reasoning of another provider"},
			&llm.Thinking{Text: "marked", Signature: "sig-2", Provider: "anthropic"},
			&llm.Thinking{Text: "OpenAI reasoning", Provider: "openai", ID: "rs_1", EncryptedContent: "gAAAA-enc"},
			&llm.Thinking{Text: "replayed", Signature: "replay", Provider: "replay"},
			&llm.Text{Text: "Looking."},
			&llm.ToolCall{ID: "call_1", Name: "read", Arguments: json.RawMessage(`{"path":"a.txt"}`)},
			&llm.ToolCall{ID: "call_2", Name: "shot", Arguments: json.RawMessage(`not json`)},
		}},
		// Two tool messages in a row: one user message on the wire.
		{Role: llm.RoleTool, Parts: []llm.Part{&llm.ToolResult{CallID: "call_1", Name: "read", Content: []llm.Part{
			&llm.Text{Text: "hello"},
			&llm.Resource{URI: "file:///a.txt", MIMEType: "text/plain", Text: "file body"},
			&llm.Resource{URI: "file:///b.bin", MIMEType: "application/octet-stream", Blob: []byte{1, 2, 3}},
			&llm.Resource{URI: "file:///c.png", MIMEType: "image/png", Blob: png},
			&llm.Resource{URI: "file:///d.md", Name: "d.md", MIMEType: "text/markdown"},
		}}}},
		{Role: llm.RoleTool, Parts: []llm.Part{&llm.ToolResult{CallID: "call_2", Name: "shot", IsError: true, Content: []llm.Part{
			&llm.Image{Data: png, MIMEType: "image/png"},
			&llm.Text{Text: "partial failure"},
		}}}},
		llm.UserText("and now?"),
	}
	f := newFakeAPI(t, &reply{file: "final_answer.json", check: func(t *testing.T, body map[string]any) {
		b64 := `"iVBORw0KGgpmYWtl"`
		wantUser := `[{"content":[` +
			`{"text":"Compare these","type":"text"},` +
			`{"source":{"data":` + b64 + `,"media_type":"image/png","type":"base64"},"type":"image"},` +
			`{"source":{"type":"url","url":"https://example.com/cat.jpg"},"type":"image"},` +
			`{"text":"[image of type \"image/svg+xml\", 6 bytes: not shown, Anthropic accepts only JPEG, PNG, GIF and WebP]","type":"text"}` +
			`],"role":"user"}`
		wantAssistant := `{"content":[` +
			`{"signature":"sig-1","thinking":"need tools","type":"thinking"},` +
			`{"data":"redacted-1","type":"redacted_thinking"},` +
			`{"signature":"sig-2","thinking":"marked","type":"thinking"},` +
			`{"text":"Looking.","type":"text"},` +
			`{"id":"call_1","input":{"path":"a.txt"},"name":"read","type":"tool_use"},` +
			`{"id":"call_2","input":{},"name":"shot","type":"tool_use"}` +
			`],"role":"assistant"}`
		wantResults := `{"content":[` +
			`{"content":[{"text":"hello","type":"text"},` +
			`{"text":"Resource file:///a.txt (text/plain):\nfile body","type":"text"},` +
			`{"text":"Resource file:///b.bin (application/octet-stream): 3 bytes of binary data, not shown","type":"text"},` +
			`{"text":"Resource file:///c.png (image/png):","type":"text"},` +
			`{"source":{"data":` + b64 + `,"media_type":"image/png","type":"base64"},"type":"image"},` +
			`{"text":"Resource link: file:///d.md (name d.md, type text/markdown)","type":"text"}` +
			`],"tool_use_id":"call_1","type":"tool_result"},` +
			`{"content":[{"source":{"data":` + b64 + `,"media_type":"image/png","type":"base64"},"type":"image"},{"text":"partial failure","type":"text"}],"is_error":true,"tool_use_id":"call_2","type":"tool_result"},` +
			`{"text":"and now?","type":"text"}` +
			`],"role":"user"}]`
		want := wantUser + "," + wantAssistant + "," + wantResults
		if got := jsonAt(t, body, "messages"); got != "["+want[1:] {
			t.Errorf("messages =\n%s\nwant\n%s", got, "["+want[1:])
		}
	}})
	req := &llm.Request{Messages: msgs, Tools: []llm.ToolSpec{
		{Name: "read", InputSchema: json.RawMessage(`{"type":"object","properties":{"path":{"type":"string"}}}`)},
		{Name: "shot"}, // no schema: {"type":"object"}
	}}
	before := cloneRequest(t, req)
	if _, err := f.provider(nil).Complete(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, cloneRequest(t, req)); diff != "" {
		t.Errorf("Complete modified the request (-before +after):\n%s", diff)
	}
}

// cloneRequest returns a deep copy of req through the messages' JSON form.
func cloneRequest(t *testing.T, req *llm.Request) *llm.Request {
	t.Helper()
	b, err := json.Marshal(req.Messages)
	if err != nil {
		t.Fatal(err)
	}
	c := *req
	c.Messages = nil
	if err := json.Unmarshal(b, &c.Messages); err != nil {
		t.Fatal(err)
	}
	c.Tools = append([]llm.ToolSpec(nil), req.Tools...)
	return &c
}

func TestThinking(t *testing.T) {
	f := newFakeAPI(t,
		&reply{file: "thinking.json", check: func(t *testing.T, body map[string]any) {
			if got, want := jsonAt(t, body, "thinking"), `{"budget_tokens":8192,"type":"enabled"}`; got != want {
				t.Errorf("thinking = %s, want %s", got, want)
			}
			if got := jsonAt(t, body, "max_tokens"); got != "12288" {
				t.Errorf("max_tokens = %s, want 4096 + the 8192 budget", got)
			}
		}},
		&reply{file: "plain.json", check: func(t *testing.T, body map[string]any) {
			want := `{"content":[{"signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds","thinking":"The user asks for 27 * 453. 27 * 453 = 12231.","type":"thinking"},` +
				`{"data":"EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB5URj","type":"redacted_thinking"},` +
				`{"text":"27 * 453 = 12,231","type":"text"}],"role":"assistant"}`
			if got := jsonAt(t, body, "messages", 1); got != want {
				t.Errorf("assistant message sent back =\n%s\nwant\n%s", got, want)
			}
			if got := jsonAt(t, body, "thinking"); got != `{"budget_tokens":1024,"type":"enabled"}` {
				t.Errorf("thinking = %s, want the Options.ThinkingBudget floor of 1024", got)
			}
			if got := jsonAt(t, body, "max_tokens"); got != "20000" {
				t.Errorf("max_tokens = %s, want the requested 20000 (above the budget)", got)
			}
		}},
	)
	p := f.provider(&Options{ThinkingBudget: map[llm.ReasoningEffort]int{llm.ReasoningMinimal: 10}})
	resp, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("27 * 453?"), ReasoningEffort: llm.ReasoningMedium, Temperature: llm.Float(0.5)})
	if err != nil {
		t.Fatal(err)
	}
	wantParts := []llm.Part{
		&llm.Thinking{Text: "The user asks for 27 * 453. 27 * 453 = 12231.", Signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds", Provider: "anthropic"},
		&llm.Thinking{RedactedData: "EmwKAhgBEgy3va3pzix/LafPsn4aDFIT2Xlxh0L5L8rLVyIwxtE3rAFBa8cr3qpPkNRj2YfWXGmKDxH4mPnZ5sQ7vB5URj", Provider: "anthropic"},
		&llm.Text{Text: "27 * 453 = 12,231"},
	}
	if diff := cmp.Diff(wantParts, resp.Message.Parts); diff != "" {
		t.Errorf("parts (-want +got):\n%s", diff)
	}
	if resp.Usage.ReasoningTokens != 150 || resp.Usage.OutputTokens != 180 {
		t.Errorf("usage = %+v, want 150 reasoning of 180 output tokens", resp.Usage)
	}
	conv := append(llm.Prompt("27 * 453?"), resp.Message, llm.UserText("thanks"))
	if _, err := p.Complete(context.Background(), &llm.Request{Messages: conv, ReasoningEffort: llm.ReasoningMinimal, MaxTokens: 20000}); err != nil {
		t.Fatal(err)
	}
}

func TestThinkingWithForcedToolChoice(t *testing.T) {
	p := New(&Options{APIKey: "k", ReasoningEffort: llm.ReasoningHigh})
	params, _, err := p.buildParams(&llm.Request{Messages: llm.Prompt("x"), Tools: []llm.ToolSpec{weatherTool}, ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceRequired}})
	if err != nil {
		t.Fatal(err)
	}
	if params.Thinking.OfEnabled != nil || params.MaxTokens != DefaultMaxTokens {
		t.Errorf("forced tool choice kept thinking: %+v, max_tokens %d", params.Thinking.OfEnabled, params.MaxTokens)
	}
	params, _, err = p.buildParams(&llm.Request{Messages: llm.Prompt("x"), Tools: []llm.ToolSpec{weatherTool}})
	if err != nil {
		t.Fatal(err)
	}
	if params.Thinking.OfEnabled == nil || params.Thinking.OfEnabled.BudgetTokens != 16384 {
		t.Errorf("Options.ReasoningEffort high did not enable thinking with the 16384 budget: %+v", params.Thinking.OfEnabled)
	}

	// The loop's last iteration (tool choice none) of a turn that started
	// without thinking: thinking stays off until the turn ends.
	call := &llm.ToolCall{ID: "c1", Name: "weather_forecast", Arguments: json.RawMessage(`{}`)}
	result := llm.Message{Role: llm.RoleTool, Parts: []llm.Part{&llm.ToolResult{CallID: "c1", Content: []llm.Part{&llm.Text{Text: "sunny"}}}}}
	unthought := []llm.Message{llm.UserText("x"), {Role: llm.RoleAssistant, Parts: []llm.Part{call}}, result}
	params, _, err = p.buildParams(&llm.Request{Messages: unthought, Tools: []llm.ToolSpec{weatherTool}, ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceNone}})
	if err != nil {
		t.Fatal(err)
	}
	if params.Thinking.OfEnabled != nil {
		t.Errorf("thinking enabled in the middle of a tool-use turn that started without it")
	}
	thought := []llm.Message{llm.UserText("x"), {Role: llm.RoleAssistant, Parts: []llm.Part{&llm.Thinking{Text: "t", Signature: "s"}, call}}, result}
	params, _, err = p.buildParams(&llm.Request{Messages: thought, Tools: []llm.ToolSpec{weatherTool}, ToolChoice: llm.ToolChoice{Mode: llm.ToolChoiceNone}})
	if err != nil {
		t.Fatal(err)
	}
	if params.Thinking.OfEnabled == nil {
		t.Errorf("thinking disabled in a tool-use turn that started with it")
	}
	// A turn begun on OpenAI: its reasoning is not sent, so the turn has no
	// Anthropic thinking and thinking stays off until it ends.
	foreign := []llm.Message{llm.UserText("x"), {Role: llm.RoleAssistant, Parts: []llm.Part{&llm.Thinking{Text: "t", Provider: "openai", ID: "rs_1", EncryptedContent: "enc"}, call}}, result}
	params, _, err = p.buildParams(&llm.Request{Messages: foreign, Tools: []llm.ToolSpec{weatherTool}})
	if err != nil {
		t.Fatal(err)
	}
	if params.Thinking.OfEnabled != nil {
		t.Errorf("thinking enabled in a tool-use turn whose only thinking is OpenAI's")
	}
}

func TestErrors(t *testing.T) {
	for _, tc := range []struct {
		name      string
		rep       *reply
		code      int
		after     time.Duration
		retryable bool
		msg       string
	}{
		{"429", &reply{file: "error_429.json", status: 429, header: map[string]string{"Retry-After": "7"}}, 429, 7 * time.Second, true,
			"anthropic: rate limited (HTTP 429: Number of request tokens has exceeded your per-minute rate limit)"},
		{"429-ms", &reply{file: "error_429.json", status: 429, header: map[string]string{"Retry-After-Ms": "1500", "Retry-After": "2"}}, 429, 1500 * time.Millisecond, true, "anthropic: rate limited (HTTP 429"},
		{"500", &reply{file: "error_500.json", status: 500}, 500, 0, true, "anthropic: server error (HTTP 500: Internal server error)"},
		{"529", &reply{file: "error_529.json", status: 529}, 529, 0, true, "anthropic: the API is overloaded (HTTP 529: Overloaded)"},
		{"400", &reply{file: "error_400.json", status: 400}, 400, 0, false,
			"anthropic: request rejected (HTTP 400: messages: text content blocks must be non-empty)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAPI(t, tc.rep)
			_, err := f.provider(nil).Complete(context.Background(), &llm.Request{Messages: llm.Prompt("x")})
			checkStatusError(t, err, tc.code, tc.after, tc.retryable, tc.msg)
			var ae *sdk.Error
			if !errors.As(err, &ae) || ae.StatusCode != tc.code {
				t.Errorf("error does not wrap the SDK's *Error: %v", err)
			}
			if strings.Contains(err.Error(), testKey) {
				t.Errorf("error message contains the API key: %v", err)
			}
		})
	}
}

func checkStatusError(t *testing.T, err error, code int, after time.Duration, retryable bool, msg string) {
	t.Helper()
	var se llm.HTTPStatusError
	if !errors.As(err, &se) {
		t.Fatalf("error %v (%T) is not an llm.HTTPStatusError", err, err)
	}
	if se.StatusCode() != code || se.RetryAfter() != after {
		t.Errorf("status %d, retry after %v; want %d, %v", se.StatusCode(), se.RetryAfter(), code, after)
	}
	if llm.Retryable(err) != retryable {
		t.Errorf("Retryable = %v, want %v", !retryable, retryable)
	}
	if !strings.HasPrefix(err.Error(), msg) {
		t.Errorf("error = %q\nwant prefix %q", err, msg)
	}
}

func TestWrongAPIKey(t *testing.T) {
	f := newFakeAPI(t)
	_, err := f.provider(&Options{APIKey: wrongKey}).Complete(context.Background(), &llm.Request{Messages: llm.Prompt("x")})
	checkStatusError(t, err, 401, 0, false, "anthropic: authentication failed (HTTP 401: invalid x-api-key): check anthropic.api_key or ANTHROPIC_API_KEY")
	if strings.Contains(err.Error(), wrongKey) {
		t.Errorf("error message contains the API key: %v", err)
	}
}

func TestNoAPIKey(t *testing.T) {
	t.Setenv("ANTHROPIC_API_KEY", "")
	p := New(&Options{BaseURL: "http://127.0.0.1:1"})
	want := "anthropic: no Anthropic API key: set Options.APIKey, anthropic.api_key in the config, or the ANTHROPIC_API_KEY environment variable"
	_, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("x")})
	if !errors.Is(err, ErrNoAPIKey) || err.Error() != want {
		t.Errorf("Complete error = %v\nwant %s", err, want)
	}
	for _, err := range p.Stream(context.Background(), &llm.Request{Messages: llm.Prompt("x")}) {
		if !errors.Is(err, ErrNoAPIKey) {
			t.Errorf("Stream error = %v", err)
		}
	}
	_, err = FromConfig(&config.ProviderSettings{DefaultModel: "claude-haiku-4-5"}, nil)
	want = "anthropic: no Anthropic API key: set anthropic.api_key in mcp_agent.secrets.yaml (or mcp_agent.config.yaml), or the ANTHROPIC_API_KEY environment variable"
	if !errors.Is(err, ErrNoAPIKey) || err.Error() != want {
		t.Errorf("FromConfig error = %v\nwant %s", err, want)
	}
}

func TestFromConfig(t *testing.T) {
	f := newFakeAPI(t, &reply{file: "plain.json", check: func(t *testing.T, body map[string]any) {
		if got := jsonAt(t, body, "model"); got != `"claude-haiku-4-5"` {
			t.Errorf("model = %s, want default_model from config", got)
		}
		if got := jsonAt(t, body, "max_tokens"); got != "3072" {
			t.Errorf("max_tokens = %s, want 1024 from config + the 2048 low budget", got)
		}
		if got := jsonAt(t, body, "thinking"); got != `{"budget_tokens":2048,"type":"enabled"}` {
			t.Errorf("thinking = %s, want reasoning_effort low from config", got)
		}
	}})
	p, err := FromConfig(&config.ProviderSettings{
		APIKey: testKey, BaseURL: f.srv.URL, DefaultModel: "claude-haiku-4-5", ReasoningEffort: "Low", MaxTokens: 1024,
		APIVersion: "2023-06-01", Headers: map[string]string{"X-Gateway": "on"}, DefaultHeaders: map[string]string{"X-Team": "a", "X-Gateway": "off"},
	}, &Options{DisablePromptCaching: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Complete(context.Background(), &llm.Request{Messages: llm.Prompt("hi")}); err != nil {
		t.Fatal(err)
	}
	h := f.headers[0]
	if h.Get("X-Gateway") != "on" || h.Get("X-Team") != "a" || h.Get("Anthropic-Version") != "2023-06-01" {
		t.Errorf("headers: X-Gateway %q X-Team %q anthropic-version %q", h.Get("X-Gateway"), h.Get("X-Team"), h.Get("Anthropic-Version"))
	}

	_, err = FromConfig(&config.ProviderSettings{APIKey: "k", ReasoningEffort: "extreme"}, nil)
	if want := `anthropic: config key anthropic.reasoning_effort is "extreme": want minimal, low, medium or high`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestPromptCachingOff(t *testing.T) {
	p := New(&Options{APIKey: "k", DisablePromptCaching: true})
	params, _, err := p.buildParams(&llm.Request{System: "s", Messages: llm.Prompt("x"), Tools: []llm.ToolSpec{weatherTool}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(params)
	if strings.Contains(string(b), "cache_control") {
		t.Errorf("cache_control sent with DisablePromptCaching: %s", b)
	}
}

func TestConcurrentCompletes(t *testing.T) {
	const n = 8
	replies := make([]*reply, n)
	for i := range replies {
		replies[i] = json200("plain.json")
	}
	f := newFakeAPI(t, replies...)
	p := f.provider(nil)
	req := &llm.Request{System: "s", Messages: llm.Prompt("hi"), Tools: []llm.ToolSpec{weatherTool}}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for range n {
		wg.Go(func() {
			_, err := p.Complete(context.Background(), req)
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

func TestCompleteLargeMaxTokensStreams(t *testing.T) {
	// max_tokens too large for a non-streaming call: the provider streams.
	f := newFakeAPI(t, json200("stream_text.sse"))
	resp, err := f.provider(nil).Complete(context.Background(), &llm.Request{Messages: llm.Prompt("hi"), MaxTokens: 64000})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Message.Text() != "Hello, world!" {
		t.Errorf("text = %q", resp.Message.Text())
	}
}
