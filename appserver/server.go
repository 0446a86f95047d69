package appserver

// Design notes: shutdown.
//
// Every request a client sends (tools/call above all) passes a receiving
// middleware that counts it in flight and gives it a context the Server can
// cancel. A request stays in flight until its response is written, not
// merely until its handler returns: go-sdk writes the response after the
// middleware chain has returned, and closing the session in between (as
// Run did when a call finished during Shutdown) drops it. go-sdk cancels a
// request's own context once the response is written (or the connection is
// gone), which is what the middleware waits for. Shutdown first refuses new
// requests, then waits for the ones in flight until its context is done,
// then cancels what is left and waits (a bounded time) for those to be
// answered, and only then are the sessions closed. Workflow runs are not calls: a run started by workflows-run lives
// in the executor, which journals every change before acknowledging it, so
// closing the executor after the server leaves nothing half-written.

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/app"
	"github.com/mcp-agent-go/mcp-agent/llm"
)

// DefaultShutdownTimeout is how long Shutdown lets calls in flight finish
// when Options.ShutdownTimeout is zero.
const DefaultShutdownTimeout = 10 * time.Second

// ErrShuttingDown is the error a request gets once Shutdown has begun.
var ErrShuttingDown = errors.New("server is shutting down")

// ErrInvalidOptions is wrapped by the errors New returns for options that
// cannot work (an agent without an LLM factory, a tool name clash, ...).
var ErrInvalidOptions = errors.New("invalid app server options")

// Options configures New. The zero value serves the app's declared agents
// (which then need NewLLM) and no workflows.
type Options struct {
	// Version is the server version reported to clients; "" means "1.0.0".
	Version string
	// Instructions are sent to clients at initialization; "" describes the
	// app from its name and description.
	Instructions string
	// Logger receives the server's operational logs; nil means the app's.
	Logger *slog.Logger

	// Agents are the agents served as tools. Nil serves every agent the
	// app declares (agents.definitions); a non-nil empty slice serves none.
	Agents []*agent.Agent
	// NewLLM builds the LLM that runs one agent call (called once per call,
	// so calls share no conversation). Required when any agent is served.
	NewLLM func(ag *agent.Agent) (llm.AugmentedLLM, error)
	// Prices prices the usage agent calls report; nil means
	// llm.DefaultPrices.
	Prices *llm.PriceTable

	// Executor runs the app's workflows; nil serves no workflow tools or
	// run resources. A local executor (executor/local) fits.
	Executor Executor
	// Tools are the app's own tools (NewTool, NewAsyncTool).
	Tools []*Tool

	// Upstream forwards human input, sampling and elicitation to the
	// connected client. Nil means a new one, which forwards only what the
	// app's handlers send it: build the app with an Upstream's handlers for
	// forwarding to work (see Upstream).
	Upstream *Upstream
	// ShutdownTimeout is how long the Serve methods let calls in flight
	// finish once their context is done, before cancelling them; zero means
	// DefaultShutdownTimeout.
	ShutdownTimeout time.Duration
}

// A Server is an app served as an MCP server: its agents, workflows and
// tools as MCP tools, its workflow runs as resources. One Server serves any
// number of sessions over any number of transports. Create it with New.
type Server struct {
	app     *app.App
	opts    Options
	logger  *slog.Logger
	mcp     *mcp.Server
	up      *Upstream
	agents  []*agent.Agent
	started time.Time
	// stateKey signs the request state of multi round-trip calls.
	stateKey []byte

	mu       sync.Mutex
	closing  bool
	inflight map[*inflightReq]struct{}
	idle     chan struct{} // closed and replaced when inflight drops to zero
}

type inflightReq struct {
	method string
	cancel context.CancelCauseFunc
}

// toolNameRE is what MCP clients accept as a tool name.
var toolNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)

