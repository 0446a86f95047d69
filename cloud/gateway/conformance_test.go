package gateway

// The transparency test of issue 5: the go-sdk's conformance fixture server
// (conformance/everything-server of the go-sdk version in go.mod), run as a
// stdio server behind the gateway, passes every check of the official
// conformance suite that it passes on its own HTTP server.

import (
	"context"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/internal/conformance"
	"github.com/mcp-agent-go/mcp-agent/internal/testenv"
)

// fixturePackage is the go-sdk's conformance fixture server. It is built
// from the module cache at the go-sdk version go.mod requires.
const fixturePackage = "github.com/modelcontextprotocol/go-sdk/conformance/everything-server"

// expectedDifferences lists, by suite version and gateway mode, the checks
// that pass on the fixture's own HTTP server but not through the gateway,
// with the reason. Any other check that passes on the baseline and fails
// through the gateway fails the test; a listed check that passes through the
// gateway is stale and fails the test too.
var expectedDifferences = map[string]map[Mode]map[string]string{
	"0.2": {
		Shared: {
			"input-required-result-basic-elicitation/sep-2322-elicitation-complete":   inputKeys,
			"input-required-result-basic-elicitation/sep-2322-elicitation-incomplete": inputKeys,
		},
	},
}

const (
	inputKeys = "SEP-2322 input request keys: the stdio process speaks 2025-11-25, so the go-sdk fixture fulfils its handler's " +
		"inputRequests with plain server-to-client requests, which carry no key; the gateway turns them into an input_required " +
		"result under keys of its own (elicitation-1) and the check hard-codes the fixture's key (user_name)"
)

// TestConformance runs both conformance suites against the fixture's own
// HTTP server, in both of its modes (stateless, its default, and stateful),
// and against the fixture deployed as a stdio server behind the gateway, in
// Shared and PerSession mode.
func TestConformance(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the go-sdk conformance fixture and runs the conformance suite")
	}
	tools := conformance.Require(t)
	bin := buildFixture(t)

	fixtureURLs := map[string]string{
		"stateless": startFixtureHTTP(t, bin),
		"stateful":  startFixtureHTTP(t, bin, "-stateless=false"),
	}
	g, base := newTestGateway(t, &Options{CallTimeout: time.Minute})
	var stderr lockedLog
	modes := []Mode{Shared, PerSession}
	for _, m := range modes {
		g.Register("conformance-"+m.String(), &Command{Path: bin, Stderr: &stderr}, m)
	}

	for _, s := range conformance.Suites {
		t.Run(s.Version, func(t *testing.T) {
			run := func(t *testing.T, url string) *conformance.Result {
				t.Helper()
				ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
				defer cancel()
				res, err := tools.Run(ctx, s, url, t.TempDir())
				if err != nil {
					t.Fatal(err)
				}
				return res
			}
			// The baseline of Shared mode is the union of the fixture's two
			// modes: a shared process serves 2025-11-25 sessions and
			// 2026-07-28 stateless requests alike. PerSession mode pins a
			// process to a session, like the fixture's stateful server, and
			// like it serves no 2026-07-28 stateless requests.
			baselines := map[Mode]map[string]bool{Shared: {}}
			for _, name := range slices.Sorted(maps.Keys(fixtureURLs)) {
				res := run(t, fixtureURLs[name])
				t.Logf("conformance %s, fixture's own HTTP server (%s): %d checks passed, %d failed", s.Version, name, len(res.Passed), len(res.Failed))
				maps.Copy(baselines[Shared], res.Passed)
				if name == "stateful" {
					baselines[PerSession] = res.Passed
				}
			}
			for _, m := range modes {
				t.Run(m.String(), func(t *testing.T) {
					baseline := baselines[m]
					res := run(t, base+"/servers/conformance-"+m.String()+"/mcp")
					expected := expectedDifferences[s.Version][m]
					var lost []string
					for _, id := range slices.Sorted(maps.Keys(baseline)) {
						if res.Passed[id] {
							if reason, ok := expected[id]; ok {
								t.Errorf("stale expected difference %s (%s): it passes through the gateway now; remove it", id, reason)
							}
							continue
						}
						lost = append(lost, id)
						if _, ok := expected[id]; !ok {
							msg := res.Failed[id]
							if msg == "" {
								msg = "not run or not scored through the gateway"
							}
							t.Errorf("%s passes on the fixture's own server but not through the gateway: %s", id, msg)
						}
					}
					for id := range expected {
						if !baseline[id] {
							t.Errorf("expected difference %s does not pass on the baseline either; remove it", id)
						}
					}
					t.Logf("conformance %s through the gateway (%s): %d checks passed, %d failed; %d of the %d baseline checks pass, %d expected differences",
						s.Version, m, len(res.Passed), len(res.Failed), len(baseline)-len(lost), len(baseline), len(expected))
					if t.Failed() {
						t.Logf("suite output:\n%s\nfixture stderr:\n%s", conformance.Tail(res.Output, 6000), conformance.Tail(stderr.String(), 3000))
					}
				})
			}
		})
	}
}

// buildFixture builds the go-sdk conformance fixture server with the go
// command running the test, from this module (so at the go-sdk version in
// go.mod), and returns the binary.
func buildFixture(t *testing.T) string {
	t.Helper()
	goTool := filepath.Join(os.Getenv("GOROOT"), "bin", "go")
	if _, err := os.Stat(goTool); err != nil {
		if goTool, err = exec.LookPath("go"); err != nil {
			t.Fatalf("the go command is needed to build %s: %v", fixturePackage, err)
		}
	}
	bin := filepath.Join(t.TempDir(), "everything-server")
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", bin, fixturePackage)
	cmd.Dir = testenv.RepoRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", fixturePackage, err, out)
	}
	return bin
}

// startFixtureHTTP runs the fixture on its own Streamable HTTP server on a
// free loopback port, with args, until the test ends, and returns its URL.
func startFixtureHTTP(t *testing.T, bin string, args ...string) string {
	t.Helper()
	addr := "127.0.0.1:" + strconv.Itoa(testenv.FreePort(t))
	var out lockedLog
	cmd := exec.Command(bin, append([]string{"-http", addr}, args...)...)
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	testenv.WaitListening(t, addr, 20*time.Second, &out)
	return "http://" + addr + "/"
}

// lockedLog is a concurrency-safe output buffer.
type lockedLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
