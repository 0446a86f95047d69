package llm

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// UsageKind says what a node of the usage tree accounts for.
type UsageKind string

// Usage kinds.
const (
	UsageRun      UsageKind = "run"      // one run of an app or workflow
	UsageWorkflow UsageKind = "workflow" // a workflow pattern (router, parallel, ...)
	UsageLLM      UsageKind = "llm"      // one AugmentedLLM (named after its agent)
)

// A UsageTracker accumulates token usage in a tree: each node records the
// calls made directly through it, by model, and has children. It is safe for
// concurrent use.
//
// Every [LLM] records its calls in its own tracker ([LLM.Usage]) and, when
// the context carries one ([ContextWithUsage]), in the child of that tracker
// named after the LLM. A pattern makes per-run trees nest by passing its
// members a context carrying its own child node:
//
//	run := llm.NewUsageTracker("run-42", llm.UsageRun)
//	ctx = llm.ContextWithUsage(ctx, run)
//	... // every LLM call below is recorded under run
//	fmt.Println(run.Report(nil).Summary(elapsed))
type UsageTracker struct {
	name string
	kind UsageKind

	mu       sync.Mutex
	calls    int
	byModel  map[string]Usage
	children []*UsageTracker
}

// NewUsageTracker returns an empty tracker.
func NewUsageTracker(name string, kind UsageKind) *UsageTracker {
	return &UsageTracker{name: name, kind: kind}
}

// Name returns the tracker's name.
func (t *UsageTracker) Name() string { return t.name }

// Child returns the child named name, creating it with kind if it does not
// exist yet.
func (t *UsageTracker) Child(name string, kind UsageKind) *UsageTracker {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, c := range t.children {
		if c.name == name {
			return c
		}
	}
	c := NewUsageTracker(name, kind)
	t.children = append(t.children, c)
	return c
}

// Attach adds an existing tracker as a child (for example an LLM's own
// tracker under a pattern's). Attaching a tracker twice or to its own
// subtree is a programming error: it panics.
func (t *UsageTracker) Attach(child *UsageTracker) {
	if child == t || child.contains(t) {
		panic("llm: UsageTracker.Attach would create a cycle")
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if slices.Contains(t.children, child) {
		panic("llm: UsageTracker.Attach: " + child.name + " is already a child of " + t.name)
	}
	t.children = append(t.children, child)
}

func (t *UsageTracker) contains(x *UsageTracker) bool {
	t.mu.Lock()
	children := slices.Clone(t.children)
	t.mu.Unlock()
	for _, c := range children {
		if c == x || c.contains(x) {
			return true
		}
	}
	return false
}

// Record adds one model call's usage.
func (t *UsageTracker) Record(model string, u Usage) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.byModel == nil {
		t.byModel = make(map[string]Usage)
	}
	m := t.byModel[model]
	m.Add(u)
	t.byModel[model] = m
	t.calls++
}

// Report returns a snapshot of the tree with costs from prices (nil means
// [DefaultPrices]).
func (t *UsageTracker) Report(prices *PriceTable) UsageNode {
	if prices == nil {
		prices = DefaultPrices()
	}
	t.mu.Lock()
	n := UsageNode{Name: t.name, Kind: t.kind, Calls: t.calls, Models: maps.Clone(t.byModel)}
	children := slices.Clone(t.children)
	t.mu.Unlock()
	for _, model := range slices.Sorted(maps.Keys(n.Models)) {
		u := n.Models[model]
		n.Usage.Add(u)
		if usd, ok := prices.Cost(model, u); ok {
			n.Cost.USD += usd
		} else {
			n.Cost.UnknownModels = append(n.Cost.UnknownModels, model)
		}
	}
	for _, c := range children {
		cn := c.Report(prices)
		n.Calls += cn.Calls
		n.Usage.Add(cn.Usage)
		n.Cost.USD += cn.Cost.USD
		for _, m := range cn.Cost.UnknownModels {
			if !slices.Contains(n.Cost.UnknownModels, m) {
				n.Cost.UnknownModels = append(n.Cost.UnknownModels, m)
			}
		}
		n.Children = append(n.Children, cn)
	}
	return n
}

// UsageNode is a snapshot of a [UsageTracker]: totals include the children.
type UsageNode struct {
	Name  string    `json:"name"`
	Kind  UsageKind `json:"kind"`
	Calls int       `json:"calls"`
	Usage Usage     `json:"usage"`
	Cost  Cost      `json:"cost"`
	// Models is the usage recorded directly on this node, by model.
	Models   map[string]Usage `json:"models,omitempty"`
	Children []UsageNode      `json:"children,omitempty"`
}

// Cost is a price in US dollars. When some model had no price, USD covers
// only the priced models and UnknownModels names the others: an unknown cost
// is never reported as zero.
type Cost struct {
	USD           float64  `json:"usd"`
	UnknownModels []string `json:"unknown_models,omitempty"`
}

// Known reports whether every model was priced.
func (c Cost) Known() bool { return len(c.UnknownModels) == 0 }

// String formats the cost: "$0.0042", "$1.23", "cost unknown (m)" or
// "$0.0042 + unknown (m)".
func (c Cost) String() string {
	if !c.Known() {
		unknown := "unknown (" + strings.Join(c.UnknownModels, ", ") + ")"
		if c.USD == 0 {
			return "cost " + unknown
		}
		return formatUSD(c.USD) + " + " + unknown
	}
	return formatUSD(c.USD)
}

func formatUSD(usd float64) string {
	if usd >= 1 {
		return fmt.Sprintf("$%.2f", usd)
	}
	return fmt.Sprintf("$%.4f", usd)
}

// Summary formats the totals on one line, as printed at the end of a run:
// "1.2s · 1,234 in / 567 out tokens · $0.0042". elapsed <= 0 leaves the
// time out.
func (n UsageNode) Summary(elapsed time.Duration) string {
	return FormatSummary(elapsed, n.Usage, n.Cost)
}

// FormatSummary formats elapsed time, tokens and cost on one line (see
// [UsageNode.Summary]). Cached input tokens, when any, are shown in
// parentheses.
func FormatSummary(elapsed time.Duration, u Usage, c Cost) string {
	var parts []string
	if elapsed > 0 {
		parts = append(parts, formatElapsed(elapsed))
	}
	tokens := groupThousands(u.InputTokens) + " in"
	if u.CacheReadTokens > 0 {
		tokens += " (" + groupThousands(u.CacheReadTokens) + " cached)"
	}
	tokens += " / " + groupThousands(u.OutputTokens) + " out tokens"
	parts = append(parts, tokens, c.String())
	return strings.Join(parts, " · ")
}

func formatElapsed(d time.Duration) string {
	switch {
	case d < time.Second:
		return strconv.FormatInt(d.Milliseconds(), 10) + "ms"
	case d < time.Minute:
		return strconv.FormatFloat(d.Seconds(), 'f', 1, 64) + "s"
	default:
		return d.Round(time.Second).String()
	}
}

func groupThousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

type usageKey struct{}

// ContextWithUsage returns a context whose LLM calls are recorded under t
// (in a child per LLM name).
func ContextWithUsage(ctx context.Context, t *UsageTracker) context.Context {
	return context.WithValue(ctx, usageKey{}, t)
}

// UsageFromContext returns the tracker set by ContextWithUsage, or nil.
func UsageFromContext(ctx context.Context) *UsageTracker {
	t, _ := ctx.Value(usageKey{}).(*UsageTracker)
	return t
}
