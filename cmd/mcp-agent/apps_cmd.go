package main

// The cloud commands for apps: deploy app, and apps
// list|status|start|stop|restart|delete|versions|rollback|logs. They talk
// to the platform at $MCP_AGENT_CLOUD_URL over its HTTP API only.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/client"
	"github.com/mcp-agent-go/mcp-agent/config"
)

// registerAppCmds adds the app, run, agent and secret commands to root, and
// "app" to its deploy command.
func registerAppCmds(root *cobra.Command, g *globalFlags) {
	for _, c := range root.Commands() {
		if c.Name() == "deploy" {
			c.AddCommand(newDeployAppCmd(g))
		}
	}
	root.AddCommand(newAppsCmd(g), newRunsCmd(g), newAgentsCmd(g), newSecretsCmd(g))
}

// App deploy stages, in order.
const (
	stageChecking  = "checking"
	stagePackaging = "packaging"
	stageUploading = "uploading"
)

var appDeployStages = []string{stageChecking, stagePackaging, stageUploading, stageStarting, stageInitializing, stageHealthy}

// stageBuilding is the upload of a Go code app, which the platform builds
// before it answers (a compile error fails this stage with go's message).
const stageBuilding = "uploading + building"

// goAppDeployStages are the stages of a Go code app (a dir with go.mod).
var goAppDeployStages = []string{stageChecking, stagePackaging, stageBuilding, stageStarting, stageInitializing, stageHealthy}

// isGoApp reports whether dir is a Go code app (it has a go.mod).
func isGoApp(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "go.mod"))
	return err == nil
}

// deployStagesFor returns the stages of deploying the app in dir.
func deployStagesFor(dir string) []string {
	if isGoApp(dir) {
		return goAppDeployStages
	}
	return appDeployStages
}

type deployAppFlags struct {
	name         string
	replayScript string
	allowEgress  []string
	env          []string
	memory       string
	public       bool
	stopped      bool
	timeout      time.Duration
	plain        bool
}

func newDeployAppCmd(g *globalFlags) *cobra.Command {
	f := &deployAppFlags{}
	cmd := &cobra.Command{
		Use:   "app [DIR]",
		Short: "Deploy an app directory (its mcp_agent.config.yaml) to the cloud platform",
		Long: `Deploy an app to the cloud platform and wait until it answers MCP.

DIR (default: the working directory) holds the app's mcp_agent.config.yaml.
It is checked here (errors name the file, line and key), packaged (a
content-addressed tarball without .git, build outputs, local run state,
secrets files and what .mcpagentignore lists) and uploaded. The platform
keeps every version, runs the app with "mcp-agent serve" in its sandbox and
serves it as an MCP server; its workflows and agents are reachable with
"mcp-agent runs" and "mcp-agent agents", and its runs survive restarts.
Deploying an unchanged directory again does nothing.

Secrets are never packaged: set them on the platform with
"mcp-agent secrets set APP NAME" (values from stdin); they reach the app as
environment variables, so "${OPENAI_API_KEY}" in the config works.`,
		Example: `  mcp-agent deploy app examples/approval --replay-script approval.replay.yaml
  mcp-agent deploy app ./myapp --name support --allow-egress api.openai.com:443`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := "."
			if len(args) == 1 {
				dir = args[0]
			}
			c, err := cloudClient()
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), f.timeout)
			defer cancel()
			view := newDeployProgress(cmd, g, f.plain, cancel, deployStagesFor(dir))
			res, name, derr := deployApp(ctx, c, dir, f, view)
			endDeployProgress(view, derr)
			if derr != nil {
				return deployAppFailure(cmd, c, name, derr)
			}
			if g.json {
				return writeJSON(cmd, res)
			}
			fmt.Fprintln(cmd.OutOrStdout(), appPanel(res, isTerminal(cmd.OutOrStdout())))
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.name, "name", "", "the app's name on the platform (default: the config's name, else the directory's)")
	fl.StringVar(&f.replayScript, "replay-script", "", "run every agent on this replay script (a file in DIR) instead of a model: demos and tests, no API key")
	fl.StringArrayVar(&f.allowEgress, "allow-egress", nil, "destination the app may connect to: HOST[:PORT], *.example.com or * (repeatable; LLM APIs need it)")
	fl.StringArrayVar(&f.env, "env", nil, "environment variable K=V of the app (repeatable; use secrets for keys)")
	fl.StringVar(&f.memory, "memory", "", "memory (address-space) limit, at least 2G for the Go runtime")
	fl.BoolVar(&f.public, "public", false, "serve the app's MCP endpoint without an API key")
	fl.BoolVar(&f.stopped, "stopped", false, "deploy without starting")
	fl.DurationVar(&f.timeout, "timeout", 3*time.Minute, "give up waiting for the app to become healthy after this long")
	fl.BoolVar(&f.plain, "plain", false, "plain progress lines even on a terminal")
	return cmd
}

