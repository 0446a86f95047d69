package platform

// The api.AppService implementation: deploying and managing apps.
//
// An app is a deployment of kind app whose process is `mcp-agent serve
// --transport stdio` on the app's unpacked directory, run by the app
// runtime in the sandbox and served by the gateway like any stdio server
// (/servers/{org}.{name}/mcp). On disk, under DATA/apps/{deployment ID}/:
//
//	packages/{hex}.tar.gz   every uploaded package, by content digest
//	versions/{N}/           the package of version N, unpacked: the app's
//	                        working directory (read-write)
//	state/runs.db           the app's workflow runs (read-write), shared by
//	                        every version, so runs survive redeploys,
//	                        rollbacks and platform restarts
//	builds/{N}/             a Go code app's binary and build.log (goapp.go:
//	                        such an app runs its own program instead of
//	                        mcp-agent serve)
//
// The app runtime is a second process driver without hidden paths: an app
// sees only its own version and state directories (never other apps, the
// store or the keys), which live inside the data directory that the server
// runtime hides from servers.

import (
	"archive/tar"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/gateway"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime/process"
	"github.com/mcp-agent-go/mcp-agent/cloud/store"
	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/llm/replay"
)

// AppKindDeclarative is the kind of an app run by `mcp-agent serve` from its
// config alone (store.Spec.Type of its deployment).
const AppKindDeclarative = "declarative"

// Limits of an unpacked app package.
const (
	maxAppFiles         = 10000
	maxAppUnpackedBytes = 512 << 20
)

// configNames are the config file names an app may use, at its root.
var configNames = []string{"mcp_agent.config.yaml", "mcp_agent.config.yml", "mcp-agent.config.yaml", "mcp-agent.config.yml"}

// apps is the platform's app state.
type apps struct {
	rt      *process.Driver
	dir     string // DATA/apps
	secrets *secretBox
	watch   *runWatcher

	mu       sync.Mutex
	masks    map[string][]string    // secret values to mask in each app's logs
	sessions map[string]*appSession // by full name
	deploys  map[string]*sync.Mutex // serialises deploys of one name
}

// startApps creates the app runtime and restores the stored apps. Start
// calls it after the servers are restored.
func (p *Platform) startApps(ctx context.Context) error {
	rt, err := process.New(&process.Options{
		Sandbox: p.opts.Sandbox,
		OnEvent: p.rec.event,
		OnLog: func(l runtime.LogLine) {
			l.Text = p.apps.maskLine(l.Deployment, l.Text) // secrets never reach the logs
			p.rec.log(l)
		},
		Backoff: p.opts.Backoff,
		Logger:  p.logger,
	})
	if err != nil {
		return fmt.Errorf("platform: app runtime: %w", err)
	}
	p.apps = &apps{
		rt: rt, dir: filepath.Join(p.dataDir, "apps"), secrets: &secretBox{dir: p.dataDir}, watch: newRunWatcher(),
		sessions: map[string]*appSession{}, deploys: map[string]*sync.Mutex{}, masks: map[string][]string{},
	}
	if err := os.MkdirAll(filepath.Join(p.apps.dir, ".incoming"), 0o700); err != nil {
		return fmt.Errorf("platform: apps directory: %w", err)
	}
	// Uploads interrupted by a crash.
	if ents, err := os.ReadDir(filepath.Join(p.apps.dir, ".incoming")); err == nil {
		for _, e := range ents {
			_ = os.RemoveAll(filepath.Join(p.apps.dir, ".incoming", e.Name()))
		}
	}
	orgs, err := p.store.ListOrgs(ctx)
	if err != nil {
		return fmt.Errorf("platform: list orgs: %w", err)
	}
	for _, o := range orgs {
		deps, err := p.store.ListDeployments(ctx, o.Name, &store.ListOptions{Kind: store.KindApp})
		if err != nil {
			return fmt.Errorf("platform: list apps of %s: %w", o.Name, err)
		}
		for _, sd := range deps {
			d := &deployment{id: sd.ID, org: sd.Org, name: sd.Name, full: sd.FullName(), app: true,
				public: sd.Spec.Public, desired: sd.DesiredState}
			p.mu.Lock()
			p.deps[d.full] = d
			p.mu.Unlock()
			if err := p.attachApp(ctx, d, sd); err != nil {
				p.logger.Error("cannot restore app", "app", d.full, "err", err)
				_, _ = p.store.UpdateStatus(ctx, sd.Org, sd.ID, store.StatusFailed, "cannot restore after a platform restart: "+err.Error())
				continue
			}
			if sd.DesiredState == store.DesiredRunning {
				if err := p.startApp(ctx, d, "platform restarted"); err != nil {
					p.logger.Error("cannot start app", "app", d.full, "err", err)
				}
				p.logger.Info("app restored", "app", d.full)
			} else if sd.Status != store.StatusStopped {
				_, _ = p.store.UpdateStatus(ctx, sd.Org, sd.ID, store.StatusStopped, "")
			}
		}
	}
	p.apps.watch.running = true
	go p.watchRuns()
	return nil
}

