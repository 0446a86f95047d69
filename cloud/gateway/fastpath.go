package gateway

// The fast path of the STDIO-to-HTTP adapter.
//
// A CPU profile of the gateway under bench/gateway (echo, one session) put
// most of its time per call in the SDK's Streamable HTTP server, not in the
// forwarding: decoding the POST with a 32 KiB buffer per message (and the
// garbage collection that follows), a crypto-random stream ID, an SSE stream
// flushed per event, typed params decoded and encoded again, and three
// goroutine hand-offs. The fast path answers the common case itself:
//
//   - a POST in an established 2025-era session (initialized, the session's
//     own protocol version in Mcp-Protocol-Version, no auth token on the
//     request),
//   - with one JSON-RPC request of a forwarded method (fastMethods) whose
//     params have no _meta (so no progress token to rewrite),
//
// is forwarded with its params as they are, and answered with a plain
// application/json response, which the specification allows instead of an
// SSE stream. If the server sends a request for the call (sampling,
// elicitation, roots) before answering, the response turns into an SSE
// stream at that point: the request goes out on it, under an ID of the
// gateway's ("gw-<n>", never one the SDK uses), the client's answer (a POST)
// is taken by the fast path, and the final result follows on the stream.
// A notifications/cancelled for a fast-path request cancels it.
//
// Everything else (initialize, GET streams, DELETE, batches, progress,
// responses and notifications that are not the fast path's, 2026-07-28
// requests, any header the fast path does not expect) goes to the SDK's
// handler unchanged. The fast path keeps its own record of the sessions,
// learnt from the front's middleware, and the idle timeout of every
// session (Options.SessionIdleTimeout) is kept here too, since requests the
// fast path answers never reach the SDK's own timer.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/modelcontextprotocol/go-sdk/auth"
	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// fastMethods are the requests the fast path forwards: the front forwards
// them untouched anyway, and declares the capabilities they need.
var fastMethods = map[string]bool{
	"tools/call":               true,
	"tools/list":               true,
	"resources/read":           true,
	"resources/list":           true,
	"resources/templates/list": true,
	"prompts/get":              true,
	"prompts/list":             true,
}

// A fastSession is what the fast path knows of one 2025-era HTTP session.
type fastSession struct {
	id       string
	ss       *mcp.ServerSession
	f        *frontend
	protocol string      // negotiated protocol version
	ready    atomic.Bool // notifications/initialized received

	// The idle timer, checked when it fires rather than reset per request:
	// it closes the session if no POST is being served and none ended
	// within the timeout.
	refs    atomic.Int64 // POSTs being served
	lastEnd atomic.Int64 // when the last one ended (monotonic ns since start)
	start   time.Time

	mu        sync.Mutex
	calls     map[string]context.CancelFunc // fast-path requests in flight, by idKey of the client's ID
	relays    map[string]chan *jsonrpc.Response
	nextRelay int64
	timer     *time.Timer // idle timer; nil if none or the session ended
}

// addSession records a session after its initialize; the session is served
// by the fast path once it is ready (markReady). It also arms the idle
// timeout and forgets the session when it ends.
func (s *stdioServer) addSession(f *frontend, ss *mcp.ServerSession, protocol string) {
	id := ss.ID()
	if id == "" {
		return
	}
	fs := &fastSession{id: id, ss: ss, f: f, protocol: protocol, start: time.Now(),
		calls: make(map[string]context.CancelFunc), relays: make(map[string]chan *jsonrpc.Response)}
	if t := s.g.opts.SessionIdleTimeout; t > 0 {
		fs.mu.Lock()
		fs.timer = time.AfterFunc(t, func() { fs.idle(t) })
		fs.mu.Unlock()
	}
	s.fastMu.Lock()
	if s.closed {
		s.fastMu.Unlock()
		fs.stopTimer()
		return
	}
	s.fast[id] = fs
	s.fastWG.Add(1)
	s.fastMu.Unlock()
	go func() {
		defer s.fastWG.Done()
		_ = ss.Wait()
		fs.stopTimer()
		s.fastMu.Lock()
		if s.fast[id] == fs {
			delete(s.fast, id)
		}
		s.fastMu.Unlock()
	}()
}

// markReady lets the fast path serve ss (after notifications/initialized).
func (s *stdioServer) markReady(ss *mcp.ServerSession) {
	if fs := s.lookupSession(ss.ID()); fs != nil && fs.ss == ss {
		fs.ready.Store(true)
	}
}

