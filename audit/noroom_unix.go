//go:build linux || darwin || freebsd

package audit

import (
	"path/filepath"

	"golang.org/x/sys/unix"
)

// roomOf is the room of the evidence file at db: this process's file size
// limit and its file system's free space; ok is false when the system
// does not say.
func roomOf(db string) (fileRoom, bool) {
	var r fileRoom
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &lim); err != nil {
		return r, false
	}
	if lim.Cur != unix.RLIM_INFINITY {
		r.limit = uint64(lim.Cur)
	}
	var fs unix.Statfs_t
	if err := unix.Statfs(filepath.Dir(db), &fs); err != nil {
		return r, false
	}
	r.free = uint64(fs.Bavail) * uint64(fs.Bsize)
	return r, true
}
