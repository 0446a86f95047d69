package agent_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/agent"
	"github.com/mcp-agent-go/mcp-agent/config"
)

func mustNew(t *testing.T, cfg agent.Config, servers agent.Servers) *agent.Agent {
	t.Helper()
	a, err := agent.New(cfg, servers)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return a
}

func call(t *testing.T, a *agent.Agent, name, args string) *mcp.CallToolResult {
	t.Helper()
	res, err := a.CallTool(t.Context(), name, json.RawMessage(args))
	if err != nil {
		t.Fatalf("CallTool(%q, %s): %v", name, args, err)
	}
	return res
}

// Two servers with overlapping tool names: each is listed under its
// namespace and each call reaches its own server with its own tool name.
func TestNamespacingAndRouting(t *testing.T) {
	ss := connectT(t, map[string]*mcp.Server{
		"alpha": identityServer("alpha", nil, "echo", "add"),
		"beta":  identityServer("beta", nil, "echo", "time"),
	})
	a := mustNew(t, agent.Config{Name: "finder", Instruction: "find things", ServerNames: []string{"alpha", "beta"}}, ss)

	if a.Name() != "finder" || a.Instruction() != "find things" {
		t.Errorf("Name, Instruction = %q, %q", a.Name(), a.Instruction())
	}
	if diff := cmp.Diff([]string{"alpha", "beta"}, a.ServerNames()); diff != "" {
		t.Errorf("ServerNames (-want +got):\n%s", diff)
	}
	tools, err := a.ListTools(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	// The go-sdk server lists its tools sorted by name.
	want := []string{"alpha_add", "alpha_echo", "beta_echo", "beta_time"}
	if diff := cmp.Diff(want, toolNames(tools)); diff != "" {
		t.Errorf("ListTools names (-want +got):\n%s", diff)
	}
	if got := tools[2].Description; got != "tool echo of beta" {
		t.Errorf("beta_echo description = %q, want the server's", got)
	}
	for name, wantText := range map[string]string{
		"alpha_echo": `alpha/echo {"message":"hi"}`,
		"beta_echo":  `beta/echo {"message":"hi"}`,
		"beta_time":  `beta/time {"message":"hi"}`,
	} {
		if got := text(call(t, a, name, `{"message":"hi"}`)); got != wantText {
			t.Errorf("CallTool(%q) = %q, want %q", name, got, wantText)
		}
	}
	// No arguments: the server gets none.
	if got := text(call(t, a, "alpha_add", "")); got != "alpha/add {}" {
		t.Errorf("CallTool(alpha_add, no args) = %q", got)
	}
	// Malformed JSON is the model's mistake: an error result, not a Go error.
	res := call(t, a, "alpha_add", `{"a":`)
	if !res.IsError || !strings.Contains(text(res), `arguments for tool "alpha_add" are not valid JSON`) {
		t.Errorf("CallTool with malformed JSON = %v %q", res.IsError, text(res))
	}
	// Mutating a returned tool does not change the agent's listing.
	tools[0].Name = "changed"
	again, _ := a.ListTools(t.Context())
	if again[0].Name != "alpha_add" {
		t.Errorf("after mutating a returned tool, ListTools()[0] = %q", again[0].Name)
	}
}

// Collisions: the claim order is function tools, human input, then servers
// in ServerNames order; a later name gets the first free "_N" suffix.
func TestCollisions(t *testing.T) {
	servers := map[string]*mcp.Server{
		"a":   identityServer("a", nil, "b_c", "b_c_2"),
		"a_b": identityServer("a_b", nil, "c"),
	}
	fn := agent.NewTool("a_b_c", "a function tool", func(ctx context.Context, in struct{}) (string, error) {
		return "function a_b_c", nil
	})
	tests := []struct {
		name        string
		serverNames []string
		tools       []agent.Tool
		want        map[string]string // listed name -> text of CallTool result
		wantOrder   []string
	}{
		{
			name:        "first server keeps the name",
			serverNames: []string{"a", "a_b"},
			wantOrder:   []string{"a_b_c", "a_b_c_2", "a_b_c_3"},
			want: map[string]string{
				"a_b_c":   "a/b_c {}",
				"a_b_c_2": "a/b_c_2 {}",
				"a_b_c_3": "a_b/c {}",
			},
		},
		{
			name:        "server order decides",
			serverNames: []string{"a_b", "a"},
			wantOrder:   []string{"a_b_c", "a_b_c_2", "a_b_c_2_2"},
			want: map[string]string{
				"a_b_c":     "a_b/c {}",
				"a_b_c_2":   "a/b_c {}",
				"a_b_c_2_2": "a/b_c_2 {}",
			},
		},
		{
			name:        "function tool keeps its name",
			serverNames: []string{"a", "a_b"},
			tools:       []agent.Tool{fn},
			wantOrder:   []string{"a_b_c_2", "a_b_c_2_2", "a_b_c_3", "a_b_c"},
			want: map[string]string{
				"a_b_c":     "function a_b_c",
				"a_b_c_2":   "a/b_c {}",
				"a_b_c_2_2": "a/b_c_2 {}",
				"a_b_c_3":   "a_b/c {}",
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := connectT(t, servers)
			a := mustNew(t, agent.Config{Name: "x", ServerNames: tt.serverNames, Tools: tt.tools}, ss)
			tools, err := a.ListTools(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.wantOrder, toolNames(tools)); diff != "" {
				t.Errorf("ListTools (-want +got):\n%s", diff)
			}
			for name, want := range tt.want {
				if got := text(call(t, a, name, "")); got != want {
					t.Errorf("CallTool(%q) = %q, want %q", name, got, want)
				}
			}
		})
	}
}

func TestToolFilter(t *testing.T) {
	servers := map[string]*mcp.Server{
		"alpha": identityServer("alpha", nil, "echo", "add"),
		"beta":  identityServer("beta", nil, "echo", "time"),
	}
	f1 := agent.NewTool("f1", "", func(context.Context, struct{}) (string, error) { return "f1", nil })
	f2 := agent.NewTool("f2", "", func(context.Context, struct{}) (string, error) { return "f2", nil })
	human := func(context.Context, agent.HumanInputRequest) (string, error) { return "yes", nil }
	tests := []struct {
		name   string
		filter agent.ToolFilter
		want   []string
	}{
		{"nil keeps all", nil,
			[]string{"alpha_add", "alpha_echo", "beta_echo", "beta_time", "f1", "f2", "__human_input__"}},
		{"empty keeps all", agent.ToolFilter{},
			[]string{"alpha_add", "alpha_echo", "beta_echo", "beta_time", "f1", "f2", "__human_input__"}},
		{"server key limits that server only", agent.ToolFilter{"alpha": {"echo"}},
			[]string{"alpha_echo", "beta_echo", "beta_time", "f1", "f2", "__human_input__"}},
		{"empty list hides the server", agent.ToolFilter{"alpha": {}},
			[]string{"beta_echo", "beta_time", "f1", "f2", "__human_input__"}},
		{"star covers servers without a key and function tools", agent.ToolFilter{"*": {"echo", "f2"}, "beta": {"time"}},
			[]string{"alpha_echo", "beta_time", "f2"}},
		{"non_namespaced_tools covers function tools and human input", agent.ToolFilter{"*": {"echo"}, "non_namespaced_tools": {"f1", "__human_input__"}},
			[]string{"alpha_echo", "beta_echo", "f1", "__human_input__"}},
		{"namespaced names do not match", agent.ToolFilter{"alpha": {"alpha_echo"}, "non_namespaced_tools": {}},
			[]string{"beta_echo", "beta_time"}},
	}
	all := []string{"alpha_add", "alpha_echo", "beta_echo", "beta_time", "f1", "f2", "__human_input__"}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ss := connectT(t, servers)
			a := mustNew(t, agent.Config{Name: "x", ServerNames: []string{"alpha", "beta"},
				Tools: []agent.Tool{f1, f2}, HumanInput: human, ToolFilter: tt.filter}, ss)
			tools, err := a.ListTools(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, toolNames(tools)); diff != "" {
				t.Errorf("ListTools (-want +got):\n%s", diff)
			}
			// Hidden tools cannot be called; listed ones can.
			for _, name := range all {
				args := ""
				if name == agent.HumanInputToolName {
					args = `{"prompt":"ok?"}`
				}
				res, err := a.CallTool(t.Context(), name, json.RawMessage(args))
				listed := strings.Contains(" "+strings.Join(tt.want, " ")+" ", " "+name+" ")
				switch {
				case listed && (err != nil || res.IsError):
					t.Errorf("CallTool(%q) of a listed tool: %v %v", name, err, res)
				case !listed && !errors.Is(err, agent.ErrUnknownTool):
					t.Errorf("CallTool(%q) of a hidden tool: err = %v, want ErrUnknownTool", name, err)
				}
			}
		})
	}
}

