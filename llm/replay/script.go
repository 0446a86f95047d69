package replay

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"regexp"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// A Script is what the replay provider plays: the model's side of a
// conversation, one Turn per model call. See docs/llm.md for the format.
type Script struct {
	// Path is the file the script was loaded from ("" when built in code);
	// errors name it.
	Path string `yaml:"-"`
	// Model is the model name reported in responses (and priced); "" is
	// "replay", which is free.
	Model string `yaml:"model,omitempty"`
	// Loop starts over when every turn has been used, instead of failing.
	Loop bool `yaml:"loop,omitempty"`
	// Turns are the responses, in order.
	Turns []Turn `yaml:"turns"`
}

// A Turn is one model response.
type Turn struct {
	// Match, when set, restricts the turn to requests whose last user
	// message contains it (case-insensitive); written /like this/ it is a
	// regular expression (Go syntax) instead.
	Match string `yaml:"match,omitempty"`
	// Thinking is reasoning text to emit before the answer.
	Thinking string `yaml:"thinking,omitempty"`
	// Text is the answer text.
	Text string `yaml:"text,omitempty"`
	// ToolCalls are tool calls to emit.
	ToolCalls []ToolCall `yaml:"tool_calls,omitempty"`
	// StopReason defaults to tool_use when there are tool calls, else end_turn.
	StopReason string `yaml:"stop_reason,omitempty"`
	// Usage is reported for the call; absent means zero.
	Usage *Usage `yaml:"usage,omitempty"`

	line int
	re   *regexp.Regexp
}

// ToolCall is a tool call to emit.
type ToolCall struct {
	// ID defaults to "call_N", N counting calls from 1.
	ID   string `yaml:"id,omitempty"`
	Name string `yaml:"name"`
	// Arguments is a mapping (written as JSON to the tool), or a string
	// passed verbatim (to script invalid JSON).
	Arguments any `yaml:"arguments,omitempty"`
}

// Usage is the token usage reported for a turn.
type Usage struct {
	Input      int64 `yaml:"input,omitempty"`
	Output     int64 `yaml:"output,omitempty"`
	CacheRead  int64 `yaml:"cache_read,omitempty"`
	CacheWrite int64 `yaml:"cache_write,omitempty"`
	Reasoning  int64 `yaml:"reasoning,omitempty"`
}

// ErrInvalidScript is wrapped by every script parsing error.
var ErrInvalidScript = errors.New("invalid replay script")

// Load reads and parses a script file.
func Load(path string) (*Script, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("replay script: %w", err)
	}
	return Parse(data, path)
}

// LoadFS reads and parses a script from fsys (an embed.FS of an example or
// a test, say).
func LoadFS(fsys fs.FS, path string) (*Script, error) {
	data, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil, fmt.Errorf("replay script: %w", err)
	}
	return Parse(data, path)
}

// Parse parses a script; name (a file name) is used in error messages.
// Unknown keys, turns without text, thinking or tool calls, tool calls
// without a name, bad regular expressions and unknown stop reasons are
// errors naming the file and line.
func Parse(data []byte, name string) (*Script, error) {
	if name == "" {
		name = "<script>"
	}
	var s Script
	if err := yaml.UnmarshalWithOptions(data, &s, yaml.DisallowUnknownField()); err != nil {
		// goccy's errors carry the token: report file:line: cause.
		var yerr interface {
			GetToken() *token.Token
			GetMessage() string
		}
		if errors.As(err, &yerr) && yerr.GetToken() != nil && yerr.GetToken().Position != nil {
			return nil, fmt.Errorf("replay script %s:%d: %w: %s", name, yerr.GetToken().Position.Line, ErrInvalidScript, yerr.GetMessage())
		}
		return nil, fmt.Errorf("replay script %s: %w:\n%s", name, ErrInvalidScript, yaml.FormatError(err, false, true))
	}
	s.Path = name
	if len(s.Turns) == 0 {
		return nil, fmt.Errorf("replay script %s: %w: no turns: add a turns: list with at least one text or tool_calls entry", name, ErrInvalidScript)
	}
	lines := turnLines(data, len(s.Turns))
	for i := range s.Turns {
		s.Turns[i].line = lines[i]
	}
	if err := s.compile(); err != nil {
		return nil, err
	}
	return &s, nil
}

// compile validates the turns and compiles their match expressions.
func (s *Script) compile() error {
	name := s.Path
	if name == "" {
		name = "<script>"
	}
	for i := range s.Turns {
		t := &s.Turns[i]
		where := fmt.Sprintf("turn %d", i+1)
		if t.line > 0 {
			where += fmt.Sprintf(" (line %d)", t.line)
		}
		fail := func(format string, args ...any) error {
			return fmt.Errorf("replay script %s: %w: %s: %s", name, ErrInvalidScript, where, fmt.Sprintf(format, args...))
		}
		if t.Text == "" && t.Thinking == "" && len(t.ToolCalls) == 0 {
			return fail("it needs text, thinking or tool_calls")
		}
		for j, c := range t.ToolCalls {
			if c.Name == "" {
				return fail("tool call %d has no name", j+1)
			}
			if _, err := argumentsJSON(c.Arguments); err != nil {
				return fail("tool call %d (%s): arguments: %v", j+1, c.Name, err)
			}
		}
		switch llm.StopReason(t.StopReason) {
		case "", llm.StopEndTurn, llm.StopToolUse, llm.StopMaxTokens, llm.StopSequence, llm.StopRefusal, llm.StopPauseTurn, llm.StopOtherUnknown:
		default:
			return fail("unknown stop_reason %q (want end_turn, tool_use, max_tokens, stop_sequence, refusal, pause_turn or other)", t.StopReason)
		}
		t.re = nil
		if m := t.Match; len(m) >= 2 && strings.HasPrefix(m, "/") && strings.HasSuffix(m, "/") {
			re, err := regexp.Compile(m[1 : len(m)-1])
			if err != nil {
				return fail("match %s is not a valid regular expression: %v", m, err)
			}
			t.re = re
		}
	}
	return nil
}

// matches reports whether the turn fits a request whose last user message
// is msg.
func (t *Turn) matches(msg string) bool {
	switch {
	case t.Match == "":
		return true
	case t.re != nil:
		return t.re.MatchString(msg)
	}
	return strings.Contains(strings.ToLower(msg), strings.ToLower(t.Match))
}

func (t *Turn) describe() string {
	s := fmt.Sprintf("match %q", t.Match)
	if t.line > 0 {
		s += fmt.Sprintf(" (line %d)", t.line)
	}
	return s
}

// argumentsJSON turns scripted arguments into JSON: a string is verbatim.
func argumentsJSON(a any) (json.RawMessage, error) {
	switch a := a.(type) {
	case nil:
		return json.RawMessage("{}"), nil
	case string:
		return json.RawMessage(a), nil
	}
	return json.Marshal(a)
}

// turnLines finds the line of each turn in the source, 0 when unknown.
func turnLines(data []byte, n int) []int {
	lines := make([]int, n)
	f, err := parser.ParseBytes(data, 0)
	if err != nil {
		return lines
	}
	for i := range lines {
		p, err := yaml.PathString(fmt.Sprintf("$.turns[%d]", i))
		if err != nil {
			continue
		}
		node, err := p.FilterFile(f)
		if err != nil || node == nil || node.GetToken() == nil {
			continue
		}
		lines[i] = node.GetToken().Position.Line
	}
	return lines
}
