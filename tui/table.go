package tui

import (
	"slices"
	"strings"

	"github.com/charmbracelet/lipgloss"
)

// column describes one table column. Widths are in terminal cells.
type column struct {
	Title string
	Min   int // width it never shrinks below while shown
	Max   int // width it never grows beyond; 0 = no limit
	Grow  int // share of the spare width it takes; 0 = stays at Min
	// Fit is the width that shows a usual value whole (an AWS account's
	// twelve digits, two findings): the spare width goes there first,
	// before the shares, so that a long NAME does not take it all.
	Fit int
	// FitRank orders the columns short of their Fit: a lower rank gets
	// the spare width first (ties in column order), so a column the
	// reader needs whole (two findings) is not starved by one before it.
	FitRank int
	Drop    int  // when the terminal is too narrow, higher Drop hides first; 0 = never hidden
	Right   bool // right-align (numbers)
	// Middle cuts a value too long for the column in the middle, keeping
	// its start and its end: names built as prefix-what-date
	// ("offboard-alice-smith-2026-10-31") differ at either end.
	Middle bool
	// KeepEnd cuts a value too long for the column at its start, keeping
	// its end: a scope is a path from the widest part to the narrowest
	// (org/repo/environment, cluster/namespace), and the rows on a
	// screen share its start.
	KeepEnd bool
}

// table is a cursor over rows of any type, drawn as columns. It is built
// for very large row counts: moving is O(1), and View formats only the rows
// that are on screen, so time and allocations per keypress depend on the
// terminal height, never on the number of rows.
//
// Rows are identified by a key (an identity ID), so the selection survives
// SetRows and Sort.
type table[T any] struct {
	columns []column
	off     []bool // columns hidden whatever the width (SetHidden)
	widths  []int  // per column; 0 = hidden
	rows    []T
	key     func(T) string
	// cells writes the plain, sanitized text of each column of a row into
	// dst, which has one entry per column.
	cells func(row T, dst []string)
	// style, when set, may give a cell of an unselected row a style.
	style func(row T, col int) (lipgloss.Style, bool)
	// marked, when set, reports whether a row is marked (selected for a
	// bulk action): the gutter grows a second cell that shows a "*".
	marked func(row T) bool

	cursor   int // index into rows of the selected row
	offset   int // index into rows of the first row on screen
	width    int
	height   int // rows on screen, after the column header
	rowWidth int // cells of a drawn row, at most width unless overflow
	overflow bool

	// frame holds the cells of the rows on screen while View draws
	// them, reused across frames; mid is distinctCuts' scratch.
	frame [][]string
	mid   struct {
		vals, cuts []string
		need       []cutNeed
	}
}

// newTable returns an empty table.
func newTable[T any](columns []column, key func(T) string, cells func(T, []string)) *table[T] {
	return &table[T]{
		columns: slices.Clone(columns), // SetDrop changes a table's own
		off:     make([]bool, len(columns)),
		widths:  make([]int, len(columns)),
		key:     key,
		cells:   cells,
	}
}

// SetCellStyle sets the function that styles cells of unselected rows; it
// returns false for a cell drawn plain, which is cheaper.
func (t *table[T]) SetCellStyle(f func(row T, col int) (lipgloss.Style, bool)) { t.style = f }

// SetMarked sets the function that tells marked rows; it must be set
// before SetSize, as it widens the gutter.
func (t *table[T]) SetMarked(f func(row T) bool) { t.marked = f }

// SetHidden hides or shows a column whatever the width: one with nothing
// to tell apart, such as SOURCE while every row has the same.
func (t *table[T]) SetHidden(col int, hidden bool) {
	if t.off[col] == hidden {
		return
	}
	t.off[col] = hidden
	if t.width > 0 {
		t.layout()
		t.clampOffset()
	}
}

// SetDrop sets a column's Drop: its place in the order a narrow
// terminal hides columns, which may depend on what the view shows.
func (t *table[T]) SetDrop(col, drop int) {
	if t.columns[col].Drop == drop {
		return
	}
	t.columns[col].Drop = drop
	if t.width > 0 {
		t.layout()
		t.clampOffset()
	}
}

// SetMax sets a column's Max, which may depend on the rows (the widest
// value); it lays the columns out again.
func (t *table[T]) SetMax(col, max int) {
	if t.columns[col].Max == max {
		return
	}
	t.columns[col].Max = max
	if t.width > 0 {
		t.layout()
		t.clampOffset()
	}
}

// SetMinFit sets a column's Min and Fit, which may depend on the rows
// (the widest value); it lays the columns out again.
func (t *table[T]) SetMinFit(col, min, fit int) {
	if t.columns[col].Min == min && t.columns[col].Fit == fit {
		return
	}
	t.columns[col].Min, t.columns[col].Fit = min, fit
	if t.width > 0 {
		t.layout()
		t.clampOffset()
	}
}

// gutter is the cells before the first column: the cursor marker, and
// the mark when rows can be marked.
func (t *table[T]) gutter() int {
	if t.marked != nil {
		return 2
	}
	return 1
}

