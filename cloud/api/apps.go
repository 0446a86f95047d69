package api

// Apps, runs, agents and platform events: the wire types, the services the
// handler needs for them, and their handlers.
//
// A deployed app is an MCP server (`mcp-agent serve` in the sandbox); the
// run and agent endpoints are conveniences over its MCP tools. Names in
// paths are in the caller's org:
//
//	/v1/apps/{name}                  an app
//	/v1/workflows/{app}.{workflow}   a workflow of an app
//	/v1/agents/{app}.{agent}         an agent of an app
//	/v1/runs/{app}.{run_id}          a run of an app's workflow
//
// App names never contain a dot, so the first dot splits the app from the
// rest (workflow names and run IDs may contain dots).

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"iter"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// DeployAppRequest is the "request" part of POST /v1/apps: the app's name
// and how it runs. The package (a gzipped tar of the app directory, see
// cloud/client.PackageApp) is the "package" part.
type DeployAppRequest struct {
	// Name is the app's name in the caller's org (as for servers).
	Name string `json:"name"`
	// Digest is the package's content digest as the client computed it
	// ("sha256:" and the hex SHA-256 of the uncompressed tar). When set, the
	// platform checks it.
	Digest string `json:"digest,omitempty"`
	// Env is plain environment of the app besides its secrets.
	Env map[string]string `json:"env,omitempty"`
	// EgressAllow lists the destinations the app may connect to (LLM APIs,
	// networked MCP servers); empty means no network.
	EgressAllow []string `json:"egress_allow,omitempty"`
	Limits      Limits   `json:"limits,omitzero"`
	// ReplayScript runs every agent of the app on this replay script (a path
	// in the package) instead of a real model: demos and tests, no API key.
	ReplayScript string `json:"replay_script,omitempty"`
	// Public makes the app's MCP endpoint reachable without an API key.
	Public bool `json:"public,omitempty"`
	// Stopped deploys without starting.
	Stopped bool `json:"stopped,omitempty"`
}

// App is a deployed app as the API reports it.
type App struct {
	ID       string  `json:"id"`
	Org      string  `json:"org"`
	Name     string  `json:"name"`
	FullName string  `json:"full_name"`
	Spec     AppSpec `json:"spec"`
	// Status is pending, starting, running, stopped or failed.
	Status        string `json:"status"`
	StatusMessage string `json:"status_message,omitempty"`
	DesiredState  string `json:"desired_state"`
	// Endpoint is the app's MCP endpoint (Streamable HTTP).
	Endpoint   string `json:"endpoint"`
	ConsoleURL string `json:"console_url"`
	// Version is the active version and Digest its package digest.
	Version   int            `json:"version"`
	Digest    string         `json:"digest"`
	Runtime   *RuntimeStatus `json:"runtime,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// AppSpec is how an app runs. Env values are redacted in responses;
// SecretEnv names the secrets injected at start.
type AppSpec struct {
	Kind         string            `json:"kind"` // "declarative"
	Env          map[string]string `json:"env,omitempty"`
	SecretEnv    []string          `json:"secret_env,omitempty"`
	EgressAllow  []string          `json:"egress_allow,omitempty"`
	Limits       Limits            `json:"limits,omitzero"`
	ReplayScript string            `json:"replay_script,omitempty"`
	Public       bool              `json:"public"`
}

// AppDeployResult is the answer of POST /v1/apps.
type AppDeployResult struct {
	App App `json:"app"`
	// Created is true when the app is new (201), false for a new version
	// of an existing app or an unchanged one (200).
	Created bool `json:"created"`
	// Unchanged is true when the package and spec equal the active
	// version's: nothing was done.
	Unchanged bool `json:"unchanged"`
	// Version is the app's active version after the deploy.
	Version int `json:"version"`
}

// AppList is the body of GET /v1/apps.
type AppList struct {
	Apps []App `json:"apps"`
}

// AppVersion is one deployed version of an app.
type AppVersion struct {
	Version   int       `json:"version"`
	Digest    string    `json:"digest"`
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"created_at"`
}

// AppVersionList is the body of GET /v1/apps/{name}/versions.
type AppVersionList struct {
	Versions []AppVersion `json:"versions"`
}

