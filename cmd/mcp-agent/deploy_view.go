package main

// The deploy command's terminal view: a spinner on the current stage
// (Bubble Tea), and the result panel (Lip Gloss).

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

type (
	stageMsg struct{ name string }
	noteMsg  struct{ text string }
	tickMsg  struct{}
	doneMsg  struct{}
	failMsg  struct{}
)

// deployModel is the Bubble Tea model of the deploy progress.
type deployModel struct {
	stages  []string
	current int // index of the running stage; -1 before the first
	notes   map[int][]string
	frame   int
	done    bool
	failed  bool
	cancel  context.CancelFunc
	started time.Time

	ok, bad, active, dim lipgloss.Style
}

func (m *deployModel) Init() tea.Cmd { return tick() }

func tick() tea.Cmd {
	return tea.Tick(80*time.Millisecond, func(time.Time) tea.Msg { return tickMsg{} })
}

func (m *deployModel) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case stageMsg:
		for i, s := range m.stages {
			if s == msg.name {
				m.current = i
			}
		}
		if m.current == len(m.stages)-1 {
			m.done = true
		}
	case noteMsg:
		m.notes[m.current] = append(m.notes[m.current], msg.text)
	case tickMsg:
		m.frame = (m.frame + 1) % len(spinnerFrames)
		return m, tick()
	case failMsg:
		m.failed = true
	case doneMsg:
		return m, tea.Quit
	case tea.KeyPressMsg:
		if msg.String() == "ctrl+c" {
			m.cancel()
		}
	}
	return m, nil
}

func (m *deployModel) View() tea.View {
	var b strings.Builder
	for i, s := range m.stages {
		var mark string
		switch {
		case i < m.current || (m.done && i == m.current):
			mark = m.ok.Render("✓")
		case i == m.current && m.failed:
			mark = m.bad.Render("✗")
		case i == m.current:
			mark = m.active.Render(spinnerFrames[m.frame])
		default:
			mark = m.dim.Render("·")
		}
		line := mark + " " + s
		if i > m.current && !m.done {
			line = m.dim.Render("· " + s)
		}
		if n := m.notes[i]; len(n) > 0 {
			line += m.dim.Render("  " + strings.Join(n, ", "))
		}
		b.WriteString(line + "\n")
	}
	return tea.NewView(b.String())
}

// teaDeployView runs the model while the deploy proceeds.
type teaDeployView struct {
	p    *tea.Program
	wg   sync.WaitGroup
	once sync.Once
}

// newTeaStagesView shows stages, in order, until close.
func newTeaStagesView(out io.Writer, cancel context.CancelFunc, stages []string) *teaDeployView {
	m := &deployModel{
		stages: stages, current: -1, notes: map[int][]string{}, cancel: cancel, started: time.Now(),
		ok:     lipgloss.NewStyle().Foreground(lipgloss.Color("2")),
		bad:    lipgloss.NewStyle().Foreground(lipgloss.Color("1")).Bold(true),
		active: lipgloss.NewStyle().Foreground(lipgloss.Color("6")),
		dim:    lipgloss.NewStyle().Faint(true),
	}
	v := &teaDeployView{p: tea.NewProgram(m, tea.WithOutput(out), tea.WithInput(os.Stdin), tea.WithoutSignalHandler())}
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		_, _ = v.p.Run()
	}()
	return v
}

func (v *teaDeployView) stage(name string)            { v.p.Send(stageMsg{name}) }
func (v *teaDeployView) note(format string, a ...any) { v.p.Send(noteMsg{fmt.Sprintf(format, a...)}) }

func (v *teaDeployView) fail() { v.p.Send(failMsg{}) }

func (v *teaDeployView) close() {
	v.once.Do(func() {
		v.p.Send(doneMsg{})
		v.wg.Wait()
	})
}

// renderPanel renders a titled key/value panel: bordered and coloured on a
// terminal, plain lines otherwise.
func renderPanel(title string, rows [][2]string, styled bool) string {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	var b strings.Builder
	key := lipgloss.NewStyle().Faint(true)
	for i, r := range rows {
		if i > 0 {
			b.WriteString("\n")
		}
		k := fmt.Sprintf("%-*s", width, r[0])
		if styled {
			k = key.Render(k)
		}
		b.WriteString(k + "  " + r[1])
	}
	if !styled {
		return title + "\n" + indent(b.String(), "  ")
	}
	head := lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("2")).Render(title)
	return lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).Padding(0, 1).Render(head + "\n\n" + b.String())
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func userHome() (string, error) { return os.UserHomeDir() }
