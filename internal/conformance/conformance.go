// Package conformance runs the official MCP conformance suite
// (npm @modelcontextprotocol/conformance) against an MCP server URL and reads
// its results, for the tests of the packages that serve MCP over HTTP.
//
// The suite, and the Node 22 it needs, are installed by
// scripts/setup-conformance into .tools/conformance: 0.1.x (the 2025-11-25
// suite) and 0.2.0-alpha (run with --requirements 2026-07-28). A test gets
// them with [Require], which skips the test when they are missing, unless
// MCP_AGENT_REQUIRE_TOOLS=1 (CI), where it fails.
//
// Quick start:
//
//	func TestConformance(t *testing.T) {
//		tools := conformance.Require(t)
//		for _, s := range conformance.Suites {
//			res, err := tools.Run(t.Context(), s, "http://127.0.0.1:8080/mcp", t.TempDir())
//			if err != nil {
//				t.Fatal(err)
//			}
//			t.Logf("%s: %d passed, %d failed", s.Version, len(res.Passed), len(res.Failed))
//		}
//	}
package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
)

// A Suite is one installed version of the conformance suite.
type Suite struct {
	// Version names it: "0.1" or "0.2".
	Version string
	// Package is its folder under .tools/conformance/node_modules.
	Package string
	// Args are added to every run of its server scenarios.
	Args []string
}

// Suites are the installed suites: 0.1.x for protocol 2025-11-25, and
// 0.2.0-alpha with the scenarios protocol 2026-07-28 requires.
var Suites = []Suite{
	{Version: "0.1", Package: "conformance-0.1"},
	{Version: "0.2", Package: "conformance-0.2", Args: []string{"--requirements", "2026-07-28"}},
}

// Tools locates the installed Node and npm packages.
type Tools struct {
	// Node is the Node 22 binary (call it directly: npx would fall back
	// to the machine's Node).
	Node string
	// Dir is the node_modules folder holding the suites and the MCP
	// Inspector.
	Dir string
}

// ErrNotInstalled is returned (wrapped) by [Find] when the tools are missing.
var ErrNotInstalled = errors.New("the MCP Inspector and conformance suite are not installed: run scripts/setup-conformance")

// Find returns the tools installed in the repository's .tools/conformance.
func Find() (Tools, error) {
	dir := filepath.Join(testenv.ToolsDir(), "conformance", "node_modules")
	tl := Tools{Node: filepath.Join(dir, "node", "bin", "node"), Dir: dir}
	if _, err := os.Stat(tl.Node); err != nil {
		return Tools{}, fmt.Errorf("%w (%v)", ErrNotInstalled, err)
	}
	return tl, nil
}

// Require returns the tools, skipping the test when they are missing, or
// failing it when MCP_AGENT_REQUIRE_TOOLS=1.
func Require(t testing.TB) Tools {
	t.Helper()
	tl, err := Find()
	if err != nil {
		if os.Getenv("MCP_AGENT_REQUIRE_TOOLS") == "1" {
			t.Fatal(err)
		}
		t.Skip(ErrNotInstalled)
	}
	return tl
}

// Result is what one run of a suite found, by check, keyed
// "scenario/check" (for example "tools-call-simple-text/tools-call-simple-text").
type Result struct {
	// Passed holds the checks with status SUCCESS.
	Passed map[string]bool
	// Failed maps the checks with status FAILURE to their error message.
	Failed map[string]string
	// Output is the suite's own output (stdout and stderr).
	Output string
}

// Run runs the server scenarios of suite s against the MCP endpoint url,
// writing the suite's results into outDir, and returns them. The suite's exit
// status is ignored (it exits 1 on any failure): the checks decide. Run fails
// only when the suite cannot run or writes no checks; ctx bounds it.
func (tl Tools) Run(ctx context.Context, s Suite, url, outDir string) (*Result, error) {
	args := append([]string{filepath.Join(tl.Dir, s.Package, "dist", "index.js"), "server", "--url", url, "-o", outDir}, s.Args...)
	cmd := exec.CommandContext(ctx, tl.Node, args...)
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	runErr := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("conformance %s against %s: %w\n%s", s.Version, url, ctx.Err(), Tail(logs.String(), 3000))
	}
	passed, failed, err := ReadChecks(outDir)
	if err != nil {
		return nil, err
	}
	if len(passed)+len(failed) == 0 {
		return nil, fmt.Errorf("conformance %s against %s wrote no checks (%v); output:\n%s", s.Version, url, runErr, Tail(logs.String(), 3000))
	}
	return &Result{Passed: passed, Failed: failed, Output: logs.String()}, nil
}

// ReadChecks reads the checks.json files of a results folder written by the
// suite's -o option, keyed "scenario/check". Checks with another status than
// SUCCESS or FAILURE (warnings, skipped) are in neither map.
func ReadChecks(dir string) (passed map[string]bool, failed map[string]string, err error) {
	passed, failed = map[string]bool{}, map[string]string{}
	files, err := filepath.Glob(filepath.Join(dir, "*", "checks.json"))
	if err != nil {
		return nil, nil, err
	}
	sort.Strings(files)
	for _, f := range files {
		scenario := stamp.ReplaceAllString(strings.TrimPrefix(filepath.Base(filepath.Dir(f)), "server-"), "")
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		var checks []struct {
			ID           string `json:"id"`
			Status       string `json:"status"`
			ErrorMessage string `json:"errorMessage"`
		}
		if err := json.Unmarshal(b, &checks); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f, err)
		}
		for _, c := range checks {
			switch c.Status {
			case "SUCCESS":
				passed[scenario+"/"+c.ID] = true
			case "FAILURE":
				failed[scenario+"/"+c.ID] = c.ErrorMessage
			}
		}
	}
	return passed, failed, nil
}

// stamp is the run time the suite appends to a scenario's folder name.
var stamp = regexp.MustCompile(`-\d{4}-\d\d-\d\dT.*$`)

// Tail returns the last n bytes of s.
func Tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[len(s)-n:]
}
