// Command gatewaybench measures MCP tools/call latency and throughput of an
// echo tool through the cloud gateway, directly over stdio, and through
// other stdio-to-HTTP bridges. run.sh drives it; it has three subcommands:
//
//	gatewaybench serve -addr 127.0.0.1:8750 -mode shared -- node server.js stdio
//	    serves the command through cloud/gateway at /servers/bench/mcp
//	gatewaybench drive -name NAME -sessions 8 -calls 2000 (-url URL [-protocol V] [-sse] | -- CMD ARGS...)
//	    runs echo calls and prints one JSON result line
//	gatewaybench table [-rss FILE] < results.jsonl
//	    prints the comparison table with ratios
//	gatewaybench floor -addr 127.0.0.1:0
//	    serves canned MCP answers over HTTP (application/json, no work):
//	    the go-sdk client's own share of a Streamable HTTP call
//
// Every call carries a unique payload; a response carrying another payload
// counts as misrouted.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mcp-agent-go/mcp-agent/cloud/gateway"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "serve":
		err = serve(os.Args[2:])
	case "drive":
		err = drive(os.Args[2:])
	case "table":
		err = table(os.Args[2:])
	case "floor":
		err = floor(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gatewaybench:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: gatewaybench serve|drive|table|floor [flags] [-- command args...]")
	os.Exit(2)
}

