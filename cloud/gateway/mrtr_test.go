package gateway

// Tests of the multi-round-trip translation (mrtr.go): a 2025-11-25 server
// that asks for input with server->client requests, called by stateless
// 2026-07-28 clients through a shared gateway.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// askServer has tools that ask their caller for input in the middle of the
// call, the 2025-11-25 way. cancelled receives the name of every tool
// call whose elicitation failed, once the call is cancelled (or with " (not
// cancelled)" if that does not come).
func askServer(cancelled chan<- string) *mcp.Server {
	s := mcp.NewServer(&mcp.Implementation{Name: "ask-server", Version: "v1"}, nil)
	nameSchema := &jsonschema.Schema{Type: "object", Properties: map[string]*jsonschema.Schema{"name": {Type: "string"}}}
	elicit := func(ctx context.Context, req *mcp.CallToolRequest, msg string) (string, error) {
		res, err := req.Session.Elicit(ctx, &mcp.ElicitParams{Message: msg, RequestedSchema: nameSchema})
		if err != nil && !strings.Contains(err.Error(), "did not declare") {
			// The gateway answers the held request with an error and
			// cancels the call, in either order.
			t := time.NewTimer(10 * time.Second)
			defer t.Stop()
			select {
			case <-ctx.Done():
				cancelled <- req.Params.Name
			case <-t.C:
				cancelled <- req.Params.Name + " (not cancelled)"
			}
			return "", err
		}
		if err != nil {
			return "", err
		}
		if res.Action != "accept" {
			return "(" + res.Action + ")", nil
		}
		name, _ := res.Content["name"].(string)
		return name, nil
	}
	mcp.AddTool(s, &mcp.Tool{Name: "greet", Description: "asks the caller's name"}, func(ctx context.Context, req *mcp.CallToolRequest, _ noIn) (*mcp.CallToolResult, any, error) {
		name, err := elicit(ctx, req, "What is your name?")
		if err != nil {
			return nil, nil, err
		}
		return text("Hello, " + name + "!"), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "greet_twice", Description: "asks two names, one after the other"}, func(ctx context.Context, req *mcp.CallToolRequest, _ noIn) (*mcp.CallToolResult, any, error) {
		a, err := elicit(ctx, req, "first?")
		if err != nil {
			return nil, nil, err
		}
		b, err := elicit(ctx, req, "second?")
		if err != nil {
			return nil, nil, err
		}
		return text(a + " and " + b), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "all", Description: "asks for a name, a completion and the roots at once"}, func(ctx context.Context, req *mcp.CallToolRequest, _ noIn) (*mcp.CallToolResult, any, error) {
		var (
			wg                  sync.WaitGroup
			name, answer, roots string
			errs                [3]error
		)
		wg.Go(func() { name, errs[0] = elicit(ctx, req, "name?") })
		wg.Go(func() {
			//lint:ignore SA1019 testing the deprecated sampling feature on purpose
			res, err := req.Session.CreateMessage(ctx, &mcp.CreateMessageParams{MaxTokens: 10, Messages: []*mcp.SamplingMessage{{Role: "user", Content: &mcp.TextContent{Text: "q"}}}})
			if err == nil {
				answer = res.Content.(*mcp.TextContent).Text
			}
			errs[1] = err
		})
		wg.Go(func() {
			//lint:ignore SA1019 testing the deprecated roots feature on purpose
			res, err := req.Session.ListRoots(ctx, nil)
			if err == nil && len(res.Roots) > 0 {
				roots = res.Roots[0].URI
			}
			errs[2] = err
		})
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return nil, nil, err
			}
		}
		return text(strings.Join([]string{name, answer, roots}, " | ")), nil, nil
	})
	mcp.AddTool(s, &mcp.Tool{Name: "steps", Description: "reports progress before and after asking a name"}, func(ctx context.Context, req *mcp.CallToolRequest, _ noIn) (*mcp.CallToolResult, any, error) {
		tok := req.Params.GetProgressToken()
		_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: 1, Message: "before"})
		name, err := elicit(ctx, req, "who?")
		if err != nil {
			return nil, nil, err
		}
		_ = req.Session.NotifyProgress(ctx, &mcp.ProgressNotificationParams{ProgressToken: tok, Progress: 2, Message: "after " + name})
		return text("done"), nil, nil
	})
	s.AddPrompt(&mcp.Prompt{Name: "greeting"}, func(ctx context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
		res, err := req.Session.Elicit(ctx, &mcp.ElicitParams{Message: "whom?", RequestedSchema: nameSchema})
		if err != nil {
			return nil, err
		}
		name, _ := res.Content["name"].(string)
		return &mcp.GetPromptResult{Messages: []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: "Greet " + name}}}}, nil
	})
	return s
}

