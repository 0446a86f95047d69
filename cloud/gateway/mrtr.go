package gateway

// Multi-round-trip requests (SEP-2322) for stateless 2026-07-28 clients.
//
// A stdio server speaks 2025-11-25 and asks its client for input with
// server->client requests (elicitation/create, sampling/createMessage,
// roots/list) in the middle of a call. A stateless 2026-07-28 client cannot
// receive requests: it gets an input_required result instead, and retries
// the call with the answers. The gateway translates between the two:
//
//   - A tools/call, prompts/get or resources/read of a stateless client is
//     sent to the process as usual, but the upstream call runs on its own,
//     detached from the HTTP request (a roundTrip).
//   - When the process asks for input during it, the request is held, and
//     after a short quiet period (so that requests the process sends
//     together, like the go-sdk's concurrent ones, arrive together) the
//     client's request is answered with an input_required result carrying
//     them under keys the gateway picks ("elicitation-1", ...), and a
//     requestState naming the suspended call: statePrefix and 130 random
//     bits, only meaningful to the server (registration) that issued it.
//   - The client's retry carries inputResponses and that requestState: the
//     gateway answers the process's held requests with them and waits again,
//     for the call's result or for more requests (another input_required;
//     requests left unanswered are asked again).
//   - A suspended call whose retry does not come within
//     Options.InputTimeout is cancelled on the process (notifications/
//     cancelled) and its requestState forgotten; a requestState that is
//     malformed, unknown, expired, already used, or presented for another
//     method or name is rejected with an error naming the cause.
//
// A process that itself returns inputRequests in a result (a server doing
// SEP-2322 on its own, like the go-sdk's after its one round of
// server->client requests) has it passed through with resultType
// "input_required" and its own requestState, which the gateway does not
// interpret: a retry with a requestState the gateway did not issue is
// forwarded to the process like a new call.
//
// Stateful (2025-11-25) sessions keep the direct relay in relayRequest.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const (
	// statePrefix starts every requestState the gateway issues; what
	// follows is rand.Text (26 base32 characters, 130 bits).
	statePrefix = "gw1."
	// gatherQuiet is how long the gateway waits after the process's last
	// request for input before answering the client with all it has;
	// gatherMax bounds the whole wait.
	gatherQuiet = 50 * time.Millisecond
	gatherMax   = 500 * time.Millisecond
	// maxGone bounds the remembered ends of suspended calls (for error
	// messages naming why a requestState is no longer valid).
	maxGone = 1024
	// codeMissingCapability is MCP's MissingRequiredClientCapabilities.
	codeMissingCapability = -32021
)

// inputKinds maps the server->client requests the gateway can turn into
// input requests to the client capability each needs.
var inputKinds = map[string]string{
	"elicitation/create":     "elicitation",
	"sampling/createMessage": "sampling",
	"roots/list":             "roots",
}

// mrtrMethod reports whether method may answer input_required (SEP-2322).
func mrtrMethod(method string) bool {
	return method == "tools/call" || method == "prompts/get" || method == "resources/read"
}

// stateless reports whether req comes from a sessionless 2026-07-28 client,
// which cannot receive server->client requests.
func stateless(req mcp.Request) bool {
	ss, ok := req.GetSession().(*mcp.ServerSession)
	if !ok {
		return false
	}
	p := ss.InitializeParams()
	return p != nil && p.ProtocolVersion >= newProtocol
}

// suspender holds the round trips of one stdio server.
type suspender struct {
	mu     sync.Mutex
	calls  map[string]*roundTrip // by state ID, from first suspension to end
	gone   map[string]string     // recently ended state IDs -> why
	order  []string              // gone, oldest first
	closed bool
	wg     sync.WaitGroup // upstream calls of round trips
}

// roundTrip is one upstream call of a stateless client, which may be
// suspended waiting for the client's input.
type roundTrip struct {
	sus     *suspender
	id      string // requestState without statePrefix; "" until first suspended
	method  string
	name    string                     // tool or prompt name, resource URI
	caps    map[string]json.RawMessage // the caller's declared capabilities; nil if undeclared
	timeout time.Duration              // Options.InputTimeout
	u       *upstream
	c       *call

	ctx    context.Context // the upstream call's
	cancel context.CancelCauseFunc
	done   chan struct{} // closed when the upstream call returned
	raw    json.RawMessage
	err    error

	parked  atomic.Bool   // read by the upstream router, under its lock
	arrived chan struct{} // a request for input arrived (capacity 1)

	mu       sync.Mutex
	state    rtState
	inputs   map[string]*pendingInput // asked by the process, not answered
	seq      int
	progress func(*mcp.ProgressNotificationParams) // the current round's; nil while parked
	expiry   *time.Timer
}

