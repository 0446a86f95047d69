package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/app"
	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/providers"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/declarative"
)

// runFlags are the flags of run and chat.
type runFlags struct {
	agent         string
	workflow      string
	provider      string
	model         string
	script        string
	record        string
	maxIterations int
	timeout       time.Duration
	plain         bool
	verbose       bool
}

func (f *runFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVarP(&f.agent, "agent", "a", "", "agent to run (default: the only declared agent)")
	cmd.Flags().StringVar(&f.workflow, "workflow", "", "declared workflow to run (workflows: in the config) instead of an agent")
	cmd.Flags().StringVarP(&f.provider, "provider", "p", "", "model provider: openai, anthropic or replay (default: the configured one)")
	cmd.Flags().StringVarP(&f.model, "model", "m", "", "model (default: the agent's model, else the provider's default_model)")
	cmd.Flags().StringVar(&f.script, "script", "", "replay script to play (with --provider replay); with --workflow, a directory of AGENT.yaml scripts or one shared script")
	cmd.Flags().StringVar(&f.record, "record", "", "also write the model's responses to this file as a replay script (with --workflow: a directory, one AGENT.yaml per agent)")
	cmd.Flags().IntVar(&f.maxIterations, "max-iterations", 0, "most model calls per turn (default 10)")
	cmd.Flags().DurationVar(&f.timeout, "timeout", 10*time.Minute, "give up after this long")
	cmd.Flags().BoolVar(&f.plain, "plain", false, "plain text output even on a terminal")
	cmd.Flags().BoolVarP(&f.verbose, "verbose", "v", false, "log server stderr and notifications to stderr")
}

// session is an agent-backed LLM or a declared workflow ready to run, with
// its app and usage.
type session struct {
	app *app.App
	llm llm.AugmentedLLM
	// workflow: llm is a declared workflow, whose members' drafts are not
	// the answer (see turn).
	workflow bool
	usage    *llm.UsageTracker
	start    time.Time
}

func (s *session) Close() { s.app.Close() }

// newSession loads the app, picks the agent and the provider, and builds
// the LLM.
func newSession(cmd *cobra.Command, g *globalFlags, f *runFlags) (*session, error) {
	settings, err := loadSettings(g)
	if err != nil {
		return nil, err
	}
	settings.MCP.Servers = selfCommand(settings.MCP.Servers)
	if f.workflow != "" {
		if f.agent != "" {
			return nil, errors.New("--agent and --workflow cannot be used together: run one agent, or one workflow (which runs its own agents)")
		}
		return newWorkflowSession(cmd, settings, f)
	}
	spec, err := pickAgent(settings, f.agent)
	if err != nil {
		return nil, err
	}
	if f.script != "" && f.provider == "" {
		f.provider = "replay"
	}
	provName := f.provider
	if provName == "" {
		provName = spec.Provider
	}
	p, err := providers.New(settings, providers.Options{Provider: provName, ReplayScript: f.script, RecordTo: f.record})
	if err != nil {
		return nil, err
	}
	usage := llm.NewUsageTracker("run", llm.UsageRun)
	opts := app.Options{
		Settings:        settings,
		Logger:          cliLogger(f.verbose),
		SamplingHandler: llm.SamplingHandler(p, &llm.SamplingOptions{Usage: usage.Child("sampling", llm.UsageLLM)}),
		HumanInput:      terminalHumanInput(cmd.InOrStdin(), cmd.ErrOrStderr()),
	}
	a, err := app.New(opts)
	if err != nil {
		return nil, err
	}
	ag, err := a.Agent(spec.Name)
	if err != nil {
		a.Close()
		return nil, err
	}
	params := agentParams(spec, f)
	l := llm.New(ag, p, &llm.Options{Params: params})
	if len(spec.Tools) > 0 {
		filter, err := toolFilter(cmd.Context(), ag, spec.Tools)
		if err != nil {
			a.Close()
			return nil, err
		}
		params.ToolFilter = filter
	}
	return &session{app: a, llm: l, usage: usage, start: time.Now()}, nil
}