// retire stops serving session id on the fast path: it is being deleted,
// and the SDK answers whatever comes after. The session stays known (for
// the idle timer) until it ends.
func (s *stdioServer) retire(id string) {
	if fs := s.lookupSession(id); fs != nil {
		fs.ready.Store(false)
	}
}

func (s *stdioServer) lookupSession(id string) *fastSession {
	if id == "" {
		return nil
	}
	s.fastMu.RLock()
	defer s.fastMu.RUnlock()
	return s.fast[id]
}

// begin and end bracket every POST of the session: the session is idle
// only while none is being served (the SDK's rule).
func (fs *fastSession) begin() { fs.refs.Add(1) }

func (fs *fastSession) end() {
	fs.lastEnd.Store(int64(time.Since(fs.start)))
	fs.refs.Add(-1)
}

// idle runs when the idle timer fires: it closes the session, or sets the
// timer again for the time left.
func (fs *fastSession) idle(timeout time.Duration) {
	left := timeout
	if fs.refs.Load() == 0 {
		left = timeout - (time.Since(fs.start) - time.Duration(fs.lastEnd.Load()))
	}
	fs.mu.Lock()
	if fs.timer == nil {
		fs.mu.Unlock()
		return // the session ended
	}
	if left > 0 {
		fs.timer.Reset(left)
		fs.mu.Unlock()
		return
	}
	fs.timer = nil
	fs.mu.Unlock()
	_ = fs.ss.Close()
}

func (fs *fastSession) stopTimer() {
	fs.mu.Lock()
	if fs.timer != nil {
		fs.timer.Stop()
		fs.timer = nil
	}
	fs.mu.Unlock()
}

// fastRequest is the envelope of a JSON-RPC message POSTed by a client.
type fastRequest struct {
	JSONRPC string          `json:"jsonrpc"`
	ID      json.RawMessage `json:"id"`
	Method  *string         `json:"method"`
	Params  json.RawMessage `json:"params"`
	Result  json.RawMessage `json:"result"`
	Error   *jsonrpc.Error  `json:"error"`
}

// serveFast serves r if the fast path can; it reports false (with r.Body
// intact) when the SDK's handler must.
func (s *stdioServer) serveFast(w http.ResponseWriter, r *http.Request, fs *fastSession) bool {
	if !fs.ready.Load() || r.Header.Get("Mcp-Protocol-Version") != fs.protocol ||
		baseMediaType(r.Header.Get("Content-Type")) != "application/json" ||
		auth.TokenInfoFromContext(r.Context()) != nil {
		return false
	}
	if jsonOK, streamOK := accepts(r.Header.Values("Accept")); !jsonOK || !streamOK {
		return false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		return false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' {
		return false // batch or garbage: the SDK says what is wrong
	}
	var m fastRequest
	if json.Unmarshal(body, &m) != nil || m.JSONRPC != "2.0" {
		return false
	}
	id, ok := clientID(m.ID)
	if !ok {
		return false
	}
	if m.Method == nil {
		// A client's answer to a request the fast path relayed?
		return fs.answer(w, id, &m)
	}
	switch {
	case *m.Method == "notifications/cancelled" && id == nil:
		return fs.cancel(w, m.Params)
	case id == nil || !fastMethods[*m.Method] || hasMeta(m.Params):
		return false
	}
	s.forwardFast(w, r, fs, *m.Method, m.ID, id, m.Params)
	return true
}

// clientID decodes a JSON-RPC ID: nil if absent, ok false if not a string
// or number.
func clientID(raw json.RawMessage) (any, bool) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, true
	}
	if raw[0] != '"' { // a number: the common case, without reflection
		f, err := strconv.ParseFloat(string(raw), 64)
		return f, err == nil
	}
	var id string
	if json.Unmarshal(raw, &id) != nil {
		return nil, false
	}
	return id, true
}

// hasMeta reports whether params (a JSON object or nothing) have _meta, or
// are not an object at all.
func hasMeta(params json.RawMessage) bool {
	if len(params) == 0 || string(params) == "null" {
		return false
	}
	if !bytes.Contains(params, []byte("_meta")) && !bytes.Contains(params, []byte(`\u`)) {
		return false // the key can only be spelled so (or escaped)
	}
	var p struct {
		Meta json.RawMessage `json:"_meta"`
	}
	if json.Unmarshal(params, &p) != nil {
		return true
	}
	return p.Meta != nil
}

