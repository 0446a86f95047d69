package filesystem

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

const pathDoc = "relative to the first allowed directory, or absolute inside one of them"

type readTextFileIn struct {
	Path string `json:"path" jsonschema:"the file to read, relative to the first allowed directory, or absolute inside one of them"`
	Head *int   `json:"head,omitempty" jsonschema:"if provided, returns only the first N lines of the file"`
	Tail *int   `json:"tail,omitempty" jsonschema:"if provided, returns only the last N lines of the file"`
}

type contentOut struct {
	Content string `json:"content" jsonschema:"the text read"`
}

type readMultipleFilesIn struct {
	Paths []string `json:"paths" jsonschema:"the files to read, each relative to the first allowed directory or absolute inside one of them"`
}

type fileResult struct {
	Path    string `json:"path"`
	Content string `json:"content,omitempty"`
	Error   string `json:"error,omitempty"`
}

type readMultipleFilesOut struct {
	Files []fileResult `json:"files"`
}

type writeFileIn struct {
	Path    string `json:"path" jsonschema:"the file to create or overwrite; its directory must exist"`
	Content string `json:"content" jsonschema:"the complete new content of the file"`
}

type editOp struct {
	OldText string `json:"oldText" jsonschema:"text to search for; must match exactly once, including whitespace"`
	NewText string `json:"newText" jsonschema:"text to replace it with"`
}

type editFileIn struct {
	Path   string   `json:"path" jsonschema:"the file to edit"`
	Edits  []editOp `json:"edits" jsonschema:"replacements applied in order, each to the result of the previous ones"`
	DryRun bool     `json:"dryRun,omitempty" jsonschema:"preview changes using git-style diff format without writing them"`
}

type editFileOut struct {
	Diff    string `json:"diff" jsonschema:"unified diff of the change; empty when nothing changed"`
	Applied bool   `json:"applied" jsonschema:"whether the change was written (false for a dry run)"`
}

type pathIn struct {
	Path string `json:"path" jsonschema:"a path relative to the first allowed directory, or absolute inside one of them"`
}

type dirEntry struct {
	Name string `json:"name"`
	Type string `json:"type" jsonschema:"file or directory"`
}

type listDirectoryOut struct {
	Entries   []dirEntry `json:"entries"`
	Truncated bool       `json:"truncated,omitempty"`
}

type directoryTreeIn struct {
	Path            string   `json:"path" jsonschema:"the directory at the top of the tree"`
	ExcludePatterns []string `json:"excludePatterns,omitempty" jsonschema:"glob patterns to leave out; a pattern without a slash matches an entry name at any depth"`
}

type treeEntry struct {
	Path string `json:"path" jsonschema:"slash-separated, relative to the requested directory"`
	Type string `json:"type" jsonschema:"file or directory"`
}

type directoryTreeOut struct {
	Entries   []treeEntry `json:"entries"`
	Truncated bool        `json:"truncated,omitempty"`
}

type moveFileIn struct {
	Source      string `json:"source" jsonschema:"the file or directory to move"`
	Destination string `json:"destination" jsonschema:"the new path; must not exist yet"`
}

type searchFilesIn struct {
	Path            string   `json:"path" jsonschema:"the directory to search under"`
	Pattern         string   `json:"pattern" jsonschema:"glob matched against paths relative to path: '*.go' in that directory, '**/*.go' at any depth"`
	ExcludePatterns []string `json:"excludePatterns,omitempty" jsonschema:"glob patterns to skip; a pattern without a slash matches an entry name at any depth"`
}

type searchFilesOut struct {
	Matches   []string `json:"matches" jsonschema:"absolute paths of matching files and directories"`
	Truncated bool     `json:"truncated,omitempty"`
}

type fileInfoOut struct {
	Path        string     `json:"path" jsonschema:"absolute path"`
	Type        string     `json:"type" jsonschema:"file, directory or other"`
	Size        int64      `json:"size" jsonschema:"size in bytes"`
	Modified    time.Time  `json:"modified"`
	Accessed    *time.Time `json:"accessed,omitempty"`
	Permissions string     `json:"permissions" jsonschema:"octal permission bits, for example 644"`
	Mode        string     `json:"mode" jsonschema:"symbolic mode, for example -rw-r--r--"`
	IsDirectory bool       `json:"isDirectory"`
	IsFile      bool       `json:"isFile"`
	IsSymlink   bool       `json:"isSymlink,omitempty" jsonschema:"whether path itself is a symbolic link (the other fields describe its target)"`
}

