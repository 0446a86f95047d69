package config

import (
	"fmt"
	"math"
	"net/url"
	"regexp"
	"sort"
	"strconv"
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

	swarmAgents map[string]bool // agents whose provider a swarm check has checked
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
	if o := s.OpenAI; o != nil && o.API != "" && o.API != "chat_completions" && o.API != "responses" {
		v.errorf("openai.api", "unknown OpenAI API %q (want chat_completions, responses)", o.API)
	}
	if a := s.Anthropic; a != nil && a.API != "" {
		v.errorf("anthropic.api", "api is an openai setting; the anthropic provider speaks only the Messages API")
	}
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
		v.agentParams(p, spec)
	}
}

// agentParams checks an agent's request parameters; p is its key path.
func (v *validator) agentParams(p string, spec AgentSpec) {
	if t := spec.Temperature; t != nil && (math.IsNaN(*t) || *t < 0 || *t > 2) {
		v.errorf(p+".temperature", "%v is outside 0..2 (lower is more deterministic; e.g. temperature: 0.2)", *t)
	}
	if spec.MaxTokens < 0 || (spec.MaxTokens == 0 && v.set(p+".max_tokens")) {
		v.errorf(p+".max_tokens", "%d is not a positive token count (e.g. max_tokens: 1024; remove it for the provider's default)", spec.MaxTokens)
	}
	if spec.MaxIterations < 0 || (spec.MaxIterations == 0 && v.set(p+".max_iterations")) {
		v.errorf(p+".max_iterations", "%d is not a positive number of model calls (e.g. max_iterations: 5; remove it for the default, 10)", spec.MaxIterations)
	}
	if e := spec.ReasoningEffort; e != "" && !contains(ReasoningEfforts, e) {
		v.errorf(p+".reasoning_effort", "unknown reasoning effort %q %s", e, want(ReasoningEfforts))
	}
}

// set reports whether path was written in the file (so an explicit zero
// can be told from an absent key).
func (v *validator) set(path string) bool {
	_, ok := v.pos[path]
	return ok
}

// Keys of workflows.<name>, by type, besides type, description and agents
// (the WorkflowSpec fields). The values are documented in docs/patterns.md
// ("Declaring workflows").
var workflowKeys = map[string][]string{
	WorkflowParallel:           {"error_policy", "fan_in", "max_concurrency"},
	WorkflowRouter:             {"embedding_model", "instruction", "max_concurrency", "ranker", "routing_agent", "servers", "top_k"},
	WorkflowIntent:             {"classifier", "embedding_model", "instruction", "intents", "top_k"},
	WorkflowEvaluatorOptimizer: {"criteria", "evaluator", "max_refinements", "min_rating", "optimizer", "require_threshold"},
	WorkflowOrchestrator:       {"error_policy", "max_concurrency", "max_iterations", "max_steps", "plan_type", "planner", "synthesizer"},
	WorkflowSwarm:              {"handoffs", "max_handoffs", "start"},
}

var (
	// providerNames are the providers a swarm agent's provider can name:
	// those llm/providers builds (providers.Names).
	providerNames   = []string{"openai", "anthropic", "replay"}
	workflowRatings = []string{"poor", "fair", "good", "excellent"}
	workflowRankers = []string{"llm", "embedding"}
)

// ValidateWorkflows checks s.Workflows (and the agent and server names they
// use) with the rules Load applies, for settings built in code. The errors
// are a *ValidationError whose FieldErrors have no line.
func ValidateWorkflows(s *Settings) error {
	if s == nil {
		return nil
	}
	file := "settings"
	if len(s.Files) > 0 {
		file = s.Files[0]
	}
	var errs errorList
	v := &validator{s: s, pos: map[string]position{}, errs: &errs, file: file}
	v.workflows()
	if len(errs.errs) == 0 {
		return nil
	}
	return newValidationError(errs.errs, nil)
}

// wfEdge is a member reference from one workflow to another.
type wfEdge struct {
	path string // the key that names the member, e.g. workflows.a.agents[0]
	to   string
}

