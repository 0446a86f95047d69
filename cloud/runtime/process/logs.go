package process

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"sync"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
)

// maxLineBytes bounds one log line; longer lines are cut and marked.
const maxLineBytes = 16 << 10

// logRing keeps the last lines of a deployment and wakes followers.
type logRing struct {
	name  string
	now   func() time.Time
	sink  func(runtime.LogLine)
	mu    sync.Mutex
	lines []runtime.LogLine // circular, len == cap once full
	start int               // index of the oldest line
	seq   int64             // Seq of the newest line
	wake  chan struct{}     // closed and replaced on every append
	gone  bool              // deployment deleted
}

func newLogRing(name string, size int, now func() time.Time, sink func(runtime.LogLine)) *logRing {
	return &logRing{name: name, now: now, sink: sink, lines: make([]runtime.LogLine, 0, size), wake: make(chan struct{})}
}

func (r *logRing) add(stream string, pid int, text string) {
	r.mu.Lock()
	r.seq++
	l := runtime.LogLine{Deployment: r.name, Time: r.now(), Stream: stream, PID: pid, Text: text, Seq: r.seq}
	if len(r.lines) < cap(r.lines) {
		r.lines = append(r.lines, l)
	} else {
		r.lines[r.start] = l
		r.start = (r.start + 1) % len(r.lines)
	}
	close(r.wake)
	r.wake = make(chan struct{})
	r.mu.Unlock()
	if r.sink != nil {
		r.sink(l)
	}
}

// close ends every follower.
func (r *logRing) close() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.gone {
		r.gone = true
		close(r.wake)
	}
}

// after returns the retained lines with Seq > seq and Time >= since, the
// oldest and newest retained Seq, and the channel closed on the next append.
func (r *logRing) after(seq int64, since time.Time) (out []runtime.LogLine, oldest, newest int64, wake <-chan struct{}, gone bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := len(r.lines)
	for i := range n {
		l := r.lines[(r.start+i)%n]
		if l.Seq > seq && !l.Time.Before(since) {
			out = append(out, l)
		}
	}
	return out, r.seq - int64(n) + 1, r.seq, r.wake, r.gone
}

// follow implements Runtime.Logs on one ring.
func (r *logRing) follow(ctx context.Context, since time.Time, follow bool) iter.Seq2[runtime.LogLine, error] {
	return func(yield func(runtime.LogLine, error) bool) {
		var last int64
		for first := true; ; first = false {
			lines, oldest, newest, wake, gone := r.after(last, since)
			if !first && oldest > last+1 {
				note := runtime.LogLine{Deployment: r.name, Time: r.now(), Stream: "runtime",
					Text: fmt.Sprintf("(%d log lines dropped: the reader fell behind the %d-line buffer)", oldest-last-1, cap(r.lines))}
				if !yield(note, nil) {
					return
				}
			}
			for _, l := range lines {
				if !yield(l, nil) {
					return
				}
			}
			last = newest
			if !follow || gone {
				return
			}
			select {
			case <-wake:
			case <-ctx.Done():
				yield(runtime.LogLine{}, ctx.Err())
				return
			}
		}
	}
}

// pump copies r's lines into the ring until EOF.
func (r *logRing) pump(src io.Reader, stream string, pid int) {
	br := bufio.NewReaderSize(src, 4096)
	for {
		line, err := readLine(br)
		if line != "" || err == nil {
			r.add(stream, pid, line)
		}
		if err != nil {
			return
		}
	}
}

// readLine reads one line without its newline, cutting it at maxLineBytes
// (the rest of the line is discarded).
func readLine(br *bufio.Reader) (string, error) {
	var buf []byte
	cut := false
	for {
		frag, err := br.ReadSlice('\n')
		if len(buf)+len(frag) > maxLineBytes {
			if !cut {
				buf = append(buf, frag[:maxLineBytes-len(buf)]...)
				cut = true
			}
		} else {
			buf = append(buf, frag...)
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		s := string(buf)
		if n := len(s); n > 0 && s[n-1] == '\n' {
			s = s[:n-1]
		}
		if n := len(s); n > 0 && s[n-1] == '\r' {
			s = s[:n-1]
		}
		if cut {
			s += " …(line truncated)"
		}
		return s, err
	}
}
