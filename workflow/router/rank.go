package router

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/embedding"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patternkit"
)

// Routing is the structured answer asked of the routing LLM.
type Routing struct {
	Categories []RoutingChoice `json:"categories" jsonschema:"the chosen categories, most suitable first"`
}

// RoutingChoice is one category in a [Routing].
type RoutingChoice struct {
	Category   string  `json:"category" jsonschema:"the category name, exactly as listed"`
	Confidence float64 `json:"confidence" jsonschema:"confidence that the category fits the request, from 0 to 1"`
	Reasoning  string  `json:"reasoning" jsonschema:"one sentence explaining the choice"`
}

// RoutingPrompt returns the prompt the LLM router sends (as one user
// message) to rank categories for conv.
func RoutingPrompt(categories []Category, conv []llm.Message, k int, instruction string) string {
	var b strings.Builder
	b.WriteString("You route requests. Choose the categories best suited to handle the request below.\n\nCategories:\n")
	for i, c := range categories {
		fmt.Fprintf(&b, "\n%d. %s", i+1, strings.ReplaceAll(c.describe(), "\n", "\n   "))
	}
	fmt.Fprintf(&b, "\nRequest:\n%s\n\n", patternkit.Transcript(conv))
	if instruction != "" {
		b.WriteString(instruction + "\n\n")
	}
	fmt.Fprintf(&b, "Answer with at most %d categories, most suitable first, each with a confidence from 0 to 1 and a one-sentence reasoning. Use only the names listed above; leave out categories that do not fit.", k)
	return strings.ReplaceAll(b.String(), "\n   \n", "\n\n")
}

func rankLLM(ctx context.Context, r *Router, conv []llm.Message, k int) ([]Choice, error) {
	prompt := RoutingPrompt(r.categories, conv, k, r.instruction)
	ans, err := llm.GenerateStructured[Routing](ctx, r.llm, llm.Prompt(prompt), patternkit.Stateless(r.params))
	if err != nil {
		return nil, fmt.Errorf("%s: routing LLM %q: %w", r.pattern.Label(), r.llm.Name(), err)
	}
	var choices []Choice
	picked := map[string]bool{}
	var unknown []string
	for _, a := range ans.Categories {
		c, ok := r.lookup(a.Category)
		if !ok {
			unknown = append(unknown, a.Category)
			continue
		}
		if picked[c.Name] {
			continue
		}
		picked[c.Name] = true
		choices = append(choices, Choice{Category: c, Confidence: min(1, max(0, a.Confidence)), Reasoning: a.Reasoning})
	}
	if len(choices) == 0 {
		if len(unknown) > 0 {
			return nil, fmt.Errorf("%s: %w: the routing LLM answered %q, which is not a category (categories: %s)", r.pattern.Label(), ErrNoRoute, unknown, r.names())
		}
		return nil, fmt.Errorf("%s: %w: the routing LLM chose none of the categories (%s)", r.pattern.Label(), ErrNoRoute, r.names())
	}
	slices.SortStableFunc(choices, func(a, b Choice) int { return cmp.Compare(b.Confidence, a.Confidence) })
	return choices, nil
}

// lookup finds a category by name, exactly or else ignoring case.
func (r *Router) lookup(name string) (Category, bool) {
	name = strings.TrimSpace(name)
	for _, c := range r.categories {
		if c.Name == name {
			return c, true
		}
	}
	for _, c := range r.categories {
		if strings.EqualFold(c.Name, name) {
			return c, true
		}
	}
	return Category{}, false
}

func (r *Router) names() string {
	names := make([]string, len(r.categories))
	for i, c := range r.categories {
		names[i] = c.Name
	}
	return strings.Join(names, ", ")
}

// vectors holds the category embeddings, computed once.
type vectors struct {
	mu   sync.Mutex
	vecs [][]float64
}

func (v *vectors) get(ctx context.Context, e embedding.Embedder, texts []string) ([][]float64, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.vecs != nil {
		return v.vecs, nil
	}
	vecs, err := e.Embed(ctx, texts)
	if err != nil {
		return nil, err
	}
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("the embedder returned %d vectors for %d texts", len(vecs), len(texts))
	}
	v.vecs = vecs
	return vecs, nil
}

func rankEmbedding(ctx context.Context, r *Router, conv []llm.Message, k int) ([]Choice, error) {
	texts := make([]string, len(r.categories))
	for i := range r.categories {
		texts[i] = r.categories[i].describe()
	}
	cvecs, err := r.vecs.get(ctx, r.emb, texts)
	if err != nil {
		return nil, fmt.Errorf("%s: embedding the categories: %w", r.pattern.Label(), err)
	}
	query := patternkit.LastUserText(conv)
	if strings.TrimSpace(query) == "" {
		return nil, fmt.Errorf("%s: the last user message has no text to route by", r.pattern.Label())
	}
	qv, err := r.emb.Embed(ctx, []string{query})
	if err != nil {
		return nil, fmt.Errorf("%s: embedding the request: %w", r.pattern.Label(), err)
	}
	if len(qv) != 1 {
		return nil, fmt.Errorf("%s: embedding the request: the embedder returned %d vectors for 1 text", r.pattern.Label(), len(qv))
	}
	choices := make([]Choice, len(r.categories))
	for i, c := range r.categories {
		choices[i] = Choice{Category: c, Confidence: embedding.Cosine(qv[0], cvecs[i])}
	}
	slices.SortStableFunc(choices, func(a, b Choice) int { return cmp.Compare(b.Confidence, a.Confidence) })
	return choices[:k], nil
}
