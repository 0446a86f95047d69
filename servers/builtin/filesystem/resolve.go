package filesystem

// Path resolution happens in two layers. resolve maps the client's path to a
// (root, local path) pair by lexical analysis only; that is what decides
// which root applies and refuses ".." escapes and absolute paths elsewhere.
// Every file operation then goes through the root's *os.Root with the local
// path, and os.Root refuses to follow any symlink out of the root, checking
// each component as it opens it, so a concurrent swap cannot escape either.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Sentinels for the ways a path is refused; the user-facing errors wrap them.
var (
	errOutside       = errors.New("outside the allowed directories")
	errSymlinkEscape = errors.New("symlink escapes the allowed directory")
	errReadOnly      = errors.New("in a read-only root")
	errInvalidPath   = errors.New("invalid path")
)

// pathError is a refusal or failure with a message written for the client.
type pathError struct {
	msg  string
	kind error
}

func (e *pathError) Error() string { return e.msg }
func (e *pathError) Unwrap() error { return e.kind }

func refuse(kind error, format string, args ...any) error {
	return &pathError{msg: fmt.Sprintf(format, args...), kind: kind}
}

// root is an allowed directory, open for the server's lifetime.
type root struct {
	path     string // absolute, symlinks evaluated
	alias    string // absolute as configured, before evaluating symlinks
	given    string // as configured
	readOnly bool
	fs       *os.Root
}

func (r *root) mode() string {
	if r.readOnly {
		return "read-only"
	}
	return "read-write"
}

// fileSystem holds the roots and implements the tools.
type fileSystem struct {
	roots []*root
	opts  Options
	// escapeErr is the error os.Root reports when a path leaves it; the
	// standard library does not export it, so New captures it once.
	escapeErr error
}

// target is a client path resolved into one root.
type target struct {
	root *root
	rel  string // local to root.path; "." is the root itself
	arg  string // the path as the client sent it, for messages
}

// abs is the absolute path of t, for display.
func (t target) abs() string { return filepath.Join(t.root.path, t.rel) }

// probeEscapeError returns the error r reports for a path leaving it.
func probeEscapeError(r *os.Root) error {
	_, err := r.Stat("..")
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// within reports whether p is base or lies under it; both must be clean and
// absolute.
func within(base, p string) bool {
	_, ok := relTo(base, p)
	return ok
}

// relTo returns p relative to base if p is base or lies under it.
func relTo(base, p string) (string, bool) {
	if p == base {
		return ".", true
	}
	prefix := base
	if !strings.HasSuffix(prefix, string(filepath.Separator)) {
		prefix += string(filepath.Separator)
	}
	if rest, ok := strings.CutPrefix(p, prefix); ok && rest != "" {
		return rest, true
	}
	return "", false
}

func (s *fileSystem) rootList() string {
	paths := make([]string, len(s.roots))
	for i, r := range s.roots {
		paths[i] = r.path
	}
	return strings.Join(paths, ", ")
}

// resolve maps a client path to a root and a local path, lexically.
func (s *fileSystem) resolve(p string) (target, error) {
	if p == "" {
		return target{}, refuse(errInvalidPath, "path is empty; give a path relative to %s or an absolute path inside the allowed directories", s.roots[0].path)
	}
	if strings.ContainsRune(p, 0) {
		return target{}, refuse(errInvalidPath, "path %q contains a NUL byte", p)
	}
	if filepath.IsAbs(p) {
		c := filepath.Clean(p)
		for _, r := range s.roots {
			for _, base := range []string{r.path, r.alias} {
				if rel, ok := relTo(base, c); ok {
					return target{root: r, rel: rel, arg: p}, nil
				}
			}
		}
		return target{}, refuse(errOutside, "path %q is outside the allowed directories (%s)", p, s.rootList())
	}
	rel := filepath.Clean(p)
	if !filepath.IsLocal(rel) {
		return target{}, refuse(errOutside, "path %q is outside the allowed directories (%s)", p, s.rootList())
	}
	return target{root: s.roots[0], rel: rel, arg: p}, nil
}

// resolveWritable is resolve plus a refusal for read-only roots.
func (s *fileSystem) resolveWritable(p string) (target, error) {
	t, err := s.resolve(p)
	if err != nil {
		return t, err
	}
	if t.root.readOnly {
		return t, refuse(errReadOnly, "path %q is in a read-only root (%s)", p, t.root.path)
	}
	return t, nil
}

// explain turns an error from an os.Root operation on t into a message for
// the client, keeping the original error wrapped.
func (s *fileSystem) explain(t target, err error) error {
	if err == nil {
		return nil
	}
	var pe *pathError
	if errors.As(err, &pe) {
		return err
	}
	var fsErr *fs.PathError
	inner := err
	if errors.As(err, &fsErr) {
		inner = fsErr.Err
	}
	switch {
	case s.escapeErr != nil && errors.Is(inner, s.escapeErr):
		// resolve already refused lexical escapes, so a symlink did this.
		if real, evalErr := filepath.EvalSymlinks(t.abs()); evalErr == nil && within(t.root.path, real) {
			return &pathError{kind: errSymlinkEscape, msg: fmt.Sprintf(
				"path %q: absolute symlinks are not followed, even to %s inside the allowed directory %s; use a relative symlink",
				t.arg, real, t.root.path)}
		}
		return &pathError{kind: errSymlinkEscape, msg: fmt.Sprintf("path %q: symlink escapes the allowed directory %s", t.arg, t.root.path)}
	case errors.Is(err, fs.ErrNotExist):
		return &pathError{kind: err, msg: fmt.Sprintf("path %q does not exist", t.arg)}
	case errors.Is(inner, syscall.ENOTDIR):
		return &pathError{kind: err, msg: fmt.Sprintf("path %q: a parent of it is not a directory", t.arg)}
	case errors.Is(inner, syscall.ELOOP):
		return &pathError{kind: err, msg: fmt.Sprintf("path %q: too many levels of symbolic links", t.arg)}
	case errors.Is(err, fs.ErrPermission):
		return &pathError{kind: err, msg: fmt.Sprintf("path %q: permission denied", t.arg)}
	}
	return fmt.Errorf("path %q: %w", t.arg, inner)
}
