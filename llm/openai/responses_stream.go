package openai

import (
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/openai/openai-go/v3/responses"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// maxStreamItems bounds the output items a stream may announce, so that a
// malformed stream cannot grow the accumulator without limit.
const maxStreamItems = 4096

// responsesAccumulator turns Responses API stream events into llm chunks
// and assembles the final response. The terminal event
// (response.completed or response.incomplete) carries the whole response;
// when its output is empty (some compatible servers send only deltas), the
// output is reassembled from the output_item and delta events.
type responsesAccumulator struct {
	events   int
	terminal *responses.Response
	items    map[int64]*streamItem
}

// streamItem is one output item as reassembled from events.
type streamItem struct {
	typ, id, callID, name string
	text, args, thinking  strings.Builder
	refused               bool
	// done is the item of response.output_item.done, which wins over the
	// deltas.
	done *responses.ResponseOutputItemUnion
}

func (a *responsesAccumulator) item(index int64) (*streamItem, error) {
	if index < 0 || index >= maxStreamItems {
		return nil, fmt.Errorf("openai: stream event %d names output item %d, outside 0..%d; the server's stream is malformed", a.events, index, maxStreamItems-1)
	}
	if a.items == nil {
		a.items = make(map[int64]*streamItem)
	}
	it := a.items[index]
	if it == nil {
		it = &streamItem{}
		a.items[index] = it
	}
	return it, nil
}

// add accumulates one event and returns the deltas to emit. A failed
// response or an error event is returned as a [*ResponseError].
func (a *responsesAccumulator) add(ev responses.ResponseStreamEventUnion) ([]*llm.Chunk, error) {
	a.events++
	if a.terminal != nil {
		// Events after the terminal one are ignored.
		return nil, nil
	}
	switch ev.Type {
	case "response.output_text.delta", "response.refusal.delta",
		"response.reasoning_summary_text.delta", "response.reasoning_text.delta",
		"response.function_call_arguments.delta":
		it, err := a.item(ev.OutputIndex)
		if err != nil {
			return nil, err
		}
		if ev.Delta == "" {
			return nil, nil
		}
		switch ev.Type {
		case "response.output_text.delta":
			it.typ = "message"
			it.text.WriteString(ev.Delta)
			return []*llm.Chunk{{Text: ev.Delta}}, nil
		case "response.refusal.delta":
			it.typ, it.refused = "message", true
			it.text.WriteString(ev.Delta)
			return []*llm.Chunk{{Text: ev.Delta}}, nil
		case "response.function_call_arguments.delta":
			it.typ = "function_call"
			it.args.WriteString(ev.Delta)
			return nil, nil
		default:
			it.typ = "reasoning"
			it.thinking.WriteString(ev.Delta)
			return []*llm.Chunk{{Thinking: ev.Delta}}, nil
		}
	case "response.output_item.added", "response.output_item.done":
		it, err := a.item(ev.OutputIndex)
		if err != nil {
			return nil, err
		}
		if ev.Item.Type != "" {
			it.typ = ev.Item.Type
		}
		if ev.Item.ID != "" {
			it.id = ev.Item.ID
		}
		if ev.Item.CallID != "" {
			it.callID, it.name = ev.Item.CallID, ev.Item.Name
		}
		if ev.Type == "response.output_item.done" {
			done := ev.Item
			it.done = &done
		}
	case "response.completed", "response.incomplete":
		r := ev.Response
		a.terminal = &r
	case "response.failed":
		return nil, &ResponseError{Code: string(ev.Response.Error.Code), Message: ev.Response.Error.Message, ResponseID: ev.Response.ID}
	case "error":
		msg := ev.Message
		if ev.Param != "" {
			msg += " (param " + ev.Param + ")"
		}
		return nil, &ResponseError{Code: ev.Code, Message: msg}
	}
	return nil, nil
}

// response returns the final response. A stream that ended without a
// terminal event is reported as cut short (io.ErrUnexpectedEOF, which the
// LLM's retry policy retries).
func (a *responsesAccumulator) response() (*llm.Response, error) {
	if a.terminal == nil {
		if a.events == 0 {
			return nil, fmt.Errorf("openai: the stream ended without any event: %w", io.ErrUnexpectedEOF)
		}
		return nil, fmt.Errorf("openai: the stream ended before the response completed (no response.completed event after %d events): %w", a.events, io.ErrUnexpectedEOF)
	}
	r := a.terminal
	var parts []llm.Part
	refused := false
	if len(r.Output) > 0 {
		for _, item := range r.Output {
			parts, refused = appendOutputItem(parts, item, refused)
		}
		return finishResponse(r, parts, refused), nil
	}
	indexes := make([]int64, 0, len(a.items))
	for i := range a.items {
		indexes = append(indexes, i)
	}
	slices.Sort(indexes)
	for _, i := range indexes {
		it := a.items[i]
		if it.done != nil {
			parts, refused = appendOutputItem(parts, *it.done, refused)
			continue
		}
		// Deltas alone: whatever arrived, in the order reasoning, text, call.
		if it.thinking.Len() > 0 {
			// Without output_item.done there is no (complete) encrypted
			// content: the thinking cannot be sent back stateless.
			parts = append(parts, &llm.Thinking{Text: it.thinking.String(), Provider: providerName, ID: it.id})
		}
		if it.text.Len() > 0 {
			parts = append(parts, &llm.Text{Text: it.text.String()})
			refused = refused || it.refused
		}
		if it.typ == "function_call" {
			args := it.args.String()
			if strings.TrimSpace(args) == "" {
				args = "{}"
			}
			parts = append(parts, &llm.ToolCall{ID: it.callID, Name: it.name, Arguments: []byte(args)})
		}
	}
	return finishResponse(r, parts, refused), nil
}
