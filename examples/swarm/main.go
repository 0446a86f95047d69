// Command swarm runs a customer-support swarm: a triage agent hands the
// customer to billing or sales; billing looks invoices up and refunds them
// with Go function tools, reading and writing shared context variables; a
// refund ends the turn with its confirmation; agents hand the customer back
// to triage for anything else. Three customer messages play as one
// conversation.
//
//	go run ./examples/swarm                      # scripted model (replay/swarm.yaml), no key
//	go run ./examples/swarm -provider openai     # OPENAI_API_KEY (and OPENAI_BASE_URL)
//	go run ./examples/swarm -provider anthropic  # ANTHROPIC_API_KEY
package main

import (
	"context"
	"embed"
	"flag"
	"fmt"
	"io"
	"log"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/providers"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/swarm"
)

//go:embed replay/*.yaml
var scripts embed.FS

// The customer's messages, in order.
var conversation = []string{
	"Hi, I was charged twice for invoice INV-1042.",
	"Yes, please refund the duplicate charge.",
	"Thanks! Also, do you have a plan for teams?",
}

// invoice is the billing system's record.
type invoice struct {
	ID      string  `json:"id"`
	Amount  float64 `json:"amount_eur"`
	Charges int     `json:"charges"`
}

var invoices = map[string]invoice{"INV-1042": {ID: "INV-1042", Amount: 89, Charges: 2}}

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
	type invoiceArgs struct {
		Invoice string `json:"invoice" jsonschema:"the invoice ID, such as INV-1042"`
	}
	// A plain function tool: it uses the context variables directly.
	lookup := agent.NewTool("lookup_invoice", "Look up an invoice: its amount and how many times it was charged.",
		func(ctx context.Context, in invoiceArgs) (invoice, error) {
			inv, ok := invoices[in.Invoice]
			if !ok {
				return invoice{}, fmt.Errorf("no invoice %q", in.Invoice)
			}
			swarm.VariablesFrom(ctx).Set("invoice", inv.ID)
			return inv, nil
		})
	// A swarm function: its result sets a variable and ends the turn.
	refund := swarm.Func("refund_duplicate", "Refund the duplicate charge of an invoice. Only after the customer agreed.",
		func(ctx context.Context, in invoiceArgs) (swarm.FuncResult, error) {
			inv, ok := invoices[in.Invoice]
			if !ok || inv.Charges < 2 {
				return swarm.FuncResult{}, fmt.Errorf("invoice %q has no duplicate charge", in.Invoice)
			}
			customer, _ := swarm.VariablesFrom(ctx).Get("customer")
			return swarm.FuncResult{
				Value:     fmt.Sprintf("Done, %v: %.2f EUR for %s is on its way back to your card (3-5 business days).", customer, inv.Amount, inv.ID),
				Variables: map[string]any{"refunded": inv.Amount},
				Done:      true,
			}, nil
		})

	newAgent := func(name, instruction string, tools ...agent.Tool) (*agent.Agent, error) {
		return agent.New(agent.Config{Name: name, Instruction: instruction, Tools: tools}, nil)
	}
	triage, err := newAgent("triage", "You greet customers and hand them to the right agent. Never answer billing or sales questions yourself.",
		swarm.TransferTo("billing", "For invoices, charges and refunds."),
		swarm.TransferTo("sales", "For plans, pricing and upgrades."))
	if err != nil {
		return err
	}
	billing, err := newAgent("billing", "You handle invoices and refunds. Look invoices up before answering; refund only after the customer agrees.",
		lookup, refund, swarm.TransferTo("triage", "For anything that is not billing."))
	if err != nil {
		return err
	}
	sales, err := newAgent("sales", "You explain our plans: Solo (9 EUR/month) and Team (29 EUR/month per 5 seats, shared workspaces, admin console).",
		swarm.TransferTo("triage", "For anything that is not sales."))
	if err != nil {
		return err
	}

	p, err := provider(providerName, model)
	if err != nil {
		return err
	}
	s, err := swarm.New(p, []llm.ToolSource{triage, billing, sales}, &swarm.Options{
		Name:        "support",
		MaxHandoffs: 4,
		Variables:   map[string]any{"customer": "Ada Lovelace"},
		Instructions: func(a llm.ToolSource, vars map[string]any) string {
			return fmt.Sprintf("%s\nThe customer is %v.", a.Instruction(), vars["customer"])
		},
	})
	if err != nil {
		return err
	}

	usage := llm.NewUsageTracker("run", llm.UsageRun)
	ctx = llm.ContextWithUsage(ctx, usage)
	for _, msg := range conversation {
		fmt.Fprintf(w, "customer: %s\n", msg)
		res, err := s.Run(ctx, llm.Prompt(msg), nil)
		if err != nil {
			return err
		}
		for _, h := range res.Handoffs {
			fmt.Fprintf(w, "  (%s -> %s)\n", h.From, h.To)
		}
		for _, m := range res.Messages {
			for _, c := range m.ToolCalls() {
				if !strings.HasPrefix(c.Name, "transfer_to_") {
					fmt.Fprintf(w, "  [%s %s]\n", c.Name, c.Arguments)
				}
			}
		}
		fmt.Fprintf(w, "%s: %s\n\n", res.Agent, res.Answer())
	}
	vars := s.Variables().Snapshot()
	fmt.Fprintln(w, "context variables:")
	for _, k := range slices.Sorted(maps.Keys(vars)) {
		fmt.Fprintf(w, "  %s = %v\n", k, vars[k])
	}
	fmt.Fprintln(w, usage.Report(nil).Summary(0))
	return nil
}

// provider returns the model provider every agent of the swarm uses.
func provider(name, model string) (llm.Provider, error) {
	switch name {
	case "replay":
		s, err := replay.LoadFS(scripts, "replay/swarm.yaml")
		if err != nil {
			return nil, err
		}
		return replay.New(s, nil), nil
	case "openai", "anthropic":
		return providers.FromEnv(name, model)
	}
	return nil, fmt.Errorf("unknown -provider %q: use replay, openai or anthropic", name)
}
