package audit

import (
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"golang.org/x/sys/unix"
)

// The one process holding the write lock is named while other files'
// locks are taken and let go beside it, as the test suites of other
// packages do on a CI machine: /proc/locks is read a page at a time,
// and a lock let go before the holder's line between two pages made a
// read skip that line, so the holder was "another process": one read in
// 75 here, before a read that finds no holder was taken again.
func TestLockHolderSeenWhileOtherLocksChange(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nhi.db")
	openAt(t, path)
	holdWriteLock(t, path)
	churn, err := os.Create(filepath.Join(t.TempDir(), "churn"))
	if err != nil {
		t.Fatal(err)
	}
	defer churn.Close()
	var stop atomic.Bool
	done := make(chan struct{})
	go func() {
		defer close(done)
		fd := churn.Fd()
		for !stop.Load() {
			// 200 locks of their own (bytes apart), then none: the list
			// grows by pages and shrinks before the holder's line.
			for i := range 200 {
				lk := unix.Flock_t{Type: unix.F_WRLCK, Start: int64(2 * i), Len: 1}
				if err := unix.FcntlFlock(fd, unix.F_SETLK, &lk); err != nil {
					t.Error(err)
					return
				}
			}
			lk := unix.Flock_t{Type: unix.F_UNLCK}
			if err := unix.FcntlFlock(fd, unix.F_SETLK, &lk); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	missed := 0
	for range 300 {
		if h := writeLockHolders(path); len(h) != 1 || h[0].PID != os.Getpid() {
			missed++
		}
	}
	stop.Store(true)
	<-done
	if missed > 0 {
		t.Errorf("the write lock's holder, this process, was not found in %d of 300 looks while another file's locks changed", missed)
	}
}