type rtState int

const (
	rtActive rtState = iota // a client request is waiting on it
	rtParked                // suspended: waiting for the client's retry
	rtEnded
)

// pendingInput is one server->client request held for the client.
type pendingInput struct {
	key    string
	method string
	params json.RawMessage
	answer chan json.RawMessage // capacity 1
}

func (rt *roundTrip) suspended() bool { return rt.parked.Load() }

// start counts a new round trip's upstream call, which the caller starts.
func (s *suspender) start(rt *roundTrip) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	rt.sus = s
	s.wg.Add(1)
	return nil
}

// register gives a round trip being suspended for the first time its state
// ID. Calls that never wait for input are never registered.
func (s *suspender) register(rt *roundTrip) error {
	id := rand.Text()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return ErrClosed
	}
	if s.calls == nil {
		s.calls = make(map[string]*roundTrip)
		s.gone = make(map[string]string)
	}
	rt.id = id
	s.calls[id] = rt
	return nil
}

// forget unregisters the round trip id, remembering why it ended.
func (s *suspender) forget(id, why string) {
	if id == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.calls[id]; !ok {
		return
	}
	delete(s.calls, id)
	s.gone[id] = why
	s.order = append(s.order, id)
	if len(s.order) > maxGone {
		delete(s.gone, s.order[0])
		s.order = s.order[1:]
	}
}

// close ends every round trip (cancelling their calls) and waits for their
// upstream calls.
func (s *suspender) close() {
	s.mu.Lock()
	s.closed = true
	rts := slices.Collect(maps.Values(s.calls))
	s.mu.Unlock()
	for _, rt := range rts {
		rt.end(ErrClosed, "was ended: the server was closed")
	}
	s.wg.Wait()
}

// claim finds the suspended call of a retry and makes it active again.
func (s *suspender) claim(state, method, name string) (*roundTrip, error) {
	id := strings.TrimPrefix(state, statePrefix)
	if !validStateID(id) {
		return nil, rpcError(jsonrpc.CodeInvalidParams, "gateway: invalid requestState: it is not one the gateway issued (malformed or altered)")
	}
	s.mu.Lock()
	rt, why := s.calls[id], s.gone[id]
	s.mu.Unlock()
	if rt == nil {
		if why != "" {
			return nil, rpcError(jsonrpc.CodeInvalidParams, "gateway: invalid requestState: the call it suspended %s", why)
		}
		return nil, rpcError(jsonrpc.CodeInvalidParams, "gateway: invalid requestState: no call of this server is suspended under it (it expired long ago, was issued by another server, or is forged)")
	}
	if rt.method != method || rt.name != name {
		return nil, rpcError(jsonrpc.CodeInvalidParams, "gateway: invalid requestState: it was issued for %s %q, not for %s %q", rt.method, rt.name, method, name)
	}
	rt.mu.Lock()
	defer rt.mu.Unlock()
	switch rt.state {
	case rtActive:
		return nil, rpcError(jsonrpc.CodeInvalidParams, "gateway: invalid requestState: another request is already resuming the call")
	case rtEnded:
		return nil, rpcError(jsonrpc.CodeInvalidParams, "gateway: invalid requestState: the call it suspended has ended")
	}
	rt.state = rtActive
	rt.parked.Store(false)
	rt.expiry.Stop()
	return rt, nil
}

// validStateID reports whether id looks like rand.Text's output.
func validStateID(id string) bool {
	if len(id) != 26 {
		return false
	}
	for _, c := range id {
		if !('A' <= c && c <= 'Z' || '2' <= c && c <= '7') {
			return false
		}
	}
	return true
}

// end ends the round trip unless it already has: it is forgotten, and its
// upstream call and held requests are cancelled with cause.
func (rt *roundTrip) end(cause error, why string) {
	rt.endIf(func(rtState) bool { return true }, cause, why)
}

