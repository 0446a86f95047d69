// Package providers builds the model provider an app's configuration names:
// openai (and every OpenAI-compatible server), anthropic, or replay (a
// scripted provider for tests and demos, no API key).
//
//	p, err := providers.New(settings, providers.Options{Provider: "anthropic"})
//	l := llm.New(agent, p, nil)
//
// With Provider empty, New picks the provider that is configured: the one
// with an API key (or a base_url, for keyless OpenAI-compatible servers);
// when both openai and anthropic are, openai. The openai provider speaks
// Chat Completions unless openai.api (or Options.OpenAIAPI) is "responses".
package providers

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"strings"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/anthropic"
	"github.com/mcp-agent-go/mcp-agent/llm/openai"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
)

// Names are the providers New knows.
var Names = []string{"openai", "anthropic", "replay"}

// ErrNoProvider is returned (wrapped) when no provider is configured.
var ErrNoProvider = errors.New("no model provider configured")

// Options selects and configures the provider. The zero value picks the
// configured provider.
type Options struct {
	// Provider is "openai", "anthropic" or "replay"; "" picks the configured
	// one (see the package doc).
	Provider string
	// ReplayScript is the script the replay provider plays (required for
	// replay).
	ReplayScript string
	// RecordTo, when set, wraps the provider in a replay.Recorder writing
	// its responses to this file as a replay script.
	RecordTo string
	// HTTPClient, when set, sends the provider's HTTP requests.
	HTTPClient *http.Client
	// OpenAIAPI, when set, overrides openai.api for the openai provider:
	// "chat_completions" or "responses" (the Responses API).
	OpenAIAPI string
}

// New returns the provider Options select from the settings.
func New(s *config.Settings, o Options) (llm.Provider, error) {
	if s == nil {
		s = &config.Settings{}
	}
	name := strings.ToLower(strings.TrimSpace(o.Provider))
	if name == "" {
		name = Configured(s)
		if name == "" {
			return nil, fmt.Errorf("%w: set openai.api_key (or OPENAI_API_KEY), anthropic.api_key (or ANTHROPIC_API_KEY), or openai.base_url for a local OpenAI-compatible server; or run on a script with --provider replay --script FILE", ErrNoProvider)
		}
	}
	var (
		p   llm.Provider
		err error
	)
	switch name {
	case "openai":
		p, err = openai.FromConfig(providerSettings(s.OpenAI), &openai.Options{HTTPClient: o.HTTPClient, API: o.OpenAIAPI})
	case "anthropic":
		p, err = anthropic.FromConfig(providerSettings(s.Anthropic), &anthropic.Options{HTTPClient: o.HTTPClient})
	case "replay":
		if o.ReplayScript == "" {
			return nil, errors.New("the replay provider needs a script: pass --script FILE (a replay script, see docs/llm.md)")
		}
		script, lerr := replay.Load(o.ReplayScript)
		if lerr != nil {
			return nil, lerr
		}
		p = replay.New(script, nil)
	default:
		return nil, fmt.Errorf("unknown provider %q (want %s)", o.Provider, strings.Join(Names, ", "))
	}
	if err != nil {
		return nil, err
	}
	if o.RecordTo != "" {
		p = replay.NewRecorder(p, o.RecordTo)
	}
	return p, nil
}

// FromEnv returns the provider named name ("openai" or "anthropic")
// configured from the environment alone (OPENAI_API_KEY, OPENAI_BASE_URL,
// ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL) with model as its default model:
// what examples and scripts without a config file need. The error names the
// variable to set.
func FromEnv(name, model string) (llm.Provider, error) {
	env := func(k string) string { return os.Getenv(k) }
	s := &config.Settings{}
	switch strings.ToLower(name) {
	case "openai":
		if env("OPENAI_API_KEY") == "" && env("OPENAI_BASE_URL") == "" {
			return nil, fmt.Errorf("%w: provider openai needs OPENAI_API_KEY (or OPENAI_BASE_URL for a keyless OpenAI-compatible server)", ErrNoProvider)
		}
		s.OpenAI = &config.ProviderSettings{APIKey: env("OPENAI_API_KEY"), BaseURL: env("OPENAI_BASE_URL"), DefaultModel: model}
	case "anthropic":
		if env("ANTHROPIC_API_KEY") == "" {
			return nil, fmt.Errorf("%w: provider anthropic needs ANTHROPIC_API_KEY", ErrNoProvider)
		}
		s.Anthropic = &config.ProviderSettings{APIKey: env("ANTHROPIC_API_KEY"), BaseURL: env("ANTHROPIC_BASE_URL"), DefaultModel: model}
	default:
		return nil, fmt.Errorf("unknown provider %q (want openai or anthropic; replay needs a script)", name)
	}
	return New(s, Options{Provider: name})
}

// Configured names the provider New picks when none is asked for: "openai"
// or "anthropic" when its section has an API key (openai also with only a
// base_url), openai first; "" when neither is usable.
func Configured(s *config.Settings) string {
	if ps := s.OpenAI; ps != nil && (ps.APIKey != "" || ps.BaseURL != "") {
		return "openai"
	}
	if ps := s.Anthropic; ps != nil && ps.APIKey != "" {
		return "anthropic"
	}
	return ""
}

// DefaultModel is the default_model of the named provider's section ("" when
// unset).
func DefaultModel(s *config.Settings, provider string) string {
	var ps *config.ProviderSettings
	switch provider {
	case "openai":
		ps = s.OpenAI
	case "anthropic":
		ps = s.Anthropic
	}
	if ps == nil {
		return ""
	}
	return ps.DefaultModel
}

func providerSettings(ps *config.ProviderSettings) *config.ProviderSettings {
	if ps == nil {
		return &config.ProviderSettings{}
	}
	return ps
}
