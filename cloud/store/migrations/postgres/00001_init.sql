-- Schema of cloud/store on PostgreSQL. Keep in step with ../sqlite/.

-- +goose Up
CREATE TABLE orgs (
    name       TEXT PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL
);
INSERT INTO orgs (name, created_at) VALUES ('local', date_trunc('second', now()));

CREATE TABLE deployments (
    id             TEXT PRIMARY KEY,
    org            TEXT NOT NULL REFERENCES orgs (name),
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('server', 'app')),
    spec           JSONB NOT NULL,
    status         TEXT NOT NULL,
    status_message TEXT NOT NULL DEFAULT '',
    desired_state  TEXT NOT NULL CHECK (desired_state IN ('running', 'stopped')),
    endpoint       TEXT NOT NULL DEFAULT '',
    version        INTEGER NOT NULL,
    digest         TEXT NOT NULL,
    event_seq      BIGINT NOT NULL DEFAULT 0, -- last event sequence number (retention)
    log_seq        BIGINT NOT NULL DEFAULT 0, -- last log line sequence number
    created_at     TIMESTAMPTZ NOT NULL,
    updated_at     TIMESTAMPTZ NOT NULL,
    deleted_at     TIMESTAMPTZ                -- NULL while live
);
-- Names are unique among an org's live deployments; a deleted name is free.
CREATE UNIQUE INDEX deployments_org_name ON deployments (org, name) WHERE deleted_at IS NULL;
CREATE INDEX deployments_org_deleted ON deployments (org, deleted_at) WHERE deleted_at IS NOT NULL;

CREATE TABLE deployment_versions (
    deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    version       INTEGER NOT NULL,
    digest        TEXT NOT NULL,
    spec          JSONB NOT NULL,
    created_at    TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (deployment_id, version)
);

CREATE TABLE events (
    id            BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    org           TEXT NOT NULL,
    deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    seq           BIGINT NOT NULL,
    time          TIMESTAMPTZ NOT NULL,
    kind          TEXT NOT NULL,
    message       TEXT NOT NULL,
    data          JSONB
);
CREATE INDEX events_org_id ON events (org, id);
CREATE INDEX events_deployment_seq ON events (deployment_id, seq);

CREATE TABLE logs (
    deployment_id TEXT NOT NULL REFERENCES deployments (id) ON DELETE CASCADE,
    seq           BIGINT NOT NULL,
    time          TIMESTAMPTZ NOT NULL,
    stream        TEXT NOT NULL,
    line          TEXT NOT NULL,
    PRIMARY KEY (deployment_id, seq)
);

CREATE TABLE users (
    id         TEXT PRIMARY KEY,
    org        TEXT NOT NULL REFERENCES orgs (name),
    email      TEXT NOT NULL,
    name       TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMPTZ NOT NULL,
    UNIQUE (org, email)
);

CREATE TABLE api_keys (
    id         TEXT PRIMARY KEY,
    org        TEXT NOT NULL REFERENCES orgs (name),
    user_id    TEXT REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT NOT NULL,
    prefix     TEXT NOT NULL,
    hash       TEXT NOT NULL UNIQUE,
    created_at TIMESTAMPTZ NOT NULL,
    revoked_at TIMESTAMPTZ
);
CREATE INDEX api_keys_org ON api_keys (org, created_at);

-- +goose Down
DROP TABLE api_keys;
DROP TABLE users;
DROP TABLE logs;
DROP TABLE events;
DROP TABLE deployment_versions;
DROP TABLE deployments;
DROP TABLE orgs;
