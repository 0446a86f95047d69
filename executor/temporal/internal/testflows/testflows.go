// Package testflows holds the workflow definitions the Temporal executor's
// tests and benchmarks run: on the SDK's test environment, on a real
// Temporal server and, for comparison, on the local executor. Each
// constructor returns a fresh definition whose steps count their executions
// in a Counter.
package testflows

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// Topic is the input of the drafting workflows.
type Topic struct {
	Name string `json:"name"`
}

// Approval is the human input the approval workflow asks for.
type Approval struct {
	Approved bool   `json:"approved"`
	Edits    string `json:"edits,omitempty"`
}

// Counter counts step executions by step name. It is safe for concurrent
// use.
type Counter struct {
	mu   sync.Mutex
	m    map[string]int
	keys map[string][]string
}

// NewCounter returns an empty Counter.
func NewCounter() *Counter { return &Counter{m: map[string]int{}, keys: map[string][]string{}} }

// Add records one execution of step with its idempotency key.
func (c *Counter) Add(step, key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[step]++
	c.keys[step] = append(c.keys[step], key)
}

// Get returns how often step executed.
func (c *Counter) Get(step string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.m[step]
}

// Keys returns the idempotency keys step executed with, in order.
func (c *Counter) Keys(step string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.keys[step]...)
}

// Draft is what the "draft" step writes for a topic.
func Draft(topic string) string { return "Otters hold hands while they sleep. (" + topic + ")" }

// ApprovalPrompt is the prompt of the approval workflow's input request.
const ApprovalPrompt = "Publish this draft?"

// ApprovalFlow is the human-input workflow "approval": an agent drafts
// (step "draft"), the run pauses for approval, and resumes with edits
// (step "publish" appends them). A rejected draft returns "not published".
func ApprovalFlow(c *Counter) *workflow.Definition[Topic, string] {
	return workflow.Define("approval", func(wctx workflow.Context, in Topic) (string, error) {
		text, err := workflow.Step(wctx, "draft", func(ctx context.Context, sc workflow.StepContext) (string, error) {
			c.Add("draft", sc.IdempotencyKey)
			return Draft(in.Name), nil
		}, nil)
		if err != nil {
			return "", err
		}
		workflow.SetStatus(wctx, "waiting for approval")
		a, err := workflow.RequestInput[Approval](wctx, ApprovalPrompt+"\n\n"+text, nil)
		if err != nil {
			return "", err
		}
		if !a.Approved {
			return "not published", nil
		}
		return workflow.Step(wctx, "publish", func(ctx context.Context, sc workflow.StepContext) (string, error) {
			c.Add("publish", sc.IdempotencyKey)
			return text + a.Edits, nil
		}, nil)
	}, &workflow.DefineOptions{Description: "Draft a paragraph and publish it after approval"})
}

// Values is what ValuesFlow returns.
type Values struct {
	Start    time.Time `json:"start"`
	Now      time.Time `json:"now"`
	Random   int       `json:"random"`
	UUID     string    `json:"uuid"`
	Picked   string    `json:"picked"`
	Info     string    `json:"info"`
	StepKeys []string  `json:"step_keys"`
}

// ValuesFlow is the workflow "values": deterministic values (Now, Random,
// NewUUID, SideEffect), run info, a status message, progress and two steps.
func ValuesFlow(c *Counter) *workflow.Definition[struct{}, Values] {
	return workflow.Define("values", func(wctx workflow.Context, _ struct{}) (Values, error) {
		var v Values
		v.Start = workflow.Now(wctx)
		r, err := workflow.Random(wctx)
		if err != nil {
			return v, err
		}
		v.Random = r.IntN(1000)
		if v.UUID, err = workflow.NewUUID(wctx); err != nil {
			return v, err
		}
		if v.Picked, err = workflow.SideEffect(wctx, "pick", func() string { return "blue" }); err != nil {
			return v, err
		}
		for i := range 2 {
			k, err := workflow.Step(wctx, fmt.Sprintf("s%d", i), func(ctx context.Context, sc workflow.StepContext) (string, error) {
				c.Add(sc.Step, sc.IdempotencyKey)
				return sc.IdempotencyKey, nil
			}, nil)
			if err != nil {
				return v, err
			}
			v.StepKeys = append(v.StepKeys, k)
		}
		workflow.SetStatus(wctx, "halfway")
		workflow.ReportProgress(wctx, 1, 2, "one of two")
		info := workflow.GetInfo(wctx)
		v.Info = info.Workflow + "/" + info.RunID
		v.Now = workflow.Now(wctx)
		return v, nil
	}, nil)
}

// WaitIn is the input of WaitFlow.
type WaitIn struct {
	Signal  string        `json:"signal"`
	Timeout time.Duration `json:"timeout,omitempty"` // 0: no limit
	Count   int           `json:"count,omitempty"`   // 0 means 1
}

// WaitOut is what WaitFlow returns: the payloads received, and whether the
// last wait timed out.
type WaitOut struct {
	Got      []Approval `json:"got"`
	TimedOut bool       `json:"timed_out"`
}

// WaitFlow is the workflow "waiter": it waits Count times for the signal
// (typed Approval, so payloads are validated), each wait bounded by Timeout.
func WaitFlow() *workflow.Definition[WaitIn, WaitOut] {
	return workflow.Define("waiter", func(wctx workflow.Context, in WaitIn) (WaitOut, error) {
		var out WaitOut
		for range max(in.Count, 1) {
			a, ok, err := workflow.WaitSignal[Approval](wctx, in.Signal, in.Timeout)
			if err != nil {
				return out, err
			}
			if !ok {
				out.TimedOut = true
				return out, nil
			}
			out.Got = append(out.Got, a)
		}
		return out, nil
	}, nil)
}