// RollbackRequest is the body of POST /v1/apps/{name}/rollback.
type RollbackRequest struct {
	Version int `json:"version"`
}

// RunWorkflowRequest is the body of POST /v1/workflows/{app}.{workflow}/run.
type RunWorkflowRequest struct {
	// Input is the workflow's input (its run_parameters), checked against
	// its schema.
	Input json.RawMessage `json:"input,omitempty"`
}

// Run is a workflow run of a deployed app.
type Run struct {
	// ID is "{app}.{run_id}", the run's name in /v1/runs/{id}.
	ID       string `json:"id"`
	App      string `json:"app"`
	RunID    string `json:"run_id"`
	Workflow string `json:"workflow"`
	// Status is scheduled, running, paused, completed, failed, cancelled or
	// terminated.
	Status string          `json:"status"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  string          `json:"error,omitempty"`
	// Waiting says what a paused run waits for: resume it with a payload
	// matching Schema.
	Waiting       *RunWait        `json:"waiting,omitempty"`
	StatusMessage string          `json:"status_message,omitempty"`
	Progress      json.RawMessage `json:"progress,omitempty"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
	EndedAt       time.Time       `json:"ended_at,omitzero"`
}

// Terminal reports whether the run has finished.
func (r Run) Terminal() bool {
	switch r.Status {
	case "completed", "failed", "cancelled", "terminated":
		return true
	}
	return false
}

// RunWait is what a paused run waits for.
type RunWait struct {
	Kind     string          `json:"kind"` // "input" or "signal"
	Signal   string          `json:"signal"`
	Prompt   string          `json:"prompt,omitempty"`
	Schema   json.RawMessage `json:"schema,omitempty"`
	Deadline time.Time       `json:"deadline,omitzero"`
}

// RunList is the body of GET /v1/runs.
type RunList struct {
	Runs []Run `json:"runs"`
}

// RunQuery filters GET /v1/runs.
type RunQuery struct {
	App      string   // only runs of this app; "" for every running app
	Workflow string   // only runs of this workflow
	Statuses []string // only runs in these statuses
	Limit    int      // at most this many, newest first (0: 100)
	Offset   int      // skip this many first (pagination)
}

// RunEvent is one entry of a run's history.
type RunEvent struct {
	ID      int64           `json:"id"`
	Time    time.Time       `json:"time"`
	Type    string          `json:"type"`
	Seq     int             `json:"seq,omitempty"`
	Name    string          `json:"name,omitempty"`
	Attempt int             `json:"attempt,omitempty"`
	Payload json.RawMessage `json:"payload,omitempty"`
	Error   string          `json:"error,omitempty"`
}

// RunHistory is the body of GET /v1/runs/{id}/history.
type RunHistory struct {
	Run    string     `json:"run"`
	Events []RunEvent `json:"events"`
}

// ResumeRequest is the body of POST /v1/runs/{id}/resume (optional: no
// body lifts a pause).
type ResumeRequest struct {
	// Payload is what the run waits for (see Run.Waiting.Schema).
	Payload json.RawMessage `json:"payload,omitempty"`
	// Signal carries the payload; "" means "resume".
	Signal string `json:"signal,omitempty"`
}

// AgentRunRequest is the body of POST /v1/agents/{app}.{agent}/run.
type AgentRunRequest struct {
	Message string `json:"message"`
}

// AgentRunControl is the body of POST /v1/agents/{app}.{agent}/pause,
// /resume and /stop: which run of the agent, and for resume what to send.
type AgentRunControl struct {
	// Run is the run's ID ("run-..." or "{app}.run-..."). Empty means the
	// agent's one run the operation applies to: for pause its one
	// scheduled or running run, for resume its one paused run, for stop its
	// one active (scheduled, running or paused) run. None is a 404, several
	// a 409, each naming the runs.
	Run string `json:"run,omitempty"`
	// Payload and Signal are as in ResumeRequest (resume only).
	Payload json.RawMessage `json:"payload,omitempty"`
	Signal  string          `json:"signal,omitempty"`
}

