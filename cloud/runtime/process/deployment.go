package process

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime/egress"
)

type deployment struct {
	d    *Driver
	spec runtime.Spec // normalized, immutable
	logs *logRing

	mu          sync.Mutex
	state       runtime.State
	cur         *instance // the running supervised instance
	restarts    int
	lastExit    string
	lastError   string
	nextRestart time.Time
	changed     chan struct{} // closed and replaced by notify
	sup         *supervision  // non-nil while started
	sessions    map[*instance]struct{}
	proxy       *egress.Proxy
	egress      egressPath
	proxyDir    string // removed on stop
	deleted     bool
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// supervision is one Start..Stop period.
type supervision struct {
	stop chan struct{} // closed by Stop
	done chan struct{} // closed when the supervisor has returned
}

// notify wakes waiters; dep.mu must be held.
func (dep *deployment) notify() {
	close(dep.changed)
	dep.changed = make(chan struct{})
}

func (dep *deployment) setState(s runtime.State) {
	dep.mu.Lock()
	dep.state = s
	dep.notify()
	dep.mu.Unlock()
}

func (dep *deployment) start() error {
	dep.mu.Lock()
	defer dep.mu.Unlock()
	if dep.deleted {
		return fmt.Errorf("%w: %q", runtime.ErrNotFound, dep.spec.Name)
	}
	if dep.sup != nil {
		return nil
	}
	if len(dep.spec.Network.EgressAllow) > 0 {
		p, eg, dir, err := dep.d.startProxy(dep)
		if err != nil {
			return err
		}
		dep.proxy, dep.egress, dep.proxyDir = p, eg, dir
	}
	sup := &supervision{stop: make(chan struct{}), done: make(chan struct{})}
	dep.sup = sup
	dep.restarts = 0
	dep.lastExit, dep.lastError = "", ""
	if dep.spec.Instances == runtime.PerSession {
		dep.state = runtime.StateRunning
		close(sup.done)
	} else {
		dep.state = runtime.StateStarting
		go dep.supervise(sup)
	}
	dep.notify()
	return nil
}

// stop ends the supervision period and every session, and waits for the
// processes to exit (or ctx). record says whether to emit EventStopped.
func (dep *deployment) stop(ctx context.Context, record bool) error {
	dep.mu.Lock()
	sup := dep.sup
	sessions := make([]*instance, 0, len(dep.sessions))
	for in := range dep.sessions {
		sessions = append(sessions, in)
	}
	if sup == nil {
		dep.mu.Unlock()
		return nil
	}
	select {
	case <-sup.stop:
	default:
		close(sup.stop)
	}
	dep.mu.Unlock()

	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, in := range sessions {
			in.terminate(dep.d.opts.StopTimeout)
		}
		<-sup.done
	}()
	select {
	case <-done:
	case <-ctx.Done():
		return fmt.Errorf("stopping %q: %w (the processes are still being stopped)", dep.spec.Name, ctx.Err())
	}

	dep.mu.Lock()
	for _, in := range sessions {
		delete(dep.sessions, in)
	}
	if dep.sup != sup { // a concurrent Stop finished first
		dep.mu.Unlock()
		return nil
	}
	dep.sup = nil
	dep.cur = nil
	dep.state = runtime.StateStopped
	proxy, proxyDir := dep.proxy, dep.proxyDir
	dep.proxy, dep.egress, dep.proxyDir = nil, egressPath{}, ""
	dep.notify()
	dep.mu.Unlock()
	if proxy != nil {
		proxy.Close()
	}
	if proxyDir != "" {
		os.RemoveAll(proxyDir)
	}
	if record {
		dep.d.emit(dep.spec.Name, runtime.EventStopped, "stopped")
	}
	return nil
}

// supervise runs the shared instance until sup.stop, restarting it as the
// restart policy and backoff say.
func (dep *deployment) supervise(sup *supervision) {
	defer close(sup.done)
	d := dep.d
	name := dep.spec.Name
	attempt := 0
	for {
		dep.setState(runtime.StateStarting)
		dep.mu.Lock()
		eg := dep.egress
		dep.mu.Unlock()
		in, err := d.launch(dep, eg)
		failed := true
		if err != nil {
			dep.mu.Lock()
			dep.lastError = err.Error()
			dep.mu.Unlock()
			dep.logs.add("runtime", 0, "start failed: "+err.Error())
			d.emit(name, runtime.EventStartFailed, "%v", err)
		} else {
			dep.mu.Lock()
			dep.cur = in
			dep.state = runtime.StateRunning
			dep.lastError = ""
			dep.notify()
			dep.mu.Unlock()
			d.emit(name, runtime.EventStarted, "started pid %d (%s)", in.pid, d.sandboxWord())
			select {
			case <-in.done:
			case <-sup.stop:
				in.terminate(d.opts.StopTimeout)
				dep.exited(in)
				return
			}
			dep.exited(in)
			failed = in.failed()
			if in.exitedAt.Sub(in.started) >= d.backoff.ResetAfter {
				attempt = 0
			}
		}
		restart := dep.spec.Restart == runtime.Always || (dep.spec.Restart == runtime.OnFailure && failed)
		if !restart {
			dep.setState(runtime.StateExited)
			return
		}
		delay := d.backoff.Delay(attempt)
		attempt++
		dep.mu.Lock()
		dep.state = runtime.StateBackoff
		dep.nextRestart = d.now().Add(delay)
		restarts := dep.restarts + 1
		dep.notify()
		dep.mu.Unlock()
		d.emit(name, runtime.EventRestarting, "restart %d in %v", restarts, delay)
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-sup.stop:
			t.Stop()
			return
		}
		dep.mu.Lock()
		dep.restarts = restarts
		dep.mu.Unlock()
	}
}

