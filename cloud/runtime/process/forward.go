package process

// The in-sandbox egress forwarder.
//
// A sandboxed server with egress gets no network of its own: bwrap gives it
// a fresh network namespace with only loopback. The platform's egress proxy
// listens on a Unix socket that is bind-mounted into the sandbox, and this
// forwarder (the platform's executable again, bind-mounted read-only) runs
// first inside the sandbox: it listens on sandboxProxyAddr, relays each
// connection to the socket, and runs the server as its child (through the
// rlimit shim when there are limits, so the forwarder itself is not bound
// by the server's memory limit). Everything the server can reach is
// therefore what the proxy allows; a direct socket to anywhere else fails
// with "network is unreachable".

import (
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
)

// forwardFlag is os.Args[1] of a forwarder invocation:
//
//	self forwardFlag LISTEN SOCKET LIMITS /path/to/server argv0 args...
const forwardFlag = "--mcp-agent-runtime-egress-v1"

// sandboxProxyAddr is where a sandboxed server finds the egress proxy
// (HTTP_PROXY and friends point there).
const sandboxProxyAddr = "127.0.0.1:3128"

// sandboxSocketDir is where the proxy's socket directory appears inside
// the sandbox.
const sandboxSocketDir = "/run/mcp-agent-egress"

func init() {
	if len(os.Args) >= 7 && os.Args[1] == forwardFlag {
		runForwarder(os.Args[2], os.Args[3], os.Args[4], os.Args[5], os.Args[6:])
	}
}

func runForwarder(listen, socket, limits, path string, argv []string) {
	fail := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "mcp-agent runtime: egress forwarder: "+format+"\n", args...)
		os.Exit(127)
	}
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		fail("%v", err)
	}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go relay(c, socket)
		}
	}()
	cmd := &exec.Cmd{Path: path, Args: argv, Env: os.Environ(), Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}}
	if limits != "-" {
		self, err := os.Executable()
		if err != nil {
			fail("%v", err)
		}
		cmd.Path = self
		cmd.Args = append([]string{"mcp-agent-runtime-shim", shimFlag, limits, path}, argv...)
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP)
	if err := cmd.Start(); err != nil {
		fail("cannot run %s: %v", path, err)
	}
	go func() {
		for s := range sigs {
			cmd.Process.Signal(s)
		}
	}()
	cmd.Wait()
	ws, _ := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if ws.Signaled() {
		os.Exit(128 + int(ws.Signal())) // as bwrap reports a signal
	}
	os.Exit(ws.ExitStatus())
}

func relay(c net.Conn, socket string) {
	defer c.Close()
	up, err := net.Dial("unix", socket)
	if err != nil {
		fmt.Fprintf(os.Stderr, "mcp-agent runtime: egress forwarder: proxy unreachable: %v\n", err)
		return
	}
	defer up.Close()
	done := make(chan struct{})
	go func() {
		io.Copy(up, c)
		up.(*net.UnixConn).CloseWrite()
		close(done)
	}()
	io.Copy(c, up)
	c.(*net.TCPConn).CloseWrite()
	<-done
}
