package store_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-agent-go/mcp-agent/cloud/store"
	"github.com/mcp-agent-go/mcp-agent/cloud/store/storetest"
)

func openSQLite(t *testing.T, opts *store.Options) store.Store {
	t.Helper()
	s, err := store.Open(t.Context(), store.SQLiteDSN(filepath.Join(t.TempDir(), "state.db")), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestSQLite(t *testing.T) {
	storetest.RunSuite(t, openSQLite)
}

func TestSQLiteReopen(t *testing.T) {
	ctx := t.Context()
	dir := filepath.Join(t.TempDir(), "data") // created by Open
	dsn := store.SQLiteDSN(filepath.Join(dir, "state.db"))
	s, err := store.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	v1, err := s.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v1 < 1 {
		t.Fatalf("schema version after Open = %d", v1)
	}
	d, err := s.CreateDeployment(ctx, store.Deployment{Org: "local", Name: "fetch", Kind: store.KindServer})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// Opening again migrates nothing and keeps the data.
	s, err = store.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v2, err := s.SchemaVersion(ctx); err != nil || v2 != v1 {
		t.Errorf("schema version after reopening = %d, %v; want %d", v2, err, v1)
	}
	if got, err := s.GetDeployment(ctx, "local", store.KindServer, "fetch"); err != nil || got.ID != d.ID {
		t.Errorf("after reopening: %+v, %v", got, err)
	}
	if orgs, err := s.ListOrgs(ctx); err != nil || len(orgs) != 1 {
		t.Errorf("orgs after reopening = %+v, %v; want the default org once", orgs, err)
	}

	for _, name := range []string{"state.db", ""} {
		fi, err := os.Stat(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		want := os.FileMode(0o600)
		if name == "" {
			want = 0o700 | os.ModeDir
		}
		if fi.Mode() != want {
			t.Errorf("%s has mode %v, want %v", fi.Name(), fi.Mode(), want)
		}
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		dsn, want string
	}{
		{"mysql://root:hunter2@db/x", `store: unsupported DSN scheme "mysql": use sqlite:///path/state.db or postgres://user@host/db`},
		{"/var/lib/state.db", `store: unsupported DSN scheme "/var/lib/state.db": use sqlite:///path/state.db or postgres://user@host/db`},
		{"sqlite://", `want sqlite:///path/to/state.db (a file; in-memory databases are not supported)`},
		{"sqlite://:memory:", `in-memory databases are not supported`},
		{"sqlite://" + dir + "/a.db?synchronous=off", `synchronous must be normal or full`},
		{"sqlite://" + dir + "/a.db?busy_timeout=soon", `busy_timeout must be milliseconds`},
		{"sqlite://" + dir + "/a.db?cache=shared", `unknown parameter "cache" (known: synchronous, busy_timeout)`},
	} {
		_, err := store.Open(t.Context(), tt.dsn, nil)
		if !errors.Is(err, store.ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Open(%q) = %v, want ErrInvalid with %q", tt.dsn, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open error shows the password: %v", err)
		}
	}
	// Parameters that are accepted.
	s, err := store.Open(t.Context(), "sqlite://"+dir+"/b.db?synchronous=normal&busy_timeout=100", nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// TestRetentionLowered reopens a store with a smaller log retention: the
// lines the larger one kept are trimmed too, at the latest when the
// sequence crosses the next multiple of 1024.
func TestRetentionLowered(t *testing.T) {
	ctx := t.Context()
	dsn := store.SQLiteDSN(filepath.Join(t.TempDir(), "state.db"))
	s, err := store.Open(ctx, dsn, &store.Options{LogRetention: 100})
	if err != nil {
		t.Fatal(err)
	}
	d, err := s.CreateDeployment(ctx, store.Deployment{Org: "local", Name: "fetch", Kind: store.KindServer})
	if err != nil {
		t.Fatal(err)
	}
	lines := func(n int) []store.LogLine { return make([]store.LogLine, n) }
	if err := s.AppendLogs(ctx, "local", d.ID, lines(60)); err != nil {
		t.Fatal(err)
	}
	s.Close()

	s, err = store.Open(ctx, dsn, &store.Options{LogRetention: 5})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for range 3 {
		if err := s.AppendLogs(ctx, "local", d.ID, lines(300)); err != nil { // up to 960
			t.Fatal(err)
		}
	}
	if err := s.AppendLogs(ctx, "local", d.ID, lines(100)); err != nil { // crosses 1024
		t.Fatal(err)
	}
	got, err := s.ListLogs(ctx, "local", d.ID, &store.LogQuery{Limit: store.MaxListLimit})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, l := range got {
		seqs = append(seqs, l.Seq)
	}
	if want := []int64{1056, 1057, 1058, 1059, 1060}; !slices.Equal(seqs, want) {
		t.Errorf("retained lines %v, want %v", seqs, want)
	}
}
