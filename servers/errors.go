package servers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mcp-agent-go/mcp-agent/config"
)

// ErrUnknownServer is returned (wrapped) when a server name is not in the
// registry's configuration. The message lists the known names:
//
//	unknown server "fetc" (known: fetch, filesystem)
var ErrUnknownServer = errors.New("unknown server")

// ErrClosed is returned (wrapped) by a Registry or Conn used after Close.
var ErrClosed = errors.New("closed")

// ErrToolNotAllowed is returned (wrapped) by CallTool for a tool that the
// server's allowed_tools list does not include.
var ErrToolNotAllowed = errors.New("tool not allowed")

// ErrNotSupported is returned (wrapped) when a server was asked for a
// feature (resources, prompts, subscriptions) it did not advertise.
var ErrNotSupported = errors.New("not supported by server")

// ServerExitedError reports that a server's connection ended under a call:
// the stdio process exited (or printed something that is not JSON-RPC on
// stdout), or a networked connection was lost. The dead session has been
// dropped; a Registry reconnects on the next call.
//
// For stdio servers Stderr holds the last lines the process wrote to stderr,
// which usually say why it stopped.
type ServerExitedError struct {
	// Server is the server name.
	Server string
	// Err is the cause: the exit status ("exit status 3"), a protocol error,
	// or the network error that broke the connection.
	Err error
	// Stderr is the tail (up to about 20 lines) of the process's stderr;
	// empty for networked transports.
	Stderr string
	// Transport is the server's transport (config.TransportStdio, ...).
	Transport string
}

func (e *ServerExitedError) Error() string {
	var b strings.Builder
	verb := "exited"
	if e.Transport != "" && e.Transport != config.TransportStdio {
		verb = "disconnected"
	}
	fmt.Fprintf(&b, "server %q %s", e.Server, verb)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	if s := strings.TrimRight(e.Stderr, "\n"); s != "" {
		b.WriteString("; last stderr lines:\n")
		b.WriteString(s)
	}
	return b.String()
}

func (e *ServerExitedError) Unwrap() error { return e.Err }

// TimeoutError reports a request that got no answer in time: either the
// server's read_timeout_seconds or the caller's context deadline. It
// matches context.DeadlineExceeded with errors.Is.
//
//	server "slow": tools/call timed out after 2s
type TimeoutError struct {
	Server string
	Method string
	// After is read_timeout_seconds when that fired, otherwise the time the
	// caller waited before its own deadline.
	After time.Duration
}

func (e *TimeoutError) Error() string {
	return fmt.Sprintf("server %q: %s timed out after %s", e.Server, e.Method, e.After)
}

// Unwrap makes errors.Is(err, context.DeadlineExceeded) true.
func (e *TimeoutError) Unwrap() error { return context.DeadlineExceeded }

// Timeout reports true, like net.Error.
func (e *TimeoutError) Timeout() bool { return true }

// ConnectError reports a failure to start or connect to a server.
//
//	connect to server "x" (streamable_http http://127.0.0.1:1/mcp): ... connection refused
type ConnectError struct {
	Server string
	// Transport and Target describe what was tried: the command line for
	// stdio, the URL otherwise.
	Transport string
	Target    string
	Err       error
}

func (e *ConnectError) Error() string {
	return fmt.Sprintf("connect to server %q (%s %s): %v", e.Server, e.Transport, e.Target, e.Err)
}

func (e *ConnectError) Unwrap() error { return e.Err }

// unknownServer builds the ErrUnknownServer error for name.
func unknownServer(name string, known []string) error {
	if len(known) == 0 {
		return fmt.Errorf("%w %q (no servers are configured; add them under mcp.servers)", ErrUnknownServer, name)
	}
	return fmt.Errorf("%w %q (known: %s)", ErrUnknownServer, name, strings.Join(known, ", "))
}
