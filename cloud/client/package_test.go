package client_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/mcp-agent-go/mcp-agent/cloud/client"
)

func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestPackageAppSkipsAndIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"mcp_agent.config.yaml":  "name: x\n",
		"mcp_agent.secrets.yaml": "openai:\n  api_key: sk-secret\n",
		".env":                   "KEY=1\n",
		".git/HEAD":              "ref\n",
		".mcp-agent/runs.db":     "db",
		".mcp-agent/runs.db-wal": "wal",
		"prompts/a.md":           "a",
		"data/big.csv":           "1,2",
		"notes/tmp.log":          "log",
		"bin/app":                "elf",
		".mcpagentignore":        "# local data\n/data/\n*.log\n",
	})
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	pkg, err := client.PackageApp(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{".mcpagentignore", "mcp_agent.config.yaml", "prompts/a.md"}
	if diff := cmp.Diff(want, pkg.Files); diff != "" {
		t.Errorf("files (-want +got):\n%s\nskipped: %v", diff, pkg.Skipped)
	}
	for _, s := range []string{".git (version control)", "mcp_agent.secrets.yaml (secrets)", ".env (secrets)", ".mcp-agent/runs.db (local run state)",
		"data (.mcpagentignore)", "notes/tmp.log (.mcpagentignore)", "bin (build output)", "link (symbolic link)"} {
		if !strings.Contains(strings.Join(pkg.Skipped, "|"), s) {
			t.Errorf("skipped %v lacks %q", pkg.Skipped, s)
		}
	}
	// The tarball holds the files and nothing of the secrets.
	zr, err := gzip.NewReader(bytes.NewReader(pkg.Data))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(raw, []byte("sk-secret")) {
		t.Error("the package holds the secrets file")
	}
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !h.ModTime.IsZero() && h.ModTime.Unix() != 0 || h.Uid != 0 || h.Uname != "" {
			t.Errorf("%s: time %v uid %d uname %q, want zero", h.Name, h.ModTime, h.Uid, h.Uname)
		}
	}

	// Same files, new times: same bytes and digest; a changed file: a new
	// digest.
	again, err := client.PackageApp(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if again.Digest != pkg.Digest || !bytes.Equal(again.Data, pkg.Data) {
		t.Error("packaging twice gave different packages")
	}
	writeFiles(t, dir, map[string]string{"prompts/a.md": "b"})
	changed, err := client.PackageApp(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if changed.Digest == pkg.Digest || !strings.HasPrefix(changed.Digest, "sha256:") {
		t.Errorf("digest after a change: %s (was %s)", changed.Digest, pkg.Digest)
	}
}

func TestPackageAppErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.bin": strings.Repeat("x", 2048)})
	_, err := client.PackageApp(dir, &client.PackageOptions{MaxBytes: 1024})
	if !errors.Is(err, client.ErrPackageTooLarge) || !strings.Contains(err.Error(), ".mcpagentignore") {
		t.Errorf("too large: %v", err)
	}
	writeFiles(t, dir, map[string]string{".mcpagentignore": "[\n"})
	if _, err := client.PackageApp(dir, nil); err == nil || !strings.Contains(err.Error(), ".mcpagentignore:1: bad pattern") {
		t.Errorf("bad pattern: %v", err)
	}
	if _, err := client.PackageApp(filepath.Join(dir, "nope"), nil); err == nil {
		t.Error("a missing directory was packaged")
	}
}
