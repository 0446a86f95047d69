package filesystem

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// escapeFixture builds base/root (the allowed directory) and base/outside
// (a secret the server must never reach), with symlinks out of root.
func escapeFixture(t testing.TB) (root, outside string) {
	t.Helper()
	base := realTempDir(t)
	root, outside = filepath.Join(base, "root"), filepath.Join(base, "outside")
	writeFiles(t, base, map[string]string{
		"outside/secret.txt":    "SECRET",
		"outside/dir/inner.txt": "INNER",
		"root/ok.txt":           "ok",
		"root/sub/":             "",
	})
	links := map[string]string{
		"link_file":  "../outside/secret.txt",              // file symlink out
		"abs_link":   filepath.Join(outside, "secret.txt"), // absolute, out
		"link_dir":   "../outside",                         // directory symlink out
		"sub/up":     "../..",                              // relative, climbs out
		"inner_abs":  filepath.Join(root, "ok.txt"),        // absolute, stays inside
		"rel_inner":  "ok.txt",                             // relative, stays inside
		"sub/parent": "../sub",                             // relative, inside
	}
	for name, target := range links {
		if err := os.Symlink(target, filepath.Join(root, name)); err != nil {
			t.Fatal(err)
		}
	}
	return root, outside
}

func TestPathTraversalRefused(t *testing.T) {
	root, outside := escapeFixture(t)
	other := realTempDir(t)
	cs := connect(t, []Root{{Path: root}, {Path: other}}, nil)
	roots := root + ", " + other
	outsideMsg := func(p string) string {
		return fmt.Sprintf("path %q is outside the allowed directories (%s)", p, roots)
	}
	escapeMsg := func(p string) string {
		return fmt.Sprintf("path %q: symlink escapes the allowed directory %s", p, root)
	}
	tests := []struct {
		path, want string
	}{
		{"../outside/secret.txt", outsideMsg("../outside/secret.txt")},
		{"sub/../../outside/secret.txt", outsideMsg("sub/../../outside/secret.txt")},
		{"..", outsideMsg("..")},
		{filepath.Join(outside, "secret.txt"), outsideMsg(filepath.Join(outside, "secret.txt"))},
		{root + "/../outside/secret.txt", outsideMsg(root + "/../outside/secret.txt")},
		{root + "x/secret.txt", outsideMsg(root + "x/secret.txt")},
		{"/etc/passwd", outsideMsg("/etc/passwd")},
		{"/", outsideMsg("/")},
		// Encodings are not decoded: these are literal (missing) names.
		{"%2e%2e/outside/secret.txt", `path "%2e%2e/outside/secret.txt" does not exist`},
		{"..%2foutside%2fsecret.txt", `path "..%2foutside%2fsecret.txt" does not exist`},
		{`..\outside\secret.txt`, `path "..\\outside\\secret.txt" does not exist`},
		{"file:///etc/passwd", `path "file:///etc/passwd" does not exist`},
		// Symlinks out of the root.
		{"link_file", escapeMsg("link_file")},
		{"abs_link", escapeMsg("abs_link")},
		{"link_dir/secret.txt", escapeMsg("link_dir/secret.txt")},
		{"link_dir/dir/inner.txt", escapeMsg("link_dir/dir/inner.txt")},
		{"sub/up/outside/secret.txt", escapeMsg("sub/up/outside/secret.txt")},
		{"sub/parent/up/outside/secret.txt", escapeMsg("sub/parent/up/outside/secret.txt")}, // chained links
		{filepath.Join(root, "link_dir", "secret.txt"), escapeMsg(filepath.Join(root, "link_dir", "secret.txt"))},
		// Absolute symlinks are never followed, even to inside the root.
		{"inner_abs", fmt.Sprintf(`path "inner_abs": absolute symlinks are not followed, even to %s inside the allowed directory %s; use a relative symlink`,
			filepath.Join(root, "ok.txt"), root)},
	}
	for _, tt := range tests {
		if got := callErr(t, cs, "read_text_file", map[string]any{"path": tt.path}); got != tt.want {
			t.Errorf("read_text_file(%q) error = %q\nwant %q", tt.path, got, tt.want)
		}
	}
	// Symlinks that stay inside are followed.
	for _, p := range []string{"rel_inner", "sub/parent/../../ok.txt", "./sub/../ok.txt", filepath.Join(root, "rel_inner")} {
		if got := callOK(t, cs, "read_text_file", map[string]any{"path": p}); got != "ok" {
			t.Errorf("read_text_file(%q) = %q, want ok", p, got)
		}
	}
}

