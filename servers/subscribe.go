package servers

// Resource subscriptions.
//
// Before 2026-07-28 Subscribe is the resources/subscribe request: when the
// server answers, it has registered the subscription.
//
// From 2026-07-28 on there is no such request: the go-sdk's
// ClientSession.Subscribe opens a subscriptions/listen stream and returns
// as soon as the request is sent, before the server has registered
// anything. The server's first message on the stream is
// notifications/subscriptions/acknowledged, sent after the registration,
// naming the resources it agreed to. Conn.Subscribe therefore waits for
// that acknowledgement (seen by a receiving middleware on the client), so
// that once it returns every later update is delivered. A server that
// refuses the listen answers the request with an error, which the SDK
// drops (nobody awaits the call); on the wrapped transports (stdio, SSE,
// WebSocket) watchedConn sees that response and fails the wait at once.
// On Streamable HTTP the refusal is not visible, and the wait ends with the
// read timeout (or listenAckTimeout).
//
// A Registry remembers the URIs subscribed through it and subscribes them
// again on every new connection to the server, before the connection is
// handed to callers.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	// listenAckTimeout bounds the wait for the acknowledgement of a
	// subscriptions/listen stream (protocol 2026-07-28) when the server has
	// no read_timeout_seconds.
	listenAckTimeout = 10 * time.Second
	// resubscribeTimeout bounds re-subscribing one resource after a
	// reconnect when the server has no read_timeout_seconds.
	resubscribeTimeout = 10 * time.Second
	// maxResubscribes is how many resources are re-subscribed at once.
	maxResubscribes = 8

	methodSubscriptionsListen = "subscriptions/listen"
	notificationSubscribed    = "notifications/subscriptions/acknowledged"
)

// client is the mcp.Client of one server, with the Conns of its live
// sessions so that notifications can be routed to them.
type client struct {
	*mcp.Client
	mu    sync.Mutex
	conns map[*mcp.ClientSession]*Conn
}

func (cl *client) add(c *Conn) {
	cl.mu.Lock()
	cl.conns[c.session] = c
	cl.mu.Unlock()
}

func (cl *client) remove(c *Conn) {
	cl.mu.Lock()
	delete(cl.conns, c.session)
	cl.mu.Unlock()
}

// watchAcks is a receiving middleware that hands the resources of every
// notifications/subscriptions/acknowledged to the session's Conn.
func (cl *client) watchAcks(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method == notificationSubscribed {
			p, _ := req.GetParams().(*mcp.SubscriptionsAcknowledgedParams)
			s, _ := req.GetSession().(*mcp.ClientSession)
			if p != nil && s != nil && len(p.Notifications.ResourceSubscriptions) > 0 {
				cl.mu.Lock()
				c := cl.conns[s]
				cl.mu.Unlock()
				if c != nil {
					c.listenDone(p.Notifications.ResourceSubscriptions, nil)
				}
			}
		}
		return next(ctx, method, req)
	}
}

// subscriptions is a Conn's state of its 2026-07-28 subscriptions.
type subscriptions struct {
	mu        sync.Mutex
	listening map[string]bool         // acknowledged URIs
	waiters   map[string][]chan error // Subscribe calls waiting for an acknowledgement
}

// listenDone ends the waits for the acknowledgement of uris: err is nil
// for an acknowledgement, the server's error for a refusal.
func (c *Conn) listenDone(uris []string, err error) {
	c.subs.mu.Lock()
	defer c.subs.mu.Unlock()
	for _, uri := range uris {
		for _, ch := range c.subs.waiters[uri] {
			ch <- err // buffered, and each channel is sent to once
		}
		delete(c.subs.waiters, uri)
	}
}

