package config

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// envOf returns a lookup function over m (nothing else is set).
func envOf(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// opts is LoadOptions isolated from the process environment.
func opts(env map[string]string) LoadOptions {
	o := LoadOptions{Env: envOf(env)}
	for k, v := range env {
		o.Environ = append(o.Environ, k+"="+v)
	}
	return o
}

// lines joins its arguments with newlines: a YAML file or an error listing.
func lines(l ...string) string { return strings.Join(l, "\n") + "\n" }

const file = "mcp_agent.config.yaml"

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		env  map[string]string
		want string // the whole error message
	}{
		{
			name: "unknown transport",
			yaml: lines(
				"mcp:",
				"  servers:",
				"    fetch:",
				"      transport: htp",
				"      url: http://localhost:8000/mcp",
			),
			want: `mcp_agent.config.yaml:4: mcp.servers.fetch.transport: unknown transport "htp" (want stdio, sse, streamable_http, websocket)`,
		},
		{
			name: "stdio without command",
			yaml: lines(
				"mcp:",
				"  servers:",
				"    fetch:",
				"      transport: stdio",
				"      args: [mcp-server-fetch]",
			),
			want: `mcp_agent.config.yaml:3: mcp.servers.fetch: stdio server needs a command (set command, or set transport and url for a networked server)`,
		},
		{
			name: "neither command nor url",
			yaml: lines(
				"mcp:",
				"  servers:",
				"    fetch:",
				"      args: [mcp-server-fetch]",
			),
			want: `mcp_agent.config.yaml:3: mcp.servers.fetch: server has neither command nor url (set command for a stdio server, or url for a networked one)`,
		},
		{
			name: "networked without url",
			yaml: lines(
				"mcp:",
				"  servers:",
				"    remote:",
				"      transport: sse",
			),
			want: `mcp_agent.config.yaml:3: mcp.servers.remote: sse server needs a url (e.g. url: http://localhost:8000/sse)`,
		},
		{
			name: "url without scheme",
			yaml: lines(
				"mcp:",
				"  servers:",
				"    remote:",
				"      transport: streamable_http",
				"      url: localhost:8000/mcp",
			),
			want: `mcp_agent.config.yaml:5: mcp.servers.remote.url: "localhost:8000/mcp" is not an http:// or https:// URL (write it like http://localhost:8000/mcp)`,
		},
		{
			name: "implied streamable_http url checked",
			yaml: lines(
				"mcp:",
				"  servers:",
				"    remote:",
				"      url: ftp://example.com/mcp",
			),
			want: `mcp_agent.config.yaml:4: mcp.servers.remote.url: "ftp://example.com/mcp" is not an http:// or https:// URL (write it like http://localhost:8000/mcp)`,
		},
		{
			name: "websocket wants ws",
			yaml: lines(
				"mcp:",
				"  servers:",
				"    ws:",
				"      transport: websocket",
				"      url: http://localhost:8000/ws",
			),
			want: `mcp_agent.config.yaml:5: mcp.servers.ws.url: "http://localhost:8000/ws" is not a ws:// or wss:// URL (write it like ws://localhost:8000/ws)`,
		},
		{
			name: "command and url conflict",
			yaml: lines(
				"mcp:",
				"  servers:",
				"    both:",
				"      command: uvx",
				"      url: http://localhost:8000/mcp",
			),
			want: `mcp_agent.config.yaml:3: mcp.servers.both: both command and url are set; set transport to say which to use (stdio uses command; sse, streamable_http and websocket use url)`,
		},
		{
			name: "bad server name",
			yaml: lines(
				"mcp:",
				"  servers:",
				"    \"my server\":",
				"      command: uvx",
			),
			want: `mcp_agent.config.yaml:3: mcp.servers.my server: invalid server name "my server": use letters, digits, _, . and -, starting with a letter or digit`,
		},
		{
			name: "unknown execution engine",
			yaml: lines("execution_engine: threads"),
			want: `mcp_agent.config.yaml:1: execution_engine: unknown execution engine "threads" (want local, asyncio, temporal)`,
		},
		{
			name: "unknown log level",
			yaml: lines("logger:", "  level: loud"),
			want: `mcp_agent.config.yaml:2: logger.level: unknown log level "loud" (want debug, info, warning, warn, error)`,
		},
		{
			name: "unknown logger transport",
			yaml: lines("logger:", "  transports:", "    - console", "    - syslog"),
			want: `mcp_agent.config.yaml:4: logger.transports[1]: unknown logger transport "syslog" (want console, file)`,
		},
		{
			name: "file transport without path",
			yaml: lines("logger:", "  level: info", "  transports: [console, file]"),
			want: `mcp_agent.config.yaml:3: logger.transports: the file transport needs a file: set logger.path (e.g. logs/mcp-agent.jsonl) or logger.path_settings.path_pattern`,
		},
		{
			name: "unknown key in a known section",
			yaml: lines("logger:", "  level: info", "  colour: true"),
			want: `mcp_agent.config.yaml:3: logger.colour: unknown key "colour" (known keys: batch_size, flush_interval, http_endpoint, http_headers, http_timeout, level, max_queue_size, path, path_settings, progress_display, transports, type)`,
		},
		{
			name: "misspelt key gets a suggestion",
			yaml: lines("mcp:", "  servers:", "    fetch:", "      comand: uvx"),
			want: `mcp_agent.config.yaml:3: mcp.servers.fetch: server has neither command nor url (set command for a stdio server, or url for a networked one)` + "\n" +
				`mcp_agent.config.yaml:4: mcp.servers.fetch.comand: unknown key "comand" (did you mean "command"?)`,
		},
		{
			name: "misspelt top-level section",
			yaml: lines("loger:", "  level: debug"),
			want: `mcp_agent.config.yaml:1: loger: unknown key "loger" (did you mean "logger"?)`,
		},
		{
			name: "unknown top-level list",
			yaml: lines("servers_list:", "  - fetch"),
			want: `mcp_agent.config.yaml:1: servers_list: unknown key "servers_list" holds a list; only unknown sections (mappings) and single values are kept (known keys: agents, anthropic, description, execution_engine, logger, mcp, name, openai, otel, temporal, workflows)`,
		},
		{
			name: "wrong types",
			yaml: lines(
				"mcp:",
				"  servers:",
				"    fetch:",
				"      command: uvx",
				"      args: mcp-server-fetch",
				"      read_timeout_seconds: soon",
				"      terminate_on_close: maybe",
				"      env:",
				"        - A=1",
			),
			want: strings.Join([]string{
				`mcp_agent.config.yaml:5: mcp.servers.fetch.args: want a list, got the string "mcp-server-fetch"`,
				`mcp_agent.config.yaml:6: mcp.servers.fetch.read_timeout_seconds: want a number, got the string "soon"`,
				`mcp_agent.config.yaml:7: mcp.servers.fetch.terminate_on_close: want true or false, got the string "maybe"`,
				`mcp_agent.config.yaml:9: mcp.servers.fetch.env: want a mapping, got a list`,
			}, "\n"),
		},
		{
			name: "section that is not a mapping",
			yaml: lines("mcp: fetch"),
			want: `mcp_agent.config.yaml:1: mcp: want a mapping, got the string "fetch"`,
		},
		{
			name: "top level not a mapping",
			yaml: lines("- a", "- b"),
			want: `mcp_agent.config.yaml:1: the file must be a mapping of settings (key: value), got a list`,
		},
		{
			name: "duplicate agent names",
			yaml: lines(
				"agents:",
				"  definitions:",
				"    - name: finder",
				"      instruction: find",
				"    - name: finder",
				"      instruction: find again",
			),
			want: `mcp_agent.config.yaml:5: agents.definitions[1].name: duplicate agent name "finder" (agents.definitions[0] at line 3 has it too)`,
		},
		{
			name: "agent without name",
			yaml: lines("agents:", "  definitions:", "    - instruction: find"),
			want: `mcp_agent.config.yaml:3: agents.definitions[0]: agent has no name (set name)`,
		},
		{
			name: "agent uses unknown server",
			yaml: lines(
				"mcp:",
				"  servers:",
				"    fetch: {command: uvx}",
				"    filesystem: {command: npx}",
				"agents:",
				"  definitions:",
				"    - name: finder",
				"      server_names: [fetch, fetc]",
			),
			want: `mcp_agent.config.yaml:8: agents.definitions[0].server_names[1]: agent "finder" uses unknown server "fetc" (known servers: fetch, filesystem)`,
		},
		{
			name: "agent uses a server when none exist",
			yaml: lines(
				"agents:",
				"  definitions:",
				"    - name: finder",
				"      server_names:",
				"        - fetch",
			),
			want: `mcp_agent.config.yaml:5: agents.definitions[0].server_names[0]: agent "finder" uses unknown server "fetch" (no servers are defined in mcp.servers)`,
		},
		{
			name: "unknown workflow type",
			yaml: lines("workflows:", "  review:", "    type: chain"),
			want: `mcp_agent.config.yaml:3: workflows.review.type: unknown workflow type "chain" (want parallel, router, intent, evaluator-optimizer, orchestrator, swarm)`,
		},
		{
			name: "workflow without type",
			yaml: lines("workflows:", "  review:", "    description: no type"),
			want: `mcp_agent.config.yaml:2: workflows.review: workflow has no type (want parallel, router, intent, evaluator-optimizer, orchestrator, swarm)`,
		},
		{
			name: "workflow uses unknown agent",
			yaml: lines(
				"agents:",
				"  definitions:",
				"    - name: writer",
				"    - name: editor",
				"workflows:",
				"  review:",
				"    type: evaluator_optimizer",
				"    agents: [writer, critic]",
			),
			want: `mcp_agent.config.yaml:8: workflows.review.agents[1]: workflow "review" uses unknown agent "critic" (known agents: editor, writer)`,
		},
		{
			name: "root uri not file",
			yaml: lines(
				"mcp:",
				"  servers:",
				"    fs:",
				"      command: npx",
				"      roots:",
				"        - uri: /home/me/project",
				"          name: project",
				"        - name: nothing",
			),
			want: `mcp_agent.config.yaml:6: mcp.servers.fs.roots[0].uri: "/home/me/project" is not a file:// URI (write file:///home/me/project)` + "\n" +
				`mcp_agent.config.yaml:8: mcp.servers.fs.roots[1]: root needs a uri (e.g. uri: file:///home/me/project)`,
		},
		{
			name: "unset variable",
			yaml: lines(
				"mcp:",
				"  servers:",
				"    github:",
				"      command: npx",
				"      env:",
				"        GITHUB_TOKEN: ${GITHUB_TOKEN}",
			),
			want: `mcp_agent.config.yaml:6: mcp.servers.github.env.GITHUB_TOKEN: environment variable GITHUB_TOKEN is not set (set it, or give a default: ${GITHUB_TOKEN:-default})`,
		},
		{
			name: "malformed references",
			yaml: lines(
				"name: ${app name}",
				"description: ${OPEN",
			),
			want: `mcp_agent.config.yaml:1: name: invalid reference "${app name}": want ${NAME} or ${NAME:-default} with NAME of letters, digits and _ (write "$$" for a literal "$")` + "\n" +
				`mcp_agent.config.yaml:2: description: unterminated "${" in "${OPEN" (close it with "}", or write "$${" for a literal "${")`,
		},
		{
			name: "yaml syntax error",
			yaml: lines("mcp:", "  servers:", "    fetch:", "      command: [uvx"),
			want: `mcp_agent.config.yaml:4: invalid YAML: sequence end token ']' not found`,
		},
		{
			name: "duplicate key",
			yaml: lines("logger:", "  level: info", "  level: debug"),
			want: `mcp_agent.config.yaml:3: invalid YAML: mapping key "level" already defined at [2:3]`,
		},
		{
			name: "two documents",
			yaml: lines("name: a", "---", "name: b"),
			want: `mcp_agent.config.yaml:3: invalid YAML: more than one document; put all settings in one document (remove the extra "---")`,
		},
		{
			name: "env override errors name the variable",
			yaml: lines("name: app"),
			env:  map[string]string{"MCP_AGENT__EXECUTION_ENGINE": "threads", "MCP_AGENT__LOGGER__LEVEL": "loud"},
			want: `environment MCP_AGENT__EXECUTION_ENGINE: execution_engine: unknown execution engine "threads" (want local, asyncio, temporal)` + "\n" +
				`environment MCP_AGENT__LOGGER__LEVEL: logger.level: unknown log level "loud" (want debug, info, warning, warn, error)`,
		},
		{
			name: "otel exporter",
			yaml: lines("otel:", "  exporters: [console, jaeger]"),
			want: `mcp_agent.config.yaml:2: otel.exporters[1]: unknown exporter "jaeger" (want console, file, otlp)`,
		},
		{
			name: "agent temperature out of range",
			yaml: lines(
				"agents:",
				"  definitions:",
				"    - name: finder",
				"      temperature: 0.5",
				"    - name: writer",
				"      instruction: write",
				"      temperature: 3",
			),
			want: `mcp_agent.config.yaml:7: agents.definitions[1].temperature: 3 is outside 0..2 (lower is more deterministic; e.g. temperature: 0.2)`,
		},
		{
			name: "agent negative temperature",
			yaml: lines("agents:", "  definitions:", "    - name: finder", "      temperature: -0.1"),
			want: `mcp_agent.config.yaml:4: agents.definitions[0].temperature: -0.1 is outside 0..2 (lower is more deterministic; e.g. temperature: 0.2)`,
		},
		{
			name: "agent temperature not a number",
			yaml: lines("agents:", "  definitions:", "    - name: finder", "      temperature: warm"),
			want: `mcp_agent.config.yaml:4: agents.definitions[0].temperature: want a number, got the string "warm"`,
		},
		{
			name: "agent request params",
			yaml: lines(
				"agents:",
				"  definitions:",
				"    - name: finder",
				"      max_tokens: 0",
				"      max_iterations: -2",
				"      reasoning_effort: extreme",
				"      parallel_tool_calls: sometimes",
			),
			want: strings.Join([]string{
				`mcp_agent.config.yaml:4: agents.definitions[0].max_tokens: 0 is not a positive token count (e.g. max_tokens: 1024; remove it for the provider's default)`,
				`mcp_agent.config.yaml:5: agents.definitions[0].max_iterations: -2 is not a positive number of model calls (e.g. max_iterations: 5; remove it for the default, 10)`,
				`mcp_agent.config.yaml:6: agents.definitions[0].reasoning_effort: unknown reasoning effort "extreme" (want minimal, low, medium, high)`,
				`mcp_agent.config.yaml:7: agents.definitions[0].parallel_tool_calls: want true or false, got the string "sometimes"`,
			}, "\n"),
		},
		{
			name: "errors are all reported in line order",
			yaml: lines(
				"execution_engine: threads",
				"logger:",
				"  level: loud",
				"mcp:",
				"  servers:",
				"    a:",
				"      transport: htp",
				"    b:",
				"      transport: sse",
			),
			want: strings.Join([]string{
				`mcp_agent.config.yaml:1: execution_engine: unknown execution engine "threads" (want local, asyncio, temporal)`,
				`mcp_agent.config.yaml:3: logger.level: unknown log level "loud" (want debug, info, warning, warn, error)`,
				`mcp_agent.config.yaml:7: mcp.servers.a.transport: unknown transport "htp" (want stdio, sse, streamable_http, websocket)`,
				`mcp_agent.config.yaml:8: mcp.servers.b: sse server needs a url (e.g. url: http://localhost:8000/sse)`,
			}, "\n"),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := LoadBytes(file, []byte(tt.yaml), opts(tt.env))
			if err == nil {
				t.Fatalf("LoadBytes succeeded (%+v), want error:\n%s", s, tt.want)
			}
			if diff := cmp.Diff(tt.want, err.Error()); diff != "" {
				t.Errorf("error mismatch (-want +got):\n%s", diff)
			}
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("error %T is not a *ValidationError", err)
			}
			var fe *FieldError
			if !errors.As(err, &fe) || fe.File == "" {
				t.Errorf("errors.As(*FieldError) = %v, want an error with a file", fe)
			}
		})
	}
}