// AgentRunResult is the answer of an agent run. The run is durable: when
// the agent asks a human, Status is "paused", Waiting holds the question,
// and POST /v1/runs/{run}/resume answers it.
type AgentRunResult struct {
	Answer string `json:"answer,omitempty"`
	// Exchanges are the questions the agent asked and the answers.
	Exchanges []AgentExchange `json:"exchanges,omitempty"`
	// Usage is the run's token usage and cost, when the app reports them
	// (a completed run of an app whose agent workflow tracks usage).
	Usage *Usage `json:"usage,omitempty"`
	// Run is "{app}.{run_id}" of the agent's run.
	Run     string   `json:"run"`
	Status  string   `json:"status"`
	Waiting *RunWait `json:"waiting,omitempty"`
	Error   string   `json:"error,omitempty"`
}

// Usage is the token usage and cost of a run, as the app reports it (the
// JSON of the app's llm.UsageNode): a tree whose totals include the
// children's.
type Usage struct {
	// Name and Kind say what the node accounts for: "run", "workflow" or
	// "llm" (one agent's model calls).
	Name  string `json:"name,omitempty"`
	Kind  string `json:"kind,omitempty"`
	Calls int    `json:"calls"`
	// Tokens are the totals of the node and its children.
	Tokens Tokens `json:"usage"`
	Cost   Cost   `json:"cost"`
	// Models is the usage recorded directly on this node, by model.
	Models   map[string]Tokens `json:"models,omitempty"`
	Children []Usage           `json:"children,omitempty"`
}

// Tokens counts the tokens of model calls. InputTokens include the cache
// reads and writes; OutputTokens include the reasoning tokens.
type Tokens struct {
	InputTokens      int64 `json:"input_tokens"`
	OutputTokens     int64 `json:"output_tokens"`
	CacheReadTokens  int64 `json:"cache_read_tokens,omitempty"`
	CacheWriteTokens int64 `json:"cache_write_tokens,omitempty"`
	ReasoningTokens  int64 `json:"reasoning_tokens,omitempty"`
}

// Cost is a price in US dollars. When some model had no price, USD covers
// only the priced ones and UnknownModels names the others: an unknown cost
// is never reported as zero.
type Cost struct {
	USD           float64  `json:"usd"`
	UnknownModels []string `json:"unknown_models,omitempty"`
}

// AgentStreamEvent is one event of a streamed agent run (POST
// /v1/agents/{app}.{agent}/run with Accept: text/event-stream, or
// ?stream=1): the SSE event name is Type, the data this object as JSON.
type AgentStreamEvent struct {
	// Type is AgentStarted, AgentStatus, AgentHumanInput or AgentResult.
	Type string `json:"type"`
	// Run is "{app}.{run_id}" of the agent's run.
	Run    string `json:"run"`
	Status string `json:"status"`
	// Previous is the status before, on AgentStatus events.
	Previous string `json:"previous,omitempty"`
	// Waiting is the agent's question, on AgentHumanInput events: answer it
	// with POST /v1/runs/{run}/resume (or /v1/agents/{app}.{agent}/resume).
	Waiting *RunWait `json:"waiting,omitempty"`
	// Result is the run's outcome, on the AgentResult event.
	Result *AgentRunResult `json:"result,omitempty"`
}

// Types of AgentStreamEvent. A stream starts with AgentStarted and ends
// with AgentResult: the run completed (the answer and usage), failed, was
// cancelled, paused (for a human, after an AgentHumanInput event, or by a
// pause), or was still running when the request's wait passed.
const (
	AgentStarted    = "started"
	AgentStatus     = "status"
	AgentHumanInput = "human_input"
	AgentResult     = "result"
)

