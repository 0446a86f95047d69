package main

import (
	"fmt"
	"log/slog"
	"net"
	"os"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/mcp-agent-go/mcp-agent/servers/builtin"
	"github.com/mcp-agent-go/mcp-agent/servers/builtin/fetch"
	"github.com/mcp-agent-go/mcp-agent/servers/builtin/filesystem"
)

type serveFlags struct {
	http      string
	stateless bool
}

func (f *serveFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.http, "http", "", "serve Streamable HTTP at http://ADDR/mcp instead of stdio (e.g. 127.0.0.1:8931)")
	cmd.Flags().BoolVar(&f.stateless, "stateless", false, "with --http: serve without sessions (MCP 2026-07-28 stateless mode)")
}

func (f *serveFlags) serve(cmd *cobra.Command, srv *mcp.Server) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	opts := builtin.ServeOptions{HTTPAddr: f.http, Stateless: f.stateless, Logger: logger}
	if f.http != "" {
		opts.Ready = func(addr net.Addr) {
			fmt.Fprintf(cmd.ErrOrStderr(), "serving MCP (Streamable HTTP) at http://%s/mcp\n", addr)
		}
	}
	return builtin.Serve(cmd.Context(), srv, opts)
}

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

With --http ADDR they serve Streamable HTTP at http://ADDR/mcp.`,
	}
	cmd.AddCommand(newBuiltinFilesystemCmd(), newBuiltinFetchCmd())
	return cmd
}

func newBuiltinFilesystemCmd() *cobra.Command {
	var (
		rootFlags []string
		sf        serveFlags
		maxRead   int64
	)
	cmd := &cobra.Command{
		Use:   "filesystem --root DIR[:ro] [--root DIR[:ro]]...",
		Short: "Serve files under allowed directories (read, write, edit, move, search)",
		Long: `Serve the files under the allowed directories as MCP tools (read_text_file,
read_multiple_files, write_file, edit_file, create_directory, list_directory,
directory_tree, move_file, search_files, get_file_info,
list_allowed_directories).

Every path is checked against the roots: ".." and symlinks that leave a root are
refused. A root given as DIR:ro refuses every write.`,
		Example: `  mcp-agent builtin filesystem --root ./docs:ro --root ./scratch
  mcp-agent builtin filesystem --root . --http 127.0.0.1:8931`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			// Positional directories are accepted too, like server-filesystem.
			all := append(append([]string{}, rootFlags...), args...)
			if len(all) == 0 {
				return fmt.Errorf("no allowed directory: give at least one --root DIR[:ro]")
			}
			roots := make([]filesystem.Root, 0, len(all))
			for _, r := range all {
				root, err := filesystem.ParseRoot(r)
				if err != nil {
					return err
				}
				roots = append(roots, root)
			}
			srv, err := filesystem.New(roots, &filesystem.Options{MaxReadBytes: maxRead})
			if err != nil {
				return err
			}
			return sf.serve(cmd, srv)
		},
	}
	cmd.Flags().StringArrayVar(&rootFlags, "root", nil, "allowed directory, DIR or DIR:ro (repeatable)")
	cmd.Flags().Int64Var(&maxRead, "max-read-bytes", 0, "largest file a read returns (default 10 MiB)")
	sf.register(cmd)
	return cmd
}

func newBuiltinFetchCmd() *cobra.Command {
	var (
		o  fetch.Options
		sf serveFlags
	)
	cmd := &cobra.Command{
		Use:   "fetch",
		Short: "Serve a fetch tool: HTTP(S) GET, HTML converted to markdown",
		Long: `Serve the fetch tool: HTTP(S) GET of a URL, HTML converted to readable
markdown, paged with start_index/max_length.

Link-local and cloud metadata addresses (169.254.169.254, ...) are refused unless
--allow-link-local; --allow-host restricts fetches to the hosts given,
--deny-host refuses hosts; both are checked on every redirect.`,
		Example: `  mcp-agent builtin fetch
  mcp-agent builtin fetch --allow-host '*.wikipedia.org' --max-bytes 1048576 --timeout 10s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			srv, err := fetch.New(&o)
			if err != nil {
				return err
			}
			return sf.serve(cmd, srv)
		},
	}
	cmd.Flags().StringArrayVar(&o.AllowHosts, "allow-host", nil, "only fetch these hosts: name, *.suffix, IP or CIDR (repeatable)")
	cmd.Flags().StringArrayVar(&o.DenyHosts, "deny-host", nil, "never fetch these hosts (repeatable; wins over --allow-host)")
	cmd.Flags().Int64Var(&o.MaxBytes, "max-bytes", 0, "bytes read from a response body (default 5 MiB)")
	cmd.Flags().DurationVar(&o.Timeout, "timeout", 30*time.Second, "bound on each fetch")
	cmd.Flags().IntVar(&o.MaxRedirects, "max-redirects", 0, "redirects followed (default 5; negative: none)")
	cmd.Flags().BoolVar(&o.AllowLinkLocal, "allow-link-local", false, "permit link-local and cloud metadata addresses")
	cmd.Flags().BoolVar(&o.DenyPrivate, "deny-private", false, "refuse loopback and private addresses too")
	sf.register(cmd)
	return cmd
}
