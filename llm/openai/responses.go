package openai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	oai "github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"
	"github.com/openai/openai-go/v3/responses"
	"github.com/openai/openai-go/v3/shared"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// ResponseError is a response the Responses API reports as failed (status
// "failed" or a response.failed / error stream event): the request was
// accepted but generation failed. Failures the API codes server_error or
// rate_limit_exceeded are wrapped in an [*llm.StatusError] (500, 429), so
// the LLM retries them.
type ResponseError struct {
	// Code and Message are the API's error code and description.
	Code    string
	Message string
	// ResponseID is the failed response's ID ("" for an error event).
	ResponseID string
}

func (e *ResponseError) Error() string {
	msg := "openai: the response failed"
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Code != "" {
		msg += " (code " + e.Code + ")"
	}
	return msg
}

// minOutputTokens is the smallest max_output_tokens the API accepts.
const minOutputTokens = 16

// completeResponses is Complete for the Responses API.
func (p *Provider) completeResponses(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	params, err := p.buildResponsesParams(req)
	if err != nil {
		return nil, err
	}
	var status statusRecorder
	r, err := p.rsvc.New(ctx, params, p.requestOptions(params.Model, &status)...)
	if err != nil {
		return nil, p.mapError(err, &status)
	}
	resp, err := p.translateResponsesResponse(r)
	if err != nil {
		return nil, err
	}
	cutAtStop(resp, req.StopSequences)
	return resp, nil
}

// streamResponses is Stream for the Responses API.
func (p *Provider) streamResponses(ctx context.Context, req *llm.Request, yield func(*llm.Chunk, error) bool) {
	params, err := p.buildResponsesParams(req)
	if err != nil {
		yield(nil, err)
		return
	}
	var status statusRecorder
	stream := p.rsvc.NewStreaming(ctx, params, p.requestOptions(params.Model, &status)...)
	defer stream.Close()

	out := yield
	var stop *stopFilter
	if len(req.StopSequences) > 0 {
		stop = newStopFilter(req.StopSequences)
		out = func(c *llm.Chunk, err error) bool {
			if c == nil || c.Text == "" {
				return yield(c, err)
			}
			if t := stop.add(c.Text); t != "" {
				return yield(&llm.Chunk{Text: t}, nil)
			}
			return true
		}
	}
	resp, err := readResponsesStream(stream, out)
	switch {
	case errors.Is(err, errStopped):
		return
	case err != nil && ctx.Err() != nil:
		yield(nil, ctx.Err())
		return
	case err != nil:
		var re *ResponseError
		if errors.As(err, &re) {
			yield(nil, p.failure(err))
		} else if errors.Is(err, errStreamTransport) {
			yield(nil, p.mapError(errors.Unwrap(err), &status))
		} else {
			yield(nil, err)
		}
		return
	}
	if stop != nil {
		if t := stop.flush(); t != "" && !yield(&llm.Chunk{Text: t}, nil) {
			return
		}
		cutAtStop(resp, req.StopSequences)
	}
	yield(&llm.Chunk{Response: resp}, nil)
}

// errStreamTransport marks an error of the stream itself (HTTP, SSE
// decoding), which the provider maps like a request error.
var errStreamTransport = errors.New("stream transport")

type transportError struct{ err error }

func (e transportError) Error() string        { return e.err.Error() }
func (e transportError) Unwrap() error        { return e.err }
func (e transportError) Is(target error) bool { return target == errStreamTransport }

// readResponsesStream yields the stream's deltas and returns the complete
// response. It returns errStopped when yield returns false, a
// [*ResponseError] for a failed response, and errors of the stream itself
// wrapped in a transportError.
func readResponsesStream(stream *ssestream.Stream[responses.ResponseStreamEventUnion], yield func(*llm.Chunk, error) bool) (*llm.Response, error) {
	return drainStream(stream, &responsesAccumulator{}, yield, func(err error) error { return transportError{err} })
}

