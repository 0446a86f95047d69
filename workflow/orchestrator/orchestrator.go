package orchestrator

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"

	"golang.org/x/sync/errgroup"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patternkit"
)

// Mode is how the planner plans.
type Mode string

const (
	// Full (the zero value, also "full") plans every step in one planner
	// call, then runs the steps.
	Full Mode = "full"
	// Iterative plans one step at a time: after each step the planner sees
	// the results so far and plans the next step, or declares the objective
	// complete.
	Iterative Mode = "iterative"
)

// WorkerErrorPolicy is what a failing task does to the run.
type WorkerErrorPolicy int

const (
	// FailStep (the zero value) cancels the other tasks of the step and
	// fails the run with a [*TaskError].
	FailStep WorkerErrorPolicy = iota
	// ReportErrors records the failure as the task's result: later tasks,
	// the planner (in Iterative mode, so it can plan around it) and the
	// synthesizer see it as a result marked failed="true".
	ReportErrors
)

// Defaults of [Options] fields left at zero.
const (
	DefaultMaxSteps = 10
)

// A Worker is an LLM the planner can assign tasks to, by name.
type Worker struct {
	// LLM does the tasks: an agent-backed llm.LLM or any other
	// AugmentedLLM (a pattern, a Go function adapter).
	LLM llm.AugmentedLLM
	// Name is the name the planner uses; "" means LLM.Name().
	Name string
	// Description tells the planner what the worker can do (its tools,
	// its speciality); "" shows only the name.
	Description string
}

// Options configures an [Orchestrator]. A nil *Options uses every default.
type Options struct {
	// Name names the pattern in events, errors and usage reports; "" is
	// "orchestrator".
	Name string
	// Mode is Full (the zero value) or Iterative.
	Mode Mode
	// Synthesizer writes the final answer from the results; nil uses the
	// planner.
	Synthesizer llm.AugmentedLLM
	// MaxSteps bounds the steps of one run; 0 means DefaultMaxSteps. In
	// Full mode a longer plan is sent back to the planner for repair; in
	// Iterative mode asking for one more step fails the run with
	// ErrMaxSteps.
	MaxSteps int
	// MaxIterations bounds the planning rounds of one run in Iterative
	// mode (a round is one planner answer, with its repair if any); 0
	// means MaxSteps+1, enough to plan MaxSteps steps and then declare
	// completion. Full mode always plans in one round.
	MaxIterations int
	// MaxConcurrency bounds how many tasks of a step run at once; 0 runs
	// them all at once.
	MaxConcurrency int
	// OnWorkerError is what a failing task does; the zero value is
	// FailStep.
	OnWorkerError WorkerErrorPolicy
	// Memory keeps the conversation between turns (user messages and
	// answers); nil uses a new llm.SimpleMemory.
	Memory llm.Memory
	// OnResult, when set, receives the [Result] of every turn, successful
	// or not, before Generate, Stream or Run returns. Use it to inspect
	// the plan of an orchestrator nested inside another pattern.
	OnResult func(*Result)
}

// Orchestrator is the orchestrator-workers pattern: a planner breaks the
// objective (the last user message) into steps of tasks assigned to named
// workers, the tasks run (steps in order, the tasks of a step in
// parallel), and a synthesizer writes the answer from the results. It is
// an [llm.AugmentedLLM] and safe for concurrent use.
type Orchestrator struct {
	name        string
	planner     llm.AugmentedLLM
	synthesizer llm.AugmentedLLM
	workers     []Worker
	byName      map[string]llm.AugmentedLLM
	mode        Mode
	maxSteps    int
	maxIter     int
	limit       int
	policy      WorkerErrorPolicy
	memory      llm.Memory
	onResult    func(*Result)
}

var _ llm.AugmentedLLM = (*Orchestrator)(nil)

