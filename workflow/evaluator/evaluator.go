package evaluator

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patternkit"
)

// Rating is the evaluator's grade of a response. The zero value is not a
// rating (it means "unset" in [Options]).
type Rating int

// Ratings, worst to best.
const (
	Poor Rating = 1 + iota
	Fair
	Good
	Excellent
)

var ratingNames = [...]string{Poor: "POOR", Fair: "FAIR", Good: "GOOD", Excellent: "EXCELLENT"}

// String returns "POOR", "FAIR", "GOOD" or "EXCELLENT".
func (r Rating) String() string {
	if r >= Poor && r <= Excellent {
		return ratingNames[r]
	}
	return fmt.Sprintf("Rating(%d)", int(r))
}

// ParseRating parses a rating name, ignoring case and surrounding space.
func ParseRating(s string) (Rating, error) {
	for r := Poor; r <= Excellent; r++ {
		if strings.EqualFold(strings.TrimSpace(s), ratingNames[r]) {
			return r, nil
		}
	}
	return 0, fmt.Errorf("unknown rating %q: want EXCELLENT, GOOD, FAIR or POOR", s)
}

// MarshalText encodes the rating as its name.
func (r Rating) MarshalText() ([]byte, error) {
	if r < Poor || r > Excellent {
		return nil, fmt.Errorf("invalid rating %d", int(r))
	}
	return []byte(r.String()), nil
}

