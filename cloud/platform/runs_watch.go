package platform

// Run events and GET /v1/events.
//
// The platform learns about its apps' runs the way any MCP client would: a
// watcher polls each running app's workflows-runs-list tool (every
// runWatchInterval) and records each change of a run's status as a
// "run_status" event of the app's deployment in the store, plus a
// "human_input" event when the run starts waiting for a person. Events are
// thus durable and ordered with the deployment's own (status, version,
// started, exited), and /v1/events streams them all from the store with a
// cursor. Polling rather than MCP notifications: a notification sent while
// the platform was down or reconnecting would be lost, a poll is not; the
// cost is one tool call per app per interval and up to an interval of
// delay. A poll sees only the status at that moment, so when a run changed
// (its status or its updated_at) the watcher reads its status with
// workflows-get_status, whose "transitions" replay the run's history, and
// records every status the run went through since the last poll: a pause
// and resume between two polls, or an answer and a second question, are
// recorded as they happened (at most maxStatusReads runs per app and poll;
// others by their status until their next change). After a restart the
// watcher starts from the last status it recorded for each run, and
// continues its transitions after the last time the run had that status,
// so a change it missed while the platform was down (or killed before its
// next poll) is recorded then.

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcp-agent-go/mcp-agent/appserver"
	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
	"github.com/mcp-agent-go/mcp-agent/cloud/store"
	"github.com/mcp-agent-go/mcp-agent/executor"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// runWatchInterval is how often the platform polls the runs of each
// running app.
var runWatchInterval = 500 * time.Millisecond

// runWatcher keeps what it saw of each app's runs.
type runWatcher struct {
	started time.Time
	running bool // watchRuns was started
	stop    chan struct{}
	done    chan struct{}

	seen map[string]map[string]seenRun // app full name -> run ID -> state

	mu      sync.Mutex
	waiters map[string]chan struct{} // by org: closed at the next event
}

type seenRun struct {
	status   string
	workflow string
	updated  time.Time // the run's UpdatedAt when seen
	// changes is how many of the run's status transitions (its
	// workflows-get_status "transitions") are recorded; -1: not known (the
	// run was seen without them, or before the platform restarted).
	changes int
}

func newRunWatcher() *runWatcher {
	return &runWatcher{started: time.Now(), stop: make(chan struct{}), done: make(chan struct{}),
		seen: map[string]map[string]seenRun{}, waiters: map[string]chan struct{}{}}
}

// changed returns a channel closed at the org's next run event.
func (w *runWatcher) changed(org string) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	ch := w.waiters[org]
	if ch == nil {
		ch = make(chan struct{})
		w.waiters[org] = ch
	}
	return ch
}

func (w *runWatcher) notify(org string) {
	w.mu.Lock()
	ch := w.waiters[org]
	delete(w.waiters, org)
	w.mu.Unlock()
	if ch != nil {
		close(ch)
	}
}

// watchRuns polls the running apps until the watcher is stopped.
func (p *Platform) watchRuns() {
	w := p.apps.watch
	defer close(w.done)
	base, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-w.stop
		cancel()
	}()
	t := time.NewTicker(runWatchInterval)
	defer t.Stop()
	for {
		select {
		case <-base.Done():
			return
		case <-t.C:
		}
		p.mu.Lock()
		var apps []*deployment
		for _, d := range p.deps {
			if d.app {
				apps = append(apps, d)
			}
		}
		p.mu.Unlock()
		live := map[string]bool{}
		for _, d := range apps {
			desired, _, deleted := d.state()
			d.mu.Lock()
			attached := d.attached
			d.mu.Unlock()
			if deleted || desired != store.DesiredRunning || !attached {
				continue
			}
			live[d.full] = true
			// An app starting or in restart backoff would hold the poll (and
			// every other app's) until it answers: look again next time.
			if st, err := p.apps.rt.Status(base, d.full); err != nil || st.State != runtime.StateRunning {
				continue
			}
			ctx, cancel := context.WithTimeout(base, 10*time.Second)
			p.pollRuns(ctx, d)
			cancel()
		}
		for full := range w.seen {
			if !live[full] {
				delete(w.seen, full) // stopped or deleted: seen afresh when it runs again
			}
		}
	}
}

