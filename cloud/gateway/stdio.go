package gateway

// The STDIO-to-HTTP adapter.
//
// Clients talk to a go-sdk mcp.Server (the "front"), served by the SDK's own
// StreamableHTTPHandler: the SDK does the Streamable HTTP protocol of both
// generations (sessions, SSE, the GET stream, stateless 2026-07-28 requests,
// server/discover, header validation). A receiving middleware on the front
// forwards every request to the stdio process through the upstream router
// instead of running local features, and relays what the process sends back
// through the front's ServerSession, using the request's own context so that
// progress and server->client requests travel on that request's stream.
//
// A raw mcp.StreamableServerTransport would not do: it routes request-scoped
// messages by a context key only ServerSession sets, so every progress
// notification would land on the standalone GET stream, which stateless
// clients do not have.
//
// The common request of an established 2025-era session (tools/call and
// the other forwarded reads, without _meta) skips the front and the SDK's
// handler: see fastpath.go.
//
// Shared mode: one front and one upstream slot for all sessions. PerSession
// mode: each new HTTP session gets its own front and its own slot (process),
// so nothing the process sends can reach another session.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// gatewayInfo is how the gateway introduces itself to stdio servers.
var gatewayInfo = &mcp.Implementation{Name: "mcp-agent-gateway", Version: "0.1.0"}

// upstreamProtocol is the version the gateway asks shared stdio servers for.
const upstreamProtocol = "2025-11-25"

// newProtocol is the first sessionless protocol version.
const newProtocol = "2026-07-28"

// stdioServer serves one registered StdioBackend.
type stdioServer struct {
	g       *Gateway
	name    string
	backend StdioBackend
	mode    Mode

	shared    *frontend                  // Shared mode
	stateful  *mcp.StreamableHTTPHandler // both modes
	stateless *mcp.StreamableHTTPHandler // Shared mode: 2026-07-28 requests
	template  *mcp.Server                // PerSession: answers the handler's version checks

	mu       sync.Mutex
	sessions map[*frontend]struct{} // PerSession fronts with a live session
	closed   bool
	wg       sync.WaitGroup        // PerSession session watchers
	probed   *mcp.InitializeResult // PerSession: the handshake of the server/discover probe

	probeMu sync.Mutex // serializes probes

	ansMu     sync.Mutex
	unwritten int           // forwarded requests whose responses go-sdk has not written yet
	written   chan struct{} // closed when unwritten drops to 0

	callTimeout time.Duration // bounds each forwarded request; <= 0: none

	fastMu sync.RWMutex
	fast   map[string]*fastSession // 2025-era sessions by ID (fastpath.go)
	fastWG sync.WaitGroup          // their watchers
	served atomic.Int64            // requests the fast paths answered

	noFastStateless atomic.Bool // tests: 2026-07-28 requests to the SDK's handler only (fast26.go)

	sus suspender // stateless calls that may wait for client input (mrtr.go)
}

func newStdioServer(g *Gateway, name string, b StdioBackend, mode Mode, callTimeout time.Duration) *stdioServer {
	s := &stdioServer{g: g, name: name, backend: b, mode: mode, callTimeout: callTimeout, sessions: make(map[*frontend]struct{}), fast: make(map[string]*fastSession)}
	httpOpts := mcp.StreamableHTTPOptions{
		Logger:                     g.sdkLogger,
		DisableLocalhostProtection: true, // the gateway checks Host itself, with its allowlist
		MaxRequestBodyBytes:        g.opts.MaxRequestBytes,
		// No SessionTimeout: the fast path, which the SDK's timer does not
		// see, keeps the idle timeout of every session.
	}
	if mode == Shared {
		s.shared = s.newFrontend(s.newSlot(nil))
		s.stateful = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.shared.srv }, &httpOpts)
		stateless := httpOpts
		stateless.Stateless = true
		stateless.PropagateRequestCancellation = true
		s.stateless = mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return s.shared.srv }, &stateless)
	} else {
		s.template = mcp.NewServer(gatewayInfo, nil)
		s.stateful = mcp.NewStreamableHTTPHandler(s.perSessionServer, &httpOpts)
	}
	return s
}

// perSessionServer gives a new session its own front; requests of existing
// sessions are routed by session ID, for them the handler only reads the
// template's protocol versions.
func (s *stdioServer) perSessionServer(r *http.Request) *mcp.Server {
	if r.Method == http.MethodPost && r.Header.Get("Mcp-Session-Id") == "" {
		return s.newFrontend(nil).srv
	}
	return s.template
}