// UnmarshalText decodes a rating name (any case), as in a config file's
// min_rating: good.
func (r *Rating) UnmarshalText(b []byte) error {
	v, err := ParseRating(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// Evaluation is the evaluator's verdict on one response.
type Evaluation struct {
	Rating           Rating   `json:"rating"`
	Feedback         string   `json:"feedback"`
	NeedsImprovement bool     `json:"needs_improvement"`
	FocusAreas       []string `json:"focus_areas,omitempty"`
}

// EvaluationAnswer is the structured answer asked of the evaluator LLM.
type EvaluationAnswer struct {
	Rating           string   `json:"rating" jsonschema:"one of EXCELLENT, GOOD, FAIR, POOR"`
	Feedback         string   `json:"feedback" jsonschema:"what is good and what to improve, specifically"`
	NeedsImprovement bool     `json:"needs_improvement" jsonschema:"whether the response should be revised"`
	FocusAreas       []string `json:"focus_areas" jsonschema:"the most important things to improve, possibly none"`
}

// Attempt is one response of the optimizer and its evaluation.
type Attempt struct {
	// Number counts attempts from 1.
	Number int `json:"number"`
	// Output is what the optimizer generated; the last message is the
	// response (only that message when streamed).
	Output     []llm.Message `json:"output"`
	Evaluation Evaluation    `json:"evaluation"`
}

// Text returns the attempt's response.
func (a Attempt) Text() string { return llm.FinalText(a.Output) }

// Result is the history of one turn.
type Result struct {
	// Attempts are every attempt, in order.
	Attempts []Attempt `json:"attempts"`
	// Best is the index in Attempts of the best-rated attempt (the latest
	// among equals): the turn's answer.
	Best int `json:"best"`
	// ReachedThreshold reports whether the best attempt reached
	// Options.MinRating. When false, the answer is the best attempt made
	// within the refinement limit.
	ReachedThreshold bool `json:"reached_threshold"`
}

// BestAttempt returns Attempts[Best].
func (r *Result) BestAttempt() Attempt { return r.Attempts[r.Best] }

// ErrThresholdNotReached is wrapped by Generate's error, with
// Options.RequireThreshold, when no attempt reached MinRating.
var ErrThresholdNotReached = errors.New("no attempt reached the minimum rating")

// Defaults of [Options].
const (
	DefaultMinRating      = Good
	DefaultMaxRefinements = 3
)

// Options configures an [EvaluatorOptimizer]. A nil *Options uses every
// default.
type Options struct {
	// Name names the pattern in events, errors and usage reports; "" is
	// "evaluator-optimizer".
	Name string
	// MinRating is the rating that ends the loop; 0 is DefaultMinRating
	// (Good).
	MinRating Rating
	// MaxRefinements bounds the attempts after the first; 0 is
	// DefaultMaxRefinements, so at most 4 attempts.
	MaxRefinements int
	// Criteria, when set, tells the evaluator what to judge ("Accurate,
	// under 100 words, friendly tone.").
	Criteria string
	// EvaluatorParams are the RequestParams of the evaluator's calls
	// (history is always off). The caller's RequestParams go to the
	// optimizer.
	EvaluatorParams *llm.RequestParams
	// RequireThreshold makes Generate (and Stream) fail with an error
	// wrapping ErrThresholdNotReached when no attempt reached MinRating;
	// Generate still returns the best attempt's messages with the error. By
	// default it returns the best attempt without an error; Run reports
	// ReachedThreshold either way.
	RequireThreshold bool
	// OnAttempt, when set, is called after each evaluation, from the
	// goroutine running the turn.
	OnAttempt func(Attempt)
	// Memory keeps the conversation between turns; nil uses a new
	// llm.SimpleMemory.
	Memory llm.Memory
}

// EvaluatorOptimizer refines a response until an evaluator rates it well
// enough. It is an [llm.AugmentedLLM] and safe for concurrent use.
type EvaluatorOptimizer struct {
	pattern              patternkit.Pattern
	optimizer, evaluator llm.AugmentedLLM
	opts                 Options
}

var _ llm.AugmentedLLM = (*EvaluatorOptimizer)(nil)

// New returns an evaluator-optimizer: optimizer writes a response,
// evaluator rates it with feedback, and optimizer revises it with the
// feedback until the rating reaches MinRating or MaxRefinements revisions
// have been made.
func New(optimizer, evaluator llm.AugmentedLLM, opts *Options) (*EvaluatorOptimizer, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Name == "" {
		o.Name = "evaluator-optimizer"
	}
	if o.MinRating == 0 {
		o.MinRating = DefaultMinRating
	}
	if o.MaxRefinements == 0 {
		o.MaxRefinements = DefaultMaxRefinements
	}
	if o.Memory == nil {
		o.Memory = llm.NewMemory()
	}
	e := &EvaluatorOptimizer{pattern: patternkit.Pattern{Kind: "evaluator-optimizer", Name: o.Name, Memory: o.Memory}, optimizer: optimizer, evaluator: evaluator, opts: o}
	switch {
	case optimizer == nil:
		return nil, fmt.Errorf("%s: no optimizer LLM", e.pattern.Label())
	case evaluator == nil:
		return nil, fmt.Errorf("%s: no evaluator LLM", e.pattern.Label())
	case o.MinRating < Poor || o.MinRating > Excellent:
		return nil, fmt.Errorf("%s: MinRating %d is not a rating: use Poor, Fair, Good or Excellent", e.pattern.Label(), int(o.MinRating))
	case o.MaxRefinements < 0:
		return nil, fmt.Errorf("%s: MaxRefinements is %d: it must not be negative", e.pattern.Label(), o.MaxRefinements)
	}
	return e, nil
}

// Name returns the pattern's name.
func (e *EvaluatorOptimizer) Name() string { return e.pattern.Name }

// Memory returns the pattern's conversation memory.
func (e *EvaluatorOptimizer) Memory() llm.Memory { return e.pattern.Memory }

// Run runs a turn like Generate and returns its history. On error, the
// Result (when not nil) holds the attempts made before the failure.
func (e *EvaluatorOptimizer) Run(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) (*Result, error) {
	var res *Result
	_, err := e.pattern.Turn(ctx, msgs, params, nil, func(ctx context.Context, conv []llm.Message, params *llm.RequestParams, emit patternkit.Emit) ([]llm.Message, error) {
		var out []llm.Message
		var err error
		res, out, err = e.loop(ctx, conv, params, emit)
		return out, err
	})
	return res, err
}

// Generate runs the loop on the conversation and returns the best
// attempt's messages. See Options.RequireThreshold for a loop that never
// reaches MinRating.
func (e *EvaluatorOptimizer) Generate(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) ([]llm.Message, error) {
	return e.pattern.Turn(ctx, msgs, params, nil, e.run)
}

// Stream runs a turn like Generate. It forwards the optimizer's events,
// emits after each attempt a message event from the evaluator (Source is
// its name) with the rating and feedback, and ends with the best attempt
// as the final answer.
func (e *EvaluatorOptimizer) Stream(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) iter.Seq2[*llm.Event, error] {
	return e.pattern.Stream(ctx, msgs, params, e.run)
}

func (e *EvaluatorOptimizer) run(ctx context.Context, conv []llm.Message, params *llm.RequestParams, emit patternkit.Emit) ([]llm.Message, error) {
	_, out, err := e.loop(ctx, conv, params, emit)
	return out, err
}

func (e *EvaluatorOptimizer) loop(ctx context.Context, conv []llm.Message, params *llm.RequestParams, emit patternkit.Emit) (*Result, []llm.Message, error) {
	res := &Result{}
	input := conv
	for n := 1; n <= e.opts.MaxRefinements+1; n++ {
		out, err := patternkit.Call(ctx, e.optimizer, input, params, emit)
		if err != nil {
			if errors.Is(err, patternkit.ErrStopped) {
				return res, nil, err
			}
			return res, nil, fmt.Errorf("%s: optimizer %q, attempt %d: %w", e.pattern.Label(), e.optimizer.Name(), n, err)
		}
		answer := llm.FinalText(out)
		ev, err := e.evaluate(ctx, conv, answer)
		if err != nil {
			return res, nil, fmt.Errorf("%s: evaluator %q, attempt %d: %w", e.pattern.Label(), e.evaluator.Name(), n, err)
		}
		a := Attempt{Number: n, Output: out, Evaluation: ev}
		res.Attempts = append(res.Attempts, a)
		if ev.Rating >= res.Attempts[res.Best].Evaluation.Rating {
			res.Best = len(res.Attempts) - 1
		}
		if e.opts.OnAttempt != nil {
			e.opts.OnAttempt(a)
		}
		if emit != nil {
			note := llm.AssistantText(fmt.Sprintf("Attempt %d rated %s. %s", n, ev.Rating, ev.Feedback))
			if !emit(&llm.Event{Kind: llm.EventMessage, Source: e.evaluator.Name(), Message: &note}) {
				return res, nil, patternkit.ErrStopped
			}
		}
		if ev.Rating >= e.opts.MinRating {
			res.ReachedThreshold = true
			break
		}
		input = append(append([]llm.Message(nil), conv...), llm.AssistantText(answer), llm.UserText(RefinementPrompt(ev, e.opts.MinRating)))
	}
	best := res.BestAttempt()
	if !res.ReachedThreshold && e.opts.RequireThreshold {
		return res, best.Output, fmt.Errorf("%s: %w: the best was attempt %d of %d, rated %s (%s needed): raise MaxRefinements, lower MinRating or improve the optimizer's instruction",
			e.pattern.Label(), ErrThresholdNotReached, best.Number, len(res.Attempts), best.Evaluation.Rating, e.opts.MinRating)
	}
	return res, best.Output, nil
}

func (e *EvaluatorOptimizer) evaluate(ctx context.Context, conv []llm.Message, answer string) (Evaluation, error) {
	prompt := EvaluationPrompt(conv, answer, e.opts.Criteria)
	ans, err := llm.GenerateStructured[EvaluationAnswer](ctx, e.evaluator, llm.Prompt(prompt), patternkit.Stateless(e.opts.EvaluatorParams))
	if err != nil {
		return Evaluation{}, err
	}
	r, err := ParseRating(ans.Rating)
	if err != nil {
		return Evaluation{}, fmt.Errorf("%w: %v", llm.ErrInvalidStructuredOutput, err)
	}
	return Evaluation{Rating: r, Feedback: ans.Feedback, NeedsImprovement: ans.NeedsImprovement, FocusAreas: ans.FocusAreas}, nil
}

// EvaluationPrompt returns the prompt the evaluator gets (as one user
// message) to rate answer as a response to conv.
func EvaluationPrompt(conv []llm.Message, answer, criteria string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Evaluate the response below to the request.\n\nRequest:\n%s\n\nResponse:\n%s\n\n", patternkit.Transcript(conv), answer)
	if criteria != "" {
		fmt.Fprintf(&b, "Criteria:\n%s\n\n", criteria)
	}
	b.WriteString("Rate the response EXCELLENT, GOOD, FAIR or POOR. In feedback, say specifically what to improve; set needs_improvement; list the most important focus areas.")
	return b.String()
}

// RefinementPrompt returns the message the optimizer gets after its
// previous response (given as the assistant message before it) was rated
// below min.
func RefinementPrompt(ev Evaluation, min Rating) string {
	var b strings.Builder
	fmt.Fprintf(&b, "An evaluator rated your response %s (%s or better is needed).\n\nFeedback:\n%s\n", ev.Rating, min, ev.Feedback)
	if len(ev.FocusAreas) > 0 {
		b.WriteString("\nFocus on:\n")
		for _, f := range ev.FocusAreas {
			fmt.Fprintf(&b, "- %s\n", f)
		}
	}
	b.WriteString("\nWrite an improved response to the original request. Reply with the response only.")
	return b.String()
}
