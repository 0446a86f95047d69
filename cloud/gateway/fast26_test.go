package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// The meta and headers of a well-formed 2026-07-28 request.
const (
	meta26    = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":{"name":"raw","version":"v0"}}`
	metaCaps  = `"_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":` + allCaps + `}`
	accept26  = "application/json, text/event-stream"
	reqPrefix = `{"jsonrpc":"2.0","id":1,`
)

// headers26 returns the headers of a 2026-07-28 request of method for name.
func headers26(method, name string) map[string]string {
	h := map[string]string{"Accept": accept26, "MCP-Protocol-Version": modern, "Mcp-Method": method}
	if name != "" {
		h["Mcp-Name"] = name
	}
	return h
}

// wire is an HTTP response as a client sees it: status, media type and
// the JSON-RPC messages (every SSE event, or the JSON body).
type wire struct {
	Status   int
	Type     string
	Messages []any
	Body     string // a body that is neither
}

func readWire(t *testing.T, r httpResult) wire {
	t.Helper()
	w := wire{Status: r.status, Type: baseMediaType(r.header.Get("Content-Type"))}
	var datas [][]byte
	if w.Type == "text/event-stream" {
		for line := range bytes.Lines(r.body) {
			if d, ok := bytes.CutPrefix(bytes.TrimSpace(line), []byte("data: ")); ok {
				datas = append(datas, d)
			}
		}
	} else {
		datas = append(datas, r.body)
	}
	for _, d := range datas {
		var m any
		if err := json.Unmarshal(d, &m); err != nil {
			w.Body = string(r.body)
			continue
		}
		w.Messages = append(w.Messages, m)
	}
	return w
}

