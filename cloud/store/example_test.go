package store_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/mcp-agent-go/mcp-agent/cloud/store"
)

func Example() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "store-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	s, err := store.Open(ctx, store.SQLiteDSN(filepath.Join(dir, "state.db")), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()

	d, err := s.CreateDeployment(ctx, store.Deployment{
		Org: store.DefaultOrg, Name: "fetch", Kind: store.KindServer,
		Spec: store.Spec{Type: "fetch", EgressAllow: []string{"*"}},
	})
	if err != nil {
		log.Fatal(err)
	}
	_, err = s.CreateDeployment(ctx, store.Deployment{Org: store.DefaultOrg, Name: "fetch", Kind: store.KindServer})
	fmt.Println(err, errors.Is(err, store.ErrConflict))

	if _, err := s.UpdateStatus(ctx, d.Org, d.ID, store.StatusStarting, ""); err != nil {
		log.Fatal(err)
	}
	if _, err := s.UpdateStatus(ctx, d.Org, d.ID, store.StatusFailed, "exit status 1"); err != nil {
		log.Fatal(err)
	}
	evs, err := s.ListEvents(ctx, d.Org, &store.EventQuery{DeploymentID: d.ID})
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range evs {
		fmt.Printf("%s: %s\n", e.Kind, e.Message)
	}

	_, err = s.GetDeployment(ctx, store.DefaultOrg, store.KindServer, "nope")
	fmt.Println(err)
	// Output:
	// server "local.fetch" already exists true
	// created: server local.fetch created
	// status: pending -> starting
	// status: starting -> failed: exit status 1
	// server "local.nope" not found
}

// Logs are appended in batches and read back with a cursor: Tail for the
// last lines, then After to follow.
func ExampleDB_ListLogs() {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "store-example-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	s, err := store.Open(ctx, store.SQLiteDSN(filepath.Join(dir, "state.db")), &store.Options{LogRetention: 1000})
	if err != nil {
		log.Fatal(err)
	}
	defer s.Close()
	d, err := s.CreateDeployment(ctx, store.Deployment{Org: "local", Name: "everything", Kind: store.KindServer})
	if err != nil {
		log.Fatal(err)
	}

	err = s.AppendLogs(ctx, "local", d.ID, []store.LogLine{
		{Stream: "stderr", Line: "starting"}, {Stream: "stderr", Line: "listening on stdio"}, {Stream: "stderr", Line: "tools: 11"},
	})
	if err != nil {
		log.Fatal(err)
	}
	last, err := s.ListLogs(ctx, "local", d.ID, &store.LogQuery{Tail: true, Limit: 2})
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range last {
		fmt.Println(l.Seq, l.Stream, l.Line)
	}

	if err := s.AppendLogs(ctx, "local", d.ID, []store.LogLine{{Line: "request 1"}}); err != nil {
		log.Fatal(err)
	}
	next, err := s.ListLogs(ctx, "local", d.ID, &store.LogQuery{After: last[len(last)-1].Seq})
	if err != nil {
		log.Fatal(err)
	}
	for _, l := range next {
		fmt.Println(l.Seq, l.Stream, l.Line)
	}
	// Output:
	// 2 stderr listening on stdio
	// 3 stderr tools: 11
	// 4 stdout request 1
}
