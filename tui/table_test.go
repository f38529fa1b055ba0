package tui

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
)

type row struct{ id, name string }

func newRowTable(n int) *table[row] {
	rows := make([]row, n)
	for i := range rows {
		rows[i] = row{id: "id-" + strconv.Itoa(i), name: "name-" + strconv.Itoa(i)}
	}
	t := newTable([]column{
		{Title: "NAME", Min: 6, Grow: 1},
		{Title: "N", Min: 3, Right: true, Drop: 1},
	}, func(r row) string { return r.id }, func(r row, dst []string) {
		dst[0], dst[1] = r.name, strings.TrimPrefix(r.id, "id-")
	})
	t.SetRows(rows)
	return t
}

func TestTableScrolling(t *testing.T) {
	tb := newRowTable(100)
	tb.SetSize(20, 11) // header + 10 rows
	if tb.PageSize() != 10 {
		t.Fatalf("page size %d", tb.PageSize())
	}
	tb.Move(15)
	if tb.Cursor() != 15 || tb.offset != 6 {
		t.Errorf("cursor %d offset %d, want 15 and 6", tb.Cursor(), tb.offset)
	}
	tb.Move(-3)
	if tb.offset != 6 {
		t.Errorf("moving within the page scrolled: offset %d", tb.offset)
	}
	tb.Move(-100)
	if tb.Cursor() != 0 || tb.offset != 0 {
		t.Errorf("cursor %d offset %d, want 0 0", tb.Cursor(), tb.offset)
	}
	tb.GotoBottom()
	if tb.Cursor() != 99 || tb.offset != 90 {
		t.Errorf("cursor %d offset %d, want 99 90", tb.Cursor(), tb.offset)
	}
	lines := strings.Split(tb.View(), "\n")
	if len(lines) != 11 || !strings.HasPrefix(lines[10], ">name-99") || !strings.HasPrefix(lines[1], " name-90") {
		t.Errorf("bottom page:\n%s", strings.Join(lines, "\n"))
	}
	for _, l := range lines {
		if w := textWidth(l); w != 20 {
			t.Errorf("line %q is %d wide, want 20", l, w)
		}
	}
	// Growing the terminal never leaves blank rows under the last one.
	tb.SetSize(20, 31)
	if tb.offset != 70 {
		t.Errorf("offset after growing %d, want 70", tb.offset)
	}
}

func TestTableKeepsSelectionByKey(t *testing.T) {
	tb := newRowTable(10)
	tb.SetSize(20, 5)
	tb.Move(3)
	tb.Sort(func(a, b row) int { return strings.Compare(b.id, a.id) }) // reversed
	if k, _ := tb.SelectedKey(); k != "id-3" {
		t.Errorf("after sort the cursor is on %s, want id-3", k)
	}
	tb.SetRows(tb.rows[:2]) // id-3 gone: the cursor stays in range
	if tb.Cursor() != 1 {
		t.Errorf("cursor %d after the rows shrank, want 1", tb.Cursor())
	}
	tb.SetRows(nil)
	if _, ok := tb.Selected(); ok || tb.Cursor() != 0 {
		t.Error("empty table has a selection")
	}
	tb.Move(1)
	tb.GotoBottom()
	if v := tb.View(); strings.Count(v, "\n") != 4 {
		t.Errorf("empty table view %q: want the header and 4 blank lines", v)
	}
}

