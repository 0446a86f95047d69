package config

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
)

// LoadOptions says where Load finds the configuration. The zero value
// searches the working directory and its parents and reads the process
// environment.
type LoadOptions struct {
	// Path is the config file to load (the --config flag). Empty: search for
	// mcp_agent.config.yaml in Dir and its parents.
	Path string
	// Dir is where the search starts. Empty: the working directory.
	Dir string
	// SecretsPath is the secrets file to merge. Empty: mcp_agent.secrets.yaml
	// (or .yml) next to the config file, if there is one.
	SecretsPath string
	// Env looks up variables for ${VAR} expansion and the OPENAI_API_KEY,
	// ANTHROPIC_API_KEY, OPENAI_BASE_URL, ANTHROPIC_BASE_URL fallbacks.
	// nil: os.LookupEnv.
	Env func(string) (string, bool)
	// Environ lists the environment as KEY=VALUE, scanned for MCP_AGENT__*
	// overrides. nil: os.Environ() when Env is nil too, otherwise no
	// overrides (so a test that sets Env sees only what it sets).
	Environ []string
	// NoEnvOverrides turns off the MCP_AGENT__* overrides and the provider
	// fallbacks; ${VAR} references in the files are still expanded.
	NoEnvOverrides bool
}

func (o *LoadOptions) lookup() func(string) (string, bool) {
	if o.Env != nil {
		return o.Env
	}
	return os.LookupEnv
}

func (o *LoadOptions) environ() []string {
	if o.Environ != nil || o.Env != nil {
		return o.Environ
	}
	return os.Environ()
}

// Names searched for, in order of preference, in each directory and in its
// .mcp-agent subdirectory. mcp-agent.* are the Python project's alternative
// spellings.
var (
	configNames  = []string{"mcp_agent.config.yaml", "mcp_agent.config.yml", "mcp-agent.config.yaml", "mcp-agent.config.yml"}
	secretsNames = []string{"mcp_agent.secrets.yaml", "mcp_agent.secrets.yml", "mcp-agent.secrets.yaml", "mcp-agent.secrets.yml"}
)

// Load reads the configuration file named by opts.Path, or the first
// mcp_agent.config.yaml (or .yml) found in opts.Dir and its parents (also
// looking in each directory's .mcp-agent subdirectory), merges the secrets
// file next to it, expands ${VAR} references, applies MCP_AGENT__*
// environment overrides, and validates the result.
//
// When searching finds nothing, the error wraps ErrNotFound. Problems in the
// files are reported together as a *ValidationError whose items name the
// file, line and key.
func Load(opts LoadOptions) (*Settings, error) {
	var cfgPath, cfgName string
	if opts.Path != "" {
		cfgPath, cfgName = opts.Path, opts.Path
	} else {
		start := opts.Dir
		if start == "" {
			wd, err := os.Getwd()
			if err != nil {
				return nil, fmt.Errorf("config: finding the working directory to search from: %w", err)
			}
			start = wd
		}
		var err error
		cfgPath, cfgName, err = search(start)
		if err != nil {
			return nil, err
		}
	}
	data, err := os.ReadFile(cfgPath)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("config file %s does not exist (check --config): %w", cfgName, err)
		}
		return nil, fmt.Errorf("config: reading %s: %w", cfgName, err)
	}
	src := []source{{name: cfgName, path: cfgPath, data: data}}

	secPath, secName := opts.SecretsPath, opts.SecretsPath
	if secPath == "" {
		dir := filepath.Dir(cfgPath)
		for _, n := range secretsNames {
			p := filepath.Join(dir, n)
			if st, err := os.Stat(p); err == nil && !st.IsDir() {
				secPath, secName = p, filepath.Join(filepath.Dir(cfgName), n)
				break
			}
		}
	}
	if secPath != "" {
		data, err := os.ReadFile(secPath)
		if err != nil {
			return nil, fmt.Errorf("config: reading secrets file %s: %w", secName, err)
		}
		src = append(src, source{name: secName, path: secPath, data: data})
	}
	return load(src, &opts)
}

