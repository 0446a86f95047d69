// Package storetest is the behaviour every store.Store must have, as one
// test suite that each driver runs:
//
//	func TestSQLite(t *testing.T) {
//		storetest.RunSuite(t, func(t *testing.T, opts *store.Options) store.Store {
//			s, err := store.Open(t.Context(), store.SQLiteDSN(filepath.Join(t.TempDir(), "state.db")), opts)
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Cleanup(func() { s.Close() })
//			return s
//		})
//	}
//
// open must return a fresh, empty store (with only the default org) opened
// with opts each time it is called.
package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/mcp-agent-go/mcp-agent/cloud/store"
)

// OpenFunc opens a fresh store with opts (which may be nil) for t, closed
// when t ends.
type OpenFunc func(t *testing.T, opts *store.Options) store.Store

// RunSuite runs every test of the suite as a subtest of t.
func RunSuite(t *testing.T, open OpenFunc) {
	tests := []struct {
		name string
		fn   func(*testing.T, OpenFunc)
	}{
		{"Orgs", testOrgs},
		{"CreateGet", testCreateGet},
		{"CreateErrors", testCreateErrors},
		{"CreateConcurrently", testCreateConcurrently},
		{"List", testList},
		{"Status", testStatus},
		{"DesiredState", testDesiredState},
		{"Delete", testDelete},
		{"Purge", testPurge},
		{"Versions", testVersions},
		{"Events", testEvents},
		{"EventRetention", testEventRetention},
		{"Logs", testLogs},
		{"LogRetention", testLogRetention},
		{"ConcurrentWriters", testConcurrentWriters},
		{"UsersAndKeys", testUsersAndKeys},
		{"TenantIsolation", testTenantIsolation},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, open) })
	}
}

// wantErr fails unless err wraps sentinel and its message is msg.
func wantErr(t *testing.T, err, sentinel error, msg string) {
	t.Helper()
	if !errors.Is(err, sentinel) {
		t.Fatalf("error = %v, want %v", err, sentinel)
	}
	if msg != "" && err.Error() != msg {
		t.Fatalf("error message = %q, want %q", err.Error(), msg)
	}
}

func mustCreate(t *testing.T, s store.Store, d store.Deployment) store.Deployment {
	t.Helper()
	if d.Org == "" {
		d.Org = store.DefaultOrg
	}
	if d.Kind == "" {
		d.Kind = store.KindServer
	}
	got, err := s.CreateDeployment(t.Context(), d)
	if err != nil {
		t.Fatalf("CreateDeployment(%s): %v", d.Name, err)
	}
	return got
}

func events(t *testing.T, s store.Store, org string, q *store.EventQuery) []store.Event {
	t.Helper()
	evs, err := s.ListEvents(t.Context(), org, q)
	if err != nil {
		t.Fatalf("ListEvents: %v", err)
	}
	return evs
}

func eventKinds(evs []store.Event) []string {
	var kinds []string
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	return kinds
}

func testOrgs(t *testing.T, open OpenFunc) {
	s := open(t, nil)
	ctx := t.Context()
	orgs, err := s.ListOrgs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(orgs) != 1 || orgs[0].Name != store.DefaultOrg || orgs[0].CreatedAt.IsZero() {
		t.Fatalf("ListOrgs of a new store = %+v, want only %q with a creation time", orgs, store.DefaultOrg)
	}
	acme, err := s.CreateOrg(ctx, "acme")
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.CreateOrg(ctx, "acme")
	wantErr(t, err, store.ErrConflict, `org "acme" already exists`)
	for _, bad := range []string{"", "Acme", "a.b", "-a", strings.Repeat("a", 64)} {
		_, err = s.CreateOrg(ctx, bad)
		wantErr(t, err, store.ErrInvalid, "")
		if !strings.Contains(err.Error(), fmt.Sprintf("invalid org name %q", bad)) {
			t.Errorf("CreateOrg(%q) error %q does not name the org", bad, err)
		}
	}
	orgs, err = s.ListOrgs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"acme", "local"}, []string{orgs[0].Name, orgs[1].Name}); len(orgs) != 2 || diff != "" {
		t.Fatalf("ListOrgs = %+v", orgs)
	}
	if !orgs[0].CreatedAt.Equal(acme.CreatedAt) {
		t.Errorf("acme created at %v, listed with %v", acme.CreatedAt, orgs[0].CreatedAt)
	}
}

func fullSpec() store.Spec {
	return store.Spec{
		Type:         "filesystem",
		Command:      "mcp-agent",
		Args:         []string{"builtin", "filesystem", "--root", "/srv/data"},
		Env:          map[string]string{"LOG_LEVEL": "debug", "B": "2"},
		SecretEnv:    []string{"API_TOKEN"},
		AllowedPaths: []store.AllowedPath{{Path: "/srv/data", Mode: "rw"}, {Path: "/etc/ssl"}},
		EgressAllow:  []string{"api.example.com:443", "*.github.com"},
		Limits:       store.Limits{MemoryBytes: 256 << 20, CPUSeconds: 60, OpenFiles: 256, Processes: 32, CallTimeoutSeconds: 30.5},
		Mode:         store.ModePerSession,
		Public:       true,
	}
}