// closeApps stops every app and closes the internal sessions. Shutdown
// calls it before the recorder and the store close.
func (p *Platform) closeApps(ctx context.Context) error {
	a := p.apps
	if a == nil {
		return nil
	}
	close(a.watch.stop)
	if a.watch.running {
		<-a.watch.done
	}
	a.mu.Lock()
	sessions := a.sessions
	a.sessions = map[string]*appSession{}
	a.mu.Unlock()
	for _, s := range sessions {
		s.close()
	}
	return a.rt.Close(ctx)
}

// maskLine hides the secret values of app full in a log line.
func (a *apps) maskLine(full, line string) string {
	if a == nil {
		return line
	}
	a.mu.Lock()
	values := a.masks[full]
	a.mu.Unlock()
	return maskSecrets(line, values)
}

func (a *apps) appDir(id string) string { return filepath.Join(a.dir, id) }

func (a *apps) versionDir(id string, version int) string {
	return filepath.Join(a.dir, id, "versions", fmt.Sprint(version))
}

func (a *apps) stateDir(id string) string { return filepath.Join(a.dir, id, "state") }

func (a *apps) packagePath(id, digest string) string {
	return filepath.Join(a.dir, id, "packages", strings.TrimPrefix(digest, "sha256:")+".tar.gz")
}

// deployLock returns the mutex serialising deploys of full.
func (a *apps) deployLock(full string) *sync.Mutex {
	a.mu.Lock()
	defer a.mu.Unlock()
	m := a.deploys[full]
	if m == nil {
		m = &sync.Mutex{}
		a.deploys[full] = m
	}
	return m
}

// appNotFound is the error for an unknown app.
func appNotFound(name string) *api.Error {
	return api.NotFound("app %q not found: list them with `mcp-agent apps list`", name)
}

// getApp returns the registered app named name in org.
func (p *Platform) getApp(org, name string) (*deployment, error) {
	p.mu.Lock()
	d := p.deps[org+"."+name]
	p.mu.Unlock()
	if d == nil || !d.app {
		return nil, appNotFound(name)
	}
	if _, _, deleted := d.state(); deleted {
		return nil, appNotFound(name)
	}
	return d, nil
}

// appSpec validates a deploy request and returns the spec to store.
func appSpec(req api.DeployAppRequest) (store.Spec, error) {
	if req.Name == "" {
		return store.Spec{}, api.Invalid(`"name" is required: the app's name, such as "approval"`)
	}
	if !nameRE.MatchString(req.Name) {
		return store.Spec{}, api.Invalid("invalid app name %q: use lowercase letters, digits, '-' and '_', starting with a letter or digit, at most 63 characters", req.Name)
	}
	s := store.Spec{Type: AppKindDeclarative, Env: req.Env, EgressAllow: req.EgressAllow, Limits: store.Limits(req.Limits), Public: req.Public}
	for i, e := range req.EgressAllow {
		if _, err := runtime.ParseEgressRule(e); err != nil {
			return s, api.Invalid("egress_allow[%d]: %v", i, err)
		}
	}
	for k, v := range req.Env {
		if !envNameRE.MatchString(k) {
			return s, api.Invalid("env: %q is not a valid variable name (letters, digits, _; not starting with a digit)", k)
		}
		if strings.ContainsRune(v, 0) {
			return s, api.Invalid("env: the value of %s contains a NUL byte", k)
		}
	}
	if req.Limits.MemoryBytes < 0 || req.Limits.CPUSeconds < 0 || req.Limits.OpenFiles < 0 || req.Limits.Processes < 0 || req.Limits.CallTimeoutSeconds < 0 {
		return s, api.Invalid("limits must not be negative (0 means no limit)")
	}
	if req.ReplayScript != "" {
		rel, err := packagePath(req.ReplayScript)
		if err != nil {
			return s, api.Invalid("replay_script: %v", err)
		}
		s.Args = []string{"--script", rel}
	}
	return s, nil
}

// replayScriptOf returns the replay script a spec names, if any.
func replayScriptOf(s store.Spec) string {
	if i := slices.Index(s.Args, "--script"); i >= 0 && i+1 < len(s.Args) {
		return s.Args[i+1]
	}
	return ""
}

