package local

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/workflow"
	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // database/sql driver "sqlite"
)

//go:embed migrations/*.sql
var migrations embed.FS

// openDB opens the store's write pool (one connection, IMMEDIATE
// transactions, so that writers serialise without deadlocks) and read pool
// (WAL readers never block the writer), and migrates the schema.
func openDB(ctx context.Context, path string, sync string) (w, r *sql.DB, err error) {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous("+sync+")")
	q.Add("_pragma", "foreign_keys(1)")
	// A SQLite URI: escape what would end or corrupt the path part.
	esc := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(path)
	dsn := "file:" + esc + "?" + q.Encode()
	w, err = sql.Open("sqlite", dsn+"&_txlock=immediate")
	if err != nil {
		return nil, nil, err
	}
	w.SetMaxOpenConns(1)
	r, err = sql.Open("sqlite", dsn)
	if err != nil {
		w.Close()
		return nil, nil, err
	}
	r.SetMaxOpenConns(4)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		r.Close()
		return nil, nil, fmt.Errorf("opening %s: %w", path, err)
	}
	sub, _ := fs.Sub(migrations, "migrations")
	p, err := goose.NewProvider(goose.DialectSQLite3, w, sub,
		goose.WithTableName("executor_local_migrations"), goose.WithDisableGlobalRegistry(true))
	if err == nil {
		_, err = p.Up(ctx)
	}
	if err != nil {
		w.Close()
		r.Close()
		return nil, nil, fmt.Errorf("migrating %s: %w", path, err)
	}
	return w, r, nil
}

// command is one row of the replay journal.
type command struct {
	seq      int
	kind     string
	name     string
	state    string
	result   json.RawMessage
	err      string
	canceled bool
	attempts int
	fireAt   int64
	prompt   string
	schema   json.RawMessage
	childID  string
	doneAt   int64
}

const commandCols = `seq, kind, name, state, result, error, canceled, attempts, fire_at, prompt, schema, child_id, done_at`

type scanner interface{ Scan(...any) error }

func scanCommand(s scanner) (*command, error) {
	c := &command{}
	var result, schema []byte
	err := s.Scan(&c.seq, &c.kind, &c.name, &c.state, &result, &c.err, &c.canceled, &c.attempts,
		&c.fireAt, &c.prompt, &schema, &c.childID, &c.doneAt)
	c.result, c.schema = result, schema
	return c, err
}

// describe names a journaled operation for nondeterminism errors.
func describe(kind, name string) string {
	switch kind {
	case kindStep:
		return fmt.Sprintf("%q", name)
	case kindTimer:
		return "a timer"
	case kindSideEffect:
		return fmt.Sprintf("side effect %q", name)
	case kindSignal:
		return fmt.Sprintf("a wait for signal %q", name)
	case kindInput:
		return fmt.Sprintf("a request for input on %q", name)
	case kindChild:
		return fmt.Sprintf("child workflow %q", name)
	}
	return kind + " " + name
}

// Command kinds and states.
const (
	kindStep       = "step"
	kindTimer      = "timer"
	kindSideEffect = "side_effect"
	kindSignal     = "signal"
	kindInput      = "input"
	kindChild      = "child"

	stateStarted   = "started"
	stateWaiting   = "waiting"
	stateCompleted = "completed"
	stateFailed    = "failed"
	stateFired     = "fired"
	stateTimedOut  = "timed_out"
)

// event is a history event to append within a transaction.
type event struct {
	typ     executor.EventType
	seq     int
	name    string
	attempt int
	payload []byte
	err     string
}

func addEvent(ctx context.Context, tx *sql.Tx, runID string, at int64, ev event) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO events (run_id, at, type, seq, name, attempt, payload, error) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		runID, at, string(ev.typ), ev.seq, ev.name, ev.attempt, nullBytes(ev.payload), ev.err)
	return err
}

func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}

// refreshStatus recomputes the status of a running or paused run from its
// pause flag and pending waits, and bumps updated_at.
func refreshStatus(ctx context.Context, tx *sql.Tx, runID string, now int64) error {
	_, err := tx.ExecContext(ctx, `UPDATE runs SET updated_at = ?, status = CASE
		WHEN pause_requested = 1 OR EXISTS (SELECT 1 FROM commands c WHERE c.run_id = runs.id
			AND c.state = 'waiting' AND c.kind IN ('signal', 'input')) THEN 'paused'
		ELSE 'running' END
		WHERE id = ? AND status IN ('running', 'paused')`, now, runID)
	return err
}

// runRow is the subset of a run row the executor needs to act on it.
type runRow struct {
	id, workflow    string
	status          executor.Status
	input           []byte
	parentID        string
	pauseRequested  bool
	cancelRequested bool
	createdAt       int64
	startedAt       int64
}

