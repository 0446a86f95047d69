package main

// The cloud commands that manage deployed servers: list, status, logs, and
// servers start|stop|restart|delete|status. They talk to the platform at
// $MCP_AGENT_CLOUD_URL over its HTTP API only.

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
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
		RunE: listRunE(g, func(ctx context.Context, c *client.Client) ([]api.Server, error) { return c.ListServers(ctx) },
			"no servers deployed: deploy one with `mcp-agent deploy server NAME --type filesystem --allow-path DIR`", "NAME\tSTATUS\tRUNS\tENDPOINT",
			func(s api.Server) string {
				return fmt.Sprintf("%s\t%s\t%s\t%s", s.Name, s.Status, serverTargetOf(s.Spec), s.Endpoint)
			}),
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
	return cloudStatusCmd(g, "Show a deployed server's status, process and recent events", printStatus)
}

func printStatus(ctx context.Context, cmd *cobra.Command, g *globalFlags, c *client.Client, name string) error {
	s, err := c.GetServer(ctx, name)
	if err != nil {
		return err
	}
	if g.json {
		return writeJSON(cmd, s)
	}
	rows := [][2]string{
		{"name", s.FullName},
		{"id", s.ID},
		{"status", statusText(s.Status, s.StatusMessage)},
		{"desired", s.DesiredState},
		{"runs", serverTargetOf(s.Spec)},
		{"endpoint", s.Endpoint},
		{"console", s.ConsoleURL},
	}
	if r := s.Runtime; r != nil {
		rows = append(rows, processRows(r, true)...)
	}
	for _, ap := range s.Spec.AllowedPaths {
		rows = append(rows, [2]string{"path", ap.Path + " (" + ap.Mode + ")"})
	}
	rows = append(rows, egressRows(s.Spec.EgressAllow)...)
	if s.Spec.Public {
		rows = append(rows, [2]string{"access", "public"})
	}
	printStatusPanel(cmd.OutOrStdout(), "server "+s.Name, rows, func() ([]api.Event, error) { return c.Events(ctx, name, 8) })
	return nil
}

func newLogsCmd(g *globalFlags) *cobra.Command {
	return newCloudLogsCmd(g, "Show a deployed server's logs (its stderr and the runtime's notes)",
		`  mcp-agent logs files
  mcp-agent logs files -f --since 10m`,
		(*client.Client).Logs, (*client.Client).FollowLogs)
}

// writeJSONLine prints v as one line of JSON.
func writeJSONLine(cmd *cobra.Command, v any) error {
	return json.NewEncoder(cmd.OutOrStdout()).Encode(v)
}

// addCloudServerCmds adds the cloud subcommands of "servers": start, stop,
// restart, delete and status of deployed servers.
func addCloudServerCmds(servers *cobra.Command, g *globalFlags) {
	servers.AddCommand(
		serverKind.opCmd(g, "start", "Start a deployed server", (*client.Client).StartServer, "started"),
		serverKind.opCmd(g, "stop", "Stop a deployed server", (*client.Client).StopServer, "stopped"),
		serverKind.opCmd(g, "restart", "Restart a deployed server", (*client.Client).RestartServer, "restarted"),
		serverKind.deleteCmd("Stop and delete a deployed server (cloud)",
			"Stop and delete a server deployed on the cloud platform at $MCP_AGENT_CLOUD_URL (default "+client.DefaultURL+"). Its name is free at once.",
			(*client.Client).DeleteServer),
		cloudStatusCmd(g, "Show a deployed server's status (cloud)", printStatus),
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
