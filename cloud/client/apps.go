package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"mime/multipart"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
)

// rawBody is a request body sent as is (not JSON-encoded).
type rawBody struct {
	r           io.Reader
	contentType string
}

// DeployApp uploads a packaged app (POST /v1/apps): a new app, or a new
// version of an existing one (unchanged packages are a no-op: see
// api.AppDeployResult.Unchanged). req.Digest is set from pkg.
func (c *Client) DeployApp(ctx context.Context, req api.DeployAppRequest, pkg *Package) (api.AppDeployResult, error) {
	var res api.AppDeployResult
	if pkg == nil {
		return res, errors.New("DeployApp: no package")
	}
	req.Digest = pkg.Digest
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="request"`)
	h.Set("Content-Type", "application/json")
	pw, err := mw.CreatePart(h)
	if err != nil {
		return res, err
	}
	if err := json.NewEncoder(pw).Encode(req); err != nil {
		return res, err
	}
	h = textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="package"; filename="app.tar.gz"`)
	h.Set("Content-Type", "application/gzip")
	if pw, err = mw.CreatePart(h); err != nil {
		return res, err
	}
	if _, err := pw.Write(pkg.Data); err != nil {
		return res, err
	}
	if err := mw.Close(); err != nil {
		return res, err
	}
	err = c.do(ctx, "POST", "/v1/apps", rawBody{r: &body, contentType: mw.FormDataContentType()}, &res)
	return res, err
}

// ListApps lists the org's apps.
func (c *Client) ListApps(ctx context.Context) ([]api.App, error) {
	var l api.AppList
	err := c.do(ctx, "GET", "/v1/apps", nil, &l)
	return l.Apps, err
}

// GetApp returns one app with its live state.
func (c *Client) GetApp(ctx context.Context, name string) (api.App, error) {
	var a api.App
	err := c.do(ctx, "GET", "/v1/apps/"+esc(name), nil, &a)
	return a, err
}

// StartApp starts a stopped app.
func (c *Client) StartApp(ctx context.Context, name string) (api.App, error) {
	return c.appOp(ctx, name, "start", nil)
}

// StopApp stops an app; its paused runs stay paused.
func (c *Client) StopApp(ctx context.Context, name string) (api.App, error) {
	return c.appOp(ctx, name, "stop", nil)
}

// RestartApp stops and starts an app.
func (c *Client) RestartApp(ctx context.Context, name string) (api.App, error) {
	return c.appOp(ctx, name, "restart", nil)
}

// RollbackApp activates an earlier version of an app.
func (c *Client) RollbackApp(ctx context.Context, name string, version int) (api.App, error) {
	return c.appOp(ctx, name, "rollback", api.RollbackRequest{Version: version})
}

func (c *Client) appOp(ctx context.Context, name, op string, body any) (api.App, error) {
	var a api.App
	err := c.do(ctx, "POST", "/v1/apps/"+esc(name)+"/"+op, body, &a)
	return a, err
}

// DeleteApp stops and deletes an app, its versions and its runs.
func (c *Client) DeleteApp(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "/v1/apps/"+esc(name), nil, nil)
}

// AppVersions lists an app's versions, oldest first.
func (c *Client) AppVersions(ctx context.Context, name string) ([]api.AppVersion, error) {
	var l api.AppVersionList
	err := c.do(ctx, "GET", "/v1/apps/"+esc(name)+"/versions", nil, &l)
	return l.Versions, err
}

// AppLogs returns an app's newest log lines.
func (c *Client) AppLogs(ctx context.Context, name string, opts *LogsOptions) ([]api.LogLine, error) {
	return c.logs(ctx, "apps", name, opts)
}

// FollowAppLogs is FollowLogs for an app.
func (c *Client) FollowAppLogs(ctx context.Context, name string, opts *LogsOptions) iter.Seq2[api.LogLine, error] {
	return follow[api.LogLine](ctx, c, "/v1/apps/"+esc(name)+"/logs"+logsQuery(opts, true))
}

// AppEvents returns an app's newest events (limit 0: 100).
func (c *Client) AppEvents(ctx context.Context, name string, limit int) ([]api.Event, error) {
	return c.events(ctx, "apps", name, limit)
}

// RunWorkflow starts a run of app's workflow with input (any JSON value;
// nil means {}) and returns it at once.
func (c *Client) RunWorkflow(ctx context.Context, app, workflow string, input json.RawMessage) (api.Run, error) {
	var r api.Run
	err := c.do(ctx, "POST", "/v1/workflows/"+esc(app+"."+workflow)+"/run", api.RunWorkflowRequest{Input: input}, &r)
	return r, err
}

