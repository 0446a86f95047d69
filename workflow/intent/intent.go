package intent

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"sync"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/embedding"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patternkit"
)

// An Intent is one thing a user may want.
type Intent struct {
	// Name identifies the intent; the classifying LLM answers with it.
	Name string `json:"name"`
	// Description says what the intent covers.
	Description string `json:"description,omitempty"`
	// Examples are requests with this intent.
	Examples []string `json:"examples,omitempty"`
	// Metadata is kept for the caller (not shown to the classifier).
	Metadata map[string]string `json:"metadata,omitempty"`
}

// A Match is an intent found in a request. It is also the JSON form of the
// answer of [Classifier.Generate].
type Match struct {
	// Intent is the intent's Name.
	Intent string `json:"intent"`
	// Confidence is the classifying LLM's confidence in [0, 1]; for the
	// embedding classifier, the best cosine similarity between the request
	// and the intent's description or examples.
	Confidence float64 `json:"confidence"`
	// Reasoning is the classifying LLM's explanation ("" for embeddings).
	Reasoning string `json:"reasoning,omitempty"`
}

// ErrUnknownIntent is wrapped when the classifying LLM answered only with
// names that are not intents.
var ErrUnknownIntent = errors.New("the classifier answered with unknown intents")

// Options configures a [Classifier]. A nil *Options uses every default.
type Options struct {
	// Name names the classifier in events, errors and usage reports; ""
	// is "intent".
	Name string
	// TopK is the number of intents Generate reports; 0 means 1.
	TopK int
	// Params are the RequestParams of the classifying LLM's calls (history
	// is always off).
	Params *llm.RequestParams
	// Instruction, when set, is added to the classification prompt.
	Instruction string
	// Memory keeps the conversation between Generate turns; nil uses a new
	// llm.SimpleMemory.
	Memory llm.Memory
}

// Classifier finds the intents of a request. It is an [llm.AugmentedLLM]
// whose answer is the JSON array of its top [Match] values, so it can be a
// member of any pattern. It is safe for concurrent use.
type Classifier struct {
	pattern     patternkit.Pattern
	intents     []Intent
	topK        int
	params      *llm.RequestParams
	instruction string
	classify    func(ctx context.Context, conv []llm.Message, k int) ([]Match, error)

	llm  llm.AugmentedLLM
	emb  embedding.Embedder
	mu   sync.Mutex
	vecs [][][]float64 // per intent: description, then examples
}

var _ llm.AugmentedLLM = (*Classifier)(nil)

// NewLLM returns a classifier asking classifierLLM (with structured
// output) for the top intents, with a confidence and a reasoning each.
func NewLLM(classifierLLM llm.AugmentedLLM, intents []Intent, opts *Options) (*Classifier, error) {
	c, err := newClassifier(intents, opts)
	if err != nil {
		return nil, err
	}
	if classifierLLM == nil {
		return nil, fmt.Errorf("%s: no classifying LLM", c.pattern.Label())
	}
	c.llm = classifierLLM
	c.classify = c.classifyLLM
	return c, nil
}

// NewEmbedding returns a classifier scoring each intent by the best cosine
// similarity between the request and the intent's description or one of
// its examples. The intents' embeddings are computed on first use and kept.
func NewEmbedding(e embedding.Embedder, intents []Intent, opts *Options) (*Classifier, error) {
	c, err := newClassifier(intents, opts)
	if err != nil {
		return nil, err
	}
	if e == nil {
		return nil, fmt.Errorf("%s: no embedder", c.pattern.Label())
	}
	c.emb = e
	c.classify = c.classifyEmbedding
	return c, nil
}

func newClassifier(intents []Intent, opts *Options) (*Classifier, error) {
	if opts == nil {
		opts = &Options{}
	}
	c := &Classifier{
		pattern:     patternkit.Pattern{Kind: "intent classifier", Name: opts.Name, Memory: opts.Memory},
		intents:     slices.Clone(intents),
		topK:        max(1, opts.TopK),
		params:      opts.Params,
		instruction: opts.Instruction,
	}
	if c.pattern.Name == "" {
		c.pattern.Name = "intent"
	}
	if c.pattern.Memory == nil {
		c.pattern.Memory = llm.NewMemory()
	}
	if len(intents) == 0 {
		return nil, fmt.Errorf("%s: no intents: give at least one", c.pattern.Label())
	}
	seen := map[string]bool{}
	for i, in := range intents {
		switch {
		case in.Name == "":
			return nil, fmt.Errorf("%s: intent %d has no name", c.pattern.Label(), i)
		case seen[in.Name]:
			return nil, fmt.Errorf("%s: intent %q is listed twice: names must be unique", c.pattern.Label(), in.Name)
		case strings.TrimSpace(in.Description) == "" && len(in.Examples) == 0:
			return nil, fmt.Errorf("%s: intent %q has neither a description nor examples: give the classifier something to match", c.pattern.Label(), in.Name)
		}
		for j, ex := range in.Examples {
			if strings.TrimSpace(ex) == "" {
				return nil, fmt.Errorf("%s: intent %q: example %d is empty", c.pattern.Label(), in.Name, j)
			}
		}
		seen[in.Name] = true
	}
	return c, nil
}

