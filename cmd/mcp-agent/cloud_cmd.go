package main

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcp-agent-go/mcp-agent/cloud/client"
	"github.com/mcp-agent-go/mcp-agent/cloud/platform"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime/process"
)

// Test seams: cloudUpConfigure adjusts the platform's options before it
// starts; cloudUpHook receives the running platform.
var (
	cloudUpConfigure func(*platform.Options)
	cloudUpHook      func(*platform.Platform)
)

func newCloudCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "cloud",
		Short: "Run the mcp-agent cloud platform",
		Long: `The cloud platform deploys MCP servers behind authenticated HTTP endpoints.
"mcp-agent cloud up" runs it on this machine; the other cloud commands (deploy,
list, status, logs, servers start|stop|restart|delete) talk to it over its HTTP
API at $MCP_AGENT_CLOUD_URL (default ` + client.DefaultURL + `).`,
	}
	cmd.AddCommand(newCloudUpCmd(g))
	return cmd
}

func newCloudUpCmd(_ *globalFlags) *cobra.Command {
	var (
		addr, data, dsn, logFormat, logLevel, sandbox string
		goSource, goCache                             string
		allowedHosts                                  []string
	)
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start the cloud platform (API, MCP gateway) on this machine",
		Long: `Start the cloud platform: the HTTP API and the MCP gateway on one port, with
its state (a SQLite database, the admin API key) in the data directory. Deployed
servers run as sandboxed child processes (bubblewrap, when installed).

On first start it creates the admin API key and writes it to DATA/admin.key
(mode 0600); the CLI on this machine finds it there. Deployments that were
running come back when the platform starts again. Ctrl-C stops it gracefully.`,
		Example: `  mcp-agent cloud up
  mcp-agent cloud up --addr 127.0.0.1:9000 --data ./cloud-data`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if data == "" {
				d, err := client.DefaultDataDir()
				if err != nil {
					return err
				}
				data = d
			}
			logger, err := newCloudLogger(cmd, logFormat, logLevel)
			if err != nil {
				return err
			}
			var sb process.SandboxMode
			switch sandbox {
			case "auto", "":
			case "required":
				sb = process.SandboxRequired
			case "off":
				sb = process.SandboxOff
			default:
				return fmt.Errorf("--sandbox %q: want auto, required or off", sandbox)
			}
			ctx := cmd.Context()
			opts := &platform.Options{
				Addr: addr, DSN: dsn, Logger: logger, Sandbox: sb, AllowedHosts: allowedHosts,
				Version: buildVersion().Version, GoSource: goSource, GoCache: goCache,
			}
			if cloudUpConfigure != nil {
				cloudUpConfigure(opts)
			}
			p, err := platform.Start(ctx, data, opts)
			if err != nil {
				return err
			}
			errw := cmd.ErrOrStderr()
			fmt.Fprintf(errw, "mcp-agent cloud is up at %s\n", p.URL())
			fmt.Fprintf(errw, "  admin API key: %s\n", p.AdminKeyPath())
			if p.URL() != client.DefaultURL {
				fmt.Fprintf(errw, "  for the CLI:   export %s=%s\n", client.EnvURL, p.URL())
			}
			fmt.Fprintf(errw, "  deploy:        mcp-agent deploy server files --type filesystem --allow-path DIR\n")
			fmt.Fprintf(errw, "  stop:          Ctrl-C\n")
			if cloudUpHook != nil {
				cloudUpHook(p)
			}
			select {
			case <-ctx.Done():
			case <-p.Done():
			}
			fmt.Fprintln(errw, "stopping...")
			cctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			return p.Close(cctx)
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", platform.DefaultAddr, "listen address (host:port)")
	f.StringVar(&data, "data", "", "data directory (default ~/.mcp-agent-cloud, created with mode 0700)")
	f.StringVar(&dsn, "store", "", "state store DSN: postgres://USER:PASS@HOST/DB (default: SQLite file state.db in the data directory)")
	f.StringArrayVar(&allowedHosts, "allowed-host", nil, "Host header accepted besides loopback names, e.g. mcp.example.com (repeatable; DNS-rebinding protection)")
	f.StringVar(&logFormat, "log-format", "text", "log format: text or json")
	f.StringVar(&logLevel, "log-level", "info", "log level: debug, info, warn, error")
	f.StringVar(&sandbox, "sandbox", "auto", "sandbox servers with bubblewrap: auto (when it works here), required, off")
	f.StringVar(&goSource, "go-source", "", "root of the mcp-agent source that Go code apps are built against (default: the checkout found from the working directory or this executable)")
	f.StringVar(&goCache, "go-cache", "", "build cache of Go code apps, e.g. $(go env GOCACHE) to reuse a warm one (default DATA/apps/.gocache)")
	return cmd
}

// newCloudLogger is the platform's structured logger on stderr.
func newCloudLogger(cmd *cobra.Command, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	w := cmd.ErrOrStderr()
	switch strings.ToLower(format) {
	case "text", "":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// cloudClient is the client of the platform the CLI talks to.
func cloudClient() (*client.Client, error) {
	return client.FromEnv()
}