// serve runs the gateway in front of the command until SIGINT/SIGTERM.
func serve(args []string) error {
	fs := flag.NewFlagSet("serve", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	modeFlag := fs.String("mode", "shared", "shared or per-session")
	debug := fs.Bool("debug", false, "log at debug level")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the gateway to this file (until shutdown)")
	fs.Parse(args)
	command := fs.Args()
	if len(command) == 0 {
		return fmt.Errorf("serve: no server command after --")
	}
	mode, err := gateway.ParseMode(*modeFlag)
	if err != nil {
		return err
	}
	level := slog.LevelWarn
	if *debug {
		level = slog.LevelDebug
	}
	g := gateway.New(&gateway.Options{Logger: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))})
	g.Register("bench", &gateway.Command{Path: command[0], Args: command[1:], Stderr: os.Stderr}, mode)
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	srv := &http.Server{Handler: g, ReadHeaderTimeout: 10 * time.Second}
	fmt.Printf("http://%s/servers/bench/mcp\n", l.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		g.Close()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(l); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// Result is one measured run.
type Result struct {
	Name        string  `json:"name"`
	Sessions    int     `json:"sessions"`
	Concurrency int     `json:"concurrency"` // callers per session
	Calls       int     `json:"calls"`
	Protocol    string  `json:"protocol"`
	P50ms       float64 `json:"p50_ms"`
	P99ms       float64 `json:"p99_ms"`
	PerSec      float64 `json:"calls_per_s"`
	Errors      int     `json:"errors"`
	Misrouted   int     `json:"misrouted"`
	FirstError  string  `json:"first_error,omitempty"`
}

func drive(args []string) error {
	fs := flag.NewFlagSet("drive", flag.ExitOnError)
	name := fs.String("name", "", "name of the run")
	sessions := fs.Int("sessions", 1, "client sessions")
	conc := fs.Int("concurrency", 1, "concurrent callers per session")
	calls := fs.Int("calls", 1000, "calls in total")
	url := fs.String("url", "", "Streamable HTTP (or with -sse, SSE) endpoint; empty: run the command after -- over stdio")
	protocol := fs.String("protocol", "", "protocol version the client asks for (empty: the SDK default)")
	sse := fs.Bool("sse", false, "the endpoint is a legacy SSE endpoint")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the measured calls to this file")
	fs.Parse(args)
	command := fs.Args()
	if *url == "" && len(command) == 0 {
		return fmt.Errorf("drive: give -url or a command after --")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()

	client := mcp.NewClient(&mcp.Implementation{Name: "gatewaybench", Version: "v0"}, nil)
	// Go's default transport keeps 2 idle connections per host: with more
	// concurrent sessions, most calls would open a new TCP connection.
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 2 * *sessions * *conc
	httpClient := &http.Client{Transport: tr}
	css := make([]*mcp.ClientSession, *sessions)
	for i := range css {
		var t mcp.Transport
		switch {
		case *url == "":
			cmd := exec.Command(command[0], command[1:]...)
			t = &mcp.CommandTransport{Command: cmd}
		case *sse:
			t = &mcp.SSEClientTransport{Endpoint: *url, HTTPClient: httpClient}
		default:
			t = &mcp.StreamableClientTransport{Endpoint: *url, HTTPClient: httpClient}
		}
		cs, err := client.Connect(ctx, t, &mcp.ClientSessionOptions{ProtocolVersion: *protocol})
		if err != nil {
			return fmt.Errorf("session %d: %w", i, err)
		}
		defer cs.Close()
		css[i] = cs
		for range 5 { // warm up
			if _, err := echo(ctx, cs, "warmup"); err != nil {
				return fmt.Errorf("warm-up call: %w", err)
			}
		}
	}
	res := Result{Name: *name, Sessions: *sessions, Concurrency: *conc, Calls: *calls, Protocol: css[0].InitializeResult().ProtocolVersion}

	var (
		next      atomic.Int64
		errs      atomic.Int64
		misrouted atomic.Int64
		firstErr  sync.Once
		mu        sync.Mutex
		lat       = make([]time.Duration, 0, *calls)
		wg        sync.WaitGroup
	)
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer f.Close()
	}
	start := time.Now()
	for i, cs := range css {
		for k := range *conc {
			wg.Add(1)
			go func() {
				defer wg.Done()
				local := make([]time.Duration, 0, *calls/(*sessions**conc)+1)
				for {
					n := next.Add(1)
					if n > int64(*calls) {
						break
					}
					payload := fmt.Sprintf("s%d-w%d-c%d", i, k, n)
					t0 := time.Now()
					got, err := echo(ctx, cs, payload)
					d := time.Since(t0)
					if err != nil {
						errs.Add(1)
						firstErr.Do(func() { res.FirstError = err.Error() })
						continue
					}
					if got != payload && got != "Echo: "+payload {
						misrouted.Add(1)
					}
					local = append(local, d)
				}
				mu.Lock()
				lat = append(lat, local...)
				mu.Unlock()
			}()
		}
	}
	wg.Wait()
	wall := time.Since(start)
	if *cpuProfile != "" {
		pprof.StopCPUProfile()
	}
	slices.Sort(lat)
	if len(lat) > 0 {
		res.P50ms = ms(lat[len(lat)/2])
		res.P99ms = ms(lat[min(len(lat)-1, len(lat)*99/100)])
	}
	res.PerSec = float64(len(lat)) / wall.Seconds()
	res.Errors = int(errs.Load())
	res.Misrouted = int(misrouted.Load())
	return json.NewEncoder(os.Stdout).Encode(res)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func echo(ctx context.Context, cs *mcp.ClientSession, msg string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	r, err := cs.CallTool(ctx, &mcp.CallToolParams{Name: "echo", Arguments: map[string]any{"message": msg}})
	if err != nil {
		return "", err
	}
	if len(r.Content) == 0 {
		return "", fmt.Errorf("empty result")
	}
	tc, ok := r.Content[0].(*mcp.TextContent)
	if !ok {
		return "", fmt.Errorf("result is %T", r.Content[0])
	}
	return tc.Text, nil
}

// table prints results (JSON lines on stdin) with ratios against the direct
// stdio runs, and memory from -rss (lines "name kilobytes").
func table(args []string) error {
	fs := flag.NewFlagSet("table", flag.ExitOnError)
	rssFile := fs.String("rss", "", "file of \"name peak-RSS-kB\" lines")
	fs.Parse(args)
	rss := map[string]string{}
	if *rssFile != "" {
		data, err := os.ReadFile(*rssFile)
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) == 2 {
				var kb float64
				fmt.Sscan(f[1], &kb)
				rss[f[0]] = fmt.Sprintf("%.1f", kb/1024)
			}
		}
	}
	var results []Result
	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		var r Result
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			continue
		}
		results = append(results, r)
	}
	var seqBase, concBase, sharedBase Result
	for _, r := range results {
		switch {
		case r.Name == "direct-stdio" && r.Sessions == 1 && r.Concurrency == 1:
			seqBase = r
		case r.Name == "direct-stdio" && r.Sessions == 8:
			concBase = r
		case r.Name == "direct-stdio" && r.Sessions == 1 && r.Concurrency == 8:
			sharedBase = r
		}
	}
	w := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "target\tprotocol\tsessions x callers\tprocs\tp50 ms\tp99 ms\tcalls/s\terrors\tmisrouted\tbridge RSS MB\tp50 / direct\tcalls/s / direct\t")
	for _, r := range results {
		procs := "1"
		if r.Sessions > 1 && !strings.Contains(r.Name, "shared") {
			procs = fmt.Sprint(r.Sessions)
		}
		p50ratio, tputRatio := "", ""
		if r.Sessions == 1 && r.Concurrency == 1 && seqBase.P50ms > 0 {
			p50ratio = fmt.Sprintf("%.2fx", r.P50ms/seqBase.P50ms)
			tputRatio = fmt.Sprintf("%.0f%%", 100*r.PerSec/seqBase.PerSec)
		} else if base := concBase; procs != "1" && base.PerSec > 0 {
			p50ratio = fmt.Sprintf("%.2fx", r.P50ms/base.P50ms)
			tputRatio = fmt.Sprintf("%.0f%%", 100*r.PerSec/base.PerSec)
		} else if base := sharedBase; base.PerSec > 0 {
			p50ratio = fmt.Sprintf("%.2fx", r.P50ms/base.P50ms)
			tputRatio = fmt.Sprintf("%.0f%%", 100*r.PerSec/base.PerSec)
		}
		mem := rss[r.Name]
		if mem == "" {
			mem = "-"
		}
		fmt.Fprintf(w, "%s\t%s\t%d x %d\t%s\t%.2f\t%.2f\t%.0f\t%d\t%d\t%s\t%s\t%s\t\n",
			r.Name, r.Protocol, r.Sessions, r.Concurrency, procs, r.P50ms, r.P99ms, r.PerSec, r.Errors, r.Misrouted, mem, p50ratio, tputRatio)
	}
	w.Flush()
	fmt.Println("\nRatios compare with direct stdio using the same number of server processes:")
	fmt.Println("  1 x 1 with direct 1 x 1; N sessions on N processes with direct N x 1; on 1 process with direct 1 x N.")
	for _, r := range results {
		if r.FirstError != "" {
			fmt.Printf("%s (%d x %d): first error: %s\n", r.Name, r.Sessions, r.Concurrency, r.FirstError)
		}
	}
	return nil
}

