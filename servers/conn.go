package servers

// Design notes.
//
// A Conn is one MCP client session plus what it takes to report its death
// well. Three things make that work:
//
//   - The transport's connection is wrapped (watchedConn) so that the first
//     read or write failure is recorded, and the Conn marked dead, before
//     the SDK retires the calls in flight: those calls then fail with a
//     ServerExitedError instead of a bare EOF, and a Registry drops the Conn
//     at once so the next call reconnects. The Streamable HTTP connection is
//     not wrapped: the SDK feeds it session state through an unexported
//     method that a wrapper would hide. Its death is seen when the session
//     ends (session.Wait), which the SDK reaches shortly after the failure.
//   - Closing the wrapped connection records the close error, which for a
//     stdio server is the process's exit status (the SDK's CommandTransport
//     waits for the process on close), and stderr goes to a ring of its last
//     lines, complete once the process has been waited for.
//   - The context given to Client.Connect must outlive the connect call
//     (the SSE transport ties its event stream to it), so each Conn has a
//     lifetime context, cancelled on close; the caller's context and the
//     connect timeout only cancel it while connecting.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/config"
)

const (
	// exitGrace bounds how long a failed call waits for a dead connection
	// to finish closing, so that the exit status is known.
	exitGrace = 3 * time.Second
	// closeGrace is how long Close lets calls in flight finish before it
	// closes the connection under them.
	closeGrace = 2 * time.Second
	// maxPages bounds the pages fetched by one List call.
	maxPages = 10000
	// protocolStateless is the first protocol version without a session
	// handshake (and without logging/setLevel).
	protocolStateless = "2026-07-28"
)

// Conn is a connection to one MCP server, opened by Open (or held by a
// Registry). Its methods are safe for concurrent use. When the server exits
// or the connection breaks, calls fail with *ServerExitedError; a Conn does
// not reconnect (a Registry does).
type Conn struct {
	name      string
	spec      config.ServerSpec
	transport string
	logger    *slog.Logger
	session   *mcp.ClientSession
	stderr    *stderrTail
	subs      subscriptions
	w         *watchedConn // nil when the connection is not wrapped

	dead     chan struct{} // closed when the connection is known to be broken or closed
	deadOnce sync.Once
	onDead   func(*Conn) // called once when the connection dies unasked (may be nil)
	reaping  bool        // a Registry is closing it down; guarded by Registry.mu

	done    chan struct{} // closed when the session has ended
	waitErr error         // session.Wait's result; read after done

	cancelLife context.CancelFunc
	release    func()
	logLevel   mcp.LoggingLevel

	closing    atomic.Bool // shutdown has begun
	userClosed atomic.Bool // Close has been called (not just a Registry reaping a dead Conn)
	closeOnce  sync.Once
	closeErr   error
}

// Open connects to the server described by spec and returns the connection,
// which the caller must Close. It is the one-shot counterpart of a
// Registry (Python mcp-agent's gen_client): nothing is shared and nothing
// reconnects.
//
// ctx bounds connecting; the connection lives until Close. Connecting a
// networked server is also bounded by spec.HTTPTimeout(), and initializing
// any server by spec.ReadTimeout() when set.
func Open(ctx context.Context, spec config.ServerSpec, opts *Options) (*Conn, error) {
	o := resolveOptions(opts)
	name := specName(spec)
	return dial(ctx, name, spec, o, newClient(name, spec, o), nil)
}

