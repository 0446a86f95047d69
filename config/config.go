// Package config loads an app's configuration: mcp_agent.config.yaml, merged
// with mcp_agent.secrets.yaml, with ${VAR} and ${VAR:-default} references
// expanded and MCP_AGENT__* environment overrides applied.
//
// Quick start:
//
//	s, err := config.Load(config.LoadOptions{}) // search . and its parents
//	if err != nil {
//		log.Fatal(err) // e.g. "mcp_agent.config.yaml:12: mcp.servers.fetch.transport: unknown transport ..."
//	}
//	for name, srv := range s.MCP.Servers {
//		fmt.Println(name, srv.EffectiveTransport())
//	}
//
// The keys are those of the Python mcp-agent, so existing files load
// unchanged. Unknown keys and wrong types are errors naming the file, line and
// key; unknown top-level sections (providers such as "azure" or "google",
// "usage_telemetry", "$schema") are kept in Settings.Extra rather than
// rejected. All errors of a file are reported together as a *ValidationError.
//
// Precedence, lowest first: mcp_agent.config.yaml < mcp_agent.secrets.yaml <
// MCP_AGENT__* environment overrides. OPENAI_API_KEY, ANTHROPIC_API_KEY,
// OPENAI_BASE_URL and ANTHROPIC_BASE_URL only fill values no file or override
// sets. See docs/config.md for every key.
package config

import (
	"log/slog"
	"strings"
	"time"
)

// Transport names accepted in mcp.servers.<name>.transport.
const (
	TransportStdio          = "stdio"
	TransportSSE            = "sse"
	TransportStreamableHTTP = "streamable_http"
	TransportWebSocket      = "websocket"
)

// Execution engines accepted in execution_engine. "asyncio" is accepted as an
// alias of "local" for files written for the Python project.
const (
	EngineLocal    = "local"
	EngineTemporal = "temporal"
)

// Workflow types accepted in workflows.<name>.type. The Python spellings
// (evaluator_optimizer, intent_classifier, ...) are normalised to these.
const (
	WorkflowParallel           = "parallel"
	WorkflowRouter             = "router"
	WorkflowIntent             = "intent"
	WorkflowEvaluatorOptimizer = "evaluator-optimizer"
	WorkflowOrchestrator       = "orchestrator"
	WorkflowSwarm              = "swarm"
)

// Logger transports accepted in logger.transports.
const (
	LogConsole = "console"
	LogFile    = "file"
)

// Settings is a whole app configuration. The zero value is a valid, empty
// configuration: local execution engine, console logging at info, no servers.
type Settings struct {
	// Name and Description describe the app (used when it is served or deployed).
	Name        string `yaml:"name,omitempty" json:"name,omitempty"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`

	// ExecutionEngine is "local" (default; "asyncio" is normalised to it when
	// loaded) or "temporal". Read it with Engine.
	ExecutionEngine string            `yaml:"execution_engine,omitempty" json:"execution_engine,omitempty"`
	Temporal        *TemporalSettings `yaml:"temporal,omitempty" json:"temporal,omitempty"`

	Logger LoggerSettings `yaml:"logger,omitempty" json:"logger,omitempty"`
	OTel   *OTelSettings  `yaml:"otel,omitempty" json:"otel,omitempty"`

	MCP MCPSettings `yaml:"mcp,omitempty" json:"mcp,omitempty"`

	// Provider sections.
	OpenAI    *ProviderSettings `yaml:"openai,omitempty" json:"openai,omitempty"`
	Anthropic *ProviderSettings `yaml:"anthropic,omitempty" json:"anthropic,omitempty"`

	// Agents holds declarative agent definitions.
	Agents *AgentsSettings `yaml:"agents,omitempty" json:"agents,omitempty"`
	// Workflows holds declarative workflows by name.
	Workflows map[string]WorkflowSpec `yaml:"workflows,omitempty" json:"workflows,omitempty"`

	// Extra keeps top-level sections this version does not know (other
	// providers such as azure, google, bedrock; usage_telemetry; ...), as
	// decoded YAML values, so files from the Python project load.
	Extra map[string]any `yaml:"-" json:"extra,omitempty"`

	// Files lists the files the settings were loaded from, in merge order.
	Files []string `yaml:"-" json:"-"`
}

