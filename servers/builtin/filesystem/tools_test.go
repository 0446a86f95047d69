package filesystem

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/modelcontextprotocol/go-sdk/mcp"
)

func TestParseRoot(t *testing.T) {
	tests := []struct {
		in      string
		want    Root
		wantErr string
	}{
		{in: "data", want: Root{Path: "data"}},
		{in: "./data:ro", want: Root{Path: "./data", ReadOnly: true}},
		{in: "/srv/x:rw", want: Root{Path: "/srv/x"}},
		{in: "/a:b", want: Root{Path: "/a:b"}},
		{in: "/a:b:ro", want: Root{Path: "/a:b", ReadOnly: true}},
		{in: "dir:RO", want: Root{Path: "dir:RO"}},
		{in: "", wantErr: `root "" has no directory; use DIR, DIR:ro or DIR:rw`},
		{in: ":ro", wantErr: `root ":ro" has no directory; use DIR, DIR:ro or DIR:rw`},
		{in: ":rw", wantErr: `root ":rw" has no directory; use DIR, DIR:ro or DIR:rw`},
	}
	for _, tt := range tests {
		got, err := ParseRoot(tt.in)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("ParseRoot(%q) error = %v, want %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseRoot(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestNewErrors(t *testing.T) {
	dir := realTempDir(t)
	writeFiles(t, dir, map[string]string{"file.txt": "x", "sub/": ""})
	tests := []struct {
		name  string
		roots []Root
		want  string
	}{
		{"none", nil, "no allowed directories: give at least one root (--root DIR)"},
		{"missing", []Root{{Path: filepath.Join(dir, "nope")}},
			fmt.Sprintf(`root %q: directory %s does not exist`, filepath.Join(dir, "nope"), filepath.Join(dir, "nope"))},
		{"mode typo", []Root{{Path: dir + ":r"}},
			fmt.Sprintf(`root %q: directory %s:r does not exist (the only modes are :ro and :rw)`, dir+":r", dir)},
		{"file", []Root{{Path: filepath.Join(dir, "file.txt")}},
			fmt.Sprintf(`root %q: %s is not a directory`, filepath.Join(dir, "file.txt"), filepath.Join(dir, "file.txt"))},
		{"twice", []Root{{Path: dir}, {Path: dir + "/sub/.."}},
			fmt.Sprintf(`root %s is given twice (as %q and %q)`, dir, dir, dir+"/sub/..")},
		{"nested", []Root{{Path: dir}, {Path: filepath.Join(dir, "sub"), ReadOnly: true}},
			fmt.Sprintf(`root %s is inside root %s; nested roots are not supported, give only one of them`, filepath.Join(dir, "sub"), dir)},
		{"nested reversed", []Root{{Path: filepath.Join(dir, "sub")}, {Path: dir}},
			fmt.Sprintf(`root %s is inside root %s; nested roots are not supported, give only one of them`, filepath.Join(dir, "sub"), dir)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.roots, nil)
			if err == nil || err.Error() != tt.want {
				t.Errorf("New error = %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestRootsResolveSymlinks(t *testing.T) {
	real := realTempDir(t)
	link := filepath.Join(realTempDir(t), "link")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	writeFiles(t, real, map[string]string{"a.txt": "via link"})
	cs := connect(t, []Root{{Path: link}}, nil)
	// The listing shows the evaluated path; the configured path still works.
	wantContains(t, callOK(t, cs, "list_allowed_directories", nil), real+" (read-write)")
	if got := callOK(t, cs, "read_text_file", map[string]any{"path": filepath.Join(link, "a.txt")}); got != "via link" {
		t.Errorf("read via configured symlink path = %q", got)
	}
}

// The tools and the argument names they take; the names are the official
// server-filesystem's (see reference_test.go).
var wantTools = map[string][]string{
	"read_text_file":           {"head", "path", "tail"},
	"read_file":                {"head", "path", "tail"},
	"read_multiple_files":      {"paths"},
	"write_file":               {"content", "path"},
	"edit_file":                {"dryRun", "edits", "path"},
	"create_directory":         {"path"},
	"list_directory":           {"path"},
	"directory_tree":           {"excludePatterns", "path"},
	"move_file":                {"destination", "source"},
	"search_files":             {"excludePatterns", "path", "pattern"},
	"get_file_info":            {"path"},
	"list_allowed_directories": nil,
}

func toolArgs(tool *mcp.Tool) []string {
	schema, _ := tool.InputSchema.(map[string]any)
	props, _ := schema["properties"].(map[string]any)
	var names []string
	for k := range props {
		names = append(names, k)
	}
	slices.Sort(names)
	return names
}

func TestListTools(t *testing.T) {
	cs := connect(t, []Root{{Path: realTempDir(t)}}, nil)
	got := map[string][]string{}
	readOnly := map[string]bool{}
	for tool, err := range cs.Tools(context.Background(), nil) {
		if err != nil {
			t.Fatal(err)
		}
		got[tool.Name] = toolArgs(tool)
		readOnly[tool.Name] = tool.Annotations != nil && tool.Annotations.ReadOnlyHint
	}
	if diff := cmp.Diff(wantTools, got, cmp.Comparer(func(a, b []string) bool { return slices.Equal(a, b) })); diff != "" {
		t.Errorf("tools (-want +got):\n%s", diff)
	}
	for _, name := range []string{"write_file", "edit_file", "create_directory", "move_file"} {
		if readOnly[name] {
			t.Errorf("%s is annotated read-only", name)
		}
	}
	if !readOnly["read_text_file"] || !readOnly["search_files"] {
		t.Errorf("read tools not annotated read-only: %v", readOnly)
	}
}

func TestReadTextFile(t *testing.T) {
	dir := realTempDir(t)
	writeFiles(t, dir, map[string]string{
		"five.txt":  "1\n2\n3\n4\n5\n",
		"nonl.txt":  "a\nb\nc",
		"empty.txt": "",
		"big.txt":   strings.Repeat("x", 100) + "\n" + strings.Repeat("y", 100),
		"sub/":      "",
	})
	if err := os.WriteFile(filepath.Join(dir, "bad.txt"), []byte("ok\xff\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cs := connect(t, []Root{{Path: dir}}, &Options{MaxReadBytes: 150})
	ok := []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"path": "five.txt"}, "1\n2\n3\n4\n5\n"},
		{map[string]any{"path": filepath.Join(dir, "five.txt")}, "1\n2\n3\n4\n5\n"},
		{map[string]any{"path": "five.txt", "head": 2}, "1\n2\n"},
		{map[string]any{"path": "five.txt", "head": 9}, "1\n2\n3\n4\n5\n"},
		{map[string]any{"path": "five.txt", "tail": 2}, "4\n5\n"},
		{map[string]any{"path": "five.txt", "tail": 9}, "1\n2\n3\n4\n5\n"},
		{map[string]any{"path": "five.txt", "head": 0}, "1\n2\n3\n4\n5\n"},
		{map[string]any{"path": "nonl.txt", "tail": 2}, "b\nc"},
		{map[string]any{"path": "nonl.txt", "head": 3}, "a\nb\nc"},
		{map[string]any{"path": "empty.txt"}, ""},
		{map[string]any{"path": "empty.txt", "tail": 3}, ""},
		{map[string]any{"path": "big.txt", "head": 1}, strings.Repeat("x", 100) + "\n"},
		{map[string]any{"path": "big.txt", "tail": 1}, strings.Repeat("y", 100)},
		{map[string]any{"path": "bad.txt"}, "ok\uFFFD\n"},
	}
	for _, tt := range ok {
		if got := callOK(t, cs, "read_text_file", tt.args); got != tt.want {
			t.Errorf("read_text_file(%v) = %q, want %q", tt.args, got, tt.want)
		}
	}
	var out contentOut
	structured(t, cs, "read_text_file", map[string]any{"path": "five.txt", "tail": 1}, &out)
	if out.Content != "5\n" {
		t.Errorf("structured content = %q", out.Content)
	}
	if got := callOK(t, cs, "read_file", map[string]any{"path": "five.txt", "head": 1}); got != "1\n" {
		t.Errorf("read_file alias = %q", got)
	}

	fails := []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"path": "five.txt", "head": 1, "tail": 1}, "give head or tail, not both"},
		{map[string]any{"path": "five.txt", "head": -1}, "head and tail must be positive line counts"},
		{map[string]any{"path": "missing.txt"}, `path "missing.txt" does not exist`},
		{map[string]any{"path": "sub"}, `path "sub" is a directory; use list_directory or directory_tree to see what it holds`},
		{map[string]any{"path": "big.txt"}, `path "big.txt": the file (201 B) is larger than the 150 B read limit; read part of it with head or tail`},
		{map[string]any{"path": ""}, fmt.Sprintf(`path is empty; give a path relative to %s or an absolute path inside the allowed directories`, dir)},
		{map[string]any{"path": "a\x00b"}, `path "a\x00b" contains a NUL byte`},
	}
	for _, tt := range fails {
		if got := callErr(t, cs, "read_text_file", tt.args); got != tt.want {
			t.Errorf("read_text_file(%v) error = %q\nwant %q", tt.args, got, tt.want)
		}
	}
}

func TestReadTextFileRefusesFIFO(t *testing.T) {
	dir := realTempDir(t)
	if err := syscall.Mkfifo(filepath.Join(dir, "pipe"), 0o644); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	cs := connect(t, []Root{{Path: dir}}, nil)
	// Opening a FIFO for reading would block without a writer; the server
	// must answer instead of hanging.
	got := callErr(t, cs, "read_text_file", map[string]any{"path": "pipe"})
	if want := `path "pipe" is not a regular file (p---------)`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
}

func TestReadMultipleFiles(t *testing.T) {
	dir := realTempDir(t)
	writeFiles(t, dir, map[string]string{"a.txt": "A", "b.txt": "B"})
	cs := connect(t, []Root{{Path: dir}}, nil)
	args := map[string]any{"paths": []string{"a.txt", "nope.txt", "b.txt"}}
	want := "a.txt:\nA\n\n---\nnope.txt: Error - path \"nope.txt\" does not exist\n---\nb.txt:\nB\n"
	if got := callOK(t, cs, "read_multiple_files", args); got != want {
		t.Errorf("text = %q\nwant %q", got, want)
	}
	var out readMultipleFilesOut
	structured(t, cs, "read_multiple_files", args, &out)
	wantOut := readMultipleFilesOut{Files: []fileResult{
		{Path: "a.txt", Content: "A"},
		{Path: "nope.txt", Error: `path "nope.txt" does not exist`},
		{Path: "b.txt", Content: "B"},
	}}
	if diff := cmp.Diff(wantOut, out); diff != "" {
		t.Errorf("structured (-want +got):\n%s", diff)
	}
	if got := callErr(t, cs, "read_multiple_files", map[string]any{"paths": []string{}}); got != "paths is empty; give at least one file path" {
		t.Errorf("empty paths error = %q", got)
	}
}

func TestReadMultipleFilesBudget(t *testing.T) {
	dir := realTempDir(t)
	writeFiles(t, dir, map[string]string{"a.txt": strings.Repeat("a", 60), "b.txt": strings.Repeat("b", 60), "c.txt": "c"})
	cs := connect(t, []Root{{Path: dir}}, &Options{MaxReadBytes: 100})
	var out readMultipleFilesOut
	structured(t, cs, "read_multiple_files", map[string]any{"paths": []string{"a.txt", "b.txt", "c.txt"}}, &out)
	if out.Files[0].Error != "" || out.Files[2].Error != "" {
		t.Errorf("a or c failed: %+v", out.Files)
	}
	if want := `path "b.txt": the file (60 B) is larger than the 100 B read limit; read part of it with head or tail`; out.Files[1].Error != want {
		t.Errorf("b error = %q, want %q", out.Files[1].Error, want)
	}
}

func TestWriteFile(t *testing.T) {
	dir := realTempDir(t)
	writeFiles(t, dir, map[string]string{"sub/": "", "exists.sh": "old"})
	if err := os.Chmod(filepath.Join(dir, "exists.sh"), 0o750); err != nil {
		t.Fatal(err)
	}
	cs := connect(t, []Root{{Path: dir}}, nil)

	if got, want := callOK(t, cs, "write_file", map[string]any{"path": "sub/new.txt", "content": "hello"}), "Successfully wrote 5 bytes to sub/new.txt"; got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	if got := readFile(t, filepath.Join(dir, "sub/new.txt")); got != "hello" {
		t.Errorf("new file = %q", got)
	}
	callOK(t, cs, "write_file", map[string]any{"path": filepath.Join(dir, "exists.sh"), "content": "new"})
	if got := readFile(t, filepath.Join(dir, "exists.sh")); got != "new" {
		t.Errorf("overwritten file = %q", got)
	}
	fi, err := os.Stat(filepath.Join(dir, "exists.sh"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o750 {
		t.Errorf("overwrite changed mode to %v, want 0750", fi.Mode().Perm())
	}

	fails := []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"path": "nodir/x.txt", "content": "x"}, `path "nodir/x.txt": its directory does not exist; create it first with create_directory`},
		{map[string]any{"path": "sub", "content": "x"}, `path "sub" is a directory; give a file path`},
		{map[string]any{"path": "exists.sh/x", "content": "x"}, `path "exists.sh/x": a parent of it is not a directory`},
	}
	for _, tt := range fails {
		if got := callErr(t, cs, "write_file", tt.args); got != tt.want {
			t.Errorf("write_file(%v) error = %q\nwant %q", tt.args, got, tt.want)
		}
	}
	// No temporary files are left behind.
	for _, d := range []string{dir, filepath.Join(dir, "sub")} {
		entries, _ := os.ReadDir(d)
		for _, e := range entries {
			if strings.Contains(e.Name(), ".tmp-") {
				t.Errorf("temporary file left: %s", e.Name())
			}
		}
	}
}

