package llm_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/llm"
)

type trip struct {
	City  string   `json:"city" jsonschema:"destination city"`
	Days  int      `json:"days"`
	Stops []string `json:"stops"`
}

func TestGenerateStructured(t *testing.T) {
	p := &capture{Provider: play(t, "turns:\n  - text: '```json\n{\"city\": \"Paris\", \"days\": 3, \"stops\": [\"Louvre\"]}\n```'\n")}
	l := llm.New(nil, p, &llm.Options{Name: "planner"})
	got, err := llm.GenerateStructured[trip](context.Background(), l, llm.Prompt("plan"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(trip{City: "Paris", Days: 3, Stops: []string{"Louvre"}}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	rs := p.requests()[0].ResponseSchema
	if rs == nil || rs.Name != "trip" {
		t.Fatalf("response schema = %+v", rs)
	}
	var schema struct {
		Required   []string                  `json:"required"`
		Properties map[string]map[string]any `json:"properties"`
	}
	if err := json.Unmarshal(rs.Schema, &schema); err != nil {
		t.Fatal(err)
	}
	if schema.Properties["city"]["description"] != "destination city" || len(schema.Required) != 3 {
		t.Errorf("schema = %s", rs.Schema)
	}
	if !rs.Strict {
		t.Errorf("schema with every field required is not marked strict-compatible")
	}
}

func TestGenerateStructuredRepair(t *testing.T) {
	for _, history := range []bool{true, false} {
		p := &capture{Provider: play(t, `
turns:
  - text: '{"city": "Paris", "days": "three"}'
  - text: '{"city": "Paris", "days": 3, "stops": []}'
`)}
		l := llm.New(nil, p, &llm.Options{Name: "planner"})
		got, err := llm.GenerateStructured[trip](context.Background(), l, llm.Prompt("plan"), &llm.RequestParams{UseHistory: llm.Bool(history)})
		if err != nil {
			t.Fatalf("history=%v: %v", history, err)
		}
		if got.Days != 3 {
			t.Errorf("history=%v: got %+v", history, got)
		}
		reqs := p.requests()
		if len(reqs) != 2 {
			t.Fatalf("history=%v: %d calls, want 2", history, len(reqs))
		}
		msgs := reqs[1].Messages
		if got := roles(msgs); got != "user,assistant,user" {
			t.Errorf("history=%v: repair request roles = %s, want the whole exchange", history, got)
		}
		repair := msgs[len(msgs)-1].Text()
		if !strings.HasPrefix(repair, "Your answer does not match the required JSON schema:") || !strings.Contains(repair, "days") {
			t.Errorf("history=%v: repair message = %q", history, repair)
		}
	}
}

func TestGenerateStructuredFailsAfterOneRepair(t *testing.T) {
	p := play(t, `
turns:
  - text: I think Paris.
  - text: Definitely Paris!
`)
	l := llm.New(nil, p, &llm.Options{Name: "planner"})
	_, err := llm.GenerateStructured[trip](context.Background(), l, llm.Prompt("plan"), nil)
	if !errors.Is(err, llm.ErrInvalidStructuredOutput) {
		t.Fatalf("err = %v, want ErrInvalidStructuredOutput", err)
	}
	want := `llm "planner": structured output does not match the schema after one repair attempt: the answer is not valid JSON: invalid character 'D' looking for beginning of value; answer: Definitely Paris!`
	if err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
	if p.Remaining() != 0 {
		t.Errorf("%d turns unused, want exactly one repair call", p.Remaining())
	}
}