// newWorkflowSession builds the declared workflow f.workflow. Each of its
// agents gets the provider --provider names, else its own provider, else the
// configured one; --model, else its own model; its declared request
// parameters (temperature, max_tokens, ...; --max-iterations wins over
// max_iterations). With the replay provider,
// --script DIR plays DIR/AGENT.yaml for each agent (DIR/SERVER.yaml for a
// router's server category, DIR/SWARM.yaml for a swarm's agents), --script
// FILE one script shared by all.
func newWorkflowSession(cmd *cobra.Command, settings *config.Settings, f *runFlags) (*session, error) {
	if _, ok := settings.Workflows[f.workflow]; !ok {
		// Fail with the list of declared workflows, before starting anything.
		_, err := declarative.Build(cmd.Context(), settings, f.workflow, func(context.Context, config.AgentSpec) (llm.AugmentedLLM, error) {
			return nil, errors.New("not reached")
		}, nil)
		return nil, err
	}
	if f.script != "" && f.provider == "" {
		f.provider = "replay"
	}
	models := &workflowProviders{settings: settings, f: f, shared: map[string]llm.Provider{}}
	if f.script != "" {
		st, err := os.Stat(f.script)
		if err != nil {
			return nil, fmt.Errorf("replay script: %w", err)
		}
		models.scriptDir = st.IsDir()
	}
	usage := llm.NewUsageTracker("run", llm.UsageRun)
	human := terminalHumanInput(cmd.InOrStdin(), cmd.ErrOrStderr())
	opts := app.Options{
		Settings:   settings,
		Logger:     cliLogger(f.verbose),
		HumanInput: human,
	}
	// Servers' sampling requests go to the default provider, when there is one.
	if p, err := models.provider("sampling", ""); err == nil {
		opts.SamplingHandler = llm.SamplingHandler(p, &llm.SamplingOptions{Usage: usage.Child("sampling", llm.UsageLLM)})
	}
	a, err := app.New(opts)
	if err != nil {
		return nil, err
	}
	agents := func(ctx context.Context, spec config.AgentSpec) (llm.AugmentedLLM, error) {
		ag, err := a.Agent(spec.Name)
		if err != nil {
			return nil, err
		}
		p, err := models.provider(spec.Name, spec.Provider)
		if err != nil {
			return nil, err
		}
		params := agentParams(spec, f)
		if len(spec.Tools) > 0 {
			if params.ToolFilter, err = toolFilter(ctx, ag, spec.Tools); err != nil {
				return nil, err
			}
		}
		return llm.New(ag, p, &llm.Options{Params: params}), nil
	}
	// A request routed to a server category is answered by an agent with
	// only that server.
	serverLLM := func(ctx context.Context, server string) (llm.AugmentedLLM, error) {
		ag, err := a.NewAgent(agent.Config{
			Name:        server,
			Instruction: fmt.Sprintf("Answer the request using the tools of the %s server.", server),
			ServerNames: []string{server},
		})
		if err != nil {
			return nil, err
		}
		p, err := models.provider(server, "")
		if err != nil {
			return nil, err
		}
		return llm.New(ag, p, &llm.Options{Params: &llm.RequestParams{Model: f.model, MaxIterations: f.maxIterations}}), nil
	}
	// A swarm's agents share one provider: the one for the swarm's name
	// (with replay and --script DIR, DIR/SWARM.yaml).
	swarmProvider := func(ctx context.Context, name string) (llm.Provider, *llm.RequestParams, error) {
		p, err := models.provider(name, "")
		return p, &llm.RequestParams{Model: f.model, MaxIterations: f.maxIterations}, err
	}
	// A swarm agent that declares its own provider or model runs on it,
	// unless --provider / --model say otherwise (as for the other patterns),
	// with its declared request parameters.
	swarmAgent := func(ctx context.Context, _ string, spec config.AgentSpec) (llm.Provider, *llm.RequestParams, error) {
		params := agentParams(spec, f)
		if f.provider != "" || spec.Provider == "" {
			return nil, params, nil // the swarm's provider
		}
		p, err := models.provider(spec.Name, spec.Provider)
		return p, params, err
	}
	w, err := declarative.Build(cmd.Context(), settings, f.workflow, agents, &declarative.Options{
		Servers:   a.Servers(),
		ServerLLM: serverLLM,
		Swarm:     &declarative.SwarmOptions{Provider: swarmProvider, Agent: swarmAgent, Servers: a.Servers(), HumanInput: human},
	})
	if err != nil {
		a.Close()
		return nil, err
	}
	return &session{app: a, llm: w, workflow: true, usage: usage, start: time.Now()}, nil
}

// agentParams returns the request defaults of a declared agent: those it
// declares (model, temperature, max_tokens, ...), with --model and
// --max-iterations winning when set.
func agentParams(spec config.AgentSpec, f *runFlags) *llm.RequestParams {
	return llm.MergeParams(declarative.AgentParams(spec), &llm.RequestParams{Model: f.model, MaxIterations: f.maxIterations})
}

// workflowProviders gives each agent of a workflow its model provider.
type workflowProviders struct {
	settings  *config.Settings
	f         *runFlags
	scriptDir bool                    // --script is a directory of AGENT.yaml
	shared    map[string]llm.Provider // by provider name
}