func TestWriteFileFailureKeepsOldContent(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions")
	}
	dir := realTempDir(t)
	writeFiles(t, dir, map[string]string{"locked/keep.txt": "precious"})
	locked := filepath.Join(dir, "locked")
	if err := os.Chmod(locked, 0o555); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })
	cs := connect(t, []Root{{Path: dir}}, nil)
	got := callErr(t, cs, "write_file", map[string]any{"path": "locked/keep.txt", "content": "lost?"})
	if want := `path "locked/keep.txt": permission denied`; !strings.HasPrefix(got, want) {
		t.Errorf("error = %q, want prefix %q", got, want)
	}
	if got := readFile(t, filepath.Join(locked, "keep.txt")); got != "precious" {
		t.Errorf("content after failed write = %q", got)
	}
}

func TestEditFile(t *testing.T) {
	dir := realTempDir(t)
	orig := "package main\n\nfunc a() {}\n\nfunc b() {}\n\nfunc c() {}\n"
	writeFiles(t, dir, map[string]string{"main.go": orig, "crlf.txt": "one\r\ntwo\r\nthree\r\n"})
	path := filepath.Join(dir, "main.go")
	cs := connect(t, []Root{{Path: dir}}, nil)

	args := map[string]any{"path": "main.go", "dryRun": true, "edits": []map[string]any{
		{"oldText": "func b() {}", "newText": "func b() int { return 1 }"},
	}}
	wantDiff := "--- a/main.go\n+++ b/main.go\n@@ -2,6 +2,6 @@\n \n func a() {}\n \n-func b() {}\n+func b() int { return 1 }\n \n func c() {}\n"
	if got := callOK(t, cs, "edit_file", args); got != "Dry run, nothing written:\n"+wantDiff {
		t.Errorf("dry run text = %q\nwant %q", got, wantDiff)
	}
	if got := readFile(t, path); got != orig {
		t.Errorf("dry run changed the file: %q", got)
	}

	args["dryRun"] = false
	var out editFileOut
	structured(t, cs, "edit_file", args, &out)
	if diff := cmp.Diff(editFileOut{Diff: wantDiff, Applied: true}, out); diff != "" {
		t.Errorf("structured (-want +got):\n%s", diff)
	}
	if got, want := readFile(t, path), strings.Replace(orig, "func b() {}", "func b() int { return 1 }", 1); got != want {
		t.Errorf("file = %q, want %q", got, want)
	}

	// CRLF files: "\n" in the edit means "\r\n", and endings are kept.
	callOK(t, cs, "edit_file", map[string]any{"path": "crlf.txt", "edits": []map[string]any{{"oldText": "one\ntwo", "newText": "1\n2"}}})
	if got := readFile(t, filepath.Join(dir, "crlf.txt")); got != "1\r\n2\r\nthree\r\n" {
		t.Errorf("crlf file = %q", got)
	}

	fails := []struct {
		edits []map[string]any
		want  string
	}{
		{[]map[string]any{{"oldText": "package main", "newText": "package x"}, {"oldText": "func z()", "newText": ""}},
			`edit 2 of 2: oldText not found in "main.go"; it must match the file exactly, including whitespace (oldText starts "func z()")`},
		{[]map[string]any{{"oldText": "func ", "newText": "fn "}},
			`edit 1 of 1: oldText occurs 3 times in "main.go"; include more surrounding text so it matches exactly once (oldText starts "func ")`},
		{[]map[string]any{{"oldText": "", "newText": "x"}}, `edit 1 of 1: oldText is empty; give the exact text to replace`},
		{[]map[string]any{}, `edits is empty; give at least one {oldText, newText}`},
	}
	before := readFile(t, path)
	for _, tt := range fails {
		got := callErr(t, cs, "edit_file", map[string]any{"path": "main.go", "edits": tt.edits})
		if got != tt.want {
			t.Errorf("edit_file(%v) error = %q\nwant %q", tt.edits, got, tt.want)
		}
	}
	if got := readFile(t, path); got != before {
		t.Errorf("a failed edit changed the file")
	}
	if got := callOK(t, cs, "edit_file", map[string]any{"path": "main.go", "edits": []map[string]any{{"oldText": "func a", "newText": "func a"}}}); got != "No changes: the edits leave main.go as it is" {
		t.Errorf("no-op edit text = %q", got)
	}
}

