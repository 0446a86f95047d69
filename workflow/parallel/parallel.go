package parallel

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patternkit"
)

// ErrorPolicy says what a [Parallel] does when a fan-out member fails.
type ErrorPolicy int

const (
	// FailFast (the zero value) cancels the other members on the first
	// failure and returns it, wrapped in a [*MemberError].
	FailFast ErrorPolicy = iota
	// CollectErrors lets every member finish and hands the failures to the
	// fan-in along with the answers ([Result].Err); the turn fails, with
	// [ErrAllFailed], only when every member failed.
	CollectErrors
)

// ErrAllFailed is wrapped by the error of a [CollectErrors] turn in which
// every member failed; the error also joins each [*MemberError].
var ErrAllFailed = errors.New("every parallel member failed")

// MemberError is the failure of one fan-out member.
type MemberError struct {
	Member string // the member's Name
	Index  int    // its position in the fan-out list
	Err    error
}

func (e *MemberError) Error() string {
	return fmt.Sprintf("parallel member %d (%s): %v", e.Index, e.Member, e.Err)
}

func (e *MemberError) Unwrap() error { return e.Err }

// Result is one member's part of a fan-out.
type Result struct {
	Member string // the member's Name
	Index  int    // its position in the fan-out list
	// Output is what the member's Generate returned; the last message is
	// its answer.
	Output []llm.Message
	// Err is the member's failure (only with CollectErrors; nil otherwise).
	Err error
}

// Text returns the member's answer, or "" if it failed.
func (r Result) Text() string { return llm.FinalText(r.Output) }

// A FanIn combines the results of the fan-out into the answer: an
// aggregator LLM ([Aggregator]) or a Go function ([AggregateFunc]).
type FanIn interface {
	isFanIn()
}

// Aggregator returns a fan-in that asks l to combine the answers. l gets
// the conversation whose last user message is extended with every member's
// answer (see the package documentation for the prompt) and the caller's
// RequestParams, including ResponseSchema; its answer is the turn's answer.
func Aggregator(l llm.AugmentedLLM) FanIn {
	if l == nil {
		panic("parallel.Aggregator: nil llm")
	}
	return aggregator{l}
}

// AggregateFunc returns a fan-in that computes the answer in Go from the
// conversation and the results (in fan-out order).
func AggregateFunc(fn func(ctx context.Context, conv []llm.Message, results []Result) (string, error)) FanIn {
	if fn == nil {
		panic("parallel.AggregateFunc: nil function")
	}
	return aggregateFunc(fn)
}

type aggregator struct{ l llm.AugmentedLLM }
type aggregateFunc func(ctx context.Context, conv []llm.Message, results []Result) (string, error)

func (aggregator) isFanIn()    {}
func (aggregateFunc) isFanIn() {}

// Options configures a [Parallel]. A nil *Options uses every default.
type Options struct {
	// Name names the pattern in events, errors and usage reports; "" is
	// "parallel".
	Name string
	// MaxConcurrency bounds how many members run at once; 0 runs them all
	// at once. Members start in list order.
	MaxConcurrency int
	// ErrorPolicy is what a member failure does; the zero value is FailFast.
	ErrorPolicy ErrorPolicy
	// Memory keeps the conversation between turns (see the package
	// documentation); nil uses a new llm.SimpleMemory.
	Memory llm.Memory
}

// Parallel fans a conversation out to several members concurrently and
// fans their answers in. It is an [llm.AugmentedLLM] and safe for
// concurrent use.
type Parallel struct {
	pattern patternkit.Pattern
	fanIn   FanIn
	members []llm.AugmentedLLM
	limit   int
	policy  ErrorPolicy
}

var _ llm.AugmentedLLM = (*Parallel)(nil)

// New returns a Parallel sending each turn to every member of fanOut and
// combining their answers with fanIn. A nil fanIn joins the answers as
// Markdown sections headed by member names. It fails when fanOut is empty
// or has a nil member.
func New(fanIn FanIn, fanOut []llm.AugmentedLLM, opts *Options) (*Parallel, error) {
	if opts == nil {
		opts = &Options{}
	}
	p := &Parallel{
		pattern: patternkit.Pattern{Kind: "parallel", Name: opts.Name, Memory: opts.Memory},
		fanIn:   fanIn,
		members: append([]llm.AugmentedLLM(nil), fanOut...),
		limit:   opts.MaxConcurrency,
		policy:  opts.ErrorPolicy,
	}
	if p.pattern.Name == "" {
		p.pattern.Name = "parallel"
	}
	if len(p.members) == 0 {
		return nil, fmt.Errorf("%s: no fan-out members: give at least one LLM", p.pattern.Label())
	}
	for i, m := range p.members {
		if m == nil {
			return nil, fmt.Errorf("%s: fan-out member %d is nil", p.pattern.Label(), i)
		}
	}
	if p.limit < 0 {
		return nil, fmt.Errorf("%s: MaxConcurrency is %d: use 0 for no limit or a positive bound", p.pattern.Label(), p.limit)
	}
	if p.policy != FailFast && p.policy != CollectErrors {
		return nil, fmt.Errorf("%s: unknown ErrorPolicy %d", p.pattern.Label(), p.policy)
	}
	if p.pattern.Memory == nil {
		p.pattern.Memory = llm.NewMemory()
	}
	return p, nil
}

// Name returns the pattern's name.
func (p *Parallel) Name() string { return p.pattern.Name }

// Memory returns the pattern's conversation memory.
func (p *Parallel) Memory() llm.Memory { return p.pattern.Memory }

