// Command router routes customer requests with the router pattern. The
// categories are an agent (billing), a Go function (order_status) and a
// parallel workflow (architecture_review: two reviewers and a tech lead),
// so the example also shows a pattern nested as a route.
//
//	go run ./examples/router                           # scripted models (replay/*.yaml), no key
//	go run ./examples/router -provider openai          # OPENAI_API_KEY (and OPENAI_BASE_URL)
//	go run ./examples/router -provider anthropic       # ANTHROPIC_API_KEY
//	go run ./examples/router -provider openai -embeddings  # rank by embeddings instead of an LLM
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
	"regexp"
	"time"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/providers"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/embedding"
	"github.com/mcp-agent-go/mcp-agent/workflow/parallel"
	"github.com/mcp-agent-go/mcp-agent/workflow/router"
)

//go:embed replay/*.yaml
var scripts embed.FS

var requests = []string{
	"Where is my order 1234?",
	"Should we move our database from MySQL to Postgres?",
}

type settings struct {
	provider, model string
	// embeddings ranks with the OpenAI embeddings API (OPENAI_API_KEY,
	// OPENAI_BASE_URL) using embeddingModel.
	embeddings     bool
	embeddingModel string
}

func main() {
	var s settings
	flag.StringVar(&s.provider, "provider", "replay", "model provider: replay (scripted, no key), openai (OPENAI_API_KEY) or anthropic (ANTHROPIC_API_KEY)")
	flag.StringVar(&s.model, "model", "", "model name; empty uses the provider's default")
	flag.BoolVar(&s.embeddings, "embeddings", false, "rank categories by embeddings (OpenAI API: OPENAI_API_KEY, OPENAI_BASE_URL) instead of asking an LLM")
	flag.StringVar(&s.embeddingModel, "embedding-model", embedding.DefaultModel, "embedding model for -embeddings")
	flag.Parse()
	start := time.Now()
	if err := run(context.Background(), os.Stdout, s); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("(%s)\n", time.Since(start).Round(time.Millisecond))
}

func run(ctx context.Context, w io.Writer, s settings) error {
	newLLM := func(name, instruction string) (*llm.LLM, error) {
		a, err := agent.New(agent.Config{Name: name, Instruction: instruction}, nil)
		if err != nil {
			return nil, err
		}
		p, err := provider(s.provider, s.model, name)
		if err != nil {
			return nil, err
		}
		return llm.New(a, p, nil), nil
	}

	billing, err := newLLM("billing", "You answer questions about invoices, refunds and payments.")
	if err != nil {
		return err
	}
	optimist, err := newLLM("optimist", "You argue for the proposed technical change: list its benefits.")
	if err != nil {
		return err
	}
	skeptic, err := newLLM("skeptic", "You argue against the proposed technical change: list its risks and costs.")
	if err != nil {
		return err
	}
	lead, err := newLLM("tech_lead", "You weigh the arguments for and against a technical change and recommend a decision in three sentences.")
	if err != nil {
		return err
	}
	review, err := parallel.New(parallel.Aggregator(lead), []llm.AugmentedLLM{optimist, skeptic}, &parallel.Options{Name: "architecture_review"})
	if err != nil {
		return err
	}
	orderNumber := regexp.MustCompile(`\d+`)
	categories := []router.Category{
		router.AgentCategory(billing, "Invoices, refunds, payment methods and charges."),
		router.FunctionCategory("order_status", "Looks up where an order is and when it arrives, by order number.", func(ctx context.Context, conv []llm.Message) (string, error) {
			n := orderNumber.FindString(conv[len(conv)-1].Text())
			if n == "" {
				return "Which order? Please give its number.", nil
			}
			return fmt.Sprintf("Order %s left the warehouse on Monday and arrives on Thursday.", n), nil
		}),
		router.AgentCategory(review, "Technical decisions about software architecture, databases and infrastructure."),
	}

	var r *router.Router
	if s.embeddings {
		key, base := os.Getenv("OPENAI_API_KEY"), os.Getenv("OPENAI_BASE_URL")
		if key == "" && base == "" {
			return errors.New("-embeddings needs OPENAI_API_KEY (or OPENAI_BASE_URL for a keyless compatible server)")
		}
		emb := embedding.NewCache(embedding.New(&embedding.Options{APIKey: key, BaseURL: base, Model: s.embeddingModel}), nil)
		r, err = router.NewEmbedding(emb, categories, &router.Options{Name: "support"})
	} else {
		var routing *llm.LLM
		routing, err = newLLM("routing", "You route customer requests to the team that can handle them.")
		if err != nil {
			return err
		}
		r, err = router.NewLLM(routing, categories, &router.Options{Name: "support"})
	}
	if err != nil {
		return err
	}

	for _, req := range requests {
		fmt.Fprintf(w, "> %s\n", req)
		choices, err := r.Route(ctx, llm.Prompt(req), 2)
		if err != nil {
			return err
		}
		for _, c := range choices {
			fmt.Fprintf(w, "  %-20s %-9s %.2f  %s\n", c.Category.Name, c.Category.Kind, c.Confidence, c.Reasoning)
		}
		out, err := r.Run(ctx, choices[0], llm.Prompt(req), nil)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%s\n\n", llm.FinalText(out))
	}
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
