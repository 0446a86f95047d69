package main

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

// turnView renders a turn's events: the answer streams to out; tool calls,
// failures and the usage summary go to errw. On a terminal they are styled
// with lipgloss; otherwise (or with --plain) they are plain lines.
type turnView struct {
	out, errw io.Writer
	quiet     bool // --json: print nothing while running
	styled    bool
	midLine   bool // the answer text has no newline yet

	tool, ok, fail, dim, you lipgloss.Style
}

func newTurnView(out, errw io.Writer, plain, quiet bool) *turnView {
	v := &turnView{out: out, errw: errw, quiet: quiet, styled: !plain && isTerminal(errw)}
	if v.styled {
		v.tool = lipgloss.NewStyle().Foreground(lipgloss.Color("6"))
		v.ok = lipgloss.NewStyle().Foreground(lipgloss.Color("2"))
		v.fail = lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true)
		v.dim = lipgloss.NewStyle().Faint(true)
		v.you = lipgloss.NewStyle().Foreground(lipgloss.Color("5")).Bold(true)
	}
	return v
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

func (v *turnView) render(s lipgloss.Style, text string) string {
	if !v.styled {
		return text
	}
	return s.Render(text)
}

// endText ends the answer's line, so what follows starts on its own.
func (v *turnView) endText() {
	if v.midLine {
		fmt.Fprintln(v.out)
		v.midLine = false
	}
}

func (v *turnView) event(ev *llm.Event) {
	if v.quiet {
		return
	}
	switch ev.Kind {
	case llm.EventTextDelta:
		fmt.Fprint(v.out, ev.Text)
		v.midLine = !strings.HasSuffix(ev.Text, "\n")
	case llm.EventToolCallStarted:
		v.endText()
		args := oneLine(string(ev.ToolCall.Arguments), 120)
		fmt.Fprintln(v.errw, v.render(v.tool, "→ "+ev.ToolCall.Name)+" "+v.render(v.dim, args))
	case llm.EventToolCallFinished:
		res := ev.ToolResult
		if res != nil && res.IsError {
			fmt.Fprintln(v.errw, v.render(v.fail, "✗ "+ev.ToolCall.Name)+" "+oneLine(res.Text(), 160))
			return
		}
		size := 0
		if res != nil {
			size = len(res.Text())
		}
		fmt.Fprintln(v.errw, v.render(v.ok, "← "+ev.ToolCall.Name)+" "+v.render(v.dim, fmt.Sprintf("%d chars, %s", size, ev.Duration.Round(1e6))))
	}
}

func (v *turnView) failure(err error) {
	v.endText()
	fmt.Fprintln(v.errw, v.render(v.fail, "error: ")+err.Error())
}

func (v *turnView) summary(s string) {
	if v.quiet {
		return
	}
	v.endText()
	fmt.Fprintln(v.errw, v.render(v.dim, s))
}

func (v *turnView) prompt() {
	v.endText()
	fmt.Fprint(v.errw, v.render(v.you, "you> "))
}

func oneLine(s string, max int) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}

// cliLogger logs to stderr at debug with --verbose, else only warnings.
func cliLogger(verbose bool) *slog.Logger {
	level := slog.LevelWarn
	if verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
}
