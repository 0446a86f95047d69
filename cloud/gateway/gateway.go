package gateway

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// Options configures a Gateway. The zero value of every field is usable.
type Options struct {
	// Logger receives the gateway's logs. Nil discards them.
	Logger *slog.Logger

	// MaxRequestBytes bounds the body of every HTTP request (MCP POSTs and
	// REST calls); larger bodies get 413. Zero means 4 MiB; negative means no
	// limit.
	MaxRequestBytes int64

	// MaxResponseBytes bounds one message from a stdio server; a larger
	// response fails its call with CodeTooLarge (REST: 502). Zero means
	// 16 MiB.
	MaxResponseBytes int

	// CallTimeout bounds each request forwarded to a stdio server and each
	// REST call; on expiry the server is sent notifications/cancelled and the
	// client gets CodeTimeout (REST: 504). Zero means 5 minutes; negative
	// means no limit.
	CallTimeout time.Duration

	// StartTimeout bounds starting a stdio server and its MCP handshake. Zero
	// means 30 seconds.
	StartTimeout time.Duration

	// InputTimeout bounds how long a call of a stateless 2026-07-28 client,
	// suspended because the stdio server asked for client input (answered
	// with an input_required result), waits for the client's retry; then
	// the gateway cancels it on the server and forgets its requestState.
	// Zero means 10 minutes.
	InputTimeout time.Duration

	// SessionIdleTimeout closes MCP sessions (and, in PerSession mode, their
	// processes) after this long without requests. Zero means 30 minutes;
	// negative means never.
	SessionIdleTimeout time.Duration

	// AllowedHosts lists the Host header values accepted besides loopback
	// names (localhost, 127.0.0.1, [::1]), which are always accepted: a host
	// name ("mcp.example.com") matches any port, "host:port" that port only,
	// a leading dot (".example.com") any subdomain, "*" every host.
	// Requests with another Host get 403 (DNS-rebinding protection).
	AllowedHosts []string

	// AllowedOrigins lists the Origin header values accepted from browsers,
	// as scheme://host[:port] ("https://console.example.com"), or "*".
	// Requests without Origin, with a loopback origin, or with the origin of
	// the request's own Host are always accepted; others get 403.
	AllowedOrigins []string
}

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if r.MaxRequestBytes == 0 {
		r.MaxRequestBytes = 4 << 20
	}
	if r.MaxResponseBytes <= 0 {
		r.MaxResponseBytes = 16 << 20
	}
	if r.CallTimeout == 0 {
		r.CallTimeout = 5 * time.Minute
	}
	if r.StartTimeout <= 0 {
		r.StartTimeout = 30 * time.Second
	}
	if r.InputTimeout <= 0 {
		r.InputTimeout = 10 * time.Minute
	}
	if r.SessionIdleTimeout == 0 {
		r.SessionIdleTimeout = 30 * time.Minute
	}
	if r.SessionIdleTimeout < 0 {
		r.SessionIdleTimeout = 0
	}
	return r
}

// A Gateway serves registered deployments as MCP servers over Streamable
// HTTP, plus REST conveniences. It is an http.Handler serving:
//
//	/servers/{name}/mcp                        MCP (Streamable HTTP, both protocol generations)
//	GET  /v1/servers/{name}/tools              list tools
//	POST /v1/servers/{name}/call_tool          {"name": ..., "arguments": {...}}
//	GET  /v1/servers/{name}/resources          list resources
//	POST /v1/servers/{name}/read_resource      {"uri": ...}
//	GET  /v1/servers/{name}/prompts            list prompts
//	POST /v1/servers/{name}/get_prompt         {"name": ..., "arguments": {...}}
//
// Mount it at the root of the platform's mux (or strip a prefix first).
// Servers can be registered and unregistered while it serves.
type Gateway struct {
	opts      Options
	logger    *slog.Logger
	sdkLogger *slog.Logger // the SDK's logs, warnings and errors only
	mux       *http.ServeMux

	mu      sync.RWMutex
	servers map[string]*entry
	closed  bool
}

// ServerOptions are the settings of one registered server that override
// the gateway's Options.
type ServerOptions struct {
	// CallTimeout bounds each request forwarded to this server, as
	// Options.CallTimeout does for all. Zero means Options.CallTimeout;
	// negative means no limit.
	CallTimeout time.Duration
}

// entry is one registered deployment.
type entry struct {
	name        string
	callTimeout time.Duration // <= 0: none
	stdio       *stdioServer  // set for stdio backends
	remote      *remoteServer
	rest        *restClient
}

func (e *entry) close() {
	e.rest.close()
	if e.stdio != nil {
		e.stdio.close()
	}
	if e.remote != nil {
		e.remote.close()
	}
}

// New returns a gateway with no servers. opts may be nil.
func New(opts *Options) *Gateway {
	g := &Gateway{opts: opts.withDefaults(), servers: make(map[string]*entry)}
	g.logger = g.opts.Logger
	// The SDK logs every session start and end at info; with stateless
	// clients that is every request.
	g.sdkLogger = slog.New(minLevel{g.logger.Handler(), slog.LevelWarn})
	g.mux = http.NewServeMux()
	g.mux.HandleFunc("/servers/{name}/mcp", g.serveMCP)
	g.mux.HandleFunc("/v1/servers/{name}/{op}", g.serveREST)
	g.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, errCodeNotFound, "no such endpoint %s: MCP is served at /servers/{name}/mcp, REST at /v1/servers/{name}/{tools,call_tool,resources,read_resource,prompts,get_prompt}", r.URL.Path)
	})
	return g
}

