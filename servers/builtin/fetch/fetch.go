// Package fetch is the built-in fetch MCP server: one tool, "fetch", that
// retrieves a web page and returns it as markdown (or raw), in chunks an LLM
// can page through. It is compatible with the reference Python server
// mcp-server-fetch (same tool name, arguments and result text, and a "fetch"
// prompt).
//
// Quick start, serving on stdio:
//
//	srv, err := fetch.New(&fetch.Options{DenyHosts: []string{"*.internal"}})
//	if err != nil {
//		return err
//	}
//	return builtin.Serve(ctx, srv, builtin.ServeOptions{})
//
// or from the command line: mcp-agent builtin fetch [--deny-host H]...
//
// # Tool
//
// fetch takes url (required, http or https), max_length (characters per
// call, default 5000), start_index (character offset, default 0) and raw
// (return the page source instead of markdown). HTML is converted to
// markdown without scripts, styles, navigation, sidebars and footers (and
// only the <main> element, or the single <article>, when the page has one);
// text/* bodies, JSON, XML, YAML and JavaScript are returned as they are;
// other content types (images, PDFs, archives, ...) are refused with an
// error naming the type. When the content is longer than max_length, the
// result ends with the start_index to pass to get the next chunk. Non-2xx
// responses are tool errors naming the status and URL.
//
// # Security model
//
// fetch is a local tool, so loopback and private (RFC 1918, fc00::/7)
// addresses are reachable by default; set Options.DenyPrivate to refuse
// every non-public address. Always refused unless Options.AllowLinkLocal is
// set: link-local addresses (169.254.0.0/16, fe80::/10), which is where
// cloud metadata services live (169.254.169.254), the other metadata
// addresses fd00:ec2::254 and 100.100.100.200, and the metadata host names
// metadata.google.internal and metadata.goog. Options.DenyHosts and
// Options.AllowHosts restrict host names further.
//
// Host names are checked on the URL and on every redirect hop. Addresses
// are checked when connecting, after DNS resolution (in the net.Dialer
// Control hook), so a host name that resolves to a blocked address, or a
// redirect to one, is refused too. Proxy settings from the environment are
// ignored, so that these checks see the real destination.
package fetch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/JohannesKaufmann/html-to-markdown/v2/converter"
	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"
	"golang.org/x/net/http/httpproxy"
)

// Defaults for the zero values of Options fields and tool arguments.
const (
	DefaultMaxBytes     = 5 << 20
	DefaultTimeout      = 30 * time.Second
	DefaultMaxRedirects = 5
	DefaultUserAgent    = "ModelContextProtocol/1.0 (mcp-agent fetch; +https://github.com/mcp-agent-go/mcp-agent)"
	DefaultMaxLength    = 5000
	// MaxMaxLength bounds the max_length argument (exclusive), as in the
	// reference server.
	MaxMaxLength = 1_000_000
)

// Options configures the fetch server. A nil *Options is the zero value.
type Options struct {
	// MaxBytes is how many bytes of a response body are read; the rest is
	// dropped and the result says so. Zero means DefaultMaxBytes (5 MiB).
	MaxBytes int64
	// Timeout bounds each fetch: connecting, redirects and reading the body.
	// Zero means DefaultTimeout (30s).
	Timeout time.Duration
	// MaxRedirects is how many redirects one fetch follows. Zero means
	// DefaultMaxRedirects (5); a negative value follows none.
	MaxRedirects int
	// UserAgent is sent with each request. Empty means DefaultUserAgent.
	UserAgent string
	// AllowHosts, when non-empty, is the only hosts fetch may reach. Each
	// entry is an exact host name ("example.com"), a "*.suffix" pattern that
	// matches every subdomain ("*.example.com" matches a.example.com and
	// a.b.example.com, not example.com), an IP address or a CIDR prefix
	// (matching IP-literal URL hosts). Matching ignores case and a trailing
	// dot. Checked on the URL and every redirect hop.
	AllowHosts []string
	// DenyHosts are hosts fetch refuses, in the same syntax as AllowHosts;
	// deny wins over allow. IP and CIDR entries are also checked against the
	// address actually dialled, whatever host name led there.
	DenyHosts []string
	// AllowLinkLocal permits link-local and cloud metadata destinations
	// (169.254.0.0/16, fe80::/10, fd00:ec2::254, 100.100.100.200,
	// metadata.google.internal, metadata.goog). The zero value refuses them.
	AllowLinkLocal bool
	// DenyPrivate refuses every non-public address: loopback, private
	// (RFC 1918, fc00::/7), shared (100.64.0.0/10), unspecified and
	// multicast. The zero value allows them: fetch is a local tool.
	DenyPrivate bool
	// ProxyFromEnvironment sends requests through the proxy named by
	// HTTP_PROXY / HTTPS_PROXY / NO_PROXY (read when New is called), as in a
	// cloud sandbox whose only way out is the platform's egress proxy. The
	// proxy then decides where connections go (the platform's refuses
	// link-local and metadata addresses after DNS); fetch still checks URL
	// hosts and every redirect against the lists, and dials only the proxy.
	// The zero value ignores proxy variables, so the dial checks see the
	// real destination.
	ProxyFromEnvironment bool
	// Resolver, if set, resolves host names (each address is then checked
	// and dialled in turn). Nil means the standard resolver and dialer.
	Resolver Resolver
}