// exited records the exit of the supervised instance in.
func (dep *deployment) exited(in *instance) {
	desc := in.exitDescription()
	dep.mu.Lock()
	if dep.cur == in {
		dep.cur = nil
	}
	dep.lastExit = desc
	dep.notify()
	dep.mu.Unlock()
	msg := fmt.Sprintf("pid %d: %s after %v", in.pid, desc, in.exitedAt.Sub(in.started).Round(time.Millisecond))
	dep.logs.add("runtime", 0, "process exited: "+msg)
	dep.d.emit(dep.spec.Name, runtime.EventExited, "%s", msg)
}

// attach implements Attach's Open.
func (dep *deployment) attach(ctx context.Context) (io.ReadWriteCloser, error) {
	name := dep.spec.Name
	for {
		dep.mu.Lock()
		if dep.deleted {
			dep.mu.Unlock()
			return nil, fmt.Errorf("%w: %q", runtime.ErrNotFound, name)
		}
		if dep.spec.Instances == runtime.PerSession {
			dep.mu.Unlock()
			return nil, fmt.Errorf("%w: %q runs one process per session; open it with Spawn", runtime.ErrNotRunning, name)
		}
		switch dep.state {
		case runtime.StateCreated, runtime.StateStopped, runtime.StateExited:
			st := dep.state
			dep.mu.Unlock()
			return nil, fmt.Errorf("%w: %q is %s; start it first", runtime.ErrNotRunning, name, st)
		}
		cur, changed := dep.cur, dep.changed
		dep.mu.Unlock()
		if cur != nil {
			s, err := cur.attach(nil)
			if err == nil {
				return s, nil
			}
			if err == runtime.ErrInUse {
				return nil, fmt.Errorf("deployment %q: %w (close the other stream first, or use Spawn for one process per session)", name, err)
			}
			// It has just exited: wait for the supervisor to notice.
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for %q to start: %w", name, ctx.Err())
		}
	}
}

// spawn implements Spawn's Open.
func (dep *deployment) spawn(ctx context.Context) (io.ReadWriteCloser, error) {
	name := dep.spec.Name
	dep.mu.Lock()
	if dep.deleted {
		dep.mu.Unlock()
		return nil, fmt.Errorf("%w: %q", runtime.ErrNotFound, name)
	}
	sup := dep.sup
	if sup == nil || isClosed(sup.stop) {
		st := dep.state
		dep.mu.Unlock()
		return nil, fmt.Errorf("%w: %q is %s; start it first", runtime.ErrNotRunning, name, st)
	}
	eg := dep.egress
	dep.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in, err := dep.d.launch(dep, eg)
	if err != nil {
		dep.logs.add("runtime", 0, "session start failed: "+err.Error())
		dep.d.emit(name, runtime.EventStartFailed, "session: %v", err)
		return nil, fmt.Errorf("deployment %q: %w", name, err)
	}
	dep.mu.Lock()
	if dep.sup != sup || isClosed(sup.stop) { // stopped meanwhile
		dep.mu.Unlock()
		in.terminate(dep.d.opts.StopTimeout)
		return nil, fmt.Errorf("%w: %q was stopped", runtime.ErrNotRunning, name)
	}
	dep.sessions[in] = struct{}{}
	dep.mu.Unlock()
	go func() {
		<-in.done
		dep.mu.Lock()
		delete(dep.sessions, in)
		dep.mu.Unlock()
		dep.logs.add("runtime", 0, fmt.Sprintf("session process %d exited: %s", in.pid, in.exitDescription()))
	}()
	s, err := in.attach(func() { in.terminate(dep.d.opts.StopTimeout) })
	if err != nil {
		in.terminate(dep.d.opts.StopTimeout)
		return nil, err
	}
	return s, nil
}