// TestFastStatelessMatchesSDK sends each request to the SDK's stateless
// handler and to the fast path: the responses must be the same, and the
// fast path must take the well-formed requests only (it never answers a
// request the SDK would reject: those go to the SDK's handler).
func TestFastStatelessMatchesSDK(t *testing.T) {
	g, base := newTestGateway(t, nil)
	g.Register("t", testBackend("test"), Shared)
	endpoint := base + "/servers/t/mcp"
	s := g.lookup("t").stdio
	call := func(params string) string { return reqPrefix + `"method":"tools/call","params":` + params + `}` }
	echo := call(`{"name":"echo","arguments":{"message":"hi"},` + meta26 + `}`)
	for _, tc := range []struct {
		name   string
		body   string
		header map[string]string
		fast   bool // the fast path takes it
	}{
		{"tools/call", echo, headers26("tools/call", "echo"), true},
		{"string id, params on lines", `{"jsonrpc":"2.0","id":"a-1","method":"tools/call","params":{` + "\n" + `"name":"echo",` + "\n" + `"arguments":{"message":"x\ny"},` + meta26 + "}}", headers26("tools/call", "echo"), true},
		{"caller's own _meta and progress", call(`{"name":"progress","arguments":{"steps":3,"tag":"p"},"_meta":{"progressToken":"tok-1","x.example/trace":"abc","io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}`), headers26("tools/call", "progress"), true},
		{"integer progress token", call(`{"name":"progress","arguments":{"steps":2,"tag":"n"},"_meta":{"progressToken":7,"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}`), headers26("tools/call", "progress"), true},
		{"unknown tool", call(`{"name":"nope",` + meta26 + `}`), headers26("tools/call", "nope"), true},
		{"tools/list", reqPrefix + `"method":"tools/list","params":{` + meta26 + `}}`, headers26("tools/list", ""), true},
		{"tools/list with cursor", reqPrefix + `"method":"tools/list","params":{"cursor":"bogus",` + meta26 + `}}`, headers26("tools/list", ""), true},
		{"resources/list", reqPrefix + `"method":"resources/list","params":{` + meta26 + `}}`, headers26("resources/list", ""), true},
		{"resources/templates/list", reqPrefix + `"method":"resources/templates/list","params":{` + meta26 + `}}`, headers26("resources/templates/list", ""), true},
		{"prompts/list", reqPrefix + `"method":"prompts/list","params":{` + meta26 + `}}`, headers26("prompts/list", ""), true},
		{"resources/read", reqPrefix + `"method":"resources/read","params":{"uri":"test://r",` + meta26 + `}}`, headers26("resources/read", "test://r"), true},
		{"resources/read unknown", reqPrefix + `"method":"resources/read","params":{"uri":"test://nope",` + meta26 + `}}`, headers26("resources/read", "test://nope"), true},
		{"prompts/get", reqPrefix + `"method":"prompts/get","params":{"name":"greet","arguments":{"name":"Ada"},` + meta26 + `}}`, headers26("prompts/get", "greet"), true},
		{"prompts/get unknown", reqPrefix + `"method":"prompts/get","params":{"name":"nope",` + meta26 + `}}`, headers26("prompts/get", "nope"), true},

		// What the SDK rejects (or handles itself) goes to it.
		{"no Mcp-Method", echo, map[string]string{"Accept": accept26, "MCP-Protocol-Version": modern, "Mcp-Name": "echo"}, false},
		{"Mcp-Method mismatch", echo, headers26("tools/list", "echo"), false},
		{"no Mcp-Name", echo, headers26("tools/call", ""), false},
		{"Mcp-Name mismatch", echo, headers26("tools/call", "other"), false},
		{"no protocolVersion in _meta", call(`{"name":"echo","_meta":{"io.modelcontextprotocol/clientCapabilities":{}}}`), headers26("tools/call", "echo"), false},
		{"no _meta", call(`{"name":"echo"}`), headers26("tools/call", "echo"), false},
		{"_meta version mismatch", call(`{"name":"echo","_meta":{"io.modelcontextprotocol/protocolVersion":"2025-11-25","io.modelcontextprotocol/clientCapabilities":{}}}`), headers26("tools/call", "echo"), false},
		{"no clientCapabilities", call(`{"name":"echo","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28"}}`), headers26("tools/call", "echo"), false},
		{"invalid clientInfo", call(`{"name":"echo","_meta":{"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{},"io.modelcontextprotocol/clientInfo":"me"}}`), headers26("tools/call", "echo"), false},
		{"name not a string", call(`{"name":5,` + meta26 + `}`), headers26("tools/call", "5"), false},
		{"prompt argument not a string", reqPrefix + `"method":"prompts/get","params":{"name":"greet","arguments":{"name":1},` + meta26 + `}}`, headers26("prompts/get", "greet"), false},
		{"unknown method", reqPrefix + `"method":"tools/nope","params":{` + meta26 + `}}`, headers26("tools/nope", ""), false},
		{"initialize", reqPrefix + `"method":"initialize","params":{"protocolVersion":"2026-07-28","capabilities":{},"clientInfo":{"name":"x","version":"1"}}}`, headers26("initialize", ""), false},
		{"server/discover", reqPrefix + `"method":"server/discover","params":{` + meta26 + `}}`, headers26("server/discover", ""), false},
		{"batch", "[" + echo + "]", headers26("tools/call", "echo"), false},
		{"notification", `{"jsonrpc":"2.0","method":"tools/call","params":{"name":"echo",` + meta26 + `}}`, headers26("tools/call", "echo"), false},
		{"fractional id", strings.Replace(echo, `"id":1`, `"id":1.5`, 1), headers26("tools/call", "echo"), false},
		{"unknown key", strings.Replace(echo, `"id":1`, `"id":1,"extra":true`, 1), headers26("tools/call", "echo"), false},
		{"Last-Event-ID", echo, map[string]string{"Accept": accept26, "MCP-Protocol-Version": modern, "Mcp-Method": "tools/call", "Mcp-Name": "echo", "Last-Event-ID": "x_1"}, false},
		{"Accept JSON only", echo, map[string]string{"Accept": "application/json", "MCP-Protocol-Version": modern, "Mcp-Method": "tools/call", "Mcp-Name": "echo"}, false},
		{"future protocol", echo, map[string]string{"Accept": accept26, "MCP-Protocol-Version": "2027-01-01", "Mcp-Method": "tools/call", "Mcp-Name": "echo"}, false},
		{"not JSON", `{"jsonrpc":"2.0",`, headers26("tools/call", "echo"), false},
	} {
		t.Run(strings.ReplaceAll(tc.name, "/", "_"), func(t *testing.T) {
			s.noFastStateless.Store(true)
			want := readWire(t, do(t, "POST", endpoint, tc.body, tc.header))
			s.noFastStateless.Store(false)
			before := s.served.Load()
			got := readWire(t, do(t, "POST", endpoint, tc.body, tc.header))
			if n := s.served.Load() - before; (n == 1) != tc.fast {
				t.Errorf("fast path answered %d requests, want fast=%v", n, tc.fast)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("response differs from the SDK path's (-sdk +fast):\n%s", diff)
			}
			if len(want.Messages) == 0 && want.Body == "" {
				t.Errorf("empty response: %+v", want)
			}
		})
	}
}

