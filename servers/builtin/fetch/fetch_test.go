package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/mcp-agent-go/mcp-agent/servers/builtin"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// mapResolver resolves names from a fixed table; unknown names are not found.
type mapResolver map[string][]netip.Addr

func (m mapResolver) LookupNetIP(_ context.Context, _, host string) ([]netip.Addr, error) {
	if a, ok := m[host]; ok {
		return a, nil
	}
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func addrs(ss ...string) []netip.Addr {
	var out []netip.Addr
	for _, s := range ss {
		out = append(out, netip.MustParseAddr(s))
	}
	return out
}

// connect serves New(opts) to an mcp.Client over in-memory transports.
func connect(t *testing.T, opts *Options) *mcp.ClientSession {
	t.Helper()
	srv, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ct, st := mcp.NewInMemoryTransports()
	ss, err := srv.Connect(context.Background(), st, nil)
	if err != nil {
		t.Fatalf("server Connect: %v", err)
	}
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "v0"}, nil).Connect(context.Background(), ct, nil)
	if err != nil {
		t.Fatalf("client Connect: %v", err)
	}
	t.Cleanup(func() {
		cs.Close()
		ss.Wait()
	})
	return cs
}

// call calls the fetch tool and returns its text, structured result and
// whether it is a tool error.
func call(t *testing.T, cs *mcp.ClientSession, args map[string]any) (string, Result, bool) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "fetch", Arguments: args})
	if err != nil {
		t.Fatalf("CallTool(%v): %v", args, err)
	}
	if len(res.Content) != 1 {
		t.Fatalf("CallTool(%v): got %d content blocks, want 1", args, len(res.Content))
	}
	tc, ok := res.Content[0].(*mcp.TextContent)
	if !ok {
		t.Fatalf("CallTool(%v): content is %T, want text", args, res.Content[0])
	}
	var r Result
	if !res.IsError {
		b, err := json.Marshal(res.StructuredContent)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &r); err != nil {
			t.Fatalf("structured content %s: %v", b, err)
		}
	}
	return tc.Text, r, res.IsError
}

// mustFail calls fetch and requires a tool error with exactly want.
func mustFail(t *testing.T, cs *mcp.ClientSession, args map[string]any, want string) {
	t.Helper()
	text, _, isErr := call(t, cs, args)
	if !isErr {
		t.Fatalf("fetch %v succeeded with %q, want error %q", args, text, want)
	}
	if text != want {
		t.Errorf("fetch %v error:\n got: %s\nwant: %s", args, text, want)
	}
}

func serve(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	return ts
}

func content(ctype, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", ctype)
		io.WriteString(w, body)
	}
}

const testPage = `<!doctype html>
<html><head><title>T</title><style>body{color:red}</style><script>var secret = 1;</script></head>
<body>
<nav><a href="/home">Home</a> | <a href="/about">About</a></nav>
<main>
<h1>Fetch test</h1>
<p>Some <b>bold</b> text and a <a href="/docs/page">relative link</a>.</p>
<ul><li>one</li><li>two</li></ul>
<script>document.write("noise")</script>
</main>
<footer>Copyright footer</footer>
</body></html>`

func TestHTMLToMarkdown(t *testing.T) {
	ts := serve(t, content("text/html; charset=utf-8", testPage))
	cs := connect(t, nil)

	text, r, isErr := call(t, cs, map[string]any{"url": ts.URL + "/page"})
	if isErr {
		t.Fatalf("fetch: %s", text)
	}
	wantMD := "# Fetch test\n\nSome **bold** text and a [relative link](" + ts.URL + "/docs/page).\n\n- one\n- two"
	want := Result{URL: ts.URL + "/page", ContentType: "text/html", Content: wantMD, TotalLength: len(wantMD)}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	if wantText := "Contents of " + ts.URL + "/page:\n" + wantMD; text != wantText {
		t.Errorf("text:\n got: %q\nwant: %q", text, wantText)
	}
}

