// Package egress is the platform's egress proxy: an HTTP forward proxy
// (CONNECT tunnels and plain absolute-form HTTP requests) through which a
// deployed server reaches the network. It enforces the deployment's
// allowlist (runtime.Network.EgressAllow) on the requested host and port,
// and, at dial time after DNS resolution, always refuses link-local and
// cloud metadata addresses; loopback and private addresses are refused
// too unless the allowlist names the host literally.
//
// Quick start:
//
//	p, err := egress.New([]string{"api.github.com:443", "*.example.com"}, &egress.Options{
//		OnDeny: func(d egress.Denial) { log.Print(d) },
//	})
//	ln, err := net.Listen("tcp", "127.0.0.1:0")
//	go p.Serve(ln)
//	defer p.Close()
//	// child environment: HTTPS_PROXY=http://<ln.Addr()>
//
// The process runtime runs one Proxy per deployment that declares egress.
package egress

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/runtime"
)

// Options configures a Proxy. The zero value is usable.
type Options struct {
	// OnDeny is called for every refused connection or request.
	OnDeny func(Denial)
	// Resolver resolves host names (default net.DefaultResolver).
	Resolver Resolver
	// DialTimeout bounds connecting to a destination (default 10s).
	DialTimeout time.Duration
}

// Resolver resolves a host name to addresses; *net.Resolver is one.
type Resolver interface {
	LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error)
}

// Denial describes a refused destination.
type Denial struct {
	Host   string
	Port   int
	Reason string
}

func (d Denial) String() string {
	return fmt.Sprintf("%s: %s", net.JoinHostPort(d.Host, strconv.Itoa(d.Port)), d.Reason)
}

// DeniedError is returned by Proxy.Dial for a refused destination.
type DeniedError struct{ Denial }

func (e *DeniedError) Error() string { return "egress denied: " + e.Denial.String() }

// Proxy is an allowlisting HTTP forward proxy. It is an http.Handler;
// Serve runs it on a listener.
type Proxy struct {
	rules    []runtime.EgressRule
	opts     Options
	resolver Resolver
	rp       *httputil.ReverseProxy

	mu      sync.Mutex
	servers []*http.Server
	tunnels map[net.Conn]struct{}
	closed  bool
	wg      sync.WaitGroup
}

// New returns a Proxy allowing the destinations in allow (the syntax of
// runtime.Network.EgressAllow). An empty allow refuses everything.
func New(allow []string, opts *Options) (*Proxy, error) {
	p := &Proxy{tunnels: map[net.Conn]struct{}{}}
	if opts != nil {
		p.opts = *opts
	}
	if p.opts.DialTimeout <= 0 {
		p.opts.DialTimeout = 10 * time.Second
	}
	p.resolver = p.opts.Resolver
	if p.resolver == nil {
		p.resolver = net.DefaultResolver
	}
	for i, a := range allow {
		r, err := runtime.ParseEgressRule(a)
		if err != nil {
			return nil, fmt.Errorf("egress allowlist entry %d: %w", i, err)
		}
		p.rules = append(p.rules, r)
	}
	tr := &http.Transport{
		Proxy:                 nil, // never chain to the platform's own proxy settings
		DialContext:           p.Dial,
		MaxIdleConns:          16,
		IdleConnTimeout:       30 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ResponseHeaderTimeout: 5 * time.Minute,
	}
	p.rp = &httputil.ReverseProxy{
		Rewrite: func(pr *httputil.ProxyRequest) {
			// Absolute-form request: the URL already names the destination.
			pr.Out.Host = pr.In.URL.Host
		},
		Transport: tr,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			var de *DeniedError
			if errors.As(err, &de) {
				http.Error(w, de.Error(), http.StatusForbidden)
				return
			}
			http.Error(w, "egress proxy: "+err.Error(), http.StatusBadGateway)
		},
	}
	return p, nil
}

// Serve accepts proxy connections on l until Close.
func (p *Proxy) Serve(l net.Listener) error {
	srv := &http.Server{Handler: p, ReadHeaderTimeout: 30 * time.Second}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		l.Close()
		return http.ErrServerClosed
	}
	p.servers = append(p.servers, srv)
	p.mu.Unlock()
	return srv.Serve(l)
}

// Close stops serving, closes every tunnel and waits for them.
func (p *Proxy) Close() error {
	p.mu.Lock()
	p.closed = true
	servers := p.servers
	for c := range p.tunnels {
		c.Close()
	}
	p.mu.Unlock()
	for _, s := range servers {
		s.Close()
	}
	p.wg.Wait()
	if tr, ok := p.rp.Transport.(*http.Transport); ok {
		tr.CloseIdleConnections()
	}
	return nil
}

// ServeHTTP handles CONNECT and absolute-form HTTP requests.
func (p *Proxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		p.connect(w, r)
		return
	}
	if r.URL.Host == "" || (r.URL.Scheme != "http" && r.URL.Scheme != "https") {
		http.Error(w, "egress proxy: send absolute-form requests (http://host/path) or CONNECT host:port", http.StatusBadRequest)
		return
	}
	host, port := r.URL.Hostname(), r.URL.Port()
	if port == "" {
		port = "80"
		if r.URL.Scheme == "https" {
			port = "443"
		}
	}
	if _, err := p.allowed(host, port); err != nil {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	r.Header.Del("Proxy-Authorization")
	r.Header.Del("Proxy-Connection")
	p.rp.ServeHTTP(w, r)
}