// SetRows replaces the rows. The cursor stays on the row with the same key
// when it is still there, scrolled the least that shows it, and otherwise
// at the same position.
func (t *table[T]) SetRows(rows []T) {
	key, ok := t.SelectedKey()
	t.rows = rows
	if !ok || !t.SelectKey(key) {
		t.setCursor(t.cursor)
	}
}

// Reorder is SetRows for rows put in another order (a sort): the cursor's
// row also keeps its line of the screen where the rows around it allow,
// as k9s keeps it, rather than scrolled to the top or bottom edge.
func (t *table[T]) Reorder(rows []T) {
	key, ok := t.SelectedKey()
	line := t.cursor - t.offset
	t.rows = rows
	if !ok || !t.selectKeyAt(key, line) {
		t.setCursor(t.cursor)
	}
}

// Sort orders the rows with cmp, stable, keeping the cursor on its row and
// that row on its line of the screen where it can (Reorder).
// Sorting 100,000 rows takes milliseconds; do it on a key press, not per frame.
func (t *table[T]) Sort(cmp func(a, b T) int) {
	key, ok := t.SelectedKey()
	line := t.cursor - t.offset
	slices.SortStableFunc(t.rows, cmp)
	if ok {
		t.selectKeyAt(key, line)
	}
}

// selectKeyAt moves the cursor to the row with key k, scrolled so that
// the row is the line'th on screen, or as near it as the ends of the rows
// allow (no blank lines below the last row while rows above are hidden).
// It reports whether there is such a row.
func (t *table[T]) selectKeyAt(k string, line int) bool {
	for i, r := range t.rows {
		if t.key(r) == k {
			t.cursor = i
			t.offset = i - line
			t.clampOffset()
			return true
		}
	}
	return false
}

// ColumnWidth is the width column col is drawn at: 0 while hidden.
func (t *table[T]) ColumnWidth(col int) int { return t.widths[col] }

// Rows are the rows, in display order; the caller must not change them.
func (t *table[T]) Rows() []T { return t.rows }

// Offset is the index of the first row on screen.
func (t *table[T]) Offset() int { return t.offset }

// Len is the number of rows.
func (t *table[T]) Len() int { return len(t.rows) }

// Cursor is the index of the selected row.
func (t *table[T]) Cursor() int { return t.cursor }

// Selected is the row under the cursor; false when the table is empty.
func (t *table[T]) Selected() (T, bool) {
	if len(t.rows) == 0 {
		var zero T
		return zero, false
	}
	return t.rows[t.cursor], true
}

// SelectedKey is the key of the row under the cursor.
func (t *table[T]) SelectedKey() (string, bool) {
	r, ok := t.Selected()
	if !ok {
		return "", false
	}
	return t.key(r), true
}

// SelectKey moves the cursor to the row with key k and reports whether
// there is one. It scans the rows: call it on a change, not per frame.
func (t *table[T]) SelectKey(k string) bool {
	for i, r := range t.rows {
		if t.key(r) == k {
			t.setCursor(i)
			return true
		}
	}
	return false
}

// Move moves the cursor by n rows (negative: up), stopping at the ends.
func (t *table[T]) Move(n int) { t.setCursor(t.cursor + n) }

// GotoTop selects the first row.
func (t *table[T]) GotoTop() { t.setCursor(0) }

// GotoBottom selects the last row.
func (t *table[T]) GotoBottom() { t.setCursor(len(t.rows) - 1) }

// PageSize is the number of rows on screen.
func (t *table[T]) PageSize() int { return max(t.height, 1) }

func (t *table[T]) setCursor(i int) {
	t.cursor = max(min(i, len(t.rows)-1), 0)
	t.clampOffset()
}

// clampOffset scrolls the least needed to keep the cursor on screen.
func (t *table[T]) clampOffset() {
	page := t.PageSize()
	if t.cursor < t.offset {
		t.offset = t.cursor
	}
	if t.cursor >= t.offset+page {
		t.offset = t.cursor - page + 1
	}
	// Never leave blank rows at the bottom while rows above are hidden.
	t.offset = max(min(t.offset, len(t.rows)-page), 0)
}

// SetSize sets the size of the table including its column-header line, and
// lays the columns out for the new width.
func (t *table[T]) SetSize(width, height int) {
	t.width, t.height = width, max(height-1, 0)
	t.layout()
	t.clampOffset()
}

