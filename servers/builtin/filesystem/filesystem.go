// Package filesystem is the built-in filesystem MCP server: it lets a client
// read, write, edit, move and search files inside a fixed set of allowed
// directories (roots), and nowhere else.
//
// Its tools carry the names and argument names of the official
// @modelcontextprotocol/server-filesystem (read_text_file, write_file,
// edit_file, list_directory, search_files, ...), so models and clients that
// know that server know this one.
//
// Quick start, serving ./data read-write and ./docs read-only over stdio:
//
//	roots := []filesystem.Root{{Path: "./data"}, {Path: "./docs", ReadOnly: true}}
//	srv, err := filesystem.New(roots, nil)
//	if err != nil {
//		log.Fatal(err)
//	}
//	err = builtin.Serve(ctx, srv, builtin.ServeOptions{})
//
// From the command line the same is `mcp-agent builtin filesystem --root
// ./data --root ./docs:ro`; [ParseRoot] parses the DIR[:ro|:rw] syntax.
//
// # Security model
//
// Every path a client sends is resolved lexically first: a relative path is
// taken relative to the first root, an absolute path must lie under one root,
// and a path that climbs out with ".." is refused. The file operation itself
// then goes through an [os.Root] opened on that root directory, so a symbolic
// link (or a race that swaps a directory for a link) can never lead outside
// it: symlinks are followed only while they stay inside the same root, and
// absolute symlinks are not followed at all. Tools that change files refuse
// paths in read-only roots. Writes go to a temporary file in the same
// directory that is renamed over the target, so a failed write leaves the old
// content intact. Refusals are tool errors (IsError results) whose text names
// the path and the reason.
package filesystem

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Root is one allowed directory.
type Root struct {
	// Path is the directory; relative paths are taken relative to the
	// working directory of the process calling New.
	Path string
	// ReadOnly refuses every tool that would change something under Path.
	ReadOnly bool
}

// String formats r in the syntax ParseRoot reads: DIR, or DIR:ro; DIR:rw
// only when DIR itself ends in ":ro" or ":rw", so ParseRoot(r.String())
// gives r back.
func (r Root) String() string {
	switch {
	case r.ReadOnly:
		return r.Path + ":ro"
	case strings.HasSuffix(r.Path, ":ro") || strings.HasSuffix(r.Path, ":rw"):
		return r.Path + ":rw"
	}
	return r.Path
}

// ParseRoot parses the command-line form of a root: DIR (read-write),
// DIR:rw (read-write) or DIR:ro (read-only). Only a trailing ":ro" or ":rw"
// is a mode, so a directory whose name holds a colon still parses. ParseRoot
// does not touch the filesystem; New checks that the directory exists.
func ParseRoot(s string) (Root, error) {
	var r Root
	switch {
	case strings.HasSuffix(s, ":ro"):
		r = Root{Path: strings.TrimSuffix(s, ":ro"), ReadOnly: true}
	case strings.HasSuffix(s, ":rw"):
		r = Root{Path: strings.TrimSuffix(s, ":rw")}
	default:
		r = Root{Path: s}
	}
	if r.Path == "" {
		return Root{}, fmt.Errorf("root %q has no directory; use DIR, DIR:ro or DIR:rw", s)
	}
	if strings.ContainsRune(r.Path, 0) {
		return Root{}, fmt.Errorf("root %q contains a NUL byte", s)
	}
	return r, nil
}

// Options configures New. The zero value, and a nil *Options, use the
// defaults given for each field.
type Options struct {
	// MaxReadBytes caps how much read_text_file, read_multiple_files (per
	// call) and edit_file read. Larger files are refused with an error that
	// suggests head or tail. Default 10 MiB.
	MaxReadBytes int64
	// MaxSearchResults caps the matches one search_files call returns; more
	// are reported as truncated. Default 1000.
	MaxSearchResults int
	// MaxWalkEntries caps the directory entries one list_directory,
	// directory_tree or search_files call visits, so a huge tree cannot
	// stall the server. Default 100000.
	MaxWalkEntries int
	// Implementation names the server in the MCP handshake. Default
	// {Name: "mcp-agent-filesystem", Version: the module version}.
	Implementation *mcp.Implementation
}

