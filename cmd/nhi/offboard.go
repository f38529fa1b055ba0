package main

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
)

// nhi offboard: campaigns for what a leaver (or a retired system) leaves
// behind, and the list of leavers still to handle (docs/offboarding.md).
func newOffboardCmd(a *app) *cobra.Command {
	var (
		spec    campaigns.OffboardSpec
		pending bool
		out     = output{allow: []string{"table", "wide", "json"}}
	)
	cmd := &cobra.Command{
		Use:   "offboard PERSON | --scope EXPR | --pending",
		Short: "Offboard a leaver or a retired system: everything they leave behind, handled and proven",
		Long: `offboard creates an offboarding campaign for PERSON (any alias of the directory
of people): every active identity, in every source, that they own (recorded
owner), created (added a deploy key, installed an App), hold (a PAT's owner, an
SSO credential authorization), are the top owner suggestion of, or could read
(secrets and deploy keys in repositories they administered, or in an
organisation they owned: rotation candidates). Each item says why it is there.
The population is frozen like any campaign's; one with nothing in it is still
created, as evidence that nothing was left.

--scope EXPR retires a system instead: every active identity the filter
selects (a repository archived, an App uninstalled).

Decide with nhi decide: transfer --to PERSON (an active person, not the
leaver; records the new owner too), decommission, rotate, or keep --reason.
After close, nhi campaign verify proves each against later snapshots.

--pending lists every person whose status is left and who still owns, holds
or created active identities, with counts and the oldest: what to do after
nhi people import.`,
		Example: `  nhi offboard --pending
  nhi offboard alice-smith      # reviewer: her manager; effective: her left_at
  nhi offboard bob@acme.com --effective 2026-11-30 --due 2026-12-15 \
      --reviewer carol
  nhi offboard --scope 'scope:acme/legacy-monolith' --reviewer carol
  nhi decide offboard-alice-smith-2026-10-31 ID transfer --to dan@acme.com`,
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case pending && (len(args) > 0 || spec.Scope != ""):
				return errors.New("--pending lists leavers; it takes no PERSON or --scope")
			case pending:
				return nil
			case spec.Scope != "" && len(args) > 0:
				return errors.New("offboard a PERSON or a system (--scope), not both")
			case spec.Scope != "":
				return nil
			case len(args) != 1:
				return wrongArgCount{fmt.Errorf("expected PERSON (or --scope EXPR, or --pending), got %s", counted(len(args), "argument", "arguments"))}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := out.Resolve()
			if err != nil {
				return usageError{cmd.CommandPath(), err}
			}
			asJSON := format == "json"
			ctx := cmd.Context()
			if pending {
				st, err := a.open(ctx, audit.OpenOptions{ReadOnly: true})
				if err != nil {
					return err
				}
				defer st.Close()
				leavers, totals, people, err := campaigns.PendingLeavers(ctx, st)
				if err != nil {
					return err
				}
				if asJSON {
					if leavers == nil {
						leavers = []audit.Leaver{}
					}
					return writeJSON(a.stdout, leavers)
				}
				width, prose := outputWidth(a.stdout), proseWidth(a.stdout)
				if format == "wide" {
					width, prose = 0, 0
				}
				printLeavers(a.stdout, leavers, totals, people, width, prose)
				return nil
			}
			if len(args) == 1 {
				spec.Person = args[0]
			}
			st, actor, err := a.openAs(ctx, audit.OpenOptions{})
			if err != nil {
				return err
			}
			defer st.Close()
			res, err := campaigns.CreateOffboarding(ctx, st, actor, spec)
			if errors.Is(err, campaigns.ErrBadEffective) {
				return usageError{cmd.CommandPath(), err}
			}
			if err != nil {
				return campaignError(cmd, "--scope", err)
			}
			defer res.Close()
			if asJSON {
				return writeJSON(a.stdout, offboardJSON(res))
			}
			width, prose := outputWidth(a.stdout), proseWidth(a.stdout)
			if format == "wide" {
				width, prose = 0, 0
			}
			return printOffboard(a.stdout, res, st.Now(), width, prose)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&pending, "pending", false, "list the leavers who still own, hold or created active identities")
	f.StringVar(&spec.Scope, "scope", "", "retire a system: every active identity this filter selects")
	f.StringVar(&spec.Name, "name", "", "campaign name (default offboard-<login or e-mail local part>-<effective date>)")
	f.StringVar(&spec.Effective, "effective", "", "when they left, YYYY-MM-DD (default: left_at in the directory, else today); never in the future")
	f.StringVar(&spec.Due, "due", "", "due date, YYYY-MM-DD (default: 14 days from today)")
	f.StringArrayVar(&spec.Reviewers, "reviewer", nil, "reviewer (repeatable; default: the leaver's manager in the directory)")
	f.BoolVar(&spec.AllowPartial, "allow-partial", false, "accept current snapshots that could not read everything (their gaps stay on record)")
	f.BoolVar(&spec.AllowAdminReview, "allow-admin-review", false, "let the campaign's creator review items too (the report shows it)")
	out.addFlags(cmd, "print the result as JSON", "table (the default), wide or json")
	f.BoolVar(&out.wide, "wide", false, "cut, wrap and hide nothing of the items' tables (-o wide)")
	return cmd
}