func testCreateGet(t *testing.T, open OpenFunc) {
	s := open(t, nil)
	ctx := t.Context()
	before := time.Now().Add(-time.Second)
	d, err := s.CreateDeployment(ctx, store.Deployment{
		Org: "local", Name: "files", Kind: store.KindServer, Spec: fullSpec(),
		Endpoint: "http://127.0.0.1:8750/servers/local.files/mcp",
		// Set by the store: ignored.
		ID: "dep_mine", Status: store.StatusRunning, Version: 7,
	})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(d.ID, "dep_") || d.ID == "dep_mine" || len(d.ID) != 20 {
		t.Errorf("ID = %q, want dep_ and 16 characters assigned by the store", d.ID)
	}
	want := store.Deployment{
		ID: d.ID, Org: "local", Name: "files", Kind: store.KindServer, Spec: fullSpec(),
		Status: store.StatusPending, DesiredState: store.DesiredRunning,
		Endpoint: "http://127.0.0.1:8750/servers/local.files/mcp",
		Version:  1, Digest: store.SpecDigest(fullSpec()),
		CreatedAt: d.CreatedAt, UpdatedAt: d.CreatedAt,
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("CreateDeployment returned (-want +got):\n%s", diff)
	}
	if d.CreatedAt.Before(before) || d.CreatedAt.Location() != time.UTC || d.CreatedAt.Nanosecond()%1000 != 0 {
		t.Errorf("CreatedAt = %v, want now in UTC at microsecond precision", d.CreatedAt)
	}
	if d.FullName() != "local.files" {
		t.Errorf("FullName = %q", d.FullName())
	}
	for _, get := range []func() (store.Deployment, error){
		func() (store.Deployment, error) { return s.GetDeployment(ctx, "local", store.KindServer, "files") },
		func() (store.Deployment, error) { return s.GetDeployment(ctx, "local", "", "files") },
		func() (store.Deployment, error) { return s.GetDeploymentByID(ctx, "local", d.ID) },
	} {
		got, err := get()
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("read back (-want +got):\n%s", diff)
		}
	}
	evs := events(t, s, "local", &store.EventQuery{DeploymentID: d.ID})
	if len(evs) != 1 || evs[0].Kind != store.EventCreated || evs[0].Message != "server local.files created" || evs[0].Org != "local" || !evs[0].Time.Equal(d.CreatedAt) {
		t.Errorf("events after create = %+v, want one %q event at the creation time", evs, store.EventCreated)
	}

	// Explicit digest and desired state; an app.
	app, err := s.CreateDeployment(ctx, store.Deployment{Org: "local", Name: "finder", Kind: store.KindApp,
		Digest: "sha256:abc", DesiredState: store.DesiredStopped})
	if err != nil {
		t.Fatal(err)
	}
	if app.Digest != "sha256:abc" || app.DesiredState != store.DesiredStopped || app.Kind != store.KindApp {
		t.Errorf("app = %+v", app)
	}

	_, err = s.GetDeployment(ctx, "local", store.KindServer, "nope")
	wantErr(t, err, store.ErrNotFound, `server "local.nope" not found`)
	_, err = s.GetDeployment(ctx, "local", store.KindApp, "files") // exists, but is a server
	wantErr(t, err, store.ErrNotFound, `app "local.files" not found`)
	_, err = s.GetDeployment(ctx, "local", "", "nope")
	wantErr(t, err, store.ErrNotFound, `deployment "local.nope" not found`)
	_, err = s.GetDeploymentByID(ctx, "local", "dep_nope")
	wantErr(t, err, store.ErrNotFound, `deployment "dep_nope" not found in org "local"`)
}

func testCreateErrors(t *testing.T, open OpenFunc) {
	s := open(t, nil)
	ctx := t.Context()
	mustCreate(t, s, store.Deployment{Name: "fetch"})
	_, err := s.CreateDeployment(ctx, store.Deployment{Org: "local", Name: "fetch", Kind: store.KindServer})
	wantErr(t, err, store.ErrConflict, `server "local.fetch" already exists`)
	// One namespace for every kind: the message names the existing one.
	_, err = s.CreateDeployment(ctx, store.Deployment{Org: "local", Name: "fetch", Kind: store.KindApp})
	wantErr(t, err, store.ErrConflict, `server "local.fetch" already exists`)

	_, err = s.CreateDeployment(ctx, store.Deployment{Org: "nope", Name: "fetch", Kind: store.KindServer})
	wantErr(t, err, store.ErrNotFound, `org "nope" not found`)
	_, err = s.CreateDeployment(ctx, store.Deployment{Org: "local", Name: "x", Kind: "container"})
	wantErr(t, err, store.ErrInvalid, `invalid deployment kind "container": use "server" or "app"`)
	_, err = s.CreateDeployment(ctx, store.Deployment{Org: "local", Name: "x", Kind: store.KindServer, DesiredState: "paused"})
	wantErr(t, err, store.ErrInvalid, `invalid desired state "paused": use "running" or "stopped"`)
	for _, bad := range []string{"", "a.b", "Fetch", "_x", "a b", strings.Repeat("x", 64)} {
		_, err = s.CreateDeployment(ctx, store.Deployment{Org: "local", Name: bad, Kind: store.KindServer})
		wantErr(t, err, store.ErrInvalid, fmt.Sprintf(`invalid server name %q: use lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 63 characters`, bad))
	}
	_, err = s.CreateDeployment(ctx, store.Deployment{Org: "", Name: "x", Kind: store.KindServer})
	wantErr(t, err, store.ErrInvalid, "")
	// Nothing of the failed attempts was stored.
	list, err := s.ListDeployments(ctx, "local", nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 {
		t.Errorf("ListDeployments after failed creates = %d deployments, want 1", len(list))
	}
}

func testCreateConcurrently(t *testing.T, open OpenFunc) {
	s := open(t, nil)
	const n = 8
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			_, errs[i] = s.CreateDeployment(t.Context(), store.Deployment{Org: "local", Name: "same", Kind: store.KindServer})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case errors.Is(err, store.ErrConflict):
		default:
			t.Errorf("concurrent create: %v", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent creates of one name succeeded, want 1", ok, n)
	}
}

func names(ds []store.Deployment) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Name)
	}
	return out
}

func testList(t *testing.T, open OpenFunc) {
	s := open(t, nil)
	ctx := t.Context()
	c := mustCreate(t, s, store.Deployment{Name: "c"})
	mustCreate(t, s, store.Deployment{Name: "a", Kind: store.KindApp})
	b := mustCreate(t, s, store.Deployment{Name: "b", DesiredState: store.DesiredStopped})
	d := mustCreate(t, s, store.Deployment{Name: "d"})
	if _, err := s.UpdateStatus(ctx, "local", c.ID, store.StatusRunning, ""); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDeployment(ctx, "local", d.ID); err != nil {
		t.Fatal(err)
	}
	_ = b
	for _, tt := range []struct {
		opts *store.ListOptions
		want []string
	}{
		{nil, []string{"a", "b", "c"}},
		{&store.ListOptions{Kind: store.KindServer}, []string{"b", "c"}},
		{&store.ListOptions{Kind: store.KindApp}, []string{"a"}},
		{&store.ListOptions{Status: store.StatusRunning}, []string{"c"}},
		{&store.ListOptions{Status: store.StatusPending}, []string{"a", "b"}},
		{&store.ListOptions{DesiredState: store.DesiredRunning}, []string{"a", "c"}},
		{&store.ListOptions{DesiredState: store.DesiredStopped}, []string{"b"}},
		{&store.ListOptions{IncludeDeleted: true}, []string{"a", "b", "c", "d"}},
		{&store.ListOptions{Status: store.StatusDeleted, IncludeDeleted: true}, []string{"d"}},
		{&store.ListOptions{Limit: 2}, []string{"a", "b"}},
		{&store.ListOptions{After: "b", Limit: 2}, []string{"c"}},
		{&store.ListOptions{After: "c"}, nil},
	} {
		got, err := s.ListDeployments(ctx, "local", tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, names(got)); diff != "" {
			t.Errorf("ListDeployments(%+v) (-want +got):\n%s", tt.opts, diff)
		}
	}
}

