package fetch

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestProxyFromEnvironment: with ProxyFromEnvironment, requests go to the
// proxy of HTTP_PROXY (a forward proxy gets the absolute URL); without it,
// the variable is ignored.
func TestProxyFromEnvironment(t *testing.T) {
	var hits atomic.Int32
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprintf(w, "via proxy: %s", r.URL.String())
	}))
	defer proxy.Close()
	t.Setenv("HTTP_PROXY", proxy.URL)
	t.Setenv("NO_PROXY", "")

	call := func(opts *Options) *mcp.CallToolResult {
		t.Helper()
		srv, err := New(opts)
		if err != nil {
			t.Fatal(err)
		}
		ct, st := mcp.NewInMemoryTransports()
		ctx := context.Background()
		ss, err := srv.Connect(ctx, st, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ss.Close()
		cs, err := mcp.NewClient(&mcp.Implementation{Name: "t", Version: "1"}, nil).Connect(ctx, ct, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer cs.Close()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "fetch", Arguments: map[string]any{"url": "http://example.test/page", "raw": true}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}

	res := call(&Options{ProxyFromEnvironment: true})
	if res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "via proxy: http://example.test/page") {
		t.Fatalf("through the proxy: %+v", res.Content)
	}
	if hits.Load() != 1 {
		t.Errorf("proxy hits = %d, want 1", hits.Load())
	}
	// Without the option the variable is ignored: example.test does not
	// resolve, and the proxy is not asked.
	res = call(&Options{})
	if !res.IsError {
		t.Errorf("without ProxyFromEnvironment the fetch succeeded: %+v", res.Content)
	}
	if hits.Load() != 1 {
		t.Errorf("proxy hits = %d after a fetch without the option, want still 1", hits.Load())
	}
	// Host lists still apply to the URL.
	res = call(&Options{ProxyFromEnvironment: true, DenyHosts: []string{"example.test"}})
	if !res.IsError || !strings.Contains(res.Content[0].(*mcp.TextContent).Text, "example.test") {
		t.Errorf("denied host through the proxy: %+v", res.Content)
	}
}
