package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"
)

// Store is the platform's persistent state. Every method is safe for
// concurrent use. Every method that reads or writes a tenant's rows takes
// the org and never touches another org's rows: an ID that belongs to another
// org is reported as not found. The exceptions are ListOrgs and
// LookupAPIKey, which exist to find the org in the first place.
//
// Implementations: *DB (SQLite and PostgreSQL, see Open). The storetest
// package holds the behaviour every implementation must have. Consumers that
// need only a few methods should declare a narrower interface of their own.
type Store interface {
	// CreateOrg creates an org. It fails with ErrConflict when it exists and
	// ErrInvalid when the name is not a valid org name.
	CreateOrg(ctx context.Context, name string) (Org, error)
	// ListOrgs lists every org, by name.
	ListOrgs(ctx context.Context) ([]Org, error)

	// CreateDeployment stores a new deployment from d.Org, d.Name, d.Kind,
	// d.Spec, d.DesiredState (zero: DesiredRunning), d.Endpoint and d.Digest
	// (zero: SpecDigest(d.Spec)); the other fields are set by the store. The
	// deployment starts in StatusPending at version 1, and a "created" event
	// is recorded. Names are unique per org across kinds: a taken name fails
	// with ErrConflict.
	CreateDeployment(ctx context.Context, d Deployment) (Deployment, error)
	// GetDeployment returns the live (not deleted) deployment named name in
	// org. kind restricts the lookup to one kind; "" accepts any.
	GetDeployment(ctx context.Context, org string, kind Kind, name string) (Deployment, error)
	// GetDeploymentByID returns the deployment with the given ID, deleted or
	// not.
	GetDeploymentByID(ctx context.Context, org, id string) (Deployment, error)
	// ListDeployments lists org's deployments by name. opts may be nil.
	ListDeployments(ctx context.Context, org string, opts *ListOptions) ([]Deployment, error)
	// UpdateStatus sets the observed status and its message (why it failed,
	// for example). A change of status records a "status" event in the same
	// transaction; setting the current status and message again does
	// nothing. StatusDeleted is refused: use DeleteDeployment.
	UpdateStatus(ctx context.Context, org, id string, status Status, message string) (Deployment, error)
	// SetDesiredState records whether the platform should keep the
	// deployment running (it restores DesiredRunning deployments after a
	// restart) and records a "desired_state" event when it changes.
	SetDesiredState(ctx context.Context, org, id string, state DesiredState) (Deployment, error)
	// DeleteDeployment soft-deletes a live deployment: its status becomes
	// StatusDeleted, its name is free again at once, and its events, logs and
	// versions stay readable by ID until PurgeDeleted removes them.
	DeleteDeployment(ctx context.Context, org, id string) error
	// PurgeDeleted removes org's deployments deleted before the given time,
	// with their versions, events and logs, and returns how many it removed.
	PurgeDeleted(ctx context.Context, org string, before time.Time) (int, error)

	// AddVersion stores a new version (the next number) of a live deployment
	// from v.Spec and v.Digest (zero: SpecDigest(v.Spec)), without
	// activating it.
	AddVersion(ctx context.Context, org, id string, v DeploymentVersion) (DeploymentVersion, error)
	// ListVersions lists the versions of a deployment, oldest first.
	ListVersions(ctx context.Context, org, id string) ([]DeploymentVersion, error)
	// ActivateVersion makes version the deployment's current one (deploy or
	// rollback): Deployment.Version, Spec and Digest are copied from it and a
	// "version" event is recorded.
	ActivateVersion(ctx context.Context, org, id string, version int) (Deployment, error)

	// AppendEvent records an event of a live deployment (e.DeploymentID,
	// required) and returns it with ID, Org and Time (zero: now) set. Older
	// events of the deployment beyond Options.EventRetention are deleted.
	AppendEvent(ctx context.Context, org string, e Event) (Event, error)
	// ListEvents lists org's events in ID order. q may be nil.
	ListEvents(ctx context.Context, org string, q *EventQuery) ([]Event, error)

	// AppendLogs records log lines of a live deployment in order, assigning
	// each the next sequence number of the deployment; a zero Time is now
	// and an empty Stream is "stdout". Lines over MaxLogLineBytes are cut.
	// Older lines beyond Options.LogRetention are deleted.
	AppendLogs(ctx context.Context, org, deploymentID string, lines []LogLine) error
	// ListLogs lists a deployment's retained log lines in sequence order. q
	// may be nil.
	ListLogs(ctx context.Context, org, deploymentID string, q *LogQuery) ([]LogLine, error)

	// CreateUser stores a user of u.Org with u.Email (unique per org) and
	// u.Name.
	CreateUser(ctx context.Context, u User) (User, error)
	// GetUserByEmail returns the user of org with that email.
	GetUserByEmail(ctx context.Context, org, email string) (User, error)

	// CreateAPIKey stores an API key of k.Org from k.Name, k.Prefix, k.Hash
	// (HashAPIKey of the secret; the secret itself is never stored) and
	// k.UserID (optional).
	CreateAPIKey(ctx context.Context, k APIKey) (APIKey, error)
	// ListAPIKeys lists org's keys, revoked ones included, oldest first.
	ListAPIKeys(ctx context.Context, org string) ([]APIKey, error)
	// RevokeAPIKey revokes a key; revoking a revoked key does nothing.
	RevokeAPIKey(ctx context.Context, org, id string) error
	// LookupAPIKey returns the unrevoked key with the given hash, whatever
	// its org: this is how a request's org is found.
	LookupAPIKey(ctx context.Context, hash string) (APIKey, error)

	// Close releases the store's connections.
	Close() error
}