// Subscribe asks for notifications/resources/updated about uri, delivered
// to Options.OnResourceUpdated. When it returns without error the server
// has registered the subscription: an update it sends from then on is
// delivered. Subscribing again to a subscribed URI does nothing.
//
// Under protocol 2026-07-28 this opens a subscriptions/listen stream and
// waits for the server to acknowledge it, at most read_timeout_seconds
// (10s when unset); a server that does not acknowledge in time gives a
// *TimeoutError for "subscriptions/listen", and the stream is cancelled.
func (c *Conn) Subscribe(ctx context.Context, uri string) error {
	if err := c.usable(ctx); err != nil {
		return err
	}
	if r := c.capabilities().Resources; r == nil || !r.Subscribe {
		return c.notSupported("resources/subscribe " + uri)
	}
	if c.ProtocolVersion() >= protocolStateless {
		return c.listen(ctx, uri)
	}
	_, err := call(ctx, c, "resources/subscribe", func(ctx context.Context, s *mcp.ClientSession) (struct{}, error) {
		return struct{}{}, s.Subscribe(ctx, &mcp.SubscribeParams{URI: uri})
	})
	var refused *jsonrpc.Error
	if errors.As(err, &refused) {
		// The same words as a refused listen stream (2026-07-28).
		return fmt.Errorf("server %q: resources/subscribe %s: %w", c.name, uri, refused)
	}
	return err
}

// listen subscribes to uri with a subscriptions/listen stream and waits
// for the server to acknowledge it.
func (c *Conn) listen(ctx context.Context, uri string) error {
	ch := make(chan error, 1)
	c.subs.mu.Lock()
	if c.subs.listening[uri] {
		c.subs.mu.Unlock()
		return nil
	}
	if c.subs.waiters == nil {
		c.subs.waiters = map[string][]chan error{}
	}
	c.subs.waiters[uri] = append(c.subs.waiters[uri], ch)
	c.subs.mu.Unlock()

	bound := c.spec.ReadTimeout()
	if bound <= 0 {
		bound = listenAckTimeout
	}
	callCtx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	start := time.Now()
	// The SDK sends the request and returns; it does not wait for an answer.
	err := c.session.Subscribe(callCtx, &mcp.SubscribeParams{URI: uri})
	if err == nil {
		select {
		case err = <-ch:
			if err == nil {
				c.subs.mu.Lock()
				if c.subs.listening == nil {
					c.subs.listening = map[string]bool{}
				}
				c.subs.listening[uri] = true
				c.subs.mu.Unlock()
				return nil
			}
			err = fmt.Errorf("server %q: resources/subscribe %s: %w", c.name, uri, err)
		case <-c.dead:
			err = c.exitError(ctx)
		case <-callCtx.Done():
			err = c.callError(ctx, callCtx, methodSubscriptionsListen, start, bound, callCtx.Err())
		}
	} else {
		err = c.callError(ctx, callCtx, methodSubscriptionsListen, start, bound, err)
	}
	c.subs.mu.Lock()
	c.subs.waiters[uri] = slices.DeleteFunc(c.subs.waiters[uri], func(w chan error) bool { return w == ch })
	if len(c.subs.waiters[uri]) == 0 {
		delete(c.subs.waiters, uri)
	}
	c.subs.mu.Unlock()
	// The SDK still counts uri as subscribed (and would send nothing on the
	// next Subscribe): cancel its stream.
	c.session.Unsubscribe(context.WithoutCancel(ctx), &mcp.UnsubscribeParams{URI: uri})
	c.forgetListen(uri)
	return err
}

// Unsubscribe cancels a Subscribe.
func (c *Conn) Unsubscribe(ctx context.Context, uri string) error {
	if err := c.usable(ctx); err != nil {
		return err
	}
	if r := c.capabilities().Resources; r == nil || !r.Subscribe {
		return c.notSupported("resources/unsubscribe " + uri)
	}
	if c.ProtocolVersion() >= protocolStateless {
		c.subs.mu.Lock()
		delete(c.subs.listening, uri)
		c.subs.mu.Unlock()
		c.forgetListen(uri)
	}
	_, err := call(ctx, c, "resources/unsubscribe", func(ctx context.Context, s *mcp.ClientSession) (struct{}, error) {
		return struct{}{}, s.Unsubscribe(ctx, &mcp.UnsubscribeParams{URI: uri})
	})
	return err
}

// forgetListen stops watching for the answer to the listen requests of
// uri (they are being cancelled).
func (c *Conn) forgetListen(uri string) {
	if c.w == nil {
		return
	}
	c.w.mu.Lock()
	defer c.w.mu.Unlock()
	for id, uris := range c.w.listens {
		if slices.Equal(uris, []string{uri}) {
			delete(c.w.listens, id)
		}
	}
}