func TestHTMLWithoutMainDropsNavAndScripts(t *testing.T) {
	ts := serve(t, content("text/html", `<html><body><nav>menu</nav><script>alert(1)</script><h2>Hi</h2><aside>ads</aside><p>body text</p><footer>foot</footer></body></html>`))
	cs := connect(t, nil)
	_, r, isErr := call(t, cs, map[string]any{"url": ts.URL})
	if isErr {
		t.Fatal("fetch failed")
	}
	if want := "## Hi\n\nbody text"; r.Content != want {
		t.Errorf("content = %q, want %q", r.Content, want)
	}
}

func TestRaw(t *testing.T) {
	ts := serve(t, content("text/html", testPage))
	cs := connect(t, nil)
	_, r, isErr := call(t, cs, map[string]any{"url": ts.URL, "raw": true, "max_length": 100000})
	if isErr {
		t.Fatal("fetch failed")
	}
	if r.Content != testPage {
		t.Errorf("raw content = %q, want the page source", r.Content)
	}
}

func TestTextAndJSONAsIs(t *testing.T) {
	for _, tc := range []struct{ ctype, body string }{
		{"text/plain; charset=utf-8", "plain <b>not html</b>"},
		{"application/json", `{"a": [1, 2]}`},
		{"application/problem+json", `{"title": "x"}`},
		{"text/markdown", "# heading"},
		{"text/csv", "a,b\n1,2"},
	} {
		t.Run(tc.ctype, func(t *testing.T) {
			ts := serve(t, content(tc.ctype, tc.body))
			cs := connect(t, nil)
			_, r, isErr := call(t, cs, map[string]any{"url": ts.URL})
			if isErr {
				t.Fatal("fetch failed")
			}
			if r.Content != tc.body {
				t.Errorf("content = %q, want %q", r.Content, tc.body)
			}
		})
	}
}

func TestLatin1(t *testing.T) {
	ts := serve(t, content("text/plain; charset=ISO-8859-1", "caf\xe9"))
	cs := connect(t, nil)
	if _, r, _ := call(t, cs, map[string]any{"url": ts.URL}); r.Content != "café" {
		t.Errorf("content = %q, want %q", r.Content, "café")
	}
}

func TestPaging(t *testing.T) {
	body := strings.Repeat("héllo wörld ✓ ", 7) // multi-byte characters: indexes count characters
	ts := serve(t, content("text/plain; charset=utf-8", body))
	cs := connect(t, nil)
	total := len([]rune(body))

	var got strings.Builder
	start := 0
	for i := 0; ; i++ {
		if i > total {
			t.Fatalf("paging did not end after %d calls", i)
		}
		text, r, isErr := call(t, cs, map[string]any{"url": ts.URL, "max_length": 10, "start_index": start})
		if isErr {
			t.Fatalf("fetch start_index=%d: %s", start, text)
		}
		if r.StartIndex != start || r.TotalLength != total {
			t.Fatalf("start_index, total_length = %d, %d; want %d, %d", r.StartIndex, r.TotalLength, start, total)
		}
		got.WriteString(r.Content)
		if r.NextStartIndex == 0 {
			if strings.Contains(text, "Content truncated") {
				t.Errorf("last chunk says it is truncated: %q", text)
			}
			break
		}
		if n := len([]rune(r.Content)); n != 10 {
			t.Errorf("chunk at %d has %d characters, want 10", start, n)
		}
		wantTail := fmt.Sprintf("\n\n<error>Content truncated. Call the fetch tool with a start_index of %d to get more content.</error>", start+10)
		if !strings.HasSuffix(text, wantTail) || r.NextStartIndex != start+10 {
			t.Fatalf("chunk at %d: next_start_index %d, text %q; want next %d and suffix %q", start, r.NextStartIndex, text, start+10, wantTail)
		}
		start = r.NextStartIndex
	}
	if got.String() != body {
		t.Errorf("chunks joined = %q, want %q", got.String(), body)
	}

	text, _, isErr := call(t, cs, map[string]any{"url": ts.URL, "start_index": total + 5})
	if want := "Contents of " + ts.URL + ":\n<error>No more content available.</error>"; isErr || text != want {
		t.Errorf("past the end: got %q (error %v), want %q", text, isErr, want)
	}
}

