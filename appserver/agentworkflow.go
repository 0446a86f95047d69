package appserver

// Design notes: agents as durable workflows.
//
// An agent run as a workflow is one step per LLM turn. A step cannot wait
// durably (only workflow code can), so when the agent asks a human
// (__human_input__ through an Upstream's HumanInput) the turn is abandoned:
// the question is recorded, the turn's context is cancelled, and the step
// returns the question as its journaled result. The workflow then pauses on
// workflow.RequestHumanInput (durably: the run survives restarts while it
// waits), and when workflows-resume delivers the answer, the next step runs
// a new turn on the conversation so far: the task, the agent's question as
// its message, the human's answer as the user's. Tools the abandoned turn
// had called before asking run again in the new turn.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/google/jsonschema-go/jsonschema"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// AgentRunInput is the input of an agent workflow.
type AgentRunInput struct {
	Message string `json:"message" jsonschema:"the task for the agent"`
}

// AgentRunOutput is the result of an agent workflow.
type AgentRunOutput struct {
	Answer string `json:"answer"`
	// Exchanges are the questions the agent asked a human and the answers,
	// in order.
	Exchanges []HumanExchange `json:"exchanges,omitempty"`
	// Usage is the tokens and cost of the run's model calls: the sum over
	// its turns (a run paused for a human and resumed has several), named
	// after the workflow, with a child per LLM.
	Usage llm.UsageNode `json:"usage"`
}

// HumanExchange is one question an agent asked and the answer it got.
type HumanExchange struct {
	Question string `json:"question"`
	Answer   string `json:"answer"`
}

// AgentWorkflowOptions configures AgentWorkflow. The zero value is valid.
type AgentWorkflowOptions struct {
	// Name is the workflow's name; "" means the agent's name.
	Name string
	// MaxQuestions bounds how many times a run may ask a human; 0 means 10.
	// The turn after the last allowed answer fails if it asks again.
	MaxQuestions int
	// Params are the LLM parameters of every turn; nil means defaults.
	Params *llm.RequestParams
	// Prices prices the run's usage; nil means llm.DefaultPrices.
	Prices *llm.PriceTable
}

// ErrTooManyQuestions fails an agent run that asks a human more often than
// AgentWorkflowOptions.MaxQuestions allows.
var ErrTooManyQuestions = errors.New("the agent asked a human too many times")

// answerSchema accepts a plain string or {"answer": "..."}.
var answerSchema = &jsonschema.Schema{
	Types:      []string{"string", "object"},
	Properties: map[string]*jsonschema.Schema{"answer": {Type: "string", Description: "the answer to the agent's question"}},
	Required:   []string{"answer"},
}

// turnOutcome is the journaled result of one turn step.
type turnOutcome struct {
	Answer   string `json:"answer,omitempty"`
	Question string `json:"question,omitempty"`
	// Usage is the turn's, journaled with it so that a run replayed after
	// a restart still sums every turn.
	Usage llm.UsageNode `json:"usage"`
}

// AgentWorkflow returns a durable workflow running ag on a message: its
// input is {"message": ...} and its result an AgentRunOutput, {"answer":
// ..., "exchanges": [...], "usage": {...}} (usage: an llm.UsageNode summed
// over the run's turns). Each LLM turn is a step built with newLLM. When the
// agent asks a human (its human input function must be an Upstream's
// HumanInput), the run pauses, with the question as its waiting prompt,
// until it is resumed with the answer (a string, or {"answer": "..."}) on
// the resume signal; the agent then continues with the answer. See the
// design notes in the source for what "continues" means.
//
// AgentWorkflow panics if the name is not a valid workflow name.
func AgentWorkflow(ag *agent.Agent, newLLM func(*agent.Agent) (llm.AugmentedLLM, error), opts *AgentWorkflowOptions) *AgentRunWorkflow {
	var o AgentWorkflowOptions
	if opts != nil {
		o = *opts
	}
	name := o.Name
	if name == "" {
		name = ag.Name()
	}
	if o.MaxQuestions <= 0 {
		o.MaxQuestions = 10
	}
	desc := fmt.Sprintf("Run the %q agent on a task, durably; a question it asks a human pauses the run until workflows-resume answers it.", ag.Name())
	if ins := ag.Instruction(); ins != "" {
		desc += " Agent instruction: " + ins
	}
	// The result is encoded here: the workflow package cannot infer the
	// schema of AgentRunOutput (llm.UsageNode is recursive), so the
	// Definition's output is raw JSON and AgentRunWorkflow states the
	// schema.
	def := workflow.Define(name, func(wctx workflow.Context, in AgentRunInput) (json.RawMessage, error) {
		out, err := runAgentWorkflow(wctx, ag, newLLM, &o, name, in)
		if err != nil {
			return nil, err
		}
		b, err := json.Marshal(out)
		if err != nil {
			return nil, workflow.NonRetryable(fmt.Errorf("encode the result of agent %q: %w", ag.Name(), err))
		}
		return b, nil
	}, &workflow.DefineOptions{Description: desc})
	return &AgentRunWorkflow{def: def, out: agentRunOutputSchema}
}