// TestFastStatelessInputRequired: a fast-path call whose process asks for
// input answers input_required (mrtr.go); the retry (which the SDK's
// handler serves) completes it; an undeclared capability is refused.
func TestFastStatelessInputRequired(t *testing.T) {
	cancelled := make(chan string, 10)
	g, base := newTestGateway(t, nil)
	g.Register("t", &inProcessBackend{srv: askServer(cancelled)}, Shared)
	endpoint := base + "/servers/t/mcp"
	s := g.lookup("t").stdio

	before := s.served.Load()
	reqs, state := inputRequests(t, call2026(t, endpoint, "tools/call", "greet", `{"name":"greet"}`, allCaps))
	if n := s.served.Load() - before; n != 1 {
		t.Errorf("fast path answered %d requests, want 1", n)
	}
	if diff := cmp.Diff(map[string]string{"elicitation-1": "elicitation/create"}, reqs); diff != "" {
		t.Errorf("input requests (-want +got):\n%s", diff)
	}
	retry := `{"name":"greet","requestState":"` + state + `","inputResponses":{"elicitation-1":{"action":"accept","content":{"name":"Ada"}}}}`
	if got := resultText(t, call2026(t, endpoint, "tools/call", "greet", retry, allCaps)); got != "Hello, Ada!" {
		t.Errorf("retry = %q, want %q", got, "Hello, Ada!")
	}

	// Without the elicitation capability the process's request is refused,
	// so the tool fails, as on the SDK's path.
	for _, off := range []bool{true, false} {
		s.noFastStateless.Store(off)
		resp := call2026(t, endpoint, "tools/call", "greet", `{"name":"greet"}`, `{}`)
		var res struct {
			IsError bool `json:"isError"`
		}
		_ = json.Unmarshal(resp.Result["isError"], &res.IsError)
		if resp.Error == nil && !res.IsError {
			t.Errorf("fast path off=%v: greet without elicitation: %v, want an error", off, resp.Result)
		}
	}
	s.noFastStateless.Store(false)
}

// TestFastStatelessCancel: a client that goes away cancels its fast-path
// call on the process.
func TestFastStatelessCancel(t *testing.T) {
	g, base := newTestGateway(t, nil)
	g.Register("t", testBackend("test"), Shared)
	endpoint := base + "/servers/t/mcp"
	s := g.lookup("t").stdio
	count := func() int {
		body := reqPrefix + `"method":"tools/call","params":{"name":"cancelled",` + meta26 + `}}`
		w := readWire(t, do(t, "POST", endpoint, body, headers26("tools/call", "cancelled")))
		if len(w.Messages) != 1 {
			t.Fatalf("cancelled: %+v", w)
		}
		res, _ := w.Messages[0].(map[string]any)["result"].(map[string]any)
		content, _ := res["content"].([]any)
		if len(content) != 1 {
			t.Fatalf("cancelled: %+v", w)
		}
		n, _ := strconv.Atoi(content[0].(map[string]any)["text"].(string))
		return n
	}
	n := count()

	ctx, cancel := context.WithCancel(testCtx(t))
	defer cancel()
	body := reqPrefix + `"method":"tools/call","params":{"name":"block","_meta":{"progressToken":"b","io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}}`
	req, err := http.NewRequestWithContext(ctx, "POST", endpoint, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range headers26("tools/call", "block") {
		req.Header.Set(k, v)
	}
	before := s.served.Load()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	// The first event is the call's progress: it runs on the process.
	line, err := bufio.NewReader(resp.Body).ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "event: message") {
		t.Fatalf("first line %q, %v; want a progress event", line, err)
	}
	if got := s.served.Load() - before; got != 1 {
		t.Errorf("fast path answered %d requests, want 1", got)
	}
	cancel()
	waitFor(t, 10*time.Second, func() bool { return count() == n+1 })
}

