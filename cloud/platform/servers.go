package platform

// The api.Service implementation: deploying and managing servers.
//
// A deployment lives in three places: the store (the truth that survives
// restarts: spec, desired state, last observed status, events, logs), the
// runtime (the supervised process, for stdio servers) and the gateway (its
// MCP endpoint). Every stdio deployment is registered in the runtime and the
// gateway as long as it exists, started or not; whether requests reach it
// is decided by ResolveGateway from the desired state. Changes to one
// deployment are serialised by its own mutex.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/gateway"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
	"github.com/mcp-agent-go/mcp-agent/cloud/store"
)

// deployment is a registered server.
type deployment struct {
	id, org, name, full string
	remote              bool
	app                 bool // an app (apps.go), run by the app runtime

	op sync.Mutex // serialises start, stop, restart, delete

	mu       sync.Mutex
	public   bool
	desired  store.DesiredState
	deleted  bool
	attached bool // created in the runtime and registered in the gateway
}

func (d *deployment) state() (desired store.DesiredState, public, deleted bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.desired, d.public, d.deleted
}

func (d *deployment) setDesired(s store.DesiredState) {
	d.mu.Lock()
	d.desired = s
	d.mu.Unlock()
}

// lookupByFull returns the org and ID of the deployment named full, for the
// recorder.
func (p *Platform) lookupByFull(full string) (org, id string, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.deps[full]
	if d == nil {
		return "", "", false
	}
	return d.org, d.id, true
}

func (p *Platform) get(org, name string) (*deployment, error) {
	p.mu.Lock()
	d := p.deps[org+"."+name]
	p.mu.Unlock()
	if d == nil || d.app {
		return nil, api.NotFound("server %q not found: list them with `mcp-agent list`", name)
	}
	return d, nil
}

// register adds a stored server to the platform and puts it into the
// runtime and the gateway (not started). A server the runtime refuses (an
// allowed path that no longer exists, say) is still registered, so that it
// can be inspected and deleted; starting it tries again.
func (p *Platform) register(ctx context.Context, sd store.Deployment) (*deployment, error) {
	d := &deployment{id: sd.ID, org: sd.Org, name: sd.Name, full: sd.FullName(), remote: sd.Spec.URL != "",
		public: sd.Spec.Public, desired: sd.DesiredState}
	p.mu.Lock()
	p.deps[d.full] = d
	p.mu.Unlock()
	return d, p.attach(ctx, d, sd.Spec)
}

// gatewayOptions are the gateway settings of a deployment: its call timeout
// (Limits.CallTimeoutSeconds; zero keeps the gateway's).
func gatewayOptions(spec store.Spec) *gateway.ServerOptions {
	return &gateway.ServerOptions{CallTimeout: time.Duration(spec.Limits.CallTimeoutSeconds * float64(time.Second))}
}

// attach creates d in the runtime (stdio servers) and registers it in the
// gateway.
func (p *Platform) attach(ctx context.Context, d *deployment, spec store.Spec) error {
	if d.remote {
		p.gw.RegisterWith(d.full, &gateway.RemoteBackend{URL: spec.URL}, gateway.Shared, gatewayOptions(spec))
	} else {
		rs, err := p.runtimeSpec(d.full, spec)
		if err != nil {
			return err
		}
		if err := p.rt.Create(ctx, rs); err != nil && !errors.Is(err, runtime.ErrExists) {
			return p.mapRuntimeError(d.name, err)
		}
		mode := gateway.Shared
		if rs.Instances == runtime.PerSession {
			mode = gateway.PerSession
		}
		p.gw.RegisterWith(d.full, &stdioBackend{rt: p.rt, name: d.full, perSession: mode == gateway.PerSession, desc: rs.Command}, mode, gatewayOptions(spec))
	}
	d.mu.Lock()
	d.attached = true
	d.mu.Unlock()
	return nil
}

