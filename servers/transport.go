package servers

import (
	"bytes"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/config"
)

// stdioTerminateAfter is how long closing a stdio server waits for it to
// exit after its stdin is closed, before SIGTERM (and as long again before
// SIGKILL). Two seconds, as in the Python SDK.
const stdioTerminateAfter = 2 * time.Second

// NewTransport builds a fresh transport for spec, chosen by
// spec.EffectiveTransport():
//
//   - stdio: an [mcp.CommandTransport] running spec.Command with spec.Args in
//     spec.Cwd, with spec.Env merged over the current environment; the
//     process's stderr goes to stderr (nil discards it).
//   - streamable_http: an [mcp.StreamableClientTransport] to spec.URL.
//   - sse: an [mcp.SSEClientTransport] to spec.URL (the legacy HTTP+SSE
//     transport).
//   - websocket: a [WebSocketTransport] to spec.URL.
//
// Networked transports send spec.Headers and, when spec.Auth.APIKey is set,
// "Authorization: Bearer <key>" on every request; spec.HTTPTimeout() bounds
// dialing and TLS handshakes. With spec.TerminateOnClose set to false a
// Streamable HTTP session is left open on the server when the client closes.
//
// Closing a stdio connection closes the process's stdin, waits 2s for it
// to exit, then sends SIGTERM, and SIGKILL 2s later.
//
// A Transport connects once (an exec.Cmd cannot be restarted), so call
// NewTransport again for every connection. A Registry or Open does this for
// you; use NewTransport to connect an [mcp.Client] of your own.
func NewTransport(spec config.ServerSpec, stderr io.Writer) (mcp.Transport, error) {
	t, _, err := newTransport(spec, stderr)
	return t, err
}

// newTransport is NewTransport that also returns a function releasing the
// resources the transport holds beyond its connection (the idle connections
// of its dedicated HTTP client).
func newTransport(spec config.ServerSpec, stderr io.Writer) (mcp.Transport, func(), error) {
	nop := func() {}
	switch tr := spec.EffectiveTransport(); tr {
	case config.TransportStdio:
		if spec.Command == "" {
			return nil, nop, fmt.Errorf("the stdio transport needs a command (set mcp.servers.%s.command)", specName(spec))
		}
		cmd := exec.Command(spec.Command, spec.Args...)
		cmd.Env = mergeEnv(os.Environ(), spec.Env)
		cmd.Dir = spec.Cwd
		if stderr != nil {
			cmd.Stderr = stderr
		}
		return &mcp.CommandTransport{Command: cmd, TerminateDuration: stdioTerminateAfter}, nop, nil

	case config.TransportStreamableHTTP, config.TransportSSE, config.TransportWebSocket:
		if err := checkURL(spec, tr); err != nil {
			return nil, nop, err
		}
		client, base := newHTTPClient(spec, tr)
		release := base.CloseIdleConnections
		switch tr {
		case config.TransportStreamableHTTP:
			return &mcp.StreamableClientTransport{Endpoint: spec.URL, HTTPClient: client}, release, nil
		case config.TransportSSE:
			return &mcp.SSEClientTransport{Endpoint: spec.URL, HTTPClient: client}, release, nil
		default:
			return &WebSocketTransport{URL: spec.URL, HTTPClient: client}, release, nil
		}

	case "":
		return nil, nop, fmt.Errorf("server %q has neither a command (stdio) nor a url: set mcp.servers.%s.command or .url", specName(spec), specName(spec))
	default:
		return nil, nop, fmt.Errorf("unknown transport %q (use stdio, sse, streamable_http or websocket)", tr)
	}
}

// specName is the name to show for spec in messages.
func specName(spec config.ServerSpec) string {
	switch {
	case spec.Name != "":
		return spec.Name
	case spec.Command != "":
		return filepath.Base(spec.Command)
	case spec.URL != "":
		if u, err := url.Parse(spec.URL); err == nil && u.Host != "" {
			return u.Host
		}
		return spec.URL
	}
	return "server"
}

// target describes what connecting to spec tries: the command line or URL.
func target(spec config.ServerSpec) string {
	if spec.EffectiveTransport() == config.TransportStdio {
		return strings.TrimSpace(spec.Command + " " + strings.Join(spec.Args, " "))
	}
	return spec.URL
}

