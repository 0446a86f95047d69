package temporal

import (
	"context"
	"crypto/tls"
	"fmt"
	"log/slog"
	"strings"

	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/worker"
	tw "go.temporal.io/sdk/workflow"

	"github.com/mcp-agent-go/mcp-agent/config"
	"github.com/mcp-agent-go/mcp-agent/workflow"
)

// WorkerOptions configures NewWorker. The zero value is valid.
type WorkerOptions struct {
	// TaskQueue is the task queue to poll; "" means DefaultTaskQueue.
	TaskQueue string
	// BatchSteps lets Temporal record the results of consecutive steps
	// together, when the workflow task completes, instead of making each
	// step durable before the next starts. Steps run several times faster,
	// but after a worker crash the steps completed since the last workflow
	// task run again. Every worker of a task queue must use the same
	// setting: it changes the commands a run records, so switching it for
	// runs in flight breaks their replay.
	BatchSteps bool
	// Options are the SDK's worker options (nil: defaults).
	// WorkflowPanicPolicy is always FailWorkflow, so that a run that breaks
	// the determinism rules fails instead of retrying forever.
	Options *worker.Options
	// Logger receives workflow logs; nil means slog.Default().
	Logger *slog.Logger
}

// NewWorker returns a Temporal worker (not started) that executes reg's
// workflows on the task queue. Start it with Start or Run. opts may be nil.
func NewWorker(c client.Client, reg *workflow.Registry, opts *WorkerOptions) worker.Worker {
	o := WorkerOptions{}
	if opts != nil {
		o = *opts
	}
	if o.TaskQueue == "" {
		o.TaskQueue = DefaultTaskQueue
	}
	wo := worker.Options{}
	if o.Options != nil {
		wo = *o.Options
	}
	wo.WorkflowPanicPolicy = worker.FailWorkflow
	w := worker.New(c, o.TaskQueue, wo)
	Register(w, reg, &o)
	return w
}

// Register registers each of reg's workflows with r (a worker, or a
// testsuite.TestWorkflowEnvironment) as a Temporal workflow of the same
// name. opts.TaskQueue is where child runs are started, opts.Logger
// receives workflow logs; opts.Options is not used. opts may be nil.
func Register(r worker.WorkflowRegistry, reg *workflow.Registry, opts *WorkerOptions) {
	o := WorkerOptions{}
	if opts != nil {
		o = *opts
	}
	if o.TaskQueue == "" {
		o.TaskQueue = DefaultTaskQueue
	}
	for wf := range reg.All() {
		r.RegisterWorkflowWithOptions(workflowFunc(wf, reg, &o), tw.RegisterOptions{Name: wf.Name()})
	}
}

// ClientOptions returns the SDK client options for a temporal: config
// section: host (default localhost:7233), namespace (default "default"),
// tls, api_key (sent as a bearer token; implies TLS) and rpc_metadata
// (headers on every call). logger receives the SDK's logs (nil: dropped
// below warnings of slog.Default()).
func ClientOptions(s *config.TemporalSettings, logger *slog.Logger) (client.Options, error) {
	if s == nil {
		s = &config.TemporalSettings{}
	}
	if logger == nil {
		logger = slog.Default()
	}
	o := client.Options{
		HostPort:  s.Host,
		Namespace: s.Namespace,
		Logger:    sdklog.NewStructuredLogger(logger),
	}
	if o.HostPort == "" {
		o.HostPort = client.DefaultHostPort
	}
	if strings.Contains(o.HostPort, "://") {
		return o, fmt.Errorf("temporal.host %q: give host:port without a scheme, e.g. localhost:7233", s.Host)
	}
	if o.Namespace == "" {
		o.Namespace = client.DefaultNamespace
	}
	if s.TLS || s.APIKey != "" {
		o.ConnectionOptions.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
	}
	if s.APIKey != "" {
		o.Credentials = client.NewAPIKeyStaticCredentials(s.APIKey)
	}
	if len(s.RPCMetadata) > 0 {
		md := make(map[string]string, len(s.RPCMetadata))
		for k, v := range s.RPCMetadata {
			md[strings.ToLower(k)] = v
		}
		o.HeadersProvider = staticHeaders(md)
	}
	return o, nil
}

type staticHeaders map[string]string

func (h staticHeaders) GetHeaders(context.Context) (map[string]string, error) { return h, nil }

// Dial connects to the Temporal server a temporal: config section names
// and returns an Executor that owns the connection (Close closes it).
// The task queue is the section's task_queue unless opts.TaskQueue is set.
// opts may be nil.
func Dial(ctx context.Context, s *config.TemporalSettings, reg *workflow.Registry, opts *Options) (*Executor, error) {
	o := Options{}
	if opts != nil {
		o = *opts
	}
	if o.TaskQueue == "" && s != nil {
		o.TaskQueue = s.TaskQueue
	}
	co, err := ClientOptions(s, o.Logger)
	if err != nil {
		return nil, err
	}
	c, err := client.DialContext(ctx, co)
	if err != nil {
		return nil, fmt.Errorf("connecting to Temporal at %s (namespace %q): %w; is the server running? For development, start one with scripts/temporal-dev", co.HostPort, co.Namespace, err)
	}
	e, err := New(c, reg, &o)
	if err != nil {
		c.Close()
		return nil, err
	}
	e.ownsC = true
	return e, nil
}