// dial connects client to the server name described by spec.
func dial(ctx context.Context, name string, spec config.ServerSpec, o *options, client *client, onDead func(*Conn)) (*Conn, error) {
	tr := spec.EffectiveTransport()
	logger := o.logger.With("server", name)
	c := &Conn{
		name:      name,
		spec:      spec,
		transport: tr,
		logger:    logger,
		dead:      make(chan struct{}),
		done:      make(chan struct{}),
		onDead:    onDead,
		release:   func() {},
		stderr: &stderrTail{onLine: func(line string) {
			logger.Debug("server stderr", "line", line)
		}},
	}
	connectErr := func(err error) error {
		return &ConnectError{Server: name, Transport: tr, Target: target(spec), Err: err}
	}

	var (
		t   mcp.Transport
		err error
	)
	if o.Transport != nil {
		t, err = o.Transport(name, spec, c.stderr)
	} else {
		t, c.release, err = newTransport(spec, c.stderr)
	}
	if err != nil {
		return nil, connectErr(err)
	}
	if _, ok := t.(*mcp.StreamableClientTransport); !ok {
		c.w = &watchedConn{c: c, closed: make(chan struct{})}
		t = &watchedTransport{inner: t, w: c.w}
	}

	life, cancelLife := context.WithCancel(context.WithoutCancel(ctx))
	stopCancel := context.AfterFunc(ctx, cancelLife)
	timeout, timeoutKey := connectTimeout(spec)
	var timedOut atomic.Bool
	var timer *time.Timer
	if timeout > 0 {
		timer = time.AfterFunc(timeout, func() { timedOut.Store(true); cancelLife() })
	}
	logger.Debug("connecting", "transport", tr, "target", target(spec))
	session, err := client.Connect(life, t, &mcp.ClientSessionOptions{ProtocolVersion: o.ProtocolVersion})
	stopCancel()
	if timer != nil {
		timer.Stop()
	}
	if err == nil && life.Err() != nil {
		// Cancelled or timed out just as the handshake finished.
		session.Close()
		err = life.Err()
	}
	if err != nil {
		cancelLife()
		c.release()
		switch {
		case c.failure() != nil && !timedOut.Load() && ctx.Err() == nil:
			err = c.exitError(ctx)
		case timedOut.Load():
			err = fmt.Errorf("no answer after %s (%s); is the server running and speaking MCP?", timeout, timeoutKey)
		case ctx.Err() != nil:
			err = ctx.Err()
		}
		return nil, connectErr(err)
	}
	c.session = session
	c.cancelLife = cancelLife
	c.logLevel = o.LogLevel
	if res := session.InitializeResult(); res != nil {
		logger.Debug("connected", "protocol", res.ProtocolVersion, "server_info", res.ServerInfo)
	}
	c.setLogLevel(ctx, o.LogLevel)
	client.add(c)

	go func() {
		err := session.Wait()
		client.remove(c)
		c.waitErr = err
		c.markDead()
		close(c.done)
		cancelLife()
		c.release()
	}()
	return c, nil
}

// connectTimeout is the bound on connecting to spec, and the setting it
// comes from.
func connectTimeout(spec config.ServerSpec) (time.Duration, string) {
	if spec.EffectiveTransport() == config.TransportStdio || spec.EffectiveTransport() == "" {
		if rt := spec.ReadTimeout(); rt > 0 {
			return rt, "read_timeout_seconds"
		}
		return 0, ""
	}
	return spec.HTTPTimeout(), "http_timeout_seconds"
}

