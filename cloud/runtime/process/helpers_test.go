package process

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
)

const waitLimit = 30 * time.Second

// recorder collects events and log lines and lets tests wait for them.
type recorder struct {
	mu     sync.Mutex
	events []runtime.Event
	logs   []runtime.LogLine
	wake   chan struct{}
}

func newRecorder() *recorder { return &recorder{wake: make(chan struct{})} }

func (r *recorder) event(e runtime.Event) {
	r.mu.Lock()
	r.events = append(r.events, e)
	close(r.wake)
	r.wake = make(chan struct{})
	r.mu.Unlock()
}

func (r *recorder) log(l runtime.LogLine) {
	r.mu.Lock()
	r.logs = append(r.logs, l)
	close(r.wake)
	r.wake = make(chan struct{})
	r.mu.Unlock()
}

// kinds returns the event kinds of deployment name, in order.
func (r *recorder) kinds(name string) []runtime.EventKind {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []runtime.EventKind
	for _, e := range r.events {
		if e.Deployment == name {
			out = append(out, e.Kind)
		}
	}
	return out
}

func (r *recorder) messages(name string, kind runtime.EventKind) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, e := range r.events {
		if e.Deployment == name && e.Kind == kind {
			out = append(out, e.Message)
		}
	}
	return out
}

// waitUntil waits until cond (called with r locked) holds.
func (r *recorder) waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(waitLimit)
	defer deadline.Stop()
	for {
		r.mu.Lock()
		ok := cond()
		wake := r.wake
		r.mu.Unlock()
		if ok {
			return
		}
		select {
		case <-wake:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s; events: %+v", what, r.events)
		}
	}
}

func (r *recorder) countKind(name string, kind runtime.EventKind) int {
	n := 0
	for _, e := range r.events {
		if e.Deployment == name && e.Kind == kind {
			n++
		}
	}
	return n
}

// newDriver returns a Driver with fast backoff whose events and logs go to
// the returned recorder; it is closed at the end of the test.
func newDriver(t *testing.T, opts *Options) (*Driver, *recorder) {
	t.Helper()
	rec := newRecorder()
	var o Options
	if opts != nil {
		o = *opts
	}
	o.OnEvent = rec.event
	o.OnLog = rec.log
	if o.Backoff == (Backoff{}) {
		o.Backoff = Backoff{Initial: 10 * time.Millisecond, Max: 40 * time.Millisecond, ResetAfter: time.Hour}
	}
	if o.StopTimeout == 0 {
		o.StopTimeout = 2 * time.Second
	}
	d, err := New(&o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		if err := d.Close(ctx); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d, rec
}

// sandboxDriver returns a driver that sandboxes, or skips (fails when
// MCP_AGENT_REQUIRE_TOOLS=1 and bwrap is missing).
func sandboxDriver(t *testing.T, opts *Options) (*Driver, *recorder) {
	t.Helper()
	requireSandbox(t)
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Sandbox = SandboxRequired
	return newDriver(t, &o)
}

// requireSandbox skips the test when bwrap cannot create namespaces here,
// and fails it when bwrap is missing and MCP_AGENT_REQUIRE_TOOLS=1.
func requireSandbox(t *testing.T) {
	t.Helper()
	path, reason := sandboxProbe(context.Background(), "")
	if path == "" {
		if strings.Contains(reason, "not installed") && os.Getenv("MCP_AGENT_REQUIRE_TOOLS") == "1" {
			t.Fatalf("%s (MCP_AGENT_REQUIRE_TOOLS=1)", reason)
		}
		t.Skip("sandbox unavailable: " + reason)
	}
}

func sandboxAvailable() bool {
	path, _ := sandboxProbe(context.Background(), "")
	return path != ""
}

// testSpec runs the test server.
func testSpec(t *testing.T, name string) runtime.Spec {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return runtime.Spec{Name: name, Command: exe, Env: testEnv}
}

func mustCreateStart(t *testing.T, d *Driver, spec runtime.Spec) {
	t.Helper()
	ctx := context.Background()
	if err := d.Create(ctx, spec); err != nil {
		t.Fatalf("Create: %v", err)
	}
	if err := d.Start(ctx, spec.Name); err != nil {
		t.Fatalf("Start: %v", err)
	}
}

// session talks the test server's line protocol over an opened stream.
type session struct {
	t  *testing.T
	rw io.ReadWriteCloser
	br *bufio.Reader
}

func open(t *testing.T, o runtime.StdioOpener) *session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
	defer cancel()
	rw, err := o.Open(ctx)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { rw.Close() })
	return &session{t: t, rw: rw, br: bufio.NewReader(rw)}
}

// do sends one request and returns the answer line, or the read error.
func (s *session) try(req string) (string, error) {
	if _, err := fmt.Fprintln(s.rw, req); err != nil {
		return "", err
	}
	type res struct {
		line string
		err  error
	}
	ch := make(chan res, 1)
	go func() {
		line, err := s.br.ReadString('\n')
		ch <- res{strings.TrimSuffix(line, "\n"), err}
	}()
	t := time.NewTimer(waitLimit)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.line, r.err
	case <-t.C:
		s.rw.Close()
		<-ch
		return "", errors.New("timed out waiting for an answer")
	}
}

func (s *session) do(req string) string {
	s.t.Helper()
	line, err := s.try(req)
	if err != nil {
		s.t.Fatalf("%q: %v", req, err)
	}
	return line
}

// waitFor polls cond until it holds or the deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitLimit)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		<-tick.C
	}
}
