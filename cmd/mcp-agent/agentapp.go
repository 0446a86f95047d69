package main

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"sync"
	"time"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/app"
	"github.com/mcp-agent-go/mcp-agent/appserver"
	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/providers"
	"github.com/mcp-agent-go/mcp-agent/workflow/declarative"
)

// modelFlags choose the model of a long-running command's agents.
type modelFlags struct {
	provider, model, script string
}

// agentApp is the app a long-running command (serve, worker) runs: every
// declared agent can get an LLM, human input, sampling and elicitation are
// relayed to the connected MCP client, and each agent is a durable workflow.
type agentApp struct {
	*app.App
	Upstream *appserver.Upstream
	// NewLLM gives an agent its LLM: --provider, else the agent's provider,
	// else the configured one; --model, else the agent's model.
	NewLLM func(*agent.Agent) (llm.AugmentedLLM, error)
	// Workflows names the agents registered as workflows.
	Workflows []string
}

// workflowNameRE is what workflow.Define accepts as a name.
var workflowNameRE = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,127}$`)

// newAgentApp loads the settings and builds the app. opts.Settings, Logger
// and the relay handlers are filled here; the caller may set the rest.
func newAgentApp(g *globalFlags, m modelFlags, logger *slog.Logger, opts app.Options) (*agentApp, error) {
	settings, err := loadSettings(g)
	if err != nil {
		return nil, err
	}
	settings.MCP.Servers = selfCommand(settings.MCP.Servers)
	if m.script != "" && m.provider == "" {
		m.provider = "replay"
	}
	var specs []config.AgentSpec
	if settings.Agents != nil {
		specs = settings.Agents.Definitions
	}

	// One provider per provider name, shared by every call (a replay script
	// plays on across calls).
	provs := map[string]llm.Provider{}
	var provMu sync.Mutex
	providerFor := func(name string) (llm.Provider, error) {
		if m.provider != "" {
			name = m.provider
		}
		provMu.Lock()
		defer provMu.Unlock()
		if p, ok := provs[name]; ok {
			return p, nil
		}
		p, err := providers.New(settings, providers.Options{Provider: name, ReplayScript: m.script})
		if err != nil {
			return nil, err
		}
		provs[name] = p
		return p, nil
	}
	for _, spec := range specs {
		if _, err := providerFor(spec.Provider); err != nil {
			return nil, fmt.Errorf("agent %q: %w", spec.Name, err)
		}
	}
	var sampling appserver.SamplingFunc
	if p, err := providerFor(""); err == nil {
		sampling = llm.SamplingHandler(p, nil)
	}

	up := appserver.NewUpstream()
	opts.Settings = settings
	opts.Logger = logger
	opts.SamplingHandler = up.SamplingHandler(sampling)
	opts.ElicitationHandler = up.ElicitationHandler(nil)
	opts.HumanInput = up.HumanInput(nil)
	opts.OnLog = up.ForwardLog
	a, err := app.New(opts)
	if err != nil {
		return nil, err
	}

	specByName := map[string]config.AgentSpec{}
	for _, s := range specs {
		specByName[s.Name] = s
	}
	aa := &agentApp{App: a, Upstream: up}
	aa.NewLLM = func(ag *agent.Agent) (llm.AugmentedLLM, error) {
		spec := specByName[ag.Name()]
		p, err := providerFor(spec.Provider)
		if err != nil {
			return nil, err
		}
		// The agent's declared request params; --model wins.
		params := llm.MergeParams(declarative.AgentParams(spec), &llm.RequestParams{Model: m.model})
		if len(spec.Tools) > 0 {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			filter, err := toolFilter(ctx, ag, spec.Tools)
			cancel()
			if err != nil {
				return nil, err
			}
			params.ToolFilter = filter
		}
		return llm.New(ag, p, &llm.Options{Params: params}), nil
	}
	return aa, nil
}

// registerAgentWorkflows registers every declared agent as a durable
// workflow of the same name (skipping names a workflow cannot have, and
// names already registered), before the executor opens.
func (a *agentApp) registerAgentWorkflows(logger *slog.Logger) error {
	s := a.Settings()
	if s.Agents == nil {
		return nil
	}
	for _, spec := range s.Agents.Definitions {
		if !workflowNameRE.MatchString(spec.Name) {
			logger.Warn("agent not run as a workflow: its name is not a valid workflow name", "agent", spec.Name)
			continue
		}
		if _, taken := a.App.Workflows().Lookup(spec.Name); taken {
			continue
		}
		ag, err := a.Agent(spec.Name)
		if err != nil {
			return err
		}
		if err := a.Register(appserver.AgentWorkflow(ag, a.NewLLM, nil)); err != nil {
			return err
		}
		a.Workflows = append(a.Workflows, spec.Name)
	}
	return nil
}
