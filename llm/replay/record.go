package replay

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/goccy/go-yaml"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// Recorder is an [llm.Provider] that forwards to a real provider and
// writes every response, in order, as a replay script. Each turn records
// the last user message (up to 120 bytes) as its match. The file is
// rewritten after every response, so it is complete whenever the program
// stops. Recorded thinking keeps only its text (signatures and OpenAI's
// encrypted reasoning are bound to the model that made them): replayed
// thinking is marked with [llm.Thinking.Provider] "replay", so no real
// provider is sent it back.
type Recorder struct {
	inner llm.Provider
	path  string

	mu     sync.Mutex
	script Script
}

// NewRecorder returns a recorder forwarding to inner and writing to path
// (created or truncated on the first response).
func NewRecorder(inner llm.Provider, path string) *Recorder {
	return &Recorder{inner: inner, path: path, script: Script{Path: path}}
}

// Name returns the inner provider's name.
func (r *Recorder) Name() string { return r.inner.Name() }

// Complete forwards the request and records the response.
func (r *Recorder) Complete(ctx context.Context, req *llm.Request) (*llm.Response, error) {
	resp, err := r.inner.Complete(ctx, req)
	if err != nil {
		return nil, err
	}
	if err := r.record(req, resp); err != nil {
		return nil, err
	}
	return resp, nil
}

// Stream forwards the stream and records its final response.
func (r *Recorder) Stream(ctx context.Context, req *llm.Request) iter.Seq2[*llm.Chunk, error] {
	return func(yield func(*llm.Chunk, error) bool) {
		for c, err := range r.inner.Stream(ctx, req) {
			if err == nil && c != nil && c.Response != nil {
				if rerr := r.record(req, c.Response); rerr != nil {
					yield(nil, rerr)
					return
				}
			}
			if !yield(c, err) || err != nil {
				return
			}
		}
	}
}

// Script returns a copy of what has been recorded so far.
func (r *Recorder) Script() *Script {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := r.script
	s.Turns = append([]Turn(nil), s.Turns...)
	return &s
}

func (r *Recorder) record(req *llm.Request, resp *llm.Response) error {
	t := Turn{Match: matchFor(lastUserText(req)), StopReason: string(resp.StopReason)}
	var text, thinking strings.Builder
	for _, p := range resp.Message.Parts {
		switch p := p.(type) {
		case *llm.Text:
			text.WriteString(p.Text)
		case *llm.Thinking:
			thinking.WriteString(p.Text)
		case *llm.ToolCall:
			var args any
			if err := json.Unmarshal(p.Arguments, &args); err != nil || args == nil {
				args = string(p.Arguments)
			}
			t.ToolCalls = append(t.ToolCalls, ToolCall{ID: p.ID, Name: p.Name, Arguments: args})
		}
	}
	t.Text, t.Thinking = text.String(), thinking.String()
	if t.Text == "" && t.Thinking == "" && len(t.ToolCalls) == 0 {
		t.Text = " " // an empty answer: keep the turn valid
	}
	if u := resp.Usage; u != (llm.Usage{}) {
		t.Usage = &Usage{Input: u.InputTokens, Output: u.OutputTokens, CacheRead: u.CacheReadTokens, CacheWrite: u.CacheWriteTokens, Reasoning: u.ReasoningTokens}
	}

	r.mu.Lock()
	defer r.mu.Unlock()
	if r.script.Model == "" {
		r.script.Model = resp.Model
	}
	r.script.Turns = append(r.script.Turns, t)
	data, err := yaml.MarshalWithOptions(&r.script, yaml.UseLiteralStyleIfMultiline(true), yaml.IndentSequence(true))
	if err != nil {
		return fmt.Errorf("recording replay script %s: %w", r.path, err)
	}
	var buf bytes.Buffer
	buf.WriteString("# Recorded from provider " + r.inner.Name() + " by replay.Recorder. Edit freely.\n")
	buf.Write(data)
	return writeAtomic(r.path, buf.Bytes())
}

// matchFor makes a match expression from a user message: a prefix of it,
// taken as a substring (never mistaken for a /regexp/).
func matchFor(msg string) string {
	m := strings.TrimSpace(shorten(msg, 120))
	m = strings.TrimSuffix(m, "…")
	if strings.HasPrefix(m, "/") && strings.HasSuffix(m, "/") && len(m) >= 2 {
		m = m[:len(m)-1]
	}
	return m
}

func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".replay-*.yaml")
	if err != nil {
		return fmt.Errorf("recording replay script: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("recording replay script %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("recording replay script %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("recording replay script %s: %w", path, err)
	}
	return nil
}
