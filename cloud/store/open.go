package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

//go:embed migrations
var migrations embed.FS

// Options configures a store. The zero value is ready to use; a nil *Options
// is the zero value.
type Options struct {
	// LogRetention is how many log lines are kept per deployment: appending
	// deletes the older ones. 0 means 10,000; negative means keep all.
	LogRetention int
	// EventRetention is how many events are kept per deployment. 0 means
	// 1,000; negative means keep all.
	EventRetention int
	// Logger receives the migrations applied when the store opens. nil
	// logs nothing.
	Logger *slog.Logger
	// Now is the clock (nil: time.Now). Stored times are UTC, truncated to
	// microseconds.
	Now func() time.Time
}

// Default retention.
const (
	DefaultLogRetention   = 10000
	DefaultEventRetention = 1000
)

// DB is a Store on SQLite or PostgreSQL through database/sql.
type DB struct {
	d      dialect
	w      *sql.DB // writes (SQLite: one connection, so writers queue in Go, never on SQLITE_BUSY)
	r      *sql.DB // reads (SQLite: a read-only pool; PostgreSQL: the same pool as w)
	logMax int     // <= 0: unlimited
	evMax  int
	now    func() time.Time
}

var _ Store = (*DB)(nil)

// Open opens the store named by dsn and brings its schema up to date
// (migrating an already current database does nothing):
//
//   - "sqlite:///abs/path/state.db" (or "sqlite://relative/path.db"): a
//     SQLite file, created with mode 0600 (its directory with 0700) when
//     missing. WAL journal, synchronous=FULL, foreign keys on, 10s busy
//     timeout. Query parameters: synchronous=normal|full,
//     busy_timeout=MILLISECONDS.
//   - "postgres://user:password@host:port/db?sslmode=disable" (or
//     "postgresql://"): PostgreSQL through pgx; the URL is passed to pgx as
//     is, so every libpq parameter works.
//
// opts may be nil.
func Open(ctx context.Context, dsn string, opts *Options) (*DB, error) {
	if opts == nil {
		opts = &Options{}
	}
	s := &DB{
		logMax: retention(opts.LogRetention, DefaultLogRetention),
		evMax:  retention(opts.EventRetention, DefaultEventRetention),
		now:    opts.Now,
	}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	switch scheme, _, _ := strings.Cut(dsn, ":"); scheme {
	case "sqlite":
		err = s.openSQLite(ctx, dsn)
	case "postgres", "postgresql":
		err = s.openPostgres(ctx, dsn)
	default:
		// Never echo the DSN: it may hold a password.
		return nil, fmt.Errorf("store: unsupported DSN scheme %q: use sqlite:///path/state.db or postgres://user@host/db: %w", scheme, ErrInvalid)
	}
	if err != nil {
		return nil, err
	}
	if err := s.migrate(ctx, opts.Logger); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// SQLiteDSN returns the DSN of the SQLite file at path: "sqlite://" + path.
func SQLiteDSN(path string) string { return "sqlite://" + path }

func retention(n, def int) int {
	if n == 0 {
		return def
	}
	return n
}

func (s *DB) openSQLite(ctx context.Context, dsn string) error {
	path, query, _ := strings.Cut(strings.TrimPrefix(dsn, "sqlite://"), "?")
	if path == "" || path == ":memory:" || strings.HasPrefix(path, "file:") {
		return fmt.Errorf("store: %q: want sqlite:///path/to/state.db (a file; in-memory databases are not supported): %w", dsn, ErrInvalid)
	}
	params, err := url.ParseQuery(query)
	if err != nil {
		return fmt.Errorf("store: %q: %v: %w", dsn, err, ErrInvalid)
	}
	sync, busy := "FULL", "10000"
	for k, v := range params {
		switch k {
		case "synchronous":
			switch strings.ToLower(v[0]) {
			case "normal", "full":
				sync = strings.ToUpper(v[0])
			default:
				return fmt.Errorf("store: %q: synchronous must be normal or full: %w", dsn, ErrInvalid)
			}
		case "busy_timeout":
			if n, err := strconv.Atoi(v[0]); err != nil || n < 0 {
				return fmt.Errorf("store: %q: busy_timeout must be milliseconds: %w", dsn, ErrInvalid)
			}
			busy = v[0]
		default:
			return fmt.Errorf("store: %q: unknown parameter %q (known: synchronous, busy_timeout): %w", dsn, k, ErrInvalid)
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("store: create the database directory: %w", err)
	}
	// Create the file ourselves so that it (and the -wal and -shm files,
	// which SQLite creates with the same mode) is private to the user.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("store: open the database file: %w", err)
	}
	f.Close()

	common := "?_pragma=busy_timeout(" + busy + ")&_pragma=foreign_keys(1)&_pragma=synchronous(" + sync + ")"
	// The writer sets WAL (persistent in the file) before any reader opens,
	// and begins transactions IMMEDIATE so that a write lock held by
	// another process is waited for with the busy timeout at BEGIN.
	w, err := sql.Open("sqlite", path+common+"&_pragma=journal_mode(WAL)&_txlock=immediate")
	if err != nil {
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetConnMaxIdleTime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return fmt.Errorf("store: open sqlite %s: %w", path, err)
	}
	r, err := sql.Open("sqlite", path+common+"&_query_only=1")
	if err != nil {
		w.Close()
		return fmt.Errorf("store: open sqlite: %w", err)
	}
	r.SetMaxOpenConns(4)
	s.w, s.r = w, r
	s.d = dialect{
		goose:   goose.DialectSQLite3,
		timeArg: func(t time.Time) any { return t.UnixMicro() },
		isUnique: func(err error) bool {
			var e *sqlite.Error
			return errors.As(err, &e) && (e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE || e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY)
		},
	}
	return nil
}

func (s *DB) openPostgres(ctx context.Context, dsn string) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return fmt.Errorf("store: open postgres: %w", err)
	}
	db.SetMaxOpenConns(16)
	db.SetMaxIdleConns(16)
	db.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		// pgconn errors name host and user but not the password.
		return fmt.Errorf("store: connect to postgres: %w", err)
	}
	s.w, s.r = db, db
	s.d = dialect{
		goose:     goose.DialectPostgres,
		dollar:    true,
		forUpdate: " FOR UPDATE",
		timeArg:   func(t time.Time) any { return t },
		isUnique: func(err error) bool {
			var e *pgconn.PgError
			return errors.As(err, &e) && e.Code == "23505"
		},
	}
	return nil
}