// wfCheck validates one workflow declaration.
type wfCheck struct {
	v      *validator
	name   string
	path   string
	spec   WorkflowSpec
	agents []string // declared agent names, sorted
	edges  []wfEdge // members that are workflows
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
	graph := map[string][]wfEdge{}
	for _, name := range sortedKeys(v.s.Workflows) {
		w := v.s.Workflows[name]
		p := "workflows." + name
		if contains(agents, name) {
			v.errorf(p, "workflow %q has the name of a declared agent: members are found by name, so rename the workflow or the agent", name)
		}
		c := &wfCheck{v: v, name: name, path: p, spec: w, agents: agents}
		switch {
		case w.Type == "":
			v.errorf(p, "workflow has no type %s", want(workflowTypes))
			c.members("agents", w.Agents, false)
		case !contains(workflowTypes, w.Type):
			v.errorf(p+".type", "unknown workflow type %q %s", w.Type, want(workflowTypes))
			c.members("agents", w.Agents, false)
		default:
			c.unknownKeys()
			switch w.Type {
			case WorkflowParallel:
				c.parallel()
			case WorkflowRouter:
				c.router()
			case WorkflowIntent:
				c.intent()
			case WorkflowEvaluatorOptimizer:
				c.evaluatorOptimizer()
			case WorkflowOrchestrator:
				c.orchestrator()
			case WorkflowSwarm:
				c.swarm()
			}
		}
		graph[name] = c.edges
	}
	v.workflowCycles(graph)
}

func (c *wfCheck) errorf(key, format string, args ...any) {
	p := c.path
	if key != "" {
		p += "." + key
	}
	c.v.errorf(p, format, args...)
}

func (c *wfCheck) has(key string) bool {
	_, ok := c.spec.Options[key]
	return ok
}

func (c *wfCheck) unknownKeys() {
	known := append([]string{"agents", "description", "type"}, workflowKeys[c.spec.Type]...)
	sort.Strings(known)
	for _, k := range sortedKeys(c.spec.Options) {
		switch {
		case contains(known, k):
		default:
			msg := unknownKeyMsg(k, known)
			prefix := fmt.Sprintf("unknown key %q", k)
			c.errorf(k, "%s for a %s workflow%s", prefix, c.spec.Type, strings.TrimPrefix(msg, prefix))
		}
	}
}

// member checks that ref, written at key, names a declared agent or (unless
// agentsOnly) another workflow.
func (c *wfCheck) member(key, ref string, agentsOnly bool) {
	if contains(c.agents, ref) {
		return
	}
	if _, ok := c.v.s.Workflows[ref]; ok && !agentsOnly {
		c.edges = append(c.edges, wfEdge{path: c.path + "." + key, to: ref})
		return
	}
	list := "no agents are defined in agents.definitions"
	if len(c.agents) > 0 {
		list = "known agents: " + strings.Join(c.agents, ", ")
	}
	if _, ok := c.v.s.Workflows[ref]; ok {
		c.errorf(key, "workflow %q uses workflow %q where only agents can be used (%s)", c.name, ref, list)
		return
	}
	var others []string
	for _, w := range sortedKeys(c.v.s.Workflows) {
		if w != c.name {
			others = append(others, w)
		}
	}
	if agentsOnly || len(others) == 0 {
		c.errorf(key, "workflow %q uses unknown agent %q (%s)", c.name, ref, list)
		return
	}
	c.errorf(key, "workflow %q uses unknown agent or workflow %q (%s; workflows: %s)", c.name, ref, list, strings.Join(others, ", "))
}

// members checks a list of member names (the agents field, or an option
// holding a list).
func (c *wfCheck) members(key string, refs []string, agentsOnly bool) {
	for i, r := range refs {
		c.member(indexPath(key, i), r, agentsOnly)
	}
}

// optMember checks an option naming one member; it reports whether the
// option is set.
func (c *wfCheck) optMember(key string) bool {
	s, ok := c.optString(key)
	if ok {
		c.member(key, s, false)
	}
	return ok
}

// optString returns an option holding a single value, as written.
func (c *wfCheck) optString(key string) (string, bool) {
	val, ok := c.spec.Options[key]
	if !ok {
		return "", false
	}
	switch x := val.(type) {
	case string:
		if strings.TrimSpace(x) == "" {
			c.errorf(key, "is empty")
			return "", false
		}
		return x, true
	case nil:
		c.errorf(key, "is empty")
	case []any, map[string]any:
		c.errorf(key, "want a single value, got %s", describeValue(val))
	default:
		return fmt.Sprint(x), true
	}
	return "", false
}