func (s *stdioServer) serveMCP(w http.ResponseWriter, r *http.Request) {
	jw := &jsonErrorWriter{ResponseWriter: w}
	defer jw.finish()
	if s.stateless != nil && r.Header.Get("Mcp-Protocol-Version") >= newProtocol {
		if s.serveFastStateless(w, r) {
			return
		}
		s.stateless.ServeHTTP(jw, r)
		return
	}
	switch r.Method {
	case http.MethodDelete:
		s.retire(r.Header.Get("Mcp-Session-Id"))
	case http.MethodPost:
		if fs := s.lookupSession(r.Header.Get("Mcp-Session-Id")); fs != nil {
			// Like the SDK's timer, the idle timer pauses while POSTs are served.
			fs.begin()
			defer fs.end()
			if s.serveFast(w, r, fs) {
				return
			}
		}
	}
	s.stateful.ServeHTTP(jw, r)
}

// close ends every session and process of the server.
func (s *stdioServer) close() {
	s.mu.Lock()
	s.fastMu.Lock()
	s.closed = true
	s.fastMu.Unlock()
	fronts := make([]*frontend, 0, len(s.sessions)+1)
	for f := range s.sessions {
		fronts = append(fronts, f)
	}
	s.mu.Unlock()
	if s.shared != nil {
		fronts = append(fronts, s.shared)
	}
	// Processes first, so that calls in flight fail at once and sessions
	// (which wait for their handlers) can close.
	for _, f := range fronts {
		if sl := f.slot.Load(); sl != nil {
			sl.close()
		}
	}
	s.sus.close()
	s.waitAnswered(time.Second)
	for _, f := range fronts {
		for ss := range f.srv.Sessions() {
			_ = ss.Close()
		}
	}
	s.wg.Wait()
	s.fastWG.Wait()
}

// A slot holds the current upstream of a shared server or of one session,
// opening it on first use and again after the process exits.
type slot struct {
	s     *stdioServer
	f     *frontend
	init  *mcp.InitializeParams // what the slot's process is initialized with
	owner *mcp.ServerSession    // PerSession: the session the process belongs to

	mu       sync.Mutex
	cur      *upstream
	opening  chan struct{} // non-nil while an Open is in progress
	closed   bool
	logLevel mcp.LoggingLevel // most verbose level forwarded (shared)
	subs     map[string]int   // resource URI -> subscribers
}

func (s *stdioServer) newSlot(init *mcp.InitializeParams) *slot {
	if init == nil {
		//lint:ignore SA1019 sampling is deprecated in 2026-07-28 but 2025-11-25 servers use it.
		sampling := &mcp.SamplingCapabilities{}
		init = &mcp.InitializeParams{
			ProtocolVersion: upstreamProtocol,
			ClientInfo:      gatewayInfo,
			// Relayable during a call. Roots are not declared: a shared
			// process cannot have one client's roots.
			Capabilities: &mcp.ClientCapabilities{
				Sampling:    sampling,
				Elicitation: &mcp.ElicitationCapabilities{Form: &mcp.FormElicitationCapabilities{}, URL: &mcp.URLElicitationCapabilities{}},
			},
		}
	}
	return &slot{s: s, init: init, subs: make(map[string]int)}
}

// get returns the live upstream, opening it if needed.
func (sl *slot) get(ctx context.Context) (*upstream, error) {
	for range 100 {
		sl.mu.Lock()
		if sl.closed {
			sl.mu.Unlock()
			return nil, &gatewayError{code: CodeServerUnavailable, kind: ErrClosed, msg: fmt.Sprintf("server %q is no longer served (unregistered or session closed)", sl.s.name)}
		}
		if u := sl.cur; u != nil && u.alive() {
			sl.mu.Unlock()
			return u, nil
		}
		if ch := sl.opening; ch != nil {
			sl.mu.Unlock()
			select {
			case <-ch:
				continue
			case <-ctx.Done():
				return nil, ctx.Err()
			}
		}
		old := sl.cur
		sl.cur = nil
		ch := make(chan struct{})
		sl.opening = ch
		sl.mu.Unlock()
		if old != nil {
			old.close()
		}

		u, err := sl.open(ctx)

		sl.mu.Lock()
		sl.opening = nil
		close(ch)
		if err != nil {
			sl.mu.Unlock()
			return nil, err
		}
		if sl.closed {
			sl.mu.Unlock()
			u.close()
			continue
		}
		sl.cur = u
		sl.mu.Unlock()
		return u, nil
	}
	return nil, fmt.Errorf("gateway: server %q: could not open a connection", sl.s.name)
}

