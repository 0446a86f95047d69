// Package evaluator is the evaluator-optimizer pattern: an optimizer LLM
// writes a response, an evaluator LLM rates it EXCELLENT, GOOD, FAIR or
// POOR with feedback (structured output), and the optimizer revises it
// with that feedback until the rating reaches a threshold or a refinement
// limit is hit. Every attempt is kept.
//
// Quick start:
//
//	eo, err := evaluator.New(writer, critic, &evaluator.Options{
//		MinRating:      evaluator.Good, // the default
//		MaxRefinements: 3,              // the default: at most 4 attempts
//		Criteria:       "Accurate, under 100 words, friendly.",
//	})
//	res, err := eo.Run(ctx, llm.Prompt("Write the release note."), nil)
//	for _, a := range res.Attempts { fmt.Println(a.Number, a.Evaluation.Rating, a.Evaluation.Feedback) }
//	answer := res.BestAttempt().Text() // res.ReachedThreshold says whether it is good enough
//
// An [EvaluatorOptimizer] is an [llm.AugmentedLLM]: Generate answers with
// the best attempt, so it can be a parallel member, a router's route or an
// orchestrator's planner. When no attempt reaches MinRating, Generate
// returns the best one (the latest among equal ratings) without an error,
// unless [Options].RequireThreshold asks for [ErrThresholdNotReached]; Run
// always reports it in [Result].ReachedThreshold.
//
// The optimizer gets the conversation and the caller's RequestParams
// (including ResponseSchema); a revision gets the conversation, its
// previous response as an assistant message and the feedback
// ([RefinementPrompt]) as a user message. The evaluator gets one message
// ([EvaluationPrompt]) with [Options].EvaluatorParams. Both are called
// statelessly; the pattern owns the conversation memory. When the context
// carries an [llm.UsageTracker], their calls nest under a node of kind
// [llm.UsageWorkflow] named after the pattern.
package evaluator
