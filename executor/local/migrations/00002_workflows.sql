-- +goose Up
-- workflows: the workflows the active executor registered, with their input
-- schemas, so that passive processes (the CLI) can start runs of workflows
-- they do not hold, with the input checked against the right schema.
CREATE TABLE workflows (
    name         TEXT PRIMARY KEY,
    description  TEXT NOT NULL DEFAULT '',
    input_schema BLOB,
    updated_at   INTEGER NOT NULL -- unix nanoseconds
);

-- +goose Down
DROP TABLE workflows;
