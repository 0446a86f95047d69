package declarative

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patternkit"
	"github.com/mcp-agent-go/mcp-agent/workflow/router"
)

// topKRouter is a declared router with top_k above 1: each turn it routes
// the request to the k best categories, runs every chosen category's
// target on it concurrently (at most limit at once; 0: all), and answers
// with one Markdown section per route, best first:
//
//	## billing (confidence 0.80)
//
//	Refunded.
//
//	## weather (confidence 0.35)
//
//	Sunny tomorrow.
//
// The first route to fail cancels the others and fails the turn.
type topKRouter struct {
	r     *router.Router
	k     int
	limit int
	mem   llm.Memory
}

var _ llm.AugmentedLLM = (*topKRouter)(nil)

func newTopKRouter(r *router.Router, k, limit int) *topKRouter {
	return &topKRouter{r: r, k: k, limit: limit, mem: llm.NewMemory()}
}

// Name returns the router's name (the workflow's).
func (t *topKRouter) Name() string { return t.r.Name() }

// Memory returns the conversation memory of the declared router.
func (t *topKRouter) Memory() llm.Memory { return t.mem }

func (t *topKRouter) label() string { return fmt.Sprintf("router %q", t.r.Name()) }

// Generate routes the conversation (memory included) to the k best
// categories and answers with their results, best first.
func (t *topKRouter) Generate(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) ([]llm.Message, error) {
	return t.turn(ctx, msgs, params, nil)
}

// Stream runs a turn like Generate. It emits a message event from the
// router naming the chosen categories, then one message event per route
// (Source is the category's name, best first, once every route has
// finished), then the final answer.
func (t *topKRouter) Stream(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) iter.Seq2[*llm.Event, error] {
	return patternkit.Stream(ctx, t.r.Name(), func(ctx context.Context, emit patternkit.Emit) ([]llm.Message, error) {
		return t.turn(ctx, msgs, params, emit)
	})
}

// turn is patternkit.Pattern.Turn without its usage node: Route and Run
// record under the router's node themselves.
func (t *topKRouter) turn(ctx context.Context, msgs []llm.Message, params *llm.RequestParams, emit patternkit.Emit) ([]llm.Message, error) {
	conv, err := patternkit.LoadConversation(ctx, t.label(), t.mem, msgs, params)
	if err != nil {
		return nil, err
	}
	out, err := t.run(ctx, conv, params, emit)
	if err != nil {
		return nil, err
	}
	if patternkit.UseHistory(params) {
		if err := t.mem.Append(ctx, append(slices.Clip(msgs), out[len(out)-1])...); err != nil {
			return nil, fmt.Errorf("%s: saving memory: %w", t.label(), err)
		}
	}
	return out, nil
}

// route is one chosen category and what its target answered.
type route struct {
	choice router.Choice
	answer llm.Message
}

func (t *topKRouter) run(ctx context.Context, conv []llm.Message, params *llm.RequestParams, emit patternkit.Emit) ([]llm.Message, error) {
	choices, err := t.r.Route(ctx, conv, t.k)
	if err != nil {
		return nil, err
	}
	for _, c := range choices {
		if c.Category.Target == nil {
			return nil, fmt.Errorf("%s: %w: the request was routed to %s %q, which has nothing to run it: set declarative.Options.ServerLLM (an LLM using the server)", t.label(), router.ErrNoTarget, c.Category.Kind, c.Category.Name)
		}
	}
	if emit != nil {
		names := make([]string, len(choices))
		for i, c := range choices {
			names[i] = fmt.Sprintf("%s %q (confidence %.2f)", c.Category.Kind, c.Category.Name, c.Confidence)
		}
		note := llm.AssistantText("Routing to " + strings.Join(names, ", ") + ".")
		if !emit(&llm.Event{Kind: llm.EventMessage, Source: t.r.Name(), Message: &note}) {
			return nil, patternkit.ErrStopped
		}
	}

	// The routes answer the request statelessly (the router owns the
	// memory); a response schema is for the combined answer, not theirs.
	mp := patternkit.Stateless(params)
	mp.ResponseSchema = nil
	routes := make([]route, len(choices))
	g, gctx := errgroup.WithContext(ctx)
	if t.limit > 0 {
		g.SetLimit(t.limit)
	}
	for i, c := range choices {
		routes[i].choice = c
		g.Go(func() error {
			if err := gctx.Err(); err != nil {
				return err // cancelled before it started
			}
			out, err := t.r.Run(gctx, c, conv, mp)
			if err != nil {
				return fmt.Errorf("%s: category %q: %w", t.label(), c.Category.Name, err)
			}
			if len(out) == 0 {
				return fmt.Errorf("%s: category %q produced no answer", t.label(), c.Category.Name)
			}
			routes[i].answer = out[len(out)-1]
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if emit != nil {
		for i := range routes {
			if !emit(&llm.Event{Kind: llm.EventMessage, Source: routes[i].choice.Category.Name, Message: &routes[i].answer}) {
				return nil, patternkit.ErrStopped
			}
		}
	}
	return []llm.Message{llm.AssistantText(joinRoutes(routes))}, nil
}

// joinRoutes is the answer of a top-k router: a section per route.
func joinRoutes(routes []route) string {
	var b strings.Builder
	for i, r := range routes {
		if i > 0 {
			b.WriteString("\n\n")
		}
		fmt.Fprintf(&b, "## %s (confidence %.2f)\n\n%s", r.choice.Category.Name, r.choice.Confidence, strings.TrimSpace(r.answer.Text()))
	}
	return b.String()
}