// optEnum returns an option whose value is one of values (any case), as
// lower case.
func (c *wfCheck) optEnum(key, what string, values []string) (string, bool) {
	s, ok := c.optString(key)
	if !ok {
		return "", false
	}
	l := strings.ToLower(strings.TrimSpace(s))
	if !contains(values, l) {
		c.errorf(key, "unknown %s %q %s", what, s, want(values))
		return "", false
	}
	return l, true
}

// optInt checks a whole-number option of at least min; hint says what to
// write instead of a smaller value.
func (c *wfCheck) optInt(key string, min int64, hint string) (int64, bool) {
	val, ok := c.spec.Options[key]
	if !ok {
		return 0, false
	}
	var n int64
	switch x := val.(type) {
	case int: // settings built in code
		n = int64(x)
	case int64:
		n = x
	case uint64:
		if x > math.MaxInt32 {
			c.errorf(key, "%d is too large", x)
			return 0, false
		}
		n = int64(x)
	case float64:
		if x != math.Trunc(x) || math.Abs(x) > math.MaxInt32 {
			c.errorf(key, "want a whole number, got %s", describeValue(val))
			return 0, false
		}
		n = int64(x)
	case string: // from ${VAR} expansion
		i, err := strconv.ParseInt(strings.TrimSpace(x), 10, 32)
		if err != nil {
			c.errorf(key, "want a whole number, got %s", describeValue(val))
			return 0, false
		}
		n = i
	default:
		c.errorf(key, "want a whole number, got %s", describeValue(val))
		return 0, false
	}
	if n < min {
		c.errorf(key, "%d is less than %d%s", n, min, hint)
		return 0, false
	}
	return n, true
}

func (c *wfCheck) optBool(key string) (bool, bool) {
	val, ok := c.spec.Options[key]
	if !ok {
		return false, false
	}
	switch x := val.(type) {
	case bool:
		return x, true
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "true", "yes", "on":
			return true, true
		case "false", "no", "off":
			return false, true
		}
	}
	c.errorf(key, "want true or false, got %s", describeValue(val))
	return false, false
}

// optList returns an option holding a list of single values.
func (c *wfCheck) optList(key string) ([]string, bool) {
	val, ok := c.spec.Options[key]
	if !ok {
		return nil, false
	}
	items, isList := val.([]any)
	if !isList {
		c.errorf(key, "want a list, got %s", describeValue(val))
		return nil, false
	}
	out := make([]string, 0, len(items))
	for i, it := range items {
		switch x := it.(type) {
		case string:
			out = append(out, x)
		case nil, []any, map[string]any:
			c.errorf(indexPath(key, i), "want a name, got %s", describeValue(it))
		default:
			out = append(out, fmt.Sprint(x))
		}
	}
	return out, true
}

// describeValue names a decoded YAML value for error messages.
func describeValue(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case []any:
		return "a list"
	case map[string]any:
		return "a mapping"
	case string:
		if r := []rune(x); len(r) > 60 {
			x = string(r[:57]) + "..."
		}
		return fmt.Sprintf("the string %q", x)
	case bool:
		return fmt.Sprintf("the boolean %v", x)
	}
	return fmt.Sprintf("the number %v", v)
}

func (c *wfCheck) parallel() {
	if len(c.spec.Agents) == 0 {
		c.errorf("", "a parallel workflow needs agents: the agents or workflows to fan out to (e.g. agents: [proofreader, fact_checker])")
	}
	c.members("agents", c.spec.Agents, false)
	c.optMember("fan_in")
	c.optInt("max_concurrency", 0, "")
	c.optEnum("error_policy", "error policy", []string{"fail_fast", "collect_errors"})
}

