package evaluator_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/evaluator"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patterntest"
	"github.com/mcp-agent-go/mcp-agent/workflow/parallel"
)

// TestInsideParallel fans out to two evaluator-optimizers concurrently:
// each refines on its own, the aggregator combines the best attempts, and
// usage nests parallel -> evaluator-optimizer -> optimizer/evaluator.
func TestInsideParallel(t *testing.T) {
	var members []llm.AugmentedLLM
	for _, lang := range []string{"french", "german"} {
		writer, _ := patterntest.Scripted(t, lang+"_writer", fmt.Sprintf("turns: [{text: %s draft, usage: {input: 10}}, {text: %s final, usage: {input: 10}}]", lang, lang))
		critic, _ := patterntest.Scripted(t, lang+"_critic", evaluatorScript(rating("POOR", "Redo."), rating("GOOD", "Good.")))
		eo, err := evaluator.New(writer, critic, &evaluator.Options{Name: lang})
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, eo)
	}
	judge, judgeRec := patterntest.Scripted(t, "judge", "turns: [{text: Both translations are fine.}]")
	p, err := parallel.New(parallel.Aggregator(judge), members, &parallel.Options{Name: "translate"})
	if err != nil {
		t.Fatal(err)
	}
	run := llm.NewUsageTracker("run", llm.UsageRun)
	got, err := llm.GenerateString(llm.ContextWithUsage(t.Context(), run), p, llm.Prompt("Translate 'hello'."), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != "Both translations are fine." {
		t.Errorf("answer = %q", got)
	}
	prompt := judgeRec.Requests()[0].Messages[0].Text()
	for _, want := range []string{"<response member=\"french\">\nfrench final\n</response>", "<response member=\"german\">\ngerman final\n</response>"} {
		if !strings.Contains(prompt, want) {
			t.Errorf("the aggregator did not get the best attempts: missing %q in\n%s", want, prompt)
		}
	}
	var paths []string
	var walk func(prefix string, n llm.UsageNode)
	walk = func(prefix string, n llm.UsageNode) {
		p := prefix + "/" + n.Name
		paths = append(paths, fmt.Sprintf("%s(%s,%d)", p, n.Kind, n.Calls))
		for _, c := range n.Children {
			walk(p, c)
		}
	}
	walk("", run.Report(nil))
	slices.Sort(paths)
	want := []string{
		"/run(run,9)",
		"/run/translate(workflow,9)",
		"/run/translate/french(workflow,4)",
		"/run/translate/french/french_critic(llm,2)",
		"/run/translate/french/french_writer(llm,2)",
		"/run/translate/german(workflow,4)",
		"/run/translate/german/german_critic(llm,2)",
		"/run/translate/german/german_writer(llm,2)",
		"/run/translate/judge(llm,1)",
	}
	if !slices.Equal(paths, want) {
		t.Errorf("usage tree:\n%s\nwant:\n%s", strings.Join(paths, "\n"), strings.Join(want, "\n"))
	}
}
