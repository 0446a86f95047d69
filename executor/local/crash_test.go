package local_test

// The crash test: a worker process (this test binary, re-executed) runs 100
// workflows and is killed with SIGKILL mid-flight; a second worker recovers
// them. Every run must end as it does in an uninterrupted control run, and no
// step that completed before the kill may execute again (steps append their
// idempotency key to an external log file on every execution).

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/executor/local"
	"github.com/mcp-agent-go/mcp-agent/workflow"
	"go.uber.org/goleak"
)

const (
	envWorkerDB  = "LOCAL_CRASH_WORKER_DB"
	envWorkerLog = "LOCAL_CRASH_WORKER_LOG"
	crashRuns    = 100
	crashWorkers = 8
)

func TestMain(m *testing.M) {
	if db := os.Getenv(envWorkerDB); db != "" {
		crashWorker(db, os.Getenv(envWorkerLog))
		return
	}
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintln(os.Stderr, "goroutines leaked:", err)
			code = 1
		}
	}
	os.Exit(code)
}

// crashWorker is the worker process: it recovers every run in db and
// executes until it is killed.
func crashWorker(db, log string) {
	stepLog = log
	ex, err := local.Open(context.Background(), db, crashRegistry(), &local.Options{Workers: crashWorkers, PollInterval: 10 * time.Millisecond})
	if err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		os.Exit(2)
	}
	fmt.Println("worker ready")
	_ = ex
	select {} // until killed
}

// stepLog is the file steps append their idempotency keys to.
var (
	stepLog   string
	stepLogMu sync.Mutex
)

// logged is a step that records each execution and takes a little while, so
// that a kill is likely to land inside one.
func logged[T any](wctx workflow.Context, name string, v T) (T, error) {
	return workflow.Step(wctx, name, func(ctx context.Context, sc workflow.StepContext) (T, error) {
		stepLogMu.Lock()
		f, err := os.OpenFile(stepLog, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err == nil {
			_, err = f.WriteString(sc.IdempotencyKey + "\n")
			f.Close()
		}
		stepLogMu.Unlock()
		if err != nil {
			return v, err
		}
		t := time.NewTimer(15 * time.Millisecond)
		defer t.Stop()
		select {
		case <-t.C:
			return v, nil
		case <-ctx.Done():
			return v, ctx.Err()
		}
	}, nil)
}

func crashRegistry() *workflow.Registry {
	multi := workflow.Define("multi", func(wctx workflow.Context, in Topic) ([]string, error) {
		var out []string
		for i := range in.Words {
			s, err := logged(wctx, fmt.Sprintf("part-%d", i), fmt.Sprintf("%s/%d", in.Name, i))
			if err != nil {
				return nil, err
			}
			out = append(out, s)
		}
		return out, nil
	}, nil)
	approve := workflow.Define("approve", func(wctx workflow.Context, in Topic) (string, error) {
		draft, err := logged(wctx, "draft", "draft of "+in.Name)
		if err != nil {
			return "", err
		}
		a, err := workflow.RequestInput[Approval](wctx, "publish "+draft+"?", nil)
		if err != nil {
			return "", err
		}
		if !a.Approved {
			return "rejected " + draft, nil
		}
		return logged(wctx, "publish", "published "+draft+a.Edits)
	}, nil)
	sleepy := workflow.Define("sleepy", func(wctx workflow.Context, in Topic) (string, error) {
		a, err := logged(wctx, "before", in.Name+" went to sleep")
		if err != nil {
			return "", err
		}
		if err := workflow.Sleep(wctx, 300*time.Millisecond); err != nil {
			return "", err
		}
		b, err := logged(wctx, "after", " and woke up")
		return a + b, err
	}, nil)
	return workflow.NewRegistry(multi, approve, sleepy)
}

// crashPlan is the 100 runs: their IDs, workflows and inputs.
func crashPlan() (ids []string, start func(ctx context.Context, ex executor.Executor) error) {
	for i := range crashRuns {
		ids = append(ids, fmt.Sprintf("run-%03d", i))
	}
	start = func(ctx context.Context, ex executor.Executor) error {
		for i, id := range ids {
			name := [...]string{"multi", "approve", "sleepy"}[i%3]
			in, _ := json.Marshal(Topic{Name: id, Words: 3 + i%4})
			if _, err := ex.Start(ctx, name, in, &executor.StartOptions{ID: id}); err != nil {
				return err
			}
		}
		return nil
	}
	return ids, start
}

// approvalFor is the human input a paused run gets.
func approvalFor(runID string) json.RawMessage {
	var n int
	fmt.Sscanf(runID, "run-%d", &n)
	b, _ := json.Marshal(Approval{Approved: n%2 == 0, Edits: " (edited for " + runID + ")"})
	return b
}

// resumePaused resumes every run waiting for input.
func resumePaused(ctx context.Context, t *testing.T, ex executor.Executor) int {
	n := 0
	for r, err := range ex.List(ctx, &executor.ListOptions{Statuses: []executor.Status{executor.StatusPaused}}) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Waiting == nil {
			if s, err := ex.Status(ctx, r.ID); err == nil {
				r = s
			}
		}
		if r.Waiting == nil || r.Waiting.Kind != "input" {
			continue
		}
		if err := ex.Resume(ctx, r.ID, approvalFor(r.ID), nil); err != nil {
			t.Fatalf("resume %s: %v", r.ID, err)
		}
		n++
	}
	return n
}

type outcome struct {
	Status executor.Status
	Output string
	Error  string
}

