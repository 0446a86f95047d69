// Package app provides App, the Go equivalent of the Python MCPApp: it owns an
// app's configuration, its logger and its MCP server connections, and builds
// agents from them.
//
// Quick start:
//
//	a, err := app.New(app.Options{}) // loads mcp_agent.config.yaml from the working directory or a parent
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer a.Close()
//	finder, err := a.NewAgent(agent.Config{
//		Name:        "finder",
//		Instruction: "You can read files and fetch URLs.",
//		ServerNames: []string{"filesystem", "fetch"},
//	})
//
// Servers are connected lazily, on an agent's first use, and kept open
// (shared by every agent of the app) until Close. Options.ConnectAtStart
// connects them all in parallel in New instead.
package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/executor/local"
	"github.com/mcp-agent-go/mcp-agent/executor/temporal"
	"github.com/mcp-agent-go/mcp-agent/servers"
	"github.com/mcp-agent-go/mcp-agent/servers/builtin/catalog"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// Options configures New. The zero value loads the configuration found from
// the working directory upwards (an empty configuration when there is none)
// and logs as the configuration's logger section says.
type Options struct {
	// Name overrides the configuration's name.
	Name string
	// Settings, when set, is used instead of loading a file.
	Settings *config.Settings
	// ConfigPath names the configuration file; empty searches the working
	// directory and its parents.
	ConfigPath string
	// RequireConfig makes a missing configuration file an error; by default
	// the app starts with empty settings.
	RequireConfig bool
	// Logger, when set, replaces the logger built from settings.logger.
	Logger *slog.Logger
	// ConnectAtStart connects every configured server, in parallel, in New.
	ConnectAtStart bool

	// SamplingHandler answers sampling requests (sampling/createMessage)
	// from servers; nil declares no sampling capability.
	SamplingHandler func(ctx context.Context, server string, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error)
	// ElicitationHandler answers elicitation requests from servers; nil
	// declares no elicitation capability.
	ElicitationHandler func(ctx context.Context, server string, req *mcp.ElicitRequest) (*mcp.ElicitResult, error)
	// OnLog receives servers' log notifications (they are also logged at the
	// matching level to the app logger).
	OnLog func(server string, p *mcp.LoggingMessageParams)
	// OnProgress receives servers' progress notifications.
	OnProgress func(server string, p *mcp.ProgressNotificationParams)
	// HumanInput answers the __human_input__ tool of declared agents with
	// human_input: true; such agents cannot be built without it.
	HumanInput agent.HumanInputFunc
	// Workflows are the app's durable workflows (see package workflow);
	// more can be added with Register until the executor is opened.
	Workflows []workflow.Workflow
	// StatePath is the local executor's database. Empty: .mcp-agent/state.db
	// next to the configuration file, or in the working directory when there
	// is none.
	StatePath string
	// PassiveExecutor opens the local executor without executing runs: it
	// reads runs and journals starts, signals and cancellations for the
	// process that executes them (an `mcp-agent serve`, say). See
	// executor/local.
	PassiveExecutor bool
	// BuiltinsAsProcesses runs the built-in servers a config names
	// (command: mcp-agent, args: [builtin, NAME, ...]) as child processes,
	// which needs mcp-agent on PATH. By default they run in-process, with
	// the same arguments and behaviour and no child process.
	BuiltinsAsProcesses bool
}

// App is a configured application: settings, logger, server registry and
// the agents built from them. Its methods are safe for concurrent use.
type App struct {
	name       string
	settings   *config.Settings
	humanInput agent.HumanInputFunc
	logger     *slog.Logger
	servers    *servers.Registry
	closers    []io.Closer

	workflows  *workflow.Registry
	statePath  string
	passive    bool
	executor   executor.Executor
	execCloser io.Closer

	mu       sync.Mutex
	declared map[string]*agent.Agent // agents built from agents.definitions, by name
	all      []*agent.Agent          // every agent built, for tool-cache invalidation
	closed   bool
}

