package orchestrator_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patterntest"
	"github.com/mcp-agent-go/mcp-agent/workflow/orchestrator"
)

const objective = "Write a short note about Go."

// team returns the usual workers: researcher and writer, scripted.
func team(t *testing.T, research, write string) ([]orchestrator.Worker, *patterntest.Recorder, *patterntest.Recorder) {
	t.Helper()
	researcher, rrec := patterntest.ScriptedWithTools(t, "researcher", nil, research)
	writer, wrec := patterntest.ScriptedWithTools(t, "writer", nil, write)
	return []orchestrator.Worker{
		{LLM: researcher, Description: "Finds facts."},
		{LLM: writer},
	}, rrec, wrec
}

func TestFullMode(t *testing.T) {
	servers := patterntest.Connect(t, "words", wordsServer())
	counter, crec := patterntest.ScriptedWithTools(t, "counter", patterntest.NewAgent(t, "counter", servers, "words"), `
turns:
  - tool_calls: [{name: words_count, arguments: {text: one two three}}]
  - text: The text has 3 words.
`)
	workers, rrec, wrec := team(t,
		"turns: [{text: 'Facts: Go was released in 2009.', usage: {input: 10, output: 5}}]",
		"turns: [{text: 'Go, released in 2009, has 3 words.'}]")
	workers = append(workers, orchestrator.Worker{LLM: counter, Name: "word_counter", Description: "Counts words with a tool."})
	planner, prec := patterntest.ScriptedWithTools(t, "planner", nil, `
turns:
  - text: '{"steps": [
      {"description": "Gather", "tasks": [
        {"description": "Find facts about Go", "worker": "researcher"},
        {"description": "Count the words of: one two three", "worker": "word_counter"}]},
      {"description": "Write", "tasks": [{"description": "Write a summary", "worker": "writer"}]}]}'
    usage: {input: 100, output: 20}
`)
	synth, srec := patterntest.ScriptedWithTools(t, "synthesizer", nil, "turns: [{text: Go appeared in 2009.}]")
	o, err := orchestrator.New(planner, workers, &orchestrator.Options{Synthesizer: synth})
	if err != nil {
		t.Fatal(err)
	}

	run := llm.NewUsageTracker("run", llm.UsageRun)
	res, err := o.Run(llm.ContextWithUsage(t.Context(), run), llm.Prompt(objective), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := res.Answer(); got != "Go appeared in 2009." {
		t.Errorf("answer = %q", got)
	}
	wantPlan := orchestrator.Plan{Steps: []orchestrator.Step{
		{Description: "Gather", Tasks: []orchestrator.Task{
			{Description: "Find facts about Go", Worker: "researcher"},
			{Description: "Count the words of: one two three", Worker: "word_counter"},
		}},
		{Description: "Write", Tasks: []orchestrator.Task{{Description: "Write a summary", Worker: "writer"}}},
	}}
	if diff := cmp.Diff(wantPlan, res.Plan); diff != "" {
		t.Errorf("plan (-want +got):\n%s", diff)
	}
	if res.Objective != objective || res.Iterations != 1 {
		t.Errorf("objective, iterations = %q, %d", res.Objective, res.Iterations)
	}
	var answers [][]string
	for _, s := range res.Steps {
		var step []string
		for _, task := range s.Tasks {
			if task.Err != nil {
				t.Errorf("task %q failed: %v", task.Task.Description, task.Err)
			}
			step = append(step, task.Text())
		}
		answers = append(answers, step)
	}
	if diff := cmp.Diff([][]string{{"Facts: Go was released in 2009.", "The text has 3 words."}, {"Go, released in 2009, has 3 words."}}, answers); diff != "" {
		t.Errorf("task answers (-want +got):\n%s", diff)
	}

	// The planner sees the objective and the workers, and is asked for a Plan.
	pp := prec.Prompt(t, 0)
	for _, want := range []string{
		"<objective>\n" + objective + "\n</objective>",
		"<worker name=\"researcher\">\nFinds facts.\n</worker>\n<worker name=\"writer\"/>\n<worker name=\"word_counter\">\nCounts words with a tool.\n</worker>",
		"Plan every step, at most 10.",
	} {
		if !strings.Contains(pp, want) {
			t.Errorf("planner prompt lacks %q:\n%s", want, pp)
		}
	}
	if rs := prec.Requests()[0].ResponseSchema; rs == nil || rs.Name != "Plan" {
		t.Errorf("planner response schema = %+v, want Plan", rs)
	}
	// The first step's tasks see no results; the second sees both.
	if p := rrec.Prompt(t, 0); strings.Contains(p, "previous_results") || !strings.Contains(p, "<task>\nFind facts about Go\n</task>") {
		t.Errorf("researcher prompt:\n%s", p)
	}
	wp := wrec.Prompt(t, 0)
	for _, want := range []string{
		"<objective>\n" + objective + "\n</objective>",
		"<result step=\"1\" task=\"1\" worker=\"researcher\" description=\"Find facts about Go\">\nFacts: Go was released in 2009.\n</result>",
		"<result step=\"1\" task=\"2\" worker=\"word_counter\" description=\"Count the words of: one two three\">\nThe text has 3 words.\n</result>",
		"<task>\nWrite a summary\n</task>",
	} {
		if !strings.Contains(wp, want) {
			t.Errorf("writer prompt lacks %q:\n%s", want, wp)
		}
	}
	// The counter really called the MCP tool.
	creqs := crec.Requests()
	if len(creqs) != 2 {
		t.Fatalf("counter made %d model calls, want 2", len(creqs))
	}
	last := creqs[1].Messages[len(creqs[1].Messages)-1]
	if last.Role != llm.RoleTool || !strings.Contains(fmt.Sprint(last.Parts[0].(*llm.ToolResult).Text()), "3 words") {
		t.Errorf("counter's tool result = %+v", last)
	}
	// The synthesizer sees every result.
	if sp := srec.Prompt(t, 0); !strings.Contains(sp, "<results>") || !strings.Contains(sp, "Go, released in 2009, has 3 words.") {
		t.Errorf("synthesizer prompt:\n%s", sp)
	}

	// Usage: one node for the pattern, a child per member.
	rep := run.Report(nil)
	if len(rep.Children) != 1 || rep.Children[0].Name != "orchestrator" || rep.Children[0].Kind != llm.UsageWorkflow {
		t.Fatalf("usage tree = %+v", rep)
	}
	node := rep.Children[0]
	calls := map[string]int{}
	for _, c := range node.Children {
		calls[c.Name] = c.Calls
	}
	if diff := cmp.Diff(map[string]int{"planner": 1, "researcher": 1, "counter": 2, "writer": 1, "synthesizer": 1}, calls); diff != "" {
		t.Errorf("calls per member (-want +got):\n%s", diff)
	}
	if node.Usage.InputTokens != 110 || node.Calls != 6 {
		t.Errorf("orchestrator usage = %d input tokens, %d calls; want 110, 6", node.Usage.InputTokens, node.Calls)
	}
}

func TestIterativeMode(t *testing.T) {
	workers, rrec, wrec := team(t, "turns: [{text: 'Go: 2009.'}]", "turns: [{text: 'Note: Go is from 2009.'}]")
	// The planner also synthesizes (no Synthesizer option).
	planner, prec := patterntest.ScriptedWithTools(t, "planner", nil, `
turns:
  - text: '{"description": "research", "tasks": [{"description": "find facts", "worker": "researcher"}], "is_complete": false}'
  - text: '{"description": "write", "tasks": [{"description": "write the note", "worker": "writer"}], "is_complete": false}'
  - text: '{"description": "", "tasks": [], "is_complete": true}'
  - text: Note - Go is from 2009.
`)
	o, err := orchestrator.New(planner, workers, &orchestrator.Options{Mode: orchestrator.Iterative})
	if err != nil {
		t.Fatal(err)
	}
	res, err := o.Run(t.Context(), llm.Prompt(objective), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer() != "Note - Go is from 2009." || res.Iterations != 3 || len(res.Steps) != 2 || len(res.Plan.Steps) != 2 {
		t.Errorf("answer %q, %d iterations, %d steps, %d planned; want 3, 2, 2", res.Answer(), res.Iterations, len(res.Steps), len(res.Plan.Steps))
	}
	if p := prec.Prompt(t, 0); strings.Contains(p, "results_so_far") || !strings.Contains(p, "Plan only the next step.") {
		t.Errorf("first planner prompt:\n%s", p)
	}
	if p := prec.Prompt(t, 1); !strings.Contains(p, "<results_so_far>\n<result step=\"1\" task=\"1\" worker=\"researcher\" description=\"find facts\">\nGo: 2009.\n</result>\n</results_so_far>") {
		t.Errorf("second planner prompt lacks the results so far:\n%s", p)
	}
	if rs := prec.Requests()[1].ResponseSchema; rs == nil || rs.Name != "NextStep" {
		t.Errorf("planner response schema = %+v, want NextStep", rs)
	}
	if p := wrec.Prompt(t, 0); !strings.Contains(p, "Go: 2009.") {
		t.Errorf("writer does not see the research:\n%s", p)
	}
	if p := prec.Prompt(t, 3); !strings.HasPrefix(p, "<objective>") || !strings.Contains(p, "Note: Go is from 2009.") {
		t.Errorf("synthesis prompt:\n%s", p)
	}
	if n := len(rrec.Requests()); n != 1 {
		t.Errorf("researcher called %d times", n)
	}
}

func TestEmptyPlan(t *testing.T) {
	workers, rrec, wrec := team(t, "turns: [{text: unused}]", "turns: [{text: unused}]")
	planner, prec := patterntest.ScriptedWithTools(t, "planner", nil, `
turns:
  - text: '{"steps": []}'
  - text: Hello! Nothing to research.
`)
	o, err := orchestrator.New(planner, workers, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := o.Run(t.Context(), llm.Prompt("hi"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer() != "Hello! Nothing to research." || len(res.Steps) != 0 {
		t.Errorf("answer %q after %d steps", res.Answer(), len(res.Steps))
	}
	if n := len(rrec.Requests()) + len(wrec.Requests()); n != 0 {
		t.Errorf("workers called %d times for an empty plan", n)
	}
	if p := prec.Prompt(t, 1); !strings.Contains(p, "No worker was needed. Answer the objective directly.") {
		t.Errorf("synthesis prompt:\n%s", p)
	}
}

func TestUnknownWorkerRepaired(t *testing.T) {
	workers, rrec, _ := team(t, "turns: [{text: 'Go: 2009.'}]", "turns: [{text: unused}]")
	planner, prec := patterntest.ScriptedWithTools(t, "planner", nil, `
turns:
  - text: '{"steps": [{"description": "research", "tasks": [{"description": "find facts", "worker": "serch"}]}]}'
  - text: '{"steps": [{"description": "research", "tasks": [{"description": "find facts", "worker": "researcher"}]}]}'
  - text: Go is from 2009.
`)
	o, err := orchestrator.New(planner, workers, nil)
	if err != nil {
		t.Fatal(err)
	}
	res, err := o.Run(t.Context(), llm.Prompt(objective), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer() != "Go is from 2009." || res.Plan.Steps[0].Tasks[0].Worker != "researcher" || len(rrec.Requests()) != 1 {
		t.Errorf("answer %q, plan %+v", res.Answer(), res.Plan)
	}
	repair := prec.Requests()[1].Messages
	if len(repair) != 3 || repair[1].Role != llm.RoleAssistant || !strings.Contains(repair[1].Text(), `"worker":"serch"`) {
		t.Fatalf("repair conversation = %+v", repair)
	}
	want := "Your plan cannot be executed:\n- step 1, task 1: unknown worker \"serch\"; known workers: researcher, writer\nReply with the corrected plan as JSON only."
	if got := repair[2].Text(); got != want {
		t.Errorf("repair prompt = %q, want %q", got, want)
	}
}

func TestInvalidPlanAfterRepair(t *testing.T) {
	tests := []struct {
		name    string
		opts    *orchestrator.Options
		plan    string
		want    string
		wantErr []error
	}{{
		name:    "unknown worker",
		plan:    `{"steps": [{"description": "research", "tasks": [{"description": "find facts", "worker": "serch"}]}]}`,
		want:    `orchestrator "orchestrator": invalid plan, even after one repair round: step 1, task 1: unknown worker "serch"; known workers: researcher, writer`,
		wantErr: []error{orchestrator.ErrInvalidPlan, orchestrator.ErrUnknownWorker},
	}, {
		name:    "too many steps",
		opts:    &orchestrator.Options{MaxSteps: 1},
		plan:    `{"steps": [{"description": "a", "tasks": [{"description": "x", "worker": "writer"}]}, {"description": "b", "tasks": [{"description": "y", "worker": "writer"}]}]}`,
		want:    `orchestrator "orchestrator": invalid plan, even after one repair round: maximum steps exceeded: the plan has 2 steps; at most 1 are allowed (Options.MaxSteps)`,
		wantErr: []error{orchestrator.ErrInvalidPlan, orchestrator.ErrMaxSteps},
	}, {
		name:    "step without tasks",
		plan:    `{"steps": [{"description": "think", "tasks": []}]}`,
		want:    `orchestrator "orchestrator": invalid plan, even after one repair round: step 1 ("think") has no tasks`,
		wantErr: []error{orchestrator.ErrInvalidPlan},
	}, {
		name:    "iterative: empty step not complete",
		opts:    &orchestrator.Options{Mode: orchestrator.Iterative},
		plan:    `{"description": "think", "tasks": [], "is_complete": false}`,
		want:    `orchestrator "orchestrator": invalid plan, even after one repair round: step 1 has no tasks and is_complete is false: give the step's tasks, or set is_complete to true`,
		wantErr: []error{orchestrator.ErrInvalidPlan},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			workers, rrec, wrec := team(t, "turns: [{text: unused}]", "turns: [{text: unused}]")
			planner, prec := patterntest.ScriptedWithTools(t, "planner", nil, fmt.Sprintf("turns: [{text: '%s'}, {text: '%s'}]", tt.plan, tt.plan))
			o, err := orchestrator.New(planner, workers, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			_, err = o.Generate(t.Context(), llm.Prompt(objective), nil)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v\nwant    %s", err, tt.want)
			}
			for _, target := range tt.wantErr {
				if !errors.Is(err, target) {
					t.Errorf("error does not wrap %v", target)
				}
			}
			if n := len(prec.Requests()); n != 2 {
				t.Errorf("planner called %d times, want 2 (plan and repair)", n)
			}
			if n := len(rrec.Requests()) + len(wrec.Requests()); n != 0 {
				t.Errorf("workers called %d times for an invalid plan", n)
			}
		})
	}

	// The typed error names the worker and the known ones.
	workers, _, _ := team(t, "turns: [{text: unused}]", "turns: [{text: unused}]")
	bad := `{"steps": [{"description": "s", "tasks": [{"description": "t", "worker": "ghost"}]}]}`
	planner, _ := patterntest.ScriptedWithTools(t, "planner", nil, fmt.Sprintf("turns: [{text: '%s'}, {text: '%s'}]", bad, bad))
	o, err := orchestrator.New(planner, workers, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.Generate(t.Context(), llm.Prompt(objective), nil)
	var uw *orchestrator.UnknownWorkerError
	if !errors.As(err, &uw) || uw.Worker != "ghost" || !cmp.Equal(uw.Known, []string{"researcher", "writer"}) {
		t.Errorf("err = %#v, want an UnknownWorkerError for ghost", err)
	}
}

func TestFailingWorkerFailsStep(t *testing.T) {
	slow := &failing{name: "slow", release: make(chan struct{})} // ends only when cancelled
	flaky := &failing{name: "flaky", err: errors.New("quota exceeded")}
	workers, _, wrec := team(t, "turns: [{text: unused}]", "turns: [{text: unused}]")
	workers = append(workers, orchestrator.Worker{LLM: slow}, orchestrator.Worker{LLM: flaky})
	planner, prec := patterntest.ScriptedWithTools(t, "planner", nil, `
turns:
  - text: '{"steps": [
      {"description": "gather", "tasks": [{"description": "wait", "worker": "slow"}, {"description": "fetch", "worker": "flaky"}]},
      {"description": "write", "tasks": [{"description": "write", "worker": "writer"}]}]}'
  - text: never synthesized
`)
	o, err := orchestrator.New(planner, workers, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The deadline only bounds the test if the slow task were not cancelled.
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	res, err := o.Run(ctx, llm.Prompt(objective), nil)
	want := `orchestrator "orchestrator": step 1, task 2 (worker "flaky"): quota exceeded`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
	var te *orchestrator.TaskError
	if !errors.As(err, &te) || te.Worker != "flaky" || te.Step != 1 || te.Task != 2 {
		t.Errorf("err = %#v, want a TaskError", err)
	}
	if len(res.Steps) != 1 || !errors.Is(res.Steps[0].Tasks[0].Err, context.Canceled) {
		t.Errorf("steps = %+v, want one step whose slow task was cancelled", res.Steps)
	}
	if len(wrec.Requests()) != 0 || len(prec.Requests()) != 1 {
		t.Errorf("the run went on after the failure: writer %d calls, planner %d", len(wrec.Requests()), len(prec.Requests()))
	}
}

func TestFailingWorkerReportedToPlanner(t *testing.T) {
	flaky := &failing{name: "flaky", err: errors.New("quota exceeded")}
	workers, _, _ := team(t, "turns: [{text: 'Go: 2009.'}]", "turns: [{text: unused}]")
	workers = append(workers, orchestrator.Worker{LLM: flaky})
	planner, prec := patterntest.ScriptedWithTools(t, "planner", nil, `
turns:
  - text: '{"description": "fetch", "tasks": [{"description": "fetch facts", "worker": "flaky"}], "is_complete": false}'
  - text: '{"description": "retry", "tasks": [{"description": "find facts", "worker": "researcher"}], "is_complete": false}'
  - text: '{"description": "", "tasks": [], "is_complete": true}'
  - text: Go is from 2009.
`)
	o, err := orchestrator.New(planner, workers, &orchestrator.Options{Mode: orchestrator.Iterative, OnWorkerError: orchestrator.ReportErrors})
	if err != nil {
		t.Fatal(err)
	}
	res, err := o.Run(t.Context(), llm.Prompt(objective), nil)
	if err != nil {
		t.Fatal(err)
	}
	if res.Answer() != "Go is from 2009." || len(res.Steps) != 2 {
		t.Errorf("answer %q after %d steps", res.Answer(), len(res.Steps))
	}
	if err := res.Steps[0].Tasks[0].Err; err == nil || err.Error() != "quota exceeded" {
		t.Errorf("failed task's error = %v", err)
	}
	want := "<result step=\"1\" task=\"1\" worker=\"flaky\" description=\"fetch facts\" failed=\"true\">\nquota exceeded\n</result>"
	if p := prec.Prompt(t, 1); !strings.Contains(p, want) {
		t.Errorf("the planner was not told of the failure:\n%s", p)
	}
	if p := prec.Prompt(t, 3); !strings.Contains(p, want) {
		t.Errorf("the synthesizer was not told of the failure:\n%s", p)
	}
}

func TestIterativeLimits(t *testing.T) {
	forever := `
loop: true
turns:
  - text: '{"description": "more", "tasks": [{"description": "find more facts", "worker": "researcher"}], "is_complete": false}'
`
	tests := []struct {
		name      string
		opts      orchestrator.Options
		want      string
		target    error
		wantSteps int
	}{{
		name:      "max steps",
		opts:      orchestrator.Options{MaxSteps: 2},
		want:      `orchestrator "orchestrator": maximum steps exceeded: the planner asked for step 3; at most 2 are allowed: raise Options.MaxSteps or narrow the objective`,
		target:    orchestrator.ErrMaxSteps,
		wantSteps: 2,
	}, {
		name:      "max iterations",
		opts:      orchestrator.Options{MaxIterations: 2},
		want:      `orchestrator "orchestrator": maximum planning iterations reached: the planner did not declare the objective complete in 2 planning rounds (2 steps ran); raise Options.MaxIterations or narrow the objective`,
		target:    orchestrator.ErrMaxIterations,
		wantSteps: 2,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			workers, rrec, _ := team(t, "loop: true\nturns: [{text: 'a fact'}]", "turns: [{text: unused}]")
			planner, _ := patterntest.ScriptedWithTools(t, "planner", nil, forever)
			tt.opts.Mode = orchestrator.Iterative
			o, err := orchestrator.New(planner, workers, &tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			res, err := o.Run(t.Context(), llm.Prompt(objective), nil)
			if err == nil || err.Error() != tt.want {
				t.Fatalf("error = %v\nwant    %s", err, tt.want)
			}
			if !errors.Is(err, tt.target) {
				t.Errorf("error does not wrap %v", tt.target)
			}
			if len(res.Steps) != tt.wantSteps || len(rrec.Requests()) != tt.wantSteps {
				t.Errorf("%d steps ran, researcher called %d times; want %d", len(res.Steps), len(rrec.Requests()), tt.wantSteps)
			}
		})
	}
}

// waiters returns n agent-backed workers that each call the MCP tool
// slow_wait, which blocks until cancelled; entered receives a value as
// each call starts.
func waiters(t *testing.T, n int) ([]orchestrator.Worker, chan struct{}, string) {
	entered := make(chan struct{}, n)
	srv := mcp.NewServer(&mcp.Implementation{Name: "slow", Version: "v0"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "wait", Description: "Wait until cancelled."}, func(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
		entered <- struct{}{}
		<-ctx.Done()
		return nil, nil, ctx.Err()
	})
	servers := patterntest.Connect(t, "slow", srv)
	var workers []orchestrator.Worker
	var tasks []string
	for i := range n {
		name := fmt.Sprint("waiter", i)
		l, _ := patterntest.ScriptedWithTools(t, name, patterntest.NewAgent(t, name, servers, "slow"), "turns: [{tool_calls: [{name: slow_wait}]}, {text: done}]")
		workers = append(workers, orchestrator.Worker{LLM: l})
		tasks = append(tasks, fmt.Sprintf(`{"description": "wait", "worker": %q}`, name))
	}
	plan := fmt.Sprintf(`{"steps": [{"description": "wait", "tasks": [%s]}]}`, strings.Join(tasks, ", "))
	return workers, entered, plan
}

// TestCancelMidStep cancels a run while every task of a step is inside a
// real MCP tool call; every goroutine must end (TestMain checks leaks).
func TestCancelMidStep(t *testing.T) {
	const n = 3
	workers, entered, plan := waiters(t, n)
	planner, _ := patterntest.ScriptedWithTools(t, "planner", nil, fmt.Sprintf("turns: [{text: '%s'}, {text: never}]", plan))
	o, err := orchestrator.New(planner, workers, &orchestrator.Options{MaxConcurrency: n})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for range n {
			<-entered
		}
		cancel()
	}()
	res, err := o.Run(ctx, llm.Prompt("wait"), nil)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if want := `orchestrator "orchestrator": step 1: context canceled`; err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
	if len(res.Steps) != 1 || len(res.Steps[0].Tasks) != n {
		t.Errorf("steps = %+v", res.Steps)
	}
}

// TestStreamStopMidStep stops consuming a stream while the step's tasks
// are inside MCP tool calls: the turn must end and wait for them.
func TestStreamStopMidStep(t *testing.T) {
	const n = 2
	workers, entered, plan := waiters(t, n)
	planner, _ := patterntest.ScriptedWithTools(t, "planner", nil, fmt.Sprintf("turns: [{text: '%s'}, {text: never}]", plan))
	o, err := orchestrator.New(planner, workers, nil)
	if err != nil {
		t.Fatal(err)
	}
	started := 0
	for ev, err := range o.Stream(t.Context(), llm.Prompt("wait"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == llm.EventToolCallStarted {
			started++
		}
		if started == n {
			for range n {
				<-entered // both tools are running
			}
			break
		}
	}
	if started != n {
		t.Fatalf("saw %d tool calls start, want %d", started, n)
	}
}

func TestStream(t *testing.T) {
	workers, _, _ := team(t, "turns: [{text: 'Go: 2009.'}]", "turns: [{text: 'Go is simple.'}]")
	planner, _ := patterntest.ScriptedWithTools(t, "planner", nil, `
turns:
  - text: '{"steps": [{"description": "both", "tasks": [{"description": "facts", "worker": "researcher"}, {"description": "style", "worker": "writer"}]}]}'
`)
	synth, _ := patterntest.ScriptedWithTools(t, "synthesizer", nil, "turns: [{text: 'Go (2009) is simple.'}]")
	o, err := orchestrator.New(planner, workers, &orchestrator.Options{Name: "notes", Synthesizer: synth})
	if err != nil {
		t.Fatal(err)
	}
	var sources []string // the source of each event, consecutive duplicates dropped
	var final *llm.Event
	var text strings.Builder
	for ev, err := range o.Stream(t.Context(), llm.Prompt(objective), nil) {
		if err != nil {
			t.Fatal(err)
		}
		if final != nil {
			t.Fatalf("event after final: %+v", ev)
		}
		if ev.Kind == llm.EventFinal {
			final = ev
		}
		if ev.Kind == llm.EventTextDelta && ev.Source == "synthesizer" {
			text.WriteString(ev.Text)
		}
		if len(sources) == 0 || sources[len(sources)-1] != ev.Source {
			sources = append(sources, ev.Source)
		}
	}
	if final == nil || final.Source != "notes" || final.Message.Text() != "Go (2009) is simple." {
		t.Fatalf("final = %+v", final)
	}
	if text.String() != "Go (2009) is simple." {
		t.Errorf("synthesizer deltas = %q", text.String())
	}
	// planner, then the two workers (interleaved in any order), then the
	// synthesizer and the final answer.
	if len(sources) < 5 || sources[0] != "planner" || sources[len(sources)-2] != "synthesizer" || sources[len(sources)-1] != "notes" {
		t.Fatalf("sources = %v", sources)
	}
	middle := map[string]bool{}
	for _, s := range sources[1 : len(sources)-2] {
		middle[s] = true
	}
	if diff := cmp.Diff(map[string]bool{"researcher": true, "writer": true}, middle); diff != "" {
		t.Errorf("worker event sources (-want +got):\n%s", diff)
	}
}

// TestNested runs an orchestrator as a worker of another: usage nests and
// OnResult exposes the inner plan.
func TestNested(t *testing.T) {
	workers, _, _ := team(t, "turns: [{text: 'Go: 2009.'}]", "turns: [{text: unused}]")
	innerPlanner, _ := patterntest.ScriptedWithTools(t, "inner_planner", nil, `
turns:
  - text: '{"steps": [{"description": "r", "tasks": [{"description": "find facts", "worker": "researcher"}]}]}'
  - text: Research says 2009.
`)
	var innerResult *orchestrator.Result
	inner, err := orchestrator.New(innerPlanner, workers, &orchestrator.Options{Name: "research_team", OnResult: func(r *orchestrator.Result) { innerResult = r }})
	if err != nil {
		t.Fatal(err)
	}
	outerPlanner, _ := patterntest.ScriptedWithTools(t, "outer_planner", nil, `
turns:
  - text: '{"steps": [{"description": "delegate", "tasks": [{"description": "research Go", "worker": "research_team"}]}]}'
  - text: Go is from 2009.
`)
	outer, err := orchestrator.New(outerPlanner, []orchestrator.Worker{{LLM: inner, Description: "A research team."}}, &orchestrator.Options{Name: "outer"})
	if err != nil {
		t.Fatal(err)
	}
	run := llm.NewUsageTracker("run", llm.UsageRun)
	got, err := llm.GenerateString(llm.ContextWithUsage(t.Context(), run), outer, llm.Prompt(objective), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got != "Go is from 2009." {
		t.Errorf("answer = %q", got)
	}
	if innerResult == nil || innerResult.Answer() != "Research says 2009." || !strings.Contains(innerResult.Objective, "<task>\nresearch Go\n</task>") {
		t.Errorf("inner result = %+v", innerResult)
	}
	var names func(n llm.UsageNode) string
	names = func(n llm.UsageNode) string {
		var kids []string
		for _, c := range n.Children {
			kids = append(kids, names(c))
		}
		if len(kids) == 0 {
			return fmt.Sprintf("%s:%d", n.Name, n.Calls)
		}
		return fmt.Sprintf("%s:%d(%s)", n.Name, n.Calls, strings.Join(kids, " "))
	}
	want := "run:5(outer:5(outer_planner:2 research_team:3(inner_planner:2 researcher:1)))"
	if got := names(run.Report(nil)); got != want {
		t.Errorf("usage tree = %s, want %s", got, want)
	}
}

func TestStructuredAnswer(t *testing.T) {
	workers, rrec, _ := team(t, "turns: [{text: 'Go: 2009.'}]", "turns: [{text: unused}]")
	planner, prec := patterntest.ScriptedWithTools(t, "planner", nil, `
turns:
  - text: '{"steps": [{"description": "r", "tasks": [{"description": "find the year", "worker": "researcher"}]}]}'
`)
	synth, srec := patterntest.ScriptedWithTools(t, "synthesizer", nil, `turns: [{text: '{"year": 2009}'}]`)
	o, err := orchestrator.New(planner, workers, &orchestrator.Options{Synthesizer: synth})
	if err != nil {
		t.Fatal(err)
	}
	type answer struct {
		Year int `json:"year"`
	}
	got, err := llm.GenerateStructured[answer](t.Context(), o, llm.Prompt("When was Go released?"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Year != 2009 {
		t.Errorf("year = %d", got.Year)
	}
	if rs := srec.Requests()[0].ResponseSchema; rs == nil || rs.Name != "answer" {
		t.Errorf("synthesizer schema = %+v", rs)
	}
	if rs := rrec.Requests()[0].ResponseSchema; rs != nil {
		t.Errorf("worker got the caller's schema %+v", rs)
	}
	if rs := prec.Requests()[0].ResponseSchema; rs == nil || rs.Name != "Plan" {
		t.Errorf("planner schema = %+v", rs)
	}
}

func TestMemory(t *testing.T) {
	workers, _, _ := team(t, "loop: true\nturns: [{text: 'Go: 2009.'}]", "turns: [{text: unused}]")
	plan := `{"steps": [{"description": "r", "tasks": [{"description": "facts", "worker": "researcher"}]}]}`
	planner, prec := patterntest.ScriptedWithTools(t, "planner", nil, fmt.Sprintf("turns: [{text: '%s'}, {text: first answer}, {text: '%s'}, {text: second answer}]", plan, plan))
	o, err := orchestrator.New(planner, workers, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"first question", "second question"} {
		if _, err := o.Generate(t.Context(), llm.Prompt(q), nil); err != nil {
			t.Fatal(err)
		}
	}
	second := prec.Requests()[2].Messages
	if len(second) != 3 || second[0].Text() != "first question" || second[1].Text() != "first answer" || !strings.Contains(second[2].Text(), "<objective>\nsecond question\n</objective>") {
		t.Errorf("second planner conversation = %+v", second)
	}
	stored, err := o.Memory().Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(stored) != 4 || stored[3].Text() != "second answer" {
		t.Errorf("memory = %+v", stored)
	}
}

func TestNewErrors(t *testing.T) {
	l := llm.New(nil, replay.NewFromTurns(replay.Turn{Text: "x"}), &llm.Options{Name: "w"})
	tests := []struct {
		name    string
		planner llm.AugmentedLLM
		workers []orchestrator.Worker
		opts    *orchestrator.Options
		want    string
	}{
		{"no planner", nil, []orchestrator.Worker{{LLM: l}}, nil, `orchestrator "orchestrator": no planner: give an AugmentedLLM that plans`},
		{"no workers", l, nil, nil, `orchestrator "orchestrator": no workers: give at least one Worker`},
		{"nil worker LLM", l, []orchestrator.Worker{{Name: "x"}}, nil, `orchestrator "orchestrator": worker 0 ("x") has no LLM`},
		{"duplicate", l, []orchestrator.Worker{{LLM: l}, {LLM: l}}, &orchestrator.Options{Name: "o"}, `orchestrator "o": two workers are named "w": set Worker.Name to tell them apart`},
		{"mode", l, []orchestrator.Worker{{LLM: l}}, &orchestrator.Options{Mode: "greedy"}, `orchestrator "orchestrator": unknown mode "greedy": use "full" or "iterative"`},
		{"negative", l, []orchestrator.Worker{{LLM: l}}, &orchestrator.Options{MaxSteps: -1}, `orchestrator "orchestrator": MaxSteps, MaxIterations and MaxConcurrency must not be negative (0 means the default)`},
		{"policy", l, []orchestrator.Worker{{LLM: l}}, &orchestrator.Options{OnWorkerError: 7}, `orchestrator "orchestrator": unknown OnWorkerError policy 7`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := orchestrator.New(tt.planner, tt.workers, tt.opts)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error = %v\nwant    %s", err, tt.want)
			}
		})
	}
}

func TestNoUserMessage(t *testing.T) {
	workers, _, _ := team(t, "turns: [{text: unused}]", "turns: [{text: unused}]")
	planner, _ := patterntest.ScriptedWithTools(t, "planner", nil, "turns: [{text: unused}]")
	o, err := orchestrator.New(planner, workers, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = o.Generate(t.Context(), []llm.Message{llm.AssistantText("hello")}, nil)
	want := `orchestrator "orchestrator": the conversation has no user message: the last user message is the objective`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
	_, err = o.Generate(t.Context(), nil, nil)
	if want := `orchestrator "orchestrator": no messages to send: pass at least one message`; err == nil || err.Error() != want {
		t.Errorf("error = %v, want %s", err, want)
	}
}