// packagePath checks a slash-separated path inside a package and returns
// it cleaned.
func packagePath(p string) (string, error) {
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "\\") {
		return "", fmt.Errorf("%q: want a relative path inside the app directory", p)
	}
	c := path.Clean(p)
	if c == "." || c == ".." || strings.HasPrefix(c, "../") {
		return "", fmt.Errorf("%q: want a relative path inside the app directory", p)
	}
	return c, nil
}

// DeployApp implements api.AppService.
func (p *Platform) DeployApp(ctx context.Context, org string, req api.DeployAppRequest, pkg io.Reader) (api.AppDeployResult, error) {
	var res api.AppDeployResult
	spec, err := appSpec(req)
	if err != nil {
		return res, err
	}
	full := org + "." + req.Name
	// Receive and check the package before anything is stored.
	in, err := os.MkdirTemp(filepath.Join(p.apps.dir, ".incoming"), "upload-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(in)
	gzPath := filepath.Join(in, "package.tar.gz")
	if err := receive(pkg, gzPath); err != nil {
		return res, err
	}
	staged := filepath.Join(in, "app")
	digest, err := unpack(gzPath, staged)
	if err != nil {
		return res, err
	}
	if req.Digest != "" && req.Digest != digest {
		return res, api.Invalid("the package's digest is %s, not %s as sent: the upload was corrupted, deploy again", digest, req.Digest)
	}
	if err := p.checkApp(org, req.Name, staged, spec); err != nil {
		return res, err
	}
	if isGoApp(staged) { // goapp.go: build now, so a compile error fails the deploy
		spec.Type = AppKindGo
		if err := p.buildGoAppUnlessUnchanged(ctx, org, req.Name, digest, spec, staged); err != nil {
			return res, err
		}
	}

	lock := p.apps.deployLock(full)
	lock.Lock()
	defer lock.Unlock()
	ctx = context.WithoutCancel(ctx) // finish the deploy even if the client leaves
	desired := store.DesiredRunning
	if req.Stopped {
		desired = store.DesiredStopped
	}
	sd, err := p.store.GetDeployment(ctx, org, "", req.Name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return p.createApp(ctx, org, req.Name, spec, digest, desired, gzPath, staged)
	case err != nil:
		return res, err
	case sd.Kind != store.KindApp:
		return res, api.Conflict("a server named %q exists: choose another name for the app, or delete the server with `mcp-agent servers delete %s`", req.Name, req.Name)
	}
	d, err := p.getApp(org, req.Name)
	if err != nil {
		return res, err
	}
	d.op.Lock()
	defer d.op.Unlock()
	if sd.Digest == digest && store.SpecDigest(sd.Spec) == store.SpecDigest(spec) {
		cur, _, _ := d.state()
		if cur != desired {
			if desired == store.DesiredRunning {
				err = p.startApp(ctx, d, "deployed again")
			} else {
				err = p.stopApp(ctx, d)
			}
			if err != nil {
				return res, err
			}
		}
		a, err := p.GetApp(ctx, org, req.Name)
		return api.AppDeployResult{App: a, Unchanged: true, Version: sd.Version}, err
	}
	v, err := p.store.AddVersion(ctx, org, sd.ID, store.DeploymentVersion{Spec: spec, Digest: digest})
	if err != nil {
		return res, err
	}
	if err := p.placeVersion(sd.ID, v.Version, digest, gzPath, staged); err != nil {
		return res, err
	}
	if err := p.activateApp(ctx, d, v.Version, desired, fmt.Sprintf("version %d deployed", v.Version)); err != nil {
		return res, err
	}
	p.logger.Info("app version deployed", "app", full, "version", v.Version, "digest", digest)
	a, err := p.GetApp(ctx, org, req.Name)
	return api.AppDeployResult{App: a, Version: v.Version}, err
}

// createApp stores a new app at version 1, puts its files in place and
// starts it.
func (p *Platform) createApp(ctx context.Context, org, name string, spec store.Spec, digest string, desired store.DesiredState, gzPath, staged string) (api.AppDeployResult, error) {
	var res api.AppDeployResult
	sd, err := p.store.CreateDeployment(ctx, store.Deployment{Org: org, Name: name, Kind: store.KindApp, Spec: spec, Digest: digest, DesiredState: desired})
	if err != nil {
		if errors.Is(err, store.ErrConflict) {
			return res, api.Conflict("the name %q is taken: choose another name", name)
		}
		return res, err
	}
	undo := func() {
		_ = p.store.DeleteDeployment(ctx, org, sd.ID)
		_ = os.RemoveAll(p.apps.appDir(sd.ID))
	}
	if err := p.placeVersion(sd.ID, sd.Version, digest, gzPath, staged); err != nil {
		undo()
		return res, err
	}
	if err := os.MkdirAll(p.apps.stateDir(sd.ID), 0o700); err != nil {
		undo()
		return res, err
	}
	d := &deployment{id: sd.ID, org: org, name: name, full: sd.FullName(), app: true, public: spec.Public, desired: desired}
	if err := p.attachApp(ctx, d, sd); err != nil {
		undo()
		return res, err
	}
	p.mu.Lock()
	p.deps[d.full] = d
	p.mu.Unlock()
	p.logger.Info("app deployed", "app", d.full, "digest", digest)
	d.op.Lock()
	if desired == store.DesiredRunning {
		err = p.startApp(ctx, d, "")
	} else {
		_, err = p.store.UpdateStatus(ctx, org, sd.ID, store.StatusStopped, "deployed stopped")
	}
	d.op.Unlock()
	if err != nil {
		return res, err
	}
	a, err := p.GetApp(ctx, org, name)
	return api.AppDeployResult{App: a, Created: true, Version: sd.Version}, err
}

// placeVersion moves an unpacked package to the version's directory and
// keeps the package.
func (p *Platform) placeVersion(id string, version int, digest, gzPath, staged string) error {
	pkg := p.apps.packagePath(id, digest)
	if err := os.MkdirAll(filepath.Dir(pkg), 0o700); err != nil {
		return err
	}
	if _, err := os.Stat(pkg); err != nil {
		if err := os.Rename(gzPath, pkg); err != nil {
			return err
		}
	}
	vdir := p.apps.versionDir(id, version)
	if err := os.MkdirAll(filepath.Dir(vdir), 0o700); err != nil {
		return err
	}
	_ = os.RemoveAll(vdir) // a leftover of an interrupted deploy
	if err := p.placeBuild(id, version, staged); err != nil {
		return err
	}
	return os.Rename(staged, vdir)
}

// ensureVersionDir unpacks the package of a version whose directory is
// missing (removed by hand, say).
func (p *Platform) ensureVersionDir(sd store.Deployment) error {
	vdir := p.apps.versionDir(sd.ID, sd.Version)
	if _, err := os.Stat(vdir); err == nil {
		return nil
	}
	pkg := p.apps.packagePath(sd.ID, sd.Digest)
	tmp, err := os.MkdirTemp(filepath.Join(p.apps.dir, ".incoming"), "restore-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if _, err := unpack(pkg, filepath.Join(tmp, "app")); err != nil {
		return fmt.Errorf("version %d: %w", sd.Version, err)
	}
	if err := os.MkdirAll(filepath.Dir(vdir), 0o700); err != nil {
		return err
	}
	return os.Rename(filepath.Join(tmp, "app"), vdir)
}

// attachApp creates the app in the app runtime (its active version) and
// registers it in the gateway.
func (p *Platform) attachApp(ctx context.Context, d *deployment, sd store.Deployment) error {
	if err := p.ensureVersionDir(sd); err != nil {
		return err
	}
	if err := os.MkdirAll(p.apps.stateDir(sd.ID), 0o700); err != nil {
		return err
	}
	rs, err := p.appRuntimeSpec(d.full, sd)
	if err != nil {
		return err
	}
	if err := p.apps.rt.Create(ctx, rs); err != nil && !errors.Is(err, runtime.ErrExists) {
		return p.mapRuntimeError(d.name, err)
	}
	p.gw.RegisterWith(d.full, &stdioBackend{rt: p.apps.rt, name: d.full, desc: "mcp-agent serve (app " + d.full + ")"}, gateway.Shared, gatewayOptions(sd.Spec))
	d.mu.Lock()
	d.attached = true
	d.public = sd.Spec.Public
	d.mu.Unlock()
	return nil
}

// appRuntimeSpec is what the app runtime runs for version sd.Version.
func (p *Platform) appRuntimeSpec(full string, sd store.Deployment) (runtime.Spec, error) {
	vdir := p.apps.versionDir(sd.ID, sd.Version)
	state := p.apps.stateDir(sd.ID)
	cfg := ""
	for _, n := range configNames {
		if st, err := os.Stat(filepath.Join(vdir, n)); err == nil && st.Mode().IsRegular() {
			cfg = filepath.Join(vdir, n)
			break
		}
	}
	if cfg == "" {
		return runtime.Spec{}, fmt.Errorf("version %d has no mcp_agent.config.yaml", sd.Version)
	}
	serve := p.opts.Serve
	args := append(slices.Clone(serve.Args), "serve", "--transport", "stdio", "--config", cfg,
		"--runs-db", filepath.Join(state, "runs.db"), "--verbose")
	if s := replayScriptOf(sd.Spec); s != "" {
		args = append(args, "--script", filepath.Join(vdir, filepath.FromSlash(s)))
	}
	command := serve.Path
	if sd.Spec.Type == AppKindGo { // goapp.go: the built program, told where things are by its environment
		bin, err := p.goBinary(context.Background(), full, sd)
		if err != nil {
			return runtime.Spec{}, err
		}
		command, args = bin, nil
		serve = &Command{Env: map[string]string{EnvRunsDB: filepath.Join(state, "runs.db")}}
		if s := replayScriptOf(sd.Spec); s != "" {
			serve.Env[EnvReplayScript] = filepath.Join(vdir, filepath.FromSlash(s))
		}
	}
	s := sd.Spec
	rs := runtime.Spec{
		Name:    full,
		Command: command,
		Args:    args,
		Env:     map[string]string{},
		Dir:     vdir,
		Filesystem: runtime.Filesystem{AllowedPaths: []runtime.AllowedPath{
			{Path: vdir, Mode: runtime.ModeReadWrite},
			{Path: state, Mode: runtime.ModeReadWrite},
		}},
		Network: runtime.Network{EgressAllow: slices.Clone(s.EgressAllow)},
		Limits: runtime.Limits{
			MemoryBytes: s.Limits.MemoryBytes, CPUSeconds: s.Limits.CPUSeconds,
			OpenFiles: s.Limits.OpenFiles, Processes: s.Limits.Processes,
			CallTimeout: time.Duration(s.Limits.CallTimeoutSeconds * float64(time.Second)),
		},
	}
	for k, v := range serve.Env {
		rs.Env[k] = v
	}
	for k, v := range s.Env {
		rs.Env[k] = v
	}
	secrets, err := p.appSecrets(sd.Org, sd.Name)
	if err != nil {
		return rs, err
	}
	masks := make([]string, 0, len(secrets))
	for k, v := range secrets {
		rs.Env[k] = v
		masks = append(masks, v)
	}
	p.apps.mu.Lock()
	p.apps.masks[full] = masks
	p.apps.mu.Unlock()
	if err := rs.Validate(); err != nil {
		var se *runtime.SpecError
		if errors.As(err, &se) {
			return rs, api.Invalid("%s", specErrorMessage(se))
		}
		return rs, api.Invalid("%v", err)
	}
	return rs, nil
}

// startApp sets the desired state to running and starts the app. The
// caller holds d.op (or is the only one who knows d).
func (p *Platform) startApp(ctx context.Context, d *deployment, why string) error {
	d.mu.Lock()
	attached := d.attached
	d.mu.Unlock()
	if !attached {
		sd, err := p.store.GetDeploymentByID(ctx, d.org, d.id)
		if err != nil {
			return err
		}
		if err := p.attachApp(ctx, d, sd); err != nil {
			_, _ = p.store.UpdateStatus(ctx, d.org, d.id, store.StatusFailed, "cannot start: "+err.Error())
			return err
		}
	}
	if _, err := p.store.SetDesiredState(ctx, d.org, d.id, store.DesiredRunning); err != nil {
		return err
	}
	d.setDesired(store.DesiredRunning)
	if _, err := p.store.UpdateStatus(ctx, d.org, d.id, store.StatusStarting, why); err != nil {
		return err
	}
	p.rec.notify(d.full)
	if err := p.apps.rt.Start(ctx, d.full); err != nil {
		_, _ = p.store.UpdateStatus(ctx, d.org, d.id, store.StatusFailed, err.Error())
		return fmt.Errorf("start %s: %w", d.full, err)
	}
	return nil
}

// stopApp stops the app's process; its runs keep their state.
func (p *Platform) stopApp(ctx context.Context, d *deployment) error {
	if _, err := p.store.SetDesiredState(ctx, d.org, d.id, store.DesiredStopped); err != nil {
		return err
	}
	d.setDesired(store.DesiredStopped)
	p.dropSession(d.full)
	if err := p.apps.rt.Stop(ctx, d.full); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		return fmt.Errorf("stop %s: %w", d.full, err)
	}
	_, err := p.store.UpdateStatus(ctx, d.org, d.id, store.StatusStopped, "")
	p.rec.notify(d.full)
	return err
}

