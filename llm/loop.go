package llm

// The tool loop. One turn: load memory, list tools once, then per
// iteration: build a Request, call the provider (with retries; streamed when
// the caller streams), record usage, and run the response's tool calls
// (concurrently, bounded, results in call order) until a response has no
// tool calls. Events are emitted only from the goroutine running the turn,
// so Stream's yield is never called concurrently; tool goroutines report
// back over a channel and are always waited for.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// Options configures an [LLM]. A nil *Options uses every default.
type Options struct {
	// Name names the LLM in events and usage reports; "" uses the agent's
	// name, or the provider's name when there is no agent.
	Name string
	// Params are the defaults of every call (the call's params override the
	// fields they set). Set the model here: Params.Model.
	Params *RequestParams
	// Memory keeps the conversation; nil uses a new [SimpleMemory].
	Memory Memory
	// Retry retries failed model calls; nil uses RetryPolicy's defaults.
	Retry *RetryPolicy
	// Prices prices usage reports; nil uses [DefaultPrices].
	Prices *PriceTable
	// MaxConcurrentTools bounds how many tool calls of one response run at
	// once when parallel tool calls are on; 0 means 8.
	MaxConcurrentTools int
}

// LLM is the agent-backed [AugmentedLLM]: it offers the agent's tools to
// the provider's model and runs the tool loop. It is safe for concurrent
// use; concurrent turns sharing history each append their own messages as
// one block when they finish.
type LLM struct {
	agent    ToolSource
	provider Provider
	name     string
	params   *RequestParams
	memory   Memory
	retry    *RetryPolicy
	prices   *PriceTable
	maxTools int
	usage    *UsageTracker
}

// New returns an LLM running agent's tools on provider. agent may be nil for
// an LLM without tools. It panics if provider is nil.
func New(agent ToolSource, provider Provider, opts *Options) *LLM {
	if provider == nil {
		panic("llm.New: nil Provider")
	}
	if opts == nil {
		opts = &Options{}
	}
	l := &LLM{
		agent:    agent,
		provider: provider,
		name:     opts.Name,
		params:   MergeParams(opts.Params, nil),
		memory:   opts.Memory,
		retry:    opts.Retry,
		prices:   opts.Prices,
		maxTools: opts.MaxConcurrentTools,
	}
	if l.name == "" && agent != nil {
		l.name = agent.Name()
	}
	if l.name == "" {
		l.name = provider.Name()
	}
	if l.memory == nil {
		l.memory = NewMemory()
	}
	if l.prices == nil {
		l.prices = DefaultPrices()
	}
	if l.maxTools <= 0 {
		l.maxTools = 8
	}
	l.usage = NewUsageTracker(l.name, UsageLLM)
	return l
}

// Name returns the LLM's name.
func (l *LLM) Name() string { return l.name }

// Provider returns the LLM's provider.
func (l *LLM) Provider() Provider { return l.provider }

// Memory returns the LLM's conversation memory.
func (l *LLM) Memory() Memory { return l.memory }

// Usage returns the tracker of every call this LLM made.
func (l *LLM) Usage() *UsageTracker { return l.usage }

// UsageReport is l.Usage().Report with the LLM's price table.
func (l *LLM) UsageReport() UsageNode { return l.usage.Report(l.prices) }

// Generate runs one turn; see [AugmentedLLM.Generate]. When the model still
// asks for tools at the last iteration, it returns the turn's messages with
// an error wrapping [ErrMaxIterations]. A failed turn leaves memory
// unchanged.
func (l *LLM) Generate(ctx context.Context, msgs []Message, params *RequestParams) ([]Message, error) {
	return l.run(ctx, msgs, params, nil)
}

// GenerateString runs one turn on a single user message and returns the
// final answer's text.
func (l *LLM) GenerateString(ctx context.Context, prompt string, params *RequestParams) (string, error) {
	return GenerateString(ctx, l, Prompt(prompt), params)
}

// Stream runs one turn with the provider streaming; see
// [AugmentedLLM.Stream] and [EventKind] for the events.
func (l *LLM) Stream(ctx context.Context, msgs []Message, params *RequestParams) iter.Seq2[*Event, error] {
	return func(yield func(*Event, error) bool) {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stopped := false
		emit := func(ev *Event) bool {
			if stopped {
				return false
			}
			ev.Source = l.name
			if !yield(ev, nil) {
				stopped = true
				cancel()
			}
			return !stopped
		}
		out, err := l.run(ctx, msgs, params, emit)
		if stopped {
			return
		}
		if err != nil {
			yield(nil, err)
			return
		}
		final := out[len(out)-1]
		yield(&Event{Kind: EventFinal, Source: l.name, Message: &final}, nil)
	}
}