// open starts the process and does the MCP handshake.
func (sl *slot) open(ctx context.Context) (*upstream, error) {
	s := sl.s
	ctx, cancel := context.WithTimeout(ctx, s.g.opts.StartTimeout)
	defer cancel()
	rwc, err := s.backend.Open(ctx)
	if err != nil {
		if errors.Is(err, ErrStopped) {
			return nil, &gatewayError{code: CodeServerUnavailable, kind: ErrStopped,
				msg: fmt.Sprintf("server %q is stopped; start it to use it", s.name)}
		}
		return nil, &gatewayError{code: CodeServerUnavailable, kind: err,
			msg: fmt.Sprintf("server %q failed to start: %v", s.name, err)}
	}
	u := newUpstream(s.name, rwc, s.g.logger, s.g.opts.MaxResponseBytes, hooks{request: sl.f.relayRequest, notify: sl.f.relayNotification})
	if sl.owner != nil {
		u.owner = &call{owner: sl.owner, ctx: context.Background()}
	}
	params := encodeInitialize(sl.init)
	raw, err := u.call(ctx, &call{method: "initialize", ctx: ctx}, func(any) (json.RawMessage, error) { return params, nil })
	if err == nil {
		var res mcp.InitializeResult
		if err = json.Unmarshal(raw, &res); err == nil {
			u.init = &res
			err = u.notify(ctx, "notifications/initialized", json.RawMessage("{}"))
		}
	}
	if err != nil {
		u.close()
		var werr *jsonrpc.Error
		if errors.As(err, &werr) && werr.Code == CodeServerExited {
			err = errors.New("it exited during the MCP handshake")
		} else if ctx.Err() != nil {
			err = fmt.Errorf("no answer to initialize within %v", s.g.opts.StartTimeout)
		}
		return nil, &gatewayError{code: CodeServerUnavailable, kind: ErrExited,
			msg: fmt.Sprintf("server %q failed to start: %v", s.name, err)}
	}
	// Restore what the previous process had: log level, subscriptions.
	sl.mu.Lock()
	level := sl.logLevel
	uris := make([]string, 0, len(sl.subs))
	for uri := range sl.subs {
		uris = append(uris, uri)
	}
	sl.mu.Unlock()
	if level != "" {
		_, _ = u.call(ctx, &call{method: "logging/setLevel"}, jsonParams(map[string]any{"level": level}))
	}
	for _, uri := range uris {
		_, _ = u.call(ctx, &call{method: "resources/subscribe"}, jsonParams(map[string]any{"uri": uri}))
	}
	sl.f.learnHeaderTools(ctx, u)
	return u, nil
}

// encodeInitialize marshals initialize params for a process. The SDK's
// ClientCapabilities always marshals "roots" (a struct field); it is
// dropped unless the client declared roots (RootsV2, or listChanged).
func encodeInitialize(p *mcp.InitializeParams) json.RawMessage {
	caps := map[string]any{}
	if c := p.Capabilities; c != nil {
		b, _ := json.Marshal(c)
		_ = json.Unmarshal(b, &caps)
		//lint:ignore SA1019 roots are deprecated in 2026-07-28 but 2025-11-25 servers use them.
		if c.RootsV2 == nil && !c.Roots.ListChanged {
			delete(caps, "roots")
		}
	} else {
		delete(caps, "roots")
	}
	data, _ := json.Marshal(map[string]any{
		"protocolVersion": p.ProtocolVersion,
		"clientInfo":      p.ClientInfo,
		"capabilities":    caps,
	})
	return data
}

func jsonParams(v any) func(any) (json.RawMessage, error) {
	return func(any) (json.RawMessage, error) { return json.Marshal(v) }
}

// close ends the slot and its process.
func (sl *slot) close() {
	sl.mu.Lock()
	sl.closed = true
	u := sl.cur
	sl.cur = nil
	sl.mu.Unlock()
	if u != nil {
		u.close()
	}
}

// callUpstream sends one internal request (no owner) to the slot's server.
func (sl *slot) callUpstream(ctx context.Context, method string, params any) error {
	u, err := sl.get(ctx)
	if err != nil {
		return err
	}
	_, err = u.call(ctx, &call{method: method}, jsonParams(params))
	return err
}

var levelRank = map[mcp.LoggingLevel]int{
	"debug": 0, "info": 1, "notice": 2, "warning": 3, "error": 4, "critical": 5, "alert": 6, "emergency": 7,
}

// setLevel forwards a log level: in shared mode only when it is more verbose
// than what the process already sends (each session's own level is applied
// by the front when relaying).
func (sl *slot) setLevel(ctx context.Context, level mcp.LoggingLevel) error {
	sl.mu.Lock()
	cur := sl.logLevel
	if sl.s.mode == Shared && cur != "" && levelRank[level] >= levelRank[cur] {
		sl.mu.Unlock()
		return nil
	}
	sl.logLevel = level
	sl.mu.Unlock()
	return sl.callUpstream(ctx, "logging/setLevel", map[string]any{"level": level})
}

