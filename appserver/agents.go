package appserver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/llm"
)

// Agent tool names, as in the Python mcp-agent's app server.
const (
	ToolAgentsList = "agents-list"
	// Per agent: "agents-<name>" + one of these suffixes.
	suffixGenerate           = "-generate"
	suffixGenerateStr        = "-generate_str"
	suffixGenerateStructured = "-generate_structured"
)

// AgentToolName returns the name of an agent's tool: kind is "generate",
// "generate_str" or "generate_structured" ("agents-finder-generate_str").
func AgentToolName(agentName, kind string) string { return "agents-" + agentName + "-" + kind }

// RequestParams are the LLM parameters a client may set on an agent call
// (a subset of llm.RequestParams, with the Python project's names).
type RequestParams struct {
	Model         string   `json:"model,omitempty" jsonschema:"the model to use; empty means the agent's model"`
	MaxTokens     int      `json:"maxTokens,omitempty" jsonschema:"the most output tokens per model call"`
	Temperature   *float64 `json:"temperature,omitempty" jsonschema:"the sampling temperature"`
	MaxIterations int      `json:"max_iterations,omitempty" jsonschema:"the most model calls of the turn (tool calls happen between them)"`
	SystemPrompt  string   `json:"systemPrompt,omitempty" jsonschema:"replaces the agent's instruction as the system prompt"`
	StopSequences []string `json:"stopSequences,omitempty" jsonschema:"sequences that end generation"`
}

func (p *RequestParams) llm() *llm.RequestParams {
	out := &llm.RequestParams{UseHistory: llm.Bool(false)}
	if p == nil {
		return out
	}
	out.Model = p.Model
	out.MaxTokens = p.MaxTokens
	out.Temperature = p.Temperature
	out.MaxIterations = p.MaxIterations
	out.SystemPrompt = p.SystemPrompt
	out.StopSequences = p.StopSequences
	return out
}

// GenerateArgs are the arguments of agents-<name>-generate and
// agents-<name>-generate_str.
type GenerateArgs struct {
	Message       string         `json:"message" jsonschema:"the prompt to send to the agent"`
	RequestParams *RequestParams `json:"request_params,omitempty" jsonschema:"optional LLM parameters"`
}

// GenerateStructuredArgs are the arguments of
// agents-<name>-generate_structured.
type GenerateStructuredArgs struct {
	Message        string          `json:"message" jsonschema:"the prompt to send to the agent"`
	ResponseSchema json.RawMessage `json:"response_schema" jsonschema:"the JSON Schema the answer must match"`
	RequestParams  *RequestParams  `json:"request_params,omitempty" jsonschema:"optional LLM parameters"`
}

// GenerateResult is the structured result of agents-<name>-generate: the
// messages of the turn (assistant messages with their tool calls, and the
// tool results), the last one being the answer.
type GenerateResult struct {
	Answer   string            `json:"answer" jsonschema:"the text of the final answer"`
	Messages []map[string]any `json:"messages" jsonschema:"every message of the turn, oldest first: {role, parts}"`
}

// AgentInfo describes a served agent in agents-list.
type AgentInfo struct {
	Name          string       `json:"name"`
	Description   string       `json:"description,omitempty"`
	Instruction   string       `json:"instruction,omitempty"`
	Servers       []ServerInfo `json:"servers"`
	Capabilities  []string     `json:"capabilities"`
	ToolEndpoints []string     `json:"tool_endpoints"`
}

// ServerInfo names one of an agent's MCP servers.
type ServerInfo struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
}

// AgentsList is the result of agents-list: the served agents by name.
type AgentsList struct {
	Agents map[string]AgentInfo `json:"agents"`
}

// servedAgents resolves Options.Agents (nil: every declared agent).
func (s *Server) servedAgents() ([]*agent.Agent, error) {
	if s.opts.Agents != nil {
		return s.opts.Agents, nil
	}
	settings := s.app.Settings()
	if settings.Agents == nil {
		return nil, nil
	}
	var out []*agent.Agent
	for _, spec := range settings.Agents.Definitions {
		ag, err := s.app.Agent(spec.Name)
		if err != nil {
			return nil, fmt.Errorf("serve agent %q: %w", spec.Name, err)
		}
		out = append(out, ag)
	}
	return out, nil
}

