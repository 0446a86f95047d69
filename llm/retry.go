package llm

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"syscall"
	"time"
)

// HTTPStatusError is an error carrying an HTTP status, as providers return
// for failed API calls. Providers map their SDK errors onto it (or return a
// [*StatusError]) so that [RetryPolicy] decides retries in one place.
type HTTPStatusError interface {
	error
	// StatusCode is the HTTP status of the response.
	StatusCode() int
	// RetryAfter is the delay the server asked for (Retry-After or
	// retry-after-ms headers), 0 when it gave none.
	RetryAfter() time.Duration
}

// StatusError is a ready-made [HTTPStatusError] wrapping a provider's error.
type StatusError struct {
	Code  int
	After time.Duration
	// Err is the underlying error (an SDK error); it may be nil.
	Err error
}

// NewStatusError returns a StatusError for a response's status and headers
// (Retry-After in seconds or as an HTTP date, or retry-after-ms).
func NewStatusError(code int, header http.Header, err error) *StatusError {
	return &StatusError{Code: code, After: ParseRetryAfter(header, time.Now()), Err: err}
}

func (e *StatusError) Error() string {
	if e.Err != nil {
		return e.Err.Error()
	}
	return fmt.Sprintf("HTTP %d %s", e.Code, http.StatusText(e.Code))
}

func (e *StatusError) Unwrap() error             { return e.Err }
func (e *StatusError) StatusCode() int           { return e.Code }
func (e *StatusError) RetryAfter() time.Duration { return e.After }

// ParseRetryAfter reads the delay a response asks for: the retry-after-ms
// header (OpenAI, Anthropic), else Retry-After as seconds or an HTTP date
// (relative to now). It returns 0 when there is none.
func ParseRetryAfter(h http.Header, now time.Time) time.Duration {
	if h == nil {
		return 0
	}
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms > 0 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	v := h.Get("Retry-After")
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseFloat(v, 64); err == nil {
		if s <= 0 {
			return 0
		}
		return time.Duration(s * float64(time.Second))
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// RetryPolicy retries model calls that failed transiently: HTTP 408, 409,
// 429 and 5xx, and connection resets or truncated responses. Other 4xx
// errors (bad request, authentication, not found) and context cancellation
// are never retried. Delays grow exponentially with full jitter and honour
// the server's Retry-After when it asks for longer (capped at MaxDelay).
//
// The zero value (and a nil *RetryPolicy) uses the documented defaults.
type RetryPolicy struct {
	// MaxAttempts is the number of tries including the first; 0 means 4. Use
	// 1 to disable retries.
	MaxAttempts int
	// BaseDelay is the delay before the first retry; 0 means 500ms. The
	// n-th retry waits a random duration in [d/2, d] with d =
	// BaseDelay*2^(n-1), capped at MaxDelay.
	BaseDelay time.Duration
	// MaxDelay caps every delay, including a server's Retry-After; 0 means
	// 60s.
	MaxDelay time.Duration
	// Sleep waits for d or until ctx is done; nil uses a timer. Tests inject
	// a fake clock here.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0, 1) for jitter; nil uses math/rand/v2.
	Rand func() float64
}

func (p *RetryPolicy) maxAttempts() int {
	if p == nil || p.MaxAttempts <= 0 {
		return 4
	}
	return p.MaxAttempts
}

func (p *RetryPolicy) delay(retry int, err error) time.Duration {
	base, maxd := 500*time.Millisecond, 60*time.Second
	random := rand.Float64
	if p != nil {
		if p.BaseDelay > 0 {
			base = p.BaseDelay
		}
		if p.MaxDelay > 0 {
			maxd = p.MaxDelay
		}
		if p.Rand != nil {
			random = p.Rand
		}
	}
	d := base
	for i := 1; i < retry && d < maxd; i++ {
		d *= 2
	}
	d = min(d, maxd)
	d = d/2 + time.Duration(random()*float64(d/2))
	var se HTTPStatusError
	if errors.As(err, &se) {
		if ra := se.RetryAfter(); ra > d {
			d = min(ra, maxd)
		}
	}
	return d
}

func (p *RetryPolicy) sleep(ctx context.Context, d time.Duration) error {
	if p != nil && p.Sleep != nil {
		return p.Sleep(ctx, d)
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Do calls fn until it succeeds, fails with an error that is not
// [Retryable], or MaxAttempts tries have been made. It returns fn's last
// error (wrapped with the number of attempts when it retried).
func (p *RetryPolicy) Do(ctx context.Context, fn func(ctx context.Context) error) error {
	attempts := p.maxAttempts()
	for attempt := 1; ; attempt++ {
		err := fn(ctx)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil || !Retryable(err) {
			return err
		}
		if attempt >= attempts {
			return fmt.Errorf("giving up after %d attempts: %w", attempt, err)
		}
		if serr := p.sleep(ctx, p.delay(attempt, err)); serr != nil {
			return err
		}
	}
}

// Retryable reports whether err is a transient failure worth retrying:
// an [HTTPStatusError] with status 408, 409, 429 or 5xx, a connection reset,
// or broken pipe, or a response cut short
// (io.ErrUnexpectedEOF). Context errors are not retryable.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var pe permanentError
	if errors.As(err, &pe) {
		return false
	}
	var se HTTPStatusError
	if errors.As(err, &se) {
		c := se.StatusCode()
		return c == http.StatusRequestTimeout || c == http.StatusConflict || c == http.StatusTooManyRequests || c >= 500
	}
	return errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, io.ErrUnexpectedEOF)
}