// Args are the arguments of the fetch tool.
type Args struct {
	URL        string `json:"url" jsonschema:"URL to fetch (http or https)"`
	MaxLength  int    `json:"max_length,omitempty" jsonschema:"maximum number of characters to return"`
	StartIndex int    `json:"start_index,omitempty" jsonschema:"return output starting at this character index; use it to read the next chunk when a previous fetch was truncated"`
	Raw        bool   `json:"raw,omitempty" jsonschema:"return the raw page content (e.g. HTML) instead of markdown"`
}

// Result is the structured result of the fetch tool. Its text content
// carries the same chunk in the format of the reference server.
type Result struct {
	// URL is the URL fetched, after redirects.
	URL string `json:"url" jsonschema:"URL fetched, after redirects"`
	// ContentType is the response's media type, e.g. "text/html".
	ContentType string `json:"content_type" jsonschema:"media type of the response"`
	// Content is the chunk of (converted) content starting at StartIndex.
	Content string `json:"content" jsonschema:"the chunk of content"`
	// StartIndex is the character index the chunk starts at.
	StartIndex int `json:"start_index" jsonschema:"character index the chunk starts at"`
	// TotalLength is the length of the whole content, in characters.
	TotalLength int `json:"total_length" jsonschema:"length of the whole content in characters"`
	// NextStartIndex is the start_index of the next chunk; 0 when this chunk
	// is the last.
	NextStartIndex int `json:"next_start_index,omitempty" jsonschema:"start_index for the next chunk; absent when there is no more"`
	// BodyTruncated reports that the response body exceeded MaxBytes and
	// only the first MaxBytes were read.
	BodyTruncated bool `json:"body_truncated,omitempty" jsonschema:"true when the response was larger than the server's byte limit and was cut"`
}

// fetcher holds the compiled Options.
type fetcher struct {
	client    *http.Client
	policy    *policy
	conv      *converter.Converter
	maxBytes  int64
	timeout   time.Duration
	userAgent string
}

// New returns the fetch MCP server. It reports invalid Options: negative
// MaxBytes or Timeout, and malformed AllowHosts/DenyHosts entries.
func New(opts *Options) (*mcp.Server, error) {
	f, err := newFetcher(opts)
	if err != nil {
		return nil, err
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: "mcp-agent-fetch", Title: "Fetch", Version: "1.0.0"},
		&mcp.ServerOptions{Instructions: "Use the fetch tool to read web pages (as markdown) and text or JSON URLs. " +
			"Long pages come in chunks: call fetch again with the start_index it gives to read on."})

	in, err := jsonschema.For[Args](nil)
	if err != nil {
		return nil, fmt.Errorf("fetch: input schema: %w", err)
	}
	in.Properties["max_length"].Default = json.RawMessage(fmt.Sprint(DefaultMaxLength))
	in.Properties["max_length"].Minimum = ptr(1.0)
	in.Properties["max_length"].ExclusiveMaximum = ptr(float64(MaxMaxLength))
	in.Properties["start_index"].Default = json.RawMessage("0")
	in.Properties["start_index"].Minimum = ptr(0.0)
	in.Properties["raw"].Default = json.RawMessage("false")

	mcp.AddTool(srv, &mcp.Tool{
		Name:  "fetch",
		Title: "Fetch URL",
		Description: "Fetches a URL and returns its content: web pages as markdown (or raw HTML with raw=true), " +
			"text and JSON as they are. Long content is returned in chunks of max_length characters; " +
			"when a result is truncated it says which start_index to pass to read the next chunk.",
		InputSchema: in,
		Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: ptr(true)},
	}, f.tool)

	srv.AddPrompt(&mcp.Prompt{
		Name:        "fetch",
		Title:       "Fetch URL",
		Description: "Fetch a URL and extract its contents as markdown",
		Arguments:   []*mcp.PromptArgument{{Name: "url", Description: "URL to fetch", Required: true}},
	}, f.prompt)
	return srv, nil
}