func TestDefaultMaxLength(t *testing.T) {
	body := strings.Repeat("x", DefaultMaxLength+1)
	ts := serve(t, content("text/plain", body))
	cs := connect(t, nil)
	_, r, _ := call(t, cs, map[string]any{"url": ts.URL})
	if len(r.Content) != DefaultMaxLength || r.NextStartIndex != DefaultMaxLength {
		t.Errorf("got %d characters, next %d; want %d, %d", len(r.Content), r.NextStartIndex, DefaultMaxLength, DefaultMaxLength)
	}
}

func TestInvalidArguments(t *testing.T) {
	cs := connect(t, nil)
	for _, args := range []map[string]any{
		{},
		{"url": "http://x", "max_length": 0},
		{"url": "http://x", "max_length": MaxMaxLength},
		{"url": "http://x", "start_index": -1},
	} {
		text, _, isErr := call(t, cs, args)
		if !isErr || !strings.Contains(text, "validating \"arguments\"") {
			t.Errorf("fetch %v = %q (error %v), want an argument validation error", args, text, isErr)
		}
	}
}

func TestMaxBytes(t *testing.T) {
	ts := serve(t, content("text/plain", strings.Repeat("0123456789", 10)))
	cs := connect(t, &Options{MaxBytes: 15})
	text, r, isErr := call(t, cs, map[string]any{"url": ts.URL})
	if isErr {
		t.Fatalf("fetch: %s", text)
	}
	if r.Content != "012345678901234" || !r.BodyTruncated {
		t.Errorf("content, body_truncated = %q, %v; want the first 15 bytes, true", r.Content, r.BodyTruncated)
	}
	if want := "Note: the response was larger than 15 bytes (max_bytes); only the first 15 bytes were read.\n"; !strings.HasPrefix(text, want) {
		t.Errorf("text = %q, want prefix %q", text, want)
	}
}

func TestMaxBytesCutsWholeCharacters(t *testing.T) {
	ts := serve(t, content("text/plain; charset=utf-8", "ab✓cd")) // ✓ is 3 bytes
	cs := connect(t, &Options{MaxBytes: 4})
	if _, r, _ := call(t, cs, map[string]any{"url": ts.URL}); r.Content != "ab" {
		t.Errorf("content = %q, want %q", r.Content, "ab")
	}
}

func TestTimeout(t *testing.T) {
	release := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/headers", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/body", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	ts := serve(t, mux.ServeHTTP)
	t.Cleanup(func() { close(release) }) // runs before ts.Close

	cs := connect(t, &Options{Timeout: 50 * time.Millisecond})
	for _, path := range []string{"/headers", "/body"} {
		u := ts.URL + path
		mustFail(t, cs, map[string]any{"url": u},
			"fetch "+u+": no complete response within 50ms (timeout): context deadline exceeded")
	}
}

