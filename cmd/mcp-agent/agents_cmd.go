package main

// mcp-agent agents run APP.AGENT "message": an agent of a deployed app,
// run as its durable workflow.

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/client"
	"github.com/mcp-agent-go/mcp-agent/llm"
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
	var (
		wait   time.Duration
		stream bool
	)
	cmd := &cobra.Command{
		Use:   `run APP.AGENT "MESSAGE"`,
		Short: "Run an agent of a deployed app on a message and print its answer",
		Long: `Run an agent of a deployed app on a message and print its answer.

The agent runs as a durable workflow run of the app: when it asks a person
a question, the command prints the question and the run waits (across
restarts) until "mcp-agent runs resume APP.RUN_ID --answer TEXT" (or
"mcp-agent agents resume APP.AGENT --answer TEXT") answers it.

The answer goes to standard output; the run's token usage and cost (when
the app reports them) to standard error. --json prints the whole result,
usage included.

--stream shows the run as it goes (its ID at once, each status change, the
agent's question) on standard error; with --json it prints every event as
one JSON line instead.`,
		Example: `  mcp-agent agents run approval.publisher "publish the launch post"
  mcp-agent agents run approval.publisher "publish the launch post" --stream`,
		Args: cobra.ExactArgs(2),
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
			if stream {
				return streamAgentRun(ctx, cmd, g, c, args[0], app, agent, args[1], wait)
			}
			res, err := c.RunAgent(ctx, app, agent, args[1], wait)
			if err != nil {
				return err
			}
			if g.json {
				return writeJSON(cmd, res)
			}
			return printAgentResult(cmd, args[0], res)
		},
	}
	cmd.Flags().DurationVar(&wait, "wait", api.DefaultAgentWait, "how long to wait for the answer")
	cmd.Flags().BoolVar(&stream, "stream", false, "show the run's status changes as they happen")
	return cmd
}

// streamAgentRun is agents run --stream.
func streamAgentRun(ctx context.Context, cmd *cobra.Command, g *globalFlags, c *client.Client, name, app, agent, message string, wait time.Duration) error {
	errw := cmd.ErrOrStderr()
	for ev, err := range c.StreamAgent(ctx, app, agent, message, wait) {
		if err != nil {
			return err
		}
		if g.json {
			if err := writeJSONLine(cmd, ev); err != nil {
				return err
			}
			continue
		}
		switch ev.Type {
		case api.AgentStarted, api.AgentStatus:
			fmt.Fprintf(errw, "run %s: %s\n", ev.Run, ev.Status)
		case api.AgentResult:
			if ev.Result != nil {
				return printAgentResult(cmd, name, *ev.Result)
			}
		}
	}
	return nil
}

// printAgentResult prints the outcome of an agent run.
func printAgentResult(cmd *cobra.Command, name string, res api.AgentRunResult) error {
	w := cmd.OutOrStdout()
	switch {
	case res.Status == "completed":
		fmt.Fprintln(w, res.Answer)
		if res.Usage != nil {
			fmt.Fprintf(cmd.ErrOrStderr(), "run %s: %s\n", res.Run, usageSummary(res.Usage))
		}
	case res.Status == "paused" && res.Waiting != nil:
		fmt.Fprintf(w, "the agent asks: %s\n", res.Waiting.Prompt)
		fmt.Fprintf(w, "run %s waits for the answer: mcp-agent runs resume %s --answer TEXT\n", res.Run, res.Run)
	case res.Status == "paused":
		fmt.Fprintf(w, "run %s is paused: resume it with mcp-agent runs resume %s\n", res.Run, res.Run)
	case res.Error != "":
		return fmt.Errorf("agent %s: run %s %s: %s", name, res.Run, res.Status, res.Error)
	default:
		fmt.Fprintf(w, "run %s is still %s: follow it with mcp-agent runs status %s --wait\n", res.Run, res.Status, res.Run)
	}
	return nil
}

// usageSummary formats a run's usage on one line, as `mcp-agent run` prints
// it: "1,234 in / 567 out tokens · $0.0042".
func usageSummary(u *api.Usage) string {
	t := u.Tokens
	return llm.FormatSummary(0,
		llm.Usage{InputTokens: t.InputTokens, OutputTokens: t.OutputTokens, CacheReadTokens: t.CacheReadTokens, CacheWriteTokens: t.CacheWriteTokens, ReasoningTokens: t.ReasoningTokens},
		llm.Cost{USD: u.Cost.USD, UnknownModels: u.Cost.UnknownModels})
}
