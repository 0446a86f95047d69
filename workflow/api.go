package workflow

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
)

// Sleep pauses the workflow for d on a durable timer: the fire time is
// journaled, so a run that is restarted keeps its original deadline, and a
// timer that came due while the process was down fires at recovery.
func Sleep(wctx Context, d time.Duration) error { return wctx.Sleep(d) }

// Now returns the run's current time; unlike time.Now it returns the same
// value when the workflow is replayed.
func Now(wctx Context) time.Time { return wctx.Now() }

// SideEffect runs fn once, journals its result and returns the journaled
// result on replay. Use it for small non-deterministic values (a random
// choice, a generated name); use [Step] for anything that does I/O or can
// fail. fn must not block.
func SideEffect[T any](wctx Context, name string, fn func() T) (T, error) {
	var out T
	raw, err := wctx.SideEffect(name, func() json.RawMessage {
		b, err := json.Marshal(fn())
		if err != nil {
			panic(fmt.Sprintf("workflow.SideEffect(%q): result is not JSON-serialisable: %v", name, err))
		}
		return b
	})
	if err != nil {
		return out, err
	}
	err = json.Unmarshal(raw, &out)
	return out, err
}

// Random returns a pseudo-random generator seeded from a journaled random
// seed, so the sequence it produces is the same on replay.
func Random(wctx Context) (*rand.Rand, error) {
	seed, err := SideEffect(wctx, "random", func() [2]uint64 {
		return [2]uint64{rand.Uint64(), rand.Uint64()}
	})
	if err != nil {
		return nil, err
	}
	return rand.New(rand.NewPCG(seed[0], seed[1])), nil
}

// NewUUID returns a random (version 4) UUID that replays the same.
func NewUUID(wctx Context) (string, error) {
	return SideEffect(wctx, "uuid", func() string {
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:8], rand.Uint64())
		binary.LittleEndian.PutUint64(b[8:], rand.Uint64())
		b[6] = b[6]&0x0f | 0x40
		b[8] = b[8]&0x3f | 0x80
		h := hex.EncodeToString(b[:])
		return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
	})
}

// WaitSignal waits for the next signal called name and decodes its payload
// into T. Signals sent before the wait are buffered and taken in order. A
// payload that does not match T's JSON schema is rejected when it is sent to
// a waiting run, and skipped (recorded in history) if it was buffered.
// timeout <= 0 waits without limit; ok is false if the timeout passed first.
// While it waits, the run's status is paused.
func WaitSignal[T any](wctx Context, name string, timeout time.Duration) (v T, ok bool, err error) {
	raw, ok, err := wctx.WaitSignal(name, timeout, SchemaFor[T]())
	if err != nil || !ok {
		return v, ok, err
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, false, &PayloadError{Subject: fmt.Sprintf("payload of signal %q", name), Err: err}
	}
	return v, true, nil
}

// InputOptions configures [RequestHumanInput]. The zero value is valid.
type InputOptions struct {
	// Signal is the signal that delivers the input; "" means [ResumeSignal].
	Signal string
	// Timeout bounds the wait; 0 means wait indefinitely (across restarts).
	Timeout time.Duration
}

// RequestHumanInput pauses the run (status paused) until a person resumes it
// with a payload matching schema (nil accepts any JSON). The prompt and
// schema are visible in the run's status so that a CLI or console can ask
// for the input. It returns [ErrTimeout] if opts.Timeout passes first.
func RequestHumanInput(wctx Context, prompt string, schema *jsonschema.Schema, opts *InputOptions) (json.RawMessage, error) {
	if opts == nil {
		opts = &InputOptions{}
	}
	sig := opts.Signal
	if sig == "" {
		sig = ResumeSignal
	}
	return wctx.RequestInput(InputRequest{Prompt: prompt, Schema: schema, Signal: sig, Timeout: opts.Timeout})
}

// RequestInput is [RequestHumanInput] with the schema inferred from T and
// the payload decoded into T.
func RequestInput[T any](wctx Context, prompt string, opts *InputOptions) (T, error) {
	var v T
	raw, err := RequestHumanInput(wctx, prompt, SchemaFor[T](), opts)
	if err != nil {
		return v, err
	}
	if err := json.Unmarshal(raw, &v); err != nil {
		return v, &PayloadError{Subject: "human input", Err: err}
	}
	return v, nil
}

// ExecuteChild runs def as a child run and returns its result. The child is
// journaled like a step: on replay its result is returned without running it
// again. opts may be nil.
func ExecuteChild[In, Out any](wctx Context, def *Definition[In, Out], in In, opts *ChildOptions) (Out, error) {
	var out Out
	if opts == nil {
		opts = &ChildOptions{}
	}
	b, err := json.Marshal(in)
	if err != nil {
		return out, fmt.Errorf("child workflow %q: encoding input: %w", def.Name(), err)
	}
	raw, err := wctx.RunChild(def.Name(), b, *opts)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return out, fmt.Errorf("child workflow %q: decoding result: %w", def.Name(), err)
	}
	return out, nil
}

// SetStatus sets the run's status message (shown next to its status).
func SetStatus(wctx Context, msg string) { wctx.SetStatus(msg) }

// ReportProgress records progress: current out of total (0 = unknown).
func ReportProgress(wctx Context, current, total float64, msg string) {
	wctx.ReportProgress(Progress{Current: current, Total: total, Message: msg})
}

// GetInfo returns the run's description.
func GetInfo(wctx Context) Info { return wctx.Info() }
