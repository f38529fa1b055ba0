package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

func newDBCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "db",
		Short: "Set up a shared database; move the evidence between it and evidence files",
		Long: `db sets up and moves evidence between stores: nhi db init creates nhi's
tables and roles in a PostgreSQL database, nhi db export writes the store
named by --db (a PostgreSQL database or a file) into a new, self-contained
evidence file with the same event log, and nhi db import brings an evidence
file into the store. See docs/team.md.`,
	}
	cmd.AddCommand(newDBInitCmd(a), newDBExportCmd(a), newDBImportCmd(a))
	return cmd
}

func newDBExportCmd(a *app) *cobra.Command {
	var to string
	var at int64
	var force bool
	cmd := &cobra.Command{
		Use:   "export --to FILE.db",
		Short: "Write the store into a new evidence file that verifies on its own",
		Long: `export writes the whole store named by --db (typically a shared PostgreSQL
database) into FILE.db, a new SQLite evidence file: every snapshot, identity,
owner, campaign and decision, and the event log byte for byte, so the file has
the same chain and head and nhi verify passes on it alone. The store is read
as of one moment while others go on writing. The file appears only once
complete; an existing FILE.db is refused unless --force.

The connectors' request cache (http_cache) is not copied: it is not evidence.

--at EVENT (the store as of an earlier event) is refused: the owners, people
and campaign tables keep only each row's latest state, so a file as of an
earlier event would not be the store as it was. See docs/team.md.`,
		Example: `  nhi db export --db postgres://nhi@db.example.com/nhi --to evidence-2026-Q4.db
  nhi verify --db evidence-2026-Q4.db`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if to == "" {
				return usageError{cmd.CommandPath(), errors.New("pass --to FILE.db, the evidence file to write")}
			}
			if audit.IsPostgresURL(to) {
				return usageError{cmd.CommandPath(), errors.New("--to names the evidence file to write, not a database; to fill a database, run nhi db import --from FILE.db against it")}
			}
			if cmd.Flags().Changed("at") {
				return fmt.Errorf("--at %d: a file as of an earlier event cannot be written faithfully: the owners, people and campaign tables keep only each row's latest state; export the whole store (its head is printed) and cite that head, nothing was written", at)
			}
			// What a killed --force left set aside is put back first: the
			// file at --to is as it was, and the checks below see it.
			if old, err := audit.PutBackSetAside(to); err != nil {
				return err
			} else if old != "" {
				fmt.Fprintf(a.stderr, "nhi: put %s back, which an earlier nhi db export, killed while replacing it, had set aside as %s\n", to, old)
			}
			if force {
				if same(to, a.db) {
					return fmt.Errorf("--to %s is the store being exported; choose another file", to)
				}
			} else if fi, err := os.Lstat(to); err == nil && !fi.IsDir() { // a folder: Export says so
				return fmt.Errorf("%s already exists; choose another file, or pass --force to replace it (nothing was written)", to)
			}
			ctx := cmd.Context()
			// A database that sorts text by a language's rules is
			// refused by every other command; export is how its
			// evidence moves to one that does not (audit.ErrTextOrder),
			// and the file it writes is verified as it stands.
			st, err := a.open(ctx, audit.OpenOptions{ReadOnly: true, AnyTextOrder: true})
			if err != nil {
				return err
			}
			defer st.Close()
			export := st.Export
			if force {
				// What is at --to is replaced once the copy is whole,
				// and stays if it is not.
				export = st.ExportReplacing
			}
			res, err := export(ctx, to)
			if audit.NoRoom(err) {
				return dbExportNoRoom(err, to, st.Path())
			}
			if err != nil {
				return err
			}
			r, err := verifyStore(ctx, to)
			if err != nil {
				return err
			}
			if r.Head != res.Head {
				return fmt.Errorf("%s was written but its head %s is not the store's %s: report this", to, r.Head, res.Head)
			}
			// identities holds a renamed identity's former ID too, which
			// identity_aliases links to its current one (audit/lineage.go):
			// counted apart, the identities are those nhi identities lists.
			idents, former := res.Rows["identities"]-res.Rows["identity_aliases"], ""
			if n := res.Rows["identity_aliases"]; n > 0 {
				former = fmt.Sprintf(" (and %s of renamed ones)", counted(int(n), "former ID", "former IDs"))
			}
			fmt.Fprintf(a.stdout, "Wrote %s from %s: %s, chain head %s; %s, %s%s, %s\n",
				to, st.Path(), counted(int(res.Events), "event", "events"), headOrNone(res.Head), counted(int(res.Rows["snapshots"]), "snapshot", "snapshots"),
				counted(int(idents), "identity", "identities"), former, counted(int(res.Rows["observations"]), "observation", "observations"))
			fmt.Fprintf(a.stdout, "OK %s verifies on its own (nhi verify --db %s)\n", to, to)
			return nil
		},
	}
	cmd.Flags().StringVar(&to, "to", "", "the new evidence file to write")
	cmd.Flags().Int64Var(&at, "at", 0, "the store as of this event (refused: see the help)")
	cmd.Flags().BoolVar(&force, "force", false, "replace FILE.db if it exists")
	return cmd
}

