package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"
)

// CreateServerRequest is the body of POST /v1/servers: what to run, what it
// may use, and how clients reach it. Exactly one of Type, Command and URL is
// set.
type CreateServerRequest struct {
	// Name is the deployment's name in the caller's org: lowercase letters,
	// digits, '-' and '_', starting with a letter or digit, at most 63
	// characters.
	Name string `json:"name"`
	// Type is a catalog server: "filesystem", "fetch" (built into the
	// platform), "everything", "memory", "filesystem-node" (npm reference
	// servers, run with node).
	Type string `json:"type,omitempty"`
	// Command and Args run any stdio MCP server.
	Command string   `json:"command,omitempty"`
	Args    []string `json:"args,omitempty"`
	// URL is a networked MCP server (Streamable HTTP) to proxy.
	URL string `json:"url,omitempty"`
	// Env is the server's whole environment besides PATH, HOME and LANG.
	Env map[string]string `json:"env,omitempty"`
	// AllowedPaths are the host paths the server may see.
	AllowedPaths []AllowedPath `json:"allowed_paths,omitempty"`
	// EgressAllow lists the destinations the server may connect to
	// ("host:port", "host", "*.example.com", "*"); empty means no network.
	EgressAllow []string `json:"egress_allow,omitempty"`
	Limits      Limits   `json:"limits,omitzero"`
	// Mode is "shared" (the default: one process multiplexed over every
	// client session) or "per-session" (one process per session).
	Mode string `json:"mode,omitempty"`
	// Public makes the MCP endpoint reachable without an API key.
	Public bool `json:"public,omitempty"`
	// Stopped creates the deployment without starting it.
	Stopped bool `json:"stopped,omitempty"`
}

// AllowedPath is a host path visible to a server, at the same path.
type AllowedPath struct {
	Path string `json:"path"`
	// Mode is "r" (read-only, the default) or "rw".
	Mode string `json:"mode,omitempty"`
}

// Limits bounds a server's resources; zero means no limit.
type Limits struct {
	MemoryBytes        int64   `json:"memory_bytes,omitempty"`
	CPUSeconds         int64   `json:"cpu_seconds,omitempty"`
	OpenFiles          int64   `json:"open_files,omitempty"`
	Processes          int64   `json:"processes,omitempty"`
	CallTimeoutSeconds float64 `json:"call_timeout_seconds,omitempty"`
}

