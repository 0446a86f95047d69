// Package embedding computes text embeddings for the embedding-based
// router and intent classifier: a [Client] for the OpenAI embeddings API
// (OpenAI, or any OpenAI-compatible server such as Ollama, vLLM or LM
// Studio), a [Cache] that embeds each text once, and [Cosine] similarity.
//
// Quick start:
//
//	emb := embedding.NewCache(embedding.New(&embedding.Options{
//		APIKey: os.Getenv("OPENAI_API_KEY"),
//		Model:  "text-embedding-3-small",
//	}), nil)
//	vecs, err := emb.Embed(ctx, []string{"refund my order", "reset my password"})
//	similarity := embedding.Cosine(vecs[0], vecs[1])
//
// With a local server: embedding.New(&embedding.Options{BaseURL:
// "http://localhost:11434/v1", Model: "nomic-embed-text"}).
//
// The [Embedder] interface is what the patterns need; implement it to use
// another embedding service.
package embedding
