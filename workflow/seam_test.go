package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/jsonschema-go/jsonschema"
)

// memContext is a minimal, non-durable Context: what an executor implements.
// It proves the package-level API needs nothing beyond the interface.
type memContext struct {
	calls   []string
	signals map[string][]json.RawMessage
	seq     int
}

func (m *memContext) Context() context.Context { return context.Background() }
func (m *memContext) Info() Info               { return Info{Workflow: "w", RunID: "r"} }
func (m *memContext) IsReplaying() bool        { return false }
func (m *memContext) Logger() *slog.Logger     { return slog.New(slog.DiscardHandler) }
func (m *memContext) Now() time.Time           { return time.Unix(42, 0) }
func (m *memContext) RunStep(name string, opts StepOptions, fn RawStepFunc) (json.RawMessage, error) {
	m.seq++
	m.calls = append(m.calls, "step "+name)
	return fn(context.Background(), StepContext{Step: name, Seq: m.seq, Attempt: 1, IdempotencyKey: fmt.Sprintf("r/%d", m.seq)})
}
func (m *memContext) Sleep(d time.Duration) error {
	m.calls = append(m.calls, "sleep "+d.String())
	return nil
}
func (m *memContext) SideEffect(name string, fn func() json.RawMessage) (json.RawMessage, error) {
	m.calls = append(m.calls, "side effect "+name)
	return fn(), nil
}
func (m *memContext) WaitSignal(name string, timeout time.Duration, schema *jsonschema.Schema) (json.RawMessage, bool, error) {
	m.calls = append(m.calls, "wait "+name)
	q := m.signals[name]
	if len(q) == 0 {
		return nil, false, nil
	}
	m.signals[name] = q[1:]
	return q[0], true, nil
}
func (m *memContext) RequestInput(req InputRequest) (json.RawMessage, error) {
	m.calls = append(m.calls, "input "+req.Signal+": "+req.Prompt)
	if err := ValidatePayload(req.Schema, m.signals[req.Signal][0]); err != nil {
		return nil, err
	}
	return m.signals[req.Signal][0], nil
}
func (m *memContext) RunChild(name string, input json.RawMessage, opts ChildOptions) (json.RawMessage, error) {
	m.calls = append(m.calls, "child "+name+" "+string(input))
	return json.RawMessage(`"child result"`), nil
}
func (m *memContext) SetStatus(msg string) { m.calls = append(m.calls, "status "+msg) }
func (m *memContext) ReportProgress(p Progress) {
	m.calls = append(m.calls, fmt.Sprintf("progress %v/%v", p.Current, p.Total))
}

func TestAPIOverAnyContext(t *testing.T) {
	type answer struct {
		OK bool `json:"ok"`
	}
	child := Define("child", nop[int, string], nil)
	def := Define("w", func(wctx Context, in int) (map[string]any, error) {
		out := map[string]any{}
		s, err := Step(wctx, "key", func(ctx context.Context, sc StepContext) (string, error) { return sc.IdempotencyKey, nil }, nil)
		if err != nil {
			return nil, err
		}
		out["key"] = s
		if err := Sleep(wctx, time.Minute); err != nil {
			return nil, err
		}
		out["now"] = Now(wctx).Unix()
		u, err := NewUUID(wctx)
		if err != nil {
			return nil, err
		}
		out["uuid_len"] = len(u)
		v, ok, err := WaitSignal[int](wctx, "n", 0)
		if err != nil || !ok {
			return nil, fmt.Errorf("signal: %v %v", ok, err)
		}
		out["signal"] = v
		if _, _, err := WaitSignal[int](wctx, "bad", 0); !errors.Is(err, ErrInvalidPayload) {
			return nil, fmt.Errorf("bad signal payload gave %v", err)
		}
		a, err := RequestInput[answer](wctx, "ok?", nil)
		if err != nil {
			return nil, err
		}
		out["ok"] = a.OK
		c, err := ExecuteChild(wctx, child, in+1, nil)
		if err != nil {
			return nil, err
		}
		out["child"] = c
		SetStatus(wctx, "done")
		ReportProgress(wctx, 1, 1, "")
		return out, nil
	}, nil)
	m := &memContext{signals: map[string][]json.RawMessage{
		"n":      {json.RawMessage(`7`)},
		"bad":    {json.RawMessage(`"seven"`)},
		"resume": {json.RawMessage(`{"ok":true}`)},
	}}
	raw, err := def.Execute(m, json.RawMessage(`1`))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	json.Unmarshal(raw, &got)
	want := map[string]any{"key": "r/1", "now": 42.0, "uuid_len": 36.0, "signal": 7.0, "ok": true, "child": "child result"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	wantCalls := []string{"step key", "sleep 1m0s", "side effect uuid", "wait n", "wait bad", "input resume: ok?", "child child 2", "status done", "progress 1/1"}
	if diff := cmp.Diff(wantCalls, m.calls); diff != "" {
		t.Errorf("calls (-want +got):\n%s", diff)
	}
}
