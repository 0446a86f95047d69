package process

// Design notes.
//
// A Driver owns deployments. A started Shared deployment has one supervisor
// goroutine that launches an instance, waits for it to exit, and relaunches
// it after an exponential backoff; Attach streams connect to whichever
// instance is current. Spawn streams launch unsupervised instances, tracked
// in deployment.sessions so that Stop and Delete reach them.
//
// Locks: Driver.mu guards the deployment map only; deployment.mu guards
// a deployment's state; instance.mu guards an instance's exit fields and
// open stream. Callbacks (OnEvent, OnLog) run with no lock held. Waiters
// block on deployment.changed, a channel closed and replaced on every state
// change.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"log/slog"
	"maps"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime/egress"
)

// Options configures a Driver. The zero value of every field is a usable
// default.
type Options struct {
	// Sandbox chooses whether servers run in bubblewrap (default
	// SandboxAuto: when it works here).
	Sandbox SandboxMode
	// BwrapPath is the bwrap executable (default: looked up in PATH).
	BwrapPath string
	// HiddenPaths are host paths no server may see, typically the
	// platform's data directory. Create rejects allowed paths inside them;
	// an allowed path containing one gets it masked by an empty read-only
	// tmpfs.
	HiddenPaths []string
	// OnEvent receives every lifecycle event, in order per deployment, for
	// the platform to persist. It must not block for long.
	OnEvent func(runtime.Event)
	// OnLog receives every log line, for the platform to persist. It must
	// not block for long.
	OnLog func(runtime.LogLine)
	// LogLines is how many lines each deployment keeps in memory (default
	// 1000).
	LogLines int
	// Backoff is the restart backoff (zero fields take Backoff defaults).
	Backoff Backoff
	// StopTimeout is how long a process gets to exit after its stdin is
	// closed (half) and after SIGTERM (half) before SIGKILL (default 5s).
	StopTimeout time.Duration
	// Logger receives the driver's own diagnostics (default: discarded).
	Logger *slog.Logger
}

// Backoff is the exponential restart backoff: the n-th consecutive restart
// waits Initial*Multiplier^n, at most Max. A process that ran for at least
// ResetAfter counts as healthy: its restart starts again from Initial.
type Backoff struct {
	Initial    time.Duration // default 500ms
	Max        time.Duration // default 30s
	Multiplier float64       // default 2
	ResetAfter time.Duration // default 1m
}

func (b Backoff) withDefaults() Backoff {
	if b.Initial <= 0 {
		b.Initial = 500 * time.Millisecond
	}
	if b.Max <= 0 {
		b.Max = 30 * time.Second
	}
	if b.Max < b.Initial {
		b.Max = b.Initial
	}
	if b.Multiplier < 1 {
		b.Multiplier = 2
	}
	if b.ResetAfter <= 0 {
		b.ResetAfter = time.Minute
	}
	return b
}

// Delay is the wait before restart number attempt (0-based) after
// consecutive failures.
func (b Backoff) Delay(attempt int) time.Duration {
	b = b.withDefaults()
	d := float64(b.Initial) * math.Pow(b.Multiplier, float64(attempt))
	if d > float64(b.Max) || math.IsInf(d, 0) || math.IsNaN(d) {
		return b.Max
	}
	return time.Duration(d)
}

// Driver is the process runtime: every deployment is a supervised child
// process of the platform, sandboxed with bubblewrap when available. It
// implements runtime.Runtime.
type Driver struct {
	opts      Options
	backoff   Backoff
	bwrap     string // "" when not sandboxing
	noSandbox string // why not, when bwrap == ""
	self      string // this executable, for the rlimit shim
	log       *slog.Logger

	mu     sync.Mutex
	deps   map[string]*deployment
	closed bool
}

var _ runtime.Runtime = (*Driver)(nil)

