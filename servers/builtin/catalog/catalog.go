// Package catalog lists the utility MCP servers built into mcp-agent and
// builds them from command-line arguments, so the same arguments work three
// ways: on the command line (mcp-agent builtin NAME ...), in a config
// (command: mcp-agent, args: [builtin, NAME, ...]) run as a child process, and
// in-process, without a child process, through Transport.
package catalog

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/pflag"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/servers/builtin/fetch"
	"github.com/mcp-agent-go/mcp-agent/servers/builtin/filesystem"
)

// A Builtin is one built-in server.
type Builtin struct {
	Name, Short, Long, Example string
	// Bind registers the server's flags on fs and returns the function
	// that builds the server once fs is parsed. args are the positional
	// arguments; dir resolves relative paths ("" is the working directory).
	Bind func(fs *pflag.FlagSet) func(args []string, dir string) (*mcp.Server, error)
}

// All are the built-in servers, by name.
var All = []Builtin{
	{
		Name:  "filesystem",
		Short: "Serve files under allowed directories (read, write, edit, move, search)",
		Long: `Serve the files under the allowed directories as MCP tools (read_text_file,
read_multiple_files, write_file, edit_file, create_directory, list_directory,
directory_tree, move_file, search_files, get_file_info,
list_allowed_directories).

Every path is checked against the roots: ".." and symlinks that leave a root are
refused. A root given as DIR:ro refuses every write.`,
		Example: `  mcp-agent builtin filesystem --root ./docs:ro --root ./scratch
  mcp-agent builtin filesystem --root . --http 127.0.0.1:8931`,
		Bind: bindFilesystem,
	},
	{
		Name:  "fetch",
		Short: "Serve a fetch tool: HTTP(S) GET, HTML converted to markdown",
		Long: `Serve the fetch tool: HTTP(S) GET of a URL, HTML converted to readable
markdown, paged with start_index/max_length.

Link-local and cloud metadata addresses (169.254.169.254, ...) are refused unless
--allow-link-local; --allow-host restricts fetches to the hosts given,
--deny-host refuses hosts; both are checked on every redirect.`,
		Example: `  mcp-agent builtin fetch
  mcp-agent builtin fetch --allow-host '*.wikipedia.org' --max-bytes 1048576 --timeout 10s`,
		Bind: bindFetch,
	},
}

// Names are the built-in servers' names.
func Names() []string {
	names := make([]string, len(All))
	for i, b := range All {
		names[i] = b.Name
	}
	return names
}

// Lookup returns the built-in server named name.
func Lookup(name string) (Builtin, bool) {
	i := slices.IndexFunc(All, func(b Builtin) bool { return b.Name == name })
	if i < 0 {
		return Builtin{}, false
	}
	return All[i], true
}

// New builds a built-in server from its arguments: the name, then its flags
// and positional arguments, as after "mcp-agent builtin". Relative paths
// resolve against dir ("" is the working directory).
func New(args []string, dir string) (*mcp.Server, error) {
	if len(args) == 0 {
		return nil, fmt.Errorf("no built-in server named (want one of %s)", strings.Join(Names(), ", "))
	}
	b, ok := Lookup(args[0])
	if !ok {
		return nil, fmt.Errorf("unknown built-in server %q (want one of %s)", args[0], strings.Join(Names(), ", "))
	}
	fs := pflag.NewFlagSet("mcp-agent builtin "+b.Name, pflag.ContinueOnError)
	fs.Usage = func() {}
	build := b.Bind(fs)
	var ignored string
	fs.StringVar(&ignored, "http", "", "")
	var stateless bool
	fs.BoolVar(&stateless, "stateless", false, "")
	if err := fs.Parse(args[1:]); err != nil {
		return nil, fmt.Errorf("builtin %s: %w", b.Name, err)
	}
	return build(fs.Args(), dir)
}

