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
	want := `attempt 1: POOR - Generic: no achievements, nothing about the company.
attempt 2: GOOD - Specific now; quantify the achievements and end with a call to action.
attempt 3: EXCELLENT - Concrete, relevant and ends with a clear next step.

Accepted attempt 3:

Dear Hiring Manager,
`
	if got := out.String(); !strings.HasPrefix(got, want) || !strings.Contains(got, "available any day next week") {
		t.Errorf("output:\n%s\nwant it to start with:\n%s", got, want)
	}
}