func testStatus(t *testing.T, open OpenFunc) {
	s := open(t, nil)
	ctx := t.Context()
	d := mustCreate(t, s, store.Deployment{Name: "fetch"})
	got, err := s.UpdateStatus(ctx, "local", d.ID, store.StatusStarting, "")
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != store.StatusStarting || got.UpdatedAt.Before(d.UpdatedAt) {
		t.Errorf("after UpdateStatus: %+v", got)
	}
	if _, err := s.UpdateStatus(ctx, "local", d.ID, store.StatusFailed, "exit status 1"); err != nil {
		t.Fatal(err)
	}
	// The same status and message again: no change, no event.
	if _, err := s.UpdateStatus(ctx, "local", d.ID, store.StatusFailed, "exit status 1"); err != nil {
		t.Fatal(err)
	}
	// A new message for the same status: stored, no event.
	got, err = s.UpdateStatus(ctx, "local", d.ID, store.StatusFailed, "exit status 2")
	if err != nil {
		t.Fatal(err)
	}
	if got.StatusMessage != "exit status 2" {
		t.Errorf("StatusMessage = %q", got.StatusMessage)
	}
	read, err := s.GetDeploymentByID(ctx, "local", d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, read); diff != "" {
		t.Errorf("UpdateStatus result differs from what is stored (-returned +read):\n%s", diff)
	}
	evs := events(t, s, "local", &store.EventQuery{DeploymentID: d.ID})
	if diff := cmp.Diff([]string{"created", "status", "status"}, eventKinds(evs)); diff != "" {
		t.Fatalf("event kinds (-want +got):\n%s", diff)
	}
	if evs[2].Message != "starting -> failed: exit status 1" {
		t.Errorf("status event message = %q", evs[2].Message)
	}
	var data map[string]string
	if err := json.Unmarshal(evs[2].Data, &data); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]string{"from": "starting", "to": "failed", "message": "exit status 1"}, data); diff != "" {
		t.Errorf("status event data (-want +got):\n%s", diff)
	}

	_, err = s.UpdateStatus(ctx, "local", d.ID, "sleeping", "")
	wantErr(t, err, store.ErrInvalid, `invalid status "sleeping": use one of [pending starting running stopped failed]`)
	_, err = s.UpdateStatus(ctx, "local", d.ID, store.StatusDeleted, "")
	wantErr(t, err, store.ErrInvalid, `status "deleted" is set by deleting the deployment`)
	_, err = s.UpdateStatus(ctx, "local", "dep_nope", store.StatusRunning, "")
	wantErr(t, err, store.ErrNotFound, `deployment "dep_nope" not found in org "local"`)
}

func testDesiredState(t *testing.T, open OpenFunc) {
	s := open(t, nil)
	ctx := t.Context()
	d := mustCreate(t, s, store.Deployment{Name: "fetch"})
	got, err := s.SetDesiredState(ctx, "local", d.ID, store.DesiredStopped)
	if err != nil {
		t.Fatal(err)
	}
	if got.DesiredState != store.DesiredStopped {
		t.Errorf("DesiredState = %q", got.DesiredState)
	}
	if _, err := s.SetDesiredState(ctx, "local", d.ID, store.DesiredStopped); err != nil {
		t.Fatal(err)
	}
	running, err := s.ListDeployments(ctx, "local", &store.ListOptions{DesiredState: store.DesiredRunning})
	if err != nil {
		t.Fatal(err)
	}
	if len(running) != 0 {
		t.Errorf("deployments to restore = %v, want none", names(running))
	}
	evs := events(t, s, "local", &store.EventQuery{DeploymentID: d.ID})
	if diff := cmp.Diff([]string{"created", "desired_state"}, eventKinds(evs)); diff != "" {
		t.Errorf("event kinds (-want +got):\n%s", diff)
	}
	_, err = s.SetDesiredState(ctx, "local", d.ID, "paused")
	wantErr(t, err, store.ErrInvalid, `invalid desired state "paused": use "running" or "stopped"`)
}