// Name returns the classifier's name.
func (c *Classifier) Name() string { return c.pattern.Name }

// Memory returns the classifier's conversation memory.
func (c *Classifier) Memory() llm.Memory { return c.pattern.Memory }

// Intents returns the classifier's intents.
func (c *Classifier) Intents() []Intent { return slices.Clone(c.intents) }

// Intent returns the intent named name.
func (c *Classifier) Intent(name string) (Intent, bool) {
	for _, in := range c.intents {
		if in.Name == name {
			return in, true
		}
	}
	return Intent{}, false
}

// Classify returns up to k intents of the conversation, best first; k <= 0
// means 1 and k above the number of intents means all of them. The LLM
// classifier may return fewer, or none when no intent fits. The
// classifier's memory is not used.
func (c *Classifier) Classify(ctx context.Context, conv []llm.Message, k int) ([]Match, error) {
	if len(conv) == 0 {
		return nil, fmt.Errorf("%s: no messages to classify: pass at least one message", c.pattern.Label())
	}
	ctx = patternkit.WithUsageNode(ctx, c.pattern.Name)
	return c.classifyK(ctx, conv, k)
}

func (c *Classifier) classifyK(ctx context.Context, conv []llm.Message, k int) ([]Match, error) {
	k = max(1, min(k, len(c.intents)))
	m, err := c.classify(ctx, conv, k)
	if err != nil {
		return nil, err
	}
	if len(m) > k {
		m = m[:k]
	}
	return m, nil
}

// Generate classifies the conversation (memory included) and answers with
// the JSON array of the top Options.TopK matches, such as
// [{"intent":"refund","confidence":0.9,"reasoning":"..."}].
func (c *Classifier) Generate(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) ([]llm.Message, error) {
	return c.pattern.Turn(ctx, msgs, params, nil, c.run)
}

// Stream runs a turn like Generate; it emits only the final answer.
func (c *Classifier) Stream(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) iter.Seq2[*llm.Event, error] {
	return c.pattern.Stream(ctx, msgs, params, c.run)
}

