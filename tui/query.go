package tui

import (
	"cmp"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// sortSpec is the order of the identities table: a column (or noSort for
// the order identities were given in), in its natural order or reversed.
// Each column's natural order puts first what an auditor looks at first:
// unowned, longest unused, oldest, most severe findings, new and changed.
type sortSpec struct {
	col      int
	reversed bool
}

const noSort = -1

// sortable are the columns `s` cycles through, in order.
var sortable = []int{colKind, colName, colScope, colOwner, colLastUsed, colAge, colFindings, colStatus}

// sortNames name the columns in the title.
var sortNames = map[int]string{
	colKind: "kind", colName: "name", colScope: "scope", colOwner: "owner",
	colLastUsed: "last used", colAge: "age", colFindings: "findings", colStatus: "status",
}

// query is one computation of the table's rows: filter and order. It runs
// off the event loop as a tea.Cmd on an immutable population; its result
// carries its sequence number, and the view drops any result that is not
// the latest. A query that sees a newer one started gives up early.
type query struct {
	seq    uint64
	latest *atomic.Uint64 // the newest seq started
	pop    *population
	filter *filter.Filter // nil: every identity
	env    filter.Env
	sort   sortSpec
	order  []int32 // the natural order of sort.col on pop, when known
	// from, with no order, is the first position to match: the rows
	// before it are prefix, matched by the query before over the same
	// filter and items, whose KIND and FINDINGS cells are as wide as
	// prefixWidths (identitiesView.grew).
	from         int
	prefix       []int32
	prefixWidths [2]int
}

// queryResult is a query's answer.
type queryResult struct {
	seq      uint64
	rows     []int32  // positions in the population, in display order
	order    []int32  // the natural order it computed, to keep for the next query
	sort     sortSpec // what order is for
	version  uint64   // the population version order is for
	stale    bool     // a newer query started: drop it
	upTo     int      // the population's length when it ran: rows are of the positions below
	duration time.Duration
	// kindWidth is the width of the widest KIND cell of rows: KIND is as
	// wide as it (identitiesView.fitKind).
	kindWidth int
	// findingsWidth is the width of the widest FINDINGS cell of rows,
	// which FINDINGS grows no wider than (identitiesView.fitFindings).
	findingsWidth int
}

// queryMatching, when set (by a test), is told how many rows each query
// matches.
var queryMatching func(rows int)

// checkEvery is how many identities a query handles between looks at
// whether it has been superseded.
const checkEvery = 4096

func (q query) cmd() tea.Cmd { return func() tea.Msg { return q.run() } }

func (q query) run() queryResult {
	start := time.Now()
	res := queryResult{seq: q.seq, sort: q.sort, version: q.pop.version}
	order := q.order
	if q.sort.col != noSort && order == nil {
		order = naturalOrder(q.pop, q.sort.col)
	}
	res.order = order
	n := q.pop.len()
	res.upTo = n
	sub := q.pop.subject()
	from := 0
	if order == nil {
		from = q.from
	}
	rows := make([]int32, 0, n-from+len(q.prefix))
	var kinds kindWidths
	var finds findingsWidths
	if queryMatching != nil {
		queryMatching(n - from)
	}
	if from > 0 {
		rows = append(rows, q.prefix...)
		kinds.widest, finds.widest = q.prefixWidths[0], q.prefixWidths[1]
	}
	for k := from; k < n; k++ {
		if k%checkEvery == checkEvery-1 && q.latest.Load() != q.seq {
			res.stale = true
			return res
		}
		i := int32(k)
		if order != nil {
			if q.sort.reversed {
				i = order[n-1-k]
			} else {
				i = order[k]
			}
		}
		if q.filter == nil || q.filter.Match(sub.at(i), &q.env) {
			rows = append(rows, i)
			r := q.pop.row(i)
			kinds.add(&q.pop.t, r.kind)
			finds.add(&q.pop.t, r)
		}
	}
	res.rows = slices.Clip(rows)
	res.kindWidth, res.findingsWidth = kinds.widest, finds.widest
	res.duration = time.Since(start)
	return res
}

// kindWidths measures the KIND cells of rows as they are taken: the
// widest, measuring each kind once (a handful in any population).
type kindWidths struct {
	last   uint32
	seen   []uint32 // the kinds measured (indexes into tables.strs)
	widest int
}

func (w *kindWidths) add(t *tables, kind uint32) {
	if len(w.seen) > 0 && kind == w.last {
		return
	}
	w.last = kind
	if slices.Contains(w.seen, kind) {
		return
	}
	w.seen = append(w.seen, kind)
	w.widest = max(w.widest, textWidth(kindCell(t.strs.at(kind))))
}

// findingsWidths measures the FINDINGS cells of rows as they are taken:
// the widest list of rule names with the commas between them (rule
// names are ASCII), read from the row's finding kinds without building
// the cell.
type findingsWidths struct{ widest int }

func (w *findingsWidths) add(t *tables, r *idRow) {
	if r.nFind == 0 || w.widest >= findingsMax {
		return // none, or FINDINGS is already as wide as it grows
	}
	n := int(r.nFind) - 1
	for k := range uint32(r.nFind) {
		n += len(t.fkinds[t.finds[r.find+k].kind].rule)
	}
	w.widest = max(w.widest, n)
}

// naturalOrder is every position of p sorted by column col in its
// natural order; ties keep the given order. Keys are extracted once into
// one slice of integers: text columns by the rank of each distinct text
// (interned, rows.go), so a million rows sort by comparing integers and
// only the distinct names, scopes or owners are compared as text.
func naturalOrder(p *population, col int) []int32 {
	n := p.len()
	order := make([]int32, n)
	for i := range order {
		order[i] = int32(i)
	}
	keys := make([]int64, n)
	byInt := func(key func(*idRow) int64) {
		for i := range n {
			keys[i] = key(p.row(int32(i)))
		}
	}
	byText := func(ref func(*idRow) uint32, ranked *nameOrder) {
		var rank []int32
		var distinct int
		if ranked != nil {
			// Ranked while the rows loaded (nameorder.go).
			rank, distinct = ranked.ranks(p.t.strs.len())
		} else {
			rank, distinct = textRanks(&p.t, p, ref)
		}
		ranks := make([]int32, n)
		for c := 0; c*rowChunk < n; c++ {
			base, chunk := c*rowChunk, p.chunks[c]
			for k := range chunk[:min(len(chunk), n-base)] {
				ranks[base+k] = rank[ref(&chunk[k])]
			}
		}
		keys = nil
		countingOrder(ranks, distinct, order)
	}
	switch col {
	case colKind:
		rank := make(map[string]int64, len(audit.Kinds))
		for i, k := range audit.Kinds {
			rank[string(k)] = int64(i)
		}
		// A kind's text is looked up once (by its index), and a row of
		// the kind of the row before (a run: an ID holds its kind)
		// looks up nothing.
		byIndex := map[uint32]int64{}
		last, lastRank := ^uint32(0), int64(0)
		byInt(func(r *idRow) int64 {
			if r.kind == last {
				return lastRank
			}
			k, ok := byIndex[r.kind]
			if !ok {
				if k, ok = rank[p.t.strs.at(r.kind)]; !ok {
					k = int64(len(rank))
				}
				byIndex[r.kind] = k
			}
			last, lastRank = r.kind, k
			return k
		})
	case colName:
		byText(func(r *idRow) uint32 { return r.name }, p.names)
	case colScope:
		byText(func(r *idRow) uint32 { return r.scope }, nil)
	case colOwner: // unowned first
		byText(func(r *idRow) uint32 { return r.owner }, nil)
	case colLastUsed: // never (or not reported) first, then longest ago
		byInt(func(r *idRow) int64 {
			if r.lastUsed == noTime {
				return -1 << 62
			}
			return r.lastUsed
		})
	case colAge: // oldest first; unknown creation last
		byInt(func(r *idRow) int64 {
			if r.created == noTime {
				return 1 << 62
			}
			return r.created
		})
	case colFindings: // most severe first, then most findings
		byInt(func(r *idRow) int64 {
			return -int64(p.t.worstSeverity(r)*1000 + min(int(r.nFind), 999))
		})
	case colStatus: // new, changed, active, removed
		byInt(func(r *idRow) int64 {
			switch {
			case r.status == textRemoved:
				return 3
			case r.change == textNew:
				return 0
			case r.change == textChanged:
				return 1
			}
			return 2
		})
	}
	if keys == nil {
		return order // ordered by rank (byText)
	}
	return orderByKeys(keys, order)
}

// orderByKeys fills order with the positions 0..len(keys)-1 sorted by
// key, ties by position: the keys become dense ranks (only the distinct
// keys are sorted), and the positions are ordered by rank in one pass
// (countingOrder).
//
// Keys that lie within a range no wider than there are rows (a kind, a
// status, a count of findings) are their own ranks less the least: no
// key is sorted or searched for (at a million rows the sort and the
// searches were most of the sort by kind, which the table's open waits
// for when the auditor sorts by name: issue 21).
func orderByKeys(keys []int64, order []int32) []int32 {
	if len(keys) == 0 {
		return order
	}
	lo, hi := keys[0], keys[0]
	for _, k := range keys {
		lo, hi = min(lo, k), max(hi, k)
	}
	// hi-lo wraps past the int64s' range, not the uint64s'.
	if span := uint64(hi - lo); span < uint64(len(keys)) {
		ranks := make([]int32, len(keys))
		for i, k := range keys {
			ranks[i] = int32(k - lo)
		}
		return countingOrder(ranks, int(span)+1, order)
	}
	distinct := slices.Clone(keys)
	slices.Sort(distinct)
	distinct = slices.Compact(distinct)
	ranks := make([]int32, len(keys))
	for i, k := range keys {
		r, _ := slices.BinarySearch(distinct, k)
		ranks[i] = int32(r)
	}
	return countingOrder(ranks, len(distinct), order)
}

// countingOrder fills order with the positions 0..len(ranks)-1 sorted by
// rank (each below distinct), ties by position: a counting sort, linear
// in the rows, where a comparison sort of a million packed keys took a
// third of a second (issue 21: the table sorted by name as it opens).
func countingOrder(ranks []int32, distinct int, order []int32) []int32 {
	start := make([]int32, distinct+1)
	for _, r := range ranks {
		start[r+1]++
	}
	for r := 1; r <= distinct; r++ {
		start[r] += start[r-1]
	}
	for i, r := range ranks {
		order[start[r]] = int32(i)
		start[r]++
	}
	return order
}

// textRanks is, for each text that ref gives for a row of p, its rank in
// case-insensitive order (equal texts, ignoring case, share a rank),
// indexed by the text's index in t.strs, and how many ranks there are.
func textRanks(t *tables, p *population, ref func(*idRow) uint32) ([]int32, int) {
	rank := make([]int32, t.strs.len())
	used := make([]bool, t.strs.len())
	var distinct []uint32
	for i := range p.len() {
		if k := ref(p.row(int32(i))); !used[k] {
			used[k] = true
			distinct = append(distinct, k)
		}
	}
	// Case-insensitive (ASCII) order, empty first: the texts in lower
	// case, folded once (most have no capitals), compared as bytes by the
	// runtime's memory comparison.
	folded := make([]string, len(distinct))
	for k, d := range distinct {
		folded[k] = lowerASCII(t.strs.at(d))
	}
	byText := make([]int32, len(distinct))
	for k := range byText {
		byText[k] = int32(k)
	}
	sortTexts(folded, byText)
	var r int32
	for k, d := range byText {
		if k > 0 && folded[byText[k-1]] != folded[d] {
			r++
		}
		rank[distinct[d]] = r
	}
	if len(distinct) == 0 {
		return rank, 0
	}
	return rank, int(r) + 1
}

// sortTexts sorts idx, positions in texts, by their texts, eight bytes at
// a time: each round sorts (eight bytes as an integer, position) pairs,
// then only the runs that tie go on to the next eight. A million names
// sort in a fraction of the time a comparison of strings takes, which
// walks the prefix they share ("identity-") at every step (issue 21:
// sort by any column within a second).
func sortTexts(texts []string, idx []int32) {
	sortTextsFrom(texts, idx, make([]keyedText, len(idx)), 0)
}

type keyedText struct {
	key uint64
	pos int32
}

// sortTextsFrom sorts idx, whose texts agree on their first off bytes.
func sortTextsFrom(texts []string, idx []int32, keys []keyedText, off int) {
	if len(idx) < 32 {
		slices.SortFunc(idx, func(a, b int32) int { return strings.Compare(texts[a], texts[b]) })
		return
	}
	longer := false // some text goes on past these eight bytes
	for j, i := range idx {
		t := texts[i]
		var k uint64
		for b := off; b < off+8; b++ {
			k <<= 8
			if b < len(t) {
				k |= uint64(t[b])
			}
		}
		keys[j] = keyedText{k, i}
		longer = longer || len(t) > off+8
	}
	slices.SortFunc(keys, func(a, b keyedText) int {
		if c := cmp.Compare(a.key, b.key); c != 0 || longer {
			return c
		}
		// Texts that end here and agree up to their end: the shorter
		// first, as strings.Compare has it ("a" < "a\x00").
		return cmp.Compare(len(texts[a.pos]), len(texts[b.pos]))
	})
	for j := range keys {
		idx[j] = keys[j].pos
	}
	if !longer {
		return
	}
	for start := 0; start < len(keys); {
		end := start + 1
		for end < len(keys) && keys[end].key == keys[start].key {
			end++
		}
		if end-start > 1 {
			sortTextsFrom(texts, idx[start:end], keys[start:end], off+8)
		}
		start = end
	}
}

// lowerASCII is s with ASCII capitals in lower case; s itself when it has
// none (most names, scopes and owners), without allocating.
func lowerASCII(s string) string {
	for i := range len(s) {
		if 'A' <= s[i] && s[i] <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if 'A' <= b[j] && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
