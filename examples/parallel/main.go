// Command parallel grades a short story with the parallel pattern: a
// proofreader, a fact checker and a style enforcer review it concurrently,
// and a grader combines their reviews.
//
//	go run ./examples/parallel                      # scripted models (replay/*.yaml), no key
//	go run ./examples/parallel -provider openai     # OPENAI_API_KEY (and OPENAI_BASE_URL)
//	go run ./examples/parallel -provider anthropic  # ANTHROPIC_API_KEY
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
	"github.com/mcp-agent-go/mcp-agent/workflow/parallel"
)

const story = `The Battle of Glimmerwood
In the heart of Glimmerwood, a mystical forest knowed for its radiant trees, a small village thrived.
The villagers, who were live peacefully, shared their home with the forest's magical creatures,
especially the Glimmerfoxes whose fur shimmer like moonlight. One fateful evening in 1492, the
forest's peace was shaterred when the Shadow Bandits attacked.`

//go:embed replay/*.yaml
var scripts embed.FS

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
	var members []llm.AugmentedLLM
	for _, m := range []struct{ name, instruction string }{
		{"proofreader", "Review the short story for grammar, spelling and punctuation errors. List each error with a correction."},
		{"fact_checker", "Check the short story for factual and internal consistency. List any contradictions or anachronisms."},
		{"style_enforcer", "Judge the story's style against the APA style guide: tone, clarity and structure. Suggest improvements."},
	} {
		l, err := newLLM(m.name, m.instruction)
		if err != nil {
			return err
		}
		members = append(members, l)
	}
	grader, err := newLLM("grader", "Compile the reviews of a short story into one graded report: a letter grade, then the most important fixes.")
	if err != nil {
		return err
	}
	p, err := parallel.New(parallel.Aggregator(grader), members, &parallel.Options{Name: "story_review", MaxConcurrency: 3})
	if err != nil {
		return err
	}

	usage := llm.NewUsageTracker("run", llm.UsageRun)
	ctx = llm.ContextWithUsage(ctx, usage)
	report, err := llm.GenerateString(ctx, p, llm.Prompt("Grade this short story:\n\n"+story), nil)
	if err != nil {
		return err
	}
	fmt.Fprintln(w, report)
	fmt.Fprintln(w)
	printUsage(w, usage.Report(nil), "")
	return nil
}

// provider returns the model provider for one agent: with replay, the
// agent's own script (replay/<agent>.yaml), since members run concurrently.
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

func printUsage(w io.Writer, n llm.UsageNode, indent string) {
	fmt.Fprintf(w, "%s%s (%s): %d calls, %d in / %d out tokens\n", indent, n.Name, n.Kind, n.Calls, n.Usage.InputTokens, n.Usage.OutputTokens)
	for _, c := range n.Children {
		printUsage(w, c, indent+strings.Repeat(" ", 2))
	}
}