type allowedDir struct {
	Path     string `json:"path"`
	ReadOnly bool   `json:"readOnly"`
}

type allowedDirsOut struct {
	Directories []allowedDir `json:"directories"`
}

func boolPtr(b bool) *bool { return &b }

var (
	readOnlyHints = &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: boolPtr(false)}
)

func writeHints(title string, idempotent, destructive bool) *mcp.ToolAnnotations {
	return &mcp.ToolAnnotations{Title: title, IdempotentHint: idempotent, DestructiveHint: boolPtr(destructive), OpenWorldHint: boolPtr(false)}
}

func readHints(title string) *mcp.ToolAnnotations {
	a := *readOnlyHints
	a.Title = title
	return &a
}

func (s *fileSystem) register(srv *mcp.Server) {
	readDesc := "Read the complete contents of a file as text. Use 'head' to read only the first N lines " +
		"or 'tail' for the last N lines. Paths are " + pathDoc + "."
	mcp.AddTool(srv, &mcp.Tool{Name: "read_text_file", Title: "Read Text File", Description: readDesc,
		Annotations: readHints("Read Text File")}, s.readTextFile)
	mcp.AddTool(srv, &mcp.Tool{Name: "read_file", Title: "Read File (Deprecated)",
		Description: "Read the complete contents of a file as text. DEPRECATED: use read_text_file instead.",
		Annotations: readHints("Read File (Deprecated)")}, s.readTextFile)
	mcp.AddTool(srv, &mcp.Tool{Name: "read_multiple_files", Title: "Read Multiple Files",
		Description: "Read several files in one call. Each file's content is returned with its path; " +
			"a file that cannot be read gets an error line and does not stop the others.",
		Annotations: readHints("Read Multiple Files")}, s.readMultipleFiles)
	mcp.AddTool(srv, &mcp.Tool{Name: "write_file", Title: "Write File",
		Description: "Create a new file or completely overwrite an existing one with new content. " +
			"The write is atomic: readers see the old or the new content, never a mix. Not allowed in read-only directories.",
		Annotations: writeHints("Write File", true, true)}, s.writeFile)
	mcp.AddTool(srv, &mcp.Tool{Name: "edit_file", Title: "Edit File",
		Description: "Replace exact text in a file. Each edit's oldText must occur exactly once in the file " +
			"(after the previous edits). Returns a unified diff of the change; with dryRun the file is not written.",
		Annotations: writeHints("Edit File", false, true)}, s.editFile)
	mcp.AddTool(srv, &mcp.Tool{Name: "create_directory", Title: "Create Directory",
		Description: "Create a directory, with any missing parents. Succeeds if it already exists.",
		Annotations: writeHints("Create Directory", true, false)}, s.createDirectory)
	mcp.AddTool(srv, &mcp.Tool{Name: "list_directory", Title: "List Directory",
		Description: "List the entries of a directory, each prefixed with [FILE] or [DIR].",
		Annotations: readHints("List Directory")}, s.listDirectory)
	mcp.AddTool(srv, &mcp.Tool{Name: "directory_tree", Title: "Directory Tree",
		Description: "Get a recursive tree of files and directories as JSON: each entry has 'name', " +
			"'type' (file/directory) and, for directories, 'children'. Symbolic links are not followed.",
		Annotations: readHints("Directory Tree")}, s.directoryTree)
	mcp.AddTool(srv, &mcp.Tool{Name: "move_file", Title: "Move File",
		Description: "Move or rename a file or directory. Fails if the destination exists. " +
			"Directories move only within one allowed directory; files may move between them.",
		Annotations: writeHints("Move File", false, true)}, s.moveFile)
	mcp.AddTool(srv, &mcp.Tool{Name: "search_files", Title: "Search Files",
		Description: "Recursively find files and directories whose path relative to 'path' matches a glob " +
			"pattern: '*.ext' matches in that directory, '**/*.ext' at any depth. Returns absolute paths.",
		Annotations: readHints("Search Files")}, s.searchFiles)
	mcp.AddTool(srv, &mcp.Tool{Name: "get_file_info", Title: "Get File Info",
		Description: "Get metadata about a file or directory: type, size, modification and access times, permissions.",
		Annotations: readHints("Get File Info")}, s.getFileInfo)
	mcp.AddTool(srv, &mcp.Tool{Name: "list_allowed_directories", Title: "List Allowed Directories",
		Description: "List the directories this server may access, and whether each is read-only. " +
			"Their subdirectories are accessible too.",
		Annotations: readHints("List Allowed Directories")}, s.listAllowedDirectories)
}