// appNameRE is what the platform accepts as a name.
var appNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// unsetVarRE finds the variable of an "is not set" config problem.
var unsetVarRE = regexp.MustCompile(`^environment variable ([A-Za-z_][A-Za-z0-9_]*) is not set`)

// checkAppDir validates an app directory: a config that loads. References
// to environment variables are not resolved here (they are the platform's:
// secrets and --env); they are returned.
func checkAppDir(dir string) (cfgFile string, settings *config.Settings, vars []string, err error) {
	for _, n := range []string{"mcp_agent.config.yaml", "mcp_agent.config.yml", "mcp-agent.config.yaml", "mcp-agent.config.yml"} {
		p := filepath.Join(dir, n)
		if st, serr := os.Stat(p); serr == nil && st.Mode().IsRegular() {
			cfgFile = p
			break
		}
	}
	if cfgFile == "" {
		if _, serr := os.Stat(dir); serr != nil {
			return "", nil, nil, fmt.Errorf("app directory %s: %w", dir, serr)
		}
		return "", nil, nil, fmt.Errorf("%s has no mcp_agent.config.yaml: deploy the directory that holds the app's config", dir)
	}
	settings, err = config.Load(config.LoadOptions{
		Path:           cfgFile,
		Env:            func(string) (string, bool) { return "", false },
		NoEnvOverrides: true,
	})
	var ve *config.ValidationError
	if errors.As(err, &ve) {
		var rest []*config.FieldError
		for _, fe := range ve.Errors {
			if m := unsetVarRE.FindStringSubmatch(fe.Msg); m != nil {
				if !slices.Contains(vars, m[1]) {
					vars = append(vars, m[1])
				}
				continue
			}
			rest = append(rest, fe)
		}
		if len(rest) > 0 {
			return cfgFile, nil, vars, &config.ValidationError{Errors: rest}
		}
		// Only unresolved variables: load again with placeholders for the
		// rest of the settings (the name).
		settings, _ = config.Load(config.LoadOptions{
			Path:           cfgFile,
			Env:            func(string) (string, bool) { return "placeholder", true },
			NoEnvOverrides: true,
		})
		err = nil
	}
	if err != nil {
		return cfgFile, nil, vars, err
	}
	return cfgFile, settings, vars, nil
}