// setLogLevel asks the server for log messages at level and above, when it
// offers logging and the protocol still has logging/setLevel.
func (c *Conn) setLogLevel(ctx context.Context, level mcp.LoggingLevel) {
	res := c.session.InitializeResult()
	if level == "" || res == nil || res.Capabilities == nil || res.Capabilities.Logging == nil || res.ProtocolVersion >= protocolStateless {
		return
	}
	timeout := c.spec.ReadTimeout()
	if timeout <= 0 {
		timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	//lint:ignore SA1019 logging is deprecated in 2026-07-28; this path only runs for older versions.
	if err := c.session.SetLoggingLevel(ctx, &mcp.SetLoggingLevelParams{Level: level}); err != nil {
		c.logger.Warn("logging/setLevel failed; server logs may be missing", "level", level, "error", err)
	}
}

// markDead records that the connection is gone. Unless the Conn is being
// closed, it reports the death to onDead.
func (c *Conn) markDead() {
	c.deadOnce.Do(func() {
		close(c.dead)
		if !c.closing.Load() && c.onDead != nil {
			c.onDead(c)
		}
	})
}

// failure is the first read or write failure of a wrapped connection.
func (c *Conn) failure() error {
	if c.w == nil {
		return nil
	}
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	return c.w.cause
}

func (c *Conn) isDead() bool {
	select {
	case <-c.dead:
		return true
	default:
		return false
	}
}

// exitError describes the connection's death, waiting (bounded by
// exitGrace and ctx) for it to finish closing so the exit status and the
// whole stderr tail are known.
func (c *Conn) exitError(ctx context.Context) *ServerExitedError {
	t := time.NewTimer(exitGrace)
	defer t.Stop()
	if c.w != nil {
		select {
		case <-c.w.closed:
		case <-t.C:
		case <-ctx.Done():
		}
	} else if c.session != nil {
		select {
		case <-c.done:
		case <-t.C:
		case <-ctx.Done():
		}
	}
	e := &ServerExitedError{Server: c.name, Transport: c.transport, Err: c.cause()}
	if c.transport == config.TransportStdio || c.stderr.String() != "" {
		e.Stderr = c.stderr.String()
	}
	return e
}

// cause is the best description available of why the connection died.
func (c *Conn) cause() error {
	if c.w == nil {
		select {
		case <-c.done:
			if c.waitErr != nil {
				return c.waitErr
			}
		default:
		}
		return errors.New("connection lost")
	}
	w := c.w
	w.mu.Lock()
	cause := w.cause
	w.mu.Unlock()
	var closeErr error
	closed := false
	select {
	case <-w.closed:
		closed, closeErr = true, w.closeErr
	default:
	}
	var perr *protocolError
	switch {
	case errors.As(cause, &perr):
		return cause
	case closed && closeErr != nil:
		return closeErr
	case cause != nil && !errors.Is(cause, io.EOF):
		return cause
	case c.transport != config.TransportStdio:
		return errors.New("connection closed by the server")
	case closed:
		return errors.New("exit status 0")
	default:
		return errors.New("closed its stdout (the process may still be running)")
	}
}

// Name is the server's name: spec.Name, or one derived from the command or
// URL when that is empty.
func (c *Conn) Name() string { return c.name }

// Spec is the configuration the Conn was opened with.
func (c *Conn) Spec() config.ServerSpec { return c.spec }

// Session is the underlying SDK session, for what this package does not
// wrap. Calls made on it directly get no timeout or error translation.
func (c *Conn) Session() *mcp.ClientSession { return c.session }

// ProtocolVersion is the negotiated MCP protocol version.
func (c *Conn) ProtocolVersion() string {
	if res := c.session.InitializeResult(); res != nil {
		return res.ProtocolVersion
	}
	return ""
}

// Close closes the session and, for stdio servers, ends the process (stdin
// is closed; the process is sent SIGTERM, then SIGKILL, if it does not exit
// within a few seconds). Calls still in flight get a couple of seconds to
// finish, then fail with ErrClosed (stdio, SSE, WebSocket; a Streamable
// HTTP call ends with its own context). Close waits for everything the Conn
// started.
func (c *Conn) Close() error {
	c.userClosed.Store(true)
	return c.shutdown()
}

// shutdown closes the Conn once; see Close.
func (c *Conn) shutdown() error {
	c.closeOnce.Do(func() {
		wasDead := c.isDead()
		c.closing.Store(true)
		errc := make(chan error, 1)
		go func() { errc <- c.session.Close() }()
		var err error
		t := time.NewTimer(closeGrace)
		select {
		case err = <-errc:
		case <-t.C:
			// Calls are still in flight: the SDK's graceful close would wait
			// for them. Close the connection under them instead.
			c.logger.Debug("closing with calls in flight")
			if c.w != nil {
				c.w.Close()
			}
			c.cancelLife()
			err = <-errc
		}
		t.Stop()
		<-c.done
		var exitErr *exec.ExitError
		switch {
		case wasDead, err == nil, errors.Is(err, mcp.ErrConnectionClosed):
		case errors.As(err, &exitErr):
			c.logger.Debug("server process ended on close", "status", err)
		default:
			c.closeErr = fmt.Errorf("close server %q: %w", c.name, err)
		}
	})
	return c.closeErr
}

// usable returns an error when no call should be made on c.
func (c *Conn) usable(ctx context.Context) error {
	if c.userClosed.Load() {
		return fmt.Errorf("server %q: connection %w", c.name, ErrClosed)
	}
	if c.isDead() {
		return c.exitError(ctx)
	}
	return nil
}

// call runs one request on c's session with the server's read timeout, and
// translates its error.
func call[R any](ctx context.Context, c *Conn, method string, fn func(context.Context, *mcp.ClientSession) (R, error)) (R, error) {
	var zero R
	if err := c.usable(ctx); err != nil {
		return zero, err
	}
	callCtx, cancel := ctx, context.CancelFunc(func() {})
	rt := c.spec.ReadTimeout()
	if rt > 0 {
		callCtx, cancel = context.WithTimeout(ctx, rt)
	}
	defer cancel()
	start := time.Now()
	res, err := fn(callCtx, c.session)
	if err == nil {
		return res, nil
	}
	return zero, c.callError(ctx, callCtx, method, start, rt, err)
}

func (c *Conn) callError(ctx, callCtx context.Context, method string, start time.Time, rt time.Duration, err error) error {
	if ctx.Err() != nil {
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			return &TimeoutError{Server: c.name, Method: method, After: time.Since(start).Round(time.Millisecond)}
		}
		return fmt.Errorf("server %q: %s: %w", c.name, method, ctx.Err())
	}
	if callCtx.Err() != nil {
		return &TimeoutError{Server: c.name, Method: method, After: rt}
	}
	if c.userClosed.Load() && c.failure() == nil {
		return fmt.Errorf("server %q: %s: connection %w", c.name, method, ErrClosed)
	}
	var rpcErr *jsonrpc.Error
	if errors.As(err, &rpcErr) {
		return fmt.Errorf("server %q: %w", c.name, err)
	}
	if c.isDead() {
		return c.exitError(ctx)
	}
	if c.w == nil {
		// The unwrapped (Streamable HTTP) connection: any transport error
		// ends the SDK session, shortly after the failed call returns.
		t := time.NewTimer(exitGrace)
		defer t.Stop()
		select {
		case <-c.dead:
			return c.exitError(ctx)
		case <-t.C:
		case <-ctx.Done():
		}
	}
	return fmt.Errorf("server %q: %s: %w", c.name, method, err)
}

