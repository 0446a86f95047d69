package runtime

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Runtime places deployments on an execution substrate and supervises them.
// Every method is safe for concurrent use. Names are the deployment names of
// the platform ({org}.{name}); a Runtime knows nothing about orgs.
//
// The process driver (package process) is the default; container drivers
// implement the same interface and additionally honour Spec.Image,
// Spec.Ports and Spec.Volumes.
type Runtime interface {
	// Create registers a deployment without starting it. It fails with
	// ErrExists when the name is taken and with a *SpecError when the spec is
	// invalid.
	Create(ctx context.Context, spec Spec) error
	// Start starts a created or stopped deployment and keeps it running
	// (restarting it on exit, with backoff) until Stop or Delete. Starting a
	// started deployment does nothing.
	Start(ctx context.Context, name string) error
	// Stop stops the deployment's processes and waits for them to exit.
	// Stopping a stopped deployment does nothing.
	Stop(ctx context.Context, name string) error
	// Delete stops the deployment and forgets it, logs included.
	Delete(ctx context.Context, name string) error
	// Status reports the deployment's state.
	Status(ctx context.Context, name string) (Status, error)
	// Stats reports resource usage of the running process.
	Stats(ctx context.Context, name string) (Stats, error)
	// Logs yields the retained log lines at or after since; with follow it
	// then waits for new lines until ctx is done or the deployment is
	// deleted.
	Logs(ctx context.Context, name string, since time.Time, follow bool) iter.Seq2[LogLine, error]
	// Attach returns the stdio of the deployment's supervised process: each
	// Open returns the stdin/stdout of the instance running now, waiting for
	// it while the deployment is (re)starting (Open's ctx bounds that wait,
	// not the stream). The stream ends when the process exits; the next Open
	// returns the restarted instance. Closing the stream leaves the process
	// running. Open fails with ErrNotRunning when the deployment is stopped,
	// exited or PerSession, and with ErrInUse while another stream is open
	// on the same instance.
	Attach(name string) (StdioOpener, error)
	// Spawn returns an opener whose every Open starts a new, unsupervised
	// instance of the deployment (same sandbox and limits), stopped when the
	// returned stream is closed: one process per session.
	Spawn(name string) (StdioOpener, error)
}

// StdioOpener opens a bidirectional byte stream to a stdio MCP server:
// writes go to its stdin, reads come from its stdout. The stream ends (Read
// returns io.EOF) when the process exits.
type StdioOpener interface {
	Open(ctx context.Context) (io.ReadWriteCloser, error)
}

// Spec describes a deployment: what to run, what it may see and reach, and
// how much it may use.
type Spec struct {
	// Name identifies the deployment. Required: letters, digits, '.', '_',
	// '-' and '@', '/' (public names), at most 200 bytes.
	Name string

	// Command is the executable: an absolute path, or a name looked up in
	// the platform's PATH when the deployment starts. Required for the
	// process driver.
	Command string
	// Args are the arguments after the command.
	Args []string
	// Env is the complete environment of the server besides the minimal
	// defaults PATH=/usr/local/bin:/usr/bin:/bin, HOME=/tmp and
	// LANG=C.UTF-8 (which Env may override). Nothing else is inherited from
	// the platform.
	Env map[string]string
	// Dir is the working directory. Empty means /tmp (the sandbox's private
	// /tmp; a fresh temporary directory when not sandboxed). Inside the
	// sandbox it must be visible: /tmp or under an allowed path.
	Dir string

	Filesystem Filesystem
	Network    Network
	Limits     Limits

	// Instances says whether Start runs one shared supervised process
	// (Shared, the default) or none (PerSession: every session gets its own
	// process through Spawn).
	Instances InstanceMode
	// Restart says when an exited process is restarted (default Always).
	Restart RestartPolicy

	// Image, Ports and Volumes are for container drivers (docker,
	// kubernetes). The process driver ignores them.
	Image   string
	Ports   []Port
	Volumes []Volume
}

// Filesystem lists what the server may see of the host's files besides the
// system directories it needs to run.
type Filesystem struct {
	AllowedPaths []AllowedPath
}

