package config_test

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/mcp-agent-go/mcp-agent/config"
)

// Load searches the directory and its parents for mcp_agent.config.yaml and
// merges mcp_agent.secrets.yaml from next to it.
func ExampleLoad() {
	dir, _ := os.MkdirTemp("", "app")
	defer os.RemoveAll(dir)
	os.WriteFile(filepath.Join(dir, "mcp_agent.config.yaml"), []byte(`
execution_engine: asyncio
logger:
  transports: [console]
  level: debug
mcp:
  servers:
    fetch:
      command: uvx
      args: ["mcp-server-fetch"]
    docs:
      url: ${DOCS_URL:-http://127.0.0.1:8000/mcp}
openai:
  default_model: gpt-4o
`), 0o644)
	os.WriteFile(filepath.Join(dir, "mcp_agent.secrets.yaml"), []byte(`
openai:
  api_key: sk-0123456789abcdef
`), 0o600)

	sub := filepath.Join(dir, "cmd", "agent")
	os.MkdirAll(sub, 0o755)
	s, err := config.Load(config.LoadOptions{
		Dir: sub, // searched upwards from here
		// Isolate the example from the real environment.
		Env:     func(string) (string, bool) { return "", false },
		Environ: []string{},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("engine:", s.Engine(), "level:", s.LogLevel())
	for _, name := range []string{"docs", "fetch"} {
		srv := s.MCP.Servers[name]
		fmt.Println(srv.Name, srv.EffectiveTransport(), srv.Command+srv.URL)
	}
	fmt.Println("model:", s.OpenAI.DefaultModel, "key:", s.Redacted().OpenAI.APIKey)
	// Output:
	// engine: local level: DEBUG
	// docs streamable_http http://127.0.0.1:8000/mcp
	// fetch stdio uvx
	// model: gpt-4o key: ****cdef
}

// Every problem in a file is reported, each with its file, line and key.
func ExampleValidationError() {
	_, err := config.LoadBytes("mcp_agent.config.yaml", []byte(`mcp:
  servers:
    fetch:
      transport: htp
      command: uvx
agents:
  definitions:
    - name: finder
      server_names: [fetch, filesystem]
`), config.LoadOptions{Env: func(string) (string, bool) { return "", false }, Environ: []string{}})
	fmt.Println(err)

	var ve *config.ValidationError
	if errors.As(err, &ve) {
		fmt.Println(len(ve.Errors), "errors; first at line", ve.Errors[0].Line)
	}
	// Output:
	// mcp_agent.config.yaml:4: mcp.servers.fetch.transport: unknown transport "htp" (want stdio, sse, streamable_http, websocket)
	// mcp_agent.config.yaml:9: agents.definitions[0].server_names[1]: agent "finder" uses unknown server "filesystem" (known servers: fetch)
	// 2 errors; first at line 4
}

// Commands that can run without a file treat ErrNotFound as empty settings.
func ExampleErrNotFound() {
	dir, _ := os.MkdirTemp("", "empty")
	defer os.RemoveAll(dir)
	s, err := config.Load(config.LoadOptions{Dir: dir})
	if errors.Is(err, config.ErrNotFound) {
		s = &config.Settings{}
	}
	fmt.Println(s.Engine(), len(s.MCP.Servers))
	// Output: local 0
}