// layout gives each column its width: everyone gets Min (columns are
// hidden, highest Drop first, until that fits), then the spare width goes
// to columns short of their Fit, then to the growing columns in
// proportion to Grow, up to their Max. Columns are
// separated by one space, after a gutter for the cursor marker (and the
// mark, when rows can be marked).
func (t *table[T]) layout() {
	avail := t.width - t.gutter()
	shown := make([]bool, len(t.columns))
	for i := range shown {
		shown[i] = !t.off[i]
	}
	need := func() int {
		n, cols := 0, 0
		for i, c := range t.columns {
			if shown[i] {
				n += c.Min
				cols++
			}
		}
		return n + max(cols-1, 0)
	}
	for need() > avail {
		drop := -1
		for i, c := range t.columns {
			if shown[i] && c.Drop > 0 && (drop < 0 || c.Drop > t.columns[drop].Drop) {
				drop = i
			}
		}
		if drop < 0 {
			break // nothing left to hide: cells get truncated by the width
		}
		shown[drop] = false
	}
	for i, c := range t.columns {
		t.widths[i] = 0
		if shown[i] {
			t.widths[i] = c.Min
		}
	}
	spare := avail - need()
	t.overflow = spare < 0
	for _, i := range t.fitOrder() {
		if c := t.columns[i]; shown[i] && spare > 0 && c.Fit > t.widths[i] {
			add := min(c.Fit-t.widths[i], spare)
			t.widths[i] += add
			spare -= add
		}
	}
	for spare > 0 {
		total := 0
		for i, c := range t.columns {
			if shown[i] && c.Grow > 0 && (c.Max == 0 || t.widths[i] < c.Max) {
				total += c.Grow
			}
		}
		if total == 0 {
			break
		}
		given := 0
		for i, c := range t.columns {
			if !shown[i] || c.Grow == 0 || (c.Max > 0 && t.widths[i] >= c.Max) {
				continue
			}
			add := max(spare*c.Grow/total, 1)
			add = min(add, spare-given)
			if c.Max > 0 {
				add = min(add, c.Max-t.widths[i])
			}
			t.widths[i] += add
			given += add
			if given == spare {
				break
			}
		}
		spare -= given
	}
	t.rowWidth = t.width - max(spare, 0)
}

// fitOrder is the columns' indices by FitRank, ties in column order.
func (t *table[T]) fitOrder() []int {
	order := make([]int, len(t.columns))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return t.columns[a].FitRank - t.columns[b].FitRank })
	return order
}

// View draws the column header and the rows on screen: exactly height
// lines (fewer rows than that leave blank lines), none wider than width.
func (t *table[T]) View() string {
	var out strings.Builder
	out.Grow((t.height + 1) * (2*t.width + 16))
	out.WriteString(t.header())
	end := min(t.offset+t.height, len(t.rows))
	frame := t.frameCells(t.offset, end)
	for i := t.offset; i < end; i++ {
		out.WriteByte('\n')
		out.WriteString(t.renderRow(i, frame[i-t.offset]))
	}
	for i := end - t.offset; i < t.height; i++ {
		out.WriteByte('\n')
	}
	return out.String()
}

func (t *table[T]) header() string {
	b := new(strings.Builder)
	b.Grow(t.width + 8)
	writeSpaces(b, t.gutter())
	first := true
	for i, c := range t.columns {
		if t.widths[i] == 0 {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		writeCell(b, c.Title, t.widths[i], c.Right)
	}
	return theme.ColumnHeader.Render(truncate(b.String(), t.width))
}

// frameCells are the cells of rows from to end, the values of a column
// cut in the middle (column.Middle) or at its start (column.KeepEnd) cut
// to its width together, so that no two different ones read the same
// (distinctCuts).
func (t *table[T]) frameCells(from, end int) [][]string {
	n := end - from
	for len(t.frame) < n {
		t.frame = append(t.frame, make([]string, len(t.columns)))
	}
	frame := t.frame[:n]
	for k, cells := range frame {
		clear(cells)
		t.cells(t.rows[from+k], cells)
	}
	for c, col := range t.columns {
		if w := t.widths[c]; (col.Middle || col.KeepEnd) && w > 0 {
			m := &t.mid
			m.vals, m.cuts, m.need = m.vals[:0], slices.Grow(m.cuts[:0], n)[:n], slices.Grow(m.need[:0], n)[:n]
			for _, cells := range frame {
				m.vals = append(m.vals, cells[c])
			}
			distinctCuts(m.vals, m.cuts, m.need, w, col.KeepEnd)
			for k, cells := range frame {
				cells[c] = m.cuts[k]
			}
		}
	}
	return frame
}

// renderRow draws row i, whose cells frameCells gave.
func (t *table[T]) renderRow(i int, cells []string) string {
	row := t.rows[i]
	selected := i == t.cursor
	b := new(strings.Builder)
	b.Grow(2*t.width + 16) // "…" and "—" take three bytes for one cell
	if selected {
		b.WriteByte('>')
	} else {
		b.WriteByte(' ')
	}
	if t.marked != nil {
		if t.marked(row) {
			b.WriteByte('*')
		} else {
			b.WriteByte(' ')
		}
	}
	first := true
	for c, col := range t.columns {
		w := t.widths[c]
		if w == 0 {
			continue
		}
		if !first {
			b.WriteByte(' ')
		}
		first = false
		if !selected && t.style != nil {
			if st, ok := t.style(row, c); ok {
				var cell strings.Builder
				writeCell(&cell, cells[c], w, col.Right)
				b.WriteString(st.Render(cell.String()))
				continue
			}
		}
		writeCell(b, cells[c], w, col.Right)
	}
	if selected {
		// Pad the selected row to the full width so the highlight is a bar.
		writeSpaces(b, t.width-t.rowWidth)
	}
	line := b.String()
	if t.overflow {
		line = truncate(line, t.width)
	}
	if selected {
		return theme.Selected.Render(line)
	}
	return line
}