// AllowedPath is a host path made visible to the server at the same path.
type AllowedPath struct {
	// Path is absolute.
	Path string
	// Mode is ModeRead ("r", the default when empty) or ModeReadWrite ("rw").
	Mode string
}

// Path access modes.
const (
	ModeRead      = "r"
	ModeReadWrite = "rw"
)

// Network says what the server may reach.
type Network struct {
	// EgressAllow lists the destinations the server may connect to, through
	// the platform's egress proxy: "host:port", "host" (any port),
	// "*.example.com[:port]" (subdomains), an IP literal, or "*" (any host:
	// every public address). Empty means no network at all. Link-local and
	// cloud metadata addresses are always refused.
	EgressAllow []string
}

// Limits bounds the resources of each process. Zero means no limit.
type Limits struct {
	// MemoryBytes is the address-space limit (RLIMIT_AS) of every process
	// of the server.
	MemoryBytes int64
	// CPUSeconds is the CPU time limit (RLIMIT_CPU) of every process: the
	// kernel kills a process (SIGKILL) that has used this much CPU time.
	CPUSeconds int64
	// OpenFiles is the file descriptor limit (RLIMIT_NOFILE).
	OpenFiles int64
	// Processes is RLIMIT_NPROC. The kernel counts it per user and does not
	// enforce it for root; see docs/runtime.md.
	Processes int64
	// CallTimeout is the wall-clock limit of one request to the server. The
	// runtime does not see requests: the gateway enforces it.
	CallTimeout time.Duration
}

// InstanceMode chooses between a shared process and one per session.
type InstanceMode string

// Instance modes.
const (
	// Shared runs one supervised process that the gateway multiplexes.
	Shared InstanceMode = ""
	// PerSession runs no process on Start; each Spawn Open starts one.
	PerSession InstanceMode = "per-session"
)

// RestartPolicy says when an exited process is restarted.
type RestartPolicy string

// Restart policies.
const (
	// Always restarts after any exit (the default: a stdio server exiting
	// on its own is a failure too).
	Always RestartPolicy = ""
	// OnFailure restarts after a non-zero exit or a signal.
	OnFailure RestartPolicy = "on-failure"
	// Never leaves the deployment exited.
	Never RestartPolicy = "never"
)

// Port is a container port published by container drivers.
type Port struct {
	Container int
	Protocol  string // "tcp" (default) or "udp"
}

// Volume is a named volume mounted by container drivers.
type Volume struct {
	Name     string
	Path     string
	ReadOnly bool
}

// State is the lifecycle state of a deployment.
type State string

// States.
const (
	StateCreated  State = "created"  // registered, never started
	StateStarting State = "starting" // a process is being started
	StateRunning  State = "running"  // the process is running (or, PerSession, sessions may be spawned)
	StateBackoff  State = "backoff"  // the process exited; waiting to restart
	StateExited   State = "exited"   // the process exited and the restart policy says no
	StateStopped  State = "stopped"  // stopped by Stop
)

// Status is a deployment's state as reported by Runtime.Status.
type Status struct {
	Name  string
	State State
	// Sandboxed is true when the process runs in the driver's sandbox;
	// SandboxReason says why not otherwise.
	Sandboxed     bool
	SandboxReason string
	// PID is the host process ID of the running instance (0 when none).
	PID       int
	StartedAt time.Time // start of the running instance
	Restarts  int       // restarts since the last Start
	// LastExit describes the last exit ("exit status 1", "signal: killed")
	// and LastError the last failure to start; empty when none.
	LastExit  string
	LastError string
	// NextRestart is when a deployment in StateBackoff restarts.
	NextRestart time.Time
	// Sessions is the number of live per-session instances.
	Sessions int
	// Unenforced lists the declared limits the driver cannot enforce here,
	// each with the reason.
	Unenforced []string
}