// failure redacts a failed response's message and makes the retryable
// codes HTTP status errors.
func (p *Provider) failure(err error) error {
	var re *ResponseError
	if !errors.As(err, &re) {
		return err
	}
	re.Message = p.redact(re.Message)
	switch re.Code {
	case "server_error":
		return llm.NewStatusError(http.StatusInternalServerError, nil, re)
	case "rate_limit_exceeded":
		return llm.NewStatusError(http.StatusTooManyRequests, nil, re)
	}
	return re
}

// buildResponsesParams translates a request into Responses API parameters.
// It never modifies req.
func (p *Provider) buildResponsesParams(req *llm.Request) (responses.ResponseNewParams, error) {
	var params responses.ResponseNewParams
	if req == nil {
		return params, fmt.Errorf("openai: nil request")
	}
	model := req.Model
	if model == "" {
		model = p.model
	}
	reasoning := IsReasoningModel(model)
	params.Model = model
	// Stateless: the whole conversation is sent each turn.
	params.Store = oai.Bool(p.opts.Store)
	if req.System != "" {
		params.Instructions = oai.String(req.System)
	}
	items, err := inputItems(req.Messages, p.opts.Store)
	if err != nil {
		return params, err
	}
	params.Input.OfInputItemList = items
	if reasoning || req.ReasoningEffort != "" {
		// Stateless, reasoning items can be sent back only with their
		// encrypted content (see reasoningItem).
		params.Include = []responses.ResponseIncludable{responses.ResponseIncludableReasoningEncryptedContent}
	}

	for _, t := range req.Tools {
		schema, err := toolParameters(t)
		if err != nil {
			return params, err
		}
		ft := responses.FunctionToolParam{
			Name:       t.Name,
			Parameters: schema,
			// The API's default is strict; use it only when the schema
			// meets its rules.
			Strict: oai.Bool(strictAllowed(map[string]any(schema))),
		}
		if t.Description != "" {
			ft.Description = oai.String(t.Description)
		}
		params.Tools = append(params.Tools, responses.ToolUnionParam{OfFunction: &ft})
	}
	if len(req.Tools) > 0 {
		choice, err := responsesToolChoice(req)
		if err != nil {
			return params, err
		}
		params.ToolChoice = choice
		if req.DisableParallelToolCalls {
			params.ParallelToolCalls = oai.Bool(false)
		}
	}

	maxTokens := req.MaxTokens
	if maxTokens == 0 {
		maxTokens = p.opts.MaxTokens
	}
	if maxTokens > 0 {
		// The API rejects caps below 16 (MCP sampling may ask for fewer).
		params.MaxOutputTokens = oai.Int(int64(max(maxTokens, minOutputTokens)))
	}
	temp := req.Temperature
	if temp == nil {
		temp = p.opts.Temperature
	}
	if temp != nil && !reasoning {
		params.Temperature = oai.Float(*temp)
	}
	switch {
	case req.ReasoningEffort != "":
		params.Reasoning.Effort = shared.ReasoningEffort(req.ReasoningEffort)
	case p.opts.ReasoningEffort != "" && reasoning:
		params.Reasoning.Effort = shared.ReasoningEffort(p.opts.ReasoningEffort)
	}
	if p.opts.User != "" {
		params.User = oai.String(p.opts.User)
	}
	if len(req.Metadata) > 0 {
		params.Metadata = make(shared.Metadata, len(req.Metadata))
		for k, v := range req.Metadata {
			params.Metadata[k] = v
		}
	}
	if rs := req.ResponseSchema; rs != nil {
		format, err := responseFormat(rs)
		if err != nil {
			return params, err
		}
		js := format.OfJSONSchema.JSONSchema
		cfg := responses.ResponseFormatTextJSONSchemaConfigParam{
			Name:        js.Name,
			Schema:      js.Schema.(map[string]any),
			Strict:      js.Strict,
			Description: js.Description,
		}
		params.Text.Format.OfJSONSchema = &cfg
	}
	return params, nil
}