// finish resumes paused runs until every run has finished, and returns
// their outcomes.
func finish(ctx context.Context, t *testing.T, ex executor.Executor, ids []string) map[string]outcome {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		resumePaused(ctx, t, ex)
		done := 0
		for r, err := range ex.List(ctx, nil) {
			if err != nil {
				t.Fatal(err)
			}
			if r.Status.Terminal() {
				done++
			}
		}
		if done == len(ids) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d runs finished", done, len(ids))
		}
		time.Sleep(10 * time.Millisecond)
	}
	out := map[string]outcome{}
	for _, id := range ids {
		r, err := ex.Status(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		out[id] = outcome{r.Status, string(r.Output), r.Error}
	}
	return out
}

func countLog(t *testing.T, path string) map[string]int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	counts := map[string]int{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		counts[sc.Text()]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return counts
}

// completedSteps reads the idempotency keys of journaled step completions.
func completedSteps(t *testing.T, db *sql.DB) map[string]bool {
	t.Helper()
	rows, err := db.Query(`SELECT run_id, seq FROM commands WHERE kind = 'step' AND state = 'completed'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	keys := map[string]bool{}
	for rows.Next() {
		var id string
		var seq int
		if err := rows.Scan(&id, &seq); err != nil {
			t.Fatal(err)
		}
		keys[fmt.Sprintf("%s/%d", id, seq)] = true
	}
	return keys
}

type worker struct {
	cmd *exec.Cmd
	out *bytes.Buffer
}

func startWorker(t *testing.T, db, log string) *worker {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), envWorkerDB+"="+db, envWorkerLog+"="+log)
	w := &worker{cmd: cmd, out: &bytes.Buffer{}}
	cmd.Stdout, cmd.Stderr = w.out, w.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.kill() })
	return w
}

func (w *worker) kill() {
	if w.cmd.ProcessState != nil {
		return
	}
	w.cmd.Process.Signal(syscall.SIGKILL)
	w.cmd.Wait()
}

func TestCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("crash test skipped in -short mode")
	}
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	ids, start := crashPlan()
	began := time.Now()

	// The control: the same runs, uninterrupted, in this process.
	stepLog = filepath.Join(dir, "control.log")
	control := open(t, filepath.Join(dir, "control.db"), crashRegistry(), &local.Options{Workers: crashWorkers, PollInterval: 10 * time.Millisecond})
	if err := start(ctx, control); err != nil {
		t.Fatal(err)
	}
	want := finish(ctx, t, control, ids)
	control.Close()
	t.Logf("control run: %v", time.Since(began))
	for id, c := range countLog(t, stepLog) {
		if c != 1 {
			t.Fatalf("control run: step %s executed %d times", id, c)
		}
	}

	// The crash: runs are journaled through a passive executor, then a
	// worker process recovers and executes them.
	dbPath, logPath := filepath.Join(dir, "runs.db"), filepath.Join(dir, "steps.log")
	passive := open(t, dbPath, crashRegistry(), &local.Options{Passive: true, PollInterval: 10 * time.Millisecond})
	if err := start(ctx, passive); err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", "file:"+dbPath+"?_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(q string) int {
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	w := startWorker(t, dbPath, logPath)
	waitUntil(t, "steps completed and runs paused", func() bool {
		return count(`SELECT count(*) FROM commands WHERE kind = 'step' AND state = 'completed'`) >= 60 &&
			count(`SELECT count(*) FROM runs WHERE status = 'paused'`) >= 5
	})
	w.kill()
	if !strings.Contains(w.out.String(), "worker ready") {
		t.Fatalf("worker output:\n%s", w.out)
	}

	// State at the kill, read from the database the dead worker left.
	before := completedSteps(t, db)
	finished := count(`SELECT count(*) FROM runs WHERE status IN ('completed', 'failed', 'cancelled', 'terminated')`)
	inFlight := count(`SELECT count(*) FROM commands WHERE kind = 'step' AND state = 'started'`)
	t.Logf("at the kill: %d steps completed, %d in flight, %d of %d runs finished, %d paused", len(before), inFlight, finished, crashRuns,
		count(`SELECT count(*) FROM runs WHERE status = 'paused'`))
	if finished == crashRuns {
		t.Fatal("every run finished before the kill; the test proves nothing")
	}

	// Input given while no worker runs is kept and delivered after restart.
	resumedWhileDown := resumePaused(ctx, t, passive)
	if resumedWhileDown == 0 {
		t.Fatal("no run was paused for input at the kill")
	}

	w2 := startWorker(t, dbPath, logPath)
	got := finish(ctx, t, passive, ids)
	w2.kill()

	for _, id := range ids {
		if got[id] != want[id] {
			t.Errorf("run %s: got %+v, control %+v", id, got[id], want[id])
		}
	}
	counts := countLog(t, logPath)
	repeated := 0
	for key := range before {
		if counts[key] != 1 {
			t.Errorf("step %s completed before the kill but executed %d times", key, counts[key])
		}
	}
	for key, n := range counts {
		if n > 1 {
			repeated++
			if n > 2 {
				t.Errorf("step %s executed %d times; at most the step in flight at the kill may run twice", key, n)
			}
		}
	}
	if repeated > crashWorkers {
		t.Errorf("%d steps executed twice, more than could be in flight (%d workers)", repeated, crashWorkers)
	}
	for key := range completedSteps(t, db) {
		if counts[key] == 0 {
			t.Errorf("step %s is journaled as completed but never executed", key)
		}
	}
	t.Logf("%d runs resumed while the worker was down; %d steps in flight at the kill ran again", resumedWhileDown, repeated)
	if t.Failed() {
		t.Logf("worker output:\n%s", w2.out)
	}
}