func (c *wfCheck) router() {
	ranker, ok := c.optEnum("ranker", "ranker", workflowRankers)
	if !ok {
		ranker = "llm"
		if c.has("ranker") {
			ranker = "" // already reported; skip the dependent checks
		}
	}
	c.members("agents", c.spec.Agents, false)
	seen := map[string]bool{}
	for i, a := range c.spec.Agents {
		if seen[a] {
			c.errorf(indexPath("agents", i), "%q is listed twice: each category appears once", a)
		}
		seen[a] = true
	}
	servers, _ := c.optList("servers")
	known := sortedKeys(c.v.s.MCP.Servers)
	for i, srv := range servers {
		k := indexPath("servers", i)
		switch {
		case seen[srv]:
			c.errorf(k, "%q is already a category (an agent or workflow, or a server listed before): category names must be unique", srv)
		case !hasServer(c.v.s, srv):
			list := "no servers are defined in mcp.servers"
			if len(known) > 0 {
				list = "known servers: " + strings.Join(known, ", ")
			}
			c.errorf(k, "workflow %q uses unknown server %q (%s)", c.name, srv, list)
		}
		seen[srv] = true
	}
	if len(c.spec.Agents) == 0 && len(servers) == 0 {
		c.errorf("", "a router needs categories: list agents or workflows under agents, or MCP servers under servers")
	}
	switch ranker {
	case "llm":
		if !c.optMember("routing_agent") && !c.has("routing_agent") {
			c.errorf("routing_agent", "required when ranker is llm: name the agent that chooses the category (or set ranker: embedding)")
		}
		if c.has("embedding_model") {
			c.errorf("embedding_model", "only used with ranker: embedding (remove it, or set ranker: embedding)")
		}
	case "embedding":
		if c.has("routing_agent") {
			c.errorf("routing_agent", "not used with ranker: embedding (remove it, or set ranker: llm)")
		}
		c.optString("embedding_model")
	}
	c.optString("instruction")
	k, _ := c.optInt("top_k", 1, " (omit it for the default, 1: run the best category only)")
	if _, ok := c.optInt("max_concurrency", 0, ""); ok && k < 2 {
		c.errorf("max_concurrency", "only used with top_k above 1 (a router with top_k 1 runs one category)")
	}
}

func hasServer(s *Settings, name string) bool {
	_, ok := s.MCP.Servers[name]
	return ok
}

func (c *wfCheck) intent() {
	classifier, ok := c.optEnum("classifier", "classifier", workflowRankers)
	if !ok {
		classifier = "llm"
		if c.has("classifier") {
			classifier = ""
		}
	}
	switch classifier {
	case "llm":
		if len(c.spec.Agents) == 0 {
			c.errorf("", "an intent classifier with classifier: llm needs agents: [NAME], the agent that classifies (or set classifier: embedding)")
		} else if len(c.spec.Agents) != 1 {
			c.errorf("agents", "an intent classifier with classifier: llm needs exactly one agent, the one that classifies (e.g. agents: [triager]); got %d", len(c.spec.Agents))
		}
		if c.has("embedding_model") {
			c.errorf("embedding_model", "only used with classifier: embedding (remove it, or set classifier: embedding)")
		}
	case "embedding":
		if len(c.spec.Agents) > 0 {
			c.errorf("agents", "not used with classifier: embedding (remove it, or set classifier: llm)")
		}
		c.optString("embedding_model")
	}
	c.members("agents", c.spec.Agents, false)
	c.optInt("top_k", 1, "")
	c.optString("instruction")
	val, ok := c.spec.Options["intents"]
	if !ok {
		c.errorf("", "an intent classifier needs intents: a list of {name, description, examples}")
		return
	}
	items, isList := val.([]any)
	if !isList {
		c.errorf("intents", "want a list of intents ({name, description, examples}), got %s", describeValue(val))
		return
	}
	if len(items) == 0 {
		c.errorf("intents", "the list is empty: add at least one intent ({name, description, examples})")
		return
	}
	seen := map[string]bool{}
	for i, it := range items {
		k := indexPath("intents", i)
		m, isMap := it.(map[string]any)
		if !isMap {
			c.errorf(k, "want an intent ({name, description, examples}), got %s", describeValue(it))
			continue
		}
		for _, key := range sortedKeys(m) {
			switch key {
			case "name", "description":
				if _, ok := m[key].(string); !ok && m[key] != nil {
					c.errorf(k+"."+key, "want a string, got %s", describeValue(m[key]))
				}
			case "examples":
				ex, ok := m[key].([]any)
				if !ok {
					c.errorf(k+"."+key, "want a list of example requests, got %s", describeValue(m[key]))
					continue
				}
				for j, e := range ex {
					if _, ok := e.(string); !ok {
						c.errorf(indexPath(k+"."+key, j), "want a string, got %s", describeValue(e))
					}
				}
			case "metadata":
				md, ok := m[key].(map[string]any)
				if !ok {
					c.errorf(k+"."+key, "want a mapping, got %s", describeValue(m[key]))
					continue
				}
				for _, mk := range sortedKeys(md) {
					switch md[mk].(type) {
					case nil, []any, map[string]any:
						c.errorf(k+"."+key+"."+mk, "want a single value, got %s", describeValue(md[mk]))
					}
				}
			default:
				c.errorf(k+"."+key, "%s", unknownKeyMsg(key, []string{"description", "examples", "metadata", "name"}))
			}
		}
		name, _ := m["name"].(string)
		switch {
		case strings.TrimSpace(name) == "":
			if _, isStr := m["name"].(string); isStr || m["name"] == nil {
				c.errorf(k, "intent has no name (set name)")
			}
		case seen[name]:
			c.errorf(k+".name", "intent %q is listed twice: names must be unique", name)
		}
		seen[name] = true
	}
}

