package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Names of orgs and deployments: lowercase letters, digits, '-' and '_',
// starting with a letter or digit, at most 63 bytes. No '.', which separates
// org and name in "{org}.{name}".
var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

func checkName(what, name string) error {
	if !nameRE.MatchString(name) {
		return &Error{Err: ErrInvalid, Msg: fmt.Sprintf("invalid %s name %q: use lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 63 characters", what, name)}
	}
	return nil
}

func notFound(format string, args ...any) error {
	return &Error{Err: ErrNotFound, Msg: fmt.Sprintf(format, args...)}
}

func invalid(format string, args ...any) error {
	return &Error{Err: ErrInvalid, Msg: fmt.Sprintf(format, args...)}
}

func deploymentNotFound(org, id string) error {
	return notFound("deployment %q not found in org %q", id, org)
}

var idEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newID returns prefix + 16 random base32 characters (80 bits).
func newID(prefix string) string {
	var b [10]byte
	rand.Read(b[:])
	return prefix + idEncoding.EncodeToString(b[:])
}

// nowUTC returns the store's clock in UTC, truncated to microseconds (the
// precision of both databases).
func (s *DB) nowUTC() time.Time { return s.now().UTC().Truncate(time.Microsecond) }

func normTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// tx runs fn in a write transaction, committing when it returns nil.
func (s *DB) tx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: begin: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	return nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// timeCol scans a time column: INTEGER microseconds (SQLite), a time
// (PostgreSQL) or NULL (the zero time).
type timeCol struct{ t *time.Time }

func (c timeCol) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*c.t = time.Time{}
	case int64:
		*c.t = time.UnixMicro(v).UTC()
	case time.Time:
		*c.t = v.UTC()
	default:
		return fmt.Errorf("store: cannot scan %T into a time", src)
	}
	return nil
}

// Orgs.

func (s *DB) CreateOrg(ctx context.Context, name string) (Org, error) {
	if err := checkName("org", name); err != nil {
		return Org{}, err
	}
	o := Org{Name: name, CreatedAt: s.nowUTC()}
	_, err := s.w.ExecContext(ctx, s.d.q(`INSERT INTO orgs (name, created_at) VALUES (?, ?)`), name, s.d.timeArg(o.CreatedAt))
	if s.d.isUnique(err) {
		return Org{}, &Error{Err: ErrConflict, Msg: fmt.Sprintf("org %q already exists", name)}
	}
	if err != nil {
		return Org{}, fmt.Errorf("store: create org: %w", err)
	}
	return o, nil
}

func (s *DB) ListOrgs(ctx context.Context) ([]Org, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT name, created_at FROM orgs ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("store: list orgs: %w", err)
	}
	var out []Org
	for rows.Next() {
		var o Org
		if err := rows.Scan(&o.Name, timeCol{&o.CreatedAt}); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: list orgs: %w", err)
		}
		out = append(out, o)
	}
	return out, closeRows(rows, "list orgs")
}

func closeRows(rows *sql.Rows, what string) error {
	err := rows.Err()
	rows.Close()
	if err != nil {
		return fmt.Errorf("store: %s: %w", what, err)
	}
	return nil
}

func orgExists(ctx context.Context, q querier, d dialect, org string) error {
	var one int
	err := q.QueryRowContext(ctx, d.q(`SELECT 1 FROM orgs WHERE name = ?`), org).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound("org %q not found", org)
	}
	if err != nil {
		return fmt.Errorf("store: look up org: %w", err)
	}
	return nil
}

// Deployments.

const deploymentCols = `id, org, name, kind, spec, status, status_message, desired_state, endpoint, version, digest, created_at, updated_at, deleted_at`

type scanner interface{ Scan(dest ...any) error }

func scanDeployment(row scanner) (Deployment, error) {
	var d Deployment
	var spec []byte
	err := row.Scan(&d.ID, &d.Org, &d.Name, &d.Kind, &spec, &d.Status, &d.StatusMessage, &d.DesiredState,
		&d.Endpoint, &d.Version, &d.Digest, timeCol{&d.CreatedAt}, timeCol{&d.UpdatedAt}, timeCol{&d.DeletedAt})
	if err != nil {
		return Deployment{}, err
	}
	if err := json.Unmarshal(spec, &d.Spec); err != nil {
		return Deployment{}, fmt.Errorf("store: deployment %s: decode spec: %w", d.ID, err)
	}
	return d, nil
}

