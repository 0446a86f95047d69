package openai_test

// A fake Chat Completions server: it answers from testdata fixtures (JSON
// or SSE) and validates every request against the rules of the real API,
// failing the test with a precise message when a request is wrong.

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/jsonschema-go/jsonschema"
)

// reply is one scripted answer of the fake server.
type reply struct {
	// fixture is a testdata file: *.json is sent as application/json,
	// *.sse as text/event-stream.
	fixture string
	// body, when set, is sent instead of a fixture (as application/json
	// unless contentType says otherwise).
	body        string
	contentType string
	// status is the HTTP status (0 means 200).
	status int
	header map[string]string
	// check validates the request further.
	check func(t *testing.T, req map[string]any)
}

type fakeServer struct {
	t   *testing.T
	srv *httptest.Server
	// path is the expected request path (default /v1/chat/completions).
	path string
	// auth checks the credentials; default: Authorization Bearer sk-test.
	auth func(r *http.Request) string
	// respond, when set, picks the reply for each request instead of the
	// queue of replies.
	respond func(body map[string]any) reply
	// validate checks each request body; default validateRequest (Chat
	// Completions).
	validate func(body map[string]any) string

	mu       sync.Mutex
	replies  []reply
	requests []map[string]any
	raw      []*http.Request
}

const testKey = "sk-test-secret"

func newFakeServer(t *testing.T, replies ...reply) *fakeServer {
	t.Helper()
	f := &fakeServer{t: t, path: "/v1/chat/completions", replies: replies}
	f.auth = func(r *http.Request) string {
		if got := r.Header.Get("Authorization"); got != "Bearer "+testKey {
			return fmt.Sprintf("Authorization header = %q, want %q", got, "Bearer "+testKey)
		}
		return ""
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.handle))
	t.Cleanup(f.srv.Close)
	return f
}

// URL is the base URL to configure: the server root + /v1.
func (f *fakeServer) URL() string { return f.srv.URL + "/v1" }

// Requests returns the decoded request bodies received so far.
func (f *fakeServer) Requests() []map[string]any {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.requests)
}

func (f *fakeServer) handle(w http.ResponseWriter, r *http.Request) {
	t := f.t
	fail := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		t.Errorf("fake OpenAI server: request %s %s: %s", r.Method, r.URL.Path, msg)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"error":{"message":%q,"type":"invalid_request_error","param":null,"code":"fake_server_validation"}}`, msg)
	}
	if r.Method != http.MethodPost {
		fail("method %s, want POST", r.Method)
		return
	}
	if r.URL.Path != f.path {
		fail("path %q, want %q", r.URL.Path, f.path)
		return
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		fail("Content-Type %q, want application/json", ct)
		return
	}
	if msg := f.auth(r); msg != "" {
		fail("%s", msg)
		return
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		fail("reading body: %v", err)
		return
	}
	var body map[string]any
	if err := json.Unmarshal(data, &body); err != nil {
		fail("body is not a JSON object: %v", err)
		return
	}
	validate := f.validate
	if validate == nil {
		validate = validateRequest
	}
	if msg := validate(body); msg != "" {
		fail("%s\nbody: %s", msg, data)
		return
	}

	f.mu.Lock()
	f.requests = append(f.requests, body)
	f.raw = append(f.raw, r)
	var rep reply
	switch {
	case f.respond != nil:
		rep = f.respond(body)
	case len(f.replies) == 0:
		f.mu.Unlock()
		fail("unexpected request #%d: no reply scripted", len(f.requests))
		return
	default:
		rep = f.replies[0]
		f.replies = f.replies[1:]
	}
	f.mu.Unlock()

	if rep.check != nil {
		rep.check(t, body)
	}
	out := []byte(rep.body)
	ct := rep.contentType
	if rep.fixture != "" {
		out, err = os.ReadFile(filepath.Join("testdata", rep.fixture))
		if err != nil {
			fail("fixture: %v", err)
			return
		}
		if strings.HasSuffix(rep.fixture, ".sse") {
			ct = "text/event-stream; charset=utf-8"
			if stream, _ := body["stream"].(bool); !stream {
				t.Errorf("fake OpenAI server: fixture %s is a stream but the request has no stream: true", rep.fixture)
			}
		}
	}
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	if strings.HasPrefix(ct, "text/event-stream") {
		// Send event by event, flushing, as a real server does.
		fl, _ := w.(http.Flusher)
		for ev := range strings.SplitAfterSeq(string(out), "\n\n") {
			if _, err := io.WriteString(w, ev); err != nil {
				return
			}
			if fl != nil {
				fl.Flush()
			}
		}
		return
	}
	w.Write(out)
}

var (
	toolNameRE   = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,64}$`)
	allowedTop   = []string{"model", "messages", "tools", "tool_choice", "parallel_tool_calls", "max_completion_tokens", "max_tokens", "temperature", "stop", "reasoning_effort", "response_format", "stream", "stream_options", "user", "store", "metadata"}
	allowedRoles = []string{"system", "developer", "user", "assistant", "tool"}
)

