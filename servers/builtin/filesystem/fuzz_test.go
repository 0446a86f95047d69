package filesystem

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func FuzzParseRoot(f *testing.F) {
	for _, s := range []string{"data", "data:ro", "data:rw", ":ro", "", "a:b:ro", "x:ro:rw", "/a/b:", "\x00:ro"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRoot(s)
		if err != nil {
			if r != (Root{}) {
				t.Errorf("ParseRoot(%q) returned %+v with error %v", s, r, err)
			}
			return
		}
		if r.Path == "" || strings.ContainsRune(r.Path, 0) {
			t.Errorf("ParseRoot(%q) = %+v: empty path or NUL accepted", s, r)
		}
		if !strings.HasPrefix(s, r.Path) {
			t.Errorf("ParseRoot(%q) path %q is not a prefix of the input", s, r.Path)
		}
		back, err := ParseRoot(r.String())
		if err != nil || back != r {
			t.Errorf("ParseRoot(%q) = %+v; String %q parses back as %+v, %v", s, r, r.String(), back, err)
		}
	})
}

// FuzzResolve checks that no path, however odd, resolves outside the roots
// or opens a file outside them, with symlinks out of the root in place.
func FuzzResolve(f *testing.F) {
	root, outside := escapeFixture(f)
	other := realTempDir(f)
	fsys, err := newFileSystem([]Root{{Path: root}, {Path: other, ReadOnly: true}}, (*Options)(nil).withDefaults())
	if err != nil {
		f.Fatal(err)
	}
	var forbidden []os.FileInfo
	for _, p := range []string{outside, filepath.Join(outside, "secret.txt"), filepath.Join(outside, "dir"),
		filepath.Join(outside, "dir", "inner.txt"), filepath.Dir(root), "/"} {
		fi, err := os.Stat(p)
		if err != nil {
			f.Fatal(err)
		}
		forbidden = append(forbidden, fi)
	}
	for _, s := range []string{
		"ok.txt", ".", "..", "../outside/secret.txt", "link_file", "abs_link", "link_dir/secret.txt",
		"sub/up/outside/secret.txt", "sub/parent/up", "link_dir/dir/inner.txt", "/", "/etc/passwd",
		root + "/../outside", root + "/link_dir", other + "/..", "%2e%2e/outside", "a/../../b", "./../",
		"sub//up///outside", "//" + root, "\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		tg, err := fsys.resolve(p)
		if err != nil {
			return
		}
		if tg.rel != "." && !filepath.IsLocal(tg.rel) {
			t.Fatalf("resolve(%q) gave non-local %q", p, tg.rel)
		}
		if !within(tg.root.path, tg.abs()) {
			t.Fatalf("resolve(%q) = %s, outside root %s", p, tg.abs(), tg.root.path)
		}
		file, err := tg.root.fs.Open(tg.rel)
		if err != nil {
			return
		}
		defer file.Close()
		fi, err := file.Stat()
		if err != nil {
			return
		}
		for _, bad := range forbidden {
			if os.SameFile(fi, bad) {
				t.Fatalf("resolve(%q) opened %s, outside the roots", p, bad.Name())
			}
		}
	})
}