// New returns a Driver. With SandboxAuto or SandboxRequired it probes
// bwrap once (a few milliseconds); with SandboxRequired it fails with
// ErrNoSandbox when the sandbox is unavailable.
func New(opts *Options) (*Driver, error) {
	d := &Driver{deps: map[string]*deployment{}}
	if opts != nil {
		d.opts = *opts
	}
	d.backoff = d.opts.Backoff.withDefaults()
	if d.opts.LogLines <= 0 {
		d.opts.LogLines = 1000
	}
	if d.opts.StopTimeout <= 0 {
		d.opts.StopTimeout = 5 * time.Second
	}
	d.log = d.opts.Logger
	if d.log == nil {
		d.log = slog.New(slog.DiscardHandler)
	}
	d.opts.HiddenPaths = slices.Clone(d.opts.HiddenPaths)
	for i, h := range d.opts.HiddenPaths {
		if !filepath.IsAbs(h) {
			return nil, fmt.Errorf("process runtime: HiddenPaths[%d] %q must be absolute", i, h)
		}
		d.opts.HiddenPaths[i] = resolvePath(h)
	}
	if self, err := os.Executable(); err == nil {
		d.self = self
	}
	switch d.opts.Sandbox {
	case SandboxOff:
		d.noSandbox = "sandbox turned off in the runtime options"
	case SandboxAuto, SandboxRequired:
		d.bwrap, d.noSandbox = sandboxProbe(context.Background(), d.opts.BwrapPath)
		if d.bwrap == "" && d.opts.Sandbox == SandboxRequired {
			return nil, fmt.Errorf("%w: %s", ErrNoSandbox, d.noSandbox)
		}
	default:
		return nil, fmt.Errorf("process runtime: unknown Sandbox mode %q (use %q, %q or the default)", d.opts.Sandbox, SandboxRequired, SandboxOff)
	}
	if d.bwrap == "" {
		d.log.Warn("servers will run without a sandbox", "reason", d.noSandbox)
	}
	return d, nil
}

// Sandboxed reports whether servers run in the sandbox, and why not.
func (d *Driver) Sandboxed() (bool, string) { return d.bwrap != "", d.noSandbox }