// Register serves b under name, replacing (and closing) any server already
// registered under it. mode applies to StdioBackends and is ignored for a
// *RemoteBackend. It panics if b is nil or of another kind, or name is empty
// or contains a slash.
func (g *Gateway) Register(name string, b Backend, mode Mode) {
	g.RegisterWith(name, b, mode, nil)
}

// RegisterWith is [Gateway.Register] with settings for this server; opts
// may be nil.
func (g *Gateway) RegisterWith(name string, b Backend, mode Mode, opts *ServerOptions) {
	if name == "" || strings.ContainsAny(name, "/?#") {
		panic("gateway: Register: invalid server name " + `"` + name + `"`)
	}
	e := &entry{name: name, callTimeout: g.opts.CallTimeout}
	if opts != nil && opts.CallTimeout != 0 {
		e.callTimeout = opts.CallTimeout
	}
	switch b := b.(type) {
	case StdioBackend:
		if mode != Shared && mode != PerSession {
			panic("gateway: Register: invalid mode " + mode.String())
		}
		e.stdio = newStdioServer(g, name, b, mode, e.callTimeout)
	case *RemoteBackend:
		r, err := newRemoteServer(g, name, b, e.callTimeout)
		if err != nil {
			panic("gateway: Register: " + err.Error())
		}
		e.remote = r
	default:
		panic("gateway: Register: backend must be a StdioBackend or a *RemoteBackend")
	}
	e.rest = newRESTClient(g, e)
	g.mu.Lock()
	if g.closed {
		g.mu.Unlock()
		e.close()
		return
	}
	old := g.servers[name]
	g.servers[name] = e
	g.mu.Unlock()
	if old != nil {
		old.close()
	}
	g.logger.Info("gateway: server registered", "server", name, "backend", b.String(), "mode", mode.String())
}

// Unregister stops serving name: its sessions end, its processes are closed
// (calls in flight fail) and later requests get 404. It reports whether the
// name was registered.
func (g *Gateway) Unregister(name string) bool {
	g.mu.Lock()
	e := g.servers[name]
	delete(g.servers, name)
	g.mu.Unlock()
	if e == nil {
		return false
	}
	e.close()
	g.logger.Info("gateway: server unregistered", "server", name)
	return true
}

// Names returns the registered server names, in no particular order.
func (g *Gateway) Names() []string {
	g.mu.RLock()
	defer g.mu.RUnlock()
	names := make([]string, 0, len(g.servers))
	for n := range g.servers {
		names = append(names, n)
	}
	return names
}

// Close unregisters every server. Later requests get 404.
func (g *Gateway) Close() error {
	g.mu.Lock()
	g.closed = true
	entries := g.servers
	g.servers = make(map[string]*entry)
	g.mu.Unlock()
	var wg sync.WaitGroup
	for _, e := range entries {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e.close()
		}()
	}
	wg.Wait()
	return nil
}

func (g *Gateway) lookup(name string) *entry {
	g.mu.RLock()
	defer g.mu.RUnlock()
	return g.servers[name]
}

// ServeHTTP implements http.Handler.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !g.hostAllowed(r.Host) {
		writeError(w, http.StatusForbidden, errCodeForbidden,
			"host %q is not allowed: add it to the gateway's allowed hosts (DNS-rebinding protection)", r.Host)
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" && !g.originAllowed(origin, r.Host) {
		writeError(w, http.StatusForbidden, errCodeForbidden,
			"origin %q is not allowed: add it to the gateway's allowed origins", origin)
		return
	}
	if r.Body != nil && g.opts.MaxRequestBytes > 0 {
		r.Body = http.MaxBytesReader(w, r.Body, g.opts.MaxRequestBytes)
	}
	g.mux.ServeHTTP(w, r)
}

func (g *Gateway) serveMCP(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	e := g.lookup(name)
	if e == nil {
		writeError(w, http.StatusNotFound, errCodeNotFound, "server %q not found", name)
		return
	}
	if e.remote != nil {
		e.remote.serveHTTP(w, r)
		return
	}
	e.stdio.serveMCP(w, r)
}

// hostAllowed implements the Host check of DNS-rebinding protection.
func (g *Gateway) hostAllowed(host string) bool {
	name := hostname(host)
	if isLoopbackName(name) {
		return true
	}
	for _, a := range g.opts.AllowedHosts {
		switch {
		case a == "*":
			return true
		case strings.HasPrefix(a, "."):
			if strings.HasSuffix(strings.ToLower(name), strings.ToLower(a)) {
				return true
			}
		case strings.EqualFold(a, host), strings.EqualFold(a, name):
			return true
		}
	}
	return false
}

// originAllowed implements the Origin check.
func (g *Gateway) originAllowed(origin, host string) bool {
	for _, a := range g.opts.AllowedOrigins {
		if a == "*" || strings.EqualFold(strings.TrimSuffix(a, "/"), origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false // includes "null"
	}
	return isLoopbackName(u.Hostname()) || strings.EqualFold(u.Host, host)
}

// hostname strips the port (and IPv6 brackets) from a Host header value.
func hostname(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		return h
	}
	return strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
}

func isLoopbackName(h string) bool {
	if strings.EqualFold(h, "localhost") || strings.HasSuffix(strings.ToLower(h), ".localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// minLevel drops records below a level.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(as []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(as), h.level}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.level}
}
