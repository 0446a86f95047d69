package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
)

func play(t testing.TB, script string) *replay.Provider {
	t.Helper()
	s, err := replay.Parse([]byte(script), t.Name()+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	return replay.New(s, nil)
}

func TestToolCallLoop(t *testing.T) {
	agent, ts := calcAgent(t)
	p := &capture{Provider: play(t, `
turns:
  - text: Let me add.
    tool_calls: [{id: c1, name: calc_add, arguments: {a: 2, b: 3}}]
  - text: 2 + 3 = 5
`)}
	l := llm.New(agent, p, nil)
	out, err := l.Generate(context.Background(), llm.Prompt("what is 2+3?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := roles(out), "assistant,tool,assistant"; got != want {
		t.Fatalf("roles = %s, want %s", got, want)
	}
	res := out[1].Parts[0].(*llm.ToolResult)
	if diff := cmp.Diff(&llm.ToolResult{CallID: "c1", Name: "calc_add", Content: []llm.Part{&llm.Text{Text: "5"}}}, res); diff != "" {
		t.Errorf("tool result (-want +got):\n%s", diff)
	}
	if got := llm.FinalText(out); got != "2 + 3 = 5" {
		t.Errorf("final = %q", got)
	}
	if ts.calls.Load() != 1 {
		t.Errorf("add called %d times, want 1", ts.calls.Load())
	}
	reqs := p.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d model calls, want 2", len(reqs))
	}
	if reqs[0].System != "You add numbers." {
		t.Errorf("system = %q, want the agent's instruction", reqs[0].System)
	}
	var names []string
	for _, s := range reqs[0].Tools {
		names = append(names, s.Name)
	}
	slices.Sort(names)
	if want := []string{"calc_add", "calc_barrier", "calc_fail", "calc_image", "calc_probe", "calc_slow"}; !slices.Equal(names, want) {
		t.Errorf("tools = %v, want %v", names, want)
	}
	var schema map[string]any
	if err := json.Unmarshal(reqs[0].Tools[0].InputSchema, &schema); err != nil || schema["type"] != "object" {
		t.Errorf("input schema = %s (%v), want an object schema", reqs[0].Tools[0].InputSchema, err)
	}
	if got := roles(reqs[1].Messages); got != "user,assistant,tool" {
		t.Errorf("second request roles = %s", got)
	}
}

func TestToolFilterAndImageResult(t *testing.T) {
	agent, _ := calcAgent(t)
	p := &capture{Provider: play(t, `
turns:
  - tool_calls: [{name: calc_image}, {name: calc_add, arguments: {a: 1, b: 1}}]
  - text: done
`)}
	l := llm.New(agent, p, nil)
	out, err := l.Generate(context.Background(), llm.Prompt("x"), &llm.RequestParams{ToolFilter: []string{"calc_im*"}})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(p.requests()[0].Tools); n != 1 {
		t.Errorf("offered %d tools, want 1 (filtered)", n)
	}
	img := out[1].Parts[0].(*llm.ToolResult)
	want := []llm.Part{
		&llm.Text{Text: "a pixel"},
		&llm.Image{Data: []byte{0x89, 'P', 'N', 'G'}, MIMEType: "image/png"},
		&llm.Resource{URI: "file:///a.txt", MIMEType: "text/plain", Text: "hello"},
	}
	if diff := cmp.Diff(want, img.Content); diff != "" {
		t.Errorf("image result (-want +got):\n%s", diff)
	}
	add := out[1].Parts[1].(*llm.ToolResult)
	if !add.IsError || !strings.Contains(add.Text(), `tool "calc_add" is not available; available tools: calc_image`) {
		t.Errorf("filtered-out tool result = %+v %q", add, add.Text())
	}
}

func TestParallelToolCallsRunConcurrently(t *testing.T) {
	agent, ts := calcAgent(t)
	ts.barrierN, ts.barrierCh = 3, make(chan struct{})
	p := &capture{Provider: play(t, `
turns:
  - tool_calls:
      - {id: a, name: calc_barrier, arguments: {id: a}}
      - {id: b, name: calc_barrier, arguments: {id: b}}
      - {id: c, name: calc_barrier, arguments: {id: c}}
  - text: all three met
`)}
	l := llm.New(agent, p, nil)
	out, err := l.Generate(context.Background(), llm.Prompt("go"), nil)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, part := range out[1].Parts {
		r := part.(*llm.ToolResult)
		if r.IsError {
			t.Errorf("%s: %s", r.CallID, r.Text())
		}
		got = append(got, r.CallID+"="+r.Text())
	}
	if want := []string{"a=barrier a", "b=barrier b", "c=barrier c"}; !slices.Equal(got, want) {
		t.Errorf("results = %v, want %v (call order)", got, want)
	}
	if p.requests()[0].DisableParallelToolCalls {
		t.Error("DisableParallelToolCalls set by default")
	}
}

func TestParallelToolCallsOffRunsSequentially(t *testing.T) {
	agent, ts := calcAgent(t)
	p := &capture{Provider: play(t, `
turns:
  - tool_calls:
      - {name: calc_probe, arguments: {id: "1"}}
      - {name: calc_probe, arguments: {id: "2"}}
      - {name: calc_probe, arguments: {id: "3"}}
  - text: ok
`)}
	l := llm.New(agent, p, &llm.Options{Params: &llm.RequestParams{ParallelToolCalls: llm.Bool(false)}})
	if _, err := l.Generate(context.Background(), llm.Prompt("go"), nil); err != nil {
		t.Fatal(err)
	}
	if m := ts.maxInFlight.Load(); m != 1 {
		t.Errorf("max concurrent tool calls = %d, want 1", m)
	}
	if !p.requests()[0].DisableParallelToolCalls {
		t.Error("request does not ask for one tool call at a time")
	}
}

func TestToolErrorsGoBackToTheModel(t *testing.T) {
	agent, _ := calcAgent(t)
	p := &capture{Provider: play(t, `
turns:
  - tool_calls:
      - {id: f, name: calc_fail}
      - {id: u, name: calc_nope}
      - {id: j, name: calc_add, arguments: "{not json"}
  - text: sorry, tools failed
`)}
	l := llm.New(agent, p, nil)
	out, err := l.Generate(context.Background(), llm.Prompt("go"), nil)
	if err != nil {
		t.Fatalf("tool errors were raised: %v", err)
	}
	want := map[string]string{
		"f": "disk on fire",
		"u": `tool "calc_nope" is not available`,
		"j": `the arguments of tool "calc_add" are not valid JSON: {not json`,
	}
	sent := p.requests()[1].Messages[2]
	if sent.Role != llm.RoleTool || len(sent.Parts) != 3 {
		t.Fatalf("second request's last message = %+v", sent)
	}
	for _, part := range sent.Parts {
		r := part.(*llm.ToolResult)
		if !r.IsError || !strings.Contains(r.Text(), want[r.CallID]) {
			t.Errorf("result %s: IsError=%v text=%q, want error containing %q", r.CallID, r.IsError, r.Text(), want[r.CallID])
		}
	}
	if llm.FinalText(out) != "sorry, tools failed" {
		t.Errorf("final = %q", llm.FinalText(out))
	}
}

func TestMaxIterations(t *testing.T) {
	agent, _ := calcAgent(t)
	p := &capture{Provider: play(t, `
loop: true
turns:
  - tool_calls: [{name: calc_add, arguments: {a: 1, b: 1}}]
`)}
	l := llm.New(agent, p, nil)
	out, err := l.Generate(context.Background(), llm.Prompt("loop forever"), &llm.RequestParams{MaxIterations: 3})
	if !errors.Is(err, llm.ErrMaxIterations) {
		t.Fatalf("err = %v, want ErrMaxIterations", err)
	}
	if want := `llm "calculator": model still called tools (calc_add) after 3 iterations: raise RequestParams.MaxIterations or narrow the task`; err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
	if got := roles(out); got != "assistant,tool,assistant,tool,assistant" {
		t.Errorf("messages = %s", got)
	}
	reqs := p.requests()
	if len(reqs) != 3 {
		t.Fatalf("%d model calls, want 3", len(reqs))
	}
	if reqs[1].ToolChoice.Mode != "" || reqs[2].ToolChoice.Mode != llm.ToolChoiceNone {
		t.Errorf("tool choices = %q, %q; want auto then none on the last iteration", reqs[1].ToolChoice.Mode, reqs[2].ToolChoice.Mode)
	}
	if mem, _ := l.Memory().Load(context.Background()); len(mem) != 0 {
		t.Errorf("failed turn saved %d messages to memory", len(mem))
	}
}

func TestCancellationStopsPromptly(t *testing.T) {
	agent, ts := calcAgent(t)
	ts.slowEntered = make(chan struct{})
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	p := play(t, `
turns:
  - tool_calls: [{name: calc_slow}, {name: calc_add, arguments: {a: 1, b: 2}}]
  - text: never
`)
	l := llm.New(agent, p, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-ts.slowEntered
		cancel()
	}()
	errc := make(chan error, 1)
	go func() {
		_, err := l.Generate(ctx, llm.Prompt("go"), nil)
		errc <- err
	}()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("err = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Generate did not return after cancellation")
	}
}

