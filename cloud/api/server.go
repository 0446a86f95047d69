package api

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Principal is who a request acts for: the org of its API key.
type Principal struct {
	Org   string
	KeyID string
}

// Service is what the API serves: the platform's operations, scoped to an
// org. Errors that are the caller's fault are *Error values (their status
// and message reach the client); any other error is a 500 whose detail
// stays in the platform's log.
type Service interface {
	// Authenticate returns the principal of an API key, or an error
	// wrapping ErrUnauthorized.
	Authenticate(ctx context.Context, key string) (Principal, error)

	CreateServer(ctx context.Context, org string, req CreateServerRequest) (Server, error)
	ListServers(ctx context.Context, org string) ([]Server, error)
	GetServer(ctx context.Context, org, name string) (Server, error)
	StartServer(ctx context.Context, org, name string) (Server, error)
	StopServer(ctx context.Context, org, name string) (Server, error)
	RestartServer(ctx context.Context, org, name string) (Server, error)
	DeleteServer(ctx context.Context, org, name string) error

	Logs(ctx context.Context, org, name string, q LogQuery) ([]LogLine, error)
	Events(ctx context.Context, org, name string, q EventQuery) ([]Event, error)
	// Changed returns a channel closed at the next change (log lines,
	// events, status) of the server, for followers: take it, read, then
	// wait on it.
	Changed(ctx context.Context, org, name string) (<-chan struct{}, error)

	// ResolveGateway authorizes a request to the MCP or REST endpoint of
	// the server named name ("{name}" in the caller's org, or
	// "{org}.{name}") and returns the name the gateway serves it under.
	// p is nil for a request without a key, which only public servers
	// accept.
	ResolveGateway(ctx context.Context, p *Principal, name string) (string, error)
}

// Options configures a Handler. The zero value is usable.
type Options struct {
	// Logger receives one line per request (never a token). Nil discards.
	Logger *slog.Logger
	// MaxBodyBytes bounds request bodies of the API's own endpoints (the
	// gateway has its own limit). 0 means 1 MiB.
	MaxBodyBytes int64
	// AllowedHosts are Host header values accepted besides loopback names,
	// as in gateway.Options.AllowedHosts ("*" accepts all).
	AllowedHosts []string
	// Heartbeat is the interval of SSE keep-alive comments. 0 means 15s.
	Heartbeat time.Duration
	// Version is reported by /healthz.
	Version string
	// MaxUploadBytes bounds an app package uploaded to POST /v1/apps. 0
	// means DefaultMaxUploadBytes.
	MaxUploadBytes int64
}

// DefaultMaxUploadBytes is the default limit of an app package upload.
const DefaultMaxUploadBytes = 32 << 20

// Handler is the platform's HTTP API. It serves:
//
//	GET    /healthz                          public
//	GET    /v1/openapi.json                  public: the OpenAPI 3.1 description
//	POST   /v1/servers                       create (and start) a server
//	GET    /v1/servers                       list
//	GET    /v1/servers/{name}                one server, with its live runtime state
//	DELETE /v1/servers/{name}
//	POST   /v1/servers/{name}/start|stop|restart
//	GET    /v1/servers/{name}/logs           ?since=10m|RFC3339&limit=N&follow=true (SSE)
//	GET    /v1/servers/{name}/events         ?after=ID&limit=N&follow=true (SSE)
//	       /v1/servers/{name}/{tools,call_tool,resources,read_resource,prompts,get_prompt}
//	       /servers/{name}/mcp               MCP (Streamable HTTP), through the gateway
//	GET|POST /v1/apps                        list; deploy (multipart: request + package)
//	GET|DELETE /v1/apps/{name}, POST /v1/apps/{name}/start|stop|restart|rollback
//	GET    /v1/apps/{name}/versions|logs|events
//	POST   /v1/workflows/{app}.{workflow}/run
//	GET    /v1/runs, /v1/runs/{app}.{run_id}, /v1/runs/{app}.{run_id}/history
//	POST   /v1/runs/{app}.{run_id}/pause|resume|stop
//	POST   /v1/agents/{app}.{agent}/run      ?stream=1 (or Accept: text/event-stream) streams its events
//	POST   /v1/agents/{app}.{agent}/pause|resume|stop   {"run": ID}: a run of the agent (/v1/runs/{id}/...)
//	GET    /v1/events                        the org's events; follow=true streams (SSE)
//	GET    /v1/apps/{name}/secrets, PUT|DELETE /v1/apps/{name}/secrets/{key}
//
// The app, run and agent endpoints need a Service that also implements
// AppService and RunService (see apps.go); otherwise they answer 501.
//
// Every endpoint but the first two requires "Authorization: Bearer KEY";
// the MCP endpoint and REST conveniences of a public server accept requests
// without a key.
type Handler struct {
	svc     Service
	gateway http.Handler
	opts    Options
	logger  *slog.Logger
	mux     *http.ServeMux
}

