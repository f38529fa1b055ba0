package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"
)

// nhi stops on SIGINT (ctrl-c), SIGTERM and SIGHUP (the terminal closed,
// ssh dropped) alike: main's context ends, and each command stops as
// interrupt.go says, keeping what it wrote and closing the evidence file
// (a snapshot keeps what it read, for the next run to continue), where a
// hang-up killed nhi where it stood. Started with SIGHUP ignored (nohup),
// nhi leaves it ignored. A change the review UI is writing when the
// terminal hangs up is still written (tui.Options.Writes): nobody is left
// to be told to make it again; ctrl-c and SIGTERM stop it, and say so.

// errHangUp is the cause of main's context ended by SIGHUP.
var errHangUp = errors.New("the terminal hung up (SIGHUP)")

// stopSignals are the signals main's context ends on.
func stopSignals() []os.Signal {
	sigs := []os.Signal{os.Interrupt, syscall.SIGTERM}
	if !signal.Ignored(syscall.SIGHUP) {
		sigs = append(sigs, syscall.SIGHUP)
	}
	return sigs
}

type writesKey struct{}

// stopOn returns a context that ends on the first signal from c, its
// cause errHangUp for SIGHUP, and carries the context the review UI's
// writes run under (writesContext), which SIGINT and SIGTERM end and
// SIGHUP does not; stop ends both.
func stopOn(c <-chan os.Signal) (ctx context.Context, stop func()) {
	base, cancel := context.WithCancelCause(context.Background())
	writes, cancelWrites := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-c:
				if s == syscall.SIGHUP {
					cancel(errHangUp)
					continue
				}
				cancel(nil)
				cancelWrites()
			case <-done:
				return
			}
		}
	}()
	return context.WithValue(base, writesKey{}, writes), func() {
		close(done)
		cancel(nil)
		cancelWrites()
	}
}

// writesContext is the context the review UI's writes run under (stopOn),
// nil when ctx carries none (tests call run with their own).
func writesContext(ctx context.Context) context.Context {
	w, _ := ctx.Value(writesKey{}).(context.Context)
	return w
}
