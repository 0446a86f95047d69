package config

import "testing"

// openai.api selects the OpenAI API; other values, and api under
// anthropic, are errors naming the key's line.
func TestOpenAIAPI(t *testing.T) {
	for _, api := range []string{"chat_completions", "responses"} {
		s, err := LoadBytes(file, []byte(lines("openai:", "  api_key: sk-x", "  api: "+api)), opts(nil))
		if err != nil {
			t.Fatalf("api %s: %v", api, err)
		}
		if s.OpenAI.API != api {
			t.Errorf("OpenAI.API = %q, want %q", s.OpenAI.API, api)
		}
	}
	tests := []struct{ yaml, want string }{
		{lines("openai:", "  api: response"), `mcp_agent.config.yaml:2: openai.api: unknown OpenAI API "response" (want chat_completions, responses)`},
		{lines("anthropic:", "  api: responses"), `mcp_agent.config.yaml:2: anthropic.api: api is an openai setting; the anthropic provider speaks only the Messages API`},
	}
	for _, tt := range tests {
		_, err := LoadBytes(file, []byte(tt.yaml), opts(nil))
		if err == nil || err.Error() != tt.want {
			t.Errorf("error = %v\nwant %s", err, tt.want)
		}
	}
}
