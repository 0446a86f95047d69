// Package local is the default, durable workflow executor: runs execute in
// this process and every state change is journaled in a SQLite database
// (modernc.org/sqlite, WAL mode) before it is acknowledged. A process that
// restarts on the same database recovers every run: running runs continue
// by deterministic replay (completed steps return their journaled results
// without executing again), paused runs keep waiting, and timers fire at
// their journaled times.
//
// Quick start:
//
//	reg := workflow.NewRegistry(draft)
//	ex, err := local.Open(ctx, ".mcp-agent/runs.db", reg, nil)
//	if err != nil { ... }
//	defer ex.Close()
//	runID, err := executor.Start(ctx, ex, draft, Topic{Name: "otters"}, nil)
//	...
//	err = ex.Resume(ctx, runID, json.RawMessage(`{"approved":true}`), nil)
//	out, err := executor.ResultOf[Draft](ctx, ex, runID)
//
// One active executor owns a database at a time (an exclusive lock on
// "<path>.lock", released by the kernel if the process dies). Other
// processes, such as a CLI, open the same database with Options.Passive to
// inspect runs and to journal starts, signals, pauses and cancellations,
// which the active executor picks up within Options.PollInterval (or at its
// next start, if it is down).
//
// See docs/workflows.md for the model, the determinism rules and the
// at-least-once contract of steps.
package local

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// ErrLocked is returned by Open when another active executor holds the
// database.
var ErrLocked = errors.New("database is in use by another executor")

// ErrClosed is returned by the methods of a closed Executor.
var ErrClosed = errors.New("executor is closed")

// Options configures an Executor. The zero value is valid.
type Options struct {
	// Workers bounds how many runs execute workflow code at once; a run
	// waiting on a timer, signal, input or child gives its slot back while
	// it waits. 0 means 16.
	Workers int
	// Passive opens the database without executing runs: the Executor only
	// reads runs and journals requests for the active executor (see the
	// package doc). Passive executors take no lock.
	Passive bool
	// Synchronous is SQLite's synchronous setting: "FULL" (the default when
	// empty: a commit survives power loss) or "NORMAL" (a commit survives a
	// process crash but the last commits may be lost on power loss; faster).
	Synchronous string
	// PollInterval is how often an active executor looks for requests
	// journaled by other processes; 0 means 250ms.
	PollInterval time.Duration
	// Logger receives operational logs; nil means slog.Default().
	Logger *slog.Logger
}

// Executor is the local executor. Create one with [Open]; it is safe for
// concurrent use. It implements executor.Executor.
type Executor struct {
	path   string
	reg    *workflow.Registry
	opts   Options
	db     *sql.DB // writes: one connection
	rdb    *sql.DB // reads
	lock   *os.File
	logger *slog.Logger
	sem    chan struct{}

	ctx    context.Context // cancelled by Close
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu       sync.Mutex
	runs     map[string]*run  // runs executing in this process
	seen     map[string]int64 // poller: updated_at last seen per active run
	finished chan struct{}    // closed and replaced when any run ends
	closed   bool
	closeErr error
	closing  sync.Once
}

var _ executor.Executor = (*Executor)(nil)

// Open opens (creating if needed) the database at path, migrates it, and,
// unless opts.Passive, locks it and recovers every unfinished run. reg holds
// the workflows this process can execute; runs of workflows it does not
// hold are left untouched. opts may be nil.
func Open(ctx context.Context, path string, reg *workflow.Registry, opts *Options) (*Executor, error) {
	if reg == nil {
		reg = workflow.NewRegistry()
	}
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.Workers <= 0 {
		o.Workers = 16
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 250 * time.Millisecond
	}
	switch strings.ToUpper(o.Synchronous) {
	case "":
		o.Synchronous = "FULL"
	case "FULL", "NORMAL":
		o.Synchronous = strings.ToUpper(o.Synchronous)
	default:
		return nil, fmt.Errorf("local.Open: Options.Synchronous %q: want FULL or NORMAL", o.Synchronous)
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("local.Open: %w", err)
		}
	}
	e := &Executor{
		path:     path,
		reg:      reg,
		opts:     o,
		logger:   o.Logger.With("executor", "local", "db", path),
		sem:      make(chan struct{}, o.Workers),
		runs:     map[string]*run{},
		seen:     map[string]int64{},
		finished: make(chan struct{}),
	}
	if !o.Passive {
		lock, err := lockFile(path + ".lock")
		if err != nil {
			return nil, err
		}
		e.lock = lock
	}
	var err error
	e.db, e.rdb, err = openDB(ctx, path, o.Synchronous)
	if err != nil {
		if e.lock != nil {
			e.lock.Close()
		}
		return nil, fmt.Errorf("local.Open: %w", err)
	}
	e.ctx, e.cancel = context.WithCancel(context.Background())
	if !o.Passive {
		if err := e.publishWorkflows(ctx); err != nil {
			e.Close()
			return nil, fmt.Errorf("local.Open: recording the registered workflows: %w", err)
		}
		if err := e.recover(ctx); err != nil {
			e.Close()
			return nil, fmt.Errorf("local.Open: recovering runs: %w", err)
		}
		e.wg.Add(1)
		go e.poll()
	}
	return e, nil
}