// provider returns the provider of the agent named name, which declares
// declared ("" for none).
func (m *workflowProviders) provider(name, declared string) (llm.Provider, error) {
	prov := m.f.provider
	if prov == "" {
		prov = declared
	}
	var (
		p   llm.Provider
		err error
	)
	if strings.EqualFold(prov, "replay") && m.scriptDir {
		script := filepath.Join(m.f.script, name+".yaml")
		if _, serr := os.Stat(script); serr == nil {
			p, err = providers.New(m.settings, providers.Options{Provider: prov, ReplayScript: script})
		} else {
			// Only an error if the agent is called: a workflow builds
			// agents it may not use (a router's other routes).
			p = noScript{fmt.Errorf("no replay script for %q: want %s (--script DIR plays DIR/NAME.yaml for each agent of the workflow)", name, script)}
		}
	} else if p = m.shared[prov]; p == nil {
		p, err = providers.New(m.settings, providers.Options{Provider: prov, ReplayScript: m.f.script})
		m.shared[prov] = p
	}
	if err != nil {
		delete(m.shared, prov)
		return nil, err
	}
	if m.f.record != "" {
		if err := os.MkdirAll(m.f.record, 0o755); err != nil {
			return nil, fmt.Errorf("--record: %w", err)
		}
		p = replay.NewRecorder(p, filepath.Join(m.f.record, name+".yaml"))
	}
	return p, nil
}

// noScript is the replay provider of an agent without a script: every call
// fails with err.
type noScript struct{ err error }

func (noScript) Name() string { return "replay" }

func (p noScript) Complete(context.Context, *llm.Request) (*llm.Response, error) {
	return nil, p.err
}

func (p noScript) Stream(context.Context, *llm.Request) iter.Seq2[*llm.Chunk, error] {
	return func(yield func(*llm.Chunk, error) bool) { yield(nil, p.err) }
}

// pickAgent returns the declared agent named name, or the only one.
func pickAgent(s *config.Settings, name string) (config.AgentSpec, error) {
	var defs []config.AgentSpec
	if s.Agents != nil {
		defs = s.Agents.Definitions
	}
	names := make([]string, len(defs))
	for i, d := range defs {
		if d.Name == name {
			return d, nil
		}
		names[i] = d.Name
	}
	switch {
	case len(defs) == 0:
		return config.AgentSpec{}, errors.New("no agents are declared: add one under agents.definitions in mcp_agent.config.yaml (or a file in .claude/agents)")
	case name == "" && len(defs) == 1:
		return defs[0], nil
	case name == "":
		return config.AgentSpec{}, fmt.Errorf("several agents are declared (%s): choose one with --agent", strings.Join(names, ", "))
	}
	return config.AgentSpec{}, fmt.Errorf("unknown agent %q (declared: %s)", name, strings.Join(names, ", "))
}

// toolFilter keeps the patterns of an agent's tools list that match at least
// one of its tools (Claude Code subagent files name Claude Code's own tools,
// which mean nothing here). All unmatched: no filter.
func toolFilter(ctx context.Context, ag *agent.Agent, patterns []string) ([]string, error) {
	tools, err := ag.ListTools(ctx)
	if err != nil {
		return nil, err
	}
	var keep []string
	for _, p := range patterns {
		for _, t := range tools {
			if ok, _ := path.Match(p, t.Name); ok {
				keep = append(keep, p)
				break
			}
		}
	}
	return keep, nil
}