// requestMeta returns a copy of meta for a request that runs a server
// handler. In protocol 2026-07-28 the log level travels with each request
// (there is no logging/setLevel), so it is added here.
func (c *Conn) requestMeta(meta mcp.Meta) mcp.Meta {
	meta = maps.Clone(meta)
	if c.logLevel != "" && c.ProtocolVersion() >= protocolStateless {
		if _, ok := meta[mcp.MetaKeyLogLevel]; !ok {
			if meta == nil {
				meta = mcp.Meta{}
			}
			meta[mcp.MetaKeyLogLevel] = c.logLevel
		}
	}
	return meta
}

func (c *Conn) capabilities() *mcp.ServerCapabilities {
	if res := c.session.InitializeResult(); res != nil && res.Capabilities != nil {
		return res.Capabilities
	}
	return &mcp.ServerCapabilities{}
}

func (c *Conn) notSupported(what string) error {
	return fmt.Errorf("server %q: %s: %w (it did not advertise the capability)", c.name, what, ErrNotSupported)
}

// listAll fetches every page of a list method.
func listAll[T any](ctx context.Context, c *Conn, method string, page func(ctx context.Context, s *mcp.ClientSession, cursor string) ([]*T, string, error)) ([]*T, error) {
	type result struct {
		items []*T
		next  string
	}
	var all []*T
	seen := map[string]bool{}
	cursor := ""
	for range maxPages {
		r, err := call(ctx, c, method, func(ctx context.Context, s *mcp.ClientSession) (result, error) {
			items, next, err := page(ctx, s, cursor)
			return result{items, next}, err
		})
		if err != nil {
			return nil, err
		}
		all = append(all, r.items...)
		if r.next == "" {
			return all, nil
		}
		if seen[r.next] {
			return nil, fmt.Errorf("server %q: %s returned the cursor %q twice; stopped to avoid looping", c.name, method, r.next)
		}
		seen[r.next] = true
		cursor = r.next
	}
	return nil, fmt.Errorf("server %q: %s returned more than %d pages", c.name, method, maxPages)
}

