package gateway

// Test servers. TestMain runs the test binary itself as a stdio MCP server
// when testServerEnv is set (the go-sdk's re-exec trick).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"
)

const testServerEnv = "MCP_AGENT_GATEWAY_TEST_SERVER"

func TestMain(m *testing.M) {
	if mode := os.Getenv(testServerEnv); mode != "" {
		os.Exit(runTestServer(mode))
	}
	goleak.VerifyTestMain(m)
}

// testBackend runs the test binary as the stdio test server in mode.
func testBackend(mode string) *Command {
	return &Command{
		Path: os.Args[0],
		Args: []string{"-test.run=^$"},
		Env:  append(os.Environ(), testServerEnv+"="+mode),
	}
}

func runTestServer(mode string) int {
	switch mode {
	case "test":
		if err := newTestServer().Run(context.Background(), &mcp.StdioTransport{}); err != nil {
			fmt.Fprintln(os.Stderr, "test server:", err)
			return 1
		}
		return 0
	case "noisy":
		// Writes a banner on stdout, which is wrong but common.
		fmt.Println("Server starting... listening on stdio")
		if err := newTestServer().Run(context.Background(), &mcp.StdioTransport{}); err != nil {
			return 1
		}
		return 0
	case "silent":
		io.Copy(io.Discard, os.Stdin) // never answers
		return 0
	case "exit":
		fmt.Fprintln(os.Stderr, "Error: TEST_API_KEY is not set")
		return 2
	}
	fmt.Fprintln(os.Stderr, "unknown test server mode", mode)
	return 1
}

type (
	echoIn struct {
		Message string `json:"message"`
		MS      int    `json:"ms,omitempty"`
	}
	progressIn struct {
		Steps int    `json:"steps"`
		Tag   string `json:"tag"`
	}
	sampleIn struct {
		Prompt string `json:"prompt"`
	}
	bigIn struct {
		N int `json:"n"`
	}
	noIn struct{}
)

func text(s string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: s}}}
}