// Close stops every deployment (as Stop does) and waits for their
// processes. The Driver is unusable afterwards.
func (d *Driver) Close(ctx context.Context) error {
	d.mu.Lock()
	d.closed = true
	deps := slices.Collect(maps.Values(d.deps))
	d.mu.Unlock()
	var errs []error
	var wg sync.WaitGroup
	var emu sync.Mutex
	for _, dep := range deps {
		wg.Go(func() {
			if err := dep.stop(ctx, false); err != nil {
				emu.Lock()
				errs = append(errs, err)
				emu.Unlock()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (d *Driver) now() time.Time { return time.Now() }

func (d *Driver) emit(name string, kind runtime.EventKind, format string, args ...any) {
	ev := runtime.Event{Deployment: name, Time: d.now(), Kind: kind, Message: fmt.Sprintf(format, args...)}
	d.log.Info("deployment event", "deployment", name, "kind", kind, "message", ev.Message)
	if d.opts.OnEvent != nil {
		d.opts.OnEvent(ev)
	}
}

func (d *Driver) get(name string) (*deployment, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dep, ok := d.deps[name]
	if !ok {
		return nil, fmt.Errorf("%w: %q", runtime.ErrNotFound, name)
	}
	return dep, nil
}

// Create registers a deployment. Besides Spec.Validate it checks what the
// process driver needs: Command, allowed paths that exist and are not
// inside a hidden path or under /proc, /sys or /dev, and (sandboxed) a
// working directory the sandbox can see.
func (d *Driver) Create(ctx context.Context, spec runtime.Spec) error {
	if err := spec.Validate(); err != nil {
		return err
	}
	spec, err := d.normalize(spec)
	if err != nil {
		return err
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return errors.New("process runtime: closed")
	}
	if _, ok := d.deps[spec.Name]; ok {
		d.mu.Unlock()
		return fmt.Errorf("%w: %q (delete it first, or choose another name)", runtime.ErrExists, spec.Name)
	}
	dep := &deployment{
		d:        d,
		spec:     spec,
		state:    runtime.StateCreated,
		changed:  make(chan struct{}),
		sessions: map[*instance]struct{}{},
	}
	dep.logs = newLogRing(spec.Name, d.opts.LogLines, d.now, d.opts.OnLog)
	d.deps[spec.Name] = dep
	d.mu.Unlock()
	d.emit(spec.Name, runtime.EventCreated, "created (command %s, %s)", spec.Command, d.sandboxWord())
	return nil
}

func (d *Driver) sandboxWord() string {
	if d.bwrap != "" {
		return "sandboxed"
	}
	return "not sandboxed: " + d.noSandbox
}

// normalize copies the spec (so callers may reuse their slices and maps),
// resolves allowed paths and checks them.
func (d *Driver) normalize(spec runtime.Spec) (runtime.Spec, error) {
	bad := func(field, format string, args ...any) error {
		return &runtime.SpecError{Name: spec.Name, Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if spec.Command == "" {
		return spec, bad("Command", "required by the process runtime (Image is for container runtimes)")
	}
	if strings.Contains(spec.Command, "/") && !filepath.IsAbs(spec.Command) {
		return spec, bad("Command", "%q: use an absolute path or a name found in PATH", spec.Command)
	}
	spec.Args = slices.Clone(spec.Args)
	spec.Env = maps.Clone(spec.Env)
	paths := make([]runtime.AllowedPath, 0, len(spec.Filesystem.AllowedPaths))
	for i, ap := range spec.Filesystem.AllowedPaths {
		field := fmt.Sprintf("Filesystem.AllowedPaths[%d].Path", i)
		if _, err := os.Stat(ap.Path); err != nil {
			return spec, bad(field, "%q does not exist on the host (create it first): %v", ap.Path, errors.Unwrap(err))
		}
		p := resolvePath(ap.Path)
		if p == "/" {
			return spec, bad(field, "%q resolves to /, which would expose the whole host", ap.Path)
		}
		for _, sys := range []string{"/proc", "/sys", "/dev"} {
			if within(p, sys) {
				return spec, bad(field, "%q is under %s, which the sandbox provides itself", ap.Path, sys)
			}
		}
		for _, h := range d.opts.HiddenPaths {
			if within(p, h) {
				return spec, bad(field, "%q is inside %s, which the platform keeps hidden from servers", ap.Path, h)
			}
		}
		if ap.Mode == "" {
			ap.Mode = runtime.ModeRead
		}
		paths = append(paths, runtime.AllowedPath{Path: p, Mode: ap.Mode})
	}
	spec.Filesystem.AllowedPaths = paths
	spec.Network.EgressAllow = slices.Clone(spec.Network.EgressAllow)
	if d.bwrap != "" && spec.Dir != "" {
		dir := filepath.Clean(spec.Dir)
		visible := within(dir, "/tmp") || underAny(dir, systemDirs)
		for _, ap := range paths {
			visible = visible || within(resolvePath(dir), ap.Path) || within(dir, ap.Path)
		}
		if !visible {
			return spec, bad("Dir", "%q is not visible in the sandbox: use /tmp or a directory under Filesystem.AllowedPaths", spec.Dir)
		}
	}
	return spec, nil
}

// Start implements runtime.Runtime.
func (d *Driver) Start(ctx context.Context, name string) error {
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	if closed {
		return errors.New("process runtime: closed")
	}
	dep, err := d.get(name)
	if err != nil {
		return err
	}
	return dep.start()
}

// Stop implements runtime.Runtime.
func (d *Driver) Stop(ctx context.Context, name string) error {
	dep, err := d.get(name)
	if err != nil {
		return err
	}
	return dep.stop(ctx, true)
}

// Delete implements runtime.Runtime.
func (d *Driver) Delete(ctx context.Context, name string) error {
	dep, err := d.get(name)
	if err != nil {
		return err
	}
	if err := dep.stop(ctx, false); err != nil {
		return err
	}
	d.mu.Lock()
	if d.deps[name] == dep {
		delete(d.deps, name)
	}
	d.mu.Unlock()
	dep.mu.Lock()
	dep.deleted = true
	dep.notify()
	dep.mu.Unlock()
	dep.logs.close()
	d.emit(name, runtime.EventDeleted, "deleted")
	return nil
}

// Status implements runtime.Runtime.
func (d *Driver) Status(ctx context.Context, name string) (runtime.Status, error) {
	dep, err := d.get(name)
	if err != nil {
		return runtime.Status{}, err
	}
	dep.mu.Lock()
	defer dep.mu.Unlock()
	st := runtime.Status{
		Name:          name,
		State:         dep.state,
		Sandboxed:     d.bwrap != "",
		SandboxReason: d.noSandbox,
		Restarts:      dep.restarts,
		LastExit:      dep.lastExit,
		LastError:     dep.lastError,
		Sessions:      len(dep.sessions),
		Unenforced:    d.unenforced(dep.spec),
	}
	if dep.cur != nil {
		st.PID = dep.cur.pid
		st.StartedAt = dep.cur.started
	}
	if dep.state == runtime.StateBackoff {
		st.NextRestart = dep.nextRestart
	}
	return st, nil
}

// unenforced lists what of spec this driver cannot enforce here.
func (d *Driver) unenforced(spec runtime.Spec) []string {
	var out []string
	if d.bwrap == "" {
		out = append(out, "Filesystem: not sandboxed, the server sees every file the platform's user can")
		if len(spec.Network.EgressAllow) == 0 {
			out = append(out, "Network: not sandboxed, the server is not cut off from the network")
		} else {
			out = append(out, "Network.EgressAllow: not sandboxed, the egress proxy is offered but direct connections are not blocked")
		}
	}
	if spec.Limits.Processes > 0 && os.Geteuid() == 0 {
		out = append(out, "Limits.Processes: the kernel does not apply RLIMIT_NPROC to root, and the platform runs as root")
	}
	if (spec.Limits != runtime.Limits{CallTimeout: spec.Limits.CallTimeout}) && d.self == "" {
		out = append(out, "Limits: the platform's executable cannot be found to apply rlimits")
	}
	return out
}

// Stats implements runtime.Runtime.
func (d *Driver) Stats(ctx context.Context, name string) (runtime.Stats, error) {
	dep, err := d.get(name)
	if err != nil {
		return runtime.Stats{}, err
	}
	dep.mu.Lock()
	cur, restarts, sessions := dep.cur, dep.restarts, len(dep.sessions)
	dep.mu.Unlock()
	st := runtime.Stats{Restarts: restarts, Sessions: sessions}
	if cur == nil {
		return st, nil
	}
	st.PID = cur.pid
	st.Uptime = d.now().Sub(cur.started)
	st.CPUTime, st.RSSBytes, st.Processes = treeUsage(cur.pid)
	return st, nil
}

// Logs implements runtime.Runtime.
func (d *Driver) Logs(ctx context.Context, name string, since time.Time, follow bool) iter.Seq2[runtime.LogLine, error] {
	dep, err := d.get(name)
	if err != nil {
		return func(yield func(runtime.LogLine, error) bool) { yield(runtime.LogLine{}, err) }
	}
	return dep.logs.follow(ctx, since, follow)
}

// Attach implements runtime.Runtime. Open waits while the deployment is
// starting or restarting; it fails with runtime.ErrNotRunning when the
// deployment is stopped, exited or PerSession, and with runtime.ErrInUse
// while another stream is open on the same instance. Closing the stream
// leaves the process running.
func (d *Driver) Attach(name string) (runtime.StdioOpener, error) {
	dep, err := d.get(name)
	if err != nil {
		return nil, err
	}
	return attachOpener{dep}, nil
}

// Spawn implements runtime.Runtime. Open fails with runtime.ErrNotRunning
// unless the deployment is started; closing the stream stops the process.
func (d *Driver) Spawn(name string) (runtime.StdioOpener, error) {
	dep, err := d.get(name)
	if err != nil {
		return nil, err
	}
	return spawnOpener{dep}, nil
}

type attachOpener struct{ dep *deployment }

func (o attachOpener) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	return o.dep.attach(ctx)
}

type spawnOpener struct{ dep *deployment }

func (o spawnOpener) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	return o.dep.spawn(ctx)
}

// egressPath is how an instance reaches its deployment's egress proxy.
type egressPath struct {
	url    string // the proxy URL in the server's environment ("" without egress)
	socket string // the proxy's Unix socket on the host (sandboxed only)
}

// launch starts one process of dep.
func (d *Driver) launch(dep *deployment, eg egressPath) (*instance, error) {
	spec := dep.spec
	exe, err := resolveCommand(spec)
	if err != nil {
		return nil, err
	}
	l := spec.Limits
	limits := shimLimits(l.MemoryBytes, l.CPUSeconds, l.OpenFiles, l.Processes)
	var path string
	var argv []string
	var dir string
	env := buildEnv(spec, eg.url)
	if d.bwrap != "" {
		wd := spec.Dir
		if wd == "" {
			wd = "/tmp"
		}
		var hidden []string
		for _, h := range d.opts.HiddenPaths {
			for _, ap := range spec.Filesystem.AllowedPaths {
				if within(h, ap.Path) && h != ap.Path {
					if _, err := os.Stat(h); err == nil {
						hidden = append(hidden, h)
					}
					break
				}
			}
		}
		plan := sandboxPlan{
			exe:     exe,
			args:    spec.Args,
			dir:     wd,
			allowed: spec.Filesystem.AllowedPaths,
			hidden:  hidden,
			tmpSize: spec.Limits.MemoryBytes,
			// Only when the forwarder cannot be used (the platform's
			// executable is unknown): the proxy is then on the host's
			// loopback, and the server shares the host's network.
			shareNet: eg.url != "" && eg.socket == "",
		}
		if eg.socket != "" {
			// No network namespace of its own: the forwarder runs first and
			// relays loopback connections to the proxy's socket; it applies
			// the limits to the server itself.
			plan.exe = d.self
			plan.args = append([]string{forwardFlag, sandboxProxyAddr, sandboxSocketDir + "/" + filepath.Base(eg.socket), limits, exe, exe}, spec.Args...)
			plan.extra = append(plan.extra, [2]string{filepath.Dir(eg.socket), sandboxSocketDir})
			if !underAny(exe, systemDirs) {
				plan.extra = append(plan.extra, [2]string{exe, exe})
			}
			limits = "-"
		}
		path = d.bwrap
		argv = append([]string{"bwrap"}, bwrapArgs(plan)...)
		dir = "/"
	} else {
		path = exe
		argv = append([]string{exe}, spec.Args...)
		dir = spec.Dir
		if dir == "" {
			dir = os.TempDir()
		}
	}
	if limits != "-" && d.self != "" {
		argv = append([]string{"mcp-agent-runtime-shim", shimFlag, limits, path}, argv...)
		path = d.self
	}

	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		stdinR.Close()
		stdinW.Close()
		return nil, err
	}
	stderrR, stderrW, err := os.Pipe()
	if err != nil {
		stdinR.Close()
		stdinW.Close()
		stdoutR.Close()
		stdoutW.Close()
		return nil, err
	}
	var cmd *exec.Cmd
	// An executable unpacked a moment ago (an app's script) can be briefly
	// "busy": a process forked concurrently still holds the descriptor it
	// was written through until it execs (golang.org/issue/22315). That
	// clears within milliseconds, so the start is retried a bounded number
	// of times.
	for attempt := 0; ; attempt++ {
		cmd = &exec.Cmd{
			Path:   path,
			Args:   argv,
			Env:    env,
			Dir:    dir,
			Stdin:  stdinR,
			Stdout: stdoutW,
			Stderr: stderrW,
			SysProcAttr: &syscall.SysProcAttr{
				Setpgid:   true,
				Pdeathsig: syscall.SIGKILL,
			},
		}
		err = cmd.Start()
		if !errors.Is(err, syscall.ETXTBSY) || attempt == 20 {
			break
		}
		time.Sleep(time.Duration(attempt+1) * 5 * time.Millisecond)
	}
	stdinR.Close()
	stdoutW.Close()
	stderrW.Close()
	if err != nil {
		stdinW.Close()
		stdoutR.Close()
		stderrR.Close()
		return nil, fmt.Errorf("starting %s: %w", exe, err)
	}
	in := &instance{
		cmd:        cmd,
		pid:        cmd.Process.Pid,
		started:    d.now(),
		stdin:      stdinW,
		stdout:     stdoutR,
		stderrDone: make(chan struct{}),
		done:       make(chan struct{}),
		sandboxed:  d.bwrap != "",
	}
	go func() {
		defer close(in.stderrDone)
		defer stderrR.Close()
		dep.logs.pump(stderrR, "stderr", in.pid)
	}()
	go in.wait(d.now)
	return in, nil
}

// resolveCommand finds the executable: absolute as given, or looked up in
// the server's PATH, then the platform's.
func resolveCommand(spec runtime.Spec) (string, error) {
	cmd := spec.Command
	if !filepath.IsAbs(cmd) {
		var found string
		paths := []string{defaultPath}
		if p, ok := spec.Env["PATH"]; ok {
			paths = []string{p}
		}
		paths = append(paths, os.Getenv("PATH"))
		for _, pl := range paths {
			for _, dir := range filepath.SplitList(pl) {
				if dir == "" || !filepath.IsAbs(dir) {
					continue
				}
				c := filepath.Join(dir, cmd)
				if fi, err := os.Stat(c); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
					found = c
					break
				}
			}
			if found != "" {
				break
			}
		}
		if found == "" {
			return "", fmt.Errorf("command %q not found in PATH (%s); install it or give an absolute path", cmd, os.Getenv("PATH"))
		}
		cmd = found
	}
	fi, err := os.Stat(cmd)
	if err != nil {
		return "", fmt.Errorf("command %s: %w", cmd, err)
	}
	if !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		return "", fmt.Errorf("command %s is not an executable file", cmd)
	}
	return resolvePath(cmd), nil
}

const defaultPath = "/usr/local/bin:/usr/bin:/bin"

// buildEnv is the server's whole environment: the minimal defaults, the
// declared variables, and the egress proxy variables.
func buildEnv(spec runtime.Spec, proxyURL string) []string {
	env := map[string]string{"PATH": defaultPath, "HOME": "/tmp", "LANG": "C.UTF-8"}
	maps.Copy(env, spec.Env)
	if proxyURL != "" {
		for _, k := range []string{"HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"} {
			env[k] = proxyURL
		}
		delete(env, "NO_PROXY")
		delete(env, "no_proxy")
	}
	out := make([]string, 0, len(env))
	for _, k := range slices.Sorted(maps.Keys(env)) {
		out = append(out, k+"="+env[k])
	}
	return out
}

// startProxy starts the deployment's egress proxy: on a Unix socket in a
// fresh private directory when sandboxed (the directory is bind-mounted
// into the sandbox), on a loopback port otherwise.
func (d *Driver) startProxy(dep *deployment) (*egress.Proxy, egressPath, string, error) {
	name := dep.spec.Name
	p, err := egress.New(dep.spec.Network.EgressAllow, &egress.Options{
		OnDeny: func(den egress.Denial) {
			d.emit(name, runtime.EventEgressDeny, "%s", den.String())
			dep.logs.add("runtime", 0, "egress denied: "+den.String())
		},
	})
	if err != nil {
		return nil, egressPath{}, "", err
	}
	if d.bwrap != "" && d.self != "" {
		dir, err := os.MkdirTemp("", "mcp-agent-egress-")
		if err != nil {
			return nil, egressPath{}, "", fmt.Errorf("egress proxy for %q: %w", name, err)
		}
		sock := filepath.Join(dir, "proxy.sock")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			os.RemoveAll(dir)
			return nil, egressPath{}, "", fmt.Errorf("egress proxy for %q: %w", name, err)
		}
		go p.Serve(ln)
		return p, egressPath{url: "http://" + sandboxProxyAddr, socket: sock}, dir, nil
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, egressPath{}, "", fmt.Errorf("egress proxy for %q: %w", name, err)
	}
	go p.Serve(ln)
	return p, egressPath{url: "http://" + ln.Addr().String()}, "", nil
}