// printLeavers lists the leavers who still own, hold or created active
// identities: the table fits width (0: whole, a pipe or --wide), never
// cutting PERSON, what nhi offboard takes; the counts by relationship
// give way first, then OLDEST is cut, then hidden. Its sentences wrap at prose.
func printLeavers(w io.Writer, leavers []audit.Leaver, totals audit.LeaverTotals, people, width, prose int) {
	if people == 0 {
		hang(w, prose, "", "The directory of people is empty: import it first (nhi people import people.csv), then run nhi offboard --pending.")
		return
	}
	if len(leavers) == 0 {
		hang(w, prose, "", fmt.Sprintf("No leaver of the directory (%s) still owns, holds or created an active identity.", counted(people, "person", "people")))
		return
	}
	// What IDENTITIES counts, said, and each identity once in the head
	// however many leavers it has (one owns it, another holds it), where
	// "2 leavers with 2 identities" summed the column.
	unread := totals.NotChecked
	what := "active identity"
	if unread > 0 {
		what = "identity"
	}
	head := fmt.Sprintf("Of %s in the directory, 1 leaver owns, created or holds %s", counted(people, "person", "people"), counted(totals.Identities, what, what[:len(what)-1]+"ies"))
	if len(leavers) != 1 {
		head = fmt.Sprintf("Of %s in the directory, %d leavers own, created or hold %s in all", counted(people, "person", "people"), len(leavers), counted(totals.Identities, what, what[:len(what)-1]+"ies"))
	}
	if unread == 0 {
		hang(w, prose, "", head+":")
	} else {
		// A gap is not a removal: what the newest snapshot could not read
		// is counted, and said (docs/offboarding.md, "The leaver report").
		hang(w, prose, "", fmt.Sprintf("%s; %d of them not checked by their source's newest snapshot, which could not read where they live: they may be gone, or not (NOT CHECKED):", head, unread))
	}
	cols := []column{{Title: "PERSON"}, {Title: "LEFT"}, {Title: "IDENTITIES"}, {Title: "NOT CHECKED"},
		{Title: "OWNS", Hide: 2}, {Title: "CREATED", Hide: 4}, {Title: "HOLDS", Hide: 3}, {Title: "OLDEST", Min: 11, Hide: 1}}
	if unread == 0 {
		cols = slices.Delete(cols, 3, 4)
	}
	t := newTable(width, cols...)
	for _, l := range leavers {
		left := l.Person.LeftAt
		if left == "" {
			left = "-"
		}
		cells := []string{audit.Printable(l.Person.Display()), left, strconv.Itoa(l.Count), strconv.Itoa(l.NotChecked),
			strconv.Itoa(l.ByKind[audit.RelOwns]), strconv.Itoa(l.ByKind[audit.RelCreated]), strconv.Itoa(l.ByKind[audit.RelHolds]),
			l.OldestAt.UTC().Format("2006-01-02") + " " + audit.Printable(l.OldestName)}
		if unread == 0 {
			cells = slices.Delete(cells, 3, 4)
		}
		t.Row(cells...)
	}
	t.Flush(w)
	fmt.Fprintf(w, "Start with: nhi offboard %s\n", audit.Printable(leavers[0].Person.Email))
}

