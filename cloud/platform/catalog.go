package platform

// From a deployment request to a stored spec, and from a stored spec to what
// the runtime runs. Catalog types are resolved when the server starts (not
// when it is stored), so a stored "filesystem" keeps working after the
// platform binary moves or a node package is installed.

import (
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
	"github.com/mcp-agent-go/mcp-agent/cloud/store"
)

// Types are the catalog's server types.
var Types = []string{"filesystem", "fetch", "everything", "memory", "filesystem-node"}

// npmServers are the catalog types run from npm packages: the package and
// its entry script.
var npmServers = map[string]struct{ pkg, script string }{
	"everything":      {"@modelcontextprotocol/server-everything", "dist/index.js"},
	"memory":          {"@modelcontextprotocol/server-memory", "dist/index.js"},
	"filesystem-node": {"@modelcontextprotocol/server-filesystem", "dist/index.js"},
}

// npmRegistry is the egress npx needs to download a package.
const npmRegistry = "registry.npmjs.org:443"

var nameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// storeSpec validates a request and returns the spec to store.
func (p *Platform) storeSpec(req api.CreateServerRequest) (store.Spec, error) {
	if req.Name == "" {
		return store.Spec{}, api.Invalid(`"name" is required: the server's name, such as "files"`)
	}
	if !nameRE.MatchString(req.Name) {
		return store.Spec{}, api.Invalid("invalid server name %q: use lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 63 characters", req.Name)
	}
	n := 0
	for _, set := range []bool{req.Type != "", req.Command != "", req.URL != ""} {
		if set {
			n++
		}
	}
	if n != 1 {
		return store.Spec{}, api.Invalid("give exactly one of type (%s), command, or url", strings.Join(Types, ", "))
	}
	s := store.Spec{
		Type: req.Type, Command: req.Command, Args: req.Args, URL: req.URL, Env: req.Env,
		EgressAllow: req.EgressAllow, Limits: store.Limits(req.Limits), Public: req.Public,
	}
	switch req.Mode {
	case "", "shared":
	case "per-session", "per_session":
		s.Mode = store.ModePerSession
	default:
		return store.Spec{}, api.Invalid("invalid mode %q: use \"shared\" (one process for every session) or \"per-session\"", req.Mode)
	}
	for i, ap := range req.AllowedPaths {
		mode := ap.Mode
		switch mode {
		case "", "r", "ro":
			mode = runtime.ModeRead
		case "rw":
		default:
			return store.Spec{}, api.Invalid("allowed_paths[%d]: invalid mode %q: use \"r\" or \"rw\"", i, ap.Mode)
		}
		if !filepath.IsAbs(ap.Path) {
			return store.Spec{}, api.Invalid("allowed_paths[%d]: %q is not an absolute path", i, ap.Path)
		}
		s.AllowedPaths = append(s.AllowedPaths, store.AllowedPath{Path: filepath.Clean(ap.Path), Mode: mode})
	}
	if req.Limits.CallTimeoutSeconds < 0 {
		return store.Spec{}, api.Invalid("limits.call_timeout_seconds must not be negative")
	}
	switch {
	case req.URL != "":
		u, err := url.Parse(req.URL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return store.Spec{}, api.Invalid("invalid url %q: want the http(s) URL of a Streamable HTTP MCP endpoint, such as http://127.0.0.1:3001/mcp", req.URL)
		}
		if s.Mode == store.ModePerSession || len(s.AllowedPaths) > 0 || len(s.EgressAllow) > 0 || len(s.Env) > 0 {
			return store.Spec{}, api.Invalid("url servers run elsewhere: mode, allowed_paths, egress_allow and env apply only to command and type servers")
		}
	case req.Type != "":
		if !slices.Contains(Types, req.Type) {
			return store.Spec{}, api.Invalid("unknown type %q: want one of %s, or give a command or url", req.Type, strings.Join(Types, ", "))
		}
		if len(req.Args) > 0 {
			return store.Spec{}, api.Invalid("args apply to command servers; type %q takes allowed_paths, egress_allow and env", req.Type)
		}
		if req.Type == "fetch" && len(s.EgressAllow) == 0 {
			s.EgressAllow = []string{"*"} // the public internet; private and metadata addresses stay refused
		}
		if (req.Type == "filesystem" || req.Type == "filesystem-node") && len(s.AllowedPaths) == 0 {
			return store.Spec{}, api.Invalid("type %s needs at least one allowed path (--allow-path DIR, or DIR:ro for read-only)", req.Type)
		}
		if _, ok := npmServers[req.Type]; ok {
			if _, err := exec.LookPath("node"); err != nil {
				return store.Spec{}, api.Invalid("type %s runs with Node.js, which is not installed here (node not found in PATH): install Node.js 18 or later", req.Type)
			}
		}
	}
	return s, nil
}