func textResult(text string) *mcp.CallToolResult {
	return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}}
}

func formatSize(n int64) string {
	const unit = 1024
	if n < unit {
		return strconv.FormatInt(n, 10) + " B"
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 3; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGT"[exp])
}

// openRegular opens t for reading and checks it is a regular file. The
// non-blocking open keeps a named pipe from hanging the call.
func (s *fileSystem) openRegular(t target) (*os.File, fs.FileInfo, error) {
	f, err := t.root.fs.OpenFile(t.rel, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, nil, s.explain(t, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, s.explain(t, err)
	}
	switch {
	case fi.IsDir():
		f.Close()
		return nil, nil, fmt.Errorf("path %q is a directory; use list_directory or directory_tree to see what it holds", t.arg)
	case !fi.Mode().IsRegular():
		f.Close()
		return nil, nil, fmt.Errorf("path %q is not a regular file (%s)", t.arg, fi.Mode().Type())
	}
	return f, fi, nil
}

func (s *fileSystem) tooBig(t target, what string) error {
	return fmt.Errorf("path %q: %s is larger than the %s read limit; read part of it with head or tail",
		t.arg, what, formatSize(s.opts.MaxReadBytes))
}

// readAll reads a whole regular file, up to limit bytes.
func (s *fileSystem) readAll(t target, limit int64) ([]byte, error) {
	f, fi, err := s.openRegular(t)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi.Size() > limit {
		return nil, s.tooBig(t, "the file ("+formatSize(fi.Size())+")")
	}
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, s.explain(t, err)
	}
	if int64(len(data)) > limit {
		return nil, s.tooBig(t, "the file")
	}
	return data, nil
}

// readHead returns the first n lines of t, each with its line terminator.
func (s *fileSystem) readHead(t target, n int) ([]byte, error) {
	f, _, err := s.openRegular(t)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := bufio.NewReader(io.LimitReader(f, s.opts.MaxReadBytes+1))
	var out []byte
	for range n {
		line, err := r.ReadBytes('\n')
		out = append(out, line...)
		if int64(len(out)) > s.opts.MaxReadBytes {
			return nil, s.tooBig(t, fmt.Sprintf("the first %d lines", n))
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, s.explain(t, err)
		}
	}
	return out, nil
}

// readTail returns the last n lines of t, reading backwards from the end.
func (s *fileSystem) readTail(t target, n int) ([]byte, error) {
	f, fi, err := s.openRegular(t)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	const chunk = 64 << 10
	end := fi.Size()
	pos := end
	var chunks [][]byte // from the end of the file backwards
	total, newlines := 0, 0
	for pos > 0 {
		size := min(int64(chunk), pos)
		pos -= size
		buf := make([]byte, size)
		if _, err := f.ReadAt(buf, pos); err != nil && err != io.EOF {
			return nil, s.explain(t, err)
		}
		chunks = append(chunks, buf)
		total += len(buf)
		if int64(total) > s.opts.MaxReadBytes+chunk {
			return nil, s.tooBig(t, fmt.Sprintf("the last %d lines", n))
		}
		newlines += bytes.Count(buf, []byte("\n"))
		if pos+size == end && bytes.HasSuffix(buf, []byte("\n")) {
			newlines-- // the file's final newline ends the last line; it separates nothing
		}
		if newlines >= n {
			break
		}
	}
	slices.Reverse(chunks)
	data := bytes.Join(chunks, nil)
	lines := splitLines(string(data))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	out := []byte(strings.Join(lines, ""))
	if int64(len(out)) > s.opts.MaxReadBytes {
		return nil, s.tooBig(t, fmt.Sprintf("the last %d lines", n))
	}
	return out, nil
}

func (s *fileSystem) readTextFile(ctx context.Context, _ *mcp.CallToolRequest, in readTextFileIn) (*mcp.CallToolResult, contentOut, error) {
	t, err := s.resolve(in.Path)
	if err != nil {
		return nil, contentOut{}, err
	}
	// Like the reference server, 0 means "not set".
	head, tail := 0, 0
	if in.Head != nil {
		head = *in.Head
	}
	if in.Tail != nil {
		tail = *in.Tail
	}
	if head < 0 || tail < 0 {
		return nil, contentOut{}, errors.New("head and tail must be positive line counts")
	}
	if head > 0 && tail > 0 {
		return nil, contentOut{}, errors.New("give head or tail, not both")
	}
	var data []byte
	switch {
	case head > 0:
		data, err = s.readHead(t, head)
	case tail > 0:
		data, err = s.readTail(t, tail)
	default:
		data, err = s.readAll(t, s.opts.MaxReadBytes)
	}
	if err != nil {
		return nil, contentOut{}, err
	}
	text := strings.ToValidUTF8(string(data), "\uFFFD")
	return textResult(text), contentOut{Content: text}, nil
}

func (s *fileSystem) readMultipleFiles(ctx context.Context, _ *mcp.CallToolRequest, in readMultipleFilesIn) (*mcp.CallToolResult, readMultipleFilesOut, error) {
	if len(in.Paths) == 0 {
		return nil, readMultipleFilesOut{}, errors.New("paths is empty; give at least one file path")
	}
	out := readMultipleFilesOut{Files: make([]fileResult, 0, len(in.Paths))}
	var texts []string
	budget := s.opts.MaxReadBytes
	for _, p := range in.Paths {
		res := fileResult{Path: p}
		t, err := s.resolve(p)
		if err == nil {
			if budget <= 0 {
				err = fmt.Errorf("skipped: the %s read limit for one call is used up; read it in another call", formatSize(s.opts.MaxReadBytes))
			} else {
				var data []byte
				data, err = s.readAll(t, budget)
				budget -= int64(len(data))
				res.Content = strings.ToValidUTF8(string(data), "\uFFFD")
			}
		}
		if err != nil {
			res.Error = err.Error()
			texts = append(texts, fmt.Sprintf("%s: Error - %s", p, res.Error))
		} else {
			texts = append(texts, fmt.Sprintf("%s:\n%s\n", p, res.Content))
		}
		out.Files = append(out.Files, res)
	}
	return textResult(strings.Join(texts, "\n---\n")), out, nil
}

// writeAtomic replaces t's content with what content yields, through a
// temporary file in the same directory that is renamed over t. The file gets
// perm, or when perm is 0 the permissions of the file it replaces (0644 for a
// new file). If t is a symlink inside the root, the link is replaced by a
// regular file.
func (s *fileSystem) writeAtomic(t target, content io.Reader, perm fs.FileMode) error {
	r := t.root.fs
	fi, err := r.Stat(t.rel)
	switch {
	case err == nil && fi.IsDir():
		return fmt.Errorf("path %q is a directory; give a file path", t.arg)
	case err == nil:
		if perm == 0 {
			perm = fi.Mode().Perm()
		}
	case !errors.Is(err, fs.ErrNotExist):
		return s.explain(t, err)
	}
	dir := filepath.Dir(t.rel)
	if dfi, err := r.Stat(dir); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("path %q: its directory does not exist; create it first with create_directory", t.arg)
		}
		return s.explain(t, err)
	} else if !dfi.IsDir() {
		return fmt.Errorf("path %q: %s is not a directory", t.arg, filepath.Join(t.root.path, dir))
	}

	if perm == 0 {
		perm = 0o644
	}
	var (
		f   *os.File
		tmp string
	)
	for range 10 {
		var rnd [6]byte
		_, _ = rand.Read(rnd[:])
		tmp = filepath.Join(dir, "."+filepath.Base(t.rel)+".tmp-"+hex.EncodeToString(rnd[:]))
		f, err = r.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if !errors.Is(err, fs.ErrExist) {
			break
		}
	}
	if err != nil {
		return s.explain(t, err)
	}
	_, err = io.Copy(f, content)
	if err == nil {
		err = f.Chmod(perm)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.Rename(tmp, t.rel)
	}
	if err != nil {
		_ = r.Remove(tmp)
		return s.explain(t, err)
	}
	return nil
}