// subscribe counts a subscriber of uri, subscribing the process for the first.
func (sl *slot) subscribe(ctx context.Context, uri string) error {
	sl.mu.Lock()
	n := sl.subs[uri]
	sl.mu.Unlock()
	if n == 0 {
		if err := sl.callUpstream(ctx, "resources/subscribe", map[string]any{"uri": uri}); err != nil {
			return err
		}
	}
	sl.mu.Lock()
	sl.subs[uri]++
	sl.mu.Unlock()
	return nil
}

// unsubscribe drops a subscriber of uri, unsubscribing the process after the last.
func (sl *slot) unsubscribe(ctx context.Context, uri string) error {
	sl.mu.Lock()
	n := sl.subs[uri]
	if n > 1 {
		sl.subs[uri]--
		sl.mu.Unlock()
		return nil
	}
	delete(sl.subs, uri)
	sl.mu.Unlock()
	if n == 0 {
		return nil
	}
	return sl.callUpstream(ctx, "resources/unsubscribe", map[string]any{"uri": uri})
}

// A frontend is one go-sdk server in front of one slot.
type frontend struct {
	s    *stdioServer
	srv  *mcp.Server
	slot atomic.Pointer[slot] // nil in PerSession mode until the session's initialize

	headers headerTools // the process's tools with x-mcp-header annotations (paramheaders.go)
}

func (s *stdioServer) newFrontend(sl *slot) *frontend {
	f := &frontend{s: s}
	if sl != nil {
		sl.f = f
		f.slot.Store(sl)
	}
	//lint:ignore SA1019 logging is deprecated in 2026-07-28 but relayed for older clients.
	logging := &mcp.LoggingCapabilities{}
	f.srv = mcp.NewServer(&mcp.Implementation{Name: s.name, Version: gatewayInfo.Version}, &mcp.ServerOptions{
		Logger: s.g.sdkLogger,
		// The front's own capabilities only gate what the SDK accepts from
		// clients (subscriptions); clients see the server's, patched in
		// initialize and server/discover.
		Capabilities: &mcp.ServerCapabilities{
			Tools:     &mcp.ToolCapabilities{ListChanged: true},
			Prompts:   &mcp.PromptCapabilities{ListChanged: true},
			Resources: &mcp.ResourceCapabilities{ListChanged: true, Subscribe: true},
			Logging:   logging,
		},
		SubscribeHandler: func(ctx context.Context, req *mcp.SubscribeRequest) error {
			sl, err := f.getSlot()
			if err != nil {
				return err
			}
			return sl.subscribe(ctx, req.Params.URI)
		},
		UnsubscribeHandler: func(ctx context.Context, req *mcp.UnsubscribeRequest) error {
			sl, err := f.getSlot()
			if err != nil {
				return err
			}
			return sl.unsubscribe(ctx, req.Params.URI)
		},
	})
	f.srv.AddReceivingMiddleware(f.middleware)
	return f
}

func (f *frontend) getSlot() (*slot, error) {
	sl := f.slot.Load()
	if sl == nil {
		return nil, rpcError(jsonrpc.CodeInvalidRequest, "session not initialized")
	}
	return sl, nil
}

// middleware forwards client requests to the server process.
func (f *frontend) middleware(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		switch method {
		case "initialize":
			return f.initialize(ctx, next, method, req)
		case "server/discover":
			return f.discover(ctx, next, method, req)
		case "notifications/initialized":
			if ss, ok := req.GetSession().(*mcp.ServerSession); ok {
				f.s.markReady(ss)
			}
			return next(ctx, method, req)
		case "ping", "notifications/cancelled",
			"resources/subscribe", "resources/unsubscribe":
			// Handled by the SDK (subscriptions call our Subscribe handlers).
			return next(ctx, method, req)
		case "subscriptions/listen":
			// 2026-07-28: the SDK keeps the stream and routes updates to
			// it; the process is subscribed to the URIs while it lasts.
			return f.listen(ctx, next, method, req)
		case "logging/setLevel":
			res, err := next(ctx, method, req)
			if err != nil {
				return res, err
			}
			sl, err := f.getSlot()
			if err != nil {
				return nil, err
			}
			p, _ := req.GetParams().(*mcp.SetLoggingLevelParams)
			if p != nil {
				if err := sl.setLevel(ctx, p.Level); err != nil {
					return nil, err
				}
			}
			return res, nil
		}
		if strings.HasPrefix(method, "notifications/") {
			f.forwardNotification(ctx, method, req)
			return nil, nil
		}
		// Counted until go-sdk has written the response (it cancels the
		// request's context then), so that close lets the error of a call
		// ended by the process's closing reach the client before the
		// session goes.
		defer f.s.answering()(ctx)
		if mrtrMethod(method) && stateless(req) {
			return f.roundTripCall(ctx, method, req)
		}
		return f.forward(ctx, method, req)
	}
}