func TestSymlinkEscapeEveryTool(t *testing.T) {
	root, outside := escapeFixture(t)
	cs := connect(t, []Root{{Path: root}}, nil)
	escapeMsg := func(p string) string {
		return fmt.Sprintf("path %q: symlink escapes the allowed directory %s", p, root)
	}
	calls := []struct {
		tool string
		args map[string]any
		path string
	}{
		{"write_file", map[string]any{"path": "link_file", "content": "pwned"}, "link_file"},
		{"write_file", map[string]any{"path": "link_dir/new.txt", "content": "pwned"}, "link_dir/new.txt"},
		{"edit_file", map[string]any{"path": "link_file", "edits": []map[string]any{{"oldText": "SECRET", "newText": "pwned"}}}, "link_file"},
		{"create_directory", map[string]any{"path": "link_dir/newdir"}, "link_dir/newdir"},
		{"create_directory", map[string]any{"path": "sub/up/outside/newdir"}, "sub/up/outside/newdir"},
		{"move_file", map[string]any{"source": "ok.txt", "destination": "link_dir/ok.txt"}, "link_dir/ok.txt"},
		{"move_file", map[string]any{"source": "link_dir/secret.txt", "destination": "stolen.txt"}, "link_dir/secret.txt"},
		{"list_directory", map[string]any{"path": "link_dir"}, "link_dir"},
		{"directory_tree", map[string]any{"path": "link_dir"}, "link_dir"},
		{"search_files", map[string]any{"path": "link_dir", "pattern": "**"}, "link_dir"},
		{"get_file_info", map[string]any{"path": "link_file"}, "link_file"},
		{"read_text_file", map[string]any{"path": "link_file", "tail": 1}, "link_file"},
		{"read_text_file", map[string]any{"path": "link_file", "head": 1}, "link_file"},
	}
	for _, c := range calls {
		if got := callErr(t, cs, c.tool, c.args); got != escapeMsg(c.path) {
			t.Errorf("%s(%v) error = %q\nwant %q", c.tool, c.args, got, escapeMsg(c.path))
		}
	}
	var multi readMultipleFilesOut
	structured(t, cs, "read_multiple_files", map[string]any{"paths": []string{"ok.txt", "link_file"}}, &multi)
	if multi.Files[0].Content != "ok" || multi.Files[1].Error != escapeMsg("link_file") {
		t.Errorf("read_multiple_files = %+v", multi)
	}

	// Nothing outside changed, and walks did not descend into links.
	if got := readFile(t, filepath.Join(outside, "secret.txt")); got != "SECRET" {
		t.Errorf("outside secret changed to %q", got)
	}
	for _, p := range []string{"new.txt", "newdir", "ok.txt", "outside"} {
		if _, err := os.Lstat(filepath.Join(outside, p)); err == nil {
			t.Errorf("%s was created outside the root", p)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "ok.txt")); err != nil {
		t.Errorf("ok.txt was moved away: %v", err)
	}
	search := callOK(t, cs, "search_files", map[string]any{"path": ".", "pattern": "**"})
	tree := callOK(t, cs, "directory_tree", map[string]any{"path": "."})
	for _, got := range []string{search, tree} {
		if strings.Contains(got, "secret.txt") || strings.Contains(got, "inner.txt") || strings.Contains(got, outside) {
			t.Errorf("walk reached outside the root:\n%s", got)
		}
	}
}

// TestSymlinkSwapRace swaps a directory for a symlink out of the root while
// the server reads through it: os.Root checks each component as it opens
// it, so no read may ever return the outside file.
func TestSymlinkSwapRace(t *testing.T) {
	root, outside := escapeFixture(t)
	cs := connect(t, []Root{{Path: root}}, nil)
	swap := filepath.Join(root, "swap")
	writeFiles(t, root, map[string]string{"swap/secret.txt": "INSIDE"})
	held := filepath.Join(root, "held")

	const rounds = 300
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			// Alternate: swap is a real dir, then a symlink to outside.
			if i%2 == 0 {
				_ = os.Rename(swap, held)
				_ = os.Symlink("../outside", swap)
			} else {
				_ = os.Remove(swap)
				_ = os.Rename(held, swap)
			}
		}
	})
	sawInside, sawEscape := 0, 0
	for range rounds {
		res := callTool(t, cs, "read_text_file", map[string]any{"path": "swap/secret.txt"})
		text := resultText(res)
		switch {
		case !res.IsError && text == "INSIDE":
			sawInside++
		case res.IsError:
			if strings.Contains(text, "symlink escapes") {
				sawEscape++
			}
		default:
			t.Errorf("read through swapped symlink returned %q (outside file is %s)", text, filepath.Join(outside, "secret.txt"))
		}
	}
	close(stop)
	wg.Wait()
	t.Logf("%d reads: %d inside, %d refused as escapes", rounds, sawInside, sawEscape)
}

