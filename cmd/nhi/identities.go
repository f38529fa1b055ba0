package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

func newIdentitiesCmd(a *app) *cobra.Command {
	out := output{allow: []string{"table", "wide", "id", "csv", "json"}}
	var expr, campaign string
	cmd := &cobra.Command{
		Use:   "identities",
		Short: "List every identity in the evidence file",
		Long: `Lists the identities present in their account's newest snapshot, with
their latest observation, owner and status. --filter keeps those a filter
expression matches (nhi help filter); a status: term says which statuses to
list instead (status:removed, status:not-checked, status:any). --campaign
names the campaign decision: and reviewer: terms read (by default the one
campaign a campaign: term names).

The table fits the terminal (120 columns when not on one), cutting long
cells with …; --wide (-o wide) adds the ID and cuts nothing. -o id prints
the IDs alone, one a line, for other commands; -o csv a spreadsheet;
--json (-o json) an array of identity objects for scripts.`,
		Example: `  nhi identities
  nhi identities --filter 'finding:stale owner:none'
  nhi identities --filter 'kind:deploy_key' -o id
  nhi identities --filter 'kind:deploy_key perm.contents:write' --json
  nhi identities -o csv > identities.csv
  nhi identities --filter 'campaign:2025-Q2 reviewer:me decision:pending'
  nhi identities --filter status:any
  nhi identities --json | jq '.[] | select(.owner == null) | .id'`,
		Aliases: []string{"ls"},
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			format, err := out.Resolve()
			if err != nil {
				return usageError{cmd.CommandPath(), err}
			}
			f, err := parseFilterArg(expr)
			if err != nil {
				return err
			}
			st, err := a.open(cmd.Context(), audit.OpenOptions{ReadOnly: true})
			if err != nil {
				return err
			}
			defer st.Close()
			env, reviewDone, err := filterEnvInOrder(cmd.Context(), st, audit.ResolveActor(a.as), campaign, f)
			if err != nil {
				return err
			}
			defer reviewDone()
			f = filter.Active(f, audit.Vocabulary)
			// Rows stream from the store's read to the output: nothing
			// holds the whole population (issue 21: a million identities).
			// The read reuses each *audit.Identity and its maps for the
			// next: every emit writes the identity out or keeps a copy of
			// its text (the table's cells), never the identity or its maps.
			w := bufio.NewWriterSize(a.stdout, 64<<10)
			var emit func(*audit.Identity) error
			var finish func(total, matched int) error
			switch format {
			case "json":
				emit, finish = jsonArray(w)
			case "id":
				emit, finish = idLines(w)
			case "csv":
				emit, finish, err = identityCSV(w)
				if err != nil {
					return err
				}
			default:
				width := outputWidth(a.stdout)
				if format == "wide" {
					width = 0
				}
				// person: terms tag each match with how it relates.
				var tags func(*audit.Identity) string
				if people := f.People(); len(people) > 0 {
					if tags, err = st.PersonTags(cmd.Context(), people); err != nil {
						return err
					}
				}
				emit, finish = identityTable(w, expr, time.Now(), width, format == "wide", tags)
			}
			total, matched := 0, 0
			err = st.StreamIdentities(cmd.Context(), func(id *audit.Identity) error {
				total++
				if !f.Match(id, env) {
					return nil
				}
				matched++
				return emit(id)
			})
			if err != nil {
				return err
			}
			if err := reviewDone(); err != nil {
				return err
			}
			if total == 0 && (format == "table" || format == "wide") {
				// No population, but runs that did not finish: say which
				// and where to look, not to take a first snapshot.
				unread, err := unreadAccounts(cmd.Context(), st)
				if err != nil {
					return err
				}
				if len(unread) > 0 {
					fmt.Fprintf(w, "No identities yet: %s; nhi snapshots says more\n", strings.Join(unread, "; "))
					return w.Flush()
				}
			}
			if err := finish(total, matched); err != nil {
				return err
			}
			return w.Flush()
		},
	}
	out.addFlags(cmd, "print a JSON array of identity objects", "table, wide, id (one ID a line), csv or json")
	cmd.Flags().BoolVar(&out.wide, "wide", false, "add the ID column and cut no cell (-o wide)")
	cmd.Flags().StringVar(&expr, "filter", "", "only identities this filter expression matches (nhi help filter)")
	cmd.Flags().StringVar(&campaign, "campaign", "", "the campaign decision: and reviewer: terms read")
	return cmd
}

