// Command composition nests workflow patterns in both directions the
// framework promises:
//
//   - an orchestrator whose planner is an evaluator-optimizer: a planner LLM
//     drafts the plan, a critic rates it, and the orchestrator only runs a
//     plan the critic rated GOOD or better;
//   - a router whose route is a parallel: a review request fans out to a
//     proofreader and a fact checker, and an editor merges their notes.
//
// Both patterns are routes of one router, "desk":
//
//	desk (router)
//	├── briefing (orchestrator)
//	│   ├── planner: plan_review (evaluator-optimizer: planner + plan_critic)
//	│   ├── workers: researcher, risk_analyst
//	│   └── synthesizer: editor
//	└── review (parallel: proofreader, fact_checker -> review_editor)
//
// Usage:
//
//	go run ./examples/composition                      # scripted models (replay/*.yaml), no key
//	go run ./examples/composition -provider openai     # OPENAI_API_KEY (and OPENAI_BASE_URL)
//	go run ./examples/composition -provider anthropic  # ANTHROPIC_API_KEY
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/providers"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/evaluator"
	"github.com/mcp-agent-go/mcp-agent/workflow/orchestrator"
	"github.com/mcp-agent-go/mcp-agent/workflow/parallel"
	"github.com/mcp-agent-go/mcp-agent/workflow/router"
)

//go:embed replay/*.yaml
var scripts embed.FS

// The requests the desk gets, in order.
var requests = []string{
	"Prepare a short briefing on adopting MCP for our internal tools: benefits and risks.",
	"Review this sentence for spelling and facts: 'MCP was anounced by OpenAI in November 2024.'",
}

func main() {
	providerName := flag.String("provider", "replay", "model provider: replay (scripted, no key), openai (OPENAI_API_KEY) or anthropic (ANTHROPIC_API_KEY)")
	model := flag.String("model", "", "model name; empty uses the provider's default")
	flag.Parse()
	start := time.Now()
	if err := run(context.Background(), os.Stdout, *providerName, *model); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("(%s)\n", time.Since(start).Round(time.Millisecond))
}

func run(ctx context.Context, w io.Writer, providerName, model string) error {
	var buildErr error
	newLLM := func(name, instruction string) *llm.LLM {
		a, err := agent.New(agent.Config{Name: name, Instruction: instruction}, nil)
		if err != nil {
			buildErr = errors.Join(buildErr, err)
			return nil
		}
		p, err := provider(providerName, model, name)
		if err != nil {
			buildErr = errors.Join(buildErr, err)
			return nil
		}
		return llm.New(a, p, nil)
	}
	planner := newLLM("planner", "You plan research and writing work for a team. Make every task self-contained.")
	critic := newLLM("plan_critic", "You review work plans before they run. Be strict about order and about splitting independent work.")
	researcher := newLLM("researcher", "You research the benefits of technologies for engineering teams. Be concrete and brief.")
	riskAnalyst := newLLM("risk_analyst", "You research the risks of adopting technologies: security, operations, lock-in. Be concrete and brief.")
	editor := newLLM("editor", "You write crisp one-paragraph briefings for engineering managers.")
	proofreader := newLLM("proofreader", "You find spelling and grammar mistakes. List each with its correction.")
	factChecker := newLLM("fact_checker", "You check factual claims about software and its history. List each wrong claim with the correct fact.")
	reviewEditor := newLLM("review_editor", "You merge review notes into one corrected text followed by a short list of the changes.")
	routing := newLLM("routing", "You route requests to the team that handles them.")
	if buildErr != nil {
		return buildErr
	}

	// An orchestrator whose planner is an evaluator-optimizer.
	planReview, err := evaluator.New(planner, critic, &evaluator.Options{
		Name:           "plan_review",
		MinRating:      evaluator.Good,
		MaxRefinements: 2,
		Criteria:       "Independent research tasks run in parallel in one step; each task names exactly one worker; nothing is written before it is researched.",
		OnAttempt: func(a evaluator.Attempt) {
			fmt.Fprintf(w, "  [plan_review] plan %d rated %s: %s\n", a.Number, a.Evaluation.Rating, a.Evaluation.Feedback)
		},
	})
	if err != nil {
		return err
	}
	briefing, err := orchestrator.New(planReview, []orchestrator.Worker{
		{LLM: researcher, Description: "Researches benefits."},
		{LLM: riskAnalyst, Description: "Researches risks."},
	}, &orchestrator.Options{
		Name:        "briefing",
		Synthesizer: editor,
		OnResult: func(r *orchestrator.Result) {
			for i, s := range r.Steps {
				var workers []string
				for _, t := range s.Tasks {
					workers = append(workers, t.Task.Worker)
				}
				fmt.Fprintf(w, "  [briefing] step %d (%s): %s\n", i+1, s.Step.Description, strings.Join(workers, ", "))
			}
		},
	})
	if err != nil {
		return err
	}

	// A parallel, used below as a router's route.
	review, err := parallel.New(parallel.Aggregator(reviewEditor), []llm.AugmentedLLM{proofreader, factChecker}, &parallel.Options{Name: "review"})
	if err != nil {
		return err
	}

	desk, err := router.NewLLM(routing, []router.Category{
		router.AgentCategory(briefing, "Researches a topic and writes a briefing (benefits and risks)."),
		router.AgentCategory(review, "Reviews a given text for spelling and factual mistakes."),
	}, &router.Options{Name: "desk"})
	if err != nil {
		return err
	}

	usage := llm.NewUsageTracker("run", llm.UsageRun)
	ctx = llm.ContextWithUsage(ctx, usage)
	for _, req := range requests {
		fmt.Fprintf(w, "request: %s\n", req)
		var answer string
		for ev, err := range desk.Stream(ctx, llm.Prompt(req), &llm.RequestParams{UseHistory: llm.Bool(false)}) {
			if err != nil {
				return err
			}
			switch {
			case ev.Kind == llm.EventFinal:
				answer = ev.Message.Text()
			case ev.Kind == llm.EventMessage && ev.Source == "desk":
				fmt.Fprintf(w, "  [desk] %s\n", ev.Message.Text())
			case ev.Kind == llm.EventMessage && (ev.Source == "proofreader" || ev.Source == "fact_checker"):
				fmt.Fprintf(w, "  [review] %s: %s\n", ev.Source, strings.Join(strings.Fields(ev.Message.Text()), " "))
			}
		}
		fmt.Fprintf(w, "answer:\n%s\n\n", answer)
	}
	fmt.Fprintln(w, "usage:")
	printTree(w, usage.Report(nil), 1)
	return nil
}

// printTree prints a usage tree: name, kind and model calls per node,
// children by name (members that run concurrently appear in any order).
func printTree(w io.Writer, n llm.UsageNode, depth int) {
	fmt.Fprintf(w, "%s%s (%s): %d calls\n", strings.Repeat("  ", depth), n.Name, n.Kind, n.Calls)
	slices.SortFunc(n.Children, func(a, b llm.UsageNode) int { return strings.Compare(a.Name, b.Name) })
	for _, c := range n.Children {
		printTree(w, c, depth+1)
	}
}

// provider returns the model provider for one agent: with replay, the
// agent's own script (replay/<agent>.yaml).
func provider(name, model, agentName string) (llm.Provider, error) {
	switch name {
	case "replay":
		s, err := replay.LoadFS(scripts, "replay/"+agentName+".yaml")
		if err != nil {
			return nil, err
		}
		return replay.New(s, nil), nil
	case "openai", "anthropic":
		return providers.FromEnv(name, model)
	}
	return nil, fmt.Errorf("unknown -provider %q: use replay, openai or anthropic", name)
}