// validateRequest checks a Chat Completions request body the way the API
// does and returns what is wrong ("" when it is valid).
func validateRequest(body map[string]any) string {
	for k := range body {
		if !slices.Contains(allowedTop, k) {
			return fmt.Sprintf("unexpected top-level field %q", k)
		}
	}
	if m, _ := body["model"].(string); m == "" {
		return "model is missing or empty"
	}
	if _, ok := body["max_tokens"]; ok {
		if _, ok := body["max_completion_tokens"]; ok {
			return "both max_tokens and max_completion_tokens are set"
		}
	}
	if stream, _ := body["stream"].(bool); stream {
		so, _ := body["stream_options"].(map[string]any)
		if iu, _ := so["include_usage"].(bool); !iu {
			return "stream: true without stream_options.include_usage: true"
		}
	} else if _, ok := body["stream_options"]; ok {
		return "stream_options without stream: true"
	}
	if _, ok := body["metadata"]; ok {
		if store, _ := body["store"].(bool); !store {
			return "metadata is only allowed when store is true"
		}
	}

	tools, hasTools := body["tools"].([]any)
	toolNames := map[string]bool{}
	if _, ok := body["tools"]; ok && !hasTools {
		return "tools is not an array"
	}
	for i, tl := range tools {
		tm, _ := tl.(map[string]any)
		if tm["type"] != "function" {
			return fmt.Sprintf("tools[%d].type = %v, want function", i, tm["type"])
		}
		fn, _ := tm["function"].(map[string]any)
		name, _ := fn["name"].(string)
		if !toolNameRE.MatchString(name) {
			return fmt.Sprintf("tools[%d].function.name %q does not match %s", i, name, toolNameRE)
		}
		if toolNames[name] {
			return fmt.Sprintf("tools[%d]: duplicate tool name %q", i, name)
		}
		toolNames[name] = true
		params, ok := fn["parameters"].(map[string]any)
		if !ok {
			return fmt.Sprintf("tools[%d] (%s): parameters is not a JSON object", i, name)
		}
		if params["type"] != "object" {
			return fmt.Sprintf("tools[%d] (%s): parameters.type = %v, want object", i, name, params["type"])
		}
		if _, ok := params["properties"].(map[string]any); !ok {
			return fmt.Sprintf("tools[%d] (%s): parameters.properties is missing or not an object", i, name)
		}
		if msg := validSchema(params); msg != "" {
			return fmt.Sprintf("tools[%d] (%s): parameters: %s", i, name, msg)
		}
	}
	if tc, ok := body["tool_choice"]; ok {
		if !hasTools {
			return "tool_choice without tools"
		}
		switch tc := tc.(type) {
		case string:
			if !slices.Contains([]string{"auto", "none", "required"}, tc) {
				return fmt.Sprintf("tool_choice %q", tc)
			}
		case map[string]any:
			fn, _ := tc["function"].(map[string]any)
			name, _ := fn["name"].(string)
			if tc["type"] != "function" || !toolNames[name] {
				return fmt.Sprintf("tool_choice %v does not name a function tool of the request", tc)
			}
		default:
			return fmt.Sprintf("tool_choice has type %T", tc)
		}
	}
	if _, ok := body["parallel_tool_calls"]; ok && !hasTools {
		return "parallel_tool_calls without tools"
	}
	if rf, ok := body["response_format"]; ok {
		rfm, _ := rf.(map[string]any)
		if rfm["type"] != "json_schema" {
			return fmt.Sprintf("response_format.type = %v, want json_schema", rfm["type"])
		}
		js, _ := rfm["json_schema"].(map[string]any)
		name, _ := js["name"].(string)
		if !toolNameRE.MatchString(name) {
			return fmt.Sprintf("response_format.json_schema.name %q does not match %s", name, toolNameRE)
		}
		schema, ok := js["schema"].(map[string]any)
		if !ok {
			return "response_format.json_schema.schema is not an object"
		}
		if msg := validSchema(schema); msg != "" {
			return "response_format.json_schema.schema: " + msg
		}
	}

	msgs, ok := body["messages"].([]any)
	if !ok || len(msgs) == 0 {
		return "messages is missing or empty"
	}
	// pending holds the tool call IDs of the last assistant message that
	// still await a tool message.
	var pending []string
	seenNonSystem := false
	for i, m := range msgs {
		mm, ok := m.(map[string]any)
		if !ok {
			return fmt.Sprintf("messages[%d] is not an object", i)
		}
		role, _ := mm["role"].(string)
		if !slices.Contains(allowedRoles, role) {
			return fmt.Sprintf("messages[%d].role = %q", i, role)
		}
		if role != "tool" && len(pending) > 0 {
			return fmt.Sprintf("messages[%d] (%s): tool calls %v of the preceding assistant message have no tool message", i, role, pending)
		}
		switch role {
		case "system", "developer":
			if seenNonSystem {
				return fmt.Sprintf("messages[%d]: %s message after the conversation started", i, role)
			}
			if s, _ := mm["content"].(string); s == "" {
				return fmt.Sprintf("messages[%d]: %s content is not a non-empty string", i, role)
			}
			continue
		case "user":
			if msg := validUserContent(mm["content"]); msg != "" {
				return fmt.Sprintf("messages[%d] (user): %s", i, msg)
			}
		case "assistant":
			calls, _ := mm["tool_calls"].([]any)
			content, hasContent := mm["content"]
			if !hasContent && len(calls) == 0 {
				return fmt.Sprintf("messages[%d] (assistant): neither content nor tool_calls", i)
			}
			if hasContent {
				if _, ok := content.(string); !ok {
					return fmt.Sprintf("messages[%d] (assistant): content is %T, want a string", i, content)
				}
			}
			for j, c := range calls {
				cm, _ := c.(map[string]any)
				id, _ := cm["id"].(string)
				fn, _ := cm["function"].(map[string]any)
				name, _ := fn["name"].(string)
				args, isString := fn["arguments"].(string)
				if id == "" || cm["type"] != "function" || name == "" || !isString {
					return fmt.Sprintf("messages[%d].tool_calls[%d] is malformed: %v", i, j, cm)
				}
				if !json.Valid([]byte(args)) {
					return fmt.Sprintf("messages[%d].tool_calls[%d].function.arguments is not JSON: %q", i, j, args)
				}
				pending = append(pending, id)
			}
		case "tool":
			id, _ := mm["tool_call_id"].(string)
			k := slices.Index(pending, id)
			if k < 0 {
				return fmt.Sprintf("messages[%d] (tool): tool_call_id %q answers no pending tool call of the preceding assistant message (pending: %v)", i, id, pending)
			}
			pending = slices.Delete(pending, k, k+1)
			if _, ok := mm["content"].(string); !ok {
				return fmt.Sprintf("messages[%d] (tool): content is %T, want a string", i, mm["content"])
			}
		}
		seenNonSystem = true
	}
	if len(pending) > 0 {
		return fmt.Sprintf("the conversation ends with tool calls %v unanswered", pending)
	}
	if last, _ := msgs[len(msgs)-1].(map[string]any); last["role"] == "system" || last["role"] == "developer" {
		return "the conversation has only a system prompt"
	}
	return ""
}