func TestCreateDirectory(t *testing.T) {
	dir := realTempDir(t)
	writeFiles(t, dir, map[string]string{"file": "x"})
	cs := connect(t, []Root{{Path: dir}}, nil)
	if got := callOK(t, cs, "create_directory", map[string]any{"path": "a/b/c"}); got != "Successfully created directory a/b/c" {
		t.Errorf("text = %q", got)
	}
	if fi, err := os.Stat(filepath.Join(dir, "a/b/c")); err != nil || !fi.IsDir() {
		t.Errorf("a/b/c not created: %v", err)
	}
	if got := callOK(t, cs, "create_directory", map[string]any{"path": "a/b"}); got != "Directory a/b already exists" {
		t.Errorf("text = %q", got)
	}
	if got := callErr(t, cs, "create_directory", map[string]any{"path": "file"}); got != `path "file" exists and is not a directory` {
		t.Errorf("error = %q", got)
	}
}

func TestListDirectory(t *testing.T) {
	dir := realTempDir(t)
	writeFiles(t, dir, map[string]string{"b.txt": "", "a/": "", ".hidden": "", "c/d.txt": ""})
	if err := os.Symlink("c", filepath.Join(dir, "linkdir")); err != nil {
		t.Fatal(err)
	}
	cs := connect(t, []Root{{Path: dir}}, nil)
	want := "[FILE] .hidden\n[DIR] a\n[FILE] b.txt\n[DIR] c\n[DIR] linkdir"
	if got := callOK(t, cs, "list_directory", map[string]any{"path": "."}); got != want {
		t.Errorf("text = %q\nwant %q", got, want)
	}
	var out listDirectoryOut
	structured(t, cs, "list_directory", map[string]any{"path": dir}, &out)
	wantOut := listDirectoryOut{Entries: []dirEntry{{".hidden", "file"}, {"a", "directory"}, {"b.txt", "file"}, {"c", "directory"}, {"linkdir", "directory"}}}
	if diff := cmp.Diff(wantOut, out); diff != "" {
		t.Errorf("structured (-want +got):\n%s", diff)
	}
	if got := callOK(t, cs, "list_directory", map[string]any{"path": "a"}); got != "(empty directory)" {
		t.Errorf("empty dir text = %q", got)
	}
	if got := callErr(t, cs, "list_directory", map[string]any{"path": "b.txt"}); got != `path "b.txt" is not a directory; use get_file_info or read_text_file for files` {
		t.Errorf("error = %q", got)
	}

	small := connect(t, []Root{{Path: dir}}, &Options{MaxWalkEntries: 2})
	structured(t, small, "list_directory", map[string]any{"path": "."}, &out)
	if len(out.Entries) != 2 || !out.Truncated {
		t.Errorf("with MaxWalkEntries 2: %+v", out)
	}
}

