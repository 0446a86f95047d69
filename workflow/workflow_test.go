package workflow

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/jsonschema-go/jsonschema"
)

type input struct {
	Topic string `json:"topic"`
	Sub   struct {
		X []int `json:"x"`
	} `json:"sub"`
	Opt int `json:"opt,omitempty"`
}

func nop[In, Out any](Context, In) (Out, error) { var o Out; return o, nil }

func TestValidateInput(t *testing.T) {
	d := Define("check", nop[input, int], nil)
	tests := []struct{ in, want string }{
		{`{"topic":"a","sub":{"x":[1]}}`, ""},
		{`{"topic":5,"sub":{"x":[]}}`, `invalid input for workflow "check": field "topic": type: 5 has type "integer", want "string"`},
		{`{"topic":"a","sub":{"x":["a"]}}`, `invalid input for workflow "check": field "sub.x[]": type: a has type "string", want "integer"`},
		{`{"topic":"a"}`, `invalid input for workflow "check": required: missing properties: ["sub"]`},
		{``, `invalid input for workflow "check": required: missing properties: ["topic" "sub"]`},
		{`null`, `invalid input for workflow "check": required: missing properties: ["topic" "sub"]`},
		{`[1]`, `invalid input for workflow "check": type: [1] has type "array", want "object"`},
		{`{"topic":`, `invalid input for workflow "check": not valid JSON: unexpected end of JSON input`},
	}
	for _, tt := range tests {
		err := d.ValidateInput(json.RawMessage(tt.in))
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.in, err)
			}
			continue
		}
		if err == nil || err.Error() != tt.want || !errors.Is(err, ErrInvalidPayload) {
			t.Errorf("%s:\n got %v\nwant %s", tt.in, err, tt.want)
		}
	}
	// Scalar and untyped inputs.
	if err := Define("s", nop[string, int], nil).ValidateInput(json.RawMessage(`3`)); err == nil {
		t.Error("string workflow accepted 3")
	}
	if err := Define("r", nop[json.RawMessage, int], nil).ValidateInput(json.RawMessage(`{"any":[1]}`)); err != nil {
		t.Errorf("raw input: %v", err)
	}
}

func TestValidatePayload(t *testing.T) {
	s := &jsonschema.Schema{Type: "object", Properties: map[string]*jsonschema.Schema{"ok": {Type: "boolean"}}, Required: []string{"ok"}}
	if err := ValidatePayload(s, json.RawMessage(`{"ok":true}`)); err != nil {
		t.Error(err)
	}
	if err := ValidatePayload(s, json.RawMessage(`{"ok":1}`)); err == nil {
		t.Error("accepted a number")
	}
	if err := ValidatePayload(nil, json.RawMessage(`{`)); err == nil || err.Error() != "payload is not valid JSON" {
		t.Errorf("nil schema, bad JSON: %v", err)
	}
}

func TestDefinePanics(t *testing.T) {
	for name, f := range map[string]func(){
		"bad name":  func() { Define("1abc", nop[int, int], nil) },
		"empty":     func() { Define("", nop[int, int], nil) },
		"nil fn":    func() { Define[int, int]("ok", nil, nil) },
		"chan type": func() { Define("ch", nop[chan int, int], nil) },
		"duplicate": func() { NewRegistry(Define("a", nop[int, int], nil), Define("a", nop[int, int], nil)) },
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Error("no panic")
				}
			}()
			f()
		})
	}
}

func TestRegistry(t *testing.T) {
	r := NewRegistry(Define("b", nop[int, int], &DefineOptions{Description: "bee"}), Define("a", nop[int, int], nil))
	var names []string
	for w := range r.All() {
		names = append(names, w.Name())
	}
	if !slices.Equal(names, []string{"a", "b"}) {
		t.Errorf("All: %v", names)
	}
	if w, ok := r.Lookup("b"); !ok || w.Description() != "bee" || w.InputSchema().Type != "integer" {
		t.Errorf("Lookup(b) = %v, %v", w, ok)
	}
	if _, ok := r.Lookup("c"); ok {
		t.Error("Lookup(c) found something")
	}
}

func TestBackoff(t *testing.T) {
	p := RetryPolicy{InitialInterval: time.Second, BackoffCoefficient: 3, MaxInterval: 5 * time.Second}
	var got []time.Duration
	for a := 1; a <= 4; a++ {
		got = append(got, p.Backoff(a))
	}
	want := []time.Duration{time.Second, 3 * time.Second, 5 * time.Second, 5 * time.Second}
	if !slices.Equal(got, want) {
		t.Errorf("backoff %v, want %v", got, want)
	}
	if n := (RetryPolicy{}).Normalized(); n.MaxAttempts != 3 || n.InitialInterval != time.Second || n.BackoffCoefficient != 2 || n.MaxInterval != time.Minute {
		t.Errorf("defaults: %+v", n)
	}
}

func TestErrors(t *testing.T) {
	e := &StepError{Step: "s", Attempts: 2, Message: "boom"}
	if e.Error() != `step "s" failed after 2 attempts: boom` || errors.Is(e, ErrCanceled) {
		t.Errorf("%v", e)
	}
	c := &StepError{Step: "s", Attempts: 1, Message: "context canceled", Canceled: true}
	if c.Error() != `step "s" cancelled: context canceled` || !errors.Is(c, ErrCanceled) {
		t.Errorf("%v", c)
	}
	n := &NondeterminismError{Workflow: "draft", RunID: "r1", Seq: 3, Journal: `"approve"`, Code: `"publish"`}
	if n.Error() != `workflow "draft" run r1: nondeterminism at step 3: journal has "approve", code asked for "publish"` {
		t.Errorf("%v", n)
	}
	base := errors.New("bad")
	if nr := NonRetryable(base); !IsNonRetryable(nr) || !errors.Is(nr, base) || IsNonRetryable(base) || NonRetryable(nil) != nil {
		t.Error("NonRetryable")
	}
}
