package pgtest

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

// TestStartStop starts a cluster in a subtest, uses it, and checks that the
// end of the subtest stopped the server and removed its directory.
func TestStartStop(t *testing.T) {
	var c *Cluster
	t.Run("cluster", func(t *testing.T) {
		c = Start(t)
		if fi, err := os.Stat(c.SocketDir); err != nil || !fi.IsDir() {
			t.Fatalf("socket directory: %v", err)
		}
		if !strings.HasPrefix(c.SocketDir, os.TempDir()) {
			t.Errorf("socket directory %s is not under %s", c.SocketDir, os.TempDir())
		}
		a, b := c.NewDatabase(t), c.NewDatabase(t)
		if a == b {
			t.Fatalf("NewDatabase returned %s twice", a)
		}
		conn, err := pgconn.Connect(t.Context(), b)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close(context.Background())
		res, err := conn.Exec(t.Context(), "SELECT current_database(), current_setting('server_version_num')::int / 10000").ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		row := res[0].Rows[0]
		if db := string(row[0]); !strings.HasSuffix(b, "/"+db+"?sslmode=disable") {
			t.Errorf("connected to database %q with %s", db, b)
		}
		if v := string(row[1]); v != c.Version {
			t.Errorf("server major version %s, Cluster.Version %s", v, c.Version)
		}
		// The Unix socket works too.
		sock, err := pgconn.Connect(t.Context(), "host="+c.SocketDir+" port="+strconv.Itoa(c.Port)+" user=postgres dbname=postgres")
		if err != nil {
			t.Fatalf("connect over the socket: %v", err)
		}
		sock.Close(context.Background())
	})
	if c == nil {
		return // skipped
	}
	select {
	case <-c.done:
	default:
		t.Error("the server is still running after its test ended")
	}
	if _, err := os.Stat(c.SocketDir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after the test ended: %v", c.SocketDir, err)
	}
}

func TestFindEnvOverride(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("MCP_AGENT_PG_BIN", dir)
	if _, err := Find(); err == nil || !strings.Contains(err.Error(), "has no initdb and postgres") {
		t.Errorf("Find with an empty MCP_AGENT_PG_BIN = %v", err)
	}
	for _, f := range []string{"initdb", "postgres"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if got, err := Find(); err != nil || got != dir {
		t.Errorf("Find = %q, %v; want %q", got, err, dir)
	}
}

func TestMajorOf(t *testing.T) {
	for in, want := range map[string]int{"/usr/lib/postgresql/15/bin": 15, "/usr/lib/postgresql/9/bin": 9, "/usr/local/bin": 0} {
		if got := majorOf(in); got != want {
			t.Errorf("majorOf(%s) = %d, want %d", in, got, want)
		}
	}
}

func TestTailBuffer(t *testing.T) {
	b := &tailBuffer{max: 8}
	b.Write([]byte("hello "))
	b.Write([]byte("world"))
	if got := b.String(); got != "lo world" {
		t.Errorf("tail = %q, want the last 8 bytes", got)
	}
}