// floor serves the smallest Streamable HTTP server the go-sdk client
// accepts: initialize and tools/call echo answered at once with canned
// application/json responses, one session ID for all. A drive against it
// measures what the client and loopback HTTP cost by themselves.
func floor(args []string) error {
	fs := flag.NewFlagSet("floor", flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	fs.Parse(args)
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	fmt.Printf("http://%s/mcp\n", l.Addr())
	srv := &http.Server{ReadHeaderTimeout: 10 * time.Second, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.WriteHeader(http.StatusMethodNotAllowed)
			return
		}
		var m struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params struct {
				Arguments struct {
					Message string `json:"message"`
				} `json:"arguments"`
			} `json:"params"`
		}
		if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		// 2026-07-28 (stateless): answered like the gateway answers it, with
		// resultType, serverInfo and an SSE event.
		modern := r.Header.Get("Mcp-Protocol-Version") >= "2026-07-28"
		if !modern {
			w.Header().Set("Mcp-Session-Id", "floor")
		}
		if m.ID == nil {
			w.WriteHeader(http.StatusAccepted)
			return
		}
		info := map[string]any{"name": "floor", "version": "v0"}
		var result map[string]any
		switch m.Method {
		case "initialize":
			result = map[string]any{"protocolVersion": "2025-11-25", "capabilities": map[string]any{"tools": map[string]any{}},
				"serverInfo": info}
		case "server/discover":
			result = map[string]any{"supportedVersions": []string{"2026-07-28"}, "capabilities": map[string]any{"tools": map[string]any{}},
				"_meta": map[string]any{"io.modelcontextprotocol/serverInfo": info}}
		case "tools/call":
			result = map[string]any{"content": []any{map[string]any{"type": "text", "text": "Echo: " + m.Params.Arguments.Message}}}
			if modern {
				result["_meta"] = map[string]any{"io.modelcontextprotocol/serverInfo": info}
			}
		default:
			result = map[string]any{}
		}
		if modern {
			result["resultType"] = "complete"
		}
		data, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": m.ID, "result": result})
		if modern {
			data = []byte("event: message\ndata: " + string(data) + "\n\n")
			w.Header().Set("Content-Type", "text/event-stream")
		} else {
			w.Header().Set("Content-Type", "application/json")
		}
		w.Header().Set("Content-Length", fmt.Sprint(len(data)))
		w.Write(data)
	})}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	if err := srv.Serve(l); err != http.ErrServerClosed {
		return err
	}
	return nil
}