// New returns an orchestrator whose planner assigns tasks to workers. The
// planner answers with structured output ([Plan] or [NextStep]) through
// [llm.GenerateStructured], so any AugmentedLLM that can produce JSON
// works, including another pattern such as an evaluator-optimizer.
//
// New fails for a nil planner, no workers, a worker without an LLM,
// duplicate worker names, negative limits or an unknown mode or policy.
func New(planner llm.AugmentedLLM, workers []Worker, opts *Options) (*Orchestrator, error) {
	if opts == nil {
		opts = &Options{}
	}
	o := &Orchestrator{
		name:        opts.Name,
		planner:     planner,
		synthesizer: opts.Synthesizer,
		byName:      make(map[string]llm.AugmentedLLM, len(workers)),
		mode:        opts.Mode,
		maxSteps:    opts.MaxSteps,
		maxIter:     opts.MaxIterations,
		limit:       opts.MaxConcurrency,
		policy:      opts.OnWorkerError,
		memory:      opts.Memory,
		onResult:    opts.OnResult,
	}
	if o.name == "" {
		o.name = "orchestrator"
	}
	fail := func(format string, args ...any) (*Orchestrator, error) {
		return nil, fmt.Errorf("%s: %s", o.label(), fmt.Sprintf(format, args...))
	}
	if planner == nil {
		return fail("no planner: give an AugmentedLLM that plans")
	}
	if len(workers) == 0 {
		return fail("no workers: give at least one Worker")
	}
	for i, w := range workers {
		if w.LLM == nil {
			return fail("worker %d (%q) has no LLM", i, w.Name)
		}
		if w.Name == "" {
			w.Name = w.LLM.Name()
		}
		if w.Name == "" {
			return fail("worker %d has no name: set Worker.Name", i)
		}
		if _, dup := o.byName[w.Name]; dup {
			return fail("two workers are named %q: set Worker.Name to tell them apart", w.Name)
		}
		o.byName[w.Name] = w.LLM
		o.workers = append(o.workers, w)
	}
	switch o.mode {
	case "":
		o.mode = Full
	case Full, Iterative:
	default:
		return fail("unknown mode %q: use %q or %q", o.mode, Full, Iterative)
	}
	if o.policy != FailStep && o.policy != ReportErrors {
		return fail("unknown OnWorkerError policy %d", o.policy)
	}
	if o.maxSteps < 0 || o.maxIter < 0 || o.limit < 0 {
		return fail("MaxSteps, MaxIterations and MaxConcurrency must not be negative (0 means the default)")
	}
	if o.maxSteps == 0 {
		o.maxSteps = DefaultMaxSteps
	}
	if o.maxIter == 0 {
		o.maxIter = o.maxSteps + 1
	}
	if o.synthesizer == nil {
		o.synthesizer = planner
	}
	if o.memory == nil {
		o.memory = llm.NewMemory()
	}
	return o, nil
}

// Name returns the pattern's name.
func (o *Orchestrator) Name() string { return o.name }

// Memory returns the pattern's conversation memory.
func (o *Orchestrator) Memory() llm.Memory { return o.memory }

// Workers returns the registered workers, with their effective names.
func (o *Orchestrator) Workers() []Worker { return slices.Clone(o.workers) }

func (o *Orchestrator) label() string { return fmt.Sprintf("orchestrator %q", o.name) }

// Result is everything one run planned and produced.
type Result struct {
	// Objective is the text of the last user message.
	Objective string
	// Plan holds the steps as planned: in Full mode the accepted plan; in
	// Iterative mode the steps planned so far.
	Plan Plan
	// Steps are the steps that ran (the last one possibly partial when the
	// run failed), with every task's result.
	Steps []StepResult
	// Iterations counts planning rounds.
	Iterations int
	// Messages is what the synthesizer returned; the last is the answer.
	Messages []llm.Message
}

// Answer returns the text of the final answer ("" before synthesis).
func (r *Result) Answer() string { return llm.FinalText(r.Messages) }

// StepResult is one step that ran.
type StepResult struct {
	Step  Step
	Tasks []TaskResult // in the step's task order
}

// TaskResult is one task's outcome.
type TaskResult struct {
	Task Task
	// Output is what the worker returned; the last message is its answer.
	Output []llm.Message
	// Err is the worker's failure, if any.
	Err error
}

// Text returns the worker's answer ("" if it failed).
func (t TaskResult) Text() string { return llm.FinalText(t.Output) }

// Generate runs the pattern on the conversation and returns the
// synthesizer's messages (the last is the answer).
func (o *Orchestrator) Generate(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) ([]llm.Message, error) {
	res, err := o.run(ctx, msgs, params, nil)
	if err != nil {
		return nil, err
	}
	return res.Messages, nil
}