func TestDirectoryTree(t *testing.T) {
	dir := realTempDir(t)
	writeFiles(t, dir, map[string]string{
		"src/main.go": "", "src/app.log": "", "node_modules/x/y.js": "", "empty/": "", "README.md": "",
	})
	cs := connect(t, []Root{{Path: dir}}, nil)
	args := map[string]any{"path": ".", "excludePatterns": []string{"node_modules", "*.log"}}
	want := `[
  {
    "name": "README.md",
    "type": "file"
  },
  {
    "name": "empty",
    "type": "directory",
    "children": []
  },
  {
    "name": "src",
    "type": "directory",
    "children": [
      {
        "name": "main.go",
        "type": "file"
      }
    ]
  }
]`
	if got := callOK(t, cs, "directory_tree", args); got != want {
		t.Errorf("text = %s\nwant %s", got, want)
	}
	var out directoryTreeOut
	structured(t, cs, "directory_tree", args, &out)
	wantOut := directoryTreeOut{Entries: []treeEntry{
		{"README.md", "file"}, {"empty", "directory"}, {"src", "directory"}, {"src/main.go", "file"},
	}}
	if diff := cmp.Diff(wantOut, out); diff != "" {
		t.Errorf("structured (-want +got):\n%s", diff)
	}
	if got := callErr(t, cs, "directory_tree", map[string]any{"path": ".", "excludePatterns": []string{"["}}); got != `excludePatterns: invalid pattern "[": syntax error in pattern` {
		t.Errorf("bad pattern error = %q", got)
	}

	small := connect(t, []Root{{Path: dir}}, &Options{MaxWalkEntries: 3})
	structured(t, small, "directory_tree", map[string]any{"path": "."}, &out)
	if len(out.Entries) > 3 || !out.Truncated {
		t.Errorf("with MaxWalkEntries 3: %+v", out)
	}
}

