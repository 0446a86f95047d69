package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/gateway"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime/process"
	"github.com/mcp-agent-go/mcp-agent/cloud/store"
)

// DefaultAddr is where `mcp-agent cloud up` listens by default.
const DefaultAddr = "127.0.0.1:8750"

// AdminKeyFile is the name of the file, in the data directory, that holds
// the admin API key of the org "local" (mode 0600).
const AdminKeyFile = "admin.key"

// Options configures a Platform. The zero value of every field is usable.
type Options struct {
	// Addr is the listen address. Empty means DefaultAddr; "127.0.0.1:0"
	// picks a free port (see Platform.URL).
	Addr string
	// PublicURL is the base URL clients use, in endpoints and console
	// links. Empty means http:// and the bound address (127.0.0.1 for a
	// wildcard address).
	PublicURL string
	// DSN selects the store (see store.Open). Empty means the SQLite file
	// state.db in the data directory.
	DSN string
	// Logger receives the platform's structured logs. Nil discards them.
	Logger *slog.Logger
	// Sandbox chooses whether servers run in bubblewrap (default: when it
	// works on this host).
	Sandbox process.SandboxMode
	// Builtin is how the servers built into mcp-agent (types filesystem
	// and fetch) are run: Path, then Args, then "filesystem ...". Nil means
	// this executable with the argument "builtin" (the mcp-agent CLI).
	Builtin *Command
	// NodeModules are directories searched for the npm reference servers
	// (types everything, memory, filesystem-node) before falling back to
	// npx. Nil means .tools/node_modules in the working directory and its
	// parents.
	NodeModules []string
	// AllowedHosts are the Host header values accepted besides loopback
	// names (DNS-rebinding protection), e.g. "mcp.example.com".
	AllowedHosts []string
	// Gateway configures the MCP gateway (timeouts, size limits). Its
	// Logger and AllowedHosts are set by the platform.
	Gateway *gateway.Options
	// Backoff is the restart backoff of crashed servers (zero: the
	// runtime's defaults, 500ms doubling up to 30s).
	Backoff process.Backoff
	// ShutdownTimeout bounds Close's wait for requests in flight. Zero
	// means 10 seconds.
	ShutdownTimeout time.Duration
	// Version is reported by /healthz.
	Version string
	// Serve is how deployed apps run: Path, then Args, then "serve
	// --transport stdio --config ...". Nil means this executable (the
	// mcp-agent CLI).
	Serve *Command
	// GoSource is the root of the mcp-agent source (a checkout of module
	// github.com/mcp-agent-go/mcp-agent) that Go code apps are built
	// against: builds replace the module with it. Empty means the checkout
	// found from the working directory or this executable upwards; without
	// one, Go code apps are refused with a message saying so.
	GoSource string
	// GoCache is the build cache (GOCACHE) of Go code app builds, shared by
	// them: only the go command writes it (an app's code never runs during
	// its build, and its process never sees the cache). Empty means
	// DATA/apps/.gocache. Pointing it at a warm cache (`go env GOCACHE`)
	// makes first builds take seconds instead of minutes.
	GoCache string
	// MaxAppBytes bounds an uploaded app package (gzipped). 0 means
	// api.DefaultMaxUploadBytes (32 MiB).
	MaxAppBytes int64
}

// Command is a program with leading arguments and extra environment.
type Command struct {
	Path string
	Args []string
	Env  map[string]string
}

// Platform is a running cloud platform: the store, the process runtime, the
// gateway and the HTTP API, on one listener.
type Platform struct {
	dataDir string
	opts    Options
	logger  *slog.Logger
	url     string
	keyPath string

	store   store.Store
	db      *store.DB
	rt      *process.Driver
	gw      *gateway.Gateway
	handler http.Handler
	rec     *recorder
	logs    *logHub // log lines as live events (logevents.go)
	keys    *keyCache

	ln         net.Listener
	srv        *http.Server
	baseCancel context.CancelFunc
	serveErr   chan error
	done       chan struct{}

	apps *apps // apps.go

	mu    sync.Mutex
	deps  map[string]*deployment // by full name
	close sync.Once
	cerr  error
}