// printOffboard says what an offboarding campaign was created with: its
// items' tables fit width (0: --wide), its sentences wrap at prose (0: a
// pipe, or --wide).
func printOffboard(w io.Writer, res *campaigns.OffboardCreated, now time.Time, width, prose int) error {
	c, ob := res.Campaign, res.Offboarding
	what := "system " + audit.Printable(ob.Scope)
	if res.Person != nil {
		what = audit.Printable(res.Person.Display())
		if note := res.Person.LeftNote(); note != "" {
			what += ", " + note
		}
	}
	hang(w, prose, "", fmt.Sprintf("Created offboarding campaign %s for %s (effective %s, event %d)", c.Name, what, ob.Effective, res.Event.Seq))
	fmt.Fprintf(w, "  due %s; %s %s\n", c.Due, plural(len(c.Reviewers), "reviewer", "reviewers"), audit.Printable(strings.Join(c.Reviewers, ", ")))
	for _, n := range res.NotRead {
		hang(w, prose, "", notReadWarning(n))
	}
	// --allow-partial: what was not read is said, before a "Nothing to
	// handle" (docs/offboarding.md, "Partial snapshots").
	for _, sn := range res.Partial {
		hang(w, prose, "", fmt.Sprintf("Warning: snapshot %d (%s/%s) is partial; %s not read, so what they left there may be incomplete:",
			sn.ID, audit.Printable(sn.Source), audit.Printable(sn.Account), counted(len(sn.Gaps), "endpoint was", "endpoints were")))
		for _, g := range sn.Gaps {
			hang(w, prose, "  ", audit.Printable(g.Endpoint)+": "+audit.Printable(g.Reason))
		}
	}
	if res.Unevaluated > 0 {
		hang(w, prose, "", unevaluatedWarning(res.Unevaluated, "offboarding"))
	}
	if c.Count == 0 {
		hang(w, prose, "", fmt.Sprintf("Nothing to handle: no active identity in the current snapshots is related to them. The empty campaign is the evidence; close it with nhi campaign close %s.", c.Name))
		return nil
	}
	count := counted(c.Count, "identity", "identities")
	if res.Person != nil {
		// Identities each relationship found, as the report's
		// "Relationships found" counts them: one found two ways is
		// counted under each, once in the total.
		rc := ob.CountRelations()
		var parts []string
		for _, k := range rc.ByKind {
			parts = append(parts, fmt.Sprintf("%s %d", k.Kind, k.Count))
		}
		count += ": " + strings.Join(parts, ", ")
		if rc.Several > 0 {
			count += fmt.Sprintf(" (%d of them found more than one way and counted under each)", rc.Several)
		}
	}
	// Wrapped as the sentences around it are (it ran to 120 columns).
	hang(w, prose, "  ", count)
	if err := printOffboardCreatedItems(w, res, now, width); err != nil {
		return err
	}
	hang(w, prose, "", fmt.Sprintf("Their IDs, to decide with: nhi campaign show %s -o id (or -o wide; --json here)", c.Name))
	if len(res.Unassigned) > 0 {
		hang(w, prose, "", fmt.Sprintf("Warning: %s held by every reviewer and %s none; anyone else may decide %s.", counted(len(res.Unassigned), "item is", "items are"), plural(len(res.Unassigned), "has", "have"), plural(len(res.Unassigned), "it", "them")))
	}
	hang(w, prose, "", fmt.Sprintf("Next: nhi decide %s ID transfer --to PERSON | decommission | rotate | keep --reason TEXT", c.Name))
	return nil
}

// notReadWarning says that an account's newest run did not finish, and
// what the new campaign therefore holds of it: an older snapshot's read,
// or nothing (docs/offboarding.md, "The population").
func notReadWarning(n campaigns.NotRead) string {
	a := n.Attempt
	what := "failed"
	switch {
	case a.Stopped:
		what = "stopped before it finished"
	case a.Status != audit.SnapshotFailed:
		what = "has not finished"
	}
	where := audit.Printable(a.Source) + "/" + audit.Printable(a.Account)
	run := fmt.Sprintf("snapshot %d, started %s", a.ID, a.StartedAt.UTC().Format(time.RFC3339))
	if n.Used == 0 {
		return fmt.Sprintf("Warning: %s was never read (its run, %s, %s): nothing of it is in this campaign, and what they left there is not known.", where, run, what)
	}
	return fmt.Sprintf("Warning: the newest run of %s (%s) %s: this campaign holds what snapshot %d read of it, not what they left there since.", where, run, what, n.Used)
}

