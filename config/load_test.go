package config

import (
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeFile(t *testing.T, path, data string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(data), 0o600); err != nil {
		t.Fatal(err)
	}
}

func mustLoadBytes(t *testing.T, yaml string, env map[string]string) *Settings {
	t.Helper()
	s, err := LoadBytes(file, []byte(yaml), opts(env))
	if err != nil {
		t.Fatalf("LoadBytes: %v", err)
	}
	return s
}

func TestExpand(t *testing.T) {
	env := map[string]string{"HOST": "example.com", "EMPTY": "", "PORT": "9000"}
	tests := []struct {
		in, want string
	}{
		{"plain", "plain"},
		{"${HOST}", "example.com"},
		{"https://${HOST}:${PORT}/mcp", "https://example.com:9000/mcp"},
		{"${MISSING:-fallback}", "fallback"},
		{"${EMPTY:-fallback}", "fallback"},
		{"${EMPTY}", ""},
		{"${HOST:-unused}", "example.com"},
		{"${MISSING:-}", ""},
		{"${MISSING:-a b:c}", "a b:c"},
		{"cost $5", "cost $5"},
		{"$$HOST", "$HOST"},
		{"$${HOST}", "${HOST}"},
		{"a$$$${HOST}", "a$${HOST}"},
		{"trailing $", "trailing $"},
	}
	for _, tt := range tests {
		got, problems := expand(tt.in, envOf(env))
		if got != tt.want || len(problems) > 0 {
			t.Errorf("expand(%q) = %q, %q; want %q, no problems", tt.in, got, problems, tt.want)
		}
	}
}

func TestExpandInFiles(t *testing.T) {
	s := mustLoadBytes(t, lines(
		"name: ${APP_NAME:-demo}",
		"mcp:",
		"  servers:",
		"    remote:",
		"      url: ${REMOTE_URL}",
		"      read_timeout_seconds: ${TIMEOUT:-30}",
		"      terminate_on_close: ${TERMINATE:-false}",
		"      headers:",
		"        Authorization: Bearer ${TOKEN}",
		"      args: [\"$${NOT_EXPANDED}\"]",
		"azure:",
		"  api_key: ${AZURE_KEY}",
	), map[string]string{"REMOTE_URL": "http://127.0.0.1:9/mcp", "TOKEN": "t0ken", "AZURE_KEY": "az"})
	srv := s.MCP.Servers["remote"]
	if s.Name != "demo" || srv.URL != "http://127.0.0.1:9/mcp" || srv.Headers["Authorization"] != "Bearer t0ken" {
		t.Errorf("expanded: name %q url %q auth %q", s.Name, srv.URL, srv.Headers["Authorization"])
	}
	if srv.ReadTimeout().Seconds() != 30 || srv.TerminateOnClose == nil || *srv.TerminateOnClose {
		t.Errorf("typed values from expansion: read timeout %v, terminate_on_close %v", srv.ReadTimeout(), srv.TerminateOnClose)
	}
	if diff := cmp.Diff([]string{"${NOT_EXPANDED}"}, srv.Args); diff != "" {
		t.Errorf("args (-want +got):\n%s", diff)
	}
	if got := s.Extra["azure"].(map[string]any)["api_key"]; got != "az" {
		t.Errorf("Extra expanded: azure.api_key = %v, want az", got)
	}
}

func TestPythonFiles(t *testing.T) {
	files, err := filepath.Glob("testdata/python/*.yaml")
	if err != nil || len(files) < 3 {
		t.Fatalf("testdata/python: %v, %d files", err, len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			s, err := Load(LoadOptions{Path: f, Env: envOf(nil)})
			if err != nil {
				t.Fatal(err)
			}
			if len(s.MCP.Servers) == 0 {
				t.Errorf("no servers loaded")
			}
			for name, srv := range s.MCP.Servers {
				if srv.Name != name || srv.EffectiveTransport() == "" {
					t.Errorf("server %q: Name %q, transport %q", name, srv.Name, srv.EffectiveTransport())
				}
			}
		})
	}
}

