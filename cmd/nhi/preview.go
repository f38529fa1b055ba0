package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"
)

// A bulk write (owner set, note add and decide --filter) first prints what
// it will touch: the count, then the first previewRows rows. With more
// than askAbove it asks [y/N] when a person is at a terminal; --yes
// answers for them, and a script (no terminal) goes on as it always did.
const (
	previewRows = 10
	askAbove    = 10
)

// errNotConfirmed: the person at the terminal did not answer yes.
var errNotConfirmed = errors.New("not confirmed; nothing was written")

// bulkFlags are the flags every previewed write takes.
type bulkFlags struct {
	dryRun, yes bool
}

func (b *bulkFlags) add(cmd *cobra.Command, what string) {
	cmd.Flags().BoolVar(&b.dryRun, "dry-run", false, "print what "+what+" would touch, and write nothing")
	cmd.Flags().BoolVarP(&b.yes, "yes", "y", false, "do not ask before writing")
}

// interactive reports whether a person can answer a question: standard
// input and output are both terminals. Tests replace it.
var interactive = func(a *app) bool {
	in, ok := a.stdin.(*os.File)
	return ok && term.IsTerminal(in.Fd()) && isTerminal(a.stdout)
}

// preview is what a bulk write is about to do: a headline with the count,
// the rows (already cut to previewRows by the caller, or not), how many
// in all, and the question to ask.
type preview struct {
	headline string // "Owner of 40 identities becomes @acme/platform:"
	rows     func(w io.Writer) error
	count    int    // rows in all
	shown    int    // rows printed by rows
	question string // "Set the owner of 40 identities?"
}

// confirm prints p and says whether to write: false with a nil error for
// --dry-run, errNotConfirmed when the person said no. Above askAbove rows,
// a terminal is asked unless --yes; mustAsk asks whatever the count, and
// then refuses a non-terminal without --yes (campaign close).
func (a *app) confirm(b bulkFlags, p preview, mustAsk bool) (bool, error) {
	a.sayf("%s\n", p.headline)
	if err := p.rows(a.stdout); err != nil {
		return false, err
	}
	if more := p.count - p.shown; more > 0 {
		fmt.Fprintf(a.stdout, "… and %d more\n", more)
	}
	if b.dryRun {
		fmt.Fprintln(a.stdout, "Dry run: nothing was written.")
		return false, nil
	}
	if b.yes || (!mustAsk && p.count <= askAbove) {
		return true, nil
	}
	if !interactive(a) {
		if mustAsk {
			return false, errors.New("this needs a yes and there is no terminal to ask: pass --yes (or --dry-run to look first); nothing was written")
		}
		return true, nil
	}
	fmt.Fprintf(a.stdout, "%s [y/N] ", p.question)
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(a.stdout)
		return false, errNotConfirmed
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, errNotConfirmed
}