// DefaultOrg is the org every store starts with, used until auth lands.
const DefaultOrg = "local"

// Org is a tenant. Its name is the first part of every private name
// ("{org}.{name}").
type Org struct {
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"created_at"`
}

// Kind says what a deployment runs.
type Kind string

// Deployment kinds.
const (
	KindServer Kind = "server" // an MCP server: a stdio command or a URL
	KindApp    Kind = "app"    // an MCPApp package
)

// Status is the observed state of a deployment, as last reported by the
// platform.
type Status string

// Statuses.
const (
	StatusPending  Status = "pending"  // stored, never started
	StatusStarting Status = "starting" // being started or restarted
	StatusRunning  Status = "running"
	StatusStopped  Status = "stopped"
	StatusFailed   Status = "failed"  // see Deployment.StatusMessage
	StatusDeleted  Status = "deleted" // set by DeleteDeployment only
)

// DesiredState is what the platform should make of a deployment, and restore
// after the platform itself restarts.
type DesiredState string

// Desired states.
const (
	DesiredRunning DesiredState = "running"
	DesiredStopped DesiredState = "stopped"
)

// Instance modes for Spec.Mode.
const (
	ModeShared     = "shared"      // one process shared by every session (the default)
	ModePerSession = "per_session" // one process per session
)

// Deployment is a server or app placed on the platform.
type Deployment struct {
	// ID is assigned by the store ("dep_" + 16 base32 characters) and never
	// reused, unlike the name.
	ID   string `json:"id"`
	Org  string `json:"org"`
	Name string `json:"name"`
	Kind Kind   `json:"kind"`
	// Spec is the spec of the active version.
	Spec Spec `json:"spec"`

	Status Status `json:"status"`
	// StatusMessage says why the status is what it is (empty when there is
	// nothing to say).
	StatusMessage string       `json:"status_message,omitempty"`
	DesiredState  DesiredState `json:"desired_state"`
	// Endpoint is where clients reach the deployment (the gateway URL).
	Endpoint string `json:"endpoint,omitempty"`
	// Version is the active version number (1 after creation) and Digest
	// that version's digest.
	Version int    `json:"version"`
	Digest  string `json:"digest"`

	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	// DeletedAt is zero unless Status is StatusDeleted.
	DeletedAt time.Time `json:"deleted_at,omitzero"`
}

// FullName returns "{org}.{name}", the deployment's name on the platform.
func (d Deployment) FullName() string { return d.Org + "." + d.Name }

// Spec is what a deployment runs and what it may use. It is stored as JSON;
// fields unknown to an older reader are ignored, so adding fields needs no
// migration.
type Spec struct {
	// Type is a catalog type ("filesystem", "fetch", "everything", ...);
	// empty for a plain command or URL.
	Type string `json:"type,omitempty"`
	// Command and Args run a stdio server.
	Command string   `json:"command,omitempty"`
	Args    []string `json:"args,omitempty"`
	// URL is a networked server to proxy.
	URL string `json:"url,omitempty"`
	// Env holds plain environment values. Secrets do not belong here: they
	// are stored encrypted elsewhere and named in SecretEnv.
	Env map[string]string `json:"env,omitempty"`
	// SecretEnv names environment variables whose values come from the
	// platform's secret store when the deployment starts.
	SecretEnv []string `json:"secret_env,omitempty"`
	// AllowedPaths are host paths the server may see.
	AllowedPaths []AllowedPath `json:"allowed_paths,omitempty"`
	// EgressAllow lists the destinations the server may connect to (see
	// cloud/runtime Network.EgressAllow); empty means no network.
	EgressAllow []string `json:"egress_allow,omitempty"`
	Limits      Limits   `json:"limits,omitzero"`
	// Mode is ModeShared (also when empty) or ModePerSession.
	Mode string `json:"mode,omitempty"`
	// Public makes the deployment reachable without credentials.
	Public bool `json:"public,omitempty"`
}

// AllowedPath is a host path visible to a server.
type AllowedPath struct {
	Path string `json:"path"`
	// Mode is "r" (also when empty) or "rw".
	Mode string `json:"mode,omitempty"`
}

// Limits bounds a deployment's resources; zero means no limit.
type Limits struct {
	MemoryBytes        int64   `json:"memory_bytes,omitempty"`
	CPUSeconds         int64   `json:"cpu_seconds,omitempty"`
	OpenFiles          int64   `json:"open_files,omitempty"`
	Processes          int64   `json:"processes,omitempty"`
	CallTimeoutSeconds float64 `json:"call_timeout_seconds,omitempty"`
}

// SpecDigest returns "sha256:" and the hex SHA-256 of the spec's JSON
// encoding: equal specs have equal digests.
func SpecDigest(s Spec) string {
	b, err := json.Marshal(s)
	if err != nil {
		// A Spec holds only strings, numbers, bools, slices and maps of
		// strings: it always marshals.
		panic("store: marshal spec: " + err.Error())
	}
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// DeploymentVersion is one deployed version of a deployment: for apps, an
// uploaded package (Digest is its content digest); for servers, a spec.
type DeploymentVersion struct {
	DeploymentID string    `json:"deployment_id"`
	Version      int       `json:"version"`
	Digest       string    `json:"digest"`
	Spec         Spec      `json:"spec"`
	CreatedAt    time.Time `json:"created_at"`
}

// ListOptions filters ListDeployments. The zero value lists every live
// deployment.
type ListOptions struct {
	Kind         Kind         // "" for any
	Status       Status       // "" for any
	DesiredState DesiredState // "" for any
	// IncludeDeleted also lists soft-deleted deployments.
	IncludeDeleted bool
	// After lists only names after this one (pagination cursor).
	After string
	// Limit caps the number returned; 0 means no cap.
	Limit int
}

// Event kinds recorded by the store itself. Other components record their
// own kinds ("restart", "exit", ...).
const (
	EventCreated      = "created"
	EventStatus       = "status"        // Data: {"from": ..., "to": ..., "message": ...}
	EventDesiredState = "desired_state" // Data: {"from": ..., "to": ...}
	EventVersion      = "version"       // Data: {"from": ..., "to": ...}
	EventDeleted      = "deleted"
)

// Event is something that happened to a deployment.
type Event struct {
	// ID is assigned by the store and increases with every event of the
	// store: use it as a cursor (EventQuery.After).
	ID           int64     `json:"id"`
	Org          string    `json:"org"`
	DeploymentID string    `json:"deployment_id"`
	Time         time.Time `json:"time"`
	Kind         string    `json:"kind"`
	Message      string    `json:"message,omitempty"`
	// Data is optional JSON. PostgreSQL returns it normalised (key order
	// and spacing may differ from what was stored).
	Data json.RawMessage `json:"data,omitempty"`
}

// EventQuery filters ListEvents. The zero value lists the first
// DefaultListLimit events of the org.
type EventQuery struct {
	DeploymentID string    // "" for every deployment of the org
	After        int64     // only events with a greater ID
	Since        time.Time // only events at or after this time
	// Limit caps the result (0: DefaultListLimit; at most MaxListLimit).
	Limit int
	// Tail returns the newest Limit matching events instead of the oldest
	// (still in ID order).
	Tail bool
}

// LogLine is one line of a deployment's output.
type LogLine struct {
	// Seq is assigned by AppendLogs: 1, 2, 3, ... per deployment.
	Seq    int64     `json:"seq"`
	Time   time.Time `json:"time"`
	Stream string    `json:"stream"` // "stdout", "stderr", "system", ...
	Line   string    `json:"line"`
}

// LogQuery filters ListLogs. The zero value lists the first
// DefaultListLimit retained lines.
type LogQuery struct {
	After int64     // only lines with a greater Seq (follow cursor)
	Since time.Time // only lines at or after this time
	// Limit caps the result (0: DefaultListLimit; at most MaxListLimit).
	Limit int
	// Tail returns the newest Limit matching lines instead of the oldest
	// (still in Seq order).
	Tail bool
}

// Limits of list methods and log lines.
const (
	DefaultListLimit = 100
	MaxListLimit     = 10000
	MaxLogLineBytes  = 64 << 10
)

// User is a person of an org.
type User struct {
	ID        string    `json:"id"`
	Org       string    `json:"org"`
	Email     string    `json:"email"`
	Name      string    `json:"name,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// APIKey is a stored API key. Only its hash is kept.
type APIKey struct {
	ID     string `json:"id"`
	Org    string `json:"org"`
	UserID string `json:"user_id,omitempty"`
	Name   string `json:"name"`
	// Prefix is the start of the secret, shown to tell keys apart.
	Prefix string `json:"prefix"`
	// Hash is HashAPIKey(secret).
	Hash      string    `json:"-"`
	CreatedAt time.Time `json:"created_at"`
	RevokedAt time.Time `json:"revoked_at,omitzero"`
}

// HashAPIKey returns the hex SHA-256 of an API key's secret. API keys are
// long random strings, so a fast hash is enough (no password stretching).
func HashAPIKey(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Sentinel errors. Errors returned by a Store wrap one of them when they
// apply (check with errors.Is); their messages name the thing, as in
// `server "local.fetch" already exists`.
var (
	ErrNotFound = errors.New("not found")
	ErrConflict = errors.New("already exists")
	ErrInvalid  = errors.New("invalid argument")
)

// Error is an error about a named thing, with a message for users. It
// unwraps to one of the sentinel errors.
type Error struct {
	Err error  // ErrNotFound, ErrConflict or ErrInvalid
	Msg string // the whole message
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Err }