// jsonArray writes identities as one indented JSON array, an element at a
// time, byte for byte what encoding a []audit.Identity with two-space
// indentation would print. Each element is written already indented
// (audit.IdentityJSON) into one buffer reused from identity to identity:
// json.MarshalIndent, which marshals, compacts and indents again, was
// half the CPU of the command at a million identities.
func jsonArray(w io.Writer) (emit func(*audit.Identity) error, finish func(total, matched int) error) {
	enc := audit.NewIdentityJSON("  ", "  ")
	var b []byte
	sep := "[\n  "
	emit = func(id *audit.Identity) error {
		b = append(b[:0], sep...)
		sep = ",\n  "
		b = enc.Append(b, id)
		_, err := w.Write(b)
		return err
	}
	finish = func(_, matched int) error {
		end := "\n]\n"
		if matched == 0 {
			end = "[]\n"
		}
		_, err := io.WriteString(w, end)
		return err
	}
	return emit, finish
}

// idLines writes one identity ID a line, and nothing when none matched,
// so the output feeds xargs or a loop as it is.
func idLines(w io.Writer) (emit func(*audit.Identity) error, finish func(total, matched int) error) {
	emit = func(id *audit.Identity) error {
		_, err := fmt.Fprintln(w, audit.Printable(id.ID))
		return err
	}
	return emit, func(int, int) error { return nil }
}

var identityCSVHeader = []string{"id", "kind", "name", "scope", "owner", "last_used", "status", "findings", "not_read"}

// identityCSV writes the table's columns, the ID first, as CSV; times are
// RFC 3339 and an empty cell is empty, not "-"; not_read names what the
// source did not tell nhi ("permissions last_used": audit.NotReadOf), so
// an empty last_used or findings cell there is not none.
func identityCSV(w io.Writer) (emit func(*audit.Identity) error, finish func(total, matched int) error, err error) {
	t, err := newCSVTable(w, identityCSVHeader...)
	if err != nil {
		return nil, nil, err
	}
	emit = func(id *audit.Identity) error {
		used := ""
		if id.LastUsedAt != nil {
			used = id.LastUsedAt.UTC().Format(time.RFC3339)
		}
		return t.Row(audit.Printable(id.ID), string(id.Kind), audit.Printable(id.Name), audit.Printable(id.Scope),
			audit.Printable(id.Owner), used, statusOf(id), audit.RuleNames(id.Findings), strings.Join(audit.NotReadWhat(audit.NotReadOf(&id.Observation)), " "))
	}
	return emit, func(int, int) error { return t.Flush() }, nil
}

