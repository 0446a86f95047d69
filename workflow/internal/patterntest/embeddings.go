package patterntest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/mcp-agent-go/mcp-agent/workflow/embedding"
)

// KeywordEmbeddings is an OpenAI-compatible /v1/embeddings endpoint whose
// vectors count keywords: component i is 0.01 plus the number of times
// keywords[i] occurs in the (lower-cased) text. It validates each request
// (failing the test on a bad one) and records the inputs.
type KeywordEmbeddings struct {
	t        *testing.T
	keywords []string
	mu       sync.Mutex
	inputs   [][]string
}

// ServeHTTP answers one embeddings request.
func (k *KeywordEmbeddings) ServeHTTP(w http.ResponseWriter, r *http.Request) {
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

// Requests returns the inputs of every request so far, oldest first.
func (k *KeywordEmbeddings) Requests() [][]string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return append([][]string(nil), k.inputs...)
}

// NewEmbedder serves keyword embeddings and returns a client for them
// (model "test-embed"); the server is closed when the test ends.
func NewEmbedder(t *testing.T, keywords ...string) (*embedding.Client, *KeywordEmbeddings) {
	k := &KeywordEmbeddings{t: t, keywords: keywords}
	srv := httptest.NewServer(k)
	t.Cleanup(srv.Close)
	return embedding.New(&embedding.Options{APIKey: "sk-test", BaseURL: srv.URL + "/v1", Model: "test-embed"}), k
}