func (s *fileSystem) writeFile(ctx context.Context, _ *mcp.CallToolRequest, in writeFileIn) (*mcp.CallToolResult, any, error) {
	t, err := s.resolveWritable(in.Path)
	if err != nil {
		return nil, nil, err
	}
	if err := s.writeAtomic(t, strings.NewReader(in.Content), 0); err != nil {
		return nil, nil, err
	}
	return textResult(fmt.Sprintf("Successfully wrote %d bytes to %s", len(in.Content), in.Path)), nil, nil
}

// occurrences counts the (possibly overlapping) places sub occurs in s.
func occurrences(s, sub string) (count, first int) {
	first = -1
	for from := 0; from <= len(s); {
		i := strings.Index(s[from:], sub)
		if i < 0 {
			break
		}
		if first < 0 {
			first = from + i
		}
		count++
		from += i + 1
	}
	return count, first
}

// applyEdits applies edits in order; each oldText must occur exactly once.
// In a file with CRLF line endings, "\n" in the edit texts means "\r\n".
func applyEdits(name, content string, edits []editOp) (string, error) {
	if len(edits) == 0 {
		return "", errors.New("edits is empty; give at least one {oldText, newText}")
	}
	crlf := strings.Contains(content, "\r\n")
	for i, e := range edits {
		oldText, newText := e.OldText, e.NewText
		if oldText == "" {
			return "", fmt.Errorf("edit %d of %d: oldText is empty; give the exact text to replace", i+1, len(edits))
		}
		if crlf && !strings.Contains(oldText, "\r") {
			oldText = strings.ReplaceAll(oldText, "\n", "\r\n")
			if !strings.Contains(newText, "\r") {
				newText = strings.ReplaceAll(newText, "\n", "\r\n")
			}
		}
		n, at := occurrences(content, oldText)
		switch {
		case n == 0:
			return "", fmt.Errorf("edit %d of %d: oldText not found in %s; it must match the file exactly, including whitespace (oldText starts %q)",
				i+1, len(edits), name, preview(e.OldText))
		case n > 1:
			return "", fmt.Errorf("edit %d of %d: oldText occurs %d times in %s; include more surrounding text so it matches exactly once (oldText starts %q)",
				i+1, len(edits), n, name, preview(e.OldText))
		}
		content = content[:at] + newText + content[at+len(oldText):]
	}
	return content, nil
}

