package appserver

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
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

// ToolAgentsList is the agents-list tool, as in the Python mcp-agent's app
// server; each agent's tools are named by AgentToolName.
const ToolAgentsList = "agents-list"

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
	Answer   string           `json:"answer" jsonschema:"the text of the final answer"`
	Messages []map[string]any `json:"messages" jsonschema:"every message of the turn, oldest first: {role, parts}"`
	// Usage is the tokens and cost of this call's model calls alone.
	Usage llm.UsageNode `json:"usage" jsonschema:"the tokens and cost of this call's model calls: {name, kind, calls, usage: {input_tokens, output_tokens, ...}, cost: {usd, unknown_models}, models, children}"`
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
		answer, _, usage, ask, err := s.runAgent(ctx, req, ag, in.Message, in.RequestParams.llm())
		if err != nil {
			return agentError(ctx, ag, err)
		}
		if ask != nil {
			return ask, nil
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: answer}}, Meta: mcp.Meta{MetaKeyUsage: usage}}, nil
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
		answer, msgs, usage, ask, err := s.runAgent(ctx, req, ag, in.Message, in.RequestParams.llm())
		if err != nil {
			return agentError(ctx, ag, err)
		}
		if ask != nil {
			return ask, nil
		}
		out := GenerateResult{Answer: answer, Messages: []map[string]any{}, Usage: usage}
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
		answer, _, usage, ask, err := s.runAgent(ctx, req, ag, in.Message, params)
		if err != nil {
			return agentError(ctx, ag, err)
		}
		if ask != nil {
			return ask, nil
		}
		var v any
		if err := json.Unmarshal([]byte(extractJSON(answer)), &v); err != nil {
			return toolError(fmt.Errorf("the agent's answer is not JSON: %w; answer: %s", err, truncate(answer, 300))), nil
		}
		if err := resolved.Validate(v); err != nil {
			return toolError(fmt.Errorf("the agent's answer does not match response_schema: %w", err)), nil
		}
		b, _ := json.Marshal(v)
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: string(b)}}, StructuredContent: json.RawMessage(b), Meta: mcp.Meta{MetaKeyUsage: usage}}, nil
	}
}

// maxHumanRounds bounds the questions one agent call may ask a 2026-07-28
// client through input requests.
const maxHumanRounds = 8

// runAgent runs one turn of ag on message, reporting the turn's progress to
// the client, and returns the answer, the turn's messages and its usage
// (recorded on a tracker of the call's own, so concurrent calls of one agent
// do not mix their counts).
//
// For a client of the 2026-07-28 protocol, which the server cannot send
// requests to while serving its call, an agent's question to a human
// abandons the turn and is returned as ask: a result carrying the question
// as an elicitation input request and, as its request state, the exchanges
// and the usage so far (signed). The client retries the call with the
// answer, and the turn runs again on the task, the question and the answer
// (as agent workflows do; see agentworkflow.go); its usage includes the
// abandoned turns'.
func (s *Server) runAgent(ctx context.Context, req *mcp.CallToolRequest, ag *agent.Agent, message string, params *llm.RequestParams) (answer string, msgs []llm.Message, usage llm.UsageNode, ask *mcp.CallToolResult, err error) {
	var exchanges []HumanExchange
	var before *llm.UsageNode
	if st := req.Params.RequestState; st != "" {
		var pending humanState
		if err := s.openState(st, &pending); err != nil || pending.Agent != ag.Name() {
			return "", nil, usage, nil, errors.New("invalid requestState: send back the one the server returned")
		}
		exchanges, before = pending.Exchanges, pending.Usage
		resp, ok := req.Params.InputResponses[pending.ID]
		if !ok {
			return "", nil, usage, s.askHuman(ag, pending), nil
		}
		er, ok := resp.(*mcp.ElicitResult)
		if !ok {
			return "", nil, usage, nil, fmt.Errorf("inputResponses[%q] is not an elicitation result", pending.ID)
		}
		exchanges = append(exchanges, HumanExchange{Question: pending.Question, Answer: elicitedAnswer(er)})
	}
	l, err := s.opts.NewLLM(ag)
	if err != nil {
		return "", nil, usage, nil, fmt.Errorf("build the LLM of agent %q: %w", ag.Name(), err)
	}
	uctx, tracker := usageScope(ctx, ag.Name())
	report := func() llm.UsageNode {
		var u llm.UsageNode
		if before != nil {
			addUsage(&u, *before)
		}
		addUsage(&u, tracker.Report(s.opts.Prices))
		return u
	}
	c := callFrom(ctx)
	if c == nil || !c.mrtr || !canElicit(c.caps) {
		answer, msgs, err := streamTurn(uctx, l, ag.Name(), conversation(message, exchanges), params)
		return answer, msgs, report(), nil, err
	}
	tctx, cancel := context.WithCancelCause(uctx)
	defer cancel(nil)
	t := &turn{cancel: cancel}
	answer, msgs, err = streamTurn(context.WithValue(tctx, turnKey{}, t), l, ag.Name(), conversation(message, exchanges), params)
	if q := t.asked(); q != "" && ctx.Err() == nil {
		if len(exchanges) >= maxHumanRounds {
			return "", nil, usage, nil, fmt.Errorf("%w (%d)", ErrTooManyQuestions, maxHumanRounds)
		}
		so := report()
		return "", nil, usage, s.askHuman(ag, humanState{Agent: ag.Name(), Exchanges: exchanges, Question: q, ID: fmt.Sprintf("human-%d", len(exchanges)+1), Usage: &so}), nil
	}
	return answer, msgs, report(), nil, err
}

