//go:build !unix

package tui

import (
	"os"
	"time"
)

// lockWrite cannot lock here: removeIfDead goes by age.
func lockWrite(*os.File) error { return nil }

// removeIfDead removes the temporary file at path once it is an hour
// old: no write takes that long, and without a lock nothing says sooner
// that its writer is gone.
func removeIfDead(path string) {
	if fi, err := os.Stat(path); err == nil && time.Since(fi.ModTime()) > time.Hour {
		os.Remove(path)
	}
}