// The go-sdk's 2026-07-28 client fulfils input_required results with its
// handlers and retries: through the gateway, a 2025-11-25 server's
// elicitation, sampling and roots requests reach it that way. A 2025-11-25
// session keeps getting them as requests.
func TestMultiRoundTripClient(t *testing.T) {
	cancelled := make(chan string, 10)
	g, base := newTestGateway(t, nil)
	g.Register("ask", &inProcessBackend{srv: askServer(cancelled)}, Shared)
	endpoint := base + "/servers/ask/mcp"
	ctx := testCtx(t)

	var mu sync.Mutex
	var elicited, progress []string
	opts := &mcp.ClientOptions{
		ProgressNotificationHandler: func(_ context.Context, req *mcp.ProgressNotificationClientRequest) {
			mu.Lock()
			progress = append(progress, req.Params.Message)
			mu.Unlock()
		},
		ElicitationHandler: func(_ context.Context, req *mcp.ElicitRequest) (*mcp.ElicitResult, error) {
			mu.Lock()
			elicited = append(elicited, req.Params.Message)
			n := len(elicited)
			mu.Unlock()
			return &mcp.ElicitResult{Action: "accept", Content: map[string]any{"name": fmt.Sprintf("Ann%d", n)}}, nil
		},
		CreateMessageHandler: func(context.Context, *mcp.CreateMessageRequest) (*mcp.CreateMessageResult, error) {
			return &mcp.CreateMessageResult{Model: "m", Role: "assistant", Content: &mcp.TextContent{Text: "forty-two"}}, nil
		},
	}
	for _, version := range []string{modern, legacy} {
		t.Run(version, func(t *testing.T) {
			mu.Lock()
			elicited = nil
			mu.Unlock()
			c := mcp.NewClient(&mcp.Implementation{Name: "c", Version: "v0"}, opts)
			c.AddRoots(&mcp.Root{URI: "file:///work", Name: "work"})
			cs, err := c.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, MaxRetries: -1}, &mcp.ClientSessionOptions{ProtocolVersion: version})
			if err != nil {
				t.Fatal(err)
			}
			defer cs.Close()
			if got := cs.InitializeResult().ProtocolVersion; got != version {
				t.Fatalf("negotiated %s, want %s", got, version)
			}
			for _, tc := range []struct{ tool, want string }{
				{"greet", "Hello, Ann1!"},
				{"greet_twice", "Ann2 and Ann3"},
				{"all", "Ann4 | forty-two | file:///work"},
			} {
				got, err := callText(ctx, cs, tc.tool, nil)
				if err != nil || got != tc.want {
					t.Errorf("%s = %q, %v; want %q", tc.tool, got, err, tc.want)
				}
			}
			mu.Lock()
			want := []string{"What is your name?", "first?", "second?", "name?"}
			if diff := cmp.Diff(want, elicited); diff != "" {
				t.Errorf("elicitations (-want +got):\n%s", diff)
			}
			mu.Unlock()
			pr, err := cs.GetPrompt(ctx, &mcp.GetPromptParams{Name: "greeting"})
			if err != nil {
				t.Fatalf("prompts/get: %v", err)
			}
			if got := pr.Messages[0].Content.(*mcp.TextContent).Text; got != "Greet Ann5" {
				t.Errorf("prompt = %q, want %q", got, "Greet Ann5")
			}

			// Progress of every round reaches the client.
			p := &mcp.CallToolParams{Name: "steps"}
			p.SetProgressToken("tok")
			if _, err := cs.CallTool(ctx, p); err != nil {
				t.Fatalf("steps: %v", err)
			}
			waitFor(t, 10*time.Second, func() bool {
				mu.Lock()
				defer mu.Unlock()
				return len(progress) >= 2
			})
			mu.Lock()
			if diff := cmp.Diff([]string{"before", "after Ann6"}, progress); diff != "" {
				t.Errorf("progress (-want +got):\n%s", diff)
			}
			progress = nil
			mu.Unlock()
		})
	}
}