// expire ends a call whose retry did not come in time, unless a retry
// claimed it first.
func (rt *roundTrip) expire() {
	rt.endIf(func(s rtState) bool { return s == rtParked },
		fmt.Errorf("gateway: the client did not retry within %v: %w", rt.timeout, context.DeadlineExceeded),
		fmt.Sprintf("expired: no retry came within %v, so the gateway cancelled it", rt.timeout))
}

// endIf ends the round trip if its state satisfies cond.
func (rt *roundTrip) endIf(cond func(rtState) bool, cause error, why string) {
	rt.mu.Lock()
	if rt.state == rtEnded || !cond(rt.state) {
		rt.mu.Unlock()
		return
	}
	rt.state = rtEnded
	rt.parked.Store(false)
	if rt.expiry != nil {
		rt.expiry.Stop()
	}
	id := rt.id
	rt.mu.Unlock()
	rt.sus.forget(id, why)
	rt.cancel(cause)
}

// onProgress relays the call's progress to the current round's client.
func (rt *roundTrip) onProgress(p *mcp.ProgressNotificationParams) {
	rt.mu.Lock()
	fn := rt.progress
	rt.mu.Unlock()
	if fn != nil {
		fn(p)
	}
}

// ask holds a server->client request of the process until the client's
// retry answers it; it is the relay hook for round trips.
func (rt *roundTrip) ask(ctx context.Context, req *jsonrpc.Request) (any, error) {
	kind, ok := inputKinds[req.Method]
	if !ok {
		return nil, rpcError(jsonrpc.CodeMethodNotFound, "gateway: %s cannot be asked of a stateless 2026-07-28 client", req.Method)
	}
	if rt.caps != nil {
		if _, ok := rt.caps[kind]; !ok {
			return nil, rpcError(codeMissingCapability, "gateway: the client did not declare the %s capability, so %s cannot be asked of it", kind, req.Method)
		}
	}
	params := req.Params
	if len(params) == 0 || string(params) == "null" {
		params = json.RawMessage("{}")
	}
	rt.mu.Lock()
	if rt.state == rtEnded {
		rt.mu.Unlock()
		return nil, rpcError(CodeUnroutable, "gateway: the client's call has ended")
	}
	rt.seq++
	in := &pendingInput{key: fmt.Sprintf("%s-%d", kind, rt.seq), method: req.Method, params: params, answer: make(chan json.RawMessage, 1)}
	if rt.inputs == nil {
		rt.inputs = make(map[string]*pendingInput)
	}
	rt.inputs[in.key] = in
	rt.mu.Unlock()
	select {
	case rt.arrived <- struct{}{}:
	default:
	}
	drop := func() {
		rt.mu.Lock()
		delete(rt.inputs, in.key)
		rt.mu.Unlock()
	}
	select {
	case a := <-in.answer:
		return a, nil
	case <-ctx.Done(): // the process cancelled it, or exited
		drop()
		return nil, ctx.Err()
	case <-rt.ctx.Done():
		drop()
		return nil, rpcError(CodeUnroutable, "gateway: the client did not answer %s: %v", req.Method, context.Cause(rt.ctx))
	}
}

// pending reports how many held requests wait for the client.
func (rt *roundTrip) pending() int {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	return len(rt.inputs)
}

// answer gives the process the client's responses to its held requests;
// responses to keys the gateway is not holding are ignored.
func (rt *roundTrip) answer(responses map[string]json.RawMessage) {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	for key, in := range rt.inputs {
		if r, ok := responses[key]; ok {
			in.answer <- r
			delete(rt.inputs, key)
		}
	}
}

// park suspends the call and returns the input_required result for the
// client, or nil if there is nothing to ask or the call is over.
func (rt *roundTrip) park() *rawResult {
	rt.mu.Lock()
	defer rt.mu.Unlock()
	if rt.state != rtActive || len(rt.inputs) == 0 {
		return nil
	}
	select {
	case <-rt.done:
		return nil
	default:
	}
	type inputRequest struct {
		Method string          `json:"method"`
		Params json.RawMessage `json:"params"`
	}
	reqs := make(map[string]inputRequest, len(rt.inputs))
	for key, in := range rt.inputs {
		reqs[key] = inputRequest{in.method, in.params}
	}
	if rt.id == "" && rt.sus.register(rt) != nil {
		return nil // closing
	}
	raw, err := json.Marshal(map[string]any{
		"resultType":    "input_required",
		"inputRequests": reqs,
		"requestState":  statePrefix + rt.id,
	})
	if err != nil {
		return nil
	}
	rt.state = rtParked
	rt.parked.Store(true)
	rt.progress = nil
	rt.expiry = time.AfterFunc(rt.timeout, rt.expire)
	res := &rawResult{raw: raw, modern: true}
	if rt.u.init != nil {
		setServerInfo(res, rt.u.init.ServerInfo)
	}
	return res
}