// printOffboardCreatedItems lists a new offboarding campaign's items as
// gh and kubectl list things: under their strongest relationship (as nhi
// campaign show does), one row each saying what it is, where it lives,
// when it was last used, its findings and why it is there — where it
// printed bare IDs beside the relationship's words. The items are read
// (res.EachItem) once for their sources, once for the tables' widths
// and once for each table's rows, not held: a retired system's may be
// every identity of the file (issue 21).
func printOffboardCreatedItems(w io.Writer, res *campaigns.OffboardCreated, now time.Time, width int) error {
	// SOURCE only where the items live in more than one source or account;
	// otherwise the line above the tables names it.
	sources := map[string]bool{}
	sourceOf := func(i *audit.Identity) string {
		return audit.Printable(strings.Trim(i.Source+"/"+i.Account, "/"))
	}
	err := res.EachItem(func(_ *campaigns.OffboardItem, id *audit.Identity) error {
		sources[sourceOf(id)] = true
		return nil
	})
	if err != nil {
		return err
	}
	if len(sources) == 1 {
		for src := range sources {
			if src != "" {
				fmt.Fprintf(w, "\nAll in %s:\n", src)
			}
		}
	}
	// WHY is read whole: it wraps rather than be cut, and the columns a
	// reader can do without are hidden before it goes under its Want (as
	// campaign show's are), named under the table.
	newGroupTable := func() *table {
		cols := []column{{Title: "KIND", Min: 8}, {Title: "NAME", Min: 10, Want: 16}, {Title: "SCOPE", Min: 10, Want: 14, Hide: 1, KeepEnd: true}}
		if len(sources) > 1 {
			cols = append(cols, column{Title: "SOURCE", Min: 12, Hide: 2})
		}
		cols = append(cols, column{Title: "LAST USED", Hide: 3}, column{Title: "ALSO", Min: 9, Optional: true, Hide: 4}, column{Title: "WHY", Min: 40, Want: 40, Wrap: true})
		return newTable(width, cols...)
	}
	cells := func(it *campaigns.OffboardItem, id *audit.Identity, g string) []string {
		why := "in scope"
		var also []string
		for _, r := range it.Relations {
			if r.Kind == g && why == "in scope" {
				why = r.Detail
			}
		}
		for _, tag := range audit.RelationTags(it.Relations) {
			if tag != g {
				also = append(also, tag)
			}
		}
		c := []string{id.Kind.Label(), dash(audit.Printable(id.Name)), dash(audit.Printable(id.Scope))}
		if len(sources) > 1 {
			c = append(c, dash(sourceOf(id)))
		}
		return append(c, lastUsed(id, now), dash(strings.Join(also, ",")), audit.Printable(why))
	}
	tables := map[string]*table{} // by relationship group
	err = res.EachItem(func(it *campaigns.OffboardItem, id *audit.Identity) error {
		g := audit.Strongest(it.Relations)
		if tables[g] == nil {
			tables[g] = newGroupTable()
		}
		tables[g].Measure(cells(it, id, g)...)
		return nil
	})
	if err != nil {
		return err
	}
	return printEachByRelation(w, "in scope", func(g string) *table { return tables[g] }, func(g string, t *table) error {
		return res.EachItem(func(it *campaigns.OffboardItem, id *audit.Identity) error {
			if audit.Strongest(it.Relations) == g {
				t.Line(w, cells(it, id, g)...)
			}
			return nil
		})
	})
}

// printByRelation prints an offboarding's items in one table per
// relationship group, the strongest first (audit.RelationGroups), then
// those related in no recorded way (titled none): table(group) is the
// group's table, printed under its title and count when it has a row, a
// blank line between two.
func printByRelation(w io.Writer, none string, table func(group string) *table) {
	printEachByRelation(w, none, table, nil) // no lines to write: no error
}