func TestSeedExample(t *testing.T) {
	s, err := Load(LoadOptions{Path: "testdata/python/seed.config.yaml", Env: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if s.ExecutionEngine != EngineLocal || s.Engine() != EngineLocal {
		t.Errorf("execution_engine asyncio: ExecutionEngine %q, Engine() %q, want local", s.ExecutionEngine, s.Engine())
	}
	if s.LogLevel() != slog.LevelDebug || !cmp.Equal(s.LogTransports(), []string{"console"}) {
		t.Errorf("logger: level %v transports %v", s.LogLevel(), s.LogTransports())
	}
	fetch := s.MCP.Servers["fetch"]
	want := ServerSpec{Name: "fetch", Command: "uvx", Args: []string{"mcp-server-fetch"}}
	if diff := cmp.Diff(want, fetch); diff != "" {
		t.Errorf("fetch (-want +got):\n%s", diff)
	}
	if fetch.EffectiveTransport() != TransportStdio {
		t.Errorf("fetch transport %q", fetch.EffectiveTransport())
	}
	if s.OpenAI == nil || s.OpenAI.DefaultModel != "gpt-4o" {
		t.Errorf("openai = %+v", s.OpenAI)
	}
	if _, ok := s.Extra["azure"]; !ok {
		t.Errorf("Extra has no azure: %v", s.Extra)
	}
	if g, ok := s.Extra["google"].(map[string]any); !ok || g["default_model"] != "gemini-2.0-flash" || g["vertexai"] != false {
		t.Errorf("Extra google = %#v", s.Extra["google"])
	}
	if !cmp.Equal(s.Files, []string{"testdata/python/seed.config.yaml"}) {
		t.Errorf("Files = %v", s.Files)
	}
}

func TestPythonCompatForms(t *testing.T) {
	s, err := Load(LoadOptions{Path: "testdata/python/template.config.yaml", Env: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"console", "otlp"}, s.OTel.Exporters); diff != "" {
		t.Errorf("exporters (-want +got):\n%s", diff)
	}
	if got := s.OTel.Endpoint(); got != "https://collector.example.com/v1/traces" {
		t.Errorf("otel endpoint %q", got)
	}
	if s.Logger.PathSettings == nil || s.Logger.PathSettings.PathPattern != "logs/mcp-agent-{unique_id}.jsonl" {
		t.Errorf("path_settings = %+v", s.Logger.PathSettings)
	}
	if s.Extra["$schema"] == nil || s.Extra["usage_telemetry"] == nil {
		t.Errorf("Extra = %v", s.Extra)
	}
	if got := s.MCP.Servers["github"].EffectiveTransport(); got != TransportStreamableHTTP {
		t.Errorf("github transport %q", got)
	}
}

func TestNormalization(t *testing.T) {
	s := mustLoadBytes(t, lines(
		"execution_engine: Temporal",
		"logger: {level: WARN}",
		"openai:",
		"  default_headers: {X-A: a, X-B: b}",
		"  headers: {X-A: kept}",
		"agents:",
		"  definitions: [{name: a}]",
		"workflows:",
		"  w1: {type: evaluator_optimizer, agents: [a, a], max_refinements: 3}",
		"  w2: {type: Intent_Classifier, agents: [a], intents: [{name: i}]}",
		"  w3: {type: parallel, agents: [a]}",
	), nil)
	if s.Engine() != EngineTemporal || s.ExecutionEngine != EngineTemporal {
		t.Errorf("engine %q / %q", s.ExecutionEngine, s.Engine())
	}
	if s.LogLevel() != slog.LevelWarn {
		t.Errorf("LogLevel %v", s.LogLevel())
	}
	if diff := cmp.Diff(map[string]string{"X-A": "kept", "X-B": "b"}, s.OpenAI.Headers); diff != "" || s.OpenAI.DefaultHeaders != nil {
		t.Errorf("headers (-want +got):\n%s; default_headers %v", diff, s.OpenAI.DefaultHeaders)
	}
	want := map[string]WorkflowSpec{
		"w1": {Type: WorkflowEvaluatorOptimizer, Agents: []string{"a", "a"}, Options: map[string]any{"max_refinements": uint64(3)}},
		"w2": {Type: WorkflowIntent, Agents: []string{"a"}, Options: map[string]any{"intents": []any{map[string]any{"name": "i"}}}},
		"w3": {Type: WorkflowParallel, Agents: []string{"a"}},
	}
	if diff := cmp.Diff(want, s.Workflows); diff != "" {
		t.Errorf("workflows (-want +got):\n%s", diff)
	}
}

func TestZeroSettingsDefaults(t *testing.T) {
	var s Settings
	if s.Engine() != EngineLocal || s.LogLevel() != slog.LevelInfo || !cmp.Equal(s.LogTransports(), []string{"console"}) {
		t.Errorf("zero Settings: engine %q level %v transports %v", s.Engine(), s.LogLevel(), s.LogTransports())
	}
	var nilS *Settings
	if nilS.Engine() != EngineLocal || nilS.Redacted() != nil {
		t.Errorf("nil Settings methods")
	}
	empty := mustLoadBytes(t, "", nil)
	if len(empty.MCP.Servers) != 0 || empty.Extra != nil {
		t.Errorf("empty file: %+v", empty)
	}
	comments := mustLoadBytes(t, "# only a comment\n", nil)
	if comments.Engine() != EngineLocal {
		t.Errorf("comment-only file: %+v", comments)
	}
}

func TestAnchorsAndMergeKeys(t *testing.T) {
	s := mustLoadBytes(t, lines(
		"x-common: &common",
		"  command: npx",
		"  env: {LOG: info}",
		"mcp:",
		"  servers:",
		"    a:",
		"      <<: *common",
		"      args: [a]",
		"    b:",
		"      <<: *common",
		"      command: node",
	), nil)
	a, b := s.MCP.Servers["a"], s.MCP.Servers["b"]
	if a.Command != "npx" || a.Env["LOG"] != "info" || b.Command != "node" || b.Env["LOG"] != "info" {
		t.Errorf("a = %+v, b = %+v", a, b)
	}
}

func TestSearch(t *testing.T) {
	root := t.TempDir()
	deep := filepath.Join(root, "app", "sub", "deeper")
	if err := os.MkdirAll(deep, 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(root, "app", "mcp_agent.config.yaml"), lines(
		"mcp:",
		"  servers:",
		"    fetch:",
		"      command: uvx",
		"      transport: htp",
	))
	_, err := Load(LoadOptions{Dir: deep, Env: envOf(nil)})
	want := filepath.Join("..", "..", "mcp_agent.config.yaml") + `:5: mcp.servers.fetch.transport: unknown transport "htp" (want stdio, sse, streamable_http, websocket)`
	if err == nil || err.Error() != want {
		t.Fatalf("Load from a subdirectory: %v\nwant: %s", err, want)
	}

	writeFile(t, filepath.Join(root, "app", "mcp_agent.config.yaml"), lines("mcp:", "  servers:", "    fetch: {command: uvx}"))
	s, err := Load(LoadOptions{Dir: deep, Env: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{filepath.Join(root, "app", "mcp_agent.config.yaml")}, s.Files); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}

	// The nearest file wins, and .yml is accepted.
	writeFile(t, filepath.Join(root, "app", "sub", "mcp_agent.config.yml"), lines("name: nearer"))
	s, err = Load(LoadOptions{Dir: deep, Env: envOf(nil)})
	if err != nil || s.Name != "nearer" {
		t.Fatalf("Load = %+v, %v; want the .yml in sub", s, err)
	}

	// .mcp-agent/ subdirectories are searched too.
	writeFile(t, filepath.Join(deep, ".mcp-agent", "mcp_agent.config.yaml"), lines("name: hidden"))
	s, err = Load(LoadOptions{Dir: deep, Env: envOf(nil)})
	if err != nil || s.Name != "hidden" {
		t.Fatalf("Load = %+v, %v; want .mcp-agent/mcp_agent.config.yaml", s, err)
	}
}

func TestNotFound(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(LoadOptions{Dir: dir, Env: envOf(nil)})
	if !errors.Is(err, ErrNotFound) {
		t.Fatalf("Load in an empty tree: %v, want ErrNotFound", err)
	}
	for _, part := range []string{dir, "--config", "create mcp_agent.config.yaml"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("error %q does not mention %q", err, part)
		}
	}

	// An explicit path that does not exist is not ErrNotFound: the user asked for it.
	missing := filepath.Join(dir, "nope.yaml")
	_, err = Load(LoadOptions{Path: missing, Env: envOf(nil)})
	if errors.Is(err, ErrNotFound) || !errors.Is(err, fs.ErrNotExist) || !strings.HasPrefix(err.Error(), "config file "+missing+" does not exist (check --config)") {
		t.Errorf("Load(missing path) = %v", err)
	}
}

func TestSecretsMerge(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "mcp_agent.config.yaml"), lines(
		"openai:",
		"  default_model: gpt-4o",
		"  api_key: placeholder",
		"mcp:",
		"  servers:",
		"    github:",
		"      command: npx",
		"      args: [a, b]",
		"      env: {LOG: info}",
	))
	writeFile(t, filepath.Join(dir, "mcp_agent.secrets.yaml"), lines(
		"openai:",
		"  api_key: ${OPENAI_SECRET:-sk-from-secrets}",
		"anthropic:",
		"mcp:",
		"  servers:",
		"    github:",
		"      args: [c]",
		"      env: {GITHUB_TOKEN: ghp_x}",
		"bedrock:",
		"  aws_secret_access_key: abc",
	))
	s, err := Load(LoadOptions{Dir: dir, Env: envOf(nil)})
	if err != nil {
		t.Fatal(err)
	}
	if s.OpenAI.APIKey != "sk-from-secrets" || s.OpenAI.DefaultModel != "gpt-4o" {
		t.Errorf("openai = %+v", s.OpenAI)
	}
	if s.Anthropic != nil {
		t.Errorf("a null section in secrets created anthropic = %+v", s.Anthropic)
	}
	gh := s.MCP.Servers["github"]
	if diff := cmp.Diff(ServerSpec{Name: "github", Command: "npx", Args: []string{"c"}, Env: map[string]string{"LOG": "info", "GITHUB_TOKEN": "ghp_x"}}, gh); diff != "" {
		t.Errorf("github (-want +got):\n%s", diff)
	}
	wantFiles := []string{filepath.Join(dir, "mcp_agent.config.yaml"), filepath.Join(dir, "mcp_agent.secrets.yaml")}
	if diff := cmp.Diff(wantFiles, s.Files); diff != "" {
		t.Errorf("Files (-want +got):\n%s", diff)
	}

	// Errors in values that came from the secrets file name it.
	writeFile(t, filepath.Join(dir, "mcp_agent.secrets.yaml"), lines(
		"openai:",
		"  api_key: ${OPENAI_SECRET}",
		"  organisation: x",
		"mcp:",
		"  servers:",
		"    github:",
		"      transport: htp",
	))
	_, err = Load(LoadOptions{Dir: dir, Env: envOf(nil)})
	want := strings.Join([]string{
		`mcp_agent.secrets.yaml:2: openai.api_key: environment variable OPENAI_SECRET is not set (set it, or give a default: ${OPENAI_SECRET:-default})`,
		`mcp_agent.secrets.yaml:3: openai.organisation: unknown key "organisation" (known keys: api, api_key, api_version, base_url, default_headers, default_model, headers, max_tokens, provider, reasoning_effort, temperature, user)`,
		`mcp_agent.secrets.yaml:7: mcp.servers.github.transport: unknown transport "htp" (want stdio, sse, streamable_http, websocket)`,
	}, "\n")
	if err == nil || err.Error() != want {
		t.Errorf("Load = %v\nwant:\n%s", err, want)
	}

	// An explicit SecretsPath replaces the one next to the config.
	other := filepath.Join(t.TempDir(), "prod.secrets.yaml")
	writeFile(t, other, lines("openai:", "  api_key: sk-prod"))
	s, err = Load(LoadOptions{Path: filepath.Join(dir, "mcp_agent.config.yaml"), SecretsPath: other, Env: envOf(nil)})
	if err != nil || s.OpenAI.APIKey != "sk-prod" {
		t.Errorf("Load with SecretsPath = %+v, %v", s, err)
	}
	s, err = LoadBytes("inline.yaml", []byte("openai: {default_model: m}\n"), LoadOptions{SecretsPath: other, Env: envOf(nil)})
	if err != nil || s.OpenAI.APIKey != "sk-prod" || s.OpenAI.DefaultModel != "m" || !cmp.Equal(s.Files, []string{"inline.yaml", other}) {
		t.Errorf("LoadBytes with SecretsPath = %+v, %v", s, err)
	}
}

