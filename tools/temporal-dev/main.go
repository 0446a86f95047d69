// Command temporal-dev runs a single-process Temporal server for
// development and tests: all four services (frontend, history, matching,
// worker) in one process, bound to loopback, persisted in SQLite (a file, or
// memory when -db is empty).
//
// It lives in its own Go module because go.temporal.io/server pins a
// go.temporal.io/api version that the SDK used by mcp-agent cannot share a
// module with. scripts/temporal-dev builds it into a cache outside the work
// tree and prints the binary's path.
//
// Usage:
//
//	temporal-dev [-ip 127.0.0.1] [-port 0] [-db FILE] [-namespace default] [-log-level warn] [-exit-on-stdin-eof]
//
// When the frontend accepts connections it prints one line on standard
// output:
//
//	temporal-dev: listening on 127.0.0.1:PORT namespace default
//
// It stops on SIGINT or SIGTERM, and with -exit-on-stdin-eof also when its
// standard input reaches end of file (so a test that dies takes the server
// with it).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"go.temporal.io/server/common/authorization"
	"go.temporal.io/server/common/cluster"
	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/dynamicconfig"
	"go.temporal.io/server/common/log"
	sqliteplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/sqlite"
	sqliteschema "go.temporal.io/server/schema/sqlite"
	"go.temporal.io/server/temporal"
)

// version is the go.temporal.io/server version this binary is built with;
// scripts/temporal-dev keys its cache by it.
const version = "v1.32.0"

const clusterName = "active"

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "temporal-dev:", err)
		os.Exit(1)
	}
}

type options struct {
	ip         string
	port       int
	db         string
	namespaces []string
	logLevel   string
	stdinEOF   bool
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("temporal-dev", flag.ContinueOnError)
	o := &options{}
	var ns string
	showVersion := fs.Bool("version", false, "print the Temporal server version and exit")
	fs.StringVar(&o.ip, "ip", "127.0.0.1", "loopback IP the frontend binds to")
	fs.IntVar(&o.port, "port", 0, "frontend gRPC port; 0 picks a free one")
	fs.StringVar(&o.db, "db", "", "SQLite database file (created with its schema when missing); empty keeps state in memory")
	fs.StringVar(&ns, "namespace", "default", "comma-separated namespaces to create")
	fs.StringVar(&o.logLevel, "log-level", "warn", "server log level: debug, info, warn, error")
	fs.BoolVar(&o.stdinEOF, "exit-on-stdin-eof", false, "stop when standard input is closed")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if *showVersion {
		fmt.Println(version)
		os.Exit(0)
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q; all options are flags (see -h)", fs.Args())
	}
	ip := net.ParseIP(o.ip)
	if ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("-ip %q is not a loopback address; temporal-dev serves only on loopback (use 127.0.0.1)", o.ip)
	}
	for n := range strings.SplitSeq(ns, ",") {
		if n = strings.TrimSpace(n); n != "" {
			o.namespaces = append(o.namespaces, n)
		}
	}
	if len(o.namespaces) == 0 {
		return nil, errors.New("-namespace names no namespace; give at least one, e.g. -namespace default")
	}
	return o, nil
}