func preview(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	if len(line) > 60 {
		line = strings.ToValidUTF8(line[:60], "") + "..."
	}
	return line
}

func (s *fileSystem) editFile(ctx context.Context, _ *mcp.CallToolRequest, in editFileIn) (*mcp.CallToolResult, editFileOut, error) {
	t, err := s.resolveWritable(in.Path)
	if err != nil {
		return nil, editFileOut{}, err
	}
	data, err := s.readAll(t, s.opts.MaxReadBytes)
	if err != nil {
		return nil, editFileOut{}, err
	}
	name := fmt.Sprintf("%q", in.Path)
	updated, err := applyEdits(name, string(data), in.Edits)
	if err != nil {
		return nil, editFileOut{}, err
	}
	diff := unifiedDiff(filepath.ToSlash(in.Path), string(data), updated)
	if diff == "" {
		return textResult(fmt.Sprintf("No changes: the edits leave %s as it is", in.Path)), editFileOut{}, nil
	}
	if in.DryRun {
		return textResult("Dry run, nothing written:\n" + diff), editFileOut{Diff: diff}, nil
	}
	if err := s.writeAtomic(t, strings.NewReader(updated), 0); err != nil {
		return nil, editFileOut{}, err
	}
	return textResult(diff), editFileOut{Diff: diff, Applied: true}, nil
}

func (s *fileSystem) createDirectory(ctx context.Context, _ *mcp.CallToolRequest, in pathIn) (*mcp.CallToolResult, any, error) {
	t, err := s.resolveWritable(in.Path)
	if err != nil {
		return nil, nil, err
	}
	fi, err := t.root.fs.Stat(t.rel)
	switch {
	case err == nil && fi.IsDir():
		return textResult(fmt.Sprintf("Directory %s already exists", in.Path)), nil, nil
	case err == nil:
		return nil, nil, fmt.Errorf("path %q exists and is not a directory", in.Path)
	case !errors.Is(err, fs.ErrNotExist):
		return nil, nil, s.explain(t, err)
	}
	if err := t.root.fs.MkdirAll(t.rel, 0o755); err != nil {
		return nil, nil, s.explain(t, err)
	}
	return textResult(fmt.Sprintf("Successfully created directory %s", in.Path)), nil, nil
}

