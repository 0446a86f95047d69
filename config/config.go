// Package config loads an app's configuration: mcp_agent.config.yaml, merged
// with mcp_agent.secrets.yaml, with ${VAR} and ${VAR:-default} references
// expanded and MCP_AGENT_* environment overrides applied.
//
// The keys are those of the Python mcp-agent, so existing files load
// unchanged. Unknown keys and wrong types are errors naming the file, line and
// key; unknown top-level mappings (provider sections such as "azure" or
// "google") are kept in Settings.Extra rather than rejected.
package config

import "time"

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

// Settings is a whole app configuration. The zero value is a valid, empty
// configuration: local execution engine, console logging at info, no servers.
type Settings struct {
	// Name and Description describe the app (used when it is served or deployed).
	Name        string `yaml:"name,omitempty" json:"name,omitempty"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`

	// ExecutionEngine is "local" (default; "asyncio" is normalised to it) or "temporal".
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

// MCPSettings is the mcp section.
type MCPSettings struct {
	Servers map[string]ServerSpec `yaml:"servers,omitempty" json:"servers,omitempty"`
}

// ServerSpec describes how to reach one MCP server (mcp.servers.<name>).
type ServerSpec struct {
	// Name is filled from the map key when loaded.
	Name        string `yaml:"name,omitempty" json:"name,omitempty"`
	Description string `yaml:"description,omitempty" json:"description,omitempty"`

	// Transport is one of stdio, sse, streamable_http, websocket. When empty it
	// is stdio if Command is set, otherwise streamable_http if URL is set.
	Transport string `yaml:"transport,omitempty" json:"transport,omitempty"`

	// stdio
	Command string            `yaml:"command,omitempty" json:"command,omitempty"`
	Args    []string          `yaml:"args,omitempty" json:"args,omitempty"`
	Cwd     string            `yaml:"cwd,omitempty" json:"cwd,omitempty"`
	Env     map[string]string `yaml:"env,omitempty" json:"env,omitempty"`

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
	// Path is the file for the file transport (JSON lines).
	Path string `yaml:"path,omitempty" json:"path,omitempty"`
	// ProgressDisplay is accepted for compatibility.
	ProgressDisplay *bool `yaml:"progress_display,omitempty" json:"progress_display,omitempty"`
}

// OTelSettings is the otel section.
type OTelSettings struct {
	Enabled     bool     `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	ServiceName string   `yaml:"service_name,omitempty" json:"service_name,omitempty"`
	Exporters   []string `yaml:"exporters,omitempty" json:"exporters,omitempty"`
	// OTLPEndpoint is the OTLP/HTTP endpoint when "otlp" is an exporter.
	OTLPEndpoint string  `yaml:"otlp_endpoint,omitempty" json:"otlp_endpoint,omitempty"`
	SampleRate   float64 `yaml:"sample_rate,omitempty" json:"sample_rate,omitempty"`
}

// TemporalSettings is the temporal section.
type TemporalSettings struct {
	Host      string `yaml:"host,omitempty" json:"host,omitempty"`
	Namespace string `yaml:"namespace,omitempty" json:"namespace,omitempty"`
	TaskQueue string `yaml:"task_queue,omitempty" json:"task_queue,omitempty"`
	APIKey    string `yaml:"api_key,omitempty" json:"api_key,omitempty"`
	TLS       bool   `yaml:"tls,omitempty" json:"tls,omitempty"`
}

// ProviderSettings is a model provider section (openai, anthropic).
type ProviderSettings struct {
	APIKey          string            `yaml:"api_key,omitempty" json:"api_key,omitempty"`
	BaseURL         string            `yaml:"base_url,omitempty" json:"base_url,omitempty"`
	DefaultModel    string            `yaml:"default_model,omitempty" json:"default_model,omitempty"`
	ReasoningEffort string            `yaml:"reasoning_effort,omitempty" json:"reasoning_effort,omitempty"`
	APIVersion      string            `yaml:"api_version,omitempty" json:"api_version,omitempty"`
	Headers         map[string]string `yaml:"headers,omitempty" json:"headers,omitempty"`
}

// AgentsSettings is the agents section.
type AgentsSettings struct {
	Enabled     *bool       `yaml:"enabled,omitempty" json:"enabled,omitempty"`
	SearchPaths []string    `yaml:"search_paths,omitempty" json:"search_paths,omitempty"`
	Definitions []AgentSpec `yaml:"definitions,omitempty" json:"definitions,omitempty"`
}

// AgentSpec declares an agent.
type AgentSpec struct {
	Name        string   `yaml:"name" json:"name"`
	Instruction string   `yaml:"instruction,omitempty" json:"instruction,omitempty"`
	ServerNames []string `yaml:"server_names,omitempty" json:"server_names,omitempty"`
	Provider    string   `yaml:"provider,omitempty" json:"provider,omitempty"`
	Model       string   `yaml:"model,omitempty" json:"model,omitempty"`
	// HumanInput adds the __human_input__ tool.
	HumanInput bool `yaml:"human_input,omitempty" json:"human_input,omitempty"`
}

// WorkflowSpec declares a workflow (workflows.<name>). The fields a pattern
// reads beyond Type and Agents are kept in Options.
type WorkflowSpec struct {
	Type        string         `yaml:"type" json:"type"`
	Description string         `yaml:"description,omitempty" json:"description,omitempty"`
	Agents      []string       `yaml:"agents,omitempty" json:"agents,omitempty"`
	Options     map[string]any `yaml:",inline" json:"options,omitempty"`
}
