// Package workflow is the API durable workflows are written against: a
// workflow is a named Go function whose side effects run as recorded steps,
// that can sleep on durable timers, wait for signals, pause for human input
// and start child workflows. The same workflow code runs on every executor
// (package executor: executor/local on SQLite by default, Temporal at
// scale).
//
// Quick start:
//
//	type Topic struct{ Name string `json:"name"` }
//	type Approval struct {
//		Approved bool   `json:"approved"`
//		Edits    string `json:"edits,omitempty"`
//	}
//
//	var draft = workflow.Define("draft", func(wctx workflow.Context, in Topic) (string, error) {
//		text, err := workflow.Step(wctx, "write", func(ctx context.Context, sc workflow.StepContext) (string, error) {
//			return llm.GenerateString(ctx, "Write about "+in.Name) // any I/O belongs in a step
//		}, nil)
//		if err != nil {
//			return "", err
//		}
//		ok, err := workflow.RequestInput[Approval](wctx, "Publish this draft?\n"+text, nil)
//		if err != nil || !ok.Approved {
//			return "", err
//		}
//		return text + ok.Edits, nil
//	}, nil)
//
// Register it (workflow.NewRegistry(draft)) with an executor, start it, and
// resume it with `{"approved": true}` when it pauses.
//
// # How runs survive restarts
//
// An executor journals the outcome of every operation a workflow asks for
// (step results, timer fire times, signals, side-effect values, child
// results). To recover a run after a restart it calls the workflow function
// again from the top: each operation already journaled returns its
// journaled outcome at once, without executing, and the run continues live
// from the first operation that is not. This is deterministic replay, and it
// only works if the function, given its input and the same outcomes, asks
// for the same operations in the same order.
//
// # Determinism rules
//
// Inside a workflow function (not inside a step function, which may do
// anything):
//
//   - Do all I/O in [Step]: LLM calls, tool calls, HTTP, files, databases.
//   - Use [Now] instead of time.Now, [Sleep] instead of time.Sleep, [Random]
//     and [NewUUID] instead of math/rand and crypto/rand, [SideEffect] for
//     any other non-deterministic value.
//   - Do not start goroutines, use channels, select or mutexes, or iterate a
//     map to decide which operations to run (Go map order is random); sort
//     its keys first. For parallel work, fan out inside one step.
//   - Do not read mutable global state or environment that may differ
//     between executions.
//   - Keep step names and order stable while runs are in flight. Changing
//     them breaks replay: the executor fails the run with a
//     [*NondeterminismError] naming the workflow, the run and the step.
//
// # Steps run at least once
//
// A step's result is journaled after its function returns. If the process
// dies while the function runs, the step runs again after recovery; a step
// that completed before is never run again. So a step is executed at least
// once and, if it completed, exactly once as far as the journal is
// concerned. Make external effects idempotent with
// [StepContext.IdempotencyKey] ("<run ID>/<seq>"), which is the same for
// every attempt and re-execution of a step.
package workflow
