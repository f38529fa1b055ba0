package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"iter"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
	"github.com/nhi-audit/nhi/internal/spool"
)

func newOwnerCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "owner",
		Short: "Record who answers for identities",
	}
	var filter string
	var bulk bulkFlags
	set := &cobra.Command{
		Use:   "set {ID | --filter EXPR} OWNER",
		Short: "Record OWNER as the owner of an identity, or of every identity a filter matches",
		Long: `Records OWNER (a person or team, e.g. alice@acme.com or @acme/platform) as the
owner of identity ID, or with --filter of every identity the filter matches
(nhi help filter). Each assignment is an event in the evidence file's log,
signed with your name (--as, NHI_REVIEWER, or git user.email); a bulk
assignment is written all at once or not at all. An empty OWNER ("") clears it.

With --filter it first prints how many identities it will set and the first
of them; --dry-run stops there. Above 10, a terminal is asked to confirm
(--yes does not ask); a script without a terminal is not.`,
		Example: `  nhi owner set github:acme:github_deploy_key:api/123 alice@acme.com
  nhi owner set --filter 'kind:deploy_key scope:acme/payments*' @acme/payments \
      --dry-run
  nhi owner set --filter 'kind:deploy_key scope:acme/payments*' @acme/payments \
      --yes`,
		Args: func(cmd *cobra.Command, args []string) error {
			if filter != "" {
				return cobra.ExactArgs(1)(cmd, args)
			}
			return cobra.ExactArgs(2)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			st, actor, err := a.openAs(cmd.Context(), audit.OpenOptions{})
			if err != nil {
				return err
			}
			defer st.Close()
			owner := args[len(args)-1]
			if err := a.warnUnknownOwners(cmd.Context(), st, []string{owner}); err != nil {
				return err
			}
			if filter == "" {
				ev, err := st.SetOwner(cmd.Context(), actor, args[0], args[1])
				if err != nil {
					return err
				}
				if args[1] == "" {
					fmt.Fprintf(a.stdout, "Cleared the owner of %s (event %d, by %s)\n", args[0], ev.Seq, actor)
				} else {
					fmt.Fprintf(a.stdout, "Owner of %s is now %s (event %d, by %s)\n", args[0], audit.Printable(args[1]), ev.Seq, actor)
				}
				return nil
			}
			matched, err := matchingSome(cmd.Context(), st, filter)
			if err != nil {
				return err
			}
			defer matched.remove()
			headline := fmt.Sprintf("The owner of %s becomes %s:", counted(matched.count, "identity", "identities"), audit.Printable(args[0]))
			if args[0] == "" {
				headline = fmt.Sprintf("The owner of %s is cleared:", counted(matched.count, "identity", "identities"))
			}
			if goOn, err := a.confirm(bulk, preview{headline: headline, rows: identityPreview(matched, outputWidth(a.stdout)),
				count: matched.count, shown: len(matched.first),
				question: fmt.Sprintf("Set the owner of %s?", counted(matched.count, "identity", "identities"))}, false); !goOn {
				return err
			}
			span, err := st.SetOwnersSpan(cmd.Context(), actor, func(yield func(audit.OwnerSet, error) bool) {
				for id, err := range matched.each() {
					if !yield(audit.OwnerSet{Identity: id, Owner: args[0]}, err) {
						return
					}
				}
			})
			if err != nil {
				return err
			}
			if args[0] == "" { // as the single clear says it, not "is now " and nothing
				fmt.Fprintf(a.stdout, "Cleared the owner of %s (%s, by %s)\n",
					counted(span.Count, "identity", "identities"), eventSpan(span.First, span.Last), actor)
				return nil
			}
			fmt.Fprintf(a.stdout, "Owner of %s is now %s (%s, by %s)\n",
				counted(span.Count, "identity", "identities"), audit.Printable(args[0]), eventSpan(span.First, span.Last), actor)
			return nil
		},
	}
	set.Flags().StringVar(&filter, "filter", "", "set the owner of every identity this filter matches (nhi help filter)")
	bulk.add(set, "--filter")

	var dryRun bool
	imp := &cobra.Command{
		Use:   "import FILE",
		Short: "Record owners from a CSV of id-or-pattern,owner",
		Long: `Reads a CSV file of "id-or-pattern,owner" rows, as teams that keep ownership
records elsewhere export them. A pattern may use * and ? on identity IDs
(github:acme:github_deploy_key:payments-*). Later rows win over earlier
ones for the same identity. A header row (id,owner) and lines starting with #
are skipped. Every row must match at least one identity, or nothing is
written; all assignments are written at once, one event each. "-" reads
standard input.`,
		Example: `  nhi owner import owners.csv --dry-run
  nhi owner import owners.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := openInputArg(a.stdin, args[0], "CSV UTF-8")
			if err != nil {
				return err
			}
			defer r.Close()
			rows, err := readOwnerCSV(r, args[0])
			if err != nil {
				return asInputError(err)
			}
			st, actor, err := a.openAs(cmd.Context(), audit.OpenOptions{ReadOnly: dryRun})
			if err != nil {
				return err
			}
			defer st.Close()
			sets, err := resolveOwnerRows(cmd.Context(), st, rows)
			if err != nil {
				return err
			}
			set, cleared := 0, 0
			for _, s := range sets {
				if s.Owner == "" {
					cleared++
				} else {
					set++
				}
			}
			// An empty owner cell clears the owner: say so, apart.
			what := fmt.Sprintf("set the owner of %s and cleared it of %d", counted(set, "identity", "identities"), cleared)
			// Each owner once, in the order the assignments first name it:
			// the warnings the list of every assignment's owner gave.
			var owners []string
			named := map[string]bool{}
			for _, s := range sets {
				if !named[s.Owner] {
					named[s.Owner] = true
					owners = append(owners, s.Owner)
				}
			}
			if err := a.warnUnknownOwners(cmd.Context(), st, owners); err != nil {
				return err
			}
			if dryRun {
				for _, s := range sets {
					o := audit.Printable(s.Owner)
					if o == "" {
						o = "(cleared)"
					}
					fmt.Fprintf(a.stdout, "%s\t%s\n", audit.Printable(s.Identity), o)
				}
				fmt.Fprintf(a.stdout, "Would have %s, from %s (dry run: nothing written)\n", what, counted(len(rows.rows), "row", "rows"))
				return nil
			}
			span, err := st.SetOwnersSpan(cmd.Context(), actor, audit.Each(sets))
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s%s, from %s (%s, by %s)\n",
				strings.ToUpper(what[:1]), what[1:], counted(len(rows.rows), "row", "rows"), eventSpan(span.First, span.Last), actor)
			return nil
		},
	}
	imp.Flags().BoolVar(&dryRun, "dry-run", false, "print what would be set; write nothing")
	cmd.AddCommand(set, imp)
	return cmd
}

// warnUnknownOwners warns, once per name, about owners that are not teams
// and that the directory of people does not know, suggesting the closest
// people: a typo would otherwise make an identity look owned by nobody
// real. The owner is recorded all the same (it may be someone the
// directory does not cover yet).
func (a *app) warnUnknownOwners(ctx context.Context, st *audit.Store, owners []string) error {
	dir, err := st.People(ctx)
	if err != nil || dir.Len() == 0 {
		return err
	}
	seen := map[string]bool{}
	for _, o := range owners {
		k := audit.AliasKey(o)
		if k == "" || seen[k] || strings.Contains(k, "/") || dir.Lookup(o) != nil {
			continue
		}
		seen[k] = true
		msg := fmt.Sprintf("warning: owner %q is %v", audit.Printable(o), audit.ErrUnknownPerson)
		if s := closestNames(dir, o); s != "" {
			msg += "; did you mean " + s + "?"
		}
		fmt.Fprintln(a.stderr, msg+" (recorded as typed)")
	}
	return nil
}

// parseFilterArg compiles a --filter value, pointing at the mistake.
func parseFilterArg(expr string) (*filter.Filter, error) {
	f, err := filter.Parse(expr, audit.Vocabulary)
	var fe *filter.Error
	if errors.As(err, &fe) {
		return nil, topicError{topic: "filter", err: fmt.Errorf("%v\n%s", fe, indent(fe.Caret(), "  "))}
	}
	return f, err
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

// matchingSome returns the identities the filter expression matches, in
// ID order, for a bulk write: a malformed filter is a usage error, and one
// that matches nothing is refused.
func matchingSome(ctx context.Context, st *audit.Store, expr string) (*matched, error) {
	f, err := parseFilterArg(expr)
	if err != nil {
		return nil, err
	}
	// The identities nhi identities --filter lists: active ones unless the
	// filter names a status, so a bulk write touches what the list shows.
	m, err := matching(ctx, st, filter.Active(f, audit.Vocabulary))
	if err != nil {
		return nil, err
	}
	if m.count == 0 {
		m.remove()
		what := "identity"
		if !f.HasStatus() {
			what = "active identity (add status:any to match every status)"
		}
		return nil, fmt.Errorf("the filter %q matches no %s; nothing was written", expr, what)
	}
	return m, nil
}

// matched is what a bulk write keeps of the identities a filter matches:
// how many, the first previewRows whole, which its preview prints, and
// their IDs, in ID order, which the write names, on disk. A decoded
// identity held costs 2-4 KB, an ID held some 240 bytes (issue 21: a
// million identities on a laptop; the IDs of a million held were 237 MB
// of heap): the IDs go to a spool as the stream matches them, and the
// write reads them back a record at a time inside its transaction.
type matched struct {
	count int
	first []audit.Identity
	ids   *spool.Writer
}

// each reads the IDs matched back in ID order, from the start each time
// it is ranged over (a write retried when busy reads them again); the
// first error reading ends it.
func (m *matched) each() iter.Seq2[string, error] {
	return func(yield func(string, error) bool) {
		for id, err := range m.ids.EachString(m.count) {
			if err != nil {
				yield("", fmt.Errorf("reading the identities matched back: %w", err))
				return
			}
			if bulkWriteGiven != nil {
				bulkWriteGiven(id)
			}
			if !yield(id, nil) {
				return
			}
		}
	}
}

// remove deletes the spool of the IDs.
func (m *matched) remove() { m.ids.Remove() }

// matching returns the identities f matches, in ID order. It reads the
// population through the store's stream, an identity at a time, as nhi
// identities --filter does, where it read every identity whole first.
func matching(ctx context.Context, st *audit.Store, f *filter.Filter) (*matched, error) {
	// The stream comes in ID order, so a campaign term's items are read
	// beside it, a cursor a campaign (campaigns.OrderedReview), not held
	// whole.
	env, reviewDone, err := filterEnvInOrder(ctx, st, "", "", f)
	if err != nil {
		return nil, err
	}
	defer reviewDone()
	ids, err := spool.Create("", "nhi-bulk-*.spool")
	if err != nil {
		return nil, fmt.Errorf("a temporary file for the identities matched: %w", err)
	}
	m := &matched{ids: ids}
	err = st.StreamIdentities(ctx, func(id *audit.Identity) error {
		if bulkMatchRead != nil {
			bulkMatchRead(id)
		}
		if !f.Match(id, env) {
			return nil
		}
		m.ids.String(id.ID)
		m.count++
		if len(m.first) < previewRows {
			// The stream reuses the identity and its maps, and its
			// strings are cut from a page of text: one kept as it is
			// would keep its whole page (megabytes) in memory.
			m.first = append(m.first, id.Clone())
		}
		return m.ids.Err()
	})
	if err == nil {
		err = reviewDone()
	}
	if err == nil {
		if err = m.ids.Close(); err != nil {
			err = fmt.Errorf("spooling the identities matched: %w", err)
		}
	}
	if err != nil {
		m.remove()
		return nil, err
	}
	return m, nil
}

// bulkMatchRead, when set (by a test), is given every identity a bulk
// write by filter or pattern reads, as it reads it.
var bulkMatchRead func(*audit.Identity)

// bulkWriteGiven, when set (by a test), is given the ID of every
// identity a bulk write by filter writes to, as the write is given it.
var bulkWriteGiven func(id string)

// identityPreview prints the first previewRows identities as the
// identities table does.
func identityPreview(m *matched, width int) func(io.Writer) error {
	return func(out io.Writer) error {
		emit, finish := identityTable(out, "", time.Now(), width, false, nil)
		for i := range m.first {
			emit(&m.first[i])
		}
		return finish(m.count, m.count)
	}
}
