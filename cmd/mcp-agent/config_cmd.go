package main

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/mcp-agent-go/mcp-agent/config"
)

// loadSettings loads the app configuration named by --config, or searched
// from the working directory upwards.
func loadSettings(g *globalFlags) (*config.Settings, error) {
	return config.Load(config.LoadOptions{Path: g.configPath})
}

func newConfigCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Check and show the app configuration",
		Long: `Check and show the app configuration: mcp_agent.config.yaml merged with
mcp_agent.secrets.yaml, ${VAR} references expanded and MCP_AGENT__* environment
overrides applied. See docs/config.md.`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "check",
		Short: "Validate the configuration; errors name file, line and key",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := loadSettings(g)
			if err != nil {
				return err
			}
			if g.json {
				return writeJSON(cmd, map[string]any{"ok": true, "files": s.Files, "servers": len(s.MCP.Servers)})
			}
			fmt.Fprintf(cmd.OutOrStdout(), "ok: %s (%d servers)\n", joinFiles(s.Files), len(s.MCP.Servers))
			return nil
		},
	})
	cmd.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the effective configuration with secrets masked",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := loadSettings(g)
			if err != nil {
				return err
			}
			r := s.Redacted()
			if g.json {
				return writeJSON(cmd, r)
			}
			out, err := r.YAML()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "# loaded from %s\n%s", joinFiles(s.Files), out)
			return nil
		},
	})
	return cmd
}

func joinFiles(files []string) string {
	if len(files) == 0 {
		return "(no file: defaults)"
	}
	out := files[0]
	for _, f := range files[1:] {
		out += " + " + f
	}
	return out
}

func writeJSON(cmd *cobra.Command, v any) error {
	enc := json.NewEncoder(cmd.OutOrStdout())
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