func TestNewErrors(t *testing.T) {
	ok := agent.NewTool("ok", "", func(context.Context, struct{}) (string, error) { return "", nil })
	tests := []struct {
		name    string
		cfg     agent.Config
		servers agent.Servers
		want    string
	}{
		{"empty name", agent.Config{}, nil,
			"agent: invalid agent config: name is empty; set Config.Name"},
		{"servers nil", agent.Config{Name: "x", ServerNames: []string{"fetch"}}, nil,
			`agent "x": invalid agent config: ServerNames lists ["fetch"] but servers is nil; pass the app's server registry`},
		{"duplicate server", agent.Config{Name: "x", ServerNames: []string{"fetch", "fetch"}}, &sessionServers{}, `agent "x": invalid agent config: server "fetch" is listed twice in ServerNames`},
		{"empty server", agent.Config{Name: "x", ServerNames: []string{""}}, &sessionServers{}, `agent "x": invalid agent config: ServerNames[0] is empty`},
		{"duplicate tool", agent.Config{Name: "x", Tools: []agent.Tool{ok, ok}}, nil,
			`agent "x": invalid agent config: function tool name "ok" is used by Tools[0] and Tools[1]; tool names must be unique`},
		{"zero tool", agent.Config{Name: "x", Tools: []agent.Tool{{}}}, nil,
			`agent "x": invalid agent config: Tools[0] is a zero Tool; build tools with NewTool`},
		{"bad tool name", agent.Config{Name: "x", Tools: []agent.Tool{agent.NewTool("get weather", "", func(context.Context, struct{}) (string, error) { return "", nil })}}, nil,
			`agent "x": invalid agent config: Tools[0]: tool name "get weather" contains ' '; use only letters, digits, '_', '-' and '.'`},
		{"reserved tool name", agent.Config{Name: "x", Tools: []agent.Tool{agent.NewTool("__human_input__", "", func(context.Context, struct{}) (string, error) { return "", nil })}}, nil,
			`agent "x": invalid agent config: Tools[0]: the name "__human_input__" is reserved for the human input tool; set Config.HumanInput instead`},
		{"input not an object", agent.Config{Name: "x", Tools: []agent.Tool{agent.NewTool("n", "", func(context.Context, int) (string, error) { return "", nil })}}, nil,
			`agent "x": invalid agent config: Tools[0]: tool "n": input type int has JSON schema type "integer"; it must be a struct or a map with string keys`},
		{"nil function", agent.Config{Name: "x", Tools: []agent.Tool{agent.NewTool[struct{}, string]("n", "", nil)}}, nil,
			`agent "x": invalid agent config: Tools[0]: tool "n": function is nil`},
		{"filter names unknown server", agent.Config{Name: "x", ServerNames: []string{"fetch"}, ToolFilter: agent.ToolFilter{"fecth": {"fetch"}}}, &sessionServers{},
			`agent "x": invalid agent config: ToolFilter has key "fecth", which is not in ServerNames ["fetch"] (nor "*" or "non_namespaced_tools")`},
		{"filter names unknown function", agent.Config{Name: "x", Tools: []agent.Tool{ok}, ToolFilter: agent.ToolFilter{"non_namespaced_tools": {"ko"}}}, nil,
			`agent "x": invalid agent config: ToolFilter["non_namespaced_tools"] names "ko", which is not a function tool of this agent`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := agent.New(tt.cfg, tt.servers)
			if err == nil {
				t.Fatalf("New = %v, want error", a)
			}
			if !errors.Is(err, agent.ErrInvalidConfig) {
				t.Errorf("error %v does not wrap ErrInvalidConfig", err)
			}
			if err.Error() != tt.want {
				t.Errorf("error:\n got %s\nwant %s", err, tt.want)
			}
		})
	}
}