// deployApp checks, packages and uploads dir, then waits until the app is
// healthy.
func deployApp(ctx context.Context, c *client.Client, dir string, f *deployAppFlags, view deployView) (api.AppDeployResult, string, error) {
	var res api.AppDeployResult
	view.stage(stageChecking)
	cfgFile, settings, vars, err := checkAppDir(dir)
	if err != nil {
		return res, f.name, err
	}
	name := f.name
	if name == "" && settings != nil {
		name = strings.ToLower(settings.Name)
	}
	if name == "" {
		abs, _ := filepath.Abs(dir)
		name = strings.ToLower(filepath.Base(abs))
	}
	if !appNameRE.MatchString(name) {
		return res, name, fmt.Errorf("%q cannot be an app name (lowercase letters, digits, '-' and '_'): pass --name", name)
	}
	view.note("%s", cfgFile)
	if len(vars) > 0 {
		view.note("uses %s: set them with `mcp-agent secrets set %s NAME` (or --env)", strings.Join(vars, ", "), name)
	}
	for _, sf := range []string{"mcp_agent.secrets.yaml", "mcp_agent.secrets.yml"} {
		if _, err := os.Stat(filepath.Join(dir, sf)); err == nil {
			view.note("%s is not deployed: set its values with `mcp-agent secrets set %s NAME`", sf, name)
		}
	}
	req := api.DeployAppRequest{Name: name, EgressAllow: f.allowEgress, Public: f.public, Stopped: f.stopped}
	if f.replayScript != "" {
		rs := filepath.ToSlash(f.replayScript)
		if filepath.IsAbs(f.replayScript) {
			abs, _ := filepath.Abs(dir)
			rel, err := filepath.Rel(abs, f.replayScript)
			if err != nil || strings.HasPrefix(rel, "..") {
				return res, name, fmt.Errorf("--replay-script %s is not inside %s", f.replayScript, dir)
			}
			rs = filepath.ToSlash(rel)
		}
		if _, err := os.Stat(filepath.Join(dir, filepath.FromSlash(rs))); err != nil {
			return res, name, fmt.Errorf("--replay-script: %w (give a path relative to %s)", err, dir)
		}
		req.ReplayScript = rs
	}
	if req.Env, req.Limits.MemoryBytes, err = deployEnvLimits(f.env, f.memory); err != nil {
		return res, name, err
	}

	view.stage(stagePackaging)
	pkg, err := client.PackageApp(dir, nil)
	if err != nil {
		return res, name, err
	}
	view.note("%d files, %s (%s gzipped), %s", len(pkg.Files), api.FormatBytes(pkg.Size), api.FormatBytes(int64(len(pkg.Data))), shortDigest(pkg.Digest))

	if isGoApp(dir) {
		view.stage(stageBuilding)
	} else {
		view.stage(stageUploading)
	}
	res, err = c.DeployApp(ctx, req, pkg)
	if err != nil {
		return res, name, err
	}
	switch {
	case res.Unchanged:
		view.note("unchanged: version %d is deployed already", res.Version)
	case res.Created:
		view.note("new app, version %d", res.Version)
	default:
		view.note("version %d", res.Version)
	}
	if f.stopped {
		return res, name, nil
	}

	if _, err := waitHealthy(ctx, view, healthWait[api.App]{
		noun:  "app",
		name:  func(api.App) string { return name },
		state: func(a api.App) (string, string, *api.RuntimeStatus) { return a.Status, a.StatusMessage, a.Runtime },
		get:   func(ctx context.Context) (api.App, error) { return c.GetApp(ctx, name) },
		tools: func(ctx context.Context) (int, error) {
			tools, err := c.Tools(ctx, name)
			return len(tools), err
		},
	}, res.App); err != nil {
		return res, name, err
	}
	if cur, err := c.GetApp(ctx, name); err == nil {
		res.App = cur
	}
	return res, name, nil
}

func shortDigest(d string) string {
	if len(d) > len("sha256:")+12 {
		return d[:len("sha256:")+12]
	}
	return d
}

// deployAppFailure prints the app's last log lines (when it was deployed)
// and returns the command's error.
func deployAppFailure(cmd *cobra.Command, c *client.Client, name string, err error) error {
	var ae *api.Error
	var ve *config.ValidationError
	deployed := name != "" && !(errors.As(err, &ae) && ae.Status < 500) && !errors.Is(err, client.ErrUnreachable) && !errors.As(err, &ve)
	if deployed {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(cmd.Context()), 10*time.Second)
		defer cancel()
		if _, gerr := c.GetApp(ctx, name); gerr == nil {
			errw := cmd.ErrOrStderr()
			if lines, lerr := c.AppLogs(ctx, name, &client.LogsOptions{Limit: 20}); lerr == nil {
				printLastLogLines(errw, name, lines)
			}
			fmt.Fprintf(errw, "the app is kept: see `mcp-agent apps status %s`, or remove it with `mcp-agent apps delete %s`\n", name, name)
		}
	}
	if name == "" {
		return fmt.Errorf("deploy app: %w", err)
	}
	return fmt.Errorf("deploy app %s: %w", name, err)
}

// appPanel renders the result of a deploy.
func appPanel(res api.AppDeployResult, styled bool) string {
	a := res.App
	title := fmt.Sprintf("app %s deployed (version %d)", a.Name, a.Version)
	if res.Unchanged {
		title = fmt.Sprintf("app %s unchanged (version %d)", a.Name, a.Version)
	}
	rows := [][2]string{
		{"URL", a.Endpoint},
		{"ID", a.ID},
		{"version", fmt.Sprintf("%d (%s)", a.Version, shortDigest(a.Digest))},
		{"status", a.Status},
		{"console", a.ConsoleURL},
	}
	rows = append(rows, sandboxAccessRows(a.Runtime, a.Spec.Public)...)
	rows = append(rows, [2]string{"next", "mcp-agent runs start " + a.Name + ".WORKFLOW --input '{...}'  |  mcp-agent agents run " + a.Name + ".AGENT \"...\""})
	return renderPanel(title, rows, styled)
}

