// Command cloud is an MCP client of a server deployed on the mcp-agent cloud
// platform: it connects to the server's endpoint through the gateway with the
// official go-sdk (Streamable HTTP, bearer API key), lists its tools and, with
// -tool, calls one.
//
//	mcp-agent cloud up &
//	mcp-agent deploy server files --type filesystem --allow-path ~/docs:ro
//	go run ./examples/cloud -server files -tool list_directory -args '{"path": "'$HOME/docs'"}'
//
// The platform and key come from MCP_AGENT_CLOUD_URL and MCP_AGENT_API_KEY
// (or ~/.mcp-agent-cloud/admin.key for a local platform), like the CLI.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/cloud/client"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "cloud:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("cloud", flag.ContinueOnError)
	server := fs.String("server", "files", "deployed server name (or ORG.NAME)")
	tool := fs.String("tool", "", "tool to call (default: only list the tools)")
	toolArgs := fs.String("args", "{}", "tool arguments as a JSON object")
	timeout := fs.Duration("timeout", time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	c, err := client.FromEnv()
	if err != nil {
		return err
	}
	// The server's record says where its MCP endpoint is.
	s, err := c.GetServer(ctx, *server)
	if err != nil {
		return err
	}
	mc := mcp.NewClient(&mcp.Implementation{Name: "cloud-example", Version: "1.0.0"}, nil)
	cs, err := mc.Connect(ctx, &mcp.StreamableClientTransport{
		Endpoint:   s.Endpoint,
		HTTPClient: &http.Client{Transport: bearer{c.APIKey()}},
	}, nil)
	if err != nil {
		return fmt.Errorf("connect to %s: %w", s.Endpoint, err)
	}
	defer cs.Close()

	if *tool == "" {
		for t, err := range cs.Tools(ctx, nil) {
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "%s\t%s\n", t.Name, firstLine(t.Description))
		}
		return nil
	}
	var a map[string]any
	if err := json.Unmarshal([]byte(*toolArgs), &a); err != nil {
		return fmt.Errorf("-args: %w", err)
	}
	res, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: *tool, Arguments: a})
	if err != nil {
		return err
	}
	for _, c := range res.Content {
		if t, ok := c.(*mcp.TextContent); ok {
			fmt.Fprintln(out, t.Text)
		}
	}
	if res.IsError {
		return errors.New("the tool reported an error")
	}
	return nil
}

// bearer adds the API key to every request.
type bearer struct{ key string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	if b.key != "" {
		r = r.Clone(r.Context())
		r.Header.Set("Authorization", "Bearer "+b.key)
	}
	return http.DefaultTransport.RoundTrip(r)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}
