// Package platform is the mcp-agent cloud platform process: it composes the
// store (cloud/store), the process runtime (cloud/runtime/process), the MCP
// gateway (cloud/gateway) and the HTTP API (cloud/api) on one listener, and
// keeps them in step: deployments are stored, run, served at
// /servers/{org}.{name}/mcp, and brought back after the platform restarts;
// what the runtime reports (events, stderr) is written to the store in
// batches, and log lines also reach the followers of the org's events live
// (logevents.go); deployed apps' runs are driven over MCP (runs.go) and
// watched into run events (runs_watch.go); shutdown is graceful.
//
// Quick start (what `mcp-agent cloud up` does):
//
//	p, err := platform.Start(ctx, dataDir, &platform.Options{Addr: "127.0.0.1:8750", Logger: logger})
//	if err != nil {
//		return err
//	}
//	fmt.Println("API and gateway at", p.URL(), "- admin key in", p.AdminKeyPath())
//	<-ctx.Done()
//	return p.Close(context.Background())
//
// The binary that runs the platform must import package
// cloud/runtime/process (this package does), whose init function serves the
// runtime's re-exec shim, and, for the built-in server types filesystem and
// fetch, must run them when started as "EXE builtin NAME ..." (the mcp-agent
// CLI does; see Options.Builtin).
//
// See docs/cloud.md.
package platform