func TestTableLayout(t *testing.T) {
	tb := newRowTable(3)
	tb.SetSize(9, 4) // gutter + 6 + space + 3 = 11 > 9: N is dropped
	if tb.widths[1] != 0 || tb.widths[0] != 8 {
		t.Errorf("widths %v at 9 cells, want [8 0]", tb.widths)
	}
	tb.SetSize(5, 4) // too narrow even for NAME alone: truncated
	for _, l := range strings.Split(tb.View(), "\n") {
		if textWidth(l) > 5 {
			t.Errorf("line %q wider than 5", l)
		}
	}
	tb.SetSize(30, 4)
	if tb.widths[0] != 25 || tb.widths[1] != 3 {
		t.Errorf("widths %v at 30 cells, want [25 3]", tb.widths)
	}
	if !strings.Contains(tb.View(), "name-2    ") || !strings.Contains(tb.View(), "  2") {
		t.Errorf("alignment:\n%s", tb.View())
	}

	// The identity columns of one source fit 80 cells exactly, and grow to
	// fill any width; with several sources SOURCE shows from 84 cells, AGE
	// giving way first.
	for _, many := range []bool{false, true} {
		for _, w := range []int{80, 81, 83, 84, 88, 100, 133, 240} {
			it := newTable(identityColumns, func(int32) string { return "" }, nil)
			it.SetMarked(func(int32) bool { return false })
			it.SetHidden(colSource, !many)
			it.SetHidden(colRelations, true) // shown only with a person: filter
			it.SetSize(w, 10)
			total, shown := 2, 0
			for _, cw := range it.widths {
				if cw > 0 {
					total += cw
					shown++
				}
			}
			total += shown - 1
			if total != w || it.rowWidth != w {
				t.Errorf("identity columns (many sources: %v) at %d cells take %d (%v)", many, w, total, it.widths)
			}
			if source := it.widths[colSource] > 0; source != (many && w >= 84) {
				t.Errorf("many sources %v, %d cells: SOURCE shown %v", many, w, source)
			}
			if w == 84 && many && it.widths[colAge] != 0 {
				t.Errorf("at 84 cells AGE should give way to SOURCE: %v", it.widths)
			}
		}
	}
}

