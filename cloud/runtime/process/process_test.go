package process

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// modes runs f with an unsandboxed driver and, when bwrap works here, a
// sandboxed one.
func modes(t *testing.T, opts *Options, f func(t *testing.T, d *Driver, rec *recorder)) {
	t.Run("unsandboxed", func(t *testing.T) {
		var o Options
		if opts != nil {
			o = *opts
		}
		o.Sandbox = SandboxOff
		d, rec := newDriver(t, &o)
		f(t, d, rec)
	})
	t.Run("sandboxed", func(t *testing.T) {
		d, rec := sandboxDriver(t, opts)
		f(t, d, rec)
	})
}

func TestAttachRoundTripStatusStatsLogs(t *testing.T) {
	modes(t, nil, func(t *testing.T, d *Driver, rec *recorder) {
		ctx := context.Background()
		spec := testSpec(t, "local.echo")
		mustCreateStart(t, d, spec)
		o, err := d.Attach("local.echo")
		if err != nil {
			t.Fatal(err)
		}
		s := open(t, o)
		if got := s.do("echo hello"); got != "ok hello" {
			t.Fatalf("echo: got %q", got)
		}
		st, err := d.Status(ctx, "local.echo")
		if err != nil {
			t.Fatal(err)
		}
		sandboxed, _ := d.Sandboxed()
		if st.State != runtime.StateRunning || st.PID == 0 || st.Sandboxed != sandboxed || st.StartedAt.IsZero() {
			t.Errorf("Status = %+v", st)
		}
		if !sandboxed && st.SandboxReason == "" {
			t.Errorf("unsandboxed Status has no SandboxReason: %+v", st)
		}
		stats, err := d.Stats(ctx, "local.echo")
		if err != nil {
			t.Fatal(err)
		}
		if stats.PID != st.PID || stats.RSSBytes <= 0 || stats.Processes < 1 || stats.Uptime <= 0 {
			t.Errorf("Stats = %+v", stats)
		}
		if sandboxed && stats.Processes < 2 {
			t.Errorf("sandboxed Stats.Processes = %d, want bwrap and the server", stats.Processes)
		}

		// stderr becomes logs, through the callback and Logs.
		s.do("stderr a line for the logs")
		rec.waitUntil(t, "the stderr line", func() bool {
			return slices.ContainsFunc(rec.logs, func(l runtime.LogLine) bool { return l.Text == "a line for the logs" })
		})
		var texts []string
		for l, err := range d.Logs(ctx, "local.echo", time.Time{}, false) {
			if err != nil {
				t.Fatal(err)
			}
			if l.Stream == "stderr" {
				texts = append(texts, l.Text)
			}
		}
		if diff := cmp.Diff([]string{"test server ready", "a line for the logs"}, texts); diff != "" {
			t.Errorf("Logs (-want +got):\n%s", diff)
		}

		// The environment is exactly the declared one plus the defaults.
		env := strings.Split(strings.TrimPrefix(s.do("env"), "ok "), "|")
		slices.Sort(env)
		want := []string{"HOME=/tmp", "LANG=C.UTF-8", "PATH=/usr/local/bin:/usr/bin:/bin", "PROCESS_TEST_SERVER=1"}
		if raceEnabled {
			want = append([]string{"GORACE=atexit_sleep_ms=0"}, want...)
		}
		if sandboxed {
			want = append(want, "PWD=/tmp") // set by bwrap --chdir
		}
		if diff := cmp.Diff(want, env); diff != "" {
			t.Errorf("server environment (-want +got):\n%s", diff)
		}
	})
}