func validUserContent(c any) string {
	switch c := c.(type) {
	case string:
		return ""
	case []any:
		if len(c) == 0 {
			return "content is an empty array"
		}
		for j, p := range c {
			pm, _ := p.(map[string]any)
			switch pm["type"] {
			case "text":
				if _, ok := pm["text"].(string); !ok {
					return fmt.Sprintf("content[%d]: text part without text", j)
				}
			case "image_url":
				iu, _ := pm["image_url"].(map[string]any)
				u, _ := iu["url"].(string)
				if msg := validImageURL(u); msg != "" {
					return fmt.Sprintf("content[%d]: %s", j, msg)
				}
			default:
				return fmt.Sprintf("content[%d]: part type %v", j, pm["type"])
			}
		}
		return ""
	}
	return fmt.Sprintf("content has type %T", c)
}

func validImageURL(u string) string {
	if strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://") {
		return ""
	}
	rest, ok := strings.CutPrefix(u, "data:")
	if !ok {
		return fmt.Sprintf("image url %q is neither http(s) nor a data URL", u)
	}
	mime, data, ok := strings.Cut(rest, ";base64,")
	if !ok || !strings.HasPrefix(mime, "image/") {
		return fmt.Sprintf("data URL %.40q is not data:image/...;base64,...", u)
	}
	if _, err := base64.StdEncoding.DecodeString(data); err != nil {
		return fmt.Sprintf("data URL payload is not base64: %v", err)
	}
	return ""
}

// validSchema checks that v is a JSON Schema the jsonschema package can
// resolve.
func validSchema(v map[string]any) string {
	data, _ := json.Marshal(v)
	var s jsonschema.Schema
	if err := json.Unmarshal(data, &s); err != nil {
		return "not a JSON Schema: " + err.Error()
	}
	if _, err := s.Resolve(nil); err != nil {
		return "does not resolve: " + err.Error()
	}
	return ""
}