func marshalSpec(s Spec) (string, error) {
	b, err := json.Marshal(s)
	if err != nil {
		return "", fmt.Errorf("store: encode spec: %w", err)
	}
	return string(b), nil
}

func (s *DB) CreateDeployment(ctx context.Context, d Deployment) (Deployment, error) {
	if err := checkName("org", d.Org); err != nil {
		return Deployment{}, err
	}
	switch d.Kind {
	case KindServer, KindApp:
	default:
		return Deployment{}, invalid("invalid deployment kind %q: use %q or %q", d.Kind, KindServer, KindApp)
	}
	if err := checkName(string(d.Kind), d.Name); err != nil {
		return Deployment{}, err
	}
	switch d.DesiredState {
	case "":
		d.DesiredState = DesiredRunning
	case DesiredRunning, DesiredStopped:
	default:
		return Deployment{}, invalid("invalid desired state %q: use %q or %q", d.DesiredState, DesiredRunning, DesiredStopped)
	}
	if d.Digest == "" {
		d.Digest = SpecDigest(d.Spec)
	}
	spec, err := marshalSpec(d.Spec)
	if err != nil {
		return Deployment{}, err
	}
	now := s.nowUTC()
	d.ID = newID("dep_")
	d.Status, d.StatusMessage = StatusPending, ""
	d.Version = 1
	d.CreatedAt, d.UpdatedAt, d.DeletedAt = now, now, time.Time{}
	conflict := func(kind Kind) error {
		return &Error{Err: ErrConflict, Msg: fmt.Sprintf("%s %q already exists", kind, d.FullName())}
	}
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if err := orgExists(ctx, tx, s.d, d.Org); err != nil {
			return err
		}
		var kind Kind
		err := tx.QueryRowContext(ctx, s.d.q(`SELECT kind FROM deployments WHERE org = ? AND name = ? AND deleted_at IS NULL`), d.Org, d.Name).Scan(&kind)
		if err == nil {
			return conflict(kind)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("store: create deployment: %w", err)
		}
		_, err = tx.ExecContext(ctx, s.d.q(`INSERT INTO deployments (`+deploymentCols+`)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL)`),
			d.ID, d.Org, d.Name, string(d.Kind), spec, string(d.Status), d.StatusMessage, string(d.DesiredState), d.Endpoint,
			d.Version, d.Digest, s.d.timeArg(now), s.d.timeArg(now))
		if s.d.isUnique(err) { // created concurrently (PostgreSQL)
			return conflict(d.Kind)
		}
		if err != nil {
			return fmt.Errorf("store: create deployment: %w", err)
		}
		_, err = tx.ExecContext(ctx, s.d.q(`INSERT INTO deployment_versions (deployment_id, version, digest, spec, created_at) VALUES (?, ?, ?, ?, ?)`),
			d.ID, d.Version, d.Digest, spec, s.d.timeArg(now))
		if err != nil {
			return fmt.Errorf("store: create deployment: %w", err)
		}
		_, err = s.appendEvent(ctx, tx, d.Org, Event{DeploymentID: d.ID, Time: now, Kind: EventCreated,
			Message: fmt.Sprintf("%s %s created", d.Kind, d.FullName())})
		return err
	})
	if err != nil {
		return Deployment{}, err
	}
	return d, nil
}

func (s *DB) GetDeployment(ctx context.Context, org string, kind Kind, name string) (Deployment, error) {
	d, err := scanDeployment(s.r.QueryRowContext(ctx, s.d.q(`SELECT `+deploymentCols+` FROM deployments
		WHERE org = ? AND name = ? AND deleted_at IS NULL`), org, name))
	if err == nil && (kind == "" || d.Kind == kind) {
		return d, nil
	}
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return Deployment{}, fmt.Errorf("store: get deployment: %w", err)
	}
	what := string(kind)
	if what == "" {
		what = "deployment"
	}
	return Deployment{}, notFound("%s %q not found", what, org+"."+name)
}

func (s *DB) GetDeploymentByID(ctx context.Context, org, id string) (Deployment, error) {
	return s.getByID(ctx, s.r, org, id, "")
}

