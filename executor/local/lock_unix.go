//go:build unix

package local

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// lockFile takes an exclusive advisory lock on path, which the kernel
// releases when the process exits, however it exits. The file holds the
// owner's PID for the error message of the next contender.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("local.Open: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			owner := strings.TrimSpace(string(b))
			if _, perr := strconv.Atoi(owner); perr != nil {
				owner = "unknown"
			}
			return nil, fmt.Errorf("local.Open: %s is used by another executor (pid %s); stop it, or open with Options.Passive to inspect runs: %w",
				strings.TrimSuffix(path, ".lock"), owner, ErrLocked)
		}
		return nil, fmt.Errorf("local.Open: locking %s: %w", path, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return f, nil
}