func TestSandboxIsolation(t *testing.T) {
	requireSandbox(t)
	root := t.TempDir()
	dataDir := filepath.Join(root, "platform-data")
	roDir := filepath.Join(root, "ro")
	rwDir := filepath.Join(root, "rw")
	parent := filepath.Join(root, "parent") // allowed, contains a hidden dir
	hiddenInParent := filepath.Join(parent, "secrets")
	for _, dir := range []string{dataDir, roDir, rwDir, hiddenInParent} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dataDir, "platform.db"), "platform secret")
	write(filepath.Join(roDir, "input.txt"), "readable input")
	write(filepath.Join(parent, "visible.txt"), "visible")
	write(filepath.Join(hiddenInParent, "key"), "hidden key")
	write(filepath.Join(root, "sibling.txt"), "next to the allowed dirs")

	// A listener on the host that the server must not reach.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	d, _ := sandboxDriver(t, &Options{HiddenPaths: []string{dataDir, hiddenInParent}})
	spec := testSpec(t, "local.sandboxed")
	spec.Filesystem.AllowedPaths = []runtime.AllowedPath{
		{Path: roDir, Mode: runtime.ModeRead},
		{Path: rwDir, Mode: runtime.ModeReadWrite},
		{Path: parent}, // default mode: read-only
	}
	spec.Env = maps.Clone(testEnv)
	spec.Env["API_TOKEN"] = "secret-token-value"
	mustCreateStart(t, d, spec)
	o, _ := d.Attach(spec.Name)
	s := open(t, o)

	// The server gets its secrets in its environment, never in a command
	// line that other host users can read.
	if got := s.do("env"); !strings.Contains(got, "API_TOKEN=secret-token-value") {
		t.Errorf("server environment lacks the declared variable: %q", got)
	}
	st, _ := d.Status(context.Background(), spec.Name)
	for pid := range descendants(os.Getpid()) {
		cmdline, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if strings.Contains(string(cmdline), "secret-token-value") {
			t.Errorf("process %d (instance %d) has the secret in its command line: %q", pid, st.PID, cmdline)
		}
	}

	// Preconditions on the host, so that a failure below means isolation.
	if _, err := os.ReadDir("/root"); err != nil {
		t.Logf("host cannot list /root either (%v); that check proves less", err)
	}

	fails := []struct{ req, why string }{
		{"read " + filepath.Join(dataDir, "platform.db"), "platform data dir"},
		{"ls " + dataDir, "platform data dir"},
		{"read " + filepath.Join(hiddenInParent, "key"), "hidden dir inside an allowed path"},
		{"ls /root", "home directories"},
		{"ls /home", "home directories"},
		{"read /etc/shadow", "/etc beyond the needed files"},
		{"read " + filepath.Join(root, "sibling.txt"), "host's /tmp beside the allowed paths"},
		{"write " + filepath.Join(roDir, "new.txt"), "write into an r path"},
		{"write " + filepath.Join(roDir, "input.txt"), "overwrite in an r path"},
		{"write " + filepath.Join(parent, "new.txt"), "write into a default-mode path"},
		{"write /usr/evil", "write into system dirs"},
		{"dial " + ln.Addr().String(), "network without egress"},
		{"dial 1.1.1.1:53", "network without egress"},
	}
	for _, f := range fails {
		if got := s.do(f.req); !strings.HasPrefix(got, "err ") {
			t.Errorf("%s (%s): got %q, want an error", f.req, f.why, got)
		}
	}
	works := []struct{ req, want string }{
		{"read " + filepath.Join(roDir, "input.txt"), "ok readable input"},
		{"read " + filepath.Join(parent, "visible.txt"), "ok visible"},
		{"ls " + hiddenInParent, "ok "}, // masked: an empty directory
		{"write " + filepath.Join(rwDir, "out.txt"), "ok"},
		{"write /tmp/scratch", "ok"},
		{"read /tmp/scratch", "ok written from the sandbox"},
		{"cwd", "ok /tmp"},
	}
	for _, w := range works {
		if got := s.do(w.req); got != w.want {
			t.Errorf("%s: got %q, want %q", w.req, got, w.want)
		}
	}
	if b, err := os.ReadFile(filepath.Join(rwDir, "out.txt")); err != nil || string(b) != "written from the sandbox\n" {
		t.Errorf("rw write not visible on the host: %q, %v", b, err)
	}
	if _, err := os.Stat("/tmp/scratch"); err == nil {
		t.Errorf("the sandbox's /tmp leaked to the host's /tmp")
	}
	// PID namespace: the server does not see the platform's processes.
	if got := s.do("ls /proc/" + strconv.Itoa(os.Getpid())); !strings.HasPrefix(got, "err ") && os.Getpid() > 10 {
		t.Errorf("the platform's process is visible in the sandbox: %q", got)
	}
}

func TestCrashRestartBackoffEvents(t *testing.T) {
	modes(t, nil, func(t *testing.T, d *Driver, rec *recorder) {
		ctx := context.Background()
		spec := testSpec(t, "local.crashy")
		mustCreateStart(t, d, spec)
		o, _ := d.Attach(spec.Name)
		var pids []string
		for i := range 4 {
			s := open(t, o)
			pids = append(pids, s.do("id"))
			line, err := s.try("exit 3")
			if err != io.EOF || line != "" {
				t.Fatalf("crash %d: got %q, %v; want EOF", i, line, err)
			}
			s.rw.Close()
		}
		// Open again returns the restarted instance.
		s := open(t, o)
		pids = append(pids, s.do("id"))
		slices.Sort(pids)
		if len(slices.Compact(pids)) != 5 {
			t.Errorf("pids %v: want a new process after every crash", pids)
		}
		want := []string{"restart 1 in 10ms", "restart 2 in 20ms", "restart 3 in 40ms", "restart 4 in 40ms"}
		if diff := cmp.Diff(want, rec.messages(spec.Name, runtime.EventRestarting)); diff != "" {
			t.Errorf("restarting events (-want +got):\n%s", diff)
		}
		kinds := rec.kinds(spec.Name)
		wantKinds := []runtime.EventKind{runtime.EventCreated, runtime.EventStarted}
		for range 4 {
			wantKinds = append(wantKinds, runtime.EventExited, runtime.EventRestarting, runtime.EventStarted)
		}
		if diff := cmp.Diff(wantKinds, kinds); diff != "" {
			t.Errorf("event kinds (-want +got):\n%s", diff)
		}
		for _, m := range rec.messages(spec.Name, runtime.EventExited) {
			if !strings.Contains(m, "exit status 3") {
				t.Errorf("exited event %q does not give the status", m)
			}
		}
		st, _ := d.Status(ctx, spec.Name)
		if st.Restarts != 4 || st.LastExit != "exit status 3" || st.State != runtime.StateRunning {
			t.Errorf("Status = %+v", st)
		}
	})
}

