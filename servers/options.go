package servers

import (
	"context"
	"io"
	"log/slog"
	"runtime/debug"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/config"
)

// Options configures a Registry or a Conn. A nil *Options is the zero value;
// every field's zero value is documented.
//
// Handlers and callbacks receive the server's name and may be called
// concurrently, from the goroutines that read server messages: return
// promptly (hand long work to a goroutine) except in the request handlers
// (sampling, elicitation), which the server is waiting on.
type Options struct {
	// Logger receives connection events (connect, exit, reconnect) and, at
	// debug level, every line a stdio server writes to stderr and every log
	// notification a server sends. Nil discards.
	Logger *slog.Logger

	// ClientInfo is the client name and version sent to servers.
	// Nil means {Name: "mcp-agent", Version: this module's version}.
	ClientInfo *mcp.Implementation

	// SamplingHandler answers sampling/createMessage requests from servers
	// (a server asking the client's LLM for a completion). Nil: the sampling
	// capability is not advertised and such requests are refused.
	// Sampling is deprecated in protocol 2026-07-28 but still works.
	SamplingHandler func(ctx context.Context, server string, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error)

	// ElicitationHandler answers elicitation/create requests (a server asking
	// the user for input). Nil: the elicitation capability is not advertised.
	ElicitationHandler func(ctx context.Context, server string, req *mcp.ElicitRequest) (*mcp.ElicitResult, error)

	// OnLog is called for every notifications/message a server sends. Nil:
	// the messages go to Logger at debug level instead.
	OnLog func(server string, p *mcp.LoggingMessageParams)

	// LogLevel is the minimum level requested from servers that offer
	// logging (logging/setLevel, sent right after connecting, protocol
	// versions before 2026-07-28). "" means "info" when OnLog is set and no
	// request otherwise (servers built with go-sdk then send no logs).
	LogLevel mcp.LoggingLevel

	// OnProgress is called for every notifications/progress. Servers send
	// progress for requests that carry a progress token, for example
	// CallToolParams with SetProgressToken. Nil ignores them.
	OnProgress func(server string, p *mcp.ProgressNotificationParams)

	// OnResourceUpdated is called for notifications/resources/updated about
	// resources subscribed with Subscribe (a Registry keeps them subscribed
	// across reconnects). Nil ignores them.
	OnResourceUpdated func(server string, p *mcp.ResourceUpdatedNotificationParams)

	// OnToolsChanged is called when a server says its tool list changed
	// (notifications/tools/list_changed); use it to invalidate caches of
	// ListTools. Nil ignores it.
	OnToolsChanged func(server string)

	// ProtocolVersion is the MCP protocol version the client asks for.
	// "" means the SDK's latest: 2026-07-28 (stateless, server/discover) when
	// the server supports it, else the 2025-11-25 initialize handshake (or
	// whatever older version the server negotiates).
	ProtocolVersion string

	// Transport builds the transport for each connection to a server. Nil
	// means NewTransport. Override it to reach servers that are not
	// configured by a URL or a command, such as in-memory servers in tests.
	// Writes to stderr land in ServerExitedError.Stderr and the log.
	Transport func(name string, spec config.ServerSpec, stderr io.Writer) (mcp.Transport, error)
}

// options is Options with defaults applied.
type options struct {
	Options
	logger *slog.Logger
	impl   *mcp.Implementation
}

func resolveOptions(o *Options) *options {
	r := &options{}
	if o != nil {
		r.Options = *o
	}
	r.logger = r.Logger
	if r.logger == nil {
		r.logger = slog.New(slog.DiscardHandler)
	}
	r.impl = r.ClientInfo
	if r.impl == nil {
		r.impl = &mcp.Implementation{Name: "mcp-agent", Version: moduleVersion()}
	}
	if r.LogLevel == "" && r.OnLog != nil {
		r.LogLevel = "info"
	}
	return r
}

const modulePath = "github.com/mcp-agent-go/mcp-agent"

// moduleVersion is this module's version from the build info.
func moduleVersion() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "devel"
	}
	if bi.Main.Path == modulePath && bi.Main.Version != "" {
		return bi.Main.Version
	}
	for _, d := range bi.Deps {
		if d.Path == modulePath {
			return d.Version
		}
	}
	return "devel"
}

// newClient builds the mcp.Client used for server name: its handlers carry
// the name, and its roots are the spec's.
func newClient(name string, spec config.ServerSpec, o *options) *client {
	logger := o.logger.With("server", name)
	co := &mcp.ClientOptions{
		Logger: logger,
		//lint:ignore SA1019 logging is deprecated in 2026-07-28 but servers still send it.
		LoggingMessageHandler: func(_ context.Context, req *mcp.LoggingMessageRequest) {
			p := req.Params
			if o.OnLog != nil {
				o.OnLog(name, p)
				return
			}
			logger.Debug("server log", "level", p.Level, "logger", p.Logger, "data", p.Data)
		},
	}
	if h := o.SamplingHandler; h != nil {
		//lint:ignore SA1019 sampling is deprecated in 2026-07-28 but older servers use it.
		co.CreateMessageHandler = func(ctx context.Context, req *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return h(ctx, name, req)
		}
	}
	if h := o.ElicitationHandler; h != nil {
		co.ElicitationHandler = func(ctx context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			return h(ctx, name, req)
		}
	}
	if f := o.OnProgress; f != nil {
		co.ProgressNotificationHandler = func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			f(name, req.Params)
		}
	}
	if f := o.OnResourceUpdated; f != nil {
		co.ResourceUpdatedHandler = func(_ context.Context, req *mcp.ResourceUpdatedNotificationRequest) {
			f(name, req.Params)
		}
	}
	if f := o.OnToolsChanged; f != nil {
		co.ToolListChangedHandler = func(context.Context, *mcp.ToolListChangedRequest) {
			f(name)
		}
	}
	c := mcp.NewClient(o.impl, co)
	cl := &client{Client: c, conns: map[*mcp.ClientSession]*Conn{}}
	c.AddReceivingMiddleware(cl.watchAcks)
	if len(spec.Roots) > 0 {
		roots := make([]*mcp.Root, 0, len(spec.Roots))
		for _, r := range spec.Roots {
			uri := r.URI
			if r.ServerURIAlias != "" {
				uri = r.ServerURIAlias
			}
			roots = append(roots, &mcp.Root{URI: uri, Name: r.Name})
		}
		//lint:ignore SA1019 roots are deprecated in 2026-07-28 but 2025-11-25 servers use them.
		c.AddRoots(roots...)
	}
	return cl
}
