package platform_test

// A stand-in for `mcp-agent serve`: the platform runs deployed apps as
// "EXE serve --transport stdio --config ... --runs-db ... [--script ...]",
// and under test EXE is this binary. It serves the app's declared agents as
// tools and durable workflows (on the replay script), as the real command
// does, plus a Go workflow "approve" (a deterministic step, then a wait for
// a person's approval) for the run tests. init runs before TestMain, so
// the re-executed binary never reaches the tests.

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/app"
	"github.com/mcp-agent-go/mcp-agent/appserver"
	"github.com/mcp-agent-go/mcp-agent/executor/local"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

func init() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		if err := fakeServe(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "serve:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// Post is the input of the approve workflow.
type Post struct {
	Title string `json:"title"`
	Body  string `json:"body"`
}

// Approval is what a person answers.
type Approval struct {
	Approved bool   `json:"approved"`
	Note     string `json:"note,omitempty"`
}

// Outcome is the result of approve.
type Outcome struct {
	Title     string `json:"title"`
	Words     int    `json:"words"`
	Published bool   `json:"published"`
	Note      string `json:"note,omitempty"`
}

var approveWorkflow = workflow.Define("approve", func(wctx workflow.Context, p Post) (Outcome, error) {
	words, err := workflow.Step(wctx, "count", func(ctx context.Context, sc workflow.StepContext) (int, error) {
		return len(strings.Fields(p.Body)), nil
	}, nil)
	if err != nil {
		return Outcome{}, err
	}
	ok, err := workflow.RequestInput[Approval](wctx, fmt.Sprintf("Publish %q (%d words)?", p.Title, words), nil)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{Title: p.Title, Words: words, Published: ok.Approved, Note: ok.Note}, nil
}, &workflow.DefineOptions{Description: "Count a post's words, then wait for a person's approval."})

// echoWorkflow is one step, for the load test.
var echoWorkflow = workflow.Define("echo", func(wctx workflow.Context, p Post) (Post, error) {
	return workflow.Step(wctx, "echo", func(ctx context.Context, sc workflow.StepContext) (Post, error) {
		return p, nil
	}, nil)
}, nil)

// Ticks is the input of the ticks workflow.
type Ticks struct {
	Steps int `json:"steps"`
	MS    int `json:"ms"`
}

// ticksWorkflow runs Steps steps of MS milliseconds each: a run that stays
// running, for the pause tests.
var ticksWorkflow = workflow.Define("ticks", func(wctx workflow.Context, in Ticks) (int, error) {
	for i := range in.Steps {
		if _, err := workflow.Step(wctx, fmt.Sprint("tick-", i+1), func(ctx context.Context, sc workflow.StepContext) (int, error) {
			t := time.NewTimer(time.Duration(in.MS) * time.Millisecond)
			defer t.Stop()
			select {
			case <-ctx.Done():
				return 0, ctx.Err()
			case <-t.C:
				return i, nil
			}
		}, nil); err != nil {
			return i, err
		}
	}
	return in.Steps, nil
}, nil)

func fakeServe(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	transport := fs.String("transport", "stdio", "")
	cfg := fs.String("config", "", "")
	runsDB := fs.String("runs-db", "", "")
	script := fs.String("script", "", "")
	fs.Bool("verbose", false, "")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *transport != "stdio" {
		return fmt.Errorf("transport %q", *transport)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	up := appserver.NewUpstream()
	a, err := app.New(app.Options{ConfigPath: *cfg, RequireConfig: true, Logger: logger,
		HumanInput: up.HumanInput(nil), ElicitationHandler: up.ElicitationHandler(nil), OnLog: up.ForwardLog})
	if err != nil {
		return err
	}
	defer a.Close()
	defs := []workflow.Workflow{approveWorkflow, echoWorkflow, ticksWorkflow}
	var newLLM func(*agent.Agent) (llm.AugmentedLLM, error)
	if *script != "" {
		s, err := replay.Load(*script)
		if err != nil {
			return err
		}
		prov := replay.New(s, nil)
		newLLM = func(ag *agent.Agent) (llm.AugmentedLLM, error) { return llm.New(ag, prov, nil), nil }
		if ags := a.Settings().Agents; ags != nil {
			for _, spec := range ags.Definitions {
				ag, err := a.Agent(spec.Name)
				if err != nil {
					return err
				}
				defs = append(defs, appserver.AgentWorkflow(ag, newLLM, nil))
			}
		}
	}
	ex, err := local.Open(ctx, *runsDB, workflow.NewRegistry(defs...), &local.Options{Logger: logger, PollInterval: 50 * time.Millisecond})
	if err != nil {
		return err
	}
	defer ex.Close()
	opts := &appserver.Options{Upstream: up, NewLLM: newLLM, Executor: ex, Logger: logger}
	if newLLM == nil {
		opts.Agents = []*agent.Agent{}
	}
	srv, err := appserver.New(a, opts)
	if err != nil {
		return err
	}
	fmt.Fprintln(os.Stderr, "serve: app", a.Name(), "on stdio")
	if name := os.Getenv("PLATFORM_TEST_PRINT_ENV"); name != "" {
		fmt.Fprintf(os.Stderr, "serve: env %s=%s\n", name, os.Getenv(name)) // the platform must mask it
	}
	return srv.ServeStdio(ctx)
}