func TestFormat(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", 100000: "100,000", -1234: "-1,234"} {
		if got := commas(n); got != want {
			t.Errorf("commas(%d) = %q, want %q", n, got, want)
		}
	}
	now := testNow
	for d, want := range map[time.Duration]string{
		30 * time.Second: "just now", 5 * time.Minute: "5m ago", 3 * time.Hour: "3h ago",
		47 * time.Hour: "47h ago", 14 * 24 * time.Hour: "14d ago", 59 * 24 * time.Hour: "59d ago",
		150 * 24 * time.Hour: "150d ago", 800 * 24 * time.Hour: "2y70d ago", -3 * 24 * time.Hour: "in 3d",
	} {
		if got := audit.Ago(now.Add(-d), now); got != want {
			t.Errorf("audit.Ago(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestOrderByKeysIsStableSort: the counting sort behind every column's
// order puts positions in the order a stable sort by key does, ties in
// their given order, with few distinct keys and with many, keys within
// a range as wide as the rows (ranked without a sort) and wider, to the
// ends of the int64s (never used, unknown).
func TestOrderByKeysIsStableSort(t *testing.T) {
	for _, distinct := range []int{1, 13, 1013, 4999, 5000, 5001, 1 << 20, -1} {
		keys := make([]int64, 5000)
		for i := range keys {
			if distinct < 0 {
				keys[i] = []int64{-1 << 62, 1 << 62, -1 << 63, 1<<63 - 1, 0}[(i*7919)%5]
				continue
			}
			keys[i] = int64((i*7919)%distinct) - 500 // ties, out of order, negatives
		}
		want := make([]int32, len(keys))
		for i := range want {
			want[i] = int32(i)
		}
		slices.SortStableFunc(want, func(a, b int32) int { return cmp.Compare(keys[a], keys[b]) })
		if got := orderByKeys(keys, make([]int32, len(keys))); !slices.Equal(got, want) {
			t.Errorf("%d distinct keys: %v…, want %v…", distinct, got[:8], want[:8])
		}
	}
}

// TestNaturalOrder: names sort ignoring case, equal names (in any case)
// keep the population's order, an unused identity comes first by last
// use, and an unknown creation date last by age.
func TestNaturalOrder(t *testing.T) {
	ids := []audit.Identity{
		identity(audit.KindGitHubDeployKey, "beta", "acme/a"),
		identity(audit.KindGitHubDeployKey, "Alpha", "acme/a"),
		identity(audit.KindGitHubDeployKey, "BETA", "acme/a"),
		identity(audit.KindGitHubDeployKey, "alpha2", "acme/a"),
		identity(audit.KindGitHubDeployKey, "", "acme/a"),
	}
	ids[0].LastUsedAt, ids[1].LastUsedAt, ids[3].LastUsedAt = daysAgo(3), daysAgo(10), daysAgo(1)
	ids[2].LastUsedAt = daysAgo(10)
	ids[4].CreatedAt = nil
	pop := newPopulation(ids)
	for _, c := range []struct {
		col  int
		want []int32
	}{
		{colName, []int32{4, 1, 3, 0, 2}},
		{colLastUsed, []int32{4, 1, 2, 0, 3}},
		{colAge, []int32{0, 1, 2, 3, 4}},
	} {
		if got := naturalOrder(pop, c.col); !slices.Equal(got, c.want) {
			t.Errorf("sort %s: %v, want %v", sortNames[c.col], got, c.want)
		}
	}
}

// TestPopulationFind: an identity is found by its ID whether the rows
// came in the order of their IDs (binary search, no map), out of it, or
// in order at first and out of it in a later batch (the map is built
// then); an older version does not find rows appended after it.
func TestPopulationFind(t *testing.T) {
	ids := make([]audit.Identity, 300)
	for i := range ids {
		ids[i] = identity(audit.KindGitHubDeployKey, fmt.Sprintf("key-%03d", i), "acme/a")
	}
	sorted := slices.Clone(ids)
	slices.SortFunc(sorted, func(a, b audit.Identity) int { return strings.Compare(a.ID, b.ID) })
	shuffled := slices.Clone(sorted)
	for i := range shuffled {
		j := (i * 7919) % len(shuffled)
		shuffled[i], shuffled[j] = shuffled[j], shuffled[i]
	}
	inBatches := func(ids []audit.Identity, sizes ...int) *population {
		p := &population{b: newRowBuilder(), srcs: map[[2]uint32]bool{}, tally: newTally()}
		for _, n := range sizes {
			p = p.appended(p.b.encodeAll(ids[:n]), nil)
			ids = ids[n:]
		}
		return p.appended(p.b.encodeAll(ids), nil)
	}
	late := append(slices.Clone(sorted[:200]), shuffled[200:]...)
	// late's last 100 are shuffled from all 300: keep those not already in.
	seen := map[string]bool{}
	late = slices.DeleteFunc(late, func(id audit.Identity) bool { d := seen[id.ID]; seen[id.ID] = true; return d })
	for name, c := range map[string]struct {
		p      *population
		mapped bool
	}{
		"in ID order":          {newPopulation(sorted), false},
		"in ID order, batched": {inBatches(sorted, 1, 64, 100), false},
		"out of order":         {newPopulation(shuffled), true},
		"out of order later":   {inBatches(late, 150, 50), true},
	} {
		p := c.p
		if (p.index != nil) != c.mapped {
			t.Errorf("%s: index map built %v, want %v", name, p.index != nil, c.mapped)
		}
		for i := range p.len() {
			if got, ok := p.find(p.id(int32(i))); !ok || got != int32(i) {
				t.Errorf("%s: find(%s) = %d, %v; want %d", name, p.id(int32(i)), got, ok, i)
			}
		}
		if _, ok := p.find("github:acme:nothing"); ok {
			t.Errorf("%s: found an ID it does not hold", name)
		}
		if n := slices.Collect(p.ids()); len(n) != p.len() {
			t.Errorf("%s: ids gave %d of %d", name, len(n), p.len())
		}
	}
	// A version before the last batch does not find that batch's rows.
	old := newPopulation(shuffled[:100])
	grown := old.appended(old.b.encodeAll(shuffled[100:]), nil)
	if _, ok := old.find(shuffled[200].ID); ok {
		t.Error("an older version finds a row appended after it")
	}
	if _, ok := grown.find(shuffled[200].ID); !ok {
		t.Error("the grown version does not find its last rows")
	}
}

// TestOwnerHasItsDueAt120: at 120 columns, with SOURCE shown, OWNER is 15
// cells ("(george-nguyen)" whole), where NAME and SCOPE took the spare
// by their shares and left it 8; FINDINGS keeps two findings' 14.
func TestOwnerHasItsDueAt120(t *testing.T) {
	it := newTable(identityColumns, func(int32) string { return "" }, nil)
	it.SetMarked(func(int32) bool { return false })
	it.SetHidden(colRelations, true)
	it.SetMinFit(colLastUsed, 10, 0) // "3y329d ago"
	it.SetMinFit(colAge, 6, 0)       // "3y329d"
	it.SetSize(120, 10)
	if it.widths[colOwner] < 15 || it.widths[colFindings] < 14 || it.widths[colSource] < 16 {
		t.Errorf("at 120 columns OWNER %d, FINDINGS %d, SOURCE %d cells; want 15, 14, 16: %v", it.widths[colOwner], it.widths[colFindings], it.widths[colSource], it.widths)
	}
}