// Args returns the arguments after "builtin" when spec runs a built-in
// server of this binary (command "mcp-agent", args [builtin, NAME, ...]).
func Args(spec config.ServerSpec) ([]string, bool) {
	if spec.EffectiveTransport() != config.TransportStdio {
		return nil, false
	}
	if strings.TrimSuffix(filepath.Base(spec.Command), ".exe") != "mcp-agent" {
		return nil, false
	}
	if len(spec.Args) < 2 || spec.Args[0] != "builtin" {
		return nil, false
	}
	return spec.Args[1:], true
}

// Transport returns an in-memory transport to the built-in server spec
// names, running in this process: no child process, same behaviour. ok is
// false when spec is not a built-in server. The server runs until the
// client closes its connection.
func Transport(spec config.ServerSpec) (t mcp.Transport, ok bool, err error) {
	args, ok := Args(spec)
	if !ok {
		return nil, false, nil
	}
	srv, err := New(args, spec.Cwd)
	if err != nil {
		return nil, true, err
	}
	return &inProcess{srv: srv}, true, nil
}

// inProcess connects a client to a fresh session of srv over in-memory
// transports.
type inProcess struct{ srv *mcp.Server }

func (t *inProcess) Connect(ctx context.Context) (mcp.Connection, error) {
	clientT, serverT := mcp.NewInMemoryTransports()
	if _, err := t.srv.Connect(ctx, serverT, nil); err != nil {
		return nil, err
	}
	return clientT.Connect(ctx)
}

func bindFilesystem(fs *pflag.FlagSet) func([]string, string) (*mcp.Server, error) {
	var (
		roots   []string
		maxRead int64
	)
	fs.StringArrayVar(&roots, "root", nil, "allowed directory, DIR or DIR:ro (repeatable)")
	fs.Int64Var(&maxRead, "max-read-bytes", 0, "largest file a read returns (default 10 MiB)")
	return func(args []string, dir string) (*mcp.Server, error) {
		// Positional directories are accepted too, like server-filesystem.
		all := append(append([]string{}, roots...), args...)
		if len(all) == 0 {
			return nil, fmt.Errorf("no allowed directory: give at least one --root DIR[:ro]")
		}
		parsed := make([]filesystem.Root, 0, len(all))
		for _, r := range all {
			root, err := filesystem.ParseRoot(r)
			if err != nil {
				return nil, err
			}
			if dir != "" && !filepath.IsAbs(root.Path) {
				root.Path = filepath.Join(dir, root.Path)
			}
			parsed = append(parsed, root)
		}
		return filesystem.New(parsed, &filesystem.Options{MaxReadBytes: maxRead})
	}
}

func bindFetch(fs *pflag.FlagSet) func([]string, string) (*mcp.Server, error) {
	var o fetch.Options
	fs.StringArrayVar(&o.AllowHosts, "allow-host", nil, "only fetch these hosts: name, *.suffix, IP or CIDR (repeatable)")
	fs.StringArrayVar(&o.DenyHosts, "deny-host", nil, "never fetch these hosts (repeatable; wins over --allow-host)")
	fs.Int64Var(&o.MaxBytes, "max-bytes", 0, "bytes read from a response body (default 5 MiB)")
	fs.DurationVar(&o.Timeout, "timeout", 30*time.Second, "bound on each fetch")
	fs.IntVar(&o.MaxRedirects, "max-redirects", 0, "redirects followed (default 5; negative: none)")
	fs.BoolVar(&o.AllowLinkLocal, "allow-link-local", false, "permit link-local and cloud metadata addresses")
	fs.BoolVar(&o.DenyPrivate, "deny-private", false, "refuse loopback and private addresses too")
	fs.StringVar(&o.UserAgent, "user-agent", "", "User-Agent header (default: mcp-agent's)")
	fs.BoolVar(&o.ProxyFromEnvironment, "proxy-from-env", false, "send requests through HTTP(S)_PROXY (a sandbox's egress proxy)")
	return func(args []string, _ string) (*mcp.Server, error) {
		if len(args) > 0 {
			return nil, fmt.Errorf("builtin fetch takes no arguments, got %q", args)
		}
		opts := o
		return fetch.New(&opts)
	}
}
