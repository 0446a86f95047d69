package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
)

// Func is the signature of a workflow function: deterministic code that
// reaches the outside world only through the functions of this package.
type Func[In, Out any] func(wctx Context, in In) (Out, error)

// DefineOptions configures a [Definition]. The zero value is valid.
type DefineOptions struct {
	// Description says what the workflow does; shown by the CLI and used as
	// the description of the workflow's MCP tool. Empty means none.
	Description string
	// InputSchema overrides the JSON schema inferred from In. Nil means
	// inferred with jsonschema.For.
	InputSchema *jsonschema.Schema
}

// Definition is a named, typed workflow. Create one with [Define] and add it
// to a [Registry]; start runs through an executor (package executor).
// A Definition is immutable and safe for concurrent use.
type Definition[In, Out any] struct {
	name        string
	description string
	fn          Func[In, Out]
	inSchema    *jsonschema.Schema
	outSchema   *jsonschema.Schema
	inResolved  *jsonschema.Resolved
}

var nameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,127}$`)

// Define names a workflow function. The input and output types must be
// JSON-serialisable: runs are started with JSON input that is validated
// against the schema inferred from In, and results are journaled as JSON.
//
// Define panics on programmer errors: a name that is not a letter followed by
// up to 127 letters, digits, '_', '.' or '-', a nil fn, or a type for which no
// JSON schema can be inferred (channels, functions).
func Define[In, Out any](name string, fn Func[In, Out], opts *DefineOptions) *Definition[In, Out] {
	if !nameRE.MatchString(name) {
		panic(fmt.Sprintf("workflow.Define: invalid workflow name %q: use a letter followed by letters, digits, '_', '.' or '-'", name))
	}
	if fn == nil {
		panic(fmt.Sprintf("workflow.Define(%q): nil function", name))
	}
	if opts == nil {
		opts = &DefineOptions{}
	}
	in := opts.InputSchema
	if in == nil {
		var err error
		if in, err = schemaFor[In](); err != nil {
			panic(fmt.Sprintf("workflow.Define(%q): input type: %v", name, err))
		}
	}
	out, err := schemaFor[Out]()
	if err != nil {
		panic(fmt.Sprintf("workflow.Define(%q): output type: %v", name, err))
	}
	res, err := in.Resolve(nil)
	if err != nil {
		panic(fmt.Sprintf("workflow.Define(%q): input schema: %v", name, err))
	}
	return &Definition[In, Out]{
		name:        name,
		description: opts.Description,
		fn:          fn,
		inSchema:    in,
		outSchema:   out,
		inResolved:  res,
	}
}

// Name returns the workflow's registered name.
func (d *Definition[In, Out]) Name() string { return d.name }

// Description returns the description given in [DefineOptions].
func (d *Definition[In, Out]) Description() string { return d.description }

// InputSchema returns the JSON schema that run inputs are validated against.
// It must not be modified.
func (d *Definition[In, Out]) InputSchema() *jsonschema.Schema { return d.inSchema }

// OutputSchema returns the JSON schema of the workflow's result.
// It must not be modified.
func (d *Definition[In, Out]) OutputSchema() *jsonschema.Schema { return d.outSchema }

// ValidateInput checks a JSON input against the input schema. The error
// wraps [ErrInvalidPayload] and names the offending field.
func (d *Definition[In, Out]) ValidateInput(input json.RawMessage) error {
	_, err := d.decodeInput(input)
	return err
}

func (d *Definition[In, Out]) decodeInput(input json.RawMessage) (In, error) {
	var in In
	if err := validateJSON(d.inResolved, normalizeInput(input, d.inSchema)); err != nil {
		return in, &PayloadError{Subject: fmt.Sprintf("input for workflow %q", d.name), Err: err}
	}
	if err := json.Unmarshal(normalizeInput(input, d.inSchema), &in); err != nil {
		return in, &PayloadError{Subject: fmt.Sprintf("input for workflow %q", d.name), Err: err}
	}
	return in, nil
}

// Execute runs the workflow function with a JSON input and returns its JSON
// result. Executors call it; workflow code does not. Invalid input returns a
// [*PayloadError] without running the function.
func (d *Definition[In, Out]) Execute(wctx Context, input json.RawMessage) (json.RawMessage, error) {
	in, err := d.decodeInput(input)
	if err != nil {
		return nil, err
	}
	out, err := d.fn(wctx, in)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(out)
	if err != nil {
		return nil, fmt.Errorf("workflow %q: encoding result: %w", d.name, err)
	}
	return b, nil
}

// Workflow is the type-erased view of a [Definition] that registries and
// executors use.
type Workflow interface {
	Name() string
	Description() string
	InputSchema() *jsonschema.Schema
	OutputSchema() *jsonschema.Schema
	ValidateInput(input json.RawMessage) error
	Execute(wctx Context, input json.RawMessage) (json.RawMessage, error)
}

// Registry holds the workflows of an app by name. The zero value is not
// usable; create one with [NewRegistry]. It is safe for concurrent use.
type Registry struct {
	mu sync.RWMutex
	m  map[string]Workflow
}

// NewRegistry returns a registry holding the given workflows. It panics if
// two have the same name.
func NewRegistry(ws ...Workflow) *Registry {
	r := &Registry{m: map[string]Workflow{}}
	for _, w := range ws {
		r.Register(w)
	}
	return r
}

// Register adds a workflow. Registering a second workflow under a name
// already taken is a programmer error and panics.
func (r *Registry) Register(w Workflow) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.m[w.Name()]; dup {
		panic(fmt.Sprintf("workflow.Registry: workflow %q registered twice", w.Name()))
	}
	r.m[w.Name()] = w
}

// Lookup returns the workflow registered under name.
func (r *Registry) Lookup(name string) (Workflow, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	w, ok := r.m[name]
	return w, ok
}

// All yields the registered workflows in name order.
func (r *Registry) All() iter.Seq[Workflow] {
	r.mu.RLock()
	names := slices.Sorted(maps.Keys(r.m))
	ws := make([]Workflow, len(names))
	for i, n := range names {
		ws[i] = r.m[n]
	}
	r.mu.RUnlock()
	return slices.Values(ws)
}

// Info describes the run a workflow function executes in.
type Info struct {
	Workflow    string    // registered workflow name
	RunID       string    // this run's ID
	ParentRunID string    // the parent run for a child workflow, else ""
	StartTime   time.Time // when the run was started (stable across replays)
}

// Context is what a workflow function receives. Executors implement it;
// workflow code uses the package-level functions ([Step], [Sleep],
// [WaitSignal], [RequestHumanInput], ...) which call these methods with
// JSON-encoded values. Every method must be called from the workflow's own
// goroutine: a workflow is single-threaded.
//
// The methods below the first group are the executor seam: a new executor
// (local, Temporal, ...) implements them so that the same workflow code runs
// on it unchanged. Blocking methods return an error wrapping [ErrCanceled]
// once the run is cancelled.
type Context interface {
	// Context returns a context.Context carrying the run's cancellation and
	// values. Use it to check Err and to pass to pure helpers; do not block
	// on Done in workflow code, and do not use it for I/O (that belongs in
	// a [Step]).
	Context() context.Context
	// Info describes the run.
	Info() Info
	// IsReplaying reports whether the workflow is re-executing journaled
	// history (after a restart or on recovery) rather than running live.
	IsReplaying() bool
	// Logger returns a logger that drops records while replaying, so each
	// line is written once per run.
	Logger() *slog.Logger
	// Now returns the run's deterministic current time.
	Now() time.Time

	// RunStep executes fn at most once per successful attempt with retries
	// per opts and journals its result; on replay it returns the journaled
	// result without calling fn.
	RunStep(name string, opts StepOptions, fn RawStepFunc) (json.RawMessage, error)
	// Sleep blocks for a durable timer of duration d.
	Sleep(d time.Duration) error
	// SideEffect journals the value fn returns the first time and returns
	// the journaled value on replay. fn must not fail or block.
	SideEffect(name string, fn func() json.RawMessage) (json.RawMessage, error)
	// WaitSignal waits for the next signal called name (a buffered one is
	// taken first). timeout <= 0 waits without limit. ok is false on
	// timeout. A non-nil schema rejects payloads that do not match.
	WaitSignal(name string, timeout time.Duration, schema *jsonschema.Schema) (payload json.RawMessage, ok bool, err error)
	// RequestInput pauses the run until a payload matching req.Schema is
	// delivered on req.Signal (see [RequestHumanInput]).
	RequestInput(req InputRequest) (json.RawMessage, error)
	// RunChild starts the registered workflow named workflow as a child run
	// and waits for its result.
	RunChild(workflow string, input json.RawMessage, opts ChildOptions) (json.RawMessage, error)
	// SetStatus sets the run's human-readable status message.
	SetStatus(msg string)
	// ReportProgress records the run's progress.
	ReportProgress(p Progress)
}

// RawStepFunc is the JSON-level form of a step function that executors run.
type RawStepFunc func(ctx context.Context, sc StepContext) (json.RawMessage, error)

// Progress is a run's progress report: Current out of Total (Total 0 means
// unknown) with an optional message.
type Progress struct {
	Current float64 `json:"current"`
	Total   float64 `json:"total,omitempty"`
	Message string  `json:"message,omitempty"`
}

// InputRequest is a request for human input: the run pauses until a payload
// is delivered on Signal (default [ResumeSignal]).
type InputRequest struct {
	Prompt  string             `json:"prompt"`
	Schema  *jsonschema.Schema `json:"schema,omitempty"`
	Signal  string             `json:"signal,omitempty"`
	Timeout time.Duration      `json:"timeout,omitempty"`
}

// ChildOptions configures a child run. The zero value is valid.
type ChildOptions struct {
	// ID is the child's run ID. Empty means derived from the parent's run
	// ID and the child's position in the workflow, so it is stable on replay.
	ID string
}

// ResumeSignal is the signal name that delivers human input and resumes a
// paused run.
const ResumeSignal = "resume"

// schemaFor infers the JSON schema of T. json.RawMessage and interface types
// accept any JSON value.
func schemaFor[T any]() (*jsonschema.Schema, error) {
	t := reflect.TypeFor[T]()
	if t == reflect.TypeFor[json.RawMessage]() || t.Kind() == reflect.Interface {
		return &jsonschema.Schema{}, nil
	}
	return jsonschema.For[T](nil)
}

// SchemaFor returns the JSON schema inferred for T, as used for workflow
// inputs, typed signals and typed human input. It panics if T has no JSON
// schema (channels, functions).
func SchemaFor[T any]() *jsonschema.Schema {
	s, err := schemaFor[T]()
	if err != nil {
		panic(fmt.Sprintf("workflow.SchemaFor[%s]: %v", reflect.TypeFor[T](), err))
	}
	return s
}

// normalizeInput maps an absent (or null) input to the zero value a schema
// expects: {} for objects, null otherwise.
func normalizeInput(input json.RawMessage, s *jsonschema.Schema) json.RawMessage {
	absent := len(input) == 0 || string(input) == "null"
	if !absent {
		return input
	}
	if s != nil && s.Type == "object" {
		return json.RawMessage("{}")
	}
	return json.RawMessage("null")
}

// ValidatePayload checks a JSON payload against a schema; a nil schema
// accepts any JSON value. The error names the offending field.
func ValidatePayload(schema *jsonschema.Schema, payload json.RawMessage) error {
	if schema == nil {
		if len(payload) != 0 && !json.Valid(payload) {
			return errors.New("payload is not valid JSON")
		}
		return nil
	}
	res, err := schema.Resolve(nil)
	if err != nil {
		return fmt.Errorf("invalid schema: %w", err)
	}
	return validateJSON(res, normalizeInput(payload, schema))
}

// ValidateAgainst checks a JSON input for the workflow named name against an
// input schema obtained elsewhere (an executor's record of another process's
// workflows). The error wraps [ErrInvalidPayload] and names the field.
func ValidateAgainst(name string, schema *jsonschema.Schema, input json.RawMessage) error {
	res, err := schema.Resolve(nil)
	if err != nil {
		return fmt.Errorf("workflow %q: input schema: %w", name, err)
	}
	if err := validateJSON(res, normalizeInput(input, schema)); err != nil {
		return &PayloadError{Subject: fmt.Sprintf("input for workflow %q", name), Err: err}
	}
	return nil
}
