// Package parallel is the parallelization pattern: a turn is fanned out to
// several members concurrently (agent-backed LLMs, other patterns, or Go
// functions adapted with [Func]) and their answers are fanned in by an
// aggregator LLM ([Aggregator]) or a Go function ([AggregateFunc]).
//
// Quick start:
//
//	p, err := parallel.New(
//		parallel.Aggregator(grader),                          // fan-in
//		[]llm.AugmentedLLM{proofreader, factChecker, styler}, // fan-out
//		&parallel.Options{MaxConcurrency: 2, ErrorPolicy: parallel.CollectErrors},
//	)
//	answer, err := llm.GenerateString(ctx, p, llm.Prompt(story), nil)
//
// A [Parallel] is an [llm.AugmentedLLM]: it can be a router's route, an
// evaluator-optimizer's optimizer, or a member of another Parallel.
//
// # Conversation and parameters
//
// Like every pattern, a Parallel owns the conversation: it keeps its own
// memory ([Options].Memory) with the user messages and its answers, and
// calls its members statelessly (RequestParams.UseHistory false) with the
// whole conversation. The caller's RequestParams go to the members without
// ResponseSchema and to the aggregator LLM with it, so
// [llm.GenerateStructured] on a Parallel asks the aggregator for the typed
// answer.
//
// The aggregator LLM gets the conversation whose last user message is
// extended with every answer (see [FanInMessages]):
//
//	<the request>
//
//	This request was sent to 3 members in parallel. Their responses:
//
//	<response member="proofreader">
//	...
//	</response>
//	...
//	Combine the responses into one answer to the request.
//
// Its own instruction (agent instruction or system prompt) says how to
// combine them.
//
// # Failures and cancellation
//
// With FailFast (the default) the first failing member cancels the others
// and the turn returns a [*MemberError]; with CollectErrors the fan-in sees
// failures as results (marked failed="true") and the turn fails only when
// every member failed ([ErrAllFailed]). Cancelling the context cancels
// every member; Generate returns once all of them have returned.
//
// # Usage
//
// When the context carries an [llm.UsageTracker] ([llm.ContextWithUsage]),
// the members' and the aggregator's calls are recorded under a child node
// of kind [llm.UsageWorkflow] named after the Parallel.
package parallel
