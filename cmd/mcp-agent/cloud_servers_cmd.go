package main

// The cloud commands that manage deployed servers: list, status, logs, and
// servers start|stop|restart|delete|status. They talk to the platform at
// $MCP_AGENT_CLOUD_URL over its HTTP API only.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/client"
)

// cloudTimeout bounds one API request of the management commands.
const cloudTimeout = 2 * time.Minute

func newListCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "list [servers]",
		Short: "List the servers deployed on the cloud platform",
		Long: `List the servers deployed on the cloud platform at $MCP_AGENT_CLOUD_URL (default
` + client.DefaultURL + `). For the servers of the local config, use "mcp-agent servers list".`,
		Args:      cobra.MatchAll(cobra.MaximumNArgs(1), cobra.OnlyValidArgs),
		ValidArgs: []string{"servers"},
		RunE: func(cmd *cobra.Command, _ []string) error {
			return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
				list, err := c.ListServers(ctx)
				if err != nil {
					return err
				}
				if g.json {
					return writeJSON(cmd, list)
				}
				if len(list) == 0 {
					fmt.Fprintln(cmd.OutOrStdout(), "no servers deployed: deploy one with `mcp-agent deploy server NAME --type filesystem --allow-path DIR`")
					return nil
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "NAME\tSTATUS\tRUNS\tENDPOINT")
				for _, s := range list {
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", s.Name, s.Status, serverTargetOf(s.Spec), s.Endpoint)
				}
				return tw.Flush()
			})
		},
	}
}

// serverTargetOf says what a deployed server runs.
func serverTargetOf(s api.Spec) string {
	switch {
	case s.Type != "":
		return "type " + s.Type
	case s.URL != "":
		return s.URL
	}
	return oneLine(strings.Join(append([]string{s.Command}, s.Args...), " "), 50)
}

func newStatusCmd(g *globalFlags) *cobra.Command {
	return &cobra.Command{
		Use:   "status NAME",
		Short: "Show a deployed server's status, process and recent events",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
				return printStatus(ctx, cmd, g, c, args[0])
			})
		},
	}
}

func printStatus(ctx context.Context, cmd *cobra.Command, g *globalFlags, c *client.Client, name string) error {
	s, err := c.GetServer(ctx, name)
	if err != nil {
		return err
	}
	if g.json {
		return writeJSON(cmd, s)
	}
	w := cmd.OutOrStdout()
	status := s.Status
	if s.StatusMessage != "" {
		status += " (" + s.StatusMessage + ")"
	}
	rows := [][2]string{
		{"name", s.FullName},
		{"id", s.ID},
		{"status", status},
		{"desired", s.DesiredState},
		{"runs", serverTargetOf(s.Spec)},
		{"endpoint", s.Endpoint},
		{"console", s.ConsoleURL},
	}
	if r := s.Runtime; r != nil {
		proc := r.State
		if r.PID != 0 {
			proc += fmt.Sprintf(", pid %d, up %s", r.PID, time.Since(r.StartedAt).Round(time.Second))
		}
		proc += fmt.Sprintf(", %d restarts", r.Restarts)
		rows = append(rows, [2]string{"process", proc})
		if r.LastExit != "" {
			rows = append(rows, [2]string{"last exit", r.LastExit})
		}
		if r.LastError != "" {
			rows = append(rows, [2]string{"last error", r.LastError})
		}
		sb := "yes"
		if !r.Sandboxed {
			sb = "no: " + r.SandboxReason
		}
		rows = append(rows, [2]string{"sandboxed", sb})
		for _, u := range r.Unenforced {
			rows = append(rows, [2]string{"unenforced", u})
		}
	}
	for _, ap := range s.Spec.AllowedPaths {
		rows = append(rows, [2]string{"path", ap.Path + " (" + ap.Mode + ")"})
	}
	for _, e := range s.Spec.EgressAllow {
		rows = append(rows, [2]string{"egress", e})
	}
	if s.Spec.Public {
		rows = append(rows, [2]string{"access", "public"})
	}
	fmt.Fprintln(w, renderPanel("server "+s.Name, rows, isTerminal(w)))
	events, err := c.Events(ctx, name, 8)
	if err == nil && len(events) > 0 {
		fmt.Fprintln(w, "\nrecent events:")
		for _, e := range events {
			fmt.Fprintf(w, "  %s  %-13s %s\n", e.Time.Local().Format("2006-01-02 15:04:05"), e.Kind, e.Message)
		}
	}
	return nil
}

