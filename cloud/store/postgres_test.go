package store_test

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-agent-go/mcp-agent/cloud/store"
	"github.com/mcp-agent-go/mcp-agent/cloud/store/pgtest"
	"github.com/mcp-agent-go/mcp-agent/cloud/store/storetest"
)

func TestPostgres(t *testing.T) {
	c := pgtest.Start(t)
	t.Logf("PostgreSQL %s on port %d", c.Version, c.Port)
	storetest.RunSuite(t, func(t *testing.T, opts *store.Options) store.Store {
		s, err := store.Open(t.Context(), c.NewDatabase(t), opts)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// TestPostgresMigrate opens a new database from several stores at once (as
// platform instances starting together would): the migration runs once,
// under the advisory lock, and opening again changes nothing.
func TestPostgresMigrate(t *testing.T) {
	c := pgtest.Start(t)
	ctx := t.Context()
	dsn := c.NewDatabase(t)
	const n = 4
	stores := make([]*store.DB, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { stores[i], errs[i] = store.Open(ctx, dsn, nil) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("concurrent Open %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	v1, err := stores[0].SchemaVersion(ctx)
	if err != nil || v1 < 1 {
		t.Fatalf("SchemaVersion = %d, %v", v1, err)
	}
	if _, err := stores[0].CreateDeployment(ctx, store.Deployment{Org: "local", Name: "fetch", Kind: store.KindServer}); err != nil {
		t.Fatal(err)
	}
	s, err := store.Open(ctx, dsn, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if v2, err := s.SchemaVersion(ctx); err != nil || v2 != v1 {
		t.Errorf("schema version after reopening = %d, %v; want %d", v2, err, v1)
	}
	orgs, err := s.ListOrgs(ctx)
	if err != nil || len(orgs) != 1 {
		t.Errorf("orgs = %+v, %v; want the default org once", orgs, err)
	}
	if _, err := s.GetDeployment(ctx, "local", store.KindServer, "fetch"); err != nil {
		t.Errorf("after reopening: %v", err)
	}
}

func TestPostgresConnectError(t *testing.T) {
	c := pgtest.Start(t)
	_, err := store.Open(t.Context(), strings.Replace(c.DSN("nope"), "postgres@", "postgres:hunter2@", 1), nil)
	if err == nil || !strings.Contains(err.Error(), `store: connect to postgres`) || !strings.Contains(err.Error(), `database "nope" does not exist`) {
		t.Errorf("Open of a missing database = %v, want a connect error naming it", err)
	}
	if err != nil && strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error shows the password: %v", err)
	}
	if errors.Is(err, store.ErrInvalid) {
		t.Errorf("a connect error is not ErrInvalid: %v", err)
	}
}