// Stats is resource usage of a deployment's running instance, summed over
// its process tree.
type Stats struct {
	PID      int
	Uptime   time.Duration
	Restarts int
	// CPUTime is user + system time of the live processes of the instance.
	CPUTime time.Duration
	// RSSBytes is the resident memory of the live processes of the
	// instance.
	RSSBytes int64
	// Processes is the number of live processes in the instance's tree.
	Processes int
	// Sessions is the number of live per-session instances (not included in
	// the figures above).
	Sessions int
}

// EventKind names what happened to a deployment.
type EventKind string

// Event kinds.
const (
	EventCreated     EventKind = "created"
	EventStarted     EventKind = "started"      // a process started (Message: pid, sandbox)
	EventExited      EventKind = "exited"       // a process exited (Message: status)
	EventRestarting  EventKind = "restarting"   // a restart is scheduled (Message: delay)
	EventStartFailed EventKind = "start_failed" // a process could not be started
	EventStopped     EventKind = "stopped"
	EventDeleted     EventKind = "deleted"
	EventEgressDeny  EventKind = "egress_denied" // the egress proxy refused a connection
)

// Event is one lifecycle event, for the platform to persist.
type Event struct {
	Deployment string
	Time       time.Time
	Kind       EventKind
	Message    string
}

// LogLine is one line a server wrote to stderr (or, Stream "runtime", a
// note from the runtime itself).
type LogLine struct {
	Deployment string
	Time       time.Time
	Stream     string // "stderr" or "runtime"
	// PID is the host process ID of the instance that wrote the line (0
	// for runtime notes).
	PID  int
	Text string
	// Seq increases by one per line of a deployment.
	Seq int64
}

// Errors returned by Runtime implementations (wrapped; test with errors.Is).
var (
	ErrNotFound   = errors.New("deployment not found")
	ErrExists     = errors.New("deployment already exists")
	ErrNotRunning = errors.New("deployment is not running")
	ErrInUse      = errors.New("stdio of the running instance is already open")
)

// SpecError reports an invalid Spec field.
type SpecError struct {
	Name   string // deployment
	Field  string // e.g. "Filesystem.AllowedPaths[0].Mode"
	Reason string
}

func (e *SpecError) Error() string {
	if e.Name == "" {
		return fmt.Sprintf("invalid deployment spec: %s: %s", e.Field, e.Reason)
	}
	return fmt.Sprintf("invalid spec for deployment %q: %s: %s", e.Name, e.Field, e.Reason)
}

