package platform

// Go code apps: an app package with a go.mod at its root is a Go program
// that serves its app over stdio (appserver.New + ServeStdio). The platform
// builds it with `go build`, sandboxed like any app process, and runs the
// binary instead of `mcp-agent serve`.
//
// The build is a one-shot deployment of its own process driver (restart
// policy never) running GOROOT/bin/go with:
//
//   - the unpacked package (read-only) as working directory; go.mod and
//     go.sum are copied to the build directory and used with -modfile, so
//     the package is never changed;
//   - `replace github.com/mcp-agent-go/mcp-agent => Options.GoSource`
//     added to that copy (our module is not published), GoSource bound
//     read-only;
//   - GOROOT and GOMODCACHE read-only, GOPROXY=off, GOSUMDB=off (modules
//     come only from the module cache the operator filled),
//     GOFLAGS=-mod=mod, GOTOOLCHAIN=local, CGO_ENABLED=0, no network;
//   - GOCACHE read-write: Options.GoCache, or DATA/apps/.gocache, shared
//     by all builds (only the go command writes it: no app code runs
//     during a build, no cgo; app processes never see it). A cold cache
//     makes a first build compile every dependency: minutes on 2 cores.
//     No -trimpath, so that a cache warmed by building this checkout on
//     the host (same paths) serves.
//
// The binary and the build's output go to DATA/apps/{ID}/builds/{N}/ (app,
// build.log). A build that fails fails the deploy with go's own messages
// (file.go:LINE:COL: ...). A version whose binary is missing (a data
// directory copied without it) is built again when it is attached.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime/process"
	"github.com/mcp-agent-go/mcp-agent/cloud/store"
)

// AppKindGo is the kind of an app whose package is a Go program (a go.mod
// at its root) that the platform builds and runs (store.Spec.Type of its
// deployment).
const AppKindGo = "go"

// The environment of a Go code app's process, besides the app's own
// variables and secrets. Its working directory is the unpacked package.
const (
	// EnvRunsDB is the SQLite file the app must journal its workflow runs
	// in (executor/local): the platform reads and controls runs there, and
	// it is kept across versions and restarts.
	EnvRunsDB = "MCP_AGENT_RUNS_DB"
	// EnvReplayScript is the absolute path of the deploy's replay script,
	// when one was given.
	EnvReplayScript = "MCP_AGENT_REPLAY_SCRIPT"
)

// modulePath is this module, which Go code apps require.
const modulePath = "github.com/mcp-agent-go/mcp-agent"

// goBuildTimeout bounds one build.
const goBuildTimeout = 10 * time.Minute

// isGoApp reports whether the unpacked package in dir is a Go code app.
func isGoApp(dir string) bool {
	st, err := os.Stat(filepath.Join(dir, "go.mod"))
	return err == nil && st.Mode().IsRegular()
}

// goToolchain is what a build needs from the host.
type goToolchain struct {
	goBin, goroot, modcache, source string
}

// toolchain finds the go command, its GOROOT and module cache, and the
// mcp-agent source that replaces the module in builds.
func (p *Platform) toolchain(ctx context.Context) (goToolchain, error) {
	var tc goToolchain
	bin, err := exec.LookPath("go")
	if err != nil {
		return tc, api.Invalid("this platform cannot build Go code apps: the go command is not in its PATH; install Go and start the platform again")
	}
	out, err := exec.CommandContext(ctx, bin, "env", "-json", "GOROOT", "GOMODCACHE").Output()
	if err != nil {
		return tc, fmt.Errorf("go env: %w", err)
	}
	var env struct{ GOROOT, GOMODCACHE string }
	if err := json.Unmarshal(out, &env); err != nil {
		return tc, fmt.Errorf("go env: %w", err)
	}
	tc.goroot, tc.modcache = env.GOROOT, env.GOMODCACHE
	tc.goBin = filepath.Join(tc.goroot, "bin", "go")
	tc.source = p.opts.GoSource
	if tc.source == "" {
		tc.source = findModuleSource()
	}
	if tc.source == "" {
		return tc, api.Invalid("this platform cannot build Go code apps: it does not know where the mcp-agent source is; start it with `mcp-agent cloud up --go-source DIR` (DIR: a checkout of %s)", modulePath)
	}
	if !isModuleRoot(tc.source) {
		return tc, api.Invalid("this platform cannot build Go code apps: %s (--go-source) is not the root of the %s module", tc.source, modulePath)
	}
	if tc.source, err = filepath.Abs(tc.source); err != nil {
		return tc, err
	}
	return tc, nil
}

