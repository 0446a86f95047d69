package main

// What the cloud commands of servers and apps share: the lifecycle
// subcommands (start, stop, restart, delete, status) built once per kind of
// deployment, the logs command, the status panel's rows, the deploy's
// progress view, health wait and failure report, and the printing of
// workflow runs (cloud runs and local workflows alike).

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/client"
)

// deploymentKind parametrises the lifecycle commands of a kind of
// deployment (api.Server or api.App).
type deploymentKind[T any] struct {
	// noun ("server" or "app") starts the commands' output lines.
	noun string
	// cloudHelp marks the commands as the cloud ones beside local ones:
	// Short ends in " (cloud)" and Long names the platform.
	cloudHelp bool
	// nameStatus reads a deployment's name and status.
	nameStatus func(T) (name, status string)
}

var (
	serverKind = deploymentKind[api.Server]{noun: "server", cloudHelp: true,
		nameStatus: func(s api.Server) (string, string) { return s.Name, s.Status }}
	appKind = deploymentKind[api.App]{noun: "app",
		nameStatus: func(a api.App) (string, string) { return a.Name, a.Status }}
)

// opCmd is "USE NAME": f on the named deployment, which prints "NOUN NAME
// DONE (status STATUS)" (or the deployment, with --json).
func (k deploymentKind[T]) opCmd(g *globalFlags, use, short string, f func(*client.Client, context.Context, string) (T, error), done string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use + " NAME",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
				d, err := f(c, ctx, args[0])
				if err != nil {
					return err
				}
				if g.json {
					return writeJSON(cmd, d)
				}
				name, status := k.nameStatus(d)
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s %s (status %s)\n", k.noun, name, done, status)
				return nil
			})
		},
	}
	if k.cloudHelp {
		cmd.Short = short + " (cloud)"
		cmd.Long = short + " on the cloud platform at $MCP_AGENT_CLOUD_URL (default " + client.DefaultURL + ")."
	}
	return cmd
}

// deleteCmd is "delete NAME": del on the named deployment.
func (k deploymentKind[T]) deleteCmd(short, long string, del func(*client.Client, context.Context, string) error) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME",
		Short: short,
		Long:  long,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
				if err := del(c, ctx, args[0]); err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s deleted\n", k.noun, args[0])
				return nil
			})
		},
	}
}

// listRunE is the RunE of a "list" command of deployments: list reads them,
// and they print as a table of header and one row each, or as empty when
// there are none (or as JSON, with --json).
func listRunE[T any](g *globalFlags, list func(context.Context, *client.Client) ([]T, error), empty, header string, row func(T) string) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, _ []string) error {
		return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
			ds, err := list(ctx, c)
			if err != nil {
				return err
			}
			if g.json {
				return writeJSON(cmd, ds)
			}
			if len(ds) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), empty)
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, header)
			for _, d := range ds {
				fmt.Fprintln(tw, row(d))
			}
			return tw.Flush()
		})
	}
}

// statusPrinter prints the status of the named deployment.
type statusPrinter func(ctx context.Context, cmd *cobra.Command, g *globalFlags, c *client.Client, name string) error

// cloudStatusCmd is "status NAME": print on the named deployment.
func cloudStatusCmd(g *globalFlags, short string, print statusPrinter) *cobra.Command {
	return &cobra.Command{
		Use:   "status NAME",
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
				return print(ctx, cmd, g, c, args[0])
			})
		},
	}
}

