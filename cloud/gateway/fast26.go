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
//     their Mcp-Param-* headers checked by the SDK's handler; the process
//     is started first, since the annotations are learnt then, so even the
//     first call after a start is checked, which the SDK's path alone did
//     not do).
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
	"sync"

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

// statelessRequest is a 2026-07-28 request the fast path takes. Its
// members point into the request body.
type statelessRequest struct {
	rawID  json.RawMessage
	method string
	name   string      // Mcp-Name's value, "" for lists
	params []rawMember // without _meta
	meta   []rawMember
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
	if req.method == "tools/call" {
		// The tools with x-mcp-header annotations are learnt when the
		// process starts: start it first (an error is the call's answer,
		// as it would be on the SDK's path).
		sl, err := f.getSlot()
		if err == nil {
			_, err = sl.get(r.Context())
		}
		if err != nil {
			s.served.Add(1)
			(&fastStream{w: w, ctx: r.Context()}).finishStateless(req.rawID, nil, err)
			return true
		}
		if f.hasHeaderTool(req.name) {
			return false // Mcp-Param-* headers to check
		}
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
//
// It reads the body with objectMembers (after json.Valid): the keys as
// written, each once (the SDK's decoder matches keys case-sensitively and
// keeps the last of duplicates; the fast path leaves both cases to it),
// and their values without copying or decoding them.
func parseStateless(body []byte, h http.Header) (*statelessRequest, bool) {
	if !json.Valid(body) || !withinDepth(body, maxJSONDepth) {
		return nil, false
	}
	var buf [12]rawMember
	top, ok := objectMembers(body, buf[:0])
	if !ok || len(top) != 4 {
		return nil, false
	}
	var rawMethod, rawParams []byte
	req := &statelessRequest{}
	for _, m := range top {
		switch string(m.key) {
		case "jsonrpc":
			if string(m.val) != `"2.0"` {
				return nil, false
			}
		case "id":
			req.rawID = m.val
		case "method":
			rawMethod = m.val
		case "params":
			rawParams = m.val
		default:
			return nil, false
		}
	}
	method, ok := plainValue(rawMethod)
	if !ok || !plainID(req.rawID) || rawParams == nil {
		return nil, false
	}
	checks := statelessParams[method]
	if checks == nil || h.Get("Mcp-Method") != method {
		return nil, false
	}
	req.method = method
	params, ok := objectMembers(rawParams, nil)
	if !ok {
		return nil, false
	}
	var rawMeta []byte
	req.params = params[:0]
	for _, m := range params {
		if string(m.key) == "_meta" {
			rawMeta = m.val
			continue
		}
		if check := checks[string(m.key)]; check == nil || !check(m.val) {
			return nil, false
		}
		if string(m.key) == nameKey[method] {
			if req.name, ok = plainValue(m.val); !ok {
				return nil, false
			}
		}
		req.params = append(req.params, m)
	}
	if nameKey[method] != "" && (req.name == "" || h.Get("Mcp-Name") != req.name) {
		return nil, false
	}
	if req.meta, ok = objectMembers(rawMeta, nil); !ok {
		return nil, false
	}
	var version, caps []byte
	for _, m := range req.meta {
		switch string(m.key) {
		case mcp.MetaKeyProtocolVersion:
			version = m.val
		case mcp.MetaKeyClientCapabilities:
			caps = m.val
		case mcp.MetaKeyClientInfo:
			if !metaCache.clientInfo(m.val) {
				return nil, false
			}
		case "progressToken":
			if string(m.val) == "null" {
				continue
			}
			if !plainID(m.val) {
				return nil, false
			}
			req.token = m.val
		}
	}
	if string(version) != `"`+newProtocol+`"` || len(caps) == 0 || caps[0] != '{' {
		return nil, false
	}
	if req.caps, ok = metaCache.capabilities(caps); !ok {
		return nil, false
	}
	return req, true
}

// metaCache remembers the clientInfo and clientCapabilities values the
// fast path found valid: a client sends the same ones with every request.
var metaCache = &validMeta{}

// maxValidMeta bounds each of validMeta's maps (they are emptied when full).
const maxValidMeta = 256

type validMeta struct {
	mu    sync.Mutex
	infos map[string]bool
	caps  map[string]map[string]json.RawMessage // never modified once stored
}

// clientInfo reports whether raw decodes as an mcp.Implementation.
func (v *validMeta) clientInfo(raw []byte) bool {
	v.mu.Lock()
	ok, known := v.infos[string(raw)]
	v.mu.Unlock()
	if known {
		return ok
	}
	var impl mcp.Implementation
	ok = raw[0] == '{' && json.Unmarshal(raw, &impl) == nil
	v.mu.Lock()
	if v.infos == nil || len(v.infos) >= maxValidMeta {
		v.infos = make(map[string]bool)
	}
	v.infos[string(raw)] = ok
	v.mu.Unlock()
	return ok
}

// capabilities returns the capabilities in raw by name, if raw decodes as
// the SDK's clientCapabilitiesV2. The map is shared: callers only read it.
func (v *validMeta) capabilities(raw []byte) (map[string]json.RawMessage, bool) {
	v.mu.Lock()
	caps, known := v.caps[string(raw)]
	v.mu.Unlock()
	if known {
		return caps, caps != nil
	}
	var v2 clientCapabilitiesV2
	if raw[0] != '{' || json.Unmarshal(raw, &v2) != nil || json.Unmarshal(raw, &caps) != nil {
		caps = nil
	} else if caps == nil {
		caps = map[string]json.RawMessage{}
	}
	v.mu.Lock()
	if v.caps == nil || len(v.caps) >= maxValidMeta {
		v.caps = make(map[string]map[string]json.RawMessage)
	}
	v.caps[string(raw)] = caps
	v.mu.Unlock()
	return caps, caps != nil
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
	n := 64
	for _, m := range req.params {
		n += len(m.key) + len(m.val) + 4
	}
	for _, m := range req.meta {
		n += len(m.key) + len(m.val) + 4
	}
	b := bytes.NewBuffer(make([]byte, 0, n))
	b.WriteByte('{')
	for i, m := range req.params {
		if i > 0 {
			b.WriteByte(',')
		}
		if err := writeMember(b, m); err != nil {
			return nil, err
		}
	}
	first := true
	for _, m := range req.meta {
		k := string(m.key)
		if strings.HasPrefix(k, "io.modelcontextprotocol/") && k != mcp.MetaKeyClientCapabilities && k != mcp.MetaKeyClientInfo {
			continue
		}
		if k == "progressToken" && token != nil {
			continue
		}
		if first {
			if len(req.params) > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"_meta":{`)
			first = false
		} else {
			b.WriteByte(',')
		}
		if err := writeMember(b, m); err != nil {
			return nil, err
		}
	}
	if token != nil {
		tb, err := json.Marshal(token)
		if err != nil {
			return nil, err
		}
		if first {
			if len(req.params) > 0 {
				b.WriteByte(',')
			}
			b.WriteString(`"_meta":{`)
			first = false
		} else {
			b.WriteByte(',')
		}
		b.WriteString(`"progressToken":`)
		b.Write(tb)
	}
	if !first {
		b.WriteByte('}')
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// writeMember writes "key":value, the value on one line.
func writeMember(b *bytes.Buffer, m rawMember) error {
	b.WriteByte('"')
	b.Write(m.key)
	b.WriteString(`":`)
	if bytes.ContainsAny(m.val, "\r\n") { // whitespace: inside strings they are escaped
		return json.Compact(b, m.val)
	}
	b.Write(m.val)
	return nil
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

func isJSONString(raw json.RawMessage) bool { return len(raw) > 0 && raw[0] == '"' }

func isJSONObject(raw json.RawMessage) bool { return len(raw) > 0 && raw[0] == '{' }

// isStringMap reports whether raw is an object of strings.
func isStringMap(raw json.RawMessage) bool {
	members, ok := objectMembers(raw, nil)
	if !ok {
		return false
	}
	for _, m := range members {
		if m.val[0] != '"' {
			return false
		}
	}
	return true
}

// plainValue returns the value of a JSON string of printable ASCII without
// escapes (compared with header values as it is written); ok is false for
// any other value.
func plainValue(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	v := raw[1 : len(raw)-1]
	for _, c := range v {
		if c < 0x20 || c > 0x7e || c == '"' || c == '\\' {
			return "", false
		}
	}
	return string(v), true
}

// A rawMember is one member of a JSON object as written.
type rawMember struct {
	key []byte // without quotes; printable ASCII, never escapes
	val []byte
}

// objectMembers appends the members of the JSON object data (valid JSON,
// see json.Valid) to dst. ok is false if data is not an object, or a key
// has escapes or other than ASCII, or appears twice.
func objectMembers(data []byte, dst []rawMember) (members []rawMember, ok bool) {
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return nil, false
	}
	start := len(dst)
	i = skipSpace(data, i+1)
	if i < len(data) && data[i] == '}' {
		return dst, true
	}
	for i < len(data) && data[i] == '"' {
		j := i + 1
		for j < len(data) && data[j] != '"' {
			if c := data[j]; c == '\\' || c < 0x20 || c >= 0x80 {
				return nil, false // escapes and non-ASCII keys are left to the SDK's decoder
			}
			j++
		}
		if j >= len(data) {
			return nil, false
		}
		key := data[i+1 : j]
		for _, m := range dst[start:] {
			if bytes.Equal(m.key, key) {
				return nil, false
			}
		}
		i = skipSpace(data, j+1)
		if i >= len(data) || data[i] != ':' {
			return nil, false
		}
		i = skipSpace(data, i+1)
		end := skipValue(data, i)
		if end <= i {
			return nil, false
		}
		dst = append(dst, rawMember{key: key, val: data[i:end]})
		i = skipSpace(data, end)
		if i < len(data) && data[i] == ',' {
			i = skipSpace(data, i+1)
			continue
		}
		if i < len(data) && data[i] == '}' {
			return dst, true
		}
		return nil, false
	}
	return nil, false
}

func skipSpace(data []byte, i int) int {
	for i < len(data) && (data[i] == ' ' || data[i] == '\t' || data[i] == '\n' || data[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the (valid) JSON value at data[i:].
func skipValue(data []byte, i int) int {
	if i >= len(data) {
		return i
	}
	switch data[i] {
	case '"':
		return skipString(data, i)
	case '{', '[':
		depth := 0
		for i < len(data) {
			switch data[i] {
			case '"':
				i = skipString(data, i)
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
			i++
		}
		return i
	}
	for i < len(data) {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
		i++
	}
	return i
}

// skipString returns the end of the JSON string at data[i:].
func skipString(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
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