// CreateServer implements api.Service.
func (p *Platform) CreateServer(ctx context.Context, org string, req api.CreateServerRequest) (api.Server, error) {
	spec, err := p.storeSpec(req)
	if err != nil {
		return api.Server{}, err
	}
	full := org + "." + req.Name
	desired := store.DesiredRunning
	if req.Stopped {
		desired = store.DesiredStopped
	}
	// The runtime checks what only it can (paths exist, not hidden) before
	// anything is stored; a taken name fails there too.
	var rs runtime.Spec
	if spec.URL == "" {
		if rs, err = p.runtimeSpec(full, spec); err != nil {
			return api.Server{}, err
		}
		if err := p.rt.Create(ctx, rs); err != nil {
			return api.Server{}, p.mapRuntimeError(req.Name, err)
		}
	} else {
		p.mu.Lock()
		taken := p.deps[full] != nil
		p.mu.Unlock()
		if taken {
			return api.Server{}, api.Conflict("server %q already exists: choose another name, or delete it first with `mcp-agent servers delete %s`", req.Name, req.Name)
		}
	}
	sd, err := p.store.CreateDeployment(ctx, store.Deployment{Org: org, Name: req.Name, Kind: store.KindServer, Spec: spec, DesiredState: desired})
	if err != nil {
		if spec.URL == "" {
			_ = p.rt.Delete(context.WithoutCancel(ctx), full)
		}
		return api.Server{}, p.mapStoreError(req.Name, err)
	}
	d := &deployment{id: sd.ID, org: org, name: req.Name, full: full, remote: spec.URL != "", public: spec.Public, desired: desired, attached: true}
	if d.remote {
		p.gw.RegisterWith(full, &gateway.RemoteBackend{URL: spec.URL}, gateway.Shared, gatewayOptions(spec))
	} else {
		mode := gateway.Shared
		if rs.Instances == runtime.PerSession {
			mode = gateway.PerSession
		}
		p.gw.RegisterWith(full, &stdioBackend{rt: p.rt, name: full, perSession: mode == gateway.PerSession, desc: rs.Command}, mode, gatewayOptions(spec))
	}
	p.mu.Lock()
	p.deps[full] = d
	p.mu.Unlock()
	p.logger.Info("server deployed", "server", full, "type", spec.Type, "command", spec.Command, "url", spec.URL)

	if desired == store.DesiredRunning {
		d.op.Lock()
		err := p.startDeployment(context.WithoutCancel(ctx), d, "")
		d.op.Unlock()
		if err != nil {
			return api.Server{}, err
		}
	} else if _, err := p.store.UpdateStatus(ctx, org, sd.ID, store.StatusStopped, "created stopped"); err != nil {
		return api.Server{}, err
	}
	return p.GetServer(ctx, org, req.Name)
}

// startDeployment sets the desired state to running and starts d. The
// caller holds d.op (or is the only one who knows d).
func (p *Platform) startDeployment(ctx context.Context, d *deployment, why string) error {
	d.mu.Lock()
	attached := d.attached
	d.mu.Unlock()
	if !attached {
		sd, err := p.store.GetDeploymentByID(ctx, d.org, d.id)
		if err != nil {
			return err
		}
		if err := p.attach(ctx, d, sd.Spec); err != nil {
			_, _ = p.store.UpdateStatus(ctx, d.org, d.id, store.StatusFailed, "cannot start: "+err.Error())
			return err
		}
	}
	if _, err := p.store.SetDesiredState(ctx, d.org, d.id, store.DesiredRunning); err != nil {
		return err
	}
	d.setDesired(store.DesiredRunning)
	if d.remote {
		_, err := p.store.UpdateStatus(ctx, d.org, d.id, store.StatusRunning, why)
		p.rec.notify(d.full)
		return err
	}
	if _, err := p.store.UpdateStatus(ctx, d.org, d.id, store.StatusStarting, why); err != nil {
		return err
	}
	p.rec.notify(d.full)
	if err := p.rt.Start(ctx, d.full); err != nil {
		_, _ = p.store.UpdateStatus(ctx, d.org, d.id, store.StatusFailed, err.Error())
		return fmt.Errorf("start %s: %w", d.full, err)
	}
	return nil
}

func (p *Platform) stopDeployment(ctx context.Context, d *deployment) error {
	if _, err := p.store.SetDesiredState(ctx, d.org, d.id, store.DesiredStopped); err != nil {
		return err
	}
	d.setDesired(store.DesiredStopped)
	if !d.remote {
		if err := p.rt.Stop(ctx, d.full); err != nil {
			return fmt.Errorf("stop %s: %w", d.full, err)
		}
	}
	_, err := p.store.UpdateStatus(ctx, d.org, d.id, store.StatusStopped, "")
	p.rec.notify(d.full)
	return err
}