// AgentExchange is one question an agent asked a human and the answer.
type AgentExchange struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// AppService deploys and manages apps. A Service that also implements it
// serves /v1/apps; otherwise those endpoints answer 501.
type AppService interface {
	// DeployApp stores a new app, or a new version of an existing one,
	// from the package read from pkg, and (unless req.Stopped) starts it.
	DeployApp(ctx context.Context, org string, req DeployAppRequest, pkg io.Reader) (AppDeployResult, error)
	ListApps(ctx context.Context, org string) ([]App, error)
	GetApp(ctx context.Context, org, name string) (App, error)
	StartApp(ctx context.Context, org, name string) (App, error)
	StopApp(ctx context.Context, org, name string) (App, error)
	RestartApp(ctx context.Context, org, name string) (App, error)
	DeleteApp(ctx context.Context, org, name string) error
	AppVersions(ctx context.Context, org, name string) ([]AppVersion, error)
	// RollbackApp activates an earlier (or any stored) version.
	RollbackApp(ctx context.Context, org, name string, version int) (App, error)
	AppLogs(ctx context.Context, org, name string, q LogQuery) ([]LogLine, error)
	AppEvents(ctx context.Context, org, name string, q EventQuery) ([]Event, error)
}

// RunService runs the workflows and agents of deployed apps. A Service that
// also implements it serves /v1/workflows, /v1/agents and /v1/runs.
type RunService interface {
	// RunWorkflow starts a run of workflow in app.
	RunWorkflow(ctx context.Context, org, app, workflow string, input json.RawMessage) (Run, error)
	ListRuns(ctx context.Context, org string, q RunQuery) ([]Run, error)
	GetRun(ctx context.Context, org, app, runID string) (Run, error)
	RunHistory(ctx context.Context, org, app, runID string) ([]RunEvent, error)
	PauseRun(ctx context.Context, org, app, runID string) (Run, error)
	ResumeRun(ctx context.Context, org, app, runID string, req ResumeRequest) (Run, error)
	// StopRun cancels a run.
	StopRun(ctx context.Context, org, app, runID string) (Run, error)
	// RunAgent runs agent on a message (as its durable workflow) and waits
	// up to wait for the answer, or for the run to pause.
	RunAgent(ctx context.Context, org, app, agent string, req AgentRunRequest, wait time.Duration) (AgentRunResult, error)
	// StreamAgent runs agent on a message like RunAgent and yields the
	// run's events: AgentStarted first, AgentResult last (see
	// AgentStreamEvent). An error before the first event means the run did
	// not start.
	StreamAgent(ctx context.Context, org, app, agent string, req AgentRunRequest, wait time.Duration) iter.Seq2[AgentStreamEvent, error]
}

// DefaultAgentWait is how long POST /v1/agents/{app}.{agent}/run waits for
// the answer when the request does not say (?wait=).
const DefaultAgentWait = 5 * time.Minute

func notImplemented(what string) *Error {
	return Errorf(http.StatusNotImplemented, "not_implemented", "this platform does not serve %s", what)
}

func (h *Handler) appService(w http.ResponseWriter) (AppService, bool) {
	s, ok := h.svc.(AppService)
	if !ok {
		writeError(w, notImplemented("apps"))
	}
	return s, ok
}

func (h *Handler) runService(w http.ResponseWriter) (RunService, bool) {
	s, ok := h.svc.(RunService)
	if !ok {
		writeError(w, notImplemented("runs"))
	}
	return s, ok
}

// deployApp reads a multipart body: "request" (JSON) then "package".
func (h *Handler) deployApp(w http.ResponseWriter, r *http.Request, p *Principal) {
	svc, ok := h.appService(w)
	if !ok {
		return
	}
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		writeError(w, Errorf(http.StatusBadRequest, CodeBadRequest,
			`POST /v1/apps takes multipart/form-data with a "request" part (JSON) and a "package" part (the app directory as a gzipped tar): use mcp-agent deploy app, or client.DeployApp`))
		return
	}
	mr := multipart.NewReader(r.Body, params["boundary"])
	part, err := mr.NextPart()
	if err != nil || part.FormName() != "request" {
		writeError(w, multipartError(err, `the first part must be "request" (JSON)`))
		return
	}
	var req DeployAppRequest
	if aerr := decodeJSON(io.LimitReader(part, 1<<20), &req); aerr != nil {
		writeError(w, aerr)
		return
	}
	part, err = mr.NextPart()
	if err != nil || part.FormName() != "package" {
		writeError(w, multipartError(err, `the second part must be "package" (the gzipped tar)`))
		return
	}
	res, err := svc.DeployApp(r.Context(), p.Org, req, part)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	status := http.StatusOK
	if res.Created {
		status = http.StatusCreated
		w.Header().Set("Location", "/v1/apps/"+res.App.Name)
	}
	writeJSON(w, status, res)
}

