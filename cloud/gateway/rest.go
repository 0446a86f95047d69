package gateway

// REST conveniences: each endpoint is one MCP request made by an internal
// go-sdk client session through the same backend as MCP clients (stdio
// servers: an in-memory session on the same front, so the same router and
// process; remote servers: a Streamable HTTP session to the upstream URL).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// restClient is the gateway's own MCP session with one server, opened on
// first use and reopened after it breaks.
type restClient struct {
	g *Gateway
	e *entry

	mu     sync.Mutex
	cs     *mcp.ClientSession
	closed bool
}

func newRESTClient(g *Gateway, e *entry) *restClient {
	return &restClient{g: g, e: e}
}

func (rc *restClient) session(ctx context.Context) (*mcp.ClientSession, error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if rc.closed {
		return nil, &gatewayError{code: CodeServerUnavailable, kind: ErrClosed, msg: fmt.Sprintf("server %q was unregistered", rc.e.name)}
	}
	if rc.cs != nil {
		return rc.cs, nil
	}
	client := mcp.NewClient(&mcp.Implementation{Name: "mcp-agent-gateway-rest", Version: gatewayInfo.Version}, nil)
	var t mcp.Transport
	opts := &mcp.ClientSessionOptions{}
	switch {
	case rc.e.stdio != nil:
		s := rc.e.stdio
		f := s.shared
		if f == nil {
			f = s.newFrontend(nil) // PerSession: the REST session gets its own process
		}
		ct, st := mcp.NewInMemoryTransports()
		if _, err := f.srv.Connect(ctx, st, nil); err != nil {
			return nil, err
		}
		t = ct
		opts.ProtocolVersion = upstreamProtocol
	case rc.e.remote != nil:
		rs := rc.e.remote
		t = &mcp.StreamableClientTransport{
			Endpoint:   rs.target.String(),
			HTTPClient: &http.Client{Transport: headerTransport{rs.transport, rs.header}},
		}
	}
	cs, err := client.Connect(ctx, t, opts)
	if err != nil {
		return nil, err
	}
	rc.cs = cs
	return cs, nil
}

// reset drops a broken session.
func (rc *restClient) reset(cs *mcp.ClientSession) {
	rc.mu.Lock()
	if rc.cs == cs {
		rc.cs = nil
	}
	rc.mu.Unlock()
	_ = cs.Close()
}

func (rc *restClient) close() {
	rc.mu.Lock()
	rc.closed = true
	cs := rc.cs
	rc.cs = nil
	rc.mu.Unlock()
	if cs != nil {
		_ = cs.Close()
	}
}

type headerTransport struct {
	rt     http.RoundTripper
	header http.Header
}

func (t headerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if len(t.header) > 0 {
		r = r.Clone(r.Context())
		for k, vs := range t.header {
			r.Header[k] = append([]string(nil), vs...)
		}
	}
	return t.rt.RoundTrip(r)
}

// REST request bodies.
type (
	callToolBody struct {
		Name      string         `json:"name"`
		Arguments map[string]any `json:"arguments,omitempty"`
	}
	readResourceBody struct {
		URI string `json:"uri"`
	}
	getPromptBody struct {
		Name      string            `json:"name"`
		Arguments map[string]string `json:"arguments,omitempty"`
	}
)

var restOps = map[string]string{
	"tools":         http.MethodGet,
	"resources":     http.MethodGet,
	"prompts":       http.MethodGet,
	"call_tool":     http.MethodPost,
	"read_resource": http.MethodPost,
	"get_prompt":    http.MethodPost,
}

