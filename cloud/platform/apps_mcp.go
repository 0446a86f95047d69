package platform

// The platform's own MCP sessions with its apps. The run and agent endpoints
// call an app's MCP tools (workflows-run, workflows-get_status, ...) like
// any client would, through the gateway: an in-process HTTP round trip to
// the gateway handler (no socket, no API key: the platform is past auth),
// one go-sdk client session per app, opened on first use and reopened after
// it breaks (the app restarted, a new version was deployed).

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

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/store"
)

// appSession is the platform's MCP session with one app.
type appSession struct {
	mu sync.Mutex
	cs *mcp.ClientSession
}

func (s *appSession) close() {
	s.mu.Lock()
	cs := s.cs
	s.cs = nil
	s.mu.Unlock()
	if cs != nil {
		_ = cs.Close()
	}
}

// session returns the open session with the app d, opening one.
func (p *Platform) session(ctx context.Context, d *deployment) (*mcp.ClientSession, error) {
	p.apps.mu.Lock()
	s := p.apps.sessions[d.full]
	if s == nil {
		s = &appSession{}
		p.apps.sessions[d.full] = s
	}
	p.apps.mu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cs != nil {
		return s.cs, nil
	}
	c := mcp.NewClient(&mcp.Implementation{Name: "mcp-agent-platform", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:             "http://127.0.0.1/servers/" + d.full + "/mcp",
		HTTPClient:           &http.Client{Transport: handlerTransport{p.gw}},
		DisableStandaloneSSE: true,
		MaxRetries:           -1,
	}, nil)
	if err != nil {
		return nil, err
	}
	s.cs = cs
	return cs, nil
}

// dropSession closes the session with an app (it stopped, or runs another
// version now).
func (p *Platform) dropSession(full string) {
	if p.apps == nil {
		return
	}
	p.apps.mu.Lock()
	s := p.apps.sessions[full]
	delete(p.apps.sessions, full)
	p.apps.mu.Unlock()
	if s != nil {
		s.close()
	}
}

// resetSession drops cs if it is still the app's session.
func (p *Platform) resetSession(full string, cs *mcp.ClientSession) {
	p.apps.mu.Lock()
	s := p.apps.sessions[full]
	p.apps.mu.Unlock()
	if s == nil {
		return
	}
	s.mu.Lock()
	if s.cs == cs {
		s.cs = nil
	}
	s.mu.Unlock()
	_ = cs.Close()
}

// runningApp returns the app named name in org, ready for calls: running,
// or an error saying why not.
func (p *Platform) runningApp(org, name string) (*deployment, error) {
	d, err := p.getApp(org, name)
	if err != nil {
		return nil, err
	}
	desired, _, _ := d.state()
	if desired == store.DesiredStopped {
		return nil, api.Unavailable("app %q is stopped: start it with `mcp-agent apps start %s`", name, name)
	}
	d.mu.Lock()
	attached := d.attached
	d.mu.Unlock()
	if !attached {
		return nil, api.Unavailable("app %q cannot run: see `mcp-agent apps status %s`, fix it and deploy again", name, name)
	}
	return d, nil
}

// toolError is a tool's error result.
type toolError struct {
	app, tool, msg string
}

func (e *toolError) Error() string { return e.msg }

// callTool calls an app's tool and decodes its structured result into out.
// A tool error comes back as a *toolError; a broken session is reopened
// and the call tried once more.
func (p *Platform) callTool(ctx context.Context, d *deployment, tool string, args any, out any) error {
	var res *mcp.CallToolResult
	for attempt := 0; ; attempt++ {
		cs, err := p.session(ctx, d)
		if err != nil {
			return p.appUnreachable(ctx, d, err)
		}
		res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: tool, Arguments: args})
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var werr *jsonrpc.Error
		if errors.As(err, &werr) || attempt > 0 {
			// A protocol error answered by the app, or a second failure.
			return p.appUnreachable(ctx, d, err)
		}
		p.resetSession(d.full, cs)
	}
	if res.IsError {
		var sb strings.Builder
		for _, c := range res.Content {
			if t, ok := c.(*mcp.TextContent); ok {
				sb.WriteString(t.Text)
			}
		}
		return &toolError{app: d.name, tool: tool, msg: sb.String()}
	}
	if out == nil {
		return nil
	}
	b, err := json.Marshal(res.StructuredContent)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("app %s: tool %s: decode its result: %w", d.name, tool, err)
	}
	return nil
}

