package main

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// A command's standard output that takes nothing (closed, `nhi ... >&-`;
// a full disk or a file size limit under `> out.csv`; an I/O error) ends
// the command with a message and exit status 1, as coreutils' commands
// end, where most of nhi's commands printed without looking and exited 0
// with their output lost. run sees every write through stdoutWriter; a
// command goes on as it was written to (a command that records finishes
// recording: the evidence is whole), and run says what was lost once it
// returns. A pipe whose reader left is not this: that ends quietly
// (outputgone.go).

// stdoutWriter is the standard output every command writes to: it keeps
// the first write that failed, and after it writes nothing more, so what
// was written is a part that ends where the output stopped, not a part
// with a hole.
type stdoutWriter struct {
	w   io.Writer
	err error
}

func (s *stdoutWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	if err != nil {
		s.err = err
	}
	return n, err
}

// osFile is the file w writes to, if it is one: a terminal's size and a
// pipe's reader are asked of it.
func osFile(w io.Writer) (*os.File, bool) {
	if s, ok := w.(*stdoutWriter); ok {
		w = s.w
	}
	f, ok := w.(*os.File)
	return f, ok
}

// errStdoutClosed is every write's error on a standard output that was
// closed when nhi started (stdoutClosed), as a write to a closed file
// descriptor fails: Go's runtime gives that descriptor /dev/null, so the
// writes would succeed, and go nowhere.
var errStdoutClosed = &fs.PathError{Op: "write", Path: "/dev/stdout", Err: syscall.EBADF}

// closedOutput is a standard output that was closed when nhi started.
type closedOutput struct{}

func (closedOutput) Write([]byte) (int, error) { return 0, errStdoutClosed }

// outputLost is what run says of err, a write of standard output that
// failed, after "nhi: " and the error: what became of the output, and
// what to do. done says the command did all it was asked (it returned no
// error); wrote, that it opened the evidence to write: running it again
// for its output could record twice.
func outputLost(err error, done, wrote bool) string {
	closed := errors.Is(err, syscall.EBADF)
	msg := "The output is cut short: what was written before this error is not the whole."
	if closed {
		msg = "Standard output is closed (>&-): nothing the command printed was written."
	}
	switch {
	case wrote && done:
		msg += " The command did what it was asked; only what it printed is lost: what it recorded is in the evidence (nhi log head names the last event), and running it again would record it again."
	case wrote:
		msg += " What it recorded is in the evidence (nhi log head names the last event): look there before running it again."
	case closed:
		msg += " Give it somewhere to go (> file, or > /dev/null to drop it) and run the command again."
	case errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EFBIG):
		msg += " Write it where there is room and run the command again."
	default:
		msg += " Write it elsewhere and run the command again."
	}
	return msg
}
