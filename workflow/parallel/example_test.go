package parallel_test

import (
	"context"
	"fmt"
	"strings"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
	"github.com/mcp-agent-go/mcp-agent/workflow/parallel"
)

// Three members answer concurrently; a Go function combines the answers.
func ExampleAggregateFunc() {
	upper := parallel.Func("upper", func(ctx context.Context, conv []llm.Message) (string, error) {
		return strings.ToUpper(conv[len(conv)-1].Text()), nil
	})
	count := parallel.Func("count", func(ctx context.Context, conv []llm.Message) (string, error) {
		return fmt.Sprint(len(conv[len(conv)-1].Text()), " bytes"), nil
	})
	// Any AugmentedLLM can be a member: here a scripted model.
	model := llm.New(nil, replay.NewFromTurns(replay.Turn{Text: "a greeting"}), &llm.Options{Name: "model"})

	p, err := parallel.New(parallel.AggregateFunc(func(ctx context.Context, conv []llm.Message, results []parallel.Result) (string, error) {
		var b strings.Builder
		for _, r := range results {
			fmt.Fprintf(&b, "%s=%s; ", r.Member, r.Text())
		}
		return b.String(), nil
	}), []llm.AugmentedLLM{upper, count, model}, nil)
	if err != nil {
		panic(err)
	}
	answer, err := llm.GenerateString(context.Background(), p, llm.Prompt("hello"), nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(answer)
	// Output: upper=HELLO; count=5 bytes; model=a greeting;
}

// An aggregator LLM combines the answers; usage is reported per member
// under the pattern.
func ExampleAggregator() {
	member := func(name, answer string) llm.AugmentedLLM {
		turn := replay.Turn{Text: answer, Usage: &replay.Usage{Input: 100, Output: 10}}
		return llm.New(nil, replay.NewFromTurns(turn), &llm.Options{Name: name})
	}
	grader := member("grader", "Grade: B+. Fix the typo and cite a source.")
	p, err := parallel.New(parallel.Aggregator(grader), []llm.AugmentedLLM{
		member("proofreader", "One typo: 'teh'."),
		member("fact_checker", "The date needs a source."),
	}, &parallel.Options{Name: "review"})
	if err != nil {
		panic(err)
	}
	run := llm.NewUsageTracker("run", llm.UsageRun)
	ctx := llm.ContextWithUsage(context.Background(), run)
	answer, err := llm.GenerateString(ctx, p, llm.Prompt("Review: teh war ended in 1945."), nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(answer)
	review := run.Report(nil).Children[0]
	fmt.Println(review.Name, review.Kind, review.Calls, "calls,", review.Usage.InputTokens, "input tokens")
	// Output:
	// Grade: B+. Fix the typo and cite a source.
	// review workflow 3 calls, 300 input tokens
}
