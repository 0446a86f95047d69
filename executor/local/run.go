package local

// How a run executes.
//
// A run's workflow function executes in its own goroutine. Every operation it
// asks for (step, timer, side effect, signal wait, input request, child run)
// gets the next sequence number and a row in the commands table. When a run
// is (re)started, its function executes from the top with the journal
// loaded: an operation whose row exists returns the journaled outcome (after
// checking that its kind and name match, else the run fails with a
// NondeterminismError); the first operation without a row executes live.
//
// Every journal write goes through runContext.tx, which first checks that
// the run has not been terminated (by this or another process) and aborts
// the goroutine with runtime.Goexit if it has. Goexit is also how the
// goroutine stops when the executor closes: nothing further is journaled,
// and the run resumes by replay at the next Open.
//
// A run holds a worker slot only while its code executes: it gives it back
// while it blocks on a timer, a signal, input, a child, a Pause or a retry
// backoff.

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

type runContext struct {
	e       *Executor
	r       *run
	row     *runRow
	info    workflow.Info
	journal map[int]*command
	maxSeq  int
	seq     int
	now     int64 // deterministic time: start, then the latest completed operation
	slot    bool
	logger  *slog.Logger
}

var _ workflow.Context = (*runContext)(nil)

func (e *Executor) execute(r *run) {
	defer e.wg.Done()
	defer e.forget(r)
	rc := &runContext{e: e, r: r}
	defer rc.release()
	rc.acquire()

	row, err := loadRunRow(e.ctx, e.rdb, r.id)
	if err != nil {
		if e.ctx.Err() == nil {
			e.logger.Error("loading run", "run", r.id, "error", err)
		}
		return
	}
	if row.status.Terminal() {
		return
	}
	wf, ok := e.reg.Lookup(row.workflow)
	if !ok {
		e.logger.Warn("run of a workflow this process does not register is left for another process", "run", r.id, "workflow", row.workflow)
		return
	}
	rc.row = row
	if row.cancelRequested {
		r.requestCancel()
	}
	if err := rc.loadJournal(); err != nil {
		if e.ctx.Err() == nil {
			e.logger.Error("loading journal", "run", r.id, "error", err)
		}
		return
	}
	if row.startedAt == 0 && (row.cancelRequested || r.cancelReq.Load()) {
		rc.finish(nil, workflow.ErrCanceled)
		return
	}
	started := row.startedAt
	rc.tx(func(tx *sql.Tx, now int64) error {
		if started == 0 {
			started = now
			if _, err := tx.Exec(`UPDATE runs SET started_at = ?, status = 'running' WHERE id = ?`, now, r.id); err != nil {
				return err
			}
			if err := addEvent(e.ctx, tx, r.id, now, event{typ: executor.EventRunStarted}); err != nil {
				return err
			}
		} else if err := addEvent(e.ctx, tx, r.id, now, event{typ: executor.EventRunRecovered, seq: rc.maxSeq}); err != nil {
			return err
		}
		return refreshStatus(e.ctx, tx, r.id, now)
	})
	rc.now = started
	rc.info = workflow.Info{Workflow: row.workflow, RunID: r.id, ParentRunID: row.parentID, StartTime: time.Unix(0, started)}
	rc.logger = slog.New(&replayHandler{rc: rc, h: e.logger.Handler()}).With("workflow", row.workflow, "run", r.id)

	out, werr := rc.invoke(wf, row.input)
	// Reached only if the function returned: aborts end the goroutine with
	// runtime.Goexit and run just the deferred calls above.
	rc.finish(out, werr)
}

// invoke calls the workflow function, turning a panic into an error.
func (rc *runContext) invoke(wf workflow.Workflow, input []byte) (out json.RawMessage, err error) {
	defer func() {
		if p := recover(); p != nil {
			rc.e.logger.Error("workflow panicked", "workflow", rc.info.Workflow, "run", rc.r.id, "panic", p, "stack", string(debug.Stack()))
			out, err = nil, fmt.Errorf("workflow %q run %s panicked: %v", rc.info.Workflow, rc.r.id, p)
		}
	}()
	return wf.Execute(rc, input)
}

