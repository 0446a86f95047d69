// Command served is an app written in Go and served as an MCP server: the
// declared agent "helper" of mcp_agent.config.yaml (as a tool and as a
// durable workflow), a workflow written in Go that pauses for a human's
// approval, a sync tool and an async tool.
//
//	go run ./examples/served -script examples/served/served.replay.yaml                   # stdio
//	go run ./examples/served -script examples/served/served.replay.yaml -http 127.0.0.1:8000
//
// Then point any MCP client at it; docs/serve.md shows Claude Desktop, Cursor
// and another mcp-agent app.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"net"
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

// Draft is the input of the publish workflow.
type Draft struct {
	Title string `json:"title" jsonschema:"the post's title"`
	Body  string `json:"body" jsonschema:"the post's text"`
}

// Approval is what a person answers when publish asks.
type Approval struct {
	Approved bool   `json:"approved" jsonschema:"true to publish"`
	Note     string `json:"note,omitempty" jsonschema:"an optional remark"`
}

// Published is the result of publish.
type Published struct {
	Title     string `json:"title"`
	Published bool   `json:"published"`
	Words     int    `json:"words"`
	Note      string `json:"note,omitempty"`
}

// publish counts the draft's words in a step, then waits (durably: the run
// survives a restart) for a person's approval, delivered by workflows-resume.
var publish = workflow.Define("publish", func(wctx workflow.Context, d Draft) (Published, error) {
	words, err := workflow.Step(wctx, "count", func(ctx context.Context, sc workflow.StepContext) (int, error) {
		return len(strings.Fields(d.Body)), nil
	}, nil)
	if err != nil {
		return Published{}, err
	}
	workflow.SetStatus(wctx, "waiting for approval")
	ok, err := workflow.RequestInput[Approval](wctx, fmt.Sprintf("Publish %q (%d words)?", d.Title, words), nil)
	if err != nil {
		return Published{}, err
	}
	return Published{Title: d.Title, Published: ok.Approved, Words: words, Note: ok.Note}, nil
}, &workflow.DefineOptions{Description: "Publish a post once a person approves it."})

// WordCountArgs are the arguments of the word_count tool.
type WordCountArgs struct {
	Text string `json:"text" jsonschema:"the text to count"`
}

// WordCount is the result of the word_count tool.
type WordCount struct {
	Words int `json:"words"`
	Lines int `json:"lines"`
}

func wordCount(_ context.Context, in WordCountArgs) (WordCount, error) {
	if in.Text == "" {
		return WordCount{}, errors.New(`"text" is empty`)
	}
	return WordCount{Words: len(strings.Fields(in.Text)), Lines: strings.Count(in.Text, "\n") + 1}, nil
}

func main() {
	dir := flag.String("dir", "examples/served", "the example's folder (holding mcp_agent.config.yaml)")
	script := flag.String("script", "", "replay script to play instead of a real model")
	provider := flag.String("provider", "", "openai, anthropic or replay (default: replay with -script, else the configured one)")
	httpAddr := flag.String("http", "", "serve Streamable HTTP (/mcp) and SSE (/sse) on this address instead of stdio")
	runsDB := flag.String("runs-db", "", "SQLite file journaling the runs (default: <dir>/.mcp-agent/runs.db)")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, config{dir: *dir, script: *script, provider: *provider, httpAddr: *httpAddr, runsDB: *runsDB})
	if err != nil {
		log.Fatal(err)
	}
}

type config struct {
	dir, script, provider, httpAddr, runsDB string
	ready                                   func(net.Addr) // called when HTTP listens
}

func run(ctx context.Context, c config) error {
	if c.script != "" && c.provider == "" {
		c.provider = "replay"
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	up := appserver.NewUpstream()
	a, err := app.New(app.Options{
		ConfigPath:         filepath.Join(c.dir, "mcp_agent.config.yaml"),
		Logger:             logger,
		HumanInput:         up.HumanInput(nil),
		ElicitationHandler: up.ElicitationHandler(nil),
		OnLog:              up.ForwardLog,
	})
	if err != nil {
		return err
	}
	defer a.Close()
	p, err := providers.New(a.Settings(), providers.Options{Provider: c.provider, ReplayScript: c.script})
	if err != nil {
		return err
	}
	newLLM := func(ag *agent.Agent) (llm.AugmentedLLM, error) { return llm.New(ag, p, nil), nil }

	helper, err := a.Agent("helper")
	if err != nil {
		return err
	}
	if c.runsDB == "" {
		c.runsDB = filepath.Join(c.dir, ".mcp-agent", "runs.db")
	}
	if err := os.MkdirAll(filepath.Dir(c.runsDB), 0o755); err != nil {
		return err
	}
	reg := workflow.NewRegistry(publish, appserver.AgentWorkflow(helper, newLLM, nil))
	ex, err := local.Open(ctx, c.runsDB, reg, &local.Options{Logger: logger})
	if err != nil {
		return err
	}
	defer ex.Close()

	srv, err := appserver.New(a, &appserver.Options{
		Upstream: up,
		NewLLM:   newLLM,
		Executor: ex,
		Tools: []*appserver.Tool{
			appserver.NewTool("word_count", "Count the words and lines of a text.", wordCount),
			appserver.NewAsyncTool("publish_async", "Publish a post once a person approves it.", publish),
		},
	})
	if err != nil {
		return err
	}
	if c.httpAddr == "" {
		return srv.ServeStdio(ctx)
	}
	return srv.ListenAndServe(ctx, c.httpAddr, &appserver.HTTPOptions{Ready: func(addr net.Addr) {
		fmt.Fprintf(os.Stderr, "served: listening on http://%s/mcp\n", addr)
		if c.ready != nil {
			c.ready(addr)
		}
	}})
}
