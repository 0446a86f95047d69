package platform

// Log lines as live events of GET /v1/events.
//
// A deployment's log lines are stored once, as its log (GET
// /v1/{servers,apps}/{name}/logs); they are not copied into the event
// store, where a chatty app would crowd out the events that matter (run
// status changes are found again after a restart from the newest stored
// events). Instead the recorder hands each batch it stored to the logHub,
// which passes the lines to the followers of /v1/events as "log" events
// (api.LiveEventService): live only, with no event ID, so neither the event
// list nor a resumed stream repeats them.
//
// Bounded twice: each deployment's lines become events at most
// logEventRate per second (bursts of logEventBurst; a token bucket), the
// excess is counted and announced in one notice line when the rate allows
// again; and each follower has a buffer of logEventBuffer events: a
// follower that reads slower loses lines, and is told how many. The log
// itself keeps every line either way.

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/store"
)

const (
	// logEventRate is how many of a deployment's log lines per second
	// become events; logEventBurst how many may come at once.
	logEventRate  = 50
	logEventBurst = 200
	// logEventBuffer is the number of live events a follower may lag.
	logEventBuffer = 256
)

// logHub passes log lines to the followers of the org's events.
type logHub struct {
	// lookup resolves a deployment's full name.
	lookup func(full string) (org string, res api.Resource, ok bool)
	now    func() time.Time

	mu      sync.Mutex
	subs    map[*logSub]struct{}
	buckets map[string]*logBucket // by deployment full name
}

// logBucket is a deployment's token bucket.
type logBucket struct {
	tokens  float64
	last    time.Time
	dropped int // lines over the rate since the last notice
}

// logSub is a follower.
type logSub struct {
	org     string
	f       api.EventFilter
	ch      chan api.PlatformEvent
	dropped int // events lost because ch was full
}

func newLogHub(lookup func(string) (string, api.Resource, bool)) *logHub {
	return &logHub{lookup: lookup, now: time.Now, subs: map[*logSub]struct{}{}, buckets: map[string]*logBucket{}}
}

// subscribe returns the org's live log events that pass f, until ctx ends
// (then the channel is closed).
func (h *logHub) subscribe(ctx context.Context, org string, f api.EventFilter) <-chan api.PlatformEvent {
	s := &logSub{org: org, f: f, ch: make(chan api.PlatformEvent, logEventBuffer)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	context.AfterFunc(ctx, func() {
		h.mu.Lock()
		delete(h.subs, s)
		close(s.ch)
		h.mu.Unlock()
	})
	return s.ch
}

// publish passes a deployment's stored log lines to the followers.
func (h *logHub) publish(full string, lines []store.LogLine) {
	org, res, ok := h.lookup(full)
	h.mu.Lock()
	defer h.mu.Unlock()
	if !ok {
		delete(h.buckets, full) // deleted
		return
	}
	following := false
	for s := range h.subs {
		if s.org == org {
			following = true
			break
		}
	}
	if !following {
		return
	}
	now := h.now()
	b := h.buckets[full]
	if b == nil {
		b = &logBucket{tokens: logEventBurst, last: now}
		h.buckets[full] = b
	}
	b.tokens = min(logEventBurst, b.tokens+now.Sub(b.last).Seconds()*logEventRate)
	b.last = now
	for _, l := range lines {
		if b.tokens < 1 {
			b.dropped++
			continue
		}
		if b.dropped > 0 && b.tokens >= 2 {
			h.send(org, logEvent(res, now, "system", fmt.Sprintf(
				"platform: %d log lines not sent as events (over %d lines/s); the %s's log has them all: mcp-agent %s logs %s",
				b.dropped, logEventRate, res.Kind, map[string]string{"app": "apps", "server": "servers"}[res.Kind], res.Name)))
			b.tokens--
			b.dropped = 0
		}
		b.tokens--
		h.send(org, logEvent(res, l.Time, l.Stream, l.Line))
	}
}

// send offers ev to the org's followers whose filter it passes, without
// blocking: a full buffer loses it (counted, and announced when there is
// room again).
func (h *logHub) send(org string, ev api.PlatformEvent) {
	for s := range h.subs {
		if s.org != org || !s.f.Match(ev) {
			continue
		}
		if s.dropped > 0 {
			notice := logEvent(ev.Resource, ev.Time, "system", fmt.Sprintf("platform: %d log events dropped: this follower reads slower than they come", s.dropped))
			select {
			case s.ch <- notice:
				s.dropped = 0
			default:
				s.dropped++
				continue
			}
		}
		select {
		case s.ch <- ev:
		default:
			s.dropped++
		}
	}
}

// logEvent is a log line as an event.
func logEvent(res api.Resource, t time.Time, stream, line string) api.PlatformEvent {
	data, _ := json.Marshal(api.LogEventData{Stream: stream, Line: line})
	return api.PlatformEvent{Time: t, Kind: api.EventLog, Message: line, Data: data, Resource: res}
}

// lookupResource resolves a deployment's full name for the log hub.
func (p *Platform) lookupResource(full string) (string, api.Resource, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.deps[full]
	if d == nil {
		return "", api.Resource{}, false
	}
	kind := "server"
	if d.app {
		kind = "app"
	}
	return d.org, api.Resource{Kind: kind, Name: d.name}, true
}

// LiveEvents implements api.LiveEventService: the org's deployments' log
// lines, as "log" events.
func (p *Platform) LiveEvents(ctx context.Context, org string, f api.EventFilter) <-chan api.PlatformEvent {
	return p.logs.subscribe(ctx, org, f)
}

var _ api.LiveEventService = (*Platform)(nil)
