package main

import "testing"

// TestFinderOnReplay runs the example as CI does: the scripted model, real
// tool calls on the in-process built-in servers.
func TestFinderOnReplay(t *testing.T) {
	if err := run(".", "", "finder.replay.yaml", "What is in README.md?"); err != nil {
		t.Fatal(err)
	}
}
