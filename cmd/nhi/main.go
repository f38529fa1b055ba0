// Command nhi audits non-human identities: it snapshots them into a local
// evidence file, lets an auditor review them in a terminal UI, and exports
// evidence for SOC 2, ISO 27001 and PCI DSS access reviews.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/nhi-audit/nhi/audit"
)

// Exit codes scripts rely on.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

func main() {
	takeSIGPIPE()
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, stopSignals()...)
	ctx, stop := stopOn(sigs)
	var stdout io.Writer = os.Stdout
	if stdoutClosed() {
		stdout = closedOutput{}
	}
	code := run(ctx, os.Args[1:], os.Stdin, stdout, os.Stderr)
	signal.Stop(sigs)
	stop()
	if code == exitOutputGone {
		dieOfClosedOutput()
	}
	os.Exit(code)
}

// run is main without the process: tests call it directly.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	out := &stdoutWriter{w: stdout}
	root, a := newRoot(stdin, out, stderr)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	a.stopWatch()
	if err == nil {
		if out.err == nil || errors.Is(out.err, syscall.EPIPE) {
			return exitOK // a pipe's reader that left is no failure (outputgone.go)
		}
		// The command did what it was asked, and printed without looking:
		// its output is lost, which a script must not take for success.
		fmt.Fprintf(stderr, "nhi: %v\n", out.err)
		fmt.Fprintln(stderr, outputLost(out.err, true, a.wrote))
		return exitFailure
	}
	if stoppedForOutput(cmd, err) {
		return exitOutputGone
	}
	err = interrupted(ctx, cmd, err)
	fmt.Fprintf(stderr, "nhi: %v\n", err)
	if audit.Damaged(err) {
		fmt.Fprintln(stderr, damagedHint)
	}
	if advice := audit.ServerAdvice(err); advice != "" {
		fmt.Fprintln(stderr, advice)
	}
	if outputCut(err) {
		fmt.Fprintln(stderr, outputLost(err, false, a.wrote))
	} else if out.err != nil && !errors.Is(out.err, syscall.EPIPE) {
		fmt.Fprintf(stderr, "nhi: %v\n%s\n", out.err, outputLost(out.err, false, a.wrote))
	}
	if audit.NoRoom(err) && cmd != nil {
		if db := cmd.Flag("db"); db != nil && !audit.IsPostgresURL(db.Value.String()) {
			fmt.Fprintln(stderr, audit.NoRoomAdvice(db.Value.String(), "run the command again"))
		}
	}
	var u usageError
	var te topicError
	if errors.As(err, &te) {
		fmt.Fprintf(stderr, "Run 'nhi help %s' for %s.\n", te.topic, helpTopics[te.topic])
		return exitUsage
	}
	if errors.As(err, &u) {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", u.command)
		return exitUsage
	}
	if inputUsage(err) || errors.Is(err, audit.ErrBadURL) {
		// The message says what to give instead (a PostgreSQL URL: what
		// one looks like): no pointer to the help.
		return exitUsage
	}
	return exitFailure
}

// damagedHint follows an error that found the evidence file malformed
// (audit.Damaged): audit's advice, the UI's too, and the head a user may
// have kept to check the copy against.
const damagedHint = "The evidence file is damaged (cut short, or overwritten in part): " + audit.DamagedAdvice +
	" (with --head SEQ:HASH if you kept one, nhi log head)."

// usageError marks a mistake in how nhi was called (exit 2), as opposed to a
// failure while doing what was asked (exit 1).
type usageError struct {
	command string
	err     error
}

func (u usageError) Error() string { return u.err.Error() }
func (u usageError) Unwrap() error { return u.err }

// topicError is a usage error (exit 2) that a help topic explains (nhi
// help filter): the hint points there rather than at a command's flags.
type topicError struct {
	topic string
	err   error
}

func (t topicError) Error() string { return t.err.Error() }
func (t topicError) Unwrap() error { return t.err }
