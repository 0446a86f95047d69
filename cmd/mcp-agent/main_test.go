package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
)

// TestMain lets the test binary stand in for the mcp-agent binary: configs
// that say "command: mcp-agent" run os.Executable(), which under test is this
// binary, so it must behave as the CLI when re-executed.
func TestMain(m *testing.M) {
	if os.Getenv("MCP_AGENT_CLI_REEXEC") == "1" {
		main()
		os.Exit(0)
	}
	os.Setenv("MCP_AGENT_CLI_REEXEC", "1")
	os.Exit(m.Run())
}

// run executes the CLI in-process with args and returns stdout, stderr and
// the error RunE returned.
func run(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := newRootCmd()
	var out, errb bytes.Buffer
	cmd.SetOut(&out)
	cmd.SetErr(&errb)
	cmd.SetIn(strings.NewReader(""))
	cmd.SetArgs(args)
	err := cmd.ExecuteContext(ctx)
	return out.String(), errb.String(), err
}

func writeConfig(t *testing.T, dir, yaml string) string {
	t.Helper()
	p := filepath.Join(dir, "mcp_agent.config.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestVersionJSON(t *testing.T) {
	out, _, err := run(t, "version", "--json")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"version"`, `"go_version"`} {
		if !strings.Contains(out, want) {
			t.Errorf("version --json output lacks %s:\n%s", want, out)
		}
	}
}

func TestConfigCheckReportsFileLineKey(t *testing.T) {
	dir := t.TempDir()
	p := writeConfig(t, dir, "mcp:\n  servers:\n    fetch:\n      transport: htp\n      url: http://x\n")
	_, _, err := run(t, "config", "check", "--config", p)
	if err == nil {
		t.Fatal("config check accepted an unknown transport")
	}
	want := `mcp_agent.config.yaml:4: mcp.servers.fetch.transport: unknown transport "htp" (want stdio, sse, streamable_http, websocket)`
	if !strings.Contains(err.Error(), want) {
		t.Errorf("error = %q, want it to contain %q", err, want)
	}
}

func TestConfigShowMasksSecrets(t *testing.T) {
	dir := t.TempDir()
	p := writeConfig(t, dir, "openai:\n  default_model: gpt-4o\n")
	if err := os.WriteFile(filepath.Join(dir, "mcp_agent.secrets.yaml"), []byte("openai:\n  api_key: sk-abcdefghijklmnop1234\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, _, err := run(t, "config", "show", "--config", p)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, "sk-abcdefghijklmnop1234") {
		t.Fatalf("config show printed the API key:\n%s", out)
	}
	if !strings.Contains(out, "****1234") || !strings.Contains(out, "gpt-4o") {
		t.Errorf("config show output lacks the masked key or the model:\n%s", out)
	}
}

func TestConfigMissingFile(t *testing.T) {
	_, _, err := run(t, "config", "check", "--config", filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || !strings.Contains(err.Error(), "nope.yaml") {
		t.Fatalf("err = %v, want it to name the missing file", err)
	}
}

// fourServers is a config naming both built-ins and two official reference
// servers from npm.
func fourServers(t *testing.T) (configPath, dataDir string) {
	t.Helper()
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "hello.txt"), []byte("hello from the data dir\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	evCmd, evArgs := testenv.Everything(t)
	fsCmd, fsArgs := testenv.Filesystem(t, data)
	y := "mcp:\n  servers:\n" +
		"    files:\n      command: mcp-agent\n      args: [builtin, filesystem, --root, " + quote(data) + "]\n" +
		"    web:\n      command: mcp-agent\n      args: [builtin, fetch]\n" +
		"    everything:\n      command: " + quote(evCmd) + "\n      args: [" + quoteAll(evArgs) + "]\n" +
		"    reffs:\n      command: " + quote(fsCmd) + "\n      args: [" + quoteAll(fsArgs) + "]\n"
	return writeConfig(t, dir, y), data
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `"`, `\"`) + `"` }

func quoteAll(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return strings.Join(q, ", ")
}

func TestServersCallFourServers(t *testing.T) {
	cfg, data := fourServers(t)

	out, _, err := run(t, "servers", "list", "--config", cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"files", "web", "everything", "reffs"} {
		if !strings.Contains(out, n) {
			t.Errorf("servers list lacks %q:\n%s", n, out)
		}
	}

	cases := []struct {
		server, tool, args, want string
	}{
		{"files", "read_text_file", `{"path":"hello.txt"}`, "hello from the data dir"},
		{"reffs", "read_text_file", `{"path":"` + filepath.Join(data, "hello.txt") + `"}`, "hello from the data dir"},
		{"everything", "echo", `{"message":"ping"}`, "ping"},
	}
	for _, c := range cases {
		t.Run(c.server, func(t *testing.T) {
			out, errOut, err := run(t, "servers", "call", c.server, c.tool, c.args, "--config", cfg)
			if err != nil {
				t.Fatalf("servers call %s %s: %v\n%s", c.server, c.tool, err, errOut)
			}
			if !strings.Contains(out, c.want) {
				t.Errorf("output = %q, want it to contain %q", out, c.want)
			}
		})
	}

	t.Run("web", func(t *testing.T) {
		// The fetch built-in refuses cloud metadata addresses: a tool error,
		// exit code 1, the cause on stderr.
		_, errOut, err := run(t, "servers", "call", "web", "fetch", `{"url":"http://169.254.169.254/latest/meta-data"}`, "--config", cfg)
		var ec exitCodeError
		if !errors.As(err, &ec) || ec.code != 1 {
			t.Fatalf("err = %v, want exit code 1", err)
		}
		if !strings.Contains(errOut, "169.254.169.254 is link-local/cloud metadata and is blocked") {
			t.Errorf("stderr = %q", errOut)
		}
	})

	t.Run("tools", func(t *testing.T) {
		out, _, err := run(t, "servers", "tools", "everything", "--config", cfg)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out, "echo") {
			t.Errorf("servers tools everything lacks echo:\n%s", out)
		}
	})
}

func TestServersCallErrors(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "mcp:\n  servers:\n    files:\n      command: mcp-agent\n      args: [builtin, filesystem, --root, "+quote(dir+":ro")+"]\n")
	cases := []struct {
		name string
		args []string
		want string
		code int // 0: a plain error
	}{
		{"unknown server", []string{"servers", "call", "nope", "x"}, `unknown server "nope" (known: files)`, 0},
		{"malformed JSON", []string{"servers", "call", "files", "list_directory", `{"path":`}, "tool arguments are not valid JSON", 0},
		{"not an object", []string{"servers", "call", "files", "list_directory", `[1]`}, "tool arguments must be a JSON object", 0},
		{"unknown tool", []string{"servers", "call", "files", "nosuchtool", `{}`}, "nosuchtool", 0},
		{"outside root", []string{"servers", "call", "files", "read_text_file", `{"path":"/etc/passwd"}`}, "", 1},
		{"read-only root", []string{"servers", "call", "files", "write_file", `{"path":"x.txt","content":"x"}`}, "", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := run(t, append(c.args, "--config", cfg)...)
			if err == nil {
				t.Fatal("no error")
			}
			var ec exitCodeError
			if c.code != 0 {
				if !errors.As(err, &ec) || ec.code != c.code {
					t.Fatalf("err = %v, want exit code %d", err, c.code)
				}
				return
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %q, want it to contain %q", err, c.want)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "x.txt")); err == nil {
		t.Error("write_file wrote into a read-only root")
	}
}
