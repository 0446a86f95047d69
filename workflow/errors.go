package workflow

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/jsonschema-go/jsonschema"
)

// ErrCanceled is wrapped by the errors that workflow functions get from
// blocking calls ([Step], [Sleep], [WaitSignal], ...) once their run is
// cancelled. Return it (or any error) to end the run as cancelled.
var ErrCanceled = errors.New("workflow run cancelled")

// ErrTimeout is returned by [RequestHumanInput] when its timeout passes with
// no input.
var ErrTimeout = errors.New("timed out waiting for input")

// ErrInvalidPayload is wrapped by every error about a workflow input or
// signal payload that does not match its JSON schema.
var ErrInvalidPayload = errors.New("invalid payload")

// PayloadError reports a workflow input or signal payload that does not
// match its schema. It wraps [ErrInvalidPayload].
type PayloadError struct {
	Subject string // what the payload was for, e.g. `input for workflow "draft"`
	Err     error  // the validation or decoding error
}

func (e *PayloadError) Error() string {
	return fmt.Sprintf("invalid %s: %s", e.Subject, describeSchemaError(e.Err))
}

// Is reports whether target is [ErrInvalidPayload].
func (e *PayloadError) Is(target error) bool { return target == ErrInvalidPayload }

// Unwrap returns the underlying validation error.
func (e *PayloadError) Unwrap() error { return e.Err }

// StepError is the error a [Step] returns after its last attempt failed. It
// carries the failure's message, not the original error value, so that a
// workflow sees the same error live and on replay. It wraps [ErrCanceled]
// when the step failed because the run was cancelled.
type StepError struct {
	Step     string // step name
	Seq      int    // position in the run's journal (1-based)
	Attempts int    // attempts made
	Message  string // the last attempt's error message
	Canceled bool   // the run was cancelled during the step
}

func (e *StepError) Error() string {
	if e.Canceled {
		return fmt.Sprintf("step %q cancelled: %s", e.Step, e.Message)
	}
	n := "attempt"
	if e.Attempts != 1 {
		n = "attempts"
	}
	return fmt.Sprintf("step %q failed after %d %s: %s", e.Step, e.Attempts, n, e.Message)
}

// Unwrap returns [ErrCanceled] for a cancelled step, else nil.
func (e *StepError) Unwrap() error {
	if e.Canceled {
		return ErrCanceled
	}
	return nil
}

// NondeterminismError reports that a workflow, re-executed from its journal,
// asked for a different operation than the one journaled at the same
// position: its code changed, or it depends on something other than its
// input, its journaled results and this package's deterministic functions.
// The run fails with this error.
type NondeterminismError struct {
	Workflow string
	RunID    string
	Seq      int    // 1-based position in the journal
	Journal  string // what the journal has, e.g. step "approve"
	Code     string // what the code asked for
}

func (e *NondeterminismError) Error() string {
	return fmt.Sprintf("workflow %q run %s: nondeterminism at step %d: journal has %s, code asked for %s",
		e.Workflow, e.RunID, e.Seq, e.Journal, e.Code)
}

// nonRetryable marks an error that stops a step's retries.
type nonRetryable struct{ err error }

func (e *nonRetryable) Error() string { return e.err.Error() }
func (e *nonRetryable) Unwrap() error { return e.err }

// NonRetryable wraps err so that a [Step] returning it fails at once instead
// of being retried. NonRetryable(nil) is nil.
func NonRetryable(err error) error {
	if err == nil {
		return nil
	}
	return &nonRetryable{err}
}

// IsNonRetryable reports whether err was marked by [NonRetryable].
func IsNonRetryable(err error) bool {
	var nr *nonRetryable
	return errors.As(err, &nr)
}

// validateJSON validates a JSON document against a resolved schema.
func validateJSON(res *jsonschema.Resolved, doc json.RawMessage) error {
	var v any
	if err := json.Unmarshal(doc, &v); err != nil {
		return fmt.Errorf("not valid JSON: %w", err)
	}
	return res.Validate(v)
}

// describeSchemaError rewrites jsonschema-go's nested "validating <pointer>:"
// chain into `field "a.b[]": <cause>`, which names the offending field the
// way a user wrote it.
func describeSchemaError(err error) string {
	msg := err.Error()
	path := ""
	for strings.HasPrefix(msg, "validating ") {
		rest := msg[len("validating "):]
		i := strings.Index(rest, ": ")
		if i < 0 {
			break
		}
		if p := rest[:i]; p != "root" {
			path = p
		}
		msg = rest[i+2:]
	}
	msg = strings.Replace(msg, "<invalid reflect.Value> has type", "value has type", 1)
	field := fieldOfPointer(path)
	if field == "" {
		return msg
	}
	return fmt.Sprintf("field %q: %s", field, msg)
}

// fieldOfPointer turns a schema JSON pointer such as
// /properties/sub/properties/x/items into sub.x[].
func fieldOfPointer(p string) string {
	var b strings.Builder
	parts := strings.Split(strings.TrimPrefix(p, "/"), "/")
	for i := 0; i < len(parts); i++ {
		switch parts[i] {
		case "properties", "patternProperties":
			if i+1 < len(parts) {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(parts[i+1])
				i++
			}
		case "items", "additionalProperties", "prefixItems":
			b.WriteString("[]")
		}
	}
	return b.String()
}