func TestUnknownTool(t *testing.T) {
	ss := connectT(t, map[string]*mcp.Server{
		"alpha": identityServer("alpha", nil, "echo", "add"),
		"beta":  identityServer("beta", nil, "echo", "time"),
	})
	a := mustNew(t, agent.Config{Name: "finder", ServerNames: []string{"alpha", "beta"}}, ss)
	tests := []struct{ name, want string }{
		{"alpha_ecoh", `agent "finder": unknown tool "alpha_ecoh"; did you mean "alpha_echo"?`},
		{"echo", `agent "finder": unknown tool "echo"; did you mean "alpha_echo" or "beta_echo"?`},
		{"delete_everything", `agent "finder": unknown tool "delete_everything"; the agent's tools are: alpha_add, alpha_echo, beta_echo, beta_time`},
		{"__human_input__", `agent "finder": unknown tool "__human_input__": agent has no human input handler; set Config.HumanInput`},
	}
	for _, tt := range tests {
		_, err := a.CallTool(t.Context(), tt.name, nil)
		if !errors.Is(err, agent.ErrUnknownTool) {
			t.Errorf("CallTool(%q) error %v does not wrap ErrUnknownTool", tt.name, err)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("CallTool(%q) error:\n got %s\nwant %s", tt.name, err, tt.want)
		}
	}
}