func (s *Server) agentDescription(name string) string {
	if st := s.app.Settings(); st.Agents != nil {
		for _, spec := range st.Agents.Definitions {
			if spec.Name == name {
				return spec.Description
			}
		}
	}
	return ""
}

func (s *Server) agentInfo(ag *agent.Agent) AgentInfo {
	info := AgentInfo{
		Name:         ag.Name(),
		Description:  s.agentDescription(ag.Name()),
		Instruction:  ag.Instruction(),
		Servers:      []ServerInfo{},
		Capabilities: []string{"generate", "generate_str", "generate_structured"},
	}
	for _, kind := range info.Capabilities {
		info.ToolEndpoints = append(info.ToolEndpoints, AgentToolName(ag.Name(), kind))
	}
	for _, n := range ag.ServerNames() {
		si := ServerInfo{Name: n}
		if spec, ok := s.app.Servers().Spec(n); ok {
			si.Description = spec.Description
		}
		info.Servers = append(info.Servers, si)
	}
	return info
}

func (s *Server) addAgentTools(add func(*mcp.Tool, mcp.ToolHandler, string) error) error {
	agents, err := s.servedAgents()
	if err != nil {
		return err
	}
	if len(agents) > 0 && s.opts.NewLLM == nil {
		return fmt.Errorf("%w: %d agent(s) are served but Options.NewLLM is nil: give it a function that builds each agent's LLM, or serve no agents (Agents: []*agent.Agent{})", ErrInvalidOptions, len(agents))
	}
	s.agents = agents
	if len(agents) == 0 {
		return nil
	}
	listSchema := schemaFor[AgentsList]()
	if err := add(&mcp.Tool{
		Name:         ToolAgentsList,
		Description:  "List the agents this app serves: name, instruction, the MCP servers each can use, and the tools that run it.",
		InputSchema:  emptyObject(),
		OutputSchema: listSchema,
		Annotations:  &mcp.ToolAnnotations{ReadOnlyHint: true},
	}, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		out := AgentsList{Agents: map[string]AgentInfo{}}
		for _, ag := range s.agents {
			out.Agents[ag.Name()] = s.agentInfo(ag)
		}
		return structured(out)
	}, "agents-list"); err != nil {
		return err
	}
	genSchema := schemaFor[GenerateArgs]()
	structSchema := schemaFor[GenerateStructuredArgs]()
	structSchema.Properties["response_schema"].Type = "object"
	resultSchema := schemaFor[GenerateResult]()
	for _, ag := range agents {
		desc := s.agentToolDescription(ag)
		what := fmt.Sprintf("agent %q", ag.Name())
		if err := add(&mcp.Tool{
			Name:        AgentToolName(ag.Name(), "generate_str"),
			Description: fmt.Sprintf("Run the %q agent on a message and return its answer as text.\n\n%s", ag.Name(), desc),
			InputSchema: genSchema,
		}, s.generateStr(ag), what); err != nil {
			return err
		}
		if err := add(&mcp.Tool{
			Name:         AgentToolName(ag.Name(), "generate"),
			Description:  fmt.Sprintf("Run the %q agent on a message and return every message of its turn (tool calls and results included) and the answer.\n\n%s", ag.Name(), desc),
			InputSchema:  genSchema,
			OutputSchema: resultSchema,
		}, s.generate(ag), what); err != nil {
			return err
		}
		if err := add(&mcp.Tool{
			Name:        AgentToolName(ag.Name(), "generate_structured"),
			Description: fmt.Sprintf("Run the %q agent on a message and return an answer matching response_schema, as structured content.\n\n%s", ag.Name(), desc),
			InputSchema: structSchema,
		}, s.generateStructured(ag), what); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) agentToolDescription(ag *agent.Agent) string {
	var b strings.Builder
	if d := s.agentDescription(ag.Name()); d != "" {
		fmt.Fprintf(&b, "Agent description: %s\n", d)
	} else if ins := ag.Instruction(); ins != "" {
		fmt.Fprintf(&b, "Agent instruction: %s\n", ins)
	}
	if names := ag.ServerNames(); len(names) > 0 {
		fmt.Fprintf(&b, "Connected servers: %s\n", strings.Join(names, ", "))
	}
	return strings.TrimSpace(b.String())
}

func decodeArgs(req *mcp.CallToolRequest, v any) error {
	raw := req.Params.Arguments
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage("{}")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return fmt.Errorf("invalid arguments: %w", err)
	}
	return nil
}

