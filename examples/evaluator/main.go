// Command evaluator writes a cover letter with the evaluator-optimizer
// pattern: a writer drafts it, a critic rates it (EXCELLENT, GOOD, FAIR or
// POOR) with feedback, and the writer revises until the critic rates it
// EXCELLENT or three revisions have been made.
//
//	go run ./examples/evaluator                      # scripted models (replay/*.yaml), no key
//	go run ./examples/evaluator -provider openai     # OPENAI_API_KEY (and OPENAI_BASE_URL)
//	go run ./examples/evaluator -provider anthropic  # ANTHROPIC_API_KEY
package main

import (
	"context"
	"embed"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"time"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/providers"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/evaluator"
)

//go:embed replay/*.yaml
var scripts embed.FS

const task = `Write a short cover letter (under 120 words) for Ada Lovelace, applying for the
"Senior Go Engineer" position at Analytical Engines Inc. She has 8 years of Go, built a
distributed job scheduler, and maintains an open-source MCP library.`

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
	newLLM := func(name, instruction string) (*llm.LLM, error) {
		a, err := agent.New(agent.Config{Name: name, Instruction: instruction}, nil)
		if err != nil {
			return nil, err
		}
		p, err := provider(providerName, model, name)
		if err != nil {
			return nil, err
		}
		return llm.New(a, p, nil), nil
	}
	writer, err := newLLM("writer", "You write concise, specific cover letters. When given feedback, revise the letter to address all of it.")
	if err != nil {
		return err
	}
	critic, err := newLLM("critic", "You are a hiring manager. Judge cover letters strictly: specific achievements, fit for the role, a clear call to action.")
	if err != nil {
		return err
	}
	eo, err := evaluator.New(writer, critic, &evaluator.Options{
		Name:           "cover_letter",
		MinRating:      evaluator.Excellent,
		MaxRefinements: 3,
		Criteria:       "Under 120 words; names concrete achievements; ends with a call to action.",
		OnAttempt: func(a evaluator.Attempt) {
			fmt.Fprintf(w, "attempt %d: %s - %s\n", a.Number, a.Evaluation.Rating, a.Evaluation.Feedback)
		},
	})
	if err != nil {
		return err
	}
	res, err := eo.Run(ctx, llm.Prompt(task), nil)
	if err != nil {
		return err
	}
	best := res.BestAttempt()
	if res.ReachedThreshold {
		fmt.Fprintf(w, "\nAccepted attempt %d:\n\n", best.Number)
	} else {
		fmt.Fprintf(w, "\nNo attempt was rated %s; the best was attempt %d (%s):\n\n", evaluator.Excellent, best.Number, best.Evaluation.Rating)
	}
	fmt.Fprintln(w, best.Text())
	return nil
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