func TestBackoffResetsAfterHealthyRun(t *testing.T) {
	d, rec := newDriver(t, &Options{Sandbox: SandboxOff, Backoff: Backoff{Initial: 10 * time.Millisecond, Max: time.Second, ResetAfter: time.Nanosecond}})
	spec := testSpec(t, "local.healthy")
	mustCreateStart(t, d, spec)
	o, _ := d.Attach(spec.Name)
	for range 3 {
		s := open(t, o)
		s.try("exit 1")
		s.rw.Close()
	}
	rec.waitUntil(t, "3 restarts", func() bool { return rec.countKind(spec.Name, runtime.EventRestarting) >= 3 })
	want := []string{"restart 1 in 10ms", "restart 2 in 10ms", "restart 3 in 10ms"}
	if diff := cmp.Diff(want, rec.messages(spec.Name, runtime.EventRestarting)); diff != "" {
		t.Errorf("every run counted as healthy, so no growth (-want +got):\n%s", diff)
	}
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second, Multiplier: 3}
	var got []time.Duration
	for i := range 5 {
		got = append(got, b.Delay(i))
	}
	want := []time.Duration{100 * time.Millisecond, 300 * time.Millisecond, 900 * time.Millisecond, time.Second, time.Second}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got := (Backoff{}).Delay(1000); got != 30*time.Second {
		t.Errorf("default cap: got %v", got)
	}
}

func TestRestartPolicies(t *testing.T) {
	for _, tc := range []struct {
		policy    runtime.RestartPolicy
		code      int
		wantState runtime.State
	}{
		{runtime.Never, 0, runtime.StateExited},
		{runtime.Never, 1, runtime.StateExited},
		{runtime.OnFailure, 0, runtime.StateExited},
		{runtime.OnFailure, 2, runtime.StateRunning},
	} {
		t.Run(fmt.Sprintf("%s-%d", tc.policy, tc.code), func(t *testing.T) {
			d, rec := newDriver(t, &Options{Sandbox: SandboxOff})
			spec := testSpec(t, "local.policy")
			spec.Restart = tc.policy
			mustCreateStart(t, d, spec)
			o, _ := d.Attach(spec.Name)
			s := open(t, o)
			s.try(fmt.Sprintf("exit %d", tc.code))
			s.rw.Close()
			want := 2
			if tc.wantState == runtime.StateRunning {
				want = 3
			}
			rec.waitUntil(t, "the exit", func() bool {
				return rec.countKind(spec.Name, runtime.EventStarted) >= want-1 && rec.countKind(spec.Name, runtime.EventExited) >= 1
			})
			waitFor(t, "state "+string(tc.wantState), func() bool {
				st, _ := d.Status(context.Background(), spec.Name)
				return st.State == tc.wantState
			})
			if tc.wantState == runtime.StateExited {
				_, err := o.Open(context.Background())
				if !errors.Is(err, runtime.ErrNotRunning) || !strings.Contains(err.Error(), "is exited; start it first") {
					t.Errorf("Open on an exited deployment: %v", err)
				}
			}
		})
	}
}

func TestStopStartDelete(t *testing.T) {
	modes(t, nil, func(t *testing.T, d *Driver, rec *recorder) {
		ctx := context.Background()
		spec := testSpec(t, "local.stoppable")
		mustCreateStart(t, d, spec)
		o, _ := d.Attach(spec.Name)
		s := open(t, o)
		s.do("echo up")
		st, _ := d.Status(ctx, spec.Name)
		if err := d.Stop(ctx, spec.Name); err != nil {
			t.Fatal(err)
		}
		if err := syscall.Kill(st.PID, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still exists after Stop: %v", st.PID, err)
		}
		if _, err := s.try("echo after stop"); err == nil {
			t.Errorf("stream still works after Stop")
		}
		st, _ = d.Status(ctx, spec.Name)
		if st.State != runtime.StateStopped || st.PID != 0 {
			t.Errorf("Status after Stop = %+v", st)
		}
		_, err := o.Open(ctx)
		if !errors.Is(err, runtime.ErrNotRunning) || err.Error() != `deployment is not running: "local.stoppable" is stopped; start it first` {
			t.Errorf("Open after Stop: %v", err)
		}
		if err := d.Stop(ctx, spec.Name); err != nil {
			t.Errorf("second Stop: %v", err)
		}
		if err := d.Start(ctx, spec.Name); err != nil {
			t.Fatal(err)
		}
		s = open(t, o)
		if got := s.do("echo again"); got != "ok again" {
			t.Errorf("after restart: %q", got)
		}
		if err := d.Delete(ctx, spec.Name); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Status(ctx, spec.Name); !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("Status after Delete: %v", err)
		}
		if _, err := o.Open(ctx); !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("Open after Delete: %v", err)
		}
		want := []runtime.EventKind{runtime.EventCreated, runtime.EventStarted, runtime.EventExited, runtime.EventStopped, runtime.EventStarted, runtime.EventExited, runtime.EventDeleted}
		if diff := cmp.Diff(want, rec.kinds(spec.Name)); diff != "" {
			t.Errorf("events (-want +got):\n%s", diff)
		}
	})
}

