package swarm

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

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/llm"
)

// FuncResult is what a swarm function ([Func]) returns: a value for the
// model, and optionally a handoff, context variables to set, or the end of
// the turn.
type FuncResult struct {
	// Value is the tool result the model reads. With a handoff and no
	// Value, the result is "Transferred to AGENT.".
	Value string
	// Agent, when set, hands the conversation to the swarm agent of that
	// name once the current response's tool calls have run: the next model
	// call is that agent's, with its instruction and tools.
	Agent string
	// Variables are set in the swarm's context variables (nil values
	// included).
	Variables map[string]any
	// Done ends the turn once the current response's tool calls have run:
	// Value is the answer, and no further model call is made.
	Done bool
}

// Func returns a function tool (an [agent.Tool], for agent.Config.Tools)
// whose result can hand off, set context variables or end the turn. Its
// input schema is inferred from In as with [agent.NewTool]. An error from
// fn, or a handoff to an agent the swarm does not have, is reported to the
// model as an error result, so it can correct itself. Outside a swarm
// turn, Value and Variables work but a handoff or Done is an error result.
func Func[In any](name, description string, fn func(ctx context.Context, in In) (FuncResult, error)) agent.Tool {
	var run func(ctx context.Context, in In) (*mcp.CallToolResult, error)
	if fn != nil {
		run = func(ctx context.Context, in In) (*mcp.CallToolResult, error) {
			r, err := fn(ctx, in)
			if err != nil {
				return nil, err
			}
			st := stateFrom(ctx)
			if r.Agent != "" || r.Done {
				if st == nil {
					return nil, fmt.Errorf("tool %q asked for a handoff or the end of the turn outside a swarm: run it as a swarm agent's tool", name)
				}
				if err := st.request(r); err != nil {
					return nil, err
				}
			}
			if len(r.Variables) > 0 {
				vars := VariablesFrom(ctx)
				if vars == nil {
					return nil, fmt.Errorf("tool %q set context variables outside a swarm: run it as a swarm agent's tool", name)
				}
				for k, v := range r.Variables {
					vars.Set(k, v)
				}
			}
			text := r.Value
			if text == "" && r.Agent != "" {
				text = fmt.Sprintf("Transferred to %s.", r.Agent)
			}
			return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}, nil
		}
	}
	return agent.NewTool(name, description, run)
}

// TransferTo returns a function tool named "transfer_to_" + to that hands
// the conversation to the swarm agent named to. description tells the
// model when to use it; "" means "Hand the conversation over to agent TO.".
func TransferTo(to, description string) agent.Tool {
	if description == "" {
		description = fmt.Sprintf("Hand the conversation over to agent %s.", to)
	}
	return Func(transferName(to), description, func(context.Context, struct{}) (FuncResult, error) {
		return FuncResult{Agent: to}, nil
	})
}

// Variables are a swarm's shared context variables, readable and writable
// by its functions ([VariablesFrom]) and by its Instructions. They are
// safe for concurrent use and persist across the swarm's turns.
type Variables struct {
	mu sync.Mutex
	m  map[string]any
}

func newVariables(init map[string]any) *Variables {
	return &Variables{m: maps.Clone(init)}
}

// Get returns the value of key and whether it is set.
func (v *Variables) Get(key string) (any, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	val, ok := v.m[key]
	return val, ok
}

// Set sets key to value.
func (v *Variables) Set(key string, value any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.m == nil {
		v.m = make(map[string]any)
	}
	v.m[key] = value
}

// Delete unsets key.
func (v *Variables) Delete(key string) {
	v.mu.Lock()
	defer v.mu.Unlock()
	delete(v.m, key)
}

// Snapshot returns a copy of every variable.
func (v *Variables) Snapshot() map[string]any {
	v.mu.Lock()
	defer v.mu.Unlock()
	m := maps.Clone(v.m)
	if m == nil {
		m = map[string]any{}
	}
	return m
}