func TestReadOnlyRoot(t *testing.T) {
	rw, ro := realTempDir(t), realTempDir(t)
	writeFiles(t, ro, map[string]string{"keep.txt": "keep", "d/": ""})
	writeFiles(t, rw, map[string]string{"mine.txt": "mine"})
	cs := connect(t, []Root{{Path: ro, ReadOnly: true}, {Path: rw}}, nil)
	roMsg := func(p string) string { return fmt.Sprintf("path %q is in a read-only root (%s)", p, ro) }
	calls := []struct {
		tool string
		args map[string]any
		want string
	}{
		{"write_file", map[string]any{"path": "keep.txt", "content": "x"}, roMsg("keep.txt")},
		{"write_file", map[string]any{"path": "new.txt", "content": "x"}, roMsg("new.txt")},
		{"edit_file", map[string]any{"path": "keep.txt", "edits": []map[string]any{{"oldText": "keep", "newText": "x"}}}, roMsg("keep.txt")},
		{"edit_file", map[string]any{"path": "keep.txt", "dryRun": true, "edits": []map[string]any{{"oldText": "keep", "newText": "x"}}}, roMsg("keep.txt")},
		{"create_directory", map[string]any{"path": "d/e"}, roMsg("d/e")},
		{"move_file", map[string]any{"source": "keep.txt", "destination": "moved.txt"}, roMsg("keep.txt")},
		{"move_file", map[string]any{"source": filepath.Join(rw, "mine.txt"), "destination": "mine.txt"}, roMsg("mine.txt")},
		{"move_file", map[string]any{"source": "keep.txt", "destination": filepath.Join(rw, "keep.txt")}, roMsg("keep.txt")},
	}
	for _, c := range calls {
		if got := callErr(t, cs, c.tool, c.args); got != c.want {
			t.Errorf("%s(%v) error = %q\nwant %q", c.tool, c.args, got, c.want)
		}
	}
	if got := readFile(t, filepath.Join(ro, "keep.txt")); got != "keep" {
		t.Errorf("read-only file changed to %q", got)
	}
	entries, _ := os.ReadDir(ro)
	if len(entries) != 2 {
		t.Errorf("read-only root has %d entries, want 2", len(entries))
	}
	if _, err := os.Stat(filepath.Join(rw, "mine.txt")); err != nil {
		t.Errorf("mine.txt moved: %v", err)
	}
	// Reads still work, and the read-write root still writes.
	if got := callOK(t, cs, "read_text_file", map[string]any{"path": "keep.txt"}); got != "keep" {
		t.Errorf("read = %q", got)
	}
	callOK(t, cs, "write_file", map[string]any{"path": filepath.Join(rw, "w.txt"), "content": "w"})
}

func TestTwoRoots(t *testing.T) {
	first, second := realTempDir(t), realTempDir(t)
	writeFiles(t, first, map[string]string{"f.txt": "first"})
	writeFiles(t, second, map[string]string{"f.txt": "second"})
	// A relative symlink from the second root into the first still leaves
	// the second root: each root is its own jail.
	rel, err := filepath.Rel(second, filepath.Join(first, "f.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(rel, filepath.Join(second, "to_first")); err != nil {
		t.Fatal(err)
	}
	cs := connect(t, []Root{{Path: first}, {Path: second}}, nil)
	if got := callOK(t, cs, "read_text_file", map[string]any{"path": "f.txt"}); got != "first" {
		t.Errorf("relative path read %q, want the first root's file", got)
	}
	if got := callOK(t, cs, "read_text_file", map[string]any{"path": filepath.Join(second, "f.txt")}); got != "second" {
		t.Errorf("absolute path read %q, want the second root's file", got)
	}
	p := filepath.Join(second, "to_first")
	if got, want := callErr(t, cs, "read_text_file", map[string]any{"path": p}), fmt.Sprintf("path %q: symlink escapes the allowed directory %s", p, second); got != want {
		t.Errorf("error = %q\nwant %q", got, want)
	}
	callOK(t, cs, "write_file", map[string]any{"path": filepath.Join(second, "g.txt"), "content": "g"})
	if got := readFile(t, filepath.Join(second, "g.txt")); got != "g" {
		t.Errorf("write into second root: %q", got)
	}
}

func TestConcurrentCalls(t *testing.T) {
	dir := realTempDir(t)
	cs := connect(t, []Root{{Path: dir}}, nil)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			name := fmt.Sprintf("f%d.txt", i)
			res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: "write_file", Arguments: map[string]any{"path": name, "content": name}})
			if err != nil || res.IsError {
				t.Errorf("write %s: %v %v", name, err, res)
			}
		})
	}
	wg.Wait()
	for i := range 8 {
		name := fmt.Sprintf("f%d.txt", i)
		if got := readFile(t, filepath.Join(dir, name)); got != name {
			t.Errorf("%s = %q", name, got)
		}
	}
}