// listen serves a subscriptions/listen stream, keeping the process
// subscribed to its resource URIs while the stream lasts.
func (f *frontend) listen(ctx context.Context, next mcp.MethodHandler, method string, req mcp.Request) (mcp.Result, error) {
	p, _ := req.GetParams().(*mcp.SubscriptionsListenParams)
	sl, err := f.getSlot()
	if p == nil || p.Notifications == nil || err != nil {
		return next(ctx, method, req)
	}
	var uris []string
	for _, uri := range p.Notifications.ResourceSubscriptions {
		if err := sl.subscribe(ctx, uri); err != nil {
			f.s.g.logger.Warn("gateway: could not subscribe the server", "server", f.s.name, "uri", uri, "error", err)
			continue
		}
		uris = append(uris, uri)
	}
	defer func() {
		uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		for _, uri := range uris {
			_ = sl.unsubscribe(uctx, uri)
		}
	}()
	return next(ctx, method, req)
}

// initialize lets the SDK negotiate the session, then answers with the
// server's capabilities, identity and instructions. Shared: from the one
// handshake the gateway did. PerSession: the session's own process is
// started and initialized with the client's own parameters.
func (f *frontend) initialize(ctx context.Context, next mcp.MethodHandler, method string, req mcp.Request) (mcp.Result, error) {
	res, err := next(ctx, method, req)
	if err != nil {
		return res, err
	}
	ir, ok := res.(*mcp.InitializeResult)
	if !ok {
		return res, nil
	}
	if ss, ok := req.GetSession().(*mcp.ServerSession); ok {
		// Known to the fast path (and its idle timer) even if the server
		// fails to start; with the protocol version finally answered.
		defer func() {
			if ir.ProtocolVersion < newProtocol {
				f.s.addSession(f, ss, ir.ProtocolVersion)
			}
		}()
	}
	sl := f.slot.Load()
	if sl == nil { // PerSession: this session's own process
		cp, _ := req.GetParams().(*mcp.InitializeParams)
		init := *cp
		init.ProtocolVersion = ir.ProtocolVersion
		sl = f.s.newSlot(&init)
		sl.f = f
		sl.owner, _ = req.GetSession().(*mcp.ServerSession)
		f.slot.Store(sl)
		if !f.s.track(f, req.GetSession()) {
			sl.close()
			return nil, &gatewayError{code: CodeServerUnavailable, kind: ErrClosed, msg: fmt.Sprintf("server %q is no longer served", f.s.name)}
		}
	}
	u, err := sl.get(ctx)
	if err != nil {
		return nil, err
	}
	up := u.init
	ir.Capabilities = up.Capabilities
	if ir.Capabilities == nil {
		ir.Capabilities = &mcp.ServerCapabilities{}
	}
	ir.ServerInfo = up.ServerInfo
	ir.Instructions = up.Instructions
	if up.ProtocolVersion != "" && up.ProtocolVersion < ir.ProtocolVersion {
		ir.ProtocolVersion = up.ProtocolVersion
	}
	return ir, nil
}

// track registers a PerSession front and closes its process when its
// session ends. It reports false when the server is closing.
func (s *stdioServer) track(f *frontend, sess mcp.Session) bool {
	ss, ok := sess.(*mcp.ServerSession)
	if !ok {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.sessions[f] = struct{}{}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		_ = ss.Wait()
		if sl := f.slot.Load(); sl != nil {
			sl.close()
		}
		s.mu.Lock()
		delete(s.sessions, f)
		s.mu.Unlock()
	}()
	return true
}

// discover answers a server/discover from the initialize result of the
// shared process, of the session's process, or (PerSession, a sessionless
// probe) of a process started for the purpose.
func (f *frontend) discover(ctx context.Context, next mcp.MethodHandler, method string, req mcp.Request) (mcp.Result, error) {
	res, err := next(ctx, method, req)
	if err != nil {
		return res, err
	}
	dr, ok := res.(*mcp.DiscoverResult)
	if !ok {
		return res, nil
	}
	var init *mcp.InitializeResult
	if sl := f.slot.Load(); sl != nil {
		u, err := sl.get(ctx)
		if err != nil {
			return nil, err
		}
		init = u.init
	} else if init, err = f.s.probe(ctx, f); err != nil { // PerSession, no session
		return nil, err
	}
	dr.Capabilities = init.Capabilities
	if dr.Capabilities == nil {
		dr.Capabilities = &mcp.ServerCapabilities{}
	}
	dr.Instructions = init.Instructions
	setServerInfo(dr, init.ServerInfo)
	return dr, nil
}

