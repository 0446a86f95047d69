package workflow

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// StepContext describes one attempt of a step to the step's function.
type StepContext struct {
	Workflow string // workflow name
	RunID    string // run ID
	Step     string // step name
	Seq      int    // the step's 1-based position in the run's journal
	Attempt  int    // 1 for the first attempt
	// IdempotencyKey is "<run ID>/<seq>": the same for every attempt and
	// every re-execution of this step, different for every other step.
	// Steps run at least once (see the package doc); pass this key to
	// external systems so that a repeated call is recognised as a repeat.
	IdempotencyKey string
}

// RetryPolicy says how a failing step is retried. The zero value means the
// defaults documented on each field.
type RetryPolicy struct {
	// MaxAttempts is the total number of attempts; 0 means 3, 1 means no retry.
	MaxAttempts int
	// InitialInterval is the wait before the second attempt; 0 means 1s.
	InitialInterval time.Duration
	// BackoffCoefficient multiplies the wait after each attempt; 0 means 2.
	BackoffCoefficient float64
	// MaxInterval caps the wait between attempts; 0 means 1 minute.
	MaxInterval time.Duration
}

// StepOptions configures a step. The zero value is valid.
type StepOptions struct {
	// Retry is the retry policy; nil means the zero RetryPolicy (3 attempts,
	// exponential backoff from 1s). Errors wrapped by [NonRetryable] and
	// cancellation are never retried.
	Retry *RetryPolicy
	// Timeout bounds each attempt; 0 means no limit beyond the run's
	// cancellation.
	Timeout time.Duration
}

// Normalized returns p with defaults filled in.
func (p RetryPolicy) Normalized() RetryPolicy {
	if p.MaxAttempts <= 0 {
		p.MaxAttempts = 3
	}
	if p.InitialInterval <= 0 {
		p.InitialInterval = time.Second
	}
	if p.BackoffCoefficient < 1 {
		p.BackoffCoefficient = 2
	}
	if p.MaxInterval <= 0 {
		p.MaxInterval = time.Minute
	}
	return p
}

// Backoff returns the wait after the given failed attempt (1-based).
func (p RetryPolicy) Backoff(attempt int) time.Duration {
	p = p.Normalized()
	d := float64(p.InitialInterval)
	for i := 1; i < attempt; i++ {
		d *= p.BackoffCoefficient
		if d >= float64(p.MaxInterval) {
			return p.MaxInterval
		}
	}
	return min(time.Duration(d), p.MaxInterval)
}

// Step runs fn as a recorded side effect: an LLM call, a tool call, any I/O.
// Its result is journaled; when the run is replayed (after a restart) Step
// returns the journaled result without calling fn again. A failing attempt
// is retried per opts.Retry; after the last one Step returns a [*StepError].
//
// Steps run at least once: if the process dies while fn runs, fn runs again
// after recovery. Use sc.IdempotencyKey to make repeats harmless.
//
// T must round-trip through JSON: the value returned, live or replayed, is
// the one decoded from the journal. name identifies the step in history and
// in the determinism check. opts may be nil.
func Step[T any](wctx Context, name string, fn func(ctx context.Context, sc StepContext) (T, error), opts *StepOptions) (T, error) {
	var zero T
	if opts == nil {
		opts = &StepOptions{}
	}
	raw, err := wctx.RunStep(name, *opts, func(ctx context.Context, sc StepContext) (json.RawMessage, error) {
		v, err := fn(ctx, sc)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, NonRetryable(fmt.Errorf("encoding result: %w", err))
		}
		return b, nil
	})
	if err != nil {
		return zero, err
	}
	var out T
	if err := json.Unmarshal(raw, &out); err != nil {
		return zero, fmt.Errorf("step %q: decoding journaled result: %w", name, err)
	}
	return out, nil
}
