package appserver_test

import (
	"context"
	"errors"
	"iter"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/appserver"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
)

type addArgs struct {
	A int `json:"a"`
	B int `json:"b"`
}

var addTool = agent.NewTool("add", "Add two integers.", func(_ context.Context, in addArgs) (int, error) { return in.A + in.B, nil })

func TestAgentToolsAreListedWithPythonNames(t *testing.T) {
	f := newFixture(t, nil, nil)
	calc := f.agent(t, "calc", addTool)
	_, cs := serve(t, f, &appserver.Options{Agents: []*agent.Agent{calc}, NewLLM: llmOn(turns(replay.Turn{Text: "x"}))}, nil)
	got := toolNames(t, cs)
	slices.Sort(got)
	want := []string{"agents-calc-generate", "agents-calc-generate_str", "agents-calc-generate_structured", "agents-list"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tools (-want +got):\n%s", diff)
	}

	var list appserver.AgentsList
	decode(t, callOK(t, cs, appserver.ToolAgentsList, nil), &list)
	info := list.Agents["calc"]
	if info.Instruction != "You are calc." || !slices.Contains(info.ToolEndpoints, "agents-calc-generate_str") {
		t.Errorf("agents-list calc = %+v", info)
	}
}

func TestGenerateStrRunsToolsAndReportsProgressAndLogs(t *testing.T) {
	for _, version := range []string{v2025, v2026} {
		t.Run(version, func(t *testing.T) { testProgressAndLogs(t, version) })
	}
}

func testProgressAndLogs(t *testing.T, version string) {
	f := newFixture(t, nil, nil)
	calc := f.agent(t, "calc", addTool)
	p := turns(
		replay.Turn{ToolCalls: toolCall("add", map[string]any{"a": 2, "b": 3})},
		replay.Turn{Text: "2 + 3 = 5"},
	)
	var mu sync.Mutex
	var progress, logs []string
	_, cs := serveVersion(t, f, &appserver.Options{Agents: []*agent.Agent{calc}, NewLLM: llmOn(p)}, &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, r *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			progress = append(progress, r.Params.Message)
			mu.Unlock()
		},
		LoggingMessageHandler: func(_ context.Context, r *mcp.LoggingMessageRequest) {
			mu.Lock()
			logs = append(logs, string(r.Params.Level)+" "+r.Params.Data.(string))
			mu.Unlock()
		},
	}, version)
	params := &mcp.CallToolParams{Name: "agents-calc-generate_str", Arguments: map[string]any{"message": "add 2 and 3"}}
	if version == v2025 {
		if err := cs.SetLoggingLevel(testContext(t), &mcp.SetLoggingLevelParams{Level: "info"}); err != nil {
			t.Fatal(err)
		}
	} else {
		params.Meta = mcp.Meta{mcp.MetaKeyLogLevel: "info"} // the level travels with each request
	}
	params.SetProgressToken("p1")
	res, err := cs.CallTool(testContext(t), params)
	if err != nil {
		t.Fatal(err)
	}
	if res.IsError || text(res) != "2 + 3 = 5" {
		t.Fatalf("result = %q (error %v), want the answer", text(res), res.IsError)
	}
	// The client may handle notifications after the response: wait for them.
	waitFor(t, "progress and log notifications", func() (bool, string) {
		mu.Lock()
		defer mu.Unlock()
		return len(progress) >= 4 && len(logs) >= 2, strings.Join(append(progress, logs...), "; ")
	})
	mu.Lock()
	defer mu.Unlock()
	wantProgress := []string{"calc: model call 1", "calc: calling tool add", "calc: tool add finished in", "calc: model call 2"}
	if len(progress) != len(wantProgress) {
		t.Fatalf("progress messages = %q, want %d like %q", progress, len(wantProgress), wantProgress)
	}
	for i, w := range wantProgress {
		if !strings.HasPrefix(progress[i], w) {
			t.Errorf("progress[%d] = %q, want prefix %q", i, progress[i], w)
		}
	}
	// Level info: the debug "model call" messages are filtered out.
	if len(logs) != 2 || !strings.HasPrefix(logs[0], "info calc: calling tool add") || !strings.HasPrefix(logs[1], "info calc: tool add finished") {
		t.Errorf("log messages = %q, want the two tool messages at info", logs)
	}
}

