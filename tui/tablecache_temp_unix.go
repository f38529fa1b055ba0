//go:build unix

package tui

import (
	"os"

	"golang.org/x/sys/unix"
)

// lockWrite takes f's lock (flock), waiting while a removeDeadWrites
// holds it: the lock goes with the process, so no process holding it
// says its writer is gone.
func lockWrite(f *os.File) error {
	for {
		err := unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			return err
		}
	}
}

// removeIfDead removes the temporary file at path if no process holds
// its lock. The name is removed while the lock is held, so a writer that
// renamed its file in place meanwhile (holding the lock) loses nothing:
// the name is gone, not its file.
func removeIfDead(path string) {
	f, err := os.Open(path)
	if err != nil {
		return // renamed in place, or removed
	}
	defer f.Close()
	if unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) != nil {
		return // a write under way
	}
	os.Remove(path)
}
