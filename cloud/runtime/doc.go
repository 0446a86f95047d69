// Package runtime defines how the cloud platform runs deployments: the
// Runtime interface (create, start, stop, delete, status, stats, logs, and
// the stdio of stdio servers), the Spec of a deployment, and the events,
// log lines and errors every driver reports.
//
// Drivers live in sub-packages: process (the default: supervised child
// processes in a bubblewrap sandbox) and, later, docker and kubernetes,
// which also honour the container-only Spec fields (Image, Ports,
// Volumes). Package egress is the allowlisting proxy through which
// deployments reach the network.
//
// Quick start, with the process driver:
//
//	rt, err := process.New(&process.Options{
//		HiddenPaths: []string{dataDir},                // never visible to servers
//		OnEvent:     func(e runtime.Event) { store.AddEvent(e) },
//		OnLog:       func(l runtime.LogLine) { store.AddLog(l) },
//	})
//	err = rt.Create(ctx, runtime.Spec{
//		Name:       "local.files",
//		Command:    "mcp-agent",
//		Args:       []string{"builtin", "filesystem", "/srv/docs"},
//		Filesystem: runtime.Filesystem{AllowedPaths: []runtime.AllowedPath{{Path: "/srv/docs", Mode: runtime.ModeRead}}},
//		Limits:     runtime.Limits{MemoryBytes: 2 << 30, OpenFiles: 256},
//	})
//	err = rt.Start(ctx, "local.files")
//	stdio, err := rt.Attach("local.files") // a StdioOpener for the gateway
//	rwc, err := stdio.Open(ctx)            // stdin/stdout of the running process
//
// See docs/runtime.md for the sandbox model, limits and egress.
package runtime