func (c *Classifier) run(ctx context.Context, conv []llm.Message, _ *llm.RequestParams, _ patternkit.Emit) ([]llm.Message, error) {
	m, err := c.classifyK(ctx, conv, c.topK)
	if err != nil {
		return nil, err
	}
	if m == nil {
		m = []Match{}
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	return []llm.Message{llm.AssistantText(string(b))}, nil
}

// Classification is the structured answer asked of the classifying LLM.
type Classification struct {
	Intents []IntentChoice `json:"intents" jsonschema:"the matching intents, best match first"`
}

// IntentChoice is one intent in a [Classification].
type IntentChoice struct {
	Intent     string  `json:"intent" jsonschema:"the intent name, exactly as listed"`
	Confidence float64 `json:"confidence" jsonschema:"confidence that the request has this intent, from 0 to 1"`
	Reasoning  string  `json:"reasoning" jsonschema:"one sentence explaining the choice"`
}

// ClassificationPrompt returns the prompt the LLM classifier sends (as one
// user message) to classify conv.
func ClassificationPrompt(intents []Intent, conv []llm.Message, k int, instruction string) string {
	var b strings.Builder
	b.WriteString("You classify requests by intent. Choose the intents that best match the request below.\n\nIntents:\n")
	for i, in := range intents {
		fmt.Fprintf(&b, "\n%d. name: %s\n", i+1, in.Name)
		if in.Description != "" {
			fmt.Fprintf(&b, "   description: %s\n", in.Description)
		}
		if len(in.Examples) > 0 {
			b.WriteString("   examples:\n")
			for _, ex := range in.Examples {
				fmt.Fprintf(&b, "   - %s\n", strings.ReplaceAll(ex, "\n", " "))
			}
		}
	}
	fmt.Fprintf(&b, "\nRequest:\n%s\n\n", patternkit.Transcript(conv))
	if instruction != "" {
		b.WriteString(instruction + "\n\n")
	}
	fmt.Fprintf(&b, "Answer with at most %d intents, best match first, each with a confidence from 0 to 1 and a one-sentence reasoning. Use only the names listed above; leave out intents that do not match.", k)
	return b.String()
}

func (c *Classifier) classifyLLM(ctx context.Context, conv []llm.Message, k int) ([]Match, error) {
	prompt := ClassificationPrompt(c.intents, conv, k, c.instruction)
	ans, err := llm.GenerateStructured[Classification](ctx, c.llm, llm.Prompt(prompt), patternkit.Stateless(c.params))
	if err != nil {
		return nil, fmt.Errorf("%s: classifying LLM %q: %w", c.pattern.Label(), c.llm.Name(), err)
	}
	var out []Match
	picked := map[string]bool{}
	var unknown []string
	for _, a := range ans.Intents {
		in, ok := c.lookup(a.Intent)
		if !ok {
			unknown = append(unknown, a.Intent)
			continue
		}
		if picked[in.Name] {
			continue
		}
		picked[in.Name] = true
		out = append(out, Match{Intent: in.Name, Confidence: min(1, max(0, a.Confidence)), Reasoning: a.Reasoning})
	}
	if len(out) == 0 && len(unknown) > 0 {
		names := make([]string, len(c.intents))
		for i, in := range c.intents {
			names[i] = in.Name
		}
		return nil, fmt.Errorf("%s: %w: %q (intents: %s)", c.pattern.Label(), ErrUnknownIntent, unknown, strings.Join(names, ", "))
	}
	slices.SortStableFunc(out, func(a, b Match) int { return cmp.Compare(b.Confidence, a.Confidence) })
	return out, nil
}

func (c *Classifier) lookup(name string) (Intent, bool) {
	name = strings.TrimSpace(name)
	if in, ok := c.Intent(name); ok {
		return in, true
	}
	for _, in := range c.intents {
		if strings.EqualFold(in.Name, name) {
			return in, true
		}
	}
	return Intent{}, false
}

// intentVectors returns the embeddings of every intent's description and
// examples, computing them on first use.
func (c *Classifier) intentVectors(ctx context.Context) ([][][]float64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.vecs != nil {
		return c.vecs, nil
	}
	var texts []string
	var owner []int
	for i, in := range c.intents {
		if strings.TrimSpace(in.Description) != "" {
			texts = append(texts, in.Name+": "+in.Description)
			owner = append(owner, i)
		}
		for _, ex := range in.Examples {
			texts = append(texts, ex)
			owner = append(owner, i)
		}
	}
	vecs, err := c.emb.Embed(ctx, texts)
	if err != nil {
		return nil, err
	}
	if len(vecs) != len(texts) {
		return nil, fmt.Errorf("the embedder returned %d vectors for %d texts", len(vecs), len(texts))
	}
	out := make([][][]float64, len(c.intents))
	for j, v := range vecs {
		out[owner[j]] = append(out[owner[j]], v)
	}
	c.vecs = out
	return out, nil
}

func (c *Classifier) classifyEmbedding(ctx context.Context, conv []llm.Message, k int) ([]Match, error) {
	ivecs, err := c.intentVectors(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: embedding the intents: %w", c.pattern.Label(), err)
	}
	query := patternkit.LastUserText(conv)
	if strings.TrimSpace(query) == "" {
		return nil, fmt.Errorf("%s: the last user message has no text to classify", c.pattern.Label())
	}
	qv, err := c.emb.Embed(ctx, []string{query})
	if err != nil {
		return nil, fmt.Errorf("%s: embedding the request: %w", c.pattern.Label(), err)
	}
	if len(qv) != 1 {
		return nil, fmt.Errorf("%s: embedding the request: the embedder returned %d vectors for 1 text", c.pattern.Label(), len(qv))
	}
	out := make([]Match, len(c.intents))
	for i, in := range c.intents {
		best := -1.0
		for _, v := range ivecs[i] {
			best = max(best, embedding.Cosine(qv[0], v))
		}
		out[i] = Match{Intent: in.Name, Confidence: best}
	}
	slices.SortStableFunc(out, func(a, b Match) int { return cmp.Compare(b.Confidence, a.Confidence) })
	return out[:k], nil
}