// findModuleSource returns the root of a checkout of this module found
// from the working directory or this executable upwards, or "".
func findModuleSource() string {
	var starts []string
	if wd, err := os.Getwd(); err == nil {
		starts = append(starts, wd)
	}
	if exe, err := os.Executable(); err == nil {
		starts = append(starts, filepath.Dir(exe))
	}
	for _, dir := range starts {
		for range 64 {
			if isModuleRoot(dir) {
				return dir
			}
			parent := filepath.Dir(dir)
			if parent == dir {
				break
			}
			dir = parent
		}
	}
	return ""
}

// isModuleRoot reports whether dir holds the go.mod of this module.
func isModuleRoot(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 2 && f[0] == "module" {
			return strings.Trim(f[1], `"`) == modulePath
		}
	}
	return false
}

// goCache is the build cache of Go app builds.
func (p *Platform) goCache() string {
	if p.opts.GoCache != "" {
		return p.opts.GoCache
	}
	return filepath.Join(p.apps.dir, ".gocache")
}

func (a *apps) buildDir(id string, version int) string {
	return filepath.Join(a.dir, id, "builds", fmt.Sprint(version))
}

// stagedBuildDir is where DeployApp builds an uploaded package, next to
// its unpacked files; placeVersion moves it to the version's build
// directory.
func stagedBuildDir(staged string) string { return filepath.Join(filepath.Dir(staged), "build") }

// placeBuild moves a staged build (if any) to the build directory of
// version.
func (p *Platform) placeBuild(id string, version int, staged string) error {
	src := stagedBuildDir(staged)
	if _, err := os.Stat(src); err != nil {
		return nil
	}
	dst := p.apps.buildDir(id, version)
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	_ = os.RemoveAll(dst) // a leftover of an interrupted deploy
	return os.Rename(src, dst)
}

// goBinary returns the binary of a Go app's version, building it from the
// version's directory when it is missing.
func (p *Platform) goBinary(ctx context.Context, full string, sd store.Deployment) (string, error) {
	out := p.apps.buildDir(sd.ID, sd.Version)
	bin := filepath.Join(out, "app")
	if st, err := os.Stat(bin); err == nil && st.Mode().IsRegular() {
		return bin, nil
	}
	if err := p.buildGoApp(ctx, full, p.apps.versionDir(sd.ID, sd.Version), out); err != nil {
		return "", fmt.Errorf("version %d: %w", sd.Version, err)
	}
	return bin, nil
}

