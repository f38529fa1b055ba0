package main

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
)

// A command's output piped into a reader that stops early (nhi identities
// | head) stops the command, quietly, as git's and kubectl's do: nhi exits
// as a writer to a closed pipe does, killed by SIGPIPE (exit status 141
// in the shell), with nothing on stderr. nhi takes SIGPIPE itself (main),
// so a write to the closed pipe is an error the command sees rather than
// the end of the process wherever it was: a command that records (a
// snapshot of several accounts, nhi demo) finishes what it records, and a
// command that only reads stops at its next write.
//
// A read that prints nothing until it has read everything (the human
// table, sized to its widest cell) would only find out at the end: the
// commands marked readsOnly have their context ended as soon as the
// reader of their standard output is gone (watchOutput, Linux; elsewhere
// they stop at their next write).

// annReadsOnly marks a command that only reads the evidence and prints:
// stopping it when its output is gone loses nothing.
const annReadsOnly = "nhi.readsOnly"

// readsOnlyCommands are the commands that only read the evidence and
// print what they read (their store opened read-only, no file written):
// marked annReadsOnly by markReadsOnly.
var readsOnlyCommands = []string{
	"identities", "diff", "snapshots", "snapshots show",
	"campaign list", "campaign show", "campaign remind", "campaign sample",
	"exception list", "note list", "people list", "people show", "policy show",
}

// markReadsOnly marks root's readsOnlyCommands (annReadsOnly).
func markReadsOnly(root *cobra.Command) {
	for _, path := range readsOnlyCommands {
		cmd, _, err := root.Find(strings.Fields(path))
		if err != nil || cmd == root {
			panic("nhi: no command " + path + " to mark as reading only")
		}
		if cmd.Annotations == nil {
			cmd.Annotations = map[string]string{}
		}
		cmd.Annotations[annReadsOnly] = "true"
	}
}

// exitOutputGone is run's code for a command stopped because its output's
// reader is gone; main turns it into death by SIGPIPE (141 in a shell).
const exitOutputGone = 128 + 13

// errOutputGone is the cause of a readsOnly command's context ended by
// watchOutput.
var errOutputGone = errors.New("the reader of the output is gone")

// watchReads ends cmd's context once the reader of a.stdout is gone, if
// cmd is marked readsOnly; a.stopWatch ends the watch.
func (a *app) watchReads(cmd *cobra.Command) {
	if cmd.Annotations[annReadsOnly] == "" {
		return
	}
	ctx, cancel := context.WithCancelCause(cmd.Context())
	stop := watchOutput(a.stdout, func() { cancel(errOutputGone) })
	a.stopWatch = func() {
		stop()
		cancel(nil)
	}
	cmd.SetContext(ctx)
}

// stoppedForOutput reports whether err, cmd's, says only that its output
// went nowhere: a write of standard output found the pipe closed (EPIPE),
// or watchOutput ended a readsOnly command's context. Any other error is
// said as always (stderr may still be read).
func stoppedForOutput(cmd *cobra.Command, err error) bool {
	if err == nil {
		return false
	}
	var pe *fs.PathError
	if errors.As(err, &pe) && pe.Path == "/dev/stdout" && errors.Is(err, syscall.EPIPE) {
		return true
	}
	if cmd == nil || context.Cause(cmd.Context()) != errOutputGone {
		return false
	}
	return errors.Is(err, context.Canceled) || strings.Contains(err.Error(), "statement is closed")
}

// takeSIGPIPE makes a write to a closed pipe an error (EPIPE) for nhi to
// handle, where Go ends the process on one to standard output or error.
func takeSIGPIPE() {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
}

// dieOfClosedOutput ends nhi as Go ends a program whose write to standard
// output finds the pipe closed: by SIGPIPE, so a shell, xargs or a
// pipefail script sees what it sees of any such writer. The write fails,
// as the reader is gone: it writes nothing.
func dieOfClosedOutput() {
	signal.Reset(syscall.SIGPIPE)
	_, _ = os.Stdout.Write([]byte{'\n'})
	os.Exit(exitOutputGone)
}