var (
	nameRE    = regexp.MustCompile(`^[A-Za-z0-9@][A-Za-z0-9._@/-]*$`)
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// Validate checks the fields every driver relies on. Drivers call it from
// Create; the platform may call it earlier to reject bad input.
func (s *Spec) Validate() error {
	bad := func(field, format string, args ...any) error {
		return &SpecError{Name: s.Name, Field: field, Reason: fmt.Sprintf(format, args...)}
	}
	if s.Name == "" {
		return bad("Name", "required")
	}
	if len(s.Name) > 200 || !nameRE.MatchString(s.Name) {
		return bad("Name", "%q: use letters, digits and . _ - @ / (at most 200 bytes)", s.Name)
	}
	if s.Command == "" && s.Image == "" {
		return bad("Command", "required (the executable to run)")
	}
	for k, v := range s.Env {
		if !envNameRE.MatchString(k) {
			return bad("Env", "%q is not a valid variable name (letters, digits, _; not starting with a digit)", k)
		}
		if strings.ContainsRune(v, 0) {
			return bad("Env", "value of %s contains a NUL byte", k)
		}
	}
	if s.Dir != "" && !filepath.IsAbs(s.Dir) {
		return bad("Dir", "%q must be an absolute path", s.Dir)
	}
	for i, p := range s.Filesystem.AllowedPaths {
		field := fmt.Sprintf("Filesystem.AllowedPaths[%d]", i)
		if !filepath.IsAbs(p.Path) {
			return bad(field+".Path", "%q must be an absolute path", p.Path)
		}
		if filepath.Clean(p.Path) == "/" {
			return bad(field+".Path", "allowing / would expose the whole host; allow specific directories")
		}
		switch p.Mode {
		case "", ModeRead, ModeReadWrite:
		default:
			return bad(field+".Mode", "%q: use %q (read-only) or %q (read-write)", p.Mode, ModeRead, ModeReadWrite)
		}
	}
	for i, e := range s.Network.EgressAllow {
		if _, err := ParseEgressRule(e); err != nil {
			return bad(fmt.Sprintf("Network.EgressAllow[%d]", i), "%v", err)
		}
	}
	l := s.Limits
	if l.MemoryBytes < 0 || l.CPUSeconds < 0 || l.OpenFiles < 0 || l.Processes < 0 || l.CallTimeout < 0 {
		return bad("Limits", "limits must not be negative (0 means no limit)")
	}
	if l.MemoryBytes > 0 && l.MemoryBytes < 16<<20 {
		return bad("Limits.MemoryBytes", "%d is below the 16 MiB minimum any server needs to start", l.MemoryBytes)
	}
	if l.OpenFiles > 0 && l.OpenFiles < 8 {
		return bad("Limits.OpenFiles", "%d is below the minimum of 8", l.OpenFiles)
	}
	switch s.Instances {
	case Shared, PerSession:
	default:
		return bad("Instances", "%q: use %q or the default (shared)", s.Instances, PerSession)
	}
	switch s.Restart {
	case Always, OnFailure, Never:
	default:
		return bad("Restart", "%q: use %q, %q or the default (always)", s.Restart, OnFailure, Never)
	}
	return nil
}

// EgressRule is one parsed entry of Network.EgressAllow.
type EgressRule struct {
	// Host is a lower-case host name, an IP literal, "*" (any host) or
	// "*.suffix" (any subdomain of suffix, not suffix itself).
	Host string
	// Port is the allowed port, 0 for any.
	Port int
}

// ParseEgressRule parses "host", "host:port", "[v6]:port", "*.suffix[:port]"
// or "*".
func ParseEgressRule(s string) (EgressRule, error) {
	if s == "" {
		return EgressRule{}, errors.New("empty egress rule")
	}
	host, port := s, ""
	if h, p, err := net.SplitHostPort(s); err == nil {
		host, port = h, p
	} else if strings.HasPrefix(s, "[") && strings.HasSuffix(s, "]") {
		host = s[1 : len(s)-1]
	}
	if host == "*." || host == "." {
		return EgressRule{}, fmt.Errorf("%q: not a host name pattern (want *.example.com)", s)
	}
	r := EgressRule{Host: strings.ToLower(strings.TrimSuffix(host, "."))}
	if port != "" && port != "*" {
		n, err := strconv.Atoi(port)
		if err != nil || n < 1 || n > 65535 {
			return EgressRule{}, fmt.Errorf("%q: port must be 1-65535 or *", s)
		}
		r.Port = n
	}
	h := r.Host
	switch {
	case h == "*":
	case net.ParseIP(h) != nil:
	case strings.HasPrefix(h, "*."):
		if !validHostname(h[2:]) {
			return EgressRule{}, fmt.Errorf("%q: not a host name pattern (want *.example.com)", s)
		}
	default:
		if !validHostname(h) {
			return EgressRule{}, fmt.Errorf("%q: not a host, host:port, IP or *.domain pattern", s)
		}
	}
	return r, nil
}

var hostnameRE = regexp.MustCompile(`^[a-z0-9_]([a-z0-9_-]{0,62})(\.[a-z0-9_]([a-z0-9_-]{0,62}))*$`)

func validHostname(h string) bool { return len(h) <= 253 && hostnameRE.MatchString(h) }

// Matches reports whether the rule allows host:port. host must be lower
// case without a trailing dot.
func (r EgressRule) Matches(host string, port int) bool {
	if r.Port != 0 && r.Port != port {
		return false
	}
	switch {
	case r.Host == "*":
		return true
	case strings.HasPrefix(r.Host, "*."):
		return strings.HasSuffix(host, r.Host[1:])
	}
	if ip := net.ParseIP(r.Host); ip != nil {
		hip := net.ParseIP(host)
		return hip != nil && hip.Equal(ip)
	}
	return host == r.Host
}
