package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"strings"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/responses"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
)

// DefaultModel is the model used when neither the request nor
// [Options].DefaultModel names one.
const DefaultModel = "gpt-4o-mini"

// DefaultBaseURL is the OpenAI API root used when [Options].BaseURL is "".
const DefaultBaseURL = "https://api.openai.com/v1"

// ErrNoAPIKey is returned by [FromConfig] when the openai section has no API
// key and no base_url of a server that needs none.
var ErrNoAPIKey = errors.New("no OpenAI API key configured")

// Options configures a [Provider]. A nil *Options uses every default. The
// environment is never read here: [FromConfig] gets OPENAI_API_KEY and
// OPENAI_BASE_URL through the config loader.
type Options struct {
	// APIKey authenticates requests (Authorization: Bearer; the api-key
	// header for Azure). "" sends no key, which local OpenAI-compatible
	// servers (Ollama, vLLM, LM Studio) accept.
	APIKey string
	// BaseURL is the API root; "" is DefaultBaseURL. For OpenAI-compatible
	// servers use theirs, such as http://localhost:11434/v1 (Ollama),
	// http://localhost:8000/v1 (vLLM) or http://localhost:1234/v1 (LM
	// Studio). With APIVersion set it is the Azure resource endpoint (see
	// APIVersion).
	BaseURL string
	// DefaultModel is the model of requests whose Model is ""; "" means
	// DefaultModel (gpt-4o-mini). With Azure, models are deployment names.
	DefaultModel string
	// Organization and Project, when set, are sent as the OpenAI-Organization
	// and OpenAI-Project headers.
	Organization string
	Project      string
	// Headers are added to every request.
	Headers map[string]string
	// HTTPClient sends the requests; nil uses http.DefaultClient.
	HTTPClient *http.Client

	// APIVersion, when set, selects Azure OpenAI's deployment API: BaseURL is
	// the resource endpoint (https://NAME.openai.azure.com), requests go to
	// BaseURL/openai/deployments/{model}/chat/completions?api-version=
	// APIVersion, and the key is sent in the api-key header. A BaseURL that
	// already contains /openai/deployments/NAME is used as it is. (Azure's
	// newer /openai/v1 endpoint is plain OpenAI-compatible: set BaseURL to
	// it and leave APIVersion empty.)
	APIVersion string

	// ReasoningEffort is sent to reasoning models (see the package doc)
	// when the request sets none; "" leaves the model's default.
	ReasoningEffort llm.ReasoningEffort
	// MaxTokens and Temperature are used when the request leaves them at
	// their zero value (0, nil).
	MaxTokens   int
	Temperature *float64
	// User is sent as the "user" field (an end-user ID for abuse monitoring).
	User string
	// Store asks OpenAI to store completions (store: true); request Metadata
	// is only sent when Store is set, as the API accepts metadata only for
	// stored completions.
	Store bool
	// LegacyMaxTokens sends the output cap as max_tokens instead of
	// max_completion_tokens, for compatible servers that only know the old
	// field. OpenAI's reasoning models reject max_tokens.
	LegacyMaxTokens bool
	// SystemRole is the role of the system prompt: "system", "developer",
	// or "" to choose by model ("developer" for reasoning models, "system"
	// otherwise). The Responses API sends the system prompt as its
	// instructions field instead and ignores SystemRole.
	SystemRole string

	// API selects the endpoint: [APIChatCompletions] (the default, "") or
	// [APIResponses] (POST /responses, which OpenAI's reasoning models and
	// newer features use; see the package doc for what differs).
	API string
}

// The APIs a [Provider] can speak (see [Options].API).
const (
	APIChatCompletions = "chat_completions"
	APIResponses       = "responses"
)

// Provider is an [llm.Provider] for the OpenAI Chat Completions API (or,
// with [Options].API set to [APIResponses], the Responses API) and servers
// compatible with it. It is safe for concurrent use.
type Provider struct {
	svc   oai.ChatCompletionService
	rsvc  responses.ResponseService
	api   string
	opts  Options
	model string
	// azureBase is the Azure deployments root ("" when not Azure);
	// azureFixed reports that BaseURL already names one deployment.
	azureBase  string
	azureFixed bool
	// err is a configuration error reported by every call.
	err error
}