// ListServers implements api.Service.
func (p *Platform) ListServers(ctx context.Context, org string) ([]api.Server, error) {
	sds, err := p.store.ListDeployments(ctx, org, &store.ListOptions{Kind: store.KindServer})
	if err != nil {
		return nil, err
	}
	out := make([]api.Server, 0, len(sds))
	for _, sd := range sds {
		out = append(out, p.server(ctx, sd))
	}
	return out, nil
}

// GetServer implements api.Service.
func (p *Platform) GetServer(ctx context.Context, org, name string) (api.Server, error) {
	sd, err := p.store.GetDeployment(ctx, org, store.KindServer, name)
	if err != nil {
		return api.Server{}, p.mapStoreError(name, err)
	}
	return p.server(ctx, sd), nil
}

// StartServer implements api.Service.
func (p *Platform) StartServer(ctx context.Context, org, name string) (api.Server, error) {
	return p.withDeployment(ctx, org, name, func(ctx context.Context, d *deployment) error {
		return p.startDeployment(ctx, d, "started by request")
	})
}

// StopServer implements api.Service.
func (p *Platform) StopServer(ctx context.Context, org, name string) (api.Server, error) {
	return p.withDeployment(ctx, org, name, p.stopDeployment)
}

// RestartServer implements api.Service.
func (p *Platform) RestartServer(ctx context.Context, org, name string) (api.Server, error) {
	return p.withDeployment(ctx, org, name, func(ctx context.Context, d *deployment) error {
		if !d.remote {
			if err := p.rt.Stop(ctx, d.full); err != nil {
				return fmt.Errorf("stop %s: %w", d.full, err)
			}
		}
		return p.startDeployment(ctx, d, "restarted by request")
	})
}

func (p *Platform) withDeployment(ctx context.Context, org, name string, f func(context.Context, *deployment) error) (api.Server, error) {
	d, err := p.get(org, name)
	if err != nil {
		return api.Server{}, err
	}
	d.op.Lock()
	if _, _, deleted := d.state(); deleted {
		d.op.Unlock()
		return api.Server{}, api.NotFound("server %q not found: it was just deleted", name)
	}
	// Finish the change even if the client goes away.
	err = f(context.WithoutCancel(ctx), d)
	d.op.Unlock()
	if err != nil {
		return api.Server{}, err
	}
	return p.GetServer(ctx, org, name)
}

// DeleteServer implements api.Service.
func (p *Platform) DeleteServer(ctx context.Context, org, name string) error {
	d, err := p.get(org, name)
	if err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	d.op.Lock()
	defer d.op.Unlock()
	d.mu.Lock()
	if d.deleted {
		d.mu.Unlock()
		return api.NotFound("server %q not found: it was just deleted", name)
	}
	d.deleted = true
	d.mu.Unlock()
	p.gw.Unregister(d.full)
	if !d.remote {
		if err := p.rt.Delete(ctx, d.full); err != nil && !errors.Is(err, runtime.ErrNotFound) {
			p.logger.Error("runtime delete", "server", d.full, "err", err)
		}
	}
	p.rec.flush() // the last lines land before the deployment is marked deleted
	err = p.store.DeleteDeployment(ctx, org, d.id)
	p.mu.Lock()
	if p.deps[d.full] == d {
		delete(p.deps, d.full)
	}
	p.mu.Unlock()
	p.rec.forget(d.full)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	p.logger.Info("server deleted", "server", d.full)
	return nil
}

// Logs implements api.Service.
func (p *Platform) Logs(ctx context.Context, org, name string, q api.LogQuery) ([]api.LogLine, error) {
	sd, err := p.store.GetDeployment(ctx, org, store.KindServer, name)
	if err != nil {
		return nil, p.mapStoreError(name, err)
	}
	if q.After == 0 {
		p.rec.flush() // what the runtime reported before this request is in the answer
	}
	lines, err := p.store.ListLogs(ctx, org, sd.ID, &store.LogQuery{After: q.After, Since: q.Since, Limit: q.Limit, Tail: q.After == 0})
	if err != nil {
		return nil, err
	}
	out := make([]api.LogLine, len(lines))
	for i, l := range lines {
		out[i] = api.LogLine{Seq: l.Seq, Time: l.Time, Stream: l.Stream, Line: l.Line}
	}
	return out, nil
}

