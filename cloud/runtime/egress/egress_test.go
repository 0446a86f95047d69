package egress

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeResolver answers from a table.
type fakeResolver map[string][]netip.Addr

func (f fakeResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if a, ok := f[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

// startProxy runs a proxy on loopback and returns its URL and the denials.
func startProxy(t *testing.T, allow []string, res Resolver) (*url.URL, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var denied []string
	p, err := New(allow, &Options{
		Resolver: res,
		OnDeny: func(d Denial) {
			mu.Lock()
			denied = append(denied, d.String())
			mu.Unlock()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		p.Serve(ln)
	}()
	t.Cleanup(func() {
		p.Close()
		<-done
	})
	u, _ := url.Parse("http://" + ln.Addr().String())
	return u, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), denied...)
	}
}

func client(t *testing.T, proxy *url.URL, base *http.Transport) *http.Client {
	t.Helper()
	tr := &http.Transport{Proxy: http.ProxyURL(proxy)}
	if base != nil {
		tr = base.Clone()
		tr.Proxy = http.ProxyURL(proxy)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr, Timeout: 10 * time.Second}
}

func get(t *testing.T, c *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, strings.TrimSpace(string(b))
}

func TestAllowedHTTPAndCONNECT(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "plain %s %s", r.Method, r.URL.Path)
	}))
	defer plain.Close()
	tlsSrv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "tls %s", r.URL.Path)
	}))
	defer tlsSrv.Close()

	plainHost := strings.TrimPrefix(plain.URL, "http://")
	tlsHost := strings.TrimPrefix(tlsSrv.URL, "https://")
	proxy, denied := startProxy(t, []string{plainHost, tlsHost}, nil)

	c := client(t, proxy, nil)
	if code, body := get(t, c, plain.URL+"/a"); code != 200 || body != "plain GET /a" {
		t.Errorf("plain HTTP through the proxy: %d %q", code, body)
	}
	tc := client(t, proxy, tlsSrv.Client().Transport.(*http.Transport))
	if code, body := get(t, tc, tlsSrv.URL+"/b"); code != 200 || body != "tls /b" {
		t.Errorf("HTTPS through CONNECT: %d %q", code, body)
	}
	if d := denied(); len(d) != 0 {
		t.Errorf("denials for allowed hosts: %q", d)
	}
}

func TestDenied(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "reached")
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	res := fakeResolver{
		"metadata.test":  {netip.MustParseAddr("169.254.169.254")},
		"rebind.test":    {netip.MustParseAddr("127.0.0.1")},
		"public.test":    {netip.MustParseAddr("8.8.8.8")},
		"aws6.test":      {netip.MustParseAddr("fd00:ec2::254")},
		"alibaba.test":   {netip.MustParseAddr("100.100.100.200")},
		"mapped.test":    {netip.MustParseAddr("::ffff:169.254.169.254")},
		"linklocal.test": {netip.MustParseAddr("fe80::1")},
	}
	// "*" allows any public host; the literal names allow themselves.
	proxy, denied := startProxy(t, []string{"*", "metadata.test", "169.254.169.254"}, res)
	c := client(t, proxy, nil)
	for _, tc := range []struct {
		url, want string
	}{
		{"http://169.254.169.254/latest/meta-data/", "egress denied: 169.254.169.254:80: resolves to 169.254.169.254, a link-local, metadata or non-unicast address, which is never allowed"},
		{"http://metadata.test/", "egress denied: metadata.test:80: resolves to 169.254.169.254, a link-local, metadata or non-unicast address, which is never allowed"},
		{"http://aws6.test/", "egress denied: aws6.test:80: resolves to fd00:ec2::254, a link-local, metadata or non-unicast address, which is never allowed"},
		{"http://alibaba.test/", "egress denied: alibaba.test:80: resolves to 100.100.100.200, a link-local, metadata or non-unicast address, which is never allowed"},
		{"http://mapped.test/", "egress denied: mapped.test:80: resolves to 169.254.169.254, a link-local, metadata or non-unicast address, which is never allowed"},
		{"http://linklocal.test/", "egress denied: linklocal.test:80: resolves to fe80::1, a link-local, metadata or non-unicast address, which is never allowed"},
		{fmt.Sprintf("http://rebind.test:%d/", port), fmt.Sprintf("egress denied: rebind.test:%d: resolves to 127.0.0.1, a loopback or private address; allow it by naming the host or IP exactly in the allowlist", port)},
		{srv.URL, fmt.Sprintf("egress denied: 127.0.0.1:%d: resolves to 127.0.0.1, a loopback or private address; allow it by naming the host or IP exactly in the allowlist", port)},
	} {
		code, body := get(t, c, tc.url)
		if code != http.StatusForbidden || body != tc.want {
			t.Errorf("GET %s: %d %q\nwant 403 %q", tc.url, code, body, tc.want)
		}
	}
	if n := len(denied()); n != 8 {
		t.Errorf("%d denials reported, want 8: %q", n, denied())
	}

	// CONNECT is checked the same way.
	conn, err := net.Dial("tcp", proxy.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "CONNECT 169.254.169.254:443 HTTP/1.1\r\nHost: 169.254.169.254:443\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("CONNECT to the metadata address: %s", resp.Status)
	}
}