func multipartError(err error, want string) *Error {
	var mbe *http.MaxBytesError
	if asMaxBytes(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	return Errorf(http.StatusBadRequest, CodeBadRequest, "malformed app upload: %s", want)
}

func asMaxBytes(err error, target **http.MaxBytesError) bool {
	for err != nil {
		if e, ok := err.(*http.MaxBytesError); ok {
			*target = e
			return true
		}
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return false
		}
		err = u.Unwrap()
	}
	return false
}

// tooLarge is the 413 of an app package over the limit.
func tooLarge(limit int64) *Error {
	return Errorf(http.StatusRequestEntityTooLarge, CodeTooLarge,
		"the app package exceeds the platform's limit of %s: list large files that the app does not need (data, build outputs) in .mcpagentignore", FormatBytes(limit))
}

// TooLarge is the error of an upload over limit bytes, for services that
// notice it while reading the package.
func TooLarge(limit int64) *Error { return tooLarge(limit) }

// FormatBytes formats a size in bytes as "32 MiB", "512 KiB" or "12 B".
func FormatBytes(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return strconv.FormatInt(n>>30, 10) + " GiB"
	case n >= 1<<20:
		return strconv.FormatFloat(float64(n)/(1<<20), 'f', -1, 64) + " MiB"
	case n >= 1<<10:
		return strconv.FormatFloat(float64(n)/(1<<10), 'f', 1, 64) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " B"
}

func (h *Handler) listApps(w http.ResponseWriter, r *http.Request, p *Principal) {
	svc, ok := h.appService(w)
	if !ok {
		return
	}
	list, err := svc.ListApps(r.Context(), p.Org)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	if list == nil {
		list = []App{}
	}
	writeJSON(w, http.StatusOK, AppList{Apps: list})
}

