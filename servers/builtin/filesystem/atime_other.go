//go:build !linux

package filesystem

import (
	"io/fs"
	"time"
)

// accessTime returns the last access time of fi, if the platform records it.
func accessTime(fs.FileInfo) (time.Time, bool) { return time.Time{}, false }
