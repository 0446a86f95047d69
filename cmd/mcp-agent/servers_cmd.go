package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	"github.com/spf13/cobra"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/servers"
)

type serversFlags struct {
	timeout time.Duration
	verbose bool
}

func newServersCmd(g *globalFlags) *cobra.Command {
	f := &serversFlags{}
	cmd := &cobra.Command{
		Use:   "servers",
		Short: "List the app's MCP servers, their tools, and call them",
		Long: `List the MCP servers named in the configuration (mcp.servers), list a
server's tools, and call a tool. Servers are started (stdio) or connected to
(sse, streamable_http, websocket) on demand and closed when the command ends.`,
	}
	cmd.PersistentFlags().DurationVar(&f.timeout, "timeout", 60*time.Second, "give up after this long (connect + call)")
	cmd.PersistentFlags().BoolVarP(&f.verbose, "verbose", "v", false, "log server stderr and notifications to stderr")

	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List configured servers",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			s, err := loadSettings(g)
			if err != nil {
				return err
			}
			names := sortedServerNames(s)
			if g.json {
				list := make([]config.ServerSpec, 0, len(names))
				for _, n := range names {
					list = append(list, s.Redacted().MCP.Servers[n])
				}
				return writeJSON(cmd, list)
			}
			if len(names) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "no servers configured (add them under mcp.servers)")
				return nil
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "NAME\tTRANSPORT\tTARGET\tDESCRIPTION")
			for _, n := range names {
				sp := s.MCP.Servers[n]
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", n, sp.EffectiveTransport(), serverTarget(sp), sp.Description)
			}
			return tw.Flush()
		},
	})

	cmd.AddCommand(&cobra.Command{
		Use:   "tools NAME",
		Short: "List a server's tools",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return withRegistry(cmd, g, f, func(ctx context.Context, reg *servers.Registry) error {
				tools, err := reg.ListTools(ctx, args[0])
				if err != nil {
					return err
				}
				if g.json {
					return writeJSON(cmd, tools)
				}
				tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "TOOL\tDESCRIPTION")
				for _, t := range tools {
					fmt.Fprintf(tw, "%s\t%s\n", t.Name, firstLine(t.Description, 100))
				}
				return tw.Flush()
			})
		},
	})

	cmd.AddCommand(&cobra.Command{
		Use:   "call NAME TOOL [JSON_ARGS]",
		Short: "Call a server's tool and print the result (exit 1 on a tool error)",
		Long: `Call a tool of a configured server. JSON_ARGS is a JSON object of the tool's
arguments (default {}); use - to read it from standard input.

The result's text content is printed; structured content is printed as JSON;
images and other binary content are summarised. With --json the whole
CallToolResult is printed. The exit code is 1 when the tool reports an error.`,
		Example: `  mcp-agent servers call fetch fetch '{"url":"https://example.com"}'
  echo '{"path":"."}' | mcp-agent servers call filesystem list_directory -`,
		Args: cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			raw := "{}"
			if len(args) == 3 {
				raw = args[2]
			}
			if raw == "-" {
				b, err := io.ReadAll(cmd.InOrStdin())
				if err != nil {
					return fmt.Errorf("read arguments from stdin: %w", err)
				}
				raw = string(b)
			}
			toolArgs, err := parseToolArgs(raw)
			if err != nil {
				return err
			}
			return withRegistry(cmd, g, f, func(ctx context.Context, reg *servers.Registry) error {
				res, err := reg.CallTool(ctx, args[0], &mcp.CallToolParams{Name: args[1], Arguments: toolArgs})
				if err != nil {
					return err
				}
				if g.json {
					if err := writeJSON(cmd, res); err != nil {
						return err
					}
				} else {
					out := cmd.OutOrStdout()
					if res.IsError {
						out = cmd.ErrOrStderr()
					}
					printToolResult(out, res)
				}
				if res.IsError {
					return exitCodeError{code: 1, msg: fmt.Sprintf("tool %q of server %q reported an error", args[1], args[0])}
				}
				return nil
			})
		},
	})
	addCloudServerCmds(cmd, g) // start|stop|restart|delete|status act on the cloud platform
	return cmd
}

