package main

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcp-agent-go/mcp-agent/app"
	"github.com/mcp-agent-go/mcp-agent/executor"
)

type workflowsFlags struct {
	state   string
	timeout time.Duration
}

func newWorkflowsCmd(g *globalFlags) *cobra.Command {
	f := &workflowsFlags{}
	cmd := &cobra.Command{
		Use:   "workflows",
		Short: "Start, inspect and control the app's durable workflow runs",
		Long: `Start, inspect and control the runs of the app's durable workflows, kept in the
app's local executor database (.mcp-agent/state.db next to mcp_agent.config.yaml,
or --state). These commands only journal requests: the app's own process (your
Go program, or mcp-agent serve) executes the runs and picks the requests up
within a moment, even when it starts later. See docs/workflows.md.`,
	}
	cmd.PersistentFlags().StringVar(&f.state, "state", "", "the executor database (default: .mcp-agent/state.db next to the config file)")
	cmd.PersistentFlags().DurationVar(&f.timeout, "timeout", 30*time.Second, "give up after this long")

	withEx := func(cmd *cobra.Command, fn func(ctx context.Context, ex executor.Executor) error) error {
		a, err := controlApp(g, f)
		if err != nil {
			return err
		}
		defer a.Close()
		ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
		defer cancel()
		ex, err := a.Executor(ctx)
		if err != nil {
			return err
		}
		return fn(ctx, ex)
	}

	var statuses []string
	runs := &cobra.Command{
		Use:   "runs",
		Short: "List runs, newest first",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			opts := &executor.ListOptions{}
			for _, s := range statuses {
				st, err := parseStatus(s)
				if err != nil {
					return err
				}
				opts.Statuses = append(opts.Statuses, st)
			}
			return withEx(cmd, func(ctx context.Context, ex executor.Executor) error {
				var list []*executor.Run
				for r, err := range ex.List(ctx, opts) {
					if err != nil {
						return err
					}
					list = append(list, r)
				}
				for i, r := range list {
					// List leaves out what a paused run waits for; fetch it.
					if r.Status == executor.StatusPaused && r.Waiting == nil {
						if full, err := ex.Status(ctx, r.ID); err == nil {
							list[i] = full
						}
					}
				}
				if g.json {
					return writeJSON(cmd, list)
				}
				sums := make([]runSummary, len(list))
				for i, r := range list {
					sums[i] = localRunSummary(r)
				}
				return printRunList(cmd.OutOrStdout(), sums)
			})
		},
	}
	runs.Flags().StringSliceVar(&statuses, "status", nil, "only runs in these statuses (scheduled, running, paused, completed, failed, cancelled, terminated)")

	var (
		input string
		id    string
		wait  bool
	)
	start := &cobra.Command{
		Use:   "run NAME [--input JSON]",
		Short: "Start a run of a workflow",
		Long: `Start a run of the workflow NAME with a JSON input (validated against the
workflow's input schema by the process that executes it). Prints the run ID;
with --wait, waits until the run completes, fails or pauses for input.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw, err := jsonArg("--input", input)
			if err != nil {
				return err
			}
			return withEx(cmd, func(ctx context.Context, ex executor.Executor) error {
				runID, err := ex.Start(ctx, args[0], raw, &executor.StartOptions{ID: id})
				if err != nil {
					return err
				}
				if !wait {
					if g.json {
						return writeJSON(cmd, map[string]string{"run_id": runID, "workflow": args[0]})
					}
					fmt.Fprintln(cmd.OutOrStdout(), runID)
					return nil
				}
				r, err := executor.WaitFor(ctx, ex, runID, func(r *executor.Run) bool {
					return r.Status.Terminal() || (r.Status == executor.StatusPaused && r.Waiting != nil)
				})
				if err != nil {
					return fmt.Errorf("run %s: %w (is the app's process running? it executes the runs)", runID, err)
				}
				return printRun(cmd, g, r)
			})
		},
	}
	start.Flags().StringVar(&input, "input", "{}", "the run's input as JSON")
	start.Flags().StringVar(&id, "id", "", "the run ID (default: generated)")
	start.Flags().BoolVar(&wait, "wait", false, "wait until the run completes, fails or waits for input")

	status := &cobra.Command{
		Use:   "status RUN_ID",
		Short: "Show a run's status, output or what it waits for",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withEx(cmd, func(ctx context.Context, ex executor.Executor) error {
				r, err := ex.Status(ctx, args[0])
				if err != nil {
					return err
				}
				return printRun(cmd, g, r)
			})
		},
	}

	history := &cobra.Command{
		Use:   "history RUN_ID",
		Short: "Show every event of a run, oldest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withEx(cmd, func(ctx context.Context, ex executor.Executor) error {
				events, err := ex.History(ctx, args[0])
				if err != nil {
					return err
				}
				if g.json {
					return writeJSON(cmd, events)
				}
				rows := make([]historyRow, len(events))
				for i, e := range events {
					rows[i] = historyRow{time: e.Time, typ: string(e.Type), name: e.Name, errMsg: e.Error, payload: e.Payload}
				}
				return printRunHistory(cmd.OutOrStdout(), rows, 80)
			})
		},
	}

	var (
		payload string
		signal  string
	)
	resume := &cobra.Command{
		Use:   "resume RUN_ID [--payload JSON] [--signal NAME]",
		Short: "Resume a paused run, delivering a payload (the input it asked for)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var raw json.RawMessage
			if payload != "" {
				var err error
				if raw, err = jsonArg("--payload", payload); err != nil {
					return err
				}
			}
			return withEx(cmd, func(ctx context.Context, ex executor.Executor) error {
				if err := ex.Resume(ctx, args[0], raw, &executor.ResumeOptions{Signal: signal}); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "resume of %s accepted\n", args[0])
				return nil
			})
		},
	}
	resume.Flags().StringVar(&payload, "payload", "", "the payload as JSON")
	resume.Flags().StringVar(&signal, "signal", "", "the signal carrying the payload (default resume)")

	control := func(use, short, done string, fn func(ctx context.Context, ex executor.Executor, id string) error) *cobra.Command {
		return &cobra.Command{
			Use:   use + " RUN_ID",
			Short: short,
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withEx(cmd, func(ctx context.Context, ex executor.Executor) error {
					if err := fn(ctx, ex, args[0]); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s of %s accepted\n", done, args[0])
					return nil
				})
			},
		}
	}
	var reason string
	terminate := control("terminate", "End a run at once, running none of its code", "terminate", func(ctx context.Context, ex executor.Executor, id string) error {
		return ex.Terminate(ctx, id, reason)
	})
	terminate.Flags().StringVar(&reason, "reason", "terminated from the CLI", "why (recorded in the run)")

	list := &cobra.Command{
		Use:   "list",
		Short: "List the workflows that have runs in the app's database",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withEx(cmd, func(ctx context.Context, ex executor.Executor) error {
				counts := map[string]int{}
				for w := range ex.Workflows() {
					counts[w.Name()] += 0
				}
				for r, err := range ex.List(ctx, nil) {
					if err != nil {
						return err
					}
					counts[r.Workflow]++
				}
				names := make([]string, 0, len(counts))
				for n := range counts {
					names = append(names, n)
				}
				slices.Sort(names)
				if g.json {
					return writeJSON(cmd, counts)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "WORKFLOW\tRUNS")
				for _, n := range names {
					fmt.Fprintf(tw, "%s\t%d\n", n, counts[n])
				}
				return tw.Flush()
			})
		},
	}

	cmd.AddCommand(list, runs, start, status, history, resume,
		control("pause", "Pause a run before its next operation", "pause", func(ctx context.Context, ex executor.Executor, id string) error { return ex.Pause(ctx, id) }),
		control("cancel", "Cancel a run (its code sees cancellation and ends)", "cancel", func(ctx context.Context, ex executor.Executor, id string) error { return ex.Cancel(ctx, id) }),
		terminate,
	)
	return cmd
}

// controlApp opens the app for run control: the executor is passive, so the
// CLI never executes another process's workflows.
func controlApp(g *globalFlags, f *workflowsFlags) (*app.App, error) {
	s, err := loadSettings(g)
	if err != nil {
		return nil, err
	}
	return app.New(app.Options{Settings: s, Logger: cliLogger(false), StatePath: f.state, PassiveExecutor: true})
}

func printRun(cmd *cobra.Command, g *globalFlags, r *executor.Run) error {
	if g.json {
		return writeJSON(cmd, r)
	}
	w := cmd.OutOrStdout()
	printRunHead(w, localRunSummary(r))
	if r.Waiting != nil {
		fmt.Fprintf(w, "\n          resume with: mcp-agent workflows resume %s --payload '{...}'\n", r.ID)
	}
	printRunEnd(w, "output", r.Output, r.Error)
	return nil
}

// localRunSummary is what run lists and views print of a local run.
func localRunSummary(r *executor.Run) runSummary {
	s := runSummary{id: r.ID, workflow: r.Workflow, status: string(r.Status), statusMessage: r.StatusMessage, errMsg: r.Error, updatedAt: r.UpdatedAt}
	if wt := r.Waiting; wt != nil {
		s.waiting = &runWaitSummary{kind: wt.Kind, signal: wt.Signal, prompt: wt.Prompt}
	}
	return s
}

func parseStatus(s string) (executor.Status, error) {
	all := []executor.Status{executor.StatusScheduled, executor.StatusRunning, executor.StatusPaused, executor.StatusCompleted, executor.StatusFailed, executor.StatusCancelled, executor.StatusTerminated}
	for _, st := range all {
		if strings.EqualFold(s, string(st)) {
			return st, nil
		}
	}
	names := make([]string, len(all))
	for i, st := range all {
		names[i] = string(st)
	}
	return "", fmt.Errorf("unknown status %q (want %s)", s, strings.Join(names, ", "))
}

// jsonArg validates a JSON flag value.
func jsonArg(flag, v string) (json.RawMessage, error) {
	v = strings.TrimSpace(v)
	if !json.Valid([]byte(v)) {
		var x any
		err := json.Unmarshal([]byte(v), &x)
		return nil, fmt.Errorf("%s is not valid JSON: %v (got %q)", flag, err, v)
	}
	return json.RawMessage(v), nil
}
