package llm_test

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"net"
	"net/http"
	"os"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// flaky fails with the queued errors, then answers "ok".
type flaky struct {
	mu    sync.Mutex
	errs  []error
	calls int
}

func (f *flaky) Name() string { return "flaky" }

func (f *flaky) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if len(f.errs) > 0 {
		err := f.errs[0]
		f.errs = f.errs[1:]
		return nil, err
	}
	return &llm.Response{Message: llm.AssistantText("ok"), StopReason: llm.StopEndTurn, Model: "flaky-1"}, nil
}

func (f *flaky) Stream(ctx context.Context, req *llm.Request) iter.Seq2[*llm.Chunk, error] {
	return func(yield func(*llm.Chunk, error) bool) {
		r, err := f.Complete(ctx, req)
		if err != nil {
			yield(nil, err)
			return
		}
		if yield(&llm.Chunk{Text: "ok"}, nil) {
			yield(&llm.Chunk{Response: r}, nil)
		}
	}
}

// fakeClock records the delays a policy sleeps.
type fakeClock struct{ slept []time.Duration }

func (c *fakeClock) policy(max int) *llm.RetryPolicy {
	return &llm.RetryPolicy{
		MaxAttempts: max,
		BaseDelay:   time.Second,
		MaxDelay:    20 * time.Second,
		Sleep: func(ctx context.Context, d time.Duration) error {
			c.slept = append(c.slept, d)
			return ctx.Err()
		},
		Rand: func() float64 { return 1 }, // top of the jitter range: d
	}
}

func connReset() error {
	return &net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.ECONNRESET)}
}

func TestRetryPolicy(t *testing.T) {
	header429 := http.Header{"Retry-After": []string{"7"}}
	tests := []struct {
		name      string
		errs      []error
		wantCalls int
		wantSlept []time.Duration
		wantErr   string
	}{
		{"429 honours Retry-After", []error{llm.NewStatusError(429, header429, nil)}, 2, []time.Duration{7 * time.Second}, ""},
		{"500 then 503 back off exponentially", []error{&llm.StatusError{Code: 500}, &llm.StatusError{Code: 503}}, 3, []time.Duration{time.Second, 2 * time.Second}, ""},
		{"connection reset", []error{fmt.Errorf("post: %w", connReset())}, 2, []time.Duration{time.Second}, ""},
		{"400 is not retried", []error{&llm.StatusError{Code: 400, Err: errors.New("bad request: messages: empty")}}, 1, nil,
			`llm "flaky": flaky model call (iteration 1): bad request: messages: empty`},
		{"401 is not retried", []error{&llm.StatusError{Code: 401}}, 1, nil,
			`llm "flaky": flaky model call (iteration 1): HTTP 401 Unauthorized`},
		{"gives up after MaxAttempts", []error{&llm.StatusError{Code: 502}, &llm.StatusError{Code: 502}, &llm.StatusError{Code: 502}}, 3,
			[]time.Duration{time.Second, 2 * time.Second},
			`llm "flaky": flaky model call (iteration 1): giving up after 3 attempts: HTTP 502 Bad Gateway`},
		{"Retry-After is capped", []error{llm.NewStatusError(429, http.Header{"Retry-After": []string{"3600"}}, nil)}, 2, []time.Duration{20 * time.Second}, ""},
	}
	for _, tt := range tests {
		for _, stream := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/stream=%v", tt.name, stream), func(t *testing.T) {
				clock := &fakeClock{}
				f := &flaky{errs: append([]error(nil), tt.errs...)}
				l := llm.New(nil, f, &llm.Options{Retry: clock.policy(3)})
				var err error
				if stream {
					for _, e := range l.Stream(context.Background(), llm.Prompt("hi"), nil) {
						if e != nil {
							err = e
						}
					}
				} else {
					_, err = l.Generate(context.Background(), llm.Prompt("hi"), nil)
				}
				if tt.wantErr == "" && err != nil {
					t.Fatalf("err = %v", err)
				}
				if tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr) {
					t.Fatalf("err = %v\nwant  %s", err, tt.wantErr)
				}
				if f.calls != tt.wantCalls {
					t.Errorf("calls = %d, want %d", f.calls, tt.wantCalls)
				}
				if diff := cmp.Diff(tt.wantSlept, clock.slept); diff != "" {
					t.Errorf("delays (-want +got):\n%s", diff)
				}
			})
		}
	}
}

func TestRetryJitterRange(t *testing.T) {
	var slept []time.Duration
	p := &llm.RetryPolicy{
		MaxAttempts: 4, BaseDelay: time.Second,
		Sleep: func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil },
		Rand:  func() float64 { return 0 }, // bottom of the range: d/2
	}
	err := p.Do(context.Background(), func(context.Context) error { return &llm.StatusError{Code: 500} })
	if err == nil {
		t.Fatal("no error")
	}
	if diff := cmp.Diff([]time.Duration{500 * time.Millisecond, time.Second, 2 * time.Second}, slept); diff != "" {
		t.Errorf("delays (-want +got):\n%s", diff)
	}
}

func TestRetryStopsOnCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	p := &llm.RetryPolicy{Sleep: func(ctx context.Context, d time.Duration) error { cancel(); return ctx.Err() }}
	err := p.Do(ctx, func(context.Context) error { calls++; return &llm.StatusError{Code: 503} })
	if calls != 1 || err == nil {
		t.Errorf("calls = %d, err = %v; want one call and the 503", calls, err)
	}
}

func TestRetryable(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&llm.StatusError{Code: 429}, true},
		{&llm.StatusError{Code: 408}, true},
		{&llm.StatusError{Code: 500}, true},
		{&llm.StatusError{Code: 404}, false},
		{&llm.StatusError{Code: 422}, false},
		{connReset(), true},
		{fmt.Errorf("x: %w", syscall.EPIPE), true},
		{context.Canceled, false},
		{fmt.Errorf("wrapped: %w", context.DeadlineExceeded), false},
		{errors.New("json: cannot unmarshal"), false},
	} {
		if got := llm.Retryable(tt.err); got != tt.want {
			t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tt := range []struct {
		h    http.Header
		want time.Duration
	}{
		{http.Header{"Retry-After": {"2"}}, 2 * time.Second},
		{http.Header{"Retry-After": {"1.5"}}, 1500 * time.Millisecond},
		{http.Header{"Retry-After-Ms": {"250"}, "Retry-After": {"9"}}, 250 * time.Millisecond},
		{http.Header{"Retry-After": {now.Add(30 * time.Second).Format(http.TimeFormat)}}, 30 * time.Second},
		{http.Header{"Retry-After": {"soon"}}, 0},
		{nil, 0},
	} {
		if got := llm.ParseRetryAfter(tt.h, now); got != tt.want {
			t.Errorf("ParseRetryAfter(%v) = %v, want %v", tt.h, got, tt.want)
		}
	}
}