// Engine returns the execution engine: EngineLocal (also for "" and
// "asyncio") or EngineTemporal.
func (s *Settings) Engine() string {
	if s == nil {
		return EngineLocal
	}
	switch strings.ToLower(s.ExecutionEngine) {
	case EngineTemporal:
		return EngineTemporal
	}
	return EngineLocal
}

// LogLevel returns logger.level as a slog level (info when unset; "warning"
// and "warn" are slog.LevelWarn).
func (s *Settings) LogLevel() slog.Level {
	if s == nil {
		return slog.LevelInfo
	}
	switch strings.ToLower(s.Logger.Level) {
	case "debug":
		return slog.LevelDebug
	case "warning", "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// LogTransports returns the logger outputs: logger.transports when set,
// else logger.type when it is console or file, else [console]. A type of
// "none" gives no outputs.
func (s *Settings) LogTransports() []string {
	if s == nil {
		return []string{LogConsole}
	}
	if len(s.Logger.Transports) > 0 {
		return s.Logger.Transports
	}
	switch s.Logger.Type {
	case LogConsole, LogFile:
		return []string{s.Logger.Type}
	case "none":
		return nil
	}
	return []string{LogConsole}
}

// MCPSettings is the mcp section.
type MCPSettings struct {
	Servers map[string]ServerSpec `yaml:"servers,omitempty" json:"servers,omitempty"`
}

// ServerSpec describes how to reach one MCP server (mcp.servers.<name>).
type ServerSpec struct {
	// Name is set to the map key when loaded (a name in the file is replaced).
	Name        string `yaml:"name,omitempty" json:"name,omitempty"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`

	// Transport is one of stdio, sse, streamable_http, websocket. When empty it
	// is stdio if Command is set, otherwise streamable_http if URL is set.
	Transport string `yaml:"transport,omitempty" json:"transport,omitempty"`

	// stdio
	Command string   `yaml:"command,omitempty" json:"command,omitempty"`
	Args    []string `yaml:"args,omitempty" json:"args,omitempty"`
	// Cwd is the working directory of a stdio server; a relative one is
	// relative to the config file's directory. Empty: the app's own.
	Cwd string            `yaml:"cwd,omitempty" json:"cwd,omitempty"`
	Env map[string]string `yaml:"env,omitempty" json:"env,omitempty"`

	// sse, streamable_http, websocket
	URL     string            `yaml:"url,omitempty" json:"url,omitempty"`
	Headers map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`

	// HTTPTimeoutSeconds bounds connecting to a networked server (0: 30s).
	HTTPTimeoutSeconds float64 `yaml:"http_timeout_seconds,omitempty" json:"http_timeout_seconds,omitempty"`
	// ReadTimeoutSeconds bounds each request to the server (0: no limit beyond the caller's context).
	ReadTimeoutSeconds float64 `yaml:"read_timeout_seconds,omitempty" json:"read_timeout_seconds,omitempty"`
	// TerminateOnClose (default true) ends a Streamable HTTP session when the connection closes.
	TerminateOnClose *bool `yaml:"terminate_on_close,omitempty" json:"terminate_on_close,omitempty"`

	Auth *ServerAuth `yaml:"auth,omitempty" json:"auth,omitempty"`
	// Roots are offered to the server through the roots capability.
	Roots []Root `yaml:"roots,omitempty" json:"roots,omitempty"`
	// AllowedTools, when non-empty, limits which of the server's tools agents see.
	AllowedTools []string `yaml:"allowed_tools,omitempty" json:"allowed_tools,omitempty"`
}

// ReadTimeout returns ReadTimeoutSeconds as a Duration (0 when unset).
func (s ServerSpec) ReadTimeout() time.Duration {
	return time.Duration(s.ReadTimeoutSeconds * float64(time.Second))
}

// HTTPTimeout returns HTTPTimeoutSeconds as a Duration (30s when unset).
func (s ServerSpec) HTTPTimeout() time.Duration {
	if s.HTTPTimeoutSeconds <= 0 {
		return 30 * time.Second
	}
	return time.Duration(s.HTTPTimeoutSeconds * float64(time.Second))
}

// EffectiveTransport is Transport, or the transport implied by Command/URL.
func (s ServerSpec) EffectiveTransport() string {
	switch {
	case s.Transport != "":
		return s.Transport
	case s.Command != "":
		return TransportStdio
	case s.URL != "":
		return TransportStreamableHTTP
	}
	return ""
}

// ServerAuth is mcp.servers.<name>.auth.
type ServerAuth struct {
	// APIKey is sent as "Authorization: Bearer <key>" on networked transports.
	APIKey string `yaml:"api_key,omitempty" json:"api_key,omitempty"`
	// OAuth is the Python project's auth.oauth block, kept as written for
	// compatibility (values whose key names a secret are masked by Redacted).
	OAuth map[string]any `yaml:"oauth,omitempty" json:"oauth,omitempty"`
}

// Root is a filesystem root offered to a server.
type Root struct {
	URI  string `yaml:"uri" json:"uri"`
	Name string `yaml:"name,omitempty" json:"name,omitempty"`
	// ServerURIAlias is the URI the server sees instead of URI, as in the Python project.
	ServerURIAlias string `yaml:"server_uri_alias,omitempty" json:"server_uri_alias,omitempty"`
}

// LoggerSettings is the logger section.
type LoggerSettings struct {
	// Type is accepted for compatibility ("console", "file", "none").
	Type string `yaml:"type,omitempty" json:"type,omitempty"`
	// Transports lists outputs: console, file. Default [console].
	Transports []string `yaml:"transports,omitempty" json:"transports,omitempty"`
	// Level is debug, info, warning (or warn), error. Default info.
	Level string `yaml:"level,omitempty" json:"level,omitempty"`
	// Path is the file for the file transport (JSON lines). The file
	// transport needs Path or PathSettings.
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
	// PathSettings builds the log file name from a pattern, as in the Python project.
	PathSettings *PathSettings `yaml:"path_settings,omitempty" json:"path_settings,omitempty"`
	// ProgressDisplay is accepted for compatibility.
	ProgressDisplay *bool `yaml:"progress_display,omitempty" json:"progress_display,omitempty"`

	// The Python project's event batching and HTTP transport keys, accepted
	// for compatibility.
	BatchSize     int               `yaml:"batch_size,omitempty" json:"batch_size,omitempty"`
	FlushInterval float64           `yaml:"flush_interval,omitempty" json:"flush_interval,omitempty"`
	MaxQueueSize  int               `yaml:"max_queue_size,omitempty" json:"max_queue_size,omitempty"`
	HTTPEndpoint  string            `yaml:"http_endpoint,omitempty" json:"http_endpoint,omitempty"`
	HTTPHeaders   map[string]string `yaml:"http_headers,omitempty" json:"http_headers,omitempty"`
	HTTPTimeout   float64           `yaml:"http_timeout,omitempty" json:"http_timeout,omitempty"`
}

// PathSettings is logger.path_settings and otel.path_settings: a file name
// pattern with a {unique_id} placeholder.
type PathSettings struct {
	// PathPattern is e.g. "logs/mcp-agent-{unique_id}.jsonl".
	PathPattern string `yaml:"path_pattern,omitempty" json:"path_pattern,omitempty"`
	// UniqueID is "timestamp" (default) or "session_id".
	UniqueID string `yaml:"unique_id,omitempty" json:"unique_id,omitempty"`
	// TimestampFormat is a Python strftime format (default "%Y%m%d_%H%M%S").
	TimestampFormat string `yaml:"timestamp_format,omitempty" json:"timestamp_format,omitempty"`
}

// OTelSettings is the otel section.
type OTelSettings struct {
	Enabled           bool   `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	ServiceName       string `yaml:"service_name,omitempty" json:"service_name,omitempty"`
	ServiceInstanceID string `yaml:"service_instance_id,omitempty" json:"service_instance_id,omitempty"`
	ServiceVersion    string `yaml:"service_version,omitempty" json:"service_version,omitempty"`
	// Exporters lists console, file, otlp. The Python object forms
	// ("- type: otlp" and "- otlp: {endpoint: ...}") are accepted: their
	// endpoint and headers move to OTLPSettings, their path to Path.
	Exporters []string `yaml:"exporters,omitempty" json:"exporters,omitempty"`
	// OTLPEndpoint is the OTLP/HTTP endpoint when "otlp" is an exporter.
	OTLPEndpoint string `yaml:"otlp_endpoint,omitempty" json:"otlp_endpoint,omitempty"`
	// OTLPSettings is the Python spelling of the OTLP exporter settings.
	OTLPSettings *OTLPSettings `yaml:"otlp_settings,omitempty" json:"otlp_settings,omitempty"`
	SampleRate   float64       `yaml:"sample_rate,omitempty" json:"sample_rate,omitempty"`
	// Path and PathSettings name the trace file of the file exporter.
	Path         string        `yaml:"path,omitempty" json:"path,omitempty"`
	PathSettings *PathSettings `yaml:"path_settings,omitempty" json:"path_settings,omitempty"`
}

// Endpoint returns the OTLP endpoint: OTLPEndpoint, else OTLPSettings.Endpoint.
func (o *OTelSettings) Endpoint() string {
	if o == nil {
		return ""
	}
	if o.OTLPEndpoint != "" {
		return o.OTLPEndpoint
	}
	if o.OTLPSettings != nil {
		return o.OTLPSettings.Endpoint
	}
	return ""
}

// OTLPSettings is otel.otlp_settings.
type OTLPSettings struct {
	Endpoint string            `yaml:"endpoint,omitempty" json:"endpoint,omitempty"`
	Headers  map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
}

// TemporalSettings is the temporal section.
type TemporalSettings struct {
	Host      string `yaml:"host,omitempty" json:"host,omitempty"`
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	TaskQueue string `yaml:"task_queue,omitempty" json:"task_queue,omitempty"`
	APIKey    string `yaml:"api_key,omitempty" json:"api_key,omitempty"`
	TLS       bool   `yaml:"tls,omitempty" json:"tls,omitempty"`

	// The Python project's worker and client tuning keys.
	MaxConcurrentActivities int               `yaml:"max_concurrent_activities,omitempty" json:"max_concurrent_activities,omitempty"`
	TimeoutSeconds          float64           `yaml:"timeout_seconds,omitempty" json:"timeout_seconds,omitempty"`
	DefaultMaximumAttempts  int               `yaml:"default_maximum_attempts,omitempty" json:"default_maximum_attempts,omitempty"`
	RPCMetadata             map[string]string `yaml:"rpc_metadata,omitempty" json:"rpc_metadata,omitempty"`
	IDReusePolicy           string            `yaml:"id_reuse_policy,omitempty" json:"id_reuse_policy,omitempty"`
}

// ProviderSettings is a model provider section (openai, anthropic).
type ProviderSettings struct {
	APIKey          string `yaml:"api_key,omitempty" json:"api_key,omitempty"`
	BaseURL         string `yaml:"base_url,omitempty" json:"base_url,omitempty"`
	DefaultModel    string `yaml:"default_model,omitempty" json:"default_model,omitempty"`
	ReasoningEffort string `yaml:"reasoning_effort,omitempty" json:"reasoning_effort,omitempty"`
	APIVersion      string `yaml:"api_version,omitempty" json:"api_version,omitempty"`
	// Headers are sent with every request. The Python spelling
	// default_headers is merged into Headers when loaded (headers wins).
	Headers        map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
	DefaultHeaders map[string]string `yaml:"default_headers,omitempty" json:"default_headers,omitempty"`

	// MaxTokens and Temperature are request defaults (0 and nil: the model's).
	MaxTokens   int      `yaml:"max_tokens,omitempty" json:"max_tokens,omitempty"`
	Temperature *float64 `yaml:"temperature,omitempty" json:"temperature,omitempty"`
	// User is sent as the OpenAI "user" field.
	User string `yaml:"user,omitempty" json:"user,omitempty"`
	// Provider is the Python anthropic.provider (anthropic, bedrock, vertexai).
	Provider string `yaml:"provider,omitempty" json:"provider,omitempty"`
	// API is the OpenAI API the openai provider speaks: chat_completions
	// (the default, "") or responses (the Responses API). Only openai reads it.
	API string `yaml:"api,omitempty" json:"api,omitempty"`
}

// AgentsSettings is the agents section.
type AgentsSettings struct {
	Enabled     *bool    `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	SearchPaths []string `yaml:"search_paths,omitempty" json:"search_paths,omitempty"`
	// Pattern is the glob matched in each search path (Python default "**/*.*").
	Pattern     string      `yaml:"pattern,omitempty" json:"pattern,omitempty"`
	Definitions []AgentSpec `yaml:"definitions,omitempty" json:"definitions,omitempty"`
}

// AgentSpec declares an agent.
type AgentSpec struct {
	Name string `yaml:"name" json:"name"`
	// Description says what the agent is for (routers and orchestrators
	// read it); the instruction defaults to it.
	Description string   `yaml:"description,omitempty" json:"description,omitempty"`
	Instruction string   `yaml:"instruction,omitempty" json:"instruction,omitempty"`
	ServerNames []string `yaml:"server_names,omitempty" json:"server_names,omitempty"`
	Provider    string   `yaml:"provider,omitempty" json:"provider,omitempty"`
	Model       string   `yaml:"model,omitempty" json:"model,omitempty"`
	// HumanInput adds the __human_input__ tool.
	HumanInput bool `yaml:"human_input,omitempty" json:"human_input,omitempty"`
	// Tools, when set, names the tools the agent may use (namespaced
	// server_tool names, or patterns such as "fetch_*"). Claude Code
	// subagent files list Claude Code's own tools here (Read, Grep, ...);
	// names that match none of the agent's tools are ignored.
	Tools []string `yaml:"tools,omitempty" json:"tools,omitempty"`

	// The request parameters below are the agent's defaults for every
	// model call it makes; unset (zero or nil) leaves the provider's or the
	// caller's default. Command-line flags (--model, --max-iterations) win
	// over them.

	// Temperature, when set, is the sampling temperature, 0..2.
	Temperature *float64 `yaml:"temperature,omitempty" json:"temperature,omitempty"`
	// MaxTokens caps the output tokens of each model call; 0 is the
	// provider's default.
	MaxTokens int `yaml:"max_tokens,omitempty" json:"max_tokens,omitempty"`
	// MaxIterations bounds the model calls of one turn; 0 is the default
	// (10).
	MaxIterations int `yaml:"max_iterations,omitempty" json:"max_iterations,omitempty"`
	// ReasoningEffort asks reasoning models to think less or more: one of
	// ReasoningEfforts; "" is the provider's default.
	ReasoningEffort string `yaml:"reasoning_effort,omitempty" json:"reasoning_effort,omitempty"`
	// ParallelToolCalls, when set to false, asks the model for one tool
	// call at a time; nil or true allows several.
	ParallelToolCalls *bool `yaml:"parallel_tool_calls,omitempty" json:"parallel_tool_calls,omitempty"`
}

// ReasoningEfforts are the values of AgentSpec.ReasoningEffort (those of
// llm.ReasoningEffort).
var ReasoningEfforts = []string{"minimal", "low", "medium", "high"}

// WorkflowSpec declares a workflow (workflows.<name>). The fields a pattern
// reads beyond Type and Agents are kept in Options.
type WorkflowSpec struct {
	// Type is one of the Workflow* constants (normalised when loaded).
	Type        string         `yaml:"type" json:"type"`
	Description string         `yaml:"description,omitempty" json:"description,omitempty"`
	Agents      []string       `yaml:"agents,omitempty" json:"agents,omitempty"`
	Options     map[string]any `yaml:",inline" json:"options,omitempty"`
}