// inputItems maps the conversation onto input items: user and assistant
// messages, reasoning items for OpenAI's own reasoning, function_call items
// for tool calls and function_call_output items for tool results. store is
// Options.Store.
func inputItems(msgs []llm.Message, store bool) (responses.ResponseInputParam, error) {
	var out responses.ResponseInputParam
	for i, m := range msgs {
		var err error
		switch m.Role {
		case llm.RoleUser:
			var item responses.ResponseInputItemUnionParam
			item, err = userItem(m.Parts)
			out = append(out, item)
		case llm.RoleAssistant:
			out, err = assistantItems(out, m.Parts, store)
		case llm.RoleTool:
			out, err = toolOutputItems(out, m.Parts)
		default:
			return nil, fmt.Errorf("openai: message %d has role %q; want user, assistant or tool", i, m.Role)
		}
		if err != nil {
			return nil, fmt.Errorf("openai: message %d (%s): %w", i, m.Role, err)
		}
	}
	return out, nil
}

// userItem maps text, images and resources onto a user message; thinking
// is dropped. A message of one text part is sent as a plain string.
func userItem(parts []llm.Part) (responses.ResponseInputItemUnionParam, error) {
	var content responses.ResponseInputMessageContentListParam
	onlyText := true
	for _, part := range parts {
		switch part := part.(type) {
		case *llm.Text:
			content = append(content, inputText(part.Text))
		case *llm.Resource:
			content = append(content, inputText(resourceText(part)))
		case *llm.Image:
			u, err := imageURL(part)
			if err != nil {
				return responses.ResponseInputItemUnionParam{}, err
			}
			content = append(content, responses.ResponseInputContentUnionParam{OfInputImage: &responses.ResponseInputImageParam{
				ImageURL: oai.String(u),
				Detail:   responses.ResponseInputImageDetailAuto,
			}})
			onlyText = false
		case *llm.Thinking:
		case *llm.ToolCall, *llm.ToolResult:
			return responses.ResponseInputItemUnionParam{}, fmt.Errorf("a user message cannot hold %T; tool calls belong in assistant messages and results in tool messages", part)
		default:
			return responses.ResponseInputItemUnionParam{}, fmt.Errorf("unsupported part %T", part)
		}
	}
	msg := &responses.EasyInputMessageParam{Role: responses.EasyInputMessageRoleUser, Type: responses.EasyInputMessageTypeMessage}
	switch {
	case len(content) == 0:
		msg.Content.OfString = oai.String("")
	case len(content) == 1 && onlyText:
		msg.Content.OfString = oai.String(content[0].OfInputText.Text)
	default:
		msg.Content.OfInputItemContentList = content
	}
	return responses.ResponseInputItemUnionParam{OfMessage: msg}, nil
}

func inputText(s string) responses.ResponseInputContentUnionParam {
	return responses.ResponseInputContentUnionParam{OfInputText: &responses.ResponseInputTextParam{Text: s}}
}

// assistantItems appends an assistant message's items in order: its text
// (consecutive text parts joined into one assistant message), a reasoning
// item per thinking part of OpenAI's that can be sent back (see
// reasoningItem) and a function_call item per tool call. Other thinking and
// images are dropped.
func assistantItems(out responses.ResponseInputParam, parts []llm.Part, store bool) (responses.ResponseInputParam, error) {
	var text strings.Builder
	flush := func() {
		if text.Len() == 0 {
			return
		}
		out = append(out, responses.ResponseInputItemUnionParam{OfMessage: &responses.EasyInputMessageParam{
			Role:    responses.EasyInputMessageRoleAssistant,
			Type:    responses.EasyInputMessageTypeMessage,
			Content: responses.EasyInputMessageContentUnionParam{OfString: oai.String(text.String())},
		}})
		text.Reset()
	}
	for _, part := range parts {
		switch part := part.(type) {
		case *llm.Text:
			text.WriteString(part.Text)
		case *llm.Resource:
			text.WriteString(resourceText(part))
		case *llm.ToolCall:
			flush()
			if part.ID == "" {
				return nil, fmt.Errorf("the call of tool %q has no ID", part.Name)
			}
			args := string(part.Arguments)
			if strings.TrimSpace(args) == "" {
				args = "{}"
			}
			out = append(out, responses.ResponseInputItemUnionParam{OfFunctionCall: &responses.ResponseFunctionToolCallParam{
				CallID:    part.ID,
				Name:      part.Name,
				Arguments: args,
			}})
		case *llm.Thinking:
			if item := reasoningItem(part, store); item != nil {
				flush()
				out = append(out, responses.ResponseInputItemUnionParam{OfReasoning: item})
			}
		case *llm.Image:
		case *llm.ToolResult:
			return nil, fmt.Errorf("an assistant message cannot hold a tool result; put it in a tool message")
		default:
			return nil, fmt.Errorf("unsupported part %T", part)
		}
	}
	flush()
	return out, nil
}