// finish journals the run's end.
func (rc *runContext) finish(out json.RawMessage, werr error) {
	e, r := rc.e, rc.r
	if r.terminated.Load() {
		return
	}
	if werr != nil && e.ctx.Err() != nil && !r.cancelReq.Load() {
		// The executor is closing and the workflow returned because of it:
		// leave the run to be recovered.
		return
	}
	if rc.seq < rc.maxSeq && !r.cancelReq.Load() {
		c := rc.journal[rc.seq+1]
		werr = &workflow.NondeterminismError{Workflow: rc.row.workflow, RunID: r.id, Seq: rc.seq + 1,
			Journal: describe(c.kind, c.name), Code: "the workflow to return"}
	}
	status, typ, msg := executor.StatusCompleted, executor.EventRunCompleted, ""
	switch {
	case werr == nil:
	case r.cancelReq.Load():
		status, typ, msg = executor.StatusCancelled, executor.EventRunCancelled, werr.Error()
		out = nil
	default:
		status, typ, msg = executor.StatusFailed, executor.EventRunFailed, werr.Error()
		out = nil
	}
	rc.tx(func(tx *sql.Tx, now int64) error {
		if _, err := tx.Exec(`UPDATE runs SET status = ?, output = ?, error = ?, ended_at = ?, updated_at = ? WHERE id = ?`,
			status, nullBytes(out), msg, now, now, r.id); err != nil {
			return err
		}
		return addEvent(e.ctx, tx, r.id, now, event{typ: typ, payload: out, err: msg})
	})
	e.broadcastFinished()
}

// fail ends the run as failed with err and stops its goroutine.
func (rc *runContext) fail(err error) {
	rc.e.logger.Error("run failed", "workflow", rc.row.workflow, "run", rc.r.id, "error", err)
	rc.tx(func(tx *sql.Tx, now int64) error {
		if _, err2 := tx.Exec(`UPDATE runs SET status = 'failed', error = ?, ended_at = ?, updated_at = ? WHERE id = ?`,
			err.Error(), now, now, rc.r.id); err2 != nil {
			return err2
		}
		return addEvent(rc.e.ctx, tx, rc.r.id, now, event{typ: executor.EventRunFailed, seq: rc.seq, err: err.Error()})
	})
	rc.e.broadcastFinished()
	rc.abort()
}

// abort stops the workflow goroutine, running its deferred calls.
func (rc *runContext) abort() {
	rc.release()
	runtime.Goexit()
}

func (rc *runContext) acquire() {
	if rc.slot {
		return
	}
	select {
	case rc.e.sem <- struct{}{}:
		rc.slot = true
	case <-rc.e.ctx.Done():
		rc.abort()
	}
}

func (rc *runContext) release() {
	if rc.slot {
		<-rc.e.sem
		rc.slot = false
	}
}

// tx runs fn in a write transaction guarded against terminated runs; any
// failure aborts the goroutine (the run is recovered at the next Open).
func (rc *runContext) tx(fn func(tx *sql.Tx, now int64) error) {
	e := rc.e
	err := func() error {
		tx, err := e.db.BeginTx(context.Background(), nil)
		if err != nil {
			return err
		}
		defer tx.Rollback()
		var status executor.Status
		if err := tx.QueryRow(`SELECT status FROM runs WHERE id = ?`, rc.r.id).Scan(&status); err != nil {
			return err
		}
		if status.Terminal() {
			rc.r.terminate()
			return errTerminated
		}
		if err := fn(tx, e.now()); err != nil {
			return err
		}
		return tx.Commit()
	}()
	if errors.Is(err, errTerminated) {
		rc.abort()
	}
	if err != nil {
		e.logger.Error("journal write failed; the run stops here and is recovered when the executor next opens", "run", rc.r.id, "error", err)
		rc.abort()
	}
}

