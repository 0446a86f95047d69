// Package orchestrator is the orchestrator-workers pattern: a planner LLM
// breaks an objective into steps of tasks, each assigned to a named worker;
// the tasks of a step run in parallel, steps run in order, every task sees
// the objective and the results of the earlier steps, and a synthesizer
// writes the final answer from all the results.
//
// Quick start:
//
//	o, err := orchestrator.New(planner, []orchestrator.Worker{
//		{LLM: researcher, Description: "Searches the web with the fetch tool."},
//		{LLM: writer, Description: "Writes polished prose."},
//	}, &orchestrator.Options{Mode: orchestrator.Iterative, MaxSteps: 5})
//	res, err := o.Run(ctx, llm.Prompt("Write a brief on MCP adoption"), nil)
//	fmt.Println(res.Answer())
//	for _, step := range res.Steps { ... } // the plan and every task's result
//
// An [Orchestrator] is an [llm.AugmentedLLM] (use Generate, Stream,
// [llm.GenerateString] or [llm.GenerateStructured] like any LLM), and its
// planner, synthesizer and workers are AugmentedLLMs too: an
// evaluator-optimizer can be the planner, a parallel or a router a worker,
// an orchestrator the worker of another.
//
// # Planning
//
// The planner answers with structured output through
// [llm.GenerateStructured]: a [Plan] (every step at once) in [Full] mode, a
// [NextStep] (one step, or is_complete) in [Iterative] mode, where it is
// asked again after every step with the results so far. Its prompt lists
// the workers by name and description. A plan that cannot run (a task
// naming an unknown worker, a step without tasks, more steps than
// Options.MaxSteps) is sent back to the planner once with the problems
// (the repair round); if the second answer cannot run either, the run
// fails with an error wrapping [ErrInvalidPlan] that joins the problems,
// such as an [*UnknownWorkerError] naming the worker and the known ones.
// An empty Full plan is not an error: the synthesizer answers the objective
// directly.
//
// # Limits and failures
//
// Options.MaxSteps (default 10) bounds the steps of a run and
// Options.MaxIterations the planning rounds of an Iterative run; hitting
// either fails the run with [ErrMaxSteps] or [ErrMaxIterations].
// Options.MaxConcurrency bounds the tasks running at once. A failing worker
// either fails the run ([FailStep], the default: the step's other tasks
// are cancelled, the error is a [*TaskError]) or becomes a result marked
// failed="true" that the planner and the synthesizer see ([ReportErrors]).
// Cancelling the context cancels every running task; Generate returns once
// all of them have returned.
//
// # Inspecting a run
//
// [Orchestrator.Run] returns a [Result]: the objective, the plan, every
// step's task results (outputs and errors) and the answer; it is returned
// with the error when a run fails half-way. Options.OnResult receives the
// same Result from every turn, which is how to inspect an orchestrator
// nested inside another pattern.
//
// # Conversation, parameters and usage
//
// The orchestrator owns the conversation (Options.Memory: user messages and
// answers) and calls every member statelessly. The objective is the last
// user message; earlier messages are context for the planner and the
// synthesizer. Workers get one message: the objective, the earlier
// results and their task. The caller's RequestParams go to every member;
// only the synthesizer gets ResponseSchema, so GenerateStructured on an
// orchestrator asks the synthesizer for the typed answer. When the
// context carries an [llm.UsageTracker], every member's calls are recorded
// under a node of kind [llm.UsageWorkflow] named after the orchestrator.
package orchestrator