// probe returns the initialize result of a PerSession server for a
// server/discover outside any session: it starts a process once for the
// purpose, with the gateway's own handshake, and keeps the answer for the
// next ones.
func (s *stdioServer) probe(ctx context.Context, f *frontend) (*mcp.InitializeResult, error) {
	s.probeMu.Lock()
	defer s.probeMu.Unlock()
	s.mu.Lock()
	init, closed := s.probed, s.closed
	s.mu.Unlock()
	if init != nil {
		return init, nil
	}
	if closed {
		return nil, &gatewayError{code: CodeServerUnavailable, kind: ErrClosed, msg: fmt.Sprintf("server %q is no longer served", s.name)}
	}
	sl := s.newSlot(nil)
	sl.f = f // no session: server->client requests are unroutable
	u, err := sl.get(ctx)
	if err != nil {
		return nil, err
	}
	init = u.init
	sl.close()
	s.mu.Lock()
	s.probed = init
	s.mu.Unlock()
	return init, nil
}

func setServerInfo(r mcp.Result, info *mcp.Implementation) {
	if info == nil {
		return
	}
	m := r.GetMeta()
	if m == nil {
		m = map[string]any{}
	}
	m[mcp.MetaKeyServerInfo] = info
	r.SetMeta(m)
}

// forward sends a client request to the process and returns its result
// untouched.
func (f *frontend) forward(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
	sl, err := f.getSlot()
	if err != nil {
		return nil, err
	}
	u, err := sl.get(ctx)
	if err != nil {
		return nil, err
	}
	ss, _ := req.GetSession().(*mcp.ServerSession)
	params := req.GetParams()
	c := &call{method: method, owner: ss, ctx: ctx}
	modern := false
	if !isNil(params) {
		meta := params.GetMeta()
		_, modern = meta[mcp.MetaKeyProtocolVersion]
		if tok, ok := meta["progressToken"]; ok && tok != nil && ss != nil {
			c.progress = func(p *mcp.ProgressNotificationParams) {
				p.ProgressToken = tok
				_ = ss.NotifyProgress(ctx, p)
			}
		}
	}
	callCtx := ctx
	if t := f.s.callTimeout; t > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	raw, err := u.call(callCtx, c, func(token any) (json.RawMessage, error) { return encodeParams(params, token) })
	if err != nil {
		if ctx.Err() == nil && callCtx.Err() != nil {
			return nil, &gatewayError{code: CodeTimeout, kind: context.DeadlineExceeded,
				msg: fmt.Sprintf("server %q did not answer %s within %v (the gateway's call timeout)", f.s.name, method, f.s.callTimeout)}
		}
		return nil, err
	}
	res := &rawResult{raw: raw, modern: modern}
	if modern && u.init != nil {
		setServerInfo(res, u.init.ServerInfo)
	}
	return res, nil
}

// forwardNotification sends a client notification on to the process.
func (f *frontend) forwardNotification(ctx context.Context, method string, req mcp.Request) {
	if f.s.mode == Shared && method == "notifications/roots/list_changed" {
		return // shared processes are not told about any one client's roots
	}
	sl, err := f.getSlot()
	if err != nil {
		return
	}
	sl.mu.Lock()
	u := sl.cur
	sl.mu.Unlock()
	if u == nil || !u.alive() {
		return
	}
	params, err := encodeParams(req.GetParams(), nil)
	if err != nil {
		return
	}
	_ = u.notify(ctx, method, params)
}

// encodeParams marshals request params for the process: the 2026-07-28
// per-request _meta keys are dropped (the process speaks the session
// protocol), except the caller's identity and capabilities, and the progress
// token, if any, is replaced by the upstream one.
//
// The capabilities a shared process got at initialize are the gateway's,
// which a 2026-07-28 client (stateless: no server->client requests) does not
// have; with the caller's own, a server that reads them (go-sdk servers do,
// in any session) can answer MissingRequiredClientCapability instead of
// attempting a request that must fail. Older servers ignore them.
func encodeParams(p mcp.Params, token any) (json.RawMessage, error) {
	if isNil(p) {
		if token == nil {
			return nil, nil
		}
		return json.Marshal(map[string]any{"_meta": map[string]any{"progressToken": token}})
	}
	if meta := p.GetMeta(); len(meta) > 0 || token != nil {
		m := make(map[string]any, len(meta)+1)
		for k, v := range meta {
			if !strings.HasPrefix(k, "io.modelcontextprotocol/") || k == mcp.MetaKeyClientCapabilities || k == mcp.MetaKeyClientInfo {
				m[k] = v
			}
		}
		if token != nil {
			m["progressToken"] = token
		}
		if len(m) == 0 {
			m = nil
		}
		p.SetMeta(m)
	}
	return json.Marshal(p)
}