func TestGenerateReturnsTheTurnsMessages(t *testing.T) {
	f := newFixture(t, nil, nil)
	calc := f.agent(t, "calc", addTool)
	p := turns(replay.Turn{ToolCalls: toolCall("add", map[string]any{"a": 1, "b": 1})}, replay.Turn{Text: "two"})
	_, cs := serve(t, f, &appserver.Options{Agents: []*agent.Agent{calc}, NewLLM: llmOn(p)}, nil)
	var out appserver.GenerateResult
	decode(t, callOK(t, cs, "agents-calc-generate", map[string]any{"message": "1+1"}), &out)
	if out.Answer != "two" {
		t.Errorf("answer = %q, want two", out.Answer)
	}
	var roles []string
	for _, m := range out.Messages {
		roles = append(roles, m["role"].(string))
	}
	if diff := cmp.Diff([]string{"assistant", "tool", "assistant"}, roles); diff != "" {
		t.Errorf("message roles (-want +got):\n%s", diff)
	}
}

func TestGenerateStructuredValidatesTheAnswer(t *testing.T) {
	f := newFixture(t, nil, nil)
	a := f.agent(t, "shaper")
	p := turns(
		replay.Turn{Match: "good", Text: "```json\n{\"name\": \"Ada\", \"age\": 36}\n```"},
		replay.Turn{Match: "bad", Text: `{"name": "Ada"}`},
	)
	_, cs := serve(t, f, &appserver.Options{Agents: []*agent.Agent{a}, NewLLM: llmOn(p)}, nil)
	schema := map[string]any{
		"type":       "object",
		"properties": map[string]any{"name": map[string]any{"type": "string"}, "age": map[string]any{"type": "integer"}},
		"required":   []string{"name", "age"},
	}
	res := callOK(t, cs, "agents-shaper-generate_structured", map[string]any{"message": "good", "response_schema": schema})
	var got struct {
		Name string `json:"name"`
		Age  int    `json:"age"`
	}
	decode(t, res, &got)
	if got.Name != "Ada" || got.Age != 36 {
		t.Errorf("structured = %+v, want Ada 36", got)
	}
	res = call(t, cs, "agents-shaper-generate_structured", map[string]any{"message": "bad", "response_schema": schema})
	if !res.IsError || !strings.Contains(text(res), "does not match response_schema") {
		t.Errorf("missing field: result %q (error %v), want a schema mismatch error", text(res), res.IsError)
	}
}

func TestAgentCallErrors(t *testing.T) {
	f := newFixture(t, nil, nil)
	a := f.agent(t, "a")
	_, cs := serve(t, f, &appserver.Options{Agents: []*agent.Agent{a}, NewLLM: llmOn(turns(replay.Turn{Match: "never", Text: "x"}))}, nil)
	for _, c := range []struct {
		args any
		want string
	}{
		{map[string]any{"message": "  "}, `"message" is empty`},
		{map[string]any{"message": "hello"}, `agent "a": `},
	} {
		res := call(t, cs, "agents-a-generate_str", c.args)
		if !res.IsError || !strings.Contains(text(res), c.want) {
			t.Errorf("args %v: result %q (error %v), want an error containing %q", c.args, text(res), res.IsError, c.want)
		}
	}
}

