package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeService knows one server, "files", in every org.
type fakeService struct{}

func (f *fakeService) Authenticate(_ context.Context, key string) (Principal, error) {
	switch key {
	case "good":
		return Principal{Org: "local"}, nil
	case "acme":
		return Principal{Org: "acme"}, nil
	}
	return Principal{}, ErrUnauthorized
}

func (f *fakeService) srv(org, name string) (Server, error) {
	if name != "files" {
		return Server{}, NotFound("server %q not found", name)
	}
	return Server{Org: org, Name: name, FullName: org + "." + name, Status: "running"}, nil
}

func (f *fakeService) CreateServer(_ context.Context, org string, req CreateServerRequest) (Server, error) {
	return Server{Org: org, Name: req.Name}, nil
}
func (f *fakeService) ListServers(context.Context, string) ([]Server, error) { return nil, nil }
func (f *fakeService) GetServer(_ context.Context, org, name string) (Server, error) {
	return f.srv(org, name)
}
func (f *fakeService) StartServer(_ context.Context, org, name string) (Server, error) {
	return f.srv(org, name)
}
func (f *fakeService) StopServer(_ context.Context, org, name string) (Server, error) {
	return f.srv(org, name)
}
func (f *fakeService) RestartServer(_ context.Context, org, name string) (Server, error) {
	return f.srv(org, name)
}
func (f *fakeService) DeleteServer(_ context.Context, org, name string) error {
	_, err := f.srv(org, name)
	return err
}
func (f *fakeService) Logs(_ context.Context, org, name string, q LogQuery) ([]LogLine, error) {
	if _, err := f.srv(org, name); err != nil {
		return nil, err
	}
	if q.After >= 2 {
		return nil, nil
	}
	return []LogLine{{Seq: 1, Line: "one"}, {Seq: 2, Line: "two"}}, nil
}
func (f *fakeService) Events(_ context.Context, org, name string, _ EventQuery) ([]Event, error) {
	_, err := f.srv(org, name)
	return nil, err
}
func (f *fakeService) Changed(ctx context.Context, org, name string) (<-chan struct{}, error) {
	if _, err := f.srv(org, name); err != nil {
		return nil, err
	}
	return ctx.Done(), nil
}
func (f *fakeService) ResolveGateway(_ context.Context, p *Principal, name string) (string, error) {
	if p == nil {
		return "", Errorf(http.StatusUnauthorized, CodeUnauthorized, "missing API key")
	}
	return p.Org + "." + name, nil
}

// newRequest is httptest.NewRequest with a loopback Host.
func newRequest(method, target string, body *strings.Reader) *http.Request {
	r := httptest.NewRequest(method, target, body)
	r.Host = "127.0.0.1:8750"
	return r
}

func newTestHandler() (*Handler, *fakeService, *[]string) {
	svc := &fakeService{}
	var seen []string
	gw := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.Method+" "+r.URL.Path+" auth="+r.Header.Get("Authorization"))
		w.WriteHeader(http.StatusTeapot)
	})
	return New(svc, gw, &Options{Heartbeat: time.Hour}), svc, &seen
}

// TestOpenAPIMatchesRoutes checks that openapi.json documents exactly the
// routes the handler serves, with their methods, and that each documented
// operation is routed (not the catch-all 404).
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(OpenAPI(), &doc); err != nil {
		t.Fatalf("openapi.json is not valid JSON: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q", doc.OpenAPI)
	}
	documented := map[string][]string{}
	for path, item := range doc.Paths {
		for k := range item {
			switch k {
			case "get", "post", "put", "delete", "patch":
				documented[path] = append(documented[path], strings.ToUpper(k))
			}
		}
		sort.Strings(documented[path])
	}
	served := map[string][]string{}
	for _, rt := range routes {
		for m := range rt.methods {
			served[rt.pattern] = append(served[rt.pattern], m)
		}
		sort.Strings(served[rt.pattern])
	}
	// The gateway's endpoints are documented too.
	for _, op := range []string{"tools", "resources", "prompts"} {
		served["/v1/servers/{name}/"+op] = []string{"GET"}
	}
	for _, op := range []string{"call_tool", "read_resource", "get_prompt"} {
		served["/v1/servers/{name}/"+op] = []string{"POST"}
	}
	served["/servers/{name}/mcp"] = []string{"DELETE", "GET", "POST"}
	if diff := cmp.Diff(served, documented); diff != "" {
		t.Errorf("routes (-served +documented):\n%s", diff)
	}

	// Every documented operation reaches a handler: never the catch-all.
	h, _, _ := newTestHandler()
	for path, ms := range documented {
		for _, m := range ms {
			req := newRequest(m, strings.ReplaceAll(path, "{name}", "files"), strings.NewReader(`{"name": "files"}`))
			req.Header.Set("Authorization", "Bearer good")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if strings.Contains(w.Body.String(), "no such endpoint") || w.Code == http.StatusMethodNotAllowed || w.Code == http.StatusForbidden || w.Code == http.StatusUnauthorized {
				t.Errorf("%s %s: %d %s", m, path, w.Code, w.Body)
			}
		}
	}
}

