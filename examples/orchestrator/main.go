// Command orchestrator writes a short comparison of three of Jupiter's
// moons with the orchestrator-workers pattern: a planner splits the work
// into steps, a researcher looks up each moon with a Go function tool (the
// three lookups run in parallel), a writer drafts the comparison, and the
// planner writes the final answer from the results.
//
//	go run ./examples/orchestrator                      # scripted models (replay/*.yaml), no key
//	go run ./examples/orchestrator -iterative           # plan one step at a time
//	go run ./examples/orchestrator -provider openai     # OPENAI_API_KEY (and OPENAI_BASE_URL)
//	go run ./examples/orchestrator -provider anthropic  # ANTHROPIC_API_KEY
package main

import (
	"context"
	"embed"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"strings"
	"time"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/providers"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/orchestrator"
)

//go:embed replay/*.yaml
var scripts embed.FS

const objective = "Write a short comparison of Jupiter's moons Ganymede, Callisto and Io: the size of each and one notable feature."

// facts is the researcher's reference data.
var facts = map[string]string{
	"ganymede": "Ganymede: diameter 5,268 km, the largest moon in the Solar System; the only moon with its own magnetic field.",
	"callisto": "Callisto: diameter 4,821 km; the most heavily cratered surface in the Solar System.",
	"io":       "Io: diameter 3,643 km; the most volcanically active body in the Solar System, with over 400 active volcanoes.",
	"europa":   "Europa: diameter 3,122 km; an ice shell over a global salty ocean.",
}

func main() {
	providerName := flag.String("provider", "replay", "model provider: replay (scripted, no key), openai (OPENAI_API_KEY) or anthropic (ANTHROPIC_API_KEY)")
	model := flag.String("model", "", "model name; empty uses the provider's default")
	iterative := flag.Bool("iterative", false, "plan one step at a time instead of the whole plan at once")
	flag.Parse()
	start := time.Now()
	if err := run(context.Background(), os.Stdout, *providerName, *model, *iterative); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("(%s)\n", time.Since(start).Round(time.Millisecond))
}

func run(ctx context.Context, w io.Writer, providerName, model string, iterative bool) error {
	newLLM := func(cfg agent.Config) (*llm.LLM, error) {
		a, err := agent.New(cfg, nil)
		if err != nil {
			return nil, err
		}
		p, err := provider(providerName, model, cfg.Name)
		if err != nil {
			return nil, err
		}
		return llm.New(a, p, nil), nil
	}
	type lookupArgs struct {
		Moon string `json:"moon" jsonschema:"the moon's name, such as Io"`
	}
	lookup := agent.NewTool("moon_facts", "Look up the diameter and a notable feature of one of Jupiter's moons.",
		func(ctx context.Context, in lookupArgs) (string, error) {
			if f, ok := facts[strings.ToLower(strings.TrimSpace(in.Moon))]; ok {
				return f, nil
			}
			return "", fmt.Errorf("no facts about %q; known moons: Ganymede, Callisto, Io, Europa", in.Moon)
		})
	planner, err := newLLM(agent.Config{Name: "planner", Instruction: "You are a careful editor who plans research and writing work, then writes the final piece from the results."})
	if err != nil {
		return err
	}
	researcher, err := newLLM(agent.Config{Name: "researcher", Instruction: "You look up facts with your tools and report them in one sentence.", Tools: []agent.Tool{lookup}})
	if err != nil {
		return err
	}
	writer, err := newLLM(agent.Config{Name: "writer", Instruction: "You write clear, compact prose for a general audience."})
	if err != nil {
		return err
	}

	opts := &orchestrator.Options{Name: "moons", MaxSteps: 4}
	if iterative {
		opts.Mode = orchestrator.Iterative
	}
	o, err := orchestrator.New(planner, []orchestrator.Worker{
		{LLM: researcher, Description: "Looks up one moon's facts (diameter, notable feature) with the moon_facts tool. Give it one moon per task."},
		{LLM: writer, Description: "Writes prose from the facts it is given."},
	}, opts)
	if err != nil {
		return err
	}

	usage := llm.NewUsageTracker("run", llm.UsageRun)
	res, err := o.Run(llm.ContextWithUsage(ctx, usage), llm.Prompt(objective), nil)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Objective: %s\n", res.Objective)
	for i, step := range res.Steps {
		fmt.Fprintf(w, "\nStep %d: %s\n", i+1, step.Step.Description)
		for _, task := range step.Tasks {
			answer := task.Text()
			if task.Err != nil {
				answer = "FAILED: " + task.Err.Error()
			}
			fmt.Fprintf(w, "  - %s: %s\n    -> %s\n", task.Task.Worker, task.Task.Description, oneLine(answer))
		}
	}
	fmt.Fprintf(w, "\nAnswer (%d planning round(s)):\n\n%s\n\n%s\n", res.Iterations, res.Answer(), usage.Report(nil).Summary(0))
	return nil
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 160 {
		s = s[:157] + "..."
	}
	return s
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