// New builds an App. It fails on an invalid configuration (the error names
// file, line and key) and, with ConnectAtStart, on a server that cannot be
// reached (the error names every failing server).
func New(opts Options) (*App, error) {
	s := opts.Settings
	if s == nil {
		loaded, err := config.Load(config.LoadOptions{Path: opts.ConfigPath})
		switch {
		case err == nil:
			s = loaded
		case errors.Is(err, config.ErrNotFound) && opts.ConfigPath == "" && !opts.RequireConfig:
			s = &config.Settings{}
		default:
			return nil, err
		}
	}
	a := &App{
		name:       s.Name,
		settings:   s,
		humanInput: opts.HumanInput,
		declared:   map[string]*agent.Agent{},
		workflows:  workflow.NewRegistry(opts.Workflows...),
		statePath:  opts.StatePath,
		passive:    opts.PassiveExecutor,
	}
	if a.statePath == "" {
		dir := "."
		if len(s.Files) > 0 {
			dir = filepath.Dir(s.Files[0])
		}
		a.statePath = filepath.Join(dir, ".mcp-agent", "state.db")
	}
	if opts.Name != "" {
		a.name = opts.Name
	}
	if a.name == "" {
		a.name = "mcp-agent-app"
	}
	a.logger = opts.Logger
	if a.logger == nil {
		l, closer, err := NewLogger(s.Logger)
		if err != nil {
			return nil, err
		}
		a.logger = l
		if closer != nil {
			a.closers = append(a.closers, closer)
		}
	}
	a.logger = a.logger.With("app", a.name)

	onLog := func(server string, p *mcp.LoggingMessageParams) {
		a.logger.Log(context.Background(), mcpLevel(p.Level), "server log", "server", server, "logger", p.Logger, "data", p.Data)
		if opts.OnLog != nil {
			opts.OnLog(server, p)
		}
	}
	a.servers = servers.NewRegistry(s.MCP.Servers, &servers.Options{
		Logger:             a.logger,
		ClientInfo:         &mcp.Implementation{Name: a.name, Version: "1.0.0"},
		SamplingHandler:    opts.SamplingHandler,
		ElicitationHandler: opts.ElicitationHandler,
		OnLog:              onLog,
		OnProgress:         opts.OnProgress,
		OnToolsChanged:     a.invalidateTools,
		Transport:          transport(opts.BuiltinsAsProcesses),
	})
	if opts.ConnectAtStart && len(s.MCP.Servers) > 0 {
		if err := a.servers.ConnectAll(context.Background()); err != nil {
			_ = a.Close()
			return nil, err
		}
	}
	return a, nil
}

// Run builds an App, runs fn with it and closes it, returning fn's error.
func Run(ctx context.Context, opts Options, fn func(ctx context.Context, a *App) error) error {
	a, err := New(opts)
	if err != nil {
		return err
	}
	defer a.Close()
	return fn(ctx, a)
}

// Name is the app's name.
func (a *App) Name() string { return a.name }

// Settings is the app's configuration. Treat it as read-only.
func (a *App) Settings() *config.Settings { return a.settings }

// Logger is the app's logger.
func (a *App) Logger() *slog.Logger { return a.logger }

// Servers is the app's server registry: persistent connections shared by
// its agents.
func (a *App) Servers() *servers.Registry { return a.servers }

// NewAgent builds an agent on the app's servers. Every server it names must
// be configured.
func (a *App) NewAgent(cfg agent.Config) (*agent.Agent, error) {
	for _, n := range cfg.ServerNames {
		if _, ok := a.servers.Spec(n); !ok {
			return nil, fmt.Errorf("agent %q: %w", cfg.Name, unknownServer(n, a.servers.Names()))
		}
	}
	ag, err := agent.New(cfg, a.servers)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	a.all = append(a.all, ag)
	a.mu.Unlock()
	return ag, nil
}

// Agent returns the agent declared under agents.definitions with this name,
// built on first use.
func (a *App) Agent(name string) (*agent.Agent, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if ag, ok := a.declared[name]; ok {
		return ag, nil
	}
	var known []string
	if a.settings.Agents != nil {
		for _, spec := range a.settings.Agents.Definitions {
			if spec.Name == name {
				ag, err := agent.FromSpec(spec, a.servers, &agent.FromSpecOptions{HumanInput: a.humanInput})
				if err != nil {
					return nil, err
				}
				a.declared[name] = ag
				a.all = append(a.all, ag)
				return ag, nil
			}
			known = append(known, spec.Name)
		}
	}
	if len(known) == 0 {
		return nil, fmt.Errorf("unknown agent %q: no agents are declared (add them under agents.definitions)", name)
	}
	return nil, fmt.Errorf("unknown agent %q (declared: %s)", name, strings.Join(known, ", "))
}

// Workflows is the app's workflow registry.
func (a *App) Workflows() *workflow.Registry { return a.workflows }

// Register adds workflows to the app. It fails once the executor is open:
// an executor runs the workflows it was opened with.
func (a *App) Register(ws ...workflow.Workflow) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.executor != nil {
		return errors.New("register workflows before the app's executor is opened (before the first Executor call)")
	}
	for _, w := range ws {
		if _, dup := a.workflows.Lookup(w.Name()); dup {
			return fmt.Errorf("workflow %q is already registered", w.Name())
		}
		a.workflows.Register(w)
	}
	return nil
}

