package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/connectors"
	"github.com/nhi-audit/nhi/connectors/importer"
)

func newImportCmd(a *app) *cobra.Command {
	var (
		opts   importer.Options
		dryRun bool
	)
	cmd := &cobra.Command{
		Use:   "import FILE --source NAME",
		Short: "Record a CSV or JSON export of identities as a snapshot of a source",
		Long: `import reads the identities of a system nhi has no connector for (Slack bot
tokens, Okta API tokens, Vault AppRoles, a vendor portal's API keys) from a CSV
or JSON file, and records them as one snapshot of source NAME (and --account),
exactly as a connector run does: immutable, with a digest, in nhi snapshots,
nhi diff, campaigns and reports, with the same findings.

The file is the whole population: an identity missing from the next import of
the same source and account is marked removed. The import is all or nothing;
every problem is listed by line and column. Columns that may hold a secret
value (secret, token, password, value) are refused: nhi stores metadata only.
The columns and formats are described in docs/import.md.`,
		Example: `  nhi import slack-bots.csv --source slack --account acme-workspace
  nhi import okta-tokens.json --source okta --dry-run`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			path := args[0]
			if opts.Format == "" {
				opts.Format = importer.FormatCSV
				if strings.EqualFold(filepath.Ext(path), ".json") {
					opts.Format = importer.FormatJSON
				}
			}
			opts.File = filepath.Base(path)
			if err := opts.Check(); err != nil {
				return usageError{cmd.CommandPath(), err}
			}
			// The file is read as a stream twice: checked whole, then
			// recorded (importer.ParseFrom).
			file := path
			open := func() (io.ReadCloser, error) { return openInput(file, "CSV UTF-8 or JSON") }
			if abs, err := filepath.Abs(path); err == nil {
				path = abs
			}
			pop, err := importer.ParseFrom(open, opts)
			if err != nil {
				return asInputError(err)
			}
			return a.importPopulation(cmd.Context(), pop, path, dryRun)
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Source, "source", "", "the system the file comes from, e.g. slack, okta, vault (required)")
	f.StringVar(&opts.Account, "account", "", "what within it: a workspace, a tenant (default \""+importer.DefaultAccount+"\")")
	f.StringVar(&opts.Format, "format", "", "csv or json (default: from the file name, else csv)")
	f.BoolVar(&dryRun, "dry-run", false, "read and check the file, say what would change; record nothing")
	interruptedNote(cmd, "nothing of the file is current (a snapshot it began is closed as failed, never current: nhi snapshots); run the same command again")
	return cmd
}

// importPopulation records pop as a snapshot (or with dryRun only says
// what it would change) and prints the summary a connector run prints.
func (a *app) importPopulation(ctx context.Context, pop *importer.Population, path string, dryRun bool) error {
	st, err := a.open(ctx, audit.OpenOptions{Create: !dryRun, ReadOnly: dryRun})
	if dryRun && errors.Is(err, audit.ErrNotExist) {
		st, err = nil, nil // nothing recorded yet: everything would be new
	}
	if err != nil {
		return err
	}
	if st != nil {
		defer st.Close()
	}
	if pop.Delimiter != 0 && pop.Delimiter != ',' {
		name := map[rune]string{';': "semicolon", '\t': "tab"}[pop.Delimiter]
		fmt.Fprintf(a.stderr, "Reading %s as %s-separated (from its header)\n", pop.File, name)
	}
	if dryRun {
		fresh, removed, err := importChanges(ctx, st, pop)
		if err != nil {
			return err
		}
		fmt.Fprintf(a.stdout, "Dry run: %s is valid; importing it would record %s of %s/%s (%d new; %d now current would be marked removed). Nothing was recorded.\n",
			audit.Printable(pop.File), counted(pop.Identities, "identity", "identities"), pop.Source, pop.Account, fresh, removed)
		counts := pop.Counts()
		kinds := make([]string, 0, len(counts))
		for k := range counts {
			kinds = append(kinds, string(k))
		}
		sort.Strings(kinds)
		for _, k := range kinds {
			fmt.Fprintf(a.stdout, "  %-34s %6d\n", audit.Printable(k), counts[audit.Kind(k)])
		}
		return nil
	}
	actor, err := a.snapshotActor(ctx, st, "")
	if err != nil {
		return err
	}
	start := time.Now()
	snap, err := connectors.Run(ctx, st, importer.NewConnector(pop, path), connectors.RunOptions{
		ToolVersion: toolVersion(), Actor: actor,
		Notice: func(n string) { fmt.Fprintf(a.stderr, "Note: %s\n", audit.Printable(n)) },
	})
	if snap != nil {
		a.recorded = true
		printSnapshot(a.stdout, snap, st.Path(), time.Since(start))
	}
	if err != nil {
		return fmt.Errorf("import of %s failed: %w", pop.File, err)
	}
	return a.verifyRemediation(ctx, st, snap.ID)
}

// importChanges counts the identities pop would add to its source and
// account, and the current ones it would mark removed.
func importChanges(ctx context.Context, st *audit.Store, pop *importer.Population) (fresh, removed int, err error) {
	current := map[string]bool{}
	if st != nil {
		// Read a page at a time, keeping the IDs of this account only:
		// the file may hold a million identities of other sources.
		err := st.EachTableIdentity(ctx, func(id *audit.Identity) error {
			if id.Source == pop.Source && id.Account == pop.Account && id.Status == audit.StatusActive {
				current[id.ID] = true
			}
			return nil
		})
		if err != nil {
			return 0, 0, err
		}
	}
	err = pop.Each(func(o audit.Observation) error {
		if current[o.ID] {
			delete(current, o.ID)
		} else {
			fresh++
		}
		return ctx.Err()
	})
	return fresh, len(current), err
}