// New returns the API handler over svc; gateway serves the MCP and REST
// endpoints of deployments (under the names ResolveGateway returns).
func New(svc Service, gateway http.Handler, opts *Options) *Handler {
	h := &Handler{svc: svc, gateway: gateway}
	if opts != nil {
		h.opts = *opts
	}
	if h.opts.MaxBodyBytes <= 0 {
		h.opts.MaxBodyBytes = 1 << 20
	}
	if h.opts.MaxUploadBytes <= 0 {
		h.opts.MaxUploadBytes = DefaultMaxUploadBytes
	}
	if h.opts.Heartbeat <= 0 {
		h.opts.Heartbeat = 15 * time.Second
	}
	h.logger = h.opts.Logger
	if h.logger == nil {
		h.logger = slog.New(slog.DiscardHandler)
	}
	h.mux = http.NewServeMux()
	for _, rt := range routes {
		h.mux.HandleFunc(rt.pattern, h.route(rt))
	}
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, NotFound("no such endpoint %s %s: see /v1/openapi.json", r.Method, r.URL.Path))
	})
	return h
}

// route is one path of the API with its handlers by method.
type route struct {
	pattern string
	public  bool
	upload  bool // the body is an upload bounded by Options.MaxUploadBytes
	methods map[string]func(h *Handler, w http.ResponseWriter, r *http.Request, p *Principal)
}