func (c *wfCheck) evaluatorOptimizer() {
	opt, eval := c.has("optimizer"), c.has("evaluator")
	switch {
	case len(c.spec.Agents) > 0 && (opt || eval):
		c.errorf("agents", "set either optimizer and evaluator, or agents: [optimizer, evaluator], not both")
	case len(c.spec.Agents) > 0 && len(c.spec.Agents) != 2:
		c.errorf("agents", "want two agents, the optimizer then the evaluator (e.g. agents: [writer, critic]); got %d", len(c.spec.Agents))
	case len(c.spec.Agents) == 0 && !opt && !eval:
		c.errorf("", "an evaluator-optimizer needs an optimizer and an evaluator: set optimizer: and evaluator:, or agents: [optimizer, evaluator]")
	case len(c.spec.Agents) == 0 && !opt:
		c.errorf("", "an evaluator-optimizer needs an optimizer: set optimizer: (the agent or workflow that writes)")
	case len(c.spec.Agents) == 0 && !eval:
		c.errorf("", "an evaluator-optimizer needs an evaluator: set evaluator: (the agent or workflow that rates)")
	}
	c.members("agents", c.spec.Agents, false)
	c.optMember("optimizer")
	c.optMember("evaluator")
	c.optEnum("min_rating", "rating", workflowRatings)
	c.optInt("max_refinements", 1, " (omit it for the default, 3; use a plain agent for a single attempt)")
	c.optString("criteria")
	if req, _ := c.optBool("require_threshold"); req && !c.has("min_rating") {
		c.errorf("require_threshold", "is true but no min_rating says which rating to require: add min_rating (poor, fair, good or excellent)")
	}
}

func (c *wfCheck) orchestrator() {
	if !c.optMember("planner") && !c.has("planner") {
		c.errorf("", "an orchestrator needs a planner: the agent or workflow that plans the steps (planner: NAME)")
	}
	if len(c.spec.Agents) == 0 {
		c.errorf("", "an orchestrator needs agents: the workers the planner assigns tasks to (e.g. agents: [researcher, writer])")
	}
	c.members("agents", c.spec.Agents, false)
	seen := map[string]bool{}
	for i, a := range c.spec.Agents {
		if seen[a] {
			c.errorf(indexPath("agents", i), "%q is listed twice: each worker appears once", a)
		}
		seen[a] = true
	}
	c.optMember("synthesizer")
	mode, _ := c.optEnum("plan_type", "plan type", []string{"full", "iterative"})
	c.optInt("max_steps", 1, " (omit it for the default, 10)")
	if _, ok := c.optInt("max_iterations", 1, ""); ok && mode != "iterative" {
		c.errorf("max_iterations", "only used with plan_type: iterative (a full plan is made in one round)")
	}
	c.optInt("max_concurrency", 0, "")
	c.optEnum("error_policy", "error policy", []string{"fail_step", "report_errors"})
}

