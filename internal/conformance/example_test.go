package conformance_test

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"

	"github.com/mcp-agent-go/mcp-agent/internal/conformance"
)

// ReadChecks reads a results folder as the suite writes it with -o: one
// folder per scenario, named with the scenario and the run time.
func ExampleReadChecks() {
	dir, _ := os.MkdirTemp("", "conformance-example-")
	defer os.RemoveAll(dir)
	scenario := filepath.Join(dir, "server-tools-list-2026-07-28T10-00-00-000Z")
	_ = os.Mkdir(scenario, 0o755)
	_ = os.WriteFile(filepath.Join(scenario, "checks.json"), []byte(`[
		{"id": "tools-list", "status": "SUCCESS"},
		{"id": "wire-schema-valid", "status": "FAILURE", "errorMessage": "must have required property 'resultType'"},
		{"id": "tools-name-format", "status": "WARNING"}
	]`), 0o644)

	passed, failed, err := conformance.ReadChecks(dir)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("passed:", slices.Sorted(maps.Keys(passed)))
	for _, id := range slices.Sorted(maps.Keys(failed)) {
		fmt.Printf("failed: %s: %s\n", id, failed[id])
	}
	// Output:
	// passed: [tools-list/tools-list]
	// failed: tools-list/wire-schema-valid: must have required property 'resultType'
}