// getByID reads a deployment of org; lock is the dialect's row lock suffix
// inside a write transaction ("" otherwise).
func (s *DB) getByID(ctx context.Context, q querier, org, id, lock string) (Deployment, error) {
	d, err := scanDeployment(q.QueryRowContext(ctx, s.d.q(`SELECT `+deploymentCols+` FROM deployments WHERE id = ? AND org = ?`+lock), id, org))
	if errors.Is(err, sql.ErrNoRows) {
		return Deployment{}, deploymentNotFound(org, id)
	}
	if err != nil {
		return Deployment{}, fmt.Errorf("store: get deployment: %w", err)
	}
	return d, nil
}

// getLive reads and, on PostgreSQL, locks a live deployment in a write
// transaction.
func (s *DB) getLive(ctx context.Context, tx *sql.Tx, org, id string) (Deployment, error) {
	d, err := s.getByID(ctx, tx, org, id, s.d.forUpdate)
	if err == nil && d.Status == StatusDeleted {
		return Deployment{}, notFound("deployment %q (%s) was deleted", id, d.FullName())
	}
	return d, err
}

func (s *DB) ListDeployments(ctx context.Context, org string, opts *ListOptions) ([]Deployment, error) {
	if opts == nil {
		opts = &ListOptions{}
	}
	query := `SELECT ` + deploymentCols + ` FROM deployments WHERE org = ?`
	args := []any{org}
	if !opts.IncludeDeleted {
		query += ` AND deleted_at IS NULL`
	}
	if opts.Kind != "" {
		query += ` AND kind = ?`
		args = append(args, string(opts.Kind))
	}
	if opts.Status != "" {
		query += ` AND status = ?`
		args = append(args, string(opts.Status))
	}
	if opts.DesiredState != "" {
		query += ` AND desired_state = ?`
		args = append(args, string(opts.DesiredState))
	}
	if opts.After != "" {
		query += ` AND name > ?`
		args = append(args, opts.After)
	}
	query += ` ORDER BY name, created_at`
	if opts.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, opts.Limit)
	}
	rows, err := s.r.QueryContext(ctx, s.d.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list deployments: %w", err)
	}
	var out []Deployment
	for rows.Next() {
		d, err := scanDeployment(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: list deployments: %w", err)
		}
		out = append(out, d)
	}
	return out, closeRows(rows, "list deployments")
}

var statuses = []Status{StatusPending, StatusStarting, StatusRunning, StatusStopped, StatusFailed}

func (s *DB) UpdateStatus(ctx context.Context, org, id string, status Status, message string) (Deployment, error) {
	if status == StatusDeleted {
		return Deployment{}, invalid("status %q is set by deleting the deployment", status)
	}
	if !slices.Contains(statuses, status) {
		return Deployment{}, invalid("invalid status %q: use one of %v", status, statuses)
	}
	var out Deployment
	err := s.tx(ctx, func(tx *sql.Tx) error {
		d, err := s.getLive(ctx, tx, org, id)
		if err != nil {
			return err
		}
		out = d
		if d.Status == status && d.StatusMessage == message {
			return nil
		}
		now := s.nowUTC()
		if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE deployments SET status = ?, status_message = ?, updated_at = ? WHERE id = ?`),
			string(status), message, s.d.timeArg(now), id); err != nil {
			return fmt.Errorf("store: update status: %w", err)
		}
		out.Status, out.StatusMessage, out.UpdatedAt = status, message, now
		if d.Status == status {
			return nil // only the message changed
		}
		msg := fmt.Sprintf("%s -> %s", d.Status, status)
		if message != "" {
			msg += ": " + message
		}
		data, _ := json.Marshal(map[string]string{"from": string(d.Status), "to": string(status), "message": message})
		_, err = s.appendEvent(ctx, tx, org, Event{DeploymentID: id, Time: now, Kind: EventStatus, Message: msg, Data: data})
		return err
	})
	if err != nil {
		return Deployment{}, err
	}
	return out, nil
}

func (s *DB) SetDesiredState(ctx context.Context, org, id string, state DesiredState) (Deployment, error) {
	if state != DesiredRunning && state != DesiredStopped {
		return Deployment{}, invalid("invalid desired state %q: use %q or %q", state, DesiredRunning, DesiredStopped)
	}
	var out Deployment
	err := s.tx(ctx, func(tx *sql.Tx) error {
		d, err := s.getLive(ctx, tx, org, id)
		if err != nil {
			return err
		}
		out = d
		if d.DesiredState == state {
			return nil
		}
		now := s.nowUTC()
		if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE deployments SET desired_state = ?, updated_at = ? WHERE id = ?`),
			string(state), s.d.timeArg(now), id); err != nil {
			return fmt.Errorf("store: set desired state: %w", err)
		}
		out.DesiredState, out.UpdatedAt = state, now
		data, _ := json.Marshal(map[string]string{"from": string(d.DesiredState), "to": string(state)})
		_, err = s.appendEvent(ctx, tx, org, Event{DeploymentID: id, Time: now, Kind: EventDesiredState,
			Message: fmt.Sprintf("desired state %s -> %s", d.DesiredState, state), Data: data})
		return err
	})
	if err != nil {
		return Deployment{}, err
	}
	return out, nil
}