var errTerminated = errors.New("run terminated")

func (rc *runContext) loadJournal() error {
	rows, err := rc.e.rdb.QueryContext(rc.e.ctx, `SELECT `+commandCols+` FROM commands WHERE run_id = ? ORDER BY seq`, rc.r.id)
	if err != nil {
		return err
	}
	defer rows.Close()
	rc.journal = map[int]*command{}
	for rows.Next() {
		c, err := scanCommand(rows)
		if err != nil {
			return err
		}
		rc.journal[c.seq] = c
		rc.maxSeq = max(rc.maxSeq, c.seq)
	}
	return rows.Err()
}

func (rc *runContext) reloadCommand(seq int) *command {
	c, err := scanCommand(rc.e.rdb.QueryRowContext(context.Background(),
		`SELECT `+commandCols+` FROM commands WHERE run_id = ? AND seq = ?`, rc.r.id, seq))
	if err != nil {
		rc.e.logger.Error("reading journal failed; the run stops here and is recovered when the executor next opens", "run", rc.r.id, "error", err)
		rc.abort()
	}
	return c
}

// next assigns the next sequence number to an operation and returns its
// journal entry, or nil if it is to run live (after honouring a Pause).
func (rc *runContext) next(kind, name string) *command {
	if rc.e.ctx.Err() != nil || rc.r.terminated.Load() {
		rc.abort()
	}
	rc.seq++
	c := rc.journal[rc.seq]
	if c == nil {
		rc.honourPause()
		return nil
	}
	if c.kind != kind || c.name != name {
		rc.fail(&workflow.NondeterminismError{Workflow: rc.row.workflow, RunID: rc.r.id, Seq: rc.seq,
			Journal: describe(c.kind, c.name), Code: describe(kind, name)})
	}
	return c
}

// honourPause blocks while the run is paused by Pause (until Resume, Cancel
// or Terminate).
func (rc *runContext) honourPause() {
	for {
		var status executor.Status
		var paused, cancel bool
		err := rc.e.rdb.QueryRowContext(context.Background(), `SELECT status, pause_requested, cancel_requested FROM runs WHERE id = ?`, rc.r.id).
			Scan(&status, &paused, &cancel)
		if err != nil {
			rc.e.logger.Error("reading run failed; the run stops here and is recovered when the executor next opens", "run", rc.r.id, "error", err)
			rc.abort()
		}
		if status.Terminal() {
			rc.r.terminate()
			rc.abort()
		}
		if cancel {
			rc.r.requestCancel()
		}
		if !paused || cancel {
			return
		}
		if _, err := rc.block(0, nil); err != nil {
			return // cancelled: the operation reports it
		}
	}
}