// New returns a provider configured by opts (nil means all defaults: the
// OpenAI API with no key, which only suits keyless compatible servers).
// Configuration errors, such as an unparsable BaseURL, are returned by
// every call.
func New(opts *Options) *Provider {
	var o Options
	if opts != nil {
		o = *opts
	}
	p := &Provider{opts: o, model: o.DefaultModel, api: o.API}
	if p.model == "" {
		p.model = DefaultModel
	}
	switch o.API {
	case "":
		p.api = APIChatCompletions
	case APIChatCompletions, APIResponses:
	default:
		p.err = fmt.Errorf("openai: unknown api %q; set openai.api to %s (the default) or %s", o.API, APIChatCompletions, APIResponses)
	}
	base := o.BaseURL
	if base == "" {
		base = DefaultBaseURL
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.err = fmt.Errorf("openai: base URL %q is not an http(s) URL; set base_url to the API root, such as %s", base, DefaultBaseURL)
	}

	ropts := []option.RequestOption{option.WithMaxRetries(0)}
	if o.HTTPClient != nil {
		ropts = append(ropts, option.WithHTTPClient(o.HTTPClient))
	}
	for k, v := range o.Headers {
		ropts = append(ropts, option.WithHeader(k, v))
	}
	if o.APIVersion != "" {
		if o.BaseURL == "" && p.err == nil {
			p.err = errors.New("openai: Azure OpenAI (api_version is set) needs base_url: set it to the resource endpoint, such as https://NAME.openai.azure.com")
		}
		trimmed := strings.TrimRight(o.BaseURL, "/")
		p.azureFixed = strings.Contains(trimmed, "/openai/deployments/")
		p.azureBase = trimmed
		if !p.azureFixed {
			p.azureBase = trimmed + "/openai/deployments/"
		}
		if p.api == APIResponses {
			// Azure's Responses API is not per deployment: the model
			// (deployment name) is in the body.
			if p.azureFixed && p.err == nil {
				p.err = fmt.Errorf("openai: the Responses API on Azure is not per deployment: set base_url to the resource endpoint (https://NAME.openai.azure.com), not %s", trimmed)
			}
			p.azureBase = ""
			trimmed += "/openai"
		}
		ropts = append(ropts, option.WithBaseURL(trimmed), option.WithQuery("api-version", o.APIVersion))
		if o.APIKey != "" {
			ropts = append(ropts, option.WithHeader("api-key", o.APIKey))
		}
	} else {
		ropts = append(ropts, option.WithBaseURL(base))
		if o.APIKey != "" {
			ropts = append(ropts, option.WithAPIKey(o.APIKey))
		}
		if o.Organization != "" {
			ropts = append(ropts, option.WithOrganization(o.Organization))
		}
		if o.Project != "" {
			ropts = append(ropts, option.WithProject(o.Project))
		}
	}
	p.svc = oai.NewChatCompletionService(ropts...)
	p.rsvc = responses.NewResponseService(ropts...)
	return p
}

// FromConfig returns a provider for the openai section of the settings.
// opts supplies what the config cannot express (HTTPClient, ...) and may
// be nil; its non-zero fields win over the config's. It fails with
// [ErrNoAPIKey] when neither a key nor a base_url is configured (a base_url
// alone suits keyless local servers such as Ollama).
func FromConfig(ps *config.ProviderSettings, opts *Options) (*Provider, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if ps != nil {
		fill(&o.APIKey, ps.APIKey)
		fill(&o.BaseURL, ps.BaseURL)
		fill(&o.DefaultModel, ps.DefaultModel)
		fill(&o.APIVersion, ps.APIVersion)
		fill(&o.User, ps.User)
		fill(&o.API, ps.API)
		if o.ReasoningEffort == "" {
			o.ReasoningEffort = llm.ReasoningEffort(ps.ReasoningEffort)
		}
		if o.MaxTokens == 0 {
			o.MaxTokens = ps.MaxTokens
		}
		if o.Temperature == nil {
			o.Temperature = ps.Temperature
		}
		if len(ps.DefaultHeaders)+len(ps.Headers) > 0 {
			h := make(map[string]string)
			for k, v := range ps.DefaultHeaders {
				h[k] = v
			}
			for k, v := range ps.Headers {
				h[k] = v
			}
			for k, v := range o.Headers {
				h[k] = v
			}
			o.Headers = h
		}
	}
	if o.APIKey == "" && o.BaseURL == "" {
		return nil, fmt.Errorf("openai: %w: set openai.api_key in mcp_agent.secrets.yaml (or mcp_agent.config.yaml) or the OPENAI_API_KEY environment variable; for a local OpenAI-compatible server that needs no key, set openai.base_url", ErrNoAPIKey)
	}
	switch o.ReasoningEffort {
	case "", llm.ReasoningMinimal, llm.ReasoningLow, llm.ReasoningMedium, llm.ReasoningHigh, "none", "xhigh":
	default:
		return nil, fmt.Errorf("openai: reasoning_effort %q is not one of none, minimal, low, medium, high, xhigh", o.ReasoningEffort)
	}
	p := New(&o)
	if p.err != nil {
		return nil, p.err
	}
	return p, nil
}

