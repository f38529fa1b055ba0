package main

import (
	"io"
	"io/fs"
	"sync"

	"golang.org/x/sys/unix"
)

// watchOutput calls gone once the reader of w is gone, when w is a pipe or
// a socket (poll reports POLLERR or POLLHUP on the writing end then), in a
// goroutine blocked in poll(2) until that or stop.
func watchOutput(w io.Writer, gone func()) (stop func()) {
	f, ok := osFile(w)
	if !ok {
		return func() {}
	}
	fi, err := f.Stat()
	if err != nil || fi.Mode()&(fs.ModeNamedPipe|fs.ModeSocket) == 0 {
		return func() {}
	}
	rc, err := f.SyscallConn()
	if err != nil {
		return func() {}
	}
	fd := -1
	if rc.Control(func(u uintptr) { fd = int(u) }) != nil || fd < 0 {
		return func() {}
	}
	// stop closes the write end of wake, which wakes the poll.
	var wake [2]int
	if unix.Pipe2(wake[:], unix.O_CLOEXEC) != nil {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		fds := []unix.PollFd{{Fd: int32(fd)}, {Fd: int32(wake[0]), Events: unix.POLLIN}}
		for {
			_, err := unix.Poll(fds, -1)
			if err == unix.EINTR {
				continue
			}
			if err != nil || fds[1].Revents != 0 || fds[0].Revents&unix.POLLNVAL != 0 {
				return
			}
			if fds[0].Revents&(unix.POLLERR|unix.POLLHUP) != 0 {
				gone()
				return
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			unix.Close(wake[1])
			<-done
			unix.Close(wake[0])
		})
	}
}
