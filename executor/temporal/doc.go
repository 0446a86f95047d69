// Package temporal runs the workflows of package workflow on Temporal
// (go.temporal.io/sdk): the same registered definitions that run on the
// local executor run as Temporal workflows, unchanged.
//
// An [Executor] implements executor.Executor on a Temporal client: Start,
// Status, Result, List (through visibility), History, Pause, Resume,
// Signal, Cancel and Terminate. A worker ([NewWorker], or Options.Worker, or
// the `mcp-agent worker` command) executes the runs. A run's ID is its
// Temporal workflow ID.
//
// How the workflow API maps onto Temporal:
//
//   - Step: a local activity in the worker that runs the workflow (a step's
//     function is a closure over the workflow's variables), retried per the
//     step's RetryPolicy; its result is recorded in the history and not
//     executed again on replay.
//   - Sleep: a timer. Now: workflow.Now. Random, NewUUID, SideEffect:
//     workflow.SideEffect.
//   - WaitSignal: a Temporal signal of that name. RequestHumanInput: the
//     "resume" signal (or the one asked for), with the prompt and schema in
//     the run's state, which the [StateQuery] query returns and the run's
//     memo mirrors (so Status works while no worker runs).
//   - ExecuteChild: a child workflow on the same task queue.
//   - Pause: the [PauseSignal] signal; the run stops before its next
//     operation until Resume sends [UnpauseSignal].
//
// Quick start, against a development server (scripts/temporal-dev):
//
//	reg := workflow.NewRegistry(draft)
//	ex, err := temporal.Dial(ctx, &config.TemporalSettings{Host: "127.0.0.1:7233"}, reg,
//		&temporal.Options{Worker: true}) // a worker in this process
//	if err != nil { ... }
//	defer ex.Close()
//	runID, err := executor.Start(ctx, ex, draft, Topic{Name: "otters"}, nil)
//	r, err := executor.WaitFor(ctx, ex, runID, func(r *executor.Run) bool { return r.Waiting != nil })
//	err = ex.Resume(ctx, runID, json.RawMessage(`{"approved":true}`), nil)
//	out, err := executor.ResultOf[string](ctx, ex, runID)
//
// See docs/workflows.md for the workflow model and the differences between
// the executors.
package temporal
