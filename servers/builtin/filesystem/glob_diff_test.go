package filesystem

import (
	"strings"
	"testing"
)

func TestGlob(t *testing.T) {
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"*.go", "a.go", true},
		{"*.go", "pkg/a.go", false},
		{"**/*.go", "a.go", true},
		{"**/*.go", "pkg/deep/a.go", true},
		{"pkg/**", "pkg", true},
		{"pkg/**", "pkg/a/b", true},
		{"pkg/**", "pkgx/a", false},
		{"**/test/**/*.txt", "a/test/b/c/d.txt", true},
		{"**/test/**/*.txt", "a/tests/d.txt", false},
		{"*", ".hidden", true},
		{"a?c", "abc", true},
		{"[ab]*", "bx", true},
		{"./*.md", "README.md", true},
		{"**", "anything/at/all", true},
	}
	for _, tt := range tests {
		g, err := compileGlob(tt.pattern)
		if err != nil {
			t.Fatalf("compileGlob(%q): %v", tt.pattern, err)
		}
		if got := g.match(tt.name); got != tt.want {
			t.Errorf("%q matches %q = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
	if _, err := compileGlob(""); err == nil || err.Error() != `pattern is empty; use for example "*.go" or "**/*.go"` {
		t.Errorf("empty pattern error = %v", err)
	}
	// Many "**" segments stay fast (the matcher is not backtracking).
	g, _ := compileGlob(strings.Repeat("**/", 30) + "x")
	if g.match(strings.Repeat("a/", 200) + "y") {
		t.Error("matched a path not ending in x")
	}
}

func TestExcluder(t *testing.T) {
	ex, err := compileExcludes([]string{"node_modules", "*.log", "build/out"})
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]bool{
		"node_modules": true, "a/node_modules": true, "x.log": true, "a/b/x.log": true,
		"build/out": true, "a/build/out": false, "src/main.go": false,
	} {
		if got := ex.excluded(name); got != want {
			t.Errorf("excluded(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestUnifiedDiff(t *testing.T) {
	lines := func(n int, change map[int]string) string {
		var sb strings.Builder
		for i := 1; i <= n; i++ {
			if s, ok := change[i]; ok {
				sb.WriteString(s)
				continue
			}
			sb.WriteString("l" + string(rune('a'+i-1)) + "\n")
		}
		return sb.String()
	}
	tests := []struct {
		name, a, b, want string
	}{
		{"equal", "x\n", "x\n", ""},
		{"two hunks", lines(20, nil), lines(20, map[int]string{2: "B\n", 18: "R\n"}),
			"--- a/f\n+++ b/f\n@@ -1,5 +1,5 @@\n la\n-lb\n+B\n lc\n ld\n le\n@@ -15,6 +15,6 @@\n lo\n lp\n lq\n-lr\n+R\n ls\n lt\n"},
		{"merged hunk", lines(10, nil), lines(10, map[int]string{3: "", 7: "G\n"}),
			"--- a/f\n+++ b/f\n@@ -1,10 +1,9 @@\n la\n lb\n-lc\n ld\n le\n lf\n-lg\n+G\n lh\n li\n lj\n"},
		{"from empty", "", "new\n", "--- a/f\n+++ b/f\n@@ -0,0 +1,1 @@\n+new\n"},
		{"no final newline", "a\nb", "a\nc", "--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n"},
	}
	for _, tt := range tests {
		if got := unifiedDiff("f", tt.a, tt.b); got != tt.want {
			t.Errorf("%s: got\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
	// A middle too large for the LCS table is shown as one replaced block.
	big := strings.Repeat("x\n", 3000)
	got := unifiedDiff("f", "a\n"+big+"z\n", "b\n"+strings.Repeat("y\n", 3000)+"z\n")
	if !strings.Contains(got, "@@ -1,3002 +1,3002 @@\n-a\n") {
		t.Errorf("big diff header: %.80q", got)
	}
}