func TestEnvOverrides(t *testing.T) {
	base := lines(
		"execution_engine: asyncio",
		"openai:",
		"  default_model: gpt-4o",
		"mcp:",
		"  servers:",
		"    Fetch:",
		"      command: uvx",
	)
	s := mustLoadBytes(t, base, map[string]string{
		"MCP_AGENT__EXECUTION_ENGINE":                          "temporal",
		"MCP_AGENT__OPENAI__DEFAULT_MODEL":                     "gpt-4.1",
		"mcp_agent__logger__level":                             "debug",
		"MCP_AGENT__LOGGER__TRANSPORTS":                        "[console, file]",
		"MCP_AGENT__LOGGER__PATH":                              "/tmp/x.jsonl",
		"MCP_AGENT__MCP__SERVERS__FETCH__ARGS":                 `["mcp-server-fetch", "--ignore-robots-txt"]`,
		"MCP_AGENT__MCP__SERVERS__FETCH__READ_TIMEOUT_SECONDS": "12.5",
		"MCP_AGENT__TEMPORAL__HOST":                            "127.0.0.1:7233",
		"MCP_AGENT__AZURE__ENDPOINT":                           "https://az.example.com",
		"MCP_AGENT_CLOUD_URL":                                  "http://127.0.0.1:1", // single underscore: not an override
	})
	if s.Engine() != EngineTemporal || s.OpenAI.DefaultModel != "gpt-4.1" || s.LogLevel() != slog.LevelDebug {
		t.Errorf("engine %q model %q level %v", s.Engine(), s.OpenAI.DefaultModel, s.LogLevel())
	}
	if !cmp.Equal(s.Logger.Transports, []string{"console", "file"}) || s.Logger.Path != "/tmp/x.jsonl" {
		t.Errorf("logger %+v", s.Logger)
	}
	fetch := s.MCP.Servers["Fetch"]
	if !cmp.Equal(fetch.Args, []string{"mcp-server-fetch", "--ignore-robots-txt"}) || fetch.ReadTimeoutSeconds != 12.5 || fetch.Command != "uvx" {
		t.Errorf("server override matched case-insensitively: %+v", fetch)
	}
	if s.Temporal == nil || s.Temporal.Host != "127.0.0.1:7233" {
		t.Errorf("temporal %+v", s.Temporal)
	}
	if got := s.Extra["azure"].(map[string]any)["endpoint"]; got != "https://az.example.com" {
		t.Errorf("azure.endpoint %v", got)
	}

	// NoEnvOverrides turns them off.
	o := opts(map[string]string{"MCP_AGENT__EXECUTION_ENGINE": "temporal", "OPENAI_API_KEY": "sk-env"})
	o.NoEnvOverrides = true
	s, err := LoadBytes(file, []byte(base), o)
	if err != nil || s.Engine() != EngineLocal || s.OpenAI.APIKey != "" {
		t.Errorf("NoEnvOverrides: %+v, %v", s, err)
	}

	// Overrides beat the secrets file.
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "mcp_agent.config.yaml"), "openai: {default_model: a}\n")
	writeFile(t, filepath.Join(dir, "mcp_agent.secrets.yaml"), "openai: {default_model: b, api_key: sk-secrets}\n")
	o = opts(map[string]string{"MCP_AGENT__OPENAI__DEFAULT_MODEL": "c", "OPENAI_API_KEY": "sk-env"})
	o.Dir = dir
	s, err = Load(o)
	if err != nil || s.OpenAI.DefaultModel != "c" || s.OpenAI.APIKey != "sk-secrets" {
		t.Errorf("precedence: %+v, %v; want model c (env), api key from secrets", s.OpenAI, err)
	}
}