func TestAttachExclusiveAndDetach(t *testing.T) {
	d, _ := newDriver(t, &Options{Sandbox: SandboxOff})
	spec := testSpec(t, "local.shared")
	mustCreateStart(t, d, spec)
	o, _ := d.Attach(spec.Name)
	s := open(t, o)
	pid := s.do("pid")
	_, err := o.Open(context.Background())
	if !errors.Is(err, runtime.ErrInUse) || !strings.Contains(err.Error(), "use Spawn for one process per session") {
		t.Errorf("second Open: %v", err)
	}
	// Close detaches; the process keeps running and the next Open gets it.
	s.rw.Close()
	if _, err := s.rw.Read(make([]byte, 1)); err == nil {
		t.Errorf("Read after Close succeeded")
	}
	s2 := open(t, o)
	if got := s2.do("pid"); got != pid {
		t.Errorf("after detach: pid %s, want the same process %s", got, pid)
	}
}

func TestOpenWaitsForStart(t *testing.T) {
	// A slow first start: Open blocks until the instance is running.
	d, rec := newDriver(t, &Options{Sandbox: SandboxOff, Backoff: Backoff{Initial: 300 * time.Millisecond, ResetAfter: time.Hour}})
	spec := testSpec(t, "local.slow")
	mustCreateStart(t, d, spec)
	o, _ := d.Attach(spec.Name)
	s := open(t, o)
	s.try("exit 1")
	s.rw.Close()
	// Opened during the 300ms backoff: waits, then gets the new instance.
	rec.waitUntil(t, "restarting", func() bool { return rec.countKind(spec.Name, runtime.EventRestarting) == 1 })
	s2 := open(t, o)
	if got := s2.do("echo waited"); got != "ok waited" {
		t.Errorf("got %q", got)
	}
	// A cancelled wait returns the context error.
	s2.try("exit 1")
	rec.waitUntil(t, "second restarting", func() bool { return rec.countKind(spec.Name, runtime.EventRestarting) == 2 })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	s2.rw.Close()
	if _, err := o.Open(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Open with a cancelled context during backoff: %v", err)
	}
}

func TestSpawnPerSession(t *testing.T) {
	modes(t, nil, func(t *testing.T, d *Driver, rec *recorder) {
		ctx := context.Background()
		spec := testSpec(t, "local.persession")
		spec.Instances = runtime.PerSession
		if err := d.Create(ctx, spec); err != nil {
			t.Fatal(err)
		}
		o, _ := d.Spawn(spec.Name)
		if _, err := o.Open(ctx); !errors.Is(err, runtime.ErrNotRunning) {
			t.Errorf("Spawn Open before Start: %v", err)
		}
		if err := d.Start(ctx, spec.Name); err != nil {
			t.Fatal(err)
		}
		if a, _ := d.Attach(spec.Name); a != nil {
			if _, err := a.Open(ctx); !errors.Is(err, runtime.ErrNotRunning) || !strings.Contains(err.Error(), "open it with Spawn") {
				t.Errorf("Attach Open on a per-session deployment: %v", err)
			}
		}
		s1, s2 := open(t, o), open(t, o)
		p1, p2 := s1.do("id"), s2.do("id")
		if p1 == p2 {
			t.Errorf("two sessions share process %s", p1)
		}
		st, _ := d.Status(ctx, spec.Name)
		if st.Sessions != 2 || st.State != runtime.StateRunning {
			t.Errorf("Status = %+v", st)
		}
		// Closing a session stops its process.
		s1.rw.Close()
		waitFor(t, "one session left", func() bool {
			st, _ := d.Status(ctx, spec.Name)
			return st.Sessions == 1
		})
		if got := s2.do("echo still"); got != "ok still" {
			t.Errorf("other session: %q", got)
		}
		// Stop ends the remaining sessions.
		if err := d.Stop(ctx, spec.Name); err != nil {
			t.Fatal(err)
		}
		if _, err := s2.try("echo after stop"); err == nil {
			t.Errorf("session works after Stop")
		}
		st, _ = d.Status(ctx, spec.Name)
		if st.Sessions != 0 {
			t.Errorf("Sessions after Stop = %d", st.Sessions)
		}
	})
}