// New builds the MCP server for a. opts may be nil. It fails (wrapping
// ErrInvalidOptions) when an agent is served without Options.NewLLM, when a
// name cannot be a tool name, and when two tools would have the same name.
func New(a *app.App, opts *Options) (*Server, error) {
	if a == nil {
		return nil, fmt.Errorf("%w: app is nil", ErrInvalidOptions)
	}
	s := &Server{app: a, inflight: map[*inflightReq]struct{}{}, idle: make(chan struct{}), started: time.Now()}
	close(s.idle)
	s.stateKey = make([]byte, 32)
	_, _ = rand.Read(s.stateKey)
	if opts != nil {
		s.opts = *opts
	}
	s.logger = s.opts.Logger
	if s.logger == nil {
		s.logger = a.Logger()
	}
	s.up = s.opts.Upstream
	if s.up == nil {
		s.up = NewUpstream()
	}
	if s.opts.Version == "" {
		s.opts.Version = "1.0.0"
	}
	instructions := s.opts.Instructions
	if instructions == "" {
		instructions = fmt.Sprintf("MCP server exposing the %s app's agents and workflows.", a.Name())
		if d := a.Settings().Description; d != "" {
			instructions += " " + d
		}
	}
	s.mcp = mcp.NewServer(&mcp.Implementation{Name: a.Name(), Version: s.opts.Version}, &mcp.ServerOptions{
		Instructions: instructions,
		Logger:       s.logger,
		// Logging is on for older clients. Tools, prompts and resources
		// are always declared: the server answers their list methods (with
		// empty lists when there is nothing), and 2026-07-28 clients expect
		// what a server answers to be declared.
		Capabilities: &mcp.ServerCapabilities{
			Logging:   &mcp.LoggingCapabilities{},
			Tools:     &mcp.ToolCapabilities{ListChanged: true},
			Prompts:   &mcp.PromptCapabilities{ListChanged: true},
			Resources: &mcp.ResourceCapabilities{ListChanged: true},
		},
	})
	s.mcp.AddReceivingMiddleware(s.track)

	names := map[string]string{} // tool name -> what registered it
	add := func(t *mcp.Tool, h mcp.ToolHandler, what string) error {
		if !toolNameRE.MatchString(t.Name) {
			return fmt.Errorf("%w: %s: %q is not a valid MCP tool name (letters, digits, '_', '-' and '.', at most 128)", ErrInvalidOptions, what, t.Name)
		}
		if prev, ok := names[t.Name]; ok {
			return fmt.Errorf("%w: %s and %s are both tool %q: rename one", ErrInvalidOptions, prev, what, t.Name)
		}
		names[t.Name] = what
		s.mcp.AddTool(t, s.wrap(h))
		return nil
	}
	if err := s.addAgentTools(add); err != nil {
		return nil, err
	}
	if s.opts.Executor != nil {
		if err := s.addWorkflowTools(add); err != nil {
			return nil, err
		}
		s.addRunResources()
	}
	for _, t := range s.opts.Tools {
		if t == nil || t.tool == nil {
			return nil, fmt.Errorf("%w: a nil or zero Tool (build tools with NewTool or NewAsyncTool)", ErrInvalidOptions)
		}
		if t.workflow != "" && s.opts.Executor == nil {
			return nil, fmt.Errorf("%w: async tool %q needs Options.Executor to start workflow %q", ErrInvalidOptions, t.tool.Name, t.workflow)
		}
		if err := add(t.tool, t.handler(s), fmt.Sprintf("app tool %q", t.tool.Name)); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// MCPServer returns the underlying go-sdk server, to add prompts, resources
// or tools of your own, or to serve it on a transport of your choice.
func (s *Server) MCPServer() *mcp.Server { return s.mcp }

// App returns the served app.
func (s *Server) App() *app.App { return s.app }

// Upstream returns the Upstream the server reports its calls to.
func (s *Server) Upstream() *Upstream { return s.up }

// wrap registers each tool call with the Upstream, with its session and
// progress token, for the time it runs.
func (s *Server) wrap(h mcp.ToolHandler) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		c := &call{
			session: req.Session,
			token:   req.Params.GetProgressToken(),
			tool:    req.Params.Name,
			caps:    req.ClientCapabilities(),
			mrtr:    req.ProtocolVersion() >= sessionlessVersion,
		}
		end := s.up.begin(c)
		defer end()
		return h(withCall(ctx, c), req)
	}
}

