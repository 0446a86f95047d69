package servers

// Test servers. TestMain runs the test binary itself as one of these stdio
// MCP servers when testServerEnv is set (the go-sdk's re-exec trick), so
// fault tests need no external tools.

import (
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"

	"github.com/mcp-agent-go/mcp-agent/config"
)

const testServerEnv = "MCP_AGENT_SERVERS_TEST_SERVER"

// refuseSubscribeEnv names a file; while it exists, the basic server
// refuses subscriptions.
const refuseSubscribeEnv = "MCP_AGENT_SERVERS_TEST_REFUSE_SUBSCRIBE"

func TestMain(m *testing.M) {
	if mode := os.Getenv(testServerEnv); mode != "" {
		os.Exit(runTestServer(mode))
	}
	goleak.VerifyTestMain(m)
}

// testServerSpec is the spec of a re-exec test server running mode.
func testServerSpec(name, mode string) config.ServerSpec {
	return config.ServerSpec{
		Name:    name,
		Command: os.Args[0],
		Args:    []string{"-test.run=^$"},
		Env:     map[string]string{testServerEnv: mode},
	}
}

// testPageSize is the page size of the "basic" server, small so that
// every list is paginated.
const testPageSize = 4

// numberedTools is how many filler tools ("tool00"...) the basic server has.
const numberedTools = 25

func runTestServer(mode string) int {
	ctx := context.Background()
	switch mode {
	case "basic":
		s := newBasicServer()
		if err := s.Run(ctx, &mcp.StdioTransport{}); err != nil {
			fmt.Fprintln(os.Stderr, "test server:", err)
			return 1
		}
		return 0
	case "fail-start":
		fmt.Fprintln(os.Stderr, "starting up")
		fmt.Fprintln(os.Stderr, "Error: FOO_API_KEY is not set")
		return 2
	case "silent":
		fmt.Fprintln(os.Stderr, "listening, but not answering")
		io.Copy(io.Discard, os.Stdin)
		return 0
	case "garbage":
		fmt.Println("Hello! Server starting on stdout, which is wrong.")
		io.Copy(io.Discard, os.Stdin) // exit when the client closes stdin
		return 0
	default:
		fmt.Fprintln(os.Stderr, "unknown test server mode", mode)
		return 1
	}
}

// hangStarted receives when the hang tool starts (in-process servers).
var hangStarted = make(chan struct{}, 1)

type echoIn struct {
	Message string `json:"message"`
}

type noIn struct{}

type touchIn struct {
	URI string `json:"uri,omitempty"`
}

type crashIn struct {
	AfterHangs int `json:"after_hangs,omitempty"`
}

