package platform

// The recorder persists what the runtime reports: log lines in batches (one
// store transaction per deployment per flush: every 100ms, or at once when
// 100 lines are waiting), events and the status they imply as they come.
// The runtime's callbacks must not block, so they only queue; one goroutine
// writes. Followers of logs and events wait on a per-deployment channel that
// is closed after each write (a broadcast), then read the store from their
// cursor: the store is the one source of truth, so a follower sees the same
// sequence numbers as a later reader.

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
	"github.com/mcp-agent-go/mcp-agent/cloud/store"
)

const (
	flushInterval = 100 * time.Millisecond
	flushLines    = 100
	// maxQueuedLines bounds memory when the store is slower than the
	// servers' output; beyond it lines are dropped (and counted).
	maxQueuedLines = 20000
)

type recorder struct {
	store  store.Store
	logger *slog.Logger
	lookup func(full string) (org, id string, ok bool)
	// published receives each deployment's lines once stored.
	published func(full string, lines []store.LogLine)

	mu      sync.Mutex
	lines   []runtime.LogLine
	events  []runtime.Event
	dropped map[string]int
	waiters map[string]chan struct{}
	closed  bool

	wake    chan struct{}
	flushes chan chan struct{}
	stop    chan struct{}
	done    chan struct{}
}

func newRecorder(s store.Store, logger *slog.Logger, lookup func(string) (string, string, bool), published func(string, []store.LogLine)) *recorder {
	r := &recorder{
		store: s, logger: logger, lookup: lookup, published: published,
		dropped: make(map[string]int), waiters: make(map[string]chan struct{}),
		wake: make(chan struct{}, 1), flushes: make(chan chan struct{}), stop: make(chan struct{}), done: make(chan struct{}),
	}
	go r.run()
	return r
}

// log queues a log line (runtime OnLog).
func (r *recorder) log(l runtime.LogLine) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	if len(r.lines) >= maxQueuedLines {
		r.dropped[l.Deployment]++
		r.mu.Unlock()
		return
	}
	r.lines = append(r.lines, l)
	n := len(r.lines)
	r.mu.Unlock()
	if n == 1 || n >= flushLines {
		r.poke()
	}
}

// event queues a runtime event (runtime OnEvent).
func (r *recorder) event(e runtime.Event) {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.events = append(r.events, e)
	r.mu.Unlock()
	r.poke()
}

func (r *recorder) poke() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

func (r *recorder) run() {
	defer close(r.done)
	for {
		select {
		case <-r.stop:
			r.write()
			return
		case ch := <-r.flushes:
			r.write()
			close(ch)
			continue
		case <-r.wake:
		}
		// Gather a batch: until flushInterval passes, enough lines wait, or
		// an event arrives (status changes should show at once).
		timer := time.NewTimer(flushInterval)
	gather:
		for {
			r.mu.Lock()
			ready := len(r.lines) >= flushLines || len(r.events) > 0
			r.mu.Unlock()
			if ready {
				break
			}
			select {
			case <-timer.C:
				break gather
			case <-r.wake:
			case <-r.stop:
				break gather
			case ch := <-r.flushes:
				r.write()
				close(ch)
			}
		}
		timer.Stop()
		r.write()
	}
}

// write stores everything queued.
func (r *recorder) write() {
	r.mu.Lock()
	lines, events, dropped := r.lines, r.events, r.dropped
	r.lines, r.events = nil, nil
	if len(dropped) > 0 {
		r.dropped = make(map[string]int)
	}
	r.mu.Unlock()
	if len(lines) == 0 && len(events) == 0 && len(dropped) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	touched := map[string]bool{}

	// Lines, grouped by deployment in order.
	byDep := map[string][]store.LogLine{}
	var order []string
	for _, l := range lines {
		if _, ok := byDep[l.Deployment]; !ok {
			order = append(order, l.Deployment)
		}
		byDep[l.Deployment] = append(byDep[l.Deployment], store.LogLine{Time: l.Time, Stream: l.Stream, Line: l.Text})
	}
	for full, n := range dropped {
		if _, ok := byDep[full]; !ok {
			order = append(order, full)
		}
		byDep[full] = append(byDep[full], store.LogLine{Time: time.Now(), Stream: "system",
			Line: "platform: " + strconv.Itoa(n) + " log lines dropped (the store could not keep up)"})
	}
	for _, full := range order {
		org, id, ok := r.lookup(full)
		if !ok {
			continue
		}
		if err := r.store.AppendLogs(ctx, org, id, byDep[full]); err != nil {
			r.logger.Error("store logs", "server", full, "lines", len(byDep[full]), "err", err)
		} else if r.published != nil {
			r.published(full, byDep[full])
		}
		touched[full] = true
	}

	for _, e := range events {
		org, id, ok := r.lookup(e.Deployment)
		if !ok {
			continue
		}
		// The store records created, deleted and status events itself.
		if e.Kind != runtime.EventCreated && e.Kind != runtime.EventDeleted {
			if _, err := r.store.AppendEvent(ctx, org, store.Event{DeploymentID: id, Time: e.Time, Kind: string(e.Kind), Message: e.Message}); err != nil {
				r.logger.Error("store event", "server", e.Deployment, "kind", e.Kind, "err", err)
			}
		}
		if st, msg, ok := statusOf(e); ok {
			if _, err := r.store.UpdateStatus(ctx, org, id, st, msg); err != nil {
				r.logger.Debug("store status", "server", e.Deployment, "err", err)
			}
		}
		touched[e.Deployment] = true
	}
	for full := range touched {
		r.notify(full)
	}
}

// statusOf is the status a runtime event implies.
func statusOf(e runtime.Event) (store.Status, string, bool) {
	switch e.Kind {
	case runtime.EventStarted:
		return store.StatusRunning, e.Message, true
	case runtime.EventRestarting:
		return store.StatusStarting, e.Message, true
	case runtime.EventStartFailed:
		return store.StatusFailed, e.Message, true
	case runtime.EventStopped:
		return store.StatusStopped, "", true
	}
	return "", "", false
}

// flush writes everything queued now and returns when it is stored.
func (r *recorder) flush() {
	ch := make(chan struct{})
	select {
	case r.flushes <- ch:
		<-ch
	case <-r.done:
	}
}

// close writes what is queued and stops the writer. Later lines and events
// are dropped.
func (r *recorder) close() {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return
	}
	r.closed = true
	r.mu.Unlock()
	close(r.stop)
	<-r.done
	r.mu.Lock()
	for full, ch := range r.waiters {
		close(ch)
		delete(r.waiters, full)
	}
	r.mu.Unlock()
}

// changed returns a channel closed at the next change of the deployment.
func (r *recorder) changed(full string) <-chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	ch := r.waiters[full]
	if ch == nil {
		ch = make(chan struct{})
		if r.closed {
			close(ch)
			return ch
		}
		r.waiters[full] = ch
	}
	return ch
}

// notify wakes the followers of a deployment.
func (r *recorder) notify(full string) {
	r.mu.Lock()
	ch := r.waiters[full]
	delete(r.waiters, full)
	r.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// forget wakes the followers of a deleted deployment.
func (r *recorder) forget(full string) { r.notify(full) }
