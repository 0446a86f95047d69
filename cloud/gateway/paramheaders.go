package gateway

// Mcp-Param-* headers (SEP-2243) of 2026-07-28 tools/call requests.
//
// The SDK's Streamable HTTP handler validates those headers against the
// x-mcp-header annotations of the called tool's input schema, looked up
// among the tools of the front server. The front forwards tools/call to the
// process without having its tools, so in Shared mode (the mode serving
// 2026-07-28 requests) the gateway lists the process's tools when it starts
// it and when it announces a change, and registers on the front those with
// x-mcp-header annotations, with a handler that is never called (the
// front's middleware forwards every tools/call). Other tools are not
// registered: the front's tool list only serves the header validation.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// maxToolPages bounds the tools/list pages read to learn header tools.
const maxToolPages = 100

// headerTools is the set of tools registered on a front for header
// validation.
type headerTools struct {
	mu    sync.Mutex
	tools map[string]string // name -> input schema JSON
}

// learnHeaderTools lists the tools of u's process and registers on the
// front those whose input schema has x-mcp-header annotations, replacing
// the previous set. Failures are logged: without the tools the headers are
// not validated, and calls still work.
func (f *frontend) learnHeaderTools(ctx context.Context, u *upstream) {
	if f.s.mode != Shared || u.init == nil || u.init.Capabilities == nil || u.init.Capabilities.Tools == nil {
		return
	}
	tools, err := listTools(ctx, u)
	if err != nil {
		f.s.g.logger.Warn("gateway: could not list the server's tools; Mcp-Param-* headers of its tools are not validated", "server", f.s.name, "error", err)
		return
	}
	want := map[string]*mcp.Tool{}
	schemas := map[string]string{}
	for _, t := range tools {
		if t == nil || t.InputSchema == nil {
			continue
		}
		data, err := json.Marshal(t.InputSchema)
		if err != nil || !strings.Contains(string(data), `"x-mcp-header"`) {
			continue
		}
		want[t.Name] = t
		schemas[t.Name] = string(data)
	}

	h := &f.headers
	h.mu.Lock()
	defer h.mu.Unlock()
	var stale []string
	for name, schema := range h.tools {
		if s, ok := schemas[name]; !ok || s != schema {
			stale = append(stale, name)
			delete(h.tools, name)
		}
	}
	if len(stale) > 0 {
		f.srv.RemoveTools(stale...)
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if _, ok := h.tools[name]; ok {
			continue
		}
		if err := addHeaderTool(f.srv, want[name]); err != nil {
			f.s.g.logger.Warn("gateway: the server's tool has invalid x-mcp-header annotations; its Mcp-Param-* headers are not validated", "server", f.s.name, "tool", name, "error", err)
			continue
		}
		if h.tools == nil {
			h.tools = map[string]string{}
		}
		h.tools[name] = schemas[name]
	}
}

// addHeaderTool registers t on srv, returning the SDK's complaint (it
// panics on an invalid tool) as an error.
func addHeaderTool(srv *mcp.Server, t *mcp.Tool) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	srv.AddTool(&mcp.Tool{Name: t.Name, InputSchema: t.InputSchema}, forwardedTool)
	return nil
}

// forwardedTool is the handler of front tools: never called, since the
// front's middleware forwards tools/call to the process.
func forwardedTool(context.Context, *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
	return nil, errors.New("gateway: tools/call was not forwarded")
}

// listTools reads every page of the process's tools/list.
func listTools(ctx context.Context, u *upstream) ([]*mcp.Tool, error) {
	var all []*mcp.Tool
	cursor := ""
	for range maxToolPages {
		params := map[string]any{}
		if cursor != "" {
			params["cursor"] = cursor
		}
		raw, err := u.call(ctx, &call{method: "tools/list"}, jsonParams(params))
		if err != nil {
			return nil, err
		}
		var page struct {
			Tools      []*mcp.Tool `json:"tools"`
			NextCursor string      `json:"nextCursor"`
		}
		if err := json.Unmarshal(raw, &page); err != nil {
			return nil, fmt.Errorf("decoding tools/list: %w", err)
		}
		all = append(all, page.Tools...)
		if page.NextCursor == "" {
			return all, nil
		}
		cursor = page.NextCursor
	}
	return nil, fmt.Errorf("tools/list has more than %d pages", maxToolPages)
}
