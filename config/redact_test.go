package config

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMask(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"short", "****"},
		{"elevenchars", "****"},
		{"sk-0123456789", "****6789"},
		{"twelve-chars", "****hars"},
		{"ключ-секрет-длинный", "****нный"},
	}
	for _, tt := range tests {
		if got := mask(tt.in); got != tt.want {
			t.Errorf("mask(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestRedacted(t *testing.T) {
	s := mustLoadBytes(t, lines(
		"openai:",
		"  api_key: sk-proj-abcdefghijkl",
		"  default_model: gpt-4o",
		"  headers: {OpenAI-Organization: org-1, X-Api-Key: xk-0123456789abcd}",
		"anthropic: {api_key: short}",
		"temporal: {host: 127.0.0.1:7233, task_queue: q, api_key: tmprl-0123456789}",
		"mcp:",
		"  servers:",
		"    gh:",
		"      url: https://api.example.com/mcp",
		"      headers:",
		"        Authorization: Bearer ghp_0123456789abcdef",
		"        x-session-token: tok",
		"        Accept: application/json",
		"      auth:",
		"        api_key: key-0123456789",
		"        oauth: {client_id: cid, client_secret: cs-0123456789ab}",
		"    local:",
		"      command: npx",
		"      env: {GITHUB_PERSONAL_ACCESS_TOKEN: ghp_abcdefghijkl, db_password: pw, LOG_LEVEL: debug, Api_Key: k}",
		"azure:",
		"  api_key: az-0123456789ab",
		"  endpoint: https://az.example.com",
		"bedrock:",
		"  credentials:",
		"    - aws_secret_access_key: wJalrXUtnFEMI/K7MDENG",
	), nil)
	before, err := s.YAML()
	if err != nil {
		t.Fatal(err)
	}
	r := s.Redacted()

	if after, _ := s.YAML(); string(after) != string(before) {
		t.Errorf("Redacted modified the original:\n%s", after)
	}
	checks := []struct{ name, got, want string }{
		{"openai.api_key", r.OpenAI.APIKey, "****ijkl"},
		{"openai.default_model", r.OpenAI.DefaultModel, "gpt-4o"},
		{"openai.headers.OpenAI-Organization", r.OpenAI.Headers["OpenAI-Organization"], "org-1"},
		{"openai.headers.X-Api-Key", r.OpenAI.Headers["X-Api-Key"], "****abcd"},
		{"anthropic.api_key", r.Anthropic.APIKey, "****"},
		{"temporal.api_key", r.Temporal.APIKey, "****6789"},
		{"gh Authorization", r.MCP.Servers["gh"].Headers["Authorization"], "****cdef"},
		{"gh x-session-token", r.MCP.Servers["gh"].Headers["x-session-token"], "****"},
		{"gh Accept", r.MCP.Servers["gh"].Headers["Accept"], "application/json"},
		{"gh auth.api_key", r.MCP.Servers["gh"].Auth.APIKey, "****6789"},
		{"gh auth.oauth.client_secret", r.MCP.Servers["gh"].Auth.OAuth["client_secret"].(string), "****89ab"},
		{"gh auth.oauth.client_id", r.MCP.Servers["gh"].Auth.OAuth["client_id"].(string), "cid"},
		{"local env token", r.MCP.Servers["local"].Env["GITHUB_PERSONAL_ACCESS_TOKEN"], "****ijkl"},
		{"local env password", r.MCP.Servers["local"].Env["db_password"], "****"},
		{"local env Api_Key", r.MCP.Servers["local"].Env["Api_Key"], "****"},
		{"local env LOG_LEVEL", r.MCP.Servers["local"].Env["LOG_LEVEL"], "debug"},
		{"azure.api_key", r.Extra["azure"].(map[string]any)["api_key"].(string), "****89ab"},
		{"azure.endpoint", r.Extra["azure"].(map[string]any)["endpoint"].(string), "https://az.example.com"},
		{"bedrock nested", r.Extra["bedrock"].(map[string]any)["credentials"].([]any)[0].(map[string]any)["aws_secret_access_key"].(string), "****DENG"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	if s.OpenAI.APIKey != "sk-proj-abcdefghijkl" || s.MCP.Servers["gh"].Headers["Authorization"] != "Bearer ghp_0123456789abcdef" {
		t.Errorf("original changed")
	}
	out, err := r.YAML()
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"abcdefghijkl", "ghp_0123", "tmprl-", "cs-0123", "wJalr", "az-0123"} {
		if strings.Contains(string(out), secret) {
			t.Errorf("redacted YAML contains %q:\n%s", secret, out)
		}
	}
}

func TestYAMLRoundTrip(t *testing.T) {
	s, err := LoadBytes("seed.yaml", mustRead(t, "testdata/python/template.config.yaml"), opts(nil))
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.YAML()
	if err != nil {
		t.Fatal(err)
	}
	// Known sections first in declaration order, then Extra sorted.
	var top []string
	for _, l := range strings.Split(string(out), "\n") {
		if l != "" && l[0] != ' ' && l[0] != '-' {
			k, _, _ := strings.Cut(l, ":")
			top = append(top, k)
		}
	}
	want := []string{"execution_engine", "logger", "otel", "mcp", "openai", "anthropic", "agents", "$schema", "usage_telemetry"}
	if diff := cmp.Diff(want, top); diff != "" {
		t.Errorf("top-level keys (-want +got):\n%s\n%s", diff, out)
	}
	// The output loads back to the same settings.
	again, err := LoadBytes("out.yaml", out, opts(nil))
	if err != nil {
		t.Fatalf("reloading YAML output: %v\n%s", err, out)
	}
	again.Files, s.Files = nil, nil
	if diff := cmp.Diff(s, again); diff != "" {
		t.Errorf("round trip (-first +second):\n%s", diff)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
