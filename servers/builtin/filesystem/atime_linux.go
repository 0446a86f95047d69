package filesystem

import (
	"io/fs"
	"syscall"
	"time"
)

// accessTime returns the last access time of fi, if the platform records it.
func accessTime(fi fs.FileInfo) (time.Time, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(st.Atim.Sec, st.Atim.Nsec), true
}
