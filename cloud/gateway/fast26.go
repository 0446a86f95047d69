package gateway

// The fast path for stateless 2026-07-28 requests (Shared mode).
//
// The SDK's stateless handler builds a server session for every request:
// the body is decoded with a 32 KiB buffer (three times: the batch, the
// _meta, the typed params), a ServerSession with its jsonrpc2 connection
// and goroutines is connected and closed, the result goes out as an SSE
// stream. A CPU profile put most of the gateway's time per call there.
//
// This fast path answers the common request itself, and only requests it
// can tell the SDK would accept as they are: it never produces a
// validation error of its own. Anything it does not recognise as valid
// goes to the SDK's handler unchanged, which answers exactly as before
// (same checks, same error codes). A request is taken when:
//
//   - it is a POST with MCP-Protocol-Version 2026-07-28, Content-Type
//     application/json, an Accept allowing JSON and SSE, no Last-Event-ID;
//   - the body is one JSON-RPC request (keys jsonrpc "2.0", an integer or
//     plain string id, method, params; nesting within the SDK's limit) of
//     tools/call, tools/list, resources/read, resources/list,
//     resources/templates/list, prompts/get or prompts/list, with the
//     params the SDK decodes without complaint (only the method's known
//     keys, of the right types; no inputResponses or requestState: retries
//     go to the SDK's handler);
//   - Mcp-Method is the method and, for tools/call, resources/read and
//     prompts/get, Mcp-Name the (non-empty) name or URI of the body;
//   - _meta has io.modelcontextprotocol/protocolVersion "2026-07-28",
//     io.modelcontextprotocol/clientCapabilities (an object that decodes
//     as capabilities) and, if present, a valid clientInfo; a progress
//     token, if any, is a string or an integer;
//   - the called tool has no x-mcp-header annotations (those calls have
//     their Mcp-Param-* headers checked by the SDK's handler).
//
// The request is then served as the front's middleware would serve it:
// tools/call, prompts/get and resources/read as round trips (mrtr.go), so
// that a server->client request of the process becomes an input_required
// result; the lists forwarded. The params reach the process as the SDK
// path sends them (_meta without the per-request keys, except the caller's
// capabilities and identity; the progress token rewritten). The result
// gets resultType and the server's serverInfo; errors get the SDK's HTTP
// status (404 for -32601; 400 for -32602, -32021, -32022). The response is
// an SSE stream, as the SDK's (one event; progress events before it).

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

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// maxJSONDepth is the nesting the SDK's JSON decoder accepts.
const maxJSONDepth = 1000

// statelessParams are the params keys the fast path accepts per method,
// with a check of each value; _meta is checked on its own.
var statelessParams = map[string]map[string]func(json.RawMessage) bool{
	"tools/call":               {"name": isJSONString, "arguments": isJSONObject},
	"prompts/get":              {"name": isJSONString, "arguments": isStringMap},
	"resources/read":           {"uri": isJSONString},
	"tools/list":               {"cursor": isJSONString},
	"resources/list":           {"cursor": isJSONString},
	"resources/templates/list": {"cursor": isJSONString},
	"prompts/list":             {"cursor": isJSONString},
}

// nameKey is the params key Mcp-Name must match, per method.
var nameKey = map[string]string{"tools/call": "name", "prompts/get": "name", "resources/read": "uri"}

// clientCapabilitiesV2 is the SDK's wire form of 2026-07-28 client
// capabilities (an unexported type there, same structure).
type clientCapabilitiesV2 struct {
	mcp.ClientCapabilities
	Roots *mcp.RootCapabilities `json:"roots,omitempty"`
}

// statelessRequest is a 2026-07-28 request the fast path takes.
type statelessRequest struct {
	rawID  json.RawMessage
	method string
	name   string                     // Mcp-Name's value, "" for lists
	params map[string]json.RawMessage // without _meta
	meta   map[string]json.RawMessage
	token  json.RawMessage // progress token, nil if none
	caps   map[string]json.RawMessage
}

