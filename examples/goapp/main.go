// Command goapp is a Go code app for the mcp-agent cloud: a program that
// serves its app as an MCP server on stdio, which the platform builds from
// the deployed package (`go build`, sandboxed) and runs. It has a Go
// function tool (word_count), used by the agent "clerk" and also served as
// a tool of its own, and a durable Go workflow (tally).
//
//	mcp-agent deploy app examples/goapp --replay-script goapp.replay.yaml
//
// or, here, without the platform:
//
//	cd examples/goapp && go run . -script goapp.replay.yaml
//
// The platform tells the program where things are through the environment:
// MCP_AGENT_RUNS_DB (the app's runs database, kept across versions) and
// MCP_AGENT_REPLAY_SCRIPT (the deploy's --replay-script); the working
// directory is the unpacked package, holding mcp_agent.config.yaml.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/app"
	"github.com/mcp-agent-go/mcp-agent/appserver"
	"github.com/mcp-agent-go/mcp-agent/executor/local"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/providers"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// CountArgs are the arguments of word_count.
type CountArgs struct {
	Text string `json:"text" jsonschema:"the text to count"`
}

// Count is the result of word_count.
type Count struct {
	Words int `json:"words"`
	Lines int `json:"lines"`
}

// countWords is the Go function behind the word_count tool.
func countWords(_ context.Context, in CountArgs) (Count, error) {
	if strings.TrimSpace(in.Text) == "" {
		return Count{}, errors.New(`"text" is empty: give the text to count`)
	}
	return Count{Words: len(strings.Fields(in.Text)), Lines: strings.Count(in.Text, "\n") + 1}, nil
}

// Texts is the input of the tally workflow.
type Texts struct {
	Texts []string `json:"texts" jsonschema:"the texts to count"`
}

// Tally is the result of the tally workflow.
type Tally struct {
	Texts int `json:"texts"`
	Words int `json:"words"`
}

// tally counts the words of every text, one durable step per text.
var tally = workflow.Define("tally", func(wctx workflow.Context, in Texts) (Tally, error) {
	out := Tally{Texts: len(in.Texts)}
	for i, text := range in.Texts {
		c, err := workflow.Step(wctx, fmt.Sprintf("count-%d", i+1), func(ctx context.Context, _ workflow.StepContext) (Count, error) {
			return countWords(ctx, CountArgs{Text: text})
		}, nil)
		if err != nil {
			return out, err
		}
		out.Words += c.Words
	}
	return out, nil
}, &workflow.DefineOptions{Description: "Count the words of several texts."})

func main() {
	script := flag.String("script", os.Getenv("MCP_AGENT_REPLAY_SCRIPT"), "replay script to play instead of a real model")
	runsDB := flag.String("runs-db", os.Getenv("MCP_AGENT_RUNS_DB"), "SQLite file journaling the runs (default .mcp-agent/runs.db)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *script, *runsDB); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, script, runsDB string) error {
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	up := appserver.NewUpstream()
	a, err := app.New(app.Options{ConfigPath: "mcp_agent.config.yaml", RequireConfig: true, Logger: logger,
		HumanInput: up.HumanInput(nil), ElicitationHandler: up.ElicitationHandler(nil), OnLog: up.ForwardLog})
	if err != nil {
		return err
	}
	defer a.Close()
	provider := ""
	if script != "" {
		provider = "replay"
	}
	p, err := providers.New(a.Settings(), providers.Options{Provider: provider, ReplayScript: script})
	if err != nil {
		return err
	}
	newLLM := func(ag *agent.Agent) (llm.AugmentedLLM, error) { return llm.New(ag, p, nil), nil }

	// The agent's tool is the Go function itself.
	clerk, err := agent.New(agent.Config{
		Name:        "clerk",
		Instruction: "You count words with the word_count tool and answer with the count.",
		Tools:       []agent.Tool{agent.NewTool("word_count", "Count the words and lines of a text.", countWords)},
	}, nil)
	if err != nil {
		return err
	}
	if runsDB == "" {
		runsDB = filepath.Join(".mcp-agent", "runs.db")
	}
	if err := os.MkdirAll(filepath.Dir(runsDB), 0o755); err != nil {
		return err
	}
	ex, err := local.Open(ctx, runsDB, workflow.NewRegistry(tally, appserver.AgentWorkflow(clerk, newLLM, nil)), &local.Options{Logger: logger})
	if err != nil {
		return err
	}
	defer ex.Close()
	srv, err := appserver.New(a, &appserver.Options{
		Agents:   []*agent.Agent{clerk},
		NewLLM:   newLLM,
		Executor: ex,
		Upstream: up,
		Tools:    []*appserver.Tool{appserver.NewTool("word_count", "Count the words and lines of a text.", countWords)},
	})
	if err != nil {
		return err
	}
	return srv.ServeStdio(ctx)
}
