package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"

	"github.com/spf13/cobra"

	"github.com/mcp-agent-go/mcp-agent/servers/builtin"
	"github.com/mcp-agent-go/mcp-agent/servers/builtin/catalog"
)

func newBuiltinCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "builtin",
		Short: "Run a utility MCP server built into this binary",
		Long: `Run one of the utility MCP servers built into mcp-agent. They serve stdio by
default, so a config can name them directly:

  mcp:
    servers:
      filesystem:
        command: mcp-agent
        args: [builtin, filesystem, --root, ./data]

With --http ADDR they serve Streamable HTTP at http://ADDR/mcp. A Go app
(package app) runs such servers in-process, without a child process.`,
	}
	for _, b := range catalog.All {
		cmd.AddCommand(newBuiltinServerCmd(b))
	}
	return cmd
}

func newBuiltinServerCmd(b catalog.Builtin) *cobra.Command {
	var (
		httpAddr  string
		stateless bool
	)
	cmd := &cobra.Command{
		Use:     b.Name,
		Short:   b.Short,
		Long:    b.Long,
		Example: b.Example,
	}
	build := b.Bind(cmd.Flags())
	cmd.Flags().StringVar(&httpAddr, "http", "", "serve Streamable HTTP at http://ADDR/mcp instead of stdio (e.g. 127.0.0.1:8931)")
	cmd.Flags().BoolVar(&stateless, "stateless", false, "with --http: serve without sessions (MCP 2026-07-28 stateless mode)")
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		srv, err := build(args, "")
		if err != nil {
			return err
		}
		logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
		opts := builtin.ServeOptions{HTTPAddr: httpAddr, Stateless: stateless, Logger: logger}
		if httpAddr != "" {
			opts.Ready = func(addr net.Addr) {
				fmt.Fprintf(cmd.ErrOrStderr(), "serving MCP (Streamable HTTP) at http://%s/mcp\n", addr)
			}
		}
		return builtin.Serve(cmd.Context(), srv, opts)
	}
	return cmd
}