// Defaults for Options fields.
const (
	DefaultMaxReadBytes     = 10 << 20
	DefaultMaxSearchResults = 1000
	DefaultMaxWalkEntries   = 100_000
)

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.MaxReadBytes <= 0 {
		out.MaxReadBytes = DefaultMaxReadBytes
	}
	if out.MaxSearchResults <= 0 {
		out.MaxSearchResults = DefaultMaxSearchResults
	}
	if out.MaxWalkEntries <= 0 {
		out.MaxWalkEntries = DefaultMaxWalkEntries
	}
	if out.Implementation == nil {
		version := "(devel)"
		if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
			version = bi.Main.Version
		}
		out.Implementation = &mcp.Implementation{Name: "mcp-agent-filesystem", Version: version}
	}
	return out
}

// New returns an MCP server whose tools operate inside roots. Each root must
// be an existing directory; it is made absolute and its symlinks are
// evaluated. Roots may not repeat or nest inside one another (a read-only
// root inside a read-write one could be reached through a symlink in the
// outer root). The first root is where relative paths resolve.
//
// The server holds an open directory handle per root for its lifetime; the
// handles are released when the server is garbage collected.
func New(roots []Root, opts *Options) (*mcp.Server, error) {
	o := opts.withDefaults()
	fsys, err := newFileSystem(roots, o)
	if err != nil {
		return nil, err
	}
	srv := mcp.NewServer(o.Implementation, &mcp.ServerOptions{
		Instructions: "Filesystem access limited to the allowed directories " +
			"(call list_allowed_directories to see them and which are read-only). " +
			"Relative paths resolve against the first allowed directory.",
		Capabilities: &mcp.ServerCapabilities{},
	})
	fsys.register(srv)
	return srv, nil
}

func newFileSystem(roots []Root, o Options) (_ *fileSystem, err error) {
	if len(roots) == 0 {
		return nil, errors.New("no allowed directories: give at least one root (--root DIR)")
	}
	fsys := &fileSystem{opts: o}
	defer func() {
		if err != nil {
			for _, r := range fsys.roots {
				r.fs.Close()
			}
		}
	}()
	for _, r := range roots {
		rt, err := openRoot(r)
		if err != nil {
			return nil, err
		}
		fsys.roots = append(fsys.roots, rt)
		prevs := fsys.roots[:len(fsys.roots)-1]
		for _, prev := range prevs {
			switch {
			case rt.path == prev.path:
				return nil, fmt.Errorf("root %s is given twice (as %q and %q)", rt.path, prev.given, rt.given)
			case within(prev.path, rt.path):
				return nil, fmt.Errorf("root %s is inside root %s; nested roots are not supported, give only one of them", rt.path, prev.path)
			case within(rt.path, prev.path):
				return nil, fmt.Errorf("root %s is inside root %s; nested roots are not supported, give only one of them", prev.path, rt.path)
			}
		}
	}
	fsys.escapeErr = probeEscapeError(fsys.roots[0].fs)
	return fsys, nil
}

// openRoot checks and opens one root directory.
func openRoot(r Root) (*root, error) {
	if r.Path == "" {
		return nil, errors.New("root has an empty path")
	}
	abs, err := filepath.Abs(r.Path)
	if err != nil {
		return nil, fmt.Errorf("root %q: %w", r.Path, err)
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			hint := ""
			if strings.Contains(r.Path, ":") {
				hint = " (the only modes are :ro and :rw)"
			}
			return nil, fmt.Errorf("root %q: directory %s does not exist%s", r.Path, abs, hint)
		}
		return nil, fmt.Errorf("root %q: %w", r.Path, err)
	}
	fi, err := os.Stat(real)
	if err != nil {
		return nil, fmt.Errorf("root %q: %w", r.Path, err)
	}
	if !fi.IsDir() {
		return nil, fmt.Errorf("root %q: %s is not a directory", r.Path, real)
	}
	osRoot, err := os.OpenRoot(real)
	if err != nil {
		return nil, fmt.Errorf("root %q: open %s: %w", r.Path, real, err)
	}
	return &root{path: real, alias: abs, given: r.Path, readOnly: r.ReadOnly, fs: osRoot}, nil
}
