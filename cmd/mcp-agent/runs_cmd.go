package main

// The cloud commands for workflow runs of deployed apps: runs
// list|start|status|history|resume|pause|cancel|watch. Runs are named
// {app}.{run_id}.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/client"
)

func newRunsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "runs",
		Short: "Start, inspect and control workflow runs of deployed apps",
		Long: `Start, inspect and control the workflow runs of apps deployed on the cloud
platform at $MCP_AGENT_CLOUD_URL (default ` + client.DefaultURL + `). A run is
named APP.RUN_ID (as "mcp-agent runs list" shows it). Runs are durable: a
paused run waits, across restarts of the app and the platform, until it is
resumed.

For the workflows of an app on this machine, see "mcp-agent workflows".`,
	}
	cmd.AddCommand(newRunsListCmd(g), newRunsStartCmd(g), newRunsStatusCmd(g), newRunsHistoryCmd(g),
		newRunsResumeCmd(g), newRunsPauseCmd(g), newRunsCancelCmd(g), newRunsWatchCmd(g))
	return cmd
}

func newRunsListCmd(g *globalFlags) *cobra.Command {
	var q api.RunQuery
	var status string
	cmd := &cobra.Command{
		Use:     "list",
		Short:   "List runs, newest first",
		Example: "  mcp-agent runs list --app approval --status paused",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if status != "" {
				for _, s := range strings.Split(status, ",") {
					q.Statuses = append(q.Statuses, strings.TrimSpace(s))
				}
			}
			return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
				runs, err := c.ListRuns(ctx, q)
				if err != nil {
					return err
				}
				if g.json {
					return writeJSON(cmd, runs)
				}
				sums := make([]runSummary, len(runs))
				for i, r := range runs {
					sums[i] = apiRunSummary(r)
				}
				return printRunList(cmd.OutOrStdout(), sums)
			})
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&q.App, "app", "", "only the runs of this app (default: every running app)")
	fl.StringVar(&q.Workflow, "workflow", "", "only the runs of this workflow")
	fl.StringVar(&status, "status", "", "only runs in these statuses, comma-separated: scheduled, running, paused, completed, failed, cancelled, terminated")
	fl.IntVar(&q.Limit, "limit", 50, "at most this many runs")
	fl.IntVar(&q.Offset, "offset", 0, "skip this many runs first (the next page)")
	return cmd
}

func newRunsStartCmd(g *globalFlags) *cobra.Command {
	var (
		input string
		wait  bool
	)
	cmd := &cobra.Command{
		Use:   "start APP.WORKFLOW",
		Short: "Start a run of a deployed app's workflow",
		Example: `  mcp-agent runs start approval.publisher --input '{"message":"publish the launch post"}'
  mcp-agent runs start myapp.report --input '{"topic":"otters"}' --wait`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			app, wf, err := api.SplitName(args[0], "workflow")
			if err != nil {
				return err
			}
			var in json.RawMessage
			if input != "" {
				if in, err = jsonArg("--input", input); err != nil {
					return err
				}
			}
			return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
				r, err := c.RunWorkflow(ctx, app, wf, in)
				if err != nil {
					return err
				}
				if wait {
					if r, err = c.WaitRun(ctx, r.ID, settled); err != nil {
						return err
					}
				}
				return printAPIRun(cmd, g, r)
			})
		},
	}
	cmd.Flags().StringVar(&input, "input", "", "the workflow's input (JSON)")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the run finishes or waits for input")
	return cmd
}

// settled is true for a finished run or one that waits for input.
func settled(r api.Run) bool { return r.Terminal() || (r.Status == "paused" && r.Waiting != nil) }

func newRunsStatusCmd(g *globalFlags) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   "status APP.RUN_ID",
		Short: "Show a run: status, what it waits for, result or error",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
				var r api.Run
				var err error
				if wait {
					r, err = c.WaitRun(ctx, args[0], settled)
				} else {
					r, err = c.GetRun(ctx, args[0])
				}
				if err != nil {
					return err
				}
				return printAPIRun(cmd, g, r)
			})
		},
	}
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the run finishes or waits for input")
	return cmd
}

func newRunsHistoryCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "history APP.RUN_ID",
		Short: "Show every event of a run, oldest first",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
				evs, err := c.RunHistory(ctx, args[0])
				if err != nil {
					return err
				}
				if g.json {
					return writeJSON(cmd, evs)
				}
				rows := make([]historyRow, len(evs))
				for i, e := range evs {
					rows[i] = historyRow{time: e.Time, typ: e.Type, name: e.Name, errMsg: e.Error, payload: e.Payload}
				}
				return printRunHistory(cmd.OutOrStdout(), rows, 70)
			})
		},
	}
}