func TestPlainID(t *testing.T) {
	for raw, want := range map[string]bool{
		`1`: true, `0`: true, `123456789012345`: true, `"a-b"`: true, `""`: true,
		`01`: false, `-1`: false, `1.0`: false, `1e3`: false, `1234567890123456`: false,
		`"a\"b"`: false, `"\u0041"`: false, `null`: false, `{}`: false, ``: false,
	} {
		if got := plainID(json.RawMessage(raw)); got != want {
			t.Errorf("plainID(%s) = %v, want %v", raw, got, want)
		}
	}
}

func TestRawResultSplice(t *testing.T) {
	info := map[string]any{"io.modelcontextprotocol/serverInfo": map[string]any{"name": "s", "version": "1"}}
	for _, raw := range []string{
		`{}`, ` { } `, `{"content":[{"type":"text","text":"hi"}]}`, `{"content":[],"isError":true}`,
		`{"_meta":{"k":1},"content":[]}`, `{"resultType":"input_required"}`, `{"a":"\u005fmeta"}`,
	} {
		withMeta := &rawResult{raw: json.RawMessage(raw), modern: true}
		withMeta.SetMeta(info)
		for _, r := range []*rawResult{{raw: json.RawMessage(raw), modern: true}, withMeta} {
			got, err := r.MarshalJSON()
			if err != nil {
				t.Fatalf("%s: %v", raw, err)
			}
			// The slow path: decode, add, encode.
			var obj map[string]any
			if err := json.Unmarshal([]byte(raw), &obj); err != nil {
				t.Fatal(err)
			}
			if _, ok := obj["resultType"]; !ok {
				obj["resultType"] = "complete"
			}
			if len(r.Meta) > 0 {
				m, _ := obj["_meta"].(map[string]any)
				if m == nil {
					m = map[string]any{}
				}
				for k, v := range r.Meta {
					if _, ok := m[k]; !ok {
						m[k] = v
					}
				}
				obj["_meta"] = m
			}
			var gotObj map[string]any
			if err := json.Unmarshal(got, &gotObj); err != nil {
				t.Fatalf("%s: result %s: %v", raw, got, err)
			}
			if diff := cmp.Diff(obj, gotObj); diff != "" {
				t.Errorf("%s (meta %v): (-want +got)\n%s", raw, r.Meta, diff)
			}
		}
	}
}

// TestStatelessEncodeParams: the fast path sends the process the params the
// front would (encodeParams on the SDK's decoded params).
func TestStatelessEncodeParams(t *testing.T) {
	for _, params := range []string{
		`{"name":"echo","arguments":{"message":"hi"},` + meta26 + `}`,
		`{"name":"echo","_meta":{"progressToken":"p","x.example/k":[1,2],"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{"sampling":{}},"io.modelcontextprotocol/logLevel":"debug"}}`,
		`{"name":"echo","arguments":{` + "\n" + `"a": {"b": [1, 2]}},"_meta":{"progressToken":null,"io.modelcontextprotocol/protocolVersion":"2026-07-28","io.modelcontextprotocol/clientCapabilities":{}}}`,
	} {
		body := reqPrefix + `"method":"tools/call","params":` + params + `}`
		req, ok := parseStateless([]byte(body), http.Header{"Mcp-Method": {"tools/call"}, "Mcp-Name": {"echo"}})
		if !ok {
			t.Fatalf("%s: not taken", params)
		}
		for _, token := range []any{nil, "gw-7"} {
			got, err := req.encodeParams(token)
			if err != nil {
				t.Fatal(err)
			}
			if bytes.ContainsAny(got, "\r\n") {
				t.Errorf("params %s span lines", got)
			}
			var p mcp.CallToolParamsRaw
			if err := json.Unmarshal([]byte(params), &p); err != nil {
				t.Fatal(err)
			}
			want, err := encodeParams(&p, token)
			if err != nil {
				t.Fatal(err)
			}
			var gotObj, wantObj any
			_ = json.Unmarshal(got, &gotObj)
			_ = json.Unmarshal(want, &wantObj)
			if diff := cmp.Diff(wantObj, gotObj); diff != "" {
				t.Errorf("%s, token %v: (-front +fast)\n%s", params, token, diff)
			}
		}
	}
}

