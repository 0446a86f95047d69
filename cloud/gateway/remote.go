package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"time"
)

// remoteServer reverse-proxies one networked MCP server.
type remoteServer struct {
	name      string
	target    *url.URL
	header    http.Header
	transport http.RoundTripper
	own       *http.Transport // closed with the server; nil if the backend brought its own
	proxy     *httputil.ReverseProxy
	ctx       context.Context // cancelled on close: proxied requests end
	cancel    context.CancelFunc
}

func newRemoteServer(g *Gateway, name string, b *RemoteBackend, callTimeout time.Duration) (*remoteServer, error) {
	target, err := url.Parse(b.URL)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, fmt.Errorf("remote server %q: URL %q is not an absolute http(s) URL", name, b.URL)
	}
	rs := &remoteServer{name: name, target: target, header: b.Header.Clone(), transport: b.Transport}
	if rs.transport == nil {
		rs.own = &http.Transport{
			DialContext:           (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
			MaxIdleConnsPerHost:   64,
			IdleConnTimeout:       90 * time.Second,
			ResponseHeaderTimeout: max(callTimeout, 0),
			ForceAttemptHTTP2:     true,
		}
		rs.transport = rs.own
	}
	rs.ctx, rs.cancel = context.WithCancel(context.Background())
	rs.proxy = &httputil.ReverseProxy{
		Rewrite:       rs.rewrite,
		Transport:     rs.transport,
		FlushInterval: -1, // SSE: flush every write
		ErrorLog:      nil,
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			var mbe *http.MaxBytesError
			switch {
			case errors.As(err, &mbe):
				writeError(w, http.StatusRequestEntityTooLarge, errCodeTooLarge, "request body exceeds %d bytes", mbe.Limit)
			case errors.Is(err, context.DeadlineExceeded):
				writeError(w, http.StatusGatewayTimeout, errCodeTimeout, "server %q at %s did not answer in time", name, target.Redacted())
			case rs.ctx.Err() != nil:
				writeError(w, http.StatusServiceUnavailable, errCodeUnavailable, "server %q was unregistered", name)
			case r.Context().Err() != nil:
				// The client went away; nothing to answer.
			default:
				g.logger.Warn("gateway: proxy error", "server", name, "error", err)
				writeError(w, http.StatusBadGateway, errCodeBadGateway, "server %q at %s is unreachable: %v", name, target.Redacted(), err)
			}
		},
	}
	return rs, nil
}

// rewrite sends the request to the target URL as is (path and query of the
// target; the client's query is appended), without the platform's own
// credentials (Cookie, Authorization) and with the backend's headers.
func (rs *remoteServer) rewrite(pr *httputil.ProxyRequest) {
	u := *rs.target
	if q := pr.In.URL.RawQuery; q != "" {
		if u.RawQuery != "" {
			u.RawQuery += "&" + q
		} else {
			u.RawQuery = q
		}
	}
	pr.Out.URL = &u
	pr.Out.Host = ""
	pr.Out.Header.Del("Cookie")
	pr.Out.Header.Del("Authorization")
	pr.Out.Header.Del("Origin")
	for k, vs := range rs.header {
		pr.Out.Header[k] = append([]string(nil), vs...)
	}
	pr.SetXForwarded()
}

func (rs *remoteServer) serveHTTP(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithCancel(r.Context())
	defer cancel()
	stop := context.AfterFunc(rs.ctx, cancel)
	defer stop()
	rs.proxy.ServeHTTP(w, r.WithContext(ctx))
}

func (rs *remoteServer) close() {
	rs.cancel()
	if rs.own != nil {
		rs.own.CloseIdleConnections()
	}
}