// providerName is the provider's name, which also marks its thinking
// ([llm.Thinking.Provider]).
const providerName = "openai"

// reasoningItem returns the reasoning item that gives a thinking part back
// to the model, or nil when it cannot be given back: thinking of another
// provider, or (stateless) OpenAI reasoning without encrypted content —
// with store: false the API keeps no reasoning to refer to by ID. With
// Options.Store the ID alone refers to the stored item.
func reasoningItem(th *llm.Thinking, store bool) *responses.ResponseReasoningItemParam {
	if th.Provider != providerName || th.ID == "" || (th.EncryptedContent == "" && !store) {
		return nil
	}
	item := &responses.ResponseReasoningItemParam{ID: th.ID, Summary: []responses.ResponseReasoningItemSummaryParam{}}
	if th.Text != "" {
		item.Summary = append(item.Summary, responses.ResponseReasoningItemSummaryParam{Text: th.Text})
	}
	if th.EncryptedContent != "" {
		item.EncryptedContent = oai.String(th.EncryptedContent)
	}
	return item
}

// toolOutputItems appends one function_call_output item per tool result.
// A text-only result is a string; a result with images is a list of
// input_text and input_image parts. An error result is prefixed with
// "Error: ".
func toolOutputItems(out responses.ResponseInputParam, parts []llm.Part) (responses.ResponseInputParam, error) {
	for _, part := range parts {
		r, ok := part.(*llm.ToolResult)
		if !ok {
			return nil, fmt.Errorf("a tool message holds only tool results, not %T", part)
		}
		if r.CallID == "" {
			return nil, fmt.Errorf("the result of tool %q has no call ID", r.Name)
		}
		var texts []string
		var images []string
		for _, c := range r.Content {
			switch c := c.(type) {
			case *llm.Text:
				texts = append(texts, c.Text)
			case *llm.Resource:
				texts = append(texts, resourceText(c))
			case *llm.Image:
				u, err := imageURL(c)
				if err != nil {
					return nil, fmt.Errorf("result of tool %q: %w", r.Name, err)
				}
				images = append(images, u)
			case *llm.Thinking:
			default:
				return nil, fmt.Errorf("result of tool %q: unsupported content %T", r.Name, c)
			}
		}
		text := strings.Join(texts, "\n")
		if text == "" && len(images) == 0 {
			text = "(no output)"
		}
		if r.IsError {
			text = "Error: " + text
		}
		item := &responses.ResponseInputItemFunctionCallOutputParam{CallID: oai.String(r.CallID)}
		if len(images) == 0 {
			item.Output.OfString = oai.String(text)
		} else {
			var list responses.ResponseFunctionCallOutputItemListParam
			if text != "" {
				list = append(list, responses.ResponseFunctionCallOutputItemUnionParam{OfInputText: &responses.ResponseInputTextContentParam{Text: text}})
			}
			for _, u := range images {
				list = append(list, responses.ResponseFunctionCallOutputItemUnionParam{OfInputImage: &responses.ResponseInputImageContentParam{ImageURL: oai.String(u)}})
			}
			item.Output.OfResponseFunctionCallOutputItemArray = list
		}
		out = append(out, responses.ResponseInputItemUnionParam{OfFunctionCallOutput: item})
	}
	return out, nil
}