// forwardFast forwards one request to the process and writes the response.
func (s *stdioServer) forwardFast(w http.ResponseWriter, r *http.Request, fs *fastSession, method string, rawID json.RawMessage, id any, params json.RawMessage) {
	key := idKey(id)
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	fs.mu.Lock()
	if _, dup := fs.calls[key]; dup {
		fs.mu.Unlock()
		writeFastError(w, http.StatusBadRequest, rawID, rpcError(jsonrpc.CodeInvalidRequest, "duplicate in-flight request ID %v", id))
		return
	}
	fs.calls[key] = cancel
	fs.mu.Unlock()
	defer func() {
		fs.mu.Lock()
		delete(fs.calls, key)
		fs.mu.Unlock()
	}()

	s.served.Add(1)
	st := &fastStream{w: w, fs: fs, ctx: ctx}
	raw, err := s.callFast(ctx, fs, method, params, st)
	st.finish(rawID, raw, err)
}

func (s *stdioServer) callFast(ctx context.Context, fs *fastSession, method string, params json.RawMessage, st *fastStream) (json.RawMessage, error) {
	sl, err := fs.f.getSlot()
	if err != nil {
		return nil, err
	}
	u, err := sl.get(ctx)
	if err != nil {
		return nil, err
	}
	if bytes.ContainsAny(params, "\r\n") { // the process reads one message per line
		var b bytes.Buffer
		if err := json.Compact(&b, params); err != nil {
			return nil, rpcError(jsonrpc.CodeParseError, "invalid params: %v", err)
		}
		params = b.Bytes()
	}
	callCtx := ctx
	if t := s.callTimeout; t > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	c := &call{method: method, owner: fs.ss, ctx: ctx, relay: st.relay}
	raw, err := u.call(callCtx, c, func(any) (json.RawMessage, error) { return params, nil })
	if err != nil && ctx.Err() == nil && callCtx.Err() != nil {
		return nil, &gatewayError{code: CodeTimeout, kind: context.DeadlineExceeded,
			msg: fmt.Sprintf("server %q did not answer %s within %v (the gateway's call timeout)", s.name, method, s.callTimeout)}
	}
	return raw, err
}

// cancel handles a client's notifications/cancelled: if it names a request
// of the fast path, that request is cancelled (and the server told so).
func (fs *fastSession) cancel(w http.ResponseWriter, params json.RawMessage) bool {
	var p struct {
		RequestID json.RawMessage `json:"requestId"`
	}
	if json.Unmarshal(params, &p) != nil {
		return false
	}
	id, ok := clientID(p.RequestID)
	if !ok || id == nil {
		return false
	}
	fs.mu.Lock()
	cancel := fs.calls[idKey(id)]
	fs.mu.Unlock()
	if cancel == nil {
		return false // the SDK's request, or none
	}
	cancel()
	w.WriteHeader(http.StatusAccepted)
	return true
}

// answer takes a client's response to a request relayed on a fast-path
// stream.
func (fs *fastSession) answer(w http.ResponseWriter, id any, m *fastRequest) bool {
	if id == nil {
		return false
	}
	key := idKey(id)
	fs.mu.Lock()
	ch := fs.relays[key]
	delete(fs.relays, key)
	fs.mu.Unlock()
	if ch == nil {
		return false // an answer to the SDK's own request
	}
	resp := &jsonrpc.Response{Result: m.Result}
	if m.Error != nil {
		resp.Error = m.Error
	}
	ch <- resp // buffered, one answer per relay
	w.WriteHeader(http.StatusAccepted)
	return true
}

// A fastStream is the response to one fast-path request: plain JSON, or an
// SSE stream once the server sends a request for the call.
type fastStream struct {
	fs  *fastSession
	ctx context.Context // the client's request; done when it is answered

	mu   sync.Mutex
	w    http.ResponseWriter
	sse  bool // the SSE header is written
	done bool // the response is written; nothing more can go out
}

