package anthropic

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"

	sdk "github.com/anthropics/anthropic-sdk-go/v2"
	"github.com/anthropics/anthropic-sdk-go/v2/option"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
)

// Defaults used when the corresponding [Options] field is zero.
const (
	// DefaultModel is the model used when neither the Request nor the
	// Options name one.
	DefaultModel = sdk.ModelClaudeSonnet4_6
	// DefaultMaxTokens is the max_tokens sent when the Request leaves
	// MaxTokens at 0 (the Messages API requires it).
	DefaultMaxTokens = 4096
	// DefaultBaseURL is the Anthropic API endpoint.
	DefaultBaseURL = "https://api.anthropic.com/"
)

// ErrNoAPIKey is returned (wrapped) by [FromConfig] and by every call of a
// [Provider] built without an API key.
var ErrNoAPIKey = errors.New("no Anthropic API key")

// Options configures a [Provider]. A nil *Options uses the defaults; every
// field's zero value is documented.
type Options struct {
	// APIKey authenticates requests; "" reads the ANTHROPIC_API_KEY
	// environment variable when the Provider is created. A Provider without
	// a key fails every call with an error wrapping ErrNoAPIKey.
	APIKey string
	// BaseURL is the API endpoint; "" reads ANTHROPIC_BASE_URL, then uses
	// DefaultBaseURL. Tests point it at an httptest server.
	BaseURL string
	// DefaultModel is used when a Request's Model is ""; "" means
	// DefaultModel.
	DefaultModel string
	// DefaultMaxTokens is sent as max_tokens when a Request's MaxTokens is
	// 0; 0 means DefaultMaxTokens.
	DefaultMaxTokens int
	// ReasoningEffort applies to Requests whose ReasoningEffort is "";
	// "" means no extended thinking.
	ReasoningEffort llm.ReasoningEffort
	// ThinkingBudget overrides the extended-thinking budget (budget_tokens)
	// of some reasoning efforts; efforts it does not list use
	// DefaultThinkingBudget. Budgets below 1024 (the API minimum) are
	// raised to 1024.
	ThinkingBudget map[llm.ReasoningEffort]int
	// DisablePromptCaching turns off the cache_control breakpoints this
	// provider sets by default on the system prompt and on the last tool
	// definition (the prefix every call of a tool loop shares).
	DisablePromptCaching bool
	// Headers are sent with every request (for example a gateway's
	// headers, or "anthropic-beta"). They override the SDK's headers of the
	// same name.
	Headers map[string]string
	// HTTPClient sends the requests; nil uses the SDK's default client.
	HTTPClient *http.Client
}

// DefaultThinkingBudget is the extended-thinking budget (budget_tokens) of
// each reasoning effort, unless Options.ThinkingBudget overrides it.
var DefaultThinkingBudget = map[llm.ReasoningEffort]int{
	llm.ReasoningMinimal: 1024,
	llm.ReasoningLow:     2048,
	llm.ReasoningMedium:  8192,
	llm.ReasoningHigh:    16384,
}

// minThinkingBudget is the smallest budget_tokens the API accepts.
const minThinkingBudget = 1024

// Provider is the Anthropic Messages API as an [llm.Provider]. It is safe
// for concurrent use. The SDK's own retries are off: the [llm.LLM] retries
// failed calls with its [llm.RetryPolicy].
type Provider struct {
	client    sdk.Client
	hasKey    bool
	model     string
	maxTokens int
	effort    llm.ReasoningEffort
	budgets   map[llm.ReasoningEffort]int
	caching   bool
}