// migrationLockID is the PostgreSQL advisory lock held while migrating, so
// that platform instances starting together migrate one at a time.
const migrationLockID = 0x6d63705f73746f72 // "mcp_stor"

func (s *DB) migrate(ctx context.Context, logger *slog.Logger) error {
	dir := "migrations/sqlite"
	opts := []goose.ProviderOption{
		goose.WithDisableGlobalRegistry(true),
		goose.WithTableName("store_migrations"),
	}
	if logger != nil {
		opts = append(opts, goose.WithSlog(logger), goose.WithVerbose(true))
	}
	if s.d.goose == goose.DialectPostgres {
		dir = "migrations/postgres"
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockID(migrationLockID), lock.WithLockTimeout(1, 300))
		if err != nil {
			return fmt.Errorf("store: migrations: %w", err)
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	sub, err := fs.Sub(migrations, dir)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	p, err := goose.NewProvider(s.d.goose, s.w, sub, opts...)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("store: migrate the database schema: %w", err)
	}
	return nil
}

// SchemaVersion returns the version of the last migration applied.
func (s *DB) SchemaVersion(ctx context.Context) (int64, error) {
	var v int64
	err := s.r.QueryRowContext(ctx, `SELECT COALESCE(MAX(version_id), 0) FROM store_migrations WHERE is_applied`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("store: schema version: %w", err)
	}
	return v, nil
}

// Close closes the store's connections.
func (s *DB) Close() error {
	err := s.w.Close()
	if s.r != s.w {
		err = errors.Join(err, s.r.Close())
	}
	return err
}

// dialect holds what differs between SQLite and PostgreSQL. Queries are
// written with ? placeholders and rewritten to $n for PostgreSQL.
type dialect struct {
	goose     goose.Dialect
	dollar    bool
	forUpdate string // row lock suffix of SELECT (SQLite: none; its writer is serialised)
	timeArg   func(time.Time) any
	isUnique  func(error) bool
}

// q rewrites a query's ? placeholders for the dialect. Queries never hold a
// literal '?'.
func (d dialect) q(query string) string {
	if !d.dollar {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(query[i])
	}
	return b.String()
}
