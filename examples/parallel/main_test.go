package main

import (
	"strings"
	"testing"
)

func TestReplay(t *testing.T) {
	var out strings.Builder
	if err := run(t.Context(), &out, "replay", ""); err != nil {
		t.Fatal(err)
	}
	want := `Grade: B

1. Fix four language errors: knowed -> known, were live -> lived, shimmer -> shimmered,
   shaterred -> shattered.
2. Drop or justify the year 1492.
3. Vary sentence openings and give the Shadow Bandits a motive.

run (run): 4 calls, 965 in / 183 out tokens
  story_review (workflow): 4 calls, 965 in / 183 out tokens
`
	if got := out.String(); !strings.HasPrefix(got, want) {
		t.Errorf("output:\n%s\nwant it to start with:\n%s", got, want)
	}
	for _, member := range []string{"proofreader", "fact_checker", "style_enforcer", "grader"} {
		if !strings.Contains(out.String(), "    "+member+" (llm): 1 calls") {
			t.Errorf("usage lacks %s:\n%s", member, out.String())
		}
	}
}

func TestUnknownProvider(t *testing.T) {
	err := run(t.Context(), &strings.Builder{}, "gemini", "")
	if err == nil || err.Error() != `unknown -provider "gemini": use replay, openai or anthropic` {
		t.Errorf("err = %v", err)
	}
}