// rpcResponse is a JSON-RPC response as the raw client sees it.
type rpcResponse struct {
	Result map[string]json.RawMessage `json:"result"`
	Error  *struct {
		Code    int64  `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

// call2026 sends one stateless 2026-07-28 request with params (a JSON
// object without _meta) and caps as the declared client capabilities.
func call2026(t *testing.T, endpoint, method, name, params, caps string) rpcResponse {
	t.Helper()
	meta := `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":` + caps + `,"io.modelcontextprotocol/clientInfo":{"name":"raw-client","version":"v0"}}`
	params = strings.TrimSuffix(params, "}") + "," + meta + "}"
	h := map[string]string{"Accept": "application/json, text/event-stream", "MCP-Protocol-Version": modern, "Mcp-Method": method, "Mcp-Name": name}
	r := do(t, "POST", endpoint, `{"jsonrpc":"2.0","id":1,"method":"`+method+`","params":`+params+`}`, h)
	body := r.body
	if strings.HasPrefix(r.header.Get("Content-Type"), "text/event-stream") {
		for line := range bytes.Lines(r.body) {
			if d, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("data: ")); ok {
				body = d
			}
		}
	}
	var resp rpcResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		t.Fatalf("%s: status %d, response %q: %v", method, r.status, r.body, err)
	}
	return resp
}

const allCaps = `{"elicitation":{},"sampling":{},"roots":{}}`

// inputRequired checks that resp is an input_required result and returns
// its input requests (by key, method) and requestState.
func inputRequests(t *testing.T, resp rpcResponse) (map[string]string, string) {
	t.Helper()
	if resp.Error != nil {
		t.Fatalf("error %d %s, want input_required", resp.Error.Code, resp.Error.Message)
	}
	var rt, state string
	_ = json.Unmarshal(resp.Result["resultType"], &rt)
	_ = json.Unmarshal(resp.Result["requestState"], &state)
	if rt != "input_required" {
		t.Fatalf("resultType %q, want input_required; result %v", rt, resp.Result)
	}
	var reqs map[string]struct {
		Method string `json:"method"`
	}
	if err := json.Unmarshal(resp.Result["inputRequests"], &reqs); err != nil {
		t.Fatalf("inputRequests: %v", err)
	}
	methods := map[string]string{}
	for k, r := range reqs {
		methods[k] = r.Method
	}
	return methods, state
}

func resultText(t *testing.T, resp rpcResponse) string {
	t.Helper()
	if resp.Error != nil {
		t.Fatalf("error %d %s, want a result", resp.Error.Code, resp.Error.Message)
	}
	var rt string
	_ = json.Unmarshal(resp.Result["resultType"], &rt)
	var content []mcp.TextContent
	_ = json.Unmarshal(resp.Result["content"], &content)
	if rt != "complete" || len(content) == 0 {
		t.Fatalf("result %v, want a complete result with content", resp.Result)
	}
	return content[0].Text
}

func wantRPCError(t *testing.T, what string, resp rpcResponse, code int64, msg string) {
	t.Helper()
	if resp.Error == nil {
		t.Errorf("%s: result %v, want error %d %q", what, resp.Result, code, msg)
		return
	}
	if resp.Error.Code != code || !strings.Contains(resp.Error.Message, msg) {
		t.Errorf("%s: error %d %q, want %d containing %q", what, resp.Error.Code, resp.Error.Message, code, msg)
	}
}

