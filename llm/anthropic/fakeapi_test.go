package anthropic

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
	"strings"
	"sync"
	"testing"
)

// The fake Messages API: an httptest server that validates every request
// against the rules of the real API (as far as this provider can break
// them) and answers with fixtures from testdata/.

const (
	testKey  = "sk-ant-test-0123456789"
	wrongKey = "sk-ant-wrong-9876543210"
)

// reply is one scripted answer of the fake API.
type reply struct {
	// file is a testdata file: .json (a message or an error body) or .sse
	// (an event stream, only for stream=true requests).
	file   string
	status int // 0 means 200
	header map[string]string
	// check, when set, inspects the decoded request body.
	check func(t *testing.T, body map[string]any)
	// hold, for .sse replies: write the file, then wait until the client
	// goes away and close released.
	hold     bool
	released chan struct{}
}

type fakeAPI struct {
	t   *testing.T
	srv *httptest.Server
	// done is closed when the test ends (releases held streams).
	done chan struct{}

	mu      sync.Mutex
	replies []*reply
	bodies  []map[string]any
	headers []http.Header
}

func newFakeAPI(t *testing.T, replies ...*reply) *fakeAPI {
	t.Helper()
	f := &fakeAPI{t: t, replies: replies, done: make(chan struct{})}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(func() {
		close(f.done)
		f.srv.Close()
		f.mu.Lock()
		defer f.mu.Unlock()
		if n := len(f.replies); n > 0 && !t.Failed() {
			t.Errorf("fake API: %d scripted replies were never requested (first: %s)", n, f.replies[0].file)
		}
	})
	return f
}

// provider returns a Provider talking to the fake API; opts may be nil.
func (f *fakeAPI) provider(opts *Options) *Provider {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.BaseURL = f.srv.URL
	if o.APIKey == "" {
		o.APIKey = testKey
	}
	return New(&o)
}

// body returns the decoded body of the i-th request.
func (f *fakeAPI) body(i int) map[string]any {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.bodies) {
		f.t.Fatalf("fake API: request %d was not made (%d requests)", i, len(f.bodies))
	}
	return f.bodies[i]
}

