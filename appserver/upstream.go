package appserver

// Design notes: forwarding to the connected client.
//
// An app's agents and servers sometimes need something only the client can
// give: a human's answer (the agents' __human_input__ tool, and elicitation
// requests from the app's servers) or an LLM completion (sampling requests
// from the app's servers). The app is built before the served Server, so its
// handlers cannot point at the Server; they point at an Upstream instead,
// which the Server fills with the calls it is serving.
//
// Human input is asked from the agent's own tool call, so its context carries
// the MCP call that started the turn (withCall) and the question goes to
// exactly that client. Sampling and elicitation requests from the app's
// servers arrive on the servers' connections with no link to the call that
// caused them (the MCP protocol carries none), so they go to the client of
// the most recent call in flight that can answer them, as the Python
// mcp-agent does with its "upstream session"; with no such call, the
// fallback answers (for sampling, the app's own LLM).

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
)

// SamplingFunc answers a sampling request from one of the app's servers; it
// has the shape of app.Options.SamplingHandler.
type SamplingFunc func(ctx context.Context, server string, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error)

// ElicitationFunc answers an elicitation request from one of the app's
// servers; it has the shape of app.Options.ElicitationHandler.
type ElicitationFunc func(ctx context.Context, server string, req *mcp.ElicitRequest) (*mcp.ElicitResult, error)

// ErrNoClient is wrapped by the errors of the Upstream's handlers when no
// connected client can answer (none is in a call, or none declared the
// capability) and there is no fallback.
var ErrNoClient = errors.New("no connected client can answer")

// ErrDeclined is wrapped by the human input error when the client's user
// declined or cancelled the question.
var ErrDeclined = errors.New("the user declined to answer")

// An Upstream forwards what the app's agents and servers need from a human
// or an LLM to the MCP client being served. Build one before the app, give
// its handlers to app.Options, and pass it to New in Options.Upstream:
//
//	up := appserver.NewUpstream()
//	a, err := app.New(app.Options{
//		SamplingHandler:    up.SamplingHandler(llm.SamplingHandler(provider, nil)),
//		ElicitationHandler: up.ElicitationHandler(nil),
//		HumanInput:         up.HumanInput(nil),
//		OnLog:              up.ForwardLog,
//	})
//	srv, err := appserver.New(a, &appserver.Options{Upstream: up, ...})
//
// An Upstream is safe for concurrent use.
type Upstream struct {
	mu    sync.Mutex
	calls []*call // calls in flight, oldest first
}

// NewUpstream returns an Upstream with no call in flight.
func NewUpstream() *Upstream { return &Upstream{} }

// call is one tools/call being served: its session and progress token.
type call struct {
	session *mcp.ServerSession
	token   any // progress token, nil when the client asked for none
	tool    string
	caps    *mcp.ClientCapabilities
	// mrtr: the client speaks 2026-07-28 or later, where the server cannot
	// send requests while serving one; it asks for input by answering with
	// input requests instead (multi round-trip requests).
	mrtr bool

	mu       sync.Mutex
	progress float64
}

type callKey struct{}

func withCall(ctx context.Context, c *call) context.Context {
	return context.WithValue(ctx, callKey{}, c)
}

func callFrom(ctx context.Context) *call {
	c, _ := ctx.Value(callKey{}).(*call)
	return c
}

// begin registers a call in flight; the returned func unregisters it.
func (u *Upstream) begin(c *call) func() {
	if u == nil {
		return func() {}
	}
	u.mu.Lock()
	u.calls = append(u.calls, c)
	u.mu.Unlock()
	return func() {
		u.mu.Lock()
		defer u.mu.Unlock()
		if i := slices.Index(u.calls, c); i >= 0 {
			u.calls = slices.Delete(u.calls, i, i+1)
		}
	}
}

// latest returns the session of the most recent call in flight whose client
// satisfies ok and can be sent requests.
func (u *Upstream) latest(ok func(*mcp.ClientCapabilities) bool) *mcp.ServerSession {
	u.mu.Lock()
	defer u.mu.Unlock()
	for i := len(u.calls) - 1; i >= 0; i-- {
		c := u.calls[i]
		if c.session != nil && !c.mrtr && ok(c.caps) {
			return c.session
		}
	}
	return nil
}

func canSample(c *mcp.ClientCapabilities) bool { return c != nil && c.Sampling != nil }
func canElicit(c *mcp.ClientCapabilities) bool { return c != nil && c.Elicitation != nil }

// SamplingHandler returns a handler for app.Options.SamplingHandler that
// forwards a server's sampling request to the client of the most recent call
// in flight that declared the sampling capability, and otherwise (or when
// that client fails) answers with fallback, typically
// llm.SamplingHandler(provider, nil): the app's own LLM. A nil fallback makes
// such a request fail with an error wrapping ErrNoClient.
func (u *Upstream) SamplingHandler(fallback SamplingFunc) SamplingFunc {
	return func(ctx context.Context, server string, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
		if ss := u.latest(canSample); ss != nil {
			res, err := ss.CreateMessage(ctx, req.Params)
			if err == nil || fallback == nil || ctx.Err() != nil {
				return res, err
			}
		}
		if fallback == nil {
			return nil, fmt.Errorf("sampling request from server %q: %w (the client must declare the sampling capability, or give the app an LLM)", server, ErrNoClient)
		}
		return fallback(ctx, server, req)
	}
}

