package servers

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMergeEnv(t *testing.T) {
	got := mergeEnv([]string{"PATH=/bin", "HOME=/root", "A=1"}, map[string]string{"A": "2", "B": "3"})
	want := []string{"PATH=/bin", "HOME=/root", "A=2", "B=3"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("mergeEnv (-want +got):\n%s", diff)
	}
}

func TestStderrTail(t *testing.T) {
	var logged []string
	tail := &stderrTail{onLine: func(l string) { logged = append(logged, l) }}
	fmt.Fprint(tail, "first\r\nsec")
	fmt.Fprint(tail, "ond\n")
	for i := range 30 {
		fmt.Fprintf(tail, "line %d\n", i)
	}
	fmt.Fprint(tail, "partial without newline")
	lines := strings.Split(tail.String(), "\n")
	if len(lines) != stderrTailLines || lines[0] != "line 11" || lines[len(lines)-1] != "partial without newline" {
		t.Errorf("tail = %d lines %q ... %q", len(lines), lines[0], lines[len(lines)-1])
	}
	if len(logged) != 32 || logged[0] != "first" || logged[1] != "second" {
		t.Errorf("logged %d lines, starting %q", len(logged), logged[:2])
	}

	long := &stderrTail{}
	fmt.Fprint(long, strings.Repeat("x", 3*stderrMaxLine))
	fmt.Fprint(long, strings.Repeat("y", stderrMaxLine)+"\n")
	if got := long.String(); len(got) > stderrMaxLine+len("…") || !strings.HasSuffix(got, "…") {
		t.Errorf("a long line is kept as %d bytes, want it clipped to %d", len(got), stderrMaxLine)
	}
}