// Start opens the platform's state in dataDir (created with mode 0700 when
// missing), restores the deployments whose desired state is running, and
// serves the API and the gateway on Options.Addr until Close.
//
// On first start it creates the admin API key of the org "local" and writes
// it to dataDir/admin.key (mode 0600); AdminKeyPath says where.
func Start(ctx context.Context, dataDir string, opts *Options) (*Platform, error) {
	p := &Platform{deps: make(map[string]*deployment), done: make(chan struct{}), serveErr: make(chan error, 1)}
	if opts != nil {
		p.opts = *opts
	}
	if p.opts.Addr == "" {
		p.opts.Addr = DefaultAddr
	}
	if p.opts.ShutdownTimeout <= 0 {
		p.opts.ShutdownTimeout = 10 * time.Second
	}
	p.logger = p.opts.Logger
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	if dataDir == "" {
		return nil, errors.New("platform: no data directory given")
	}
	abs, err := filepath.Abs(dataDir)
	if err != nil {
		return nil, fmt.Errorf("platform: data directory %s: %w", dataDir, err)
	}
	p.dataDir = abs
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("platform: create data directory: %w", err)
	}
	if p.opts.Builtin == nil {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("platform: find this executable for the built-in servers: %w", err)
		}
		p.opts.Builtin = &Command{Path: exe, Args: []string{"builtin"}}
	}
	if p.opts.Serve == nil {
		exe, err := os.Executable()
		if err != nil {
			return nil, fmt.Errorf("platform: find this executable for the apps: %w", err)
		}
		p.opts.Serve = &Command{Path: exe}
	}
	if p.opts.NodeModules == nil {
		p.opts.NodeModules = defaultNodeModules()
	}

	// Listen first: a second platform on the same address fails before it
	// touches the first one's processes.
	ln, err := net.Listen("tcp", p.opts.Addr)
	if err != nil {
		return nil, fmt.Errorf("platform: listen on %s: %w (is another platform running? choose another address with --addr)", p.opts.Addr, err)
	}
	p.ln = ln
	p.url = strings.TrimSuffix(p.opts.PublicURL, "/")
	if p.url == "" {
		p.url = "http://" + publicAddr(ln.Addr())
	}

	ok := false
	defer func() {
		if !ok {
			p.shutdown(context.Background())
		}
	}()

	dsn := p.opts.DSN
	if dsn == "" {
		dsn = store.SQLiteDSN(filepath.Join(abs, "state.db"))
	}
	db, err := store.Open(ctx, dsn, &store.Options{Logger: quieter(p.logger, slog.LevelWarn)})
	if err != nil {
		return nil, fmt.Errorf("platform: open the store: %w", err)
	}
	p.db, p.store = db, db
	p.logs = newLogHub(p.lookupResource)
	p.rec = newRecorder(p.store, p.logger, p.lookupByFull, p.logs.publish)

	p.rt, err = process.New(&process.Options{
		Sandbox:     p.opts.Sandbox,
		HiddenPaths: []string{abs},
		OnEvent:     p.rec.event,
		OnLog:       p.rec.log,
		Backoff:     p.opts.Backoff,
		Logger:      p.logger,
	})
	if err != nil {
		return nil, fmt.Errorf("platform: runtime: %w", err)
	}
	if sb, why := p.rt.Sandboxed(); sb {
		p.logger.Info("servers run sandboxed (bubblewrap)")
	} else {
		p.logger.Warn("servers run WITHOUT a sandbox", "reason", why)
	}

	var gwOpts gateway.Options
	if p.opts.Gateway != nil {
		gwOpts = *p.opts.Gateway
	}
	gwOpts.Logger = quieter(p.logger, slog.LevelWarn) // per-session chatter is not for the platform's log
	gwOpts.AllowedHosts = p.opts.AllowedHosts
	p.gw = gateway.New(&gwOpts)

	p.keys = newKeyCache(p.store)
	if p.keyPath, err = p.ensureAdminKey(ctx); err != nil {
		return nil, err
	}

	if err := p.reconcile(ctx); err != nil {
		return nil, err
	}
	if err := p.startApps(ctx); err != nil {
		return nil, err
	}

	p.handler = api.New(p, p.gw, &api.Options{Logger: p.logger, AllowedHosts: p.opts.AllowedHosts, Version: p.opts.Version, MaxUploadBytes: p.opts.MaxAppBytes})
	baseCtx, cancel := context.WithCancel(context.Background())
	p.baseCancel = cancel
	p.srv = &http.Server{
		Handler:           p.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
		ErrorLog:          slog.NewLogLogger(p.logger.Handler(), slog.LevelWarn),
	}
	go func() {
		err := p.srv.Serve(ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		p.serveErr <- err
		close(p.done)
	}()
	ok = true
	p.logger.Info("platform listening", "url", p.url, "data", abs, "admin_key", p.keyPath)
	return p, nil
}

// URL is the platform's base URL, e.g. http://127.0.0.1:8750.
func (p *Platform) URL() string { return p.url }

// AdminKeyPath is the file holding the admin API key.
func (p *Platform) AdminKeyPath() string { return p.keyPath }

// DataDir is the platform's data directory.
func (p *Platform) DataDir() string { return p.dataDir }

