package main

// mcp-agent secrets set|list|delete: secrets of deployed apps, stored
// encrypted by the platform and injected into the app's environment.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/mcp-agent-go/mcp-agent/cloud/client"
)

func newSecretsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secrets",
		Short: "Manage the secrets of deployed apps (API keys, tokens)",
		Long: `Manage the secrets of apps on the cloud platform at $MCP_AGENT_CLOUD_URL
(default ` + client.DefaultURL + `). A secret is an environment variable of
the app, such as OPENAI_API_KEY (which "${OPENAI_API_KEY}" in its config then
reads). The platform stores it encrypted, injects it when the app starts,
never returns its value and masks it in the app's logs. Secrets are never
part of the deployed package.`,
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "set APP NAME",
			Short: "Set a secret of an app; the value is read from stdin (or a prompt), never the command line",
			Example: `  mcp-agent secrets set support OPENAI_API_KEY            # prompts, without echo
  printf %s "$KEY" | mcp-agent secrets set support OPENAI_API_KEY`,
			Args: cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				value, err := readSecret(cmd, args[1])
				if err != nil {
					return err
				}
				return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
					if err := c.SetSecret(ctx, args[0], args[1], value); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "secret %s of app %s set", args[1], args[0])
					if a, err := c.GetApp(ctx, args[0]); err == nil && a.Status == "running" {
						fmt.Fprintf(cmd.OutOrStdout(), "; the app uses it after `mcp-agent apps restart %s`", args[0])
					}
					fmt.Fprintln(cmd.OutOrStdout())
					return nil
				})
			},
		},
		&cobra.Command{
			Use:   "list APP",
			Short: "List the names of an app's secrets",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
					names, err := c.Secrets(ctx, args[0])
					if err != nil {
						return err
					}
					if g.json {
						return writeJSON(cmd, names)
					}
					if len(names) == 0 {
						fmt.Fprintf(cmd.OutOrStdout(), "app %s has no secrets: set one with `mcp-agent secrets set %s NAME`\n", args[0], args[0])
					}
					for _, n := range names {
						fmt.Fprintln(cmd.OutOrStdout(), n)
					}
					return nil
				})
			},
		},
		&cobra.Command{
			Use:   "delete APP NAME",
			Short: "Delete a secret of an app",
			Args:  cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
					if err := c.DeleteSecret(ctx, args[0], args[1]); err != nil {
						return err
					}
					fmt.Fprintf(cmd.OutOrStdout(), "secret %s of app %s deleted\n", args[1], args[0])
					return nil
				})
			},
		},
	)
	return cmd
}

// readSecret reads a secret's value: without echo from a terminal, else
// all of stdin (one trailing newline dropped).
func readSecret(cmd *cobra.Command, name string) (string, error) {
	in := cmd.InOrStdin()
	if f, ok := in.(*os.File); ok && term.IsTerminal(f.Fd()) {
		fmt.Fprintf(cmd.ErrOrStderr(), "value of %s (not echoed): ", name)
		b, err := term.ReadPassword(f.Fd())
		fmt.Fprintln(cmd.ErrOrStderr())
		if err != nil {
			return "", fmt.Errorf("read the value of %s: %w", name, err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	b, err := io.ReadAll(io.LimitReader(bufio.NewReader(in), 1<<20))
	if err != nil {
		return "", fmt.Errorf("read the value of %s from stdin: %w", name, err)
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if v == "" {
		return "", errors.New("no value on stdin: pipe it in (printf %s \"$VALUE\" | mcp-agent secrets set APP NAME) or run it on a terminal to be prompted")
	}
	return v, nil
}
