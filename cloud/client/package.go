package client

// App packages: an app directory as a deterministic gzipped tar. The same
// files give the same bytes (entries sorted, times, owners and gzip header
// zeroed), and the digest is the SHA-256 of the uncompressed tar, so the
// platform recognises an unchanged package whatever compresses it.

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// IgnoreFile is the file, at the root of an app directory, listing what
// PackageApp leaves out, one pattern a line (see PackageApp).
const IgnoreFile = ".mcpagentignore"

// Package is a packaged app directory.
type Package struct {
	// Data is the gzipped tar.
	Data []byte
	// Digest is "sha256:" and the hex SHA-256 of the uncompressed tar.
	Digest string
	// Files are the packaged files, slash-separated, in order.
	Files []string
	// Skipped are paths left out by a rule (with the rule), for display.
	Skipped []string
	// Size is the total size of the packaged files.
	Size int64
}

// PackageOptions configures PackageApp. The zero value is usable.
type PackageOptions struct {
	// MaxBytes bounds the total size of the packaged files; 0 means 256 MiB.
	MaxBytes int64
}

// ErrPackageTooLarge is wrapped by PackageApp's error when the files exceed
// PackageOptions.MaxBytes.
var ErrPackageTooLarge = errors.New("app directory too large")

// alwaysSkipped are left out of every package: version control, build
// outputs, local run state and secrets (secrets go to the platform's secret
// store: `mcp-agent secrets set`).
var alwaysSkipped = []struct{ pattern, why string }{
	{".git/", "version control"}, {".hg/", "version control"}, {".svn/", "version control"},
	{".mcp-agent/*.db", "local run state"}, {".mcp-agent/*.db-*", "local run state"}, {".mcp-agent/*.lock", "local run state"},
	{"mcp_agent.secrets.yaml", "secrets"}, {"mcp_agent.secrets.yml", "secrets"},
	{"mcp-agent.secrets.yaml", "secrets"}, {"mcp-agent.secrets.yml", "secrets"},
	{".env", "secrets"}, {".env.*", "secrets"},
	{"bin/", "build output"}, {"dist/", "build output"}, {"build/", "build output"},
	{"node_modules/", "build output"}, {"__pycache__/", "build output"}, {"*.test", "build output"},
}

// PackageApp packages the app directory dir. It leaves out version control
// directories (.git), build outputs (bin/, dist/, build/, node_modules/,
// *.test), local run state (.mcp-agent/*.db*) and secrets files
// (mcp_agent.secrets.yaml, .env), and the paths matched by the patterns in
// dir/.mcpagentignore: one per line, # comments, a trailing / for
// directories only, a leading / anchors at dir, otherwise a pattern without
// a slash matches the name at any depth (path.Match syntax). Symbolic links
// are left out too (listed in Skipped).
func PackageApp(dir string, opts *PackageOptions) (*Package, error) {
	var o PackageOptions
	if opts != nil {
		o = *opts
	}
	if o.MaxBytes <= 0 {
		o.MaxBytes = 256 << 20
	}
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("app directory: %w", err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("app directory %s is not a directory", dir)
	}
	rules := make([]ignoreRule, 0, len(alwaysSkipped))
	for _, s := range alwaysSkipped {
		rules = append(rules, parseIgnore(s.pattern, s.why))
	}
	user, err := readIgnoreFile(filepath.Join(dir, IgnoreFile))
	if err != nil {
		return nil, err
	}
	rules = append(rules, user...)

	pkg := &Package{}
	var tarBuf bytes.Buffer
	tw := tar.NewWriter(&tarBuf)
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		if rel == "." {
			return nil
		}
		rel = filepath.ToSlash(rel)
		for _, r := range rules {
			if r.match(rel, d.IsDir()) {
				pkg.Skipped = append(pkg.Skipped, rel+" ("+r.why+")")
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			pkg.Skipped = append(pkg.Skipped, rel+" (symbolic link)")
			return nil
		case d.IsDir():
			return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: rel + "/", Mode: 0o755, Format: tar.FormatPAX})
		case !d.Type().IsRegular():
			pkg.Skipped = append(pkg.Skipped, rel+" (not a regular file)")
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		pkg.Size += info.Size()
		if pkg.Size > o.MaxBytes {
			return fmt.Errorf("%w: its files exceed %d MiB (at %s): list what the app does not need in %s", ErrPackageTooLarge, o.MaxBytes>>20, rel, IgnoreFile)
		}
		mode := int64(0o644)
		if info.Mode()&0o111 != 0 {
			mode = 0o755
		}
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: rel, Mode: mode, Size: info.Size(), Format: tar.FormatPAX}); err != nil {
			return err
		}
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		if _, err := io.Copy(tw, f); err != nil {
			return fmt.Errorf("read %s: %w", rel, err)
		}
		pkg.Files = append(pkg.Files, rel)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("package %s: %w", dir, err)
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(tarBuf.Bytes())
	pkg.Digest = "sha256:" + hex.EncodeToString(sum[:])
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz) // zero header: no name, no time
	if _, err := zw.Write(tarBuf.Bytes()); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	pkg.Data = gz.Bytes()
	return pkg, nil
}

// ignoreRule is one .mcpagentignore pattern.
type ignoreRule struct {
	pattern  string
	dirOnly  bool
	anchored bool // matched against the whole relative path
	why      string
}

func parseIgnore(line, why string) ignoreRule {
	r := ignoreRule{why: why}
	if strings.HasSuffix(line, "/") {
		r.dirOnly = true
		line = strings.TrimSuffix(line, "/")
	}
	if strings.HasPrefix(line, "/") {
		r.anchored = true
		line = strings.TrimPrefix(line, "/")
	} else if strings.Contains(line, "/") {
		r.anchored = true
	}
	r.pattern = line
	return r
}

func (r ignoreRule) match(rel string, isDir bool) bool {
	if r.dirOnly && !isDir {
		return false
	}
	if r.anchored {
		ok, _ := path.Match(r.pattern, rel)
		return ok
	}
	ok, _ := path.Match(r.pattern, path.Base(rel))
	return ok
}

func readIgnoreFile(file string) ([]ignoreRule, error) {
	f, err := os.Open(file)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rules []ignoreRule
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := parseIgnore(line, IgnoreFile)
		if _, err := path.Match(r.pattern, ""); err != nil {
			return nil, fmt.Errorf("%s:%d: bad pattern %q: %v", IgnoreFile, n, line, err)
		}
		rules = append(rules, r)
	}
	return rules, sc.Err()
}
