package local_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/executor/local"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// BenchmarkLocalSteps measures journaled steps per second: one run executes
// b.N trivial steps, each journaled (started and completed) before the next.
func BenchmarkLocalSteps(b *testing.B) {
	for _, sync := range []string{"FULL", "NORMAL"} {
		b.Run("sync="+sync, func(b *testing.B) {
			def := workflow.Define("steps", func(wctx workflow.Context, n int) (int, error) {
				sum := 0
				for i := range n {
					v, err := workflow.Step(wctx, "add", func(ctx context.Context, sc workflow.StepContext) (int, error) { return i, nil }, nil)
					if err != nil {
						return 0, err
					}
					sum += v
				}
				return sum, nil
			}, nil)
			ex, err := local.Open(b.Context(), filepath.Join(b.TempDir(), "runs.db"), workflow.NewRegistry(def), &local.Options{Synchronous: sync})
			if err != nil {
				b.Fatal(err)
			}
			defer ex.Close()
			b.ResetTimer()
			start := time.Now()
			if _, _, err := executor.Execute(b.Context(), ex, def, b.N, nil); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "steps/s")
		})
	}
}

// BenchmarkSignalRoundTrip measures the latency from Signal to the waiting
// run reacting: the signal is committed, the run wakes, consumes it and runs
// (and journals) a step that reports back.
func BenchmarkSignalRoundTrip(b *testing.B) {
	pong := make(chan int)
	def := workflow.Define("pingpong", func(wctx workflow.Context, n int) (int, error) {
		for range n {
			v, _, err := workflow.WaitSignal[int](wctx, "ping", 0)
			if err != nil {
				return 0, err
			}
			if _, err := workflow.Step(wctx, "pong", func(ctx context.Context, sc workflow.StepContext) (int, error) {
				select {
				case pong <- v:
				case <-ctx.Done():
					return 0, ctx.Err()
				}
				return v, nil
			}, nil); err != nil {
				return 0, err
			}
		}
		return n, nil
	}, nil)
	ex, err := local.Open(b.Context(), filepath.Join(b.TempDir(), "runs.db"), workflow.NewRegistry(def), &local.Options{Synchronous: "NORMAL"})
	if err != nil {
		b.Fatal(err)
	}
	defer ex.Close()
	runID, err := executor.Start(b.Context(), ex, def, b.N, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		if err := ex.Signal(b.Context(), runID, "ping", json.RawMessage(`1`)); err != nil {
			b.Fatal(err)
		}
		select {
		case <-pong:
		case <-time.After(time.Minute):
			b.Fatalf("no pong for ping %d", i)
		}
	}
	b.StopTimer()
	if _, err := ex.Result(b.Context(), runID); err != nil {
		b.Fatal(err)
	}
}