// activateApp makes version the app's active one and runs it: the old
// process stops, the new one starts (unless desired is stopped). The caller
// holds d.op.
func (p *Platform) activateApp(ctx context.Context, d *deployment, version int, desired store.DesiredState, why string) error {
	sd, err := p.store.ActivateVersion(ctx, d.org, d.id, version)
	if err != nil {
		return err
	}
	p.dropSession(d.full)
	if err := p.apps.rt.Delete(ctx, d.full); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		return fmt.Errorf("stop %s: %w", d.full, err)
	}
	d.mu.Lock()
	d.attached = false
	d.mu.Unlock()
	if err := p.attachApp(ctx, d, sd); err != nil {
		_, _ = p.store.UpdateStatus(ctx, d.org, d.id, store.StatusFailed, "cannot run version "+fmt.Sprint(version)+": "+err.Error())
		return err
	}
	if desired == store.DesiredRunning {
		return p.startApp(ctx, d, why)
	}
	return p.stopApp(ctx, d)
}

// checkApp validates an unpacked app: a config that loads (with the app's
// environment and secrets), a replay script that parses. (Go code is
// checked by building it: goapp.go.)
func (p *Platform) checkApp(org, name, dir string, spec store.Spec) error {
	cfgName := ""
	for _, n := range configNames {
		if st, err := os.Stat(filepath.Join(dir, n)); err == nil && st.Mode().IsRegular() {
			cfgName = n
			break
		}
	}
	if cfgName == "" {
		return api.Invalid("the package has no mcp_agent.config.yaml at its root: deploy the directory that holds the app's config")
	}
	data, err := os.ReadFile(filepath.Join(dir, cfgName))
	if err != nil {
		return err
	}
	env := map[string]string{}
	for k, v := range spec.Env {
		env[k] = v
	}
	secrets, err := p.appSecrets(org, name)
	if err != nil {
		return err
	}
	for k, v := range secrets {
		env[k] = v
	}
	environ := make([]string, 0, len(env))
	for k, v := range env {
		environ = append(environ, k+"="+v)
	}
	slices.Sort(environ)
	_, err = config.LoadBytes(cfgName, data, config.LoadOptions{
		Env:     func(k string) (string, bool) { v, ok := env[k]; return v, ok },
		Environ: environ,
	})
	if err != nil {
		var ve *config.ValidationError
		if errors.As(err, &ve) {
			msg := ve.Error()
			if strings.Contains(msg, "environment variable ") && strings.Contains(msg, " is not set") {
				msg += fmt.Sprintf("\n(set a missing variable as a secret of the app: `mcp-agent secrets set %s NAME`, or pass it with --env NAME=VALUE)", name)
			}
			return api.Invalid("%s", msg)
		}
		return api.Invalid("%s: %v", cfgName, err)
	}
	if s := replayScriptOf(spec); s != "" {
		file := filepath.Join(dir, filepath.FromSlash(s))
		if _, err := os.Stat(file); err != nil {
			return api.Invalid("replay_script: %s is not in the package", s)
		}
		if _, err := replay.Load(file); err != nil {
			return api.Invalid("replay_script: %s", strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""))
		}
	}
	return nil
}