func TestNotInAllowlist(t *testing.T) {
	proxy, denied := startProxy(t, []string{"api.example.com:443", "*.example.org"}, fakeResolver{})
	c := client(t, proxy, nil)
	for _, tc := range []struct{ url, want string }{
		{"http://api.example.com/", "egress denied: api.example.com:80: not in the deployment's egress allowlist (network.egress_allow)"},
		{"http://example.org/", "egress denied: example.org:80: not in the deployment's egress allowlist (network.egress_allow)"},
		{"http://evil.test/", "egress denied: evil.test:80: not in the deployment's egress allowlist (network.egress_allow)"},
	} {
		code, body := get(t, c, tc.url)
		if code != http.StatusForbidden || body != tc.want {
			t.Errorf("GET %s: %d %q\nwant 403 %q", tc.url, code, body, tc.want)
		}
	}
	want := []string{
		"api.example.com:80: not in the deployment's egress allowlist (network.egress_allow)",
		"example.org:80: not in the deployment's egress allowlist (network.egress_allow)",
		"evil.test:80: not in the deployment's egress allowlist (network.egress_allow)",
	}
	if diff := cmp.Diff(want, denied()); diff != "" {
		t.Errorf("denials (-want +got):\n%s", diff)
	}
	// Allowed by the wildcard but not resolvable: a gateway error, not a denial.
	code, body := get(t, c, "http://www.example.org/")
	if code != http.StatusBadGateway || !strings.Contains(body, "resolving www.example.org") {
		t.Errorf("unresolvable allowed host: %d %q", code, body)
	}
}

func TestOriginFormRequestRejected(t *testing.T) {
	proxy, _ := startProxy(t, []string{"*"}, nil)
	resp, err := http.Get(proxy.String() + "/not-a-proxy-request")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || strings.TrimSpace(string(b)) != "egress proxy: send absolute-form requests (http://host/path) or CONNECT host:port" {
		t.Errorf("%s %q", resp.Status, b)
	}
}

func TestCloseEndsTunnels(t *testing.T) {
	// A raw TCP echo server reached through CONNECT; Close must end the tunnel.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		io.Copy(c, c)
		c.Close()
	}()
	p, err := New([]string{ln.Addr().String()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	pl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	go func() {
		defer close(served)
		p.Serve(pl)
	}()
	conn, err := net.Dial("tcp", pl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n", ln.Addr(), ln.Addr())
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("CONNECT: %v %v", resp, err)
	}
	fmt.Fprint(conn, "ping\n")
	if line, err := br.ReadString('\n'); err != nil || line != "ping\n" {
		t.Fatalf("echo through the tunnel: %q %v", line, err)
	}
	p.Close()
	<-served
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := br.ReadString('\n'); err != io.EOF {
		t.Errorf("tunnel after Close: %v, want EOF", err)
	}
}

func TestForbidden(t *testing.T) {
	for _, tc := range []struct {
		addr    string
		literal bool
		denied  bool
	}{
		{"169.254.169.254", true, true},
		{"169.254.0.1", false, true},
		{"fe80::1", true, true},
		{"fd00:ec2::254", true, true},
		{"100.100.100.200", true, true},
		{"::ffff:169.254.169.254", true, true},
		{"0.0.0.0", true, true},
		{"224.0.0.1", true, true},
		{"127.0.0.1", false, true},
		{"127.0.0.1", true, false},
		{"10.1.2.3", false, true},
		{"192.168.1.1", true, false},
		{"::1", false, true},
		{"fd12::1", false, true},
		{"100.64.0.1", false, true},
		{"8.8.8.8", false, false},
		{"2001:4860:4860::8888", false, false},
	} {
		got := Forbidden(netip.MustParseAddr(tc.addr), tc.literal) != ""
		if got != tc.denied {
			t.Errorf("Forbidden(%s, literal=%v) = %v, want %v", tc.addr, tc.literal, got, tc.denied)
		}
	}
}