// New returns a provider configured by opts (nil for the defaults).
func New(opts *Options) *Provider {
	if opts == nil {
		opts = &Options{}
	}
	key := opts.APIKey
	if key == "" {
		key = os.Getenv("ANTHROPIC_API_KEY")
	}
	base := opts.BaseURL
	if base == "" {
		base = os.Getenv("ANTHROPIC_BASE_URL")
	}
	// The SDK would otherwise also read ANTHROPIC_AUTH_TOKEN, profiles on
	// disk and ANTHROPIC_CUSTOM_HEADERS: resolve everything here instead,
	// so that what is configured is what is sent.
	reqOpts := []option.RequestOption{option.WithoutEnvironmentDefaults(), option.WithMaxRetries(0)}
	if key != "" {
		reqOpts = append(reqOpts, option.WithAPIKey(key))
	}
	if base != "" {
		reqOpts = append(reqOpts, option.WithBaseURL(base))
	}
	if opts.HTTPClient != nil {
		reqOpts = append(reqOpts, option.WithHTTPClient(opts.HTTPClient))
	}
	for _, k := range slices.Sorted(maps.Keys(opts.Headers)) {
		reqOpts = append(reqOpts, option.WithHeader(k, opts.Headers[k]))
	}
	p := &Provider{
		client:    sdk.NewClient(reqOpts...),
		hasKey:    key != "",
		model:     opts.DefaultModel,
		maxTokens: opts.DefaultMaxTokens,
		effort:    opts.ReasoningEffort,
		budgets:   maps.Clone(DefaultThinkingBudget),
		caching:   !opts.DisablePromptCaching,
	}
	if p.model == "" {
		p.model = DefaultModel
	}
	if p.maxTokens <= 0 {
		p.maxTokens = DefaultMaxTokens
	}
	for e, b := range opts.ThinkingBudget {
		p.budgets[e] = max(b, minThinkingBudget)
	}
	return p
}

// FromConfig returns a provider for the anthropic section of the config
// (api_key, base_url, default_model, reasoning_effort, api_version,
// headers, max_tokens). opts, which may be nil, supplies what the config
// does not have (HTTPClient, ThinkingBudget, DisablePromptCaching); config
// values win over the same fields in opts. Settings.Load already fills
// api_key and base_url from ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL.
func FromConfig(ps *config.ProviderSettings, opts *Options) (*Provider, error) {
	var o Options
	if opts != nil {
		o = *opts
		o.Headers = maps.Clone(opts.Headers)
	}
	if ps != nil {
		if ps.APIKey != "" {
			o.APIKey = ps.APIKey
		}
		if ps.BaseURL != "" {
			o.BaseURL = ps.BaseURL
		}
		if ps.DefaultModel != "" {
			o.DefaultModel = ps.DefaultModel
		}
		if ps.MaxTokens > 0 {
			o.DefaultMaxTokens = ps.MaxTokens
		}
		if ps.ReasoningEffort != "" {
			e := llm.ReasoningEffort(strings.ToLower(ps.ReasoningEffort))
			if _, ok := DefaultThinkingBudget[e]; !ok {
				return nil, fmt.Errorf("anthropic: config key anthropic.reasoning_effort is %q: want minimal, low, medium or high", ps.ReasoningEffort)
			}
			o.ReasoningEffort = e
		}
		if len(ps.Headers) > 0 || len(ps.DefaultHeaders) > 0 || ps.APIVersion != "" {
			if o.Headers == nil {
				o.Headers = make(map[string]string)
			}
			maps.Copy(o.Headers, ps.DefaultHeaders)
			maps.Copy(o.Headers, ps.Headers)
			if ps.APIVersion != "" {
				o.Headers["anthropic-version"] = ps.APIVersion
			}
		}
	}
	if o.APIKey == "" {
		o.APIKey = os.Getenv("ANTHROPIC_API_KEY")
	}
	if o.APIKey == "" {
		return nil, fmt.Errorf("anthropic: %w: set anthropic.api_key in mcp_agent.secrets.yaml (or mcp_agent.config.yaml), or the ANTHROPIC_API_KEY environment variable", ErrNoAPIKey)
	}
	return New(&o), nil
}

// Name returns "anthropic".
func (p *Provider) Name() string { return providerName }

// providerName is the provider's name, which also marks its thinking
// ([llm.Thinking.Provider]).
const providerName = "anthropic"