// receive copies an uploaded package to file.
func receive(pkg io.Reader, file string) error {
	f, err := os.OpenFile(file, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, pkg)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return api.TooLarge(mbe.Limit)
	}
	if err != nil {
		return api.Errorf(http.StatusBadRequest, api.CodeBadRequest, "the app package upload broke off: %v", err)
	}
	return nil
}

// unpack extracts a gzipped tar package into dst (created) and returns its
// digest: "sha256:" and the hex SHA-256 of the uncompressed tar. Only
// regular files and directories with relative paths inside dst are
// accepted.
func unpack(gzPath, dst string) (string, error) {
	f, err := os.Open(gzPath)
	if err != nil {
		return "", err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return "", api.Invalid("the app package is not a gzipped tar: %v", err)
	}
	h := sha256.New()
	tee := io.TeeReader(zr, h)
	tr := tar.NewReader(tee)
	if err := os.MkdirAll(dst, 0o700); err != nil {
		return "", err
	}
	var files int
	var total int64
	bad := func(format string, args ...any) error {
		return api.Invalid("the app package is malformed: "+format, args...)
	}
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "", bad("%v", err)
		}
		name, perr := packagePath(strings.TrimSuffix(hdr.Name, "/"))
		if perr != nil {
			return "", bad("entry %v", perr)
		}
		target := filepath.Join(dst, filepath.FromSlash(name))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return "", err
			}
		case tar.TypeReg:
			files++
			total += hdr.Size
			if files > maxAppFiles {
				return "", bad("more than %d files", maxAppFiles)
			}
			if total > maxAppUnpackedBytes {
				return "", bad("its files exceed %s unpacked: list what the app does not need in .mcpagentignore", api.FormatBytes(maxAppUnpackedBytes))
			}
			if err := os.MkdirAll(filepath.Dir(target), 0o755); err != nil {
				return "", err
			}
			mode := os.FileMode(0o644)
			if hdr.Mode&0o111 != 0 {
				mode = 0o755
			}
			out, err := os.OpenFile(target, os.O_CREATE|os.O_EXCL|os.O_WRONLY, mode)
			if err != nil {
				if errors.Is(err, os.ErrExist) {
					return "", bad("%s appears twice", name)
				}
				return "", err
			}
			_, err = io.Copy(out, tr)
			if cerr := out.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return "", bad("%s: %v", name, err)
			}
		default:
			return "", bad("%s is not a regular file or directory (links and devices are not packaged)", name)
		}
	}
	if _, err := io.Copy(io.Discard, tee); err != nil {
		return "", bad("%v", err)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// ListApps implements api.AppService.
func (p *Platform) ListApps(ctx context.Context, org string) ([]api.App, error) {
	sds, err := p.store.ListDeployments(ctx, org, &store.ListOptions{Kind: store.KindApp})
	if err != nil {
		return nil, err
	}
	out := make([]api.App, 0, len(sds))
	for _, sd := range sds {
		out = append(out, p.appView(ctx, sd))
	}
	return out, nil
}

// GetApp implements api.AppService.
func (p *Platform) GetApp(ctx context.Context, org, name string) (api.App, error) {
	sd, err := p.store.GetDeployment(ctx, org, store.KindApp, name)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return api.App{}, appNotFound(name)
		}
		return api.App{}, err
	}
	return p.appView(ctx, sd), nil
}

