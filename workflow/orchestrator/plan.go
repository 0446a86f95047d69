package orchestrator

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// A Plan is the planner's answer in [Full] mode: the steps that achieve the
// objective, in order.
type Plan struct {
	Steps []Step `json:"steps" jsonschema:"the steps, in the order they run; empty when the objective needs no worker"`
}

// A Step is a set of tasks that run in parallel; the next step starts when
// every task of this one has finished.
type Step struct {
	Description string `json:"description" jsonschema:"what this step achieves"`
	Tasks       []Task `json:"tasks" jsonschema:"the tasks of the step; they run in parallel and cannot see each other's results"`
}

// A Task is one piece of work assigned to a named worker.
type Task struct {
	Description string `json:"description" jsonschema:"what the worker must do, with everything it needs to know"`
	Worker      string `json:"worker" jsonschema:"the exact name of the worker that does the task"`
}

// NextStep is the planner's answer in [Iterative] mode: the next step, or
// IsComplete when the results so far achieve the objective.
type NextStep struct {
	Description string `json:"description" jsonschema:"what the next step achieves; empty when is_complete is true"`
	Tasks       []Task `json:"tasks" jsonschema:"the tasks of the next step; they run in parallel and cannot see each other's results"`
	IsComplete  bool   `json:"is_complete" jsonschema:"true when the results so far achieve the objective; the tasks are then ignored"`
}

// Errors of a run; test with errors.Is.
var (
	// ErrInvalidPlan: the planner's plan could not be executed, even after
	// one repair round. The error joins the problems (such as
	// [*UnknownWorkerError]s).
	ErrInvalidPlan = errors.New("invalid plan")
	// ErrUnknownWorker is wrapped by [*UnknownWorkerError].
	ErrUnknownWorker = errors.New("unknown worker")
	// ErrMaxSteps: the planner needs more steps than Options.MaxSteps.
	ErrMaxSteps = errors.New("maximum steps exceeded")
	// ErrMaxIterations: in Iterative mode, the planner did not declare the
	// objective complete within Options.MaxIterations planning rounds.
	ErrMaxIterations = errors.New("maximum planning iterations reached")
)

// UnknownWorkerError reports a task assigned to a worker that is not
// registered. It wraps [ErrUnknownWorker].
type UnknownWorkerError struct {
	Step, Task int    // 1-based positions in the plan
	Worker     string // the name the planner used
	Known      []string
}

func (e *UnknownWorkerError) Error() string {
	return fmt.Sprintf("step %d, task %d: unknown worker %q; known workers: %s", e.Step, e.Task, e.Worker, strings.Join(e.Known, ", "))
}

func (e *UnknownWorkerError) Unwrap() error { return ErrUnknownWorker }

// TaskError is a worker's failure under the [FailStep] policy.
type TaskError struct {
	Step, Task int // 1-based positions in the run
	Worker     string
	Err        error
}

func (e *TaskError) Error() string {
	return fmt.Sprintf("step %d, task %d (worker %q): %v", e.Step, e.Task, e.Worker, e.Err)
}

func (e *TaskError) Unwrap() error { return e.Err }

// validate lists the problems that keep steps from running: tasks naming
// unknown workers, steps without tasks, and (with maxSteps > 0) too many
// steps. first is the 1-based number of the first step.
func (o *Orchestrator) validate(steps []Step, first, maxSteps int) error {
	var errs []error
	if maxSteps > 0 && len(steps) > maxSteps {
		errs = append(errs, fmt.Errorf("%w: the plan has %d steps; at most %d are allowed (Options.MaxSteps)", ErrMaxSteps, len(steps), maxSteps))
	}
	for i, s := range steps {
		if len(s.Tasks) == 0 {
			errs = append(errs, fmt.Errorf("step %d (%q) has no tasks", first+i, s.Description))
		}
		for j, t := range s.Tasks {
			if _, ok := o.byName[t.Worker]; !ok {
				errs = append(errs, &UnknownWorkerError{Step: first + i, Task: j + 1, Worker: t.Worker, Known: o.names()})
			}
		}
	}
	return errors.Join(errs...)
}

