package embedding_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/mcp-agent-go/mcp-agent/workflow/embedding"
)

func Example() {
	// A stand-in for an OpenAI-compatible server.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"data": []map[string]any{
			{"index": 0, "embedding": []float64{1, 0}},
			{"index": 1, "embedding": []float64{1, 1}},
		}})
	}))
	defer srv.Close()

	emb := embedding.NewCache(embedding.New(&embedding.Options{BaseURL: srv.URL + "/v1"}), nil)
	vecs, err := emb.Embed(context.Background(), []string{"refund my order", "money back please"})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.3f\n", embedding.Cosine(vecs[0], vecs[1]))
	// Output: 0.707
}