// StartApp implements api.AppService. The app's process is set up afresh
// (its environment gets the secrets as they are now).
func (p *Platform) StartApp(ctx context.Context, org, name string) (api.App, error) {
	return p.withApp(ctx, org, name, func(ctx context.Context, d *deployment) error {
		return p.rerunApp(ctx, d, "started by request")
	})
}

// rerunApp stops the app's process if it runs, creates it again from the
// active version (fresh secrets) and starts it. The caller holds d.op.
func (p *Platform) rerunApp(ctx context.Context, d *deployment, why string) error {
	sd, err := p.store.GetDeploymentByID(ctx, d.org, d.id)
	if err != nil {
		return err
	}
	return p.activateApp(ctx, d, sd.Version, store.DesiredRunning, why)
}

// StopApp implements api.AppService.
func (p *Platform) StopApp(ctx context.Context, org, name string) (api.App, error) {
	return p.withApp(ctx, org, name, p.stopApp)
}

// RestartApp implements api.AppService: the app runs again with its secrets
// as they are now.
func (p *Platform) RestartApp(ctx context.Context, org, name string) (api.App, error) {
	return p.withApp(ctx, org, name, func(ctx context.Context, d *deployment) error {
		return p.rerunApp(ctx, d, "restarted by request")
	})
}