// Server is a deployed server as the API reports it.
type Server struct {
	ID string `json:"id"`
	// Org and Name; FullName is "{org}.{name}", the name in MCP URLs.
	Org      string `json:"org"`
	Name     string `json:"name"`
	FullName string `json:"full_name"`
	Spec     Spec   `json:"spec"`
	// Status is pending, starting, running, stopped or failed;
	// StatusMessage says why.
	Status        string `json:"status"`
	StatusMessage string `json:"status_message,omitempty"`
	// DesiredState is what the platform keeps it at, also across its own
	// restarts: running or stopped.
	DesiredState string `json:"desired_state"`
	// Endpoint is the MCP endpoint (Streamable HTTP).
	Endpoint string `json:"endpoint"`
	// ConsoleURL is the deployment's page in the web console.
	ConsoleURL string `json:"console_url"`
	// Runtime is the live state of the process (absent for URL servers).
	Runtime   *RuntimeStatus `json:"runtime,omitempty"`
	Version   int            `json:"version"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// Spec is a server's deployment spec as stored. Env values are redacted in
// responses.
type Spec struct {
	Type         string            `json:"type,omitempty"`
	Command      string            `json:"command,omitempty"`
	Args         []string          `json:"args,omitempty"`
	URL          string            `json:"url,omitempty"`
	Env          map[string]string `json:"env,omitempty"`
	AllowedPaths []AllowedPath     `json:"allowed_paths,omitempty"`
	EgressAllow  []string          `json:"egress_allow,omitempty"`
	Limits       Limits            `json:"limits,omitzero"`
	Mode         string            `json:"mode"`
	Public       bool              `json:"public"`
}

// RuntimeStatus is the live state of a server's process.
type RuntimeStatus struct {
	// State is created, starting, running, backoff, exited or stopped.
	State         string    `json:"state"`
	Sandboxed     bool      `json:"sandboxed"`
	SandboxReason string    `json:"sandbox_reason,omitempty"`
	PID           int       `json:"pid,omitempty"`
	StartedAt     time.Time `json:"started_at,omitzero"`
	Restarts      int       `json:"restarts"`
	LastExit      string    `json:"last_exit,omitempty"`
	LastError     string    `json:"last_error,omitempty"`
	NextRestart   time.Time `json:"next_restart,omitzero"`
	Sessions      int       `json:"sessions,omitempty"`
	// Unenforced lists declared isolation or limits the runtime cannot
	// apply on this host, each with the reason.
	Unenforced []string `json:"unenforced,omitempty"`
}

// ServerList is the body of GET /v1/servers.
type ServerList struct {
	Servers []Server `json:"servers"`
}

// LogLine is one line of a server's output: its stderr, or a note of the
// runtime (Stream "runtime").
type LogLine struct {
	Seq    int64     `json:"seq"`
	Time   time.Time `json:"time"`
	Stream string    `json:"stream"`
	Line   string    `json:"line"`
}

// LogList is the body of GET /v1/servers/{name}/logs without follow.
type LogList struct {
	Logs []LogLine `json:"logs"`
}

// Event is something that happened to a deployment: created, status,
// started, exited, restarting, stopped, ...
type Event struct {
	ID      int64           `json:"id"`
	Time    time.Time       `json:"time"`
	Kind    string          `json:"kind"`
	Message string          `json:"message,omitempty"`
	Data    json.RawMessage `json:"data,omitempty"`
}

// EventList is the body of GET /v1/servers/{name}/events without follow.
type EventList struct {
	Events []Event `json:"events"`
}

// LogQuery selects log lines.
type LogQuery struct {
	After int64     // lines with a greater Seq
	Since time.Time // lines at or after this time
	Limit int       // the newest Limit lines (0: 100)
}

// EventQuery selects events.
type EventQuery struct {
	After int64 // events with a greater ID
	Limit int   // the newest Limit events (0: 100)
}

// Health is the body of GET /healthz.
type Health struct {
	Status  string `json:"status"`
	Version string `json:"version,omitempty"`
}

// ErrorBody is the body of every error response:
// {"error":{"code":"...","message":"..."}}.
type ErrorBody struct {
	Error *Error `json:"error"`
}

// Error codes.
const (
	CodeBadRequest   = "bad_request"        // malformed request (400)
	CodeInvalid      = "invalid"            // a field is wrong (400)
	CodeUnauthorized = "unauthorized"       // missing or invalid API key (401)
	CodeForbidden    = "forbidden"          // (403)
	CodeNotFound     = "not_found"          // (404)
	CodeMethod       = "method_not_allowed" // (405)
	CodeConflict     = "conflict"           // name taken (409)
	CodeTooLarge     = "request_too_large"  // body over the limit (413)
	CodeUnavailable  = "unavailable"        // stopped, shutting down (503)
	CodeInternal     = "internal"           // a bug or a broken store (500)
)

// Error is an API error: an HTTP status, a stable code and a message that
// names the cause and what to do.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

func (e *Error) Error() string { return e.Message }

// Errorf returns an *Error with status, code and a formatted message.
func Errorf(status int, code, format string, args ...any) *Error {
	return &Error{Status: status, Code: code, Message: fmt.Sprintf(format, args...)}
}

// NotFound, Invalid, Conflict and Unavailable build the common errors.
func NotFound(format string, args ...any) *Error {
	return Errorf(http.StatusNotFound, CodeNotFound, format, args...)
}

// Invalid is a 400 about a field of the request.
func Invalid(format string, args ...any) *Error {
	return Errorf(http.StatusBadRequest, CodeInvalid, format, args...)
}

// Conflict is a 409.
func Conflict(format string, args ...any) *Error {
	return Errorf(http.StatusConflict, CodeConflict, format, args...)
}

// Unavailable is a 503.
func Unavailable(format string, args ...any) *Error {
	return Errorf(http.StatusServiceUnavailable, CodeUnavailable, format, args...)
}

// ErrUnauthorized is returned by Service.Authenticate for an unknown or
// revoked key.
var ErrUnauthorized = errors.New("invalid API key")

// asError returns err as an *Error, or a 500 for anything else.
func asError(err error) (*Error, bool) {
	var e *Error
	if errors.As(err, &e) {
		return e, true
	}
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error: see the platform's log"}, false
}