func (p *Proxy) connect(w http.ResponseWriter, r *http.Request) {
	host, port, err := net.SplitHostPort(r.Host)
	if err != nil {
		http.Error(w, "egress proxy: CONNECT needs host:port", http.StatusBadRequest)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), p.opts.DialTimeout)
	defer cancel()
	up, err := p.Dial(ctx, "tcp", net.JoinHostPort(host, port))
	if err != nil {
		code := http.StatusBadGateway
		var de *DeniedError
		if errors.As(err, &de) {
			code = http.StatusForbidden
		}
		http.Error(w, err.Error(), code)
		return
	}
	hj, ok := w.(http.Hijacker)
	if !ok {
		up.Close()
		http.Error(w, "egress proxy: connection cannot be hijacked", http.StatusInternalServerError)
		return
	}
	down, brw, err := hj.Hijack()
	if err != nil {
		up.Close()
		return
	}
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		up.Close()
		down.Close()
		return
	}
	p.tunnels[up] = struct{}{}
	p.tunnels[down] = struct{}{}
	p.wg.Add(1)
	p.mu.Unlock()
	go func() {
		defer p.wg.Done()
		defer func() {
			up.Close()
			down.Close()
			p.mu.Lock()
			delete(p.tunnels, up)
			delete(p.tunnels, down)
			p.mu.Unlock()
		}()
		if _, err := down.Write([]byte("HTTP/1.1 200 Connection Established\r\n\r\n")); err != nil {
			return
		}
		done := make(chan struct{}, 2)
		go func() {
			// Bytes the client sent after the CONNECT request are buffered.
			if n := brw.Reader.Buffered(); n > 0 {
				b, _ := brw.Reader.Peek(n)
				up.Write(b)
			}
			io.Copy(up, down)
			closeWrite(up)
			done <- struct{}{}
		}()
		go func() {
			io.Copy(down, up)
			closeWrite(down)
			done <- struct{}{}
		}()
		<-done
		<-done
	}()
}

func closeWrite(c net.Conn) {
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
}

// allowed checks host:port against the allowlist. literal reports whether
// the matching rule names the host exactly (which allows loopback and
// private addresses).
func (p *Proxy) allowed(host, port string) (literal bool, err error) {
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	n, perr := strconv.Atoi(port)
	if perr != nil || n < 1 || n > 65535 {
		return false, p.deny(host, 0, "invalid port "+port)
	}
	ok := false
	for _, r := range p.rules {
		if r.Matches(host, n) {
			ok = true
			if r.Host == host || net.ParseIP(r.Host) != nil {
				literal = true
			}
		}
	}
	if !ok {
		return false, p.deny(host, n, "not in the deployment's egress allowlist (network.egress_allow)")
	}
	return literal, nil
}

func (p *Proxy) deny(host string, port int, reason string) error {
	d := Denial{Host: host, Port: port, Reason: reason}
	if p.opts.OnDeny != nil {
		p.opts.OnDeny(d)
	}
	return &DeniedError{d}
}

// Dial connects to address ("host:port") if the allowlist and the address
// policy allow it: the host is resolved here and every resolved address is
// checked before connecting to it.
func (p *Proxy) Dial(ctx context.Context, network, address string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(address)
	if err != nil {
		return nil, err
	}
	literal, err := p.allowed(host, port)
	if err != nil {
		return nil, err
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	var addrs []netip.Addr
	if a, err := netip.ParseAddr(host); err == nil {
		addrs = []netip.Addr{a}
	} else {
		ips, err := p.resolver.LookupNetIP(ctx, "ip", host)
		if err != nil {
			return nil, fmt.Errorf("egress proxy: resolving %s: %w", host, err)
		}
		addrs = ips
	}
	n, _ := strconv.Atoi(port)
	var lastErr error
	d := net.Dialer{Timeout: p.opts.DialTimeout}
	for _, a := range addrs {
		a = a.Unmap()
		if reason := Forbidden(a, literal); reason != "" {
			lastErr = p.deny(host, n, fmt.Sprintf("resolves to %s, %s", a, reason))
			continue
		}
		c, err := d.DialContext(ctx, "tcp", netip.AddrPortFrom(a, uint16(n)).String())
		if err == nil {
			return c, nil
		}
		lastErr = err
	}
	if lastErr == nil {
		lastErr = fmt.Errorf("egress proxy: %s has no addresses", host)
	}
	return nil, lastErr
}

var (
	alwaysDenied = []netip.Prefix{
		netip.MustParsePrefix("169.254.0.0/16"),     // link-local, cloud metadata (169.254.169.254)
		netip.MustParsePrefix("fe80::/10"),          // IPv6 link-local
		netip.MustParsePrefix("fd00:ec2::254/128"),  // AWS metadata over IPv6
		netip.MustParsePrefix("100.100.100.200/32"), // Alibaba Cloud metadata
		netip.MustParsePrefix("0.0.0.0/8"),          // "this network"
		netip.MustParsePrefix("224.0.0.0/4"),        // multicast
		netip.MustParsePrefix("ff00::/8"),           // IPv6 multicast
		netip.MustParsePrefix("255.255.255.255/32"),
	}
	privateRanges = []netip.Prefix{
		netip.MustParsePrefix("127.0.0.0/8"),
		netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"),
		netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
		netip.MustParsePrefix("fc00::/7"),      // unique local
		netip.MustParsePrefix("::/128"),
	}
)

// Forbidden returns why the proxy refuses to connect to a ("" when it
// does not). Link-local, metadata, multicast and unspecified addresses are
// always refused; loopback and private ones unless literal (the allowlist
// names the host or IP exactly).
func Forbidden(a netip.Addr, literal bool) string {
	a = a.Unmap()
	for _, p := range alwaysDenied {
		if p.Contains(a) {
			return "a link-local, metadata or non-unicast address, which is never allowed"
		}
	}
	if literal {
		return ""
	}
	for _, p := range privateRanges {
		if p.Contains(a) {
			return "a loopback or private address; allow it by naming the host or IP exactly in the allowlist"
		}
	}
	return ""
}