// routes are the API's endpoints; TestOpenAPIMatchesRoutes checks them
// against openapi.json.
var routes = []route{
	{pattern: "/healthz", public: true, methods: methods{"GET": (*Handler).health}},
	{pattern: "/v1/openapi.json", public: true, methods: methods{"GET": (*Handler).openAPI}},
	{pattern: "/v1/servers", methods: methods{"GET": (*Handler).listServers, "POST": (*Handler).createServer}},
	{pattern: "/v1/servers/{name}", methods: methods{"GET": (*Handler).getServer, "DELETE": (*Handler).deleteServer}},
	{pattern: "/v1/servers/{name}/start", methods: methods{"POST": (*Handler).startServer}},
	{pattern: "/v1/servers/{name}/stop", methods: methods{"POST": (*Handler).stopServer}},
	{pattern: "/v1/servers/{name}/restart", methods: methods{"POST": (*Handler).restartServer}},
	{pattern: "/v1/servers/{name}/logs", methods: methods{"GET": (*Handler).logs}},
	{pattern: "/v1/servers/{name}/events", methods: methods{"GET": (*Handler).events}},
	// Apps, runs and agents (apps.go).
	{pattern: "/v1/apps", upload: true, methods: methods{"GET": (*Handler).listApps, "POST": (*Handler).deployApp}},
	{pattern: "/v1/apps/{name}", methods: methods{"GET": (*Handler).getApp, "DELETE": (*Handler).deleteApp}},
	{pattern: "/v1/apps/{name}/start", methods: methods{"POST": (*Handler).startApp}},
	{pattern: "/v1/apps/{name}/stop", methods: methods{"POST": (*Handler).stopApp}},
	{pattern: "/v1/apps/{name}/restart", methods: methods{"POST": (*Handler).restartApp}},
	{pattern: "/v1/apps/{name}/versions", methods: methods{"GET": (*Handler).appVersions}},
	{pattern: "/v1/apps/{name}/rollback", methods: methods{"POST": (*Handler).rollbackApp}},
	{pattern: "/v1/apps/{name}/logs", methods: methods{"GET": (*Handler).appLogs}},
	{pattern: "/v1/apps/{name}/events", methods: methods{"GET": (*Handler).appEvents}},
	{pattern: "/v1/workflows/{name}/run", methods: methods{"POST": (*Handler).runWorkflow}},
	{pattern: "/v1/runs", methods: methods{"GET": (*Handler).listRuns}},
	{pattern: "/v1/runs/{name}", methods: methods{"GET": (*Handler).getRun}},
	{pattern: "/v1/runs/{name}/history", methods: methods{"GET": (*Handler).runHistory}},
	{pattern: "/v1/runs/{name}/pause", methods: methods{"POST": (*Handler).pauseRun}},
	{pattern: "/v1/runs/{name}/resume", methods: methods{"POST": (*Handler).resumeRun}},
	{pattern: "/v1/runs/{name}/stop", methods: methods{"POST": (*Handler).stopRun}},
	{pattern: "/v1/agents/{name}/run", methods: methods{"POST": (*Handler).runAgent}},
	{pattern: "/v1/agents/{name}/pause", methods: methods{"POST": (*Handler).pauseAgent}},
	{pattern: "/v1/agents/{name}/resume", methods: methods{"POST": (*Handler).resumeAgent}},
	{pattern: "/v1/agents/{name}/stop", methods: methods{"POST": (*Handler).stopAgent}},
	{pattern: "/v1/events", methods: methods{"GET": (*Handler).platformEvents}},
	{pattern: "/v1/apps/{name}/secrets", methods: methods{"GET": (*Handler).listSecrets}},
	{pattern: "/v1/apps/{name}/secrets/{key}", methods: methods{"PUT": (*Handler).setSecret, "DELETE": (*Handler).deleteSecret}},
}

type methods = map[string]func(h *Handler, w http.ResponseWriter, r *http.Request, p *Principal)

