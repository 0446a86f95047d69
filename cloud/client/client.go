// Package client is a Go client of the mcp-agent cloud platform's HTTP API
// (package cloud/api), as used by the mcp-agent CLI.
//
// Quick start:
//
//	c, err := client.FromEnv() // MCP_AGENT_CLOUD_URL, MCP_AGENT_API_KEY
//	if err != nil {
//		return err
//	}
//	s, err := c.CreateServer(ctx, api.CreateServerRequest{
//		Name: "files", Type: "filesystem",
//		AllowedPaths: []api.AllowedPath{{Path: "/srv/docs", Mode: "r"}},
//	})
//	fmt.Println(s.Endpoint) // http://127.0.0.1:8750/servers/local.files/mcp
//
// Errors from the platform are *api.Error values (check the Code or Status
// with errors.As); a platform that cannot be reached gives an error that says how
// to start one.
package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
)

// DefaultURL is the platform `mcp-agent cloud up` serves by default.
const DefaultURL = "http://127.0.0.1:8750"

// Environment variables read by FromEnv.
const (
	EnvURL = "MCP_AGENT_CLOUD_URL"
	EnvKey = "MCP_AGENT_API_KEY"
)

// Options configures a Client. The zero value is usable.
type Options struct {
	// APIKey is sent as "Authorization: Bearer APIKey". Empty sends none.
	APIKey string
	// HTTPClient makes the requests. Nil means a client without a timeout
	// (streams are long) whose transport ignores proxy settings for
	// loopback URLs.
	HTTPClient *http.Client
}

// Client talks to one platform.
type Client struct {
	base string
	key  string
	hc   *http.Client
}

// New returns a client of the platform at baseURL (such as
// http://127.0.0.1:8750).
func New(baseURL string, opts *Options) *Client {
	c := &Client{base: strings.TrimSuffix(baseURL, "/"), hc: http.DefaultClient}
	if opts != nil {
		c.key = opts.APIKey
		if opts.HTTPClient != nil {
			c.hc = opts.HTTPClient
		}
	}
	return c
}

// FromEnv returns a client of the platform at $MCP_AGENT_CLOUD_URL (default
// DefaultURL) with the key $MCP_AGENT_API_KEY or, when that is unset and the
// platform is on this machine (a loopback URL), the admin key that
// `mcp-agent cloud up` wrote to ~/.mcp-agent-cloud/admin.key.
func FromEnv() (*Client, error) {
	base := os.Getenv(EnvURL)
	if base == "" {
		base = DefaultURL
	}
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%s=%q is not an http(s) URL such as %s", EnvURL, base, DefaultURL)
	}
	key := os.Getenv(EnvKey)
	if key == "" && isLoopback(u.Hostname()) {
		if dir, err := DefaultDataDir(); err == nil {
			if b, err := os.ReadFile(filepath.Join(dir, "admin.key")); err == nil {
				key = strings.TrimSpace(string(b))
			}
		}
	}
	return New(base, &Options{APIKey: key}), nil
}

// DefaultDataDir is ~/.mcp-agent-cloud, the data directory of `mcp-agent
// cloud up`.
func DefaultDataDir() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find the home directory: %w", err)
	}
	return filepath.Join(home, ".mcp-agent-cloud"), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// URL is the platform's base URL.
func (c *Client) URL() string { return c.base }

// APIKey is the key the client sends, for MCP clients of deployed servers
// ("Authorization: Bearer KEY" on the server's endpoint).
func (c *Client) APIKey() string { return c.key }

// ErrUnreachable is wrapped by errors of requests that did not reach the
// platform.
var ErrUnreachable = errors.New("platform unreachable")

// do sends a request and decodes a JSON answer into out (if not nil).
func (c *Client) do(ctx context.Context, method, path string, body, out any) error {
	resp, err := c.send(ctx, method, path, body, "")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decode the answer: %w", method, path, err)
	}
	return nil
}

// send sends a request and returns a 2xx response, or the error.
func (c *Client) send(ctx context.Context, method, path string, body any, accept string) (*http.Response, error) {
	var r io.Reader
	contentType := "application/json"
	if rb, ok := body.(rawBody); ok {
		r, contentType = rb.r, rb.contentType
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return nil, err
		}
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, r)
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	if c.key != "" {
		req.Header.Set("Authorization", "Bearer "+c.key)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("%w: cannot reach the platform at %s (%v): start one with `mcp-agent cloud up`, or set %s", ErrUnreachable, c.base, rootCause(err), EnvURL)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return resp, nil
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var eb struct {
		Error *api.Error `json:"error"`
	}
	if json.Unmarshal(data, &eb) == nil && eb.Error != nil && eb.Error.Message != "" {
		eb.Error.Status = resp.StatusCode
		if resp.StatusCode == http.StatusUnauthorized && c.key == "" {
			eb.Error.Message += fmt.Sprintf("; set %s (a local platform's admin key is in ~/.mcp-agent-cloud/admin.key)", EnvKey)
		}
		return nil, eb.Error
	}
	return nil, &api.Error{Status: resp.StatusCode, Code: "http_" + strconv.Itoa(resp.StatusCode),
		Message: fmt.Sprintf("%s %s: %s: %s", method, path, resp.Status, strings.TrimSpace(string(data)))}
}

