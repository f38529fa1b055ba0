package main

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/nhi-audit/nhi/filter"
)

// column is one column of a human table. A column with Min 0 is never
// shortened; the others give up width, widest first, down to Min, and
// their cells end in "…" where they were cut.
type column struct {
	Title string
	Min   int
	// Optional: left out when no row has anything in it but "-", so a
	// column nobody needs yet gives its width to the others.
	Optional bool
	// Hide: when the least widths of the columns do not fit the table's
	// width, the columns with Hide > 0 are hidden, the highest first,
	// until they do (gh's and kubectl's way); a line under the table
	// names them. 0: never hidden.
	Hide int
	// Want: the width under which the column would rather the others be
	// hidden than it be cut further (a name that tells items apart).
	Want int
	// Wrap, for the last column only: a cell wider than the column wraps
	// at its words onto further lines, under the column, where it would be
	// cut (a sentence saying why a row is there, read whole).
	Wrap bool
	// KeepEnd cuts a cell at its start, keeping its end ("…ut-service"):
	// a scope runs from the org to the repository and environment, and
	// the rows of a table share its start, so an end cut made a list of
	// webhooks read "northwind/api…" twice, as the review UI's SCOPE was.
	KeepEnd bool
}

// table is a human table: its cells are text (never the records behind
// them), kept until Flush so each column is as wide as its widest cell.
// A table of a campaign's million items need not keep them: Measure
// gives a row's widths alone, then Begin, Line for each row again and
// End print what Flush would have (campaign show reads its items twice).
type table struct {
	cols []column
	rows [][]string
	// idx is the column of the rows each column of cols is: columns
	// dropped or hidden leave the rows as they were given.
	idx []int
	// natural is each column's widest cell given (Row or Measure), by
	// the rows' columns; filled, whether any cell of it is other than
	// "" or "-".
	natural []int
	filled  []bool
	n       int
	kept    bool // a column was dropped or hidden
	// width is what the table must fit; 0 means no limit (--wide).
	width int
	// more says how to see the hidden columns, in the line naming them:
	// "--wide shows them" unless the command has no --wide.
	more string
	// set by Begin for Line and End
	widths []int
	hidden []string
	b      strings.Builder
}

func newTable(width int, cols ...column) *table {
	t := &table{cols: cols, width: width, idx: make([]int, len(cols)), natural: make([]int, len(cols)), filled: make([]bool, len(cols))}
	for i := range cols {
		t.idx[i] = i
	}
	return t
}

// Row adds a row, one cell per column.
func (t *table) Row(cells ...string) {
	t.Measure(cells...)
	t.rows = append(t.rows, cells)
}

// Measure counts a row in the columns' widths without keeping it: the
// row is given again to Line.
func (t *table) Measure(cells ...string) {
	t.n++
	for i, cell := range cells {
		t.natural[i] = max(t.natural[i], ansi.StringWidth(cell))
		if !t.filled[i] {
			t.filled[i] = cell != "" && cell != "-"
		}
	}
}

// Len is the number of rows added.
func (t *table) Len() int { return t.n }

// Flush writes the header and the rows, two spaces between columns, the
// last column unpadded.
func (t *table) Flush(w io.Writer) error {
	if err := t.Begin(w); err != nil {
		return err
	}
	for _, r := range t.rows {
		if err := t.Line(w, r...); err != nil {
			return err
		}
	}
	return t.End(w)
}

// Begin settles the columns and their widths over the rows measured and
// writes the header.
func (t *table) Begin(w io.Writer) error {
	t.dropEmpty()
	t.hidden = t.hide()
	t.widths = make([]int, len(t.cols))
	for i := range t.cols {
		t.widths[i] = t.naturalOf(i)
	}
	t.fit(t.widths)
	titles := make([]string, len(t.cols))
	for i, c := range t.cols {
		titles[i] = c.Title
	}
	return t.line(w, titles)
}

// Line writes a row, as given to Row or Measure, under Begin's header.
func (t *table) Line(w io.Writer, cells ...string) error {
	if !t.kept {
		return t.line(w, cells) // a row of fewer cells prints them alone, as it did
	}
	picked := make([]string, len(t.idx))
	for j, i := range t.idx {
		picked[j] = cells[i]
	}
	return t.line(w, picked)
}