func (s *Server) generateStr(ag *agent.Agent) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var in GenerateArgs
		if err := decodeArgs(req, &in); err != nil {
			return toolError(err), nil
		}
		if strings.TrimSpace(in.Message) == "" {
			return toolError(errors.New(`"message" is empty: give the agent something to do`)), nil
		}
		answer, _, err := s.runAgent(ctx, ag, in.Message, in.RequestParams.llm())
		if err != nil {
			return agentError(ctx, ag, err)
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: answer}}}, nil
	}
}

func (s *Server) generate(ag *agent.Agent) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var in GenerateArgs
		if err := decodeArgs(req, &in); err != nil {
			return toolError(err), nil
		}
		if strings.TrimSpace(in.Message) == "" {
			return toolError(errors.New(`"message" is empty: give the agent something to do`)), nil
		}
		answer, msgs, err := s.runAgent(ctx, ag, in.Message, in.RequestParams.llm())
		if err != nil {
			return agentError(ctx, ag, err)
		}
		out := GenerateResult{Answer: answer, Messages: []map[string]any{}}
		for _, m := range msgs {
			b, err := json.Marshal(m)
			if err != nil {
				return nil, fmt.Errorf("encode message: %w", err)
			}
			var obj map[string]any
			if err := json.Unmarshal(b, &obj); err != nil {
				return nil, fmt.Errorf("encode message: %w", err)
			}
			out.Messages = append(out.Messages, obj)
		}
		return structured(out)
	}
}

func (s *Server) generateStructured(ag *agent.Agent) mcp.ToolHandler {
	return func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		var in GenerateStructuredArgs
		if err := decodeArgs(req, &in); err != nil {
			return toolError(err), nil
		}
		if strings.TrimSpace(in.Message) == "" {
			return toolError(errors.New(`"message" is empty: give the agent something to do`)), nil
		}
		var sch jsonschema.Schema
		if len(in.ResponseSchema) == 0 || json.Unmarshal(in.ResponseSchema, &sch) != nil {
			return toolError(errors.New(`"response_schema" must be a JSON Schema object`)), nil
		}
		resolved, err := sch.Resolve(nil)
		if err != nil {
			return toolError(fmt.Errorf(`"response_schema" is not a usable JSON Schema: %w`, err)), nil
		}
		params := in.RequestParams.llm()
		params.ResponseSchema = &llm.ResponseSchema{Name: "response", Schema: in.ResponseSchema}
		answer, _, err := s.runAgent(ctx, ag, in.Message, params)
		if err != nil {
			return agentError(ctx, ag, err)
		}
		var v any
		if err := json.Unmarshal([]byte(extractJSON(answer)), &v); err != nil {
			return toolError(fmt.Errorf("the agent's answer is not JSON: %w; answer: %s", err, truncate(answer, 300))), nil
		}
		if err := resolved.Validate(v); err != nil {
			return toolError(fmt.Errorf("the agent's answer does not match response_schema: %w", err)), nil
		}
		b, _ := json.Marshal(v)
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(b)}}, StructuredContent: json.RawMessage(b)}, nil
	}
}

// runAgent runs one turn of ag on message, reporting the turn's progress to
// the client, and returns the answer and the turn's messages.
func (s *Server) runAgent(ctx context.Context, ag *agent.Agent, message string, params *llm.RequestParams) (string, []llm.Message, error) {
	l, err := s.opts.NewLLM(ag)
	if err != nil {
		return "", nil, fmt.Errorf("build the LLM of agent %q: %w", ag.Name(), err)
	}
	return streamTurn(ctx, l, ag.Name(), llm.Prompt(message), params)
}

