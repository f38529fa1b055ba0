//go:build unix

package main

import (
	"golang.org/x/sys/unix"
)

// stdoutClosed reports whether nhi was started with its standard output
// closed (`nhi ... >&-`). Go's runtime opens /dev/null, read-write, on a
// standard descriptor closed at start (runtime.checkfds), so a write
// there succeeds and goes nowhere. That is told from a standard output
// sent to /dev/null on purpose: a shell's `> /dev/null` opens it
// write-only, and a daemon's descriptors share one open of /dev/null
// (daemon(3) duplicates it), while the runtime opens it anew for each.
// An explicit `1<>/dev/null` on its own is taken for closed.
func stdoutClosed() bool {
	var out, null unix.Stat_t
	if unix.Fstat(1, &out) != nil || unix.Stat("/dev/null", &null) != nil {
		return false
	}
	if out.Mode&unix.S_IFMT != unix.S_IFCHR || out.Rdev != null.Rdev {
		return false
	}
	fl, err := unix.FcntlInt(1, unix.F_GETFL, 0)
	if err != nil || fl&unix.O_ACCMODE != unix.O_RDWR {
		return false
	}
	return !sharesOpen(1, 0) && !sharesOpen(1, 2)
}

// sharesOpen reports whether descriptors a and b are one open file (dup):
// a status flag set on a is then set on b. O_APPEND is set on a and put
// back; a's file is /dev/null, which appends as it writes, nowhere.
func sharesOpen(a, b int) bool {
	fa, err := unix.FcntlInt(uintptr(a), unix.F_GETFL, 0)
	if err != nil {
		return false
	}
	fb, err := unix.FcntlInt(uintptr(b), unix.F_GETFL, 0)
	if err != nil {
		return false
	}
	if fa&unix.O_APPEND != fb&unix.O_APPEND {
		return false
	}
	if _, err := unix.FcntlInt(uintptr(a), unix.F_SETFL, fa^unix.O_APPEND); err != nil {
		return false
	}
	after, err := unix.FcntlInt(uintptr(b), unix.F_GETFL, 0)
	_, _ = unix.FcntlInt(uintptr(a), unix.F_SETFL, fa)
	return err == nil && after&unix.O_APPEND != fb&unix.O_APPEND
}