// ListRuns lists runs, newest first. q.App "" lists the runs of every
// running app.
func (c *Client) ListRuns(ctx context.Context, q api.RunQuery) ([]api.Run, error) {
	v := url.Values{}
	if q.App != "" {
		v.Set("app", q.App)
	}
	if q.Workflow != "" {
		v.Set("workflow", q.Workflow)
	}
	if len(q.Statuses) > 0 {
		v.Set("status", strings.Join(q.Statuses, ","))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Offset > 0 {
		v.Set("offset", strconv.Itoa(q.Offset))
	}
	path := "/v1/runs"
	if len(v) > 0 {
		path += "?" + v.Encode()
	}
	var l api.RunList
	err := c.do(ctx, "GET", path, nil, &l)
	return l.Runs, err
}

// GetRun returns a run ("{app}.{run_id}").
func (c *Client) GetRun(ctx context.Context, id string) (api.Run, error) {
	var r api.Run
	err := c.do(ctx, "GET", "/v1/runs/"+esc(id), nil, &r)
	return r, err
}

// RunHistory returns a run's events, oldest first.
func (c *Client) RunHistory(ctx context.Context, id string) ([]api.RunEvent, error) {
	var h api.RunHistory
	err := c.do(ctx, "GET", "/v1/runs/"+esc(id)+"/history", nil, &h)
	return h.Events, err
}

// PauseRun pauses a run before its next step.
func (c *Client) PauseRun(ctx context.Context, id string) (api.Run, error) {
	return c.runOp(ctx, id, "pause", nil)
}

// ResumeRun resumes a run: with a payload (what it waits for), or without
// one to lift a pause.
func (c *Client) ResumeRun(ctx context.Context, id string, req api.ResumeRequest) (api.Run, error) {
	return c.runOp(ctx, id, "resume", req)
}

// StopRun cancels a run.
func (c *Client) StopRun(ctx context.Context, id string) (api.Run, error) {
	return c.runOp(ctx, id, "stop", nil)
}

func (c *Client) runOp(ctx context.Context, id, op string, body any) (api.Run, error) {
	var r api.Run
	err := c.do(ctx, "POST", "/v1/runs/"+esc(id)+"/"+op, body, &r)
	return r, err
}

// WaitRun polls a run until done returns true (nil: until it has finished)
// or ctx ends.
func (c *Client) WaitRun(ctx context.Context, id string, done func(api.Run) bool) (api.Run, error) {
	if done == nil {
		done = api.Run.Terminal
	}
	delay := 50 * time.Millisecond
	for {
		r, err := c.GetRun(ctx, id)
		if err != nil {
			return r, err
		}
		if done(r) {
			return r, nil
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return r, fmt.Errorf("run %s is still %s: %w", id, r.Status, ctx.Err())
		case <-t.C:
		}
		delay = min(delay*2, time.Second)
	}
}

// RunAgent runs app's agent on message and waits (up to wait; 0 means the
// platform's default, 5 minutes) for the answer. A result with Status
// "paused" waits for a human: answer with ResumeRun(result.Run, ...).
func (c *Client) RunAgent(ctx context.Context, app, agent, message string, wait time.Duration) (api.AgentRunResult, error) {
	var r api.AgentRunResult
	path := "/v1/agents/" + esc(app+"."+agent) + "/run"
	if wait > 0 {
		path += "?wait=" + wait.String()
	}
	err := c.do(ctx, "POST", path, api.AgentRunRequest{Message: message}, &r)
	return r, err
}

// StreamAgent runs app's agent on message like RunAgent and yields the
// run's events as they happen (POST /v1/agents/{app}.{agent}/run as
// Server-Sent Events): api.AgentStarted first, then status changes and the
// agent's questions, and api.AgentResult last, when the run completed (its
// answer and usage), failed, was cancelled or paused, or wait (0: the
// platform's default, 5 minutes) passed. It ends after the result, with an
// error when the stream breaks before it.
func (c *Client) StreamAgent(ctx context.Context, app, agent, message string, wait time.Duration) iter.Seq2[api.AgentStreamEvent, error] {
	return func(yield func(api.AgentStreamEvent, error) bool) {
		path := "/v1/agents/" + esc(app+"."+agent) + "/run"
		if wait > 0 {
			path += "?wait=" + wait.String()
		}
		resp, err := c.send(ctx, "POST", path, api.AgentRunRequest{Message: message}, "text/event-stream")
		if err != nil {
			yield(api.AgentStreamEvent{}, err)
			return
		}
		defer resp.Body.Close()
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
			yield(api.AgentStreamEvent{}, fmt.Errorf("POST %s: the platform answered %s, not an event stream: it predates streamed agent runs; update it", path, ct))
			return
		}
		done, stopped := false, false
		err = readSSE[api.AgentStreamEvent](resp.Body, func(ev api.AgentStreamEvent, err error) bool {
			if err == nil && ev.Type == api.AgentResult {
				done = true
			}
			if !yield(ev, err) {
				stopped = true
				return false
			}
			return !done
		})
		if done || stopped || errors.Is(err, errStreamFailed) {
			return
		}
		if ctx.Err() != nil {
			err = ctx.Err()
		} else if err == nil {
			err = errors.New("the platform ended the agent's event stream before its result (shutting down?): see the run with `mcp-agent runs list`")
		}
		yield(api.AgentStreamEvent{}, err)
	}
}

// PauseAgent pauses a run of app's agent before its next step: run (its
// ID, "run-..." or "{app}.run-...") or, when run is "", the agent's one
// scheduled or running run. See api.AgentRunControl for the errors.
func (c *Client) PauseAgent(ctx context.Context, app, agent, run string) (api.Run, error) {
	return c.agentOp(ctx, app, agent, "pause", api.AgentRunControl{Run: run})
}

// ResumeAgent resumes a run of app's agent (req.Run, or "" for the agent's
// one paused run) with req.Payload, such as the answer to its question.
func (c *Client) ResumeAgent(ctx context.Context, app, agent string, req api.AgentRunControl) (api.Run, error) {
	return c.agentOp(ctx, app, agent, "resume", req)
}

// StopAgent cancels a run of app's agent (run, or "" for the agent's one
// active run).
func (c *Client) StopAgent(ctx context.Context, app, agent, run string) (api.Run, error) {
	return c.agentOp(ctx, app, agent, "stop", api.AgentRunControl{Run: run})
}

func (c *Client) agentOp(ctx context.Context, app, agent, op string, req api.AgentRunControl) (api.Run, error) {
	var r api.Run
	err := c.do(ctx, "POST", "/v1/agents/"+esc(app+"."+agent)+"/"+op, req, &r)
	return r, err
}

// IsStatus reports whether err is an API error with the HTTP status.
func IsStatus(err error, status int) bool {
	var ae *api.Error
	return errors.As(err, &ae) && ae.Status == status
}
