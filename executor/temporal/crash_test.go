package temporal_test

// The crash test on Temporal: a worker process (this test binary,
// re-executed) runs workflows and is killed with SIGKILL mid-flight; a
// second worker process takes over. Every run must end with its expected
// result, and no step that completed before the kill may execute again
// (steps append their idempotency key to a log file on every execution);
// only the step of a run that was in flight at the kill may run twice.

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/executor/temporal"
	"github.com/mcp-agent-go/mcp-agent/executor/temporal/internal/testflows"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

const (
	envCrashAddr  = "TEMPORAL_CRASH_WORKER_ADDR"
	envCrashQueue = "TEMPORAL_CRASH_WORKER_QUEUE"
	envCrashLog   = "TEMPORAL_CRASH_WORKER_LOG"
	crashRuns     = 12
	crashSteps    = 8
)

type crashIn struct {
	Ask bool `json:"ask,omitempty"`
}

var crashLogMu sync.Mutex

// crashFlow runs crashSteps steps that log their idempotency key and take
// a little while; with Ask it asks for input halfway.
func crashFlow(log string) *workflow.Definition[crashIn, int] {
	return workflow.Define("crashy", func(wctx workflow.Context, in crashIn) (int, error) {
		sum := 0
		for i := range crashSteps {
			v, err := workflow.Step(wctx, fmt.Sprintf("s%d", i), func(ctx context.Context, sc workflow.StepContext) (int, error) {
				crashLogMu.Lock()
				f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
				if err == nil {
					_, err = f.WriteString(sc.IdempotencyKey + "\n")
					f.Close()
				}
				crashLogMu.Unlock()
				if err != nil {
					return 0, err
				}
				select {
				case <-time.After(30 * time.Millisecond):
				case <-ctx.Done():
					return 0, ctx.Err()
				}
				return i, nil
			}, nil)
			if err != nil {
				return 0, err
			}
			sum += v
			if in.Ask && i == crashSteps/2 {
				a, err := workflow.RequestInput[testflows.Approval](wctx, "go on?", nil)
				if err != nil {
					return 0, err
				}
				sum += len(a.Edits)
			}
		}
		return sum, nil
	}, nil)
}

// crashWorker is the worker process: it executes runs until it is killed.
func crashWorker() {
	ctx := context.Background()
	ex, err := temporal.Dial(ctx, &config.TemporalSettings{Host: os.Getenv(envCrashAddr), TaskQueue: os.Getenv(envCrashQueue)},
		workflow.NewRegistry(crashFlow(os.Getenv(envCrashLog))), &temporal.Options{Worker: true, Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	fmt.Println("worker ready")
	_ = ex
	select {} // until killed
}

// startCrashWorker starts a worker process and waits until it polls.
func startCrashWorker(t *testing.T, addr, queue, log string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envCrashAddr+"="+addr, envCrashQueue+"="+queue, envCrashLog+"="+log)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	ready := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(out)
		ok := sc.Scan() && sc.Text() == "worker ready"
		ready <- ok
		for sc.Scan() {
		}
	}()
	select {
	case ok := <-ready:
		if !ok {
			t.Fatal("worker process did not start")
		}
	case <-time.After(time.Minute):
		t.Fatal("worker process not ready within a minute")
	}
	return cmd
}

func readLog(t *testing.T, path string) []string {
	t.Helper()
	crashLogMu.Lock()
	defer crashLogMu.Unlock()
	b, err := os.ReadFile(path)
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Fields(string(b))
}

func TestCrashWorkerKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a worker process: skipped with -short")
	}
	srv := devServer(t)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	queue := unique(t)
	log := filepath.Join(t.TempDir(), "steps.log")
	def := crashFlow(log)
	ex, err := temporal.Dial(ctx, &config.TemporalSettings{Host: srv.Addr, Namespace: srv.Namespace, TaskQueue: queue},
		workflow.NewRegistry(def), &temporal.Options{Logger: testLogger(t)}) // no worker in this process
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Close()

	var ids []string
	asks := map[string]bool{}
	for i := range crashRuns {
		in := crashIn{Ask: i%3 == 0}
		id, err := executor.Start(ctx, ex, def, in, &executor.StartOptions{ID: fmt.Sprintf("%s-r%02d", queue, i)})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		asks[id] = in.Ask
	}

	first := startCrashWorker(t, srv.Addr, queue, log)
	waitUntil(t, "a third of the steps to execute", func() bool { return len(readLog(t, log)) >= crashRuns*crashSteps/3 })
	if err := first.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	first.Wait()
	before := readLog(t, log)

	startCrashWorker(t, srv.Addr, queue, log)
	for _, id := range ids {
		if !asks[id] {
			continue
		}
		waitStatus(t, ex, id, func(r *executor.Run) bool { return r.Waiting != nil })
		if err := ex.Resume(ctx, id, json.RawMessage(`{"approved":true,"edits":"abc"}`), nil); err != nil {
			t.Fatal(err)
		}
	}
	want := 0
	for i := range crashSteps {
		want += i
	}
	for _, id := range ids {
		got, err := executor.ResultOf[int](ctx, ex, id)
		if err != nil {
			t.Fatalf("run %s: %v", id, err)
		}
		w := want
		if asks[id] {
			w += 3
		}
		if got != w {
			t.Errorf("run %s = %d, want %d", id, got, w)
		}
	}

	// Every step executed once, except that the last step a run logged
	// before the kill may have been in flight and run again.
	after := readLog(t, log)
	count := map[string]int{}
	for _, k := range after {
		count[k]++
	}
	lastBefore := map[string]string{}
	for _, k := range before {
		lastBefore[k[:strings.LastIndex(k, "/")]] = k
	}
	again := 0
	for _, id := range ids {
		for seq := 1; seq <= crashSteps+1; seq++ {
			k := fmt.Sprintf("%s/%d", id, seq)
			n := count[k]
			switch {
			case asks[id] && seq == crashSteps/2+2: // the input request, not a step
				if n != 0 {
					t.Errorf("%s: the input request logged as a step", k)
				}
			case !asks[id] && seq == crashSteps+1:
			case n == 2 && lastBefore[id] == k:
				again++
			case n != 1:
				t.Errorf("step %s executed %d times", k, n)
			}
		}
	}
	t.Logf("%d step executions before the kill, %d in all; %d in-flight steps ran again", len(before), len(after), again)
}