func TestRedirects(t *testing.T) {
	var deniedHits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/final", content("text/plain", "arrived"))
	mux.HandleFunc("/secret", func(w http.ResponseWriter, r *http.Request) {
		deniedHits.Add(1)
		io.WriteString(w, "secret")
	})
	ts := serve(t, mux.ServeHTTP)
	port := ts.Listener.Addr().(*net.TCPAddr).Port
	redirect := func(to string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, to, http.StatusFound) }
	}
	mux.HandleFunc("/ok", redirect("/final"))
	deniedURL := fmt.Sprintf("http://denied.test:%d/secret", port)
	mux.HandleFunc("/to-denied", redirect(deniedURL))
	mux.HandleFunc("/to-meta", redirect("http://meta.test/latest/meta-data"))
	mux.HandleFunc("/to-ip-meta", redirect("http://169.254.169.254/latest/meta-data"))
	mux.HandleFunc("/to-file", redirect("file:///etc/passwd"))
	mux.HandleFunc("/loop", redirect("/loop"))

	cs := connect(t, &Options{
		DenyHosts:    []string{"denied.test"},
		MaxRedirects: 3,
		Resolver: mapResolver{
			"denied.test": addrs("127.0.0.1"),
			"meta.test":   addrs("169.254.169.254"),
		},
	})

	if _, r, isErr := call(t, cs, map[string]any{"url": ts.URL + "/ok"}); isErr || r.Content != "arrived" || r.URL != ts.URL+"/final" {
		t.Errorf("allowed redirect: got %+v (error %v)", r, isErr)
	}
	tests := []struct{ path, want string }{
		{"/to-denied", "redirect to " + deniedURL + `: host denied.test matches deny_hosts pattern "denied.test" and is blocked`},
		{"/to-meta", "redirect to http://meta.test/latest/meta-data: host meta.test resolves to address 169.254.169.254, which is link-local/cloud metadata and is blocked (set allow_link_local to permit)"},
		{"/to-ip-meta", "redirect to http://169.254.169.254/latest/meta-data: address 169.254.169.254 is link-local/cloud metadata and is blocked (set allow_link_local to permit)"},
		{"/to-file", `redirect to file:///etc/passwd: unsupported scheme "file": only http and https URLs can be fetched`},
		{"/loop", "redirect to " + ts.URL + "/loop: stopped after 3 redirects (max_redirects)"},
	}
	for _, tc := range tests {
		u := ts.URL + tc.path
		mustFail(t, cs, map[string]any{"url": u}, "fetch "+u+": "+tc.want)
	}
	if n := deniedHits.Load(); n != 0 {
		t.Errorf("the denied host was reached %d times", n)
	}
}

func TestRedirectsDisabled(t *testing.T) {
	ts := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/elsewhere", http.StatusMovedPermanently)
	})
	cs := connect(t, &Options{MaxRedirects: -1})
	mustFail(t, cs, map[string]any{"url": ts.URL + "/a"}, "fetch "+ts.URL+"/a: redirect to "+ts.URL+"/elsewhere: redirects are disabled (max_redirects < 0)")
}

