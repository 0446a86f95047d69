package filesystem

import (
	"context"
	"net"
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/servers/builtin"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestStreamableHTTP serves the filesystem server with builtin.Serve on a
// loopback port, with and without sessions, and drives it with a client.
func TestStreamableHTTP(t *testing.T) {
	for _, stateless := range []bool{false, true} {
		name := "sessions"
		if stateless {
			name = "stateless"
		}
		t.Run(name, func(t *testing.T) {
			dir := realTempDir(t)
			writeFiles(t, dir, map[string]string{"hello.txt": "hello over http\n"})
			srv, err := New([]Root{{Path: dir}}, nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			serveCtx, stop := context.WithCancel(ctx)
			ready := make(chan net.Addr, 1)
			served := make(chan error, 1)
			go func() {
				served <- builtin.Serve(serveCtx, srv, builtin.ServeOptions{
					HTTPAddr: "127.0.0.1:0", Stateless: stateless,
					Ready: func(a net.Addr) { ready <- a },
				})
			}()
			var addr net.Addr
			select {
			case addr = <-ready:
			case err := <-served:
				t.Fatalf("Serve returned before listening: %v", err)
			case <-ctx.Done():
				t.Fatal("server not ready")
			}

			httpClient := &http.Client{Transport: &http.Transport{}}
			client := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "v0"}, nil)
			cs, err := client.Connect(ctx, &mcp.StreamableClientTransport{
				Endpoint: "http://" + addr.String() + "/mcp", HTTPClient: httpClient,
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "read_text_file", Arguments: map[string]any{"path": "hello.txt"}})
			if err != nil {
				t.Fatal(err)
			}
			if got := resultText(res); res.IsError || got != "hello over http\n" {
				t.Errorf("read_text_file = %q (error %v)", got, res.IsError)
			}
			res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "write_file", Arguments: map[string]any{"path": "out.txt", "content": "written"}})
			if err != nil || res.IsError {
				t.Fatalf("write_file: %v %s", err, resultText(res))
			}
			if got := readFile(t, filepath.Join(dir, "out.txt")); got != "written" {
				t.Errorf("out.txt = %q", got)
			}
			res, err = cs.CallTool(ctx, &mcp.CallToolParams{Name: "read_text_file", Arguments: map[string]any{"path": "/etc/passwd"}})
			if err != nil {
				t.Fatal(err)
			}
			if want := `path "/etc/passwd" is outside the allowed directories (` + dir + `)`; !res.IsError || resultText(res) != want {
				t.Errorf("outside read = %q (error %v), want %q", resultText(res), res.IsError, want)
			}
			wantProto := "2025-11-25"
			if stateless {
				wantProto = "2026-07-28"
			}
			if got := cs.InitializeResult().ProtocolVersion; got != wantProto {
				t.Errorf("protocol = %s, want %s", got, wantProto)
			}

			cs.Close()
			httpClient.CloseIdleConnections()
			stop()
			select {
			case err := <-served:
				if err != nil {
					t.Errorf("Serve: %v", err)
				}
			case <-ctx.Done():
				t.Fatal("Serve did not return after cancel")
			}
		})
	}
}