// buildGoApp builds the Go program in src (an unpacked package) into
// out/app, keeping go's output in out/build.log. A failed build is an
// api.Invalid error quoting go's output, with paths relative to the
// package.
func (p *Platform) buildGoApp(ctx context.Context, full, src, out string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), goBuildTimeout)
	defer cancel()
	tc, err := p.toolchain(ctx)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(out, 0o700); err != nil {
		return err
	}
	for _, f := range []string{"go.mod", "go.sum"} {
		b, err := os.ReadFile(filepath.Join(src, f))
		if errors.Is(err, os.ErrNotExist) && f == "go.sum" {
			continue
		}
		if err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(out, f), b, 0o600); err != nil {
			return err
		}
	}
	cache := p.goCache()
	if err := os.MkdirAll(cache, 0o700); err != nil {
		return err
	}
	p.logger.Info("building Go app", "app", full, "dir", src)
	start := time.Now()

	done := make(chan struct{}, 1)
	rt, err := process.New(&process.Options{
		Sandbox:  p.opts.Sandbox,
		LogLines: 5000,
		OnEvent: func(e runtime.Event) {
			if e.Kind == runtime.EventExited || e.Kind == runtime.EventStartFailed {
				select {
				case done <- struct{}{}:
				default:
				}
			}
		},
		Logger: p.logger,
	})
	if err != nil {
		return fmt.Errorf("build runtime: %w", err)
	}
	defer rt.Close(context.Background())
	modfile := filepath.Join(out, "go.mod")
	// One shell: edit the copied go.mod (drop the package's own replace of
	// our module, add the platform's), then build.
	script := `set -e
"$0" mod edit -modfile="$1" -dropreplace="$2" -replace="$2=$3"
exec "$0" build -modfile="$1" -o "$4" .`
	spec := runtime.Spec{
		Name:    "build." + full,
		Command: "/bin/sh",
		Args:    []string{"-c", script, tc.goBin, modfile, modulePath, tc.source, filepath.Join(out, "app")},
		Dir:     src,
		Env: map[string]string{
			"PATH":        filepath.Join(tc.goroot, "bin") + ":/usr/local/bin:/usr/bin:/bin",
			"GOROOT":      tc.goroot,
			"GOMODCACHE":  tc.modcache,
			"GOCACHE":     cache,
			"GOPATH":      "/tmp/gopath",
			"GOENV":       "off",
			"GOFLAGS":     "-mod=mod",
			"GOPROXY":     "off",
			"GOSUMDB":     "off",
			"GOTOOLCHAIN": "local",
			"GOTELEMETRY": "off",
			"GOWORK":      "off",
			"CGO_ENABLED": "0",
		},
		Filesystem: runtime.Filesystem{AllowedPaths: []runtime.AllowedPath{
			{Path: src, Mode: runtime.ModeRead},
			{Path: out, Mode: runtime.ModeReadWrite},
			{Path: cache, Mode: runtime.ModeReadWrite},
			{Path: tc.goroot, Mode: runtime.ModeRead},
			{Path: tc.modcache, Mode: runtime.ModeRead},
			{Path: tc.source, Mode: runtime.ModeRead},
		}},
		Restart: runtime.Never,
	}
	if err := rt.Create(ctx, spec); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	if err := rt.Start(ctx, spec.Name); err != nil {
		return fmt.Errorf("build: %w", err)
	}
	var st runtime.Status
	for {
		select {
		case <-done:
		case <-ctx.Done():
			_ = rt.Stop(context.Background(), spec.Name)
			return api.Invalid("the Go code app's build did not finish within %v", goBuildTimeout)
		}
		// Exited is set right after the exit event.
		for range 200 {
			if st, err = rt.Status(ctx, spec.Name); err != nil || st.State == runtime.StateExited {
				break
			}
			time.Sleep(5 * time.Millisecond)
		}
		if err != nil || st.State == runtime.StateExited {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("build: %w", err)
	}
	var log strings.Builder
	for l, err := range rt.Logs(ctx, spec.Name, time.Time{}, false) {
		if err != nil {
			break
		}
		if l.Stream == "stderr" {
			log.WriteString(l.Text)
			log.WriteByte('\n')
			if org, id, ok := p.lookupByFull(full); ok && org != "" && id != "" {
				l.Deployment = full
				p.rec.log(l)
			}
		}
	}
	output := strings.ReplaceAll(log.String(), src+string(filepath.Separator), "")
	_ = os.WriteFile(filepath.Join(out, "build.log"), []byte(output), 0o600)
	failed := st.LastError != "" || st.LastExit != "exit status 0"
	if !failed {
		if _, err := os.Stat(filepath.Join(out, "app")); err != nil {
			failed = true
		}
	}
	if failed {
		why := st.LastExit
		if st.LastError != "" {
			why = st.LastError
		}
		p.logger.Info("Go app build failed", "app", full, "status", why)
		msg := strings.TrimSpace(output)
		if msg == "" {
			msg = why
		}
		return api.Invalid("the Go code app does not build (go build):\n%s", msg)
	}
	p.logger.Info("Go app built", "app", full, "took", time.Since(start).Round(time.Millisecond))
	return nil
}

// buildGoAppUnlessUnchanged builds a Go app's uploaded package, unless the
// app's active version already is this package with this spec (a
// redeploy that DeployApp answers with Unchanged).
func (p *Platform) buildGoAppUnlessUnchanged(ctx context.Context, org, name, digest string, spec store.Spec, staged string) error {
	sd, err := p.store.GetDeployment(ctx, org, store.KindApp, name)
	if err == nil && sd.Digest == digest && store.SpecDigest(sd.Spec) == store.SpecDigest(spec) {
		return nil
	}
	return p.buildGoApp(ctx, org+"."+name, staged, stagedBuildDir(staged))
}