func isNil(p mcp.Params) bool {
	if p == nil {
		return true
	}
	v := reflect.ValueOf(p)
	return v.Kind() == reflect.Pointer && v.IsNil()
}

// rawResult is a result passed through from the process untouched; Meta
// set by the SDK (server info for 2026-07-28 clients) is merged into _meta.
// For a 2026-07-28 request (modern), a result without resultType gets
// "complete", which that protocol requires on every result: the process
// speaks 2025-11-25, where results have no resultType.
type rawResult struct {
	mcp.ResultBase
	raw    json.RawMessage
	modern bool
}

func (r *rawResult) MarshalJSON() ([]byte, error) {
	if len(r.Meta) == 0 && !r.modern {
		return r.raw, nil
	}
	if b, ok := r.splice(); ok {
		return b, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(r.raw, &obj); err != nil || obj == nil {
		return r.raw, nil
	}
	if r.modern {
		if _, ok := obj["resultType"]; !ok {
			obj["resultType"] = json.RawMessage(`"complete"`)
		}
	}
	if len(r.Meta) == 0 {
		return json.Marshal(obj)
	}
	meta := map[string]any{}
	if m, ok := obj["_meta"]; ok {
		_ = json.Unmarshal(m, &meta)
	}
	for k, v := range r.Meta {
		if _, ok := meta[k]; !ok {
			meta[k] = v
		}
	}
	m, err := json.Marshal(meta)
	if err != nil {
		return nil, err
	}
	obj["_meta"] = m
	return json.Marshal(obj)
}

// splice is MarshalJSON without decoding the result, for the common case:
// an object with neither resultType nor _meta (nor escapes that could
// spell them), to which both are appended.
func (r *rawResult) splice() ([]byte, bool) {
	raw := bytes.TrimSpace(r.raw)
	if len(raw) < 2 || raw[0] != '{' || raw[len(raw)-1] != '}' ||
		bytes.Contains(raw, []byte(`"_meta"`)) || bytes.Contains(raw, []byte(`"resultType"`)) || bytes.Contains(raw, []byte(`\u`)) {
		return nil, false
	}
	var meta []byte
	if len(r.Meta) > 0 {
		var err error
		if meta, err = json.Marshal(map[string]any(r.Meta)); err != nil {
			return nil, false
		}
	}
	b := make([]byte, 0, len(raw)+len(meta)+40)
	b = append(b, raw[:len(raw)-1]...)
	empty := len(bytes.TrimSpace(raw[1:len(raw)-1])) == 0
	if r.modern {
		if !empty {
			b = append(b, ',')
		}
		b = append(b, `"resultType":"complete"`...)
		empty = false
	}
	if meta != nil {
		if !empty {
			b = append(b, ',')
		}
		b = append(b, `"_meta":`...)
		b = append(b, meta...)
	}
	return append(b, '}'), true
}

// relayRequest delivers a server->client request to the session that owns
// target, on the stream of target's request.
func (f *frontend) relayRequest(ctx context.Context, target *call, req *jsonrpc.Request) (any, error) {
	if rt, ok := target.owner.(*roundTrip); ok { // a stateless client's call: see mrtr.go
		return rt.ask(ctx, req)
	}
	ss, ok := target.owner.(*mcp.ServerSession)
	if !ok {
		return nil, rpcError(CodeUnroutable, "gateway: no client session for %s", req.Method)
	}
	rctx, cancel := context.WithCancel(target.ctx)
	defer cancel()
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	// A request outside any call goes to the session's standalone GET
	// stream, which a client opens just after initialize: a process that
	// asks at once may be early. Retry for a while.
	deadline := time.Now().Add(3 * time.Second)
	for {
		res, err := f.sendToClient(rctx, ss, req)
		if err == nil || !strings.Contains(err.Error(), "stream not connected") || time.Now().After(deadline) {
			return res, err
		}
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-t.C:
		case <-rctx.Done():
			t.Stop()
			return nil, err
		}
	}
}