func fill(dst *string, v string) {
	if *dst == "" {
		*dst = v
	}
}

// API returns the API the provider speaks: [APIChatCompletions] or
// [APIResponses].
func (p *Provider) API() string { return p.api }

// Name returns "openai".
func (p *Provider) Name() string { return providerName }

// DefaultModel returns the model used for requests that name none.
func (p *Provider) DefaultModel() string { return p.model }

// Complete sends the request and returns the whole response.
func (p *Provider) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if p.err != nil {
		return nil, p.err
	}
	if p.api == APIResponses {
		return p.completeResponses(ctx, req)
	}
	params, model, err := p.buildParams(req)
	if err != nil {
		return nil, err
	}
	var status statusRecorder
	cc, err := p.svc.New(ctx, params, p.requestOptions(model, &status)...)
	if err != nil {
		return nil, p.mapError(err, &status)
	}
	return translateResponse(cc)
}

// Stream sends the request with stream: true (and
// stream_options.include_usage) and yields text deltas as they arrive,
// then the complete response. Stopping the iteration early closes the
// connection.
func (p *Provider) Stream(ctx context.Context, req *llm.Request) iter.Seq2[*llm.Chunk, error] {
	return func(yield func(*llm.Chunk, error) bool) {
		if p.err != nil {
			yield(nil, p.err)
			return
		}
		if p.api == APIResponses {
			p.streamResponses(ctx, req, yield)
			return
		}
		params, model, err := p.buildParams(req)
		if err != nil {
			yield(nil, err)
			return
		}
		params.StreamOptions.IncludeUsage = oai.Bool(true)
		var status statusRecorder
		stream := p.svc.NewStreaming(ctx, params, p.requestOptions(model, &status)...)
		defer stream.Close()

		resp, err := readStream(stream, yield, func(err error) error { return p.mapError(err, &status) })
		switch {
		case errors.Is(err, errStopped):
			return
		case err != nil && ctx.Err() != nil:
			yield(nil, ctx.Err())
			return
		case err != nil:
			yield(nil, err)
			return
		}
		yield(&llm.Chunk{Response: resp}, nil)
	}
}

// errStopped reports that the consumer of a stream stopped early.
var errStopped = errors.New("stream consumer stopped")

// readStream yields the stream's deltas and returns the complete response.
// It returns errStopped when yield returns false; errors of the stream
// itself (HTTP, SSE decoding) are passed through mapErr.
func readStream(stream *ssestream.Stream[oai.ChatCompletionChunk], yield func(*llm.Chunk, error) bool, mapErr func(error) error) (*llm.Response, error) {
	return drainStream(stream, &streamAccumulator{}, yield, mapErr)
}

// accumulator assembles a response from the events of a stream of E (Chat
// Completions chunks or Responses API events).
type accumulator[E any] interface {
	// add takes one event and returns the deltas to show.
	add(E) ([]*llm.Chunk, error)
	// response is the assembled response once the stream has ended.
	response() (*llm.Response, error)
}

// drainStream feeds every event of stream to acc, yields the deltas and
// returns acc's response. It returns errStopped when yield returns false;
// errors of the stream itself are passed through mapErr.
func drainStream[E any](stream *ssestream.Stream[E], acc accumulator[E], yield func(*llm.Chunk, error) bool, mapErr func(error) error) (*llm.Response, error) {
	for stream.Next() {
		deltas, err := acc.add(stream.Current())
		if err != nil {
			return nil, err
		}
		for _, c := range deltas {
			if !yield(c, nil) {
				return nil, errStopped
			}
		}
	}
	if err := stream.Err(); err != nil {
		return nil, mapErr(err)
	}
	return acc.response()
}