func rootCause(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

func esc(name string) string { return url.PathEscape(name) }

// Health checks that the platform answers.
func (c *Client) Health(ctx context.Context) (api.Health, error) {
	var h api.Health
	err := c.do(ctx, "GET", "/healthz", nil, &h)
	return h, err
}

// CreateServer deploys a server (POST /v1/servers).
func (c *Client) CreateServer(ctx context.Context, req api.CreateServerRequest) (api.Server, error) {
	var s api.Server
	err := c.do(ctx, "POST", "/v1/servers", req, &s)
	return s, err
}

// ListServers lists the org's servers.
func (c *Client) ListServers(ctx context.Context) ([]api.Server, error) {
	var l api.ServerList
	err := c.do(ctx, "GET", "/v1/servers", nil, &l)
	return l.Servers, err
}

// GetServer returns one server with its live state.
func (c *Client) GetServer(ctx context.Context, name string) (api.Server, error) {
	var s api.Server
	err := c.do(ctx, "GET", "/v1/servers/"+esc(name), nil, &s)
	return s, err
}

// StartServer starts a stopped server.
func (c *Client) StartServer(ctx context.Context, name string) (api.Server, error) {
	return c.serverOp(ctx, name, "start")
}

// StopServer stops a server.
func (c *Client) StopServer(ctx context.Context, name string) (api.Server, error) {
	return c.serverOp(ctx, name, "stop")
}

// RestartServer stops and starts a server.
func (c *Client) RestartServer(ctx context.Context, name string) (api.Server, error) {
	return c.serverOp(ctx, name, "restart")
}

func (c *Client) serverOp(ctx context.Context, name, op string) (api.Server, error) {
	var s api.Server
	err := c.do(ctx, "POST", "/v1/servers/"+esc(name)+"/"+op, nil, &s)
	return s, err
}

// DeleteServer stops and deletes a server.
func (c *Client) DeleteServer(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "/v1/servers/"+esc(name), nil, nil)
}

// LogsOptions selects log lines.
type LogsOptions struct {
	// Since selects lines at or after this time (zero: no bound).
	Since time.Time
	// Limit is how many of the newest lines (0: the platform's default,
	// 100).
	Limit int
}

func logsQuery(o *LogsOptions, follow bool) string {
	q := url.Values{}
	if o != nil {
		if !o.Since.IsZero() {
			q.Set("since", o.Since.UTC().Format(time.RFC3339Nano))
		}
		if o.Limit > 0 {
			q.Set("limit", strconv.Itoa(o.Limit))
		}
	}
	if follow {
		q.Set("follow", "true")
	}
	if len(q) == 0 {
		return ""
	}
	return "?" + q.Encode()
}

// Logs returns a server's newest log lines.
func (c *Client) Logs(ctx context.Context, name string, opts *LogsOptions) ([]api.LogLine, error) {
	return c.logs(ctx, "servers", name, opts)
}

// logs returns the newest log lines of a deployment of kind ("servers" or
// "apps").
func (c *Client) logs(ctx context.Context, kind, name string, opts *LogsOptions) ([]api.LogLine, error) {
	var l api.LogList
	err := c.do(ctx, "GET", "/v1/"+kind+"/"+esc(name)+"/logs"+logsQuery(opts, false), nil, &l)
	return l.Logs, err
}

// FollowLogs yields the selected lines, then new ones as they arrive, until
// ctx is done (it then ends without an error), the server is deleted or the
// platform goes away (an error).
func (c *Client) FollowLogs(ctx context.Context, name string, opts *LogsOptions) iter.Seq2[api.LogLine, error] {
	return follow[api.LogLine](ctx, c, "/v1/servers/"+esc(name)+"/logs"+logsQuery(opts, true))
}

// Events returns a server's newest events (limit 0: 100).
func (c *Client) Events(ctx context.Context, name string, limit int) ([]api.Event, error) {
	return c.events(ctx, "servers", name, limit)
}

// events returns the newest events of a deployment of kind ("servers" or
// "apps").
func (c *Client) events(ctx context.Context, kind, name string, limit int) ([]api.Event, error) {
	var l api.EventList
	path := "/v1/" + kind + "/" + esc(name) + "/events"
	if limit > 0 {
		path += "?limit=" + strconv.Itoa(limit)
	}
	err := c.do(ctx, "GET", path, nil, &l)
	return l.Events, err
}