// streamTurn runs one turn with l, turning its events into progress
// notifications and log messages for the call in ctx.
func streamTurn(ctx context.Context, l llm.AugmentedLLM, logger string, msgs []llm.Message, params *llm.RequestParams) (string, []llm.Message, error) {
	var out []llm.Message
	var answer string
	for ev, err := range l.Stream(ctx, msgs, params) {
		if err != nil {
			return "", out, err
		}
		switch ev.Kind {
		case llm.EventIterationStarted:
			notify(ctx, mcp.LoggingLevel("debug"), logger, fmt.Sprintf("%s: model call %d", sourceOf(ev, logger), ev.Iteration))
		case llm.EventToolCallStarted:
			notify(ctx, mcp.LoggingLevel("info"), logger, fmt.Sprintf("%s: calling tool %s", sourceOf(ev, logger), ev.ToolCall.Name))
		case llm.EventToolCallFinished:
			level, state := mcp.LoggingLevel("info"), "finished"
			if ev.ToolResult != nil && ev.ToolResult.IsError {
				level, state = "warning", "failed"
			}
			notify(ctx, level, logger, fmt.Sprintf("%s: tool %s %s in %s", sourceOf(ev, logger), ev.ToolCall.Name, state, ev.Duration.Round(time.Millisecond)))
		case llm.EventMessage:
			if ev.Message != nil {
				out = append(out, *ev.Message)
			}
		case llm.EventFinal:
			if ev.Message != nil {
				answer = ev.Message.Text()
			}
		}
	}
	return answer, out, nil
}

func sourceOf(ev *llm.Event, def string) string {
	if ev.Source != "" {
		return ev.Source
	}
	return def
}

// agentError turns a failed turn into the tool's answer: the client's own
// cancellation stays an error; anything else is an IsError result naming
// the agent.
func agentError(ctx context.Context, ag *agent.Agent, err error) (*mcp.CallToolResult, error) {
	if ctx.Err() != nil {
		return nil, context.Cause(ctx)
	}
	return toolError(fmt.Errorf("agent %q: %w", ag.Name(), err)), nil
}

// extractJSON strips a Markdown code fence around a JSON answer.
func extractJSON(s string) string {
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "```") {
		t = strings.TrimPrefix(t, "```json")
		t = strings.TrimPrefix(t, "```")
		t = strings.TrimSuffix(strings.TrimSpace(t), "```")
	}
	return strings.TrimSpace(t)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// toolError is an IsError tool result carrying err's message.
func toolError(err error) *mcp.CallToolResult {
	r := &mcp.CallToolResult{}
	r.SetError(err)
	return r
}

// structured is a tool result with v as structured content and its JSON as
// the text content.
func structured(v any) (*mcp.CallToolResult, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode result: %w", err)
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(b)}}, StructuredContent: json.RawMessage(b)}, nil
}

// schemaFor infers the JSON schema of T; T is one of this package's types,
// so a failure is a bug.
func schemaFor[T any]() *jsonschema.Schema {
	s, err := jsonschema.For[T](forOptions)
	if err != nil {
		panic(fmt.Sprintf("appserver: schema of %T: %v", *new(T), err))
	}
	portable(s)
	return s
}

// portable rewrites an inferred schema into the forms every client maps:
// ["null", T] types (Go's nil slices and pointers; this package never sends
// null) become T, and an empty schema (which encodes as a bare true)
// becomes one that says it accepts any JSON value.
func portable(s *jsonschema.Schema) {
	if s == nil {
		return
	}
	if len(s.Types) == 2 && slices.Contains(s.Types, "null") {
		for _, t := range s.Types {
			if t != "null" {
				s.Type, s.Types = t, nil
			}
		}
	}
	for _, p := range s.Properties {
		describeAny(p)
		portable(p)
	}
	if s.Items != nil {
		describeAny(s.Items)
		portable(s.Items)
	}
	if ap := s.AdditionalProperties; ap != nil && ap.Not == nil {
		portable(ap)
	}
}

// describeAny gives an empty schema a description, so that it encodes as
// an object rather than a bare true.
func describeAny(s *jsonschema.Schema) {
	if s.Type == "" && len(s.Types) == 0 && s.Ref == "" && s.Not == nil && len(s.AnyOf) == 0 && len(s.OneOf) == 0 &&
		len(s.AllOf) == 0 && len(s.Properties) == 0 && s.Items == nil && s.Description == "" {
		s.Description = "any JSON value"
	}
}

// forOptions infers schemas with json.RawMessage fields accepting any JSON
// and JSON Schema fields accepting a schema object.
var forOptions = &jsonschema.ForOptions{TypeSchemas: map[reflect.Type]*jsonschema.Schema{
	reflect.TypeFor[json.RawMessage]():    {},
	reflect.TypeFor[jsonschema.Schema]():  {Type: "object", Description: "a JSON Schema"},
	reflect.TypeFor[*jsonschema.Schema](): {Type: "object", Description: "a JSON Schema"},
}}

func emptyObject() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "object", Properties: map[string]*jsonschema.Schema{}}
}
