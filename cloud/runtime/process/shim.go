package process

// The rlimit shim.
//
// Go's os/exec cannot set resource limits between fork and exec, and
// setting them on the child after Start races with the child's own forks
// (bwrap forks the sandboxed command at once). So the driver starts its own
// executable with the marker argument shimFlag; the init function below
// recognises it before main runs, applies the limits with setrlimit(2) to
// itself and execs the real command (bwrap, or the server when not
// sandboxed) in place. Limits are inherited across exec and fork, so they
// bind every process of the server. The shim never outlives that exec.

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// shimFlag is os.Args[1] of a shim invocation:
//
//	self shimFlag as=N,cpu=N,nofile=N,nproc=N /path/to/command argv0 args...
const shimFlag = "--mcp-agent-runtime-shim-v1"

func init() {
	if len(os.Args) >= 5 && os.Args[1] == shimFlag {
		runShim(os.Args[2], os.Args[3], os.Args[4:])
	}
}

var rlimitNames = map[string]int{
	"as":     unix.RLIMIT_AS,
	"cpu":    unix.RLIMIT_CPU,
	"nofile": unix.RLIMIT_NOFILE,
	"nproc":  unix.RLIMIT_NPROC,
}

// shimLimits encodes the limits for the shim's command line ("-" for none).
func shimLimits(as, cpu, nofile, nproc int64) string {
	var parts []string
	add := func(name string, v int64) {
		if v > 0 {
			parts = append(parts, name+"="+strconv.FormatInt(v, 10))
		}
	}
	add("as", as)
	add("cpu", cpu)
	add("nofile", nofile)
	add("nproc", nproc)
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

func runShim(limits, path string, argv []string) {
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "mcp-agent runtime: "+format+"\n", args...)
		os.Exit(127)
	}
	if limits != "-" {
		for kv := range strings.SplitSeq(limits, ",") {
			name, val, _ := strings.Cut(kv, "=")
			res, ok := rlimitNames[name]
			n, err := strconv.ParseUint(val, 10, 64)
			if !ok || err != nil {
				fail("bad limit %q", kv)
			}
			// syscall.Setrlimit, not unix.Setrlimit: it also tells syscall.Exec
			// not to restore the soft RLIMIT_NOFILE the Go runtime raised.
			// Soft and hard alike: at the CPU limit the kernel sends SIGKILL
			// (SIGXCPU first only when soft < hard, and Go ignores it).
			if err := syscall.Setrlimit(res, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
				fail("setting %s limit to %d: %v", name, n, err)
			}
		}
	}
	err := syscall.Exec(path, argv, os.Environ())
	fail("cannot run %s: %v", path, err)
}
