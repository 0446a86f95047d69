package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/client"
)

// Deploy stages, in order.
const (
	stageValidating   = "validating"
	stageStarting     = "starting"
	stageInitializing = "initializing"
	stageHealthy      = "healthy"
)

var deployStages = []string{stageValidating, stageStarting, stageInitializing, stageHealthy}

func newDeployCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "deploy",
		Short: "Deploy to the cloud platform",
		Long: `Deploy to the cloud platform at $MCP_AGENT_CLOUD_URL (default ` + client.DefaultURL + `;
start one with "mcp-agent cloud up").`,
	}
	cmd.AddCommand(newDeployServerCmd(g))
	return cmd
}

type deployFlags struct {
	typ, command, url string
	args              []string
	allowPaths        []string
	allowEgress       []string
	env               []string
	memory            string
	mode              string
	public, stopped   bool
	timeout           time.Duration
	callTimeout       time.Duration
	plain             bool
}

func newDeployServerCmd(g *globalFlags) *cobra.Command {
	f := &deployFlags{}
	cmd := &cobra.Command{
		Use:   "server NAME (--type TYPE | --command CMD [--arg A]... | --url URL)",
		Short: "Deploy an MCP server: a catalog type, any stdio command, or a URL",
		Long: `Deploy an MCP server to the cloud platform and wait until it answers MCP.

  --type filesystem        the built-in filesystem server, on the --allow-path directories
  --type fetch             the built-in fetch server (egress to the public internet)
  --type everything|memory|filesystem-node
                           npm reference servers, run with node (needs Node.js)
  --command CMD --arg A    any stdio MCP server
  --url URL                a networked MCP server (Streamable HTTP), proxied

Stdio servers run sandboxed: they see only the system directories and the
--allow-path paths (DIR read-write, DIR:ro read-only), have no network unless
--allow-egress names destinations, and get only the --env variables.

The server is reachable at /servers/NAME/mcp with the API key (or without one,
as /servers/ORG.NAME/mcp, when --public).`,
		Example: `  mcp-agent deploy server files --type filesystem --allow-path ~/docs:ro
  mcp-agent deploy server web --type fetch
  mcp-agent deploy server gh --command npx --arg -y --arg @modelcontextprotocol/server-github \
      --allow-egress api.github.com:443 --allow-egress registry.npmjs.org:443 --env GITHUB_TOKEN=$GITHUB_TOKEN
  mcp-agent deploy server remote --url http://127.0.0.1:3001/mcp`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req, err := f.request(args[0])
			if err != nil {
				return err
			}
			c, err := cloudClient()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			view := newDeployProgress(cmd, g, f.plain, cancel, deployStages)
			s, derr := deploy(ctx, c, req, view)
			endDeployProgress(view, derr)
			if derr != nil {
				return deployFailure(cmd, c, req.Name, derr)
			}
			if g.json {
				return writeJSON(cmd, s)
			}
			fmt.Fprintln(cmd.OutOrStdout(), serverPanel(s, isTerminal(cmd.OutOrStdout())))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.typ, "type", "", "catalog server: filesystem, fetch, everything, memory, filesystem-node")
	fl.StringVar(&f.command, "command", "", "stdio MCP server to run (absolute path or a name in PATH)")
	fl.StringArrayVar(&f.args, "arg", nil, "argument of --command (repeatable)")
	fl.StringVar(&f.url, "url", "", "networked MCP server (Streamable HTTP) to proxy")
	fl.StringArrayVar(&f.allowPaths, "allow-path", nil, "host path the server may use: DIR (read-write) or DIR:ro (repeatable)")
	fl.StringArrayVar(&f.allowEgress, "allow-egress", nil, "destination the server may connect to: HOST[:PORT], *.example.com or * (repeatable)")
	fl.StringArrayVar(&f.env, "env", nil, "environment variable K=V of the server (repeatable)")
	fl.StringVar(&f.memory, "memory", "", "memory (address-space) limit, e.g. 512M or 2G (Go servers need at least 2G)")
	fl.StringVar(&f.mode, "mode", "shared", "shared (one process for every client session) or per-session")
	fl.BoolVar(&f.public, "public", false, "serve the MCP endpoint without an API key")
	fl.BoolVar(&f.stopped, "stopped", false, "create the deployment without starting it")
	fl.DurationVar(&f.timeout, "timeout", 3*time.Minute, "give up waiting for the server to become healthy after this long")
	fl.DurationVar(&f.callTimeout, "call-timeout", 0, "limit of one request to the server at the gateway, e.g. 30s (default the gateway's, 5m)")
	fl.BoolVar(&f.plain, "plain", false, "plain progress lines even on a terminal")
	return cmd
}