// readResource reads an app's resource as JSON into out.
func (p *Platform) readResource(ctx context.Context, d *deployment, uri string, out any) error {
	for attempt := 0; ; attempt++ {
		cs, err := p.session(ctx, d)
		if err != nil {
			return p.appUnreachable(ctx, d, err)
		}
		res, err := cs.ReadResource(ctx, &mcp.ReadResourceParams{URI: uri})
		if err == nil {
			if len(res.Contents) == 0 {
				return fmt.Errorf("app %s: resource %s is empty", d.name, uri)
			}
			return json.Unmarshal([]byte(res.Contents[0].Text), out)
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		var werr *jsonrpc.Error
		if errors.As(err, &werr) {
			if werr.Code == mcp.CodeResourceNotFound {
				return &toolError{app: d.name, msg: "not found"}
			}
			return p.appUnreachable(ctx, d, err)
		}
		if attempt > 0 {
			return p.appUnreachable(ctx, d, err)
		}
		p.resetSession(d.full, cs)
	}
}

// appUnreachable is the error of a call the app did not answer.
func (p *Platform) appUnreachable(ctx context.Context, d *deployment, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	p.logger.Debug("app call failed", "app", d.full, "err", err) // the caller gets the error
	msg := err.Error()
	var ae *api.Error
	if errors.As(err, &ae) {
		msg = ae.Message
	}
	return api.Errorf(http.StatusBadGateway, "bad_gateway",
		"app %q did not answer: %s (see `mcp-agent apps status %s` and `mcp-agent apps logs %s`)", d.name, msg, d.name, d.name)
}

// handlerTransport is an http.RoundTripper that serves requests with a
// handler in-process, streaming the response body (Server-Sent Events
// included) through a pipe.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	sreq := req.Clone(ctx)
	sreq.RequestURI = req.URL.RequestURI()
	sreq.RemoteAddr = "127.0.0.1:0"
	if sreq.Body == nil {
		sreq.Body = http.NoBody
	}
	pr, pw := io.Pipe()
	w := &pipeWriter{header: http.Header{}, pw: pw, ready: make(chan struct{})}
	go func() {
		defer func() {
			w.writeHeader(http.StatusOK) // a handler that wrote nothing
			_ = pw.Close()
		}()
		t.h.ServeHTTP(w, sreq)
	}()
	select {
	case <-w.ready:
	case <-ctx.Done():
		_ = pr.CloseWithError(ctx.Err())
		return nil, ctx.Err()
	}
	return &http.Response{
		Status:        fmt.Sprintf("%d %s", w.status, http.StatusText(w.status)),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.sent,
		Body:          pr,
		ContentLength: -1,
		Request:       req,
	}, nil
}

// pipeWriter is the http.ResponseWriter of handlerTransport.
type pipeWriter struct {
	header http.Header
	sent   http.Header
	status int
	pw     *io.PipeWriter
	once   sync.Once
	ready  chan struct{}
}

func (w *pipeWriter) Header() http.Header { return w.header }

func (w *pipeWriter) writeHeader(code int) {
	w.once.Do(func() {
		w.status = code
		w.sent = w.header.Clone()
		close(w.ready)
	})
}

func (w *pipeWriter) WriteHeader(code int) { w.writeHeader(code) }

func (w *pipeWriter) Write(b []byte) (int, error) {
	w.writeHeader(http.StatusOK)
	return w.pw.Write(b)
}

// Flush implements http.Flusher: writes reach the reader at once.
func (w *pipeWriter) Flush() { w.writeHeader(http.StatusOK) }