func TestMoveFile(t *testing.T) {
	dir, other := realTempDir(t), realTempDir(t)
	writeFiles(t, dir, map[string]string{"a.txt": "A", "taken.txt": "T", "d/x.txt": "X"})
	cs := connect(t, []Root{{Path: dir}, {Path: other}}, nil)

	if got := callOK(t, cs, "move_file", map[string]any{"source": "a.txt", "destination": "d/b.txt"}); got != "Successfully moved a.txt to d/b.txt" {
		t.Errorf("text = %q", got)
	}
	if got := readFile(t, filepath.Join(dir, "d/b.txt")); got != "A" {
		t.Errorf("moved content = %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "a.txt")); !os.IsNotExist(err) {
		t.Errorf("source still there: %v", err)
	}
	// Between roots: files are copied and the source removed.
	callOK(t, cs, "move_file", map[string]any{"source": "d/b.txt", "destination": filepath.Join(other, "b.txt")})
	if got := readFile(t, filepath.Join(other, "b.txt")); got != "A" {
		t.Errorf("cross-root content = %q", got)
	}
	if _, err := os.Stat(filepath.Join(dir, "d/b.txt")); !os.IsNotExist(err) {
		t.Errorf("cross-root source still there: %v", err)
	}

	fails := []struct {
		src, dst, want string
	}{
		{"d/x.txt", "taken.txt", `destination "taken.txt" already exists; move_file does not overwrite, choose another destination`},
		{"nope.txt", "n.txt", `path "nope.txt" does not exist`},
		{"d/x.txt", "nodir/x.txt", `destination "nodir/x.txt": its directory does not exist; create it first with create_directory`},
		{"d", filepath.Join(other, "d"), fmt.Sprintf(`source "d" is not a regular file; only files move between allowed directories (%s to %s)`, dir, other)},
		{".", "elsewhere", `source "." is an allowed directory itself; it cannot be moved`},
	}
	for _, tt := range fails {
		if got := callErr(t, cs, "move_file", map[string]any{"source": tt.src, "destination": tt.dst}); got != tt.want {
			t.Errorf("move_file(%s, %s) error = %q\nwant %q", tt.src, tt.dst, got, tt.want)
		}
	}
	if got := readFile(t, filepath.Join(dir, "taken.txt")); got != "T" {
		t.Errorf("destination overwritten: %q", got)
	}
}

func TestSearchFiles(t *testing.T) {
	dir := realTempDir(t)
	writeFiles(t, dir, map[string]string{
		"a.go": "", "b.txt": "", "pkg/c.go": "", "pkg/deep/d.go": "", "vendor/v.go": "", ".git/x.go": "",
	})
	cs := connect(t, []Root{{Path: dir}}, nil)
	abs := func(rels ...string) []string {
		var out []string
		for _, r := range rels {
			out = append(out, filepath.Join(dir, r))
		}
		return out
	}
	tests := []struct {
		args map[string]any
		want []string
	}{
		{map[string]any{"path": ".", "pattern": "*.go"}, abs("a.go")},
		{map[string]any{"path": ".", "pattern": "**/*.go"}, abs(".git/x.go", "a.go", "pkg/c.go", "pkg/deep/d.go", "vendor/v.go")},
		{map[string]any{"path": ".", "pattern": "**/*.go", "excludePatterns": []string{"vendor", ".git"}}, abs("a.go", "pkg/c.go", "pkg/deep/d.go")},
		{map[string]any{"path": "pkg", "pattern": "*.go"}, abs("pkg/c.go")},
		{map[string]any{"path": ".", "pattern": "pkg/**"}, abs("pkg", "pkg/c.go", "pkg/deep", "pkg/deep/d.go")},
		{map[string]any{"path": ".", "pattern": "*.rs"}, []string{}},
	}
	for _, tt := range tests {
		var out searchFilesOut
		structured(t, cs, "search_files", tt.args, &out)
		if diff := cmp.Diff(searchFilesOut{Matches: tt.want}, out); diff != "" {
			t.Errorf("search_files(%v) (-want +got):\n%s", tt.args, diff)
		}
	}
	if got := callOK(t, cs, "search_files", map[string]any{"path": ".", "pattern": "*.rs"}); got != "No matches found" {
		t.Errorf("no match text = %q", got)
	}
	if got := callOK(t, cs, "search_files", map[string]any{"path": "pkg", "pattern": "**/d.go"}); got != filepath.Join(dir, "pkg/deep/d.go") {
		t.Errorf("text = %q", got)
	}
	if got := callErr(t, cs, "search_files", map[string]any{"path": ".", "pattern": "a[.go"}); got != `invalid pattern "a[.go": syntax error in pattern` {
		t.Errorf("bad pattern error = %q", got)
	}
	if got := callErr(t, cs, "search_files", map[string]any{"path": "a.go", "pattern": "*"}); got != `path "a.go" is not a directory; use get_file_info or read_text_file for files` {
		t.Errorf("file path error = %q", got)
	}

	small := connect(t, []Root{{Path: dir}}, &Options{MaxSearchResults: 2})
	var out searchFilesOut
	structured(t, small, "search_files", map[string]any{"path": ".", "pattern": "**/*.go"}, &out)
	if len(out.Matches) != 2 || !out.Truncated {
		t.Errorf("with MaxSearchResults 2: %+v", out)
	}
	wantContains(t, callOK(t, small, "search_files", map[string]any{"path": ".", "pattern": "**/*.go"}),
		"... results truncated (limits: 2 matches, 100000 entries visited); narrow the path or pattern")
}

func TestGetFileInfo(t *testing.T) {
	dir := realTempDir(t)
	writeFiles(t, dir, map[string]string{"f.txt": "12345", "d/": ""})
	mtime := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	if err := os.Chtimes(filepath.Join(dir, "f.txt"), mtime, mtime); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(dir, "f.txt"), 0o640); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("f.txt", filepath.Join(dir, "link")); err != nil {
		t.Fatal(err)
	}
	cs := connect(t, []Root{{Path: dir}}, nil)
	var out fileInfoOut
	structured(t, cs, "get_file_info", map[string]any{"path": "f.txt"}, &out)
	want := fileInfoOut{Path: filepath.Join(dir, "f.txt"), Type: "file", Size: 5, Modified: mtime,
		Permissions: "640", Mode: "-rw-r-----", IsFile: true}
	if diff := cmp.Diff(want, out, cmp.FilterPath(func(p cmp.Path) bool { return p.String() == "Accessed" }, cmp.Ignore())); diff != "" {
		t.Errorf("structured (-want +got):\n%s", diff)
	}
	wantContains(t, callOK(t, cs, "get_file_info", map[string]any{"path": "f.txt"}),
		"path: "+filepath.Join(dir, "f.txt")+"\n", "type: file\n", "size: 5\n", "modified: 2024-05-06T07:08:09Z\n", "permissions: 640 (-rw-r-----)")
	structured(t, cs, "get_file_info", map[string]any{"path": "d"}, &out)
	if out.Type != "directory" || !out.IsDirectory || out.IsFile {
		t.Errorf("dir info = %+v", out)
	}
	structured(t, cs, "get_file_info", map[string]any{"path": "link"}, &out)
	if out.Type != "file" || !out.IsSymlink || out.Size != 5 {
		t.Errorf("symlink info = %+v", out)
	}
}