// Executor returns the app's workflow executor, opening it on first use:
// the local, durable executor (a SQLite database at Options.StatePath) for
// execution_engine local, or a Temporal client (with a worker for the app's
// workflows unless PassiveExecutor) for execution_engine temporal, per the
// temporal: section. It is closed by Close.
func (a *App) Executor(ctx context.Context) (executor.Executor, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil, errors.New("the app is closed")
	}
	if a.executor != nil {
		return a.executor, nil
	}
	if a.settings.Engine() == config.EngineTemporal {
		ts := a.settings.Temporal
		if ts == nil {
			ts = &config.TemporalSettings{}
		}
		// A passive app (run control only) starts no worker: `mcp-agent
		// worker` or the app's own process executes the runs.
		ex, err := temporal.Dial(ctx, ts, a.workflows, &temporal.Options{Worker: !a.passive, Logger: a.logger})
		if err != nil {
			return nil, fmt.Errorf("execution_engine temporal: %w", err)
		}
		a.executor, a.execCloser = ex, ex
		return ex, nil
	}
	if err := os.MkdirAll(filepath.Dir(a.statePath), 0o700); err != nil {
		return nil, fmt.Errorf("workflow state directory: %w", err)
	}
	ex, err := local.Open(ctx, a.statePath, a.workflows, &local.Options{Passive: a.passive, Logger: a.logger})
	if err != nil {
		return nil, err
	}
	a.executor, a.execCloser = ex, ex
	return ex, nil
}

func (a *App) invalidateTools(server string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, ag := range a.all {
		ag.InvalidateTools(server)
	}
}

// Close closes every server connection (stopping stdio servers) and the log
// file. It is safe to call more than once.
func (a *App) Close() error {
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return nil
	}
	a.closed = true
	a.mu.Unlock()
	var errs []error
	a.mu.Lock()
	execCloser := a.execCloser
	a.mu.Unlock()
	if execCloser != nil {
		errs = append(errs, execCloser.Close())
	}
	if a.servers != nil {
		errs = append(errs, a.servers.Close())
	}
	for _, c := range a.closers {
		errs = append(errs, c.Close())
	}
	return errors.Join(errs...)
}

func unknownServer(name string, known []string) error {
	if len(known) == 0 {
		return fmt.Errorf("%w %q: no servers are configured (add them under mcp.servers)", servers.ErrUnknownServer, name)
	}
	return fmt.Errorf("%w %q (configured: %s)", servers.ErrUnknownServer, name, strings.Join(known, ", "))
}

// NewLogger builds the logger the logger section describes: console (text on
// standard error) and/or file (JSON lines at path, created with its
// directory), at the given level. The closer, when non-nil, closes the file.
func NewLogger(ls config.LoggerSettings) (*slog.Logger, io.Closer, error) {
	level := slog.LevelInfo
	switch strings.ToLower(ls.Level) {
	case "debug":
		level = slog.LevelDebug
	case "", "info":
	case "warning", "warn":
		level = slog.LevelWarn
	case "error":
		level = slog.LevelError
	default:
		return nil, nil, fmt.Errorf("logger.level: unknown level %q (want debug, info, warning, error)", ls.Level)
	}
	hopts := &slog.HandlerOptions{Level: level}
	transports := ls.Transports
	if len(transports) == 0 {
		switch ls.Type {
		case "file":
			transports = []string{"file"}
		case "none":
		default:
			transports = []string{"console"}
		}
	}
	var handlers []slog.Handler
	var closer io.Closer
	for _, t := range transports {
		switch t {
		case "console":
			handlers = append(handlers, slog.NewTextHandler(os.Stderr, hopts))
		case "file":
			if ls.Path == "" {
				return nil, nil, errors.New("logger.path: required when logger.transports includes file")
			}
			if err := os.MkdirAll(filepath.Dir(ls.Path), 0o755); err != nil {
				return nil, nil, fmt.Errorf("logger.path: %w", err)
			}
			f, err := os.OpenFile(ls.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
			if err != nil {
				return nil, nil, fmt.Errorf("logger.path: %w", err)
			}
			closer = f
			handlers = append(handlers, slog.NewJSONHandler(f, hopts))
		default:
			return nil, nil, fmt.Errorf("logger.transports: unknown transport %q (want console, file)", t)
		}
	}
	switch len(handlers) {
	case 0:
		return slog.New(slog.DiscardHandler), closer, nil
	case 1:
		return slog.New(handlers[0]), closer, nil
	}
	return slog.New(slog.NewMultiHandler(handlers...)), closer, nil
}

// mcpLevel maps MCP logging levels onto slog levels.
func mcpLevel(l mcp.LoggingLevel) slog.Level {
	switch l {
	case "debug":
		return slog.LevelDebug
	case "info", "notice":
		return slog.LevelInfo
	case "warning":
		return slog.LevelWarn
	}
	return slog.LevelError
}

// transport builds server transports: built-in servers in-process unless
// asProcesses, everything else as configured.
func transport(asProcesses bool) func(string, config.ServerSpec, io.Writer) (mcp.Transport, error) {
	return func(_ string, spec config.ServerSpec, stderr io.Writer) (mcp.Transport, error) {
		if !asProcesses {
			if t, ok, err := catalog.Transport(spec); ok {
				return t, err
			}
		}
		return servers.NewTransport(spec, stderr)
	}
}
