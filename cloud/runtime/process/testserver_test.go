package process

// The test server: when PROCESS_TEST_SERVER=1 the test binary (re-executed
// by the driver, inside the sandbox when there is one) runs a line
// protocol on stdin/stdout instead of the tests. Each request is one line,
// each answer one line: "ok ..." or "err ...".

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if raceEnabled {
		// A race-enabled child sleeps 1s at exit by default.
		testEnv["GORACE"] = "atexit_sleep_ms=0"
	}
	if os.Getenv("PROCESS_TEST_SERVER") == "1" {
		testServer()
		os.Exit(0)
	}
	if mode := os.Getenv("PROCESS_TEST_PLATFORM"); mode != "" {
		testPlatform(SandboxMode(mode))
	}
	goleak.VerifyTestMain(m)
}

// testEnv is the environment a spec needs to run the test server.
var testEnv = map[string]string{"PROCESS_TEST_SERVER": "1"}

// instanceID tells test server processes apart (PIDs do not: every
// sandboxed server is PID 2 in its own namespace).
var instanceID string

func testServer() {
	instanceID = strconv.FormatInt(time.Now().UnixNano(), 36) + "-" + strconv.Itoa(os.Getpid())
	fmt.Fprintln(os.Stderr, "test server ready")
	in := bufio.NewScanner(os.Stdin)
	out := bufio.NewWriter(os.Stdout)
	var keep []*os.File
	for in.Scan() {
		cmd, arg, _ := strings.Cut(in.Text(), " ")
		if cmd == "hang" { // stop reading stdin: only a signal ends us now
			fmt.Fprintln(out, "ok hanging")
			out.Flush()
			time.Sleep(time.Hour)
		}
		reply := testServerCommand(cmd, arg, &keep)
		fmt.Fprintln(out, reply)
		out.Flush()
	}
}

// testPlatform runs a driver with one started deployment, prints the PID
// of its instance and waits to be killed.
func testPlatform(mode SandboxMode) {
	ctx := context.Background()
	d, err := New(&Options{Sandbox: mode})
	if err != nil {
		fmt.Println("err", err)
		os.Exit(1)
	}
	exe, _ := os.Executable()
	env := map[string]string{"PROCESS_TEST_SERVER": "1"}
	if g := os.Getenv("GORACE"); g != "" {
		env["GORACE"] = g
	}
	spec := runtime.Spec{Name: "local.orphan", Command: exe, Env: env, Limits: runtime.Limits{OpenFiles: 100}}
	if err := d.Create(ctx, spec); err != nil {
		fmt.Println("err", err)
		os.Exit(1)
	}
	d.Start(ctx, spec.Name)
	o, _ := d.Attach(spec.Name)
	rw, err := o.Open(ctx)
	if err != nil {
		fmt.Println("err", err)
		os.Exit(1)
	}
	fmt.Fprintln(rw, "hang")
	line, _ := bufio.NewReader(rw).ReadString('\n')
	fmt.Print("ready ", line)
	select {}
}

func testServerCommand(cmd, arg string, keep *[]*os.File) string {
	errf := func(err error) string { return "err " + strings.ReplaceAll(err.Error(), "\n", " ") }
	switch cmd {
	case "echo":
		return "ok " + arg
	case "id":
		return "ok " + instanceID
	case "pid":
		return "ok " + strconv.Itoa(os.Getpid())
	case "env":
		return "ok " + strings.Join(os.Environ(), "|")
	case "cwd":
		wd, err := os.Getwd()
		if err != nil {
			return errf(err)
		}
		return "ok " + wd
	case "read":
		b, err := os.ReadFile(arg)
		if err != nil {
			return errf(err)
		}
		return "ok " + strings.TrimSpace(string(b))
	case "ls":
		ents, err := os.ReadDir(arg)
		if err != nil {
			return errf(err)
		}
		var names []string
		for _, e := range ents {
			names = append(names, e.Name())
		}
		return "ok " + strings.Join(names, ",")
	case "write":
		if err := os.WriteFile(arg, []byte("written from the sandbox\n"), 0o644); err != nil {
			return errf(err)
		}
		return "ok"
	case "dial":
		c, err := net.DialTimeout("tcp", arg, 2*time.Second)
		if err != nil {
			return errf(err)
		}
		c.Close()
		return "ok"
	case "get":
		// Through $HTTP_PROXY explicitly: Go's default never proxies
		// loopback destinations, which the tests use.
		tr := &http.Transport{}
		if p := os.Getenv("HTTP_PROXY"); p != "" {
			u, err := url.Parse(p)
			if err != nil {
				return errf(err)
			}
			tr.Proxy = http.ProxyURL(u)
		}
		defer tr.CloseIdleConnections()
		c := &http.Client{Transport: tr, Timeout: 5 * time.Second}
		resp, err := c.Get(arg)
		if err != nil {
			return errf(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return fmt.Sprintf("ok %d %s", resp.StatusCode, strings.TrimSpace(string(b)))
	case "openfiles":
		n, _ := strconv.Atoi(arg)
		for i := range n {
			f, err := os.Open("/dev/null")
			if err != nil {
				return fmt.Sprintf("err after %d: %v", i, err)
			}
			*keep = append(*keep, f)
		}
		return "ok"
	case "alloc":
		mb, _ := strconv.Atoi(arg)
		b := make([]byte, mb<<20)
		for i := 0; i < len(b); i += 4096 {
			b[i] = 1
		}
		return fmt.Sprintf("ok %d", len(b)>>20)
	case "spin":
		x := uint64(1)
		for x != 0 { // never 0: burn CPU until the CPU limit kills us
			x = x*6364136223846793005 + 1442695040888963407 | 1
		}
		return "err unreachable"
	case "stderr":
		fmt.Fprintln(os.Stderr, arg)
		return "ok"
	case "exit":
		n, _ := strconv.Atoi(arg)
		os.Exit(n)
	}
	return "err unknown command " + cmd
}