func TestHistory(t *testing.T) {
	p := &capture{Provider: play(t, `
turns:
  - text: hello Ann
  - text: you are Ann
  - text: who?
`)}
	l := llm.New(nil, p, &llm.Options{Name: "chat"})
	ctx := context.Background()
	if _, err := l.Generate(ctx, llm.Prompt("I am Ann"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Generate(ctx, llm.Prompt("who am I?"), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Generate(ctx, llm.Prompt("who am I?"), &llm.RequestParams{UseHistory: llm.Bool(false)}); err != nil {
		t.Fatal(err)
	}
	reqs := p.requests()
	var got []string
	for _, r := range reqs {
		var texts []string
		for _, m := range r.Messages {
			texts = append(texts, string(m.Role)+":"+m.Text())
		}
		got = append(got, strings.Join(texts, "|"))
	}
	want := []string{
		"user:I am Ann",
		"user:I am Ann|assistant:hello Ann|user:who am I?",
		"user:who am I?",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("requests (-want +got):\n%s", diff)
	}
	mem, _ := l.Memory().Load(ctx)
	if len(mem) != 4 {
		t.Errorf("memory holds %d messages, want 4 (the stateless turn is not saved)", len(mem))
	}
}

func TestNoMessages(t *testing.T) {
	l := llm.New(nil, play(t, "turns: [{text: x}]"), &llm.Options{Name: "empty"})
	_, err := l.Generate(context.Background(), nil, nil)
	if err == nil || err.Error() != `llm "empty": no messages to send: pass at least one message` {
		t.Errorf("err = %v", err)
	}
}

func TestServerEverything(t *testing.T) {
	cs := everythingSession(t, nil)
	agent := &testAgent{name: "everything", sessions: map[string]*mcp.ClientSession{"everything": cs}}
	p := play(t, `
turns:
  - tool_calls:
      - {id: e, name: everything_echo, arguments: {message: hi there}}
      - {id: s, name: everything_get-sum, arguments: {a: 40, b: 2}}
  - text: done
`)
	l := llm.New(agent, p, nil)
	out, err := l.Generate(context.Background(), llm.Prompt("echo and add"), nil)
	if err != nil {
		t.Fatal(err)
	}
	results := out[1].Parts
	if r := results[0].(*llm.ToolResult); r.IsError || !strings.Contains(r.Text(), "hi there") {
		t.Errorf("echo result = %q (error %v)", r.Text(), r.IsError)
	}
	if r := results[1].(*llm.ToolResult); r.IsError || !strings.Contains(r.Text(), "42") {
		t.Errorf("get-sum result = %q (error %v)", r.Text(), r.IsError)
	}
}