// Complete sends the request and returns the whole response. Requests whose
// max_tokens is too large for a non-streaming call (the SDK refuses those
// that may run longer than 10 minutes) are streamed and collected instead.
func (p *Provider) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if !p.hasKey {
		return nil, errNoKey()
	}
	params, plan, err := p.buildParams(req)
	if err != nil {
		return nil, err
	}
	if _, terr := sdk.CalculateNonStreamingTimeout(int(params.MaxTokens), params.Model, nil); terr != nil {
		return llm.CollectStream(p.stream(ctx, params, plan))
	}
	msg, err := p.client.Messages.New(ctx, params)
	if err != nil {
		return nil, apiError(err)
	}
	return plan.response(msg), nil
}

// Stream sends the request with stream=true and yields text and thinking
// deltas as they arrive, then the complete response. Stopping the
// iteration early closes the HTTP response.
func (p *Provider) Stream(ctx context.Context, req *llm.Request) iter.Seq2[*llm.Chunk, error] {
	if !p.hasKey {
		return func(yield func(*llm.Chunk, error) bool) { yield(nil, errNoKey()) }
	}
	params, plan, err := p.buildParams(req)
	if err != nil {
		return func(yield func(*llm.Chunk, error) bool) { yield(nil, err) }
	}
	return p.stream(ctx, params, plan)
}

func (p *Provider) stream(ctx context.Context, params sdk.MessageNewParams, plan *plan) iter.Seq2[*llm.Chunk, error] {
	return func(yield func(*llm.Chunk, error) bool) {
		s := p.client.Messages.NewStreaming(ctx, params)
		defer s.Close()
		for c, err := range decodeStream(s, plan) {
			if !yield(c, err) || err != nil {
				return
			}
		}
	}
}

func errNoKey() error {
	return fmt.Errorf("anthropic: %w: set Options.APIKey, anthropic.api_key in the config, or the ANTHROPIC_API_KEY environment variable", ErrNoAPIKey)
}

// eventStream is what decodeStream reads: the SDK's *ssestream.Stream.
type eventStream interface {
	Next() bool
	Current() sdk.MessageStreamEventUnion
	Err() error
}

// decodeStream turns SSE events into chunks: text and thinking deltas as
// they come, then the accumulated response once message_stop arrives. A
// stream that ends before message_stop yields an error wrapping
// io.ErrUnexpectedEOF (retryable); an error event yields an
// [llm.HTTPStatusError] with the status its type stands for.
func decodeStream(s eventStream, plan *plan) iter.Seq2[*llm.Chunk, error] {
	return func(yield func(*llm.Chunk, error) bool) {
		var msg sdk.Message
		started, stopped := false, false
		for !stopped && s.Next() {
			ev := s.Current()
			switch ev.Type {
			case "message_start":
				started = true
			case "message_stop":
				stopped = true
			}
			if !started {
				yield(nil, fmt.Errorf("anthropic: stream event %q before message_start", ev.Type))
				return
			}
			if err := msg.Accumulate(ev); err != nil {
				yield(nil, fmt.Errorf("anthropic: malformed stream: %w", err))
				return
			}
			if ev.Type != "content_block_delta" {
				continue
			}
			var c *llm.Chunk
			switch ev.Delta.Type {
			case "text_delta":
				if ev.Delta.Text != "" {
					c = &llm.Chunk{Text: ev.Delta.Text}
				}
			case "input_json_delta":
				// The structured-output tool's input is the answer: stream
				// it as text.
				if ev.Delta.PartialJSON != "" && plan.streamsOutput(&msg, ev.Index) {
					c = &llm.Chunk{Text: ev.Delta.PartialJSON}
				}
			case "thinking_delta":
				if ev.Delta.Thinking != "" {
					c = &llm.Chunk{Thinking: ev.Delta.Thinking}
				}
			}
			if c != nil && !yield(c, nil) {
				return
			}
		}
		if err := s.Err(); err != nil {
			yield(nil, apiError(err))
			return
		}
		if !stopped {
			yield(nil, fmt.Errorf("anthropic: stream ended before message_stop: %w", io.ErrUnexpectedEOF))
			return
		}
		yield(&llm.Chunk{Response: plan.response(&msg)}, nil)
	}
}
