package anthropic

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/openai"
)

// responsesFake is a minimal OpenAI Responses API server: it records the
// request bodies and answers with the scripted JSON responses in order.
type responsesFake struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	replies []string
	bodies  []string
}

func newResponsesFake(t *testing.T, replies ...string) *responsesFake {
	f := &responsesFake{t: t, replies: replies}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(r.Body)
		f.mu.Lock()
		defer f.mu.Unlock()
		if err != nil || r.URL.Path != "/v1/responses" || len(f.replies) == 0 {
			t.Errorf("fake Responses API: unexpected request %s (%v, %d replies left)", r.URL.Path, err, len(f.replies))
			http.Error(w, `{"error":{"message":"unexpected request"}}`, http.StatusBadRequest)
			return
		}
		f.bodies = append(f.bodies, string(data))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, f.replies[0])
		f.replies = f.replies[1:]
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *responsesFake) body(i int) string {
	f.t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if i >= len(f.bodies) {
		f.t.Fatalf("fake Responses API: request %d was not made", i)
	}
	return f.bodies[i]
}

func responsesJSON(id, output string) string {
	return fmt.Sprintf(`{"id":%q,"object":"response","created_at":1,"status":"completed","model":"o4-mini","output":[%s],`+
		`"usage":{"input_tokens":5,"input_tokens_details":{"cached_tokens":0},"output_tokens":5,"output_tokens_details":{"reasoning_tokens":3},"total_tokens":10}}`, id, output)
}

// storeAndLoad round-trips the conversation through its JSON form, as a
// memory store or journal does between turns.
func storeAndLoad(t *testing.T, msgs []llm.Message) []llm.Message {
	t.Helper()
	data, err := json.Marshal(msgs)
	if err != nil {
		t.Fatal(err)
	}
	var out []llm.Message
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// A conversation moving between OpenAI (Responses API, stateless) and
// Anthropic, stored as JSON between turns: each provider gets back its own
// reasoning only — OpenAI's encrypted reasoning items never reach
// Anthropic, Anthropic's signed thinking never reaches OpenAI.
func TestCrossProviderThinking(t *testing.T) {
	const openaiSecret = "gAAAAB-openai-encrypted"
	const anthropicSig = "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"
	const anthropicRedacted = "EmwKAhgBEgy3va3pzix"
	oaFake := newResponsesFake(t,
		responsesJSON("resp_1", `{"type":"reasoning","id":"rs_a","summary":[{"type":"summary_text","text":"Need the forecast."}],"encrypted_content":"`+openaiSecret+`"},`+
			`{"type":"function_call","id":"fc_1","call_id":"call_1","name":"weather_forecast","arguments":"{\"city\":\"Paris\"}","status":"completed"}`),
		responsesJSON("resp_2", `{"type":"message","id":"msg_2","status":"completed","role":"assistant","content":[{"type":"output_text","text":"Rain tomorrow.","annotations":[]}]}`),
	)
	oa := openai.New(&openai.Options{APIKey: "sk-test", BaseURL: oaFake.srv.URL + "/v1", API: openai.APIResponses, DefaultModel: "o4-mini"})
	anFake := newFakeAPI(t,
		&reply{file: "thinking.json", check: func(t *testing.T, body map[string]any) {
			data, _ := json.Marshal(body)
			if strings.Contains(string(data), openaiSecret) || strings.Contains(string(data), "rs_a") || strings.Contains(string(data), "Need the forecast.") {
				t.Errorf("OpenAI reasoning sent to Anthropic: %s", data)
			}
			want := `[{"id":"call_1","input":{"city":"Paris"},"name":"weather_forecast","type":"tool_use"}]`
			if got := jsonAt(t, body, "messages", 1, "content"); got != want {
				t.Errorf("assistant content = %s, want %s", got, want)
			}
			// The turn began without Anthropic thinking: it stays off.
			if th, ok := body["thinking"]; ok {
				t.Errorf("thinking %v enabled in a turn begun on OpenAI", th)
			}
		}},
		&reply{file: "plain.json", check: func(t *testing.T, body map[string]any) {
			data, _ := json.Marshal(body)
			if strings.Contains(string(data), openaiSecret) || strings.Contains(string(data), "rs_a") {
				t.Errorf("OpenAI reasoning sent to Anthropic: %s", data)
			}
			// Anthropic's own thinking of the earlier turn comes back.
			want := `[{"signature":"` + anthropicSig + `","thinking":"The user asks for 27 * 453. 27 * 453 = 12231.","type":"thinking"},`
			if got := jsonAt(t, body, "messages", 3, "content"); !strings.HasPrefix(got, want) {
				t.Errorf("assistant content = %s, want it to begin with %s", got, want)
			}
		}},
	)
	an := anFake.provider(&Options{ReasoningEffort: llm.ReasoningLow})
	tools := []llm.ToolSpec{weatherTool}
	ctx := context.Background()

	msgs := llm.Prompt("Weather in Paris?")
	r1, err := oa.Complete(ctx, &llm.Request{Messages: msgs, Tools: tools})
	if err != nil {
		t.Fatal(err)
	}
	msgs = append(msgs, r1.Message, llm.Message{Role: llm.RoleTool, Parts: []llm.Part{&llm.ToolResult{CallID: "call_1", Name: "weather_forecast", Content: []llm.Part{&llm.Text{Text: "sunny"}}}}})
	msgs = storeAndLoad(t, msgs)

	r2, err := an.Complete(ctx, &llm.Request{Messages: msgs, Tools: tools})
	if err != nil {
		t.Fatal(err)
	}
	msgs = storeAndLoad(t, append(msgs, r2.Message, llm.UserText("And tomorrow?")))

	r3, err := oa.Complete(ctx, &llm.Request{Messages: msgs, Tools: tools})
	if err != nil {
		t.Fatal(err)
	}
	second := oaFake.body(1)
	if strings.Contains(second, anthropicSig) || strings.Contains(second, anthropicRedacted) || strings.Contains(second, "27 * 453 = 12231.") {
		t.Errorf("Anthropic thinking sent to OpenAI: %s", second)
	}
	var req struct{ Input []map[string]any }
	if err := json.Unmarshal([]byte(second), &req); err != nil {
		t.Fatal(err)
	}
	var types []string
	for _, it := range req.Input {
		typ, _ := it["type"].(string)
		types = append(types, typ)
	}
	// user, OpenAI's reasoning, its call, the output, Anthropic's answer, user.
	if diff := cmp.Diff([]string{"message", "reasoning", "function_call", "function_call_output", "message", "message"}, types); diff != "" {
		t.Errorf("OpenAI input items (-want +got):\n%s\n%s", diff, second)
	}
	if len(req.Input) > 1 && (req.Input[1]["id"] != "rs_a" || req.Input[1]["encrypted_content"] != openaiSecret) {
		t.Errorf("reasoning item = %v, want rs_a with its encrypted content", req.Input[1])
	}

	msgs = append(msgs, r3.Message, llm.UserText("Thanks"))
	if _, err := an.Complete(ctx, &llm.Request{Messages: storeAndLoad(t, msgs)}); err != nil {
		t.Fatal(err)
	}
}