// recover launches every unfinished run.
func (e *Executor) recover(ctx context.Context) error {
	rows, err := e.rdb.QueryContext(ctx, `SELECT id, updated_at FROM runs WHERE status IN ('scheduled', 'running', 'paused') ORDER BY created_at`)
	if err != nil {
		return err
	}
	type idAt struct {
		id string
		at int64
	}
	var ids []idAt
	for rows.Next() {
		var x idAt
		if err := rows.Scan(&x.id, &x.at); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, x)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, x := range ids {
		e.launch(x.id, x.at)
	}
	return nil
}

// Close stops executing runs and closes the database. Workflow code in
// flight is abandoned at its next workflow call; the context of a step in
// flight is cancelled, and a step that fails because of it is not journaled,
// so it executes again after the next Open (at least once). Unfinished runs
// keep their status in the database and are recovered by the next Open.
func (e *Executor) Close() error {
	e.closing.Do(func() {
		e.mu.Lock()
		e.closed = true
		e.mu.Unlock()
		e.cancel()
		e.wg.Wait()
		e.closeErr = errors.Join(e.db.Close(), e.rdb.Close())
		if e.lock != nil {
			e.closeErr = errors.Join(e.closeErr, e.lock.Close())
		}
	})
	return e.closeErr
}

func (e *Executor) isClosed() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.closed
}

// Workflows yields the registered workflows.
func (e *Executor) Workflows() iter.Seq[workflow.Workflow] { return e.reg.All() }

func (e *Executor) now() int64 { return time.Now().UnixNano() }

// writeTx runs fn in an IMMEDIATE transaction and commits it.
func (e *Executor) writeTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	if e.isClosed() {
		return ErrClosed
	}
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

// newRunID returns a random run ID.
func newRunID() string {
	var b [10]byte
	rand.Read(b[:])
	return "run-" + hex.EncodeToString(b[:])
}

// Start journals a new run and schedules it. It returns after the run and
// its run_scheduled event are committed.
func (e *Executor) Start(ctx context.Context, name string, input json.RawMessage, opts *executor.StartOptions) (string, error) {
	if wf, ok := e.reg.Lookup(name); ok {
		if err := wf.ValidateInput(input); err != nil {
			return "", err
		}
	} else if err := e.validatePublished(ctx, name, input); err != nil {
		return "", err
	}
	id := ""
	if opts != nil {
		id = opts.ID
	}
	if id == "" {
		id = newRunID()
	}
	if err := e.insertRun(ctx, id, name, input, "", 0, nil); err != nil {
		return "", err
	}
	e.launch(id, 0)
	return id, nil
}

func listOrNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

// insertRun journals a scheduled run; within tx if given.
func (e *Executor) insertRun(ctx context.Context, id, name string, input []byte, parent string, parentSeq int, tx *sql.Tx) error {
	if len(input) == 0 {
		input = []byte("null")
	}
	do := func(tx *sql.Tx) error {
		now := e.now()
		_, err := tx.ExecContext(ctx, `INSERT INTO runs (id, workflow, status, input, parent_id, parent_seq, created_at, updated_at)
			VALUES (?, ?, 'scheduled', ?, ?, ?, ?, ?)`, id, name, input, parent, parentSeq, now, now)
		if isUniqueViolation(err) {
			return fmt.Errorf("cannot start workflow %q as run %q: %w", name, id, executor.ErrRunExists)
		}
		if err != nil {
			return err
		}
		return addEvent(ctx, tx, id, now, event{typ: executor.EventRunScheduled, name: name, payload: input})
	}
	if tx != nil {
		return do(tx)
	}
	return e.writeTx(ctx, do)
}

