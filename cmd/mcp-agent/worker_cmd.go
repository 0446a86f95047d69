package main

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"github.com/mcp-agent-go/mcp-agent/app"
	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/executor/temporal"
)

type workerFlags struct {
	taskQueue  string
	provider   string
	script     string
	model      string
	batchSteps bool
	verbose    bool
}

func newWorkerCmd(g *globalFlags) *cobra.Command {
	f := &workerFlags{}
	cmd := &cobra.Command{
		Use:   "worker",
		Short: "Run a Temporal worker for the app's workflows",
		Long: `Run a Temporal worker that executes the app's workflows: one per agent declared
in mcp_agent.config.yaml (agents:), the workflows mcp-agent serve exposes. It
connects to the server of the temporal: section (host, default localhost:7233;
namespace, default "default"; tls; api_key) and polls its task_queue (default
"mcp-agent"), until SIGINT or SIGTERM. Start runs with execution_engine:
temporal (mcp-agent serve, mcp-agent workflows) or from Go with package
executor/temporal. For development, scripts/temporal-dev builds a local
Temporal server. See docs/workflows.md.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return runWorker(cmd, g, f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.taskQueue, "task-queue", "", "task queue to poll (default: temporal.task_queue, else mcp-agent)")
	fl.StringVar(&f.provider, "provider", "", "LLM provider for every agent: openai, anthropic or replay (default: each agent's own)")
	fl.StringVar(&f.script, "script", "", "replay script for --provider replay (implies it)")
	fl.StringVar(&f.model, "model", "", "model for every agent (default: each agent's own)")
	fl.BoolVar(&f.batchSteps, "batch-steps", false, "record consecutive steps together (faster; steps since the last workflow task re-run after a crash). Every worker of the task queue must agree")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log worker activity to stderr")
	return cmd
}

func runWorker(cmd *cobra.Command, g *globalFlags, f *workerFlags) error {
	logger := cliLogger(f.verbose)
	a, err := newAgentApp(g, modelFlags{provider: f.provider, model: f.model, script: f.script}, logger, app.Options{})
	if err != nil {
		return err
	}
	defer a.Close()
	settings := a.Settings()
	ts := settings.Temporal
	if ts == nil {
		ts = &config.TemporalSettings{}
	}
	queue := f.taskQueue
	if queue == "" {
		queue = ts.TaskQueue
	}
	if queue == "" {
		queue = temporal.DefaultTaskQueue
	}
	if err := a.registerAgentWorkflows(logger); err != nil {
		return err
	}
	var names []string
	for wf := range a.App.Workflows().All() {
		names = append(names, wf.Name())
	}
	if len(names) == 0 {
		return fmt.Errorf("no workflows to run: declare agents in %s (agents: definitions: [...]); each runs as a workflow", workerConfigName(settings))
	}
	reg := a.App.Workflows()

	co, err := temporal.ClientOptions(ts, logger)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), time.Minute)
	c, err := client.DialContext(ctx, co)
	cancel()
	if err != nil {
		return fmt.Errorf("connecting to Temporal at %s (namespace %q): %w; set temporal.host in the config, or start a development server with scripts/temporal-dev", co.HostPort, co.Namespace, err)
	}
	defer c.Close()

	wo := &worker.Options{}
	if ts.MaxConcurrentActivities > 0 {
		wo.MaxConcurrentLocalActivityExecutionSize = ts.MaxConcurrentActivities
	}
	w := temporal.NewWorker(c, reg, &temporal.WorkerOptions{TaskQueue: queue, BatchSteps: f.batchSteps, Options: wo, Logger: logger})
	if err := w.Start(); err != nil {
		return fmt.Errorf("starting the worker on task queue %q: %w", queue, err)
	}
	defer w.Stop()
	fmt.Fprintf(cmd.ErrOrStderr(), "mcp-agent worker: %d workflows (%s) on task queue %q of %s, namespace %q; stop with Ctrl-C\n",
		len(names), workerNames(names), queue, co.HostPort, co.Namespace)
	<-cmd.Context().Done()
	return nil
}

func workerConfigName(s *config.Settings) string {
	if len(s.Files) > 0 {
		return s.Files[0]
	}
	return "mcp_agent.config.yaml"
}

func workerNames(names []string) string {
	const limit = 8
	if len(names) > limit {
		return fmt.Sprintf("%s, ... and %d more", workerNames(names[:limit]), len(names)-limit)
	}
	out := ""
	for i, n := range names {
		if i > 0 {
			out += ", "
		}
		out += n
	}
	return out
}
