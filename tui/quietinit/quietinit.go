// Package quietinit keeps Bubble Tea's package initialisation from asking
// the terminal for its background colour, so that only the terminal UI
// asks, when it starts (tui.Run).
//
// bubbletea v1's init calls lipgloss.HasDarkBackground, which writes the
// OSC 11 query (and a cursor position report) to standard output when it
// is a terminal, and waits up to 5 s (termenv's OSCTimeout) for the
// answer. Every program that links Bubble Tea does it, whatever it does
// next: every nhi command waited so on a terminal that never answers (a
// CI runner's, script(1), a serial console), nhi version too.
//
// termenv asks nothing while TERM is "dumb". This package's init sets it
// so, and Restore puts back the TERM the process started with; the tui
// package calls Restore from its own init, which Go runs after Bubble
// Tea's. The init here runs before Bubble Tea's because Go initialises
// packages in the order of their import paths, each after its imports
// (the language specification, "Package initialization"): this package
// imports only syscall, and its path sorts before "os", which termenv,
// lipgloss and bubbletea all import. TestCommandsDoNotQueryTheTerminal
// (cmd/nhi) runs the built nhi on a terminal that never answers, and
// fails if that ever stops being so.
package quietinit

import "syscall"

var (
	term    string // TERM as the process started with it
	hadTerm bool   // whether TERM was set at all
)

func init() {
	term, hadTerm = syscall.Getenv("TERM")
	syscall.Setenv("TERM", "dumb")
}

// Restore puts back the TERM the process started with. The tui package's
// init calls it.
func Restore() {
	if hadTerm {
		syscall.Setenv("TERM", term)
	} else {
		syscall.Unsetenv("TERM")
	}
}