func TestListAllowedDirectories(t *testing.T) {
	rw, ro := realTempDir(t), realTempDir(t)
	cs := connect(t, []Root{{Path: rw}, {Path: ro, ReadOnly: true}}, nil)
	if got, want := callOK(t, cs, "list_allowed_directories", nil), fmt.Sprintf("Allowed directories:\n%s (read-write)\n%s (read-only)", rw, ro); got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	var out allowedDirsOut
	structured(t, cs, "list_allowed_directories", nil, &out)
	if diff := cmp.Diff(allowedDirsOut{Directories: []allowedDir{{rw, false}, {ro, true}}}, out); diff != "" {
		t.Errorf("structured (-want +got):\n%s", diff)
	}
}

func TestReadHeadTailAcrossChunks(t *testing.T) {
	dir := realTempDir(t)
	var lines []string
	for i := range 20000 {
		lines = append(lines, fmt.Sprintf("line%06d\n", i)) // 240 KB, several read chunks
	}
	writeFiles(t, dir, map[string]string{"log.txt": strings.Join(lines, "")})
	cs := connect(t, []Root{{Path: dir}}, nil)
	for _, n := range []int{1, 3, 6554, 10000, 20000} {
		if got, want := callOK(t, cs, "read_text_file", map[string]any{"path": "log.txt", "tail": n}), strings.Join(lines[len(lines)-n:], ""); got != want {
			t.Errorf("tail %d: got %d bytes starting %.20q, want %d bytes starting %.20q", n, len(got), got, len(want), want)
		}
		if got, want := callOK(t, cs, "read_text_file", map[string]any{"path": "log.txt", "head": n}), strings.Join(lines[:n], ""); got != want {
			t.Errorf("head %d: got %d bytes, want %d", n, len(got), len(want))
		}
	}
}