func (s *DB) DeleteDeployment(ctx context.Context, org, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		d, err := s.getLive(ctx, tx, org, id)
		if err != nil {
			return err
		}
		now := s.nowUTC()
		if _, err := s.appendEvent(ctx, tx, org, Event{DeploymentID: id, Time: now, Kind: EventDeleted,
			Message: fmt.Sprintf("%s %s deleted", d.Kind, d.FullName())}); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, s.d.q(`UPDATE deployments SET status = ?, status_message = '', desired_state = ?, updated_at = ?, deleted_at = ? WHERE id = ?`),
			string(StatusDeleted), string(DesiredStopped), s.d.timeArg(now), s.d.timeArg(now), id)
		if err != nil {
			return fmt.Errorf("store: delete deployment: %w", err)
		}
		return nil
	})
}

func (s *DB) PurgeDeleted(ctx context.Context, org string, before time.Time) (int, error) {
	res, err := s.w.ExecContext(ctx, s.d.q(`DELETE FROM deployments WHERE org = ? AND deleted_at IS NOT NULL AND deleted_at < ?`),
		org, s.d.timeArg(normTime(before)))
	if err != nil {
		return 0, fmt.Errorf("store: purge deleted deployments: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("store: purge deleted deployments: %w", err)
	}
	return int(n), nil
}

// Versions.

func (s *DB) AddVersion(ctx context.Context, org, id string, v DeploymentVersion) (DeploymentVersion, error) {
	if v.Digest == "" {
		v.Digest = SpecDigest(v.Spec)
	}
	spec, err := marshalSpec(v.Spec)
	if err != nil {
		return DeploymentVersion{}, err
	}
	v.DeploymentID = id
	v.CreatedAt = s.nowUTC()
	err = s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := s.getLive(ctx, tx, org, id); err != nil {
			return err
		}
		if err := tx.QueryRowContext(ctx, s.d.q(`SELECT COALESCE(MAX(version), 0) + 1 FROM deployment_versions WHERE deployment_id = ?`), id).Scan(&v.Version); err != nil {
			return fmt.Errorf("store: add version: %w", err)
		}
		_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO deployment_versions (deployment_id, version, digest, spec, created_at) VALUES (?, ?, ?, ?, ?)`),
			id, v.Version, v.Digest, spec, s.d.timeArg(v.CreatedAt))
		if err != nil {
			return fmt.Errorf("store: add version: %w", err)
		}
		return nil
	})
	if err != nil {
		return DeploymentVersion{}, err
	}
	return v, nil
}

func (s *DB) ListVersions(ctx context.Context, org, id string) ([]DeploymentVersion, error) {
	if _, err := s.getByID(ctx, s.r, org, id, ""); err != nil {
		return nil, err
	}
	// The join keeps the query itself scoped to org.
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT v.deployment_id, v.version, v.digest, v.spec, v.created_at
		FROM deployment_versions v JOIN deployments d ON d.id = v.deployment_id
		WHERE v.deployment_id = ? AND d.org = ? ORDER BY v.version`), id, org)
	if err != nil {
		return nil, fmt.Errorf("store: list versions: %w", err)
	}
	var out []DeploymentVersion
	for rows.Next() {
		var v DeploymentVersion
		var spec []byte
		if err := rows.Scan(&v.DeploymentID, &v.Version, &v.Digest, &spec, timeCol{&v.CreatedAt}); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: list versions: %w", err)
		}
		if err := json.Unmarshal(spec, &v.Spec); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: version %d of %s: decode spec: %w", v.Version, id, err)
		}
		out = append(out, v)
	}
	return out, closeRows(rows, "list versions")
}