// newTestServer builds the stdio test server.
func newTestServer() *mcp.Server {
	// After initialization the server asks for the client's roots, outside
	// any call; the roots tool reports the answer.
	rootsDone := make(chan string, 1)
	report := func(s string) { // first session wins (in-process servers have several)
		select {
		case rootsDone <- s:
		default:
		}
	}
	s := mcp.NewServer(&mcp.Implementation{Name: "gateway-test", Version: "v1.2.3"}, &mcp.ServerOptions{
		InitializedHandler: func(_ context.Context, req *mcp.InitializedRequest) {
			if p := req.Session.InitializeParams(); p == nil || p.Capabilities == nil || !p.Capabilities.Roots.ListChanged {
				report("no roots capability")
				return
			}
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				//lint:ignore SA1019 testing the deprecated roots feature on purpose
				res, err := req.Session.ListRoots(ctx, nil)
				if err != nil {
					report("error: " + err.Error())
					return
				}
				var uris []string
				for _, r := range res.Roots {
					uris = append(uris, r.URI)
				}
				report(strings.Join(uris, ","))
			}()
		},
		Instructions:       "test instructions",
		SubscribeHandler:   func(context.Context, *mcp.SubscribeRequest) error { return nil },
		UnsubscribeHandler: func(context.Context, *mcp.UnsubscribeRequest) error { return nil },
	})
	var counter, cancelled atomic.Int64
	mcp.AddTool(s, &mcp.Tool{Name: "echo", Description: "echoes message, after ms milliseconds"}, func(ctx context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
		if in.MS > 0 {
			t := time.NewTimer(time.Duration(in.MS) * time.Millisecond)
			defer t.Stop()
			select {
			case <-t.C:
			case <-ctx.Done():
				return nil, nil, ctx.Err()
			}
		}
		return text(in.Message), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "pid", Description: "returns the process id"}, func(context.Context, *mcp.CallToolRequest, noIn) (*mcp.CallToolResult, any, error) {
		return text(strconv.Itoa(os.Getpid())), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "counter", Description: "increments a per-process counter"}, func(context.Context, *mcp.CallToolRequest, noIn) (*mcp.CallToolResult, any, error) {
		return text(strconv.FormatInt(counter.Add(1), 10)), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "crash", Description: "exits mid-call"}, func(context.Context, *mcp.CallToolRequest, noIn) (*mcp.CallToolResult, any, error) {
		fmt.Fprintln(os.Stderr, "panic: the disk is on fire")
		os.Exit(3)
		return nil, nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "block", Description: "reports progress 'started', then blocks until cancelled"}, func(ctx context.Context, req *mcp.CallToolRequest, _ noIn) (*mcp.CallToolResult, any, error) {
		if tok := req.Params.GetProgressToken(); tok != nil {
			_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: 1, Message: "started"})
		}
		t := time.NewTimer(30 * time.Second)
		defer t.Stop()
		select {
		case <-ctx.Done():
			cancelled.Add(1)
			return nil, nil, ctx.Err()
		case <-t.C:
			return text("not cancelled"), nil, nil
		}
	})
	mcp.AddTool(s, &mcp.Tool{Name: "cancelled", Description: "how many block calls were cancelled"}, func(context.Context, *mcp.CallToolRequest, noIn) (*mcp.CallToolResult, any, error) {
		return text(strconv.FormatInt(cancelled.Load(), 10)), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "progress", Description: "sends steps progress notifications tagged tag"}, func(ctx context.Context, req *mcp.CallToolRequest, in progressIn) (*mcp.CallToolResult, any, error) {
		tok := req.Params.GetProgressToken()
		for i := 1; i <= in.Steps && tok != nil; i++ {
			if err := req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: float64(i), Total: float64(in.Steps), Message: fmt.Sprintf("%s-%d", in.Tag, i)}); err != nil {
				return nil, nil, err
			}
		}
		return text("done " + in.Tag), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "sample", Description: "asks the client's model"}, func(ctx context.Context, req *mcp.CallToolRequest, in sampleIn) (*mcp.CallToolResult, any, error) {
		//lint:ignore SA1019 testing the deprecated sampling feature on purpose
		res, err := req.Session.CreateMessage(ctx, &mcp.CreateMessageParams{
			MaxTokens: 10,
			Messages:  []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: in.Prompt}}},
		})
		if err != nil {
			return nil, nil, err
		}
		tc, _ := res.Content.(*mcp.TextContent)
		if tc == nil {
			return nil, nil, errors.New("no text in sampling result")
		}
		return text("sampled: " + tc.Text), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "log", Description: "logs message at info"}, func(ctx context.Context, req *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
		//lint:ignore SA1019 testing the deprecated logging feature on purpose
		if err := req.Session.Log(ctx, &mcp.LoggingMessageParams{Level: "info", Logger: "test", Data: in.Message}); err != nil {
			return nil, nil, err
		}
		return text("logged"), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "touch", Description: "sends resources/updated for test://r"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ noIn) (*mcp.CallToolResult, any, error) {
		if err := s.ResourceUpdated(ctx, &mcp.ResourceUpdatedNotificationParams{URI: "test://r"}); err != nil {
			return nil, nil, err
		}
		return text("touched"), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "add_tool", Description: "adds a tool (tools/list_changed)"}, func(ctx context.Context, _ *mcp.CallToolRequest, in echoIn) (*mcp.CallToolResult, any, error) {
		mcp.AddTool(s, &mcp.Tool{Name: in.Message}, func(context.Context, *mcp.CallToolRequest, noIn) (*mcp.CallToolResult, any, error) {
			return text("new"), nil, nil
		})
		return text("added"), nil, nil
	})
	var rootsOnce sync.Once
	var roots string
	mcp.AddTool(s, &mcp.Tool{Name: "roots", Description: "the client's roots, as asked after initialization"}, func(ctx context.Context, _ *mcp.CallToolRequest, _ noIn) (*mcp.CallToolResult, any, error) {
		rootsOnce.Do(func() {
			select {
			case roots = <-rootsDone:
			case <-ctx.Done():
				roots = "no answer"
			}
		})
		return text(roots), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "big", Description: "returns n bytes of text"}, func(_ context.Context, _ *mcp.CallToolRequest, in bigIn) (*mcp.CallToolResult, any, error) {
		return text(strings.Repeat("x", in.N)), nil, nil
	})
	s.AddResource(&mcp.Resource{Name: "r", URI: "test://r", MIMEType: "text/plain"}, func(context.Context, *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
		return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: "test://r", MIMEType: "text/plain", Text: "hello resource"}}}, nil
	})
	s.AddPrompt(&mcp.Prompt{Name: "greet", Arguments: []*mcp.PromptArgument{{Name: "name", Required: true}}}, func(_ context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "Hello, " + req.Params.Arguments["name"] + "!"}}}}, nil
	})
	return s
}
