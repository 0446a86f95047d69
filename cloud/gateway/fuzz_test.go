package gateway

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/jsonrpc"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// FuzzRouter drives the upstream router with a fake server that answers
// every request honestly but interleaves arbitrary lines (garbage, requests,
// notifications, progress for any token, responses with string IDs,
// oversized lines) between its answers. Concurrent callers from several
// sessions must each get exactly their own answer and only their own
// progress, and the router must never panic or leak goroutines.
func FuzzRouter(f *testing.F) {
	for _, seed := range []string{
		``,
		`not json`,
		`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"gw-1","progress":1}}`,
		`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"gw-2","progress":1}}` + "\n" + `{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":7,"progress":1}}`,
		`{"jsonrpc":"2.0","id":"x","result":{}}`,
		`{"jsonrpc":"2.0","id":99,"method":"sampling/createMessage","params":{"messages":[],"maxTokens":1}}`,
		`{"jsonrpc":"2.0","id":"r","method":"ping"}` + "\n" + `{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":"r"}}`,
		`{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":"x"}}`,
		`{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}`,
		`[{"jsonrpc":"2.0","id":1,"result":{}}]`,
		strings.Repeat("z", 5000),
		`{"jsonrpc":"2.0","id":3,"error":{"code":-1,"message":"m"}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const maxMsg = 4096
		var injected [][]byte
		for _, line := range bytes.Split(data, []byte("\n")) {
			if len(line) > maxMsg && idPattern.Match(line) {
				continue // an oversized answer to a real ID legitimately fails that call
			}
			if msg, err := decodeMessage(line); err == nil {
				if r, ok := msg.(*jsonrpc.Response); ok {
					if _, numeric := r.ID.Raw().(int64); numeric {
						continue // the server answering a real ID is not the router's choice
					}
				}
			}
			injected = append(injected, line)
		}

		gwSide, srvSide := net.Pipe()
		var (
			mu         sync.Mutex
			badTargets []string
			owners     = map[any]bool{}
		)
		u := newUpstream("fz", gwSide, slog.New(slog.DiscardHandler), maxMsg, hooks{
			request: func(ctx context.Context, target *call, req *jsonrpc.Request) (any, error) {
				mu.Lock()
				defer mu.Unlock()
				if !owners[target.owner] {
					badTargets = append(badTargets, fmt.Sprint(target.owner))
				}
				return struct{}{}, nil
			},
			notify: func(*jsonrpc.Request) {},
		})
		srvDone := make(chan error, 1)
		go func() { srvDone <- fakeServer(srvSide, injected) }()

		const sessions, calls = 4, 3
		for i := range sessions {
			owners[fmt.Sprintf("session-%d", i)] = true
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, 1000)
		report := func(err error) {
			select {
			case errs <- err:
			default:
			}
		}
		for i := range sessions {
			owner := fmt.Sprintf("session-%d", i)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := range calls {
					want := fmt.Sprintf("%s/%d", owner, j)
					var c *call
					c = &call{method: "echo", owner: owner, ctx: ctx, progress: func(p *mcp.ProgressNotificationParams) {
						if p.ProgressToken != c.token {
							report(fmt.Errorf("%s got progress for token %v", want, p.ProgressToken))
						}
					}}
					raw, err := u.call(ctx, c, func(token any) (json.RawMessage, error) {
						return json.Marshal(map[string]any{"payload": want, "_meta": map[string]any{"progressToken": token}})
					})
					if err != nil {
						report(fmt.Errorf("%s: %v", want, err))
						continue
					}
					var got struct{ Payload string }
					if err := json.Unmarshal(raw, &got); err != nil || got.Payload != want {
						report(fmt.Errorf("%s got %s", want, raw))
					}
				}
			}()
		}
		wg.Wait()
		u.close()
		srvSide.Close()
		if err := <-srvDone; err != nil {
			t.Error(err)
		}
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		if len(badTargets) > 0 {
			t.Errorf("server requests routed to non-sessions: %v", badTargets)
		}
	})
}

// fakeServer answers each request by echoing its params' payload, after
// writing the next injected line. IDs must never repeat.
func fakeServer(rw io.ReadWriter, injected [][]byte) error {
	r := bufio.NewReader(rw)
	seen := map[string]bool{}
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			return nil // closed
		}
		msg, err := jsonrpc.DecodeMessage(line)
		if err != nil {
			return fmt.Errorf("gateway wrote an invalid message %q: %v", line, err)
		}
		req, ok := msg.(*jsonrpc.Request)
		if !ok || !req.IsCall() {
			continue // responses to injected requests, cancellations
		}
		key := idKey(req.ID.Raw())
		if seen[key] {
			return fmt.Errorf("gateway reused upstream ID %v", req.ID.Raw())
		}
		seen[key] = true
		if len(injected) > 0 {
			if _, err := rw.Write(append(injected[0], '\n')); err != nil {
				return nil
			}
			injected = injected[1:]
		}
		var p struct {
			Payload string `json:"payload"`
		}
		_ = json.Unmarshal(req.Params, &p)
		res, _ := json.Marshal(p)
		out, _ := jsonrpc.EncodeMessage(&jsonrpc.Response{ID: req.ID, Result: res})
		if _, err := rw.Write(append(out, '\n')); err != nil {
			return nil
		}
	}
}

// FuzzReadFrame checks the line framing against bytes.Split.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte("a\nbb\n"), 4)
	f.Add([]byte("0123456789012345678901234567890123456789\nx"), 8)
	f.Add([]byte("\n\n\n"), 1)
	f.Add([]byte(""), 1)
	f.Fuzz(func(t *testing.T, data []byte, limit int) {
		if limit <= 0 || limit > 1<<16 {
			return
		}
		r := bufio.NewReaderSize(bytes.NewReader(data), 16)
		lines := bytes.SplitAfter(data, []byte("\n"))
		if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
			lines = lines[:len(lines)-1]
		}
		for i, want := range lines {
			got, err := readFrame(r, limit)
			var big *frameTooLargeError
			switch {
			case len(want) > limit:
				if !errors.As(err, &big) || big.size != len(want) {
					t.Fatalf("line %d (%d bytes, limit %d): got %q, %v; want too large", i, len(want), limit, got, err)
				}
			case err != nil || !bytes.Equal(got, want):
				t.Fatalf("line %d: got %q, %v; want %q", i, got, err, want)
			}
		}
		if got, err := readFrame(r, limit); err != io.EOF {
			t.Fatalf("after the last line: %q, %v; want EOF", got, err)
		}
	})
}

// FuzzDecodeMessage checks decodeMessage against the SDK's
// jsonrpc.DecodeMessage: whenever both decode a line, they agree. The one
// known difference: encoding/json matches keys case-insensitively ("Method"),
// the SDK's decoder does not; such inputs are skipped.
func FuzzDecodeMessage(f *testing.F) {
	for _, seed := range []string{
		`{"jsonrpc":"2.0","id":1,"result":{"a":1}}`,
		`{"jsonrpc":"2.0","id":"x","error":{"code":-32601,"message":"no"}}`,
		`{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":"gw-1"}}`,
		`{"jsonrpc":"2.0","id":2.5,"method":"ping"}`,
		`{"jsonrpc":"2.0","id":null,"method":""}`,
		`{"jsonrpc":"1.0","id":1,"result":{}}`,
		`{"jsonrpc":"2.0"}`,
		`[]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, m := range wireKey.FindAll(data, -1) {
			if !bytes.Equal(m, bytes.ToLower(m)) {
				return
			}
		}
		ours, err1 := decodeMessage(data)
		sdk, err2 := jsonrpc.DecodeMessage(data)
		if err1 != nil || err2 != nil {
			return
		}
		a, _ := jsonrpc.EncodeMessage(ours)
		b, _ := jsonrpc.EncodeMessage(sdk)
		if !bytes.Equal(a, b) {
			t.Errorf("decodeMessage(%q) = %s, jsonrpc.DecodeMessage = %s", data, a, b)
		}
	})
}

var wireKey = regexp.MustCompile(`(?i)"(jsonrpc|id|method|params|result|error|code|message|data)"`)
