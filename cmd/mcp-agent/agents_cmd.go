package main

// mcp-agent agents run APP.AGENT "message": an agent of a deployed app,
// run as its durable workflow.

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
)

func newAgentsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "agents",
		Short: "Run the agents of deployed apps",
	}
	cmd.AddCommand(newAgentsRunCmd(g))
	return cmd
}

func newAgentsRunCmd(g *globalFlags) *cobra.Command {
	var wait time.Duration
	cmd := &cobra.Command{
		Use:   `run APP.AGENT "MESSAGE"`,
		Short: "Run an agent of a deployed app on a message and print its answer",
		Long: `Run an agent of a deployed app on a message and print its answer.

The agent runs as a durable workflow run of the app: when it asks a person
a question, the command prints the question and the run waits (across
restarts) until "mcp-agent runs resume APP.RUN_ID --answer TEXT" answers it.`,
		Example: `  mcp-agent agents run approval.publisher "publish the launch post"`,
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			app, agent, err := api.SplitName(args[0], "agent")
			if err != nil {
				return err
			}
			c, err := cloudClient()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), wait+cloudTimeout)
			defer cancel()
			res, err := c.RunAgent(ctx, app, agent, args[1], wait)
			if err != nil {
				return err
			}
			if g.json {
				return writeJSON(cmd, res)
			}
			w := cmd.OutOrStdout()
			switch {
			case res.Status == "completed":
				fmt.Fprintln(w, res.Answer)
			case res.Status == "paused" && res.Waiting != nil:
				fmt.Fprintf(w, "the agent asks: %s\n", res.Waiting.Prompt)
				fmt.Fprintf(w, "run %s waits for the answer: mcp-agent runs resume %s --answer TEXT\n", res.Run, res.Run)
			case res.Error != "":
				return fmt.Errorf("agent %s: run %s %s: %s", args[0], res.Run, res.Status, res.Error)
			default:
				fmt.Fprintf(w, "run %s is still %s: follow it with mcp-agent runs status %s --wait\n", res.Run, res.Status, res.Run)
			}
			return nil
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", api.DefaultAgentWait, "how long to wait for the answer")
	return cmd
}