// Events implements api.Service.
func (p *Platform) Events(ctx context.Context, org, name string, q api.EventQuery) ([]api.Event, error) {
	sd, err := p.store.GetDeployment(ctx, org, store.KindServer, name)
	if err != nil {
		return nil, p.mapStoreError(name, err)
	}
	if q.After == 0 {
		p.rec.flush()
	}
	evs, err := p.store.ListEvents(ctx, org, &store.EventQuery{DeploymentID: sd.ID, After: q.After, Limit: q.Limit, Tail: q.After == 0})
	if err != nil {
		return nil, err
	}
	out := make([]api.Event, len(evs))
	for i, e := range evs {
		out[i] = api.Event{ID: e.ID, Time: e.Time, Kind: e.Kind, Message: e.Message, Data: e.Data}
	}
	return out, nil
}

// Changed implements api.Service.
func (p *Platform) Changed(_ context.Context, org, name string) (<-chan struct{}, error) {
	d, err := p.get(org, name)
	if err != nil {
		if d, err = p.getApp(org, name); err != nil {
			return nil, err
		}
	}
	return p.rec.changed(d.full), nil
}

// ResolveGateway implements api.Service.
func (p *Platform) ResolveGateway(_ context.Context, pr *api.Principal, name string) (string, error) {
	org, short, qualified := strings.Cut(name, ".")
	if !qualified {
		if pr == nil {
			return "", &api.Error{Status: http.StatusUnauthorized, Code: api.CodeUnauthorized,
				Message: fmt.Sprintf("missing API key: send \"Authorization: Bearer KEY\" (a public server is reachable without one as {org}.%s)", name)}
		}
		org, short = pr.Org, name
	}
	p.mu.Lock()
	d := p.deps[org+"."+short]
	p.mu.Unlock()
	notFound := api.NotFound("server %q not found", name)
	if d == nil {
		return "", notFound
	}
	desired, public, deleted := d.state()
	d.mu.Lock()
	attached := d.attached
	d.mu.Unlock()
	if deleted {
		return "", notFound
	}
	if !public {
		if pr == nil {
			return "", &api.Error{Status: http.StatusUnauthorized, Code: api.CodeUnauthorized,
				Message: "missing API key: send \"Authorization: Bearer KEY\"; this server is not public"}
		}
		if pr.Org != d.org {
			return "", notFound // another org's private server does not exist for this caller
		}
	}
	if desired == store.DesiredStopped {
		if d.app {
			return "", api.Unavailable("app %q is stopped: start it with `mcp-agent apps start %s`", d.name, d.name)
		}
		return "", api.Unavailable("server %q is stopped: start it with `mcp-agent servers start %s`", d.name, d.name)
	}
	if !attached {
		return "", api.Unavailable("server %q cannot run: see `mcp-agent status %s`, fix it and start it again", d.name, d.name)
	}
	return d.full, nil
}

// server builds the API view of a stored deployment, with the live state
// of its process.
func (p *Platform) server(ctx context.Context, sd store.Deployment) api.Server {
	s := api.Server{
		ID: sd.ID, Org: sd.Org, Name: sd.Name, FullName: sd.FullName(),
		Spec:          apiSpec(sd.Spec),
		Status:        string(sd.Status),
		StatusMessage: sd.StatusMessage,
		DesiredState:  string(sd.DesiredState),
		Endpoint:      p.url + "/servers/" + sd.FullName() + "/mcp",
		ConsoleURL:    p.url + "/console/servers/" + sd.FullName(),
		Version:       sd.Version,
		CreatedAt:     sd.CreatedAt,
		UpdatedAt:     sd.UpdatedAt,
	}
	if sd.Spec.URL != "" {
		return s
	}
	rs, err := p.rt.Status(ctx, sd.FullName())
	if err != nil {
		return s
	}
	s.Runtime = &api.RuntimeStatus{
		State: string(rs.State), Sandboxed: rs.Sandboxed, SandboxReason: rs.SandboxReason,
		PID: rs.PID, StartedAt: rs.StartedAt, Restarts: rs.Restarts, LastExit: rs.LastExit,
		LastError: rs.LastError, NextRestart: rs.NextRestart, Sessions: rs.Sessions, Unenforced: rs.Unenforced,
	}
	s.Status, s.StatusMessage = liveStatus(rs, sd)
	return s
}