// pollRuns records the changes of d's runs since the last poll.
func (p *Platform) pollRuns(ctx context.Context, d *deployment) {
	w := p.apps.watch
	var active, recent appserver.RunsList
	if err := p.callTool(ctx, d, appserver.ToolWorkflowsRunsList, appserver.RunsListArgs{Status: []string{"scheduled", "running", "paused"}, Limit: 10000}, &active); err != nil {
		p.logger.Debug("watch runs", "app", d.full, "err", err)
		return
	}
	if err := p.callTool(ctx, d, appserver.ToolWorkflowsRunsList, appserver.RunsListArgs{Limit: 100}, &recent); err != nil {
		p.logger.Debug("watch runs", "app", d.full, "err", err)
		return
	}
	cur := map[string]appserver.RunStatus{}
	for _, r := range slices.Concat(recent.Runs, active.Runs) {
		cur[r.RunID] = r
	}
	prev, known := w.seen[d.full]
	if !known {
		prev = p.recordedRuns(ctx, d)
	}
	// Runs that were active and left both lists: ask for each.
	for id, old := range prev {
		if _, ok := cur[id]; ok || terminal(old.status) {
			continue
		}
		var st appserver.RunStatus
		if err := p.callTool(ctx, d, appserver.ToolWorkflowsGetStatus, appserver.RunRef{RunID: id}, &st); err == nil {
			cur[id] = st
		}
	}
	next := make(map[string]seenRun, len(cur))
	ids := make([]string, 0, len(cur))
	for id := range cur {
		ids = append(ids, id)
	}
	// Oldest change first, so events keep the order of the changes.
	slices.SortFunc(ids, func(a, b string) int { return cur[a].UpdatedAt.Compare(cur[b].UpdatedAt) })
	emitted := false
	reads := 0
	for _, id := range ids {
		r := cur[id]
		old, seen := prev[id]
		if !seen {
			old.changes = 0
		}
		if seen && (terminal(old.status) || old.status == r.Status && old.updated.Equal(r.UpdatedAt)) {
			next[id] = old // unchanged, or finished (which does not change)
			continue
		}
		if !known && !seen && terminal(r.Status) && r.UpdatedAt.Before(w.started) {
			next[id] = seenRun{status: r.Status, workflow: r.WorkflowID, updated: r.UpdatedAt, changes: -1}
			continue // finished before the platform watched (history, not news)
		}
		// The run changed: its transitions since the last poll say how (a
		// pause and resume between two polls leaves the status as it was).
		if r.Transitions == nil && (reads < maxStatusReads || r.Status == "paused" && r.Waiting == nil) {
			reads++
			var st appserver.RunStatus
			if err := p.callTool(ctx, d, appserver.ToolWorkflowsGetStatus, appserver.RunRef{RunID: id}, &st); err == nil {
				r = st
			}
		}
		steps, changes := newTransitions(r.Transitions, old, seen)
		if steps == nil && (!seen || old.status != r.Status) {
			steps = []appserver.StatusChange{{Status: r.Status}} // without transitions: the status alone
		}
		status := old.status
		for i, c := range steps {
			rs := r
			if i < len(steps)-1 || c.Status != r.Status {
				rs = transitionStatus(r, c)
			}
			p.recordRunEvent(ctx, d, rs, status)
			status = c.Status
			emitted = true
		}
		next[id] = seenRun{status: status, workflow: r.WorkflowID, updated: r.UpdatedAt, changes: changes}
	}
	w.seen[d.full] = next
	if emitted {
		p.rec.notify(d.full)
		w.notify(d.org)
	}
}