func (h *Handler) route(rt route) http.HandlerFunc {
	allow := make([]string, 0, len(rt.methods))
	for m := range rt.methods {
		allow = append(allow, m)
	}
	return func(w http.ResponseWriter, r *http.Request) {
		f, ok := rt.methods[r.Method]
		if !ok {
			w.Header().Set("Allow", strings.Join(allow, ", "))
			writeError(w, Errorf(http.StatusMethodNotAllowed, CodeMethod, "%s %s is not supported: use %s", r.Method, r.URL.Path, strings.Join(allow, " or ")))
			return
		}
		var p *Principal
		if !rt.public {
			var err error
			if p, err = h.authenticate(r); err != nil {
				writeError(w, err)
				return
			}
		}
		if r.Body != nil {
			limit := h.opts.MaxBodyBytes
			if rt.upload && r.Method == http.MethodPost {
				limit = h.opts.MaxUploadBytes
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
		}
		f(h, w, r, p)
	}
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	sw := &statusWriter{ResponseWriter: w}
	defer func() {
		h.logger.Debug("api: request", "method", r.Method, "path", r.URL.Path, "status", sw.status, "duration", time.Since(start))
	}()
	if !h.hostAllowed(r.Host) {
		writeError(sw, Errorf(http.StatusForbidden, CodeForbidden, "host %q is not allowed: add it to the platform's allowed hosts (DNS-rebinding protection)", r.Host))
		return
	}
	if name, ok := gatewayName(r.URL.Path); ok {
		h.serveGateway(sw, r, name)
		return
	}
	h.mux.ServeHTTP(sw, r)
}

// gatewayName reports whether path is an endpoint the gateway serves
// (/servers/{name}/mcp or a REST convenience) and returns {name}.
func gatewayName(path string) (string, bool) {
	if rest, ok := strings.CutPrefix(path, "/servers/"); ok {
		name, tail, ok := strings.Cut(rest, "/")
		return name, ok && tail == "mcp" && name != ""
	}
	if rest, ok := strings.CutPrefix(path, "/v1/servers/"); ok {
		name, op, ok := strings.Cut(rest, "/")
		if !ok || name == "" {
			return "", false
		}
		switch op {
		case "tools", "call_tool", "resources", "read_resource", "prompts", "get_prompt":
			return name, true
		}
	}
	return "", false
}

// serveGateway authorizes a request to a deployment and hands it to the
// gateway under the deployment's platform name.
func (h *Handler) serveGateway(w http.ResponseWriter, r *http.Request, name string) {
	var p *Principal
	if r.Header.Get("Authorization") != "" {
		var err error
		if p, err = h.authenticate(r); err != nil {
			writeError(w, err)
			return
		}
	}
	full, err := h.svc.ResolveGateway(r.Context(), p, name)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	if full != name {
		r2 := new(http.Request)
		*r2 = *r
		u := *r.URL
		u.Path = strings.Replace(u.Path, "/"+name+"/", "/"+full+"/", 1)
		u.RawPath = ""
		r2.URL = &u
		r = r2
	}
	// The gateway's upstream never needs the platform key.
	r.Header.Del("Authorization")
	h.gateway.ServeHTTP(w, r)
}

// authenticate checks the bearer API key.
func (h *Handler) authenticate(r *http.Request) (*Principal, error) {
	auth := r.Header.Get("Authorization")
	scheme, key, ok := strings.Cut(auth, " ")
	if auth == "" {
		return nil, unauthorized("missing API key: send the header \"Authorization: Bearer KEY\" (the admin key is in the platform's data directory, admin.key)")
	}
	if !ok || subtle.ConstantTimeCompare([]byte(strings.ToLower(scheme)), []byte("bearer")) != 1 || strings.TrimSpace(key) == "" {
		return nil, unauthorized("malformed Authorization header: want \"Bearer KEY\"")
	}
	p, err := h.svc.Authenticate(r.Context(), strings.TrimSpace(key))
	if err != nil {
		if errors.Is(err, ErrUnauthorized) {
			return nil, unauthorized("invalid API key: it is unknown or revoked")
		}
		h.logger.Error("api: authenticate", "err", err)
		return nil, Unavailable("cannot check the API key now: try again")
	}
	return &p, nil
}

func unauthorized(msg string) *Error {
	return &Error{Status: http.StatusUnauthorized, Code: CodeUnauthorized, Message: msg}
}

func (h *Handler) health(w http.ResponseWriter, _ *http.Request, _ *Principal) {
	writeJSON(w, http.StatusOK, Health{Status: "ok", Version: h.opts.Version})
}

func (h *Handler) openAPI(w http.ResponseWriter, _ *http.Request, _ *Principal) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(openAPIDoc)
}

func (h *Handler) listServers(w http.ResponseWriter, r *http.Request, p *Principal) {
	list, err := h.svc.ListServers(r.Context(), p.Org)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	if list == nil {
		list = []Server{}
	}
	writeJSON(w, http.StatusOK, ServerList{Servers: list})
}

func (h *Handler) createServer(w http.ResponseWriter, r *http.Request, p *Principal) {
	var req CreateServerRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	s, err := h.svc.CreateServer(r.Context(), p.Org, req)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/servers/"+s.Name)
	writeJSON(w, http.StatusCreated, s)
}

func (h *Handler) getServer(w http.ResponseWriter, r *http.Request, p *Principal) {
	h.serverOp(w, r, p, h.svc.GetServer)
}

func (h *Handler) startServer(w http.ResponseWriter, r *http.Request, p *Principal) {
	h.serverOp(w, r, p, h.svc.StartServer)
}

func (h *Handler) stopServer(w http.ResponseWriter, r *http.Request, p *Principal) {
	h.serverOp(w, r, p, h.svc.StopServer)
}