// ListTools lists all the server's tools (every page), limited to the
// spec's allowed_tools when that is set. A server without tools gives an
// empty list.
func (c *Conn) ListTools(ctx context.Context) ([]*mcp.Tool, error) {
	if err := c.usable(ctx); err != nil {
		return nil, err
	}
	if c.capabilities().Tools == nil {
		return nil, nil
	}
	tools, err := listAll(ctx, c, "tools/list", func(ctx context.Context, s *mcp.ClientSession, cursor string) ([]*mcp.Tool, string, error) {
		r, err := s.ListTools(ctx, &mcp.ListToolsParams{Cursor: cursor})
		if err != nil {
			return nil, "", err
		}
		return r.Tools, r.NextCursor, nil
	})
	if err != nil || len(c.spec.AllowedTools) == 0 {
		return tools, err
	}
	return slices.DeleteFunc(tools, func(t *mcp.Tool) bool { return !slices.Contains(c.spec.AllowedTools, t.Name) }), nil
}

// CallTool calls a tool. A tool that fails reports it in the result
// (IsError), not as an error; errors are for protocol and connection
// failures, and for tools outside the spec's allowed_tools
// (ErrToolNotAllowed). p is not modified.
func (c *Conn) CallTool(ctx context.Context, p *mcp.CallToolParams) (*mcp.CallToolResult, error) {
	if p == nil || p.Name == "" {
		return nil, fmt.Errorf("server %q: CallTool needs a tool name", c.name)
	}
	if len(c.spec.AllowedTools) > 0 && !slices.Contains(c.spec.AllowedTools, p.Name) {
		return nil, fmt.Errorf("server %q: tool %q: %w (allowed_tools: %v)", c.name, p.Name, ErrToolNotAllowed, c.spec.AllowedTools)
	}
	// The SDK fills in Arguments and _meta; work on a copy so callers may
	// reuse p concurrently.
	cp := *p
	cp.Meta = c.requestMeta(p.Meta)
	if m, ok := cp.Arguments.(map[string]any); ok && m == nil {
		cp.Arguments = nil // a typed nil map would be sent as null; the SDK sends {}
	}
	return call(ctx, c, "tools/call", func(ctx context.Context, s *mcp.ClientSession) (*mcp.CallToolResult, error) {
		return s.CallTool(ctx, &cp)
	})
}

// ListResources lists all the server's resources (every page). A server
// without resources gives an empty list.
func (c *Conn) ListResources(ctx context.Context) ([]*mcp.Resource, error) {
	if err := c.usable(ctx); err != nil {
		return nil, err
	}
	if c.capabilities().Resources == nil {
		return nil, nil
	}
	return listAll(ctx, c, "resources/list", func(ctx context.Context, s *mcp.ClientSession, cursor string) ([]*mcp.Resource, string, error) {
		r, err := s.ListResources(ctx, &mcp.ListResourcesParams{Cursor: cursor})
		if err != nil {
			return nil, "", err
		}
		return r.Resources, r.NextCursor, nil
	})
}

// ListResourceTemplates lists all the server's resource templates (every
// page). A server without resources gives an empty list.
func (c *Conn) ListResourceTemplates(ctx context.Context) ([]*mcp.ResourceTemplate, error) {
	if err := c.usable(ctx); err != nil {
		return nil, err
	}
	if c.capabilities().Resources == nil {
		return nil, nil
	}
	return listAll(ctx, c, "resources/templates/list", func(ctx context.Context, s *mcp.ClientSession, cursor string) ([]*mcp.ResourceTemplate, string, error) {
		r, err := s.ListResourceTemplates(ctx, &mcp.ListResourceTemplatesParams{Cursor: cursor})
		if err != nil {
			return nil, "", err
		}
		return r.ResourceTemplates, r.NextCursor, nil
	})
}

// ReadResource reads the resource at uri.
func (c *Conn) ReadResource(ctx context.Context, uri string) (*mcp.ReadResourceResult, error) {
	if err := c.usable(ctx); err != nil {
		return nil, err
	}
	if c.capabilities().Resources == nil {
		return nil, c.notSupported("resources/read " + uri)
	}
	return call(ctx, c, "resources/read", func(ctx context.Context, s *mcp.ClientSession) (*mcp.ReadResourceResult, error) {
		return s.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri, Meta: c.requestMeta(nil)})
	})
}

