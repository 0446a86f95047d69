package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
)

type weatherIn struct {
	City    string   `json:"city" jsonschema:"the city to report on"`
	Days    int      `json:"days,omitempty" jsonschema:"forecast length in days"`
	Units   string   `json:"units,omitempty"`
	Options *options `json:"options,omitempty"`
	Tags    []tag    `json:"tags,omitempty"`
}

type options struct {
	Detail int `json:"detail"`
}

type tag struct {
	Name string `json:"name"`
}

type weatherOut struct {
	City    string `json:"city"`
	Days    int    `json:"days"`
	Summary string `json:"summary"`
}

func jsonMap(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestFunctionToolSchema(t *testing.T) {
	w := agent.NewTool("weather", "Report the weather.", func(ctx context.Context, in weatherIn) (weatherOut, error) {
		return weatherOut{}, nil
	})
	def := w.Definition()
	if def.Name != "weather" || def.Description != "Report the weather." || w.Name() != "weather" {
		t.Errorf("Definition name, description = %q, %q", def.Name, def.Description)
	}
	wantIn := jsonMap(t, `{
		"type": "object",
		"properties": {
			"city": {"type": "string", "description": "the city to report on"},
			"days": {"type": "integer", "description": "forecast length in days"},
			"units": {"type": "string"},
			"options": {"type": ["null", "object"], "properties": {"detail": {"type": "integer"}}, "required": ["detail"], "additionalProperties": false},
			"tags": {"type": ["null", "array"], "items": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"], "additionalProperties": false}}
		},
		"required": ["city"],
		"additionalProperties": false
	}`)
	if diff := cmp.Diff(wantIn, def.InputSchema); diff != "" {
		t.Errorf("InputSchema (-want +got):\n%s", diff)
	}
	wantOut := jsonMap(t, `{
		"type": "object",
		"properties": {"city": {"type": "string"}, "days": {"type": "integer"}, "summary": {"type": "string"}},
		"required": ["city", "days", "summary"],
		"additionalProperties": false
	}`)
	if diff := cmp.Diff(wantOut, def.OutputSchema); diff != "" {
		t.Errorf("OutputSchema (-want +got):\n%s", diff)
	}
	// Outputs that are not objects have no output schema.
	s := agent.NewTool("s", "", func(context.Context, struct{}) (string, error) { return "", nil })
	n := agent.NewTool("n", "", func(context.Context, map[string]int) ([]int, error) { return nil, nil })
	for _, tool := range []agent.Tool{s, n} {
		if d := tool.Definition(); d.OutputSchema != nil {
			t.Errorf("%s: OutputSchema = %v, want none", d.Name, d.OutputSchema)
		}
	}
	if (agent.Tool{}).Definition() != nil || (agent.Tool{}).Name() != "" {
		t.Error("zero Tool has a definition")
	}
}

func TestFunctionToolValidation(t *testing.T) {
	var called int
	w := agent.NewTool("weather", "", func(ctx context.Context, in weatherIn) (weatherOut, error) {
		called++
		return weatherOut{City: in.City, Days: in.Days, Summary: "sunny"}, nil
	})
	a := mustNew(t, agent.Config{Name: "x", Tools: []agent.Tool{w}}, nil)
	tests := []struct{ args, want string }{
		{``, `invalid arguments for tool "weather": required: missing properties: ["city"]`},
		{`{}`, `invalid arguments for tool "weather": required: missing properties: ["city"]`},
		{`{"city": 3}`, `invalid arguments for tool "weather": field "city": type: 3 has type "integer", want "string"`},
		{`{"city": "Oslo", "days": "3"}`, `invalid arguments for tool "weather": field "days": type: 3 has type "string", want "integer"`},
		{`{"city": "Oslo", "days": 1.5}`, `invalid arguments for tool "weather": field "days": type: 1.5 has type "number", want "integer"`},
		{`{"city": "Oslo", "extra": 1}`, `invalid arguments for tool "weather": unexpected additional properties ["extra"]`},
		{`{"city": "Oslo", "options": {"detail": "high"}}`, `invalid arguments for tool "weather": field "options.detail": type: high has type "string", want "integer"`},
		{`{"city": "Oslo", "tags": [{"name": 1}]}`, `invalid arguments for tool "weather": field "tags[].name": type: 1 has type "integer", want "string"`},
		{`[1, 2]`, `invalid arguments for tool "weather": arguments must be a JSON object: json: cannot unmarshal array into Go value of type map[string]interface {}`},
		{`{"city": `, `invalid arguments for tool "weather": arguments must be a JSON object: unexpected end of JSON input`},
	}
	for _, tt := range tests {
		res := call(t, a, "weather", tt.args)
		if !res.IsError || text(res) != tt.want {
			t.Errorf("CallTool(weather, %s) = IsError %v, %q\nwant %q", tt.args, res.IsError, text(res), tt.want)
		}
	}
	if called != 0 {
		t.Errorf("the function ran %d times on invalid arguments", called)
	}

	res := call(t, a, "weather", `{"city": "Oslo", "days": 2}`)
	want := `{"city":"Oslo","days":2,"summary":"sunny"}`
	if res.IsError || text(res) != want {
		t.Errorf("CallTool(weather) = %v %q, want %s", res.IsError, text(res), want)
	}
	if sc, _ := res.StructuredContent.(json.RawMessage); string(sc) != want {
		t.Errorf("StructuredContent = %s, want %s", res.StructuredContent, want)
	}
}

func TestFunctionToolResults(t *testing.T) {
	image := &mcp.CallToolResult{Content: []mcp.Content{&mcp.ImageContent{Data: []byte{1}, MIMEType: "image/png"}}}
	tools := []agent.Tool{
		agent.NewTool("greet", "", func(_ context.Context, in struct {
			Name string `json:"name,omitempty"`
		}) (string, error) {
			return "hello " + in.Name, nil
		}),
		agent.NewTool("fail", "", func(context.Context, struct{}) (string, error) {
			return "", errors.New("the database is down; try again later")
		}),
		agent.NewTool("image", "", func(context.Context, any) (*mcp.CallToolResult, error) { return image, nil }),
		agent.NewTool("echo", "", func(_ context.Context, in any) (any, error) { return in, nil }),
		agent.NewTool("list", "", func(_ context.Context, in map[string]int) ([]int, error) { return []int{in["a"], in["b"]}, nil }),
		agent.NewTool("nilmap", "", func(context.Context, struct{}) (map[string]int, error) { return nil, nil }),
		agent.NewTool("nilptr", "", func(context.Context, struct{}) (*weatherOut, error) { return nil, nil }),
		agent.NewTool("block", "", func(ctx context.Context, in struct{}) (string, error) {
			<-ctx.Done()
			return "", ctx.Err()
		}),
	}
	a := mustNew(t, agent.Config{Name: "x", Tools: tools}, nil)
	tests := []struct {
		name, args, want string
		isError          bool
	}{
		{"greet", `{"name":"Ada"}`, "hello Ada", false},
		{"greet", ``, "hello ", false},
		{"fail", `{}`, "the database is down; try again later", true},
		{"echo", `{"x":[1,"two"]}`, `{"x":[1,"two"]}`, false},
		{"list", `{"a":1,"b":2}`, `[1,2]`, false},
		{"nilmap", ``, `{}`, false},
		{"nilptr", ``, `{"city":"","days":0,"summary":""}`, false},
	}
	for _, tt := range tests {
		res := call(t, a, tt.name, tt.args)
		if res.IsError != tt.isError || text(res) != tt.want {
			t.Errorf("CallTool(%s, %s) = IsError %v %q, want %v %q", tt.name, tt.args, res.IsError, text(res), tt.isError, tt.want)
		}
	}
	if res := call(t, a, "image", ""); res != image {
		t.Errorf("a *mcp.CallToolResult output is not returned as is: %v", res)
	}
	if res := call(t, a, "list", `{"a":1}`); res.StructuredContent != nil {
		t.Errorf("array output has structured content %v", res.StructuredContent)
	}
	// An error while the caller's context is done is the caller's error.
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if res, err := a.CallTool(ctx, "block", nil); !errors.Is(err, context.Canceled) {
		t.Errorf("CallTool with a cancelled context = %v, %v; want context.Canceled", res, err)
	}
}

func TestHumanInput(t *testing.T) {
	var got agent.HumanInputRequest
	a := mustNew(t, agent.Config{Name: "helper", HumanInput: func(ctx context.Context, req agent.HumanInputRequest) (string, error) {
		got = req
		if req.Prompt == "fail" {
			return "", errors.New("console closed")
		}
		return "blue", nil
	}}, nil)

	tools, err := a.ListTools(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(tools) != 1 || tools[0].Name != agent.HumanInputToolName {
		t.Fatalf("ListTools = %v, want only the human input tool", toolNames(tools))
	}
	if req := tools[0].InputSchema.(map[string]any)["required"]; !cmp.Equal(req, []any{"prompt"}) {
		t.Errorf("human input schema requires %v, want [prompt]", req)
	}

	res := call(t, a, agent.HumanInputToolName, `{"prompt":"Favourite colour?","description":"for the form","timeout_seconds":1.5}`)
	if res.IsError || text(res) != "blue" {
		t.Errorf("CallTool(human input) = %v %q", res.IsError, text(res))
	}
	if !strings.HasPrefix(got.RequestID, "hi_") || len(got.RequestID) < 10 {
		t.Errorf("RequestID = %q, want hi_ + random", got.RequestID)
	}
	got.RequestID = ""
	want := agent.HumanInputRequest{Prompt: "Favourite colour?", Description: "for the form", AgentName: "helper", Timeout: 1500 * time.Millisecond}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}

	for _, tt := range []struct{ args, want string }{
		{`{"prompt":"fail"}`, "human input: console closed"},
		{`{}`, `invalid arguments for tool "__human_input__": required: missing properties: ["prompt"]`},
		{`{"prompt":"x","timeout_seconds":-1}`, "timeout_seconds is -1; it must be 0 or more"},
	} {
		res := call(t, a, agent.HumanInputToolName, tt.args)
		if !res.IsError || text(res) != tt.want {
			t.Errorf("CallTool(human input, %s) = %v %q, want error %q", tt.args, res.IsError, text(res), tt.want)
		}
	}
}

func TestHumanInputTimeoutAndCancel(t *testing.T) {
	waitForever := func(ctx context.Context, req agent.HumanInputRequest) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	}
	synctest.Test(t, func(t *testing.T) {
		a := mustNew(t, agent.Config{Name: "x", HumanInput: waitForever}, nil)
		res, err := a.CallTool(t.Context(), agent.HumanInputToolName, json.RawMessage(`{"prompt":"?","timeout_seconds":30}`))
		if err != nil || !res.IsError || text(res) != "no answer from a human within 30s" {
			t.Errorf("CallTool after the timeout = %v, %v", res, err)
		}

		// The caller giving up is an error, not a tool result.
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan error, 1)
		go func() {
			_, err := a.CallTool(ctx, agent.HumanInputToolName, json.RawMessage(`{"prompt":"?"}`))
			done <- err
		}()
		synctest.Wait()
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("CallTool with the caller's context cancelled: %v, want context.Canceled", err)
		}
	})
}

func TestHumanInputFiltered(t *testing.T) {
	a := mustNew(t, agent.Config{Name: "x",
		HumanInput: func(context.Context, agent.HumanInputRequest) (string, error) { return "", nil },
		ToolFilter: agent.ToolFilter{agent.FilterNonNamespaced: {}}}, nil)
	_, err := a.CallTool(t.Context(), agent.HumanInputToolName, json.RawMessage(`{"prompt":"?"}`))
	want := `agent "x": unknown tool "__human_input__": the agent's ToolFilter hides it; add it to ToolFilter["non_namespaced_tools"]`
	if !errors.Is(err, agent.ErrUnknownTool) || err.Error() != want {
		t.Errorf("CallTool of a filtered human input tool: %v, want %s", err, want)
	}
	// Without a handler, the error says so.
	b := mustNew(t, agent.Config{Name: "y"}, nil)
	_, err = b.CallTool(t.Context(), agent.HumanInputToolName, json.RawMessage(`{"prompt":"?"}`))
	if !errors.Is(err, agent.ErrNoHumanInput) || !errors.Is(err, agent.ErrUnknownTool) {
		t.Errorf("CallTool of human input without handler: %v, want ErrNoHumanInput and ErrUnknownTool", err)
	}
}