// ElicitationHandler returns a handler for app.Options.ElicitationHandler
// that forwards a server's elicitation request to the client of the most
// recent call in flight that declared the elicitation capability, and
// otherwise answers with fallback. A nil fallback makes such a request fail
// with an error wrapping ErrNoClient.
func (u *Upstream) ElicitationHandler(fallback ElicitationFunc) ElicitationFunc {
	return func(ctx context.Context, server string, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
		if ss := u.latest(canElicit); ss != nil {
			return ss.Elicit(ctx, req.Params)
		}
		if fallback == nil {
			return nil, fmt.Errorf("elicitation request from server %q: %w (the client must declare the elicitation capability)", server, ErrNoClient)
		}
		return fallback(ctx, server, req)
	}
}

// humanAnswerSchema is the form a human input question is elicited with.
var humanAnswerSchema = map[string]any{
	"type": "object",
	"properties": map[string]any{
		"answer": map[string]any{"type": "string", "title": "Answer", "description": "Your answer"},
	},
	"required": []string{"answer"},
}

// HumanInput returns the function for app.Options.HumanInput (and
// agent.Config.HumanInput) that answers an agent's questions:
//
//   - during a durable agent run (AgentWorkflows), the question pauses the
//     run until workflows-resume delivers the answer;
//   - during an agent tool call, the question is elicited from the client
//     that made the call, when it declared the elicitation capability (a
//     2026-07-28 client gets it as an input request of the call's result,
//     and the agent continues with the answer when the client retries);
//   - otherwise fallback answers; with a nil fallback the question fails
//     with an error wrapping ErrNoClient, which the LLM reads as the tool's
//     result.
func (u *Upstream) HumanInput(fallback agent.HumanInputFunc) agent.HumanInputFunc {
	return func(ctx context.Context, req agent.HumanInputRequest) (string, error) {
		if t := turnFrom(ctx); t != nil {
			return "", t.ask(req)
		}
		if c := callFrom(ctx); c != nil && !c.mrtr && canElicit(c.caps) {
			msg := req.Prompt
			if req.Description != "" {
				msg += "\n\n" + req.Description
			}
			res, err := c.session.Elicit(ctx, &mcp.ElicitParams{Mode: "form", Message: msg, RequestedSchema: humanAnswerSchema})
			if err != nil {
				return "", fmt.Errorf("ask the client's user: %w", err)
			}
			if res.Action != "accept" {
				return "", fmt.Errorf("%w (%s)", ErrDeclined, res.Action)
			}
			switch a := res.Content["answer"].(type) {
			case string:
				return a, nil
			case nil:
				return "", errors.New(`the client accepted the question but sent no "answer"`)
			default:
				return fmt.Sprint(a), nil
			}
		}
		if fallback != nil {
			return fallback(ctx, req)
		}
		return "", fmt.Errorf("human input: %w (the client must declare the elicitation capability)", ErrNoClient)
	}
}

// ForwardLog sends a log notification of one of the app's servers to the
// clients of the calls in flight (each client receives it only at or above
// the level it set with logging/setLevel). Its signature is that of
// app.Options.OnLog.
func (u *Upstream) ForwardLog(server string, p *mcp.LoggingMessageParams) {
	u.mu.Lock()
	var sessions []*mcp.ServerSession
	for _, c := range u.calls {
		if c.session != nil && !slices.Contains(sessions, c.session) {
			sessions = append(sessions, c.session)
		}
	}
	u.mu.Unlock()
	logger := server
	if p.Logger != "" {
		logger = server + "/" + p.Logger
	}
	for _, ss := range sessions {
		_ = ss.Log(context.Background(), &mcp.LoggingMessageParams{Level: p.Level, Logger: logger, Data: p.Data})
	}
}

// notify sends a progress notification (when the client asked for progress)
// and a log message for the call in ctx, if any. Failures to notify are
// ignored: progress is advisory.
func notify(ctx context.Context, level mcp.LoggingLevel, logger, msg string) {
	c := callFrom(ctx)
	if c == nil || c.session == nil {
		return
	}
	if c.token != nil {
		c.mu.Lock()
		c.progress++
		p := c.progress
		c.mu.Unlock()
		_ = c.session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: c.token, Progress: p, Message: msg})
	}
	_ = c.session.Log(ctx, &mcp.LoggingMessageParams{Level: level, Logger: logger, Data: msg})
}

// Progress reports progress of the tool call being served in ctx to its
// client: a progress notification, when the client asked for progress,
// with current out of total (0: unknown) and msg. App tools call it; outside
// a served call it does nothing.
func Progress(ctx context.Context, current, total float64, msg string) {
	c := callFrom(ctx)
	if c == nil || c.session == nil || c.token == nil {
		return
	}
	c.mu.Lock()
	if current <= c.progress { // progress must increase: drop the report
		c.mu.Unlock()
		return
	}
	c.progress = current
	c.mu.Unlock()
	_ = c.session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: c.token, Progress: current, Total: total, Message: msg})
}

// Log sends a log message to the client of the tool call being served in
// ctx (if it set a level at or below level with logging/setLevel). App tools
// call it; outside a served call it does nothing.
func Log(ctx context.Context, level mcp.LoggingLevel, logger string, data any) {
	c := callFrom(ctx)
	if c == nil || c.session == nil {
		return
	}
	_ = c.session.Log(ctx, &mcp.LoggingMessageParams{Level: level, Logger: logger, Data: data})
}