// terminalHumanInput answers the agent's __human_input__ tool from the
// terminal: the question on w, the answer one line from r.
func terminalHumanInput(r io.Reader, w io.Writer) agent.HumanInputFunc {
	br := bufio.NewReader(r)
	return func(ctx context.Context, req agent.HumanInputRequest) (string, error) {
		fmt.Fprintf(w, "\n? %s\n> ", req.Prompt)
		type line struct {
			s   string
			err error
		}
		ch := make(chan line, 1)
		go func() {
			s, err := br.ReadString('\n')
			ch <- line{s, err}
		}()
		select {
		case l := <-ch:
			if l.err != nil && l.s == "" {
				return "", fmt.Errorf("no answer from the terminal: %w", l.err)
			}
			return strings.TrimRight(l.s, "\r\n"), nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

func newRunCmd(g *globalFlags) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "run [--agent NAME | --workflow NAME] MESSAGE...",
		Short: "Run a declared agent or workflow on a message and print its answer, tool calls and usage",
		Long: `Run one turn of a declared agent (agents.definitions, or an agent file) on a
message: the model is called, the tools it asks for run on the agent's MCP
servers, and the answer streams to standard output. Tool calls and the usage
summary (time, tokens, cost) go to standard error. MESSAGE "-" reads the message
from standard input.

The provider is --provider, else the agent's provider, else the configured one
(openai or anthropic with an API key). --provider replay --script FILE plays a
scripted conversation with no API key.

--workflow NAME runs a workflow declared under workflows: (parallel, router,
intent, evaluator-optimizer, orchestrator; see docs/patterns.md) instead: the
members' messages go to standard error, the workflow's answer to standard
output. Each agent uses --provider, else its own provider, else the configured
one. With replay, --script DIR plays DIR/AGENT.yaml for each agent, and --record
DIR writes one AGENT.yaml per agent.`,
		Example: `  mcp-agent run --agent finder "What is in README.md?"
  mcp-agent run --config examples/finder/mcp_agent.config.yaml --script examples/finder/finder.replay.yaml "Summarise README.md"
  mcp-agent run --config examples/declarative/mcp_agent.config.yaml --script examples/declarative/replay --workflow desk "Write a short post about tide pools"`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			msg := strings.Join(args, " ")
			if msg == "-" {
				b, err := io.ReadAll(cmd.InOrStdin())
				if err != nil {
					return fmt.Errorf("read the message from stdin: %w", err)
				}
				msg = strings.TrimSpace(string(b))
			}
			if strings.TrimSpace(msg) == "" {
				return errors.New("empty message: give the agent something to do")
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			s, err := newSession(cmd, g, f)
			if err != nil {
				return err
			}
			defer s.Close()
			view := newTurnView(cmd.OutOrStdout(), cmd.ErrOrStderr(), f.plain, g.json)
			answer, err := s.turn(ctx, msg, view)
			report := s.usage.Report(nil)
			elapsed := time.Since(s.start)
			if g.json {
				out := map[string]any{"answer": answer, "usage": report, "elapsed_ms": elapsed.Milliseconds()}
				if err != nil {
					out["error"] = err.Error()
				}
				if werr := writeJSON(cmd, out); werr != nil {
					return werr
				}
			} else {
				view.summary(report.Summary(elapsed))
			}
			return err
		},
	}
	f.register(cmd)
	return cmd
}

// turn runs one turn, rendering its events, and returns the answer.
func (s *session) turn(ctx context.Context, msg string, view *turnView) (string, error) {
	ctx = llm.ContextWithUsage(ctx, s.usage)
	var answer string
	for ev, err := range s.llm.Stream(ctx, llm.Prompt(msg), nil) {
		if err != nil {
			view.endText()
			return answer, err
		}
		if s.workflow {
			s.workflowEvent(view, ev)
		} else {
			view.event(ev)
		}
		if ev.Kind == llm.EventFinal && ev.Message != nil {
			answer = ev.Message.Text()
		}
	}
	view.endText()
	return answer, nil
}

// workflowEvent renders an event of a workflow's turn. Members' text (drafts,
// parallel answers, a router's route) is not the answer: the members'
// messages go to standard error as one line each, tool calls as for an
// agent, and the workflow's final answer to standard output.
func (s *session) workflowEvent(view *turnView, ev *llm.Event) {
	if view.quiet {
		return
	}
	switch ev.Kind {
	case llm.EventToolCallStarted, llm.EventToolCallFinished:
		view.event(ev)
	case llm.EventMessage:
		if ev.Message != nil && strings.TrimSpace(ev.Message.Text()) != "" {
			fmt.Fprintln(view.errw, view.render(view.dim, "· "+ev.Source+": "+oneLine(ev.Message.Text(), 160)))
		}
	case llm.EventFinal:
		if ev.Source == s.llm.Name() && ev.Message != nil {
			fmt.Fprintln(view.out, ev.Message.Text())
		}
	}
}

func newChatCmd(g *globalFlags) *cobra.Command {
	f := &runFlags{}
	cmd := &cobra.Command{
		Use:   "chat [--agent NAME]",
		Short: "Talk with a declared agent, turn after turn",
		Long: `Start a multi-turn conversation with a declared agent: each line you type is a
turn; the agent keeps the conversation's history. Type /exit (or end the input)
to stop; the usage summary of the whole session is printed then.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			s, err := newSession(cmd, g, f)
			if err != nil {
				return err
			}
			defer s.Close()
			view := newTurnView(cmd.OutOrStdout(), cmd.ErrOrStderr(), f.plain, false)
			in := bufio.NewScanner(cmd.InOrStdin())
			in.Buffer(make([]byte, 0, 64*1024), 1<<20)
			for {
				view.prompt()
				if !in.Scan() {
					break
				}
				line := strings.TrimSpace(in.Text())
				if line == "" {
					continue
				}
				if line == "/exit" || line == "/quit" {
					break
				}
				if _, err := s.turn(ctx, line, view); err != nil {
					if ctx.Err() != nil {
						return err
					}
					view.failure(err)
				}
			}
			view.summary(s.usage.Report(nil).Summary(time.Since(s.start)))
			return in.Err()
		},
	}
	f.register(cmd)
	return cmd
}
