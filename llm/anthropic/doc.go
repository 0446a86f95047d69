// Package anthropic is the Anthropic Messages API as an [llm.Provider],
// built on the official SDK (github.com/anthropics/anthropic-sdk-go/v2,
// API version 2026-10-21).
//
// Quick start:
//
//	p := anthropic.New(&anthropic.Options{APIKey: os.Getenv("ANTHROPIC_API_KEY")})
//	l := llm.New(agent, p, &llm.Options{Params: &llm.RequestParams{Model: "claude-sonnet-4-6"}})
//	answer, err := llm.GenerateString(ctx, l, llm.Prompt("What is in README.md?"), nil)
//
// From the config file's anthropic section (api_key, base_url,
// default_model, reasoning_effort, api_version, headers, max_tokens):
//
//	p, err := anthropic.FromConfig(settings.Anthropic, nil)
//
// Translation, in short (docs/llm.md has the details):
//
//   - Request.System becomes the top-level system block; user text and
//     images (base64 or URL) become content blocks; assistant messages keep
//     their text, tool_use blocks and their own thinking and
//     redacted_thinking blocks (marked [llm.Thinking] Provider "anthropic",
//     or unmarked and signed), so extended thinking survives tool-loop round
//     trips; thinking of other providers (OpenAI's encrypted reasoning) is
//     dropped.
//   - Tool results become tool_result blocks (text, images, and MCP
//     resources as text naming their URI) in one user message per assistant
//     turn.
//   - ReasoningEffort enables extended thinking with a token budget
//     ([DefaultThinkingBudget]); max_tokens is raised above the budget.
//   - ResponseSchema is answered through a tool whose input is the answer;
//     the provider returns it as one Text part of JSON.
//   - Temperature is not sent: API version 2026-10-21 rejects sampling
//     parameters.
//   - Prompt caching is on by default: cache_control breakpoints on the
//     system prompt and the last tool definition.
//   - Errors are [llm.HTTPStatusError]s wrapping the SDK's *Error, with the
//     server's Retry-After; the SDK's own retries are off (the LLM retries).
package anthropic
