// Package devserver starts a development Temporal server: the temporal-dev
// binary (tools/temporal-dev in this repository, built and cached by
// scripts/temporal-dev), serving on loopback with SQLite persistence. Tests
// and examples use it to run workflows on a real Temporal server.
//
//	srv, err := devserver.Start(ctx, nil) // builds temporal-dev the first time (minutes)
//	if err != nil { ... }
//	defer srv.Close()
//	ex, err := temporal.Dial(ctx, &config.TemporalSettings{Host: srv.Addr}, reg, &temporal.Options{Worker: true})
package devserver

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// BinaryEnv names an environment variable that, when set, is the path of a
// temporal-dev binary to use instead of building one.
const BinaryEnv = "MCP_AGENT_TEMPORAL_DEV"

// Binary returns the path of the temporal-dev binary: $MCP_AGENT_TEMPORAL_DEV
// if set, else what scripts/temporal-dev prints (it builds the binary into
// a cache outside the work tree when missing, which takes minutes the first
// time). The script is found by walking up from the working directory.
func Binary(ctx context.Context) (string, error) {
	if p := os.Getenv(BinaryEnv); p != "" {
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("$%s: %w", BinaryEnv, err)
		}
		return p, nil
	}
	script, err := findScript()
	if err != nil {
		return "", err
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, script)
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s: %w\n%s", script, err, tail(stderr.String(), 2000))
	}
	p := strings.TrimSpace(stdout.String())
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("%s printed %q: %w", script, p, err)
	}
	return p, nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "..." + s[len(s)-n:]
	}
	return s
}

// findScript finds scripts/temporal-dev next to tools/temporal-dev in the
// working directory or a parent.
func findScript() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 64 {
		p := filepath.Join(dir, "scripts", "temporal-dev")
		if _, err := os.Stat(filepath.Join(dir, "tools", "temporal-dev", "go.mod")); err == nil {
			if _, err := os.Stat(p); err == nil {
				return p, nil
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", fmt.Errorf("scripts/temporal-dev not found above the working directory; run from the mcp-agent repository or set $%s to a temporal-dev binary", BinaryEnv)
}

// Options configures Start. The zero value is valid.
type Options struct {
	// Binary is the temporal-dev binary; "" means Binary(ctx).
	Binary string
	// DB is the SQLite database file; "" keeps the server's state in
	// memory.
	DB string
	// Namespace is the namespace to create; "" means "default".
	Namespace string
	// Log receives the server's log (warnings and errors); nil discards it.
	Log io.Writer
}

// Server is a running temporal-dev process.
type Server struct {
	// Addr is the frontend's host:port on loopback.
	Addr string
	// Namespace is the namespace it created.
	Namespace string

	cmd   *exec.Cmd
	stdin io.WriteCloser
	done  chan struct{}
	err   error
	once  sync.Once
}

// Start starts a temporal-dev server on a free loopback port and waits
// until it accepts connections (at most a minute). The server stops with
// Close, or when this process dies (it exits when its standard input
// closes). opts may be nil.
func Start(ctx context.Context, opts *Options) (*Server, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.Namespace == "" {
		o.Namespace = "default"
	}
	if o.Binary == "" {
		var err error
		if o.Binary, err = Binary(ctx); err != nil {
			return nil, err
		}
	}
	args := []string{"-port", "0", "-namespace", o.Namespace, "-exit-on-stdin-eof"}
	if o.DB != "" {
		args = append(args, "-db", o.DB)
	}
	cmd := exec.Command(o.Binary, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var errBuf lockedBuffer
	cmd.Stderr = &errBuf
	if o.Log != nil {
		cmd.Stderr = io.MultiWriter(&errBuf, o.Log)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", o.Binary, err)
	}
	s := &Server{Namespace: o.Namespace, cmd: cmd, stdin: stdin, done: make(chan struct{})}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "temporal-dev: listening on "); ok {
				if f := strings.Fields(rest); len(f) > 0 {
					addr <- f[0]
				}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	timer := time.NewTimer(time.Minute)
	defer timer.Stop()
	select {
	case s.Addr = <-addr:
		return s, nil
	case <-s.done:
		return nil, fmt.Errorf("temporal-dev exited before serving (%v):\n%s", s.err, tail(errBuf.String(), 4000))
	case <-timer.C:
		s.Close()
		return nil, fmt.Errorf("temporal-dev did not start serving within a minute:\n%s", tail(errBuf.String(), 4000))
	case <-ctx.Done():
		s.Close()
		return nil, ctx.Err()
	}
}

// Close stops the server (it exits when its standard input closes), killing
// it if it has not exited within 30 seconds.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.stdin.Close()
		t := time.NewTimer(30 * time.Second)
		defer t.Stop()
		select {
		case <-s.done:
		case <-t.C:
			s.cmd.Process.Kill()
			<-s.done
		}
	})
	var ee *exec.ExitError
	if s.err != nil && !errors.As(s.err, &ee) {
		return s.err
	}
	return nil
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
