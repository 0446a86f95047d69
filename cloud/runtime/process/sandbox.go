package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
)

// SandboxMode says whether the driver runs servers in a bubblewrap sandbox.
type SandboxMode string

// Sandbox modes.
const (
	// SandboxAuto sandboxes when bwrap is installed and can create
	// namespaces here, and otherwise runs unsandboxed (with rlimits),
	// reporting the reason in Status.
	SandboxAuto SandboxMode = ""
	// SandboxRequired makes New fail when the sandbox is unavailable.
	SandboxRequired SandboxMode = "required"
	// SandboxOff never sandboxes.
	SandboxOff SandboxMode = "off"
)

// ErrNoSandbox is returned by New with SandboxRequired when bwrap is
// missing or cannot create namespaces.
var ErrNoSandbox = errors.New("bubblewrap sandbox unavailable")

// systemDirs are bound read-only (or recreated as the same symlinks) when
// they exist on the host: what dynamically linked programs and
// interpreters under /usr need to run.
var systemDirs = []string{"/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"}

// etcFiles are the parts of /etc a server may need: the dynamic linker's
// cache, TLS roots, name resolution, time zone, user and group names (no
// passwords: /etc/shadow is not among them) and Debian's alternatives
// symlinks. Bound read-only when present.
var etcFiles = []string{
	"/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
	"/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/etc/crypto-policies",
	"/etc/resolv.conf", "/etc/hosts", "/etc/nsswitch.conf", "/etc/host.conf", "/etc/gai.conf",
	"/etc/localtime", "/etc/passwd", "/etc/group", "/etc/alternatives",
}

// sandboxProbe finds bwrap and checks that it can create the namespaces the
// driver asks for. It returns the bwrap path, or "" and the reason.
func sandboxProbe(ctx context.Context, bwrap string) (path, reason string) {
	if bwrap == "" {
		p, err := exec.LookPath("bwrap")
		if err != nil {
			return "", "bwrap (bubblewrap) is not installed; install it (scripts/setup-bwrap, or apt-get install bubblewrap) to sandbox servers"
		}
		bwrap = p
	} else if _, err := os.Stat(bwrap); err != nil {
		return "", fmt.Sprintf("bwrap not found at %s (Options.BwrapPath): %v", bwrap, errors.Unwrap(err))
	}
	tru := ""
	for _, p := range []string{"/usr/bin/true", "/bin/true"} {
		if _, err := os.Stat(p); err == nil {
			tru = p
			break
		}
	}
	if tru == "" {
		return "", "cannot probe bwrap: /usr/bin/true not found"
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	args := append(namespaceArgs(false), "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev",
		"--size", "1048576", "--tmpfs", "/tmp", "--", tru)
	cmd := exec.CommandContext(ctx, bwrap, args...)
	cmd.Env = []string{}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		if strings.Contains(msg, "Unknown option") {
			return "", fmt.Sprintf("%s is too old (%s); the sandbox needs bubblewrap 0.8 or later", bwrap, msg)
		}
		return "", fmt.Sprintf("bwrap cannot create namespaces here (%s); unprivileged user namespaces may be disabled (sysctl kernel.unprivileged_userns_clone / user.max_user_namespaces)", msg)
	}
	return bwrap, ""
}

// namespaceArgs are the isolation flags of every sandbox: new user, mount,
// PID, IPC, UTS, cgroup and (unless shareNet) network namespaces; no
// capabilities; no nested user namespaces; a new session (no TIOCSTI into
// the platform's terminal); killed when the platform dies.
func namespaceArgs(shareNet bool) []string {
	a := []string{"--unshare-all", "--unshare-user", "--disable-userns"}
	if shareNet {
		a = append(a, "--share-net")
	}
	return append(a, "--cap-drop", "ALL", "--die-with-parent", "--new-session")
}

// sandboxPlan is the input of bwrapArgs, resolved on the host.
type sandboxPlan struct {
	exe      string // resolved absolute path of the command
	args     []string
	dir      string
	allowed  []runtime.AllowedPath // cleaned, symlinks resolved
	hidden   []string              // host paths to mask under allowed paths
	shareNet bool
	tmpSize  int64
	extra    [][2]string // additional read-only binds (src, dest)
}

// bwrapArgs returns bwrap's arguments (without the bwrap path) that run the
// plan's command. The environment is not among them: bwrap passes its own
// environment, which the driver sets to exactly the server's, to the
// command (keeping secrets out of the process list).
func bwrapArgs(p sandboxPlan) []string {
	a := namespaceArgs(p.shareNet)
	for _, d := range systemDirs {
		fi, err := os.Lstat(d)
		if err != nil {
			continue
		}
		if fi.Mode()&fs.ModeSymlink != 0 {
			if target, err := os.Readlink(d); err == nil {
				a = append(a, "--symlink", target, d)
			}
			continue
		}
		if fi.IsDir() {
			a = append(a, "--ro-bind", d, d)
		}
	}
	for _, f := range etcFiles {
		if _, err := os.Stat(f); err == nil {
			a = append(a, "--ro-bind", f, f)
		}
	}
	a = append(a, "--proc", "/proc", "--dev", "/dev")
	if p.tmpSize > 0 {
		a = append(a, "--size", strconv.FormatInt(p.tmpSize, 10))
	}
	a = append(a, "--tmpfs", "/tmp")
	if !underAny(p.exe, systemDirs) {
		a = append(a, "--ro-bind", p.exe, p.exe)
	}
	for _, b := range p.extra {
		a = append(a, "--ro-bind", b[0], b[1])
	}
	for _, ap := range p.allowed {
		if ap.Mode == runtime.ModeReadWrite {
			a = append(a, "--bind", ap.Path, ap.Path)
		} else {
			a = append(a, "--ro-bind", ap.Path, ap.Path)
		}
	}
	for _, h := range p.hidden {
		a = append(a, "--tmpfs", h, "--remount-ro", h)
	}
	a = append(a, "--chdir", p.dir, "--", p.exe)
	return append(a, p.args...)
}

// within reports whether path is dir or inside it (both clean, absolute).
func within(path, dir string) bool {
	if dir == "/" {
		return true
	}
	return path == dir || strings.HasPrefix(path, dir+"/")
}

func underAny(path string, dirs []string) bool {
	for _, d := range dirs {
		if within(path, d) {
			return true
		}
	}
	return false
}

// resolvePath cleans p and resolves its symlinks when it exists.
func resolvePath(p string) string {
	p = filepath.Clean(p)
	if r, err := filepath.EvalSymlinks(p); err == nil {
		return r
	}
	return p
}