// liveStatus maps the runtime's state to the API's status vocabulary.
func liveStatus(rs runtime.Status, sd store.Deployment) (string, string) {
	switch rs.State {
	case runtime.StateCreated:
		if sd.DesiredState == store.DesiredStopped {
			return string(store.StatusStopped), ""
		}
		return string(store.StatusPending), ""
	case runtime.StateStarting:
		return string(store.StatusStarting), ""
	case runtime.StateRunning:
		return string(store.StatusRunning), ""
	case runtime.StateBackoff:
		next := ""
		if !rs.NextRestart.IsZero() {
			next = fmt.Sprintf("; retrying in %s", time.Until(rs.NextRestart).Round(100*time.Millisecond))
		}
		if rs.LastError != "" {
			return string(store.StatusFailed), "cannot start: " + rs.LastError + next
		}
		return string(store.StatusStarting), fmt.Sprintf("restarting after %s (restart %d)%s", rs.LastExit, rs.Restarts+1, next)
	case runtime.StateExited:
		return string(store.StatusFailed), "exited: " + rs.LastExit
	case runtime.StateStopped:
		return string(store.StatusStopped), ""
	}
	return string(sd.Status), sd.StatusMessage
}

// apiSpec is the API view of a spec, env values redacted.
func apiSpec(s store.Spec) api.Spec {
	out := api.Spec{Type: s.Type, Command: s.Command, Args: s.Args, URL: s.URL, EgressAllow: s.EgressAllow,
		Limits: api.Limits(s.Limits), Mode: "shared", Public: s.Public}
	if s.Mode == store.ModePerSession {
		out.Mode = "per-session"
	}
	if len(s.Env) > 0 {
		out.Env = make(map[string]string, len(s.Env))
		for k := range s.Env {
			out.Env[k] = "***"
		}
	}
	for _, ap := range s.AllowedPaths {
		out.AllowedPaths = append(out.AllowedPaths, api.AllowedPath{Path: ap.Path, Mode: cmpOr(ap.Mode, "r")})
	}
	return out
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// mapStoreError turns store errors into API errors.
func (p *Platform) mapStoreError(name string, err error) error {
	var se *store.Error
	switch {
	case errors.Is(err, store.ErrNotFound):
		return api.NotFound("server %q not found: list them with `mcp-agent list`", name)
	case errors.Is(err, store.ErrConflict):
		return api.Conflict("server %q already exists: choose another name, or delete it first with `mcp-agent servers delete %s`", name, name)
	case errors.Is(err, store.ErrInvalid) && errors.As(err, &se):
		return api.Invalid("%s", se.Msg)
	}
	return err
}

// mapRuntimeError turns runtime errors into API errors.
func (p *Platform) mapRuntimeError(name string, err error) error {
	var se *runtime.SpecError
	switch {
	case errors.Is(err, runtime.ErrExists):
		return api.Conflict("server %q already exists: choose another name, or delete it first with `mcp-agent servers delete %s`", name, name)
	case errors.As(err, &se):
		return api.Invalid("%s", specErrorMessage(se))
	}
	return err
}

// specErrorMessage words a runtime spec error in the API's field names.
func specErrorMessage(se *runtime.SpecError) string {
	field := se.Field
	for _, r := range [][2]string{
		{"Filesystem.AllowedPaths", "allowed_paths"}, {"Network.EgressAllow", "egress_allow"},
		{"Limits.MemoryBytes", "limits.memory_bytes"}, {"Limits.", "limits."}, {"Env", "env"}, {"Command", "command"},
	} {
		if strings.HasPrefix(field, r[0]) {
			field = r[1] + strings.TrimPrefix(field, r[0])
			break
		}
	}
	return fmt.Sprintf("%s: %s", field, se.Reason)
}

// stdioBackend is the gateway's way to the stdio of a deployment's
// process.
type stdioBackend struct {
	rt         runtime.Runtime
	name       string
	perSession bool
	desc       string
}

func (b *stdioBackend) String() string { return b.desc }

func (b *stdioBackend) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	var (
		o   runtime.StdioOpener
		err error
	)
	if b.perSession {
		o, err = b.rt.Spawn(b.name)
	} else {
		o, err = b.rt.Attach(b.name)
	}
	if err == nil {
		var rwc io.ReadWriteCloser
		if rwc, err = o.Open(ctx); err == nil {
			return rwc, nil
		}
	}
	if errors.Is(err, runtime.ErrNotRunning) || errors.Is(err, runtime.ErrNotFound) {
		return nil, fmt.Errorf("%w: %v", gateway.ErrStopped, err)
	}
	return nil, err
}

var _ api.Service = (*Platform)(nil)