func newAppsCmd(g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "apps",
		Short: "Manage the apps deployed on the cloud platform",
		Long: `Manage the apps deployed on the cloud platform at $MCP_AGENT_CLOUD_URL (default
` + client.DefaultURL + `). Deploy one with "mcp-agent deploy app DIR".`,
	}
	cmd.AddCommand(
		&cobra.Command{
			Use:   "list",
			Short: "List the deployed apps",
			Args:  cobra.NoArgs,
			RunE: listRunE(g, func(ctx context.Context, c *client.Client) ([]api.App, error) { return c.ListApps(ctx) },
				"no apps deployed: deploy one with `mcp-agent deploy app DIR`", "NAME\tSTATUS\tVERSION\tENDPOINT",
				func(a api.App) string { return fmt.Sprintf("%s\t%s\t%d\t%s", a.Name, a.Status, a.Version, a.Endpoint) }),
		},
		cloudStatusCmd(g, "Show an app's status, process, versions and recent events", printAppStatus),
		appKind.opCmd(g, "start", "Start a stopped app", (*client.Client).StartApp, "started"),
		appKind.opCmd(g, "stop", "Stop an app (its paused runs stay paused)", (*client.Client).StopApp, "stopped"),
		appKind.opCmd(g, "restart", "Restart an app (it picks up changed secrets)", (*client.Client).RestartApp, "restarted"),
		appKind.deleteCmd("Stop and delete an app, its versions and its runs", "", (*client.Client).DeleteApp),
		&cobra.Command{
			Use:   "versions NAME",
			Short: "List an app's deployed versions",
			Args:  cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
					vs, err := c.AppVersions(ctx, args[0])
					if err != nil {
						return err
					}
					if g.json {
						return writeJSON(cmd, vs)
					}
					tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "VERSION\tDIGEST\tDEPLOYED\tACTIVE")
					for _, v := range vs {
						active := ""
						if v.Active {
							active = "*"
						}
						fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", v.Version, shortDigest(v.Digest), v.CreatedAt.Local().Format("2006-01-02 15:04:05"), active)
					}
					return tw.Flush()
				})
			},
		},
		&cobra.Command{
			Use:   "rollback NAME VERSION",
			Short: "Run an earlier version of an app again",
			Args:  cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				v, err := strconv.Atoi(args[1])
				if err != nil || v <= 0 {
					return fmt.Errorf("VERSION %q: want a version number (see `mcp-agent apps versions %s`)", args[1], args[0])
				}
				return withCloud(cmd, func(ctx context.Context, c *client.Client) error {
					a, err := c.RollbackApp(ctx, args[0], v)
					if err != nil {
						return err
					}
					if g.json {
						return writeJSON(cmd, a)
					}
					fmt.Fprintf(cmd.OutOrStdout(), "app %s runs version %d (status %s)\n", a.Name, a.Version, a.Status)
					return nil
				})
			},
		},
		newAppLogsCmd(g),
	)
	return cmd
}

func printAppStatus(ctx context.Context, cmd *cobra.Command, g *globalFlags, c *client.Client, name string) error {
	a, err := c.GetApp(ctx, name)
	if err != nil {
		return err
	}
	if g.json {
		return writeJSON(cmd, a)
	}
	rows := [][2]string{
		{"name", a.FullName},
		{"id", a.ID},
		{"status", statusText(a.Status, a.StatusMessage)},
		{"desired", a.DesiredState},
		{"version", fmt.Sprintf("%d (%s)", a.Version, shortDigest(a.Digest))},
		{"endpoint", a.Endpoint},
		{"console", a.ConsoleURL},
	}
	if a.Spec.ReplayScript != "" {
		rows = append(rows, [2]string{"model", "replay script " + a.Spec.ReplayScript})
	}
	if r := a.Runtime; r != nil {
		rows = append(rows, processRows(r, false)...)
	}
	rows = append(rows, egressRows(a.Spec.EgressAllow)...)
	if len(a.Spec.SecretEnv) > 0 {
		rows = append(rows, [2]string{"secrets", strings.Join(a.Spec.SecretEnv, ", ")})
	}
	printStatusPanel(cmd.OutOrStdout(), "app "+a.Name, rows, func() ([]api.Event, error) { return c.AppEvents(ctx, name, 8) })
	return nil
}

func newAppLogsCmd(g *globalFlags) *cobra.Command {
	return newCloudLogsCmd(g, "Show an app's logs (mcp-agent serve's stderr and the runtime's notes)",
		"  mcp-agent apps logs approval -f",
		(*client.Client).AppLogs, (*client.Client).FollowAppLogs)
}
