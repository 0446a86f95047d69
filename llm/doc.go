// Package llm is the AugmentedLLM layer: a model attached to an agent's
// tools, running the tool loop (model call -> tool calls -> model call until
// the model answers), with conversation memory, retries, streaming events,
// structured output and token usage and cost accounting.
//
// Quick start, with the replay provider (no API key) and any [ToolSource]
// (package agent's Agent):
//
//	script, _ := replay.Load("finder.replay.yaml")
//	l := llm.New(agent, replay.New(script, nil), nil)
//	answer, err := llm.GenerateString(ctx, l, llm.Prompt("What is in README.md?"), nil)
//
// Streaming:
//
//	for ev, err := range l.Stream(ctx, llm.Prompt("hi"), nil) {
//		if err != nil { ... }
//		if ev.Kind == llm.EventTextDelta { fmt.Print(ev.Text) }
//	}
//
// Typed answers:
//
//	type Plan struct{ Steps []string `json:"steps"` }
//	plan, err := llm.GenerateStructured[Plan](ctx, l, llm.Prompt("plan a trip"), nil)
//
// Layers: a [Provider] (openai, anthropic, replay) turns one [Request] into
// one [Response]; an [AugmentedLLM] runs turns. Every workflow pattern
// implements AugmentedLLM too, so patterns nest. See docs/llm.md.
package llm