func (f *fakeAPI) serve(w http.ResponseWriter, r *http.Request) {
	t := f.t
	if r.Method != http.MethodPost || r.URL.Path != "/v1/messages" {
		t.Errorf("fake API: %s %s, want POST /v1/messages", r.Method, r.URL.Path)
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") == "Bearer "+wrongKey {
		// What the real API answers to a revoked or mistyped key.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		io.WriteString(w, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"},"request_id":"req_401"}`)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+testKey && r.Header.Get("X-Api-Key") != testKey {
		t.Errorf("fake API: request does not carry the API key (Authorization %q)", r.Header.Get("Authorization"))
		http.Error(w, `{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}`, http.StatusUnauthorized)
		return
	}
	if r.Header.Get("Anthropic-Version") == "" {
		t.Errorf("fake API: anthropic-version header missing")
	}
	var body map[string]any
	dec := json.NewDecoder(r.Body)
	dec.UseNumber()
	if err := dec.Decode(&body); err != nil {
		t.Errorf("fake API: request body is not a JSON object: %v", err)
		http.Error(w, "bad json", http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	n := len(f.bodies)
	f.bodies = append(f.bodies, body)
	f.headers = append(f.headers, r.Header.Clone())
	var rep *reply
	if len(f.replies) > 0 {
		rep = f.replies[0]
		f.replies = f.replies[1:]
	}
	f.mu.Unlock()

	for _, problem := range validateRequest(body) {
		t.Errorf("fake API: request %d is invalid: %s", n, problem)
	}
	if rep == nil {
		t.Errorf("fake API: unexpected request %d: no scripted reply left", n)
		http.Error(w, "no reply", http.StatusInternalServerError)
		return
	}
	if rep.check != nil {
		rep.check(t, body)
	}
	data, err := os.ReadFile(filepath.Join("testdata", rep.file))
	if err != nil {
		t.Errorf("fake API: %v", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	stream := body["stream"] == true
	sse := strings.HasSuffix(rep.file, ".sse")
	status := rep.status
	if status == 0 {
		status = http.StatusOK
	}
	if status == http.StatusOK && stream != sse {
		t.Errorf("fake API: request %d has stream=%v but the scripted reply is %s", n, stream, rep.file)
	}
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	w.Header().Set("Request-Id", fmt.Sprintf("req_fake_%d", n))
	if sse {
		w.Header().Set("Content-Type", "text/event-stream")
		w.Header().Set("Cache-Control", "no-cache")
	} else {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(status)
	w.Write(data)
	if rep.hold {
		w.(http.Flusher).Flush()
		select {
		case <-r.Context().Done():
			close(rep.released)
		case <-f.done:
		}
	}
}

var toolName = regexp.MustCompile(`^[a-zA-Z0-9_-]{1,128}$`)

var imageTypes = map[string]bool{"image/jpeg": true, "image/png": true, "image/gif": true, "image/webp": true}

// validateRequest checks a Messages API request body and returns what is
// wrong with it.
func validateRequest(body map[string]any) []string {
	var errs []string
	bad := func(format string, args ...any) { errs = append(errs, fmt.Sprintf(format, args...)) }

	if m, _ := body["model"].(string); m == "" {
		bad("model is missing")
	}
	maxTokens, err := number(body["max_tokens"])
	if err != nil || maxTokens < 1 {
		bad("max_tokens must be a positive integer, got %v", body["max_tokens"])
	}
	for _, k := range []string{"temperature", "top_p", "top_k"} {
		if _, ok := body[k]; ok {
			bad("%s: Extra inputs are not permitted (API version 2026-10-21)", k)
		}
	}
	for k := range body {
		switch k {
		case "model", "max_tokens", "messages", "system", "tools", "tool_choice", "thinking", "stop_sequences", "metadata", "stream":
		default:
			bad("unexpected top-level field %q", k)
		}
	}

	// system
	if sys, ok := body["system"]; ok {
		blocks, ok := sys.([]any)
		if !ok || len(blocks) == 0 {
			bad("system must be a non-empty array of text blocks")
		}
		for i, b := range blocks {
			bm, _ := b.(map[string]any)
			if bm["type"] != "text" || bm["text"] == "" || bm["text"] == nil {
				bad("system[%d] must be a non-empty text block, got %v", i, b)
			}
		}
	}

	// tools
	tools := map[string]bool{}
	if ts, ok := body["tools"]; ok {
		list, ok := ts.([]any)
		if !ok || len(list) == 0 {
			bad("tools must be a non-empty array")
		}
		for i, t := range list {
			tm, _ := t.(map[string]any)
			name, _ := tm["name"].(string)
			if !toolName.MatchString(name) {
				bad("tools[%d].name %q does not match %s", i, name, toolName)
			}
			if tools[name] {
				bad("tools[%d].name %q is not unique", i, name)
			}
			tools[name] = true
			schema, ok := tm["input_schema"].(map[string]any)
			if !ok {
				bad("tools[%d] (%s): input_schema must be an object", i, name)
				continue
			}
			if schema["type"] != "object" {
				bad("tools[%d] (%s): input_schema.type must be \"object\", got %v", i, name, schema["type"])
			}
			if p, ok := schema["properties"]; ok {
				if _, ok := p.(map[string]any); !ok {
					bad("tools[%d] (%s): input_schema.properties must be an object", i, name)
				}
			}
			if cc, ok := tm["cache_control"]; ok {
				if ccm, _ := cc.(map[string]any); ccm["type"] != "ephemeral" {
					bad("tools[%d].cache_control must be {type: ephemeral}, got %v", i, cc)
				}
			}
		}
	}
	choice := ""
	if tc, ok := body["tool_choice"]; ok {
		tcm, _ := tc.(map[string]any)
		choice, _ = tcm["type"].(string)
		switch choice {
		case "auto", "any", "none":
		case "tool":
			if n, _ := tcm["name"].(string); !tools[n] {
				bad("tool_choice names tool %q, which is not defined", n)
			}
		default:
			bad("tool_choice.type %q is not auto, any, tool or none", choice)
		}
		if len(tools) == 0 {
			bad("tool_choice is set but no tools are defined")
		}
	}
	if th, ok := body["thinking"]; ok {
		thm, _ := th.(map[string]any)
		if thm["type"] == "enabled" {
			budget, err := number(thm["budget_tokens"])
			if err != nil || budget < 1024 || budget >= maxTokens {
				bad("thinking.budget_tokens must be >= 1024 and < max_tokens (%v), got %v", maxTokens, thm["budget_tokens"])
			}
			if choice == "any" || choice == "tool" {
				bad("thinking may not be used when tool_choice forces tool use (type %q)", choice)
			}
		}
	}

	// messages
	msgs, ok := body["messages"].([]any)
	if !ok || len(msgs) == 0 {
		bad("messages must be a non-empty array")
		return errs
	}
	var pending []string // tool_use IDs of the previous assistant message
	prevRole := ""
	for i, m := range msgs {
		mm, _ := m.(map[string]any)
		role, _ := mm["role"].(string)
		if role != "user" && role != "assistant" {
			bad("messages[%d].role %q is not user or assistant", i, role)
		}
		if i == 0 && role != "user" {
			bad("messages[0] must be a user message")
		}
		if role == prevRole {
			bad("messages[%d] and [%d] are both %s messages: roles must alternate", i-1, i, role)
		}
		prevRole = role
		var blocks []any
		switch c := mm["content"].(type) {
		case string:
			if c == "" {
				bad("messages[%d].content is empty", i)
			}
		case []any:
			if len(c) == 0 {
				bad("messages[%d].content is an empty array", i)
			}
			blocks = c
		default:
			bad("messages[%d].content must be a string or an array", i)
		}
		answered := map[string]bool{}
		seenOther := false
		var uses []string
		for j, b := range blocks {
			bm, _ := b.(map[string]any)
			where := fmt.Sprintf("messages[%d].content[%d]", i, j)
			typ, _ := bm["type"].(string)
			if typ != "tool_result" {
				seenOther = true
			}
			switch typ {
			case "text":
				if s, _ := bm["text"].(string); s == "" {
					bad("%s: text content blocks must be non-empty", where)
				}
			case "image":
				if role != "user" {
					bad("%s: image blocks are only allowed in user messages", where)
				}
				errs = append(errs, validateImage(where, bm)...)
			case "thinking":
				if role != "assistant" {
					bad("%s: thinking blocks are only allowed in assistant messages", where)
				}
				if s, _ := bm["signature"].(string); s == "" {
					bad("%s: thinking block without signature", where)
				}
			case "redacted_thinking":
				if s, _ := bm["data"].(string); s == "" || role != "assistant" {
					bad("%s: redacted_thinking needs data and an assistant message", where)
				}
			case "tool_use":
				id, _ := bm["id"].(string)
				name, _ := bm["name"].(string)
				if role != "assistant" || id == "" || name == "" {
					bad("%s: tool_use needs an id and a name and an assistant message", where)
				}
				if _, ok := bm["input"].(map[string]any); !ok {
					bad("%s: tool_use.input must be an object, got %v", where, bm["input"])
				}
				uses = append(uses, id)
			case "tool_result":
				if role != "user" {
					bad("%s: tool_result blocks are only allowed in user messages", where)
				}
				if seenOther {
					bad("%s: tool_result blocks must come before any other content of the message", where)
				}
				id, _ := bm["tool_use_id"].(string)
				if !contains(pending, id) {
					bad("%s: tool_result for %q does not answer a tool_use of the previous assistant message (%v)", where, id, pending)
				}
				if answered[id] {
					bad("%s: second tool_result for %q", where, id)
				}
				answered[id] = true
				if c, ok := bm["content"]; ok {
					list, ok := c.([]any)
					if !ok {
						bad("%s: tool_result.content must be an array", where)
					}
					for k, cb := range list {
						cbm, _ := cb.(map[string]any)
						cw := fmt.Sprintf("%s.content[%d]", where, k)
						switch cbm["type"] {
						case "text":
							if s, _ := cbm["text"].(string); s == "" {
								bad("%s: text content blocks must be non-empty", cw)
							}
						case "image":
							errs = append(errs, validateImage(cw, cbm)...)
						default:
							bad("%s: unexpected tool_result content type %v", cw, cbm["type"])
						}
					}
				}
				if e, ok := bm["is_error"]; ok && e != true && e != false {
					bad("%s: is_error must be a boolean", where)
				}
			default:
				bad("%s: unexpected block type %q", where, typ)
			}
		}
		if role == "user" && len(pending) > 0 {
			for _, id := range pending {
				if !answered[id] {
					bad("messages[%d]: tool_use %q of the previous assistant message has no tool_result", i, id)
				}
			}
		}
		pending = nil
		if role == "assistant" {
			pending = uses
		}
	}
	return errs
}

func validateImage(where string, bm map[string]any) []string {
	src, _ := bm["source"].(map[string]any)
	switch src["type"] {
	case "base64":
		mt, _ := src["media_type"].(string)
		if !imageTypes[mt] {
			return []string{fmt.Sprintf("%s: image media_type %q is not supported", where, mt)}
		}
		data, _ := src["data"].(string)
		if _, err := base64.StdEncoding.DecodeString(data); err != nil || data == "" {
			return []string{fmt.Sprintf("%s: image data is not base64: %v", where, err)}
		}
	case "url":
		if u, _ := src["url"].(string); u == "" {
			return []string{where + ": image url is empty"}
		}
	default:
		return []string{fmt.Sprintf("%s: image source type %v is not base64 or url", where, src["type"])}
	}
	return nil
}

func number(v any) (float64, error) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, fmt.Errorf("not a number: %v", v)
	}
	return n.Float64()
}

func contains(s []string, x string) bool {
	for _, v := range s {
		if v == x {
			return true
		}
	}
	return false
}

// jsonAt returns the JSON encoding of body at a path of keys and indexes,
// for compact assertions: jsonAt(body, "messages", 0, "content").
func jsonAt(t *testing.T, v any, path ...any) string {
	t.Helper()
	for _, p := range path {
		switch p := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("jsonAt %v: %q on a non-object", path, p)
			}
			v = m[p]
		case int:
			l, ok := v.([]any)
			if !ok || p >= len(l) {
				t.Fatalf("jsonAt %v: index %d out of range", path, p)
			}
			v = l[p]
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