// errStopped ends a turn whose stream consumer stopped iterating.
var errStopped = errors.New("stream consumer stopped")

// MaxIterationsError reports a turn that ran out of iterations; it wraps
// [ErrMaxIterations].
type MaxIterationsError struct {
	LLM        string
	Iterations int
	// Pending are the tool calls of the last response, not executed.
	Pending []*ToolCall
}

func (e *MaxIterationsError) Error() string {
	names := make([]string, len(e.Pending))
	for i, c := range e.Pending {
		names[i] = c.Name
	}
	return fmt.Sprintf("llm %q: model still called tools (%s) after %d iterations: raise RequestParams.MaxIterations or narrow the task",
		e.LLM, strings.Join(names, ", "), e.Iterations)
}

func (e *MaxIterationsError) Unwrap() error { return ErrMaxIterations }

type toolSet struct {
	specs []ToolSpec
	names map[string]bool
}

func (l *LLM) tools(ctx context.Context, p *RequestParams) (*toolSet, error) {
	ts := &toolSet{names: map[string]bool{}}
	if l.agent == nil {
		return ts, nil
	}
	tools, err := l.agent.ListTools(ctx)
	if err != nil {
		return nil, fmt.Errorf("llm %q: listing tools: %w", l.name, err)
	}
	for _, t := range tools {
		if t == nil || !p.allowsTool(t.Name) {
			continue
		}
		schema, err := schemaJSON(t.InputSchema)
		if err != nil {
			return nil, fmt.Errorf("llm %q: tool %q: input schema: %w", l.name, t.Name, err)
		}
		ts.specs = append(ts.specs, ToolSpec{Name: t.Name, Description: t.Description, InputSchema: schema})
		ts.names[t.Name] = true
	}
	return ts, nil
}

func schemaJSON(s any) (json.RawMessage, error) {
	switch s := s.(type) {
	case nil:
		return json.RawMessage(`{"type":"object"}`), nil
	case json.RawMessage:
		return s, nil
	case []byte:
		return s, nil
	}
	return json.Marshal(s)
}

func (l *LLM) run(ctx context.Context, msgs []Message, params *RequestParams, emit func(*Event) bool) ([]Message, error) {
	p := MergeParams(l.params, params)
	hist := p.useHistory()
	var conv []Message
	if hist {
		prior, err := l.memory.Load(ctx)
		if err != nil {
			return nil, fmt.Errorf("llm %q: loading memory: %w", l.name, err)
		}
		conv = slices.Clip(prior)
	}
	conv = append(conv, msgs...)
	if len(conv) == 0 {
		return nil, fmt.Errorf("llm %q: no messages to send: pass at least one message", l.name)
	}
	tools, err := l.tools(ctx, p)
	if err != nil {
		return nil, err
	}
	system := p.SystemPrompt
	if system == "" && l.agent != nil {
		system = l.agent.Instruction()
	}
	var runUsage *UsageTracker
	if t := UsageFromContext(ctx); t != nil {
		runUsage = t.Child(l.name, UsageLLM)
	}

	var turn []Message
	maxIt := p.maxIterations()
	for it := 1; it <= maxIt; it++ {
		if emit != nil && !emit(&Event{Kind: EventIterationStarted, Iteration: it}) {
			return nil, errStopped
		}
		req := &Request{
			Model:                    p.Model,
			System:                   system,
			Messages:                 conv,
			Tools:                    tools.specs,
			ToolChoice:               p.ToolChoice,
			DisableParallelToolCalls: !p.parallel(),
			MaxTokens:                p.MaxTokens,
			Temperature:              p.Temperature,
			StopSequences:            p.StopSequences,
			ReasoningEffort:          p.ReasoningEffort,
			ResponseSchema:           p.ResponseSchema,
			Metadata:                 p.Metadata,
		}
		if it == maxIt && len(tools.specs) > 0 {
			req.ToolChoice = ToolChoice{Mode: ToolChoiceNone}
		}
		resp, err := l.call(ctx, req, it, emit)
		if err != nil {
			return nil, err
		}
		model := resp.Model
		if model == "" {
			model = req.Model
		}
		if model == "" {
			model = l.provider.Name()
		}
		l.usage.Record(model, resp.Usage)
		if runUsage != nil {
			runUsage.Record(model, resp.Usage)
		}
		asst := resp.Message
		asst.Role = RoleAssistant
		conv = append(conv, asst)
		turn = append(turn, asst)
		if emit != nil {
			u := resp.Usage
			if !emit(&Event{Kind: EventUsage, Iteration: it, Usage: &u, Model: model}) ||
				!emit(&Event{Kind: EventMessage, Iteration: it, Message: &turn[len(turn)-1]}) {
				return nil, errStopped
			}
		}
		calls := asst.ToolCalls()
		if len(calls) == 0 {
			if emit != nil && !emit(&Event{Kind: EventIterationFinished, Iteration: it, StopReason: resp.StopReason}) {
				return nil, errStopped
			}
			break
		}
		if it == maxIt {
			return turn, &MaxIterationsError{LLM: l.name, Iterations: it, Pending: calls}
		}
		results, err := l.runTools(ctx, calls, tools, p.parallel(), it, emit)
		if err != nil {
			return nil, err
		}
		toolMsg := Message{Role: RoleTool, Parts: results}
		conv = append(conv, toolMsg)
		turn = append(turn, toolMsg)
		if emit != nil {
			if !emit(&Event{Kind: EventMessage, Iteration: it, Message: &turn[len(turn)-1]}) ||
				!emit(&Event{Kind: EventIterationFinished, Iteration: it, StopReason: resp.StopReason}) {
				return nil, errStopped
			}
		}
	}
	if hist {
		if err := l.memory.Append(ctx, append(slices.Clip(msgs), turn...)...); err != nil {
			return nil, fmt.Errorf("llm %q: saving memory: %w", l.name, err)
		}
	}
	return turn, nil
}

