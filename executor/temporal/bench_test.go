package temporal_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/executor/local"
	"github.com/mcp-agent-go/mcp-agent/executor/temporal"
	"github.com/mcp-agent-go/mcp-agent/executor/temporal/internal/testflows"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// executors returns the executors a benchmark compares, each with ws: the
// local one (synchronous=FULL, its default), and Temporal on the
// temporal-dev server (SQLite, a worker in this process) with each step
// made durable before the next (the default) and with BatchSteps.
func executors(b *testing.B, ws ...workflow.Workflow) map[string]executor.Executor {
	b.Helper()
	ex, err := local.Open(b.Context(), filepath.Join(b.TempDir(), "runs.db"), workflow.NewRegistry(ws...), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ex.Close() })
	return map[string]executor.Executor{
		"local":          ex,
		"temporal":       open(b, ws...),
		"temporal-batch": openWith(b, &temporal.Options{TaskQueue: "-batch", BatchSteps: true}, ws...),
	}
}

// BenchmarkSteps measures journaled steps per second: one run executes b.N
// trivial steps, each recorded (a journal row locally, a LocalActivity
// marker on Temporal) before the next starts.
func BenchmarkSteps(b *testing.B) {
	def := testflows.StepsFlow()
	exs := executors(b, def)
	for _, name := range []string{"local", "temporal", "temporal-batch"} {
		b.Run(name, func(b *testing.B) {
			ctx, cancel := context.WithTimeout(b.Context(), 5*time.Minute)
			defer cancel()
			start := time.Now()
			if _, _, err := executor.Execute(ctx, exs[name], def, b.N, nil); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "steps/s")
		})
	}
}

// BenchmarkSignalRoundTrip measures the latency from Signal returning to
// the waiting run reacting: it takes the signal and runs a step that
// reports back.
func BenchmarkSignalRoundTrip(b *testing.B) {
	pong := make(chan int)
	def := testflows.PingPongFlow(pong)
	exs := executors(b, def)
	for _, name := range []string{"local", "temporal", "temporal-batch"} {
		b.Run(name, func(b *testing.B) {
			ex := exs[name]
			ctx, cancel := context.WithTimeout(b.Context(), 5*time.Minute)
			defer cancel()
			runID, err := executor.Start(ctx, ex, def, b.N, nil)
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				if err := ex.Signal(ctx, runID, "ping", json.RawMessage(`1`)); err != nil {
					b.Fatal(err)
				}
				select {
				case <-pong:
				case <-time.After(time.Minute):
					b.Fatalf("no pong for ping %d", i)
				}
			}
			b.StopTimer()
			if _, err := ex.Result(ctx, runID); err != nil {
				b.Fatal(err)
			}
		})
	}
}