// names returns the workers' names in registration order.
func (o *Orchestrator) names() []string {
	names := make([]string, len(o.workers))
	for i, w := range o.workers {
		names[i] = w.Name
	}
	return names
}

// plannerPrompt is the planner's request in both modes.
func (o *Orchestrator) plannerPrompt(objective string, done []StepResult, maxSteps int) string {
	var b strings.Builder
	b.WriteString("You plan how a team of workers achieves an objective.\n\n")
	fmt.Fprintf(&b, "<objective>\n%s\n</objective>\n\n<workers>\n", objective)
	for _, w := range o.workers {
		if w.Description == "" {
			fmt.Fprintf(&b, "<worker name=%q/>\n", w.Name)
			continue
		}
		fmt.Fprintf(&b, "<worker name=%q>\n%s\n</worker>\n", w.Name, w.Description)
	}
	b.WriteString("</workers>\n\n")
	if len(done) > 0 {
		writeResults(&b, "results_so_far", done)
		b.WriteString("\n")
	}
	b.WriteString("Steps run in order; the tasks of one step run in parallel, so tasks that need another task's result go in a later step. " +
		"Assign each task to one worker by its exact name. A worker sees only the objective, the results of earlier steps and its task.\n")
	if o.mode == Iterative {
		b.WriteString("Plan only the next step. If the results so far achieve the objective, set is_complete to true and give no tasks.")
	} else {
		fmt.Fprintf(&b, "Plan every step, at most %d. If the objective needs no worker, give no steps.", maxSteps)
	}
	b.WriteString(" Answer with JSON only.")
	return b.String()
}

// taskPrompt is a worker's request.
func taskPrompt(objective string, done []StepResult, task Task) string {
	var b strings.Builder
	b.WriteString("You are one worker of a team working toward an objective. Do only your task.\n\n")
	fmt.Fprintf(&b, "<objective>\n%s\n</objective>\n\n", objective)
	if len(done) > 0 {
		writeResults(&b, "previous_results", done)
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "<task>\n%s\n</task>", task.Description)
	return b.String()
}

// synthesisPrompt is the synthesizer's request.
func synthesisPrompt(objective string, done []StepResult) string {
	var b strings.Builder
	fmt.Fprintf(&b, "<objective>\n%s\n</objective>\n\n", objective)
	if len(done) == 0 {
		b.WriteString("No worker was needed. Answer the objective directly.")
		return b.String()
	}
	writeResults(&b, "results", done)
	b.WriteString("\nWrite the final answer to the objective from these results. Answer directly; do not describe the plan or the workers.")
	return b.String()
}

// writeResults writes every task result as <result step= task= worker=>.
func writeResults(b *strings.Builder, tag string, done []StepResult) {
	fmt.Fprintf(b, "<%s>\n", tag)
	for i, s := range done {
		for j, t := range s.Tasks {
			fmt.Fprintf(b, "<result step=\"%d\" task=\"%d\" worker=%q description=%q", i+1, j+1, t.Task.Worker, t.Task.Description)
			if t.Err != nil {
				fmt.Fprintf(b, " failed=\"true\">\n%v\n</result>\n", t.Err)
				continue
			}
			fmt.Fprintf(b, ">\n%s\n</result>\n", t.Text())
		}
	}
	fmt.Fprintf(b, "</%s>\n", tag)
}

// repairPrompt asks the planner to correct an answer that cannot run.
func repairPrompt(problems error) string {
	var b strings.Builder
	b.WriteString("Your plan cannot be executed:\n")
	for _, line := range strings.Split(problems.Error(), "\n") {
		b.WriteString("- " + line + "\n")
	}
	b.WriteString("Reply with the corrected plan as JSON only.")
	return b.String()
}

// replaceLastUser returns conv with its last user message (and anything
// after it) replaced by a user message holding text.
func replaceLastUser(conv []llm.Message, text string) []llm.Message {
	i := lastUser(conv)
	if i < 0 {
		i = len(conv)
	}
	return append(slices.Clone(conv[:i]), llm.UserText(text))
}

func lastUser(conv []llm.Message) int {
	for i := len(conv) - 1; i >= 0; i-- {
		if conv[i].Role == llm.RoleUser {
			return i
		}
	}
	return -1
}

func mustJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}