// serveFastStateless serves a 2026-07-28 request if the fast path can; it
// reports false (with r.Body intact) when the SDK's stateless handler must.
func (s *stdioServer) serveFastStateless(w http.ResponseWriter, r *http.Request) bool {
	if s.noFastStateless.Load() || r.Method != http.MethodPost ||
		r.Header.Get("Mcp-Protocol-Version") != newProtocol ||
		len(r.Header.Values("Last-Event-ID")) > 0 ||
		baseMediaType(r.Header.Get("Content-Type")) != "application/json" {
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
	req, ok := parseStateless(body, r.Header)
	if !ok {
		return false
	}
	f := s.shared
	if req.method == "tools/call" && f.hasHeaderTool(req.name) {
		return false // Mcp-Param-* headers to check
	}
	s.served.Add(1)
	s.serveStateless(w, r, f, req)
	return true
}

// hasHeaderTool reports whether the front has the tool name registered for
// Mcp-Param-* validation.
func (f *frontend) hasHeaderTool(name string) bool {
	f.headers.mu.Lock()
	defer f.headers.mu.Unlock()
	_, ok := f.headers.tools[name]
	return ok
}

// parseStateless returns the request in body if the fast path can take it.
func parseStateless(body []byte, h http.Header) (*statelessRequest, bool) {
	trimmed := bytes.TrimLeft(body, " \t\r\n")
	if len(trimmed) == 0 || trimmed[0] != '{' || !withinDepth(body, maxJSONDepth) {
		return nil, false
	}
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil || len(top) != 4 ||
		string(top["jsonrpc"]) != `"2.0"` || top["params"] == nil {
		return nil, false
	}
	var method string
	if !isJSONString(top["method"]) || json.Unmarshal(top["method"], &method) != nil {
		return nil, false
	}
	checks := statelessParams[method]
	if checks == nil || h.Get("Mcp-Method") != method || !plainID(top["id"]) {
		return nil, false
	}
	req := &statelessRequest{rawID: top["id"], method: method}
	if json.Unmarshal(top["params"], &req.params) != nil || req.params == nil {
		return nil, false
	}
	for k, v := range req.params {
		if k == "_meta" {
			continue
		}
		if check := checks[k]; check == nil || !check(v) {
			return nil, false
		}
	}
	if key := nameKey[method]; key != "" {
		raw, ok := req.params[key]
		if !ok || json.Unmarshal(raw, &req.name) != nil || req.name == "" || h.Get("Mcp-Name") != req.name {
			return nil, false
		}
	}
	if json.Unmarshal(req.params["_meta"], &req.meta) != nil || req.meta == nil {
		return nil, false
	}
	delete(req.params, "_meta")
	if string(req.meta[mcp.MetaKeyProtocolVersion]) != `"`+newProtocol+`"` {
		return nil, false
	}
	capsRaw := req.meta[mcp.MetaKeyClientCapabilities]
	var caps clientCapabilitiesV2
	if !isJSONObject(capsRaw) || json.Unmarshal(capsRaw, &caps) != nil || json.Unmarshal(capsRaw, &req.caps) != nil {
		return nil, false
	}
	if info, ok := req.meta[mcp.MetaKeyClientInfo]; ok {
		var impl mcp.Implementation
		if !isJSONObject(info) || json.Unmarshal(info, &impl) != nil {
			return nil, false
		}
	}
	if tok, ok := req.meta["progressToken"]; ok && string(tok) != "null" {
		if !plainID(tok) {
			return nil, false
		}
		req.token = tok
	}
	return req, true
}

// serveStateless serves a request parseStateless took.
func (s *stdioServer) serveStateless(w http.ResponseWriter, r *http.Request, f *frontend, req *statelessRequest) {
	ctx := r.Context()
	st := &fastStream{w: w, ctx: ctx}
	var progress func(*mcp.ProgressNotificationParams)
	if req.token != nil {
		progress = func(p *mcp.ProgressNotificationParams) {
			q := *p
			q.ProgressToken = req.token // the client's, as it sent it
			params, err := json.Marshal(&q)
			if err != nil {
				return
			}
			data, err := jsonrpc.EncodeMessage(&jsonrpc.Request{Method: "notifications/progress", Params: params})
			if err != nil {
				return
			}
			_ = st.event(data)
		}
	}
	encode := func(token any) (json.RawMessage, error) { return req.encodeParams(token) }
	var (
		res *rawResult
		err error
	)
	if mrtrMethod(req.method) {
		res, err = f.startRoundTrip(ctx, req.method, req.name, req.caps, progress, encode)
	} else {
		res, err = f.forwardStateless(ctx, req.method, st, progress, encode)
	}
	var raw []byte
	if err == nil {
		if res.Meta == nil && res.modern { // no serverInfo from the process: the front's, like the SDK
			setServerInfo(res, &mcp.Implementation{Name: s.name, Version: gatewayInfo.Version})
		}
		raw, err = res.MarshalJSON()
	}
	st.finishStateless(req.rawID, raw, err)
}

// forwardStateless forwards a request that cannot ask for input (a list)
// to the process, as forward does for the front.
func (f *frontend) forwardStateless(ctx context.Context, method string, st *fastStream,
	progress func(*mcp.ProgressNotificationParams), encode func(token any) (json.RawMessage, error)) (*rawResult, error) {
	sl, err := f.getSlot()
	if err != nil {
		return nil, err
	}
	u, err := sl.get(ctx)
	if err != nil {
		return nil, err
	}
	callCtx := ctx
	if t := f.s.callTimeout; t > 0 {
		var cancel context.CancelFunc
		callCtx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	// The owner is the request itself: a client of its own for routing,
	// which cannot be sent requests (stateless).
	c := &call{method: method, owner: st, ctx: ctx, progress: progress}
	raw, err := u.call(callCtx, c, encode)
	if err != nil {
		if ctx.Err() == nil && callCtx.Err() != nil {
			return nil, &gatewayError{code: CodeTimeout, kind: context.DeadlineExceeded,
				msg: fmt.Sprintf("server %q did not answer %s within %v (the gateway's call timeout)", f.s.name, method, f.s.callTimeout)}
		}
		return nil, err
	}
	res := &rawResult{raw: raw, modern: true}
	if u.init != nil {
		setServerInfo(res, u.init.ServerInfo)
	}
	return res, nil
}

// encodeParams builds the params for the process, as encodeParams does for
// the front: _meta without the per-request keys except the caller's
// capabilities and identity, the progress token replaced by token (if not
// nil). Values are compacted onto one line.
func (req *statelessRequest) encodeParams(token any) (json.RawMessage, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	first := true
	put := func(k string, v json.RawMessage) error {
		if !first {
			b.WriteByte(',')
		}
		first = false
		kb, err := json.Marshal(k)
		if err != nil {
			return err
		}
		b.Write(kb)
		b.WriteByte(':')
		return json.Compact(&b, v)
	}
	for k, v := range req.params {
		if err := put(k, v); err != nil {
			return nil, err
		}
	}
	var meta bytes.Buffer
	n := 0
	for k, v := range req.meta {
		if strings.HasPrefix(k, "io.modelcontextprotocol/") && k != mcp.MetaKeyClientCapabilities && k != mcp.MetaKeyClientInfo {
			continue
		}
		if k == "progressToken" && token != nil {
			continue
		}
		if n > 0 {
			meta.WriteByte(',')
		}
		n++
		kb, err := json.Marshal(k)
		if err != nil {
			return nil, err
		}
		meta.Write(kb)
		meta.WriteByte(':')
		if err := json.Compact(&meta, v); err != nil {
			return nil, err
		}
	}
	if token != nil {
		tb, err := json.Marshal(token)
		if err != nil {
			return nil, err
		}
		if n > 0 {
			meta.WriteByte(',')
		}
		n++
		meta.WriteString(`"progressToken":`)
		meta.Write(tb)
	}
	if n > 0 {
		if !first {
			b.WriteByte(',')
		}
		b.WriteString(`"_meta":{`)
		b.Write(meta.Bytes())
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// finishStateless writes the response to a stateless request as the SDK's
// handler does: an SSE stream of one event (after the progress events, if
// any), or, for the errors 2026-07-28 gives an HTTP status (404 for
// -32601; 400 for -32602, -32021, -32022), a plain JSON body with it.
func (st *fastStream) finishStateless(rawID, result json.RawMessage, err error) {
	status := http.StatusOK
	if err != nil {
		var code int64
		if werr := (*jsonrpc.Error)(nil); errors.As(err, &werr) {
			code = werr.Code
		}
		switch code {
		case jsonrpc.CodeMethodNotFound:
			status = http.StatusNotFound
		case jsonrpc.CodeInvalidParams, mcp.CodeUnsupportedProtocolVersion, mcp.CodeMissingRequiredClientCapabilities:
			status = http.StatusBadRequest
		}
	}
	msg := encodeResponse(rawID, result, err)
	st.mu.Lock()
	defer st.mu.Unlock()
	st.done = true
	if st.sse { // the stream is open (progress): the last event
		_, _ = fmt.Fprintf(st.w, "event: message\ndata: %s\n\n", msg)
		return
	}
	h := st.w.Header()
	if status != http.StatusOK {
		h.Set("Content-Type", "application/json")
		h.Set("Content-Length", strconv.Itoa(len(msg)))
		st.w.WriteHeader(status)
		_, _ = st.w.Write(msg)
		return
	}
	const head, tail = "event: message\ndata: ", "\n\n"
	b := make([]byte, 0, len(head)+len(msg)+len(tail))
	b = append(append(append(b, head...), msg...), tail...)
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache, no-transform")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	st.w.WriteHeader(http.StatusOK)
	_, _ = st.w.Write(b)
}

// plainID reports whether raw is an integer without sign, exponent or
// leading zeros (within int64), or a string without escapes: an ID or
// token the SDK would send back spelled the same.
func plainID(raw json.RawMessage) bool {
	if len(raw) == 0 {
		return false
	}
	if raw[0] == '"' {
		return len(raw) >= 2 && raw[len(raw)-1] == '"' && plainString(string(raw[1:len(raw)-1]))
	}
	if len(raw) > 15 || (raw[0] == '0' && len(raw) > 1) {
		return false
	}
	for _, c := range raw {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func isJSONString(raw json.RawMessage) bool {
	var s string
	return len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil
}

func isJSONObject(raw json.RawMessage) bool {
	return len(raw) > 0 && raw[0] == '{'
}

func isStringMap(raw json.RawMessage) bool {
	var m map[string]string
	return isJSONObject(raw) && json.Unmarshal(raw, &m) == nil
}

// withinDepth reports whether the JSON in data nests at most max deep (the
// SDK decoder's check).
func withinDepth(data []byte, max int) bool {
	depth := 0
	inString, escaped := false, false
	for _, b := range data {
		if inString {
			switch {
			case escaped:
				escaped = false
			case b == '\\':
				escaped = true
			case b == '"':
				inString = false
			}
			continue
		}
		switch b {
		case '"':
			inString = true
		case '{', '[':
			depth++
			if depth > max {
				return false
			}
		case '}', ']':
			if depth > 0 {
				depth--
			}
		}
	}
	return true
}