// newBasicServer builds the test server: echo, pid, crash, hang, roots,
// work (log, progress, sampling, elicitation), touch (resource updated),
// addtool (tools list changed), numbered filler tools, a subscribable
// resource, a template and a prompt.
func newBasicServer() *mcp.Server {
	var (
		subsMu sync.Mutex
		subs   = map[string]bool{} // what the subscriptions tool reports
	)
	s := mcp.NewServer(&mcp.Implementation{Name: "basic", Version: "v1"}, &mcp.ServerOptions{
		PageSize: testPageSize,
		SubscribeHandler: func(_ context.Context, req *mcp.SubscribeRequest) error {
			if f := os.Getenv(refuseSubscribeEnv); f != "" {
				if _, err := os.Stat(f); err == nil {
					return fmt.Errorf("subscriptions are refused for now")
				}
			}
			if strings.Contains(req.Params.URI, "slow") {
				// A server slow to register the subscription: without
				// waiting for it, a client's first update would be lost.
				time.Sleep(200 * time.Millisecond)
			}
			subsMu.Lock()
			subs[req.Params.URI] = true
			subsMu.Unlock()
			return nil
		},
		UnsubscribeHandler: func(_ context.Context, req *mcp.UnsubscribeRequest) error {
			subsMu.Lock()
			delete(subs, req.Params.URI)
			subsMu.Unlock()
			return nil
		},
	})
	text := func(s string) *mcp.CallToolResult {
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
	}
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "echoes message"}, func(_ context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
		return text(in.Message), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "pid", Description: "returns the process id"}, func(context.Context, *mcp.CallToolRequest, noIn) (*mcp.CallToolResult, any, error) {
		return text(strconv.Itoa(os.Getpid())), nil, nil
	})
	hangs := make(chan struct{}, 1000) // receives when a hang call starts
	mcp.AddTool(s, &mcp.Tool{Name: "crash", Description: "exits with status 3 mid-call, once after_hangs hang calls are in flight"}, func(_ context.Context, _ *mcp.CallToolRequest, in crashIn) (*mcp.CallToolResult, any, error) {
		deadline := time.After(10 * time.Second)
		for range in.AfterHangs {
			select {
			case <-hangs:
			case <-deadline:
			}
		}
		for i := range 30 {
			fmt.Fprintf(os.Stderr, "working %d\n", i)
		}
		fmt.Fprintln(os.Stderr, "panic: the disk is on fire")
		os.Exit(3)
		return nil, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "hang", Description: "never answers"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ noIn) (*mcp.CallToolResult, any, error) {
		select {
		case hangs <- struct{}{}:
		default:
		}
		select {
		case hangStarted <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return nil, nil, ctx.Err()
	})
	// roots and work ask the client for input the 2026-07-28 way (multi
	// round-trip requests: return InputRequests, get called again with
	// InputResponses); for older clients the SDK turns them into
	// server-to-client requests.
	mcp.AddTool(s, &mcp.Tool{Name: "roots", Description: "lists the client's roots"}, func(ctx context.Context, req *mcp.CallToolRequest, _ noIn) (*mcp.CallToolResult, any, error) {
		resp, ok := req.Params.InputResponses["roots"].(*mcp.ListRootsResult)
		if !ok {
			return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{"roots": &mcp.ListRootsParams{}}}, nil, nil
		}
		out := ""
		for _, r := range resp.Roots {
			out += r.URI + " " + r.Name + "\n"
		}
		return text(out), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "work", Description: "logs, reports progress, samples and elicits"}, func(ctx context.Context, req *mcp.CallToolRequest, _ noIn) (*mcp.CallToolResult, any, error) {
		if len(req.Params.InputResponses) == 0 {
			return &mcp.CallToolResult{InputRequests: mcp.InputRequestMap{
				"msg": &mcp.CreateMessageParams{
					MaxTokens: 10,
					Messages:  []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: "say hi"}}},
				},
				"name": &mcp.ElicitParams{
					Message: "your name?",
					RequestedSchema: map[string]any{
						"type":       "object",
						"properties": map[string]any{"name": map[string]any{"type": "string"}},
					},
				},
			}}, nil, nil
		}
		ss := req.Session
		//lint:ignore SA1019 testing the deprecated logging feature on purpose
		if err := ss.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Logger: "worker", Data: "starting work"}); err != nil {
			return nil, nil, err
		}
		if tok := req.Params.GetProgressToken(); tok != nil {
			for i := 1; i <= 2; i++ {
				if err := ss.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: float64(i), Total: 2, Message: "step " + strconv.Itoa(i)}); err != nil {
					return nil, nil, err
				}
			}
		}
		sampled := ""
		switch m := req.Params.InputResponses["msg"].(type) {
		case *mcp.CreateMessageWithToolsResult:
			for _, c := range m.Content {
				if tc, ok := c.(*mcp.TextContent); ok {
					sampled += tc.Text
				}
			}
		case *mcp.CreateMessageResult:
			if tc, ok := m.Content.(*mcp.TextContent); ok {
				sampled = tc.Text
			}
		default:
			return nil, nil, fmt.Errorf("sampling response is %T", m)
		}
		el, ok := req.Params.InputResponses["name"].(*mcp.ElicitResult)
		if !ok {
			return nil, nil, fmt.Errorf("elicitation response is %T", req.Params.InputResponses["name"])
		}
		return text(fmt.Sprintf("sampled=%s elicited=%s/%v", sampled, el.Action, el.Content["name"])), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "touch", Description: "sends resources/updated for uri (default test://hello)"}, func(ctx context.Context, _ *mcp.CallToolRequest, in touchIn) (*mcp.CallToolResult, any, error) {
		if in.URI == "" {
			in.URI = "test://hello"
		}
		return text("ok"), nil, s.ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: in.URI})
	})
	mcp.AddTool(s, &mcp.Tool{Name: "subscriptions", Description: "lists the subscribed resources, sorted, one a line"}, func(context.Context, *mcp.CallToolRequest, noIn) (*mcp.CallToolResult, any, error) {
		subsMu.Lock()
		uris := slices.Sorted(maps.Keys(subs))
		subsMu.Unlock()
		return text(strings.Join(uris, "\n")), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "addtool", Description: "adds a tool (tools/list_changed)"}, func(context.Context, *mcp.CallToolRequest, noIn) (*mcp.CallToolResult, any, error) {
		mcp.AddTool(s, &mcp.Tool{Name: "added"}, func(context.Context, *mcp.CallToolRequest, noIn) (*mcp.CallToolResult, any, error) {
			return text("added"), nil, nil
		})
		return text("ok"), nil, nil
	})
	for i := range numberedTools {
		mcp.AddTool(s, &mcp.Tool{Name: fmt.Sprintf("tool%02d", i)}, func(context.Context, *mcp.CallToolRequest, noIn) (*mcp.CallToolResult, any, error) {
			return text(strconv.Itoa(i)), nil, nil
		})
	}
	for i := range 6 {
		uri := fmt.Sprintf("test://r%d", i)
		s.AddResource(&mcp.Resource{URI: uri, Name: fmt.Sprintf("r%d", i), MIMEType: "text/plain"}, func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: uri, MIMEType: "text/plain", Text: "content of " + uri}}}, nil
		})
	}
	s.AddResource(&mcp.Resource{URI: "test://hello", Name: "hello", MIMEType: "text/plain"}, func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: "test://hello", MIMEType: "text/plain", Text: "hello"}}}, nil
	})
	s.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: "test://items/{id}", Name: "item"}, func(_ context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: "item"}}}, nil
	})
	s.AddPrompt(&mcp.Prompt{Name: "greet", Arguments: []*mcp.PromptArgument{{Name: "who", Required: true}}}, func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "Hello, " + req.Params.Arguments["who"] + "!"}}}}, nil
	})
	return s
}
