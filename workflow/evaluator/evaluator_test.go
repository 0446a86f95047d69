package evaluator_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/evaluator"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patterntest"
)

func rating(r, feedback string, focus ...string) string {
	q := func(s string) string { return fmt.Sprintf("%q", s) }
	var fs []string
	for _, f := range focus {
		fs = append(fs, q(f))
	}
	return fmt.Sprintf(`{"rating": %s, "feedback": %s, "needs_improvement": %v, "focus_areas": [%s]}`, q(r), q(feedback), r != "EXCELLENT", strings.Join(fs, ", "))
}

// evaluatorScript returns a replay script whose turns answer with the
// given evaluation JSON texts, as single-quoted YAML scalars.
func evaluatorScript(evals ...string) string {
	var b strings.Builder
	b.WriteString("turns:\n")
	for _, e := range evals {
		fmt.Fprintf(&b, "  - text: '%s'\n", strings.ReplaceAll(e, "'", "''"))
	}
	return b.String()
}

type wordsIn struct {
	Text string `json:"text"`
}

// TestRefinesUntilThreshold: the optimizer (an agent-backed LLM that uses
// a real MCP tool) is rated FAIR, revises with the feedback and is rated
// GOOD.
func TestRefinesUntilThreshold(t *testing.T) {
	srv := mcp.NewServer(&mcp.Implementation{Name: "text", Version: "v0"}, nil)
	mcp.AddTool(srv, &mcp.Tool{Name: "count_words", Description: "Count the words of a text."}, func(ctx context.Context, _ *mcp.CallToolRequest, in wordsIn) (*mcp.CallToolResult, any, error) {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprint(len(strings.Fields(in.Text)))}}}, nil, nil
	})
	servers := patterntest.Connect(t, "text", srv)
	s, err := replay.Parse([]byte(`
turns:
  - text: Roses are red.
  - tool_calls: [{name: text_count_words, arguments: {text: "Roses are red, violets are blue."}}]
  - text: Roses are red, violets are blue.
`), "writer.yaml")
	if err != nil {
		t.Fatal(err)
	}
	rec := &patterntest.Recorder{Provider: replay.New(s, nil)}
	writer := llm.New(patterntest.NewAgent(t, "writer", servers, "text"), rec, nil)
	critic, criticRec := patterntest.Scripted(t, "critic", evaluatorScript(
		rating("FAIR", "Too short.", "length", "rhyme"),
		rating("GOOD", "Rhymes now."),
	))
	var seen []int
	eo, err := evaluator.New(writer, critic, &evaluator.Options{Criteria: "A rhyming couplet.", OnAttempt: func(a evaluator.Attempt) { seen = append(seen, a.Number) }})
	if err != nil {
		t.Fatal(err)
	}
	res, err := eo.Run(t.Context(), llm.Prompt("Write a couplet."), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Attempts) != 2 || res.Best != 1 || !res.ReachedThreshold {
		t.Fatalf("result: %d attempts, best %d, reached %v; want 2, 1, true", len(res.Attempts), res.Best, res.ReachedThreshold)
	}
	if got := res.BestAttempt().Text(); got != "Roses are red, violets are blue." {
		t.Errorf("answer = %q", got)
	}
	wantEval := evaluator.Evaluation{Rating: evaluator.Fair, Feedback: "Too short.", NeedsImprovement: true, FocusAreas: []string{"length", "rhyme"}}
	if diff := cmp.Diff(wantEval, res.Attempts[0].Evaluation); diff != "" {
		t.Errorf("first evaluation (-want +got):\n%s", diff)
	}
	if fmt.Sprint(seen) != "[1 2]" {
		t.Errorf("OnAttempt saw %v", seen)
	}
	// The second attempt used the tool: its output holds the tool result.
	if out := res.Attempts[1].Output; len(out) != 3 || out[1].Parts[0].(*llm.ToolResult).Text() != "6" {
		t.Errorf("second attempt output = %v, want a tool call, its result (6) and the answer", out)
	}

	// The revision request: the conversation, the previous response, the feedback.
	reqs := rec.Requests()
	wantRevision := []llm.Message{
		llm.UserText("Write a couplet."),
		llm.AssistantText("Roses are red."),
		llm.UserText("An evaluator rated your response FAIR (GOOD or better is needed).\n\nFeedback:\nToo short.\n\nFocus on:\n- length\n- rhyme\n\nWrite an improved response to the original request. Reply with the response only."),
	}
	if diff := cmp.Diff(wantRevision, reqs[1].Messages); diff != "" {
		t.Errorf("revision request (-want +got):\n%s", diff)
	}
	wantEvalPrompt := "Evaluate the response below to the request.\n\nRequest:\nWrite a couplet.\n\nResponse:\nRoses are red.\n\nCriteria:\nA rhyming couplet.\n\nRate the response EXCELLENT, GOOD, FAIR or POOR. In feedback, say specifically what to improve; set needs_improvement; list the most important focus areas."
	if diff := cmp.Diff(wantEvalPrompt, criticRec.Requests()[0].Messages[0].Text()); diff != "" {
		t.Errorf("evaluation prompt (-want +got):\n%s", diff)
	}
}

