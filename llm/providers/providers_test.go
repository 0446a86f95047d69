package providers

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm/openai"
)

func TestNew(t *testing.T) {
	script := filepath.Join(t.TempDir(), "s.replay.yaml")
	if err := writeFile(script, "turns:\n  - text: hi\n"); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		s    *config.Settings
		o    Options
		want string // provider name, or an error substring prefixed with "!"
	}{
		{"nothing configured", &config.Settings{}, Options{}, "!no model provider configured"},
		{"openai key", &config.Settings{OpenAI: &config.ProviderSettings{APIKey: "k"}}, Options{}, "openai"},
		{"openai base_url only", &config.Settings{OpenAI: &config.ProviderSettings{BaseURL: "http://127.0.0.1:11434/v1"}}, Options{}, "openai"},
		{"anthropic key", &config.Settings{Anthropic: &config.ProviderSettings{APIKey: "k"}}, Options{}, "anthropic"},
		{"both: openai first", &config.Settings{OpenAI: &config.ProviderSettings{APIKey: "k"}, Anthropic: &config.ProviderSettings{APIKey: "k"}}, Options{}, "openai"},
		{"explicit anthropic", &config.Settings{OpenAI: &config.ProviderSettings{APIKey: "k"}, Anthropic: &config.ProviderSettings{APIKey: "k"}}, Options{Provider: "Anthropic"}, "anthropic"},
		{"explicit without key", &config.Settings{}, Options{Provider: "anthropic"}, "!ANTHROPIC_API_KEY"},
		{"replay", nil, Options{Provider: "replay", ReplayScript: script}, "replay"},
		{"replay without script", nil, Options{Provider: "replay"}, "!the replay provider needs a script"},
		{"unknown", nil, Options{Provider: "gemini"}, `!unknown provider "gemini" (want openai, anthropic, replay)`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := New(c.s, c.o)
			if strings.HasPrefix(c.want, "!") {
				if err == nil || !strings.Contains(err.Error(), c.want[1:]) {
					t.Fatalf("err = %v, want it to contain %q", err, c.want[1:])
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Name() != c.want {
				t.Errorf("provider = %q, want %q", p.Name(), c.want)
			}
		})
	}
}

func TestFromEnv(t *testing.T) {
	t.Setenv("OPENAI_API_KEY", "")
	t.Setenv("OPENAI_BASE_URL", "")
	t.Setenv("ANTHROPIC_API_KEY", "")
	if _, err := FromEnv("openai", ""); !errors.Is(err, ErrNoProvider) || !strings.Contains(err.Error(), "OPENAI_API_KEY") {
		t.Errorf("openai without key: err = %v", err)
	}
	if _, err := FromEnv("anthropic", ""); !errors.Is(err, ErrNoProvider) || !strings.Contains(err.Error(), "ANTHROPIC_API_KEY") {
		t.Errorf("anthropic without key: err = %v", err)
	}
	if _, err := FromEnv("replay", ""); err == nil || !strings.Contains(err.Error(), "replay needs a script") {
		t.Errorf("replay: err = %v", err)
	}
	t.Setenv("ANTHROPIC_API_KEY", "sk-test")
	if p, err := FromEnv("anthropic", "claude-haiku-4-5"); err != nil || p.Name() != "anthropic" {
		t.Errorf("anthropic with key: %v, %v", p, err)
	}
}

func writeFile(path, body string) error { return os.WriteFile(path, []byte(body), 0o644) }

// openai.api, or Options.OpenAIAPI over it, selects the OpenAI API.
func TestOpenAIAPI(t *testing.T) {
	cases := []struct {
		cfg, opt, want string
	}{
		{"", "", openai.APIChatCompletions},
		{"responses", "", openai.APIResponses},
		{"", "responses", openai.APIResponses},
		{"responses", "chat_completions", openai.APIChatCompletions},
	}
	for _, c := range cases {
		s := &config.Settings{OpenAI: &config.ProviderSettings{APIKey: "k", API: c.cfg}}
		p, err := New(s, Options{OpenAIAPI: c.opt})
		if err != nil {
			t.Fatal(err)
		}
		if got := p.(*openai.Provider).API(); got != c.want {
			t.Errorf("config %q, option %q: API %q, want %q", c.cfg, c.opt, got, c.want)
		}
	}
	_, err := New(&config.Settings{OpenAI: &config.ProviderSettings{APIKey: "k"}}, Options{OpenAIAPI: "assistants"})
	if want := `openai: unknown api "assistants"; set openai.api to chat_completions (the default) or responses`; err == nil || err.Error() != want {
		t.Errorf("err = %v, want %s", err, want)
	}
}
