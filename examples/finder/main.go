// Command finder is the finder agent as a Go program: an App loads
// mcp_agent.config.yaml (the filesystem and fetch servers built into
// mcp-agent, run in-process), the declared agent "finder" gets a model, and
// one question is answered with real tool calls.
//
//	go run ./examples/finder -script examples/finder/finder.replay.yaml   # no API key
//	go run ./examples/finder -provider openai "Summarise README.md"      # OPENAI_API_KEY set
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mcp-agent-go/mcp-agent/app"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/providers"
)

func main() {
	dir := flag.String("dir", "examples/finder", "the example's folder (holding mcp_agent.config.yaml)")
	provider := flag.String("provider", "", "openai, anthropic or replay (default: replay with -script, else the configured one)")
	script := flag.String("script", "", "replay script to play instead of a real model")
	flag.Parse()
	question := strings.Join(flag.Args(), " ")
	if question == "" {
		question = "What is in README.md?"
	}
	if err := run(*dir, *provider, *script, question); err != nil {
		log.Fatal(err)
	}
}

func run(dir, provider, script, question string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()

	return app.Run(ctx, app.Options{ConfigPath: filepath.Join(dir, "mcp_agent.config.yaml")}, func(ctx context.Context, a *app.App) error {
		finder, err := a.Agent("finder")
		if err != nil {
			return err
		}
		if script != "" && provider == "" {
			provider = "replay"
		}
		p, err := providers.New(a.Settings(), providers.Options{Provider: provider, ReplayScript: script})
		if err != nil {
			return err
		}
		l := llm.New(finder, p, nil)
		usage := llm.NewUsageTracker("finder", llm.UsageRun)
		answer, err := llm.GenerateString(llm.ContextWithUsage(ctx, usage), l, llm.Prompt(question), nil)
		if err != nil {
			return err
		}
		fmt.Println(answer)
		fmt.Fprintln(os.Stderr, usage.Report(nil).Summary(time.Since(start)))
		return nil
	})
}