// TestObjectMembers checks the member scanner against encoding/json.
func TestObjectMembers(t *testing.T) {
	for _, in := range []string{
		`{}`, ` { } `, `{"a":1}`, "{\n \"a\" : [1, {\"b\": \"}]\\\"\"}] ,\"c\":null,\"d\":\"x\\\\\",\"e\":-1.5e3, \"f\":true}\n",
		`{"a":{"b":{"c":[[],{}]}},"s":"{[\"]}"}`, `{"":""}`,
	} {
		got, ok := objectMembers([]byte(in), nil)
		if !ok {
			t.Errorf("%s: not read", in)
			continue
		}
		var want map[string]json.RawMessage
		if err := json.Unmarshal([]byte(in), &want); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d members, want %d", in, len(got), len(want))
		}
		for _, m := range got {
			var a, b any
			_ = json.Unmarshal(m.val, &a)
			_ = json.Unmarshal(want[string(m.key)], &b)
			if w, ok := want[string(m.key)]; !ok || !json.Valid(m.val) || !cmp.Equal(a, b) {
				t.Errorf("%s: member %q = %s, want %s", in, m.key, m.val, w)
			}
		}
	}
	for _, in := range []string{`[]`, `"x"`, `{"a":1,"a":2}`, `{"\u0061":1}`, `null`} {
		if _, ok := objectMembers([]byte(in), nil); ok {
			t.Errorf("%s: read, want refused", in)
		}
	}
}

// TestFastStatelessStopped: a server that cannot start answers the same
// error on both paths.
func TestFastStatelessStopped(t *testing.T) {
	g, base := newTestGateway(t, nil)
	g.Register("t", StdioFunc(func(context.Context) (io.ReadWriteCloser, error) {
		return nil, fmt.Errorf("deployment paused: %w", ErrStopped)
	}), Shared)
	endpoint := base + "/servers/t/mcp"
	s := g.lookup("t").stdio
	for _, tc := range []struct{ method, name, params string }{
		{"tools/call", "echo", `{"name":"echo",` + meta26 + `}`},
		{"tools/list", "", `{` + meta26 + `}`},
	} {
		body := reqPrefix + `"method":"` + tc.method + `","params":` + tc.params + `}`
		s.noFastStateless.Store(true)
		want := readWire(t, do(t, "POST", endpoint, body, headers26(tc.method, tc.name)))
		s.noFastStateless.Store(false)
		before := s.served.Load()
		got := readWire(t, do(t, "POST", endpoint, body, headers26(tc.method, tc.name)))
		if n := s.served.Load() - before; n != 1 {
			t.Errorf("%s: fast path answered %d requests, want 1", tc.method, n)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: response differs from the SDK path's (-sdk +fast):\n%s", tc.method, diff)
		}
		if !strings.Contains(fmt.Sprint(got.Messages), "is stopped") {
			t.Errorf("%s: %+v, want the stopped error", tc.method, got)
		}
	}
}

// FuzzObjectMembers checks the member scanner against encoding/json on
// valid JSON.
func FuzzObjectMembers(f *testing.F) {
	for _, s := range []string{`{}`, `{"a":1,"b":[1,{"c":"}"}],"d":"\\\""}`, `{"a" : { "b" : null } }`, `[1]`, `{"a":1,"a":2}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		data := []byte(in)
		if !json.Valid(data) {
			return
		}
		members, ok := objectMembers(data, nil)
		var want map[string]json.RawMessage
		isObject := json.Unmarshal(data, &want) == nil && want != nil
		if !ok {
			if isObject && !strings.Contains(in, `\`) && len(want) == strings.Count(in, ":") && asciiOnly(in) {
				t.Fatalf("%q: not read", in)
			}
			return
		}
		if !isObject || len(members) != len(want) {
			t.Fatalf("%q: %d members, encoding/json %d (object %v)", in, len(members), len(want), isObject)
		}
		for _, m := range members {
			w, found := want[string(m.key)]
			if !found || !json.Valid(m.val) {
				t.Fatalf("%q: member %q = %q", in, m.key, m.val)
			}
			var a, b bytes.Buffer
			_ = json.Compact(&a, m.val)
			_ = json.Compact(&b, w)
			if a.String() != b.String() {
				t.Fatalf("%q: member %q = %s, want %s", in, m.key, m.val, w)
			}
		}
	})
}

func asciiOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