// sendToClient sends one server->client request through the session.
func (f *frontend) sendToClient(rctx context.Context, ss *mcp.ServerSession, req *jsonrpc.Request) (any, error) {
	switch req.Method {
	case "sampling/createMessage":
		var probe struct {
			Tools json.RawMessage `json:"tools"`
		}
		_ = json.Unmarshal(req.Params, &probe)
		if len(probe.Tools) > 0 {
			var p mcp.CreateMessageWithToolsParams
			if err := json.Unmarshal(req.Params, &p); err != nil {
				return nil, rpcError(jsonrpc.CodeInvalidParams, "gateway: bad sampling request: %v", err)
			}
			return ss.CreateMessageWithTools(rctx, &p)
		}
		var p mcp.CreateMessageParams
		if err := json.Unmarshal(req.Params, &p); err != nil {
			return nil, rpcError(jsonrpc.CodeInvalidParams, "gateway: bad sampling request: %v", err)
		}
		//lint:ignore SA1019 sampling is deprecated in 2026-07-28 but relayed for 2025-11-25 servers.
		return ss.CreateMessage(rctx, &p)
	case "elicitation/create":
		var p mcp.ElicitParams
		if err := json.Unmarshal(req.Params, &p); err != nil {
			return nil, rpcError(jsonrpc.CodeInvalidParams, "gateway: bad elicitation request: %v", err)
		}
		return ss.Elicit(rctx, &p)
	case "roots/list":
		var p mcp.ListRootsParams
		_ = json.Unmarshal(req.Params, &p)
		//lint:ignore SA1019 roots are deprecated in 2026-07-28 but relayed for 2025-11-25 servers.
		return ss.ListRoots(rctx, &p)
	}
	return nil, rpcError(jsonrpc.CodeMethodNotFound, "gateway: cannot relay %s to the client", req.Method)
}

// relayNotification delivers a notification the process sent outside any
// call: logging to every session (each session's level applies), list
// changes to every session, resource updates to subscribed sessions; other
// methods are dropped.
func (f *frontend) relayNotification(n *jsonrpc.Request) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	switch n.Method {
	case "notifications/message":
		var p mcp.LoggingMessageParams
		if json.Unmarshal(n.Params, &p) != nil {
			return
		}
		for ss := range f.srv.Sessions() {
			//lint:ignore SA1019 logging is deprecated in 2026-07-28 but relayed for older clients.
			_ = ss.Log(ctx, &p)
		}
	case "notifications/resources/updated":
		var p mcp.ResourceUpdatedNotificationParams
		if json.Unmarshal(n.Params, &p) != nil {
			return
		}
		_ = f.srv.ResourceUpdated(ctx, &p)
	case "notifications/tools/list_changed":
		if sl := f.slot.Load(); sl != nil {
			sl.mu.Lock()
			u := sl.cur
			sl.mu.Unlock()
			if u != nil {
				f.learnHeaderTools(ctx, u)
			}
		}
		// The SDK sends list_changed when its own feature lists change:
		// adding and removing a placeholder makes it notify every session
		// (and 2026-07-28 listeners), debounced.
		f.srv.AddTool(&mcp.Tool{Name: placeholder, InputSchema: &jsonschema.Schema{Type: "object"}}, placeholderTool)
		f.srv.RemoveTools(placeholder)
	case "notifications/prompts/list_changed":
		f.srv.AddPrompt(&mcp.Prompt{Name: placeholder}, placeholderPrompt)
		f.srv.RemovePrompts(placeholder)
	case "notifications/resources/list_changed":
		f.srv.AddResource(&mcp.Resource{Name: placeholder, URI: "gateway:" + placeholder}, placeholderResource)
		f.srv.RemoveResources("gateway:" + placeholder)
	default:
		f.s.g.logger.Debug("gateway: dropped a notification with no route", "server", f.s.name, "method", n.Method)
	}
}

const placeholder = "mcp-agent-gateway-placeholder"

func placeholderTool(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	return &mcp.CallToolResult{}, nil
}

func placeholderPrompt(context.Context, *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	return &mcp.GetPromptResult{}, nil
}

func placeholderResource(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
	return &mcp.ReadResourceResult{}, nil
}

// answering counts a forwarded request until its response is written: the
// returned func, called with the request's context when the handler
// returns, uncounts it once go-sdk cancels that context after writing.
func (s *stdioServer) answering() func(context.Context) {
	s.ansMu.Lock()
	if s.unwritten == 0 {
		s.written = make(chan struct{})
	}
	s.unwritten++
	s.ansMu.Unlock()
	return func(ctx context.Context) {
		context.AfterFunc(ctx, func() {
			s.ansMu.Lock()
			if s.unwritten--; s.unwritten == 0 {
				close(s.written)
			}
			s.ansMu.Unlock()
		})
	}
}

// waitAnswered waits, at most d, until every forwarded request's response
// has been written.
func (s *stdioServer) waitAnswered(d time.Duration) {
	s.ansMu.Lock()
	ch := s.written
	n := s.unwritten
	s.ansMu.Unlock()
	if n == 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
	case <-t.C:
	}
}