func (v *Variables) reset(init map[string]any) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.m = maps.Clone(init)
}

// VariablesFrom returns the context variables of the swarm turn running
// ctx (the ctx a function tool receives), or nil outside a swarm.
func VariablesFrom(ctx context.Context) *Variables {
	if st := stateFrom(ctx); st != nil {
		return st.swarm.vars
	}
	return nil
}

// turnState is what a swarm turn shares with its functions and its
// provider through the context: the active agent and a pending handoff or
// end of turn.
type turnState struct {
	swarm *Swarm

	mu      sync.Mutex
	agent   string  // the active agent
	handoff string  // pending handoff target
	done    *string // pending answer ending the turn
}

type stateKey struct{}

func stateFrom(ctx context.Context) *turnState {
	st, _ := ctx.Value(stateKey{}).(*turnState)
	return st
}

// begin makes agent the active agent with nothing pending.
func (st *turnState) begin(agent string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.agent, st.handoff, st.done = agent, "", nil
}

func (st *turnState) pending() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.handoff != "" || st.done != nil
}

// outcome returns the pending handoff target and answer.
func (st *turnState) outcome() (handoff string, done *string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.handoff, st.done
}

// request records a function's handoff or end of turn; the error is for the
// model.
func (st *turnState) request(r FuncResult) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	switch {
	case r.Agent != "" && r.Done:
		return errors.New("a function result cannot both hand off and end the turn")
	case st.handoff != "":
		return fmt.Errorf("a handoff to %s is already pending from another call of this response; make one handoff at a time", st.handoff)
	case st.done != nil:
		return errors.New("the turn is already ending from another call of this response")
	case r.Done:
		v := r.Value
		st.done = &v
		return nil
	case r.Agent == st.agent:
		return fmt.Errorf("%s is already the active agent: answer, or hand off to another agent", r.Agent)
	}
	if _, ok := st.swarm.members[r.Agent]; !ok {
		return fmt.Errorf("no agent named %q in swarm %q; its agents are: %s", r.Agent, st.swarm.name, strings.Join(st.swarm.order, ", "))
	}
	st.handoff = r.Agent
	return nil
}

// withHandoffs adds Options.Handoffs' transfer tools to an agent.
type withHandoffs struct {
	llm.ToolSource
	targets []string
}

// transferName is the name of the tool handing off to agent to.
func transferName(to string) string { return "transfer_to_" + to }

// ListTools lists the agent's tools (except those a transfer tool hides),
// then the transfer tools.
func (w *withHandoffs) ListTools(ctx context.Context) ([]*mcp.Tool, error) {
	tools, err := w.ToolSource.ListTools(ctx)
	if err != nil {
		return nil, err
	}
	tools = slices.DeleteFunc(slices.Clone(tools), func(t *mcp.Tool) bool {
		return t != nil && slices.ContainsFunc(w.targets, func(to string) bool { return transferName(to) == t.Name })
	})
	for _, to := range w.targets {
		tools = append(tools, &mcp.Tool{
			Name:        transferName(to),
			Description: fmt.Sprintf("Hand the conversation over to agent %s.", to),
			InputSchema: map[string]any{"type": "object", "properties": map[string]any{}, "additionalProperties": false},
		})
	}
	return tools, nil
}

// CallTool hands off for a transfer tool and calls the agent otherwise.
func (w *withHandoffs) CallTool(ctx context.Context, name string, args json.RawMessage) (*mcp.CallToolResult, error) {
	for _, to := range w.targets {
		if name != transferName(to) {
			continue
		}
		st := stateFrom(ctx)
		if st == nil {
			return nil, fmt.Errorf("tool %q hands off outside a swarm turn", name)
		}
		if err := st.request(FuncResult{Agent: to}); err != nil {
			return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: err.Error()}}}, nil
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: fmt.Sprintf("Transferred to %s.", to)}}}, nil
	}
	return w.ToolSource.CallTool(ctx, name, args)
}