// block gives the worker slot back and waits until deadline (unix ns; 0 =
// none) passes, the run is woken or extra is closed (woken), or the run is
// cancelled (err wraps workflow.ErrCanceled). It aborts if the run is
// terminated or the executor closes.
func (rc *runContext) block(deadline int64, extra <-chan struct{}) (timedOut bool, err error) {
	var timer <-chan time.Time
	if deadline != 0 {
		d := time.Duration(deadline - time.Now().UnixNano())
		if d <= 0 {
			return true, nil
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	if rc.r.cancelReq.Load() {
		return false, workflow.ErrCanceled
	}
	rc.release()
	select {
	case <-timer:
		timedOut = true
	case <-rc.r.wake:
	case <-extra:
	case <-rc.r.ctx.Done():
		if rc.e.ctx.Err() != nil || rc.r.terminated.Load() {
			rc.abort()
		}
		err = workflow.ErrCanceled
	}
	rc.acquire()
	return timedOut, err
}

func (rc *runContext) advance(t int64) {
	if t > rc.now {
		rc.now = t
	}
}

// Context returns the run's context: cancelled on Cancel, Terminate and
// executor Close.
func (rc *runContext) Context() context.Context { return rc.r.ctx }

// Info describes the run.
func (rc *runContext) Info() workflow.Info { return rc.info }

// IsReplaying reports whether journaled operations lie ahead.
func (rc *runContext) IsReplaying() bool { return rc.seq < rc.maxSeq }

// Logger returns a logger that is silent during replay.
func (rc *runContext) Logger() *slog.Logger { return rc.logger }

// Now is the run's start time, advanced to the completion time of each
// step, timer, signal, input and child as the run passes it.
func (rc *runContext) Now() time.Time { return time.Unix(0, rc.now) }

func (rc *runContext) canceled(what string) error {
	return fmt.Errorf("%s: %w", what, workflow.ErrCanceled)
}

// RunStep executes a step live or returns its journaled outcome.
func (rc *runContext) RunStep(name string, opts workflow.StepOptions, fn workflow.RawStepFunc) (json.RawMessage, error) {
	c := rc.next(kindStep, name)
	seq := rc.seq
	stepErr := func(c *command) error {
		return &workflow.StepError{Step: name, Seq: seq, Attempts: c.attempts, Message: c.err, Canceled: c.canceled}
	}
	if c != nil {
		switch c.state {
		case stateCompleted:
			rc.advance(c.doneAt)
			return c.result, nil
		case stateFailed:
			rc.advance(c.doneAt)
			return nil, stepErr(c)
		}
		// started: in flight when the process stopped; it runs again.
	}
	if rc.r.cancelReq.Load() {
		return nil, rc.canceled(fmt.Sprintf("step %q", name))
	}
	policy := workflow.RetryPolicy{}
	if opts.Retry != nil {
		policy = *opts.Retry
	}
	policy = policy.Normalized()
	attempt, exists := 1, c != nil
	if exists {
		attempt = max(c.attempts, 1)
	}
	key := fmt.Sprintf("%s/%d", rc.r.id, seq)
	for {
		rc.tx(func(tx *sql.Tx, now int64) error {
			var err error
			if exists {
				_, err = tx.Exec(`UPDATE commands SET state = 'started', attempts = ? WHERE run_id = ? AND seq = ?`, attempt, rc.r.id, seq)
			} else {
				_, err = tx.Exec(`INSERT INTO commands (run_id, seq, kind, name, state, attempts) VALUES (?, ?, 'step', ?, 'started', ?)`,
					rc.r.id, seq, name, attempt)
			}
			if err != nil {
				return err
			}
			return addEvent(rc.e.ctx, tx, rc.r.id, now, event{typ: executor.EventStepStarted, seq: seq, name: name, attempt: attempt})
		})
		exists = true
		sc := workflow.StepContext{Workflow: rc.row.workflow, RunID: rc.r.id, Step: name, Seq: seq, Attempt: attempt, IdempotencyKey: key}
		res, err := callStep(rc.r.ctx, opts.Timeout, fn, sc)
		if err == nil {
			rc.tx(func(tx *sql.Tx, now int64) error {
				if _, err := tx.Exec(`UPDATE commands SET state = 'completed', result = ?, done_at = ? WHERE run_id = ? AND seq = ?`,
					res, now, rc.r.id, seq); err != nil {
					return err
				}
				rc.advance(now)
				return addEvent(rc.e.ctx, tx, rc.r.id, now, event{typ: executor.EventStepCompleted, seq: seq, name: name, attempt: attempt, payload: res})
			})
			return res, nil
		}
		if rc.r.terminated.Load() || (rc.e.ctx.Err() != nil && !rc.r.cancelReq.Load()) {
			rc.abort() // terminated or closing: not journaled; runs again after recovery
		}
		canceled := rc.r.cancelReq.Load()
		final := canceled || workflow.IsNonRetryable(err) || attempt >= policy.MaxAttempts
		msg := err.Error()
		rc.tx(func(tx *sql.Tx, now int64) error {
			if final {
				if _, err := tx.Exec(`UPDATE commands SET state = 'failed', error = ?, canceled = ?, done_at = ? WHERE run_id = ? AND seq = ?`,
					msg, canceled, now, rc.r.id, seq); err != nil {
					return err
				}
				rc.advance(now)
			}
			return addEvent(rc.e.ctx, tx, rc.r.id, now, event{typ: executor.EventStepFailed, seq: seq, name: name, attempt: attempt, err: msg})
		})
		if final {
			return nil, &workflow.StepError{Step: name, Seq: seq, Attempts: attempt, Message: msg, Canceled: canceled}
		}
		deadline := time.Now().Add(policy.Backoff(attempt)).UnixNano()
		for {
			timedOut, err := rc.block(deadline, nil)
			if err != nil {
				rc.tx(func(tx *sql.Tx, now int64) error {
					_, err := tx.Exec(`UPDATE commands SET state = 'failed', error = ?, canceled = 1, done_at = ? WHERE run_id = ? AND seq = ?`,
						"cancelled while waiting to retry after: "+msg, now, rc.r.id, seq)
					return err
				})
				return nil, &workflow.StepError{Step: name, Seq: seq, Attempts: attempt, Message: msg, Canceled: true}
			}
			if timedOut {
				break
			}
		}
		attempt++
	}
}

// callStep runs one attempt, turning a panic into an error.
func callStep(ctx context.Context, timeout time.Duration, fn workflow.RawStepFunc, sc workflow.StepContext) (res json.RawMessage, err error) {
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	defer func() {
		if p := recover(); p != nil {
			res, err = nil, fmt.Errorf("step panicked: %v", p)
		}
	}()
	res, err = fn(ctx, sc)
	if err == nil && !json.Valid(res) {
		err = workflow.NonRetryable(fmt.Errorf("step returned invalid JSON"))
	}
	return res, err
}

// Sleep waits on a durable timer.
func (rc *runContext) Sleep(d time.Duration) error {
	if d <= 0 {
		return nil
	}
	c := rc.next(kindTimer, "sleep")
	seq := rc.seq
	if c == nil {
		if rc.r.cancelReq.Load() {
			return rc.canceled("sleep")
		}
		fireAt := time.Now().Add(d).UnixNano()
		rc.tx(func(tx *sql.Tx, now int64) error {
			if _, err := tx.Exec(`INSERT INTO commands (run_id, seq, kind, name, state, fire_at) VALUES (?, ?, 'timer', 'sleep', 'waiting', ?)`,
				rc.r.id, seq, fireAt); err != nil {
				return err
			}
			p, _ := json.Marshal(map[string]any{"duration": d.String(), "fire_at": time.Unix(0, fireAt).UTC()})
			return addEvent(rc.e.ctx, tx, rc.r.id, now, event{typ: executor.EventTimerStarted, seq: seq, name: "sleep", payload: p})
		})
		c = &command{seq: seq, kind: kindTimer, name: "sleep", state: stateWaiting, fireAt: fireAt}
	}
	if c.state == stateFired {
		rc.advance(c.doneAt)
		return nil
	}
	for {
		timedOut, err := rc.block(c.fireAt, nil)
		if err != nil {
			return rc.canceled("sleep")
		}
		if timedOut {
			break
		}
	}
	rc.tx(func(tx *sql.Tx, now int64) error {
		if _, err := tx.Exec(`UPDATE commands SET state = 'fired', done_at = ? WHERE run_id = ? AND seq = ?`, now, rc.r.id, seq); err != nil {
			return err
		}
		rc.advance(now)
		return addEvent(rc.e.ctx, tx, rc.r.id, now, event{typ: executor.EventTimerFired, seq: seq, name: "sleep"})
	})
	return nil
}

// SideEffect journals fn's value once.
func (rc *runContext) SideEffect(name string, fn func() json.RawMessage) (json.RawMessage, error) {
	c := rc.next(kindSideEffect, name)
	if c != nil {
		return c.result, nil
	}
	v := fn()
	seq := rc.seq
	rc.tx(func(tx *sql.Tx, now int64) error {
		if _, err := tx.Exec(`INSERT INTO commands (run_id, seq, kind, name, state, result) VALUES (?, ?, 'side_effect', ?, 'completed', ?)`,
			rc.r.id, seq, name, []byte(v)); err != nil {
			return err
		}
		return addEvent(rc.e.ctx, tx, rc.r.id, now, event{typ: executor.EventSideEffect, seq: seq, name: name, payload: v})
	})
	return v, nil
}

// WaitSignal waits for a signal.
func (rc *runContext) WaitSignal(name string, timeout time.Duration, schema *jsonschema.Schema) (json.RawMessage, bool, error) {
	return rc.wait(kindSignal, name, "", schema, timeout)
}

// RequestInput pauses for human input.
func (rc *runContext) RequestInput(req workflow.InputRequest) (json.RawMessage, error) {
	sig := req.Signal
	if sig == "" {
		sig = workflow.ResumeSignal
	}
	v, ok, err := rc.wait(kindInput, sig, req.Prompt, req.Schema, req.Timeout)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("input %q after %s: %w", req.Prompt, req.Timeout, workflow.ErrTimeout)
	}
	return v, nil
}

func (rc *runContext) wait(kind, signal, prompt string, schema *jsonschema.Schema, timeout time.Duration) (json.RawMessage, bool, error) {
	c := rc.next(kind, signal)
	seq := rc.seq
	if c == nil {
		if rc.r.cancelReq.Load() {
			return nil, false, rc.canceled(fmt.Sprintf("waiting for %q", signal))
		}
		var schemaJSON []byte
		if schema != nil {
			var err error
			if schemaJSON, err = json.Marshal(schema); err != nil {
				return nil, false, fmt.Errorf("schema of %q: %w", signal, err)
			}
		}
		var deadline int64
		if timeout > 0 {
			deadline = time.Now().Add(timeout).UnixNano()
		}
		typ := executor.EventWaitStarted
		var payload []byte
		if kind == kindInput {
			typ = executor.EventInputRequested
			payload, _ = json.Marshal(map[string]any{"prompt": prompt, "schema": schema})
		}
		rc.tx(func(tx *sql.Tx, now int64) error {
			if _, err := tx.Exec(`INSERT INTO commands (run_id, seq, kind, name, state, fire_at, prompt, schema) VALUES (?, ?, ?, ?, 'waiting', ?, ?, ?)`,
				rc.r.id, seq, kind, signal, deadline, prompt, nullBytes(schemaJSON)); err != nil {
				return err
			}
			if err := addEvent(rc.e.ctx, tx, rc.r.id, now, event{typ: typ, seq: seq, name: signal, payload: payload}); err != nil {
				return err
			}
			if err := consumeBuffered(tx, rc.r.id, seq, signal, schemaJSON, now); err != nil {
				return err
			}
			return refreshStatus(rc.e.ctx, tx, rc.r.id, now)
		})
		c = rc.reloadCommand(seq)
	}
	for {
		switch c.state {
		case stateCompleted:
			rc.advance(c.doneAt)
			return c.result, true, nil
		case stateTimedOut:
			rc.advance(c.doneAt)
			return nil, false, nil
		}
		timedOut, err := rc.block(c.fireAt, nil)
		if err != nil {
			return nil, false, rc.canceled(fmt.Sprintf("waiting for %q", signal))
		}
		if timedOut {
			rc.tx(func(tx *sql.Tx, now int64) error {
				res, err := tx.Exec(`UPDATE commands SET state = 'timed_out', done_at = ? WHERE run_id = ? AND seq = ? AND state = 'waiting'`,
					now, rc.r.id, seq)
				if err != nil {
					return err
				}
				if n, _ := res.RowsAffected(); n == 0 {
					return nil // a signal won the race
				}
				if err := addEvent(rc.e.ctx, tx, rc.r.id, now, event{typ: executor.EventWaitTimedOut, seq: seq, name: signal}); err != nil {
					return err
				}
				return refreshStatus(rc.e.ctx, tx, rc.r.id, now)
			})
		}
		c = rc.reloadCommand(seq)
	}
}

// consumeBuffered hands the oldest buffered signal matching the schema to
// the wait at seq; buffered payloads that fail the schema are rejected.
func consumeBuffered(tx *sql.Tx, runID string, seq int, name string, schema []byte, now int64) error {
	rows, err := tx.Query(`SELECT id, payload FROM signals WHERE run_id = ? AND name = ? AND consumed_seq IS NULL ORDER BY id`, runID, name)
	if err != nil {
		return err
	}
	type sig struct {
		id      int64
		payload []byte
	}
	var sigs []sig
	for rows.Next() {
		var s sig
		if err := rows.Scan(&s.id, &s.payload); err != nil {
			rows.Close()
			return err
		}
		sigs = append(sigs, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	ctx := context.Background()
	for _, s := range sigs {
		if verr := checkSchema(schema, s.payload, name); verr != nil {
			if _, err := tx.Exec(`UPDATE signals SET consumed_seq = ?, rejected = ? WHERE id = ?`, seq, verr.Error(), s.id); err != nil {
				return err
			}
			if err := addEvent(ctx, tx, runID, now, event{typ: executor.EventSignalRejected, seq: seq, name: name, payload: s.payload, err: verr.Error()}); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.Exec(`UPDATE signals SET consumed_seq = ? WHERE id = ?`, seq, s.id); err != nil {
			return err
		}
		if _, err := tx.Exec(`UPDATE commands SET state = 'completed', result = ?, done_at = ? WHERE run_id = ? AND seq = ?`,
			s.payload, now, runID, seq); err != nil {
			return err
		}
		return addEvent(ctx, tx, runID, now, event{typ: executor.EventSignalDelivered, seq: seq, name: name})
	}
	return nil
}

// RunChild starts a child run and waits for it.
func (rc *runContext) RunChild(name string, input json.RawMessage, opts workflow.ChildOptions) (json.RawMessage, error) {
	c := rc.next(kindChild, name)
	seq := rc.seq
	if c == nil {
		if rc.r.cancelReq.Load() {
			return nil, rc.canceled(fmt.Sprintf("child workflow %q", name))
		}
		wf, ok := rc.e.reg.Lookup(name)
		if !ok {
			return nil, fmt.Errorf("child workflow %q is not registered: %w", name, executor.ErrWorkflowNotFound)
		}
		if err := wf.ValidateInput(input); err != nil {
			return nil, err
		}
		childID := opts.ID
		if childID == "" {
			childID = fmt.Sprintf("%s-c%d", rc.r.id, seq)
		}
		var startErr error
		rc.tx(func(tx *sql.Tx, now int64) error {
			if err := rc.e.insertRun(rc.e.ctx, childID, name, input, rc.r.id, seq, tx); err != nil {
				if errors.Is(err, executor.ErrRunExists) {
					startErr = err
					return nil
				}
				return err
			}
			if _, err := tx.Exec(`INSERT INTO commands (run_id, seq, kind, name, state, child_id) VALUES (?, ?, 'child', ?, 'waiting', ?)`,
				rc.r.id, seq, name, childID); err != nil {
				return err
			}
			p, _ := json.Marshal(map[string]string{"run_id": childID})
			return addEvent(rc.e.ctx, tx, rc.r.id, now, event{typ: executor.EventChildStarted, seq: seq, name: name, payload: p})
		})
		if startErr != nil {
			return nil, startErr
		}
		rc.e.launch(childID, 0)
		c = &command{seq: seq, kind: kindChild, name: name, state: stateWaiting, childID: childID}
	}
	for {
		switch c.state {
		case stateCompleted:
			rc.advance(c.doneAt)
			return c.result, nil
		case stateFailed:
			rc.advance(c.doneAt)
			return nil, errors.New(c.err)
		}
		rc.e.mu.Lock()
		finished := rc.e.finished
		rc.e.mu.Unlock()
		child, err := rc.e.Status(context.Background(), c.childID)
		if err != nil {
			rc.e.logger.Error("reading child run failed; the run stops here and is recovered when the executor next opens", "run", rc.r.id, "child", c.childID, "error", err)
			rc.abort()
		}
		if child.Status.Terminal() {
			state, msg := stateCompleted, ""
			if child.Status != executor.StatusCompleted {
				state = stateFailed
				msg = fmt.Sprintf("child workflow %q run %s %s: %s", name, child.ID, child.Status, child.Error)
			}
			rc.tx(func(tx *sql.Tx, now int64) error {
				if _, err := tx.Exec(`UPDATE commands SET state = ?, result = ?, error = ?, done_at = ? WHERE run_id = ? AND seq = ?`,
					state, nullBytes(child.Output), msg, now, rc.r.id, seq); err != nil {
					return err
				}
				return addEvent(rc.e.ctx, tx, rc.r.id, now, event{typ: executor.EventChildCompleted, seq: seq, name: name, payload: child.Output, err: msg})
			})
			c = rc.reloadCommand(seq)
			continue
		}
		poll := time.Now().Add(rc.e.opts.PollInterval).UnixNano()
		if _, err := rc.block(poll, finished); err != nil {
			if cerr := rc.e.Cancel(context.Background(), c.childID); cerr != nil && !errors.Is(cerr, executor.ErrRunFinished) {
				rc.e.logger.Warn("cancelling child run", "run", rc.r.id, "child", c.childID, "error", cerr)
			}
			return nil, rc.canceled(fmt.Sprintf("child workflow %q", name))
		}
	}
}

// SetStatus records a status message (not while replaying).
func (rc *runContext) SetStatus(msg string) {
	if rc.IsReplaying() {
		return
	}
	rc.tx(func(tx *sql.Tx, now int64) error {
		if _, err := tx.Exec(`UPDATE runs SET status_message = ?, updated_at = ? WHERE id = ?`, msg, now, rc.r.id); err != nil {
			return err
		}
		return addEvent(rc.e.ctx, tx, rc.r.id, now, event{typ: executor.EventStatusSet, name: msg})
	})
}

// ReportProgress records progress (not while replaying).
func (rc *runContext) ReportProgress(p workflow.Progress) {
	if rc.IsReplaying() {
		return
	}
	b, _ := json.Marshal(p)
	rc.tx(func(tx *sql.Tx, now int64) error {
		if _, err := tx.Exec(`UPDATE runs SET progress = ?, updated_at = ? WHERE id = ?`, b, now, rc.r.id); err != nil {
			return err
		}
		return addEvent(rc.e.ctx, tx, rc.r.id, now, event{typ: executor.EventProgress, payload: b})
	})
}

// replayHandler drops log records while the run replays.
type replayHandler struct {
	rc *runContext
	h  slog.Handler
}

func (h *replayHandler) Enabled(ctx context.Context, l slog.Level) bool {
	return !h.rc.IsReplaying() && h.h.Enabled(ctx, l)
}
func (h *replayHandler) Handle(ctx context.Context, r slog.Record) error { return h.h.Handle(ctx, r) }
func (h *replayHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &replayHandler{rc: h.rc, h: h.h.WithAttrs(as)}
}
func (h *replayHandler) WithGroup(name string) slog.Handler {
	return &replayHandler{rc: h.rc, h: h.h.WithGroup(name)}
}
