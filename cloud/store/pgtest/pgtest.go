// Package pgtest starts a throwaway PostgreSQL server for tests, from the
// PostgreSQL installed on the machine (scripts/setup-postgres installs it
// from Debian's packages).
//
//	func TestSomething(t *testing.T) {
//		c := pgtest.Start(t)      // skipped when PostgreSQL is not installed
//		dsn := c.NewDatabase(t)   // a fresh, empty database
//		s, err := store.Open(t.Context(), dsn, nil)
//		...
//	}
//
// Start runs initdb into a new temporary directory and starts the server in
// the foreground as a child of the test, listening on a free loopback port
// and on a Unix socket in that directory, with durability turned off
// (fsync=off) since the data is thrown away. The server is stopped and the
// directory removed when the test ends; if the test binary dies, the kernel
// kills the server (parent-death signal). PostgreSQL refuses to run as
// root, so as root the server runs as the "postgres" user (or "nobody").
//
// When PostgreSQL is not installed the test is skipped, unless
// MCP_AGENT_REQUIRE_TOOLS=1, which makes it fail with the fix.
// MCP_AGENT_PG_BIN names the directory of initdb and postgres when they are
// somewhere unusual.
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Cluster is a running throwaway PostgreSQL server. Its superuser is
// "postgres", with trust authentication on loopback and the socket.
type Cluster struct {
	// Port is the loopback TCP port; SocketDir holds the Unix socket.
	Port      int
	SocketDir string
	// Version is the PostgreSQL major version ("15").
	Version string

	cmd    *exec.Cmd
	done   chan struct{} // closed when the server exits
	output *tailBuffer
	dbs    atomic.Int64
}

// DSN returns the URL of database db on the cluster.
func (c *Cluster) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", c.Port, db)
}

// NewDatabase creates a new, empty database and returns its URL.
func (c *Cluster) NewDatabase(tb testing.TB) string {
	tb.Helper()
	name := fmt.Sprintf("test_%d", c.dbs.Add(1))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgconn.Connect(ctx, c.DSN("postgres"))
	if err != nil {
		tb.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name).ReadAll(); err != nil {
		tb.Fatalf("pgtest: create database: %v", err)
	}
	return c.DSN(name)
}

// Find returns the directory holding initdb and postgres: MCP_AGENT_PG_BIN,
// else the newest /usr/lib/postgresql/*/bin, else the directory of initdb
// in PATH when postgres is next to it (following symlinks).
func Find() (string, error) {
	if dir := os.Getenv("MCP_AGENT_PG_BIN"); dir != "" {
		if !hasServer(dir) {
			return "", fmt.Errorf("MCP_AGENT_PG_BIN=%s has no initdb and postgres", dir)
		}
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int { return majorOf(b) - majorOf(a) })
	for _, dir := range dirs {
		if hasServer(dir) {
			return dir, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		if p, err = filepath.EvalSymlinks(p); err == nil && hasServer(filepath.Dir(p)) {
			return filepath.Dir(p), nil
		}
	}
	return "", errors.New("PostgreSQL is not installed (no initdb and postgres under /usr/lib/postgresql/*/bin or in PATH): run scripts/setup-postgres")
}

func hasServer(dir string) bool {
	for _, f := range []string{"initdb", "postgres"} {
		if fi, err := os.Stat(filepath.Join(dir, f)); err != nil || fi.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// majorOf returns N of /usr/lib/postgresql/N/bin (0 when not a number).
func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

// Options configures a cluster. The zero value is what tests want.
type Options struct {
	// Durable keeps PostgreSQL's fsync and synchronous commit on (the
	// default turns them off: the data is thrown away). For benchmarks.
	Durable bool
}

// Start starts a cluster for tb, stopped when tb ends. It skips tb when
// PostgreSQL is not installed (fails with MCP_AGENT_REQUIRE_TOOLS=1).
func Start(tb testing.TB) *Cluster {
	tb.Helper()
	return StartWith(tb, nil)
}

// StartWith is Start with options; opts may be nil.
func StartWith(tb testing.TB, opts *Options) *Cluster {
	tb.Helper()
	if opts == nil {
		opts = &Options{}
	}
	bin, err := Find()
	if err != nil {
		if os.Getenv("MCP_AGENT_REQUIRE_TOOLS") == "1" {
			tb.Fatalf("pgtest: %v (MCP_AGENT_REQUIRE_TOOLS=1)", err)
		}
		tb.Skipf("pgtest: %v", err)
	}
	cred, err := runAs()
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	// Not t.TempDir: its parents are private to root, and the server may
	// run as another user.
	dir, err := os.MkdirTemp("", "pgtest-")
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			tb.Fatalf("pgtest: %v", err)
		}
	}
	data := filepath.Join(dir, "data")
	initdb := command(bin, "initdb", cred, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	if out, err := initdb.CombinedOutput(); err != nil {
		tb.Fatalf("pgtest: initdb: %v\n%s", err, out)
	}

	var lastErr error
	for range 3 { // a free port may be taken before the server binds it
		c, err := start(bin, dir, data, cred, opts.Durable)
		if err == nil {
			c.Version = strconv.Itoa(majorOf(bin))
			tb.Cleanup(c.stop)
			return c
		}
		lastErr = err
	}
	tb.Fatalf("pgtest: %v", lastErr)
	return nil
}

// runAs returns the credential to run PostgreSQL with: nil when not root,
// else the postgres user (or nobody).
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
		gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
	}
	return nil, errors.New(`running as root, and there is no "postgres" or "nobody" user to run PostgreSQL as (it refuses to run as root): create one, or run the tests as another user`)
}

func command(bin, name string, cred *syscall.Credential, args ...string) *exec.Cmd {
	cmd := exec.Command(filepath.Join(bin, name), args...)
	cmd.Env = []string{"LANG=C", "LC_ALL=C", "PATH=/usr/bin:/bin", "TZ=UTC"}
	cmd.Dir = "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
	return cmd
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func start(bin, dir, data string, cred *syscall.Credential, durable bool) (*Cluster, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	c := &Cluster{Port: port, SocketDir: dir, done: make(chan struct{}), output: &tailBuffer{max: 64 << 10}}
	args := []string{"-D", data, "-p", strconv.Itoa(port), "-h", "127.0.0.1", "-k", dir,
		"-c", "shared_buffers=32MB", "-c", "max_connections=200"}
	if !durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	c.cmd = command(bin, "postgres", cred, args...)
	c.cmd.Stdout, c.cmd.Stderr = c.output, c.output
	if err := c.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	go func() {
		c.cmd.Wait()
		close(c.done)
	}()
	// Wait until it accepts connections, it exits, or 60s pass.
	deadline := time.Now().Add(60 * time.Second)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		conn, err := pgconn.Connect(ctx, c.DSN("postgres"))
		cancel()
		if err == nil {
			conn.Close(context.Background())
			return c, nil
		}
		select {
		case <-c.done:
			return nil, fmt.Errorf("postgres exited: %v\n%s", c.cmd.ProcessState, c.output)
		case <-tick.C:
		}
		if time.Now().After(deadline) {
			c.stop()
			return nil, fmt.Errorf("postgres did not accept connections within 60s: %v\n%s", err, c.output)
		}
	}
}

// stop shuts the server down (fast shutdown: SIGINT), killing it if it has
// not exited after 30s.
func (c *Cluster) stop() {
	c.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-c.done:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-c.done
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf.Write(p)
	if over := b.buf.Len() - b.max; over > 0 {
		b.buf.Next(over)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.TrimSpace(b.buf.String())
}
