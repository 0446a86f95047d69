//go:build unix

package filesystem

import "syscall"

// openNonblock keeps opening a named pipe from blocking; the opened file is
// then checked to be a regular file.
const openNonblock = syscall.O_NONBLOCK