// Stream runs a turn like Generate. It emits, in order: the planner's
// plan as a message event (Source: the planner's name); for each step, the
// workers' events as they happen (Source: each worker's own name;
// concurrent tasks interleave); the synthesizer's events; and the final
// answer.
func (o *Orchestrator) Stream(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) iter.Seq2[*llm.Event, error] {
	return patternkit.Stream(ctx, o.name, func(ctx context.Context, emit patternkit.Emit) ([]llm.Message, error) {
		res, err := o.run(ctx, msgs, params, emit)
		if err != nil {
			return nil, err
		}
		return res.Messages, nil
	})
}

// Run runs a turn like Generate and returns its [Result]: the plan, every
// task's result and the answer. When the run fails after planning, the
// Result holds what was done so far, along with the error.
func (o *Orchestrator) Run(ctx context.Context, msgs []llm.Message, params *llm.RequestParams) (*Result, error) {
	return o.run(ctx, msgs, params, nil)
}

func (o *Orchestrator) run(ctx context.Context, msgs []llm.Message, params *llm.RequestParams, emit patternkit.Emit) (*Result, error) {
	res := &Result{}
	if o.onResult != nil {
		defer func() { o.onResult(res) }()
	}
	conv, err := patternkit.LoadConversation(ctx, o.label(), o.memory, msgs, params)
	if err != nil {
		return res, err
	}
	i := lastUser(conv)
	if i < 0 {
		return res, fmt.Errorf("%s: the conversation has no user message: the last user message is the objective", o.label())
	}
	res.Objective = conv[i].Text()
	ctx = patternkit.WithUsageNode(ctx, o.name)
	mp := patternkit.Stateless(params) // members: no history, no response schema
	mp.ResponseSchema = nil
	if o.mode == Iterative {
		err = o.runIterative(ctx, conv, res, mp, emit)
	} else {
		err = o.runFull(ctx, conv, res, mp, emit)
	}
	if err != nil {
		return res, err
	}
	out, err := patternkit.Call(ctx, o.synthesizer, replaceLastUser(conv, synthesisPrompt(res.Objective, res.Steps)), params, emit)
	if err != nil {
		if errors.Is(err, patternkit.ErrStopped) {
			return res, err
		}
		return res, fmt.Errorf("%s: synthesizer %q: %w", o.label(), o.synthesizer.Name(), err)
	}
	if len(out) == 0 {
		return res, fmt.Errorf("%s: synthesizer %q returned no answer", o.label(), o.synthesizer.Name())
	}
	res.Messages = out
	if patternkit.UseHistory(params) {
		if err := o.memory.Append(ctx, append(slices.Clip(msgs), out[len(out)-1])...); err != nil {
			return res, fmt.Errorf("%s: saving memory: %w", o.label(), err)
		}
	}
	return res, nil
}

func (o *Orchestrator) runFull(ctx context.Context, conv []llm.Message, res *Result, mp *llm.RequestParams, emit patternkit.Emit) error {
	res.Iterations = 1
	prompt := replaceLastUser(conv, o.plannerPrompt(res.Objective, nil, o.maxSteps))
	plan, err := makePlan(ctx, o, prompt, mp, emit, func(p Plan) error { return o.validate(p.Steps, 1, o.maxSteps) })
	res.Plan = plan
	if err != nil {
		return err
	}
	for i, step := range plan.Steps {
		if err := o.runStep(ctx, res, i+1, step, mp, emit); err != nil {
			return err
		}
	}
	return nil
}

func (o *Orchestrator) runIterative(ctx context.Context, conv []llm.Message, res *Result, mp *llm.RequestParams, emit patternkit.Emit) error {
	for {
		if res.Iterations >= o.maxIter {
			return fmt.Errorf("%s: %w: the planner did not declare the objective complete in %d planning rounds (%d steps ran); raise Options.MaxIterations or narrow the objective",
				o.label(), ErrMaxIterations, res.Iterations, len(res.Steps))
		}
		res.Iterations++
		n := len(res.Steps) + 1
		prompt := replaceLastUser(conv, o.plannerPrompt(res.Objective, res.Steps, o.maxSteps))
		next, err := makePlan(ctx, o, prompt, mp, emit, func(s NextStep) error {
			switch {
			case s.IsComplete:
				return nil
			case len(s.Tasks) == 0:
				return fmt.Errorf("step %d has no tasks and is_complete is false: give the step's tasks, or set is_complete to true", n)
			}
			return o.validate([]Step{{Description: s.Description, Tasks: s.Tasks}}, n, 0)
		})
		if err != nil {
			return err
		}
		if next.IsComplete {
			return nil
		}
		if len(res.Steps) >= o.maxSteps {
			return fmt.Errorf("%s: %w: the planner asked for step %d; at most %d are allowed: raise Options.MaxSteps or narrow the objective",
				o.label(), ErrMaxSteps, n, o.maxSteps)
		}
		step := Step{Description: next.Description, Tasks: next.Tasks}
		res.Plan.Steps = append(res.Plan.Steps, step)
		if err := o.runStep(ctx, res, n, step, mp, emit); err != nil {
			return err
		}
	}
}