func TestLimits(t *testing.T) {
	modes(t, nil, func(t *testing.T, d *Driver, rec *recorder) {
		ctx := context.Background()
		t.Run("open files", func(t *testing.T) {
			spec := testSpec(t, "local.nofile")
			spec.Limits.OpenFiles = 64
			mustCreateStart(t, d, spec)
			o, _ := d.Attach(spec.Name)
			s := open(t, o)
			got := s.do("openfiles 100")
			if !strings.HasPrefix(got, "err after ") || !strings.Contains(got, "too many open files") {
				t.Errorf("opening 100 files under a limit of 64: %q", got)
			}
		})
		t.Run("memory", func(t *testing.T) {
			if raceEnabled {
				t.Skip("the race detector's shadow memory does not fit under RLIMIT_AS")
			}
			spec := testSpec(t, "local.memory")
			// The Go runtime reserves about 1.2 GiB of address space at
			// start, so RLIMIT_AS below that would stop it from starting.
			spec.Limits.MemoryBytes = 2 << 30
			spec.Restart = runtime.Never
			mustCreateStart(t, d, spec)
			o, _ := d.Attach(spec.Name)
			s := open(t, o)
			if got := s.do("alloc 64"); got != "ok 64" {
				t.Fatalf("allocating 64 MiB under 2 GiB: %q", got)
			}
			if got, err := s.try("alloc 3072"); err != io.EOF {
				t.Errorf("allocating 3 GiB under a 2 GiB limit: got %q, %v; want the process to die", got, err)
			}
			waitFor(t, "exited", func() bool {
				st, _ := d.Status(ctx, spec.Name)
				return st.State == runtime.StateExited
			})
			var text strings.Builder
			for l := range d.Logs(ctx, spec.Name, time.Time{}, false) {
				text.WriteString(l.Text + "\n")
			}
			if !strings.Contains(text.String(), "out of memory") {
				t.Errorf("logs do not show the allocation failure:\n%s", text.String())
			}
		})
		t.Run("cpu", func(t *testing.T) {
			if sandboxed, _ := d.Sandboxed(); !sandboxed && sandboxAvailable() {
				t.Skip("burns a CPU second: run in the sandboxed mode only")
			}
			spec := testSpec(t, "local.cpu")
			spec.Limits.CPUSeconds = 1
			spec.Restart = runtime.Never
			mustCreateStart(t, d, spec)
			o, _ := d.Attach(spec.Name)
			s := open(t, o)
			if _, err := s.try("spin"); err != io.EOF {
				t.Errorf("spinning under a 1s CPU limit: %v, want the process killed", err)
			}
			waitFor(t, "exited", func() bool {
				st, _ := d.Status(ctx, spec.Name)
				return st.State == runtime.StateExited
			})
			st, _ := d.Status(ctx, spec.Name)
			if !strings.HasPrefix(st.LastExit, "signal: killed") {
				t.Errorf("LastExit = %q, want the CPU limit signal", st.LastExit)
			}
		})
	})
}

func TestUnsandboxedStatusSaysWhy(t *testing.T) {
	d, _ := newDriver(t, &Options{Sandbox: SandboxOff})
	spec := testSpec(t, "local.plain")
	mustCreateStart(t, d, spec)
	st, err := d.Status(context.Background(), spec.Name)
	if err != nil {
		t.Fatal(err)
	}
	if st.Sandboxed || st.SandboxReason != "sandbox turned off in the runtime options" {
		t.Errorf("Status = %+v", st)
	}
	if !slices.ContainsFunc(st.Unenforced, func(s string) bool { return strings.HasPrefix(s, "Filesystem: not sandboxed") }) {
		t.Errorf("Unenforced = %q", st.Unenforced)
	}

	if os.Geteuid() == 0 {
		spec := testSpec(t, "local.nproc")
		spec.Limits.Processes = 16
		if err := d.Create(context.Background(), spec); err != nil {
			t.Fatal(err)
		}
		st, _ := d.Status(context.Background(), spec.Name)
		want := "Limits.Processes: the kernel does not apply RLIMIT_NPROC to root, and the platform runs as root"
		if !slices.Contains(st.Unenforced, want) {
			t.Errorf("Unenforced = %q, want %q", st.Unenforced, want)
		}
	}

	// A bwrap that cannot create namespaces: Auto runs unsandboxed, says why.
	fake := filepath.Join(t.TempDir(), "bwrap")
	script := "#!/bin/sh\necho 'bwrap: No permissions to create new namespace' >&2\nexit 1\n"
	testenv.WriteExecutable(t, fake, script)
	d2, _ := newDriver(t, &Options{BwrapPath: fake})
	if ok, reason := d2.Sandboxed(); ok || !strings.HasPrefix(reason, "bwrap cannot create namespaces here (bwrap: No permissions to create new namespace); ") {
		t.Errorf("Sandboxed() = %v, %q", ok, reason)
	}

	_, err = New(&Options{Sandbox: SandboxRequired, BwrapPath: "/nonexistent/bwrap"})
	if !errors.Is(err, ErrNoSandbox) || err.Error() != "bubblewrap sandbox unavailable: bwrap not found at /nonexistent/bwrap (Options.BwrapPath): no such file or directory" {
		t.Errorf("New with SandboxRequired and no bwrap: %v", err)
	}
}