func TestNeverReachesThreshold(t *testing.T) {
	newEO := func(require bool) *evaluator.EvaluatorOptimizer {
		writer, _ := patterntest.Scripted(t, "writer", "turns: [{text: draft 1}, {text: draft 2}, {text: draft 3}]")
		critic, _ := patterntest.Scripted(t, "critic", evaluatorScript(rating("POOR", "Bad."), rating("FAIR", "Better."), rating("FAIR", "Same.")))
		eo, err := evaluator.New(writer, critic, &evaluator.Options{Name: "poet", MinRating: evaluator.Excellent, MaxRefinements: 2, RequireThreshold: require})
		if err != nil {
			t.Fatal(err)
		}
		return eo
	}
	res, err := newEO(false).Run(t.Context(), llm.Prompt("A poem."), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Attempts) != 3 || res.ReachedThreshold || res.Best != 2 {
		t.Errorf("result: %d attempts, reached %v, best %d; want 3, false, 2 (the latest FAIR)", len(res.Attempts), res.ReachedThreshold, res.Best)
	}

	got, err := llm.GenerateString(t.Context(), newEO(false), llm.Prompt("A poem."), nil)
	if err != nil || got != "draft 3" {
		t.Errorf("Generate = %q, %v; want the best attempt without error", got, err)
	}

	out, err := newEO(true).Generate(t.Context(), llm.Prompt("A poem."), nil)
	if !errors.Is(err, evaluator.ErrThresholdNotReached) {
		t.Fatalf("err = %v, want ErrThresholdNotReached", err)
	}
	want := `evaluator-optimizer "poet": no attempt reached the minimum rating: the best was attempt 3 of 3, rated FAIR (EXCELLENT needed): raise MaxRefinements, lower MinRating or improve the optimizer's instruction`
	if err.Error() != want {
		t.Errorf("error text:\n got %s\nwant %s", err, want)
	}
	if llm.FinalText(out) != "draft 3" {
		t.Errorf("with the error, Generate returned %v, want the best attempt", out)
	}
}