func (s *DB) ActivateVersion(ctx context.Context, org, id string, version int) (Deployment, error) {
	var out Deployment
	err := s.tx(ctx, func(tx *sql.Tx) error {
		d, err := s.getLive(ctx, tx, org, id)
		if err != nil {
			return err
		}
		var digest string
		var spec []byte
		err = tx.QueryRowContext(ctx, s.d.q(`SELECT digest, spec FROM deployment_versions WHERE deployment_id = ? AND version = ?`), id, version).Scan(&digest, &spec)
		if errors.Is(err, sql.ErrNoRows) {
			return notFound("version %d of %s %q not found", version, d.Kind, d.FullName())
		}
		if err != nil {
			return fmt.Errorf("store: activate version: %w", err)
		}
		out = d
		if d.Version == version {
			return nil
		}
		if err := json.Unmarshal(spec, &out.Spec); err != nil {
			return fmt.Errorf("store: version %d of %s: decode spec: %w", version, id, err)
		}
		now := s.nowUTC()
		if _, err := tx.ExecContext(ctx, s.d.q(`UPDATE deployments SET version = ?, digest = ?, spec = ?, updated_at = ? WHERE id = ?`),
			version, digest, string(spec), s.d.timeArg(now), id); err != nil {
			return fmt.Errorf("store: activate version: %w", err)
		}
		out.Version, out.Digest, out.UpdatedAt = version, digest, now
		data, _ := json.Marshal(map[string]int{"from": d.Version, "to": version})
		_, err = s.appendEvent(ctx, tx, org, Event{DeploymentID: id, Time: now, Kind: EventVersion,
			Message: fmt.Sprintf("version %d -> %d", d.Version, version), Data: data})
		return err
	})
	if err != nil {
		return Deployment{}, err
	}
	return out, nil
}

// Events.

func (s *DB) AppendEvent(ctx context.Context, org string, e Event) (Event, error) {
	if e.DeploymentID == "" {
		return Event{}, invalid("event has no deployment ID")
	}
	if e.Kind == "" {
		return Event{}, invalid("event has no kind")
	}
	if len(e.Data) > 0 && !json.Valid(e.Data) {
		return Event{}, invalid("event data is not valid JSON")
	}
	if e.Time.IsZero() {
		e.Time = s.nowUTC()
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		e, err = s.appendEvent(ctx, tx, org, e)
		return err
	})
	if err != nil {
		return Event{}, err
	}
	return e, nil
}

// appendEvent records e in tx: it takes the deployment's next event
// sequence number (which locks the deployment row on PostgreSQL, so
// sequence numbers follow commit order per deployment) and enforces the
// retention.
func (s *DB) appendEvent(ctx context.Context, tx *sql.Tx, org string, e Event) (Event, error) {
	e.Org = org
	e.Time = normTime(e.Time)
	var seq int64
	err := tx.QueryRowContext(ctx, s.d.q(`UPDATE deployments SET event_seq = event_seq + 1
		WHERE id = ? AND org = ? AND deleted_at IS NULL RETURNING event_seq`), e.DeploymentID, org).Scan(&seq)
	if errors.Is(err, sql.ErrNoRows) {
		return Event{}, deploymentNotFound(org, e.DeploymentID)
	}
	if err != nil {
		return Event{}, fmt.Errorf("store: append event: %w", err)
	}
	var data any // NULL when empty
	if len(e.Data) > 0 {
		data = string(e.Data)
	}
	err = tx.QueryRowContext(ctx, s.d.q(`INSERT INTO events (org, deployment_id, seq, time, kind, message, data)
		VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`),
		org, e.DeploymentID, seq, s.d.timeArg(e.Time), e.Kind, e.Message, data).Scan(&e.ID)
	if err != nil {
		return Event{}, fmt.Errorf("store: append event: %w", err)
	}
	if err := s.trim(ctx, tx, "events", e.DeploymentID, seq, 1, s.evMax); err != nil {
		return Event{}, err
	}
	return e, nil
}

