package gateway

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
)

// JSON-RPC error codes the gateway itself produces, in the range JSON-RPC
// reserves for implementation-defined server errors. MCP clients see them in
// the error of a call; the REST endpoints map them to HTTP statuses.
const (
	// CodeServerExited: the server process ended while the request was in
	// flight (crash, kill, restart). The next request starts it again.
	CodeServerExited = -32080
	// CodeServerUnavailable: the server could not be started or is stopped.
	CodeServerUnavailable = -32081
	// CodeTimeout: the server did not answer within Options.CallTimeout.
	CodeTimeout = -32082
	// CodeUnroutable: a shared server sent a request (sampling, elicitation,
	// roots) the gateway cannot attribute to exactly one client session.
	CodeUnroutable = -32083
	// CodeTooLarge: a message from the server exceeded Options.MaxResponseBytes.
	CodeTooLarge = -32084
)

// Sentinel errors. Errors returned by the gateway wrap one of them; test with
// errors.Is.
var (
	// ErrStopped is what a Backend's Open returns (wrapped) when the
	// deployment is stopped on purpose; the gateway answers 503.
	ErrStopped = errors.New("server stopped")
	// ErrExited: the server process ended while a request was in flight.
	ErrExited = errors.New("server exited")
	// ErrClosed: the gateway, the server's registration or the session was
	// closed.
	ErrClosed = errors.New("gateway closed")
)

// rpcError builds the JSON-RPC error returned to MCP clients.
func rpcError(code int64, format string, args ...any) *jsonrpc.Error {
	return &jsonrpc.Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// apiError is the body of every JSON error the gateway writes:
// {"error":{"code":"...","message":"..."}}.
type apiError struct {
	Error apiErrorBody `json:"error"`
}

type apiErrorBody struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Error codes of JSON (non-MCP) error responses.
const (
	errCodeNotFound      = "not_found"
	errCodeUnavailable   = "unavailable"
	errCodeBadRequest    = "bad_request"
	errCodeTooLarge      = "request_too_large"
	errCodeTimeout       = "timeout"
	errCodeBadGateway    = "bad_gateway"
	errCodeForbidden     = "forbidden"
	errCodeMethod        = "method_not_allowed"
	errCodeInvalidParams = "invalid_params"
	errCodeInternal      = "internal"
)

// writeError writes a JSON error response.
func writeError(w http.ResponseWriter, status int, code, format string, args ...any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(apiError{Error: apiErrorBody{Code: code, Message: fmt.Sprintf(format, args...)}})
}

// jsonErrorWriter turns the plain-text error responses of the SDK's HTTP
// handler (bad JSON, unknown session, wrong method...) into the gateway's
// JSON errors. Everything else, including JSON-RPC error bodies and SSE
// streams, passes through.
type jsonErrorWriter struct {
	http.ResponseWriter
	status  int // non-zero: capturing a plain-text error
	body    []byte
	written bool
}

func (w *jsonErrorWriter) WriteHeader(code int) {
	if w.written {
		return
	}
	w.written = true
	if code >= 400 && strings.HasPrefix(w.Header().Get("Content-Type"), "text/plain") {
		w.status = code
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *jsonErrorWriter) Write(b []byte) (int, error) {
	if !w.written {
		w.WriteHeader(http.StatusOK)
	}
	if w.status != 0 {
		if len(w.body) < 4096 {
			w.body = append(w.body, b...)
		}
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

func (w *jsonErrorWriter) Flush() {
	if w.status == 0 {
		_ = http.NewResponseController(w.ResponseWriter).Flush()
	}
}

func (w *jsonErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// finish writes the captured error, if any, as JSON.
func (w *jsonErrorWriter) finish() {
	if w.status == 0 {
		return
	}
	code := errCodeBadRequest
	switch w.status {
	case http.StatusNotFound:
		code = errCodeNotFound
	case http.StatusForbidden:
		code = errCodeForbidden
	case http.StatusMethodNotAllowed:
		code = errCodeMethod
	case http.StatusRequestEntityTooLarge:
		code = errCodeTooLarge
	case http.StatusUnsupportedMediaType:
		code = "unsupported_media_type"
	default:
		if w.status >= 500 {
			code = errCodeInternal
		}
	}
	w.Header().Del("Content-Length")
	writeError(w.ResponseWriter, w.status, code, "%s", strings.TrimSpace(string(w.body)))
}
