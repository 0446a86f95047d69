package gateway

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// A Backend is one deployment as the gateway reaches it. There are two kinds:
//
//   - a [StdioBackend]: a server process speaking MCP over stdin/stdout,
//     served through the STDIO-to-HTTP adapter;
//   - a [*RemoteBackend]: a networked server speaking Streamable HTTP,
//     reverse-proxied.
//
// [Gateway.Register] panics on any other implementation.
type Backend interface {
	// String describes the backend in logs, e.g. its command line or URL.
	String() string
}

// A StdioBackend is a stdio MCP server the gateway can open.
//
// Open returns the server's stdin (Write) and stdout (Read) as one stream of
// newline-delimited JSON-RPC messages. The stream ends (Read returns an
// error, usually io.EOF) when the process dies; the gateway then fails the
// calls in flight and calls Open again on the next request, which must
// return the restarted process (or an error: wrap [ErrStopped] when the
// deployment is stopped on purpose, so clients get 503 rather than 502).
//
// Close means the gateway is done with the stream: in [PerSession] mode the
// process belongs to one client session and should be stopped; in [Shared]
// mode Close happens on [Gateway.Unregister] and [Gateway.Close].
//
// Open's context bounds the opening only, not the life of the stream.
// Open may be called concurrently (one call per session in PerSession mode).
type StdioBackend interface {
	Backend
	Open(ctx context.Context) (io.ReadWriteCloser, error)
}

// A RemoteBackend is a networked MCP server reached over Streamable HTTP. The
// gateway reverse-proxies /servers/{name}/mcp to URL, streaming responses
// (SSE is flushed as it arrives) and passing the Mcp-Session-Id header both
// ways.
type RemoteBackend struct {
	// URL is the server's MCP endpoint, e.g. "http://127.0.0.1:3001/mcp".
	URL string
	// Header is added to every proxied request (e.g. Authorization for the
	// upstream). Nil adds nothing.
	Header http.Header
	// Transport makes the upstream requests. Nil means a transport with no
	// proxy from the environment and keep-alive connections.
	Transport http.RoundTripper
}

func (r *RemoteBackend) String() string { return r.URL }

// Mode says how HTTP sessions map onto a stdio server's processes.
type Mode int

const (
	// Shared multiplexes every client session onto one server process: the
	// gateway initializes it once and rewrites request IDs so that concurrent
	// sessions never see each other's responses. For stateless servers.
	Shared Mode = iota
	// PerSession gives each client session its own process, opened at the
	// session's initialize and closed when the session ends. For servers that
	// keep per-client state.
	PerSession
)

func (m Mode) String() string {
	switch m {
	case Shared:
		return "shared"
	case PerSession:
		return "per-session"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// ParseMode parses "shared" or "per-session" (as used in deployment specs).
func ParseMode(s string) (Mode, error) {
	switch s {
	case "shared", "":
		return Shared, nil
	case "per-session", "per_session", "persession":
		return PerSession, nil
	}
	return 0, fmt.Errorf("gateway: unknown mode %q: want \"shared\" or \"per-session\"", s)
}

// StdioFunc adapts a function to a StdioBackend.
type StdioFunc func(ctx context.Context) (io.ReadWriteCloser, error)

// Open calls f.
func (f StdioFunc) Open(ctx context.Context) (io.ReadWriteCloser, error) { return f(ctx) }

func (f StdioFunc) String() string { return "stdio" }

// Command is a StdioBackend that starts a plain child process on every Open,
// without sandbox or supervision. It is meant for tests, benchmarks and local
// use; the cloud runtime supplies supervised, sandboxed backends.
type Command struct {
	// Path is the program; Args its arguments (without the program name).
	Path string
	Args []string
	// Env is the environment; nil inherits the gateway's.
	Env []string
	// Dir is the working directory; "" is the gateway's.
	Dir string
	// Stderr receives the server's stderr; nil discards it.
	Stderr io.Writer
}

func (c *Command) String() string {
	return strings.TrimSpace(c.Path + " " + strings.Join(c.Args, " "))
}

// Open starts the process and returns its stdin/stdout. Closing the stream
// closes stdin, waits up to two seconds for the process to exit and then
// kills it.
func (c *Command) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cmd := exec.Command(c.Path, c.Args...)
	cmd.Env = c.Env
	cmd.Dir = c.Dir
	cmd.Stderr = c.Stderr
	inR, inW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		inR.Close()
		inW.Close()
		return nil, err
	}
	cmd.Stdin = inR
	cmd.Stdout = outW
	if err := cmd.Start(); err != nil {
		inR.Close()
		inW.Close()
		outR.Close()
		outW.Close()
		return nil, fmt.Errorf("start %s: %w", c.Path, err)
	}
	inR.Close()
	outW.Close()
	p := &process{cmd: cmd, stdin: inW, stdout: outR, exited: make(chan struct{})}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// process is the stream of a child started by Command.
type process struct {
	cmd     *exec.Cmd
	stdin   *os.File
	stdout  *os.File
	exited  chan struct{}
	waitErr error // set before exited closes

	closeOnce sync.Once
}

func (p *process) Read(b []byte) (int, error)  { return p.stdout.Read(b) }
func (p *process) Write(b []byte) (int, error) { return p.stdin.Write(b) }

// Close ends the process: stdin is closed (stdio servers exit on EOF), then
// the process is killed if it is still running after two seconds.
func (p *process) Close() error {
	p.closeOnce.Do(func() {
		p.stdin.Close()
		t := time.NewTimer(2 * time.Second)
		defer t.Stop()
		select {
		case <-p.exited:
		case <-t.C:
			_ = p.cmd.Process.Kill()
			<-p.exited
		}
		p.stdout.Close()
	})
	return nil
}