// trimEvery is how often (in sequence numbers) trim deletes everything
// beyond the retention rather than only what the last append pushed out.
const trimEvery = 1024

// trim enforces the retention keep of table (events or logs) for a
// deployment after an append of n rows ending at sequence number last.
//
// It normally deletes only the rows the append pushed out of the retention
// (a bounded range: on PostgreSQL an open-ended "seq <= x" would walk every
// dead index entry left by earlier trims until vacuum). When the append
// crosses a multiple of trimEvery it deletes everything older, which also
// trims what a larger retention of an earlier run left behind.
func (s *DB) trim(ctx context.Context, tx *sql.Tx, table, deploymentID string, last int64, n, keep int) error {
	if keep <= 0 || last <= int64(keep) {
		return nil
	}
	upTo := last - int64(keep)
	from := upTo - int64(n) // exclusive
	if last/trimEvery != (last-int64(n))/trimEvery {
		from = 0
	}
	if _, err := tx.ExecContext(ctx, s.d.q(`DELETE FROM `+table+` WHERE deployment_id = ? AND seq > ? AND seq <= ?`),
		deploymentID, max(from, 0), upTo); err != nil {
		return fmt.Errorf("store: trim %s: %w", table, err)
	}
	return nil
}

func listLimit(n int) int {
	switch {
	case n <= 0:
		return DefaultListLimit
	case n > MaxListLimit:
		return MaxListLimit
	}
	return n
}

func (s *DB) ListEvents(ctx context.Context, org string, q *EventQuery) ([]Event, error) {
	if q == nil {
		q = &EventQuery{}
	}
	query := `SELECT id, org, deployment_id, time, kind, message, data FROM events WHERE org = ?`
	args := []any{org}
	if q.DeploymentID != "" {
		if _, err := s.getByID(ctx, s.r, org, q.DeploymentID, ""); err != nil {
			return nil, err
		}
		query += ` AND deployment_id = ?`
		args = append(args, q.DeploymentID)
	}
	if q.After > 0 {
		query += ` AND id > ?`
		args = append(args, q.After)
	}
	if !q.Since.IsZero() {
		query += ` AND time >= ?`
		args = append(args, s.d.timeArg(normTime(q.Since)))
	}
	if q.Tail {
		query += ` ORDER BY id DESC LIMIT ?`
	} else {
		query += ` ORDER BY id LIMIT ?`
	}
	args = append(args, listLimit(q.Limit))
	rows, err := s.r.QueryContext(ctx, s.d.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list events: %w", err)
	}
	var out []Event
	for rows.Next() {
		var e Event
		var data []byte
		if err := rows.Scan(&e.ID, &e.Org, &e.DeploymentID, timeCol{&e.Time}, &e.Kind, &e.Message, &data); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: list events: %w", err)
		}
		if len(data) > 0 {
			e.Data = json.RawMessage(data)
		}
		out = append(out, e)
	}
	if q.Tail {
		slices.Reverse(out)
	}
	return out, closeRows(rows, "list events")
}

// Logs.

// logChunk is the number of lines per INSERT statement (5 parameters each,
// well under SQLite's and PostgreSQL's parameter limits).
const logChunk = 200

