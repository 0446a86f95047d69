package filesystem

import (
	"fmt"
	"path"
	"strings"
)

// glob is a compiled glob pattern over slash-separated relative paths.
// Segments use path.Match syntax (*, ?, [...], \ escapes) and a "**"
// segment matches any number of segments, including none. "*" matches
// names starting with a dot too.
type glob struct {
	text string
	segs []string
}

func compileGlob(pattern string) (glob, error) {
	if pattern == "" {
		return glob{}, fmt.Errorf("pattern is empty; use for example \"*.go\" or \"**/*.go\"")
	}
	p := strings.TrimPrefix(pattern, "./")
	segs := strings.Split(p, "/")
	for _, s := range segs {
		if s == "**" {
			continue
		}
		if _, err := path.Match(s, ""); err != nil {
			return glob{}, fmt.Errorf("invalid pattern %q: %w", pattern, err)
		}
	}
	return glob{text: pattern, segs: segs}, nil
}

// match reports whether the slash-separated relative path name matches.
func (g glob) match(name string) bool {
	return matchSegs(g.segs, strings.Split(name, "/"))
}

// matchSegs matches pattern segments against name segments with dynamic
// programming, so patterns with many "**" stay linear in practice:
// ok[j] reports whether the pattern so far matches names[:j].
func matchSegs(pats, names []string) bool {
	ok := make([]bool, len(names)+1)
	ok[0] = true
	next := make([]bool, len(names)+1)
	for _, p := range pats {
		clear(next)
		if p == "**" {
			seen := false
			for j := range ok {
				seen = seen || ok[j]
				next[j] = seen
			}
		} else {
			for j := 1; j <= len(names); j++ {
				if ok[j-1] {
					m, _ := path.Match(p, names[j-1])
					next[j] = m
				}
			}
		}
		ok, next = next, ok
	}
	return ok[len(names)]
}

// excluder decides which entries a walk skips.
type excluder []glob

func compileExcludes(patterns []string) (excluder, error) {
	var ex excluder
	for _, p := range patterns {
		g, err := compileGlob(p)
		if err != nil {
			return nil, fmt.Errorf("excludePatterns: %w", err)
		}
		ex = append(ex, g)
	}
	return ex, nil
}

// excluded reports whether the entry at relative path rel is excluded: a
// pattern matches the whole relative path, or, when it has no slash, the
// entry's name at any depth (so "node_modules" or "*.log" work anywhere).
func (ex excluder) excluded(rel string) bool {
	base := path.Base(rel)
	for _, g := range ex {
		if g.match(rel) || (len(g.segs) == 1 && g.match(base)) {
			return true
		}
	}
	return false
}
