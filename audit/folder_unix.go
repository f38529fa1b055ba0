//go:build unix

package audit

import "syscall"

// folderRefusesFiles reports whether this process may not create files
// in dir: access(2) says so for mode bits, a read-only mount and the
// immutable attribute alike, as the kernel would answer a create.
func folderRefusesFiles(dir string) bool {
	return syscall.Access(dir, 2 /* W_OK */) != nil
}
