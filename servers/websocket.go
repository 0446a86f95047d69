package servers

// MCP over WebSocket. The go-sdk has no WebSocket transport; this one speaks
// the convention of the Python and TypeScript SDKs: the client asks for the
// subprotocol "mcp", and every WebSocket text message carries exactly one
// JSON-RPC message (no batching, no newline framing).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/coder/websocket"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// WebSocketSubprotocol is the WebSocket subprotocol MCP clients request.
const WebSocketSubprotocol = "mcp"

// maxWebSocketMessage bounds one inbound message, as the SDK bounds one
// stdio line.
const maxWebSocketMessage = mcp.DefaultMaxLineLength

// WebSocketTransport is an [mcp.Transport] connecting an MCP client to a
// server over WebSocket (ws:// or wss://; http(s):// URLs are accepted and
// mean the same).
//
// Like every transport it connects once: build a new one per connection.
type WebSocketTransport struct {
	// URL is the server's WebSocket endpoint.
	URL string
	// HTTPClient performs the opening handshake. Nil means
	// http.DefaultClient. Its Timeout, if set, bounds the handshake only.
	HTTPClient *http.Client
	// Header is sent with the handshake request (for example Authorization).
	Header http.Header
}

// Connect dials the server. ctx bounds the handshake only.
func (t *WebSocketTransport) Connect(ctx context.Context) (mcp.Connection, error) {
	c, resp, err := websocket.Dial(ctx, t.URL, &websocket.DialOptions{
		HTTPClient:   t.HTTPClient,
		HTTPHeader:   t.Header,
		Subprotocols: []string{WebSocketSubprotocol},
	})
	if err != nil {
		if resp != nil && resp.StatusCode != http.StatusSwitchingProtocols {
			return nil, fmt.Errorf("websocket handshake with %s: HTTP %s: %w", t.URL, resp.Status, err)
		}
		return nil, fmt.Errorf("websocket dial %s: %w", t.URL, err)
	}
	c.SetReadLimit(maxWebSocketMessage)
	return newWSConn(c, ""), nil
}

// wsConn is an mcp.Connection over one WebSocket connection.
type wsConn struct {
	c         *websocket.Conn
	sessionID string

	closeOnce sync.Once
	closeErr  error
}

func newWSConn(c *websocket.Conn, sessionID string) *wsConn {
	return &wsConn{c: c, sessionID: sessionID}
}

func (w *wsConn) SessionID() string { return w.sessionID }

func (w *wsConn) Read(ctx context.Context) (jsonrpc.Message, error) {
	typ, data, err := w.c.Read(ctx)
	if err != nil {
		switch websocket.CloseStatus(err) {
		case websocket.StatusNormalClosure, websocket.StatusGoingAway:
			return nil, io.EOF
		}
		if errors.Is(err, io.EOF) {
			return nil, io.EOF
		}
		return nil, err
	}
	if typ != websocket.MessageText {
		return nil, fmt.Errorf("websocket: got a binary message; MCP over WebSocket sends each JSON-RPC message as one text message")
	}
	msg, err := jsonrpc.DecodeMessage(data)
	if err != nil {
		return nil, fmt.Errorf("websocket: message is not JSON-RPC: %w", err)
	}
	return msg, nil
}

func (w *wsConn) Write(ctx context.Context, msg jsonrpc.Message) error {
	data, err := jsonrpc.EncodeMessage(msg)
	if err != nil {
		return fmt.Errorf("encode JSON-RPC message: %w", err)
	}
	return w.c.Write(ctx, websocket.MessageText, data)
}

// Close performs the WebSocket close handshake (bounded by the library to a
// few seconds when the peer does not answer). It unblocks a pending Read.
func (w *wsConn) Close() error {
	w.closeOnce.Do(func() {
		err := w.c.Close(websocket.StatusNormalClosure, "")
		if err != nil && !isClosedErr(err) {
			w.closeErr = err
		}
	})
	return w.closeErr
}

// isClosedErr reports errors that only say the connection was already gone.
func isClosedErr(err error) bool {
	if err == nil {
		return true
	}
	switch websocket.CloseStatus(err) {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway:
		return true
	}
	return errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed)
}