// printEachByRelation is printByRelation for tables measured, not kept:
// lines(group, t) writes the group's rows again, between t's Begin and
// End. With lines nil each table prints the rows it holds.
func printEachByRelation(w io.Writer, none string, table func(group string) *table, lines func(group string, t *table) error) error {
	first := true
	for _, g := range append(slices.Clone(audit.RelationGroups), "") {
		t := table(g)
		if t == nil || t.Len() == 0 {
			continue
		}
		if !first {
			fmt.Fprintln(w)
		}
		first = false
		title := none
		if g != "" {
			title = audit.RelationTitle(g)
		}
		fmt.Fprintf(w, "%s (%d):\n", title, t.Len())
		if lines == nil {
			t.Flush(w)
			continue
		}
		t.Begin(w)
		if err := lines(g, t); err != nil {
			return err
		}
		t.End(w)
	}
	return nil
}

type offboardItemJSON struct {
	ID        string           `json:"id"`
	Snapshot  int64            `json:"snapshot"`
	Relations []audit.Relation `json:"relations"`
}

type offboardResultJSON struct {
	Campaign  string             `json:"campaign"`
	Kind      string             `json:"kind"`
	Person    string             `json:"person,omitempty"`
	Scope     string             `json:"scope,omitempty"`
	Effective string             `json:"effective"`
	Due       string             `json:"due"`
	Reviewers []string           `json:"reviewers"`
	Event     int64              `json:"event"`
	Count     int                `json:"count"`
	Access    []audit.Access     `json:"access"`
	Items     []offboardItemJSON `json:"items"`
	CreatedAt string             `json:"created_at"`
	// NotRead are the accounts whose newest run did not finish: snapshot
	// is the one the campaign holds of it, null for none.
	NotRead []notReadJSON `json:"not_read"`
	// Unevaluated counts the active identities a system's scope could not
	// judge, what it asks of them not read.
	Unevaluated int `json:"unevaluated"`
}

type notReadJSON struct {
	Source   string `json:"source"`
	Account  string `json:"account"`
	Attempt  int64  `json:"attempt"`
	Status   string `json:"status"`
	Snapshot *int64 `json:"snapshot"`
}

func offboardJSON(res *campaigns.OffboardCreated) offboardResultJSON {
	c, ob := res.Campaign, res.Offboarding
	j := offboardResultJSON{Campaign: c.Name, Kind: ob.Kind, Person: ob.Person, Scope: ob.Scope, Effective: ob.Effective, Due: c.Due,
		Reviewers: c.Reviewers, Event: res.Event.Seq, Count: c.Count, Access: ob.Access, Items: []offboardItemJSON{},
		CreatedAt: c.CreatedAt.UTC().Format(time.RFC3339), NotRead: []notReadJSON{}, Unevaluated: res.Unevaluated}
	for _, n := range res.NotRead {
		nj := notReadJSON{Source: n.Attempt.Source, Account: n.Attempt.Account, Attempt: n.Attempt.ID, Status: n.Attempt.Status}
		if n.Attempt.Stopped {
			nj.Status = "stopped"
		}
		if n.Used != 0 {
			nj.Snapshot = &n.Used
		}
		j.NotRead = append(j.NotRead, nj)
	}
	if j.Access == nil {
		j.Access = []audit.Access{}
	}
	for _, it := range ob.Items {
		rel := it.Relations
		if rel == nil {
			rel = []audit.Relation{}
		}
		j.Items = append(j.Items, offboardItemJSON{ID: it.ID, Snapshot: it.Snapshot, Relations: rel})
	}
	return j
}

// printTransfer reports transfer decisions.
func printTransfer(w io.Writer, name, to, actor string, outs []campaigns.Outcome) {
	for _, o := range outs {
		fmt.Fprintf(w, "Decided transfer of %s to %s in %s (event %d, by %s); owner recorded\n",
			decidedItem(&o), audit.Printable(to), name, o.Event.Seq, audit.Printable(actor))
		if !o.Assigned {
			who := "nobody"
			if o.Reviewer != "" {
				who = audit.Printable(o.Reviewer)
			}
			fmt.Fprintf(w, "Note: the item is assigned to %s; recorded as decided outside the assignment.\n", who)
		}
	}
}