// openDir opens t and checks it is a directory.
func (s *fileSystem) openDir(t target) (*os.File, error) {
	f, err := t.root.fs.OpenFile(t.rel, os.O_RDONLY|openNonblock, 0)
	if err != nil {
		return nil, s.explain(t, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, s.explain(t, err)
	}
	if !fi.IsDir() {
		f.Close()
		return nil, fmt.Errorf("path %q is not a directory; use get_file_info or read_text_file for files", t.arg)
	}
	return f, nil
}

// readDir reads at most limit entries of the directory at rel, sorted by
// name; truncated reports whether there were more.
func readDir(ctx context.Context, f *os.File, limit int) (entries []fs.DirEntry, truncated bool, err error) {
	if limit <= 0 {
		more, _ := f.ReadDir(1)
		return nil, len(more) > 0, nil
	}
	for len(entries) < limit {
		if err := ctx.Err(); err != nil {
			return nil, false, err
		}
		batch, err := f.ReadDir(min(256, limit-len(entries)))
		entries = append(entries, batch...)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, false, err
		}
		if len(entries) == limit {
			more, _ := f.ReadDir(1)
			truncated = len(more) > 0
		}
	}
	slices.SortFunc(entries, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return entries, truncated, nil
}

// entryType is "directory" for directories and for symlinks to
// directories inside the root, else "file".
func entryType(t target, rel string, e fs.DirEntry) string {
	if e.IsDir() {
		return "directory"
	}
	if e.Type()&fs.ModeSymlink != 0 {
		if fi, err := t.root.fs.Stat(rel); err == nil && fi.IsDir() {
			return "directory"
		}
	}
	return "file"
}

func (s *fileSystem) listDirectory(ctx context.Context, _ *mcp.CallToolRequest, in pathIn) (*mcp.CallToolResult, listDirectoryOut, error) {
	t, err := s.resolve(in.Path)
	if err != nil {
		return nil, listDirectoryOut{}, err
	}
	f, err := s.openDir(t)
	if err != nil {
		return nil, listDirectoryOut{}, err
	}
	defer f.Close()
	entries, truncated, err := readDir(ctx, f, s.opts.MaxWalkEntries)
	if err != nil {
		return nil, listDirectoryOut{}, s.explain(t, err)
	}
	out := listDirectoryOut{Entries: make([]dirEntry, 0, len(entries)), Truncated: truncated}
	var sb strings.Builder
	for _, e := range entries {
		typ := entryType(t, filepath.Join(t.rel, e.Name()), e)
		out.Entries = append(out.Entries, dirEntry{Name: e.Name(), Type: typ})
		if typ == "directory" {
			sb.WriteString("[DIR] ")
		} else {
			sb.WriteString("[FILE] ")
		}
		sb.WriteString(e.Name())
		sb.WriteByte('\n')
	}
	text := strings.TrimSuffix(sb.String(), "\n")
	if len(entries) == 0 {
		text = "(empty directory)"
	}
	if truncated {
		text += fmt.Sprintf("\n... listing truncated after %d entries", len(entries))
	}
	return textResult(text), out, nil
}

// treeNode is one entry of directory_tree's JSON text.
type treeNode struct {
	Name     string      `json:"name"`
	Type     string      `json:"type"`
	Children *[]treeNode `json:"children,omitempty"`
}

func (s *fileSystem) directoryTree(ctx context.Context, _ *mcp.CallToolRequest, in directoryTreeIn) (*mcp.CallToolResult, directoryTreeOut, error) {
	t, err := s.resolve(in.Path)
	if err != nil {
		return nil, directoryTreeOut{}, err
	}
	ex, err := compileExcludes(in.ExcludePatterns)
	if err != nil {
		return nil, directoryTreeOut{}, err
	}
	top, err := s.openDir(t)
	if err != nil {
		return nil, directoryTreeOut{}, err
	}
	out := directoryTreeOut{Entries: []treeEntry{}}
	visited := 0
	// build lists the directory open as f; rel is slash-separated and
	// relative to t ("" at the top).
	var build func(f *os.File, rel string) ([]treeNode, error)
	build = func(f *os.File, rel string) ([]treeNode, error) {
		defer f.Close()
		entries, truncated, err := readDir(ctx, f, s.opts.MaxWalkEntries-visited)
		if err != nil {
			return nil, err
		}
		out.Truncated = out.Truncated || truncated
		nodes := []treeNode{}
		for _, e := range entries {
			if visited >= s.opts.MaxWalkEntries {
				out.Truncated = true
				break
			}
			visited++
			erel := e.Name()
			if rel != "" {
				erel = rel + "/" + e.Name()
			}
			if ex.excluded(erel) {
				continue
			}
			node := treeNode{Name: e.Name(), Type: "file"}
			if e.IsDir() {
				node.Type = "directory"
			}
			out.Entries = append(out.Entries, treeEntry{Path: erel, Type: node.Type})
			if e.IsDir() {
				children := []treeNode{}
				sub := target{root: t.root, rel: filepath.Join(t.rel, filepath.FromSlash(erel)), arg: erel}
				if sf, err := s.openDir(sub); err == nil {
					if children, err = build(sf, erel); err != nil {
						return nil, err
					}
				}
				node.Children = &children
			}
			nodes = append(nodes, node)
		}
		return nodes, nil
	}
	tree, err := build(top, "")
	if err != nil {
		return nil, directoryTreeOut{}, s.explain(t, err)
	}
	text, err := json.MarshalIndent(tree, "", "  ")
	if err != nil {
		return nil, directoryTreeOut{}, err
	}
	res := textResult(string(text))
	if out.Truncated {
		res.Content = append(res.Content, &mcp.TextContent{Text: fmt.Sprintf(
			"tree truncated after %d entries; ask for a subdirectory or add excludePatterns", s.opts.MaxWalkEntries)})
	}
	return res, out, nil
}

func (s *fileSystem) moveFile(ctx context.Context, _ *mcp.CallToolRequest, in moveFileIn) (*mcp.CallToolResult, any, error) {
	src, err := s.resolveWritable(in.Source)
	if err != nil {
		return nil, nil, err
	}
	dst, err := s.resolveWritable(in.Destination)
	if err != nil {
		return nil, nil, err
	}
	if src.rel == "." {
		return nil, nil, fmt.Errorf("source %q is an allowed directory itself; it cannot be moved", in.Source)
	}
	sfi, err := src.root.fs.Lstat(src.rel)
	if err != nil {
		return nil, nil, s.explain(src, err)
	}
	if _, err := dst.root.fs.Lstat(dst.rel); err == nil {
		return nil, nil, fmt.Errorf("destination %q already exists; move_file does not overwrite, choose another destination", in.Destination)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, s.explain(dst, err)
	}
	if dfi, err := dst.root.fs.Stat(filepath.Dir(dst.rel)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("destination %q: its directory does not exist; create it first with create_directory", in.Destination)
		}
		return nil, nil, s.explain(dst, err)
	} else if !dfi.IsDir() {
		return nil, nil, fmt.Errorf("destination %q: its parent is not a directory", in.Destination)
	}

	if src.root == dst.root {
		if err := src.root.fs.Rename(src.rel, dst.rel); err != nil {
			return nil, nil, s.explain(src, err)
		}
	} else {
		if !sfi.Mode().IsRegular() {
			return nil, nil, fmt.Errorf("source %q is not a regular file; only files move between allowed directories (%s to %s)",
				in.Source, src.root.path, dst.root.path)
		}
		f, _, err := s.openRegular(src)
		if err != nil {
			return nil, nil, err
		}
		err = s.writeAtomic(dst, f, sfi.Mode().Perm())
		f.Close()
		if err != nil {
			return nil, nil, err
		}
		if err := src.root.fs.Remove(src.rel); err != nil {
			return nil, nil, fmt.Errorf("copied %q to %q but could not remove the source: %w", in.Source, in.Destination, s.explain(src, err))
		}
	}
	return textResult(fmt.Sprintf("Successfully moved %s to %s", in.Source, in.Destination)), nil, nil
}