// requestOptions returns the per-request options: the Azure deployment URL
// and a middleware recording the HTTP status.
func (p *Provider) requestOptions(model string, status *statusRecorder) []option.RequestOption {
	opts := []option.RequestOption{option.WithMiddleware(status.middleware)}
	if p.azureBase != "" && !p.azureFixed {
		opts = append(opts, option.WithBaseURL(p.azureBase+url.PathEscape(model)))
	}
	return opts
}

// statusRecorder remembers the status and headers of a failed response, so
// that errors the SDK cannot decode (a proxy's HTML error page) still carry
// their HTTP status.
type statusRecorder struct {
	code   int
	header http.Header
}

func (s *statusRecorder) middleware(r *http.Request, next option.MiddlewareNext) (*http.Response, error) {
	res, err := next(r)
	if res != nil && res.StatusCode >= 400 {
		s.code, s.header = res.StatusCode, res.Header.Clone()
	}
	return res, err
}

// mapError turns an SDK error into an [llm.HTTPStatusError] when it comes
// from an HTTP response, keeping Retry-After, and names the cause.
func (p *Provider) mapError(err error, status *statusRecorder) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var apiErr *oai.Error
	if errors.As(err, &apiErr) {
		var header http.Header
		if apiErr.Response != nil {
			header = apiErr.Response.Header
		}
		return llm.NewStatusError(apiErr.StatusCode, header, &APIError{
			StatusCode: apiErr.StatusCode,
			Type:       apiErr.Type,
			Code:       apiErr.Code,
			Param:      apiErr.Param,
			Message:    p.redact(apiErr.Message),
			err:        apiErr,
		})
	}
	if status.code >= 400 {
		return llm.NewStatusError(status.code, status.header, &APIError{
			StatusCode: status.code,
			Message:    "the response body is not an OpenAI error object",
			err:        err,
		})
	}
	var se *ssestream.StreamError
	if errors.As(err, &se) {
		var ev struct {
			Error struct {
				Message string `json:"message"`
				Type    string `json:"type"`
				Code    any    `json:"code"`
			} `json:"error"`
		}
		if json.Unmarshal(se.Event.Data, &ev) == nil && ev.Error.Message != "" {
			msg := ev.Error.Message
			if ev.Error.Type != "" {
				msg += " (type " + ev.Error.Type + ")"
			}
			return fmt.Errorf("openai: the server reported an error in the stream: %s", p.redact(msg))
		}
		return fmt.Errorf("openai: the server reported an error in the stream: %s", p.redact(se.Message))
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("openai: the response was cut short: %w", err)
	}
	return &wrappedError{msg: "openai: " + p.redact(err.Error()), err: err}
}

// wrappedError prefixes an error (with the API key redacted from its text)
// and keeps it for errors.Is and errors.As.
type wrappedError struct {
	msg string
	err error
}

func (e *wrappedError) Error() string { return e.msg }
func (e *wrappedError) Unwrap() error { return e.err }

// redact removes the API key from text a server echoed back.
func (p *Provider) redact(s string) string {
	if k := p.opts.APIKey; len(k) >= 4 {
		s = strings.ReplaceAll(s, k, "[redacted]")
	}
	return s
}

// APIError is an error response of the API. It is wrapped in an
// [*llm.StatusError] (test with errors.As for either); Unwrap returns the
// SDK's *openai.Error when the body could be decoded.
type APIError struct {
	StatusCode int
	// Type, Code, Param and Message are the fields of the API's error
	// object (empty when the body was not one).
	Type    string
	Code    string
	Param   string
	Message string
	err     error
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "openai: HTTP %d", e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	if e.Message != "" {
		b.WriteString(": " + e.Message)
	}
	var details []string
	if e.Type != "" {
		details = append(details, "type "+e.Type)
	}
	if e.Code != "" {
		details = append(details, "code "+e.Code)
	}
	if e.Param != "" {
		details = append(details, "param "+e.Param)
	}
	if len(details) > 0 {
		b.WriteString(" (" + strings.Join(details, ", ") + ")")
	}
	switch e.StatusCode {
	case http.StatusUnauthorized:
		b.WriteString("; check openai.api_key or the OPENAI_API_KEY environment variable")
	case http.StatusNotFound:
		b.WriteString("; check the model name (openai.default_model or the request's model) and openai.base_url")
	}
	return b.String()
}

func (e *APIError) Unwrap() error { return e.err }