func (h *Handler) restartServer(w http.ResponseWriter, r *http.Request, p *Principal) {
	h.serverOp(w, r, p, h.svc.RestartServer)
}

func (h *Handler) serverOp(w http.ResponseWriter, r *http.Request, p *Principal, op func(context.Context, string, string) (Server, error)) {
	s, err := op(r.Context(), p.Org, r.PathValue("name"))
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

func (h *Handler) deleteServer(w http.ResponseWriter, r *http.Request, p *Principal) {
	if err := h.svc.DeleteServer(r.Context(), p.Org, r.PathValue("name")); err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// writeServiceError writes err, logging it when it is not the caller's
// fault.
func (h *Handler) writeServiceError(w http.ResponseWriter, r *http.Request, err error) {
	e, ok := asError(err)
	if !ok {
		if r.Context().Err() != nil {
			return // the client left
		}
		h.logger.Error("api: internal error", "method", r.Method, "path", r.URL.Path, "err", err)
	}
	writeError(w, e)
}

// decodeJSON decodes one JSON object, refusing unknown fields and trailing
// data, with errors that say what is wrong.
func decodeJSON(body io.Reader, v any) *Error {
	if body == nil {
		return Errorf(http.StatusBadRequest, CodeBadRequest, "request body is empty: send a JSON object")
	}
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("data after the JSON object")
		}
	}
	if err == nil {
		return nil
	}
	var (
		mbe *http.MaxBytesError
		se  *json.SyntaxError
		te  *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe):
		return Errorf(http.StatusRequestEntityTooLarge, CodeTooLarge, "request body exceeds %d bytes", mbe.Limit)
	case errors.Is(err, io.EOF):
		return Errorf(http.StatusBadRequest, CodeBadRequest, "request body is empty: send a JSON object")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return Errorf(http.StatusBadRequest, CodeBadRequest, "request body is not valid JSON: it ends in the middle of a value")
	case errors.As(err, &se):
		return Errorf(http.StatusBadRequest, CodeBadRequest, "request body is not valid JSON: %v (at byte %d)", se, se.Offset)
	case errors.As(err, &te):
		if te.Field == "" {
			return Errorf(http.StatusBadRequest, CodeBadRequest, "request body must be a JSON object, not %s", te.Value)
		}
		return Errorf(http.StatusBadRequest, CodeBadRequest, "field %q must be %s, not %s", te.Field, te.Type.Kind().String(), te.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return Errorf(http.StatusBadRequest, CodeBadRequest, "request body has an unknown field %s", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return Errorf(http.StatusBadRequest, CodeBadRequest, "request body: %v", err)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	e, _ := asError(err)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	if e.Status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="mcp-agent"`)
	}
	writeJSON(w, e.Status, ErrorBody{Error: e})
}

// hostAllowed is the Host check of DNS-rebinding protection.
func (h *Handler) hostAllowed(host string) bool {
	name := host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		name = hh
	}
	name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	if strings.EqualFold(name, "localhost") || strings.HasSuffix(strings.ToLower(name), ".localhost") {
		return true
	}
	if ip := net.ParseIP(name); ip != nil && ip.IsLoopback() {
		return true
	}
	for _, a := range h.opts.AllowedHosts {
		switch {
		case a == "*":
			return true
		case strings.HasPrefix(a, "."):
			if strings.HasSuffix(strings.ToLower(name), strings.ToLower(a)) {
				return true
			}
		case strings.EqualFold(a, host), strings.EqualFold(a, name):
			return true
		}
	}
	return false
}

// statusWriter records the status for the request log.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() { _ = http.NewResponseController(w.ResponseWriter).Flush() }

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// queryInt parses an optional non-negative integer query parameter.
func queryInt(r *http.Request, key string) (int64, *Error) {
	v := r.URL.Query().Get(key)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, Errorf(http.StatusBadRequest, CodeBadRequest, "query parameter %s=%q: want a non-negative integer", key, v)
	}
	return n, nil
}