// noteListen records the resources of an outgoing subscriptions/listen
// request, to match a refusal with them.
func (w *watchedConn) noteListen(msg jsonrpc.Message) {
	req, ok := msg.(*jsonrpc.Request)
	if !ok || req.Method != methodSubscriptionsListen || !req.IsCall() {
		return
	}
	var p mcp.SubscriptionsListenParams
	if json.Unmarshal(req.Params, &p) != nil || p.Notifications == nil || len(p.Notifications.ResourceSubscriptions) == 0 {
		return
	}
	w.mu.Lock()
	if w.listens == nil {
		w.listens = map[jsonrpc.ID][]string{}
	}
	w.listens[req.ID] = p.Notifications.ResourceSubscriptions
	w.mu.Unlock()
}

// sawResponse ends the wait of Subscribe calls whose listen request the
// server answered with an error. (A listen stream the server acknowledged
// is answered only when it ends.)
func (w *watchedConn) sawResponse(msg jsonrpc.Message) {
	resp, ok := msg.(*jsonrpc.Response)
	if !ok {
		return
	}
	w.mu.Lock()
	uris, ok := w.listens[resp.ID]
	delete(w.listens, resp.ID)
	w.mu.Unlock()
	if ok && resp.Error != nil {
		w.c.listenDone(uris, resp.Error)
	}
}

// Subscribe subscribes to updates of a resource of the named server; they
// arrive at Options.OnResourceUpdated. See Conn.Subscribe.
//
// The registry remembers the subscription: when it reconnects to the
// server, it subscribes again to every resource subscribed (and not
// unsubscribed) before handing the new connection to callers, so updates
// keep arriving (those sent while the server was unreachable are lost). A
// resource that cannot be subscribed again is logged as a warning and tried
// again on the next reconnect.
func (r *Registry) Subscribe(ctx context.Context, server, uri string) error {
	c, err := r.conn(ctx, server)
	if err != nil {
		return err
	}
	r.mu.Lock()
	added := !r.subs[server][uri]
	if added {
		if r.subs[server] == nil {
			r.subs[server] = map[string]bool{}
		}
		r.subs[server][uri] = true
	}
	r.mu.Unlock()
	err = c.Subscribe(ctx, uri)
	if err != nil && added {
		r.mu.Lock()
		delete(r.subs[server], uri)
		r.mu.Unlock()
	}
	return err
}

// Unsubscribe cancels a Subscribe; the resource is no longer subscribed
// again on reconnects, even when this call fails.
func (r *Registry) Unsubscribe(ctx context.Context, server, uri string) error {
	r.mu.Lock()
	delete(r.subs[server], uri)
	r.mu.Unlock()
	c, err := r.conn(ctx, server)
	if err != nil {
		return err
	}
	return c.Unsubscribe(ctx, uri)
}

// Subscriptions returns the resources of the named server subscribed
// through the registry, sorted: those restored on a reconnect.
func (r *Registry) Subscriptions(server string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var uris []string
	for uri := range r.subs[server] {
		uris = append(uris, uri)
	}
	slices.Sort(uris)
	return uris
}

// resubscribe subscribes the new connection c to the resources subscribed
// on the previous ones. Failures are logged; the resources stay in the set,
// to be tried again on the next reconnect.
func (r *Registry) resubscribe(ctx context.Context, c *Conn) {
	uris := r.Subscriptions(c.name)
	if len(uris) == 0 {
		return
	}
	bound := c.spec.ReadTimeout()
	if bound <= 0 {
		bound = resubscribeTimeout
	}
	sem := make(chan struct{}, maxResubscribes)
	var wg sync.WaitGroup
	for _, uri := range uris {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			sctx, cancel := context.WithTimeout(ctx, bound)
			defer cancel()
			if err := c.Subscribe(sctx, uri); err != nil {
				if ctx.Err() != nil { // nobody waits for the connection any more, or Close
					r.o.logger.Debug("gave up subscribing again after reconnecting", "server", c.name, "uri", uri, "error", err)
					return
				}
				r.o.logger.Warn("could not subscribe again to a resource after reconnecting; retried on the next reconnect",
					"server", c.name, "uri", uri, "error", err)
				return
			}
			r.o.logger.Debug("subscribed again after reconnecting", "server", c.name, "uri", uri)
		})
	}
	wg.Wait()
}