func ptr[T any](v T) *T { return &v }

func newFetcher(opts *Options) (*fetcher, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.MaxBytes < 0 {
		return nil, fmt.Errorf("fetch: max_bytes is %d; give a positive number of bytes (0 for the 5 MiB default)", o.MaxBytes)
	}
	if o.Timeout < 0 {
		return nil, fmt.Errorf("fetch: timeout is %v; give a positive duration (0 for the 30s default)", o.Timeout)
	}
	pol, err := newPolicy(o.AllowHosts, o.DenyHosts, o.AllowLinkLocal, o.DenyPrivate)
	if err != nil {
		return nil, fmt.Errorf("fetch: %w", err)
	}
	f := &fetcher{
		policy:    pol,
		conv:      newConverter(),
		maxBytes:  cmpOr(o.MaxBytes, DefaultMaxBytes),
		timeout:   cmpOr(o.Timeout, DefaultTimeout),
		userAgent: cmpOr(o.UserAgent, DefaultUserAgent),
	}
	maxRedirects := cmpOr(o.MaxRedirects, DefaultMaxRedirects)
	d := &dialer{policy: pol, res: o.Resolver}
	var proxy func(*http.Request) (*url.URL, error) // nil: a proxy would hide the destination from the dial checks
	if o.ProxyFromEnvironment {
		pf := httpproxy.FromEnvironment().ProxyFunc()
		proxy = func(r *http.Request) (*url.URL, error) { return pf(r.URL) }
	}
	f.client = &http.Client{
		Transport: &http.Transport{
			Proxy:               proxy,
			DialContext:         d.DialContext,
			ForceAttemptHTTP2:   true,
			DisableKeepAlives:   true, // every request dials, so every request is checked
			TLSHandshakeTimeout: 10 * time.Second,
		},
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if maxRedirects < 0 {
				return &redirectError{to: req.URL.String(), err: errors.New("redirects are disabled (max_redirects < 0)")}
			}
			if len(via) > maxRedirects {
				return &redirectError{to: req.URL.String(), err: fmt.Errorf("stopped after %d redirects (max_redirects)", maxRedirects)}
			}
			if err := pol.checkURL(req.URL); err != nil {
				return &redirectError{to: req.URL.String(), err: err}
			}
			return nil
		},
	}
	return f, nil
}

