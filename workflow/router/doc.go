// Package router is the routing pattern: a request goes to the best of
// several categories, which can be agents (any [llm.AugmentedLLM],
// including other patterns), MCP servers (described by their tools) or Go
// functions. Two rankers: an LLM asked for the top categories with a
// confidence and a reasoning each (structured output), and embeddings
// (cosine similarity of the request and each category's description, from
// the OpenAI embeddings API or any compatible server; see package
// embedding).
//
// Quick start:
//
//	r, err := router.NewLLM(routingLLM, []router.Category{
//		router.AgentCategory(finder, "Finds and reads files."),
//		router.FunctionCategory("calculator", "Does arithmetic.", calc),
//		weather, // router.ServerCategoryFrom(ctx, registry, "weather", "Forecasts.", weatherLLM)
//	}, nil)
//	choices, err := r.Route(ctx, llm.Prompt("Is it raining in Paris?"), 2) // ranked, best first
//	answer, err := llm.GenerateString(ctx, r, llm.Prompt("Is it raining in Paris?"), nil) // runs the best
//
// Or by embeddings:
//
//	emb := embedding.NewCache(embedding.New(&embedding.Options{APIKey: key}), nil)
//	r, err := router.NewEmbedding(emb, categories, nil)
//
// [Router.Route] returns up to k [Choice] values; k larger than the number
// of categories returns them all. [Router.Generate] (the
// [llm.AugmentedLLM] side) routes each turn and runs the best category's
// Target with the whole conversation and the caller's RequestParams, so a
// router nests anywhere an LLM does. A server category without a Target
// can be ranked but not run ([ErrNoTarget]).
//
// The router owns its conversation memory ([Options].Memory) and calls
// targets statelessly. When the context carries an [llm.UsageTracker], the
// routing LLM's, the embedder's and the target's usage nest under a node of
// kind [llm.UsageWorkflow] named after the router.
package router
