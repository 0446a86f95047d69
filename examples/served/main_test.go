package main

import (
	"context"
	"encoding/json"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// TestServedOverHTTP runs the example as a server on a free port and uses
// it as an MCP client would: the sync tool, the async tool and its
// human-approval workflow, and the agent.
func TestServedOverHTTP(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	addrc := make(chan net.Addr, 1)
	done := make(chan error, 1)
	srvCtx, stop := context.WithCancel(ctx)
	go func() {
		done <- run(srvCtx, config{dir: ".", script: "served.replay.yaml", httpAddr: "127.0.0.1:0",
			runsDB: filepath.Join(t.TempDir(), "runs.db"), ready: func(a net.Addr) { addrc <- a }})
	}()
	var addr net.Addr
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatalf("run: %v", err)
	}

	c := mcp.NewClient(&mcp.Implementation{Name: "example-test", Version: "1"}, nil)
	cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: "http://" + addr.String() + "/mcp"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer cs.Close()
	callTool := func(name string, args map[string]any) *mcp.CallToolResult {
		t.Helper()
		res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if res.IsError {
			t.Fatalf("%s: %v", name, res.Content)
		}
		return res
	}
	structured := func(res *mcp.CallToolResult, v any) {
		t.Helper()
		b, _ := json.Marshal(res.StructuredContent)
		if err := json.Unmarshal(b, v); err != nil {
			t.Fatal(err)
		}
	}

	var wc WordCount
	structured(callTool("word_count", map[string]any{"text": "one two\nthree"}), &wc)
	if wc.Words != 3 || wc.Lines != 2 {
		t.Errorf("word_count = %+v, want 3 words on 2 lines", wc)
	}

	answer := callTool("agents-helper-generate_str", map[string]any{"message": "What is in notes.md?"})
	if tc, _ := answer.Content[0].(*mcp.TextContent); tc == nil || !strings.Contains(tc.Text, "release checklist") {
		t.Errorf("helper answered %v", answer.Content)
	}

	var started struct {
		RunID string `json:"run_id"`
	}
	structured(callTool("publish_async", map[string]any{"title": "Otters", "body": "Otters hold hands while they sleep."}), &started)
	var st struct {
		Status string          `json:"status"`
		Result json.RawMessage `json:"result"`
	}
	waitStatus := func(want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			structured(callTool("workflows-get_status", map[string]any{"run_id": started.RunID}), &st)
			if st.Status == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("run %s is %s, want %s", started.RunID, st.Status, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitStatus("paused")
	callTool("workflows-resume", map[string]any{"run_id": started.RunID, "payload": map[string]any{"approved": true}})
	waitStatus("completed")
	var out Published
	if err := json.Unmarshal(st.Result, &out); err != nil || !out.Published || out.Words != 6 {
		t.Errorf("publish result = %+v (%v), want published with 6 words", out, err)
	}

	stop()
	if err := <-done; err != nil {
		t.Errorf("run after shutdown: %v", err)
	}
}