func TestCreateErrors(t *testing.T) {
	hidden := t.TempDir()
	inside := filepath.Join(hidden, "sub")
	if err := os.Mkdir(inside, 0o755); err != nil {
		t.Fatal(err)
	}
	d, _ := newDriver(t, &Options{Sandbox: SandboxOff, HiddenPaths: []string{hidden}})
	base := testSpec(t, "local.x")
	for _, tc := range []struct {
		name   string
		mutate func(*runtime.Spec)
		want   string
	}{
		{"no name", func(s *runtime.Spec) { s.Name = "" }, "invalid deployment spec: Name: required"},
		{"bad name", func(s *runtime.Spec) { s.Name = "a b" }, `invalid spec for deployment "a b": Name: "a b": use letters, digits and . _ - @ / (at most 200 bytes)`},
		{"no command", func(s *runtime.Spec) { s.Command = "" }, `invalid spec for deployment "local.x": Command: required (the executable to run)`},
		{"relative command", func(s *runtime.Spec) { s.Command = "bin/server" }, `invalid spec for deployment "local.x": Command: "bin/server": use an absolute path or a name found in PATH`},
		{"relative path", func(s *runtime.Spec) { s.Filesystem.AllowedPaths = []runtime.AllowedPath{{Path: "data"}} }, `invalid spec for deployment "local.x": Filesystem.AllowedPaths[0].Path: "data" must be an absolute path`},
		{"root path", func(s *runtime.Spec) { s.Filesystem.AllowedPaths = []runtime.AllowedPath{{Path: "/"}} }, `invalid spec for deployment "local.x": Filesystem.AllowedPaths[0].Path: allowing / would expose the whole host; allow specific directories`},
		{"bad mode", func(s *runtime.Spec) { s.Filesystem.AllowedPaths = []runtime.AllowedPath{{Path: "/usr", Mode: "w"}} }, `invalid spec for deployment "local.x": Filesystem.AllowedPaths[0].Mode: "w": use "r" (read-only) or "rw" (read-write)`},
		{"missing path", func(s *runtime.Spec) { s.Filesystem.AllowedPaths = []runtime.AllowedPath{{Path: "/nonexistent/dir"}} }, `invalid spec for deployment "local.x": Filesystem.AllowedPaths[0].Path: "/nonexistent/dir" does not exist on the host (create it first): no such file or directory`},
		{"hidden path", func(s *runtime.Spec) { s.Filesystem.AllowedPaths = []runtime.AllowedPath{{Path: inside}} }, fmt.Sprintf(`invalid spec for deployment "local.x": Filesystem.AllowedPaths[0].Path: %q is inside %s, which the platform keeps hidden from servers`, inside, hidden)},
		{"proc", func(s *runtime.Spec) { s.Filesystem.AllowedPaths = []runtime.AllowedPath{{Path: "/proc/self"}} }, `invalid spec for deployment "local.x": Filesystem.AllowedPaths[0].Path: "/proc/self" is under /proc, which the sandbox provides itself`},
		{"bad egress", func(s *runtime.Spec) { s.Network.EgressAllow = []string{"exa mple.com"} }, `invalid spec for deployment "local.x": Network.EgressAllow[0]: "exa mple.com": not a host, host:port, IP or *.domain pattern`},
		{"bad port", func(s *runtime.Spec) { s.Network.EgressAllow = []string{"example.com:99999"} }, `invalid spec for deployment "local.x": Network.EgressAllow[0]: "example.com:99999": port must be 1-65535 or *`},
		{"bad env", func(s *runtime.Spec) { s.Env = map[string]string{"1X": "y"} }, `invalid spec for deployment "local.x": Env: "1X" is not a valid variable name (letters, digits, _; not starting with a digit)`},
		{"negative limit", func(s *runtime.Spec) { s.Limits.OpenFiles = -1 }, `invalid spec for deployment "local.x": Limits: limits must not be negative (0 means no limit)`},
		{"tiny memory", func(s *runtime.Spec) { s.Limits.MemoryBytes = 1000 }, `invalid spec for deployment "local.x": Limits.MemoryBytes: 1000 is below the 16 MiB minimum any server needs to start`},
		{"bad restart", func(s *runtime.Spec) { s.Restart = "sometimes" }, `invalid spec for deployment "local.x": Restart: "sometimes": use "on-failure", "never" or the default (always)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := base
			tc.mutate(&spec)
			err := d.Create(context.Background(), spec)
			var se *runtime.SpecError
			if !errors.As(err, &se) || err.Error() != tc.want {
				t.Errorf("got  %v\nwant %s", err, tc.want)
			}
		})
	}
	ctx := context.Background()
	if err := d.Create(ctx, base); err != nil {
		t.Fatal(err)
	}
	if err := d.Create(ctx, base); !errors.Is(err, runtime.ErrExists) || err.Error() != `deployment already exists: "local.x" (delete it first, or choose another name)` {
		t.Errorf("duplicate Create: %v", err)
	}
	for name, err := range map[string]error{
		"Start":  d.Start(ctx, "local.nope"),
		"Stop":   d.Stop(ctx, "local.nope"),
		"Delete": d.Delete(ctx, "local.nope"),
	} {
		if !errors.Is(err, runtime.ErrNotFound) || err.Error() != `deployment not found: "local.nope"` {
			t.Errorf("%s of an unknown name: %v", name, err)
		}
	}
	// A command that cannot be found fails at start, as an event and a log.
	spec := base
	spec.Name = "local.missing"
	spec.Command = "no-such-command-anywhere"
	spec.Restart = runtime.Never
	mustCreateStart(t, d, spec)
	waitFor(t, "exited", func() bool {
		st, _ := d.Status(ctx, spec.Name)
		return st.State == runtime.StateExited
	})
	st, _ := d.Status(ctx, spec.Name)
	if !strings.HasPrefix(st.LastError, `command "no-such-command-anywhere" not found in PATH`) {
		t.Errorf("LastError = %q", st.LastError)
	}
}

func TestSandboxDirMustBeVisible(t *testing.T) {
	d, _ := sandboxDriver(t, nil)
	spec := testSpec(t, "local.dir")
	spec.Dir = "/var/lib"
	err := d.Create(context.Background(), spec)
	want := `invalid spec for deployment "local.dir": Dir: "/var/lib" is not visible in the sandbox: use /tmp or a directory under Filesystem.AllowedPaths`
	if err == nil || err.Error() != want {
		t.Errorf("got  %v\nwant %s", err, want)
	}
}

func TestEgressThroughProxy(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "hello from the allowed host")
	}))
	defer srv.Close()
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "should not be reached")
	}))
	defer other.Close()

	d, rec := sandboxDriver(t, nil)
	spec := testSpec(t, "local.egress")
	spec.Network.EgressAllow = []string{strings.TrimPrefix(srv.URL, "http://")}
	mustCreateStart(t, d, spec)
	o, _ := d.Attach(spec.Name)
	s := open(t, o)
	if got := s.do("get " + srv.URL + "/x"); got != "ok 200 hello from the allowed host" {
		t.Errorf("allowed host through the proxy: %q", got)
	}
	if got := s.do("get " + other.URL); !strings.HasPrefix(got, "ok 403 egress denied: 127.0.0.1:") {
		t.Errorf("host not in the allowlist: %q", got)
	}
	if got := s.do("get http://169.254.169.254/latest/meta-data/"); !strings.HasPrefix(got, "ok 403 egress denied: 169.254.169.254:80: not in the deployment's egress allowlist") {
		t.Errorf("metadata address: %q", got)
	}
	rec.waitUntil(t, "egress denial events", func() bool { return rec.countKind(spec.Name, runtime.EventEgressDeny) >= 2 })
	// The proxy is the only way out: direct connections fail, even to the
	// allowed host, and even to the metadata address.
	for _, addr := range []string{srv.Listener.Addr().String(), "169.254.169.254:80", "1.1.1.1:443"} {
		if got := s.do("dial " + addr); !strings.HasPrefix(got, "err ") {
			t.Errorf("direct connection to %s: %q, want an error", addr, got)
		}
	}
	// Limits still apply to the server behind the forwarder.
	spec2 := testSpec(t, "local.egress-limited")
	spec2.Network.EgressAllow = spec.Network.EgressAllow
	spec2.Limits.OpenFiles = 64
	mustCreateStart(t, d, spec2)
	o2, _ := d.Attach(spec2.Name)
	s2 := open(t, o2)
	if got := s2.do("get " + srv.URL + "/y"); got != "ok 200 hello from the allowed host" {
		t.Errorf("allowed host, limited server: %q", got)
	}
	if got := s2.do("openfiles 100"); !strings.Contains(got, "too many open files") {
		t.Errorf("open files limit behind the forwarder: %q", got)
	}
	// Stop removes the proxy's socket directory.
	dep, _ := d.get(spec.Name)
	dep.mu.Lock()
	dir := dep.proxyDir
	dep.mu.Unlock()
	if err := d.Stop(context.Background(), spec.Name); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("proxy directory %q left after Stop: %v", dir, err)
	}
}

// TestEverythingServer runs the npm reference server (node) in the sandbox
// with only its package directory allowed, and talks MCP to it with the
// go-sdk client over Attach and Spawn streams.
func TestEverythingServer(t *testing.T) {
	command, args := testenv.Everything(t)
	modes(t, nil, func(t *testing.T, d *Driver, rec *recorder) {
		ctx, cancel := context.WithTimeout(context.Background(), waitLimit)
		defer cancel()
		spec := runtime.Spec{
			Name:    "local.everything",
			Command: command,
			Args:    args,
			Filesystem: runtime.Filesystem{AllowedPaths: []runtime.AllowedPath{
				{Path: filepath.Join(testenv.ToolsDir(), "node_modules")},
			}},
			Limits: runtime.Limits{MemoryBytes: 4 << 30, OpenFiles: 1024},
		}
		mustCreateStart(t, d, spec)
		call := func(o runtime.StdioOpener) {
			t.Helper()
			rw, err := o.Open(ctx)
			if err != nil {
				t.Fatal(err)
			}
			client := mcp.NewClient(&mcp.Implementation{Name: "runtime-test", Version: "1"}, nil)
			cs, err := client.Connect(ctx, &mcp.IOTransport{Reader: rw, Writer: rw}, nil)
			if err != nil {
				t.Fatalf("MCP connect: %v", err)
			}
			defer cs.Close()
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "through the runtime"}})
			if err != nil {
				t.Fatal(err)
			}
			if tc, ok := res.Content[0].(*mcp.TextContent); !ok || !strings.Contains(tc.Text, "through the runtime") {
				t.Errorf("echo: %+v", res.Content)
			}
		}
		o, _ := d.Attach(spec.Name)
		call(o)
		call(o) // the shared process survives a client going away
		st, _ := d.Status(ctx, spec.Name)
		if st.Restarts != 0 {
			t.Errorf("Restarts = %d after clients closed; closing a stream must not stop the shared process", st.Restarts)
		}
		if err := d.Stop(ctx, spec.Name); err != nil {
			t.Fatal(err)
		}
		spec.Name = "local.everything-sessions"
		spec.Instances = runtime.PerSession
		mustCreateStart(t, d, spec)
		s, _ := d.Spawn(spec.Name)
		call(s)
	})
}

func TestLogsFollowAndSince(t *testing.T) {
	d, rec := newDriver(t, &Options{Sandbox: SandboxOff, LogLines: 4})
	spec := testSpec(t, "local.logs")
	mustCreateStart(t, d, spec)
	o, _ := d.Attach(spec.Name)
	s := open(t, o)
	s.do("stderr one")

	ctx, cancel := context.WithCancel(context.Background())
	lines := make(chan string)
	done := make(chan error, 1)
	go func() {
		var err error
		for l, e := range d.Logs(ctx, spec.Name, time.Time{}, true) {
			if e != nil {
				err = e
				break
			}
			lines <- l.Stream + ": " + l.Text
		}
		done <- err
	}()
	next := func() string {
		select {
		case l := <-lines:
			return l
		case <-time.After(waitLimit):
			t.Fatal("timed out waiting for a log line")
			return ""
		}
	}
	for _, want := range []string{"stderr: test server ready", "stderr: one"} {
		if got := next(); got != want {
			t.Errorf("retained line: got %q, want %q", got, want)
		}
	}
	s.do("stderr two")
	if got := next(); got != "stderr: two" {
		t.Errorf("followed line: got %q", got)
	}
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("follow ended with %v, want context.Canceled", err)
	}

	// since filters by time; the ring keeps the last 4 lines.
	mid := time.Now()
	for i := range 5 {
		s.do(fmt.Sprintf("stderr late %d", i))
	}
	rec.waitUntil(t, "the last line", func() bool {
		return len(rec.logs) > 0 && rec.logs[len(rec.logs)-1].Text == "late 4"
	})
	var got []string
	for l, err := range d.Logs(context.Background(), spec.Name, mid, false) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, l.Text)
	}
	if diff := cmp.Diff([]string{"late 1", "late 2", "late 3", "late 4"}, got); diff != "" {
		t.Errorf("Logs since (-want +got):\n%s", diff)
	}
	for _, err := range d.Logs(context.Background(), "local.nope", time.Time{}, false) {
		if !errors.Is(err, runtime.ErrNotFound) {
			t.Errorf("Logs of an unknown name: %v", err)
		}
	}
}

// TestServersDieWithThePlatform kills the platform with SIGKILL: none of
// its servers' processes may survive it (so that a restarted platform does
// not find stale servers holding files or ports).
func TestServersDieWithThePlatform(t *testing.T) {
	for _, mode := range []SandboxMode{SandboxOff, SandboxRequired} {
		t.Run(string(mode), func(t *testing.T) {
			if mode == SandboxRequired {
				requireSandbox(t)
			}
			exe, _ := os.Executable()
			cmd := exec.Command(exe)
			cmd.Env = append(os.Environ(), "PROCESS_TEST_PLATFORM="+string(mode))
			cmd.Env = append(cmd.Env, "GORACE="+testEnv["GORACE"])
			out, err := cmd.StdoutPipe()
			if err != nil {
				t.Fatal(err)
			}
			cmd.Stderr = os.Stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			line, err := bufio.NewReader(out).ReadString('\n')
			if err != nil || line != "ready ok hanging\n" {
				cmd.Process.Kill()
				cmd.Wait()
				t.Fatalf("platform: %q %v", line, err)
			}
			var tree []int
			for pid := range descendants(cmd.Process.Pid) {
				tree = append(tree, pid)
			}
			if len(tree) == 0 {
				t.Fatal("the platform has no child processes")
			}
			cmd.Process.Kill()
			cmd.Wait()
			waitFor(t, fmt.Sprintf("processes %v to die with the platform", tree), func() bool {
				for _, pid := range tree {
					if alive(pid) {
						return false
					}
				}
				return true
			})
		})
	}
}

// descendants returns the processes below root.
func descendants(root int) map[int]bool {
	children := map[int][]int{}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ok := readProcStat(pid); ok {
			children[st.ppid] = append(children[st.ppid], pid)
		}
	}
	out := map[int]bool{}
	queue := slices.Clone(children[root])
	for len(queue) > 0 {
		p := queue[0]
		queue = queue[1:]
		if !out[p] {
			out[p] = true
			queue = append(queue, children[p]...)
		}
	}
	return out
}

// alive reports whether pid exists and is not a zombie.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	i := strings.LastIndexByte(string(b), ')')
	return i > 0 && i+2 < len(b) && b[i+2] != 'Z'
}