func newRunsResumeCmd(g *globalFlags) *cobra.Command {
	var payload, answer, signal string
	cmd := &cobra.Command{
		Use:   "resume APP.RUN_ID",
		Short: "Resume a run: send what it waits for, or lift a pause",
		Long: `Resume a run. With --payload, the JSON value it waits for (its waiting schema,
see "mcp-agent runs status"; a payload that does not match is refused with
the field named). With --answer, a text answer (an agent's question). With
neither, a pause is lifted.`,
		Example: `  mcp-agent runs resume approval.run-3f2a --answer yes
  mcp-agent runs resume myapp.run-9c1e --payload '{"approved":true}'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := api.ResumeRequest{Signal: signal}
			switch {
			case payload != "" && answer != "":
				return fmt.Errorf("give --payload or --answer, not both")
			case payload != "":
				p, err := jsonArg("--payload", payload)
				if err != nil {
					return err
				}
				req.Payload = p
			case answer != "":
				req.Payload, _ = json.Marshal(answer)
			}
			return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
				r, err := c.ResumeRun(ctx, args[0], req)
				if err != nil {
					return err
				}
				if g.json {
					return writeJSON(cmd, r)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "run %s resumed (status %s)\n", r.ID, r.Status)
				return nil
			})
		},
	}
	cmd.Flags().StringVar(&payload, "payload", "", "the JSON value the run waits for")
	cmd.Flags().StringVar(&answer, "answer", "", "a text answer (sent as a JSON string)")
	cmd.Flags().StringVar(&signal, "signal", "", "the signal that carries the payload (default resume)")
	return cmd
}

func newRunsPauseCmd(g *globalFlags) *cobra.Command {
	return runOpCmd(g, "pause", "Pause a run before its next step", (*client.Client).PauseRun, "pause requested")
}

func newRunsCancelCmd(g *globalFlags) *cobra.Command {
	return runOpCmd(g, "cancel", "Cancel a run", (*client.Client).StopRun, "cancel requested")
}

func runOpCmd(g *globalFlags, use, short string, f func(*client.Client, context.Context, string) (api.Run, error), done string) *cobra.Command {
	return &cobra.Command{
		Use:   use + " APP.RUN_ID",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
				r, err := f(c, ctx, args[0])
				if err != nil {
					return err
				}
				if g.json {
					return writeJSON(cmd, r)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "run %s: %s (status %s)\n", r.ID, done, r.Status)
				return nil
			})
		},
	}
}

// printAPIRun prints a run of a deployed app.
func printAPIRun(cmd *cobra.Command, g *globalFlags, r api.Run) error {
	if g.json {
		return writeJSON(cmd, r)
	}
	w := cmd.OutOrStdout()
	printRunHead(w, apiRunSummary(r))
	if wt := r.Waiting; wt != nil {
		fmt.Fprintln(w)
		if len(wt.Schema) > 0 {
			fmt.Fprintf(w, "schema:   %s\n", oneLine(string(wt.Schema), 200))
		}
		fmt.Fprintf(w, "          resume with: mcp-agent runs resume %s --payload '{...}'", r.ID)
		if acceptsString(wt.Schema) {
			fmt.Fprintf(w, " (or --answer TEXT)")
		}
		fmt.Fprintln(w)
	}
	printRunEnd(w, "result", r.Result, r.Error)
	return nil
}

// acceptsString reports whether a JSON schema accepts a string.
func acceptsString(schema json.RawMessage) bool {
	var s struct {
		Type  any `json:"type"`
		Types any `json:"types"`
	}
	if json.Unmarshal(schema, &s) != nil {
		return false
	}
	for _, t := range []any{s.Type, s.Types} {
		switch v := t.(type) {
		case string:
			if v == "string" {
				return true
			}
		case []any:
			for _, x := range v {
				if x == "string" {
					return true
				}
			}
		}
	}
	return false
}

// apiRunSummary is what run lists and views print of a cloud run.
func apiRunSummary(r api.Run) runSummary {
	s := runSummary{id: r.ID, workflow: r.Workflow, status: r.Status, statusMessage: r.StatusMessage, errMsg: r.Error, updatedAt: r.UpdatedAt}
	if wt := r.Waiting; wt != nil {
		s.waiting = &runWaitSummary{kind: wt.Kind, signal: wt.Signal, prompt: wt.Prompt}
	}
	return s
}

func newRunsWatchCmd(g *globalFlags) *cobra.Command {
	var (
		app  string
		all  bool
		logs bool
	)
	cmd := &cobra.Command{
		Use:   "watch [APP.RUN_ID]",
		Short: "Follow run status changes and human-input requests as they happen",
		Long: `Follow the platform's events (GET /v1/events): run status changes and
human-input requests, with --all also the apps' and servers' lifecycle
(status, versions, starts and exits), and with --all --logs their log lines
too (live only, at most 50 lines/s per app or server). With a run, its
events only, until it finishes. Recent events are printed first.`,
		Example: `  mcp-agent runs watch --app approval
  mcp-agent runs watch approval.run-3f2a`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f := api.EventFilter{App: app}
			if !all {
				f.Kinds = []string{api.EventRunStatus, api.EventHumanInput}
			}
			if len(args) == 1 {
				a, _, err := api.SplitName(args[0], "run")
				if err != nil {
					return err
				}
				f.Run, f.App = args[0], a
			}
			c, err := cloudClient()
			if err != nil {
				return err
			}
			for e, err := range c.FollowPlatformEvents(cmd.Context(), f) {
				if err != nil {
					return err
				}
				if e.Kind == api.EventLog && !logs {
					continue
				}
				if g.json {
					if err := writeJSONLine(cmd, e); err != nil {
						return err
					}
				} else {
					fmt.Fprintf(cmd.OutOrStdout(), "%s  %-12s %s\n", e.Time.Local().Format("15:04:05.000"), e.Kind, e.Message)
				}
				if f.Run != "" && e.Kind == api.EventRunStatus {
					var d api.RunEventData
					if json.Unmarshal(e.Data, &d) == nil && (api.Run{Status: d.Status}).Terminal() {
						return nil
					}
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&app, "app", "", "only this app's events")
	cmd.Flags().BoolVar(&all, "all", false, "also the lifecycle events of apps and servers")
	cmd.Flags().BoolVar(&logs, "logs", false, "with --all, also the log lines of apps and servers")
	return cmd
}