// Each server is listed once until InvalidateTools; then only that server
// is listed again, and a tool the server added in between appears.
func TestToolCacheAndInvalidation(t *testing.T) {
	alpha := identityServer("alpha", nil, "echo")
	ss := connectT(t, map[string]*mcp.Server{"alpha": alpha, "beta": identityServer("beta", nil, "echo")})
	a := mustNew(t, agent.Config{Name: "x", ServerNames: []string{"alpha", "beta"}}, ss)
	for range 3 {
		if _, err := a.ListTools(t.Context()); err != nil {
			t.Fatal(err)
		}
		call(t, a, "alpha_echo", "")
	}
	if got := [2]int{ss.listCount("alpha"), ss.listCount("beta")}; got != [2]int{1, 1} {
		t.Errorf("list calls (alpha, beta) = %v, want one each", got)
	}

	addIdentityTool(alpha, "alpha", "new", nil)
	// Not invalidated: the new tool is not known yet.
	if _, err := a.CallTool(t.Context(), "alpha_new", nil); !errors.Is(err, agent.ErrUnknownTool) {
		t.Fatalf("CallTool(alpha_new) before invalidation: %v, want ErrUnknownTool", err)
	}
	a.InvalidateTools("alpha", "not-a-server-of-this-agent")
	// CallTool relists by itself.
	if got := text(call(t, a, "alpha_new", "")); got != "alpha/new {}" {
		t.Errorf("CallTool(alpha_new) = %q", got)
	}
	tools, _ := a.ListTools(t.Context())
	if diff := cmp.Diff([]string{"alpha_echo", "alpha_new", "beta_echo"}, toolNames(tools)); diff != "" {
		t.Errorf("ListTools after invalidation (-want +got):\n%s", diff)
	}
	if got := [2]int{ss.listCount("alpha"), ss.listCount("beta")}; got != [2]int{2, 1} {
		t.Errorf("list calls (alpha, beta) = %v, want 2, 1", got)
	}
	a.InvalidateTools()
	a.ListTools(t.Context())
	if got := [2]int{ss.listCount("alpha"), ss.listCount("beta")}; got != [2]int{3, 2} {
		t.Errorf("list calls after InvalidateTools() = %v, want 3, 2", got)
	}
}