func (c *wfCheck) swarm() {
	if len(c.spec.Agents) == 0 {
		c.errorf("", "a swarm needs agents: the agents that hand the conversation to each other (e.g. agents: [triage, billing])")
	}
	c.members("agents", c.spec.Agents, true)
	seen := map[string]bool{}
	for i, a := range c.spec.Agents {
		if seen[a] {
			c.errorf(indexPath("agents", i), "%q is listed twice: each agent appears once", a)
		}
		seen[a] = true
	}
	inSwarm := func(key, name string) bool {
		if !seen[name] {
			c.errorf(key, "%q is not one of the swarm's agents (%s)", name, strings.Join(c.spec.Agents, ", "))
			return false
		}
		return true
	}
	c.swarmProviders()
	if start, ok := c.optString("start"); ok {
		inSwarm("start", start)
	}
	c.optInt("max_handoffs", 1, " (omit it for the default, 10)")
	val, ok := c.spec.Options["handoffs"]
	if !ok {
		return
	}
	m, isMap := val.(map[string]any)
	if !isMap {
		c.errorf("handoffs", "want a mapping from each agent to the agents it can hand off to (e.g. triage: [billing]), got %s", describeValue(val))
		return
	}
	for _, from := range sortedKeys(m) {
		k := "handoffs." + from
		if !inSwarm(k, from) {
			continue
		}
		targets, isList := m[from].([]any)
		if !isList {
			c.errorf(k, "want a list of agents, got %s", describeValue(m[from]))
			continue
		}
		for i, t := range targets {
			to, isStr := t.(string)
			switch {
			case !isStr:
				c.errorf(indexPath(k, i), "want an agent name, got %s", describeValue(t))
			case to == from:
				c.errorf(indexPath(k, i), "%q cannot hand off to itself", from)
			default:
				inSwarm(indexPath(k, i), to)
			}
		}
	}
}

// swarmProviders checks the provider of each agent of the swarm (where
// the agent is declared, once per agent): a swarm runs each agent on the
// provider it names.
func (c *wfCheck) swarmProviders() {
	if c.v.s.Agents == nil {
		return
	}
	if c.v.swarmAgents == nil {
		c.v.swarmAgents = map[string]bool{}
	}
	for i, spec := range c.v.s.Agents.Definitions {
		prov := strings.ToLower(strings.TrimSpace(spec.Provider))
		if spec.Provider == "" || !contains(c.spec.Agents, spec.Name) || c.v.swarmAgents[spec.Name] {
			continue
		}
		c.v.swarmAgents[spec.Name] = true
		if !contains(providerNames, prov) {
			c.v.errorf(indexPath("agents.definitions", i)+".provider", "unknown provider %q for agent %q of swarm %q %s", spec.Provider, spec.Name, c.name, want(providerNames))
		}
	}
}

// workflowCycles reports each cycle of workflows containing each other
// once, at the key of its first workflow (by name) that names the next.
func (v *validator) workflowCycles(graph map[string][]wfEdge) {
	const (
		unseen = iota
		active
		done
	)
	state := map[string]int{}
	var stack []wfEdge // stack[i].to is the i-th workflow on the path
	reported := map[string]bool{}
	var visit func(from wfEdge)
	visit = func(from wfEdge) {
		state[from.to] = active
		stack = append(stack, from)
		for _, e := range graph[from.to] {
			switch state[e.to] {
			case unseen:
				visit(e)
			case active:
				// The cycle is the path from e.to's position, closed by e.
				i := len(stack) - 1
				for stack[i].to != e.to {
					i--
				}
				cyc := append(append([]wfEdge(nil), stack[i+1:]...), e)
				// Rotate so that the cycle starts at its smallest workflow
				// name: the last edge arrives there, the first leaves it.
				low := 0
				for j := range cyc {
					if cyc[j].to < cyc[low].to {
						low = j
					}
				}
				cyc = append(cyc[low+1:], cyc[:low+1]...)
				names := []string{"workflows." + cyc[len(cyc)-1].to}
				for _, ce := range cyc {
					names = append(names, "workflows."+ce.to)
				}
				key := strings.Join(names, " -> ")
				if reported[key] {
					continue
				}
				reported[key] = true
				v.errorf(cyc[0].path, "workflows contain each other: %s (a workflow cannot be its own member, directly or through others)", key)
			}
		}
		stack = stack[:len(stack)-1]
		state[from.to] = done
	}
	for _, name := range sortedKeys(graph) {
		if state[name] == unseen {
			visit(wfEdge{to: name})
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
