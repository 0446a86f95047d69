package appserver

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// A Tool is an app tool served under its own name: a sync tool (NewTool)
// answers directly; an async tool (NewAsyncTool) starts a workflow run and
// answers with its IDs. Pass tools to New in Options.Tools.
type Tool struct {
	tool     *mcp.Tool
	handler  func(s *Server) mcp.ToolHandler
	workflow string // for async tools
}

// Name returns the tool's name.
func (t *Tool) Name() string { return t.tool.Name }

// NewTool returns a sync app tool: fn answers each call. The input schema
// is inferred from In (a struct; `jsonschema:"..."` tags describe fields)
// and arguments are validated against it; when Out is not a string its
// schema becomes the tool's output schema and the result is sent as
// structured content (and as JSON text). An error from fn is an IsError
// result with its message.
//
// fn may report progress and logs to the calling client with Progress and
// Log. NewTool panics if a schema cannot be inferred.
func NewTool[In, Out any](name, description string, fn func(ctx context.Context, in In) (Out, error)) *Tool {
	t := &mcp.Tool{Name: name, Description: description}
	in, err := jsonschema.For[In](nil)
	if err != nil {
		panic(fmt.Sprintf("appserver.NewTool %q: input schema: %v", name, err))
	}
	if in.Type != "object" {
		panic(fmt.Sprintf("appserver.NewTool %q: the input type must be a struct or map (its schema has type %q)", name, in.Type))
	}
	t.InputSchema = in
	resolvedIn, err := in.Resolve(&jsonschema.ResolveOptions{ValidateDefaults: true})
	if err != nil {
		panic(fmt.Sprintf("appserver.NewTool %q: input schema: %v", name, err))
	}
	text := reflect.TypeFor[Out]().Kind() == reflect.String
	if !text {
		out, err := jsonschema.For[Out](nil)
		if err != nil {
			panic(fmt.Sprintf("appserver.NewTool %q: output schema: %v", name, err))
		}
		t.OutputSchema = out
	}
	return &Tool{tool: t, handler: func(*Server) mcp.ToolHandler {
		return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
			raw := req.Params.Arguments
			if len(raw) == 0 || string(raw) == "null" {
				raw = json.RawMessage("{}")
			}
			var m map[string]any
			if err := json.Unmarshal(raw, &m); err != nil {
				return toolError(fmt.Errorf("arguments must be a JSON object: %w", err)), nil
			}
			if err := resolvedIn.ApplyDefaults(&m); err != nil {
				return toolError(fmt.Errorf("arguments: %w", err)), nil
			}
			if err := resolvedIn.Validate(m); err != nil {
				return toolError(fmt.Errorf("invalid arguments: %w", err)), nil
			}
			b, _ := json.Marshal(m)
			var args In
			if err := json.Unmarshal(b, &args); err != nil {
				return toolError(fmt.Errorf("invalid arguments: %w", err)), nil
			}
			out, err := fn(ctx, args)
			if err != nil {
				if ctx.Err() != nil {
					return nil, context.Cause(ctx)
				}
				return toolError(err), nil
			}
			if text {
				return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: reflect.ValueOf(out).String()}}}, nil
			}
			return structured(out)
		}
	}}
}

// NewAsyncTool returns an async app tool: each call starts a run of the
// workflow w with the call's arguments as its input, and answers at once
// with {workflow_id, run_id}; the client follows the run with
// workflows-get_status. The input schema is the workflow's. w must be
// registered with the Options.Executor of the Server.
func NewAsyncTool(name, description string, w workflow.Workflow) *Tool {
	in := w.InputSchema()
	if in == nil || in.Type != "object" {
		panic(fmt.Sprintf("appserver.NewAsyncTool %q: workflow %q must take a struct or map input", name, w.Name()))
	}
	desc := description
	if desc == "" {
		desc = w.Description()
	}
	desc += fmt.Sprintf("\n\nThis tool starts the %q workflow and returns its workflow_id and run_id at once; use workflows-get_status with the run_id for its status and result.", w.Name())
	wname := w.Name()
	return &Tool{
		tool:     &mcp.Tool{Name: name, Description: desc, InputSchema: in, OutputSchema: schemaFor[RunStarted]()},
		workflow: wname,
		handler: func(s *Server) mcp.ToolHandler {
			return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
				return s.startRun(ctx, wname, req.Params.Arguments)
			}
		},
	}
}
