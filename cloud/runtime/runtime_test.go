package runtime

import (
	"testing"
)

func TestParseEgressRuleAndMatch(t *testing.T) {
	for _, tc := range []struct {
		rule    string
		host    string
		port    int
		matches bool
	}{
		{"api.github.com:443", "api.github.com", 443, true},
		{"api.github.com:443", "api.github.com", 80, false},
		{"API.GitHub.com.", "api.github.com", 80, true},
		{"api.github.com", "evil.com", 443, false},
		{"*.example.com", "a.b.example.com", 443, true},
		{"*.example.com", "example.com", 443, false},
		{"*.example.com", "badexample.com", 443, false},
		{"*.example.com:8443", "a.example.com", 443, false},
		{"*", "anything.test", 1, true},
		{"*:443", "anything.test", 80, false},
		{"10.0.0.5:5432", "10.0.0.5", 5432, true},
		{"[::1]:8080", "::1", 8080, true},
		{"::1", "0:0:0:0:0:0:0:1", 22, true},
		{"host:*", "host", 9, true},
	} {
		r, err := ParseEgressRule(tc.rule)
		if err != nil {
			t.Errorf("ParseEgressRule(%q): %v", tc.rule, err)
			continue
		}
		if got := r.Matches(tc.host, tc.port); got != tc.matches {
			t.Errorf("%q matches %s:%d = %v, want %v", tc.rule, tc.host, tc.port, got, tc.matches)
		}
	}
	for _, bad := range []string{"", "a b", "host:0", "host:x", "*.", "http://x.com", "x.com/path"} {
		if _, err := ParseEgressRule(bad); err == nil {
			t.Errorf("ParseEgressRule(%q) accepted", bad)
		}
	}
}

func TestValidateAcceptsMinimalAndFullSpecs(t *testing.T) {
	for _, s := range []Spec{
		{Name: "local.min", Command: "server"},
		{Name: "@acme/fetch", Image: "ghcr.io/acme/fetch:1"},
		{
			Name: "local.full", Command: "/usr/bin/node", Args: []string{"x.js"},
			Env: map[string]string{"TOKEN": "x"}, Dir: "/tmp",
			Filesystem: Filesystem{AllowedPaths: []AllowedPath{{Path: "/srv/data", Mode: ModeReadWrite}, {Path: "/srv/in"}}},
			Network:    Network{EgressAllow: []string{"api.github.com:443", "*.example.com"}},
			Limits:     Limits{MemoryBytes: 1 << 30, CPUSeconds: 60, OpenFiles: 256, Processes: 32},
			Instances:  PerSession, Restart: OnFailure,
		},
	} {
		if err := s.Validate(); err != nil {
			t.Errorf("%s: %v", s.Name, err)
		}
	}
}
