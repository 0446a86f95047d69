package app

import (
	"bufio"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/executor/temporal/devserver"
	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
	"github.com/mcp-agent-go/mcp-agent/workflow"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

func TestAppAgentsUseServerEverything(t *testing.T) {
	cmd, args := testenv.Everything(t)
	s := &config.Settings{
		MCP: config.MCPSettings{Servers: map[string]config.ServerSpec{
			"everything": {Name: "everything", Command: cmd, Args: args},
		}},
		Agents: &config.AgentsSettings{Definitions: []config.AgentSpec{
			{Name: "echoer", Instruction: "echo things", ServerNames: []string{"everything"}},
		}},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	err := Run(ctx, Options{Settings: s, Logger: quiet(), ConnectAtStart: true}, func(ctx context.Context, a *App) error {
		declared, err := a.Agent("echoer")
		if err != nil {
			return err
		}
		again, err := a.Agent("echoer")
		if err != nil {
			return err
		}
		if declared != again {
			t.Error("Agent built the declared agent twice")
		}
		coded, err := a.NewAgent(agent.Config{Name: "coded", ServerNames: []string{"everything"}})
		if err != nil {
			return err
		}
		for _, ag := range []*agent.Agent{declared, coded} {
			tools, err := ag.ListTools(ctx)
			if err != nil {
				return err
			}
			if !hasTool(tools, "everything_echo") {
				t.Errorf("%s: tools lack everything_echo", ag.Name())
			}
			res, err := ag.CallTool(ctx, "everything_echo", json.RawMessage(`{"message":"hi from `+ag.Name()+`"}`))
			if err != nil {
				return err
			}
			if res.IsError || !strings.Contains(textOf(res), "hi from "+ag.Name()) {
				t.Errorf("%s: echo result = %+v", ag.Name(), res)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAppErrors(t *testing.T) {
	s := &config.Settings{
		MCP: config.MCPSettings{Servers: map[string]config.ServerSpec{
			"fetch": {Name: "fetch", Command: "does-not-matter"},
		}},
		Agents: &config.AgentsSettings{Definitions: []config.AgentSpec{{Name: "finder", ServerNames: []string{"fetch"}}}},
	}
	a, err := New(Options{Settings: s, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.NewAgent(agent.Config{Name: "x", ServerNames: []string{"fecth"}}); err == nil ||
		err.Error() != `agent "x": unknown server "fecth" (configured: fetch)` {
		t.Errorf("NewAgent with a misspelt server: err = %v", err)
	}
	if _, err := a.Agent("nobody"); err == nil || err.Error() != `unknown agent "nobody" (declared: finder)` {
		t.Errorf("Agent(nobody): err = %v", err)
	}
	empty, err := New(Options{Settings: &config.Settings{}, Logger: quiet()})
	if err != nil {
		t.Fatal(err)
	}
	defer empty.Close()
	if _, err := empty.Agent("finder"); err == nil || !strings.Contains(err.Error(), "no agents are declared") {
		t.Errorf("Agent on an app without agents: err = %v", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestConnectAtStartNamesFailingServer(t *testing.T) {
	s := &config.Settings{MCP: config.MCPSettings{Servers: map[string]config.ServerSpec{
		"ghost": {Name: "ghost", Command: filepath.Join(t.TempDir(), "no-such-binary")},
	}}}
	_, err := New(Options{Settings: s, Logger: quiet(), ConnectAtStart: true})
	if err == nil || !strings.Contains(err.Error(), `"ghost"`) {
		t.Fatalf("err = %v, want it to name server \"ghost\"", err)
	}
}

func TestMissingConfigIsEmptyUnlessRequired(t *testing.T) {
	t.Chdir(t.TempDir())
	a, err := New(Options{Logger: quiet()})
	if err != nil {
		t.Fatalf("New without a config file: %v", err)
	}
	a.Close()
	if _, err := New(Options{Logger: quiet(), RequireConfig: true}); err == nil || !strings.Contains(err.Error(), "mcp_agent.config.yaml") {
		t.Errorf("RequireConfig: err = %v", err)
	}
}

func TestNewLoggerFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "logs", "app.jsonl")
	l, closer, err := NewLogger(config.LoggerSettings{Transports: []string{"file"}, Level: "debug", Path: p})
	if err != nil {
		t.Fatal(err)
	}
	l.Debug("hello", "k", "v")
	closer.Close()
	f, err := os.Open(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	if !sc.Scan() {
		t.Fatal("log file is empty")
	}
	var rec map[string]any
	if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
		t.Fatalf("log line is not JSON: %v", err)
	}
	if rec["msg"] != "hello" || rec["k"] != "v" || rec["level"] != "DEBUG" {
		t.Errorf("log record = %v", rec)
	}

	for _, c := range []struct {
		ls   config.LoggerSettings
		want string
	}{
		{config.LoggerSettings{Level: "loud"}, `logger.level: unknown level "loud" (want debug, info, warning, error)`},
		{config.LoggerSettings{Transports: []string{"file"}}, "logger.path: required when logger.transports includes file"},
		{config.LoggerSettings{Transports: []string{"syslog"}}, `logger.transports: unknown transport "syslog" (want console, file)`},
	} {
		if _, _, err := NewLogger(c.ls); err == nil || err.Error() != c.want {
			t.Errorf("NewLogger(%+v): err = %v, want %q", c.ls, err, c.want)
		}
	}
}

func hasTool(tools []*mcp.Tool, name string) bool {
	for _, t := range tools {
		if t.Name == name {
			return true
		}
	}
	return false
}

func textOf(res *mcp.CallToolResult) string {
	var b strings.Builder
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			b.WriteString(t.Text)
		}
	}
	return b.String()
}

func TestAppWorkflows(t *testing.T) {
	type in struct {
		Name string `json:"name"`
	}
	greet := workflow.Define("greet", func(wctx workflow.Context, i in) (string, error) {
		return workflow.Step(wctx, "greet", func(ctx context.Context, _ workflow.StepContext) (string, error) {
			return "hello " + i.Name, nil
		}, nil)
	}, nil)
	state := filepath.Join(t.TempDir(), "state.db")
	a, err := New(Options{Settings: &config.Settings{}, Logger: quiet(), StatePath: state})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if err := a.Register(greet); err != nil {
		t.Fatal(err)
	}
	if err := a.Register(greet); err == nil || err.Error() != `workflow "greet" is already registered` {
		t.Errorf("second Register: err = %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ex, err := a.Executor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := executor.Execute(ctx, ex, greet, in{Name: "ada"}, nil)
	if err != nil || out != "hello ada" {
		t.Fatalf("Execute = %q, %v", out, err)
	}
	if err := a.Register(workflow.Define("late", func(workflow.Context, in) (string, error) { return "", nil }, nil)); err == nil {
		t.Error("Register after the executor opened succeeded")
	}
	if err := a.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if _, err := os.Stat(state); err != nil {
		t.Errorf("state database: %v", err)
	}
	if _, err := a.Executor(ctx); err == nil {
		t.Error("Executor after Close succeeded")
	}
}

// TestAppWorkflowsOnTemporal runs the same workflow definition through the
// app with execution_engine: temporal, against a real Temporal dev server.
func TestAppWorkflowsOnTemporal(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bin, err := devserver.Binary(ctx)
	if err != nil {
		if os.Getenv("MCP_AGENT_REQUIRE_TOOLS") == "1" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	srv, err := devserver.Start(ctx, &devserver.Options{Binary: bin})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()

	type in struct {
		Name string `json:"name"`
	}
	greet := workflow.Define("greet", func(wctx workflow.Context, i in) (string, error) {
		return workflow.Step(wctx, "greet", func(ctx context.Context, _ workflow.StepContext) (string, error) {
			return "hello " + i.Name, nil
		}, nil)
	}, nil)
	s := &config.Settings{
		ExecutionEngine: config.EngineTemporal,
		Temporal:        &config.TemporalSettings{Host: srv.Addr, Namespace: srv.Namespace, TaskQueue: "app-test-" + strconv.FormatInt(time.Now().UnixNano(), 36)},
	}
	a, err := New(Options{Settings: s, Logger: quiet(), Workflows: []workflow.Workflow{greet}})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	ex, err := a.Executor(ctx)
	if err != nil {
		t.Fatal(err)
	}
	out, _, err := executor.Execute(ctx, ex, greet, in{Name: "temporal"}, nil)
	if err != nil || out != "hello temporal" {
		t.Fatalf("Execute on Temporal = %q, %v", out, err)
	}
}