func runAgentWorkflow(wctx workflow.Context, ag *agent.Agent, newLLM func(*agent.Agent) (llm.AugmentedLLM, error), o *AgentWorkflowOptions, name string, in AgentRunInput) (AgentRunOutput, error) {
	if strings.TrimSpace(in.Message) == "" {
		return AgentRunOutput{}, workflow.NonRetryable(errors.New(`"message" is empty: give the agent something to do`))
	}
	out := AgentRunOutput{Usage: llm.UsageNode{Name: name, Kind: llm.UsageRun}}
	for i := 0; ; i++ {
		msgs := conversation(in.Message, out.Exchanges)
		res, err := workflow.Step(wctx, fmt.Sprintf("turn-%d", i+1), func(ctx context.Context, sc workflow.StepContext) (turnOutcome, error) {
			return runTurn(ctx, ag, newLLM, msgs, o.Params, name, o.Prices)
		}, &workflow.StepOptions{Retry: &workflow.RetryPolicy{MaxAttempts: 2}})
		if err != nil {
			return out, err
		}
		addUsage(&out.Usage, res.Usage)
		if res.Question == "" {
			out.Answer = res.Answer
			return out, nil
		}
		if i >= o.MaxQuestions {
			return out, fmt.Errorf("%w (%d); the last question was %q", ErrTooManyQuestions, o.MaxQuestions, res.Question)
		}
		raw, err := workflow.RequestHumanInput(wctx, res.Question, answerSchema, nil)
		if err != nil {
			return out, err
		}
		out.Exchanges = append(out.Exchanges, HumanExchange{Question: res.Question, Answer: decodeAnswer(raw)})
	}
}

// An AgentRunWorkflow is the durable workflow AgentWorkflow returns: a
// workflow.Workflow (register it with an executor) whose result is an
// AgentRunOutput.
type AgentRunWorkflow struct {
	def *workflow.Definition[AgentRunInput, json.RawMessage]
	out *jsonschema.Schema
}

var _ workflow.Workflow = (*AgentRunWorkflow)(nil)

// Name returns the workflow's name.
func (w *AgentRunWorkflow) Name() string { return w.def.Name() }

// Description says what the workflow does.
func (w *AgentRunWorkflow) Description() string { return w.def.Description() }

// InputSchema is the schema of AgentRunInput.
func (w *AgentRunWorkflow) InputSchema() *jsonschema.Schema { return w.def.InputSchema() }

// OutputSchema is the schema of AgentRunOutput.
func (w *AgentRunWorkflow) OutputSchema() *jsonschema.Schema { return w.out }

// ValidateInput checks a run's input against InputSchema.
func (w *AgentRunWorkflow) ValidateInput(input json.RawMessage) error {
	return w.def.ValidateInput(input)
}

// Execute runs the workflow (executors call it).
func (w *AgentRunWorkflow) Execute(wctx workflow.Context, input json.RawMessage) (json.RawMessage, error) {
	return w.def.Execute(wctx, input)
}

var agentRunOutputSchema = schemaFor[AgentRunOutput]()

// conversation is the task and the exchanges so far, as messages.
func conversation(task string, ex []HumanExchange) []llm.Message {
	msgs := llm.Prompt(task)
	for _, e := range ex {
		msgs = append(msgs, llm.AssistantText(e.Question), llm.UserText(e.Answer))
	}
	return msgs
}

func decodeAnswer(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var a struct {
		Answer string `json:"answer"`
	}
	_ = json.Unmarshal(raw, &a)
	return a.Answer
}

// errAskedHuman cancels a turn whose agent asked a human.
var errAskedHuman = errors.New("the agent asked a human; the run pauses for the answer")

// turn is an agent turn run as a workflow step.
type turn struct {
	cancel context.CancelCauseFunc

	mu       sync.Mutex
	question string
}

type turnKey struct{}

func turnFrom(ctx context.Context) *turn {
	t, _ := ctx.Value(turnKey{}).(*turn)
	return t
}

// asked returns the question asked, if any.
func (t *turn) asked() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.question
}

// ask records the first question and abandons the turn.
func (t *turn) ask(req agent.HumanInputRequest) error {
	t.mu.Lock()
	if t.question == "" {
		t.question = req.Prompt
		if req.Description != "" {
			t.question += "\n\n" + req.Description
		}
	}
	t.mu.Unlock()
	t.cancel(errAskedHuman)
	return errAskedHuman
}

// runTurn runs one turn of ag as a step; its usage is recorded on a
// tracker of its own named name.
func runTurn(ctx context.Context, ag *agent.Agent, newLLM func(*agent.Agent) (llm.AugmentedLLM, error), msgs []llm.Message, params *llm.RequestParams, name string, prices *llm.PriceTable) (turnOutcome, error) {
	l, err := newLLM(ag)
	if err != nil {
		return turnOutcome{}, workflow.NonRetryable(fmt.Errorf("build the LLM of agent %q: %w", ag.Name(), err))
	}
	uctx, tracker := usageScope(ctx, name)
	tctx, cancel := context.WithCancelCause(uctx)
	defer cancel(nil)
	t := &turn{cancel: cancel}
	tctx = context.WithValue(tctx, turnKey{}, t)
	p := llm.MergeParams(params, &llm.RequestParams{UseHistory: llm.Bool(false)})
	answer, _, err := streamTurn(tctx, l, ag.Name(), msgs, p)
	if q := t.asked(); q != "" && ctx.Err() == nil {
		return turnOutcome{Question: q, Usage: tracker.Report(prices)}, nil
	}
	if err != nil {
		return turnOutcome{}, fmt.Errorf("agent %q: %w", ag.Name(), err)
	}
	return turnOutcome{Answer: answer, Usage: tracker.Report(prices)}, nil
}