// ListPrompts lists all the server's prompts (every page). A server
// without prompts gives an empty list.
func (c *Conn) ListPrompts(ctx context.Context) ([]*mcp.Prompt, error) {
	if err := c.usable(ctx); err != nil {
		return nil, err
	}
	if c.capabilities().Prompts == nil {
		return nil, nil
	}
	return listAll(ctx, c, "prompts/list", func(ctx context.Context, s *mcp.ClientSession, cursor string) ([]*mcp.Prompt, string, error) {
		r, err := s.ListPrompts(ctx, &mcp.ListPromptsParams{Cursor: cursor})
		if err != nil {
			return nil, "", err
		}
		return r.Prompts, r.NextCursor, nil
	})
}

// GetPrompt renders the prompt name with args.
func (c *Conn) GetPrompt(ctx context.Context, name string, args map[string]string) (*mcp.GetPromptResult, error) {
	if err := c.usable(ctx); err != nil {
		return nil, err
	}
	if c.capabilities().Prompts == nil {
		return nil, c.notSupported("prompts/get " + name)
	}
	return call(ctx, c, "prompts/get", func(ctx context.Context, s *mcp.ClientSession) (*mcp.GetPromptResult, error) {
		return s.GetPrompt(ctx, &mcp.GetPromptParams{Name: name, Arguments: args, Meta: c.requestMeta(nil)})
	})
}

// Ping checks that the server answers.
func (c *Conn) Ping(ctx context.Context) error {
	_, err := call(ctx, c, "ping", func(ctx context.Context, s *mcp.ClientSession) (struct{}, error) {
		return struct{}{}, s.Ping(ctx, nil)
	})
	return err
}

// protocolError is a stdio server's stdout carrying something that is not
// JSON-RPC.
type protocolError struct{ err error }

func (e *protocolError) Error() string {
	return "wrote something that is not JSON-RPC to stdout (a stdio server must print only protocol messages on stdout and its logs on stderr): " + e.err.Error()
}

// watchedTransport wraps a transport's connection in a watchedConn.
type watchedTransport struct {
	inner mcp.Transport
	w     *watchedConn
}

func (t *watchedTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	conn, err := t.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	t.w.inner = conn
	return t.w, nil
}

// watchedConn records the first failure of a connection and its close
// result.
type watchedConn struct {
	c     *Conn
	inner mcp.Connection

	mu      sync.Mutex
	cause   error                   // first read or write failure
	listens map[jsonrpc.ID][]string // subscriptions/listen requests in flight: their resources
	closing atomic.Bool

	closeOnce sync.Once
	closed    chan struct{} // closed when inner.Close has returned
	closeErr  error
}

func (w *watchedConn) SessionID() string { return w.inner.SessionID() }

func (w *watchedConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	msg, err := w.inner.Read(ctx)
	if err != nil {
		err = w.fail(err, true)
	} else {
		w.sawResponse(msg)
	}
	return msg, err
}

func (w *watchedConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	w.noteListen(msg)
	err := w.inner.Write(ctx, msg)
	if err != nil && ctx.Err() == nil {
		err = w.fail(err, false)
	}
	return err
}

// fail records err as the connection's failure (unless the connection is
// being closed by us) and returns the error to pass on.
func (w *watchedConn) fail(err error, reading bool) error {
	if w.closing.Load() {
		return err
	}
	if reading && w.c.transport == config.TransportStdio && !errors.Is(err, io.EOF) {
		err = &protocolError{err: err}
	}
	w.mu.Lock()
	if w.cause == nil {
		w.cause = err
	}
	w.mu.Unlock()
	w.c.markDead()
	return err
}

func (w *watchedConn) Close() error {
	w.closing.Store(true)
	w.closeOnce.Do(func() {
		w.closeErr = w.inner.Close()
		close(w.closed)
		w.c.markDead()
	})
	<-w.closed
	return w.closeErr
}
