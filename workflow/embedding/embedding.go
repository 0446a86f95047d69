package embedding

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
)

// An Embedder turns texts into vectors, one per text, in order. Vectors of
// one Embedder have the same length. [*Client] and [*Cache] implement it.
type Embedder interface {
	Embed(ctx context.Context, texts []string) ([][]float64, error)
}

// Defaults of [Options].
const (
	DefaultModel     = "text-embedding-3-small"
	DefaultBaseURL   = "https://api.openai.com/v1"
	DefaultBatchSize = 512
)

// ErrEmptyText is wrapped by Embed when a text is empty (the API rejects
// empty inputs).
var ErrEmptyText = errors.New("cannot embed an empty text")

// Options configures a [Client]. A nil *Options uses every default. The
// environment is never read: pass keys explicitly or use [FromConfig].
type Options struct {
	// APIKey is sent as Authorization: Bearer; "" sends none (local
	// OpenAI-compatible servers such as Ollama accept that).
	APIKey string
	// BaseURL is the API root, ending in /v1 for OpenAI-compatible servers
	// (http://localhost:11434/v1 for Ollama); "" is DefaultBaseURL.
	// Requests go to BaseURL/embeddings.
	BaseURL string
	// Model is the embedding model; "" is DefaultModel.
	Model string
	// Dimensions, when positive, asks for vectors of that length (OpenAI
	// text-embedding-3 models and later).
	Dimensions int
	// Headers are added to every request.
	Headers map[string]string
	// HTTPClient sends the requests; nil uses http.DefaultClient.
	HTTPClient *http.Client
	// BatchSize is the most texts sent in one request; 0 is
	// DefaultBatchSize.
	BatchSize int
	// Retry retries failed requests (429, 5xx, connection errors); nil
	// uses llm.RetryPolicy's defaults.
	Retry *llm.RetryPolicy
}

// Client calls the OpenAI embeddings API (POST /embeddings) of OpenAI or
// any compatible server. It is safe for concurrent use. Wrap it in a
// [Cache] to embed each text once.
type Client struct {
	svc       oai.EmbeddingService
	base      string
	model     string
	dims      int
	batchSize int
	retry     *llm.RetryPolicy
}

var _ Embedder = (*Client)(nil)

// New returns a client configured by opts.
func New(opts *Options) *Client {
	if opts == nil {
		opts = &Options{}
	}
	c := &Client{base: opts.BaseURL, model: opts.Model, dims: opts.Dimensions, batchSize: opts.BatchSize, retry: opts.Retry}
	if c.base == "" {
		c.base = DefaultBaseURL
	}
	if c.model == "" {
		c.model = DefaultModel
	}
	if c.batchSize <= 0 {
		c.batchSize = DefaultBatchSize
	}
	reqOpts := []option.RequestOption{
		option.WithBaseURL(c.base),
		option.WithMaxRetries(0), // retries are c.retry's
	}
	if opts.APIKey != "" {
		reqOpts = append(reqOpts, option.WithAPIKey(opts.APIKey))
	}
	if opts.HTTPClient != nil {
		reqOpts = append(reqOpts, option.WithHTTPClient(opts.HTTPClient))
	}
	for _, k := range slices.Sorted(maps.Keys(opts.Headers)) {
		reqOpts = append(reqOpts, option.WithHeader(k, opts.Headers[k]))
	}
	c.svc = oai.NewEmbeddingService(reqOpts...)
	return c
}

// FromConfig returns a client for a provider section of the settings (the
// openai section, or any OpenAI-compatible one): its api_key, base_url and
// headers. The model comes from opts (DefaultModel when unset), since
// default_model names a chat model.
func FromConfig(ps *config.ProviderSettings, opts *Options) *Client {
	var o Options
	if opts != nil {
		o = *opts
	}
	if ps != nil {
		if o.APIKey == "" {
			o.APIKey = ps.APIKey
		}
		if o.BaseURL == "" {
			o.BaseURL = ps.BaseURL
		}
		if len(ps.Headers) > 0 {
			h := maps.Clone(ps.Headers)
			maps.Copy(h, o.Headers)
			o.Headers = h
		}
	}
	return New(&o)
}

// Model returns the embedding model.
func (c *Client) Model() string { return c.model }

// Embed returns the embeddings of texts, in order, sending at most
// BatchSize texts per request. When ctx carries an [llm.UsageTracker], the
// prompt tokens are recorded under its child "embeddings".
func (c *Client) Embed(ctx context.Context, texts []string) ([][]float64, error) {
	for i, t := range texts {
		if strings.TrimSpace(t) == "" {
			return nil, fmt.Errorf("embedding: text %d: %w", i, ErrEmptyText)
		}
	}
	out := make([][]float64, 0, len(texts))
	for batch := range slices.Chunk(texts, c.batchSize) {
		vecs, err := c.embedBatch(ctx, batch)
		if err != nil {
			return nil, err
		}
		out = append(out, vecs...)
	}
	return out, nil
}

func (c *Client) embedBatch(ctx context.Context, texts []string) ([][]float64, error) {
	params := oai.EmbeddingNewParams{
		Input:          oai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: texts},
		Model:          oai.EmbeddingModel(c.model),
		EncodingFormat: oai.EmbeddingNewParamsEncodingFormatFloat,
	}
	if c.dims > 0 {
		params.Dimensions = oai.Int(int64(c.dims))
	}
	var resp *oai.CreateEmbeddingResponse
	err := c.retry.Do(ctx, func(ctx context.Context) error {
		r, err := c.svc.New(ctx, params)
		if err != nil {
			var apiErr *oai.Error
			if errors.As(err, &apiErr) && apiErr.Response != nil {
				if apiErr.Message != "" {
					err = fmt.Errorf("%w: %s", err, apiErr.Message)
				}
				return llm.NewStatusError(apiErr.StatusCode, apiErr.Response.Header, err)
			}
			return err
		}
		resp = r
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedding: model %s at %s: %w", c.model, c.base, err)
	}
	if len(resp.Data) != len(texts) {
		return nil, fmt.Errorf("embedding: model %s at %s returned %d embeddings for %d texts", c.model, c.base, len(resp.Data), len(texts))
	}
	vecs := make([][]float64, len(texts))
	for _, d := range resp.Data {
		if d.Index < 0 || int(d.Index) >= len(texts) || vecs[d.Index] != nil {
			return nil, fmt.Errorf("embedding: model %s at %s returned a bad or repeated index %d", c.model, c.base, d.Index)
		}
		if len(d.Embedding) == 0 {
			return nil, fmt.Errorf("embedding: model %s at %s returned an empty embedding for text %d", c.model, c.base, d.Index)
		}
		vecs[d.Index] = d.Embedding
	}
	if t := llm.UsageFromContext(ctx); t != nil {
		model := resp.Model
		if model == "" {
			model = c.model
		}
		t.Child("embeddings", llm.UsageLLM).Record(model, llm.Usage{InputTokens: resp.Usage.PromptTokens})
	}
	return vecs, nil
}

// Cosine returns the cosine similarity of a and b, in [-1, 1]; 0 when
// either is a zero vector or their lengths differ.
func Cosine(a, b []float64) float64 {
	if len(a) != len(b) || len(a) == 0 {
		return 0
	}
	var dot, na, nb float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / (math.Sqrt(na) * math.Sqrt(nb))
}
