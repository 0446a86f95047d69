package agent

import (
	"fmt"

	"github.com/mcp-agent-go/mcp-agent/config"
)

// FromSpecOptions adds to a declared agent what a YAML file cannot hold.
// The zero value adds nothing.
type FromSpecOptions struct {
	// Tools are Go function tools to give the agent.
	Tools []Tool
	// HumanInput answers the human input tool. It is required when the spec
	// sets human_input: true, and ignored when it does not.
	HumanInput HumanInputFunc
	// ToolFilter limits the agent's tools (nil keeps all).
	ToolFilter ToolFilter
}

// FromSpec returns the agent declared by spec (an entry of
// agents.definitions in mcp_agent.config.yaml). Provider and Model are the
// LLM layer's business and are not read here. opts may be nil.
func FromSpec(spec config.AgentSpec, servers Servers, opts *FromSpecOptions) (*Agent, error) {
	if opts == nil {
		opts = &FromSpecOptions{}
	}
	cfg := Config{
		Name:        spec.Name,
		Instruction: spec.Instruction,
		ServerNames: spec.ServerNames,
		Tools:       opts.Tools,
		ToolFilter:  opts.ToolFilter,
	}
	if spec.HumanInput {
		if opts.HumanInput == nil {
			return nil, fmt.Errorf("agent %q: %w: human_input is true but no HumanInputFunc was given; pass FromSpecOptions.HumanInput", spec.Name, ErrInvalidConfig)
		}
		cfg.HumanInput = opts.HumanInput
	}
	return New(cfg, servers)
}