func TestEnvOverrideErrors(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"MCP_AGENT__LOGGER____LEVEL": "x"}, "environment MCP_AGENT__LOGGER____LEVEL: empty key in the variable name (separate keys with exactly two underscores, e.g. MCP_AGENT__LOGGER__LEVEL)"},
		{map[string]string{"MCP_AGENT__NAME__FIRST": "x"}, `environment MCP_AGENT__NAME__FIRST: name: cannot set a key inside the string "app"`},
		{map[string]string{"MCP_AGENT__LOGGER__TRANSPORTS": "[console"}, "environment MCP_AGENT__LOGGER__TRANSPORTS: cannot parse the value as a YAML list or mapping: invalid YAML: sequence end token ']' not found"},
		{map[string]string{"MCP_AGENT__LOGGER__LEVELL": "debug"}, `environment MCP_AGENT__LOGGER__LEVELL: logger.levell: unknown key "levell" (did you mean "level"?)`},
	}
	for _, tt := range tests {
		_, err := LoadBytes(file, []byte("name: app\n"), opts(tt.env))
		if err == nil || err.Error() != tt.want {
			t.Errorf("env %v: error\n%v\nwant\n%s", tt.env, err, tt.want)
		}
	}
}

func TestProviderEnvFallback(t *testing.T) {
	env := map[string]string{
		"OPENAI_API_KEY":     "sk-openai-env",
		"OPENAI_BASE_URL":    "http://127.0.0.1:8080/v1",
		"ANTHROPIC_API_KEY":  "sk-ant-env",
		"ANTHROPIC_BASE_URL": "http://127.0.0.1:8081",
	}
	// Not set in the file: filled, sections created.
	s := mustLoadBytes(t, "name: app\n", env)
	if s.OpenAI == nil || s.OpenAI.APIKey != "sk-openai-env" || s.OpenAI.BaseURL != "http://127.0.0.1:8080/v1" {
		t.Errorf("openai = %+v", s.OpenAI)
	}
	if s.Anthropic == nil || s.Anthropic.APIKey != "sk-ant-env" || s.Anthropic.BaseURL != "http://127.0.0.1:8081" {
		t.Errorf("anthropic = %+v", s.Anthropic)
	}
	// Set in the file: the file wins.
	s = mustLoadBytes(t, "openai: {api_key: sk-file, base_url: https://api.example.com}\n", env)
	if s.OpenAI.APIKey != "sk-file" || s.OpenAI.BaseURL != "https://api.example.com" {
		t.Errorf("openai = %+v", s.OpenAI)
	}
	// A base URL alone does not create a provider section.
	s = mustLoadBytes(t, "name: app\n", map[string]string{"OPENAI_BASE_URL": "http://127.0.0.1:1"})
	if s.OpenAI != nil {
		t.Errorf("openai = %+v, want nil", s.OpenAI)
	}
}