// newCloudLogsCmd is "logs NAME" of a kind of deployment: list reads the
// newest lines, follow streams them.
func newCloudLogsCmd(g *globalFlags, short, example string,
	list func(*client.Client, context.Context, string, *client.LogsOptions) ([]api.LogLine, error),
	follow func(*client.Client, context.Context, string, *client.LogsOptions) iter.Seq2[api.LogLine, error]) *cobra.Command {
	var (
		following bool
		since     string
		tail      int
	)
	cmd := &cobra.Command{
		Use:     "logs NAME",
		Short:   short,
		Example: example,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := &client.LogsOptions{Limit: tail}
			if since != "" {
				t, err := api.ParseSince(since, time.Now())
				if err != nil {
					return fmt.Errorf("--since %q: %w", since, err)
				}
				opts.Since = t
			}
			c, err := cloudClient()
			if err != nil {
				return err
			}
			w := cmd.OutOrStdout()
			print := func(l api.LogLine) error {
				if g.json {
					return writeJSONLine(cmd, l)
				}
				_, err := fmt.Fprintf(w, "%s %-7s %s\n", l.Time.Local().Format("2006-01-02 15:04:05.000"), l.Stream, l.Line)
				return err
			}
			if !following {
				ctx, cancel := context.WithTimeout(cmd.Context(), cloudTimeout)
				defer cancel()
				lines, err := list(c, ctx, args[0], opts)
				if err != nil {
					return err
				}
				for _, l := range lines {
					if err := print(l); err != nil {
						return err
					}
				}
				return nil
			}
			for l, err := range follow(c, cmd.Context(), args[0], opts) {
				if err != nil {
					return err
				}
				if err := print(l); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVarP(&following, "follow", "f", false, "keep printing new lines until Ctrl-C")
	cmd.Flags().StringVar(&since, "since", "", "only lines newer than a duration (10m, 2h) or an RFC 3339 time")
	cmd.Flags().IntVarP(&tail, "tail", "n", 100, "how many of the newest lines")
	return cmd
}

// statusText is a status with its message in parentheses, if any.
func statusText(status, message string) string {
	if message != "" {
		status += " (" + message + ")"
	}
	return status
}

// processRows are the status panel's rows about a deployment's process;
// problems adds its last error and the sandbox limits it runs without.
func processRows(r *api.RuntimeStatus, problems bool) [][2]string {
	proc := r.State
	if r.PID != 0 {
		proc += fmt.Sprintf(", pid %d, up %s", r.PID, time.Since(r.StartedAt).Round(time.Second))
	}
	proc += fmt.Sprintf(", %d restarts", r.Restarts)
	rows := [][2]string{{"process", proc}}
	if r.LastExit != "" {
		rows = append(rows, [2]string{"last exit", r.LastExit})
	}
	if problems && r.LastError != "" {
		rows = append(rows, [2]string{"last error", r.LastError})
	}
	sb := "yes"
	if !r.Sandboxed {
		sb = "no: " + r.SandboxReason
	}
	rows = append(rows, [2]string{"sandboxed", sb})
	if problems {
		for _, u := range r.Unenforced {
			rows = append(rows, [2]string{"unenforced", u})
		}
	}
	return rows
}

// egressRows are the status panel's rows of the allowed destinations.
func egressRows(egress []string) [][2]string {
	var rows [][2]string
	for _, e := range egress {
		rows = append(rows, [2]string{"egress", e})
	}
	return rows
}

// printStatusPanel prints a deployment's status panel, then the recent
// events that events reads (none when it fails).
func printStatusPanel(w io.Writer, title string, rows [][2]string, events func() ([]api.Event, error)) {
	fmt.Fprintln(w, renderPanel(title, rows, isTerminal(w)))
	if events, err := events(); err == nil && len(events) > 0 {
		fmt.Fprintln(w, "\nrecent events:")
		for _, e := range events {
			fmt.Fprintf(w, "  %s  %-13s %s\n", e.Time.Local().Format("2006-01-02 15:04:05"), e.Kind, e.Message)
		}
	}
}

// sandboxAccessRows are the deploy panel's rows on the sandbox (with a
// runtime) and on how clients reach the endpoint.
func sandboxAccessRows(r *api.RuntimeStatus, public bool) [][2]string {
	var rows [][2]string
	if r != nil {
		sb := "yes"
		if !r.Sandboxed {
			sb = "no"
			if r.SandboxReason != "" {
				sb += " (" + r.SandboxReason + ")"
			}
		}
		rows = append(rows, [2]string{"sandboxed", sb})
	}
	if public {
		rows = append(rows, [2]string{"access", "public (no API key needed)"})
	} else {
		rows = append(rows, [2]string{"access", "Authorization: Bearer $MCP_AGENT_API_KEY"})
	}
	return rows
}

// newDeployProgress picks the view of a deploy's progress: nothing with
// --json, the stages with a spinner on a terminal (unless plain), else
// plain lines.
func newDeployProgress(cmd *cobra.Command, g *globalFlags, plain bool, cancel context.CancelFunc, stages []string) deployView {
	switch {
	case g.json:
		return quietView{}
	case !plain && isTerminal(cmd.OutOrStdout()):
		return newTeaStagesView(cmd.OutOrStdout(), cancel, stages)
	default:
		return &plainDeployView{w: cmd.OutOrStdout()}
	}
}

// endDeployProgress closes view, marking the current stage failed when err
// is not nil.
func endDeployProgress(view deployView, err error) {
	if err != nil {
		view.fail()
	}
	view.close()
}

// deployEnvLimits parses the --env (K=V) and --memory flags of a deploy.
func deployEnvLimits(env []string, memory string) (map[string]string, int64, error) {
	var m map[string]string
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, 0, fmt.Errorf("--env %q: want NAME=VALUE", kv)
		}
		if m == nil {
			m = map[string]string{}
		}
		m[k] = v
	}
	var mem int64
	if memory != "" {
		b, err := client.ParseMemory(memory)
		if err != nil {
			return nil, 0, fmt.Errorf("--memory: %w", err)
		}
		mem = b
	}
	return m, mem, nil
}