func TestServerErrors(t *testing.T) {
	ss := connectT(t, map[string]*mcp.Server{"alpha": identityServer("alpha", nil, "echo")})
	a := mustNew(t, agent.Config{Name: "x", ServerNames: []string{"alpha", "missing"}}, ss)
	_, err := a.ListTools(t.Context())
	want := `agent "x": list tools of server "missing": no server named "missing"`
	if err == nil || err.Error() != want {
		t.Errorf("ListTools error = %v, want %s", err, want)
	}
	// Function tools do not need the servers.
	a = mustNew(t, agent.Config{Name: "x", ServerNames: []string{"missing"},
		Tools: []agent.Tool{agent.NewTool("f", "", func(context.Context, struct{}) (string, error) { return "f", nil })}}, ss)
	if got := text(call(t, a, "f", "")); got != "f" {
		t.Errorf("CallTool(f) = %q", got)
	}
}

// Many goroutines list, call and invalidate at once (run with -race); every
// listing is complete and every call is routed right.
func TestConcurrentUse(t *testing.T) {
	var calls atomic.Int64
	alpha := identityServer("alpha", &calls, "echo", "add")
	ss := connectT(t, map[string]*mcp.Server{"alpha": alpha, "beta": identityServer("beta", &calls, "echo")})
	a := mustNew(t, agent.Config{Name: "x", ServerNames: []string{"alpha", "beta"},
		Tools: []agent.Tool{agent.NewTool("f", "", func(_ context.Context, in struct {
			N int `json:"n"`
		}) (int, error) {
			return in.N * 2, nil
		})}}, ss)

	const workers, iterations = 8, 25
	var wg sync.WaitGroup
	errs := make(chan error, workers*iterations*4)
	for w := range workers {
		wg.Go(func() {
			for i := range iterations {
				tools, err := a.ListTools(t.Context())
				if err != nil {
					errs <- err
					continue
				}
				if names := strings.Join(toolNames(tools), " "); !strings.HasPrefix(names, "alpha_add alpha_echo ") || !strings.Contains(names, " beta_echo f") {
					errs <- fmt.Errorf("incomplete listing: %s", names)
				}
				server := []string{"alpha", "beta"}[(w+i)%2]
				args := fmt.Sprintf(`{"w":%d,"i":%d}`, w, i)
				res, err := a.CallTool(t.Context(), server+"_echo", json.RawMessage(args))
				if err != nil {
					errs <- err
				} else if got, want := text(res), server+"/echo "+args; got != want {
					errs <- fmt.Errorf("CallTool(%s_echo) = %q, want %q", server, got, want)
				}
				res, err = a.CallTool(t.Context(), "f", json.RawMessage(fmt.Sprintf(`{"n":%d}`, i)))
				if err != nil || text(res) != fmt.Sprint(2*i) {
					errs <- fmt.Errorf("CallTool(f, %d) = %v, %v", i, res, err)
				}
				if i%5 == w%5 {
					a.InvalidateTools(server)
				}
			}
		})
	}
	// Meanwhile the server's list changes once.
	addIdentityTool(alpha, "alpha", "late", nil)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if got := calls.Load(); got != workers*iterations {
		t.Errorf("server tool calls = %d, want %d", got, workers*iterations)
	}
	a.InvalidateTools("alpha")
	tools, err := a.ListTools(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"alpha_add", "alpha_echo", "alpha_late", "beta_echo", "f"}, toolNames(tools)); diff != "" {
		t.Errorf("final ListTools (-want +got):\n%s", diff)
	}
}