// appOp serves an operation on /v1/apps/{name} that answers the app.
func (h *Handler) appOp(w http.ResponseWriter, r *http.Request, p *Principal, op func(AppService, context.Context, string, string) (App, error)) {
	svc, ok := h.appService(w)
	if !ok {
		return
	}
	a, err := op(svc, r.Context(), p.Org, r.PathValue("name"))
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (h *Handler) getApp(w http.ResponseWriter, r *http.Request, p *Principal) {
	h.appOp(w, r, p, AppService.GetApp)
}

func (h *Handler) startApp(w http.ResponseWriter, r *http.Request, p *Principal) {
	h.appOp(w, r, p, AppService.StartApp)
}

func (h *Handler) stopApp(w http.ResponseWriter, r *http.Request, p *Principal) {
	h.appOp(w, r, p, AppService.StopApp)
}

func (h *Handler) restartApp(w http.ResponseWriter, r *http.Request, p *Principal) {
	h.appOp(w, r, p, AppService.RestartApp)
}

func (h *Handler) deleteApp(w http.ResponseWriter, r *http.Request, p *Principal) {
	svc, ok := h.appService(w)
	if !ok {
		return
	}
	if err := svc.DeleteApp(r.Context(), p.Org, r.PathValue("name")); err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (h *Handler) appVersions(w http.ResponseWriter, r *http.Request, p *Principal) {
	svc, ok := h.appService(w)
	if !ok {
		return
	}
	vs, err := svc.AppVersions(r.Context(), p.Org, r.PathValue("name"))
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	if vs == nil {
		vs = []AppVersion{}
	}
	writeJSON(w, http.StatusOK, AppVersionList{Versions: vs})
}

func (h *Handler) rollbackApp(w http.ResponseWriter, r *http.Request, p *Principal) {
	svc, ok := h.appService(w)
	if !ok {
		return
	}
	var req RollbackRequest
	if err := decodeJSON(r.Body, &req); err != nil {
		writeError(w, err)
		return
	}
	if req.Version <= 0 {
		writeError(w, Invalid(`"version" is required: a version number from GET /v1/apps/{name}/versions`))
		return
	}
	a, err := svc.RollbackApp(r.Context(), p.Org, r.PathValue("name"), req.Version)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, a)
}

func (h *Handler) appLogs(w http.ResponseWriter, r *http.Request, p *Principal) {
	svc, ok := h.appService(w)
	if !ok {
		return
	}
	h.serveLogs(w, r, p.Org, r.PathValue("name"), svc.AppLogs)
}

func (h *Handler) appEvents(w http.ResponseWriter, r *http.Request, p *Principal) {
	svc, ok := h.appService(w)
	if !ok {
		return
	}
	name := r.PathValue("name")
	q, aerr := eventQuery(r)
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	h.serveEvents(w, r, p.Org, name, q, svc.AppEvents)
}

// SplitName splits "{app}.{rest}" (a workflow, agent or run of an app) at
// the first dot.
func SplitName(s, what string) (app, rest string, err error) {
	app, rest, ok := strings.Cut(s, ".")
	if !ok || app == "" || rest == "" {
		return "", "", Invalid("%q is not {app}.{%s}: name the app and the %s, as in myapp.%s", s, what, what, map[string]string{"workflow": "approve", "agent": "helper", "run": "run-1f2e"}[what])
	}
	return app, rest, nil
}

func (h *Handler) runWorkflow(w http.ResponseWriter, r *http.Request, p *Principal) {
	svc, ok := h.runService(w)
	if !ok {
		return
	}
	app, wf, err := SplitName(r.PathValue("name"), "workflow")
	if err != nil {
		writeError(w, err)
		return
	}
	var req RunWorkflowRequest
	if aerr := decodeOptionalJSON(r.Body, &req); aerr != nil {
		writeError(w, aerr)
		return
	}
	run, err := svc.RunWorkflow(r.Context(), p.Org, app, wf, req.Input)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	w.Header().Set("Location", "/v1/runs/"+run.ID)
	writeJSON(w, http.StatusAccepted, run)
}

func (h *Handler) listRuns(w http.ResponseWriter, r *http.Request, p *Principal) {
	svc, ok := h.runService(w)
	if !ok {
		return
	}
	vals := r.URL.Query()
	q := RunQuery{App: vals.Get("app"), Workflow: vals.Get("workflow")}
	for _, s := range vals["status"] {
		for _, st := range strings.Split(s, ",") {
			if st = strings.TrimSpace(st); st != "" {
				q.Statuses = append(q.Statuses, st)
			}
		}
	}
	limit, aerr := queryInt(r, "limit")
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	offset, aerr := queryInt(r, "offset")
	if aerr != nil {
		writeError(w, aerr)
		return
	}
	q.Limit, q.Offset = int(min(limit, maxListLimit)), int(min(offset, maxListLimit))
	runs, err := svc.ListRuns(r.Context(), p.Org, q)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	if runs == nil {
		runs = []Run{}
	}
	writeJSON(w, http.StatusOK, RunList{Runs: runs})
}

// runOp serves an operation on /v1/runs/{name}.
func (h *Handler) runOp(w http.ResponseWriter, r *http.Request, p *Principal, op func(RunService, string, string) (any, error)) {
	svc, ok := h.runService(w)
	if !ok {
		return
	}
	app, runID, err := SplitName(r.PathValue("name"), "run")
	if err != nil {
		writeError(w, err)
		return
	}
	v, err := op(svc, app, runID)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (h *Handler) getRun(w http.ResponseWriter, r *http.Request, p *Principal) {
	h.runOp(w, r, p, func(s RunService, app, id string) (any, error) { return s.GetRun(r.Context(), p.Org, app, id) })
}

func (h *Handler) runHistory(w http.ResponseWriter, r *http.Request, p *Principal) {
	h.runOp(w, r, p, func(s RunService, app, id string) (any, error) {
		evs, err := s.RunHistory(r.Context(), p.Org, app, id)
		if evs == nil {
			evs = []RunEvent{}
		}
		return RunHistory{Run: app + "." + id, Events: evs}, err
	})
}

func (h *Handler) pauseRun(w http.ResponseWriter, r *http.Request, p *Principal) {
	h.runOp(w, r, p, func(s RunService, app, id string) (any, error) { return s.PauseRun(r.Context(), p.Org, app, id) })
}

func (h *Handler) stopRun(w http.ResponseWriter, r *http.Request, p *Principal) {
	h.runOp(w, r, p, func(s RunService, app, id string) (any, error) { return s.StopRun(r.Context(), p.Org, app, id) })
}

func (h *Handler) resumeRun(w http.ResponseWriter, r *http.Request, p *Principal) {
	var req ResumeRequest
	if aerr := decodeOptionalJSON(r.Body, &req); aerr != nil {
		writeError(w, aerr)
		return
	}
	h.runOp(w, r, p, func(s RunService, app, id string) (any, error) {
		return s.ResumeRun(r.Context(), p.Org, app, id, req)
	})
}

func (h *Handler) runAgent(w http.ResponseWriter, r *http.Request, p *Principal) {
	svc, ok := h.runService(w)
	if !ok {
		return
	}
	app, agent, err := SplitName(r.PathValue("name"), "agent")
	if err != nil {
		writeError(w, err)
		return
	}
	wait := DefaultAgentWait
	if s := r.URL.Query().Get("wait"); s != "" {
		d, perr := time.ParseDuration(s)
		if perr != nil || d < 0 {
			writeError(w, Errorf(http.StatusBadRequest, CodeBadRequest, "query parameter wait=%q: want a duration such as 30s or 5m (0 to return at once)", s))
			return
		}
		wait = d
	}
	var req AgentRunRequest
	if aerr := decodeJSON(r.Body, &req); aerr != nil {
		writeError(w, aerr)
		return
	}
	if strings.TrimSpace(req.Message) == "" {
		writeError(w, Invalid(`"message" is required: what the agent should do`))
		return
	}
	if wantsAgentStream(r) {
		h.streamAgent(w, r, svc.StreamAgent(r.Context(), p.Org, app, agent, req, wait))
		return
	}
	res, err := svc.RunAgent(r.Context(), p.Org, app, agent, req, wait)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	status := http.StatusOK
	if res.Status != "completed" {
		status = http.StatusAccepted // paused for a human, or still running
	}
	writeJSON(w, status, res)
}

// decodeOptionalJSON is decodeJSON for bodies that may be empty.
func decodeOptionalJSON(body io.Reader, v any) *Error {
	if body == nil {
		return nil
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return decodeJSON(io.MultiReader(bytes.NewReader(b), errReader{err}), v)
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	return decodeJSON(bytes.NewReader(b), v)
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// wantsAgentStream reports whether an agent run asks for its events as
// SSE: ?stream=1 (or true) or an Accept header of text/event-stream.
func wantsAgentStream(r *http.Request) bool {
	switch strings.ToLower(r.URL.Query().Get("stream")) {
	case "1", "true", "yes":
		return true
	}
	return strings.Contains(r.Header.Get("Accept"), "text/event-stream")
}

// streamAgent writes an agent run's events as SSE (event IDs count from 1),
// with keep-alive comments while the run is quiet. An error before the
// first event is a plain JSON error response; a later one ends the stream
// with an "error" event.
func (h *Handler) streamAgent(w http.ResponseWriter, r *http.Request, events iter.Seq2[AgentStreamEvent, error]) {
	type item struct {
		ev  AgentStreamEvent
		err error
	}
	ctx, cancel := context.WithCancel(r.Context())
	ch := make(chan item)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range events {
			select {
			case ch <- item{ev, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
		close(ch)
	}()
	defer func() {
		cancel()
		<-done
	}()
	var sse *sseStream
	var id int64
	heartbeat := time.NewTicker(h.opts.Heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-heartbeat.C:
			if sse != nil && (sse.keepAlive() != nil || sse.flush() != nil) {
				return
			}
		case it, ok := <-ch:
			if !ok {
				return
			}
			if it.err != nil {
				if sse == nil {
					h.writeServiceError(w, r, it.err)
				} else if ctx.Err() == nil {
					sse.fail(it.err)
				}
				return
			}
			if sse == nil {
				sse = startSSE(w)
			}
			id++
			if sse.event(id, it.ev.Type, it.ev) != nil || sse.flush() != nil {
				return
			}
		}
	}
}

// agentOps are the run operations /v1/agents/{app}.{agent}/{op} alias: the
// statuses of the agent's runs an operation without a run picks from, and
// what the operation is called in messages.
var agentOps = map[string]struct {
	statuses []string
	what     string
}{
	"pause":  {[]string{"scheduled", "running"}, "scheduled or running"},
	"resume": {[]string{"paused"}, "paused"},
	"stop":   {[]string{"scheduled", "running", "paused"}, "active"},
}

// agentRunOp serves POST /v1/agents/{app}.{agent}/{pause,resume,stop}: the
// /v1/runs/{id}/{op} of a run that must be the agent's, named in the body
// or found as the agent's one run the operation applies to.
func (h *Handler) agentRunOp(w http.ResponseWriter, r *http.Request, p *Principal, op string) {
	svc, ok := h.runService(w)
	if !ok {
		return
	}
	app, agent, err := SplitName(r.PathValue("name"), "agent")
	if err != nil {
		writeError(w, err)
		return
	}
	var req AgentRunControl
	if aerr := decodeOptionalJSON(r.Body, &req); aerr != nil {
		writeError(w, aerr)
		return
	}
	if op != "resume" && (len(req.Payload) > 0 || req.Signal != "") {
		writeError(w, Invalid(`"payload" and "signal" are for resume, not %s`, op))
		return
	}
	ctx := r.Context()
	runID, err := h.agentRun(ctx, svc, p.Org, app, agent, op, req.Run)
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	var run Run
	switch op {
	case "pause":
		run, err = svc.PauseRun(ctx, p.Org, app, runID)
	case "resume":
		run, err = svc.ResumeRun(ctx, p.Org, app, runID, ResumeRequest{Payload: req.Payload, Signal: req.Signal})
	default:
		run, err = svc.StopRun(ctx, p.Org, app, runID)
	}
	if err != nil {
		h.writeServiceError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, run)
}

// agentRun returns the ID (in app) of the run of agent that op acts on:
// the named one, checked to be the agent's, or the agent's only run in a
// status op applies to.
func (h *Handler) agentRun(ctx context.Context, svc RunService, org, app, agent, op, named string) (string, error) {
	name := app + "." + agent
	if named != "" {
		id := strings.TrimPrefix(named, app+".")
		run, err := svc.GetRun(ctx, org, app, id)
		if err != nil {
			return "", err
		}
		if run.Workflow != agent {
			return "", NotFound("run %s is not a run of agent %s (it runs workflow %q): use POST /v1/runs/%s/%s", run.ID, name, run.Workflow, run.ID, op)
		}
		return id, nil
	}
	o := agentOps[op]
	runs, err := svc.ListRuns(ctx, org, RunQuery{App: app, Workflow: agent, Statuses: o.statuses, Limit: maxAgentRunsListed + 1})
	if err != nil {
		return "", err
	}
	ids := make([]string, 0, len(runs))
	for _, run := range runs {
		ids = append(ids, run.ID)
	}
	switch {
	case len(ids) == 1:
		return runs[0].RunID, nil
	case len(ids) == 0:
		return "", NotFound("agent %s has no %s run to %s: start one with POST /v1/agents/%s/run", name, o.what, op, name)
	}
	count := strconv.Itoa(len(ids))
	if len(ids) > maxAgentRunsListed {
		count, ids = "more than "+strconv.Itoa(maxAgentRunsListed), append(ids[:maxAgentRunsListed], "...")
	}
	return "", Conflict("agent %s has %s %s runs: %s; name one in the body, {\"run\": \"%s\"}", name, count, o.what, strings.Join(ids, ", "), runs[0].ID)
}

// maxAgentRunsListed bounds the run IDs an ambiguous agent operation names.
const maxAgentRunsListed = 20

func (h *Handler) pauseAgent(w http.ResponseWriter, r *http.Request, p *Principal) {
	h.agentRunOp(w, r, p, "pause")
}

func (h *Handler) resumeAgent(w http.ResponseWriter, r *http.Request, p *Principal) {
	h.agentRunOp(w, r, p, "resume")
}

func (h *Handler) stopAgent(w http.ResponseWriter, r *http.Request, p *Principal) {
	h.agentRunOp(w, r, p, "stop")
}
