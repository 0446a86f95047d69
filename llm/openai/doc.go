// Package openai is the [llm.Provider] for the OpenAI Chat Completions API
// and the servers that speak it: OpenAI, Azure OpenAI, and local
// OpenAI-compatible servers such as Ollama, vLLM and LM Studio; and, with
// [Options].API set to [APIResponses] (config openai.api: responses), for
// OpenAI's Responses API. It is built on the official
// github.com/openai/openai-go SDK.
//
// Quick start:
//
//	p, err := openai.FromConfig(settings.OpenAI, nil) // api_key, base_url, default_model
//	if err != nil { ... }
//	l := llm.New(agent, p, nil)
//	answer, err := llm.GenerateString(ctx, l, llm.Prompt("What is in README.md?"), nil)
//
// Or without a config file:
//
//	p := openai.New(&openai.Options{APIKey: key, DefaultModel: "gpt-4o"})
//	// A local OpenAI-compatible server (here Ollama) needs no key:
//	local := openai.New(&openai.Options{BaseURL: "http://localhost:11434/v1", DefaultModel: "llama3.2"})
//
// # Translation
//
// The system prompt is a "system" message, or a "developer" message for
// reasoning models ([IsReasoningModel]: o1, o3, o4 and gpt-5 families;
// [Options].SystemRole overrides). User messages carry text, images (a URL,
// or inline data as a base64 data URL) and resources (as text with their
// URI). Assistant messages carry their text and tool calls; thinking parts
// are dropped, as Chat Completions takes no reasoning back. Each tool result
// is one "tool" message with its tool_call_id; its text, embedded resources
// (text with the URI; binary blobs as a note) are joined with newlines, and
// an error result is prefixed with "Error: ". Tool messages cannot carry
// images, so images of tool results follow the tool messages in one user
// message introduced by a note naming the tool and call.
//
// Tools are function tools whose parameters are the MCP input schema, with
// "type": "object" and "properties" added when missing. Tool choice maps
// onto auto (omitted), none, required or a named function;
// DisableParallelToolCalls sends parallel_tool_calls: false (only with
// tools). MaxTokens is sent as max_completion_tokens
// ([Options].LegacyMaxTokens: max_tokens). Temperature is not sent to
// reasoning models, which reject it. ReasoningEffort is sent when the
// request sets it; [Options].ReasoningEffort only to reasoning models.
// Metadata is sent only with [Options].Store, as the API accepts it only
// for stored completions. A ResponseSchema becomes response_format
// json_schema, strict when the request asks for it and the schema allows
// strict mode, non-strict otherwise.
//
// finish_reason maps onto stop reasons: stop is end_turn (tool_use when the
// message has tool calls), tool_calls is tool_use, length is max_tokens,
// content_filter is refusal; a non-empty message refusal is a refusal whose
// text is the message's text. Usage: prompt_tokens (cached_tokens included,
// reported as CacheReadTokens), completion_tokens (reasoning_tokens
// included, reported as ReasoningTokens). Reasoning text that compatible
// servers return in reasoning_content or reasoning becomes [llm.Thinking].
//
// # Streaming
//
// Stream sends stream: true with stream_options.include_usage, yields text
// (and refusal) deltas as they arrive, assembles tool-call argument
// fragments by index with the SDK's ChatCompletionAccumulator, and ends with
// the complete response. A stream that ends before a finish_reason is
// reported as cut short (wrapping io.ErrUnexpectedEOF, which the LLM
// retries). Stopping the iteration early closes the connection.
//
// # The Responses API
//
// With [APIResponses] the provider sends POST /responses, statelessly:
// store: false (unless [Options].Store) and the whole conversation every
// turn, so replay and durable workflows work unchanged. The system prompt is
// the instructions field; user and assistant messages are message items;
// tool calls are function_call items and tool results function_call_output
// items carrying their call_id (images stay in the output, as input_image
// parts). Function tools are flat, with strict true only when the schema
// allows strict mode (the API's default is strict, so strict is always
// sent). MaxTokens is max_output_tokens (at least 16, the API's
// minimum), reasoning effort is reasoning.effort,
// a ResponseSchema is text.format json_schema. The API has no stop
// sequences: the provider cuts the text where the first one completes and
// reports [llm.StopSequence]. Output message text, refusals, function calls
// and reasoning summaries map back; incomplete_details max_output_tokens is
// [llm.StopMaxTokens] and content_filter [llm.StopRefusal]; usage counts
// cached and reasoning tokens. Streaming reads the typed SSE events (text,
// refusal and reasoning deltas, function call argument deltas reassembled
// per item) and ends with the response of response.completed or
// response.incomplete. A failed response is a [*ResponseError] (retryable
// for server_error and rate_limit_exceeded). Built-in tools are not
// offered.
//
// Reasoning is kept across turns although requests are stateless: for
// reasoning models the request includes reasoning.encrypted_content, each
// reasoning item becomes an [llm.Thinking] marked Provider "openai" with the
// item's ID and EncryptedContent, and later requests send it back as a
// reasoning item before the function call or message it preceded. Thinking
// of other providers is never sent.
//
// # Errors
//
// The SDK's retries are off: the LLM's [llm.RetryPolicy] retries. API
// errors are [*llm.StatusError] values (llm.HTTPStatusError, with the
// Retry-After or retry-after-ms delay) wrapping an [*APIError] that names
// the status, the API's message, type, code and param. The API key never
// appears in errors.
package openai
