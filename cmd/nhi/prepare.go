package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/tui"
)

// preparesTable makes every command of c's tree that records a population
// (a snapshot of any source, nhi import, nhi db import, nhi demo: those
// that set app.recorded) prepare the review UI's table cache at its end,
// once however many snapshots it took (an AWS organisation is one per
// account): the derivation is done now, while nobody waits at the UI, as
// git writes its commit-graph after a fetch (README, "The table cache").
// It runs whether the command then succeeded or not: what was recorded is
// recorded (the accounts of an organisation that were read, beside one
// that failed), and it never changes the command's outcome.
func preparesTable(c *cobra.Command, a *app) {
	if run := c.RunE; run != nil {
		c.RunE = func(cmd *cobra.Command, args []string) error {
			err := run(cmd, args)
			a.prepareTable(cmd.Context())
			return err
		}
	}
	for _, sub := range c.Commands() {
		preparesTable(sub, a)
	}
}

// prepareTable derives the table the review UI shows of the evidence file
// and writes it to the UI's table cache (tui.PrepareTable), if the command
// recorded a population since the last preparation. It says what it did
// on stderr in one line; nothing when there is nothing to do: no cache
// (NHI_CACHE_DIR=off), a command interrupted before its end (its own error
// says so), a table already prepared at this head.
//
// It is never a failure of the command: the evidence is written and the
// cache is only a cache. An error, and ctrl-c during the preparation,
// leave a line saying the table was not prepared and that nhi will derive
// it when it opens; the command's exit code is the one it had without the
// preparation (0 after a snapshot that succeeded, ctrl-c or not: scripts
// read it as the evidence's outcome).
//
// Not on PostgreSQL: there the command typically runs where the
// connectors run (a server, a CI job), and each reviewer's UI keeps its
// own cache on the reviewer's machine (docs/team.md); a cache written
// here would serve nobody.
func (a *app) prepareTable(ctx context.Context) {
	if !a.recorded {
		return
	}
	a.recorded = false
	dir := tableCacheDir()
	if dir == "" || audit.IsPostgresURL(a.db) || ctx.Err() != nil {
		return
	}
	start := time.Now()
	p, err := a.prepare(ctx, dir)
	switch {
	case err != nil && ctx.Err() != nil:
		fmt.Fprintf(a.stderr, "Interrupted: the review table was not prepared; nhi will derive it when it opens\n")
	case errors.Is(err, tui.ErrEvidenceMoved):
		fmt.Fprintf(a.stderr, "The review table was not prepared: another process wrote to %s meanwhile; nhi will derive it when it opens\n", a.db)
	case err != nil:
		fmt.Fprintf(a.stderr, "The review table was not prepared (%s); nhi will derive it when it opens\n", audit.Printable(err.Error()))
	case p.Wrote:
		fmt.Fprintf(a.stderr, "Prepared the review table of %s %s for nhi (a cache, not evidence) in %s\n",
			audit.Thousands(p.Identities), plural(p.Identities, "identity", "identities"), time.Since(start).Round(time.Millisecond))
	}
}

// prepare opens the evidence file read-only and prepares its table in dir.
func (a *app) prepare(ctx context.Context, dir string) (tui.PreparedTable, error) {
	st, err := a.open(ctx, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		return tui.PreparedTable{}, err
	}
	defer st.Close()
	return tui.PrepareTable(ctx, st, dir)
}