func newDBImportCmd(a *app) *cobra.Command {
	var from string
	cmd := &cobra.Command{
		Use:   "import --from FILE.db",
		Short: "Bring an evidence file into the store, if their logs agree",
		Long: `import copies the evidence file FILE.db into the store named by --db
(typically a shared PostgreSQL database). The file is verified first, as nhi
verify does; a file that fails is refused. Into an empty store everything is
copied. When the store's event log is a prefix of the file's (the file went on
from an export of the store), the events it lacks are appended and the other
rows brought to the file's state. When the two logs differ at
some event, import refuses, naming the first such event, and writes nothing:
everything happens in one transaction. When the store already holds the
file's whole log (the same file imported twice), or its log extends the
file's, there is nothing to import: it says so and writes nothing, unless
the file holds rows of a snapshot it has not finished (interrupted, or
still running: no event records one until it finishes) that the store
lacks, which are copied. See docs/team.md.`,
		Example: `  nhi db import --db postgres://nhi@db.example.com/nhi --from auditor.db`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" {
				return usageError{cmd.CommandPath(), errors.New("pass --from FILE.db, the evidence file to import")}
			}
			if audit.IsPostgresURL(from) {
				return usageError{cmd.CommandPath(), errors.New("--from names an evidence file; export a database to one first with nhi db export")}
			}
			if same(from, a.db) {
				return fmt.Errorf("--from %s is the store itself; nothing to import", from)
			}
			ctx := cmd.Context()
			r, err := verifyStore(ctx, from)
			if err != nil {
				return fmt.Errorf("%w; nothing was imported", err)
			}
			src, err := audit.Open(ctx, from, audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer src.Close()
			st, err := a.open(ctx, audit.OpenOptions{Create: true})
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := st.Import(ctx, src)
			if err != nil {
				return err
			}
			if res.AlreadyAhead {
				fmt.Fprintf(a.stdout, "Nothing to import: the log of %s (%s) already extends %s's (%s, head %s)\n",
					st.Path(), counted(int(res.StoreEvents), "event", "events"), from, counted(int(r.Events), "event", "events"), headOrNone(r.Head))
				return nil
			}
			if res.AlreadyHeld {
				fmt.Fprintf(a.stdout, "Nothing to import: %s already holds the %s of %s (chain head %s); nothing was written\n",
					st.Path(), counted(int(res.StoreEvents), "event", "events"), from, headOrNone(res.Head))
				return nil
			}
			a.recorded = true
			if len(res.Unlogged) > 0 {
				// The same log, and rows no event records yet (audit.TransferResult.Unlogged).
				fmt.Fprintf(a.stdout, "Imported the rows of a snapshot %s has not finished (no event records one until it finishes) into %s, which held its %s already: %s; chain head %s\n",
					from, st.Path(), counted(int(res.StoreEvents), "event", "events"), tableCounts(res.Unlogged), headOrNone(res.Head))
				return nil
			}
			fmt.Fprintf(a.stdout, "Imported %s into %s: %s appended after the %d it held; chain head %s\n",
				from, st.Path(), counted(int(res.Events), "event", "events"), res.StoreEvents, headOrNone(res.Head))
			return nil
		},
	}
	cmd.Flags().StringVar(&from, "from", "", "the evidence file to import")
	return cmd
}

// verifyStore runs nhi verify's checks of the log, the snapshots and the
// campaigns on the evidence at where, and returns an error naming the
// first problem.
func verifyStore(ctx context.Context, where string) (*audit.VerifyResult, error) {
	st, err := audit.Open(ctx, where, audit.OpenOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	r, err := campaigns.VerifyStore(ctx, st, nil)
	if err != nil {
		return nil, err
	}
	if !r.OK() {
		return nil, fmt.Errorf("%s failed verification (%s): %s", where, counted(len(r.Problems), "problem", "problems"), r.Problems[0])
	}
	return r, nil
}

// same reports whether two --db values name the same file.
func same(a, b string) bool {
	if audit.IsPostgresURL(a) || audit.IsPostgresURL(b) {
		return a == b
	}
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(fa, fb)
	}
	return filepath.Clean(a) == filepath.Clean(b)
}

func headOrNone(h string) string {
	if h == "" {
		return "(empty log)"
	}
	return h
}

// tableCounts is "observations 2, snapshots 1": rows per table, by name.
func tableCounts(rows map[string]int64) string {
	names := slices.Sorted(maps.Keys(rows))
	parts := make([]string, len(names))
	for i, n := range names {
		parts[i] = fmt.Sprintf("%s %d", n, rows[n])
	}
	return strings.Join(parts, ", ")
}