func responsesToolChoice(req *llm.Request) (responses.ResponseNewParamsToolChoiceUnion, error) {
	var c responses.ResponseNewParamsToolChoiceUnion
	switch req.ToolChoice.Mode {
	case "", llm.ToolChoiceAuto:
	case llm.ToolChoiceNone:
		c.OfToolChoiceMode = oai.Opt(responses.ToolChoiceOptionsNone)
	case llm.ToolChoiceRequired:
		c.OfToolChoiceMode = oai.Opt(responses.ToolChoiceOptionsRequired)
	case llm.ToolChoiceTool:
		found := false
		for _, t := range req.Tools {
			found = found || t.Name == req.ToolChoice.Name
		}
		if !found {
			return c, fmt.Errorf("openai: tool choice names tool %q, which is not among the request's tools", req.ToolChoice.Name)
		}
		c.OfFunctionTool = &responses.ToolChoiceFunctionParam{Name: req.ToolChoice.Name}
	default:
		return c, fmt.Errorf("openai: unknown tool choice mode %q; want auto, none, required or tool", req.ToolChoice.Mode)
	}
	return c, nil
}

// translateResponsesResponse maps a Responses API response onto a
// provider-neutral one.
func (p *Provider) translateResponsesResponse(r *responses.Response) (*llm.Response, error) {
	if r == nil {
		return nil, fmt.Errorf("openai: the server returned no response")
	}
	if r.Status == responses.ResponseStatusFailed || r.Error.Message != "" {
		return nil, p.failure(&ResponseError{Code: string(r.Error.Code), Message: r.Error.Message, ResponseID: r.ID})
	}
	var parts []llm.Part
	refused := false
	for _, item := range r.Output {
		parts, refused = appendOutputItem(parts, item, refused)
	}
	return finishResponse(r, parts, refused), nil
}

// appendOutputItem appends the parts of one output item: message text and
// refusals, function calls, and reasoning items as thinking (the summaries,
// or else the reasoning text, marked as OpenAI's with the item's ID and
// encrypted content, to be sent back in later turns). Other items
// (built-in tools) are not requested and are skipped.
func appendOutputItem(parts []llm.Part, item responses.ResponseOutputItemUnion, refused bool) ([]llm.Part, bool) {
	switch item.Type {
	case "message":
		var text strings.Builder
		for _, c := range item.Content {
			switch c.Type {
			case "output_text":
				text.WriteString(c.Text)
			case "refusal":
				text.WriteString(c.Refusal)
				refused = true
			}
		}
		if text.Len() > 0 {
			parts = append(parts, &llm.Text{Text: text.String()})
		}
	case "function_call":
		args := item.Arguments.OfString
		if strings.TrimSpace(args) == "" {
			args = "{}"
		}
		parts = append(parts, &llm.ToolCall{ID: item.CallID, Name: item.Name, Arguments: []byte(args)})
	case "reasoning":
		var texts []string
		for _, s := range item.Summary {
			texts = append(texts, s.Text)
		}
		if len(texts) == 0 {
			for _, c := range item.AsReasoning().Content {
				texts = append(texts, c.Text)
			}
		}
		t := strings.Join(texts, "\n\n")
		if t != "" || item.EncryptedContent != "" {
			parts = append(parts, &llm.Thinking{Text: t, Provider: providerName, ID: item.ID, EncryptedContent: item.EncryptedContent})
		}
	}
	return parts, refused
}