// healthWait is what waitHealthy needs of a new deployment.
type healthWait[T any] struct {
	noun string // "server" or "app", in errors
	// name is the name errors give for a state of the deployment.
	name func(T) string
	// state reads a deployment's status, status message and process.
	state func(T) (status, message string, r *api.RuntimeStatus)
	// get reads the deployment again.
	get func(context.Context) (T, error)
	// tools lists its tools through the gateway and returns their number.
	tools func(context.Context) (int, error)
}

// waitHealthy runs the deploy's starting and initializing stages: it waits
// until d is running, then until it answers MCP (tools/list through the
// gateway), and returns its newest state. The caller shows the healthy
// stage.
func waitHealthy[T any](ctx context.Context, view deployView, hw healthWait[T], d T) (T, error) {
	view.stage(stageStarting)
	for {
		status, msg, rt := hw.state(d)
		if status == "running" {
			break
		}
		if status == "failed" {
			return d, fmt.Errorf("%s %q failed to start: %s", hw.noun, hw.name(d), msg)
		}
		if rt != nil && rt.Restarts > 0 {
			return d, fmt.Errorf("%s %q exited during startup (%s) and keeps restarting", hw.noun, hw.name(d), firstNonEmpty(rt.LastExit, msg))
		}
		if err := sleepCtx(ctx, 150*time.Millisecond); err != nil {
			return d, fmt.Errorf("%s %q is still %s: %w", hw.noun, hw.name(d), status, err)
		}
		var err error
		if d, err = hw.get(ctx); err != nil {
			return d, err
		}
	}
	if _, _, r := hw.state(d); r != nil {
		if r.Sandboxed {
			view.note("pid %d, sandboxed", r.PID)
		} else if r.SandboxReason != "" {
			view.note("pid %d, NOT sandboxed: %s", r.PID, r.SandboxReason)
		}
	}
	view.stage(stageInitializing)
	var lastErr error
	for attempt := 0; ; attempt++ {
		n, err := hw.tools(ctx)
		if err == nil {
			view.note("%d tools", n)
			break
		}
		lastErr = err
		var ae *api.Error
		if errors.As(err, &ae) && ae.Status < 500 {
			return d, err
		}
		if cur, gerr := hw.get(ctx); gerr == nil {
			d = cur
			status, _, rt := hw.state(d)
			if status == "failed" || (rt != nil && rt.Restarts > 0) {
				return d, fmt.Errorf("%s %q did not answer MCP: %v", hw.noun, hw.name(d), lastErr)
			}
		}
		if err := sleepCtx(ctx, min(time.Duration(attempt+1)*200*time.Millisecond, 2*time.Second)); err != nil {
			return d, fmt.Errorf("%s %q did not answer MCP: %v", hw.noun, hw.name(d), lastErr)
		}
	}
	view.stage(stageHealthy)
	return d, nil
}