// The wire: input_required results, retries, several requests at once,
// missing answers, and the requestStates the gateway rejects.
func TestMultiRoundTripWire(t *testing.T) {
	cancelled := make(chan string, 10)
	g, base := newTestGateway(t, nil)
	g.Register("ask", &inProcessBackend{srv: askServer(cancelled)}, Shared)
	g.Register("other", &inProcessBackend{srv: askServer(cancelled)}, Shared)
	endpoint := base + "/servers/ask/mcp"
	accept := func(name string) string { return `{"action":"accept","content":{"name":"` + name + `"}}` }

	// One round.
	reqs, state := inputRequests(t, call2026(t, endpoint, "tools/call", "greet", `{"name":"greet"}`, allCaps))
	if diff := cmp.Diff(map[string]string{"elicitation-1": "elicitation/create"}, reqs); diff != "" {
		t.Errorf("input requests (-want +got):\n%s", diff)
	}
	if !strings.HasPrefix(state, statePrefix) {
		t.Fatalf("requestState %q does not start with %q", state, statePrefix)
	}
	// A retry without the answer is asked again, under the same state.
	again, state2 := inputRequests(t, call2026(t, endpoint, "tools/call", "greet",
		`{"name":"greet","inputResponses":{"other":`+accept("x")+`},"requestState":"`+state+`"}`, allCaps))
	if diff := cmp.Diff(reqs, again); diff != "" || state2 != state {
		t.Errorf("re-asked %v with %q, want %v with %q", again, state2, reqs, state)
	}
	// A state presented for another tool, or to another server, is refused
	// and leaves the call suspended.
	wantRPCError(t, "state for another tool", call2026(t, endpoint, "tools/call", "all",
		`{"name":"all","inputResponses":{"elicitation-1":`+accept("x")+`},"requestState":"`+state+`"}`, allCaps),
		-32602, `it was issued for tools/call "greet", not for tools/call "all"`)
	wantRPCError(t, "state at another server", call2026(t, base+"/servers/other/mcp", "tools/call", "greet",
		`{"name":"greet","inputResponses":{"elicitation-1":`+accept("x")+`},"requestState":"`+state+`"}`, allCaps),
		-32602, "no call of this server is suspended under it")
	got := resultText(t, call2026(t, endpoint, "tools/call", "greet",
		`{"name":"greet","inputResponses":{"elicitation-1":`+accept("Bob")+`},"requestState":"`+state+`"}`, allCaps))
	if got != "Hello, Bob!" {
		t.Errorf("result %q, want %q", got, "Hello, Bob!")
	}
	// Used up.
	wantRPCError(t, "replayed state", call2026(t, endpoint, "tools/call", "greet",
		`{"name":"greet","inputResponses":{"elicitation-1":`+accept("Eve")+`},"requestState":"`+state+`"}`, allCaps),
		-32602, "has completed, and its result was returned")

	// Forged states.
	for _, forged := range []string{state + "-TAMPERED", statePrefix + "short", statePrefix + strings.ToLower(rand.Text())} {
		wantRPCError(t, "forged "+forged, call2026(t, endpoint, "tools/call", "greet",
			`{"name":"greet","inputResponses":{"elicitation-1":`+accept("x")+`},"requestState":"`+forged+`"}`, allCaps),
			-32602, "it is not one the gateway issued (malformed or altered)")
	}
	wantRPCError(t, "unknown state", call2026(t, endpoint, "tools/call", "greet",
		`{"name":"greet","inputResponses":{"elicitation-1":`+accept("x")+`},"requestState":"`+statePrefix+rand.Text()+`"}`, allCaps),
		-32602, "no call of this server is suspended under it")

	// Two rounds, then three requests at once.
	_, s1 := inputRequests(t, call2026(t, endpoint, "tools/call", "greet_twice", `{"name":"greet_twice"}`, allCaps))
	reqs, s2 := inputRequests(t, call2026(t, endpoint, "tools/call", "greet_twice",
		`{"name":"greet_twice","inputResponses":{"elicitation-1":`+accept("A")+`},"requestState":"`+s1+`"}`, allCaps))
	if diff := cmp.Diff(map[string]string{"elicitation-2": "elicitation/create"}, reqs); diff != "" {
		t.Errorf("second round (-want +got):\n%s", diff)
	}
	if got := resultText(t, call2026(t, endpoint, "tools/call", "greet_twice",
		`{"name":"greet_twice","inputResponses":{"elicitation-2":`+accept("B")+`},"requestState":"`+s2+`"}`, allCaps)); got != "A and B" {
		t.Errorf("greet_twice = %q, want %q", got, "A and B")
	}
	reqs, s3 := inputRequests(t, call2026(t, endpoint, "tools/call", "all", `{"name":"all"}`, allCaps))
	if len(reqs) != 3 {
		t.Fatalf("input requests %v, want 3 at once", reqs)
	}
	answers := map[string]string{
		"elicitation/create":     accept("C"),
		"sampling/createMessage": `{"role":"assistant","content":{"type":"text","text":"yes"},"model":"m"}`,
		"roots/list":             `{"roots":[{"uri":"file:///r"}]}`,
	}
	var parts []string
	for key, method := range reqs {
		parts = append(parts, `"`+key+`":`+answers[method])
	}
	if got := resultText(t, call2026(t, endpoint, "tools/call", "all",
		`{"name":"all","inputResponses":{`+strings.Join(parts, ",")+`},"requestState":"`+s3+`"}`, allCaps)); got != "C | yes | file:///r" {
		t.Errorf("all = %q, want %q", got, "C | yes | file:///r")
	}

	// A client that did not declare elicitation is not asked: the server
	// gets MissingRequiredClientCapabilities.
	resp := call2026(t, endpoint, "tools/call", "greet", `{"name":"greet"}`, `{"sampling":{}}`)
	if resp.Error == nil {
		var content []mcp.TextContent
		_ = json.Unmarshal(resp.Result["content"], &content)
		if len(content) == 0 || !strings.Contains(content[0].Text, "did not declare the elicitation capability") {
			t.Errorf("greet without elicitation capability: %v, want the capability error", resp.Result)
		}
	} else if !strings.Contains(resp.Error.Message, "did not declare the elicitation capability") {
		t.Errorf("greet without elicitation capability: error %q, want the capability error", resp.Error.Message)
	}
}