// maxStatusReads bounds the workflows-get_status calls of one poll of an
// app: runs changed beyond it are recorded by their status alone (their
// intermediate transitions are found again at their next change, from the
// status last recorded).
const maxStatusReads = 32

// newTransitions returns the transitions of a run not recorded yet, each a
// change of status, and how many of all there are (the next cursor; -1 when
// there are none to count). A run seen with a cursor continues from it; one
// seen without (before a platform restart, or over maxStatusReads)
// continues after the last transition to the status last recorded; a new
// run starts from its first. Transitions at the same instant are one
// change (a wait that consumed a buffered signal at once was never
// observably paused): only the last counts.
func newTransitions(all []appserver.StatusChange, old seenRun, seen bool) ([]appserver.StatusChange, int) {
	if all == nil {
		return nil, -1
	}
	from := 0
	switch {
	case seen && old.changes >= 0:
		from = min(old.changes, len(all))
	case seen:
		from = len(all)
		for i := len(all) - 1; i >= 0; i-- {
			if all[i].Status == old.status && !superseded(all, i) {
				from = i + 1
				break
			}
		}
	}
	var out []appserver.StatusChange
	status := old.status
	for i := from; i < len(all); i++ {
		c := all[i]
		if superseded(all, i) {
			continue
		}
		if c.Status == status {
			continue
		}
		out = append(out, c)
		status = c.Status
	}
	return out, len(all)
}

// superseded reports whether the transition at i is followed by another at
// the same instant (one transaction: only the last was observable).
func superseded(all []appserver.StatusChange, i int) bool {
	return i+1 < len(all) && all[i+1].At.Equal(all[i].At)
}

// transitionStatus is run r as it was after the past transition c: its
// status, what it waited for, the error it ended with.
func transitionStatus(r appserver.RunStatus, c appserver.StatusChange) appserver.RunStatus {
	out := appserver.RunStatus{ID: r.ID, RunID: r.RunID, WorkflowID: r.WorkflowID, Name: r.Name, Status: c.Status, CreatedAt: r.CreatedAt, UpdatedAt: c.At}
	switch c.Event {
	case string(executor.EventInputRequested):
		out.Waiting = &executor.Wait{Kind: "input", Signal: workflow.ResumeSignal, Prompt: c.Detail}
	case string(executor.EventWaitStarted):
		out.Waiting = &executor.Wait{Kind: "signal", Signal: strings.TrimPrefix(c.Detail, "signal ")}
	case string(executor.EventRunFailed), string(executor.EventRunCancelled), string(executor.EventRunTerminated):
		out.Error = c.Detail
	}
	return out
}

// recordedRuns is the last recorded status of each run of d, from its
// events in the store: what the watcher saw before the platform restarted.
func (p *Platform) recordedRuns(ctx context.Context, d *deployment) map[string]seenRun {
	out := map[string]seenRun{}
	evs, err := p.store.ListEvents(ctx, d.org, &store.EventQuery{DeploymentID: d.id, Tail: true, Limit: store.MaxListLimit})
	if err != nil {
		return out
	}
	for _, e := range evs {
		if e.Kind != api.EventRunStatus {
			continue
		}
		var rd api.RunEventData
		if json.Unmarshal(e.Data, &rd) == nil {
			_, id, _ := strings.Cut(rd.Run, ".")
			out[id] = seenRun{status: rd.Status, workflow: rd.Workflow, changes: -1}
		}
	}
	return out
}

func terminal(status string) bool {
	switch status {
	case "completed", "failed", "cancelled", "terminated":
		return true
	}
	return false
}

