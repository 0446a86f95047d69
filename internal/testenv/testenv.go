// Package testenv finds and starts the third-party MCP servers the tests run
// against: the official reference servers from npm, installed by scripts/test
// into .tools/node_modules.
//
// When the tools are missing a test is skipped, unless MCP_AGENT_REQUIRE_TOOLS=1
// (set by scripts/test and therefore by CI), in which case it fails: CI never
// silently skips a real-server test.
package testenv

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// RepoRoot is the module root (the directory holding go.mod).
func RepoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// ToolsDir is where scripts/test installs npm packages.
func ToolsDir() string { return filepath.Join(RepoRoot(), ".tools") }

func missing(t testing.TB, what string) {
	t.Helper()
	msg := fmt.Sprintf("%s not installed; run scripts/test (or scripts/setup-tools) first", what)
	if os.Getenv("MCP_AGENT_REQUIRE_TOOLS") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// Node returns the node binary.
func Node(t testing.TB) string {
	t.Helper()
	p, err := exec.LookPath("node")
	if err != nil {
		missing(t, "node")
	}
	return p
}

// npmScript returns the entry script of an installed npm package.
func npmScript(t testing.TB, pkg, rel string) string {
	t.Helper()
	p := filepath.Join(ToolsDir(), "node_modules", pkg, rel)
	if _, err := os.Stat(p); err != nil {
		missing(t, pkg)
	}
	return p
}

// Everything returns the command and arguments that run
// @modelcontextprotocol/server-everything over stdio.
func Everything(t testing.TB) (command string, args []string) {
	t.Helper()
	return Node(t), []string{npmScript(t, "@modelcontextprotocol/server-everything", "dist/index.js"), "stdio"}
}

// Filesystem returns the command and arguments that run
// @modelcontextprotocol/server-filesystem over stdio, allowing dirs.
func Filesystem(t testing.TB, dirs ...string) (command string, args []string) {
	t.Helper()
	script := npmScript(t, "@modelcontextprotocol/server-filesystem", "dist/index.js")
	return Node(t), append([]string{script}, dirs...)
}

// StartEverythingHTTP starts server-everything in mode "streamableHttp" or
// "sse" on a free loopback port and returns its base URL
// (http://127.0.0.1:PORT). The endpoint is base+"/mcp" for streamableHttp and
// base+"/sse" for sse. The process is killed when the test ends.
func StartEverythingHTTP(t testing.TB, mode string) string {
	t.Helper()
	node := Node(t)
	script := npmScript(t, "@modelcontextprotocol/server-everything", "dist/index.js")
	port := FreePort(t)
	cmd := exec.Command(node, script, mode)
	cmd.Env = append(os.Environ(), "PORT="+strconv.Itoa(port))
	var out lockedBuffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start server-everything %s: %v", mode, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	addr := "127.0.0.1:" + strconv.Itoa(port)
	WaitListening(t, addr, 20*time.Second, &out)
	return "http://" + addr
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// WaitListening waits until addr accepts TCP connections, failing the test
// after timeout; logs (may be nil) is printed on failure.
func WaitListening(t testing.TB, addr string, timeout time.Duration, logs fmt.Stringer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var d net.Dialer
	for {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-ctx.Done():
			out := ""
			if logs != nil {
				out = logs.String()
			}
			t.Fatalf("%s not listening after %s: %v\n%s", addr, timeout, err, out)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// WriteExecutable writes an executable file (a stand-in script) at path.
//
// os.WriteFile would race with tests that start processes in parallel: a
// child forked while this process holds the file open for writing keeps that
// descriptor until it execs, and executing the file in that window fails
// with "text file busy" (golang.org/issue/22315). The file is therefore
// written by a separate process (install), so this process never holds a
// writable descriptor to it.
func WriteExecutable(t testing.TB, path, content string) {
	t.Helper()
	src := path + ".src"
	if err := os.WriteFile(src, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("install", "-m", "0755", src, path).CombinedOutput(); err != nil {
		t.Fatalf("install %s: %v: %s", path, err, out)
	}
	if err := os.Remove(src); err != nil {
		t.Fatal(err)
	}
}