func newLogsCmd(g *globalFlags) *cobra.Command {
	var (
		follow bool
		since  string
		tail   int
	)
	cmd := &cobra.Command{
		Use:   "logs NAME",
		Short: "Show a deployed server's logs (its stderr and the runtime's notes)",
		Example: `  mcp-agent logs files
  mcp-agent logs files -f --since 10m`,
		Args: cobra.ExactArgs(1),
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
			if !follow {
				ctx, cancel := context.WithTimeout(cmd.Context(), cloudTimeout)
				defer cancel()
				lines, err := c.Logs(ctx, args[0], opts)
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
			for l, err := range c.FollowLogs(cmd.Context(), args[0], opts) {
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
	cmd.Flags().BoolVarP(&follow, "follow", "f", false, "keep printing new lines until Ctrl-C")
	cmd.Flags().StringVar(&since, "since", "", "only lines newer than a duration (10m, 2h) or an RFC 3339 time")
	cmd.Flags().IntVarP(&tail, "tail", "n", 100, "how many of the newest lines")
	return cmd
}

// writeJSONLine prints v as one line of JSON.
func writeJSONLine(cmd *cobra.Command, v any) error {
	return json.NewEncoder(cmd.OutOrStdout()).Encode(v)
}

// addCloudServerCmds adds the cloud subcommands of "servers": start, stop,
// restart, delete and status of deployed servers.
func addCloudServerCmds(servers *cobra.Command, g *globalFlags) {
	op := func(use, short string, f func(*client.Client, context.Context, string) (api.Server, error), done string) *cobra.Command {
		return &cobra.Command{
			Use:   use + " NAME",
			Short: short + " (cloud)",
			Long:  short + " on the cloud platform at $MCP_AGENT_CLOUD_URL (default " + client.DefaultURL + ").",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
					s, err := f(c, ctx, args[0])
					if err != nil {
						return err
					}
					if g.json {
						return writeJSON(cmd, s)
					}
					fmt.Fprintf(cmd.OutOrStdout(), "server %s %s (status %s)\n", s.Name, done, s.Status)
					return nil
				})
			},
		}
	}
	servers.AddCommand(
		op("start", "Start a deployed server", (*client.Client).StartServer, "started"),
		op("stop", "Stop a deployed server", (*client.Client).StopServer, "stopped"),
		op("restart", "Restart a deployed server", (*client.Client).RestartServer, "restarted"),
		&cobra.Command{
			Use:   "delete NAME",
			Short: "Stop and delete a deployed server (cloud)",
			Long:  "Stop and delete a server deployed on the cloud platform at $MCP_AGENT_CLOUD_URL (default " + client.DefaultURL + "). Its name is free at once.",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
					if err := c.DeleteServer(ctx, args[0]); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "server %s deleted\n", args[0])
					return nil
				})
			},
		},
		&cobra.Command{
			Use:   "status NAME",
			Short: "Show a deployed server's status (cloud)",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
					return printStatus(ctx, cmd, g, c, args[0])
				})
			},
		},
	)
}

// withCloud runs f with a client of the platform and a bounded context.
func withCloud(cmd *cobra.Command, f func(context.Context, *client.Client) error) error {
	c, err := cloudClient()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), cloudTimeout)
	defer cancel()
	return f(ctx, c)
}
