package gateway

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Benchmarks of echo through the gateway against the same server over
// stdio directly, sequentially and with 8 concurrent sessions. ns/op is the
// wall time per call (for the concurrent runs: per call overall, so lower
// means more throughput); p50-ns and p99-ns are per-call latencies.
//
//	go test -run '^$' -bench . ./cloud/gateway/

func BenchmarkEcho(b *testing.B) {
	for _, sessions := range []int{1, 8} {
		b.Run(fmt.Sprintf("sessions=%d/direct-stdio", sessions), func(b *testing.B) {
			css := make([]*mcp.ClientSession, sessions)
			for i := range css {
				cmd := exec.Command(testBackend("test").Path, testBackend("test").Args...)
				cmd.Env = testBackend("test").Env
				cs, err := mcp.NewClient(&mcp.Implementation{Name: "bench"}, nil).Connect(context.Background(), &mcp.CommandTransport{Command: cmd}, nil)
				if err != nil {
					b.Fatal(err)
				}
				defer cs.Close()
				css[i] = cs
			}
			benchCalls(b, css)
		})
		// The floor: the SDK's own Streamable HTTP server with the tools
		// in-process (no stdio hop), same client.
		b.Run(fmt.Sprintf("sessions=%d/sdk-http-in-process", sessions), func(b *testing.B) {
			srv := newTestServer()
			hs := httptest.NewServer(mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, nil))
			b.Cleanup(hs.Close)
			css := make([]*mcp.ClientSession, sessions)
			for i := range css {
				css[i] = connect(b, hs.URL, legacy, nil)
			}
			benchCalls(b, css)
		})
		for _, tc := range []struct {
			name     string
			mode     Mode
			protocol string
		}{
			{"gateway-shared-2025-11-25", Shared, legacy},
			{"gateway-shared-2026-07-28", Shared, modern},
			{"gateway-per-session", PerSession, legacy},
		} {
			b.Run(fmt.Sprintf("sessions=%d/%s", sessions, tc.name), func(b *testing.B) {
				g, base := newTestGateway(b, nil)
				g.Register("t", testBackend("test"), tc.mode)
				css := make([]*mcp.ClientSession, sessions)
				for i := range css {
					css[i] = connect(b, base+"/servers/t/mcp", tc.protocol, nil)
				}
				benchCalls(b, css)
			})
		}
	}
}

// benchCalls runs b.N echo calls spread over the sessions, concurrently,
// and reports latency percentiles.
func benchCalls(b *testing.B, css []*mcp.ClientSession) {
	ctx := context.Background()
	args := map[string]any{"message": "ping"}
	for _, cs := range css { // warm up: processes started, connections open
		if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: args}); err != nil {
			b.Fatal(err)
		}
	}
	var (
		next int64
		mu   sync.Mutex
		lat  = make([]time.Duration, 0, b.N)
		wg   sync.WaitGroup
	)
	b.ResetTimer()
	for _, cs := range css {
		wg.Add(1)
		go func() {
			defer wg.Done()
			local := make([]time.Duration, 0, b.N/len(css)+1)
			for atomic.AddInt64(&next, 1) <= int64(b.N) {
				start := time.Now()
				if _, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: args}); err != nil {
					b.Error(err)
					return
				}
				local = append(local, time.Since(start))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	b.StopTimer()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}
