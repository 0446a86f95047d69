package appserver

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Paths of the HTTP transports.
const (
	PathStreamable = "/mcp" // Streamable HTTP
	PathSSE        = "/sse" // legacy HTTP+SSE (2024-11-05); messages are posted to the URL it announces
)

// HTTPOptions configures Handler and ListenAndServe. The zero value serves
// stateful Streamable HTTP sessions (resumable, with an in-memory event
// store) at /mcp and legacy SSE at /sse, to loopback Host and Origin
// headers only, with no authentication.
type HTTPOptions struct {
	// Stateless serves Streamable HTTP without sessions: every request
	// stands alone (the 2026-07-28 protocol's model). The server then cannot
	// send requests to the client (no sampling or elicitation forwarding)
	// and notifications reach the client only within a request's response.
	Stateless bool
	// EventStore keeps stateful sessions' SSE streams for resumption
	// (Last-Event-ID); nil means an in-memory store
	// (mcp.NewMemoryEventStore). Ignored when Stateless.
	EventStore mcp.EventStore
	// NoResumption serves stateful sessions without an event store.
	NoResumption bool
	// SessionTimeout closes stateful sessions idle for this long; zero
	// means never.
	SessionTimeout time.Duration
	// JSONResponse answers POSTs with application/json instead of an SSE
	// stream (progress and log notifications then go to the session's GET
	// stream, if any).
	JSONResponse bool
	// NoSSE leaves out the legacy SSE transport at /sse.
	NoSSE bool

	// AllowedHosts are the Host header values accepted besides loopback
	// names (localhost, 127.0.0.1, [::1]): "example.com" or
	// "example.com:8443"; "*" accepts any Host. Requests with another Host
	// get 403 (DNS rebinding protection).
	AllowedHosts []string
	// AllowedOrigins are the Origin header values accepted besides loopback
	// origins ("https://app.example.com"); "*" accepts any Origin. Requests
	// without an Origin header (non-browser clients) are accepted.
	AllowedOrigins []string

	// TokenVerifier, when set, requires "Authorization: Bearer <token>" on
	// every request and checks the token with it (StaticToken checks a
	// shared secret); failures get 401 with a WWW-Authenticate header. The
	// token's info is in each request's RequestExtra.TokenInfo.
	TokenVerifier auth.TokenVerifier
	// TokenOptions configures the bearer token check (resource metadata URL,
	// required scopes, ...); nil means none beyond the verifier's.
	TokenOptions *auth.RequireBearerTokenOptions

	// Ready, when set, is called by ListenAndServe with the listening
	// address once it accepts connections (useful with port 0).
	Ready func(addr net.Addr)
}

// Handler returns an http.Handler serving the app: Streamable HTTP at
// PathStreamable and, unless opts.NoSSE, legacy SSE at PathSSE. Host and
// Origin headers are checked first (see HTTPOptions), then the bearer
// token if a verifier is set. opts may be nil.
func (s *Server) Handler(opts *HTTPOptions) http.Handler {
	if opts == nil {
		opts = &HTTPOptions{}
	}
	getServer := func(*http.Request) *mcp.Server { return s.mcp }
	sopts := &mcp.StreamableHTTPOptions{
		Stateless:      opts.Stateless,
		JSONResponse:   opts.JSONResponse,
		Logger:         s.logger,
		SessionTimeout: opts.SessionTimeout,
		// Our own Host/Origin check below is stricter (it does not depend
		// on the local address) and has an allowlist.
		DisableLocalhostProtection: true,
	}
	if !opts.Stateless && !opts.NoResumption {
		sopts.EventStore = opts.EventStore
		if sopts.EventStore == nil {
			sopts.EventStore = mcp.NewMemoryEventStore(nil)
		}
	}
	var streamable http.Handler = mcp.NewStreamableHTTPHandler(getServer, sopts)
	if !opts.Stateless {
		// go-sdk serves the sessionless 2026-07-28 protocol on stateless
		// handlers only: route its requests (they carry the version header)
		// to one, so that one endpoint speaks both generations.
		sl := *sopts
		sl.Stateless, sl.EventStore = true, nil
		streamable = byProtocol(streamable, mcp.NewStreamableHTTPHandler(getServer, &sl))
	}
	mux := http.NewServeMux()
	mux.Handle(PathStreamable, streamable)
	mux.Handle(PathStreamable+"/", streamable)
	if !opts.NoSSE {
		sse := mcp.NewSSEHandler(getServer, &mcp.SSEOptions{DisableLocalhostProtection: true})
		mux.Handle(PathSSE, sse)
		mux.Handle(PathSSE+"/", sse)
	}
	var h http.Handler = mux
	if opts.TokenVerifier != nil {
		h = auth.RequireBearerToken(opts.TokenVerifier, opts.TokenOptions)(h)
	}
	return checkHostOrigin(h, opts.AllowedHosts, opts.AllowedOrigins)
}

// sessionlessVersion is the first protocol version without sessions.
const sessionlessVersion = "2026-07-28"

// byProtocol sends requests of the sessionless protocol generation to
// sessionless and the others to stateful.
func byProtocol(stateful, sessionless http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if v := r.Header.Get("Mcp-Protocol-Version"); v >= sessionlessVersion && r.Header.Get("Mcp-Session-Id") == "" {
			sessionless.ServeHTTP(w, r)
			return
		}
		stateful.ServeHTTP(w, r)
	})
}

