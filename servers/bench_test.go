package servers

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
)

// BenchmarkCallToolEcho measures tools/call round trips to the reference
// server-everything's echo tool over a persistent connection, one caller
// at a time and from GOMAXPROCS callers at once. Besides ns/op it reports
// the median latency of one call (p50-ns) and calls/s.
func BenchmarkCallToolEcho(b *testing.B) {
	for _, tr := range []string{config.TransportStdio, config.TransportStreamableHTTP} {
		b.Run(tr, func(b *testing.B) {
			var spec config.ServerSpec
			if tr == config.TransportStdio {
				cmd, args := testenv.Everything(b)
				spec = config.ServerSpec{Command: cmd, Args: args}
			} else {
				spec = config.ServerSpec{URL: testenv.StartEverythingHTTP(b, "streamableHttp") + "/mcp"}
			}
			r := newTestRegistry(b, map[string]config.ServerSpec{"everything": spec}, nil)
			ctx := context.Background()
			if err := r.ConnectAll(ctx); err != nil {
				b.Fatal(err)
			}
			p := &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": "benchmark"}}
			callOnce := func() time.Duration {
				start := time.Now()
				res, err := r.CallTool(ctx, "everything", p)
				if err != nil || res.IsError {
					b.Errorf("echo: %v %v", res, err) // may run on RunParallel goroutines: no Fatal
				}
				return time.Since(start)
			}

			b.Run("sequential", func(b *testing.B) {
				var lat []time.Duration
				start := time.Now()
				for b.Loop() {
					lat = append(lat, callOnce())
				}
				reportLatency(b, lat, time.Since(start))
			})
			b.Run("concurrent", func(b *testing.B) {
				var (
					mu  sync.Mutex
					lat []time.Duration
				)
				start := time.Now()
				b.RunParallel(func(pb *testing.PB) {
					var mine []time.Duration
					for pb.Next() {
						mine = append(mine, callOnce())
					}
					mu.Lock()
					lat = append(lat, mine...)
					mu.Unlock()
				})
				reportLatency(b, lat, time.Since(start))
			})
		})
	}
}

func reportLatency(b *testing.B, lat []time.Duration, elapsed time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), "calls/s")
}

// BenchmarkColdStart measures starting and initializing N stdio
// server-everything processes: all at once (ConnectAll) and one after the
// other. Closing the servers is not timed.
func BenchmarkColdStart(b *testing.B) {
	const n = 4
	cmd, args := testenv.Everything(b)
	specs := map[string]config.ServerSpec{}
	for i := range n {
		specs[fmt.Sprintf("everything%d", i)] = config.ServerSpec{Command: cmd, Args: args}
	}
	for _, mode := range []string{"parallel", "sequential"} {
		b.Run(mode, func(b *testing.B) {
			ctx := context.Background()
			// Not b.Loop: the untimed Close (about 2s: server-everything
			// ignores the end of stdin and waits for SIGTERM) must be
			// excluded with StopTimer.
			for range b.N {
				r := NewRegistry(specs, nil)
				if mode == "parallel" {
					if err := r.ConnectAll(ctx); err != nil {
						b.Fatal(err)
					}
				} else {
					for _, name := range r.Names() {
						if _, err := r.Session(ctx, name); err != nil {
							b.Fatal(err)
						}
					}
				}
				b.StopTimer()
				if err := r.Close(); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
			}
		})
	}
}
