-- +goose Up
-- runs: one row per run. status is kept in step with the journal below by
-- the same transactions that write it.
CREATE TABLE runs (
    id               TEXT PRIMARY KEY,
    workflow         TEXT NOT NULL,
    status           TEXT NOT NULL,
    input            BLOB,
    output           BLOB,
    error            TEXT NOT NULL DEFAULT '',
    parent_id        TEXT NOT NULL DEFAULT '',
    parent_seq       INTEGER NOT NULL DEFAULT 0,
    status_message   TEXT NOT NULL DEFAULT '',
    progress         BLOB,
    pause_requested  INTEGER NOT NULL DEFAULT 0,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL, -- unix nanoseconds
    updated_at       INTEGER NOT NULL,
    started_at       INTEGER NOT NULL DEFAULT 0,
    ended_at         INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_by_workflow ON runs (workflow, created_at);
CREATE INDEX runs_by_status ON runs (status, created_at);

-- commands: the replay journal. One row per operation of a run, in the
-- order the workflow asked for them (seq is 1-based).
CREATE TABLE commands (
    run_id    TEXT NOT NULL,
    seq       INTEGER NOT NULL,
    kind      TEXT NOT NULL,    -- step, timer, side_effect, signal, input, child
    name      TEXT NOT NULL,
    state     TEXT NOT NULL,    -- started, waiting, completed, failed, fired, timed_out
    result    BLOB,
    error     TEXT NOT NULL DEFAULT '',
    canceled  INTEGER NOT NULL DEFAULT 0,
    attempts  INTEGER NOT NULL DEFAULT 0,
    fire_at   INTEGER NOT NULL DEFAULT 0, -- timer fire time or wait deadline, unix ns; 0 = none
    prompt    TEXT NOT NULL DEFAULT '',
    schema    BLOB,
    child_id  TEXT NOT NULL DEFAULT '',
    done_at   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;
CREATE INDEX commands_waiting ON commands (run_id, name) WHERE state = 'waiting';

-- signals: every accepted signal; consumed_seq is the wait that took it.
CREATE TABLE signals (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id       TEXT NOT NULL,
    name         TEXT NOT NULL,
    payload      BLOB,
    created_at   INTEGER NOT NULL,
    consumed_seq INTEGER,
    rejected     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX signals_pending ON signals (run_id, name, id) WHERE consumed_seq IS NULL;

-- events: the append-only history shown to users.
CREATE TABLE events (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    run_id  TEXT NOT NULL,
    at      INTEGER NOT NULL,
    type    TEXT NOT NULL,
    seq     INTEGER NOT NULL DEFAULT 0,
    name    TEXT NOT NULL DEFAULT '',
    attempt INTEGER NOT NULL DEFAULT 0,
    payload BLOB,
    error   TEXT NOT NULL DEFAULT ''
);
CREATE INDEX events_by_run ON events (run_id, id);

-- +goose Down
DROP TABLE events;
DROP TABLE signals;
DROP TABLE commands;
DROP TABLE runs;