// mrtrFields returns the name and SEP-2322 retry fields of the params of
// a tools/call, prompts/get or resources/read.
func mrtrFields(p mcp.Params) (name string, responses mcp.InputResponseMap, state string) {
	switch p := p.(type) {
	case *mcp.CallToolParamsRaw:
		return p.Name, p.InputResponses, p.RequestState
	case *mcp.CallToolParams:
		return p.Name, p.InputResponses, p.RequestState
	case *mcp.GetPromptParams:
		return p.Name, p.InputResponses, p.RequestState
	case *mcp.ReadResourceParams:
		return p.URI, p.InputResponses, p.RequestState
	}
	return "", nil, ""
}

// roundTripCall serves a tools/call, prompts/get or resources/read of a
// stateless 2026-07-28 client: a new call, or the retry of a suspended one.
func (f *frontend) roundTripCall(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
	params := req.GetParams()
	if isNil(params) {
		return f.forward(ctx, method, req)
	}
	name, responses, state := mrtrFields(params)
	if strings.HasPrefix(state, statePrefix) {
		rt, err := f.s.sus.claim(state, method, name)
		if err != nil {
			return nil, err
		}
		answers := make(map[string]json.RawMessage, len(responses))
		for key, r := range responses {
			data, err := json.Marshal(r)
			if err != nil {
				rt.end(err, "was ended: its retry had an input response that could not be encoded")
				return nil, rpcError(jsonrpc.CodeInvalidParams, "gateway: inputResponses[%q]: %v", key, err)
			}
			answers[key] = data
		}
		rt.mu.Lock()
		rt.progress = progressFor(ctx, req)
		rt.mu.Unlock()
		rt.answer(answers)
		res, err := f.awaitRound(ctx, rt)
		if err != nil {
			return nil, err
		}
		return res, nil
	}

	var caps map[string]json.RawMessage
	if meta := params.GetMeta(); meta != nil {
		if c, ok := meta[mcp.MetaKeyClientCapabilities]; ok {
			if data, err := json.Marshal(c); err == nil {
				_ = json.Unmarshal(data, &caps)
			}
			if caps == nil {
				caps = map[string]json.RawMessage{}
			}
		}
	}
	res, err := f.startRoundTrip(ctx, method, name, caps, progressFor(ctx, req),
		func(token any) (json.RawMessage, error) { return encodeParams(params, token) })
	if err != nil {
		return nil, err
	}
	return res, nil
}

// startRoundTrip sends a new call of a stateless client (method, for the
// tool or prompt name or resource URI name) to the process and waits for
// its first round: the result, or input_required. caps are the caller's
// declared capabilities (nil if undeclared), progress the relay of the
// first request's progress (nil if it asked for none), encode builds the
// params for the process. Both the front's middleware and the stateless
// fast path (fast26.go) start round trips here.
func (f *frontend) startRoundTrip(ctx context.Context, method, name string, caps map[string]json.RawMessage,
	progress func(*mcp.ProgressNotificationParams), encode func(token any) (json.RawMessage, error)) (*rawResult, error) {
	sl, err := f.getSlot()
	if err != nil {
		return nil, err
	}
	u, err := sl.get(ctx)
	if err != nil {
		return nil, err
	}
	rt := &roundTrip{
		method:  method,
		name:    name,
		caps:    caps,
		timeout: f.s.g.opts.InputTimeout,
		u:       u,
		done:    make(chan struct{}),
		arrived: make(chan struct{}, 1),
	}
	rt.ctx, rt.cancel = context.WithCancelCause(context.Background())
	rt.progress = progress
	if err := f.s.sus.start(rt); err != nil {
		rt.cancel(err)
		return nil, &gatewayError{code: CodeServerUnavailable, kind: ErrClosed, msg: fmt.Sprintf("server %q is no longer served", f.s.name)}
	}
	rt.c = &call{method: method, owner: rt, ctx: rt.ctx}
	if rt.progress != nil {
		// Later rounds' progress goes to their own requests; a call that
		// asked for none at first gets none (the process sees the token
		// of the first request only).
		rt.c.progress = rt.onProgress
	}
	go func() {
		defer f.s.sus.wg.Done()
		raw, err := u.call(rt.ctx, rt.c, encode)
		rt.raw, rt.err = raw, err
		close(rt.done)
		// Not forgotten yet if suspended: a retry gets the result.
	}()
	return f.awaitRound(ctx, rt)
}