// track is the receiving middleware that counts requests in flight, gives
// them a cancellable context and refuses new ones during Shutdown.
func (s *Server) track(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if strings.HasPrefix(method, "notifications/") {
			return next(ctx, method, req)
		}
		// The request's context is cancelled by Shutdown, or when the
		// request's own context ends. Not when the handler returns: go-sdk
		// may still use it to write the response.
		parent := ctx
		ctx, cancel := context.WithCancelCause(ctx)
		context.AfterFunc(parent, func() { cancel(nil) })
		r := &inflightReq{method: method, cancel: cancel}
		s.mu.Lock()
		if s.closing {
			s.mu.Unlock()
			cancel(nil)
			return nil, &jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: ErrShuttingDown.Error() + ": retry on another server or later"}
		}
		if len(s.inflight) == 0 {
			s.idle = make(chan struct{})
		}
		s.inflight[r] = struct{}{}
		s.mu.Unlock()
		// The request is done once its response is written, which go-sdk
		// does after the handler returns and then cancels the request's
		// context (parent). Counting it done when the handler returns let
		// Shutdown close the session in between, losing the response.
		answered := func() {
			s.mu.Lock()
			delete(s.inflight, r)
			if len(s.inflight) == 0 {
				close(s.idle)
			}
			s.mu.Unlock()
		}
		defer func() { _ = context.AfterFunc(parent, answered) }()
		return next(ctx, method, req)
	}
}

// InFlight returns the number of requests being handled.
func (s *Server) InFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.inflight)
}

// cancelGrace bounds how long Shutdown waits for cancelled handlers.
const cancelGrace = 5 * time.Second

// Shutdown stops the server taking requests (new ones fail with
// ErrShuttingDown), waits for the requests in flight to finish until ctx is
// done, then cancels those still running and waits a few seconds more for
// them to return. It returns nil when every request finished on its own,
// and an error naming how many were cancelled otherwise. Sessions stay
// open; the Serve methods close them after Shutdown.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	s.closing = true
	idle := s.idle
	s.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
	}
	s.mu.Lock()
	n := len(s.inflight)
	for r := range s.inflight {
		r.cancel(ErrShuttingDown)
	}
	idle = s.idle
	s.mu.Unlock()
	if n == 0 {
		return nil
	}
	t := time.NewTimer(cancelGrace)
	defer t.Stop()
	select {
	case <-idle:
		return fmt.Errorf("%d request(s) still running at the shutdown deadline were cancelled", n)
	case <-t.C:
		return fmt.Errorf("%d request(s) still running at the shutdown deadline were cancelled; some did not return within %s", n, cancelGrace)
	}
}

func (s *Server) shutdownTimeout() time.Duration {
	if s.opts.ShutdownTimeout > 0 {
		return s.opts.ShutdownTimeout
	}
	return DefaultShutdownTimeout
}

// drainAndClose is what every Serve method does when its context is done.
func (s *Server) drainAndClose() error {
	ctx, cancel := context.WithTimeout(context.Background(), s.shutdownTimeout())
	defer cancel()
	err := s.Shutdown(ctx)
	if err != nil {
		s.logger.Warn("shutdown", "error", err)
	}
	for ss := range s.mcp.Sessions() {
		_ = ss.Close()
	}
	return err
}

// Run serves one connection on t (any go-sdk transport) until the client
// disconnects or ctx is done; then it shuts down gracefully (see Shutdown)
// and returns nil.
func (s *Server) Run(ctx context.Context, t mcp.Transport) error {
	// The session's context is not ctx: calls in flight must survive ctx
	// until Shutdown has given them their time.
	ss, err := s.mcp.Connect(context.WithoutCancel(ctx), t, nil)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- ss.Wait() }()
	select {
	case err := <-done:
		if err == nil || errors.Is(err, mcp.ErrConnectionClosed) || errors.Is(err, context.Canceled) {
			return nil
		}
		return err
	case <-ctx.Done():
		_ = s.drainAndClose()
		<-done
		return nil
	}
}

// ServeStdio serves one client on standard input and output (the transport
// MCP clients use to run a local server as a child process) until the
// client closes its end or ctx is done.
func (s *Server) ServeStdio(ctx context.Context) error {
	return s.Run(ctx, &mcp.StdioTransport{})
}
