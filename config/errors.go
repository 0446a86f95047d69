package config

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is returned (wrapped) by Load when no configuration file was
// found while searching. Commands that can run without a file may treat it
// as empty settings:
//
//	s, err := config.Load(opts)
//	if errors.Is(err, config.ErrNotFound) {
//		s = &config.Settings{}
//	}
var ErrNotFound = errors.New("no mcp_agent.config.yaml found")

// FieldError is one problem in a configuration file.
type FieldError struct {
	// File is the file as named to Load or LoadBytes (the base name when it
	// was found by searching), or "environment NAME" for a value that came
	// from an MCP_AGENT__* variable.
	File string
	// Line is 1-based; 0 when the problem has no single line.
	Line int
	// Path is the dotted key path, e.g. "mcp.servers.fetch.transport" or
	// "agents.definitions[1].name"; empty for YAML syntax errors.
	Path string
	// Msg says what is wrong and, where it helps, what to write instead.
	Msg string
}

// Error formats the error as "file:line: path: msg".
func (e *FieldError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// ValidationError holds every problem found while loading, in file and line
// order. Its message lists them one per line. errors.As finds both the
// *ValidationError and each *FieldError.
type ValidationError struct {
	Errors []*FieldError
}

// Error lists the errors one per line.
func (e *ValidationError) Error() string {
	lines := make([]string, len(e.Errors))
	for i, fe := range e.Errors {
		lines[i] = fe.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the individual *FieldError values.
func (e *ValidationError) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, fe := range e.Errors {
		errs[i] = fe
	}
	return errs
}

// errorList collects FieldErrors while loading.
type errorList struct {
	errs []*FieldError
}

func (l *errorList) add(file string, line int, path, format string, args ...any) {
	l.errs = append(l.errs, &FieldError{File: file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

func (l *errorList) at(p position, path, format string, args ...any) {
	l.add(p.file, p.line, path, format, args...)
}

// maxErrors bounds how many errors one load reports.
const maxErrors = 100