// RollbackApp implements api.AppService.
func (p *Platform) RollbackApp(ctx context.Context, org, name string, version int) (api.App, error) {
	return p.withApp(ctx, org, name, func(ctx context.Context, d *deployment) error {
		vs, err := p.store.ListVersions(ctx, org, d.id)
		if err != nil {
			return err
		}
		var nums []string
		found := false
		for _, v := range vs {
			nums = append(nums, fmt.Sprint(v.Version))
			found = found || v.Version == version
		}
		if !found {
			return api.NotFound("app %q has no version %d (versions: %s)", name, version, strings.Join(nums, ", "))
		}
		desired, _, _ := d.state()
		return p.activateApp(ctx, d, version, desired, fmt.Sprintf("rolled back to version %d", version))
	})
}

func (p *Platform) withApp(ctx context.Context, org, name string, f func(context.Context, *deployment) error) (api.App, error) {
	d, err := p.getApp(org, name)
	if err != nil {
		return api.App{}, err
	}
	lock := p.apps.deployLock(d.full)
	lock.Lock()
	d.op.Lock()
	if _, _, deleted := d.state(); deleted {
		d.op.Unlock()
		lock.Unlock()
		return api.App{}, appNotFound(name)
	}
	err = f(context.WithoutCancel(ctx), d)
	d.op.Unlock()
	lock.Unlock()
	if err != nil {
		return api.App{}, err
	}
	return p.GetApp(ctx, org, name)
}