// A suspended call whose retry does not come is cancelled on the server,
// and its requestState then names the cause.
func TestMultiRoundTripExpiry(t *testing.T) {
	cancelled := make(chan string, 10)
	g, base := newTestGateway(t, &Options{InputTimeout: 50 * time.Millisecond})
	g.Register("ask", &inProcessBackend{srv: askServer(cancelled)}, Shared)
	endpoint := base + "/servers/ask/mcp"

	_, state := inputRequests(t, call2026(t, endpoint, "tools/call", "greet", `{"name":"greet"}`, allCaps))
	select {
	case name := <-cancelled:
		if name != "greet" {
			t.Errorf("cancelled %q, want greet", name)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the server's call was not cancelled after the input timeout")
	}
	wantRPCError(t, "expired state", call2026(t, endpoint, "tools/call", "greet",
		`{"name":"greet","inputResponses":{"elicitation-1":{"action":"accept","content":{"name":"late"}}},"requestState":"`+state+`"}`, allCaps),
		-32602, "expired: no retry came within 50ms, so the gateway cancelled it")
	// The server is still usable.
	_, state = inputRequests(t, call2026(t, endpoint, "tools/call", "greet", `{"name":"greet"}`, allCaps))
	if !strings.HasPrefix(state, statePrefix) {
		t.Errorf("requestState %q", state)
	}
}
