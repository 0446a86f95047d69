// Package intent is the intent classifier: it finds which of a set of
// intents (name, description, examples) a request has, with a confidence
// each, by asking an LLM (structured output with a reasoning per intent)
// or by embeddings (the best cosine similarity between the request and an
// intent's description or examples; see package embedding).
//
// Quick start:
//
//	c, err := intent.NewLLM(model, []intent.Intent{
//		{Name: "refund", Description: "Money back for an order.", Examples: []string{"I want a refund"}},
//		{Name: "shipping", Description: "Where an order is.", Examples: []string{"Where is my parcel?"}},
//	}, nil)
//	matches, err := c.Classify(ctx, llm.Prompt("my parcel never came"), 1)
//	// matches[0].Intent == "shipping", matches[0].Confidence == 0.9
//
// With embeddings:
//
//	c, err := intent.NewEmbedding(embedding.NewCache(embedding.New(opts), nil), intents, nil)
//
// A [Classifier] is an [llm.AugmentedLLM]: Generate answers with the JSON
// array of its top [Options].TopK matches, so a classifier can sit inside
// other patterns (for example as a parallel member). Classify may return
// fewer than k matches (the LLM found fewer) and none when nothing fits.
// When the context carries an [llm.UsageTracker], calls nest under a node of
// kind [llm.UsageWorkflow] named after the classifier.
package intent