// recordRunEvent stores a run_status event (and a human_input event when
// the run waits for input) of app d.
func (p *Platform) recordRunEvent(ctx context.Context, d *deployment, r appserver.RunStatus, previous string) {
	run := apiRun(d.name, r)
	data := api.RunEventData{Run: run.ID, Workflow: run.Workflow, Status: run.Status, Previous: previous, Waiting: run.Waiting, Error: run.Error}
	raw, _ := json.Marshal(data)
	msg := fmt.Sprintf("run %s (%s): %s", run.ID, run.Workflow, run.Status)
	switch {
	case run.Waiting != nil && run.Waiting.Prompt != "":
		msg += ", waits for input: " + run.Waiting.Prompt
	case run.Waiting != nil:
		msg += ", waits for signal " + run.Waiting.Signal
	case run.Error != "":
		msg += ": " + run.Error
	}
	if _, err := p.store.AppendEvent(ctx, d.org, store.Event{DeploymentID: d.id, Kind: api.EventRunStatus, Message: msg, Data: raw}); err != nil {
		p.logger.Warn("record run event", "app", d.full, "err", err)
		return
	}
	if run.Status == "paused" && run.Waiting != nil && run.Waiting.Kind == "input" {
		msg := fmt.Sprintf("run %s (%s) asks: %s", run.ID, run.Workflow, run.Waiting.Prompt)
		if _, err := p.store.AppendEvent(ctx, d.org, store.Event{DeploymentID: d.id, Kind: api.EventHumanInput, Message: msg, Data: raw}); err != nil {
			p.logger.Warn("record run event", "app", d.full, "err", err)
		}
	}
}

// PlatformEvents implements api.EventService.
func (p *Platform) PlatformEvents(ctx context.Context, org string, f api.EventFilter) ([]api.PlatformEvent, int64, error) {
	q := &store.EventQuery{After: f.After, Limit: f.Limit}
	if q.Limit <= 0 {
		q.Limit = store.DefaultListLimit
	}
	if f.After == 0 {
		q.Tail = true
		p.rec.flush()
	}
	// A resource filter narrows the query to one deployment.
	var only *store.Deployment
	switch {
	case f.App != "" || f.Server != "":
		kind, name := store.KindApp, f.App
		if f.Server != "" {
			kind, name = store.KindServer, f.Server
		}
		sd, err := p.store.GetDeployment(ctx, org, kind, name)
		if err != nil {
			if f.App != "" {
				return nil, 0, appNotFound(name)
			}
			return nil, 0, api.NotFound("server %q not found: list them with `mcp-agent list`", name)
		}
		only = &sd
		q.DeploymentID = sd.ID
	}
	evs, err := p.store.ListEvents(ctx, org, q)
	if err != nil {
		return nil, 0, err
	}
	cursor := f.After
	deps := map[string]store.Deployment{}
	if only != nil {
		deps[only.ID] = *only
	}
	out := []api.PlatformEvent{}
	for _, e := range evs {
		cursor = max(cursor, e.ID)
		sd, ok := deps[e.DeploymentID]
		if !ok {
			if sd, err = p.store.GetDeploymentByID(ctx, org, e.DeploymentID); err != nil {
				continue
			}
			deps[e.DeploymentID] = sd
		}
		pe := api.PlatformEvent{ID: e.ID, Time: e.Time, Kind: e.Kind, Message: e.Message, Data: e.Data,
			Resource: api.Resource{Kind: string(sd.Kind), Name: sd.Name}}
		if e.Kind == api.EventRunStatus || e.Kind == api.EventHumanInput {
			var rd api.RunEventData
			if json.Unmarshal(e.Data, &rd) == nil {
				pe.Resource.Run = rd.Run
			}
		}
		if f.Match(pe) {
			out = append(out, pe)
		}
	}
	return out, cursor, nil
}

// EventsChanged implements api.EventService: the channel closes at the
// org's next run event (deployment events reach followers by their poll).
func (p *Platform) EventsChanged(_ context.Context, org string) <-chan struct{} {
	return p.apps.watch.changed(org)
}

var _ api.EventService = (*Platform)(nil)
