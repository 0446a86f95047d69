package main

import (
	"github.com/spf13/cobra"
)

// globalFlags are the flags every command accepts.
type globalFlags struct {
	configPath string
	json       bool
}

func newRootCmd() *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "mcp-agent",
		Short: "Build, run and operate AI agents on the Model Context Protocol",
		Long: `mcp-agent builds, runs and operates AI agents on the Model Context Protocol (MCP).

An app is configured by mcp_agent.config.yaml (searched in the working
directory and its parents, or given with --config), with secrets merged from
mcp_agent.secrets.yaml next to it.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().StringVarP(&g.configPath, "config", "c", "", "path to mcp_agent.config.yaml (default: search the working directory and its parents)")
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print machine-readable JSON")
	root.AddCommand(newVersionCmd(g), newConfigCmd(g), newServersCmd(g), newBuiltinCmd(), newRunCmd(g), newChatCmd(g))
	root.AddCommand(newCloudCmd(g), newDeployCmd(g), newListCmd(g), newStatusCmd(g), newLogsCmd(g))
	root.AddCommand(newWorkflowsCmd(g), newServeCmd(g), newWorkerCmd(g))
	registerAppCmds(root, g)
	return root
}
