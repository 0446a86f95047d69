package main

// mcp-agent agents run APP.AGENT "message": an agent of a deployed app,
// run as its durable workflow.

import (
	"context"
	"encoding/json"
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
		Short: "Run the agents of deployed apps, and pause, resume or stop their runs",
	}
	cmd.AddCommand(newAgentsRunCmd(g), newAgentsResumeCmd(g),
		agentOpCmd(g, "pause", "Pause a run of an agent before its next step", "scheduled or running", (*client.Client).PauseAgent, "pause requested"),
		agentOpCmd(g, "stop", "Cancel a run of an agent", "active", (*client.Client).StopAgent, "cancel requested"))
	return cmd
}

// agentOpCmd is agents pause and agents stop.
func agentOpCmd(g *globalFlags, use, short, which string, f func(*client.Client, context.Context, string, string, string) (api.Run, error), done string) *cobra.Command {
	var run string
	cmd := &cobra.Command{
		Use:   use + " APP.AGENT",
		Short: short,
		Long: short + `: the run named by --run, or without it the agent's one ` + which + `
run (when it has none or several, the error lists them).`,
		Example: "  mcp-agent agents " + use + " approval.publisher\n  mcp-agent agents " + use + " approval.publisher --run approval.run-3f2a",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			app, agent, err := api.SplitName(args[0], "agent")
			if err != nil {
				return err
			}
			return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
				r, err := f(c, ctx, app, agent, run)
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
	cmd.Flags().StringVar(&run, "run", "", "the run (APP.RUN_ID or RUN_ID); default the agent's only one")
	return cmd
}

func newAgentsResumeCmd(g *globalFlags) *cobra.Command {
	var run, payload, answer string
	cmd := &cobra.Command{
		Use:   "resume APP.AGENT",
		Short: "Resume a run of an agent: answer its question, or lift a pause",
		Long: `Resume a run of an agent: the run named by --run, or without it the agent's
one paused run (when it has none or several, the error lists them). --answer
sends a text answer to the agent's question, --payload any JSON value; with
neither, a pause is lifted.`,
		Example: `  mcp-agent agents resume approval.publisher --answer yes
  mcp-agent agents resume approval.publisher --run approval.run-3f2a --answer no`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			app, agent, err := api.SplitName(args[0], "agent")
			if err != nil {
				return err
			}
			req := api.AgentRunControl{Run: run}
			switch {
			case payload != "" && answer != "":
				return fmt.Errorf("give --payload or --answer, not both")
			case payload != "":
				if req.Payload, err = jsonArg("--payload", payload); err != nil {
					return err
				}
			case answer != "":
				req.Payload, _ = json.Marshal(answer)
			}
			return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
				r, err := c.ResumeAgent(ctx, app, agent, req)
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
	cmd.Flags().StringVar(&run, "run", "", "the run (APP.RUN_ID or RUN_ID); default the agent's only paused one")
	cmd.Flags().StringVar(&payload, "payload", "", "the JSON value the run waits for")
	cmd.Flags().StringVar(&answer, "answer", "", "a text answer (sent as a JSON string)")
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