func cmpOr[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// page is a fetched and converted response.
type page struct {
	url           string
	contentType   string
	content       string
	bodyTruncated bool
}

// get fetches rawURL and converts it (unless raw).
func (f *fetcher) get(ctx context.Context, rawURL string, raw bool) (*page, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("fetch %s: invalid URL: %w", rawURL, err)
	}
	if err := f.policy.checkURL(u); err != nil {
		return nil, fmt.Errorf("fetch %s: %w", rawURL, err)
	}
	reqURL := u.String()
	tctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(tctx, http.MethodGet, reqURL, nil)
	if err != nil {
		return nil, fmt.Errorf("fetch %s: %w", rawURL, err)
	}
	req.Header.Set("User-Agent", f.userAgent)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,text/markdown;q=0.9,text/plain;q=0.9,application/json;q=0.9,*/*;q=0.5")
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, f.describe(ctx, rawURL, reqURL, err)
	}
	defer resp.Body.Close()
	final := resp.Request.URL.String()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		if final != reqURL {
			return nil, fmt.Errorf("fetch %s: server returned %s for %s", rawURL, resp.Status, final)
		}
		return nil, fmt.Errorf("fetch %s: server returned %s", rawURL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		return nil, f.describe(ctx, rawURL, reqURL, err)
	}
	p := &page{url: final}
	if int64(len(body)) > f.maxBytes {
		body = trimPartialRune(body[:f.maxBytes])
		p.bodyTruncated = true
	}
	k, mt, params := classify(resp.Header.Get("Content-Type"), body)
	p.contentType = mt
	if k == kindRefused {
		if mt == "" {
			mt = "unknown"
		}
		return nil, fmt.Errorf("fetch %s: content type %q is not supported: fetch returns HTML (as markdown), text and JSON only", rawURL, mt)
	}
	p.content = decodeText(body, params)
	if k == kindHTML && !raw {
		md, err := f.toMarkdown(p.content, final)
		if err != nil {
			return nil, fmt.Errorf("fetch %s: converting HTML to markdown: %w (try raw=true)", rawURL, err)
		}
		if md == "" {
			md = "<error>Page failed to be simplified from HTML</error>"
		}
		p.content = md
	}
	return p, nil
}

// trimPartialRune drops an incomplete UTF-8 sequence cut at the end of b.
func trimPartialRune(b []byte) []byte {
	for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
		if utf8.RuneStart(b[len(b)-i]) {
			if !utf8.FullRune(b[len(b)-i:]) {
				return b[:len(b)-i]
			}
			break
		}
	}
	return b
}

// redirectError is a refusal to follow a redirect to the URL to.
type redirectError struct {
	to  string
	err error
}

func (e *redirectError) Error() string { return "redirect to " + e.to + ": " + e.err.Error() }
func (e *redirectError) Unwrap() error { return e.err }

// describe turns an http.Client error into a user-facing one: policy
// refusals name the hop they happened on, timeouts say so.
func (f *fetcher) describe(ctx context.Context, rawURL, reqURL string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("fetch %s: %w", rawURL, ctx.Err())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("fetch %s: no complete response within %v (timeout): %w", rawURL, f.timeout, context.DeadlineExceeded)
	}
	hop := ""
	var ue *url.Error
	if errors.As(err, &ue) {
		if ue.URL != reqURL {
			hop = ue.URL
		}
		err = ue.Err
	}
	var re *redirectError
	if errors.As(err, &re) {
		hop, err = re.to, re.err
	}
	var be *BlockedError
	if errors.As(err, &be) {
		err = be // drop "dial tcp ...:" wrapping around the policy message
	}
	if hop != "" {
		return fmt.Errorf("fetch %s: redirect to %s: %w", rawURL, hop, err)
	}
	return fmt.Errorf("fetch %s: %w", rawURL, err)
}

func (f *fetcher) tool(ctx context.Context, _ *mcp.CallToolRequest, in Args) (*mcp.CallToolResult, Result, error) {
	p, err := f.get(ctx, in.URL, in.Raw)
	if err != nil {
		return nil, Result{}, err
	}
	maxLen := in.MaxLength
	if maxLen <= 0 {
		maxLen = DefaultMaxLength
	}
	start := max(in.StartIndex, 0)
	chunk, total := runeSlice(p.content, start, maxLen)
	r := Result{URL: p.url, ContentType: p.contentType, Content: chunk, StartIndex: start, TotalLength: total, BodyTruncated: p.bodyTruncated}

	var text strings.Builder
	if p.bodyTruncated {
		fmt.Fprintf(&text, "Note: the response was larger than %d bytes (max_bytes); only the first %d bytes were read.\n", f.maxBytes, f.maxBytes)
	}
	fmt.Fprintf(&text, "Contents of %s:\n", p.url)
	if chunk == "" {
		text.WriteString("<error>No more content available.</error>")
	} else {
		text.WriteString(chunk)
		if next := start + utf8.RuneCountInString(chunk); next < total {
			r.NextStartIndex = next
			fmt.Fprintf(&text, "\n\n<error>Content truncated. Call the fetch tool with a start_index of %d to get more content.</error>", next)
		}
	}
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text.String()}}}, r, nil
}

// runeSlice returns at most n characters of s starting at character start,
// and the length of s in characters.
func runeSlice(s string, start, n int) (string, int) {
	total, from, to := 0, len(s), len(s)
	for i := range s {
		if total == start {
			from = i
		}
		if total == start+n {
			to = i
		}
		total++
	}
	if from > to {
		return "", total
	}
	return s[from:to], total
}

func (f *fetcher) prompt(ctx context.Context, req *mcp.GetPromptRequest) (*mcp.GetPromptResult, error) {
	u := req.Params.Arguments["url"]
	if u == "" {
		return nil, errors.New("fetch prompt: argument url is required")
	}
	p, err := f.get(ctx, u, false)
	if err != nil {
		return &mcp.GetPromptResult{
			Description: "Failed to fetch " + u,
			Messages:    []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: err.Error()}}},
		}, nil
	}
	return &mcp.GetPromptResult{
		Description: "Contents of " + u,
		Messages:    []*mcp.PromptMessage{{Role: "user", Content: &mcp.TextContent{Text: p.content}}},
	}, nil
}