// identityTable prints the human table. Its columns are aligned over every
// row, so the table keeps each row until finish, but as its cells' bytes
// copied into a few large blocks (rowArena), measured as they come: not
// the cells as strings, which were cut from the stream's page of text and
// kept every page (920 B an identity, issue 21). The other way, reading
// the population twice (campaign show's), costs a second read, the
// expensive part here (docs/performance.md). With tags (a person:
// filter), a RELATIONS column says how each match relates to the people
// named.
func identityTable(w io.Writer, expr string, now time.Time, width int, withID bool, tags func(*audit.Identity) string) (emit func(*audit.Identity) error, finish func(total, matched int) error) {
	// The least widths add up to 120 with the widest kind label and
	// status: an e-mail owner and two findings stay whole.
	cols := []column{{Title: "KIND"}, {Title: "NAME", Min: 16}, {Title: "SCOPE", Min: 14, KeepEnd: true}, {Title: "OWNER", Min: 22},
		{Title: "LAST USED"}, {Title: "STATUS"}, {Title: "FINDINGS", Min: 18}}
	if withID {
		cols = append([]column{{Title: "ID", Min: 20}}, cols...)
	}
	if tags != nil {
		cols = append(cols, column{Title: "RELATIONS", Min: 18})
	}
	t := newTable(width, cols...)
	var rows rowArena
	cells := make([]string, 0, len(cols))
	emit = func(id *audit.Identity) error {
		if identityTableHeld != nil {
			identityTableHeld(id)
		}
		cells = cells[:0]
		if withID {
			cells = append(cells, audit.Printable(id.ID))
		}
		cells = appendIdentityCells(cells, id, now)
		if tags != nil {
			cells = append(cells, dash(tags(id)))
		}
		t.Measure(cells...)
		rows.add(cells)
		return nil
	}
	finish = func(total, matched int) error {
		switch {
		case total == 0:
			_, err := fmt.Fprintln(w, "No identities yet. Take a snapshot: nhi demo, or nhi snapshot github --org ORG")
			return err
		case matched == 0 && expr == "":
			if total == 1 {
				_, err := fmt.Fprintln(w, "The one identity is not active; --filter status:any lists it.")
				return err
			}
			_, err := fmt.Fprintf(w, "None of the %d identities is active; --filter status:any lists them all.\n", total)
			return err
		case matched == 0:
			_, err := fmt.Fprintf(w, "No identity of %d matches the filter %q.\n", total, expr)
			return err
		}
		if err := t.Begin(w); err != nil {
			return err
		}
		if err := rows.each(len(cols), func(cells []string) error { return t.Line(w, cells...) }); err != nil {
			return err
		}
		return t.End(w)
	}
	return emit, finish
}

// identityTableHeld, when a test sets it, is given each identity the
// table is given, before it takes its cells.
var identityTableHeld func(*audit.Identity)

// rowArena keeps rows of cells as their bytes, in blocks of rowBlock
// bytes or more: a row costs its text and a byte or two a cell, where the
// row as strings cost a slice, a header a cell and, for cells cut from a
// larger text (the stream's pages), that text. A cell is a uvarint then,
// when it is even, that many bytes over two; when odd, the cell is its
// column's value of that number over two: the values a column repeats
// (a kind, a status, the findings, an owner) are kept once, the first
// rowDictLen of each column: a row of the demo's sample of 100,665
// costs 29 bytes where its text is some 90 (99 with --wide's ID, which
// no two rows share). The rows come back in the order added.
type rowArena struct {
	blocks []string // full blocks, each copied out of buf once
	buf    []byte   // the block being filled, reused
	dicts  []rowDict
}

// rowDict is the values of a column an arena keeps once, and their numbers.
type rowDict struct {
	index  map[string]uint64
	values []string
}

// rowBlock is the size of an arena's blocks: large beside a row, so few
// of them, small beside the table, so the last one's spare room is little.
const rowBlock = 1 << 20

// rowDictLen is how many values of a column an arena keeps once: a
// column of a few values in all (a kind, a status) has them all, one of
// a value a row (a name) stops there, at some 400 KB.
const rowDictLen = 4096

func (a *rowArena) add(cells []string) {
	if a.dicts == nil {
		a.dicts = make([]rowDict, len(cells))
	}
	n := 0
	for _, c := range cells {
		n += binary.MaxVarintLen64 + len(c)
	}
	if len(a.buf) > 0 && len(a.buf)+n > rowBlock {
		a.blocks = append(a.blocks, string(a.buf))
		a.buf = a.buf[:0]
	}
	for i, c := range cells {
		d := &a.dicts[i]
		v, ok := d.index[c]
		if !ok && len(d.values) < rowDictLen {
			if d.index == nil {
				d.index = map[string]uint64{}
			}
			c = strings.Clone(c) // not the page of text it was cut from
			v, ok = uint64(len(d.values)), true
			d.index[c] = v
			d.values = append(d.values, c)
		}
		if ok {
			a.buf = binary.AppendUvarint(a.buf, v<<1|1)
			continue
		}
		a.buf = binary.AppendUvarint(a.buf, uint64(len(c))<<1)
		a.buf = append(a.buf, c...)
	}
}

