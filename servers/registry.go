package servers

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/config"
)

// Registry holds the configured servers of an app and keeps one persistent
// connection per server: opened on first use (or by ConnectAll), shared by
// every caller, and reopened on the next use after the server exits or the
// connection breaks. A reopened connection is subscribed again to the
// resources subscribed through the Registry (see Registry.Subscribe).
//
// Its methods are safe for concurrent use. Concurrent first uses of a
// server connect it once; a caller that gives up (its context ends) stops
// waiting, and the connect is abandoned only when every waiting caller has
// given up.
type Registry struct {
	specs map[string]config.ServerSpec
	names []string
	o     *options

	mu      sync.Mutex
	closed  bool
	clients map[string]*client         // one per server: handlers carry its name, roots are its own
	conns   map[string]*Conn           // live connections
	dials   map[string]*dialCall       // connects in progress
	all     map[*Conn]struct{}         // every Conn not yet closed down, live or dead
	subs    map[string]map[string]bool // server -> resources subscribed through the registry
	wg      sync.WaitGroup             // dial goroutines and dead-Conn reapers
}

// dialCall is one connect in progress, shared by the callers waiting on it.
type dialCall struct {
	done    chan struct{}
	conn    *Conn
	err     error
	waiters int
	cancel  context.CancelFunc
}

// NewRegistry returns a registry of the servers in specs (keyed by name, as
// in mcp.servers of the configuration). Nothing is started until first use
// or ConnectAll. A spec's empty Name is set to its key.
func NewRegistry(specs map[string]config.ServerSpec, opts *Options) *Registry {
	r := &Registry{
		specs:   make(map[string]config.ServerSpec, len(specs)),
		o:       resolveOptions(opts),
		clients: map[string]*client{},
		conns:   map[string]*Conn{},
		dials:   map[string]*dialCall{},
		all:     map[*Conn]struct{}{},
		subs:    map[string]map[string]bool{},
	}
	for name, spec := range specs {
		if spec.Name == "" {
			spec.Name = name
		}
		r.specs[name] = spec
	}
	r.names = slices.Sorted(maps.Keys(r.specs))
	return r
}

// Names returns the configured server names, sorted.
func (r *Registry) Names() []string { return slices.Clone(r.names) }

// Spec returns the configuration of the named server.
func (r *Registry) Spec(name string) (config.ServerSpec, bool) {
	s, ok := r.specs[name]
	return s, ok
}

// Session returns the live session of the named server, connecting it if
// needed. The session is shared: do not close it (Close the Registry).
// After the server dies a later call returns a new session.
func (r *Registry) Session(ctx context.Context, name string) (*mcp.ClientSession, error) {
	c, err := r.conn(ctx, name)
	if err != nil {
		return nil, err
	}
	return c.Session(), nil
}

// Conn returns the live connection to the named server, connecting it if
// needed. It belongs to the registry: do not close it.
func (r *Registry) Conn(ctx context.Context, name string) (*Conn, error) {
	return r.conn(ctx, name)
}

