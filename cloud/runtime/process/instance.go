package process

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
)

// instance is one started process of a deployment (bwrap, or the server
// itself when not sandboxed) with the platform's ends of its stdio pipes.
type instance struct {
	cmd     *exec.Cmd
	pid     int
	started time.Time
	stdin   *os.File // write end of the server's stdin
	stdout  *os.File // read end of the server's stdout
	// stderrDone is closed when the stderr pump ends; done when the process
	// has been reaped and its exit recorded.
	stderrDone chan struct{}
	done       chan struct{}

	mu       sync.Mutex
	exitErr  error     // Wait's error, set before done is closed
	exitedAt time.Time // set before done is closed
	stream   *stream   // the open stream, if any
	stopping bool      // terminate was called
	// ended is set when the open stream saw stdout end or stdin break:
	// the process is exiting even if it has not been reaped yet, so Open
	// must wait for the next instance rather than return this one.
	ended     bool
	sandboxed bool // the process is bwrap, which reports signals as 128+N
}

// wait reaps the process, kills what is left of its process group, and
// records the exit. It runs in its own goroutine.
func (in *instance) wait(now func() time.Time) {
	err := in.cmd.Wait()
	// Leftover processes in the group (an unsandboxed server's children)
	// would keep stdout open and the stream from ending.
	_ = syscall.Kill(-in.pid, syscall.SIGKILL)
	// Let the last stderr lines land before the exit is reported; bounded,
	// as a process outside the group could still hold stderr open.
	t := time.NewTimer(time.Second)
	select {
	case <-in.stderrDone:
	case <-t.C:
	}
	t.Stop()
	in.mu.Lock()
	in.exitErr = err
	in.exitedAt = now()
	in.mu.Unlock()
	// Our copies; an open stream holds its own duplicates and sees EOF.
	in.stdin.Close()
	in.stdout.Close()
	close(in.done)
}

// exitDescription is "exit status 1", "signal: killed", ...
func (in *instance) exitDescription() string {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.exitErr == nil {
		return "exit status 0"
	}
	var ee *exec.ExitError
	if errors.As(in.exitErr, &ee) {
		if code := ee.ExitCode(); in.sandboxed && code > 128 && code < 128+65 {
			// bwrap exits with 128+N when the server dies of signal N.
			return fmt.Sprintf("signal: %v (exit status %d)", syscall.Signal(code-128), code)
		}
		return ee.String()
	}
	return in.exitErr.Error()
}

// failed reports whether the exit was a failure (non-zero status or
// signal) and not a termination the runtime asked for.
func (in *instance) failed() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.exitErr != nil && !in.stopping
}

// terminate stops the process as the MCP stdio transport recommends: close
// its stdin, wait, SIGTERM, wait, SIGKILL. It returns when the process has
// exited.
func (in *instance) terminate(grace time.Duration) {
	in.mu.Lock()
	in.stopping = true
	s := in.stream
	in.mu.Unlock()
	select {
	case <-in.done:
		return
	default:
	}
	in.stdin.Close()
	if s != nil {
		s.in.Close() // the stream's duplicate keeps the pipe open otherwise
	}
	steps := []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL}
	t := time.NewTimer(grace / 2)
	defer t.Stop()
	for _, sig := range steps {
		select {
		case <-in.done:
			return
		case <-t.C:
		}
		_ = syscall.Kill(-in.pid, sig)
		t.Reset(grace / 2)
	}
	<-in.done
}

// attach opens a stream on the instance: duplicates of the stdio ends, so
// that closing the stream leaves the process and its pipes alone (unless
// onClose says otherwise).
func (in *instance) attach(onClose func()) (*stream, error) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.stream != nil {
		return nil, runtime.ErrInUse
	}
	if in.ended {
		return nil, fmt.Errorf("%w: the process is exiting", runtime.ErrNotRunning)
	}
	select {
	case <-in.done:
		return nil, fmt.Errorf("%w: the process exited", runtime.ErrNotRunning)
	default:
	}
	r, err := dupFile(in.stdout)
	if err != nil {
		return nil, err
	}
	w, err := dupFile(in.stdin)
	if err != nil {
		r.Close()
		return nil, err
	}
	s := &stream{inst: in, out: r, in: w, onClose: onClose}
	in.stream = s
	return s, nil
}

// dupFile duplicates f's descriptor (close-on-exec). The duplicate shares
// the open file description, hence its non-blocking mode, so os.NewFile
// registers it with the runtime poller and Close interrupts a blocked Read.
func dupFile(f *os.File) (*os.File, error) {
	rc, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	var nfd int
	var derr error
	if err := rc.Control(func(fd uintptr) {
		nfd, derr = fcntlDupCloexec(int(fd))
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, fmt.Errorf("duplicating %s: %w", f.Name(), derr)
	}
	return os.NewFile(uintptr(nfd), f.Name()), nil
}

func fcntlDupCloexec(fd int) (int, error) {
	r, _, e := syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), syscall.F_DUPFD_CLOEXEC, 0)
	if e != 0 {
		return -1, e
	}
	return int(r), nil
}

// stream is the io.ReadWriteCloser returned by Open: reads from the
// server's stdout, writes to its stdin.
type stream struct {
	inst    *instance
	out     *os.File
	in      *os.File
	onClose func()
	once    sync.Once
}

func (s *stream) Read(p []byte) (int, error) {
	n, err := s.out.Read(p)
	switch {
	case err == io.EOF:
		s.markEnded()
	case errors.Is(err, os.ErrClosed):
		err = io.ErrClosedPipe
	}
	return n, err
}

func (s *stream) Write(p []byte) (int, error) {
	n, err := s.in.Write(p)
	if err != nil {
		if errors.Is(err, syscall.EPIPE) {
			s.markEnded()
		}
		if errors.Is(err, os.ErrClosed) || errors.Is(err, syscall.EPIPE) {
			return n, fmt.Errorf("%w: the server process has exited or is stopping", io.ErrClosedPipe)
		}
	}
	return n, err
}

func (s *stream) markEnded() {
	s.inst.mu.Lock()
	s.inst.ended = true
	s.inst.mu.Unlock()
}

// Close detaches from the process (shared instance) or stops it
// (per-session instance).
func (s *stream) Close() error {
	s.once.Do(func() {
		s.out.Close()
		s.in.Close()
		s.inst.mu.Lock()
		if s.inst.stream == s {
			s.inst.stream = nil
		}
		s.inst.mu.Unlock()
		if s.onClose != nil {
			s.onClose()
		}
	})
	return nil
}