// printProof prints what became of rotate and transfer decisions and of
// a leaver's access, after the decommission lines of printRemediation, and
// returns how many items it covered.
func printProof(w io.Writer, r *campaigns.Remediation) int {
	gone, unchecked := r.RotateRemoved(), r.RotateNotChecked()
	rotations := len(r.Rotated) + len(r.NotRotated) + len(gone) + len(unchecked)
	if rotations > 0 {
		fmt.Fprintf(w, "Rotate decisions: %d rotated, %d not rotated, %d removed, %d not checked\n",
			len(r.Rotated), len(r.NotRotated), len(gone), len(unchecked))
	}
	transfers := len(r.Transferred) + len(r.NotTransferred)
	if transfers > 0 {
		fmt.Fprintf(w, "Transfer decisions: %d transferred, %d not transferred\n", len(r.Transferred), len(r.NotTransferred))
	}
	for _, g := range []struct {
		title string
		ids   []string
		state string
	}{{"Rotated:", r.Rotated, campaigns.Rotated}, {"Not rotated:", r.NotRotated, campaigns.NotRotated}, {"Rotate decisions, removed since:", gone, campaigns.Removed},
		{"Rotate decisions not checked (they may or may not be rotated):", unchecked, campaigns.NotChecked},
		{"Transferred:", r.Transferred, campaigns.Transferred}, {"Not transferred:", r.NotTransferred, campaigns.NotTransferred}} {
		if len(g.ids) == 0 {
			continue
		}
		fmt.Fprintln(w, g.title)
		for _, id := range g.ids {
			fmt.Fprintf(w, "  %s\n", audit.Printable(id))
			if why := r.Reason(id, g.state); why != "" {
				fmt.Fprintf(w, "    %s\n", audit.Printable(why))
			}
		}
	}
	n := rotations + transfers
	switch r.Access {
	case "revoked":
		fmt.Fprintln(w, "Access revoked: none of the leaver's tokens or SSO credential authorizations is left.")
	case "held":
		fmt.Fprintf(w, "Access NOT revoked: the leaver still holds %s:\n", counted(len(r.AccessHeld), "token or SSO authorization", "tokens or SSO authorizations"))
		for _, id := range r.AccessHeld {
			fmt.Fprintf(w, "  %s\n", audit.Printable(id))
		}
	case campaigns.NotChecked:
		if why := r.Detail["access"]; why != "" {
			fmt.Fprintf(w, "Access not checked: %s.\n", audit.Printable(why))
			break
		}
		fmt.Fprintln(w, "Access not checked: the snapshot could not read every list of tokens and SSO authorizations.")
	}
	return n
}

// proofJSON is the rotate, transfer and access part of campaign verify --json.
type proofJSON struct {
	Rotated        []string          `json:"rotated"`
	NotRotated     []string          `json:"not_rotated"`
	Transferred    []string          `json:"transferred"`
	NotTransferred []string          `json:"not_transferred"`
	Detail         map[string]string `json:"detail"`
	Access         *string           `json:"access"` // null for a review campaign
	AccessHeld     []string          `json:"access_held"`
}

func toProofJSON(r *campaigns.Remediation) proofJSON {
	nz := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	j := proofJSON{Rotated: nz(r.Rotated), NotRotated: nz(r.NotRotated), Transferred: nz(r.Transferred), NotTransferred: nz(r.NotTransferred),
		Detail: r.Detail, AccessHeld: nz(r.AccessHeld)}
	if j.Detail == nil {
		j.Detail = map[string]string{}
	}
	if r.Access != "" {
		j.Access = &r.Access
	}
	return j
}

// printOffboardItems prints the items of a person's offboarding campaign
// under their strongest relationship (owns, created, holds, could read,
// suggested owner), each once, its RELATIONS cell naming every one it has
// (docs/offboarding.md).
func printOffboardItems(w io.Writer, c *campaigns.Campaign, ob *campaigns.Offboarding, now time.Time, pendingOnly, wide bool, width int) {
	why := make(map[string][]audit.Relation, len(ob.Items))
	for _, it := range ob.Items {
		why[it.ID] = it.Relations
	}
	printByRelation(w, "related in no recorded way", func(g string) *table {
		t := newTable(width, append([]column{{Title: "RELATIONS", Min: 9}}, itemColumns(wide)...)...)
		for i := range c.Items {
			it := &c.Items[i]
			if audit.Strongest(why[it.ID]) != g || (pendingOnly && it.Decision != campaigns.Pending) {
				continue
			}
			cells := itemCells(c, it, now)
			if wide {
				cells = append([]string{renamedID(it)}, cells...)
			}
			t.Row(append([]string{dash(strings.Join(audit.RelationTags(why[it.ID]), ","))}, cells...)...)
		}
		return t
	})
}