// DeleteApp implements api.AppService. The app's versions and runs are
// removed from disk; its events and logs stay readable in the store until
// purged.
func (p *Platform) DeleteApp(ctx context.Context, org, name string) error {
	d, err := p.getApp(org, name)
	if err != nil {
		return err
	}
	ctx = context.WithoutCancel(ctx)
	lock := p.apps.deployLock(d.full)
	lock.Lock()
	defer lock.Unlock()
	d.op.Lock()
	defer d.op.Unlock()
	d.mu.Lock()
	if d.deleted {
		d.mu.Unlock()
		return appNotFound(name)
	}
	d.deleted = true
	d.mu.Unlock()
	p.gw.Unregister(d.full)
	p.dropSession(d.full)
	if err := p.apps.rt.Delete(ctx, d.full); err != nil && !errors.Is(err, runtime.ErrNotFound) {
		p.logger.Error("runtime delete", "app", d.full, "err", err)
	}
	p.rec.flush()
	err = p.store.DeleteDeployment(ctx, org, d.id)
	p.mu.Lock()
	if p.deps[d.full] == d {
		delete(p.deps, d.full)
	}
	p.mu.Unlock()
	p.rec.forget(d.full)
	if rerr := os.RemoveAll(p.apps.appDir(d.id)); rerr != nil {
		p.logger.Error("remove app files", "app", d.full, "err", rerr)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	p.logger.Info("app deleted", "app", d.full)
	return nil
}

// AppVersions implements api.AppService.
func (p *Platform) AppVersions(ctx context.Context, org, name string) ([]api.AppVersion, error) {
	sd, err := p.store.GetDeployment(ctx, org, store.KindApp, name)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, appNotFound(name)
		}
		return nil, err
	}
	vs, err := p.store.ListVersions(ctx, org, sd.ID)
	if err != nil {
		return nil, err
	}
	out := make([]api.AppVersion, len(vs))
	for i, v := range vs {
		out[i] = api.AppVersion{Version: v.Version, Digest: v.Digest, Active: v.Version == sd.Version, CreatedAt: v.CreatedAt}
	}
	return out, nil
}

// AppLogs implements api.AppService.
func (p *Platform) AppLogs(ctx context.Context, org, name string, q api.LogQuery) ([]api.LogLine, error) {
	sd, err := p.store.GetDeployment(ctx, org, store.KindApp, name)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, appNotFound(name)
		}
		return nil, err
	}
	if q.After == 0 {
		p.rec.flush()
	}
	lines, err := p.store.ListLogs(ctx, org, sd.ID, &store.LogQuery{After: q.After, Since: q.Since, Limit: q.Limit, Tail: q.After == 0})
	if err != nil {
		return nil, err
	}
	out := make([]api.LogLine, len(lines))
	for i, l := range lines {
		out[i] = api.LogLine{Seq: l.Seq, Time: l.Time, Stream: l.Stream, Line: l.Line}
	}
	return out, nil
}

// AppEvents implements api.AppService.
func (p *Platform) AppEvents(ctx context.Context, org, name string, q api.EventQuery) ([]api.Event, error) {
	sd, err := p.store.GetDeployment(ctx, org, store.KindApp, name)
	if err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil, appNotFound(name)
		}
		return nil, err
	}
	if q.After == 0 {
		p.rec.flush()
	}
	evs, err := p.store.ListEvents(ctx, org, &store.EventQuery{DeploymentID: sd.ID, After: q.After, Limit: q.Limit, Tail: q.After == 0})
	if err != nil {
		return nil, err
	}
	out := make([]api.Event, len(evs))
	for i, e := range evs {
		out[i] = api.Event{ID: e.ID, Time: e.Time, Kind: e.Kind, Message: e.Message, Data: e.Data}
	}
	return out, nil
}

// appView builds the API view of a stored app with its live state.
func (p *Platform) appView(ctx context.Context, sd store.Deployment) api.App {
	a := api.App{
		ID: sd.ID, Org: sd.Org, Name: sd.Name, FullName: sd.FullName(),
		Spec: api.AppSpec{Kind: sd.Spec.Type, EgressAllow: sd.Spec.EgressAllow, Limits: api.Limits(sd.Spec.Limits),
			ReplayScript: replayScriptOf(sd.Spec), Public: sd.Spec.Public},
		Status: string(sd.Status), StatusMessage: sd.StatusMessage, DesiredState: string(sd.DesiredState),
		Endpoint:   p.url + "/servers/" + sd.FullName() + "/mcp",
		ConsoleURL: p.url + "/console/apps/" + sd.FullName(),
		Version:    sd.Version, Digest: sd.Digest,
		CreatedAt: sd.CreatedAt, UpdatedAt: sd.UpdatedAt,
	}
	if len(sd.Spec.Env) > 0 {
		a.Spec.Env = make(map[string]string, len(sd.Spec.Env))
		for k := range sd.Spec.Env {
			a.Spec.Env[k] = "***"
		}
	}
	if names, err := p.appSecretNames(sd.Org, sd.Name); err == nil {
		a.Spec.SecretEnv = names
	}
	rs, err := p.apps.rt.Status(ctx, sd.FullName())
	if err != nil {
		return a
	}
	a.Runtime = &api.RuntimeStatus{
		State: string(rs.State), Sandboxed: rs.Sandboxed, SandboxReason: rs.SandboxReason,
		PID: rs.PID, StartedAt: rs.StartedAt, Restarts: rs.Restarts, LastExit: rs.LastExit,
		LastError: rs.LastError, NextRestart: rs.NextRestart, Sessions: rs.Sessions, Unenforced: rs.Unenforced,
	}
	a.Status, a.StatusMessage = liveStatus(rs, sd)
	return a
}

var _ api.AppService = (*Platform)(nil)