// WebSocketHandler is an http.Handler serving MCP over WebSocket: each
// accepted WebSocket connection is one session of the [mcp.Server] returned
// by getServer. Use it to serve MCP to clients that speak WebSocket (the
// Python mcp-agent's "websocket" transport), and in tests.
type WebSocketHandler struct {
	getServer func(*http.Request) *mcp.Server
	opts      WebSocketHandlerOptions

	mu       sync.Mutex
	sessions map[*mcp.ServerSession]struct{}
	closed   bool
}

// WebSocketHandlerOptions configures a WebSocketHandler. The zero value
// accepts same-origin (and non-browser) clients and logs nothing.
type WebSocketHandlerOptions struct {
	// OriginPatterns lists extra host patterns (path.Match syntax, e.g.
	// "*.example.com") allowed in the Origin header of browser clients.
	// Nil allows only same-origin browsers; clients that send no Origin
	// header (all non-browser clients) are always accepted.
	OriginPatterns []string
	// SessionOptions is passed to [mcp.Server.Connect] for every session.
	SessionOptions *mcp.ServerSessionOptions
	// Logger receives handshake and session errors. Nil discards them.
	Logger *slog.Logger
}

// NewWebSocketHandler returns a handler serving the server that getServer
// returns for each request (the same one every time, or one per session).
// If getServer returns nil the request is answered 400 Bad Request.
func NewWebSocketHandler(getServer func(*http.Request) *mcp.Server, opts *WebSocketHandlerOptions) *WebSocketHandler {
	h := &WebSocketHandler{getServer: getServer, sessions: map[*mcp.ServerSession]struct{}{}}
	if opts != nil {
		h.opts = *opts
	}
	if h.opts.Logger == nil {
		h.opts.Logger = slog.New(slog.DiscardHandler)
	}
	return h
}

// ServeHTTP upgrades the request to a WebSocket and runs an MCP session on
// it until either side closes it.
func (h *WebSocketHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	server := h.getServer(r)
	if server == nil {
		http.Error(w, "no MCP server for this request", http.StatusBadRequest)
		return
	}
	h.mu.Lock()
	closed := h.closed
	h.mu.Unlock()
	if closed {
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	c, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		Subprotocols:   []string{WebSocketSubprotocol},
		OriginPatterns: h.opts.OriginPatterns,
	})
	if err != nil {
		h.opts.Logger.Warn("websocket handshake failed", "remote", r.RemoteAddr, "error", err)
		return // Accept has written the HTTP error
	}
	c.SetReadLimit(maxWebSocketMessage)
	conn := newWSConn(c, "")
	// The session outlives nothing but the connection: do not tie it to the
	// request context, which some servers cancel on hijack.
	ss, err := server.Connect(context.WithoutCancel(r.Context()), wsServerTransport{conn}, h.opts.SessionOptions)
	if err != nil {
		h.opts.Logger.Warn("websocket MCP session failed to start", "remote", r.RemoteAddr, "error", err)
		conn.Close()
		return
	}
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		ss.Close()
		return
	}
	h.sessions[ss] = struct{}{}
	h.mu.Unlock()
	defer func() {
		h.mu.Lock()
		delete(h.sessions, ss)
		h.mu.Unlock()
	}()
	if err := ss.Wait(); err != nil && !isClosedErr(err) {
		h.opts.Logger.Debug("websocket MCP session ended", "remote", r.RemoteAddr, "error", err)
	}
}

// Close ends every open session and refuses new ones. It waits until the
// sessions' connections are closed.
func (h *WebSocketHandler) Close() error {
	h.mu.Lock()
	h.closed = true
	sessions := make([]*mcp.ServerSession, 0, len(h.sessions))
	for ss := range h.sessions {
		sessions = append(sessions, ss)
	}
	h.mu.Unlock()
	var errs []error
	for _, ss := range sessions {
		if err := ss.Close(); err != nil && !isClosedErr(err) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// wsServerTransport hands an accepted connection to mcp.Server.Connect.
type wsServerTransport struct{ c *wsConn }

func (t wsServerTransport) Connect(context.Context) (mcp.Connection, error) { return t.c, nil }
