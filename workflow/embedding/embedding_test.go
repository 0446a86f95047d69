package embedding_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/embedding"
)

// fakeAPI is an OpenAI-compatible /v1/embeddings endpoint returning fixed
// vectors. It validates every request and records the inputs.
type fakeAPI struct {
	t       *testing.T
	vectors map[string][]float64
	key     string // expected bearer key
	dims    int    // expected dimensions (0: must be absent)

	mu     sync.Mutex
	inputs [][]string
	fail   []int // statuses to answer with, in order, before succeeding
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
		http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
		return
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+f.key {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error": {"message": "Incorrect API key provided", "type": "invalid_request_error", "code": "invalid_api_key"}}`)
		return
	}
	var body struct {
		Model          string   `json:"model"`
		Input          []string `json:"input"`
		EncodingFormat string   `json:"encoding_format"`
		Dimensions     *int     `json:"dimensions"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
		f.t.Errorf("request body: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	if body.Model == "" || body.EncodingFormat != "float" || len(body.Input) == 0 {
		f.t.Errorf("bad request: %+v", body)
	}
	if (f.dims == 0) != (body.Dimensions == nil) || (body.Dimensions != nil && *body.Dimensions != f.dims) {
		f.t.Errorf("dimensions = %v, want %d", body.Dimensions, f.dims)
	}
	f.mu.Lock()
	f.inputs = append(f.inputs, body.Input)
	if len(f.fail) > 0 {
		status := f.fail[0]
		f.fail = f.fail[1:]
		f.mu.Unlock()
		w.WriteHeader(status)
		fmt.Fprint(w, `{"error": {"message": "try again", "type": "server_error"}}`)
		return
	}
	f.mu.Unlock()
	type item struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float64 `json:"embedding"`
	}
	var data []item
	for i := len(body.Input) - 1; i >= 0; i-- { // out of order on purpose
		v, ok := f.vectors[body.Input[i]]
		if !ok {
			v = []float64{0, 0, 1}
		}
		data = append(data, item{"embedding", i, v})
	}
	json.NewEncoder(w).Encode(map[string]any{
		"object": "list", "model": body.Model, "data": data,
		"usage": map[string]int{"prompt_tokens": 3 * len(body.Input), "total_tokens": 3 * len(body.Input)},
	})
}

func (f *fakeAPI) requests() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.inputs)
}

func newFake(t *testing.T) (*fakeAPI, string) {
	f := &fakeAPI{t: t, key: "sk-test", vectors: map[string][]float64{
		"cat": {1, 0, 0}, "dog": {0.8, 0.6, 0}, "car": {0, 1, 0},
	}}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return f, srv.URL + "/v1"
}

func TestClientEmbed(t *testing.T) {
	f, url := newFake(t)
	f.dims = 3
	c := embedding.New(&embedding.Options{APIKey: "sk-test", BaseURL: url, Model: "text-embedding-3-small", Dimensions: 3, BatchSize: 2})
	run := llm.NewUsageTracker("run", llm.UsageRun)
	got, err := c.Embed(llm.ContextWithUsage(t.Context(), run), []string{"cat", "dog", "car"})
	if err != nil {
		t.Fatal(err)
	}
	want := [][]float64{{1, 0, 0}, {0.8, 0.6, 0}, {0, 1, 0}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("vectors (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([][]string{{"cat", "dog"}, {"car"}}, f.requests()); diff != "" {
		t.Errorf("batches (-want +got):\n%s", diff)
	}
	rep := run.Report(nil)
	if len(rep.Children) != 1 || rep.Children[0].Name != "embeddings" || rep.Usage.InputTokens != 9 || rep.Calls != 2 {
		t.Errorf("usage = %+v, want 9 input tokens in 2 calls under embeddings", rep)
	}
}

func TestClientErrors(t *testing.T) {
	f, url := newFake(t)
	noSleep := &llm.RetryPolicy{MaxAttempts: 3, Sleep: func(context.Context, time.Duration) error { return nil }}

	c := embedding.New(&embedding.Options{APIKey: "wrong", BaseURL: url, Retry: noSleep})
	_, err := c.Embed(t.Context(), []string{"cat"})
	var se llm.HTTPStatusError
	if !errors.As(err, &se) || se.StatusCode() != 401 {
		t.Fatalf("err = %v, want a 401 status error", err)
	}
	if !strings.Contains(err.Error(), "embedding: model text-embedding-3-small at "+url+": ") || !strings.Contains(err.Error(), "Incorrect API key provided") {
		t.Errorf("error text = %q", err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("unauthorized request recorded %d times", n) // 401 is answered before recording
	}

	f.fail = []int{500, 429}
	c = embedding.New(&embedding.Options{APIKey: "sk-test", BaseURL: url, Retry: noSleep})
	if _, err := c.Embed(t.Context(), []string{"cat"}); err != nil {
		t.Fatalf("after two transient failures: %v", err)
	}
	if n := len(f.requests()); n != 3 {
		t.Errorf("%d requests, want 3 (two retried)", n)
	}

	_, err = c.Embed(t.Context(), []string{"cat", " "})
	if !errors.Is(err, embedding.ErrEmptyText) || err.Error() != "embedding: text 1: cannot embed an empty text" {
		t.Errorf("err = %v, want ErrEmptyText for text 1", err)
	}
}

type countingEmbedder struct {
	calls [][]string
	inner embedding.Embedder
}

func (c *countingEmbedder) Embed(ctx context.Context, texts []string) ([][]float64, error) {
	c.calls = append(c.calls, texts)
	return c.inner.Embed(ctx, texts)
}

func TestCache(t *testing.T) {
	_, url := newFake(t)
	inner := &countingEmbedder{inner: embedding.New(&embedding.Options{APIKey: "sk-test", BaseURL: url})}
	c := embedding.NewCache(inner, &embedding.CacheOptions{MaxEntries: 2})
	ctx := t.Context()
	v1, err := c.Embed(ctx, []string{"cat", "dog", "cat"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([][]float64{{1, 0, 0}, {0.8, 0.6, 0}, {1, 0, 0}}, v1); diff != "" {
		t.Errorf("vectors (-want +got):\n%s", diff)
	}
	if _, err := c.Embed(ctx, []string{"dog", "cat"}); err != nil { // cached
		t.Fatal(err)
	}
	if _, err := c.Embed(ctx, []string{"car"}); err != nil { // evicts dog (least recent)
		t.Fatal(err)
	}
	if _, err := c.Embed(ctx, []string{"cat", "dog"}); err != nil { // dog again
		t.Fatal(err)
	}
	want := [][]string{{"cat", "dog"}, {"car"}, {"dog"}}
	if diff := cmp.Diff(want, inner.calls); diff != "" {
		t.Errorf("inner calls (-want +got):\n%s", diff)
	}
	if c.Len() != 2 {
		t.Errorf("Len = %d, want 2", c.Len())
	}
}

func TestCosine(t *testing.T) {
	for _, tc := range []struct {
		a, b []float64
		want float64
	}{
		{[]float64{1, 0}, []float64{1, 0}, 1},
		{[]float64{1, 0}, []float64{0, 2}, 0},
		{[]float64{1, 0}, []float64{-3, 0}, -1},
		{[]float64{1, 0, 0}, []float64{0.8, 0.6, 0}, 0.8},
		{[]float64{0, 0}, []float64{1, 0}, 0},
		{[]float64{1}, []float64{1, 0}, 0},
		{nil, nil, 0},
	} {
		if got := embedding.Cosine(tc.a, tc.b); math.Abs(got-tc.want) > 1e-12 {
			t.Errorf("Cosine(%v, %v) = %v, want %v", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestFromConfig(t *testing.T) {
	f, url := newFake(t)
	f.key = "sk-config"
	c := embedding.FromConfig(&config.ProviderSettings{APIKey: "sk-config", BaseURL: url, DefaultModel: "gpt-4o"}, nil)
	if c.Model() != embedding.DefaultModel {
		t.Errorf("model = %q, want the embedding default", c.Model())
	}
	if _, err := c.Embed(t.Context(), []string{"cat"}); err != nil {
		t.Fatal(err)
	}
}