func checkURL(spec config.ServerSpec, tr string) error {
	if spec.URL == "" {
		return fmt.Errorf("the %s transport needs a url (set mcp.servers.%s.url)", tr, specName(spec))
	}
	u, err := url.Parse(spec.URL)
	if err != nil {
		return fmt.Errorf("invalid url %q: %v", spec.URL, err)
	}
	ok := u.Scheme == "http" || u.Scheme == "https"
	if tr == config.TransportWebSocket {
		ok = ok || u.Scheme == "ws" || u.Scheme == "wss"
	}
	if !ok || u.Host == "" {
		want := "http:// or https://"
		if tr == config.TransportWebSocket {
			want = "ws://, wss://, http:// or https://"
		}
		return fmt.Errorf("url %q is not an absolute %s URL", spec.URL, want)
	}
	return nil
}

// mergeEnv returns base with env's entries set (replacing same-named ones).
func mergeEnv(base []string, env map[string]string) []string {
	if len(env) == 0 {
		return base
	}
	out := make([]string, 0, len(base)+len(env))
	for _, kv := range base {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := env[k]; !ok {
			out = append(out, kv)
		}
	}
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// newHTTPClient returns an HTTP client for spec with its own connection pool
// (so that closing a connection can release it), adding spec's headers.
func newHTTPClient(spec config.ServerSpec, tr string) (*http.Client, *http.Transport) {
	base := http.DefaultTransport.(*http.Transport).Clone()
	timeout := spec.HTTPTimeout()
	base.DialContext = (&net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}).DialContext
	base.TLSHandshakeTimeout = timeout
	if tr == config.TransportWebSocket {
		// The WebSocket handshake is an HTTP/1.1 upgrade.
		base.ForceAttemptHTTP2 = false
	}
	h := &headerTransport{base: base, headers: http.Header{}}
	for k, v := range spec.Headers {
		h.headers.Set(k, v)
	}
	if spec.Auth != nil && spec.Auth.APIKey != "" && h.headers.Get("Authorization") == "" {
		h.headers.Set("Authorization", "Bearer "+spec.Auth.APIKey)
	}
	h.keepSession = spec.TerminateOnClose != nil && !*spec.TerminateOnClose && tr == config.TransportStreamableHTTP
	return &http.Client{Transport: h}, base
}

// headerTransport is an http.RoundTripper adding configured headers, and
// optionally suppressing the DELETE that terminates a Streamable HTTP
// session (terminate_on_close: false).
type headerTransport struct {
	base        http.RoundTripper
	headers     http.Header
	keepSession bool
}

func (t *headerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.keepSession && req.Method == http.MethodDelete && req.Header.Get("Mcp-Session-Id") != "" {
		if req.Body != nil {
			req.Body.Close()
		}
		return &http.Response{
			Status:     "204 No Content (session kept: terminate_on_close is false)",
			StatusCode: http.StatusNoContent,
			Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
			Header:  http.Header{},
			Body:    http.NoBody,
			Request: req,
		}, nil
	}
	if len(t.headers) > 0 {
		req = req.Clone(req.Context())
		for k, vs := range t.headers {
			// Protocol headers set by the SDK win over configured ones.
			if req.Header.Get(k) == "" || k == "Authorization" {
				req.Header[k] = vs
			}
		}
	}
	return t.base.RoundTrip(req)
}

// stderrTail is an io.Writer keeping the last lines written to it, and
// passing each complete line to onLine.
type stderrTail struct {
	mu      sync.Mutex
	lines   []string
	partial []byte
	onLine  func(string)
}

const (
	stderrTailLines = 20
	stderrMaxLine   = 2000 // bytes kept of one line
)

func (t *stderrTail) Write(p []byte) (int, error) {
	t.mu.Lock()
	var complete []string
	rest := p
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		line := append(t.partial, rest[:i]...)
		t.partial = nil
		complete = append(complete, clipLine(string(bytes.TrimRight(line, "\r"))))
		rest = rest[i+1:]
	}
	if len(t.partial)+len(rest) <= stderrMaxLine {
		t.partial = append(t.partial, rest...)
	} else if len(t.partial) < stderrMaxLine {
		t.partial = append(t.partial, rest[:stderrMaxLine-len(t.partial)]...)
	}
	t.lines = append(t.lines, complete...)
	if n := len(t.lines) - stderrTailLines; n > 0 {
		t.lines = slices.Delete(t.lines, 0, n)
	}
	onLine := t.onLine
	t.mu.Unlock()
	if onLine != nil {
		for _, l := range complete {
			onLine(l)
		}
	}
	return len(p), nil
}

func clipLine(s string) string {
	if len(s) > stderrMaxLine {
		return s[:stderrMaxLine] + "…"
	}
	return s
}

// String returns the kept lines, including an unterminated last line.
func (t *stderrTail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := slices.Clone(t.lines)
	if len(t.partial) > 0 {
		lines = append(lines, string(t.partial))
		if len(lines) > stderrTailLines {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}