func loadRunRow(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) (*runRow, error) {
	r := &runRow{}
	err := q.QueryRowContext(ctx, `SELECT id, workflow, status, input, parent_id, pause_requested, cancel_requested, created_at, started_at
		FROM runs WHERE id = ?`, id).Scan(&r.id, &r.workflow, &r.status, &r.input, &r.parentID,
		&r.pauseRequested, &r.cancelRequested, &r.createdAt, &r.startedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, executor.NotFound(id)
	}
	return r, err
}

const runCols = `id, workflow, status, input, output, error, parent_id, status_message, progress,
	pause_requested, cancel_requested, created_at, updated_at, ended_at`

func scanRun(s scanner) (*executor.Run, error) {
	var (
		r                         executor.Run
		input, output, progress   []byte
		created, updated, endedAt int64
	)
	if err := s.Scan(&r.ID, &r.Workflow, &r.Status, &input, &output, &r.Error, &r.ParentRunID,
		&r.StatusMessage, &progress, &r.PauseRequested, &r.CancelRequested, &created, &updated, &endedAt); err != nil {
		return nil, err
	}
	r.Input, r.Output = input, output
	if len(progress) > 0 {
		r.Progress = &workflow.Progress{}
		if err := json.Unmarshal(progress, r.Progress); err != nil {
			return nil, err
		}
	}
	r.CreatedAt, r.UpdatedAt = time.Unix(0, created), time.Unix(0, updated)
	if endedAt != 0 {
		r.EndedAt = time.Unix(0, endedAt)
	}
	return &r, nil
}

// waitingCommand returns the run's pending signal or input wait, if any.
func waitingCommand(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, runID string) (*command, error) {
	c, err := scanCommand(q.QueryRowContext(ctx, `SELECT `+commandCols+` FROM commands
		WHERE run_id = ? AND state = 'waiting' AND kind IN ('signal', 'input') ORDER BY seq DESC LIMIT 1`, runID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return c, err
}

func waitOf(c *command) (*executor.Wait, error) {
	w := &executor.Wait{Kind: c.kind, Signal: c.name, Prompt: c.prompt, Seq: c.seq}
	if c.fireAt != 0 {
		w.Deadline = time.Unix(0, c.fireAt)
	}
	if len(c.schema) > 0 {
		w.Schema = &jsonschema.Schema{}
		if err := json.Unmarshal(c.schema, w.Schema); err != nil {
			return nil, err
		}
	}
	return w, nil
}

// deliver records a signal within tx: it completes the run's matching wait
// if there is one (after validating the payload against the wait's schema)
// or buffers it. With single set, a second undelivered signal of the same
// name is refused with ErrSignalPending.
func deliver(ctx context.Context, tx *sql.Tx, runID, name string, payload []byte, now int64, single bool) error {
	if len(payload) == 0 {
		payload = []byte("null")
	}
	if !json.Valid(payload) {
		return &workflow.PayloadError{Subject: fmt.Sprintf("payload of signal %q", name), Err: errors.New("not valid JSON")}
	}
	w, err := waitingCommand(ctx, tx, runID)
	if err != nil {
		return err
	}
	if w != nil && w.name == name {
		if err := checkSchema(w.schema, payload, name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO signals (run_id, name, payload, created_at, consumed_seq) VALUES (?, ?, ?, ?, ?)`,
			runID, name, payload, now, w.seq); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE commands SET state = 'completed', result = ?, done_at = ? WHERE run_id = ? AND seq = ?`,
			payload, now, runID, w.seq); err != nil {
			return err
		}
		if err := addEvent(ctx, tx, runID, now, event{typ: executor.EventSignalReceived, name: name, payload: payload}); err != nil {
			return err
		}
		return addEvent(ctx, tx, runID, now, event{typ: executor.EventSignalDelivered, seq: w.seq, name: name})
	}
	if single {
		var since int64
		err := tx.QueryRowContext(ctx, `SELECT created_at FROM signals WHERE run_id = ? AND name = ? AND consumed_seq IS NULL ORDER BY id LIMIT 1`,
			runID, name).Scan(&since)
		if err == nil {
			return fmt.Errorf("run %q already has an undelivered %q signal (sent %s ago); it is delivered when the run next waits for %q: %w",
				runID, name, time.Duration(now-since).Round(time.Millisecond), name, executor.ErrSignalPending)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO signals (run_id, name, payload, created_at) VALUES (?, ?, ?, ?)`,
		runID, name, payload, now); err != nil {
		return err
	}
	return addEvent(ctx, tx, runID, now, event{typ: executor.EventSignalReceived, name: name, payload: payload})
}

func checkSchema(schema []byte, payload []byte, signal string) error {
	if len(schema) == 0 {
		return nil
	}
	var s jsonschema.Schema
	if err := json.Unmarshal(schema, &s); err != nil {
		return fmt.Errorf("journaled schema of signal %q: %w", signal, err)
	}
	if err := workflow.ValidatePayload(&s, payload); err != nil {
		return &workflow.PayloadError{Subject: fmt.Sprintf("payload of signal %q", signal), Err: err}
	}
	return nil
}

func isUniqueViolation(err error) bool {
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
