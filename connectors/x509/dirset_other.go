//go:build !unix

package x509

import "os"

// fileKey is not had without Unix's device and inode: os.SameFile decides
// alone (on Windows it asks the system for a file's index).
type fileKey struct{}

func keyOf(os.FileInfo) (fileKey, bool) { return fileKey{}, false }