// printLastLogLines prints the log lines of a deployment that failed to
// become healthy, if there are any.
func printLastLogLines(w io.Writer, name string, lines []api.LogLine) {
	if len(lines) == 0 {
		return
	}
	fmt.Fprintf(w, "last log lines of %s:\n", name)
	for _, l := range lines {
		fmt.Fprintf(w, "  %s %-7s %s\n", l.Time.Local().Format("15:04:05.000"), l.Stream, l.Line)
	}
}

// runSummary is what the run lists and run views print of a run, a cloud
// run (api.Run) or a local one (executor.Run).
type runSummary struct {
	id, workflow, status, statusMessage, errMsg string
	updatedAt                                   time.Time
	// waiting is set while the run waits for a signal or input.
	waiting *runWaitSummary
}

type runWaitSummary struct{ kind, signal, prompt string }

// note is the run list's NOTE column: what the run waits for, else its
// error, else its status message.
func (r runSummary) note() string {
	switch {
	case r.waiting != nil && r.waiting.prompt != "":
		return "waits for input: " + oneLine(r.waiting.prompt, 60)
	case r.waiting != nil:
		return "waits for signal " + r.waiting.signal
	case r.errMsg != "":
		return oneLine(r.errMsg, 60)
	}
	return oneLine(r.statusMessage, 60)
}

// printRunList prints runs as a table, newest first as given.
func printRunList(w io.Writer, runs []runSummary) error {
	if len(runs) == 0 {
		fmt.Fprintln(w, "no runs")
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "RUN\tWORKFLOW\tSTATUS\tUPDATED\tNOTE")
	for _, r := range runs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.id, r.workflow, r.status, r.updatedAt.Local().Format(time.DateTime), r.note())
	}
	return tw.Flush()
}

// printRunHead prints a run's ID, workflow, status and message and, when it
// waits, the start of its "waiting:" line (kind, signal and prompt, without
// the newline: the caller ends it).
func printRunHead(w io.Writer, r runSummary) {
	fmt.Fprintf(w, "run:      %s\nworkflow: %s\nstatus:   %s\n", r.id, r.workflow, r.status)
	if r.statusMessage != "" {
		fmt.Fprintf(w, "message:  %s\n", r.statusMessage)
	}
	if wt := r.waiting; wt != nil {
		fmt.Fprintf(w, "waiting:  %s %q", wt.kind, wt.signal)
		if wt.prompt != "" {
			fmt.Fprintf(w, ": %s", wt.prompt)
		}
	}
}

// printRunEnd prints a run's result (labelled "result" or "output") and
// error, if any.
func printRunEnd(w io.Writer, label string, result json.RawMessage, errMsg string) {
	if len(result) > 0 {
		fmt.Fprintf(w, "%-10s%s\n", label+":", result)
	}
	if errMsg != "" {
		fmt.Fprintf(w, "error:    %s\n", errMsg)
	}
}

// historyRow is a run history event as the history table shows it.
type historyRow struct {
	time      time.Time
	typ, name string
	errMsg    string
	payload   json.RawMessage
}

// printRunHistory prints a run's events as a table, oldest first as given;
// a payload is cut to width in the DETAIL column.
func printRunHistory(w io.Writer, events []historyRow, width int) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tEVENT\tNAME\tDETAIL")
	for _, e := range events {
		detail := e.errMsg
		if detail == "" && len(e.payload) > 0 {
			detail = oneLine(string(e.payload), width)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", e.time.Local().Format("15:04:05.000"), e.typ, e.name, detail)
	}
	return tw.Flush()
}