func TestAllowAndDenyHosts(t *testing.T) {
	ts := serve(t, content("text/plain", "hello"))
	port := ts.Listener.Addr().(*net.TCPAddr).Port
	res := mapResolver{
		"a.ok.test":   addrs("127.0.0.1"),
		"ok.test":     addrs("127.0.0.1"),
		"other.test":  addrs("127.0.0.1"),
		"bad.ok.test": addrs("127.0.0.1"),
	}
	u := func(host string) string { return fmt.Sprintf("http://%s:%d/", host, port) }

	tests := []struct {
		name string
		opts *Options
		host string
		want string // error; empty for success
	}{
		{"allow suffix", &Options{AllowHosts: []string{"*.ok.test"}}, "a.ok.test", ""},
		{"allow suffix is case-insensitive", &Options{AllowHosts: []string{"*.OK.test"}}, "A.ok.test", ""},
		{"allow suffix excludes apex", &Options{AllowHosts: []string{"*.ok.test"}}, "ok.test",
			"host ok.test is not in allow_hosts and is blocked (add it to allow_hosts to permit)"},
		{"allow list refuses others", &Options{AllowHosts: []string{"*.ok.test"}}, "127.0.0.1",
			"host 127.0.0.1 is not in allow_hosts and is blocked (add it to allow_hosts to permit)"},
		{"allow IP", &Options{AllowHosts: []string{"127.0.0.1"}}, "127.0.0.1", ""},
		{"allow CIDR", &Options{AllowHosts: []string{"127.0.0.0/8"}}, "127.0.0.1", ""},
		{"deny wins over allow", &Options{AllowHosts: []string{"*.ok.test"}, DenyHosts: []string{"bad.ok.test"}}, "bad.ok.test",
			`host bad.ok.test matches deny_hosts pattern "bad.ok.test" and is blocked`},
		{"deny exact", &Options{DenyHosts: []string{"other.test"}}, "other.test",
			`host other.test matches deny_hosts pattern "other.test" and is blocked`},
		{"deny trailing dot", &Options{DenyHosts: []string{"other.test"}}, "other.test.",
			`host other.test matches deny_hosts pattern "other.test" and is blocked`},
		{"deny does not match others", &Options{DenyHosts: []string{"other.test"}}, "ok.test", ""},
		{"deny CIDR at dial time", &Options{DenyHosts: []string{"127.0.0.0/8"}}, "other.test",
			`host other.test resolves to address 127.0.0.1, which matches deny_hosts pattern "127.0.0.0/8" and is blocked`},
		{"deny IP literal", &Options{DenyHosts: []string{"127.0.0.1"}}, "127.0.0.1",
			`address 127.0.0.1 matches deny_hosts pattern "127.0.0.1" and is blocked`},
		{"deny private", &Options{DenyPrivate: true}, "ok.test",
			"host ok.test resolves to address 127.0.0.1, which is not a public address and is blocked (deny_private is set)"},
		{"deny private IP literal", &Options{DenyPrivate: true}, "127.0.0.1",
			"address 127.0.0.1 is not a public address and is blocked (deny_private is set)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opts.Resolver = res
			cs := connect(t, tc.opts)
			if tc.want != "" {
				mustFail(t, cs, map[string]any{"url": u(tc.host)}, "fetch "+u(tc.host)+": "+tc.want)
				return
			}
			if text, r, isErr := call(t, cs, map[string]any{"url": u(tc.host)}); isErr || r.Content != "hello" {
				t.Errorf("fetch %s = %q (error %v), want hello", u(tc.host), text, isErr)
			}
		})
	}
}

func TestLinkLocalAndMetadataRefused(t *testing.T) {
	// None of these connect: the checks refuse them before connect(2).
	cs := connect(t, &Options{Resolver: mapResolver{
		"meta.test":  addrs("169.254.169.254"),
		"meta6.test": addrs("fe80::1"),
	}})
	tests := []struct{ url, want string }{
		{"http://169.254.169.254/latest/meta-data", "address 169.254.169.254 is link-local/cloud metadata and is blocked (set allow_link_local to permit)"},
		{"http://169.254.1.2:8080/", "address 169.254.1.2 is link-local/cloud metadata and is blocked (set allow_link_local to permit)"},
		{"http://[fe80::1]/", "address fe80::1 is link-local/cloud metadata and is blocked (set allow_link_local to permit)"},
		{"http://[fd00:ec2::254]/latest/meta-data", "address fd00:ec2::254 is link-local/cloud metadata and is blocked (set allow_link_local to permit)"},
		{"http://100.100.100.200/latest/meta-data", "address 100.100.100.200 is link-local/cloud metadata and is blocked (set allow_link_local to permit)"},
		{"http://[::ffff:169.254.169.254]/", "address 169.254.169.254 is link-local/cloud metadata and is blocked (set allow_link_local to permit)"},
		{"http://metadata.google.internal/computeMetadata/v1/", "host metadata.google.internal is a cloud metadata endpoint and is blocked (set allow_link_local to permit)"},
		{"http://METADATA.google.internal./", "host metadata.google.internal is a cloud metadata endpoint and is blocked (set allow_link_local to permit)"},
		{"http://meta.test/latest/meta-data", "host meta.test resolves to address 169.254.169.254, which is link-local/cloud metadata and is blocked (set allow_link_local to permit)"},
		{"https://meta6.test/", "host meta6.test resolves to address fe80::1, which is link-local/cloud metadata and is blocked (set allow_link_local to permit)"},
	}
	for _, tc := range tests {
		mustFail(t, cs, map[string]any{"url": tc.url}, "fetch "+tc.url+": "+tc.want)
	}
}