func TestFirstAttemptExcellent(t *testing.T) {
	writer, rec := patterntest.Scripted(t, "writer", "turns: [{text: perfect}]")
	critic, _ := patterntest.Scripted(t, "critic", evaluatorScript(rating("excellent", "Great.")))
	eo, _ := evaluator.New(writer, critic, nil)
	res, err := eo.Run(t.Context(), llm.Prompt("go"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Attempts) != 1 || res.Attempts[0].Evaluation.Rating != evaluator.Excellent || len(rec.Requests()) != 1 {
		t.Errorf("attempts = %+v", res.Attempts)
	}
}

func TestBadRating(t *testing.T) {
	writer, _ := patterntest.Scripted(t, "writer", "turns: [{text: draft}]")
	critic, _ := patterntest.Scripted(t, "critic", evaluatorScript(rating("SUPERB", "Wow.")))
	eo, _ := evaluator.New(writer, critic, nil)
	res, err := eo.Run(t.Context(), llm.Prompt("go"), nil)
	if !errors.Is(err, llm.ErrInvalidStructuredOutput) {
		t.Fatalf("err = %v, want ErrInvalidStructuredOutput", err)
	}
	want := `evaluator-optimizer "evaluator-optimizer": evaluator "critic", attempt 1: structured output does not match the schema: unknown rating "SUPERB": want EXCELLENT, GOOD, FAIR or POOR`
	if err.Error() != want {
		t.Errorf("error text:\n got %s\nwant %s", err, want)
	}
	if res == nil || len(res.Attempts) != 0 {
		t.Errorf("result = %+v, want an empty history", res)
	}
}

func TestOptimizerFails(t *testing.T) {
	writer, _ := patterntest.Scripted(t, "writer", "turns: [{text: draft}]") // one turn only
	critic, _ := patterntest.Scripted(t, "critic", evaluatorScript(rating("POOR", "No.")))
	eo, _ := evaluator.New(writer, critic, nil)
	res, err := eo.Run(t.Context(), llm.Prompt("go"), nil)
	if !errors.Is(err, replay.ErrExhausted) || !strings.HasPrefix(err.Error(), `evaluator-optimizer "evaluator-optimizer": optimizer "writer", attempt 2: `) {
		t.Fatalf("err = %v, want the second attempt's failure", err)
	}
	if len(res.Attempts) != 1 {
		t.Errorf("history has %d attempts, want the 1 made before the failure", len(res.Attempts))
	}
}

func TestStream(t *testing.T) {
	writer, _ := patterntest.Scripted(t, "writer", "turns: [{text: draft 1}, {text: draft 2}]")
	critic, _ := patterntest.Scripted(t, "critic", evaluatorScript(rating("FAIR", "More."), rating("GOOD", "Fine.")))
	eo, _ := evaluator.New(writer, critic, &evaluator.Options{Name: "loop"})
	var got []string
	for ev, err := range eo.Stream(t.Context(), llm.Prompt("go"), nil) {
		if err != nil {
			t.Fatal(err)
		}
		if ev.Kind == llm.EventMessage || ev.Kind == llm.EventFinal {
			got = append(got, fmt.Sprintf("%s %s: %s", ev.Kind, ev.Source, ev.Message.Text()))
		}
	}
	want := []string{
		"message writer: draft 1",
		"message critic: Attempt 1 rated FAIR. More.",
		"message writer: draft 2",
		"message critic: Attempt 2 rated GOOD. Fine.",
		"final loop: draft 2",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
}

func TestRatingText(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want evaluator.Rating
	}{{"good", evaluator.Good}, {" EXCELLENT ", evaluator.Excellent}, {"Fair", evaluator.Fair}, {"poor", evaluator.Poor}} {
		var r evaluator.Rating
		if err := r.UnmarshalText([]byte(tc.in)); err != nil || r != tc.want {
			t.Errorf("UnmarshalText(%q) = %v, %v", tc.in, r, err)
		}
	}
	if _, err := evaluator.ParseRating("great"); err == nil || err.Error() != `unknown rating "great": want EXCELLENT, GOOD, FAIR or POOR` {
		t.Errorf("ParseRating(great): %v", err)
	}
	if b, err := evaluator.Good.MarshalText(); err != nil || string(b) != "GOOD" {
		t.Errorf("MarshalText = %s, %v", b, err)
	}
	if s := evaluator.Rating(0).String(); s != "Rating(0)" {
		t.Errorf("zero rating = %s", s)
	}
}

func TestNewErrors(t *testing.T) {
	w, _ := patterntest.Scripted(t, "w", "turns: [{text: x}]")
	for _, tc := range []struct {
		name      string
		opt, eval llm.AugmentedLLM
		opts      *evaluator.Options
		want      string
	}{
		{"no optimizer", nil, w, nil, `evaluator-optimizer "evaluator-optimizer": no optimizer LLM`},
		{"no evaluator", w, nil, nil, `evaluator-optimizer "evaluator-optimizer": no evaluator LLM`},
		{"bad rating", w, w, &evaluator.Options{MinRating: 7}, `evaluator-optimizer "evaluator-optimizer": MinRating 7 is not a rating: use Poor, Fair, Good or Excellent`},
		{"negative refinements", w, w, &evaluator.Options{MaxRefinements: -1}, `evaluator-optimizer "evaluator-optimizer": MaxRefinements is -1: it must not be negative`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := evaluator.New(tc.opt, tc.eval, tc.opts)
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
