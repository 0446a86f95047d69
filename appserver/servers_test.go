package appserver_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/appserver"
	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
)

// samplerServer is an MCP server with a tool that asks its client for an
// LLM completion (as a multi round-trip input request, which go-sdk turns
// into a sampling request for clients of older protocols).
func samplerServer(t *testing.T) string {
	t.Helper()
	s := mcp.NewServer(&mcp.Implementation{Name: "sampler", Version: "1"}, nil)
	s.AddTool(&mcp.Tool{Name: "ask_llm", Description: "Ask the client's LLM.", InputSchema: map[string]any{"type": "object"}},
		func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			if r, ok := req.Params.InputResponses["s"].(*mcp.CreateMessageWithToolsResult); ok && len(r.Content) == 1 {
				tc, _ := r.Content[0].(*mcp.TextContent)
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: "the LLM said: " + tc.Text}}}, nil
			}
			return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{"s": &mcp.CreateMessageParams{
				MaxTokens: 50,
				Messages:  []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: "Say hi"}}},
			}}}, nil
		})
	hs := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s }, nil))
	t.Cleanup(hs.Close)
	return hs.URL
}

func TestSamplingIsForwardedToTheClientOrFallsBack(t *testing.T) {
	for _, c := range []struct {
		name       string
		clientLLM  bool
		wantResult string
	}{
		{"client samples", true, "the LLM said: hi from the client"},
		{"client cannot: the app's LLM", false, "the LLM said: hi from the app"},
	} {
		t.Run(c.name, func(t *testing.T) {
			settings := &config.Settings{Name: "sampling-app", MCP: config.MCPSettings{Servers: map[string]config.ServerSpec{
				"sampler": {Transport: config.TransportStreamableHTTP, URL: samplerServer(t) + "/mcp"},
			}}}
			fallback := func(context.Context, string, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
				return &mcp.CreateMessageResult{Model: "app", Role: "assistant", Content: &mcp.TextContent{Text: "hi from the app"}}, nil
			}
			f := newFixture(t, settings, fallback)
			ag, err := f.app.NewAgent(agent.Config{Name: "a", ServerNames: []string{"sampler"}})
			if err != nil {
				t.Fatal(err)
			}
			prov := &capture{Provider: turns(replay.Turn{ToolCalls: toolCall("sampler_ask_llm", map[string]any{})}, replay.Turn{Text: "done"})}
			var copts *mcp.ClientOptions
			if c.clientLLM {
				copts = &mcp.ClientOptions{CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
					return &mcp.CreateMessageResult{Model: "client", Role: "assistant", Content: &mcp.TextContent{Text: "hi from the client"}}, nil
				}}
			}
			// A 2025-11-25 client: the server can send it requests mid-call.
			_, cs := serveVersion(t, f, &appserver.Options{Agents: []*agent.Agent{ag}, NewLLM: llmOn(prov)}, copts, v2025)
			callOK(t, cs, "agents-a-generate_str", map[string]any{"message": "go"})
			if got := prov.lastToolResult(); got != c.wantResult {
				t.Errorf("the sampler's tool result = %q, want %q", got, c.wantResult)
			}
		})
	}
}

// TestServerOfServers serves one app over HTTP and uses it as an MCP server
// in another app's configuration: the second app's agent runs the first
// app's agent and its human-input workflow through the tools.
func TestServerOfServers(t *testing.T) {
	// The served app: an agent and the approve workflow.
	child := newFixture(t, &config.Settings{Name: "child"}, nil)
	helper := child.agent(t, "helper")
	ex := executorFor(t, approve)
	srv, err := appserver.New(child.app, &appserver.Options{
		Agents:   []*agent.Agent{helper},
		NewLLM:   llmOn(turns(replay.Turn{Match: "status", Text: "All green."})),
		Executor: ex,
		Upstream: child.up,
		Logger:   quietLogger(),
	})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(testContext(t))
	addrc := make(chan net.Addr, 1)
	served := make(chan error, 1)
	go func() {
		served <- srv.ListenAndServe(ctx, "127.0.0.1:0", &appserver.HTTPOptions{Ready: func(a net.Addr) { addrc <- a }})
	}()
	t.Cleanup(func() { cancel(); <-served })
	url := "http://" + (<-addrc).String() + "/mcp"

	// The app using it, with the served app in its configuration.
	parent := newFixture(t, &config.Settings{Name: "parent", MCP: config.MCPSettings{Servers: map[string]config.ServerSpec{
		"child": {Transport: config.TransportStreamableHTTP, URL: url, Description: "the child app"},
	}}}, nil)
	boss, err := parent.app.NewAgent(agent.Config{Name: "boss", ServerNames: []string{"child"}})
	if err != nil {
		t.Fatal(err)
	}
	pctx := testContext(t)
	tools, err := boss.ListTools(pctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tl := range tools {
		names = append(names, tl.Name)
	}
	for _, want := range []string{"child_agents-helper-generate_str", "child_workflows-run", "child_workflows-approve-run", "child_workflows-resume"} {
		if !strings.Contains(strings.Join(names, " "), want) {
			t.Errorf("the parent's agent lacks %s; it has %v", want, names)
		}
	}

	callChild := func(name string, args any) *mcp.CallToolResult {
		t.Helper()
		b, _ := json.Marshal(args)
		res, err := boss.CallTool(pctx, name, b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.IsError {
			t.Fatalf("%s: error result %s", name, text(res))
		}
		return res
	}
	if got := text(callChild("child_agents-helper-generate_str", map[string]any{"message": "status?"})); got != "All green." {
		t.Errorf("the child's agent answered %q, want All green.", got)
	}

	var started appserver.RunStarted
	decode(t, callChild("child_workflows-run", map[string]any{"workflow_name": "approve", "run_parameters": map[string]any{"title": "Nested"}}), &started)
	status := func() appserver.RunStatus {
		var st appserver.RunStatus
		decode(t, callChild("child_workflows-get_status", map[string]any{"run_id": started.RunID}), &st)
		return st
	}
	waitFor(t, "the child's run to pause for a human", func() (bool, string) { st := status(); return st.Status == "paused", st.Status })
	if st := status(); st.Waiting == nil || st.Waiting.Prompt != "Publish Nested?" {
		t.Fatalf("waiting = %+v", st.Waiting)
	}
	callChild("child_workflows-resume", map[string]any{"run_id": started.RunID, "payload": map[string]any{"approved": true}})
	waitFor(t, "the child's run to complete", func() (bool, string) { st := status(); return st.Status == "completed", st.Status })
	var out draftOut
	if err := json.Unmarshal(status().Result, &out); err != nil || !out.Approved {
		t.Errorf("result = %+v (%v), want approved", out, err)
	}
}
