package main

import (
	"strings"
	"testing"
)

func TestReplay(t *testing.T) {
	for _, iterative := range []bool{false, true} {
		var out strings.Builder
		if err := run(t.Context(), &out, "replay", "", iterative); err != nil {
			t.Fatal(err)
		}
		got := out.String()
		rounds := "1 planning round(s)"
		if iterative {
			rounds = "3 planning round(s)"
		}
		for _, want := range []string{
			"Step 1: Look up each moon\n  - researcher: Look up Ganymede's diameter and a notable feature.\n    -> Ganymede is 5,268 km across",
			"  - researcher: Look up Io's diameter and a notable feature.\n    -> Io is 3,643 km across",
			"Step 2: Draft the comparison\n  - writer: Write a three-sentence comparison",
			"Answer (" + rounds + "):\n\nGanymede (5,268 km) is the largest moon",
			" in / ", // the usage summary
		} {
			if !strings.Contains(got, want) {
				t.Errorf("iterative=%v: output lacks %q:\n%s", iterative, want, got)
			}
		}
	}
}

func TestUnknownProvider(t *testing.T) {
	err := run(t.Context(), new(strings.Builder), "gemini", "", false)
	if err == nil || err.Error() != `unknown -provider "gemini": use replay, openai or anthropic` {
		t.Errorf("err = %v", err)
	}
}
