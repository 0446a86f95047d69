package store_test

import (
	"fmt"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/mcp-agent-go/mcp-agent/cloud/store"
	"github.com/mcp-agent-go/mcp-agent/cloud/store/pgtest"
)

// BenchmarkStore measures appends on each driver: one event per operation,
// and log batches of 1 and 100 lines, sequentially and from parallel
// goroutines (each on its own deployment). Log retention is the default, so
// long runs include trimming. PostgreSQL runs with fsync on.
func BenchmarkStore(b *testing.B) {
	drivers := []struct {
		name string
		dsn  func(b *testing.B) string
	}{
		{"sqlite-full", func(b *testing.B) string { return store.SQLiteDSN(filepath.Join(b.TempDir(), "state.db")) }},
		{"sqlite-normal", func(b *testing.B) string {
			return store.SQLiteDSN(filepath.Join(b.TempDir(), "state.db")) + "?synchronous=normal"
		}},
		{"postgres", func(b *testing.B) string { return pgtest.StartWith(b, &pgtest.Options{Durable: true}).NewDatabase(b) }},
	}
	for _, drv := range drivers {
		b.Run(drv.name, func(b *testing.B) {
			ctx := b.Context()
			s, err := store.Open(ctx, drv.dsn(b), nil)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			var n atomic.Int64
			newDeployment := func(b *testing.B) string {
				d, err := s.CreateDeployment(ctx, store.Deployment{Org: "local", Name: fmt.Sprint("d", n.Add(1)), Kind: store.KindServer})
				if err != nil {
					b.Fatal(err)
				}
				return d.ID
			}
			b.Run("AppendEvent", func(b *testing.B) {
				id := newDeployment(b)
				for b.Loop() {
					if _, err := s.AppendEvent(ctx, "local", store.Event{DeploymentID: id, Kind: "tick", Message: "restarted"}); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run("AppendEvent/parallel", func(b *testing.B) {
				b.RunParallel(func(pb *testing.PB) {
					id := newDeployment(b)
					for pb.Next() {
						if _, err := s.AppendEvent(ctx, "local", store.Event{DeploymentID: id, Kind: "tick", Message: "restarted"}); err != nil {
							b.Error(err)
							return
						}
					}
				})
			})
			for _, size := range []int{1, 100} {
				lines := make([]store.LogLine, size)
				for i := range lines {
					lines[i] = store.LogLine{Stream: "stderr", Line: fmt.Sprintf("2030-01-01T00:00:00Z INFO handled request %d in 3ms", i)}
				}
				b.Run(fmt.Sprintf("AppendLogs/batch=%d", size), func(b *testing.B) {
					id := newDeployment(b)
					for b.Loop() {
						if err := s.AppendLogs(ctx, "local", id, lines); err != nil {
							b.Fatal(err)
						}
					}
					b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "lines/s")
				})
				b.Run(fmt.Sprintf("AppendLogs/batch=%d/parallel", size), func(b *testing.B) {
					b.RunParallel(func(pb *testing.PB) {
						id := newDeployment(b)
						for pb.Next() {
							if err := s.AppendLogs(ctx, "local", id, lines); err != nil {
								b.Error(err)
								return
							}
						}
					})
					b.ReportMetric(float64(b.N*size)/b.Elapsed().Seconds(), "lines/s")
				})
			}
		})
	}
}