func (g *Gateway) serveREST(w http.ResponseWriter, r *http.Request) {
	name, op := r.PathValue("name"), r.PathValue("op")
	method, ok := restOps[op]
	if !ok {
		writeError(w, http.StatusNotFound, errCodeNotFound, "unknown operation %q: want one of tools, call_tool, resources, read_resource, prompts, get_prompt", op)
		return
	}
	if r.Method != method {
		w.Header().Set("Allow", method)
		writeError(w, http.StatusMethodNotAllowed, errCodeMethod, "%s /v1/servers/%s/%s is not supported: use %s", r.Method, name, op, method)
		return
	}
	e := g.lookup(name)
	if e == nil {
		writeError(w, http.StatusNotFound, errCodeNotFound, "server %q not found", name)
		return
	}

	// Decode the body before anything slow.
	var (
		ct callToolBody
		rr readResourceBody
		gp getPromptBody
	)
	switch op {
	case "call_tool":
		if !decodeBody(w, r, &ct) {
			return
		}
		if ct.Name == "" {
			writeError(w, http.StatusBadRequest, errCodeBadRequest, `"name" is required: the name of the tool to call`)
			return
		}
	case "read_resource":
		if !decodeBody(w, r, &rr) {
			return
		}
		if rr.URI == "" {
			writeError(w, http.StatusBadRequest, errCodeBadRequest, `"uri" is required: the URI of the resource to read`)
			return
		}
	case "get_prompt":
		if !decodeBody(w, r, &gp) {
			return
		}
		if gp.Name == "" {
			writeError(w, http.StatusBadRequest, errCodeBadRequest, `"name" is required: the name of the prompt to get`)
			return
		}
	}

	ctx := r.Context()
	if t := e.callTimeout; t > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, t)
		defer cancel()
	}
	cs, err := e.rest.session(ctx)
	if err != nil {
		g.writeCallError(w, e, ctx, err)
		return
	}
	var res any
	switch op {
	case "tools":
		res, err = collect(cs.Tools(ctx, nil), func(v []*mcp.Tool) any { return map[string]any{"tools": v} })
	case "resources":
		res, err = collect(cs.Resources(ctx, nil), func(v []*mcp.Resource) any { return map[string]any{"resources": v} })
	case "prompts":
		res, err = collect(cs.Prompts(ctx, nil), func(v []*mcp.Prompt) any { return map[string]any{"prompts": v} })
	case "call_tool":
		res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: ct.Name, Arguments: ct.Arguments})
	case "read_resource":
		res, err = cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: rr.URI})
	case "get_prompt":
		res, err = cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: gp.Name, Arguments: gp.Arguments})
	}
	if err != nil {
		if errors.Is(err, mcp.ErrConnectionClosed) {
			e.rest.reset(cs)
		}
		g.writeCallError(w, e, ctx, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(res)
}

func collect[T any](seq func(func(T, error) bool), wrap func([]T) any) (any, error) {
	items := []T{}
	for v, err := range seq {
		if err != nil {
			return nil, err
		}
		items = append(items, v)
	}
	return wrap(items), nil
}

// decodeBody decodes a JSON object into v, writing a 400/413 and returning
// false if it cannot.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil && dec.More() {
		err = errors.New("data after the JSON object")
	}
	if err == nil {
		if _, rerr := dec.Token(); rerr != io.EOF {
			err = errors.New("data after the JSON object")
		}
	}
	if err == nil {
		return true
	}
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		writeError(w, http.StatusRequestEntityTooLarge, errCodeTooLarge, "request body exceeds %d bytes", mbe.Limit)
	case errors.Is(err, io.EOF):
		writeError(w, http.StatusBadRequest, errCodeBadRequest, "request body is empty: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		writeError(w, http.StatusBadRequest, errCodeBadRequest, "request body is not valid JSON: it ends in the middle of a value")
	case errors.As(err, &se):
		writeError(w, http.StatusBadRequest, errCodeBadRequest, "request body is not valid JSON: %v (at byte %d)", se, se.Offset)
	case errors.As(err, &te):
		if te.Field == "" {
			writeError(w, http.StatusBadRequest, errCodeBadRequest, "request body must be a JSON object, not %s", te.Value)
		} else {
			writeError(w, http.StatusBadRequest, errCodeBadRequest, "field %q must be %s, not %s", te.Field, jsonKind(te.Type.Kind().String()), te.Value)
		}
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		writeError(w, http.StatusBadRequest, errCodeBadRequest, "request body has an unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	default:
		writeError(w, http.StatusBadRequest, errCodeBadRequest, "request body: %v", err)
	}
	return false
}

func jsonKind(goKind string) string {
	switch goKind {
	case "map", "struct":
		return "an object"
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	}
	return "a " + goKind
}

// writeCallError maps an MCP call error to an HTTP status and JSON error.
func (g *Gateway) writeCallError(w http.ResponseWriter, e *entry, ctx context.Context, err error) {
	name := e.name
	var werr *jsonrpc.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(ctx.Err(), context.DeadlineExceeded):
		writeError(w, http.StatusGatewayTimeout, errCodeTimeout, "server %q did not answer within %v", name, e.callTimeout)
	case errors.As(err, &werr):
		switch werr.Code {
		case CodeTimeout:
			writeError(w, http.StatusGatewayTimeout, errCodeTimeout, "%s", werr.Message)
		case CodeServerUnavailable:
			writeError(w, http.StatusServiceUnavailable, errCodeUnavailable, "%s", werr.Message)
		case CodeServerExited, CodeTooLarge, CodeUnroutable:
			writeError(w, http.StatusBadGateway, errCodeBadGateway, "%s", werr.Message)
		case jsonrpc.CodeInvalidParams:
			writeError(w, http.StatusBadRequest, errCodeInvalidParams, "server %q: %s", name, werr.Message)
		case jsonrpc.CodeMethodNotFound:
			writeError(w, http.StatusNotImplemented, errCodeNotFound, "server %q does not support this: %s", name, werr.Message)
		default:
			writeError(w, http.StatusBadGateway, errCodeBadGateway, "server %q: %s", name, werr.Message)
		}
	case errors.Is(err, ErrStopped), errors.Is(err, ErrClosed):
		writeError(w, http.StatusServiceUnavailable, errCodeUnavailable, "%v", err)
	default:
		writeError(w, http.StatusBadGateway, errCodeBadGateway, "server %q: %v", name, err)
	}
}