func (s *DB) AppendLogs(ctx context.Context, org, deploymentID string, lines []LogLine) error {
	if len(lines) == 0 {
		return nil
	}
	now := s.nowUTC()
	return s.tx(ctx, func(tx *sql.Tx) error {
		var last int64
		err := tx.QueryRowContext(ctx, s.d.q(`UPDATE deployments SET log_seq = log_seq + ?
			WHERE id = ? AND org = ? AND deleted_at IS NULL RETURNING log_seq`), len(lines), deploymentID, org).Scan(&last)
		if errors.Is(err, sql.ErrNoRows) {
			return deploymentNotFound(org, deploymentID)
		}
		if err != nil {
			return fmt.Errorf("store: append logs: %w", err)
		}
		first := last - int64(len(lines)) + 1
		// Lines that retention would delete at once are not written.
		skip := 0
		if s.logMax > 0 && len(lines) > s.logMax {
			skip = len(lines) - s.logMax
		}
		var b strings.Builder
		args := make([]any, 0, 5*logChunk)
		for i := skip; i < len(lines); i += logChunk {
			chunk := lines[i:min(i+logChunk, len(lines))]
			b.Reset()
			b.WriteString(`INSERT INTO logs (deployment_id, seq, time, stream, line) VALUES `)
			args = args[:0]
			for j, l := range chunk {
				if j > 0 {
					b.WriteString(", ")
				}
				b.WriteString("(?, ?, ?, ?, ?)")
				t := now
				if !l.Time.IsZero() {
					t = normTime(l.Time)
				}
				stream := l.Stream
				if stream == "" {
					stream = "stdout"
				}
				args = append(args, deploymentID, first+int64(i+j), s.d.timeArg(t), stream, truncateLine(l.Line))
			}
			if _, err := tx.ExecContext(ctx, s.d.q(b.String()), args...); err != nil {
				return fmt.Errorf("store: append logs: %w", err)
			}
		}
		return s.trim(ctx, tx, "logs", deploymentID, last, len(lines), s.logMax)
	})
}

// truncateLine cuts a line to MaxLogLineBytes at a rune boundary and
// replaces invalid UTF-8 (PostgreSQL refuses it in TEXT).
func truncateLine(l string) string {
	if len(l) > MaxLogLineBytes {
		i := MaxLogLineBytes
		for i > 0 && !utf8.RuneStart(l[i]) {
			i--
		}
		l = l[:i]
	}
	if !utf8.ValidString(l) {
		l = strings.ToValidUTF8(l, "\uFFFD")
	}
	return strings.ReplaceAll(l, "\x00", "\uFFFD")
}

func (s *DB) ListLogs(ctx context.Context, org, deploymentID string, q *LogQuery) ([]LogLine, error) {
	if q == nil {
		q = &LogQuery{}
	}
	if _, err := s.getByID(ctx, s.r, org, deploymentID, ""); err != nil {
		return nil, err
	}
	query := `SELECT l.seq, l.time, l.stream, l.line FROM logs l JOIN deployments d ON d.id = l.deployment_id
		WHERE l.deployment_id = ? AND d.org = ?`
	args := []any{deploymentID, org}
	if q.After > 0 {
		query += ` AND l.seq > ?`
		args = append(args, q.After)
	}
	if !q.Since.IsZero() {
		query += ` AND l.time >= ?`
		args = append(args, s.d.timeArg(normTime(q.Since)))
	}
	if q.Tail {
		query += ` ORDER BY l.seq DESC LIMIT ?`
	} else {
		query += ` ORDER BY l.seq LIMIT ?`
	}
	args = append(args, listLimit(q.Limit))
	rows, err := s.r.QueryContext(ctx, s.d.q(query), args...)
	if err != nil {
		return nil, fmt.Errorf("store: list logs: %w", err)
	}
	var out []LogLine
	for rows.Next() {
		var l LogLine
		if err := rows.Scan(&l.Seq, timeCol{&l.Time}, &l.Stream, &l.Line); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: list logs: %w", err)
		}
		out = append(out, l)
	}
	if q.Tail {
		slices.Reverse(out)
	}
	return out, closeRows(rows, "list logs")
}

// Users and API keys.