func testDelete(t *testing.T, open OpenFunc) {
	s := open(t, nil)
	ctx := t.Context()
	d := mustCreate(t, s, store.Deployment{Name: "fetch"})
	if err := s.AppendLogs(ctx, "local", d.ID, []store.LogLine{{Line: "hello"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDeployment(ctx, "local", d.ID); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetDeployment(ctx, "local", store.KindServer, "fetch")
	wantErr(t, err, store.ErrNotFound, `server "local.fetch" not found`)
	gone, err := s.GetDeploymentByID(ctx, "local", d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if gone.Status != store.StatusDeleted || gone.DesiredState != store.DesiredStopped || gone.DeletedAt.IsZero() {
		t.Errorf("deleted deployment = %+v", gone)
	}
	// The history stays readable.
	evs := events(t, s, "local", &store.EventQuery{DeploymentID: d.ID})
	if diff := cmp.Diff([]string{"created", "deleted"}, eventKinds(evs)); diff != "" {
		t.Errorf("event kinds (-want +got):\n%s", diff)
	}
	logs, err := s.ListLogs(ctx, "local", d.ID, nil)
	if err != nil || len(logs) != 1 {
		t.Errorf("logs of a deleted deployment = %v, %v; want the one line", logs, err)
	}
	// But it takes no more changes.
	wantDeleted := fmt.Sprintf("deployment %q (local.fetch) was deleted", d.ID)
	err = s.DeleteDeployment(ctx, "local", d.ID)
	wantErr(t, err, store.ErrNotFound, wantDeleted)
	_, err = s.UpdateStatus(ctx, "local", d.ID, store.StatusRunning, "")
	wantErr(t, err, store.ErrNotFound, wantDeleted)
	_, err = s.SetDesiredState(ctx, "local", d.ID, store.DesiredRunning)
	wantErr(t, err, store.ErrNotFound, wantDeleted)
	_, err = s.AddVersion(ctx, "local", d.ID, store.DeploymentVersion{})
	wantErr(t, err, store.ErrNotFound, wantDeleted)
	_, err = s.AppendEvent(ctx, "local", store.Event{DeploymentID: d.ID, Kind: "exit"})
	wantErr(t, err, store.ErrNotFound, "")
	err = s.AppendLogs(ctx, "local", d.ID, []store.LogLine{{Line: "late"}})
	wantErr(t, err, store.ErrNotFound, "")
	err = s.DeleteDeployment(ctx, "local", "dep_nope")
	wantErr(t, err, store.ErrNotFound, `deployment "dep_nope" not found in org "local"`)

	// The name is free at once, for a new deployment with a new ID.
	again := mustCreate(t, s, store.Deployment{Name: "fetch", Kind: store.KindApp})
	if again.ID == d.ID {
		t.Fatal("a re-created deployment reused the deleted one's ID")
	}
	got, err := s.GetDeployment(ctx, "local", "", "fetch")
	if err != nil || got.ID != again.ID {
		t.Errorf("GetDeployment after re-create = %+v, %v; want the new one", got, err)
	}
	all, err := s.ListDeployments(ctx, "local", &store.ListOptions{IncludeDeleted: true})
	if err != nil || len(all) != 2 {
		t.Errorf("ListDeployments(IncludeDeleted) = %v, %v; want both", names(all), err)
	}
}

func testPurge(t *testing.T, open OpenFunc) {
	s := open(t, nil)
	ctx := t.Context()
	old := mustCreate(t, s, store.Deployment{Name: "old"})
	kept := mustCreate(t, s, store.Deployment{Name: "kept"})
	live := mustCreate(t, s, store.Deployment{Name: "live"})
	if err := s.AppendLogs(ctx, "local", old.ID, []store.LogLine{{Line: "x"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDeployment(ctx, "local", old.ID); err != nil {
		t.Fatal(err)
	}
	deletedOld, err := s.GetDeploymentByID(ctx, "local", old.ID)
	if err != nil {
		t.Fatal(err)
	}
	cut := deletedOld.DeletedAt.Add(time.Microsecond)
	n, err := s.PurgeDeleted(ctx, "local", cut)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Errorf("PurgeDeleted = %d, want 1", n)
	}
	// Deleted after the cut: kept by this purge, removed by a later one.
	if err := s.DeleteDeployment(ctx, "local", kept.ID); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeDeleted(ctx, "local", cut); err != nil || n != 0 {
		t.Errorf("second PurgeDeleted = %d, %v; want 0", n, err)
	}
	_, err = s.GetDeploymentByID(ctx, "local", old.ID)
	wantErr(t, err, store.ErrNotFound, "")
	_, err = s.ListEvents(ctx, "local", &store.EventQuery{DeploymentID: old.ID})
	wantErr(t, err, store.ErrNotFound, "")
	_, err = s.ListLogs(ctx, "local", old.ID, nil)
	wantErr(t, err, store.ErrNotFound, "")
	for _, e := range events(t, s, "local", nil) {
		if e.DeploymentID == old.ID {
			t.Errorf("event %+v of a purged deployment is still listed", e)
		}
	}
	for _, id := range []string{kept.ID, live.ID} {
		if _, err := s.GetDeploymentByID(ctx, "local", id); err != nil {
			t.Errorf("purge removed %s: %v", id, err)
		}
	}
}

func testVersions(t *testing.T, open OpenFunc) {
	s := open(t, nil)
	ctx := t.Context()
	spec1 := store.Spec{Command: "srv", Args: []string{"v1"}}
	d := mustCreate(t, s, store.Deployment{Name: "app", Kind: store.KindApp, Spec: spec1, Digest: "sha256:one"})
	spec2 := store.Spec{Command: "srv", Args: []string{"v2"}}
	v2, err := s.AddVersion(ctx, "local", d.ID, store.DeploymentVersion{Spec: spec2, Digest: "sha256:two"})
	if err != nil {
		t.Fatal(err)
	}
	if v2.Version != 2 || v2.DeploymentID != d.ID || v2.Digest != "sha256:two" || v2.CreatedAt.IsZero() {
		t.Errorf("AddVersion = %+v", v2)
	}
	v3, err := s.AddVersion(ctx, "local", d.ID, store.DeploymentVersion{Spec: store.Spec{URL: "http://127.0.0.1:9/mcp"}})
	if err != nil {
		t.Fatal(err)
	}
	if v3.Version != 3 || v3.Digest != store.SpecDigest(store.Spec{URL: "http://127.0.0.1:9/mcp"}) {
		t.Errorf("third version = %+v, want version 3 with the spec's digest", v3)
	}
	// Adding does not activate.
	cur, err := s.GetDeploymentByID(ctx, "local", d.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Version != 1 || cur.Digest != "sha256:one" {
		t.Errorf("after AddVersion the deployment is at version %d (%s), want 1", cur.Version, cur.Digest)
	}
	vs, err := s.ListVersions(ctx, "local", d.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := []store.DeploymentVersion{
		{DeploymentID: d.ID, Version: 1, Digest: "sha256:one", Spec: spec1, CreatedAt: d.CreatedAt},
		v2, v3,
	}
	if diff := cmp.Diff(want, vs); diff != "" {
		t.Errorf("ListVersions (-want +got):\n%s", diff)
	}

	got, err := s.ActivateVersion(ctx, "local", d.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if got.Version != 2 || got.Digest != "sha256:two" || !cmp.Equal(got.Spec, spec2) {
		t.Errorf("after ActivateVersion(2): %+v", got)
	}
	read, err := s.GetDeployment(ctx, "local", store.KindApp, "app")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, read); diff != "" {
		t.Errorf("ActivateVersion result differs from what is stored (-returned +read):\n%s", diff)
	}
	// Rollback.
	if got, err = s.ActivateVersion(ctx, "local", d.ID, 1); err != nil || got.Version != 1 || !cmp.Equal(got.Spec, spec1) {
		t.Errorf("rollback to 1 = %+v, %v", got, err)
	}
	if _, err = s.ActivateVersion(ctx, "local", d.ID, 1); err != nil { // no change, no event
		t.Fatal(err)
	}
	evs := events(t, s, "local", &store.EventQuery{DeploymentID: d.ID})
	if diff := cmp.Diff([]string{"created", "version", "version"}, eventKinds(evs)); diff != "" {
		t.Errorf("event kinds (-want +got):\n%s", diff)
	}
	if evs[2].Message != "version 2 -> 1" {
		t.Errorf("rollback event message = %q", evs[2].Message)
	}
	_, err = s.ActivateVersion(ctx, "local", d.ID, 9)
	wantErr(t, err, store.ErrNotFound, `version 9 of app "local.app" not found`)
	_, err = s.ListVersions(ctx, "local", "dep_nope")
	wantErr(t, err, store.ErrNotFound, "")
}

func testEvents(t *testing.T, open OpenFunc) {
	s := open(t, nil)
	ctx := t.Context()
	a := mustCreate(t, s, store.Deployment{Name: "a"})
	b := mustCreate(t, s, store.Deployment{Name: "b"})
	t0 := time.Date(2030, 1, 2, 3, 4, 5, 123456789, time.FixedZone("X", 3600))
	e, err := s.AppendEvent(ctx, "local", store.Event{DeploymentID: a.ID, Time: t0, Kind: "restart", Message: "restarted after exit status 1",
		Data: json.RawMessage(`{"attempt": 2, "backoff_ms": 400}`)})
	if err != nil {
		t.Fatal(err)
	}
	if e.ID == 0 || e.Org != "local" || !e.Time.Equal(t0.Truncate(time.Microsecond)) || e.Time.Location() != time.UTC {
		t.Errorf("AppendEvent = %+v, want an ID, the org, and the time in UTC at microsecond precision", e)
	}
	var last store.Event
	for i := range 5 {
		last, err = s.AppendEvent(ctx, "local", store.Event{DeploymentID: b.ID, Kind: "tick", Message: fmt.Sprint(i)})
		if err != nil {
			t.Fatal(err)
		}
		if last.Time.IsZero() {
			t.Fatal("AppendEvent with a zero time did not set it")
		}
	}

	evs := events(t, s, "local", &store.EventQuery{DeploymentID: a.ID})
	if len(evs) != 2 {
		t.Fatalf("events of a = %+v", evs)
	}
	got := evs[1]
	var data map[string]int
	if err := json.Unmarshal(got.Data, &data); err != nil || data["attempt"] != 2 || data["backoff_ms"] != 400 {
		t.Errorf("event data read back = %s (%v)", got.Data, err)
	}
	got.Data = e.Data
	if diff := cmp.Diff(e, got); diff != "" {
		t.Errorf("event read back (-appended +read):\n%s", diff)
	}

	all := events(t, s, "local", nil)
	if len(all) != 8 { // 2 created + restart + 5 ticks
		t.Fatalf("all events = %d, want 8", len(all))
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Fatalf("events not in ID order: %d after %d", all[i].ID, all[i-1].ID)
		}
	}
	msgs := func(evs []store.Event) []string {
		var out []string
		for _, e := range evs {
			out = append(out, e.Message)
		}
		return out
	}
	bq := func(q store.EventQuery) []string {
		q.DeploymentID = b.ID
		return msgs(events(t, s, "local", &q))
	}
	ticks := events(t, s, "local", &store.EventQuery{DeploymentID: b.ID})[1:]
	for _, tt := range []struct {
		name string
		q    store.EventQuery
		want []string
	}{
		{"limit", store.EventQuery{Limit: 2}, []string{"server local.b created", "0"}},
		{"after", store.EventQuery{After: ticks[2].ID}, []string{"3", "4"}},
		{"tail", store.EventQuery{Limit: 2, Tail: true}, []string{"3", "4"}},
		{"after+tail", store.EventQuery{After: ticks[0].ID, Limit: 10, Tail: true}, []string{"1", "2", "3", "4"}},
		{"since", store.EventQuery{Since: ticks[4].Time}, nil}, // filled below
	} {
		if tt.name == "since" {
			// Every event at or after the last tick's time.
			for _, tk := range ticks {
				if !tk.Time.Before(ticks[4].Time) {
					tt.want = append(tt.want, tk.Message)
				}
			}
		}
		if diff := cmp.Diff(tt.want, bq(tt.q)); diff != "" {
			t.Errorf("ListEvents %s (-want +got):\n%s", tt.name, diff)
		}
	}
	if got := events(t, s, "local", &store.EventQuery{Since: t0.Add(time.Second)}); len(got) != 0 {
		t.Errorf("events since a future time = %d, want 0", len(got))
	}

	_, err = s.AppendEvent(ctx, "local", store.Event{Kind: "x"})
	wantErr(t, err, store.ErrInvalid, "event has no deployment ID")
	_, err = s.AppendEvent(ctx, "local", store.Event{DeploymentID: a.ID})
	wantErr(t, err, store.ErrInvalid, "event has no kind")
	_, err = s.AppendEvent(ctx, "local", store.Event{DeploymentID: a.ID, Kind: "x", Data: json.RawMessage(`{nope`)})
	wantErr(t, err, store.ErrInvalid, "event data is not valid JSON")
	_, err = s.AppendEvent(ctx, "local", store.Event{DeploymentID: "dep_nope", Kind: "x"})
	wantErr(t, err, store.ErrNotFound, `deployment "dep_nope" not found in org "local"`)
	_, err = s.ListEvents(ctx, "local", &store.EventQuery{DeploymentID: "dep_nope"})
	wantErr(t, err, store.ErrNotFound, `deployment "dep_nope" not found in org "local"`)
}

func testEventRetention(t *testing.T, open OpenFunc) {
	s := open(t, &store.Options{EventRetention: 3})
	ctx := t.Context()
	a := mustCreate(t, s, store.Deployment{Name: "a"})
	b := mustCreate(t, s, store.Deployment{Name: "b"})
	for i := range 10 {
		if _, err := s.AppendEvent(ctx, "local", store.Event{DeploymentID: a.ID, Kind: "tick", Message: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	evs := events(t, s, "local", &store.EventQuery{DeploymentID: a.ID})
	if diff := cmp.Diff([]string{"7", "8", "9"}, []string{evs[0].Message, evs[1].Message, evs[2].Message}); len(evs) != 3 || diff != "" {
		t.Errorf("retained events of a = %+v, want the last 3", evs)
	}
	// Another deployment's events are counted separately.
	if evs := events(t, s, "local", &store.EventQuery{DeploymentID: b.ID}); len(evs) != 1 {
		t.Errorf("events of b = %d, want 1", len(evs))
	}
}

func testLogs(t *testing.T, open OpenFunc) {
	s := open(t, nil)
	ctx := t.Context()
	d := mustCreate(t, s, store.Deployment{Name: "fetch"})
	other := mustCreate(t, s, store.Deployment{Name: "other"})
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 999, time.UTC)
	var in []store.LogLine
	for i := range 10 {
		in = append(in, store.LogLine{Time: t0.Add(time.Duration(i) * time.Second), Stream: "stderr", Line: fmt.Sprintf("line %d", i)})
	}
	in[0].Stream = ""
	if err := s.AppendLogs(ctx, "local", d.ID, in[:4]); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendLogs(ctx, "local", other.ID, []store.LogLine{{Line: "elsewhere"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendLogs(ctx, "local", d.ID, in[4:]); err != nil {
		t.Fatal(err)
	}
	if err := s.AppendLogs(ctx, "local", d.ID, nil); err != nil {
		t.Fatal(err)
	}
	got, err := s.ListLogs(ctx, "local", d.ID, nil)
	if err != nil {
		t.Fatal(err)
	}
	var want []store.LogLine
	for i, l := range in {
		l.Seq = int64(i + 1)
		l.Time = l.Time.Truncate(time.Microsecond)
		if l.Stream == "" {
			l.Stream = "stdout"
		}
		want = append(want, l)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListLogs (-want +got):\n%s", diff)
	}
	list := func(q store.LogQuery) []int64 {
		t.Helper()
		lines, err := s.ListLogs(ctx, "local", d.ID, &q)
		if err != nil {
			t.Fatal(err)
		}
		var seqs []int64
		for _, l := range lines {
			seqs = append(seqs, l.Seq)
		}
		return seqs
	}
	for _, tt := range []struct {
		name string
		q    store.LogQuery
		want []int64
	}{
		{"limit", store.LogQuery{Limit: 3}, []int64{1, 2, 3}},
		{"after", store.LogQuery{After: 7}, []int64{8, 9, 10}},
		{"after+limit", store.LogQuery{After: 2, Limit: 2}, []int64{3, 4}},
		{"tail", store.LogQuery{Limit: 3, Tail: true}, []int64{8, 9, 10}},
		{"since", store.LogQuery{Since: t0.Add(7 * time.Second)}, []int64{8, 9, 10}},
		{"since+tail", store.LogQuery{Since: t0.Add(2 * time.Second), Limit: 2, Tail: true}, []int64{9, 10}},
		{"after end", store.LogQuery{After: 10}, nil},
	} {
		if diff := cmp.Diff(tt.want, list(tt.q)); diff != "" {
			t.Errorf("ListLogs %s (-want +got):\n%s", tt.name, diff)
		}
	}

	// Appended lines without a time get the store's clock; long lines are cut
	// at a rune boundary; bytes TEXT columns refuse are replaced.
	long := strings.Repeat("é", store.MaxLogLineBytes) // 2 bytes each
	if err := s.AppendLogs(ctx, "local", d.ID, []store.LogLine{{Line: long}, {Line: "bad \xff\x00 bytes"}}); err != nil {
		t.Fatal(err)
	}
	tail, err := s.ListLogs(ctx, "local", d.ID, &store.LogQuery{After: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(tail) != 2 {
		t.Fatalf("got %d lines, want 2", len(tail))
	}
	if n := len(tail[0].Line); n != store.MaxLogLineBytes || !strings.HasPrefix(long, tail[0].Line) {
		t.Errorf("long line stored with %d bytes, want the first %d", n, store.MaxLogLineBytes)
	}
	if tail[1].Line != "bad \uFFFD\uFFFD bytes" || tail[1].Time.IsZero() || tail[1].Seq != 12 {
		t.Errorf("line with invalid bytes = %+v", tail[1])
	}
	_, err = s.ListLogs(ctx, "local", "dep_nope", nil)
	wantErr(t, err, store.ErrNotFound, `deployment "dep_nope" not found in org "local"`)
	err = s.AppendLogs(ctx, "local", "dep_nope", []store.LogLine{{Line: "x"}})
	wantErr(t, err, store.ErrNotFound, `deployment "dep_nope" not found in org "local"`)
}

func testLogRetention(t *testing.T, open OpenFunc) {
	s := open(t, &store.Options{LogRetention: 5})
	ctx := t.Context()
	d := mustCreate(t, s, store.Deployment{Name: "fetch"})
	other := mustCreate(t, s, store.Deployment{Name: "other"})
	seqs := func(id string) []int64 {
		t.Helper()
		lines, err := s.ListLogs(ctx, "local", id, &store.LogQuery{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, l := range lines {
			out = append(out, l.Seq)
			if l.Line != fmt.Sprint("line ", l.Seq) {
				t.Errorf("line %d = %q", l.Seq, l.Line)
			}
		}
		return out
	}
	next := int64(1)
	batch := func(n int) []store.LogLine {
		var out []store.LogLine
		for range n {
			out = append(out, store.LogLine{Line: fmt.Sprint("line ", next)})
			next++
		}
		return out
	}
	if err := s.AppendLogs(ctx, "local", other.ID, []store.LogLine{{Line: "line 1"}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{3, 3, 1} {
		if err := s.AppendLogs(ctx, "local", d.ID, batch(n)); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff([]int64{3, 4, 5, 6, 7}, seqs(d.ID)); diff != "" {
		t.Errorf("retained after 7 lines (-want +got):\n%s", diff)
	}
	// A batch larger than the retention keeps its last lines.
	if err := s.AppendLogs(ctx, "local", d.ID, batch(12)); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]int64{15, 16, 17, 18, 19}, seqs(d.ID)); diff != "" {
		t.Errorf("retained after a batch of 12 (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int64{1}, seqs(other.ID)); diff != "" {
		t.Errorf("another deployment's lines (-want +got):\n%s", diff)
	}
}

// testConcurrentWriters appends events and logs from 16 goroutines at once,
// half to one shared deployment and half to their own: nothing fails (no
// SQLITE_BUSY), nothing is lost and sequence numbers have no gaps.
func testConcurrentWriters(t *testing.T, open OpenFunc) {
	s := open(t, &store.Options{LogRetention: -1, EventRetention: -1})
	ctx := t.Context()
	shared := mustCreate(t, s, store.Deployment{Name: "shared"})
	const writers, rounds, batch = 16, 20, 5
	own := make([]store.Deployment, writers)
	for i := range own {
		own[i] = mustCreate(t, s, store.Deployment{Name: fmt.Sprint("own-", i)})
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := range writers {
		wg.Go(func() {
			id := shared.ID
			if w%2 == 1 {
				id = own[w].ID
			}
			for r := range rounds {
				if _, err := s.AppendEvent(ctx, "local", store.Event{DeploymentID: id, Kind: "tick", Message: fmt.Sprint(w, " ", r)}); err != nil {
					errs <- err
					return
				}
				lines := make([]store.LogLine, batch)
				for i := range lines {
					lines[i] = store.LogLine{Line: fmt.Sprintf("w%d r%d l%d", w, r, i)}
				}
				if err := s.AppendLogs(ctx, "local", id, lines); err != nil {
					errs <- err
					return
				}
				// Readers run alongside the writers.
				if _, err := s.ListLogs(ctx, "local", id, &store.LogQuery{Tail: true, Limit: 10}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent writer: %v", err)
	}
	check := func(id string, lines int) {
		t.Helper()
		got, err := s.ListLogs(ctx, "local", id, &store.LogQuery{Limit: store.MaxListLimit})
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != lines {
			t.Fatalf("deployment %s has %d log lines, want %d", id, len(got), lines)
		}
		for i, l := range got {
			if l.Seq != int64(i+1) {
				t.Fatalf("line %d has seq %d: gaps or duplicates", i, l.Seq)
			}
		}
		// Each writer's batches are contiguous and in order.
		for i := 0; i < len(got); i += batch {
			var w, r int
			if _, err := fmt.Sscanf(got[i].Line, "w%d r%d l0", &w, &r); err != nil {
				t.Fatalf("line %d = %q, want the start of a batch", i, got[i].Line)
			}
			for j := range batch {
				if want := fmt.Sprintf("w%d r%d l%d", w, r, j); got[i+j].Line != want {
					t.Fatalf("line %d = %q, want %q: batches interleaved", i+j, got[i+j].Line, want)
				}
			}
		}
	}
	check(shared.ID, writers/2*rounds*batch)
	for w := 1; w < writers; w += 2 {
		check(own[w].ID, rounds*batch)
	}
	evs := events(t, s, "local", &store.EventQuery{DeploymentID: shared.ID, Limit: store.MaxListLimit})
	if len(evs) != 1+writers/2*rounds {
		t.Errorf("shared deployment has %d events, want %d", len(evs), 1+writers/2*rounds)
	}
}

func testUsersAndKeys(t *testing.T, open OpenFunc) {
	s := open(t, nil)
	ctx := t.Context()
	u, err := s.CreateUser(ctx, store.User{Org: "local", Email: "ada@example.com", Name: "Ada"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(u.ID, "usr_") || u.CreatedAt.IsZero() {
		t.Errorf("CreateUser = %+v", u)
	}
	got, err := s.GetUserByEmail(ctx, "local", "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(u, got); diff != "" {
		t.Errorf("GetUserByEmail (-want +got):\n%s", diff)
	}
	_, err = s.CreateUser(ctx, store.User{Org: "local", Email: "ada@example.com"})
	wantErr(t, err, store.ErrConflict, `user "ada@example.com" already exists in org "local"`)
	_, err = s.CreateUser(ctx, store.User{Org: "local", Email: "nobody"})
	wantErr(t, err, store.ErrInvalid, `invalid user email "nobody"`)
	_, err = s.CreateUser(ctx, store.User{Org: "nope", Email: "a@b.c"})
	wantErr(t, err, store.ErrNotFound, `org "nope" not found`)
	_, err = s.GetUserByEmail(ctx, "local", "bob@example.com")
	wantErr(t, err, store.ErrNotFound, `user "bob@example.com" not found in org "local"`)

	secret := "mcpa_0123456789abcdef0123456789abcdef"
	k, err := s.CreateAPIKey(ctx, store.APIKey{Org: "local", UserID: u.ID, Name: "ci", Prefix: secret[:9], Hash: store.HashAPIKey(secret)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(k.ID, "key_") || k.CreatedAt.IsZero() || !k.RevokedAt.IsZero() {
		t.Errorf("CreateAPIKey = %+v", k)
	}
	if b, _ := json.Marshal(k); strings.Contains(string(b), k.Hash) {
		t.Errorf("an API key's JSON shows its hash: %s", b)
	}
	k2, err := s.CreateAPIKey(ctx, store.APIKey{Org: "local", Name: "deploy bot", Prefix: "mcpa_zzz", Hash: store.HashAPIKey("other")})
	if err != nil {
		t.Fatal(err)
	}
	found, err := s.LookupAPIKey(ctx, store.HashAPIKey(secret))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(k, found); diff != "" {
		t.Errorf("LookupAPIKey (-want +got):\n%s", diff)
	}
	_, err = s.CreateAPIKey(ctx, store.APIKey{Org: "local", Name: "dup", Hash: store.HashAPIKey(secret)})
	wantErr(t, err, store.ErrConflict, "an API key with this hash already exists: generate a new secret")
	_, err = s.CreateAPIKey(ctx, store.APIKey{Org: "local", Name: "raw", Hash: secret})
	wantErr(t, err, store.ErrInvalid, "API key hash must be HashAPIKey(secret), 64 hex digits")
	_, err = s.CreateAPIKey(ctx, store.APIKey{Org: "local", Name: "x", UserID: "usr_nope", Hash: store.HashAPIKey("x")})
	wantErr(t, err, store.ErrNotFound, `user "usr_nope" not found in org "local"`)

	if err := s.RevokeAPIKey(ctx, "local", k.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, "local", k.ID); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	_, err = s.LookupAPIKey(ctx, store.HashAPIKey(secret))
	wantErr(t, err, store.ErrNotFound, "unknown or revoked API key")
	err = s.RevokeAPIKey(ctx, "local", "key_nope")
	wantErr(t, err, store.ErrNotFound, `API key "key_nope" not found in org "local"`)
	keys, err := s.ListAPIKeys(ctx, "local")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].ID != k.ID || keys[0].RevokedAt.IsZero() || keys[1].ID != k2.ID || !keys[1].RevokedAt.IsZero() {
		t.Errorf("ListAPIKeys = %+v, want ci (revoked) then deploy bot", keys)
	}
}

// testTenantIsolation gives two orgs a deployment of the same name and
// checks that no method called for one org reads or changes the other's
// rows, even with the other's IDs.
func testTenantIsolation(t *testing.T, open OpenFunc) {
	s := open(t, nil)
	ctx := t.Context()
	if _, err := s.CreateOrg(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	mine := mustCreate(t, s, store.Deployment{Org: "local", Name: "fetch"})
	theirs := mustCreate(t, s, store.Deployment{Org: "acme", Name: "fetch"}) // same name, other org: fine
	if err := s.AppendLogs(ctx, "local", mine.ID, []store.LogLine{{Line: "secret log"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AppendEvent(ctx, "local", store.Event{DeploymentID: mine.ID, Kind: "secret"}); err != nil {
		t.Fatal(err)
	}
	doomed := mustCreate(t, s, store.Deployment{Org: "local", Name: "doomed"})
	if err := s.DeleteDeployment(ctx, "local", doomed.ID); err != nil {
		t.Fatal(err)
	}
	key, err := s.CreateAPIKey(ctx, store.APIKey{Org: "local", Name: "k", Hash: store.HashAPIKey("k")})
	if err != nil {
		t.Fatal(err)
	}
	user, err := s.CreateUser(ctx, store.User{Org: "local", Email: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	snapshot := func() (store.Deployment, []store.Event, []store.LogLine, []store.DeploymentVersion) {
		t.Helper()
		d, err := s.GetDeploymentByID(ctx, "local", mine.ID)
		if err != nil {
			t.Fatal(err)
		}
		evs := events(t, s, "local", &store.EventQuery{DeploymentID: mine.ID})
		logs, err := s.ListLogs(ctx, "local", mine.ID, nil)
		if err != nil {
			t.Fatal(err)
		}
		vs, err := s.ListVersions(ctx, "local", mine.ID)
		if err != nil {
			t.Fatal(err)
		}
		return d, evs, logs, vs
	}
	d0, ev0, log0, v0 := snapshot()

	// acme, holding local's IDs, finds nothing and changes nothing.
	notMine := fmt.Sprintf(`deployment %q not found in org "acme"`, mine.ID)
	attempts := map[string]error{}
	_, attempts["GetDeploymentByID"] = s.GetDeploymentByID(ctx, "acme", mine.ID)
	_, attempts["UpdateStatus"] = s.UpdateStatus(ctx, "acme", mine.ID, store.StatusFailed, "x")
	_, attempts["SetDesiredState"] = s.SetDesiredState(ctx, "acme", mine.ID, store.DesiredStopped)
	attempts["DeleteDeployment"] = s.DeleteDeployment(ctx, "acme", mine.ID)
	_, attempts["AddVersion"] = s.AddVersion(ctx, "acme", mine.ID, store.DeploymentVersion{})
	_, attempts["ListVersions"] = s.ListVersions(ctx, "acme", mine.ID)
	_, attempts["ActivateVersion"] = s.ActivateVersion(ctx, "acme", mine.ID, 1)
	_, attempts["AppendEvent"] = s.AppendEvent(ctx, "acme", store.Event{DeploymentID: mine.ID, Kind: "x"})
	_, attempts["ListEvents"] = s.ListEvents(ctx, "acme", &store.EventQuery{DeploymentID: mine.ID})
	attempts["AppendLogs"] = s.AppendLogs(ctx, "acme", mine.ID, []store.LogLine{{Line: "x"}})
	_, attempts["ListLogs"] = s.ListLogs(ctx, "acme", mine.ID, nil)
	for name, err := range attempts {
		if !errors.Is(err, store.ErrNotFound) || err.Error() != notMine {
			t.Errorf("%s as acme on local's deployment: %v, want %q", name, err, notMine)
		}
	}
	_, err = s.GetDeploymentByID(ctx, "acme", doomed.ID)
	wantErr(t, err, store.ErrNotFound, "")
	if n, err := s.PurgeDeleted(ctx, "acme", time.Now().Add(time.Hour)); err != nil || n != 0 {
		t.Errorf("PurgeDeleted as acme = %d, %v; want 0", n, err)
	}
	if _, err := s.GetDeploymentByID(ctx, "local", doomed.ID); err != nil {
		t.Errorf("acme's purge removed local's deleted deployment: %v", err)
	}
	err = s.RevokeAPIKey(ctx, "acme", key.ID)
	wantErr(t, err, store.ErrNotFound, fmt.Sprintf(`API key %q not found in org "acme"`, key.ID))
	_, err = s.CreateAPIKey(ctx, store.APIKey{Org: "acme", Name: "steal", UserID: user.ID, Hash: store.HashAPIKey("steal")})
	wantErr(t, err, store.ErrNotFound, "")
	_, err = s.GetUserByEmail(ctx, "acme", "ada@example.com")
	wantErr(t, err, store.ErrNotFound, "")

	// Lists show only acme's rows.
	list, err := s.ListDeployments(ctx, "acme", &store.ListOptions{IncludeDeleted: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].ID != theirs.ID {
		t.Errorf("acme lists %+v, want only its own deployment", list)
	}
	got, err := s.GetDeployment(ctx, "acme", store.KindServer, "fetch")
	if err != nil || got.ID != theirs.ID {
		t.Errorf("acme's fetch = %+v, %v", got, err)
	}
	for _, e := range events(t, s, "acme", &store.EventQuery{Limit: store.MaxListLimit}) {
		if e.Org != "acme" || e.DeploymentID != theirs.ID {
			t.Errorf("acme sees event %+v", e)
		}
	}
	keys, err := s.ListAPIKeys(ctx, "acme")
	if err != nil || len(keys) != 0 {
		t.Errorf("acme's API keys = %+v, %v; want none", keys, err)
	}

	// local's rows are as they were.
	d1, ev1, log1, v1 := snapshot()
	if diff := cmp.Diff(d0, d1); diff != "" {
		t.Errorf("local's deployment changed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(ev0, ev1, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("local's events changed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(log0, log1); diff != "" {
		t.Errorf("local's logs changed (-before +after):\n%s", diff)
	}
	if diff := cmp.Diff(v0, v1); diff != "" {
		t.Errorf("local's versions changed (-before +after):\n%s", diff)
	}
	if _, err := s.LookupAPIKey(ctx, store.HashAPIKey("k")); err != nil {
		t.Errorf("local's key was revoked by acme: %v", err)
	}
}
