// Package process is the default driver of runtime.Runtime: every
// deployment is a child process of the platform, supervised (restarted
// with exponential backoff after it exits, every start, exit and restart
// reported as a runtime.Event), its stderr kept as logs, and, when
// bubblewrap (bwrap) works on the host, sandboxed:
//
//   - a new mount namespace holding only the system directories (/usr and
//     the /bin, /lib* symlinks or directories), a few files of /etc, the
//     server's own executable, and the deployment's allowed paths
//     (read-only or read-write); a private /tmp, /proc and /dev;
//   - new user (no capabilities, no nested user namespaces), PID, IPC,
//     UTS and cgroup namespaces;
//   - a new network namespace with only loopback: no network at all, or,
//     when the deployment declares egress, only the platform's egress
//     proxy (package egress), reached through a forwarder inside the
//     sandbox;
//   - exactly the declared environment plus PATH, HOME and LANG.
//
// Resource limits (address space, CPU time, open files, processes) are
// rlimits set by a re-exec shim of the platform's own executable just
// before the server (or bwrap) starts, so they bind every process of the
// server, sandboxed or not. Without bwrap servers still run, with the
// limits, and Status says Sandboxed: false and why.
//
// Quick start:
//
//	rt, err := process.New(nil)
//	defer rt.Close(ctx)
//	err = rt.Create(ctx, runtime.Spec{Name: "local.echo", Command: "cat"})
//	err = rt.Start(ctx, "local.echo")
//	o, err := rt.Attach("local.echo")
//	rwc, err := o.Open(ctx) // blocks while (re)starting
//
// The shim and the forwarder run from an init function of this package when
// the platform's executable is started with their marker argument, so any
// binary that imports this package can serve as the platform.
package process