// Handler is the platform's HTTP handler (API and gateway), for embedding
// in another server.
func (p *Platform) Handler() http.Handler { return p.handler }

// Done is closed when the platform stops serving: after Close, or when the
// listener fails (see Close's error).
func (p *Platform) Done() <-chan struct{} { return p.done }

// Close shuts the platform down gracefully: it stops accepting requests,
// waits up to Options.ShutdownTimeout (or until ctx is done) for those in
// flight, ends event streams, stops every server (their desired state is
// kept, so the next Start brings them back), writes the last logs and
// events, and closes the store.
func (p *Platform) Close(ctx context.Context) error {
	p.close.Do(func() { p.cerr = p.shutdown(ctx) })
	return p.cerr
}

func (p *Platform) shutdown(ctx context.Context) error {
	var errs []error
	if p.srv != nil {
		sctx, cancel := context.WithTimeout(ctx, p.opts.ShutdownTimeout)
		p.baseCancel() // end SSE streams and long polls
		if err := p.srv.Shutdown(sctx); err != nil {
			errs = append(errs, fmt.Errorf("http shutdown: %w", err))
			_ = p.srv.Close()
		}
		cancel()
		if err := <-p.serveErr; err != nil {
			errs = append(errs, err)
		}
	} else if p.ln != nil {
		_ = p.ln.Close()
		close(p.done)
	}
	if p.gw != nil {
		_ = p.gw.Close()
	}
	if p.rt != nil {
		if err := p.rt.Close(ctx); err != nil {
			errs = append(errs, fmt.Errorf("runtime: %w", err))
		}
	}
	if err := p.closeApps(ctx); err != nil {
		errs = append(errs, fmt.Errorf("app runtime: %w", err))
	}
	if p.rec != nil {
		p.rec.close()
	}
	if p.db != nil {
		if err := p.db.Close(); err != nil {
			errs = append(errs, fmt.Errorf("store: %w", err))
		}
	}
	p.logger.Info("platform stopped")
	return errors.Join(errs...)
}

// reconcile registers every stored server and starts those whose desired
// state is running.
func (p *Platform) reconcile(ctx context.Context) error {
	orgs, err := p.store.ListOrgs(ctx)
	if err != nil {
		return fmt.Errorf("platform: list orgs: %w", err)
	}
	for _, o := range orgs {
		deps, err := p.store.ListDeployments(ctx, o.Name, &store.ListOptions{Kind: store.KindServer})
		if err != nil {
			return fmt.Errorf("platform: list deployments of %s: %w", o.Name, err)
		}
		for _, sd := range deps {
			d, err := p.register(ctx, sd)
			if err != nil {
				// One bad deployment must not keep the others down; it
				// stays listed, can be deleted, and starting it tries again.
				p.logger.Error("cannot restore deployment", "server", sd.FullName(), "err", err)
				_, _ = p.store.UpdateStatus(ctx, sd.Org, sd.ID, store.StatusFailed, "cannot restore after a platform restart: "+err.Error())
				continue
			}
			if sd.DesiredState == store.DesiredRunning {
				if err := p.startDeployment(ctx, d, "platform restarted"); err != nil {
					p.logger.Error("cannot start deployment", "server", d.full, "err", err)
				}
				p.logger.Info("deployment restored", "server", d.full)
			} else if sd.Status != store.StatusStopped {
				_, _ = p.store.UpdateStatus(ctx, sd.Org, sd.ID, store.StatusStopped, "")
			}
		}
	}
	return nil
}

// publicAddr is the address clients use for a bound listener address.
func publicAddr(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok {
		return a.String()
	}
	ip := ta.IP
	if ip == nil || ip.IsUnspecified() {
		return fmt.Sprintf("127.0.0.1:%d", ta.Port)
	}
	return ta.String()
}

var _ runtime.Runtime = (*process.Driver)(nil)

// quieter returns logger without the records below min (unless the logger
// itself is at debug level).
func quieter(logger *slog.Logger, min slog.Level) *slog.Logger {
	if logger.Enabled(context.Background(), slog.LevelDebug) {
		return logger
	}
	return slog.New(levelHandler{min: min, Handler: logger.Handler()})
}

type levelHandler struct {
	min slog.Level
	slog.Handler
}

func (h levelHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.min && h.Handler.Enabled(ctx, l)
}

func (h levelHandler) WithAttrs(a []slog.Attr) slog.Handler {
	return levelHandler{min: h.min, Handler: h.Handler.WithAttrs(a)}
}

func (h levelHandler) WithGroup(name string) slog.Handler {
	return levelHandler{min: h.min, Handler: h.Handler.WithGroup(name)}
}