func resourceServer(name string, uris ...string) *mcp.Server {
	s := identityServer(name, nil, "echo")
	for _, uri := range uris {
		s.AddResource(&mcp.Resource{URI: uri, Name: uri, MIMEType: "text/plain"},
			func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
				return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: name + " has " + req.Params.URI}}}, nil
			})
	}
	s.AddResourceTemplate(&mcp.ResourceTemplate{URITemplate: "mem://" + name + "/{key}", Name: name + "-keys"},
		func(ctx context.Context, req *mcp.ReadResourceRequest) (*mcp.ReadResourceResult, error) {
			return &mcp.ReadResourceResult{Contents: []*mcp.ResourceContents{{URI: req.Params.URI, Text: name + " template " + req.Params.URI}}}, nil
		})
	s.AddPrompt(&mcp.Prompt{Name: "greet", Arguments: []*mcp.PromptArgument{{Name: "who"}}},
		func(ctx context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
			return &mcp.GetPromptResult{Description: name + " greets " + req.Params.Arguments["who"]}, nil
		})
	return s
}

func TestResourcesAndPrompts(t *testing.T) {
	ss := connectT(t, map[string]*mcp.Server{
		"alpha": resourceServer("alpha", "file:///alpha.txt", "file:///shared.txt"),
		"beta":  resourceServer("beta", "file:///beta.txt", "file:///shared.txt"),
		// gamma has tools only: no resources or prompts capability.
		"gamma": identityServer("gamma", nil, "echo"),
	})
	a := mustNew(t, agent.Config{Name: "x", ServerNames: []string{"alpha", "beta", "gamma"}}, ss)
	ctx := t.Context()

	res, err := a.ListResources(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range res {
		got = append(got, r.Server+" "+r.Resource.URI)
	}
	want := []string{"alpha file:///alpha.txt", "alpha file:///shared.txt", "beta file:///beta.txt", "beta file:///shared.txt"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ListResources (-want +got):\n%s", diff)
	}
	templates, err := a.ListResourceTemplates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, r := range templates {
		got = append(got, r.Server+" "+r.Template.URITemplate)
	}
	if diff := cmp.Diff([]string{"alpha mem://alpha/{key}", "beta mem://beta/{key}"}, got); diff != "" {
		t.Errorf("ListResourceTemplates (-want +got):\n%s", diff)
	}

	readText := func(server, uri string) (string, error) {
		r, err := a.ReadResource(ctx, server, uri)
		if err != nil {
			return "", err
		}
		return r.Contents[0].Text, nil
	}
	for _, tt := range []struct{ server, uri, want string }{
		{"", "file:///beta.txt", "beta has file:///beta.txt"},
		{"alpha", "file:///shared.txt", "alpha has file:///shared.txt"},
		{"beta", "file:///shared.txt", "beta has file:///shared.txt"},
		{"beta", "mem://beta/k1", "beta template mem://beta/k1"},
	} {
		if got, err := readText(tt.server, tt.uri); err != nil || got != tt.want {
			t.Errorf("ReadResource(%q, %q) = %q, %v; want %q", tt.server, tt.uri, got, err, tt.want)
		}
	}
	_, err = readText("", "file:///shared.txt")
	if want := `agent "x": resource "file:///shared.txt" is listed by servers ["alpha" "beta"]; name the server to read it from`; err == nil || err.Error() != want {
		t.Errorf("ReadResource of a shared URI: %v, want %s", err, want)
	}
	_, err = readText("", "mem://beta/k1")
	if !errors.Is(err, agent.ErrResourceNotFound) {
		t.Errorf("ReadResource of an unlisted URI without server: %v, want ErrResourceNotFound", err)
	}
	_, err = readText("delta", "file:///beta.txt")
	if want := `agent "x": unknown server "delta": the agent's servers are ["alpha" "beta" "gamma"]`; !errors.Is(err, agent.ErrUnknownServer) || err.Error() != want {
		t.Errorf("ReadResource from a foreign server: %v, want %s", err, want)
	}

	prompts, err := a.ListPrompts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got = nil
	for _, p := range prompts {
		got = append(got, p.Name+" "+p.Server+" "+p.Prompt.Name)
	}
	if diff := cmp.Diff([]string{"alpha_greet alpha greet", "beta_greet beta greet"}, got); diff != "" {
		t.Errorf("ListPrompts (-want +got):\n%s", diff)
	}
	pr, err := a.GetPrompt(ctx, "beta_greet", map[string]string{"who": "you"})
	if err != nil || pr.Description != "beta greets you" {
		t.Errorf("GetPrompt(beta_greet) = %v, %v", pr, err)
	}
	_, err = a.GetPrompt(ctx, "gret", nil)
	if want := `agent "x": unknown prompt "gret"; the agent's prompts are: alpha_greet, beta_greet`; !errors.Is(err, agent.ErrUnknownPrompt) || err.Error() != want {
		t.Errorf("GetPrompt(gret) = %v, want %s", err, want)
	}
	// GetPrompt works without a prior ListPrompts.
	b := mustNew(t, agent.Config{Name: "y", ServerNames: []string{"alpha"}}, ss)
	if pr, err := b.GetPrompt(ctx, "alpha_greet", map[string]string{"who": "me"}); err != nil || pr.Description != "alpha greets me" {
		t.Errorf("GetPrompt on a fresh agent = %v, %v", pr, err)
	}
}

func TestFromSpec(t *testing.T) {
	ss := connectT(t, map[string]*mcp.Server{"alpha": identityServer("alpha", nil, "echo")})
	spec := config.AgentSpec{Name: "finder", Instruction: "find", ServerNames: []string{"alpha"}, HumanInput: true, Model: "gpt-x"}

	_, err := agent.FromSpec(spec, ss, nil)
	if want := `agent "finder": invalid agent config: human_input is true but no HumanInputFunc was given; pass FromSpecOptions.HumanInput`; err == nil || err.Error() != want {
		t.Errorf("FromSpec without handler: %v, want %s", err, want)
	}
	human := func(context.Context, agent.HumanInputRequest) (string, error) { return "ok", nil }
	f := agent.NewTool("f", "", func(context.Context, struct{}) (string, error) { return "", nil })
	a, err := agent.FromSpec(spec, ss, &agent.FromSpecOptions{HumanInput: human, Tools: []agent.Tool{f}})
	if err != nil {
		t.Fatal(err)
	}
	tools, err := a.ListTools(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"alpha_echo", "f", "__human_input__"}, toolNames(tools)); diff != "" {
		t.Errorf("ListTools (-want +got):\n%s", diff)
	}
	if a.Name() != "finder" || a.Instruction() != "find" {
		t.Errorf("Name, Instruction = %q, %q", a.Name(), a.Instruction())
	}
	// human_input: false ignores a handler.
	spec.HumanInput = false
	a, err = agent.FromSpec(spec, ss, &agent.FromSpecOptions{HumanInput: human})
	if err != nil {
		t.Fatal(err)
	}
	tools, _ = a.ListTools(t.Context())
	if diff := cmp.Diff([]string{"alpha_echo"}, toolNames(tools)); diff != "" {
		t.Errorf("ListTools without human_input (-want +got):\n%s", diff)
	}
}