// line writes one line of the table's columns.
func (t *table) line(w io.Writer, cells []string) error {
	widths, b := t.widths, &t.b
	b.Reset()
	var more []string // the wrapping last cell's further lines
	for i, cell := range cells {
		wd := widths[i]
		if i == len(cells)-1 && t.cols[i].Wrap && ansi.StringWidth(cell) > wd {
			lines := filter.WrapWords(cell, wd, ansi.StringWidth)
			cell, more = lines[0], lines[1:]
		}
		cell = cutCell(cell, wd, t.cols[i].KeepEnd)
		b.WriteString(cell)
		if i < len(cells)-1 {
			b.WriteString(strings.Repeat(" ", wd-ansi.StringWidth(cell)+2))
		}
	}
	b.WriteByte('\n')
	if len(more) > 0 {
		start := 2 * (len(cells) - 1)
		for _, wd := range widths[:len(cells)-1] {
			start += wd
		}
		for _, l := range more {
			b.WriteString(strings.Repeat(" ", start) + ansi.Truncate(l, widths[len(cells)-1], "…") + "\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// End writes, under the rows, the line naming the hidden columns.
func (t *table) End(w io.Writer) error {
	hidden := t.hidden
	if len(hidden) > 0 {
		more := t.more
		if more == "" {
			more = "--wide shows them"
		}
		if len(hidden) == 1 {
			more = strings.Replace(more, " shows them", " shows it", 1) // "1 column hidden (BY); --wide shows it"
		}
		// Wrapped at the table's width, as sayf wraps the sentences
		// around it.
		hang(w, t.width, "", fmt.Sprintf("%s hidden (%s); %s", counted(len(hidden), "column", "columns"), strings.Join(hidden, ", "), more))
	}
	return nil
}

// tabsOver is a tabwriter writing to w through a buffer, the buffer (for
// lines before the table, which are no cells), and the flush of both: a
// tabwriter writes each cell and its padding on its own, some fifteen
// write calls a line on a terminal or pipe.
func tabsOver(w io.Writer, minwidth, tabwidth int) (*bufio.Writer, *tabwriter.Writer, func() error) {
	b := bufio.NewWriterSize(w, 64<<10)
	tw := tabwriter.NewWriter(b, minwidth, tabwidth, 2, ' ', 0)
	return b, tw, func() error {
		if err := tw.Flush(); err != nil {
			return err
		}
		return b.Flush()
	}
}

// cutCell is cell cut to wd cells, ending in "…", or, keepEnd, starting
// with it and keeping the end.
func cutCell(cell string, wd int, keepEnd bool) string {
	sw := ansi.StringWidth(cell)
	if !keepEnd || sw <= wd || wd < 2 {
		return ansi.Truncate(cell, wd, "…")
	}
	end := ansi.TruncateLeft(cell, sw-(wd-1), "")
	for ansi.StringWidth(end) > wd-1 { // a wide character straddled the cut
		_, size := utf8.DecodeRuneInString(end)
		end = end[size:]
	}
	return "…" + end
}

// hide hides the columns with Hide > 0, the highest Hide first, while
// the least widths of those left (a column's Min, or its widest cell when
// it has none, raised to its Want) and the separators are wider than
// t.width: a table gives up a column rather than cut a name under its
// Want, so that at 80 columns a preview shows which items it names
// rather than every column cut to a few letters, while a table whose
// Wants fit (every column of campaign show at 120) keeps them all. It
// returns the hidden columns' titles, in the table's order.
func (t *table) hide() []string {
	if t.width <= 0 {
		return nil
	}
	// Each column's least width, its cells measured once: a table of a
	// campaign's million items is a million cells a column.
	least := make([]int, len(t.cols))
	total := -2
	for i, c := range t.cols {
		least[i] = t.naturalOf(i)
		if m := max(c.Min, c.Want); m > 0 {
			least[i] = min(m, least[i])
		}
		total += least[i] + 2
	}
	if total <= t.width {
		return nil
	}
	gone := make([]bool, len(t.cols))
	for total > t.width {
		pick := -1
		for i, c := range t.cols {
			if !gone[i] && c.Hide > 0 && (pick < 0 || c.Hide > t.cols[pick].Hide) {
				pick = i
			}
		}
		if pick < 0 {
			break
		}
		gone[pick] = true
		total -= least[pick] + 2
	}
	var keep []int
	var hidden []string
	for i, c := range t.cols {
		if gone[i] {
			hidden = append(hidden, c.Title)
		} else {
			keep = append(keep, i)
		}
	}
	if len(hidden) > 0 {
		t.keep(keep)
	}
	return hidden
}

// naturalOf is column i's width uncut: its widest cell or its title.
func (t *table) naturalOf(i int) int {
	return max(ansi.StringWidth(t.cols[i].Title), t.natural[t.idx[i]])
}

// dropEmpty removes the optional columns no row fills.
func (t *table) dropEmpty() {
	keep := make([]int, 0, len(t.cols))
	for i, c := range t.cols {
		if !c.Optional || t.filled[t.idx[i]] {
			keep = append(keep, i)
		}
	}
	if len(keep) == len(t.cols) {
		return
	}
	t.keep(keep)
}

// keep leaves only the columns keep lists, in its order.
func (t *table) keep(keep []int) {
	cols, idx := make([]column, len(keep)), make([]int, len(keep))
	for j, i := range keep {
		cols[j], idx[j] = t.cols[i], t.idx[i]
	}
	t.cols, t.idx, t.kept = cols, idx, true
}

// fit shortens the shrinkable columns, the widest first, until the row
// fits t.width or none can give more: none under its Want while another
// can give, none under its Min.
func (t *table) fit(widths []int) {
	if t.width <= 0 {
		return
	}
	total := 2 * (len(widths) - 1)
	for _, w := range widths {
		total += w
	}
	// First no column under its Want, then down to the Mins.
	for _, want := range []bool{true, false} {
		for total > t.width {
			widest := -1
			for i, c := range t.cols {
				floor := c.Min
				if want {
					floor = max(floor, c.Want)
				}
				if c.Min > 0 && widths[i] > floor && (widest < 0 || widths[i] > widths[widest]) {
					widest = i
				}
			}
			if widest < 0 {
				break
			}
			widths[widest]--
			total--
		}
	}
}

// outputWidth is the width a human table fits: the terminal's when stdout
// is one, or COLUMNS; 0 (no limit: no cell cut, no column hidden) in a
// pipe or a file, as kubectl prints there, so that what a script greps
// or a bug report pastes is whole. -o id, csv and json are for parsing.
func outputWidth(w io.Writer) int { return proseWidth(w) }

// proseWidth is the width of the terminal stdout is, or COLUMNS; 0 when
// neither says (a pipe, a file): the width prose wraps at, which a pipe
// leaves whole for grep.
func proseWidth(w io.Writer) int {
	if f, ok := osFile(w); ok && term.IsTerminal(f.Fd()) {
		if cols, _, err := term.GetSize(f.Fd()); err == nil && cols > 0 {
			return cols
		}
	}
	if c, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && c > 0 {
		return c
	}
	return 0
}

// output is the -o/--output flag every command that prints JSON takes
// (TestEveryJSONCommandTakesOutput), as kubectl and gh users expect: the
// first of allow is the default (table, what a person reads, whether a
// table or sentences: one word for every command; yaml for policy show),
// then wide, csv, json and,
// where a command lists identities or items, id.
type output struct {
	format string
	json   bool // --json, the older spelling of -o json
	wide   bool // --wide, the same as -o wide
	allow  []string
}

// Resolve settles the format from -o, --json and --wide, refusing a value
// the command does not print (a usage error).
func (o *output) Resolve() (string, error) {
	f := o.format
	if o.json {
		if f != "" && f != "json" {
			return "", fmt.Errorf("--json and -o %s say different things: pass one", f)
		}
		f = "json"
	}
	if o.wide {
		if f != "" && f != "wide" {
			return "", fmt.Errorf("--wide and -o %s say different things: pass one", f)
		}
		f = "wide"
	}
	if f == "" || f == "text" && o.allow[0] == "table" {
		// "text", the name some commands gave their default before
		// every one was "table", still prints it.
		f = o.allow[0]
	}
	for _, a := range o.allow {
		if f == a {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown output format %q: use one of %s", f, strings.Join(o.allow, ", "))
}

// addFlags gives cmd -o/--output and --json, the older spelling of -o json
// that scripts use; formats says in words what -o takes.
func (o *output) addFlags(cmd *cobra.Command, jsonUsage, formats string) {
	cmd.Flags().BoolVar(&o.json, "json", false, jsonUsage+" (-o json)")
	cmd.Flags().StringVarP(&o.format, "output", "o", "", formats)
	_ = cmd.RegisterFlagCompletionFunc("output", cobra.FixedCompletions(o.allow, cobra.ShellCompDirectiveNoFileComp))
}

// textOrJSON is the output of a command that prints its text (a table, a
// record, a result) or the same as JSON.
func textOrJSON(text string) output { return output{allow: []string{text, "json"}} }

// addTextOrJSONFlags is addFlags for a textOrJSON output.
func (o *output) addTextOrJSONFlags(cmd *cobra.Command, jsonUsage string) {
	o.addFlags(cmd, jsonUsage, o.allow[0]+" (the default) or json")
}

// wantJSON settles -o and --json for a textOrJSON command, before it does
// anything: a format it does not print is a usage error naming those it does.
func (o *output) wantJSON(cmd *cobra.Command) (bool, error) {
	f, err := o.Resolve()
	if err != nil {
		return false, usageError{cmd.CommandPath(), err}
	}
	return f == "json", nil
}

// csvTable writes RFC 4180 CSV with a header row, for spreadsheets.
type csvTable struct{ w *csv.Writer }

func newCSVTable(w io.Writer, header ...string) (*csvTable, error) {
	t := &csvTable{csv.NewWriter(w)}
	return t, t.w.Write(header)
}

// Row writes one record, each cell neutralised as the evidence bundle's
// CSV files are (campaigns/report, docs/report.md): a cell a spreadsheet
// would read as a formula (= + - @, a tab or a carriage return first,
// after any spaces) gets a leading apostrophe.
func (t *csvTable) Row(cells ...string) error {
	for i, s := range cells {
		if u := strings.TrimLeft(s, " "); u != "" && strings.ContainsRune("=+-@\t\r", rune(u[0])) {
			cells[i] = "'" + s
		}
	}
	return t.w.Write(cells)
}

// Flush writes what is buffered and reports any error of the writes.
func (t *csvTable) Flush() error {
	t.w.Flush()
	return t.w.Error()
}
