package config

import (
	"net/url"
	"regexp"
	"sort"
	"strings"
)

var (
	transports      = []string{TransportStdio, TransportSSE, TransportStreamableHTTP, TransportWebSocket}
	engines         = []string{EngineLocal, "asyncio", EngineTemporal}
	logLevels       = []string{"debug", "info", "warning", "error"}
	logTransports   = []string{LogConsole, LogFile}
	logTypes        = []string{"none", LogConsole, LogFile, "http"}
	otelExporters   = []string{"console", "file", "otlp"}
	workflowTypes   = []string{WorkflowParallel, WorkflowRouter, WorkflowIntent, WorkflowEvaluatorOptimizer, WorkflowOrchestrator, WorkflowSwarm}
	serverNameRE    = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]*$`)
	workflowAliases = map[string]string{
		"evaluator_optimizer": WorkflowEvaluatorOptimizer,
		"evaluatoroptimizer":  WorkflowEvaluatorOptimizer,
		"evaluator-optimiser": WorkflowEvaluatorOptimizer,
		"evaluator_optimiser": WorkflowEvaluatorOptimizer,
		"intent_classifier":   WorkflowIntent,
		"intent-classifier":   WorkflowIntent,
		"intentclassifier":    WorkflowIntent,
		"llm_router":          WorkflowRouter,
		"llm-router":          WorkflowRouter,
		"parallel_llm":        WorkflowParallel,
		"parallel-llm":        WorkflowParallel,
		"fan_out":             WorkflowParallel,
	}
)

func want(list []string) string { return "(want " + strings.Join(list, ", ") + ")" }

// normalizeWorkflowType returns the canonical spelling of a workflow type,
// or t unchanged when it is not one.
func normalizeWorkflowType(t string) string {
	l := strings.ToLower(strings.TrimSpace(t))
	if a, ok := workflowAliases[l]; ok {
		return a
	}
	for _, w := range workflowTypes {
		if l == w {
			return w
		}
	}
	return t
}

// normalize rewrites spellings into their canonical form after decoding.
func normalize(s *Settings) {
	switch e := strings.ToLower(s.ExecutionEngine); e {
	case "asyncio", EngineLocal:
		s.ExecutionEngine = EngineLocal
	case EngineTemporal:
		s.ExecutionEngine = EngineTemporal
	}
	for name, spec := range s.MCP.Servers {
		spec.Name = name
		s.MCP.Servers[name] = spec
	}
	for name, w := range s.Workflows {
		w.Type = normalizeWorkflowType(w.Type)
		s.Workflows[name] = w
	}
	for _, p := range []*ProviderSettings{s.OpenAI, s.Anthropic} {
		if p == nil || p.DefaultHeaders == nil {
			continue
		}
		if p.Headers == nil {
			p.Headers = map[string]string{}
		}
		for k, v := range p.DefaultHeaders {
			if _, ok := p.Headers[k]; !ok {
				p.Headers[k] = v
			}
		}
		p.DefaultHeaders = nil
	}
}

// validator checks the decoded settings; pos gives where each key path was
// written.
type validator struct {
	s    *Settings
	pos  map[string]position
	errs *errorList
	file string // fallback file name
}

// at returns the position of path, or of its nearest recorded ancestor.
func (v *validator) at(path string) position {
	for p := path; p != ""; {
		if ps, ok := v.pos[p]; ok {
			return ps
		}
		i := strings.LastIndexAny(p, ".[")
		if i < 0 {
			break
		}
		p = p[:i]
	}
	return position{file: v.file}
}

func (v *validator) errorf(path, format string, args ...any) {
	v.errs.at(v.at(path), path, format, args...)
}

func validate(s *Settings, pos map[string]position, errs *errorList, file string) {
	v := &validator{s: s, pos: pos, errs: errs, file: file}
	if e := s.ExecutionEngine; e != "" && e != EngineLocal && e != EngineTemporal {
		v.errorf("execution_engine", "unknown execution engine %q %s", e, want(engines))
	}
	v.logger()
	v.otel()
	v.servers()
	v.agents()
	v.workflows()
}

func (v *validator) logger() {
	l := &v.s.Logger
	if l.Level != "" && !contains(append(logLevels, "warn"), strings.ToLower(l.Level)) {
		v.errorf("logger.level", "unknown log level %q (want debug, info, warning, warn, error)", l.Level)
	}
	if l.Type != "" && !contains(logTypes, l.Type) {
		v.errorf("logger.type", "unknown logger type %q %s", l.Type, want(logTypes))
	}
	file := false
	for i, t := range l.Transports {
		switch t {
		case LogConsole:
		case LogFile:
			file = true
		default:
			v.errorf(indexPath("logger.transports", i), "unknown logger transport %q %s", t, want(logTransports))
		}
	}
	if len(l.Transports) == 0 && l.Type == LogFile {
		file = true
	}
	if file && l.Path == "" && (l.PathSettings == nil || l.PathSettings.PathPattern == "") {
		at := "logger.transports"
		if len(l.Transports) == 0 {
			at = "logger.type"
		}
		v.errorf(at, "the file transport needs a file: set logger.path (e.g. logs/mcp-agent.jsonl) or logger.path_settings.path_pattern")
	}
	if ps := l.PathSettings; ps != nil && ps.UniqueID != "" && ps.UniqueID != "timestamp" && ps.UniqueID != "session_id" {
		v.errorf("logger.path_settings.unique_id", "unknown unique_id %q (want timestamp, session_id)", ps.UniqueID)
	}
}

func (v *validator) otel() {
	o := v.s.OTel
	if o == nil {
		return
	}
	for i, e := range o.Exporters {
		// "" is a value already reported as the wrong type.
		if e != "" && !contains(otelExporters, e) {
			v.errorf(indexPath("otel.exporters", i), "unknown exporter %q %s", e, want(otelExporters))
		}
	}
	if o.SampleRate < 0 || o.SampleRate > 1 {
		v.errorf("otel.sample_rate", "sample rate %v is not between 0 and 1", o.SampleRate)
	}
}

func (v *validator) servers() {
	for _, name := range sortedKeys(v.s.MCP.Servers) {
		spec := v.s.MCP.Servers[name]
		p := "mcp.servers." + name
		if name == "" {
			v.errorf(p, "server name is empty; name each server with letters, digits, _, . or -")
		} else if !serverNameRE.MatchString(name) {
			v.errorf(p, "invalid server name %q: use letters, digits, _, . and -, starting with a letter or digit", name)
		}
		switch spec.Transport {
		case "":
			switch {
			case spec.Command != "" && spec.URL != "":
				v.errorf(p, "both command and url are set; set transport to say which to use (stdio uses command; sse, streamable_http and websocket use url)")
			case spec.Command == "" && spec.URL == "":
				v.errorf(p, "server has neither command nor url (set command for a stdio server, or url for a networked one)")
			case spec.URL != "":
				v.checkURL(p+".url", spec.URL, TransportStreamableHTTP)
			}
		case TransportStdio:
			if spec.Command == "" {
				v.errorf(p, "stdio server needs a command (set command, or set transport and url for a networked server)")
			}
		case TransportSSE, TransportStreamableHTTP, TransportWebSocket:
			if spec.URL == "" {
				v.errorf(p, "%s server needs a url (e.g. url: %s)", spec.Transport, exampleURL(spec.Transport))
			} else {
				v.checkURL(p+".url", spec.URL, spec.Transport)
			}
		default:
			v.errorf(p+".transport", "unknown transport %q %s", spec.Transport, want(transports))
		}
		if spec.HTTPTimeoutSeconds < 0 {
			v.errorf(p+".http_timeout_seconds", "timeout must not be negative")
		}
		if spec.ReadTimeoutSeconds < 0 {
			v.errorf(p+".read_timeout_seconds", "timeout must not be negative")
		}
		for i, r := range spec.Roots {
			rp := indexPath(p+".roots", i)
			if r.URI == "" {
				v.errorf(rp, "root needs a uri (e.g. uri: file:///home/me/project)")
			} else {
				v.checkFileURI(rp+".uri", r.URI)
			}
			if r.ServerURIAlias != "" {
				v.checkFileURI(rp+".server_uri_alias", r.ServerURIAlias)
			}
		}
	}
}

func exampleURL(transport string) string {
	switch transport {
	case TransportSSE:
		return "http://localhost:8000/sse"
	case TransportWebSocket:
		return "ws://localhost:8000/ws"
	}
	return "http://localhost:8000/mcp"
}

func (v *validator) checkURL(path, raw, transport string) {
	schemes, wantText := []string{"http", "https"}, "an http:// or https:// URL"
	if transport == TransportWebSocket {
		schemes, wantText = []string{"ws", "wss"}, "a ws:// or wss:// URL"
	}
	u, err := url.Parse(raw)
	if err != nil || !contains(schemes, strings.ToLower(u.Scheme)) || u.Host == "" {
		v.errorf(path, "%q is not %s (write it like %s)", raw, wantText, exampleURL(transport))
	}
}

func (v *validator) checkFileURI(path, uri string) {
	if strings.HasPrefix(uri, "file://") {
		return
	}
	hint := "file:///path/to/dir"
	if strings.HasPrefix(uri, "/") {
		hint = "file://" + uri
	}
	v.errorf(path, "%q is not a file:// URI (write %s)", uri, hint)
}

func (v *validator) agents() {
	a := v.s.Agents
	if a == nil {
		return
	}
	known := sortedKeys(v.s.MCP.Servers)
	first := map[string]int{}
	for i, spec := range a.Definitions {
		p := indexPath("agents.definitions", i)
		if strings.TrimSpace(spec.Name) == "" {
			v.errorf(p, "agent has no name (set name)")
		} else if j, dup := first[spec.Name]; dup {
			v.errorf(p+".name", "duplicate agent name %q (agents.definitions[%d] at line %d has it too)", spec.Name, j, v.at(indexPath("agents.definitions", j)+".name").line)
		} else {
			first[spec.Name] = i
		}
		for k, srv := range spec.ServerNames {
			if _, ok := v.s.MCP.Servers[srv]; ok {
				continue
			}
			list := "no servers are defined in mcp.servers"
			if len(known) > 0 {
				list = "known servers: " + strings.Join(known, ", ")
			}
			v.errorf(indexPath(p+".server_names", k), "agent %q uses unknown server %q (%s)", spec.Name, srv, list)
		}
	}
}

func (v *validator) workflows() {
	var agents []string
	if v.s.Agents != nil {
		for _, a := range v.s.Agents.Definitions {
			if a.Name != "" && !contains(agents, a.Name) {
				agents = append(agents, a.Name)
			}
		}
	}
	sort.Strings(agents)
	for _, name := range sortedKeys(v.s.Workflows) {
		w := v.s.Workflows[name]
		p := "workflows." + name
		switch {
		case w.Type == "":
			v.errorf(p, "workflow has no type %s", want(workflowTypes))
		case !contains(workflowTypes, w.Type):
			v.errorf(p+".type", "unknown workflow type %q %s", w.Type, want(workflowTypes))
		}
		for i, a := range w.Agents {
			if contains(agents, a) {
				continue
			}
			list := "no agents are defined in agents.definitions"
			if len(agents) > 0 {
				list = "known agents: " + strings.Join(agents, ", ")
			}
			v.errorf(indexPath(p+".agents", i), "workflow %q uses unknown agent %q (%s)", name, a, list)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// normalizeExporters rewrites the Python object forms of otel.exporters
// ("- type: otlp\n  endpoint: ..." and "- otlp: {endpoint: ...}") into
// exporter names, moving endpoint and headers to otel.otlp_settings and path
// to otel.path (values already set there win).
func normalizeExporters(root *node, errs *errorList) {
	oe := root.lookup("otel")
	if oe == nil || oe.val.kind != mapNode {
		return
	}
	otel := oe.val
	ex := otel.lookup("exporters")
	if ex == nil || ex.val.kind != seqNode {
		return
	}
	for i, it := range ex.val.items {
		if it.kind != mapNode {
			continue
		}
		path := indexPath("otel.exporters", i)
		var typ *node
		settings := it
		if te := it.lookup("type"); te != nil {
			typ = te.val
		} else if len(it.entries) == 1 && (it.entries[0].val.kind == mapNode || it.entries[0].val.kind == nullNode) {
			e := it.entries[0]
			typ = &node{kind: scalarNode, pos: e.keyPos, val: e.key, text: e.key}
			settings = e.val
		}
		if typ == nil || typ.kind != scalarNode {
			errs.at(it.pos, path, "want an exporter name (console, file, otlp) or a mapping with type, got %s", it.describe())
			ex.val.items[i] = &node{kind: nullNode, pos: it.pos}
			continue
		}
		for _, e := range settings.entries {
			switch e.key {
			case "type":
			case "endpoint", "headers":
				setDefault(otel, "otlp_settings", e.key, e.val)
			case "path":
				if otel.lookup("path") == nil {
					otel.entries = append(otel.entries, &entry{key: "path", keyPos: e.keyPos, val: e.val})
				}
			default:
				errs.at(e.keyPos, path+"."+e.key, "%s", unknownKeyMsg(e.key, []string{"endpoint", "headers", "path", "type"}))
			}
		}
		ex.val.items[i] = &node{kind: scalarNode, pos: it.pos, val: typ.text, text: typ.text}
	}
}

// setDefault sets m[section][key] = val unless already set.
func setDefault(m *node, section, key string, val *node) {
	se := m.lookup(section)
	if se == nil {
		se = &entry{key: section, keyPos: val.pos, val: &node{kind: mapNode, pos: val.pos}}
		m.entries = append(m.entries, se)
	}
	if se.val.kind == nullNode {
		se.val = &node{kind: mapNode, pos: se.val.pos}
	}
	if se.val.kind != mapNode || se.val.lookup(key) != nil {
		return
	}
	se.val.entries = append(se.val.entries, &entry{key: key, keyPos: val.pos, val: val})
}
