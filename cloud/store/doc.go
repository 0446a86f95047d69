// Package store is the cloud platform's persistent state: orgs, deployments
// of servers and apps with their versions, events, a bounded index of log
// lines, users and API keys. One implementation, *DB, runs on SQLite (the
// embedded default, pure Go through modernc.org/sqlite) or on PostgreSQL
// (through pgx), chosen by the DSN given to Open; both pass the same test
// suite (package storetest).
//
// Quick start:
//
//	s, err := store.Open(ctx, store.SQLiteDSN(filepath.Join(dataDir, "state.db")), nil)
//	if err != nil {
//		return err
//	}
//	defer s.Close()
//	d, err := s.CreateDeployment(ctx, store.Deployment{
//		Org: store.DefaultOrg, Name: "fetch", Kind: store.KindServer,
//		Spec: store.Spec{Type: "fetch", EgressAllow: []string{"*"}},
//	})
//	if errors.Is(err, store.ErrConflict) {
//		return err // `server "local.fetch" already exists`
//	}
//	d, err = s.UpdateStatus(ctx, d.Org, d.ID, store.StatusRunning, "") // records a "status" event
//	err = s.AppendLogs(ctx, d.Org, d.ID, []store.LogLine{{Stream: "stderr", Line: "listening"}})
//	tail, err := s.ListLogs(ctx, d.Org, d.ID, &store.LogQuery{Tail: true, Limit: 100})
//
// Every method is scoped by org: a deployment ID of another org is "not
// found". Deployments are addressed by name for lookups (GetDeployment)
// and by ID for changes, so that a late update for a deleted deployment
// never lands on a new one of the same name. Deleting is soft: the name is
// free at once, the history stays readable by ID until PurgeDeleted.
//
// The schema is migrated with goose (embedded SQL per dialect, in
// migrations/) when the store opens. See docs/store.md for the schema,
// DSNs, durability and retention.
package store
