package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcp-agent-go/mcp-agent/app"
	"github.com/mcp-agent-go/mcp-agent/appserver"
	"github.com/mcp-agent-go/mcp-agent/executor/local"
)

// serveFlags are the flags of serve.
type serveFlags struct {
	transport       string
	addr            string
	stateless       bool
	noSSE           bool
	provider        string
	model           string
	script          string
	runsDB          string
	noWorkflows     bool
	allowedHosts    []string
	allowedOrigins  []string
	tokenEnv        string
	shutdownTimeout time.Duration
	verbose         bool
}

func newServeCmd(g *globalFlags) *cobra.Command {
	f := &serveFlags{}
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Serve the app as an MCP server: its agents and workflows as MCP tools",
		Long: `Serve the app as an MCP server that any MCP client (Claude Desktop, Cursor,
the MCP Inspector, another mcp-agent app) can use.

Every declared agent is served as the tools agents-<name>-generate_str,
agents-<name>-generate and agents-<name>-generate_structured, and as a durable
workflow of the same name (workflows-list, workflows-run, workflows-get_status,
workflows-resume, workflows-cancel, workflows-<name>-run). A question an agent
asks a human is elicited from the client during a tool call, and pauses a
workflow run until workflows-resume answers it. Runs are journaled in the
app's executor (.mcp-agent/state.db, or --runs-db; Temporal with
execution_engine: temporal) and survive restarts; mcp-agent workflows controls
them too.

--transport stdio (the default) serves one client on standard input and
output: the way desktop clients run local servers. --transport http serves
Streamable HTTP at http://ADDR/mcp and legacy SSE at http://ADDR/sse, to
loopback Host and Origin headers unless --allowed-host/--allowed-origin say
otherwise. On SIGINT or SIGTERM, calls in flight get --shutdown-timeout to
finish before they are cancelled. See docs/serve.md.`,
		Example: `  mcp-agent serve --config examples/served/mcp_agent.config.yaml --script examples/served/served.replay.yaml
  mcp-agent serve --transport http --addr 127.0.0.1:8000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServe(cmd, g, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.transport, "transport", "t", "stdio", "stdio or http")
	fl.StringVar(&f.addr, "addr", "127.0.0.1:8000", "address to listen on with --transport http (port 0 picks a free port)")
	fl.BoolVar(&f.stateless, "stateless", false, "serve Streamable HTTP without sessions (no sampling or elicitation forwarding)")
	fl.BoolVar(&f.noSSE, "no-sse", false, "do not serve the legacy SSE transport at /sse")
	fl.StringVarP(&f.provider, "provider", "p", "", "model provider: openai, anthropic or replay (default: each agent's, else the configured one)")
	fl.StringVarP(&f.model, "model", "m", "", "model (default: each agent's model, else the provider's default_model)")
	fl.StringVar(&f.script, "script", "", "replay script to play (implies --provider replay)")
	fl.StringVar(&f.runsDB, "runs-db", "", "SQLite file journaling workflow runs (default: .mcp-agent/state.db next to the config file, as for mcp-agent workflows)")
	fl.BoolVar(&f.noWorkflows, "no-workflows", false, "serve agents as tools only, without workflows and run resources")
	fl.StringSliceVar(&f.allowedHosts, "allowed-host", nil, `Host header accepted besides loopback names ("example.com", "example.com:8443", or "*")`)
	fl.StringSliceVar(&f.allowedOrigins, "allowed-origin", nil, `Origin header accepted besides loopback origins ("https://app.example.com", or "*")`)
	fl.StringVar(&f.tokenEnv, "token-env", "", "require Authorization: Bearer with the token held by this environment variable (http only)")
	fl.DurationVar(&f.shutdownTimeout, "shutdown-timeout", appserver.DefaultShutdownTimeout, "how long calls in flight may finish after SIGINT/SIGTERM before they are cancelled")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log server activity and server stderr to stderr")
	return cmd
}

func runServe(cmd *cobra.Command, g *globalFlags, f *serveFlags) error {
	if f.transport != "stdio" && f.transport != "http" {
		return fmt.Errorf("unknown transport %q: use --transport stdio or --transport http", f.transport)
	}
	if f.tokenEnv != "" && f.transport != "http" {
		return errors.New("--token-env applies to --transport http only (a stdio server is reached by its parent process alone)")
	}
	var token string
	if f.tokenEnv != "" {
		token = os.Getenv(f.tokenEnv)
		if token == "" {
			return fmt.Errorf("--token-env %s: the variable is empty or unset: set it to the token clients must send", f.tokenEnv)
		}
	}
	logger := cliLogger(f.verbose)
	a, err := newAgentApp(g, modelFlags{provider: f.provider, model: f.model, script: f.script}, logger, app.Options{StatePath: f.runsDB})
	if err != nil {
		return err
	}
	// Closed last, after the server has drained its calls: the executor too.
	defer a.Close()

	opts := &appserver.Options{Upstream: a.Upstream, NewLLM: a.NewLLM, Logger: logger, ShutdownTimeout: f.shutdownTimeout}
	if !f.noWorkflows {
		if err := a.registerAgentWorkflows(logger); err != nil {
			return err
		}
		ex, err := a.Executor(cmd.Context())
		if errors.Is(err, local.ErrLocked) {
			return fmt.Errorf("%w: another process executes this app's runs; give this one its own database with --runs-db FILE", err)
		}
		if err != nil {
			return err
		}
		opts.Executor = ex
	}
	srv, err := appserver.New(a.App, opts)
	if err != nil {
		return err
	}

	ctx := cmd.Context()
	if f.transport == "stdio" {
		return srv.ServeStdio(ctx)
	}
	hopts := &appserver.HTTPOptions{
		Stateless:      f.stateless,
		NoSSE:          f.noSSE,
		AllowedHosts:   f.allowedHosts,
		AllowedOrigins: f.allowedOrigins,
		Ready: func(addr net.Addr) {
			fmt.Fprintf(cmd.ErrOrStderr(), "mcp-agent serve: %s listening on http://%s%s", a.Name(), addr, appserver.PathStreamable)
			if !f.noSSE {
				fmt.Fprintf(cmd.ErrOrStderr(), " (legacy SSE: http://%s%s)", addr, appserver.PathSSE)
			}
			fmt.Fprintln(cmd.ErrOrStderr())
		},
	}
	if token != "" {
		hopts.TokenVerifier = appserver.StaticToken(token)
	}
	return srv.ListenAndServe(ctx, f.addr, hopts)
}