// permanentError marks an error the retry policy must not retry (a stream
// that failed after it started emitting).
type permanentError struct{ error }

func (e permanentError) Unwrap() error { return e.error }

// call makes one model call with retries, streaming when emit is set.
func (l *LLM) call(ctx context.Context, req *Request, it int, emit func(*Event) bool) (*Response, error) {
	var resp *Response
	err := l.retry.Do(ctx, func(ctx context.Context) error {
		if emit == nil {
			r, err := l.provider.Complete(ctx, req)
			if err == nil && r == nil {
				err = ErrNoFinalResponse
			}
			resp = r
			return err
		}
		started := false
		for c, err := range l.provider.Stream(ctx, req) {
			if err != nil {
				if started {
					return permanentError{err}
				}
				return err
			}
			switch {
			case c == nil:
			case c.Response != nil:
				resp = c.Response
			case c.Text != "":
				started = true
				if !emit(&Event{Kind: EventTextDelta, Iteration: it, Text: c.Text}) {
					return errStopped
				}
			case c.Thinking != "":
				started = true
				if !emit(&Event{Kind: EventThinkingDelta, Iteration: it, Text: c.Thinking}) {
					return errStopped
				}
			}
		}
		if resp == nil {
			return permanentError{ErrNoFinalResponse}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, errStopped) {
			return nil, errStopped
		}
		var pe permanentError
		if errors.As(err, &pe) {
			err = pe.error
		}
		return nil, fmt.Errorf("llm %q: %s model call (iteration %d): %w", l.name, l.provider.Name(), it, err)
	}
	return resp, nil
}

type toolDone struct {
	i   int
	res *ToolResult
	dur time.Duration
	err error
}

// runTools runs one response's tool calls and returns their results in call
// order. Tool failures become error results; only cancellation (or the
// stream consumer stopping) is returned as an error.
func (l *LLM) runTools(ctx context.Context, calls []*ToolCall, tools *toolSet, parallel bool, it int, emit func(*Event) bool) ([]Part, error) {
	results := make([]Part, len(calls))
	finished := func(d toolDone) error {
		if d.err != nil {
			return fmt.Errorf("llm %q: tool %q: %w", l.name, calls[d.i].Name, d.err)
		}
		results[d.i] = d.res
		if emit != nil && !emit(&Event{Kind: EventToolCallFinished, Iteration: it, ToolCall: calls[d.i], ToolResult: d.res, Duration: d.dur}) {
			return errStopped
		}
		return nil
	}
	if !parallel || len(calls) == 1 {
		for i, c := range calls {
			if emit != nil && !emit(&Event{Kind: EventToolCallStarted, Iteration: it, ToolCall: c}) {
				return nil, errStopped
			}
			start := time.Now()
			res, err := l.callTool(ctx, c, tools)
			if err := finished(toolDone{i: i, res: res, dur: time.Since(start), err: err}); err != nil {
				return nil, err
			}
		}
		return results, nil
	}

	for _, c := range calls {
		if emit != nil && !emit(&Event{Kind: EventToolCallStarted, Iteration: it, ToolCall: c}) {
			return nil, errStopped
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	done := make(chan toolDone, len(calls)) // buffered: workers never block
	sem := make(chan struct{}, l.maxTools)
	go func() {
		for i, c := range calls {
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				done <- toolDone{i: i, err: ctx.Err()}
				continue
			}
			go func() {
				start := time.Now()
				res, err := l.callTool(ctx, c, tools)
				<-sem
				done <- toolDone{i: i, res: res, dur: time.Since(start), err: err}
			}()
		}
	}()
	var firstErr error
	for range calls {
		d := <-done // every call reports exactly once, even when cancelled
		if firstErr != nil {
			continue
		}
		if err := finished(d); err != nil {
			firstErr = err
			cancel()
		}
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return results, nil
}

// callTool calls one tool. Every failure of the tool becomes an error
// result for the model; only context cancellation is returned.
func (l *LLM) callTool(ctx context.Context, c *ToolCall, tools *toolSet) (*ToolResult, error) {
	fail := func(format string, args ...any) (*ToolResult, error) {
		return &ToolResult{CallID: c.ID, Name: c.Name, IsError: true, Content: []Part{&Text{Text: fmt.Sprintf(format, args...)}}}, nil
	}
	if !tools.names[c.Name] {
		names := slices.Sorted(func(yield func(string) bool) {
			for n := range tools.names {
				if !yield(n) {
					return
				}
			}
		})
		if len(names) > 20 {
			names = append(names[:20], "...")
		}
		return fail("tool %q is not available; available tools: %s", c.Name, strings.Join(names, ", "))
	}
	args := c.Arguments
	if len(strings.TrimSpace(string(args))) == 0 {
		args = json.RawMessage("{}")
	} else if !json.Valid(args) {
		return fail("the arguments of tool %q are not valid JSON: %s", c.Name, truncate(string(args), 200))
	}
	res, err := l.agent.CallTool(ctx, c.Name, args)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return fail("tool %q failed: %v", c.Name, err)
	}
	if res == nil {
		return fail("tool %q returned no result", c.Name)
	}
	return toolResultFromMCP(c, res), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

func toolResultFromMCP(c *ToolCall, res *mcp.CallToolResult) *ToolResult {
	r := &ToolResult{CallID: c.ID, Name: c.Name, IsError: res.IsError, Content: PartsFromMCP(res.Content)}
	if len(r.Content) == 0 && res.StructuredContent != nil {
		if b, err := json.Marshal(res.StructuredContent); err == nil {
			r.Content = []Part{&Text{Text: string(b)}}
		}
	}
	return r
}

// PartsFromMCP converts MCP content (tool results, prompts, sampling
// messages) into message parts: text, image, embedded resources and
// resource links map onto [*Text], [*Image] and [*Resource]; audio, which
// no provider accepts in tool results, becomes a short text note.
func PartsFromMCP(content []mcp.Content) []Part {
	parts := make([]Part, 0, len(content))
	for _, c := range content {
		switch c := c.(type) {
		case *mcp.TextContent:
			parts = append(parts, &Text{Text: c.Text})
		case *mcp.ImageContent:
			parts = append(parts, &Image{Data: c.Data, MIMEType: c.MIMEType})
		case *mcp.AudioContent:
			parts = append(parts, &Text{Text: fmt.Sprintf("[audio %s, %d bytes, not shown]", c.MIMEType, len(c.Data))})
		case *mcp.EmbeddedResource:
			if rc := c.Resource; rc != nil {
				parts = append(parts, &Resource{URI: rc.URI, MIMEType: rc.MIMEType, Text: rc.Text, Blob: rc.Blob})
			}
		case *mcp.ResourceLink:
			parts = append(parts, &Resource{URI: c.URI, Name: c.Name, MIMEType: c.MIMEType})
		case nil:
		default:
			if b, err := json.Marshal(c); err == nil {
				parts = append(parts, &Text{Text: string(b)})
			}
		}
	}
	return parts
}