func (s *fileSystem) searchFiles(ctx context.Context, _ *mcp.CallToolRequest, in searchFilesIn) (*mcp.CallToolResult, searchFilesOut, error) {
	t, err := s.resolve(in.Path)
	if err != nil {
		return nil, searchFilesOut{}, err
	}
	g, err := compileGlob(in.Pattern)
	if err != nil {
		return nil, searchFilesOut{}, err
	}
	ex, err := compileExcludes(in.ExcludePatterns)
	if err != nil {
		return nil, searchFilesOut{}, err
	}
	f, err := s.openDir(t)
	if err != nil {
		return nil, searchFilesOut{}, err
	}
	f.Close()

	out := searchFilesOut{Matches: []string{}}
	start := filepath.ToSlash(t.rel)
	visited := 0
	err = fs.WalkDir(t.root.fs.FS(), start, func(p string, d fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if p == start {
			return err
		}
		if err != nil {
			return nil // an unreadable subdirectory: skip it
		}
		visited++
		if visited > s.opts.MaxWalkEntries {
			out.Truncated = true
			return fs.SkipAll
		}
		rel := p
		if start != "." {
			rel = strings.TrimPrefix(p, start+"/")
		}
		if ex.excluded(rel) {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if g.match(rel) {
			if len(out.Matches) == s.opts.MaxSearchResults {
				out.Truncated = true
				return fs.SkipAll
			}
			out.Matches = append(out.Matches, filepath.Join(t.root.path, filepath.FromSlash(p)))
		}
		return nil
	})
	if err != nil {
		return nil, searchFilesOut{}, s.explain(t, err)
	}
	text := strings.Join(out.Matches, "\n")
	if len(out.Matches) == 0 {
		text = "No matches found"
	}
	if out.Truncated {
		text += fmt.Sprintf("\n... results truncated (limits: %d matches, %d entries visited); narrow the path or pattern",
			s.opts.MaxSearchResults, s.opts.MaxWalkEntries)
	}
	return textResult(text), out, nil
}

func (s *fileSystem) getFileInfo(ctx context.Context, _ *mcp.CallToolRequest, in pathIn) (*mcp.CallToolResult, fileInfoOut, error) {
	t, err := s.resolve(in.Path)
	if err != nil {
		return nil, fileInfoOut{}, err
	}
	fi, err := t.root.fs.Stat(t.rel)
	if err != nil {
		return nil, fileInfoOut{}, s.explain(t, err)
	}
	out := fileInfoOut{
		Path:        t.abs(),
		Type:        "other",
		Size:        fi.Size(),
		Modified:    fi.ModTime().UTC(),
		Permissions: strconv.FormatUint(uint64(fi.Mode().Perm()), 8),
		Mode:        fi.Mode().String(),
		IsDirectory: fi.IsDir(),
		IsFile:      fi.Mode().IsRegular(),
	}
	switch {
	case fi.IsDir():
		out.Type = "directory"
	case fi.Mode().IsRegular():
		out.Type = "file"
	}
	if at, ok := accessTime(fi); ok {
		at = at.UTC()
		out.Accessed = &at
	}
	if lfi, err := t.root.fs.Lstat(t.rel); err == nil && lfi.Mode()&fs.ModeSymlink != 0 {
		out.IsSymlink = true
	}
	lines := []string{
		"path: " + out.Path,
		"type: " + out.Type,
		fmt.Sprintf("size: %d", out.Size),
		"modified: " + out.Modified.Format(time.RFC3339),
	}
	if out.Accessed != nil {
		lines = append(lines, "accessed: "+out.Accessed.Format(time.RFC3339))
	}
	lines = append(lines, fmt.Sprintf("permissions: %s (%s)", out.Permissions, out.Mode),
		fmt.Sprintf("isDirectory: %t", out.IsDirectory), fmt.Sprintf("isFile: %t", out.IsFile))
	if out.IsSymlink {
		lines = append(lines, "isSymlink: true")
	}
	return textResult(strings.Join(lines, "\n")), out, nil
}

func (s *fileSystem) listAllowedDirectories(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, allowedDirsOut, error) {
	out := allowedDirsOut{Directories: make([]allowedDir, 0, len(s.roots))}
	lines := []string{"Allowed directories:"}
	for _, r := range s.roots {
		out.Directories = append(out.Directories, allowedDir{Path: r.path, ReadOnly: r.readOnly})
		lines = append(lines, fmt.Sprintf("%s (%s)", r.path, r.mode()))
	}
	return textResult(strings.Join(lines, "\n")), out, nil
}