// LoadBytes loads a configuration from data as Load does, without searching
// or reading a secrets file next to it (opts.SecretsPath is still read when
// set; opts.Path and opts.Dir are ignored). name is the file name used in
// error messages and Settings.Files.
func LoadBytes(name string, data []byte, opts LoadOptions) (*Settings, error) {
	if name == "" {
		name = configNames[0]
	}
	src := []source{{name: name, path: name, data: data}}
	if opts.SecretsPath != "" {
		sd, err := os.ReadFile(opts.SecretsPath)
		if err != nil {
			return nil, fmt.Errorf("config: reading secrets file %s: %w", opts.SecretsPath, err)
		}
		src = append(src, source{name: opts.SecretsPath, path: opts.SecretsPath, data: sd})
	}
	return load(src, &opts)
}

// search looks for a config file in start and its parents. It returns the
// file's path and the name to show in errors: the base name when the file is
// in start, else its path relative to start.
func search(start string) (path, name string, err error) {
	abs, err := filepath.Abs(start)
	if err != nil {
		return "", "", fmt.Errorf("config: resolving %s: %w", start, err)
	}
	for dir := abs; ; {
		for _, sub := range []string{"", ".mcp-agent"} {
			for _, n := range configNames {
				p := filepath.Join(dir, sub, n)
				if st, err := os.Stat(p); err == nil && !st.IsDir() {
					rel, err := filepath.Rel(abs, p)
					if err != nil {
						rel = p
					}
					return p, rel, nil
				}
			}
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", "", fmt.Errorf("%w in %s or any parent directory (looked for %s and .yml, also in .mcp-agent/); pass --config PATH, or create %s there (see docs/config.md)",
		ErrNotFound, abs, configNames[0], configNames[0])
}

// source is one file to merge.
type source struct {
	name string // as shown in errors
	path string // as recorded in Settings.Files
	data []byte
}

func load(srcs []source, opts *LoadOptions) (*Settings, error) {
	var errs errorList
	lookup := opts.lookup()
	var root *node
	unreadable := false
	for _, src := range srcs {
		n := parseDocument(src.name, src.data, &errs)
		if n == nil {
			unreadable = true
			continue
		}
		if n.kind != mapNode && n.kind != nullNode {
			errs.at(n.pos, "", "the file must be a mapping of settings (key: value), got %s", n.describe())
			unreadable = true
			continue
		}
		expandTree(n, "", lookup, &errs)
		root = merge(root, n)
	}
	if unreadable {
		// Checking what could be read would report problems that are only
		// there because part of the settings is missing.
		return nil, newValidationError(errs.errs, srcs)
	}
	if root == nil || root.kind != mapNode {
		root = &node{kind: mapNode}
	}
	if !opts.NoEnvOverrides {
		env := opts.environ()
		var names []string
		values := map[string]string{}
		for _, kv := range env {
			k, v, ok := strings.Cut(kv, "=")
			if !ok || len(k) <= len(envPrefix) || !strings.EqualFold(k[:len(envPrefix)], envPrefix) {
				continue
			}
			if _, dup := values[k]; !dup {
				names = append(names, k)
			}
			values[k] = v
		}
		sort.Strings(names)
		for _, k := range names {
			applyEnvOverride(root, k, values[k], &errs)
		}
	}
	normalizeExporters(root, &errs)

	s := &Settings{}
	for _, src := range srcs {
		s.Files = append(s.Files, src.path)
	}
	d := &decoder{errs: &errs, pos: map[string]position{}}
	d.decodeTop(root, s)
	if !opts.NoEnvOverrides {
		fillProviderFromEnv(s, lookup)
	}
	base := filepath.Dir(srcs[0].path)
	loadAgentFiles(s, base, d)
	resolveServerDirs(s, base)
	normalize(s)
	validate(s, d.pos, &errs, srcs[0].name)
	if len(errs.errs) > 0 {
		return nil, newValidationError(errs.errs, srcs)
	}
	return s, nil
}

// decodeTop decodes the top-level mapping into s; unknown keys go to
// s.Extra unless they hold a list or look like a misspelt known key.
func (d *decoder) decodeTop(root *node, s *Settings) {
	v := reflect.ValueOf(s).Elem()
	fi := fieldsOf(v.Type())
	for _, e := range root.entries {
		d.pos[e.key] = e.keyPos
		if i, ok := fi.byName[e.key]; ok {
			d.decode(e.val, v.Field(i), e.key)
			continue
		}
		if near := nearKey(e.key, fi.names); near != "" {
			d.errs.at(e.keyPos, e.key, "unknown key %q (did you mean %q?)", e.key, near)
			continue
		}
		if e.val.kind == seqNode {
			d.errs.at(e.keyPos, e.key, "unknown key %q holds a list; only unknown sections (mappings) and single values are kept (known keys: %s)", e.key, strings.Join(fi.names, ", "))
			continue
		}
		if s.Extra == nil {
			s.Extra = map[string]any{}
		}
		s.Extra[e.key] = toAny(e.val)
	}
}

// nearKey returns the known key that key is most likely a misspelling of,
// or "" when none is close.
func nearKey(key string, known []string) string {
	k := strings.ToLower(key)
	if len(k) < 4 {
		return ""
	}
	limit := 1
	if len(k) >= 7 {
		limit = 2
	}
	for _, c := range known {
		if c != k && editDistance(k, c) <= limit {
			return c
		}
	}
	return ""
}

// fillProviderFromEnv applies the Python project's provider environment
// fallbacks to values no file or override set.
func fillProviderFromEnv(s *Settings, lookup func(string) (string, bool)) {
	fill := func(p **ProviderSettings, keyVar, urlVar string) {
		key, _ := lookup(keyVar)
		base, _ := lookup(urlVar)
		if key == "" && base == "" {
			return
		}
		if *p == nil {
			if key == "" {
				return // a base URL alone does not configure a provider
			}
			*p = &ProviderSettings{}
		}
		if (*p).APIKey == "" {
			(*p).APIKey = key
		}
		if (*p).BaseURL == "" {
			(*p).BaseURL = base
		}
	}
	fill(&s.OpenAI, "OPENAI_API_KEY", "OPENAI_BASE_URL")
	fill(&s.Anthropic, "ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL")
}

func newValidationError(errs []*FieldError, srcs []source) *ValidationError {
	rank := func(file string) int {
		for i, s := range srcs {
			if s.name == file {
				return i
			}
		}
		return len(srcs)
	}
	sort.SliceStable(errs, func(i, j int) bool {
		ri, rj := rank(errs[i].File), rank(errs[j].File)
		if ri != rj {
			return ri < rj
		}
		if errs[i].File != errs[j].File {
			return errs[i].File < errs[j].File
		}
		return errs[i].Line < errs[j].Line
	})
	if len(errs) > maxErrors {
		extra := len(errs) - maxErrors
		errs = append(errs[:maxErrors:maxErrors], &FieldError{File: errs[maxErrors].File, Msg: fmt.Sprintf("and %d more errors", extra)})
	}
	return &ValidationError{Errors: errs}
}

// resolveServerDirs makes a relative mcp.servers.<name>.cwd relative to the
// config file's directory, so a config works whatever directory it is used
// from.
func resolveServerDirs(s *Settings, base string) {
	for name, spec := range s.MCP.Servers {
		if spec.Cwd != "" && !filepath.IsAbs(spec.Cwd) {
			spec.Cwd = filepath.Join(base, spec.Cwd)
			s.MCP.Servers[name] = spec
		}
	}
}