func run(args []string) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	// Reserve every port at once so that no two services get the same one.
	var ls []net.Listener
	reserve := func(port int) (int, error) {
		l, err := net.Listen("tcp", net.JoinHostPort(o.ip, strconv.Itoa(port)))
		if err != nil {
			return 0, err
		}
		ls = append(ls, l)
		return l.Addr().(*net.TCPAddr).Port, nil
	}
	ports := make([]int, 8) // frontend gRPC, 3 other gRPC, 4 membership
	for i := range ports {
		p := 0
		if i == 0 {
			p = o.port
		}
		if ports[i], err = reserve(p); err != nil {
			for _, l := range ls {
				l.Close()
			}
			return fmt.Errorf("reserving port: %w", err)
		}
	}
	for _, l := range ls {
		l.Close()
	}

	sqlConf, err := sqlConfig(o)
	if err != nil {
		return err
	}
	frontend := net.JoinHostPort(o.ip, strconv.Itoa(ports[0]))
	conf := &config.Config{}
	conf.Global.Membership = config.Membership{MaxJoinDuration: 30 * time.Second, BroadcastAddress: "127.0.0.1"}
	conf.Persistence = config.Persistence{
		DefaultStore:     "sqlite-default",
		VisibilityStore:  "sqlite-default",
		NumHistoryShards: 1,
		DataStores:       map[string]config.DataStore{"sqlite-default": {SQL: sqlConf}},
	}
	conf.ClusterMetadata = &cluster.Config{
		FailoverVersionIncrement: 10,
		MasterClusterName:        clusterName,
		CurrentClusterName:       clusterName,
		ClusterInformation: map[string]cluster.ClusterInformation{
			clusterName: {Enabled: true, InitialFailoverVersion: 1, RPCAddress: frontend},
		},
	}
	conf.DCRedirectionPolicy.Policy = "noop"
	svc := func(i int) config.Service {
		s := config.Service{RPC: config.RPC{GRPCPort: ports[i], MembershipPort: ports[4+i], BindOnLocalHost: true}}
		if i == 0 {
			s.RPC.BindOnLocalHost = false
			s.RPC.BindOnIP = o.ip
		}
		return s
	}
	conf.Services = map[string]config.Service{
		"frontend": svc(0), "history": svc(1), "matching": svc(2), "worker": svc(3),
	}
	conf.Archival.History.State = "disabled"
	conf.Archival.Visibility.State = "disabled"
	conf.NamespaceDefaults.Archival.History.State = "disabled"
	conf.NamespaceDefaults.Archival.Visibility.State = "disabled"
	conf.PublicClient.HostPort = frontend

	logger := log.NewZapLogger(log.BuildZapLogger(log.Config{Level: o.logLevel, Format: "console"}))
	authorizer, err := authorization.GetAuthorizerFromConfig(&conf.Global.Authorization)
	if err != nil {
		return fmt.Errorf("authorizer: %w", err)
	}
	claimMapper, err := authorization.GetClaimMapperFromConfig(&conf.Global.Authorization, logger)
	if err != nil {
		return fmt.Errorf("claim mapper: %w", err)
	}
	srv, err := temporal.NewServer(
		temporal.WithConfig(conf),
		temporal.ForServices(temporal.DefaultServices),
		temporal.WithLogger(logger),
		temporal.WithAuthorizer(authorizer),
		temporal.WithClaimMapper(func(*config.Config) authorization.ClaimMapper { return claimMapper }),
		temporal.WithDynamicConfigClient(dynamicconfig.StaticClient{
			// Search attributes and visibility are read fresh, so a run is
			// listed as soon as it starts.
			dynamicconfig.ForceSearchAttributesCacheRefreshOnRead.Key(): true,
		}),
	)
	if err != nil {
		return fmt.Errorf("creating server: %w", err)
	}
	if err := srv.Start(); err != nil {
		return fmt.Errorf("starting server: %w", err)
	}
	if err := waitListening(frontend, 30*time.Second); err != nil {
		srv.Stop()
		return err
	}
	fmt.Printf("temporal-dev: listening on %s namespace %s\n", frontend, strings.Join(o.namespaces, ","))

	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGINT, syscall.SIGTERM)
	eof := make(chan struct{})
	if o.stdinEOF {
		go func() {
			io.Copy(io.Discard, os.Stdin)
			close(eof)
		}()
	}
	select {
	case <-stop:
	case <-eof:
	}
	return srv.Stop()
}

// sqlConfig returns the SQLite persistence config, creating the schema for
// a new database file, and creates the namespaces.
func sqlConfig(o *options) (*config.SQL, error) {
	c := &config.SQL{PluginName: sqliteplugin.PluginName}
	if o.db == "" {
		c.ConnectAttributes = map[string]string{"mode": "memory", "cache": "shared"}
		c.DatabaseName = "temporal-dev-" + strconv.FormatUint(rand.Uint64(), 36)
	} else {
		c.ConnectAttributes = map[string]string{"mode": "rwc", "journal_mode": "wal"}
		c.DatabaseName = o.db
		if _, err := os.Stat(o.db); errors.Is(err, os.ErrNotExist) {
			if _, err := os.Stat(filepath.Dir(o.db)); err != nil {
				return nil, fmt.Errorf("-db %q: the directory must exist: %w", o.db, err)
			}
			if err := sqliteschema.SetupSchema(c); err != nil {
				return nil, fmt.Errorf("creating schema in %s: %w", o.db, err)
			}
		}
	}
	var nss []*sqliteschema.NamespaceConfig
	for _, n := range o.namespaces {
		nc, err := sqliteschema.NewNamespaceConfig(clusterName, n, false, nil)
		if err != nil {
			return nil, fmt.Errorf("namespace %q: %w", n, err)
		}
		nss = append(nss, nc)
	}
	if err := sqliteschema.CreateNamespaces(c, nss...); err != nil {
		return nil, fmt.Errorf("creating namespaces: %w", err)
	}
	return c, nil
}

// waitListening waits until addr accepts TCP connections.
func waitListening(addr string, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("frontend did not accept connections on %s within %s: %w", addr, limit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