// each gives fn every row, of n cells, in the order added; the cells
// given are valid until the arena is dropped, the slice until fn returns.
func (a *rowArena) each(n int, fn func(cells []string) error) error {
	cells := make([]string, n)
	last := string(a.buf)
	for _, b := range append(a.blocks, last) {
		for len(b) > 0 {
			for i := range cells {
				v, size := uvarintOf(b)
				b = b[size:]
				if v&1 == 1 {
					cells[i] = a.dicts[i].values[v>>1]
					continue
				}
				cells[i], b = b[:v>>1], b[v>>1:]
			}
			if err := fn(cells); err != nil {
				return err
			}
		}
	}
	return nil
}

// uvarintOf is binary.Uvarint of a string: the number s starts with and
// its length in bytes.
func uvarintOf(s string) (uint64, int) {
	var x uint64
	for i, shift := 0, uint(0); i < len(s); i, shift = i+1, shift+7 {
		if s[i] < 0x80 {
			return x | uint64(s[i])<<shift, i + 1
		}
		x |= uint64(s[i]&0x7f) << shift
	}
	return 0, 0
}

// appendIdentityCells appends the table's cells of id, from KIND to
// FINDINGS, to cells.
func appendIdentityCells(cells []string, id *audit.Identity, now time.Time) []string {
	findings := dash(audit.RuleNames(id.Findings))
	if len(id.Findings) == 0 && audit.Unread(id.Attributes, filter.Findings, "") {
		// No finding, where what a rule reads was not read: not none.
		findings = notReadCell
	}
	return append(cells, id.Kind.Label(), dash(audit.Printable(id.Name)), dash(audit.Printable(id.Scope)), dash(audit.Printable(id.Owner)),
		lastUsed(id, now), statusOf(id), findings)
}

// notReadCell is a cell whose value the source did not tell nhi
// (audit.NotReadOf): not "none", "never" or "-".
const notReadCell = "not read"

// statusOf is the STATUS cell: active, or new or changed when the newest
// snapshot of its account saw it differ, removed, not-checked.
func statusOf(id *audit.Identity) string {
	if id.Status == audit.StatusActive && id.Change != "" {
		return id.Change
	}
	return id.Status
}

// dash is a table cell: s, or "-" for nothing.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// lastUsed says how long before now the identity was last used
// (audit.Ago), "never", "not read" where it was not read for it
// (last_used_unknown: a gap, or an import's empty cell), or "-" where its
// source does not report use.
func lastUsed(id *audit.Identity, now time.Time) string {
	if id.LastUsedAt == nil {
		switch {
		case audit.ReportsLastUse(id.Kind, id.Attributes[audit.AttrLastUseUnknown]):
			return "never"
		case id.Attributes[audit.AttrLastUseUnknown] == "true":
			return notReadCell
		}
		return "-"
	}
	// As the review UI says it (audit.Ago): "14d ago", "3y329d ago".
	return audit.Ago(*id.LastUsedAt, now)
}

// unreadAccounts says of each source and account with no finished
// snapshot why: "github/northwind has no finished snapshot: the newest,
// snapshot 2, stopped before it finished (no live nhi process holds it)".
func unreadAccounts(ctx context.Context, st *audit.Store) ([]string, error) {
	snaps, err := st.Snapshots(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, s := range audit.UnreadOf(snaps) {
		out = append(out, fmt.Sprintf("%s/%s has no finished snapshot: the newest, snapshot %d, %s",
			audit.Printable(s.Source), audit.Printable(s.Account), s.ID, s.UnreadState()))
	}
	return out, nil
}
