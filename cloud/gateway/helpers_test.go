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

// clientCalls counts the calls of clients in flight on the shared process.
func (s *stdioServer) clientCalls() int {
	sl := s.shared.slot.Load()
	sl.mu.Lock()
	u := sl.cur
	sl.mu.Unlock()
	if u == nil {
		return 0
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	n := 0
	for _, c := range u.pending {
		if c.owner != nil {
			n++
		}
	}
	return n
}
