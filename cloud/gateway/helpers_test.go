package gateway

import (
	"testing"

	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
)

// everything returns the command running server-everything over stdio.
func everything(t testing.TB) (string, []string) {
	t.Helper()
	return testenv.Everything(t)
}
