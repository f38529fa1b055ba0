//go:build unix

package x509

import (
	"os"
	"syscall"
)

// fileKey is what os.SameFile compares on Unix: the device and the inode.
type fileKey struct{ dev, ino uint64 }

func keyOf(info os.FileInfo) (fileKey, bool) {
	st, ok := info.Sys().(*syscall.Stat_t)
	if !ok {
		return fileKey{}, false
	}
	// Dev and Ino are narrower than 64 bits on some systems.
	return fileKey{uint64(st.Dev), uint64(st.Ino)}, true
}