func TestBlockedAddressSkippedForAllowedOne(t *testing.T) {
	ts := serve(t, content("text/plain", "reached"))
	port := ts.Listener.Addr().(*net.TCPAddr).Port
	cs := connect(t, &Options{Resolver: mapResolver{"mixed.test": addrs("169.254.169.254", "127.0.0.1")}})
	u := fmt.Sprintf("http://mixed.test:%d/", port)
	if text, r, isErr := call(t, cs, map[string]any{"url": u}); isErr || r.Content != "reached" {
		t.Errorf("fetch %s = %q (error %v), want the loopback server's content", u, text, isErr)
	}
}

func TestNon2xx(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/missing", http.NotFound)
	mux.HandleFunc("/broken", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "boom", http.StatusInternalServerError) })
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/missing", http.StatusFound) })
	ts := serve(t, mux.ServeHTTP)
	cs := connect(t, nil)
	mustFail(t, cs, map[string]any{"url": ts.URL + "/missing"}, "fetch "+ts.URL+"/missing: server returned 404 Not Found")
	mustFail(t, cs, map[string]any{"url": ts.URL + "/broken"}, "fetch "+ts.URL+"/broken: server returned 500 Internal Server Error")
	mustFail(t, cs, map[string]any{"url": ts.URL + "/moved"}, "fetch "+ts.URL+"/moved: server returned 404 Not Found for "+ts.URL+"/missing")
}

func TestBadURLs(t *testing.T) {
	cs := connect(t, nil)
	tests := []struct{ url, want string }{
		{"ftp://example.com/file", `fetch ftp://example.com/file: unsupported scheme "ftp": only http and https URLs can be fetched`},
		{"file:///etc/passwd", `fetch file:///etc/passwd: unsupported scheme "file": only http and https URLs can be fetched`},
		{"example.com/page", "fetch example.com/page: URL has no scheme; give an absolute http:// or https:// URL"},
		{"http:///path", "fetch http:///path: URL has no host"},
		{"http://[::1", `fetch http://[::1: invalid URL: missing ']' in host`},
	}
	for _, tc := range tests {
		mustFail(t, cs, map[string]any{"url": tc.url}, tc.want)
	}
}

func TestUnresolvableHost(t *testing.T) {
	cs := connect(t, &Options{Resolver: mapResolver{}})
	mustFail(t, cs, map[string]any{"url": "http://nowhere.test/"}, "fetch http://nowhere.test/: lookup nowhere.test: no such host")
}

func TestBinaryRefused(t *testing.T) {
	png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
	mux := http.NewServeMux()
	mux.HandleFunc("/img", content("image/png", png))
	mux.HandleFunc("/sniffed", func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Content-Type"] = nil // suppress net/http's own sniffing
		io.WriteString(w, png)
	})
	mux.HandleFunc("/pdf", content("application/pdf", "%PDF-1.4"))
	ts := serve(t, mux.ServeHTTP)
	cs := connect(t, nil)
	for path, ctype := range map[string]string{"/img": "image/png", "/sniffed": "image/png", "/pdf": "application/pdf"} {
		u := ts.URL + path
		for _, raw := range []bool{false, true} {
			mustFail(t, cs, map[string]any{"url": u, "raw": raw},
				fmt.Sprintf("fetch %s: content type %q is not supported: fetch returns HTML (as markdown), text and JSON only", u, ctype))
		}
	}
}

func TestUserAgent(t *testing.T) {
	ua := make(chan string, 2)
	ts := serve(t, func(w http.ResponseWriter, r *http.Request) {
		ua <- r.UserAgent()
		io.WriteString(w, "ok")
	})
	for _, tc := range []struct{ set, want string }{{"", DefaultUserAgent}, {"custom/1", "custom/1"}} {
		cs := connect(t, &Options{UserAgent: tc.set})
		call(t, cs, map[string]any{"url": ts.URL})
		if got := <-ua; got != tc.want {
			t.Errorf("User-Agent = %q, want %q", got, tc.want)
		}
	}
}