// runtimeSpec returns what the runtime runs for a stdio deployment.
func (p *Platform) runtimeSpec(full string, s store.Spec) (runtime.Spec, error) {
	rs := runtime.Spec{
		Name:    full,
		Command: s.Command,
		Args:    slices.Clone(s.Args),
		Env:     map[string]string{},
		Network: runtime.Network{EgressAllow: slices.Clone(s.EgressAllow)},
		Limits: runtime.Limits{
			MemoryBytes: s.Limits.MemoryBytes, CPUSeconds: s.Limits.CPUSeconds,
			OpenFiles: s.Limits.OpenFiles, Processes: s.Limits.Processes,
			CallTimeout: time.Duration(s.Limits.CallTimeoutSeconds * float64(time.Second)),
		},
	}
	if s.Mode == store.ModePerSession {
		rs.Instances = runtime.PerSession
	}
	for _, ap := range s.AllowedPaths {
		rs.Filesystem.AllowedPaths = append(rs.Filesystem.AllowedPaths, runtime.AllowedPath{Path: ap.Path, Mode: ap.Mode})
	}
	switch s.Type {
	case "":
	case "filesystem":
		b := p.opts.Builtin
		rs.Command = b.Path
		rs.Args = append(slices.Clone(b.Args), "filesystem")
		for _, ap := range s.AllowedPaths {
			root := ap.Path
			if ap.Mode != runtime.ModeReadWrite {
				root += ":ro"
			}
			rs.Args = append(rs.Args, "--root", root)
		}
		for k, v := range b.Env {
			rs.Env[k] = v
		}
	case "fetch":
		b := p.opts.Builtin
		rs.Command = b.Path
		// The sandbox's only way out is the egress proxy, which refuses
		// link-local and metadata addresses after DNS.
		rs.Args = append(slices.Clone(b.Args), "fetch", "--proxy-from-env")
		for k, v := range b.Env {
			rs.Env[k] = v
		}
	default:
		npm, ok := npmServers[s.Type]
		if !ok {
			return rs, api.Invalid("unknown type %q", s.Type)
		}
		node, err := exec.LookPath("node")
		if err != nil {
			return rs, api.Invalid("type %s runs with Node.js, which is not installed here: install Node.js 18 or later", s.Type)
		}
		var args []string
		if dir, script := p.findNodeModule(npm.pkg, npm.script); script != "" {
			rs.Command = node
			args = []string{script}
			rs.Filesystem.AllowedPaths = append(rs.Filesystem.AllowedPaths, runtime.AllowedPath{Path: dir, Mode: runtime.ModeRead})
		} else {
			npx, err := exec.LookPath("npx")
			if err != nil {
				return rs, api.Invalid("type %s: %s is not installed locally and npx is not in PATH: install Node.js with npm", s.Type, npm.pkg)
			}
			rs.Command = npx
			args = []string{"-y", npm.pkg}
			if !slices.Contains(rs.Network.EgressAllow, npmRegistry) && !slices.Contains(rs.Network.EgressAllow, "*") {
				rs.Network.EgressAllow = append(rs.Network.EgressAllow, npmRegistry)
			}
			rs.Env["npm_config_cache"] = "/tmp/.npm"
			rs.Env["npm_config_update_notifier"] = "false"
		}
		switch s.Type {
		case "everything":
			args = append(args, "stdio")
		case "memory":
			rs.Env["MEMORY_FILE_PATH"] = "/tmp/memory.jsonl"
		case "filesystem-node":
			for _, ap := range s.AllowedPaths {
				args = append(args, ap.Path)
			}
		}
		rs.Args = args
	}
	for k, v := range s.Env {
		rs.Env[k] = v
	}
	if rs.Command == "" {
		return rs, api.Invalid("no command to run")
	}
	if err := rs.Validate(); err != nil {
		if se, ok := err.(*runtime.SpecError); ok {
			return rs, api.Invalid("%s", specErrorMessage(se))
		}
		return rs, api.Invalid("%v", err)
	}
	return rs, nil
}

// findNodeModule looks for an installed npm package in the NodeModules
// directories and returns the node_modules directory and the entry script.
func (p *Platform) findNodeModule(pkg, script string) (dir, path string) {
	for _, d := range p.opts.NodeModules {
		f := filepath.Join(d, pkg, script)
		if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
			return d, f
		}
	}
	return "", ""
}

// defaultNodeModules is .tools/node_modules in the working directory and
// each of its parents.
func defaultNodeModules() []string {
	wd, err := os.Getwd()
	if err != nil {
		return []string{}
	}
	var dirs []string
	for d := wd; ; d = filepath.Dir(d) {
		dirs = append(dirs, filepath.Join(d, ".tools", "node_modules"))
		if filepath.Dir(d) == d || len(dirs) > 32 {
			return dirs
		}
	}
}