func TestHumanInputIsElicitedFromTheCaller(t *testing.T) {
	// 2025-11-25: the question is elicited during the turn, whose
	// __human_input__ call returns the answer. 2026-07-28: the call answers
	// with an input request; the client (go-sdk does it for us) retries with
	// the answer, and a new turn sees the task, the question and the answer.
	for _, version := range []string{v2025, v2026} {
		t.Run(version, func(t *testing.T) {
			f := newFixture(t, nil, nil)
			a := f.agent(t, "asker")
			prov := &capture{Provider: turns(
				replay.Turn{Match: "pick", ToolCalls: toolCall(agent.HumanInputToolName, map[string]any{"prompt": "Which colour?"})},
				replay.Turn{Match: "pick", Text: "you picked (during the turn)"},
				replay.Turn{Match: "blue", Text: "you picked blue"},
			)}
			var asked []string
			_, cs := serveVersion(t, f, &appserver.Options{Agents: []*agent.Agent{a}, NewLLM: llmOn(prov)}, &mcp.ClientOptions{
				ElicitationHandler: func(_ context.Context, r *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
					asked = append(asked, r.Params.Message)
					return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"answer": "blue"}}, nil
				},
			}, version)
			res := callOK(t, cs, "agents-asker-generate_str", map[string]any{"message": "pick"})
			if diff := cmp.Diff([]string{"Which colour?"}, asked); diff != "" {
				t.Errorf("elicited (-want +got):\n%s", diff)
			}
			want := "you picked (during the turn)"
			if version == v2026 {
				want = "you picked blue"
			}
			if text(res) != want {
				t.Errorf("answer = %q, want %q", text(res), want)
			}
			if version == v2025 {
				if got := prov.lastToolResult(); got != "blue" {
					t.Errorf("the model saw the tool result %q, want the human's answer", got)
				}
			}
		})
	}
}

func TestHumanInputWithoutElicitationTellsTheModel(t *testing.T) {
	f := newFixture(t, nil, nil)
	a := f.agent(t, "asker")
	prov := &capture{Provider: turns(
		replay.Turn{ToolCalls: toolCall(agent.HumanInputToolName, map[string]any{"prompt": "Which colour?"})},
		replay.Turn{Text: "done"},
	)}
	_, cs := serveVersion(t, f, &appserver.Options{Agents: []*agent.Agent{a}, NewLLM: llmOn(prov)}, nil, v2025)
	callOK(t, cs, "agents-asker-generate_str", map[string]any{"message": "pick"})
	if got := prov.lastToolResult(); !strings.Contains(got, "no connected client can answer") || !strings.Contains(got, "elicitation capability") {
		t.Errorf("tool result seen by the model = %q, want the no-client error naming the capability", got)
	}
}

func TestClientCancellationCancelsTheAgent(t *testing.T) {
	f := newFixture(t, nil, nil)
	started := make(chan struct{})
	stopped := make(chan error, 1)
	block := agent.NewTool("block", "Blocks.", func(ctx context.Context, _ struct{}) (string, error) {
		close(started)
		<-ctx.Done()
		stopped <- ctx.Err()
		return "", ctx.Err()
	})
	a := f.agent(t, "slow", block)
	p := turns(replay.Turn{ToolCalls: toolCall("block", map[string]any{})}, replay.Turn{Text: "never"})
	srv, cs := serve(t, f, &appserver.Options{Agents: []*agent.Agent{a}, NewLLM: llmOn(p)}, nil)
	ctx, cancel := context.WithCancel(testContext(t))
	errc := make(chan error, 1)
	go func() {
		_, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "agents-slow-generate_str", Arguments: map[string]any{"message": "go"}})
		errc <- err
	}()
	<-started
	cancel() // the client sends notifications/cancelled
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("client call error = %v, want context.Canceled", err)
	}
	if err := <-stopped; !errors.Is(err, context.Canceled) {
		t.Errorf("the tool's context ended with %v, want context.Canceled", err)
	}
	waitFor(t, "the server to finish the call", func() (bool, string) { n := srv.InFlight(); return n == 0, strings.Repeat("x", n) })
}

// capture records the requests a provider gets.
type capture struct {
	llm.Provider
	mu   sync.Mutex
	reqs []*llm.Request
}

func (c *capture) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	c.record(req)
	return c.Provider.Complete(ctx, req)
}

func (c *capture) Stream(ctx context.Context, req *llm.Request) iter.Seq2[*llm.Chunk, error] {
	c.record(req)
	return c.Provider.Stream(ctx, req)
}

func (c *capture) record(req *llm.Request) {
	c.mu.Lock()
	c.reqs = append(c.reqs, req)
	c.mu.Unlock()
}

// lastToolResult is the text of the last tool result the model was sent.
func (c *capture) lastToolResult() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.reqs) - 1; i >= 0; i-- {
		msgs := c.reqs[i].Messages
		for j := len(msgs) - 1; j >= 0; j-- {
			for _, p := range msgs[j].Parts {
				if tr, ok := p.(*llm.ToolResult); ok {
					return tr.Text()
				}
			}
		}
	}
	return ""
}
