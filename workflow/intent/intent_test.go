package intent_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/workflow/intent"
	"github.com/mcp-agent-go/mcp-agent/workflow/internal/patterntest"
)

var intents = []intent.Intent{
	{Name: "greeting", Description: "The user says hello.", Examples: []string{"hi there", "good morning"}},
	{Name: "refund", Description: "The user wants money back for an order.", Examples: []string{"I want my money back"}},
	{Name: "weather", Examples: []string{"will it rain tomorrow?"}},
}

func TestLLMClassify(t *testing.T) {
	cl, rec := patterntest.Scripted(t, "classifier", `turns:
  - text: '{"intents": [
      {"intent": "greeting", "confidence": 0.4, "reasoning": "Starts with hello."},
      {"intent": "Refund", "confidence": 0.9, "reasoning": "Asks for money back."},
      {"intent": "complaint", "confidence": 0.8, "reasoning": "Not listed."}]}'`)
	c, err := intent.NewLLM(cl, intents, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Classify(t.Context(), llm.Prompt("Hello, I'd like a refund for order 12."), 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []intent.Match{
		{Intent: "refund", Confidence: 0.9, Reasoning: "Asks for money back."},
		{Intent: "greeting", Confidence: 0.4, Reasoning: "Starts with hello."},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("matches (-want +got):\n%s", diff)
	}
	wantPrompt := `You classify requests by intent. Choose the intents that best match the request below.

Intents:

1. name: greeting
   description: The user says hello.
   examples:
   - hi there
   - good morning

2. name: refund
   description: The user wants money back for an order.
   examples:
   - I want my money back

3. name: weather
   examples:
   - will it rain tomorrow?

Request:
Hello, I'd like a refund for order 12.

Answer with at most 3 intents, best match first, each with a confidence from 0 to 1 and a one-sentence reasoning. Use only the names listed above; leave out intents that do not match.`
	reqs := rec.Requests()
	if diff := cmp.Diff(wantPrompt, reqs[0].Messages[0].Text()); diff != "" {
		t.Errorf("prompt (-want +got):\n%s", diff)
	}
	if reqs[0].ResponseSchema == nil {
		t.Error("the classifier was not asked for structured output")
	}
}

func TestLLMClassifyNoneAndUnknown(t *testing.T) {
	cl, _ := patterntest.Scripted(t, "classifier", `turns: [{text: '{"intents": []}'}, {text: '{"intents": [{"intent": "billing", "confidence": 1, "reasoning": "x"}]}'}]`)
	c, _ := intent.NewLLM(cl, intents, &intent.Options{Name: "support"})
	got, err := c.Classify(t.Context(), llm.Prompt("asdf"), 1)
	if err != nil || len(got) != 0 {
		t.Errorf("no matching intent: got %v, %v; want none and no error", got, err)
	}
	_, err = c.Classify(t.Context(), llm.Prompt("asdf"), 1)
	if !errors.Is(err, intent.ErrUnknownIntent) {
		t.Fatalf("err = %v, want ErrUnknownIntent", err)
	}
	if want := `intent classifier "support": the classifier answered with unknown intents: ["billing"] (intents: greeting, refund, weather)`; err.Error() != want {
		t.Errorf("error text:\n got %s\nwant %s", err, want)
	}
}

func TestEmbeddingClassify(t *testing.T) {
	emb, api := patterntest.NewEmbedder(t, "hello", "money", "rain")
	c, err := intent.NewEmbedding(emb, []intent.Intent{
		{Name: "greeting", Description: "Says hello.", Examples: []string{"hello hello"}},
		{Name: "refund", Description: "Wants money back."},
		{Name: "weather", Examples: []string{"rain?"}},
	}, &intent.Options{TopK: 2})
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Classify(t.Context(), llm.Prompt("Will it rain? Hello!"), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].Intent != "greeting" && got[0].Intent != "weather" || got[2].Intent != "refund" {
		t.Fatalf("matches = %+v, want greeting and weather before refund", got)
	}
	if got[0].Confidence < 0.7 || got[2].Confidence > 0.1 {
		t.Errorf("confidences = %v, %v: want high for the matching intent, near 0 for refund", got[0].Confidence, got[2].Confidence)
	}
	// Generate answers with the JSON of the top Options.TopK matches.
	ans, err := llm.GenerateString(t.Context(), c, llm.Prompt("money back please"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if ans[:31] != `[{"intent":"refund","confidence` {
		t.Errorf("answer = %s", ans)
	}
	// Intent texts (description and examples) are embedded once.
	reqs := api.Requests()
	want := [][]string{{"greeting: Says hello.", "hello hello", "refund: Wants money back.", "rain?"}, {"Will it rain? Hello!"}, {"money back please"}}
	if diff := cmp.Diff(want, reqs); diff != "" {
		t.Errorf("embedding requests (-want +got):\n%s", diff)
	}
}

func TestNewErrors(t *testing.T) {
	cl, _ := patterntest.Scripted(t, "classifier", "turns: [{text: x}]")
	for _, tc := range []struct {
		name    string
		intents []intent.Intent
		want    string
	}{
		{"none", nil, `intent classifier "intent": no intents: give at least one`},
		{"unnamed", []intent.Intent{{Description: "x"}}, `intent classifier "intent": intent 0 has no name`},
		{"duplicate", []intent.Intent{{Name: "a", Description: "x"}, {Name: "a", Description: "y"}}, `intent classifier "intent": intent "a" is listed twice: names must be unique`},
		{"empty", []intent.Intent{{Name: "a"}}, `intent classifier "intent": intent "a" has neither a description nor examples: give the classifier something to match`},
		{"empty example", []intent.Intent{{Name: "a", Examples: []string{"ok", " "}}}, `intent classifier "intent": intent "a": example 1 is empty`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := intent.NewLLM(cl, tc.intents, nil)
			if err == nil || err.Error() != tc.want {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
}
