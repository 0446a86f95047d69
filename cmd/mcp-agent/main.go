// Command mcp-agent builds, runs and operates AI agents on the Model Context
// Protocol: it checks and shows an app's configuration, talks to the app's MCP
// servers, and runs the built-in utility servers.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		var ec exitCodeError
		if errors.As(err, &ec) {
			if ec.msg != "" {
				fmt.Fprintln(os.Stderr, "mcp-agent:", ec.msg)
			}
			os.Exit(ec.code)
		}
		fmt.Fprintln(os.Stderr, "mcp-agent:", err)
		os.Exit(1)
	}
}

// exitCodeError ends the command with a given exit code (and an optional
// message) without cobra printing usage.
type exitCodeError struct {
	code int
	msg  string
}

func (e exitCodeError) Error() string { return fmt.Sprintf("exit %d: %s", e.code, e.msg) }