// progressFor returns the progress relay of a client request, or nil if it
// asked for no progress.
func progressFor(ctx context.Context, req mcp.Request) func(*mcp.ProgressNotificationParams) {
	ss, _ := req.GetSession().(*mcp.ServerSession)
	params := req.GetParams()
	if ss == nil || isNil(params) {
		return nil
	}
	tok, ok := params.GetMeta()["progressToken"]
	if !ok || tok == nil {
		return nil
	}
	return func(p *mcp.ProgressNotificationParams) {
		q := *p
		q.ProgressToken = tok
		_ = ss.NotifyProgress(ctx, &q)
	}
}

// awaitRound waits for the round trip's result, or for its requests for
// input (then suspends it and returns input_required), while the client's
// request lasts, at most the server's call timeout.
func (f *frontend) awaitRound(ctx context.Context, rt *roundTrip) (*rawResult, error) {
	var timeout <-chan time.Time
	if t := f.s.callTimeout; t > 0 {
		tm := time.NewTimer(t)
		defer tm.Stop()
		timeout = tm.C
	}
	var (
		quiet     *time.Timer
		quietC    <-chan time.Time
		gatherEnd time.Time
	)
	defer func() {
		if quiet != nil {
			quiet.Stop()
		}
	}()
	arm := func() {
		if quiet == nil {
			gatherEnd = time.Now().Add(gatherMax)
			quiet = time.NewTimer(gatherQuiet)
		} else {
			quiet.Reset(min(gatherQuiet, time.Until(gatherEnd)))
		}
		quietC = quiet.C
	}
	if rt.pending() > 0 {
		arm()
	}
	for {
		select {
		case <-rt.done:
			return f.roundTripResult(rt)
		case <-rt.arrived:
			if rt.pending() > 0 {
				arm()
			}
		case <-quietC:
			quietC = nil
			if res := rt.park(); res != nil {
				return res, nil
			}
		case <-ctx.Done():
			rt.end(context.Cause(ctx), "was cancelled by its client")
			return nil, ctx.Err()
		case <-timeout:
			rt.end(fmt.Errorf("gateway: call timeout: %w", context.DeadlineExceeded), "timed out at the gateway")
			return nil, &gatewayError{code: CodeTimeout, kind: context.DeadlineExceeded,
				msg: fmt.Sprintf("server %q did not answer %s within %v (the gateway's call timeout)", f.s.name, rt.method, f.s.callTimeout)}
		}
	}
}

// roundTripResult returns the result of a finished round trip: the
// process's, with resultType "input_required" if it asks for input itself.
func (f *frontend) roundTripResult(rt *roundTrip) (*rawResult, error) {
	rt.end(errors.New("gateway: the call is over"), "has completed, and its result was returned")
	if rt.err != nil {
		return nil, rt.err
	}
	res := &rawResult{raw: inputRequired(rt.raw), modern: true}
	if rt.u.init != nil {
		setServerInfo(res, rt.u.init.ServerInfo)
	}
	return res, nil
}

// inputRequired marks a result carrying inputRequests as input_required
// (a process speaking 2025-11-25 sends no resultType), dropping its null
// content; other results are returned as they are.
func inputRequired(raw json.RawMessage) json.RawMessage {
	if !bytes.Contains(raw, []byte(`"inputRequests"`)) {
		return raw
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return raw
	}
	ir := obj["inputRequests"]
	if _, ok := obj["resultType"]; ok || len(ir) == 0 || string(ir) == "null" {
		return raw
	}
	obj["resultType"] = json.RawMessage(`"input_required"`)
	if c, ok := obj["content"]; ok && (string(c) == "null" || string(c) == "[]") {
		delete(obj, "content")
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return raw
	}
	return data
}
