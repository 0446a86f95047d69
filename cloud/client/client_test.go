package client_test

import (
	"context"
	"errors"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/mcp-agent-go/mcp-agent/cloud/api"
	"github.com/mcp-agent-go/mcp-agent/cloud/client"
	"github.com/mcp-agent-go/mcp-agent/cloud/platform"
	"github.com/mcp-agent-go/mcp-agent/cloud/runtime/process"
)

func TestParseMemory(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"2G", 2 << 30}, {"2g", 2 << 30}, {"2GB", 2 << 30}, {"2GiB", 2 << 30},
		{"512M", 512 << 20}, {"1.5G", 3 << 29}, {"64k", 64 << 10}, {"1048576", 1 << 20},
	} {
		got, err := client.ParseMemory(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseMemory(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "G", "lots", "-1G", "2X", "0"} {
		if _, err := client.ParseMemory(bad); err == nil {
			t.Errorf("ParseMemory(%q) accepted", bad)
		}
	}
}

func startPlatform(t *testing.T) (*platform.Platform, *client.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p, err := platform.Start(ctx, t.TempDir(), &platform.Options{Addr: "127.0.0.1:0", Backoff: process.Backoff{Initial: 20 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Close(context.Background()) })
	key, err := os.ReadFile(p.AdminKeyPath())
	if err != nil {
		t.Fatal(err)
	}
	return p, client.New(p.URL(), &client.Options{APIKey: strings.TrimSpace(string(key))})
}

func TestFollowLogsHistoryThenLive(t *testing.T) {
	_, c := startPlatform(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// Not an MCP server, which the runtime does not mind: it writes a line
	// to stderr at every start and waits on stdin.
	if _, err := c.CreateServer(ctx, api.CreateServerRequest{Name: "talker", Command: "/bin/sh", Args: []string{"-c", "echo hello from $(date +%s%N) >&2; exec cat"}}); err != nil {
		t.Fatal(err)
	}
	next, stop := iterPull(c.FollowLogs(ctx, "talker", nil))
	defer stop()
	waitLine := func(want, not string) string {
		t.Helper()
		for {
			l, err, ok := next()
			if !ok || err != nil {
				t.Fatalf("stream ended (%v) before a line with %q", err, want)
			}
			if strings.Contains(l.Line, want) && l.Line != not {
				return l.Line
			}
		}
	}
	first := waitLine("hello from", "") // history (or live, depending on timing)
	if _, err := c.RestartServer(ctx, "talker"); err != nil {
		t.Fatal(err)
	}
	waitLine("hello from", first) // the restarted process's line, live

	if err := c.DeleteServer(ctx, "talker"); err != nil {
		t.Fatal(err)
	}
	for {
		_, err, ok := next()
		if !ok {
			t.Fatal("stream ended without an error after the delete")
		}
		if err != nil {
			break
		}
	}
}

func TestErrors(t *testing.T) {
	p, c := startPlatform(t)
	ctx := context.Background()
	_, err := c.GetServer(ctx, "nope")
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusNotFound || ae.Code != api.CodeNotFound {
		t.Errorf("GetServer(nope) = %v", err)
	}
	_, err = client.New(p.URL(), nil).ListServers(ctx)
	if !errors.As(err, &ae) || ae.Status != 401 || !strings.Contains(err.Error(), "MCP_AGENT_API_KEY") {
		t.Errorf("without a key: %v", err)
	}
	_, err = client.New("http://127.0.0.1:1", nil).ListServers(ctx)
	if !errors.Is(err, client.ErrUnreachable) || !strings.Contains(err.Error(), "mcp-agent cloud up") {
		t.Errorf("unreachable: %v", err)
	}
}

func TestFromEnv(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv(client.EnvKey, "")
	t.Setenv(client.EnvURL, "")
	c, err := client.FromEnv()
	if err != nil || c.URL() != client.DefaultURL {
		t.Fatalf("FromEnv() = %v, %v", c, err)
	}
	t.Setenv(client.EnvURL, "127.0.0.1:8750")
	if _, err := client.FromEnv(); err == nil || !strings.Contains(err.Error(), "not an http(s) URL") {
		t.Errorf("FromEnv with a URL without scheme: %v", err)
	}
}
