package platform_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
)

// TestFetchBuiltinThroughEgressProxy deploys the fetch built-in: inside the
// sandbox its only way out is the platform's egress proxy, which lets the
// allow-listed host through and refuses the cloud metadata address.
func TestFetchBuiltinThroughEgressProxy(t *testing.T) {
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body><main><h1>Tide pools</h1><p>Anemones live here.</p></main></body></html>")
	}))
	defer site.Close()
	// The site must be reached by a host name: HTTP clients never send
	// loopback IPs or "localhost" to a proxy. Use this machine's name when it
	// resolves to a loopback address (it does on Debian and in our CI).
	name, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	addrs, err := net.LookupHost(name)
	if err != nil || len(addrs) == 0 || !net.ParseIP(addrs[0]).IsLoopback() {
		t.Skipf("host name %q does not resolve to a loopback address (%v %v)", name, addrs, err)
	}
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(site.URL, "http://"))
	host := net.JoinHostPort(name, port)
	siteURL := "http://" + host

	e := startPlatform(t, t.TempDir())
	e.create(api.CreateServerRequest{Name: "web", Type: "fetch", EgressAllow: []string{host}})
	e.waitStatus("web", "running")

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cs := e.connect("web", e.key)
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "fetch", Arguments: map[string]any{"url": siteURL + "/pools"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := textOf(t, res); res.IsError || !strings.Contains(got, "# Tide pools") || !strings.Contains(got, "Anemones live here.") {
		t.Fatalf("fetch of an allowed host: error=%v %q", res.IsError, got)
	}
	res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "fetch", Arguments: map[string]any{"url": "http://169.254.169.254/latest/meta-data"}})
	if err != nil {
		t.Fatal(err)
	}
	if !res.IsError {
		t.Fatalf("fetch of the metadata address succeeded: %q", textOf(t, res))
	}
}