// request builds the API request from the flags.
func (f *deployFlags) request(name string) (api.CreateServerRequest, error) {
	req := api.CreateServerRequest{
		Name: name, Type: f.typ, Command: f.command, Args: f.args, URL: f.url,
		EgressAllow: f.allowEgress, Public: f.public, Stopped: f.stopped,
	}
	switch f.mode {
	case "shared", "per-session":
		req.Mode = f.mode
	default:
		return req, fmt.Errorf("--mode %q: want shared or per-session", f.mode)
	}
	n := 0
	for _, s := range []string{f.typ, f.command, f.url} {
		if s != "" {
			n++
		}
	}
	if n != 1 {
		return req, errors.New("give exactly one of --type, --command or --url")
	}
	if len(f.args) > 0 && f.command == "" {
		return req, errors.New("--arg applies to --command")
	}
	for _, p := range f.allowPaths {
		ap, err := parseAllowPath(p)
		if err != nil {
			return req, err
		}
		req.AllowedPaths = append(req.AllowedPaths, ap)
	}
	if f.callTimeout < 0 {
		return req, fmt.Errorf("--call-timeout %v: want a positive duration, e.g. 30s", f.callTimeout)
	}
	req.Limits.CallTimeoutSeconds = f.callTimeout.Seconds()
	var err error
	req.Env, req.Limits.MemoryBytes, err = deployEnvLimits(f.env, f.memory)
	return req, err
}

// parseAllowPath parses DIR, DIR:ro or DIR:rw; relative paths are made
// absolute against the working directory.
func parseAllowPath(s string) (api.AllowedPath, error) {
	mode := "rw"
	p := s
	if i := strings.LastIndexByte(s, ':'); i > 0 {
		switch s[i+1:] {
		case "ro", "r":
			mode, p = "r", s[:i]
		case "rw":
			p = s[:i]
		}
	}
	if p == "" {
		return api.AllowedPath{}, fmt.Errorf("--allow-path %q: want DIR or DIR:ro", s)
	}
	if strings.HasPrefix(p, "~/") {
		if home, err := userHome(); err == nil {
			p = filepath.Join(home, p[2:])
		}
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return api.AllowedPath{}, fmt.Errorf("--allow-path %q: %w", s, err)
	}
	return api.AllowedPath{Path: abs, Mode: mode}, nil
}

// deployView shows the deploy's progress.
type deployView interface {
	stage(name string)            // name started (the previous one is done)
	note(format string, a ...any) // a detail of the current stage
	fail()                        // the current stage failed
	close()
}

// deploy creates the server and waits until it is healthy: running, and
// answering MCP (tools/list through the gateway).
func deploy(ctx context.Context, c *client.Client, req api.CreateServerRequest, view deployView) (api.Server, error) {
	view.stage(stageValidating)
	s, err := c.CreateServer(ctx, req)
	if err != nil {
		return s, err
	}
	if req.Stopped {
		return s, nil
	}
	s, err = waitHealthy(ctx, view, healthWait[api.Server]{
		noun:  "server",
		name:  func(s api.Server) string { return s.Name },
		state: func(s api.Server) (string, string, *api.RuntimeStatus) { return s.Status, s.StatusMessage, s.Runtime },
		get:   func(ctx context.Context) (api.Server, error) { return c.GetServer(ctx, req.Name) },
		tools: func(ctx context.Context) (int, error) {
			tools, err := c.Tools(ctx, req.Name)
			return len(tools), err
		},
	}, s)
	if err != nil {
		return s, err
	}
	if cur, err := c.GetServer(ctx, req.Name); err == nil {
		s = cur
	}
	return s, nil
}

// deployFailure prints the server's last log lines and returns the error
// the command ends with.
func deployFailure(cmd *cobra.Command, c *client.Client, name string, err error) error {
	errw := cmd.ErrOrStderr()
	var ae *api.Error
	created := !(errors.As(err, &ae) && ae.Status < 500) && !errors.Is(err, client.ErrUnreachable)
	if created {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), 10*time.Second)
		defer cancel()
		if lines, lerr := c.Logs(ctx, name, &client.LogsOptions{Limit: 20}); lerr == nil {
			printLastLogLines(errw, name, lines)
		}
		fmt.Fprintf(errw, "the deployment is kept: see `mcp-agent status %s`, or remove it with `mcp-agent servers delete %s`\n", name, name)
	}
	return fmt.Errorf("deploy %s: %w", name, err)
}

// serverPanel renders the result of a deploy.
func serverPanel(s api.Server, styled bool) string {
	rows := [][2]string{
		{"URL", s.Endpoint},
		{"ID", s.ID},
		{"status", s.Status},
		{"console", s.ConsoleURL},
	}
	rows = append(rows, sandboxAccessRows(s.Runtime, s.Spec.Public)...)
	return renderPanel("server "+s.Name+" deployed", rows, styled)
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// sleepCtx waits d or until ctx is done.
func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// plainDeployView prints one line per stage.
type plainDeployView struct {
	w   io.Writer
	cur string
}

func (v *plainDeployView) stage(name string) {
	v.cur = name
	fmt.Fprintf(v.w, "%s...\n", name)
}

func (v *plainDeployView) note(format string, a ...any) {
	fmt.Fprintf(v.w, "  %s\n", fmt.Sprintf(format, a...))
}

func (v *plainDeployView) fail() { fmt.Fprintf(v.w, "%s failed\n", v.cur) }

func (v *plainDeployView) close() {}

// quietView shows nothing (--json).
type quietView struct{}

func (quietView) stage(string)        {}
func (quietView) note(string, ...any) {}
func (quietView) fail()               {}
func (quietView) close()              {}