// parseToolArgs decodes a JSON object of tool arguments with a message that
// says what was wrong.
func parseToolArgs(raw string) (map[string]any, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return map[string]any{}, nil
	}
	var v any
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		var se *json.SyntaxError
		if errors.As(err, &se) {
			return nil, fmt.Errorf("tool arguments are not valid JSON: %v at offset %d of %q", se, se.Offset, raw)
		}
		return nil, fmt.Errorf("tool arguments are not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, fmt.Errorf("tool arguments must be one JSON object, found trailing data in %q", raw)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("tool arguments must be a JSON object like {\"key\": \"value\"}, got %s", jsonKind(v))
	}
	return obj, nil
}

func jsonKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	}
	return fmt.Sprintf("%T", v)
}

// withRegistry loads the settings, builds a server registry and runs fn with
// a deadline, closing every connection afterwards.
func withRegistry(cmd *cobra.Command, g *globalFlags, f *serversFlags, fn func(context.Context, *servers.Registry) error) error {
	s, err := loadSettings(g)
	if err != nil {
		return err
	}
	logger := slog.New(slog.DiscardHandler)
	if f.verbose {
		logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	reg := servers.NewRegistry(selfCommand(s.MCP.Servers), &servers.Options{
		Logger:     logger,
		ClientInfo: &mcp.Implementation{Name: "mcp-agent", Version: buildVersion().Version},
	})
	defer reg.Close()
	ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
	defer cancel()
	err = fn(ctx, reg)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%w (gave up after --timeout %s)", err, f.timeout)
	}
	return err
}

func printToolResult(w io.Writer, res *mcp.CallToolResult) {
	printed := false
	for _, c := range res.Content {
		switch c := c.(type) {
		case *mcp.TextContent:
			fmt.Fprintln(w, c.Text)
		case *mcp.ImageContent:
			fmt.Fprintf(w, "[image %s, %d bytes]\n", c.MIMEType, len(c.Data))
		case *mcp.AudioContent:
			fmt.Fprintf(w, "[audio %s, %d bytes]\n", c.MIMEType, len(c.Data))
		case *mcp.ResourceLink:
			fmt.Fprintf(w, "[resource link %s %s]\n", c.URI, c.Name)
		case *mcp.EmbeddedResource:
			if c.Resource != nil && c.Resource.Text != "" {
				fmt.Fprintf(w, "[resource %s]\n%s\n", c.Resource.URI, c.Resource.Text)
			} else if c.Resource != nil {
				fmt.Fprintf(w, "[resource %s, %s, %d bytes]\n", c.Resource.URI, c.Resource.MIMEType, len(c.Resource.Blob))
			}
		default:
			b, _ := json.Marshal(c)
			fmt.Fprintln(w, string(b))
		}
		printed = true
	}
	if !printed && res.StructuredContent != nil {
		b, err := json.MarshalIndent(res.StructuredContent, "", "  ")
		if err == nil {
			fmt.Fprintln(w, string(b))
		}
	}
}

func serverTarget(sp config.ServerSpec) string {
	if sp.EffectiveTransport() == config.TransportStdio {
		return strings.TrimSpace(sp.Command + " " + strings.Join(sp.Args, " "))
	}
	return sp.URL
}

func sortedServerNames(s *config.Settings) []string {
	names := make([]string, 0, len(s.MCP.Servers))
	for n := range s.MCP.Servers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func firstLine(s string, max int) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	}
	if len(s) > max {
		s = s[:max-1] + "…"
	}
	return s
}

// selfCommand returns specs with "command: mcp-agent" pointing at this very
// executable, so configs naming the built-in servers work from `go run` and
// from a binary that is not on PATH, and always run the same version.
func selfCommand(specs map[string]config.ServerSpec) map[string]config.ServerSpec {
	self, err := os.Executable()
	if err != nil {
		return specs
	}
	out := make(map[string]config.ServerSpec, len(specs))
	for name, sp := range specs {
		if sp.EffectiveTransport() == config.TransportStdio && sp.Command == "mcp-agent" {
			sp.Command = self
		}
		out[name] = sp
	}
	return out
}