// finishResponse builds the response from its parts, stop reason and
// usage.
func finishResponse(r *responses.Response, parts []llm.Part, refused bool) *llm.Response {
	calls := 0
	for _, p := range parts {
		if _, ok := p.(*llm.ToolCall); ok {
			calls++
		}
	}
	var stop llm.StopReason
	switch {
	case refused:
		stop = llm.StopRefusal
	case r.Status == responses.ResponseStatusIncomplete || r.IncompleteDetails.Reason != "":
		switch r.IncompleteDetails.Reason {
		case "max_output_tokens":
			stop = llm.StopMaxTokens
		case "content_filter":
			stop = llm.StopRefusal
		default:
			stop = llm.StopOtherUnknown
		}
	case calls > 0:
		stop = llm.StopToolUse
	case r.Status == responses.ResponseStatusCompleted || r.Status == "":
		stop = llm.StopEndTurn
	default:
		stop = llm.StopOtherUnknown
	}
	return &llm.Response{
		ID:         r.ID,
		Message:    llm.Message{Role: llm.RoleAssistant, Parts: parts},
		StopReason: stop,
		Model:      r.Model,
		Usage: llm.Usage{
			InputTokens:      r.Usage.InputTokens,
			OutputTokens:     r.Usage.OutputTokens,
			CacheReadTokens:  r.Usage.InputTokensDetails.CachedTokens,
			CacheWriteTokens: r.Usage.InputTokensDetails.CacheWriteTokens,
			ReasoningTokens:  r.Usage.OutputTokensDetails.ReasoningTokens,
		},
	}
}

// The Responses API has no stop sequences: the provider emulates them by
// cutting the answer at the first one (the model still generates, and
// bills, what follows).

// cutAtStop truncates the response's text at the earliest stop sequence,
// drops the parts after it and reports StopSequence.
func cutAtStop(resp *llm.Response, stops []string) {
	if len(stops) == 0 {
		return
	}
	for i, part := range resp.Message.Parts {
		t, ok := part.(*llm.Text)
		if !ok {
			continue
		}
		cut := stopIndex(t.Text, stops, 0)
		if cut < 0 {
			continue
		}
		parts := resp.Message.Parts[:i:i]
		if cut > 0 {
			parts = append(parts, &llm.Text{Text: t.Text[:cut]})
		}
		resp.Message.Parts = parts
		resp.StopReason = llm.StopSequence
		return
	}
}

// stopIndex returns where in s the stop sequence that ends first (at or
// after from) begins, or -1: generation stops as soon as a stop sequence is
// complete. Of two ending together, the longer wins.
func stopIndex(s string, stops []string, from int) int {
	best, bestEnd := -1, 0
	for _, stop := range stops {
		if stop == "" {
			continue
		}
		i := strings.Index(s[from:], stop)
		if i < 0 {
			continue
		}
		start := from + i
		if end := start + len(stop); best < 0 || end < bestEnd || (end == bestEnd && start < best) {
			best, bestEnd = start, end
		}
	}
	return best
}

// stopFilter holds back streamed text that could be the start of a stop
// sequence and ends the text at the first stop sequence.
type stopFilter struct {
	stops   []string
	maxLen  int
	all     strings.Builder
	emitted int
	stopped bool
}

func newStopFilter(stops []string) *stopFilter {
	f := &stopFilter{stops: stops}
	for _, s := range stops {
		f.maxLen = max(f.maxLen, len(s))
	}
	return f
}

// add takes a text delta and returns the text that may be emitted now.
func (f *stopFilter) add(delta string) string {
	if f.stopped {
		return ""
	}
	f.all.WriteString(delta)
	all := f.all.String()
	if cut := stopIndex(all, f.stops, max(0, f.emitted-f.maxLen)); cut >= 0 {
		f.stopped = true
		out := ""
		if cut > f.emitted {
			out = all[f.emitted:cut]
		}
		f.emitted = len(all)
		return out
	}
	safe := max(f.emitted, len(all)-max(f.maxLen-1, 0))
	for safe > f.emitted && safe < len(all) && !utf8.RuneStart(all[safe]) {
		safe--
	}
	out := all[f.emitted:safe]
	f.emitted = safe
	return out
}

// flush returns the text held back at the end of the stream.
func (f *stopFilter) flush() string {
	if f.stopped {
		return ""
	}
	all := f.all.String()
	out := all[f.emitted:]
	f.emitted = len(all)
	return out
}