// ErrFlaky is the error the flaky step fails with.
var ErrFlaky = errors.New("flaky: not yet")

// FlakyIn is the input of FlakyFlow.
type FlakyIn struct {
	Failures     int  `json:"failures,omitempty"`      // attempts that fail before one succeeds
	MaxAttempts  int  `json:"max_attempts,omitempty"`  // the step's retry policy
	NonRetryable bool `json:"non_retryable,omitempty"` // fail with NonRetryable
}

// FlakyFlow is the workflow "flaky": step "flaky" fails Failures times
// (counting attempts in c) and then returns its attempt number; the retry
// policy has MaxAttempts and a 10ms initial interval.
func FlakyFlow(c *Counter) *workflow.Definition[FlakyIn, int] {
	return workflow.Define("flaky", func(wctx workflow.Context, in FlakyIn) (int, error) {
		return workflow.Step(wctx, "flaky", func(ctx context.Context, sc workflow.StepContext) (int, error) {
			c.Add("flaky", sc.IdempotencyKey)
			if sc.Attempt <= in.Failures {
				if in.NonRetryable {
					return 0, workflow.NonRetryable(ErrFlaky)
				}
				return 0, ErrFlaky
			}
			return sc.Attempt, nil
		}, &workflow.StepOptions{Retry: &workflow.RetryPolicy{MaxAttempts: in.MaxAttempts, InitialInterval: 10 * time.Millisecond}})
	}, nil)
}

// ChildFlow is the workflow "double": it doubles its input in a step.
func ChildFlow(c *Counter) *workflow.Definition[int, int] {
	return workflow.Define("double", func(wctx workflow.Context, n int) (int, error) {
		return workflow.Step(wctx, "double", func(ctx context.Context, sc workflow.StepContext) (int, error) {
			c.Add("double", sc.IdempotencyKey)
			if n < 0 {
				return 0, workflow.NonRetryable(errors.New("negative input"))
			}
			return 2 * n, nil
		}, nil)
	}, nil)
}

// ParentFlow is the workflow "parent": it runs child (ChildFlow) on n and
// on n+1 and adds the results.
func ParentFlow(child *workflow.Definition[int, int]) *workflow.Definition[int, int] {
	return workflow.Define("parent", func(wctx workflow.Context, n int) (int, error) {
		a, err := workflow.ExecuteChild(wctx, child, n, nil)
		if err != nil {
			return 0, err
		}
		b, err := workflow.ExecuteChild(wctx, child, n+1, nil)
		if err != nil {
			return 0, err
		}
		return a + b, nil
	}, nil)
}

// SleepFlow is the workflow "sleeper": it sleeps d and returns the run time
// that passed.
func SleepFlow() *workflow.Definition[time.Duration, time.Duration] {
	return workflow.Define("sleeper", func(wctx workflow.Context, d time.Duration) (time.Duration, error) {
		start := workflow.Now(wctx)
		if err := workflow.Sleep(wctx, d); err != nil {
			return 0, err
		}
		return workflow.Now(wctx).Sub(start), nil
	}, nil)
}

// StepsFlow is the workflow "steps": n trivial steps, each journaled. It is
// the benchmark's steps-per-second workflow.
func StepsFlow() *workflow.Definition[int, int] {
	return workflow.Define("steps", func(wctx workflow.Context, n int) (int, error) {
		sum := 0
		for i := range n {
			v, err := workflow.Step(wctx, "add", func(ctx context.Context, sc workflow.StepContext) (int, error) { return i, nil }, nil)
			if err != nil {
				return 0, err
			}
			sum += v
		}
		return sum, nil
	}, nil)
}

// PingPongFlow is the workflow "pingpong": n times, it waits for signal
// "ping" and runs a step that sends the payload on pong. It is the
// benchmark's signal round-trip workflow.
func PingPongFlow(pong chan<- int) *workflow.Definition[int, int] {
	return workflow.Define("pingpong", func(wctx workflow.Context, n int) (int, error) {
		for range n {
			v, _, err := workflow.WaitSignal[int](wctx, "ping", 0)
			if err != nil {
				return 0, err
			}
			if _, err := workflow.Step(wctx, "pong", func(ctx context.Context, sc workflow.StepContext) (int, error) {
				select {
				case pong <- v:
				case <-ctx.Done():
					return 0, ctx.Err()
				}
				return v, nil
			}, nil); err != nil {
				return 0, err
			}
		}
		return n, nil
	}, nil)
}

// BlockFlow is the workflow "blocker": step "block" waits until its context
// is cancelled (or release is closed), then the workflow waits for input.
// It exercises cancellation and Pause.
func BlockFlow(c *Counter, release <-chan struct{}) *workflow.Definition[struct{}, string] {
	return workflow.Define("blocker", func(wctx workflow.Context, _ struct{}) (string, error) {
		if _, err := workflow.Step(wctx, "block", func(ctx context.Context, sc workflow.StepContext) (string, error) {
			c.Add("block", sc.IdempotencyKey)
			select {
			case <-ctx.Done():
				return "", ctx.Err()
			case <-release:
				return "released", nil
			}
		}, &workflow.StepOptions{Retry: &workflow.RetryPolicy{MaxAttempts: 1}}); err != nil {
			return "", err
		}
		if _, err := workflow.Step(wctx, "after", func(ctx context.Context, sc workflow.StepContext) (string, error) {
			c.Add("after", sc.IdempotencyKey)
			return "after", nil
		}, nil); err != nil {
			return "", err
		}
		a, err := workflow.RequestInput[Approval](wctx, "go on?", nil)
		if err != nil {
			return "", err
		}
		return fmt.Sprint(a.Approved), nil
	}, nil)
}
