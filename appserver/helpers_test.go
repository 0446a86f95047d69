package appserver_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/app"
	"github.com/mcp-agent-go/mcp-agent/appserver"
	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/executor/local"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

const testTimeout = 60 * time.Second

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), testTimeout)
	t.Cleanup(cancel)
	return ctx
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// fixture is an app with an Upstream, ready to be served.
type fixture struct {
	app *app.App
	up  *appserver.Upstream
}

// newFixture builds an app whose handlers forward to a new Upstream.
// settings may be nil; fallback answers sampling when no client can.
func newFixture(t *testing.T, settings *config.Settings, fallback appserver.SamplingFunc) *fixture {
	t.Helper()
	if settings == nil {
		settings = &config.Settings{Name: "testapp"}
	}
	up := appserver.NewUpstream()
	a, err := app.New(app.Options{
		Settings:           settings,
		Logger:             quietLogger(),
		SamplingHandler:    up.SamplingHandler(fallback),
		ElicitationHandler: up.ElicitationHandler(nil),
		HumanInput:         up.HumanInput(nil),
		OnLog:              up.ForwardLog,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close() })
	return &fixture{app: a, up: up}
}

// agent builds an agent of the app with the given function tools and the
// Upstream's human input.
func (f *fixture) agent(t *testing.T, name string, tools ...agent.Tool) *agent.Agent {
	t.Helper()
	ag, err := f.app.NewAgent(agent.Config{Name: name, Instruction: "You are " + name + ".", Tools: tools, HumanInput: f.up.HumanInput(nil)})
	if err != nil {
		t.Fatal(err)
	}
	return ag
}

// llmOn returns an LLM factory playing p.
func llmOn(p llm.Provider) func(*agent.Agent) (llm.AugmentedLLM, error) {
	return func(ag *agent.Agent) (llm.AugmentedLLM, error) { return llm.New(ag, p, nil), nil }
}

// executorFor opens a local executor on a temporary database.
func executorFor(t *testing.T, ws ...workflow.Workflow) *local.Executor {
	t.Helper()
	ex, err := local.Open(testContext(t), filepath.Join(t.TempDir(), "runs.db"), workflow.NewRegistry(ws...),
		&local.Options{PollInterval: 10 * time.Millisecond, Synchronous: "NORMAL", Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ex.Close() })
	return ex
}

// Protocol generations the tests run against.
const (
	v2025 = "2025-11-25" // initialize, sessions, server-to-client requests
	v2026 = "2026-07-28" // sessionless; input requests instead of server-to-client requests
)

// serve builds the server and connects a go-sdk client to it in memory,
// negotiating the latest protocol version.
func serve(t *testing.T, f *fixture, opts *appserver.Options, copts *mcp.ClientOptions) (*appserver.Server, *mcp.ClientSession) {
	return serveVersion(t, f, opts, copts, "")
}

// serveVersion is serve with a given protocol version.
func serveVersion(t *testing.T, f *fixture, opts *appserver.Options, copts *mcp.ClientOptions, version string) (*appserver.Server, *mcp.ClientSession) {
	t.Helper()
	if opts == nil {
		opts = &appserver.Options{}
	}
	if opts.Upstream == nil {
		opts.Upstream = f.up
	}
	if opts.Logger == nil {
		opts.Logger = quietLogger()
	}
	srv, err := appserver.New(f.app, opts)
	if err != nil {
		t.Fatal(err)
	}
	return srv, connect(t, srv, copts, version)
}

func connect(t *testing.T, srv *appserver.Server, copts *mcp.ClientOptions, version string) *mcp.ClientSession {
	t.Helper()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := srv.MCPServer().Connect(testContext(t), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ss.Close() })
	c := mcp.NewClient(&mcp.Implementation{Name: "test-client", Version: "1"}, copts)
	cs, err := c.Connect(testContext(t), ct, &mcp.ClientSessionOptions{ProtocolVersion: version})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	return cs
}

// call calls a tool and fails the test on a protocol error.
func call(t *testing.T, cs *mcp.ClientSession, name string, args any) *mcp.CallToolResult {
	t.Helper()
	res, err := cs.CallTool(testContext(t), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("call %s: %v", name, err)
	}
	return res
}

// callOK calls a tool and fails the test if the result is an error.
func callOK(t *testing.T, cs *mcp.ClientSession, name string, args any) *mcp.CallToolResult {
	t.Helper()
	res := call(t, cs, name, args)
	if res.IsError {
		t.Fatalf("call %s: error result: %s", name, text(res))
	}
	return res
}

// text is the concatenated text content of a result.
func text(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			b.WriteString(tc.Text)
		}
	}
	return b.String()
}

// decode decodes a result's structured content into v.
func decode(t *testing.T, res *mcp.CallToolResult, v any) {
	t.Helper()
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("structured content %s: %v", b, err)
	}
}

func toolNames(t *testing.T, cs *mcp.ClientSession) []string {
	t.Helper()
	var names []string
	for tool, err := range cs.Tools(testContext(t), nil) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, tool.Name)
	}
	return names
}

// waitFor polls cond until it returns true, failing after testTimeout.
func waitFor(t *testing.T, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(testTimeout)
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s (last: %s)", what, state)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitStatus polls workflows-get_status until the run's status is want.
func waitStatus(t *testing.T, cs *mcp.ClientSession, runID, want string) appserver.RunStatus {
	t.Helper()
	var st appserver.RunStatus
	waitFor(t, "run "+runID+" to be "+want, func() (bool, string) {
		res := callOK(t, cs, appserver.ToolWorkflowsGetStatus, map[string]any{"run_id": runID})
		st = appserver.RunStatus{}
		decode(t, res, &st)
		if st.Status != want && (st.Status == "completed" || st.Status == "failed" || st.Status == "cancelled") {
			t.Fatalf("run %s ended %s (error %q), want %s", runID, st.Status, st.Error, want)
		}
		return st.Status == want, st.Status
	})
	return st
}

func turns(ts ...replay.Turn) *replay.Provider { return replay.NewFromTurns(ts...) }

func toolCall(name string, args map[string]any) []replay.ToolCall {
	return []replay.ToolCall{{Name: name, Arguments: args}}
}
