//go:build linux

package audit

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// walWriteLock is the byte of the -shm file whose write lock is the
// write lock of a file in WAL mode (SQLite's WAL_WRITE_LOCK: the shm's
// locks start at byte 120).
const walWriteLock = 120

// writeLockHolders reads /proc/locks for the processes that hold a
// write (exclusive) lock on the evidence file at path (a writer of a
// file not in WAL mode, or one that keeps readers out: locking_mode
// EXCLUSIVE) or the WAL write lock on its -shm file. Locks a process
// waits for ("->") are not held. It reads, and opens nothing of the
// file's: closing any descriptor of a file drops every lock this
// process's own connections hold on it (POSIX locks).
//
// The system lists the locks a page at a time (4 KiB, some 70 locks),
// each read call starting where the last ended by count, so a lock
// taken or let go meanwhile moves the rest of the list by a line: a lock
// of the line skipped is not seen, one of the line read twice is. With
// many SQLite files in use on the machine (the test suites of other
// packages beside this one's), the one holder was so once not seen
// (TestSnapshotBusyKeepsItsBatches). With another file's locks taken and
// let go beside it (TestLockHolderSeenWhileOtherLocksChange), one read
// in 75 missed it, three reads in a row once in 12,000 looks, five in a
// row none in 48,000. Under the race detector, reads taken back to back
// fall in step with the other file's changes: five in a row missed in 5
// of 300 looks. So a read that does not find exactly one holder is taken
// again, a millisecond later, so the next read falls elsewhere in the
// other's changes, twenty reads in all (some 20 ms, and only when a busy
// file is being named).
func writeLockHolders(path string) []lockHolder {
	var out []lockHolder
	for i := range 20 {
		if i > 0 {
			time.Sleep(time.Millisecond)
		}
		if out = writeLockHoldersOnce(path); len(out) == 1 {
			break
		}
	}
	return out
}

// writeLockHoldersOnce is writeLockHolders from one read of /proc/locks.
func writeLockHoldersOnce(path string) []lockHolder {
	db, shm := fileLockID(path), fileLockID(path+"-shm")
	if db == "" {
		return nil
	}
	raw, err := os.ReadFile("/proc/locks")
	if err != nil {
		return nil
	}
	var out []lockHolder
	seen := map[int]bool{}
	for line := range strings.SplitSeq(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 8 || f[1] == "->" {
			continue
		}
		// "1: POSIX  ADVISORY  WRITE 1234 fe:00:9985831 120 120"
		class, mode, id := f[1], f[3], f[5]
		if class != "POSIX" && class != "OFDLCK" || mode != "WRITE" {
			continue
		}
		if id != db && (id != shm || !covers(f[6], f[7], walWriteLock)) {
			continue
		}
		pid, err := strconv.Atoi(f[4])
		if err != nil || seen[pid] {
			continue
		}
		seen[pid] = true
		out = append(out, lockHolder{PID: pid, Name: processName(pid)})
	}
	return out
}

// fileLockID is how /proc/locks names the file at path: its device's
// major and minor number in hex and its inode, "fe:00:9985831"; "" when
// it cannot be read.
func fileLockID(path string) string {
	fi, err := os.Stat(path)
	if err != nil {
		return ""
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return ""
	}
	dev := uint64(st.Dev) // uint32 on some architectures
	return fmt.Sprintf("%02x:%02x:%d", unix.Major(dev), unix.Minor(dev), st.Ino)
}

// covers reports whether the range start..end of /proc/locks ("EOF" for
// the end of the file) holds byte b.
func covers(start, end string, b int64) bool {
	s, err := strconv.ParseInt(start, 10, 64)
	if err != nil || s > b {
		return false
	}
	if end == "EOF" {
		return true
	}
	e, err := strconv.ParseInt(end, 10, 64)
	return err == nil && e >= b
}

// processName is the command name of process pid ("sqlite3"), "" when
// it cannot be read (gone, or hidden).
func processName(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return ""
	}
	return trimName(b)
}