// Status returns a snapshot of the run.
func (e *Executor) Status(ctx context.Context, runID string) (*executor.Run, error) {
	// One read transaction: the run's status and what it waits for come
	// from the same snapshot (a wait is journaled together with "paused").
	tx, err := e.rdb.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	r, err := scanRun(tx.QueryRowContext(ctx, `SELECT `+runCols+` FROM runs WHERE id = ?`, runID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, executor.NotFound(runID)
	}
	if err != nil {
		return nil, err
	}
	if !r.Status.Terminal() {
		c, err := waitingCommand(ctx, tx, runID)
		if err != nil {
			return nil, err
		}
		if c != nil {
			if r.Waiting, err = waitOf(c); err != nil {
				return nil, err
			}
		}
	}
	return r, nil
}

// Result waits for the run to finish and returns its output, or a
// *executor.RunError if it failed, was cancelled or was terminated.
func (e *Executor) Result(ctx context.Context, runID string) (json.RawMessage, error) {
	t := time.NewTicker(e.opts.PollInterval)
	defer t.Stop()
	for {
		e.mu.Lock()
		finished := e.finished
		e.mu.Unlock()
		r, err := e.Status(ctx, runID)
		if err != nil {
			return nil, err
		}
		if r.Status.Terminal() {
			if r.Status == executor.StatusCompleted {
				return r.Output, nil
			}
			return nil, &executor.RunError{RunID: r.ID, Workflow: r.Workflow, Status: r.Status, Message: r.Error}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-finished:
		case <-t.C:
		}
	}
}

// List yields runs newest first.
func (e *Executor) List(ctx context.Context, opts *executor.ListOptions) iter.Seq2[*executor.Run, error] {
	return func(yield func(*executor.Run, error) bool) {
		q := `SELECT ` + runCols + ` FROM runs`
		var where []string
		var args []any
		if opts != nil && opts.Workflow != "" {
			where = append(where, "workflow = ?")
			args = append(args, opts.Workflow)
		}
		if opts != nil && len(opts.Statuses) > 0 {
			for _, s := range opts.Statuses {
				if !s.Valid() {
					yield(nil, fmt.Errorf("unknown run status %q (want scheduled, running, paused, completed, failed, cancelled or terminated)", s))
					return
				}
			}
			where = append(where, "status IN (?"+strings.Repeat(", ?", len(opts.Statuses)-1)+")")
			for _, s := range opts.Statuses {
				args = append(args, string(s))
			}
		}
		if len(where) > 0 {
			q += " WHERE " + strings.Join(where, " AND ")
		}
		q += " ORDER BY created_at DESC, id DESC"
		if opts != nil && opts.Limit > 0 {
			q += fmt.Sprintf(" LIMIT %d", opts.Limit)
		}
		rows, err := e.rdb.QueryContext(ctx, q, args...)
		if err != nil {
			yield(nil, err)
			return
		}
		var runs []*executor.Run
		for rows.Next() {
			r, err := scanRun(rows)
			if err != nil {
				rows.Close()
				yield(nil, err)
				return
			}
			runs = append(runs, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			yield(nil, err)
			return
		}
		for _, r := range runs {
			if !yield(r, nil) {
				return
			}
		}
	}
}

// History returns every event of the run, oldest first.
func (e *Executor) History(ctx context.Context, runID string) ([]executor.Event, error) {
	if _, err := loadRunRow(ctx, e.rdb, runID); err != nil {
		return nil, err
	}
	rows, err := e.rdb.QueryContext(ctx, `SELECT id, run_id, at, type, seq, name, attempt, payload, error FROM events WHERE run_id = ? ORDER BY id`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var evs []executor.Event
	for rows.Next() {
		var ev executor.Event
		var at int64
		var payload []byte
		if err := rows.Scan(&ev.ID, &ev.RunID, &at, &ev.Type, &ev.Seq, &ev.Name, &ev.Attempt, &payload, &ev.Error); err != nil {
			return nil, err
		}
		ev.Time, ev.Payload = time.Unix(0, at), payload
		evs = append(evs, ev)
	}
	return evs, rows.Err()
}

// activeRun loads the run row within tx and refuses finished runs.
func activeRun(ctx context.Context, tx *sql.Tx, runID, verb string) (*runRow, error) {
	r, err := loadRunRow(ctx, tx, runID)
	if err != nil {
		return nil, err
	}
	if r.status.Terminal() {
		return nil, fmt.Errorf("run %q is %s; only scheduled, running or paused runs can be %s: %w", runID, r.status, verb, executor.ErrRunFinished)
	}
	return r, nil
}

// Pause journals a pause: the run stops before its next workflow operation
// and stays paused until Resume. Pausing a paused run is a no-op.
func (e *Executor) Pause(ctx context.Context, runID string) error {
	err := e.writeTx(ctx, func(tx *sql.Tx) error {
		r, err := activeRun(ctx, tx, runID, "paused")
		if err != nil || r.pauseRequested {
			return err
		}
		now := e.now()
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET pause_requested = 1, status = 'paused', updated_at = ? WHERE id = ?`, now, runID); err != nil {
			return err
		}
		return addEvent(ctx, tx, runID, now, event{typ: executor.EventPauseRequested})
	})
	if err == nil {
		e.notify(runID, nil)
	}
	return err
}

// Resume lifts a Pause and delivers payload on the resume signal:
//
//   - a finished run: ErrRunFinished; an unknown one: ErrRunNotFound;
//   - a run paused by Pause: the pause is lifted; with no payload that is all;
//   - a payload for a run waiting on the signal: it is validated against the
//     wait's schema (a mismatch is a *workflow.PayloadError naming the field,
//     and nothing changes) and delivered;
//   - a payload for a run not (yet) waiting: it is buffered and delivered to
//     the run's next wait on the signal, unless an earlier one is still
//     buffered (ErrSignalPending): a run takes one resume per wait;
//   - no payload, no Pause and no wait: ErrNotPaused.
//
// Resume returns after the change is committed.
func (e *Executor) Resume(ctx context.Context, runID string, payload json.RawMessage, opts *executor.ResumeOptions) error {
	sig := workflow.ResumeSignal
	if opts != nil && opts.Signal != "" {
		sig = opts.Signal
	}
	err := e.writeTx(ctx, func(tx *sql.Tx) error {
		r, err := activeRun(ctx, tx, runID, "resumed")
		if err != nil {
			return err
		}
		now := e.now()
		if r.pauseRequested {
			if _, err := tx.ExecContext(ctx, `UPDATE runs SET pause_requested = 0, updated_at = ? WHERE id = ?`, now, runID); err != nil {
				return err
			}
			if err := addEvent(ctx, tx, runID, now, event{typ: executor.EventResumed}); err != nil {
				return err
			}
		}
		if len(payload) == 0 {
			w, err := waitingCommand(ctx, tx, runID)
			if err != nil {
				return err
			}
			if w == nil || w.name != sig {
				if r.pauseRequested {
					return e.refresh(ctx, tx, r, now)
				}
				return fmt.Errorf("run %q is %s: it is neither paused nor waiting for %q; to deliver input before the run asks for it, resume with a payload: %w",
					runID, r.status, sig, executor.ErrNotPaused)
			}
		}
		if err := deliver(ctx, tx, runID, sig, payload, now, true); err != nil {
			return err
		}
		return e.refresh(ctx, tx, r, now)
	})
	if err == nil {
		e.notify(runID, nil)
	}
	return err
}

// refresh recomputes a started run's status; scheduled runs stay scheduled
// unless paused.
func (e *Executor) refresh(ctx context.Context, tx *sql.Tx, r *runRow, now int64) error {
	if r.status == executor.StatusScheduled || (r.status == executor.StatusPaused && r.startedAt == 0) {
		st := executor.StatusScheduled
		var paused bool
		if err := tx.QueryRowContext(ctx, `SELECT pause_requested FROM runs WHERE id = ?`, r.id).Scan(&paused); err != nil {
			return err
		}
		if paused {
			st = executor.StatusPaused
		}
		_, err := tx.ExecContext(ctx, `UPDATE runs SET status = ?, updated_at = ? WHERE id = ?`, st, now, r.id)
		return err
	}
	return refreshStatus(ctx, tx, r.id, now)
}

// Signal delivers a signal to the run's current wait on name, or buffers it
// (signals queue in the order sent; each wait takes one). It returns after
// the signal is committed.
func (e *Executor) Signal(ctx context.Context, runID, name string, payload json.RawMessage) error {
	if name == "" {
		return errors.New("signal name is empty")
	}
	err := e.writeTx(ctx, func(tx *sql.Tx) error {
		r, err := activeRun(ctx, tx, runID, "signalled")
		if err != nil {
			return err
		}
		now := e.now()
		if err := deliver(ctx, tx, runID, name, payload, now, false); err != nil {
			return err
		}
		return e.refresh(ctx, tx, r, now)
	})
	if err == nil {
		e.notify(runID, nil)
	}
	return err
}

// Cancel journals a cancellation request. A run that has not started ends
// as cancelled without running; a started run sees workflow.ErrCanceled from
// its blocking calls (the context of a step in flight is cancelled) and ends
// as cancelled when its function returns. Cancelling twice is a no-op.
func (e *Executor) Cancel(ctx context.Context, runID string) error {
	var children []string
	err := e.writeTx(ctx, func(tx *sql.Tx) error {
		r, err := activeRun(ctx, tx, runID, "cancelled")
		if err != nil || r.cancelRequested {
			return err
		}
		now := e.now()
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET cancel_requested = 1, updated_at = ? WHERE id = ?`, now, runID); err != nil {
			return err
		}
		children, err = activeChildren(ctx, tx, runID)
		if err != nil {
			return err
		}
		return addEvent(ctx, tx, runID, now, event{typ: executor.EventCancelRequested})
	})
	if err != nil {
		return err
	}
	e.notify(runID, func(r *run) { r.requestCancel() })
	for _, c := range children {
		if err := e.Cancel(ctx, c); err != nil && !errors.Is(err, executor.ErrRunFinished) {
			return err
		}
	}
	return nil
}

func activeChildren(ctx context.Context, tx *sql.Tx, runID string) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT id FROM runs WHERE parent_id = ? AND status IN ('scheduled', 'running', 'paused')`, runID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// Terminate ends the run at once (status terminated, error = reason)
// without running any more of its code; its unfinished children are
// terminated too. Its step in flight, if any, has its context cancelled and
// its result discarded.
func (e *Executor) Terminate(ctx context.Context, runID, reason string) error {
	if reason == "" {
		reason = "terminated"
	}
	var children []string
	err := e.writeTx(ctx, func(tx *sql.Tx) error {
		if _, err := activeRun(ctx, tx, runID, "terminated"); err != nil {
			return err
		}
		now := e.now()
		if _, err := tx.ExecContext(ctx, `UPDATE runs SET status = 'terminated', error = ?, ended_at = ?, updated_at = ? WHERE id = ?`,
			reason, now, now, runID); err != nil {
			return err
		}
		var err error
		if children, err = activeChildren(ctx, tx, runID); err != nil {
			return err
		}
		return addEvent(ctx, tx, runID, now, event{typ: executor.EventRunTerminated, err: reason})
	})
	if err != nil {
		return err
	}
	e.notify(runID, func(r *run) { r.terminate() })
	e.broadcastFinished()
	for _, c := range children {
		if err := e.Terminate(ctx, c, "parent run "+runID+" terminated"); err != nil && !errors.Is(err, executor.ErrRunFinished) {
			return err
		}
	}
	return nil
}

// notify applies fn to the run if it executes in this process and wakes it.
func (e *Executor) notify(runID string, fn func(*run)) {
	e.mu.Lock()
	r := e.runs[runID]
	e.mu.Unlock()
	if r == nil {
		return
	}
	if fn != nil {
		fn(r)
	}
	r.wakeUp()
}

func (e *Executor) broadcastFinished() {
	e.mu.Lock()
	close(e.finished)
	e.finished = make(chan struct{})
	e.mu.Unlock()
}

// poll picks up requests that other processes (passive executors) journaled:
// new runs, signals, pauses, cancellations and terminations.
func (e *Executor) poll() {
	defer e.wg.Done()
	t := time.NewTicker(e.opts.PollInterval)
	defer t.Stop()
	conn, err := e.rdb.Conn(e.ctx)
	if err != nil {
		return
	}
	defer conn.Close()
	var version int64 = -1
	for {
		select {
		case <-e.ctx.Done():
			return
		case <-t.C:
		}
		var v int64
		if err := conn.QueryRowContext(e.ctx, `PRAGMA data_version`).Scan(&v); err != nil {
			continue
		}
		if v == version {
			continue
		}
		version = v
		if err := e.pollOnce(conn); err != nil && e.ctx.Err() == nil {
			e.logger.Warn("polling for external requests", "error", err)
		}
	}
}

func (e *Executor) pollOnce(conn *sql.Conn) error {
	rows, err := conn.QueryContext(e.ctx, `SELECT id, workflow, status, updated_at, pause_requested, cancel_requested FROM runs
		WHERE status IN ('scheduled', 'running', 'paused') OR updated_at > ?`, e.now()-int64(time.Minute))
	if err != nil {
		return err
	}
	type st struct {
		id      string
		wf      string
		status  executor.Status
		at      int64
		paused  bool
		cancReq bool
	}
	var sts []st
	for rows.Next() {
		var s st
		if err := rows.Scan(&s.id, &s.wf, &s.status, &s.at, &s.paused, &s.cancReq); err != nil {
			rows.Close()
			return err
		}
		sts = append(sts, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	anyFinished := false
	for _, s := range sts {
		e.mu.Lock()
		r := e.runs[s.id]
		last, known := e.seen[s.id]
		if known && last == s.at {
			e.mu.Unlock()
			continue
		}
		if r != nil {
			e.seen[s.id] = s.at
		}
		e.mu.Unlock()
		switch {
		case r == nil && !s.status.Terminal():
			if _, ok := e.reg.Lookup(s.wf); ok { // else left for a process that registers it
				e.launch(s.id, s.at)
			}
		case r != nil && s.status.Terminal():
			r.terminate()
			r.wakeUp()
			anyFinished = true
		case r != nil:
			if s.cancReq {
				r.requestCancel()
			}
			r.wakeUp()
		}
	}
	if anyFinished {
		e.broadcastFinished()
	}
	return nil
}

// run is the in-process state of a run that executes here.
type run struct {
	id     string
	ctx    context.Context // cancelled by Cancel, Terminate and Close
	cancel context.CancelFunc
	wake   chan struct{} // capacity 1: something changed, look again

	cancelReq  atomic.Bool
	terminated atomic.Bool
}

func (r *run) wakeUp() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *run) requestCancel() {
	r.cancelReq.Store(true)
	r.cancel()
}

func (r *run) terminate() {
	r.terminated.Store(true)
	r.cancel()
}

// launch starts executing the run in this process, unless it already does
// or the executor is passive or closed.
func (e *Executor) launch(id string, updatedAt int64) {
	if e.opts.Passive {
		return
	}
	e.mu.Lock()
	if e.closed || e.runs[id] != nil {
		e.mu.Unlock()
		return
	}
	r := &run{id: id, wake: make(chan struct{}, 1)}
	r.ctx, r.cancel = context.WithCancel(e.ctx)
	e.runs[id] = r
	e.seen[id] = updatedAt
	e.wg.Add(1)
	e.mu.Unlock()
	go e.execute(r)
}

func (e *Executor) forget(r *run) {
	e.mu.Lock()
	delete(e.runs, r.id)
	delete(e.seen, r.id)
	e.mu.Unlock()
	r.cancel()
}

// publishWorkflows records the registered workflows and their input schemas
// for passive processes (see validatePublished).
func (e *Executor) publishWorkflows(ctx context.Context) error {
	now := time.Now().UnixNano()
	for w := range e.reg.All() {
		var schema []byte
		if s := w.InputSchema(); s != nil {
			b, err := json.Marshal(s)
			if err != nil {
				return fmt.Errorf("workflow %q: input schema: %w", w.Name(), err)
			}
			schema = b
		}
		if _, err := e.db.ExecContext(ctx, `INSERT INTO workflows (name, description, input_schema, updated_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET description = excluded.description, input_schema = excluded.input_schema, updated_at = excluded.updated_at`,
			w.Name(), w.Description(), schema, now); err != nil {
			return err
		}
	}
	return nil
}

// validatePublished checks a start of a workflow this process does not hold
// against what the active executor published: a passive process (the CLI)
// may start runs of the app's workflows, which the active process executes.
func (e *Executor) validatePublished(ctx context.Context, name string, input json.RawMessage) error {
	var names []string
	for w := range e.reg.All() {
		names = append(names, w.Name())
	}
	var schema []byte
	err := e.rdb.QueryRowContext(ctx, `SELECT input_schema FROM workflows WHERE name = ?`, name).Scan(&schema)
	if errors.Is(err, sql.ErrNoRows) || (err == nil && !e.opts.Passive) {
		rows, qerr := e.rdb.QueryContext(ctx, `SELECT name FROM workflows ORDER BY name`)
		if qerr == nil {
			for rows.Next() {
				var n string
				if rows.Scan(&n) == nil && !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
			rows.Close()
		}
		slices.Sort(names)
		return fmt.Errorf("workflow %q is not registered (registered: %s): %w", name, listOrNone(names), executor.ErrWorkflowNotFound)
	}
	if err != nil {
		return err
	}
	if len(schema) == 0 {
		return nil
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(schema, &s); err != nil {
		return fmt.Errorf("workflow %q: stored input schema: %w", name, err)
	}
	return workflow.ValidateAgainst(name, &s, input)
}