func TestGatewayRoutingRewritesNameAndDropsKey(t *testing.T) {
	h, _, seen := newTestHandler()
	for _, path := range []string{"/servers/files/mcp", "/v1/servers/files/call_tool", "/servers/local.files/mcp"} {
		req := newRequest("POST", path, strings.NewReader("{}"))
		req.Header.Set("Authorization", "Bearer acme")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != http.StatusTeapot {
			t.Errorf("%s: %d %s", path, w.Code, w.Body)
		}
	}
	want := []string{
		"POST /servers/acme.files/mcp auth=",
		"POST /v1/servers/acme.files/call_tool auth=",
		"POST /servers/acme.local.files/mcp auth=", // the fake resolves naively; the platform checks orgs
	}
	if diff := cmp.Diff(want, *seen); diff != "" {
		t.Errorf("gateway requests (-want +got):\n%s", diff)
	}
	// A bad key is refused before the gateway.
	req := newRequest("POST", "/servers/files/mcp", strings.NewReader("{}"))
	req.Header.Set("Authorization", "Bearer nope")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != 401 || w.Header().Get("WWW-Authenticate") == "" || len(*seen) != 3 {
		t.Errorf("bad key: %d %q", w.Code, w.Header().Get("WWW-Authenticate"))
	}
}

func TestErrorsAreJSON(t *testing.T) {
	h, _, _ := newTestHandler()
	for _, tc := range []struct {
		method, path, auth, body string
		status                   int
		code, msg                string
	}{
		{"GET", "/v1/servers", "", "", 401, CodeUnauthorized, "missing API key"},
		{"GET", "/v1/servers", "Basic x", "", 401, CodeUnauthorized, "malformed Authorization header"},
		{"GET", "/v1/servers", "Bearer nope", "", 401, CodeUnauthorized, "invalid API key"},
		{"POST", "/v1/servers", "Bearer good", `[1]`, 400, CodeBadRequest, "must be a JSON object"},
		{"POST", "/v1/servers", "Bearer good", `{"name": 3}`, 400, CodeBadRequest, `field "name" must be string`},
		{"POST", "/v1/servers", "Bearer good", `{"name": "a"} {}`, 400, CodeBadRequest, "data after the JSON object"},
		{"POST", "/v1/servers", "Bearer good", `{"name": "` + strings.Repeat("x", 1<<20) + `"}`, 413, CodeTooLarge, "exceeds 1048576 bytes"},
		{"PATCH", "/v1/servers/files", "Bearer good", "", 405, CodeMethod, "use"},
		{"GET", "/v1/servers/other", "Bearer good", "", 404, CodeNotFound, `server "other" not found`},
		{"GET", "/v1/servers/files/logs?limit=-1", "Bearer good", "", 400, CodeBadRequest, "limit"},
		{"GET", "/nothing", "", "", 404, CodeNotFound, "no such endpoint"},
	} {
		req := newRequest(tc.method, tc.path, strings.NewReader(tc.body))
		if tc.auth != "" {
			req.Header.Set("Authorization", tc.auth)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		var eb struct{ Error Error }
		if err := json.Unmarshal(w.Body.Bytes(), &eb); err != nil {
			t.Errorf("%s %s: body is not JSON: %q", tc.method, tc.path, w.Body)
			continue
		}
		if w.Code != tc.status || eb.Error.Code != tc.code || !strings.Contains(eb.Error.Message, tc.msg) {
			t.Errorf("%s %s: %d %+v, want %d %s %q", tc.method, tc.path, w.Code, eb.Error, tc.status, tc.code, tc.msg)
		}
	}
}

func TestFollowStreamsSSE(t *testing.T) {
	h, _, _ := newTestHandler()
	srv := httptest.NewServer(h)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/v1/servers/files/logs?follow=1", nil)
	req.Header.Set("Authorization", "Bearer good")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 4096)
	var got strings.Builder
	for !strings.Contains(got.String(), "id: 2\n") {
		n, err := resp.Body.Read(buf)
		got.Write(buf[:n])
		if err != nil {
			t.Fatalf("read: %v after %q", err, got.String())
		}
	}
	want := "id: 1\nevent: log\ndata: {\"seq\":1,\"time\":\"0001-01-01T00:00:00Z\",\"stream\":\"\",\"line\":\"one\"}\n\n"
	if !strings.HasPrefix(got.String(), want) {
		t.Errorf("stream starts %q, want %q", got.String(), want)
	}
}

func TestParseSince(t *testing.T) {
	now := time.Date(2026, 1, 2, 15, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"10m", now.Add(-10 * time.Minute)},
		{"2h", now.Add(-2 * time.Hour)},
		{"2026-01-01T00:00:00Z", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)},
	} {
		got, err := ParseSince(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseSince(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"-5m", "yesterday", ""} {
		if _, err := ParseSince(bad, now); err == nil {
			t.Errorf("ParseSince(%q) accepted", bad)
		}
	}
}

func TestGatewayName(t *testing.T) {
	for _, tc := range []struct {
		path, name string
		ok         bool
	}{
		{"/servers/files/mcp", "files", true},
		{"/servers/local.files/mcp", "local.files", true},
		{"/servers/files/other", "", false},
		{"/servers//mcp", "", false},
		{"/v1/servers/files/call_tool", "files", true},
		{"/v1/servers/files/stop", "", false},
		{"/v1/servers/files", "", false},
	} {
		name, ok := gatewayName(tc.path)
		if ok != tc.ok || (ok && name != tc.name) {
			t.Errorf("gatewayName(%q) = %q, %v", tc.path, name, ok)
		}
	}
}