// humanState is the request state of an agent call waiting for a human.
type humanState struct {
	Agent     string          `json:"agent"`
	Exchanges []HumanExchange `json:"exchanges,omitempty"`
	Question  string          `json:"question"`
	ID        string          `json:"id"`
	// Usage is that of the turns abandoned so far.
	Usage *llm.UsageNode `json:"usage,omitempty"`
}

// askHuman is the input-required result asking st.Question.
func (s *Server) askHuman(ag *agent.Agent, st humanState) *mcp.CallToolResult {
	return &mcp.CallToolResult{
		InputRequests: mcp.InputRequestMap{st.ID: &mcp.ElicitParams{Mode: "form", Message: st.Question, RequestedSchema: humanAnswerSchema}},
		RequestState:  s.sealState(st),
	}
}

// elicitedAnswer is the text an agent gets for an elicitation result.
func elicitedAnswer(er *mcp.ElicitResult) string {
	if er.Action != "accept" {
		return fmt.Sprintf("(the user did not answer: %s)", er.Action)
	}
	switch a := er.Content["answer"].(type) {
	case string:
		return a
	case nil:
		return "(the user sent no answer)"
	default:
		return fmt.Sprint(a)
	}
}

// sealState encodes v and signs it with the server's key.
func (s *Server) sealState(v any) string {
	b, _ := json.Marshal(v)
	m := hmac.New(sha256.New, s.stateKey)
	m.Write(b)
	return base64.RawURLEncoding.EncodeToString(b) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// openState checks a state's signature and decodes it into v.
func (s *Server) openState(state string, v any) error {
	payload, sig, ok := strings.Cut(state, ".")
	if !ok {
		return errors.New("malformed state")
	}
	b, err1 := base64.RawURLEncoding.DecodeString(payload)
	got, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil {
		return errors.New("malformed state")
	}
	m := hmac.New(sha256.New, s.stateKey)
	m.Write(b)
	if !hmac.Equal(got, m.Sum(nil)) {
		return errors.New("state signature mismatch")
	}
	return json.Unmarshal(b, v)
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
	reflect.TypeFor[llm.UsageNode]():      usageNodeSchema(),
	reflect.TypeFor[json.RawMessage]():    {},
	reflect.TypeFor[jsonschema.Schema]():  {Type: "object", Description: "a JSON Schema"},
	reflect.TypeFor[*jsonschema.Schema](): {Type: "object", Description: "a JSON Schema"},
}}

func emptyObject() *jsonschema.Schema {
	return &jsonschema.Schema{Type: "object", Properties: map[string]*jsonschema.Schema{}}
}