// Generate fans msgs out to the members, fans the answers in and returns
// the fan-in's messages (the last is the answer).
func (p *Parallel) Generate(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) ([]llm.Message, error) {
	return p.pattern.Turn(ctx, msgs, params, nil, p.run)
}

// Stream runs a turn like Generate. It emits one message event per member
// answer (Source is the member's name, in fan-out order, once every member
// has finished), then the aggregator LLM's events, then the final answer.
func (p *Parallel) Stream(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) iter.Seq2[*llm.Event, error] {
	return p.pattern.Stream(ctx, msgs, params, p.run)
}

func (p *Parallel) run(ctx context.Context, conv []llm.Message, params *llm.RequestParams, emit patternkit.Emit) ([]llm.Message, error) {
	results, err := p.fanOut(ctx, conv, params)
	if err != nil {
		return nil, err
	}
	if emit != nil {
		for _, r := range results {
			if r.Err != nil || len(r.Output) == 0 {
				continue
			}
			final := r.Output[len(r.Output)-1]
			if !emit(&llm.Event{Kind: llm.EventMessage, Source: r.Member, Message: &final}) {
				return nil, patternkit.ErrStopped
			}
		}
	}
	switch f := p.fanIn.(type) {
	case aggregator:
		out, err := patternkit.Call(ctx, f.l, FanInMessages(conv, results), params, emit)
		if err != nil {
			if errors.Is(err, patternkit.ErrStopped) {
				return nil, err
			}
			return nil, fmt.Errorf("%s: aggregator %q: %w", p.pattern.Label(), f.l.Name(), err)
		}
		return out, nil
	case aggregateFunc:
		s, err := f(ctx, conv, results)
		if err != nil {
			return nil, fmt.Errorf("%s: fan-in function: %w", p.pattern.Label(), err)
		}
		return []llm.Message{llm.AssistantText(s)}, nil
	default:
		return []llm.Message{llm.AssistantText(joinResults(results))}, nil
	}
}

// FanOut sends conv to every member concurrently, statelessly (history off,
// ResponseSchema dropped), and returns their results in fan-out order. It
// does not use the pattern's memory or fan-in. Under FailFast the first
// failure cancels the others and is returned as a *MemberError; under
// CollectErrors failures are in the results and the error is non-nil only
// when every member failed (it wraps ErrAllFailed) or ctx ended.
func (p *Parallel) FanOut(ctx context.Context, conv []llm.Message, params *llm.RequestParams) ([]Result, error) {
	ctx = patternkit.WithUsageNode(ctx, p.pattern.Name)
	return p.fanOut(ctx, conv, params)
}

func (p *Parallel) fanOut(ctx context.Context, conv []llm.Message, params *llm.RequestParams) ([]Result, error) {
	mp := patternkit.Stateless(params)
	mp.ResponseSchema = nil
	results := make([]Result, len(p.members))
	g, gctx := errgroup.WithContext(ctx)
	if p.limit > 0 {
		g.SetLimit(p.limit)
	}
	for i, m := range p.members {
		results[i] = Result{Member: m.Name(), Index: i}
		if gctx.Err() != nil {
			results[i].Err = context.Cause(gctx)
			continue // do not start members once the turn is cancelled
		}
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				results[i].Err = err
				return nil
			}
			out, err := m.Generate(gctx, conv, mp)
			if err == nil && len(out) == 0 {
				err = errors.New("no answer")
			}
			results[i].Output = out
			if err != nil {
				results[i].Err = err
				if p.policy == FailFast {
					return &MemberError{Member: m.Name(), Index: i, Err: err}
				}
			}
			return nil
		})
	}
	err := g.Wait()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s: %w", p.pattern.Label(), ctx.Err())
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", p.pattern.Label(), err)
	}
	var errs []error
	for _, r := range results {
		if r.Err != nil {
			errs = append(errs, &MemberError{Member: r.Member, Index: r.Index, Err: r.Err})
		}
	}
	if len(errs) == len(results) {
		return nil, fmt.Errorf("%s: %w: %w", p.pattern.Label(), ErrAllFailed, errors.Join(errs...))
	}
	return results, nil
}

// FanInMessages returns what an [Aggregator] LLM receives: conv with the
// answers (and, under CollectErrors, the failures) appended to its last
// user message, each in a <response member="..."> element.
func FanInMessages(conv []llm.Message, results []Result) []llm.Message {
	var b strings.Builder
	fmt.Fprintf(&b, "\n\nThis request was sent to %d members in parallel. Their responses:\n", len(results))
	for _, r := range results {
		if r.Err != nil {
			fmt.Fprintf(&b, "\n<response member=%q failed=\"true\">\n%v\n</response>\n", r.Member, r.Err)
			continue
		}
		fmt.Fprintf(&b, "\n<response member=%q>\n%s\n</response>\n", r.Member, r.Text())
	}
	b.WriteString("\nCombine the responses into one answer to the request.")
	out := append([]llm.Message(nil), conv...)
	last := len(out) - 1
	if last >= 0 && out[last].Role == llm.RoleUser {
		parts := append(append([]llm.Part(nil), out[last].Parts...), &llm.Text{Text: b.String()})
		out[last] = llm.Message{Role: llm.RoleUser, Parts: parts}
		return out
	}
	return append(out, llm.UserText(strings.TrimLeft(b.String(), "\n")))
}

// joinResults is the default fan-in.
func joinResults(results []Result) string {
	var b strings.Builder
	for i, r := range results {
		if i > 0 {
			b.WriteString("\n\n")
		}
		if r.Err != nil {
			fmt.Fprintf(&b, "## %s (failed)\n\n%v", r.Member, r.Err)
			continue
		}
		fmt.Fprintf(&b, "## %s\n\n%s", r.Member, r.Text())
	}
	return b.String()
}