// ConnectAll connects the named servers (all configured ones when names is
// empty) in parallel. The error joins the failures, each naming its server.
func (r *Registry) ConnectAll(ctx context.Context, names ...string) error {
	if len(names) == 0 {
		names = r.names
	}
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, name := range names {
		wg.Go(func() {
			_, errs[i] = r.conn(ctx, name)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

// conn returns the live connection to name, connecting once for all
// concurrent callers.
func (r *Registry) conn(ctx context.Context, name string) (*Conn, error) {
	spec, ok := r.specs[name]
	if !ok {
		return nil, unknownServer(name, r.names)
	}
	if err := ctx.Err(); err != nil {
		return nil, &ConnectError{Server: name, Transport: spec.EffectiveTransport(), Target: target(spec), Err: err}
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return nil, fmt.Errorf("server %q: registry %w", name, ErrClosed)
	}
	if c := r.conns[name]; c != nil {
		if !c.isDead() {
			r.mu.Unlock()
			return c, nil
		}
		delete(r.conns, name)
	}
	d := r.dials[name]
	if d == nil {
		dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		d = &dialCall{done: make(chan struct{}), cancel: cancel}
		r.dials[name] = d
		client := r.clients[name]
		if client == nil {
			client = newClient(name, spec, r.o)
			r.clients[name] = client
		}
		r.wg.Add(1)
		go r.dial(dctx, name, spec, client, d)
	}
	d.waiters++
	r.mu.Unlock()

	select {
	case <-d.done:
		return d.conn, d.err
	case <-ctx.Done():
		r.mu.Lock()
		d.waiters--
		if d.waiters == 0 {
			d.cancel() // nobody wants it any more
		}
		r.mu.Unlock()
		select {
		case <-d.done: // finished anyway
			return d.conn, d.err
		default:
		}
		return nil, &ConnectError{Server: name, Transport: spec.EffectiveTransport(), Target: target(spec), Err: ctx.Err()}
	}
}

func (r *Registry) dial(ctx context.Context, name string, spec config.ServerSpec, client *client, d *dialCall) {
	defer r.wg.Done()
	defer d.cancel()
	c, err := dial(ctx, name, spec, r.o, client, r.died)
	if err == nil {
		r.resubscribe(ctx, c)
	}
	var late *Conn // connected after Close
	r.mu.Lock()
	delete(r.dials, name)
	if r.closed {
		late, c = c, nil
		err = fmt.Errorf("server %q: registry %w", name, ErrClosed)
	} else if err == nil {
		r.conns[name] = c
		r.all[c] = struct{}{}
		if c.isDead() {
			// Died before it was registered: died() ignored it.
			delete(r.conns, name)
			r.reapLocked(c)
		}
	}
	d.conn, d.err = c, err
	close(d.done)
	r.mu.Unlock()
	if late != nil {
		late.Close()
	}
	if err == nil {
		r.o.logger.Info("server connected", "server", name, "transport", c.transport, "protocol", c.ProtocolVersion())
	}
}

// died is a Conn's onDead: drop it so the next call reconnects, and log
// why it died.
func (r *Registry) died(c *Conn) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.all[c]; !ok {
		return // not registered yet (or already gone): dial handles it
	}
	if r.conns[c.name] == c {
		delete(r.conns, c.name)
	}
	if !r.closed {
		r.reapLocked(c)
	}
}

// reapLocked closes down the dead Conn c in the background and logs its end.
func (r *Registry) reapLocked(c *Conn) {
	if c.reaping {
		return
	}
	c.reaping = true
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		e := c.exitError(context.Background())
		r.o.logger.Warn("server connection lost; it reconnects on next use", "server", c.name, "error", e)
		c.shutdown()
		r.mu.Lock()
		delete(r.all, c)
		r.mu.Unlock()
	}()
}

// Close closes every connection (stdio servers are stopped), abandons
// connects in progress, and waits for every goroutine the registry started.
// Calls made after Close fail with ErrClosed.
func (r *Registry) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		r.wg.Wait()
		return nil
	}
	r.closed = true
	for _, d := range r.dials {
		d.cancel()
	}
	conns := slices.Collect(maps.Keys(r.all))
	r.mu.Unlock()

	errs := make([]error, len(conns))
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() { errs[i] = c.Close() })
	}
	wg.Wait()
	r.wg.Wait()
	return errors.Join(errs...)
}

// ListTools lists the named server's tools: every page, limited to its
// allowed_tools.
func (r *Registry) ListTools(ctx context.Context, server string) ([]*mcp.Tool, error) {
	c, err := r.conn(ctx, server)
	if err != nil {
		return nil, err
	}
	return c.ListTools(ctx)
}

// CallTool calls a tool of the named server. See Conn.CallTool.
func (r *Registry) CallTool(ctx context.Context, server string, p *mcp.CallToolParams) (*mcp.CallToolResult, error) {
	c, err := r.conn(ctx, server)
	if err != nil {
		return nil, err
	}
	return c.CallTool(ctx, p)
}

// ListResources lists the named server's resources (every page).
func (r *Registry) ListResources(ctx context.Context, server string) ([]*mcp.Resource, error) {
	c, err := r.conn(ctx, server)
	if err != nil {
		return nil, err
	}
	return c.ListResources(ctx)
}

// ListResourceTemplates lists the named server's resource templates (every
// page).
func (r *Registry) ListResourceTemplates(ctx context.Context, server string) ([]*mcp.ResourceTemplate, error) {
	c, err := r.conn(ctx, server)
	if err != nil {
		return nil, err
	}
	return c.ListResourceTemplates(ctx)
}

// ReadResource reads a resource of the named server.
func (r *Registry) ReadResource(ctx context.Context, server, uri string) (*mcp.ReadResourceResult, error) {
	c, err := r.conn(ctx, server)
	if err != nil {
		return nil, err
	}
	return c.ReadResource(ctx, uri)
}

// ListPrompts lists the named server's prompts (every page).
func (r *Registry) ListPrompts(ctx context.Context, server string) ([]*mcp.Prompt, error) {
	c, err := r.conn(ctx, server)
	if err != nil {
		return nil, err
	}
	return c.ListPrompts(ctx)
}

// GetPrompt renders a prompt of the named server.
func (r *Registry) GetPrompt(ctx context.Context, server, name string, args map[string]string) (*mcp.GetPromptResult, error) {
	c, err := r.conn(ctx, server)
	if err != nil {
		return nil, err
	}
	return c.GetPrompt(ctx, name, args)
}
