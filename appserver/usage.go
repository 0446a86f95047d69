package appserver

import (
	"context"
	"fmt"
	"slices"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// MetaKeyUsage is the _meta key under which the text results of
// agents-<name>-generate_str and agents-<name>-generate_structured carry the
// turn's usage (an llm.UsageNode). agents-<name>-generate and agent
// workflows carry it as their result's "usage" field.
const MetaKeyUsage = "usage"

// usageScope is a tracker of its own for one agent turn or step: every LLM
// call made with the returned context is recorded there (in a child per
// LLM), and nowhere else shared, so concurrent calls of one agent do not mix
// their counts.
func usageScope(ctx context.Context, name string) (context.Context, *llm.UsageTracker) {
	t := llm.NewUsageTracker(name, llm.UsageRun)
	return llm.ContextWithUsage(ctx, t), t
}

// addUsage adds src to dst: totals, cost, per-model usage, and children
// matched by name (recursively). Summing the reports of a run's steps this
// way gives the report one tracker would have given for the whole run.
func addUsage(dst *llm.UsageNode, src llm.UsageNode) {
	if dst.Name == "" && dst.Kind == "" {
		dst.Name, dst.Kind = src.Name, src.Kind
	}
	dst.Calls += src.Calls
	dst.Usage.Add(src.Usage)
	dst.Cost.USD += src.Cost.USD
	for _, m := range src.Cost.UnknownModels {
		if !slices.Contains(dst.Cost.UnknownModels, m) {
			dst.Cost.UnknownModels = append(dst.Cost.UnknownModels, m)
		}
	}
	for model, u := range src.Models {
		if dst.Models == nil {
			dst.Models = map[string]llm.Usage{}
		}
		m := dst.Models[model]
		m.Add(u)
		dst.Models[model] = m
	}
	for _, c := range src.Children {
		i := slices.IndexFunc(dst.Children, func(d llm.UsageNode) bool { return d.Name == c.Name && d.Kind == c.Kind })
		if i < 0 {
			dst.Children = append(dst.Children, llm.UsageNode{Name: c.Name, Kind: c.Kind})
			i = len(dst.Children) - 1
		}
		addUsage(&dst.Children[i], c)
	}
}

// usageNodeSchema is the JSON Schema of an llm.UsageNode, which cannot be
// inferred (the type is recursive): children are described as nodes of the
// same shape.
func usageNodeSchema() *jsonschema.Schema {
	tokens, err := jsonschema.For[llm.Usage](nil)
	if err != nil {
		panic(fmt.Sprintf("appserver: schema of llm.Usage: %v", err))
	}
	tokens.Description = "token counts: input_tokens (all input, cached included), output_tokens (all output, reasoning included), cache_read_tokens, cache_write_tokens, reasoning_tokens"
	cost, err := jsonschema.For[llm.Cost](nil)
	if err != nil {
		panic(fmt.Sprintf("appserver: schema of llm.Cost: %v", err))
	}
	cost.Description = "the cost in US dollars; unknown_models names the models without a price, whose calls usd leaves out"
	portable(cost)
	return &jsonschema.Schema{
		Type:        "object",
		Description: "token usage and cost: totals include the children",
		Properties: map[string]*jsonschema.Schema{
			"name":     {Type: "string", Description: "what the node accounts for: the agent, the workflow, or an LLM"},
			"kind":     {Type: "string", Description: "run, workflow or llm"},
			"calls":    {Type: "integer", Description: "model calls"},
			"usage":    tokens,
			"cost":     cost,
			"models":   {Type: "object", Description: "usage recorded on this node itself, by model", AdditionalProperties: tokens.CloneSchemas()},
			"children": {Type: "array", Description: "nested usage nodes of the same shape", Items: &jsonschema.Schema{Type: "object", Description: "a usage node (name, kind, calls, usage, cost, models, children)"}},
		},
		Required: []string{"name", "kind", "calls", "usage", "cost"},
	}
}
