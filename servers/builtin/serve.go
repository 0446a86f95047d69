// Package builtin holds the utility MCP servers built into the mcp-agent
// binary (filesystem, fetch) and the code that serves them.
//
// Each server is an *mcp.Server built with the official go-sdk; Serve runs one
// over stdio (the default) or Streamable HTTP:
//
//	srv, _ := filesystem.New([]filesystem.Root{{Path: "."}}, nil)
//	err := builtin.Serve(ctx, srv, builtin.ServeOptions{HTTPAddr: "127.0.0.1:8931"})
package builtin

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// ServeOptions configures Serve. The zero value serves over stdio.
type ServeOptions struct {
	// HTTPAddr, when set, serves Streamable HTTP at http://HTTPAddr/mcp
	// instead of stdio.
	HTTPAddr string
	// Stateless serves Streamable HTTP without sessions (protocol 2026-07-28
	// style); the default keeps sessions (2025-11-25).
	Stateless bool
	// Logger receives serving errors; nil discards them.
	Logger *slog.Logger
	// Ready, if set, is called with the bound address once the HTTP listener
	// is up (useful with HTTPAddr "127.0.0.1:0").
	Ready func(addr net.Addr)
}

// Serve runs srv until ctx is done or, on stdio, until the client closes the
// connection.
func Serve(ctx context.Context, srv *mcp.Server, opts ServeOptions) error {
	if opts.HTTPAddr == "" {
		err := srv.Run(ctx, &mcp.StdioTransport{})
		if errors.Is(err, context.Canceled) || errors.Is(err, mcp.ErrConnectionClosed) {
			return nil
		}
		return err
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	h := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv },
		&mcp.StreamableHTTPOptions{Stateless: opts.Stateless, Logger: logger})
	mux := http.NewServeMux()
	mux.Handle("/mcp", h)
	mux.Handle("/mcp/", h)
	l, err := net.Listen("tcp", opts.HTTPAddr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", opts.HTTPAddr, err)
	}
	if opts.Ready != nil {
		opts.Ready(l.Addr())
	}
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
		shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hs.Shutdown(shutdownCtx)
		<-errc
		return nil
	}
}