func TestFieldErrorFormat(t *testing.T) {
	tests := []struct {
		e    FieldError
		want string
	}{
		{FieldError{File: "a.yaml", Line: 3, Path: "x.y", Msg: "bad"}, "a.yaml:3: x.y: bad"},
		{FieldError{File: "a.yaml", Line: 3, Msg: "bad"}, "a.yaml:3: bad"},
		{FieldError{File: "environment MCP_AGENT__X", Path: "x", Msg: "bad"}, "environment MCP_AGENT__X: x: bad"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorCountBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("mcp:\n  servers:\n")
	for i := range 150 {
		b.WriteString("    s" + strings.Repeat("x", i%3) + string(rune('a'+i%26)) + string(rune('a'+i/26)) + ": {transport: htp}\n")
	}
	_, err := LoadBytes(file, []byte(b.String()), opts(nil))
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("err = %v", err)
	}
	if len(ve.Errors) != maxErrors+1 || ve.Errors[maxErrors].Msg != "and 50 more errors" {
		t.Errorf("%d errors, last %q", len(ve.Errors), ve.Errors[len(ve.Errors)-1])
	}
}

func TestSyntaxErrorInSecretsStopsChecking(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, filepath.Join(dir, "mcp_agent.config.yaml"), "mcp:\n  servers:\n    fetch: {command: uvx}\n")
	writeFile(t, filepath.Join(dir, "mcp_agent.secrets.yaml"), "openai:\n  api_key: [sk\n")
	_, err := Load(LoadOptions{Dir: dir, Env: envOf(nil)})
	want := `mcp_agent.secrets.yaml:2: invalid YAML: sequence end token ']' not found`
	if err == nil || err.Error() != want {
		t.Errorf("Load = %v, want %s", err, want)
	}
}
