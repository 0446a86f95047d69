// Package replay is a deterministic [llm.Provider] that plays a script of
// model responses, and a recorder that writes a real provider's responses
// as such a script. Tests, examples and demos run on it without API keys.
//
// A script (YAML; the format is documented in docs/llm.md):
//
//	model: replay
//	turns:
//	  - match: weather            # optional: substring of the last user message
//	    tool_calls:
//	      - name: weather_forecast
//	        arguments: {city: Paris}
//	  - text: It will be sunny in Paris.
//
// Playing it:
//
//	script, err := replay.Load("weather.replay.yaml")
//	l := llm.New(agent, replay.New(script, nil), nil)
//
// Recording one from a real provider:
//
//	rec := replay.NewRecorder(openaiProvider, "weather.replay.yaml")
//	l := llm.New(agent, rec, nil) // every response is appended to the file
package replay

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// Errors of a request the script cannot answer; test with errors.Is.
var (
	// ErrExhausted: every turn has been used.
	ErrExhausted = errors.New("replay script exhausted")
	// ErrNoMatch: unused turns remain but none matches the message.
	ErrNoMatch = errors.New("no replay turn matches")
)

// Options configures a [Provider]. A nil *Options uses the defaults.
type Options struct {
	// Name is the provider name; "" is "replay".
	Name string
	// ChunkSize is the number of bytes (rounded to whole runes) of each
	// streamed text chunk; 0 means 16.
	ChunkSize int
}

// Provider plays a [Script]. Each request takes the first unused turn
// whose match fits the last user message (a turn without match fits any
// message), so turns play in order unless matches say otherwise. It is safe
// for concurrent use.
type Provider struct {
	script *Script
	name   string
	chunk  int

	mu    sync.Mutex
	used  []bool
	calls int
}

// New returns a provider playing script. It panics if script is nil.
func New(script *Script, opts *Options) *Provider {
	if script == nil {
		panic("replay.New: nil script")
	}
	if opts == nil {
		opts = &Options{}
	}
	p := &Provider{script: script, name: opts.Name, chunk: opts.ChunkSize, used: make([]bool, len(script.Turns))}
	if p.name == "" {
		p.name = "replay"
	}
	if p.chunk <= 0 {
		p.chunk = 16
	}
	return p
}

// NewFromTurns returns a provider playing turns built in code; they are
// validated like a parsed script's (invalid turns panic).
func NewFromTurns(turns ...Turn) *Provider {
	s := &Script{Turns: turns}
	if err := s.compile(); err != nil {
		panic(err)
	}
	return New(s, nil)
}

// Name returns the provider name.
func (p *Provider) Name() string { return p.name }

// Remaining returns the number of unused turns.
func (p *Provider) Remaining() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, u := range p.used {
		if !u {
			n++
		}
	}
	return n
}

// Reset makes every turn unused again.
func (p *Provider) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	clear(p.used)
}

// Complete answers with the next fitting turn.
func (p *Provider) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return p.next(req)
}

// Stream answers with the next fitting turn: its thinking and text in
// chunks, then the response.
func (p *Provider) Stream(ctx context.Context, req *llm.Request) iter.Seq2[*llm.Chunk, error] {
	return func(yield func(*llm.Chunk, error) bool) {
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		resp, err := p.next(req)
		if err != nil {
			yield(nil, err)
			return
		}
		for _, part := range resp.Message.Parts {
			switch part := part.(type) {
			case *llm.Thinking:
				for c := range chunks(part.Text, p.chunk) {
					if !yield(&llm.Chunk{Thinking: c}, nil) {
						return
					}
				}
			case *llm.Text:
				for c := range chunks(part.Text, p.chunk) {
					if !yield(&llm.Chunk{Text: c}, nil) {
						return
					}
				}
			}
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
		}
		yield(&llm.Chunk{Response: resp}, nil)
	}
}

// chunks splits s into pieces of about n bytes, on rune boundaries.
func chunks(s string, n int) iter.Seq[string] {
	return func(yield func(string) bool) {
		for len(s) > 0 {
			end := min(n, len(s))
			for end < len(s) && !utf8.RuneStart(s[end]) {
				end++
			}
			if !yield(s[:end]) {
				return
			}
			s = s[end:]
		}
	}
}

func lastUserText(req *llm.Request) string {
	for i := len(req.Messages) - 1; i >= 0; i-- {
		if req.Messages[i].Role == llm.RoleUser {
			return req.Messages[i].Text()
		}
	}
	return ""
}

func (p *Provider) next(req *llm.Request) (*llm.Response, error) {
	msg := lastUserText(req)
	p.mu.Lock()
	defer p.mu.Unlock()
	i := p.pick(msg)
	if i < 0 && p.script.Loop && p.anyUsed() {
		clear(p.used)
		i = p.pick(msg)
	}
	if i < 0 {
		return nil, p.noTurn(msg)
	}
	p.used[i] = true
	t := &p.script.Turns[i]

	var parts []llm.Part
	if t.Thinking != "" {
		// Marked as the replay provider's: no real provider gets it back.
		parts = append(parts, &llm.Thinking{Text: t.Thinking, Signature: "replay", Provider: "replay"})
	}
	if t.Text != "" {
		parts = append(parts, &llm.Text{Text: t.Text})
	}
	for _, c := range t.ToolCalls {
		p.calls++
		id := c.ID
		if id == "" {
			id = "call_" + strconv.Itoa(p.calls)
		}
		args, _ := argumentsJSON(c.Arguments) // validated when parsed
		parts = append(parts, &llm.ToolCall{ID: id, Name: c.Name, Arguments: args})
	}
	stop := llm.StopReason(t.StopReason)
	if stop == "" {
		stop = llm.StopEndTurn
		if len(t.ToolCalls) > 0 {
			stop = llm.StopToolUse
		}
	}
	model := p.script.Model
	if model == "" {
		model = "replay"
	}
	resp := &llm.Response{
		ID:         fmt.Sprintf("replay-%d", i+1),
		Message:    llm.Message{Role: llm.RoleAssistant, Parts: parts},
		StopReason: stop,
		Model:      model,
	}
	if u := t.Usage; u != nil {
		resp.Usage = llm.Usage{InputTokens: u.Input, OutputTokens: u.Output, CacheReadTokens: u.CacheRead, CacheWriteTokens: u.CacheWrite, ReasoningTokens: u.Reasoning}
	}
	return resp, nil
}

func (p *Provider) pick(msg string) int {
	for i := range p.script.Turns {
		if !p.used[i] && p.script.Turns[i].matches(msg) {
			return i
		}
	}
	return -1
}

func (p *Provider) anyUsed() bool {
	for _, u := range p.used {
		if u {
			return true
		}
	}
	return false
}

func (p *Provider) noTurn(msg string) error {
	name := p.script.Path
	if name == "" {
		name = "<script>"
	}
	quoted := strconv.Quote(shorten(msg, 120))
	var unused []string
	for i := range p.script.Turns {
		if !p.used[i] {
			unused = append(unused, p.script.Turns[i].describe())
		}
	}
	if len(unused) == 0 {
		return fmt.Errorf("replay script %s: %w: all %d turns used, none left for message %s: add a turn to the script (or set loop: true)",
			name, ErrExhausted, len(p.script.Turns), quoted)
	}
	return fmt.Errorf("replay script %s: %w message %s: the unused turns expect %s",
		name, ErrNoMatch, quoted, strings.Join(unused, ", "))
}

func shorten(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}