// FollowEvents yields events with an ID greater than after (0: the newest
// 100 first), then new ones as they happen, like FollowLogs.
func (c *Client) FollowEvents(ctx context.Context, name string, after int64) iter.Seq2[api.Event, error] {
	path := "/v1/servers/" + esc(name) + "/events?follow=true"
	if after > 0 {
		path += "&after=" + strconv.FormatInt(after, 10)
	}
	return follow[api.Event](ctx, c, path)
}

// follow reads a Server-Sent Events stream of JSON objects.
func follow[T any](ctx context.Context, c *Client, path string) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		var zero T
		resp, err := c.send(ctx, "GET", path, nil, "text/event-stream")
		if err != nil {
			if ctx.Err() == nil {
				yield(zero, err)
			}
			return
		}
		defer resp.Body.Close()
		stopped := false
		err = readSSE[T](resp.Body, func(v T, err error) bool {
			if !yield(v, err) {
				stopped = true
				return false
			}
			return true
		})
		if stopped || ctx.Err() != nil || errors.Is(err, errStreamFailed) {
			return
		}
		if err == nil {
			err = errors.New("the platform ended the stream (deleted, or shutting down)")
		}
		yield(zero, err)
	}
}

// errStreamFailed is returned by readSSE after it yielded the stream's
// "error" event or a message it could not decode.
var errStreamFailed = errors.New("stream failed")

// readSSE reads a Server-Sent Events stream of JSON objects and yields
// each; an "error" event is yielded as its *api.Error. It returns nil at
// the end of the stream, errStreamFailed after it yielded an error, and
// the read error otherwise. When yield returns false it returns nil.
func readSSE[T any](body io.Reader, yield func(T, error) bool) error {
	var zero T
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var event, data string
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if data == "" {
				continue
			}
			if event == "error" {
				var eb struct {
					Error *api.Error `json:"error"`
				}
				if json.Unmarshal([]byte(data), &eb) == nil && eb.Error != nil {
					yield(zero, eb.Error)
				} else {
					yield(zero, fmt.Errorf("stream error: %s", data))
				}
				return errStreamFailed
			}
			var v T
			if err := json.Unmarshal([]byte(data), &v); err != nil {
				yield(zero, fmt.Errorf("decode a streamed %s: %w", event, err))
				return errStreamFailed
			}
			if !yield(v, nil) {
				return nil
			}
			event, data = "", ""
		case strings.HasPrefix(line, "event:"):
			event = strings.TrimSpace(strings.TrimPrefix(line, "event:"))
		case strings.HasPrefix(line, "data:"):
			data += strings.TrimPrefix(strings.TrimPrefix(line, "data:"), " ")
		}
	}
	return sc.Err()
}

// Tool is a tool as listed by a server (the MCP fields the CLI shows).
type Tool struct {
	Name        string          `json:"name"`
	Title       string          `json:"title,omitempty"`
	Description string          `json:"description,omitempty"`
	InputSchema json.RawMessage `json:"inputSchema,omitempty"`
}

// Tools lists a deployed server's tools through the gateway (an MCP
// tools/list made by the platform): it fails until the server answers MCP.
func (c *Client) Tools(ctx context.Context, name string) ([]Tool, error) {
	var l struct {
		Tools []Tool `json:"tools"`
	}
	err := c.do(ctx, "GET", "/v1/servers/"+esc(name)+"/tools", nil, &l)
	return l.Tools, err
}

// CallTool calls a tool of a deployed server through the gateway and
// returns the MCP CallToolResult as JSON.
func (c *Client) CallTool(ctx context.Context, name, tool string, args map[string]any) (json.RawMessage, error) {
	var res json.RawMessage
	err := c.do(ctx, "POST", "/v1/servers/"+esc(name)+"/call_tool", map[string]any{"name": tool, "arguments": args}, &res)
	return res, err
}

// ParseMemory parses a memory size: bytes, or a number with a K, M, G or T
// suffix in powers of 1024 ("512M", "2G", "1.5G"; "2GB" and "2GiB" too).
func ParseMemory(s string) (int64, error) {
	t := strings.ToUpper(strings.TrimSpace(s))
	t = strings.TrimSuffix(t, "B")
	t = strings.TrimSuffix(t, "I")
	mult := 1.0
	if n := len(t); n > 0 {
		switch t[n-1] {
		case 'K':
			mult = 1 << 10
		case 'M':
			mult = 1 << 20
		case 'G':
			mult = 1 << 30
		case 'T':
			mult = 1 << 40
		}
		if mult > 1 {
			t = t[:n-1]
		}
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || f <= 0 || f*mult > 1<<62 {
		return 0, fmt.Errorf("invalid memory size %q: want a number with K, M or G, such as 512M or 2G", s)
	}
	return int64(f * mult), nil
}