// relay sends a server->client request for the call to the client on the
// call's stream and waits for its answer.
func (st *fastStream) relay(ctx context.Context, req *jsonrpc.Request) (any, error) {
	fs := st.fs
	fs.mu.Lock()
	fs.nextRelay++
	rid := "gw-" + strconv.FormatInt(fs.nextRelay, 10)
	key := idKey(rid)
	ch := make(chan *jsonrpc.Response, 1)
	fs.relays[key] = ch
	fs.mu.Unlock()
	defer func() {
		fs.mu.Lock()
		delete(fs.relays, key)
		fs.mu.Unlock()
	}()
	id, _ := jsonrpc.MakeID(rid)
	data, err := jsonrpc.EncodeMessage(&jsonrpc.Request{ID: id, Method: req.Method, Params: req.Params})
	if err != nil {
		return nil, err
	}
	if err := st.event(data); err != nil {
		return nil, err
	}
	select {
	case r := <-ch:
		if r.Error != nil {
			return nil, r.Error
		}
		return r.Result, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-st.ctx.Done():
		return nil, rpcError(CodeUnroutable, "gateway: the client's request ended before the client answered %s", req.Method)
	}
}

// event writes one SSE event, turning the response into a stream first.
func (st *fastStream) event(data []byte) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done {
		return rpcError(CodeUnroutable, "gateway: the client's request is already answered")
	}
	if !st.sse {
		st.sse = true
		h := st.w.Header()
		h.Set("Content-Type", "text/event-stream")
		h.Set("Cache-Control", "no-cache, no-transform")
		st.w.WriteHeader(http.StatusOK)
	}
	if _, err := fmt.Fprintf(st.w, "event: message\ndata: %s\n\n", data); err != nil {
		return err
	}
	return http.NewResponseController(st.w).Flush()
}

// finish writes the response to the client's request.
func (st *fastStream) finish(rawID json.RawMessage, result json.RawMessage, err error) {
	msg := encodeResponse(rawID, result, err)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.done = true
	if st.sse {
		_, _ = fmt.Fprintf(st.w, "event: message\ndata: %s\n\n", msg)
		return
	}
	h := st.w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("Content-Length", strconv.Itoa(len(msg)))
	st.w.WriteHeader(http.StatusOK)
	_, _ = st.w.Write(msg)
}

// encodeResponse builds a JSON-RPC response with the client's raw ID. Errors
// become JSON-RPC errors the way the SDK makes them: a *jsonrpc.Error as is,
// others with the code of a wrapped one and their own message.
func encodeResponse(rawID, result json.RawMessage, err error) []byte {
	b := make([]byte, 0, len(result)+len(rawID)+40)
	b = append(b, `{"jsonrpc":"2.0","id":`...)
	b = append(b, rawID...)
	if err == nil {
		if len(result) == 0 {
			result = json.RawMessage("{}")
		}
		b = append(b, `,"result":`...)
		b = append(b, result...)
		return append(b, '}')
	}
	werr, ok := err.(*jsonrpc.Error)
	if !ok {
		werr = &jsonrpc.Error{Message: err.Error()}
		var wrapped *jsonrpc.Error
		if errors.As(err, &wrapped) {
			werr.Code = wrapped.Code
		}
	}
	e, merr := json.Marshal(werr)
	if merr != nil {
		e, _ = json.Marshal(&jsonrpc.Error{Code: jsonrpc.CodeInternalError, Message: werr.Message})
	}
	b = append(b, `,"error":`...)
	b = append(b, e...)
	return append(b, '}')
}

func writeFastError(w http.ResponseWriter, status int, rawID json.RawMessage, err *jsonrpc.Error) {
	msg := encodeResponse(rawID, nil, err)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(msg)
}

// accepts reports whether Accept headers allow JSON and SSE responses (the
// SDK's rule).
func accepts(values []string) (jsonOK, streamOK bool) {
	for _, value := range values {
		for raw := range strings.SplitSeq(value, ",") {
			base, _, _ := strings.Cut(strings.TrimSpace(raw), ";")
			switch strings.ToLower(strings.TrimSpace(base)) {
			case "application/json", "application/*":
				jsonOK = true
			case "text/event-stream", "text/*":
				streamOK = true
			case "*/*":
				jsonOK, streamOK = true, true
			}
		}
	}
	return jsonOK, streamOK
}

func baseMediaType(v string) string {
	base, _, _ := strings.Cut(v, ";")
	return strings.ToLower(strings.TrimSpace(base))
}

// errReader returns err after the bytes read before it.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