func (s *DB) CreateUser(ctx context.Context, u User) (User, error) {
	if u.Email == "" || !strings.Contains(u.Email, "@") {
		return User{}, invalid("invalid user email %q", u.Email)
	}
	u.ID = newID("usr_")
	u.CreatedAt = s.nowUTC()
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := orgExists(ctx, tx, s.d, u.Org); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO users (id, org, email, name, created_at) VALUES (?, ?, ?, ?, ?)`),
			u.ID, u.Org, u.Email, u.Name, s.d.timeArg(u.CreatedAt))
		if s.d.isUnique(err) {
			return &Error{Err: ErrConflict, Msg: fmt.Sprintf("user %q already exists in org %q", u.Email, u.Org)}
		}
		if err != nil {
			return fmt.Errorf("store: create user: %w", err)
		}
		return nil
	})
	if err != nil {
		return User{}, err
	}
	return u, nil
}

func (s *DB) GetUserByEmail(ctx context.Context, org, email string) (User, error) {
	var u User
	err := s.r.QueryRowContext(ctx, s.d.q(`SELECT id, org, email, name, created_at FROM users WHERE org = ? AND email = ?`), org, email).
		Scan(&u.ID, &u.Org, &u.Email, &u.Name, timeCol{&u.CreatedAt})
	if errors.Is(err, sql.ErrNoRows) {
		return User{}, notFound("user %q not found in org %q", email, org)
	}
	if err != nil {
		return User{}, fmt.Errorf("store: get user: %w", err)
	}
	return u, nil
}

const apiKeyCols = `id, org, user_id, name, prefix, hash, created_at, revoked_at`

func scanAPIKey(row scanner) (APIKey, error) {
	var k APIKey
	var user sql.NullString
	err := row.Scan(&k.ID, &k.Org, &user, &k.Name, &k.Prefix, &k.Hash, timeCol{&k.CreatedAt}, timeCol{&k.RevokedAt})
	k.UserID = user.String
	return k, err
}

func (s *DB) CreateAPIKey(ctx context.Context, k APIKey) (APIKey, error) {
	if len(k.Hash) != 64 {
		return APIKey{}, invalid("API key hash must be HashAPIKey(secret), 64 hex digits")
	}
	if k.Name == "" {
		return APIKey{}, invalid("API key has no name")
	}
	k.ID = newID("key_")
	k.CreatedAt = s.nowUTC()
	k.RevokedAt = time.Time{}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := orgExists(ctx, tx, s.d, k.Org); err != nil {
			return err
		}
		var user any
		if k.UserID != "" {
			var one int
			err := tx.QueryRowContext(ctx, s.d.q(`SELECT 1 FROM users WHERE id = ? AND org = ?`), k.UserID, k.Org).Scan(&one)
			if errors.Is(err, sql.ErrNoRows) {
				return notFound("user %q not found in org %q", k.UserID, k.Org)
			}
			if err != nil {
				return fmt.Errorf("store: create API key: %w", err)
			}
			user = k.UserID
		}
		_, err := tx.ExecContext(ctx, s.d.q(`INSERT INTO api_keys (`+apiKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, NULL)`),
			k.ID, k.Org, user, k.Name, k.Prefix, k.Hash, s.d.timeArg(k.CreatedAt))
		if s.d.isUnique(err) {
			return &Error{Err: ErrConflict, Msg: "an API key with this hash already exists: generate a new secret"}
		}
		if err != nil {
			return fmt.Errorf("store: create API key: %w", err)
		}
		return nil
	})
	if err != nil {
		return APIKey{}, err
	}
	return k, nil
}

func (s *DB) ListAPIKeys(ctx context.Context, org string) ([]APIKey, error) {
	rows, err := s.r.QueryContext(ctx, s.d.q(`SELECT `+apiKeyCols+` FROM api_keys WHERE org = ? ORDER BY created_at, id`), org)
	if err != nil {
		return nil, fmt.Errorf("store: list API keys: %w", err)
	}
	var out []APIKey
	for rows.Next() {
		k, err := scanAPIKey(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: list API keys: %w", err)
		}
		out = append(out, k)
	}
	return out, closeRows(rows, "list API keys")
}

func (s *DB) RevokeAPIKey(ctx context.Context, org, id string) error {
	res, err := s.w.ExecContext(ctx, s.d.q(`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ? AND org = ?`),
		s.d.timeArg(s.nowUTC()), id, org)
	if err != nil {
		return fmt.Errorf("store: revoke API key: %w", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("store: revoke API key: %w", err)
	} else if n == 0 {
		return notFound("API key %q not found in org %q", id, org)
	}
	return nil
}

func (s *DB) LookupAPIKey(ctx context.Context, hash string) (APIKey, error) {
	k, err := scanAPIKey(s.r.QueryRowContext(ctx, s.d.q(`SELECT `+apiKeyCols+` FROM api_keys WHERE hash = ? AND revoked_at IS NULL`), hash))
	if errors.Is(err, sql.ErrNoRows) {
		return APIKey{}, notFound("unknown or revoked API key")
	}
	if err != nil {
		return APIKey{}, fmt.Errorf("store: look up API key: %w", err)
	}
	return k, nil
}
