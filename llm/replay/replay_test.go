package replay_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/llm"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
)

func req(msg string) *llm.Request {
	return &llm.Request{Messages: []llm.Message{llm.UserText(msg)}}
}

func TestLoadExample(t *testing.T) {
	s, err := replay.Load("testdata/calculator.replay.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := replay.New(s, nil)
	ctx := context.Background()
	r, err := p.Complete(ctx, req("hello there"))
	if err != nil {
		t.Fatal(err)
	}
	// Turn 1 has no match, so it is first even though turn 4 matches too.
	want := []llm.Part{
		&llm.Thinking{Text: "The user wants a sum; the calculator can do it.", Signature: "replay", Provider: "replay"},
		&llm.Text{Text: "Let me compute that."},
		&llm.ToolCall{ID: "call_1", Name: "calc_add", Arguments: []byte(`{"a":2,"b":3}`)},
	}
	if diff := cmp.Diff(want, r.Message.Parts); diff != "" {
		t.Errorf("turn 1 (-want +got):\n%s", diff)
	}
	if r.StopReason != llm.StopToolUse || r.Usage != (llm.Usage{InputTokens: 120, OutputTokens: 25}) || r.Model != "replay" {
		t.Errorf("turn 1 = %+v", r)
	}
	r, _ = p.Complete(ctx, req("hello there"))
	if r.Message.Text() != "2 + 3 = 5." || r.StopReason != llm.StopEndTurn {
		t.Errorf("turn 2 = %+v", r)
	}
	r, _ = p.Complete(ctx, req("hello again"))
	if r.Message.Text() != "Hello! Ask me to add numbers." {
		t.Errorf("regex turn = %q", r.Message.Text())
	}
	r, _ = p.Complete(ctx, req("Thanks a lot"))
	if r.Message.Text() != "You're welcome!" {
		t.Errorf("match turn = %q", r.Message.Text())
	}
	_, err = p.Complete(ctx, req("more?"))
	if !errors.Is(err, replay.ErrExhausted) {
		t.Fatalf("err = %v, want ErrExhausted", err)
	}
	if want := `replay script testdata/calculator.replay.yaml: replay script exhausted: all 4 turns used, none left for message "more?": add a turn to the script (or set loop: true)`; err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
}

func TestNoMatch(t *testing.T) {
	s, err := replay.Load("testdata/calculator.replay.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := replay.New(s, nil)
	ctx := context.Background()
	p.Complete(ctx, req("a"))
	p.Complete(ctx, req("b"))
	_, err = p.Complete(ctx, req("what now?"))
	if !errors.Is(err, replay.ErrNoMatch) {
		t.Fatalf("err = %v, want ErrNoMatch", err)
	}
	want := `replay script testdata/calculator.replay.yaml: no replay turn matches message "what now?": the unused turns expect match "thanks" (line 18), match "/^(hi|hello)\\b/" (line 21)`
	if err.Error() != want {
		t.Errorf("err = %q\nwant  %q", err, want)
	}
}

func TestParseErrors(t *testing.T) {
	for _, tt := range []struct{ name, src, want string }{
		{"unknown key", "turns:\n  - text: hi\n    tool_call: []\n", `replay script bad.yaml:3: invalid replay script: unknown field "tool_call"`},
		{"no turns", "model: x\n", "replay script bad.yaml: invalid replay script: no turns: add a turns: list with at least one text or tool_calls entry"},
		{"empty turn", "turns:\n  - text: hi\n  - match: x\n", "replay script bad.yaml: invalid replay script: turn 2 (line 3): it needs text, thinking or tool_calls"},
		{"nameless call", "turns:\n  - tool_calls: [{arguments: {a: 1}}]\n", "replay script bad.yaml: invalid replay script: turn 1 (line 2): tool call 1 has no name"},
		{"bad regex", "turns:\n  - match: /a(/\n    text: x\n", "replay script bad.yaml: invalid replay script: turn 1 (line 2): match /a(/ is not a valid regular expression: error parsing regexp: missing closing ): `a(`"},
		{"bad stop reason", "turns:\n  - text: x\n    stop_reason: done\n", `replay script bad.yaml: invalid replay script: turn 1 (line 2): unknown stop_reason "done" (want end_turn, tool_use, max_tokens, stop_sequence, refusal, pause_turn or other)`},
		{"wrong type", "turns: hello\n", "replay script bad.yaml:1: invalid replay script: string was used where sequence is expected"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := replay.Parse([]byte(tt.src), "bad.yaml")
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, replay.ErrInvalidScript) {
				t.Errorf("err does not wrap ErrInvalidScript: %v", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %q\nwant it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := replay.Load("testdata/missing.yaml"); err == nil || !strings.Contains(err.Error(), "replay script: open testdata/missing.yaml") {
		t.Errorf("Load(missing) = %v", err)
	}
}

func TestStreamChunks(t *testing.T) {
	p := replay.NewFromTurns(replay.Turn{Thinking: "hmm…", Text: "héllo wörld, streamed", StopReason: "max_tokens"})
	var text, thinking []string
	var final *llm.Response
	for c, err := range p.Stream(context.Background(), req("x")) {
		if err != nil {
			t.Fatal(err)
		}
		switch {
		case c.Text != "":
			text = append(text, c.Text)
		case c.Thinking != "":
			thinking = append(thinking, c.Thinking)
		case c.Response != nil:
			final = c.Response
		}
	}
	if diff := cmp.Diff([]string{"héllo wörld, s", "treamed"}, text); diff != "" {
		t.Errorf("text chunks (-want +got):\n%s", diff)
	}
	if strings.Join(thinking, "") != "hmm…" {
		t.Errorf("thinking = %q", thinking)
	}
	if final == nil || final.StopReason != llm.StopMaxTokens || final.Message.Text() != "héllo wörld, streamed" {
		t.Errorf("final = %+v", final)
	}
}

func TestLoop(t *testing.T) {
	s, err := replay.Parse([]byte("loop: true\nturns: [{text: a}, {text: b}]\n"), "loop.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p := replay.New(s, nil)
	var got []string
	for range 5 {
		r, err := p.Complete(context.Background(), req("x"))
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, r.Message.Text())
	}
	if diff := cmp.Diff([]string{"a", "b", "a", "b", "a"}, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestRecorderRoundTrip(t *testing.T) {
	inner := replay.NewFromTurns(
		replay.Turn{Thinking: "plan", Text: "Checking.", ToolCalls: []replay.ToolCall{{ID: "t1", Name: "fs_read", Arguments: map[string]any{"path": "/tmp/a b.txt", "n": 3}}}, Usage: &replay.Usage{Input: 10, Output: 5, CacheRead: 4}},
		replay.Turn{Text: "Line one.\nLine two: \"quoted\"."},
		replay.Turn{ToolCalls: []replay.ToolCall{{ID: "t2", Name: "bad", Arguments: "{not json"}}},
	)
	path := filepath.Join(t.TempDir(), "rec.yaml")
	rec := replay.NewRecorder(inner, path)
	ctx := context.Background()
	msgs := []string{"/read the file/", "go on", "again"}
	var want []*llm.Response
	for i, m := range msgs {
		var r *llm.Response
		var err error
		if i == 1 { // one streamed exchange
			r, err = llm.CollectStream(rec.Stream(ctx, req(m)))
		} else {
			r, err = rec.Complete(ctx, req(m))
		}
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, r)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s, err := replay.Parse(data, path)
	if err != nil {
		t.Fatalf("recorded script does not parse: %v\n%s", err, data)
	}
	if s.Turns[0].Match != "/read the file" {
		t.Errorf("match = %q: a message looking like /regexp/ must be recorded as a substring", s.Turns[0].Match)
	}
	p := replay.New(s, nil)
	for i, m := range msgs {
		got, err := p.Complete(ctx, req(m))
		if err != nil {
			t.Fatalf("replaying %q: %v\n%s", m, err, data)
		}
		got.ID, want[i].ID = "", ""
		if diff := cmp.Diff(want[i], got); diff != "" {
			t.Errorf("exchange %d (-recorded +replayed):\n%s\nscript:\n%s", i, diff, data)
		}
	}
}
