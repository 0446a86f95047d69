package intent_test

import (
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"go.uber.org/goleak"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/embedding"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// recorder is an llm.Provider that remembers every request it is given.
type recorder struct {
	llm.Provider
	mu   sync.Mutex
	reqs []*llm.Request
}

func (r *recorder) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	return r.Provider.Complete(ctx, req)
}

func (r *recorder) Stream(ctx context.Context, req *llm.Request) iter.Seq2[*llm.Chunk, error] {
	r.mu.Lock()
	r.reqs = append(r.reqs, req)
	r.mu.Unlock()
	return r.Provider.Stream(ctx, req)
}

func (r *recorder) requests() []*llm.Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*llm.Request(nil), r.reqs...)
}

// scripted returns an LLM named name playing the script text (YAML), and
// the recorder of its requests.
func scripted(t *testing.T, name, script string) (*llm.LLM, *recorder) {
	t.Helper()
	s, err := replay.Parse([]byte(script), name+".yaml")
	if err != nil {
		t.Fatal(err)
	}
	rec := &recorder{Provider: replay.New(s, nil)}
	return llm.New(nil, rec, &llm.Options{Name: name}), rec
}

// keywordEmbeddings is an OpenAI-compatible /v1/embeddings endpoint whose
// vectors count keywords: component i is 0.01 plus the number of times
// keywords[i] occurs in the (lower-cased) text. It validates each request
// and records the inputs.
type keywordEmbeddings struct {
	t        *testing.T
	keywords []string
	mu       sync.Mutex
	inputs   [][]string
}

func (k *keywordEmbeddings) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" || r.Header.Get("Authorization") != "Bearer sk-test" {
		k.t.Errorf("unexpected request %s %s (Authorization %q)", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprint(w, `{"error": {"message": "bad request"}}`)
		return
	}
	var body struct {
		Model          string   `json:"model"`
		Input          []string `json:"input"`
		EncodingFormat string   `json:"encoding_format"`
	}
	if err := json.NewDecoder(r.Body).Decode(&body); err != nil || body.Model != "test-embed" || body.EncodingFormat != "float" || len(body.Input) == 0 {
		k.t.Errorf("bad embeddings request %+v (decode error %v)", body, err)
	}
	k.mu.Lock()
	k.inputs = append(k.inputs, body.Input)
	k.mu.Unlock()
	var data []map[string]any
	for i, in := range body.Input {
		v := make([]float64, len(k.keywords))
		for j, kw := range k.keywords {
			v[j] = 0.01 + float64(strings.Count(strings.ToLower(in), kw))
		}
		data = append(data, map[string]any{"object": "embedding", "index": i, "embedding": v})
	}
	json.NewEncoder(w).Encode(map[string]any{"object": "list", "model": body.Model, "data": data, "usage": map[string]int{"prompt_tokens": len(body.Input), "total_tokens": len(body.Input)}})
}

func (k *keywordEmbeddings) requests() [][]string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([][]string(nil), k.inputs...)
}

// newEmbedder serves keyword embeddings and returns a client for them.
func newEmbedder(t *testing.T, keywords ...string) (*embedding.Client, *keywordEmbeddings) {
	k := &keywordEmbeddings{t: t, keywords: keywords}
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	return embedding.New(&embedding.Options{APIKey: "sk-test", BaseURL: srv.URL + "/v1", Model: "test-embed"}), k
}