func TestToolSchema(t *testing.T) {
	cs := connect(t, nil)
	res, err := cs.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Tools) != 1 || res.Tools[0].Name != "fetch" {
		t.Fatalf("tools = %v, want one tool named fetch", res.Tools)
	}
	b, _ := json.Marshal(res.Tools[0].InputSchema)
	var s struct {
		Required   []string
		Properties map[string]struct {
			Type    string
			Default any
		}
	}
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"url"}, s.Required); diff != "" {
		t.Errorf("required (-want +got):\n%s", diff)
	}
	got := map[string]any{}
	for name, p := range s.Properties {
		got[name] = []any{p.Type, p.Default}
	}
	want := map[string]any{
		"url":         []any{"string", nil},
		"max_length":  []any{"integer", float64(DefaultMaxLength)},
		"start_index": []any{"integer", float64(0)},
		"raw":         []any{"boolean", false},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("properties (type, default) (-want +got):\n%s", diff)
	}
}

func TestPrompt(t *testing.T) {
	ts := serve(t, content("text/html", "<h1>Hello</h1><p>world</p>"))
	cs := connect(t, nil)
	res, err := cs.GetPrompt(context.Background(), &mcp.GetPromptParams{Name: "fetch", Arguments: map[string]string{"url": ts.URL}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Messages) != 1 || res.Messages[0].Content.(*mcp.TextContent).Text != "# Hello\n\nworld" {
		t.Errorf("prompt messages = %+v, want the page as markdown", res.Messages)
	}
	res, err = cs.GetPrompt(context.Background(), &mcp.GetPromptParams{Name: "fetch", Arguments: map[string]string{"url": "ftp://x"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := `fetch ftp://x: unsupported scheme "ftp": only http and https URLs can be fetched`; res.Description != "Failed to fetch ftp://x" || res.Messages[0].Content.(*mcp.TextContent).Text != want {
		t.Errorf("prompt for a bad URL = %q / %+v, want the error %q", res.Description, res.Messages[0].Content, want)
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	tests := []struct {
		opts *Options
		want string
	}{
		{&Options{MaxBytes: -1}, "fetch: max_bytes is -1; give a positive number of bytes (0 for the 5 MiB default)"},
		{&Options{Timeout: -time.Second}, "fetch: timeout is -1s; give a positive duration (0 for the 30s default)"},
		{&Options{AllowHosts: []string{""}}, `fetch: allow_hosts: invalid host pattern "": empty`},
		{&Options{DenyHosts: []string{"https://example.com"}}, `fetch: deny_hosts: invalid host pattern "https://example.com": unexpected ':': give a host name like example.com or *.example.com, without scheme, port or path`},
		{&Options{DenyHosts: []string{"example.com:8080"}}, `fetch: deny_hosts: invalid host pattern "example.com:8080": unexpected ':': give a host name like example.com or *.example.com, without scheme, port or path`},
		{&Options{DenyHosts: []string{"*"}}, `fetch: deny_hosts: invalid host pattern "*": unexpected '*': give a host name like example.com or *.example.com, without scheme, port or path`},
		{&Options{DenyHosts: []string{"a..b"}}, `fetch: deny_hosts: invalid host pattern "a..b": empty label`},
		{&Options{DenyHosts: []string{"10.0.0.0/33"}}, `fetch: deny_hosts: invalid host pattern "10.0.0.0/33": not a CIDR prefix: netip.ParsePrefix("10.0.0.0/33"): prefix length out of range`},
	}
	for _, tc := range tests {
		_, err := New(tc.opts)
		if err == nil || err.Error() != tc.want {
			t.Errorf("New(%+v) error = %v, want %q", tc.opts, err, tc.want)
		}
	}
}

func TestPolicyAllowLinkLocal(t *testing.T) {
	p, err := newPolicy(nil, nil, true, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []string{"169.254.169.254", "fe80::1", "fd00:ec2::254", "100.100.100.200"} {
		if err := p.checkAddr("", netip.MustParseAddr(a)); err != nil {
			t.Errorf("with allow_link_local, checkAddr(%s) = %v, want nil", a, err)
		}
	}
	if err := p.checkURL(&url.URL{Scheme: "http", Host: "metadata.google.internal"}); err != nil {
		t.Errorf("with allow_link_local, metadata.google.internal refused: %v", err)
	}
}

func TestBlockedErrorIs(t *testing.T) {
	p, _ := newPolicy(nil, nil, false, false)
	err := p.checkAddr("x", netip.MustParseAddr("169.254.169.254"))
	var be *BlockedError
	if !errors.Is(err, ErrBlocked) || !errors.As(err, &be) || be.Addr != netip.MustParseAddr("169.254.169.254") {
		t.Errorf("checkAddr error %v: want a *BlockedError matching ErrBlocked", err)
	}
}

func TestStreamableHTTP(t *testing.T) {
	ts := serve(t, content("text/html", "<h1>Over HTTP</h1>"))
	for _, stateless := range []bool{false, true} {
		t.Run(fmt.Sprintf("stateless=%v", stateless), func(t *testing.T) {
			srv, err := New(nil)
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			ready := make(chan net.Addr, 1)
			done := make(chan error, 1)
			go func() {
				done <- builtin.Serve(ctx, srv, builtin.ServeOptions{
					HTTPAddr: "127.0.0.1:0", Stateless: stateless,
					Ready: func(a net.Addr) { ready <- a },
				})
			}()
			var addr net.Addr
			select {
			case addr = <-ready:
			case err := <-done:
				cancel()
				t.Fatalf("Serve: %v", err)
			case <-time.After(10 * time.Second):
				cancel()
				t.Fatal("Serve did not start within 10s")
			}
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Serve: %v", err)
				}
			}()
			httpClient := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "v0"}, nil).Connect(ctx,
				&mcp.StreamableClientTransport{Endpoint: "http://" + addr.String() + "/mcp", HTTPClient: httpClient}, nil)
			if err != nil {
				t.Fatalf("connect: %v", err)
			}
			defer cs.Close()
			text, r, isErr := call(t, cs, map[string]any{"url": ts.URL})
			if isErr || r.Content != "# Over HTTP" {
				t.Errorf("fetch over Streamable HTTP = %q (error %v), want the page as markdown", text, isErr)
			}
			mustFail(t, cs, map[string]any{"url": "http://169.254.169.254/"},
				"fetch http://169.254.169.254/: address 169.254.169.254 is link-local/cloud metadata and is blocked (set allow_link_local to permit)")
		})
	}
}

// TestStandardResolverChecksAddresses uses the system resolver: localhost
// resolves (through /etc/hosts) to loopback addresses, which the dial check
// sees and refuses, and reaches without the rule.
func TestStandardResolverChecksAddresses(t *testing.T) {
	ts := serve(t, content("text/plain", "local"))
	u := fmt.Sprintf("http://localhost:%d/", ts.Listener.Addr().(*net.TCPAddr).Port)

	cs := connect(t, nil)
	if text, r, isErr := call(t, cs, map[string]any{"url": u}); isErr || r.Content != "local" {
		t.Fatalf("fetch %s = %q (error %v), want the loopback server's content", u, text, isErr)
	}

	cs = connect(t, &Options{DenyPrivate: true})
	text, _, isErr := call(t, cs, map[string]any{"url": u})
	if want := "fetch " + u + ": host localhost resolves to address "; !isErr || !strings.HasPrefix(text, want) ||
		!strings.HasSuffix(text, ", which is not a public address and is blocked (deny_private is set)") {
		t.Errorf("fetch %s with deny_private = %q, want a deny_private refusal of a localhost address", u, text)
	}
}