// ListenAndServe serves Handler(opts) on addr (such as "127.0.0.1:8000";
// port 0 picks a free one, reported to opts.Ready) until ctx is done, then
// shuts down gracefully: it stops accepting connections, lets calls in
// flight finish within Options.ShutdownTimeout (cancelling the rest), closes
// the sessions and returns nil. It returns an error if it cannot listen.
func (s *Server) ListenAndServe(ctx context.Context, addr string, opts *HTTPOptions) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", addr, err)
	}
	return s.ServeListener(ctx, l, opts)
}

// ServeListener is ListenAndServe on a listener of your own; it closes l.
func (s *Server) ServeListener(ctx context.Context, l net.Listener, opts *HTTPOptions) error {
	posts := &postCounter{idle: make(chan struct{})}
	close(posts.idle)
	hs := &http.Server{
		Handler:           posts.wrap(s.Handler(opts)),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	if opts != nil && opts.Ready != nil {
		opts.Ready(l.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return fmt.Errorf("serve HTTP: %w", err)
	case <-ctx.Done():
	}
	// Stop accepting connections while the calls in flight finish.
	shutdownDone := make(chan struct{})
	shCtx, cancel := context.WithTimeout(context.Background(), s.shutdownTimeout()+cancelGrace+time.Second)
	defer cancel()
	go func() {
		_ = hs.Shutdown(shCtx)
		close(shutdownDone)
	}()
	// The calls first; then the POSTs that carry their responses (a call
	// has returned before its response is written); then the sessions,
	// which ends their GET streams.
	ctxDrain, cancelDrain := context.WithTimeout(context.Background(), s.shutdownTimeout())
	if err := s.Shutdown(ctxDrain); err != nil {
		s.logger.Warn("shutdown", "error", err)
	}
	cancelDrain()
	posts.wait(cancelGrace)
	for ss := range s.mcp.Sessions() {
		_ = ss.Close()
	}
	select {
	case <-shutdownDone:
	case <-shCtx.Done():
	}
	_ = hs.Close() // hanging streams, if any
	<-errc
	return nil
}

// postCounter counts the POST requests being handled.
type postCounter struct {
	mu   sync.Mutex
	n    int
	idle chan struct{} // closed while n == 0
}

func (p *postCounter) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		p.mu.Lock()
		if p.n == 0 {
			p.idle = make(chan struct{})
		}
		p.n++
		p.mu.Unlock()
		defer func() {
			p.mu.Lock()
			p.n--
			if p.n == 0 {
				close(p.idle)
			}
			p.mu.Unlock()
		}()
		next.ServeHTTP(w, r)
	})
}

// wait waits until no POST is being handled, at most d.
func (p *postCounter) wait(d time.Duration) {
	p.mu.Lock()
	idle := p.idle
	p.mu.Unlock()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-idle:
	case <-t.C:
	}
}

// StaticToken returns a TokenVerifier accepting exactly token (compared in
// constant time), for a shared secret between the app and its clients.
func StaticToken(token string) auth.TokenVerifier {
	return func(_ context.Context, got string, _ *http.Request) (*auth.TokenInfo, error) {
		if token == "" || subtle.ConstantTimeCompare([]byte(got), []byte(token)) != 1 {
			return nil, fmt.Errorf("%w: the bearer token does not match", auth.ErrInvalidToken)
		}
		return &auth.TokenInfo{Expiration: time.Now().Add(time.Hour)}, nil
	}
}

// ErrForbiddenHost and ErrForbiddenOrigin are the reasons of the 403
// responses of the Host and Origin check.
var (
	ErrForbiddenHost   = errors.New("forbidden Host header")
	ErrForbiddenOrigin = errors.New("forbidden Origin header")
)

// checkHostOrigin rejects requests whose Host or Origin is neither loopback
// nor allowed: a web page on another site, even one whose name resolves to
// 127.0.0.1 (DNS rebinding), cannot reach the server.
func checkHostOrigin(next http.Handler, hosts, origins []string) http.Handler {
	anyHost := slices.Contains(hosts, "*")
	anyOrigin := slices.Contains(origins, "*")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !anyHost && !hostAllowed(r.Host, hosts) {
			http.Error(w, fmt.Sprintf("%v %q: only loopback hosts are served (allow more with the server's allowed hosts)", ErrForbiddenHost, r.Host), http.StatusForbidden)
			return
		}
		if o := r.Header.Get("Origin"); o != "" && !anyOrigin && !originAllowed(o, origins) {
			http.Error(w, fmt.Sprintf("%v %q: only loopback origins are served (allow more with the server's allowed origins)", ErrForbiddenOrigin, o), http.StatusForbidden)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func hostAllowed(hostport string, allowed []string) bool {
	if hostport == "" {
		return false
	}
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	if isLoopbackName(host) {
		return true
	}
	for _, a := range allowed {
		if strings.EqualFold(a, hostport) || strings.EqualFold(a, host) {
			return true
		}
	}
	return false
}

func originAllowed(origin string, allowed []string) bool {
	for _, a := range allowed {
		if strings.EqualFold(strings.TrimSuffix(a, "/"), origin) {
			return true
		}
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return isLoopbackName(u.Hostname())
}

func isLoopbackName(host string) bool {
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
