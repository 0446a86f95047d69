package devserver

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
)

// script writes an executable shell script standing in for temporal-dev.
func script(t *testing.T, body string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "temporal-dev")
	testenv.WriteExecutable(t, p, "#!/bin/sh\n"+body+"\n")
	return p
}

func TestStartAndClose(t *testing.T) {
	// Prints its arguments as the address line, then serves until stdin
	// closes.
	bin := script(t, `echo "temporal-dev: listening on 127.0.0.1:7233 namespace $4"; cat >/dev/null; exit 0`)
	s, err := Start(t.Context(), &Options{Binary: bin, Namespace: "ns1"})
	if err != nil {
		t.Fatal(err)
	}
	if s.Addr != "127.0.0.1:7233" || s.Namespace != "ns1" {
		t.Errorf("server = %q %q", s.Addr, s.Namespace)
	}
	if err := s.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	select {
	case <-s.done:
	default:
		t.Error("process still running after Close")
	}
}

func TestStartFails(t *testing.T) {
	bin := script(t, `echo "no database" >&2; exit 3`)
	_, err := Start(t.Context(), &Options{Binary: bin})
	if err == nil || !strings.Contains(err.Error(), "temporal-dev exited before serving (exit status 3)") || !strings.Contains(err.Error(), "no database") {
		t.Errorf("Start of a failing binary: %v", err)
	}
}

func TestBinaryFromEnv(t *testing.T) {
	t.Setenv(BinaryEnv, filepath.Join(t.TempDir(), "missing"))
	if _, err := Binary(t.Context()); err == nil || !strings.Contains(err.Error(), "$"+BinaryEnv) {
		t.Errorf("Binary with a missing $%s: %v", BinaryEnv, err)
	}
	bin := script(t, "exit 0")
	t.Setenv(BinaryEnv, bin)
	if got, err := Binary(t.Context()); err != nil || got != bin {
		t.Errorf("Binary = %q, %v; want %q", got, err, bin)
	}
}