// makePlan asks the planner for a T and checks it; an answer that fails
// the check is sent back once with the problems (the repair round).
func makePlan[T any](ctx context.Context, o *Orchestrator, msgs []llm.Message, params *llm.RequestParams, emit patternkit.Emit, check func(T) error) (T, error) {
	ask := func(msgs []llm.Message) (T, error) {
		v, err := llm.GenerateStructured[T](ctx, o.planner, msgs, params)
		if err != nil {
			return v, fmt.Errorf("%s: planner %q: %w", o.label(), o.planner.Name(), err)
		}
		if emit != nil {
			m := llm.AssistantText(mustJSON(v))
			if !emit(&llm.Event{Kind: llm.EventMessage, Source: o.planner.Name(), Message: &m}) {
				return v, patternkit.ErrStopped
			}
		}
		return v, nil
	}
	v, err := ask(msgs)
	if err != nil {
		return v, err
	}
	problems := check(v)
	if problems == nil {
		return v, nil
	}
	msgs = append(slices.Clip(msgs), llm.AssistantText(mustJSON(v)), llm.UserText(repairPrompt(problems)))
	if v, err = ask(msgs); err != nil {
		return v, err
	}
	if problems = check(v); problems != nil {
		return v, fmt.Errorf("%s: %w, even after one repair round: %w", o.label(), ErrInvalidPlan, problems)
	}
	return v, nil
}

// runStep runs the tasks of step n concurrently (bounded by
// MaxConcurrency) and appends its StepResult to res. Streamed, the
// workers' events are forwarded from this goroutine as they arrive.
func (o *Orchestrator) runStep(ctx context.Context, res *Result, n int, step Step, mp *llm.RequestParams, emit patternkit.Emit) error {
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	prior := res.Steps
	sr := StepResult{Step: step, Tasks: make([]TaskResult, len(step.Tasks))}
	var sem chan struct{}
	if o.limit > 0 {
		sem = make(chan struct{}, o.limit)
	}
	var events chan *llm.Event
	var forward patternkit.Emit
	if emit != nil {
		events = make(chan *llm.Event)
		forward = func(ev *llm.Event) bool { events <- ev; return true } // always drained below
	}
	g, gctx := errgroup.WithContext(ctx)
	for i, task := range step.Tasks {
		sr.Tasks[i].Task = task
		g.Go(func() error {
			if sem != nil {
				select {
				case sem <- struct{}{}:
					defer func() { <-sem }()
				case <-gctx.Done():
					sr.Tasks[i].Err = context.Cause(gctx)
					return nil
				}
			}
			msgs := []llm.Message{llm.UserText(taskPrompt(res.Objective, prior, task))}
			out, err := patternkit.Call(gctx, o.byName[task.Worker], msgs, mp, forward)
			if err == nil && len(out) == 0 {
				err = errors.New("the worker returned no answer")
			}
			sr.Tasks[i].Output, sr.Tasks[i].Err = out, err
			if err != nil && o.policy == FailStep {
				return &TaskError{Step: n, Task: i + 1, Worker: task.Worker, Err: err}
			}
			return nil
		})
	}
	var err error
	stopped := false
	if events == nil {
		err = g.Wait()
	} else {
		done := make(chan error, 1)
		go func() { done <- g.Wait() }()
	drain:
		for {
			select {
			case ev := <-events:
				if !stopped && !emit(ev) {
					stopped = true
					cancel()
				}
			case err = <-done:
				break drain
			}
		}
	}
	res.Steps = append(res.Steps, sr)
	switch {
	case stopped:
		return patternkit.ErrStopped
	case parent.Err() != nil:
		return fmt.Errorf("%s: step %d: %w", o.label(), n, parent.Err())
	case err != nil:
		return fmt.Errorf("%s: %w", o.label(), err)
	}
	return nil
}
