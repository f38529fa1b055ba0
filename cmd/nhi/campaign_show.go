package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/filter"
	"github.com/nhi-audit/nhi/internal/spool"
)

func newCampaignShowCmd(a *app) *cobra.Command {
	out := output{allow: []string{"table", "wide", "id", "csv", "json"}}
	var (
		pendingOnly bool
		reviewer    string
	)
	cmd := &cobra.Command{
		Use:   "show NAME [--reviewer R|me]",
		Short: "Show a campaign: progress per reviewer and every item",
		Long: `show prints a campaign's state, its progress per reviewer and one row per item.
OWNER is the owner recorded at creation, or in parentheses who the source said
holds the identity. FLAGS marks items decided by someone other than their
assigned reviewer (not-assignee), items re-decided by someone other than their
last decider (conflict; both decisions stay in the log), carried decisions
awaiting confirmation, and decommissions still present in a snapshot taken
after the due date (OVERDUE). FINDINGS says "not read" where no rule fired
but the item's snapshot did not tell nhi all a rule reads (its permissions,
last use...); a line under the table counts such items, and not_read (JSON,
CSV) names what was not read of each: empty permissions there are not none.
The item table fits the terminal (120 columns
when not on one): narrower, it hides VERIFIED, BY, FINDINGS, OWNER, FLAGS,
then SCOPE, and a line under it names them; the header's digests show
their first 12 hex digits. --wide (-o wide) adds the ID and cuts and hides
nothing, -o id prints the items' IDs alone, -o csv the items for a
spreadsheet. --json (-o json) prints {name, status, due, ..., items: [{id,
current_id, reviewer, decision, reason, decided_by, decided_at,
verification, ..., not_read, conflict, history}]}.

An item keeps the ID the campaign froze. When its repository was renamed
since, FLAGS says renamed and the list under the table names the ID the
identity has now (was the frozen one); current_id (JSON, CSV) holds it.
nhi decide takes either ID. A keep carried forward from an item of the
earlier campaign under another ID (the repository renamed between the two)
is listed under the table with that ID (carried as); carried_as (JSON, CSV)
holds it.

--reviewer R lists only the items assigned to R (an e-mail or alias of the
directory of people, or me: who you are, as for nhi decide) with R's
progress line, in every format.`,
		Example: `  nhi campaign show 2026-Q4
  nhi campaign show 2026-Q4 --reviewer me --pending
  nhi campaign show 2026-Q4 --pending -o id
  nhi campaign show 2026-Q4 -o csv > 2026-Q4.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			format, err := out.Resolve()
			if err != nil {
				return usageError{cmd.CommandPath(), err}
			}
			var st *audit.Store
			me := ""
			if reviewer == "me" {
				st, me, err = a.openAs(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			} else {
				st, err = a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			}
			if err != nil {
				return err
			}
			defer st.Close()
			ctx := cmd.Context()
			// The campaign without its items, which are read a batch at
			// a time as they are printed (issue 21: a campaign of a
			// million items was held whole, with every item's history).
			show := campaigns.Show
			if format == "id" && reviewer == "" {
				// A list of IDs says nothing of the campaign's progress,
				// which a million items take most of a second to count.
				show = campaigns.Load
			}
			c, err := show(ctx, st, args[0])
			if err != nil {
				return err
			}
			var mine *campaigns.ReviewerProgress
			if reviewer != "" {
				if mine, err = reviewerOf(ctx, st, c, reviewer, me); err != nil {
					return usageError{cmd.CommandPath(), err}
				}
				c.Progress.Reviewers = []campaigns.ReviewerProgress{*mine}
			}
			var items *campaigns.ItemReader
			var each itemSource = func(fn func(*campaigns.Item) error) error {
				if items == nil {
					r, err := campaigns.NewItemReader(ctx, st, c)
					if err != nil {
						return err
					}
					items = r
				}
				return items.Each(ctx, st, func(it *campaigns.Item) error {
					if mine != nil && it.Reviewer != mine.Reviewer {
						return nil
					}
					if showHeld != nil {
						showHeld(it)
					}
					return fn(it)
				})
			}
			now := st.Now()
			w := bufio.NewWriterSize(a.stdout, 64<<10)
			switch format {
			case "json":
				if err := writeShowJSON(w, c, now, each); err != nil {
					return err
				}
				return w.Flush()
			case "csv":
				if err := printItemsCSV(w, c, now, pendingOnly, each); err != nil {
					return err
				}
				return w.Flush()
			case "id":
				// The IDs alone: an item's reviewer and decision say
				// whether it is listed, and nothing else of it is read.
				if err := campaigns.EachItemKey(ctx, st, c, func(id, rev string, d campaigns.Decision) error {
					if (mine == nil || rev == mine.Reviewer) && (!pendingOnly || d == campaigns.Pending) {
						fmt.Fprintln(w, audit.Printable(id))
					}
					return nil
				}); err != nil {
					return err
				}
				return w.Flush()
			}
			width, prose := outputWidth(a.stdout), proseWidth(a.stdout)
			if format == "wide" {
				width, prose = 0, 0
			}
			ob, err := campaigns.OffboardingOf(ctx, st, c.Name)
			if err != nil {
				return err
			}
			if ob != nil && ob.Kind == campaigns.OffboardPerson {
				// A person's offboarding prints its items grouped by
				// relation, a table each: read whole (such a campaign is
				// one person's identities).
				if c, err = campaigns.Get(ctx, st, args[0]); err != nil {
					return err
				}
				if mine != nil {
					c = onlyReviewer(c, mine)
				}
				each = sliceItems(c)
			}
			if err := printCampaign(w, c, ob, now, pendingOnly, format == "wide", width, prose, mine, each); err != nil {
				return err
			}
			return w.Flush()
		},
	}
	out.addFlags(cmd, "print the campaign and its items as JSON", "table, wide, id (one item ID a line), csv (the items) or json")
	cmd.Flags().BoolVar(&out.wide, "wide", false, "add the ID column and cut no cell (-o wide)")
	cmd.Flags().BoolVar(&pendingOnly, "pending", false, "list only items still to decide (pending or carried)")
	cmd.Flags().StringVar(&reviewer, "reviewer", "", "list only the items assigned to this reviewer (me: you)")
	return cmd
}

// reviewerOf finds the reviewer name names among c's: "me" is who the
// caller proved to be (actor); otherwise the name as assigned, in any
// case, or a person of the directory by any alias. A name that is no
// reviewer of c is an error naming the nearest one and listing them.
func reviewerOf(ctx context.Context, st *audit.Store, c *campaigns.Campaign, name, actor string) (*campaigns.ReviewerProgress, error) {
	find := func(n string) *campaigns.ReviewerProgress {
		for i := range c.Progress.Reviewers {
			if r := &c.Progress.Reviewers[i]; r.Reviewer != "" && strings.EqualFold(r.Reviewer, n) {
				return r
			}
		}
		return nil
	}
	if name == "me" {
		name = actor
	}
	if r := find(name); r != nil {
		return r, nil
	}
	if dir, err := st.People(ctx); err == nil {
		if p := dir.Lookup(name); p != nil {
			if r := find(p.Email); r != nil {
				return r, nil
			}
		}
	}
	var names []string
	for _, r := range c.Progress.Reviewers {
		if r.Reviewer != "" {
			names = append(names, audit.Printable(r.Reviewer))
		}
	}
	if actor != "" && actor == name {
		return nil, fmt.Errorf("you (%s) have no items in %s; its reviewers are %s", audit.Printable(actor), audit.Printable(c.Name), strings.Join(names, ", "))
	}
	msg := fmt.Sprintf("%q is no reviewer of %s", audit.Printable(name), audit.Printable(c.Name))
	near := audit.Nearest(name, names)
	if near == "" && !strings.Contains(name, "@") {
		// "rta" for rita@acme.com: compare with the part before the @.
		locals := make([]string, len(names))
		for i, n := range names {
			locals[i], _, _ = strings.Cut(n, "@")
		}
		if l := audit.Nearest(name, locals); l != "" {
			near = names[slices.Index(locals, l)]
		}
	}
	if near != "" {
		msg += "; did you mean " + near + "?"
	}
	return nil, fmt.Errorf("%s (its reviewers are %s)", msg, strings.Join(names, ", "))
}

// onlyReviewer is c with only r's items and r's line of progress.
func onlyReviewer(c *campaigns.Campaign, r *campaigns.ReviewerProgress) *campaigns.Campaign {
	o := *c
	o.Items = nil
	for _, it := range c.Items {
		if it.Reviewer == r.Reviewer {
			o.Items = append(o.Items, it)
		}
	}
	o.Progress.Reviewers = []campaigns.ReviewerProgress{*r}
	return &o
}

// showHeld, when not nil, is given every item campaign show prints,
// before it prints it (a test counts how many are alive at once).
var showHeld func(*campaigns.Item)

// itemSource calls fn with each item of a campaign in ID order: read a
// batch at a time (campaigns.ItemReader), or from a campaign read whole.
type itemSource func(fn func(*campaigns.Item) error) error

// sliceItems gives c.Items.
func sliceItems(c *campaigns.Campaign) itemSource {
	return func(fn func(*campaigns.Item) error) error {
		for i := range c.Items {
			if err := fn(&c.Items[i]); err != nil {
				return err
			}
		}
		return nil
	}
}

// itemColumns are the columns of show's item table: the ID only when wide
// (it is the longest cell, and -o id prints it alone). The least widths
// add up, with DECISION whole ("decommission") and the separators, to 120
// when every optional column shows: the table fits a terminal of 120. Narrower,
// columns are hidden (Hide, the highest first) in the order an auditor
// needs them last: VERIFIED, BY, FINDINGS, OWNER, FLAGS, SCOPE; KIND,
// NAME, REVIEWER and DECISION stay (at 80 columns, SCOPE too, which tells
// apart two keys of one name). NAME and SCOPE Want 12: a column is
// hidden before they are cut under it (table.hide), and with every
// optional column filled the Wants still fit 120.
func itemColumns(wide bool) []column {
	cols := []column{{Title: "KIND", Min: 8}, {Title: "NAME", Min: 10, Want: 12}, {Title: "SCOPE", Min: 10, Want: 12, Hide: 1, KeepEnd: true}, {Title: "OWNER", Min: 9, Hide: 3},
		{Title: "FINDINGS", Min: 10, Hide: 4}, {Title: "REVIEWER", Min: 10}, {Title: "DECISION"}, {Title: "BY", Min: 10, Optional: true, Hide: 5},
		{Title: "FLAGS", Min: 10, Optional: true, Hide: 2}, {Title: "VERIFIED", Min: 8, Optional: true, Hide: 6}}
	if wide {
		cols = append([]column{{Title: "ID"}}, cols...)
	}
	return cols
}

// itemCells is one item's row: OWNER is the owner at creation, or in
// parentheses who the source said holds it; FLAGS what a reader should
// look at twice.
func itemCells(c *campaigns.Campaign, it *campaigns.Item, now time.Time) []string {
	owner := audit.Printable(it.Owner)
	if owner == "" && it.NaturalOwner != "" {
		owner = "(" + audit.Printable(it.NaturalOwner) + ")" // who the source says holds it
	}
	var flags []string
	if it.Decision != campaigns.Pending && it.Decision != campaigns.NoResponse && !it.Assigned() {
		flags = append(flags, "not-assignee")
	}
	if it.Conflict {
		flags = append(flags, "conflict")
	}
	if it.Carried != campaigns.Pending && it.Decision == campaigns.Pending {
		flags = append(flags, "carried:"+string(it.Carried))
	}
	if itemOverdue(it) {
		flags = append(flags, "OVERDUE")
	}
	if it.Escalated != nil {
		flags = append(flags, "escalated:"+audit.Printable(it.Escalated.To))
	}
	if o := c.NoResponse.Outcome(); o != "" && it.Decision == campaigns.NoResponse {
		flags = append(flags, strings.ReplaceAll(o, " ", "-"))
	}
	if it.CurrentID != "" {
		flags = append(flags, "renamed")
	}
	findings := dash(audit.RuleNames(it.Findings))
	if len(it.Findings) == 0 && len(it.NotRead) > 0 {
		// No finding, where what a rule reads was not read: not none.
		findings = notReadCell
	}
	return []string{it.Kind.Label(), dash(audit.Printable(it.Name)), dash(audit.Printable(it.Scope)), dash(owner), findings,
		dash(audit.Printable(it.Reviewer)), it.State(), dash(audit.Printable(it.DecidedBy)), dash(strings.Join(flags, ",")),
		dash(it.Verification)}
}

// printItemsCSV writes show's items for a spreadsheet: the ID first, every
// cell whole, and the reason and decision time the table leaves out.
func printItemsCSV(w io.Writer, c *campaigns.Campaign, now time.Time, pendingOnly bool, each itemSource) error {
	t, err := newCSVTable(w, "id", "kind", "name", "scope", "owner", "findings", "reviewer", "decision", "reason", "decided_by", "decided_at", "flags", "verified", "current_id", "carried_as", "not_read")
	if err != nil {
		return err
	}
	if err := each(func(it *campaigns.Item) error {
		if pendingOnly && it.Decision != campaigns.Pending {
			return nil
		}
		cells := itemCells(c, it, now)
		at := ""
		if it.DecidedAt != nil {
			at = it.DecidedAt.UTC().Format(time.RFC3339)
		}
		undash := func(s string) string {
			if s == "-" {
				return ""
			}
			return s
		}
		if err := t.Row(audit.Printable(it.ID), string(it.Kind), audit.Printable(it.Name), audit.Printable(it.Scope), undash(cells[3]),
			audit.RuleNames(it.Findings), audit.Printable(it.Reviewer), it.State(), audit.Printable(it.Reason),
			audit.Printable(it.DecidedBy), at, undash(cells[8]), it.Verification, audit.Printable(it.CurrentID), audit.Printable(it.CarriedAs),
			strings.Join(audit.NotReadWhat(it.NotRead), " ")); err != nil {
			return err
		}
		return nil
	}); err != nil {
		return err
	}
	return t.Flush()
}

// notReadShown is what nhi campaign show says of an account the campaign
// reviews whose newest run had not finished when it was created.
func notReadShown(n campaigns.AccountNotRead) string {
	where := audit.Printable(n.Source) + "/" + audit.Printable(n.Account)
	if n.Snapshot == 0 {
		return fmt.Sprintf("%s was never read when the campaign was created (its run, snapshot %d, %s): none of its identities are in it", where, n.Attempt, n.What())
	}
	return fmt.Sprintf("%s: its newest run when the campaign was created (snapshot %d) %s; the population holds snapshot %d's read of it", where, n.Attempt, n.What(), n.Snapshot)
}

// printCampaign prints c, its items those each gives; with mine, the
// progress of that reviewer too, whose items each gives alone. Its
// tables fit width; its lines of prose wrap at prose, and its digests
// shorten to fit it (proseWidth: 0 in a pipe, which keeps them whole for
// grep). The item table is sized over every row before the first is
// printed: each is read twice, the first time for the columns' widths
// alone, so no more than a batch of items is held (issue 21). A
// person's offboarding (printOffboardItems) reads c.Items.
func printCampaign(w io.Writer, c *campaigns.Campaign, ob *campaigns.Offboarding, now time.Time, pendingOnly, wide bool, width, prose int, mine *campaigns.ReviewerProgress, each itemSource) error {
	p := c.Progress
	due := c.Due
	if c.Overdue(now) {
		due += " (OVERDUE)"
	}
	fmt.Fprintf(w, "Campaign %s: %s, due %s\n", c.Name, c.Status, due)
	if len(c.Snapshots) == 1 {
		// A partial snapshot says so: what it did not read is not here.
		partial := ""
		if c.Snapshots[0].Status == audit.SnapshotPartial {
			partial = ", partial"
		}
		hang(w, prose, "  scope       ", fmt.Sprintf("%s (snapshot %d%s, as of %s)", audit.Printable(c.Scope), c.SnapshotID, partial, c.AsOf.Format(time.RFC3339)))
	} else {
		hang(w, prose, "  scope       ", fmt.Sprintf("%s, over %d snapshots, each as of its start:", audit.Printable(c.Scope), len(c.Snapshots)))
		printSnapshotUses(w, c.Snapshots, prose, "")
	}
	for _, n := range c.NotRead {
		hang(w, prose, "  not read    ", notReadShown(n))
	}
	if c.Unevaluated > 0 {
		hang(w, prose, "  not judged  ", fmt.Sprintf("%s of the snapshots reviewed the scope could not judge when the campaign was created, what it asks of %s not read (docs/filter.md, \"What was not read\"): %s not in it, whether or not %s what it asks for",
			counted(c.Unevaluated, "identity", "identities"), plural(c.Unevaluated, "it", "them"), plural(c.Unevaluated, "it is", "they are"), plural(c.Unevaluated, "it is", "they are")))
	}
	if ob != nil {
		what := "person " + audit.Printable(ob.Person)
		if ob.Kind == campaigns.OffboardSystem {
			what = "system " + audit.Printable(ob.Scope)
		}
		hang(w, prose, "  offboards   ", fmt.Sprintf("%s, effective %s (event %d)", what, ob.Effective, ob.Seq))
	}
	fmt.Fprintf(w, "  created     %s by %s\n", c.CreatedAt.Format(time.RFC3339), audit.Printable(c.CreatedBy))
	if c.ClosedAt != nil {
		fmt.Fprintf(w, "  closed      %s by %s\n", c.ClosedAt.Format(time.RFC3339), audit.Printable(c.ClosedBy))
	}
	fitLine(w, prose, "  policy      sha256:%s\n", c.PolicyDigest)
	fitLine(w, prose, "  population  "+counted(c.Count, "identity", "identities")+", sha256:%s\n", c.PopulationDigest)
	if c.CarriedFrom != "" {
		fmt.Fprintf(w, "  carried     from %s\n", c.CarriedFrom)
	}
	hang(w, prose, "  no response ", c.NoResponse.Describe())
	if c.AllowAdminReview {
		hang(w, prose, "  separation  ", "--allow-admin-review: the creator and whoever closes may review items")
	} else {
		hang(w, prose, "  separation  ", "the creator and whoever closes may not review items")
	}
	pct := 0
	if p.Total > 0 {
		pct = p.Decided * 100 / p.Total
	}
	var by []string
	for _, d := range []campaigns.Decision{campaigns.Decommission, campaigns.Keep, campaigns.Rotate, campaigns.Transfer} {
		if n := p.ByDecision[d]; n > 0 {
			by = append(by, fmt.Sprintf("%s %d", d, n))
		}
	}
	progress := fmt.Sprintf("%d/%d decided (%d%%)", p.Decided, p.Total, pct)
	if len(by) > 0 {
		progress += ": " + strings.Join(by, " · ")
	}
	progress += fmt.Sprintf("; %d pending, %d carried, %d no-response, %s", p.Pending, p.Carried, p.NoResponse, counted(p.Conflicts, "conflict", "conflicts"))
	hang(w, prose, "Progress: ", progress)
	if mine != nil {
		hang(w, prose, "", reviewerProgressLine(mine))
	}
	fmt.Fprintln(w)

	// Under 90 columns the last two titles drop their "DECIDED", which
	// the two before them say.
	byOthers, forOthers := "DECIDED BY OTHERS", "DECIDED FOR OTHERS"
	if width > 0 && width < 90 {
		byOthers, forOthers = "BY OTHERS", "FOR OTHERS"
	}
	// Where even those do not fit (about 60 columns), the last two are
	// hidden, FOR OTHERS first, and named under the table, as the
	// items' columns are, rather than run past the width.
	rt := newTable(width, column{Title: "REVIEWER", Min: 12}, column{Title: "ASSIGNED"}, column{Title: "DECIDED"}, column{Title: "PENDING"},
		column{Title: byOthers, Hide: 1}, column{Title: forOthers, Hide: 2})
	for _, r := range p.Reviewers {
		name := audit.Printable(r.Reviewer)
		if name == "" {
			name = "(none eligible)"
		}
		rt.Row(name, strconv.Itoa(r.Assigned), strconv.Itoa(r.Decided), strconv.Itoa(r.Pending), strconv.Itoa(r.DecidedByOthers), strconv.Itoa(r.DecidedForOthers))
	}
	rt.Flush(w)
	fmt.Fprintln(w)

	shown := func(fn func(*campaigns.Item) error) error {
		return each(func(it *campaigns.Item) error {
			if pendingOnly && it.Decision != campaigns.Pending {
				return nil
			}
			return fn(it)
		})
	}
	cells := func(it *campaigns.Item) []string {
		cells := itemCells(c, it, now)
		if wide {
			cells = append([]string{renamedID(it)}, cells...)
		}
		return cells
	}
	under := newItemNotes(c, prose)
	if ob != nil && ob.Kind == campaigns.OffboardPerson {
		printOffboardItems(w, c, ob, now, pendingOnly, wide, width)
		if err := shown(under.add); err != nil {
			return err
		}
	} else {
		if err := printItemTable(w, newTable(width, itemColumns(wide)...), shown, cells, under.add); err != nil {
			return err
		}
	}
	under.print(w)
	if len(c.Refused) > 0 && !pendingOnly {
		fmt.Fprintf(w, "\nRefused attempts (%d), the separation-of-duties rules at work:\n", len(c.Refused))
		for _, r := range c.Refused {
			what := r.Action
			if len(r.Items) == 1 {
				what += " " + audit.Printable(r.Items[0])
			}
			hang(w, prose, "  ", fmt.Sprintf("#%d %s %s: %s refused by rule %s (%s)", r.Seq, r.At, audit.Printable(r.Actor), what, r.Rule, audit.Printable(r.Detail)))
		}
	}
	return nil
}

// printItemTable prints the items shown gives as rows of t, each the
// cells cells makes of it, and gives each to add as it is read. The items
// are read once: each one's cells are measured for the columns' widths
// and kept in a temporary file until the widths are known, then printed
// from it. The table read the campaign twice, once to measure and once
// to print, most of the time of a campaign of a million items (issue
// 21); and a decision made between the two reads could print a table
// measured over other cells than it shows. Where the cells cannot be
// kept (TMPDIR takes no file, or fills up), the items are read again to
// print them, as before.
func printItemTable(w io.Writer, t *table, shown itemSource, cells func(*campaigns.Item) []string, add func(*campaigns.Item) error) error {
	rows, err := spool.CreateBuffered("", "nhi-show-*", 64<<10)
	if err == nil {
		defer rows.Remove()
	} else {
		rows = nil
	}
	n := 0
	if err := shown(func(it *campaigns.Item) error {
		c := cells(it)
		t.Measure(c...)
		if rows != nil {
			rows.Strings(c)
		}
		n++
		return add(it)
	}); err != nil {
		return err
	}
	var r *spool.Reader
	if rows != nil && rows.Close() == nil {
		r, _ = rows.Open(true)
	}
	if err := t.Begin(w); err != nil {
		return err
	}
	if r == nil {
		if err := shown(func(it *campaigns.Item) error { return t.Line(w, cells(it)...) }); err != nil {
			return err
		}
		return t.End(w)
	}
	defer r.Close()
	for range n {
		r.Next()
		c := r.Strings()
		if err := r.Err(); err != nil {
			return fmt.Errorf("reading the items' cells back from %s: %w", rows.Name(), err)
		}
		if err := t.Line(w, c...); err != nil {
			return err
		}
	}
	return t.End(w)
}

// hang prints head then body, on one line when it fits width (0: no
// limit), else with body wrapped at its spaces (filter.WrapWords: a word
// longer than the room stays whole, so an ID is never cut), each further
// line indented as wide as head (two spaces when there is no head).
func hang(w io.Writer, width int, head, body string) {
	indent := ansi.StringWidth(head)
	if width <= 0 || indent+ansi.StringWidth(body) <= width || width-indent < 20 {
		fmt.Fprintf(w, "%s%s\n", head, body)
		return
	}
	if indent == 0 {
		indent = 2
	}
	for i, l := range filter.WrapWords(body, width-indent, ansi.StringWidth) {
		if i > 0 {
			head = strings.Repeat(" ", indent)
		}
		fmt.Fprintf(w, "%s%s\n", head, l)
	}
}

// sayf prints a sentence of a command's human output (nhi decide, nhi
// campaign close, a preview's headline): wrapped at its words (hang) at
// the width of the terminal stdout is, or COLUMNS; whole in a pipe, for
// grep.
func (a *app) sayf(format string, args ...any) {
	hang(a.stdout, proseWidth(a.stdout), "", strings.TrimSuffix(fmt.Sprintf(format, args...), "\n"))
}

// sayWriter prints each line written to it as a.sayf does: for a
// function that writes sentences to an io.Writer (printTransfer).
type sayWriter struct{ a *app }

func (s sayWriter) Write(p []byte) (int, error) {
	for _, l := range strings.Split(strings.TrimSuffix(string(p), "\n"), "\n") {
		s.a.sayf("%s\n", l)
	}
	return len(p), nil
}

// fitLine prints format with digest whole when the line fits width (0:
// no limit, --wide), else with its first 12 hex digits and "…": the
// whole digest stays in -o json and at wide widths.
func fitLine(w io.Writer, width int, format, digest string) {
	line := fmt.Sprintf(format, digest)
	if width > 0 && len(digest) > 12 && ansi.StringWidth(strings.TrimSuffix(line, "\n")) > width {
		line = fmt.Sprintf(format, digest[:12]+"…")
	}
	io.WriteString(w, line)
}

// renamedID is an item's ID as the wide table shows it: the ID its
// identity has now, "(was ID)", when its repository was renamed since
// the campaign froze it; else its ID.
func renamedID(it *campaigns.Item) string { return renamedItem(it.ID, it.CurrentID) }

// itemNotes are the lists under the item table, gathered an item at a
// time as the table prints (add): the items renamed since the campaign
// froze them, those carried under another ID, and what the items'
// snapshots did not read, counted.
type itemNotes struct {
	c                *campaigns.Campaign
	width            int
	renamed, carried []string
	byWhat           map[string]int
	marker           map[string]string
	order            []string
}

func newItemNotes(c *campaigns.Campaign, width int) *itemNotes {
	return &itemNotes{c: c, width: width, byWhat: map[string]int{}, marker: map[string]string{}}
}

// add notes an item the table shows.
func (n *itemNotes) add(it *campaigns.Item) error {
	width := n.width
	if it.CurrentID != "" {
		l := "  " + renamedID(it)
		if width > 0 && ansi.StringWidth(l) > width {
			l = "  " + audit.Printable(it.CurrentID) + "\n    (was " + audit.Printable(it.ID) + ")"
		}
		n.renamed = append(n.renamed, l)
	}
	if it.CarriedAs != "" {
		as := "(carried from " + audit.Printable(n.c.CarriedFrom) + " as " + audit.Printable(it.CarriedAs) + ")"
		l := "  " + audit.Printable(it.ID) + " " + as
		if width > 0 && ansi.StringWidth(l) > width {
			l = "  " + audit.Printable(it.ID) + "\n    " + as
		}
		n.carried = append(n.carried, l)
	}
	for _, nr := range it.NotRead {
		if _, ok := n.byWhat[nr.What]; !ok {
			n.order = append(n.order, nr.What)
			n.marker[nr.What] = nr.Marker
		}
		n.byWhat[nr.What]++
	}
	return nil
}

// print writes the lists: the items whose repository was renamed since
// the campaign froze them (FLAGS renamed), under the ID each has now;
// the items whose keep was carried from the earlier campaign's item
// under another ID, the one their identity had there (its repository
// renamed since); and how many items' snapshot did not tell nhi
// something of their identity, counted by what (audit.NotReadOf): their
// frozen permissions and findings, empty or in part, are not none. -o
// json and -o csv name each item's (not_read). Where a line of the first
// two would be wider than the width, its second ID goes on a line of its
// own.
func (n *itemNotes) print(w io.Writer) {
	if len(n.renamed) > 0 {
		fmt.Fprintf(w, "\nRenamed since the campaign froze them (%d; nhi decide takes either ID):\n%s\n", len(n.renamed), strings.Join(n.renamed, "\n"))
	}
	if len(n.carried) > 0 {
		fmt.Fprintf(w, "\nCarried from %s under the ID the identity had there (%d; its repository renamed since):\n%s\n",
			audit.Printable(n.c.CarriedFrom), len(n.carried), strings.Join(n.carried, "\n"))
	}
	if len(n.order) == 0 {
		return
	}
	parts := make([]string, len(n.order))
	for i, what := range n.order {
		parts[i] = fmt.Sprintf("%s of %s (%s)", strings.ReplaceAll(what, "_", " "), counted(n.byWhat[what], "item", "items"), n.marker[what])
	}
	fmt.Fprintln(w)
	hang(w, n.width, "", "Not read when the campaign froze them: "+strings.Join(parts, "; ")+
		". Their permissions and findings, empty or in part, are not none; -o json names each item's and why, -o csv what (not_read).")
}

// itemOverdue: approved for removal, and still present in a snapshot taken
// after the due date (as campaign verify and the report say it).
func itemOverdue(it *campaigns.Item) bool {
	return it.Decision == campaigns.Decommission && it.Verification == campaigns.StillPresent && it.VerifiedAfterDue
}

// reviewerProgressLine is "Progress of alice@acme.com: 3/10 assigned
// decided (30%); 7 pending, 0 no-response; 1 decided by others, 2 for
// others". No-response is what is neither decided nor pending: the
// items of a closed campaign nobody answered.
func reviewerProgressLine(r *campaigns.ReviewerProgress) string {
	pct := 0
	if r.Assigned > 0 {
		pct = r.Decided * 100 / r.Assigned
	}
	return fmt.Sprintf("Progress of %s: %d/%d assigned decided (%d%%); %d pending, %d no-response; %d decided by others, %d for others",
		audit.Printable(r.Reviewer), r.Decided, r.Assigned, pct, r.Pending, r.Assigned-r.Decided-r.Pending, r.DecidedByOthers, r.DecidedForOthers)
}
