package tui

import "slices"

// Sorting a million identities by name once they have loaded ranked every
// distinct name then (textRanks): 0.3 s of the 0.7 s the sort took (issue
// 21). The names are ranked while the rows load instead, on the loading
// goroutine: each batch's new names are put in order as the batch is
// sent (merged where they climb in a few runs, else sorted by sortTexts)
// and merged with the runs before it, a run merged whenever the one
// before is no larger than twice its size, so each name takes part in a
// few merges only. The load's last message carries the merged order (nameOrder), and
// the sort by name the auditor asks for then ranks the rows in one pass.

// nameOrder is the distinct names of a population's first rows rows, as
// indices into its texts, in the order the name column sorts them
// (textRanks: case-insensitive, ASCII). tie has bit k set when idx[k]
// folds to the same text as idx[k-1]: the two share a rank.
type nameOrder struct {
	idx  []uint32
	tie  []uint64
	rows int
}

// ranks is, indexed by text, the rank of each name, as textRanks gives
// it, for tables of n texts, and how many ranks there are.
func (o *nameOrder) ranks(n int) ([]int32, int) {
	rank := make([]int32, n)
	r := int32(-1)
	for k, i := range o.idx {
		if o.tie[k/64]&(1<<(k%64)) == 0 {
			r++
		}
		rank[i] = r
	}
	return rank, int(r) + 1
}

// foldedText is a name: its index, its place in nameRanker.folded (the
// name in lower case, lowerASCII), and key: its eight bytes after the
// prefix every name ranked so far shares (nameRanker.common), as an
// integer, so most comparisons of a merge compare two integers beside
// each other in memory rather than two texts elsewhere. It holds no
// pointer, so a merge writes no pointer the garbage collector must be
// told of (merges of texts took 0.75 s at a million names).
type foldedText struct {
	key uint64
	i   uint32
	f   uint32
}

// nameRanker ranks the names of rows as they are encoded (batcher).
type nameRanker struct {
	seen    []uint64 // bit i: text i is in a run or pending
	folded  []string // every name, in lower case, in the order added
	pending []foldedText
	// sorted is the names sealed so far, as runs one after the other,
	// each sorted and over twice the size of the one after; starts are
	// where they start. Runs are merged in place, through aux, so the
	// merges reuse memory already touched (fresh memory for each merge
	// cost more than the merge itself).
	sorted []foldedText
	starts []int
	aux    []foldedText
	texts  []string // scratch for sortTexts
	pos    []int32
	// common is how many bytes every name so far starts with (keys are
	// the eight after them); any is whether there was a name.
	common int
	any    bool
}

// reserve makes room for the names of n rows in the lists that keep
// them (folded, sorted, aux), so they do not grow as the names come:
// append grows a list of a million by a quarter at a time, each growth
// a copy into memory the process had not touched, a page fault each 4
// KiB, and the lists' growth was half a CPU-second of an open of a
// million, a third of it once the last row was read (issue 21). Room
// never written is never touched.
func (r *nameRanker) reserve(n int) {
	if n <= cap(r.folded) {
		return
	}
	r.folded = slices.Grow(r.folded, n-len(r.folded))
	r.sorted = slices.Grow(r.sorted, n-len(r.sorted))
	r.aux = slices.Grow(r.aux, n-len(r.aux))
}

// add notes the name of a row: text i, s.
func (r *nameRanker) add(i uint32, s string) {
	w := int(i / 64)
	if w >= len(r.seen) {
		r.seen = append(r.seen, make([]uint64, w+1-len(r.seen)+len(r.seen)/2)...)
	}
	if r.seen[w]&(1<<(i%64)) != 0 {
		return
	}
	r.seen[w] |= 1 << (i % 64)
	r.pending = append(r.pending, foldedText{i: i, f: uint32(len(r.folded))})
	r.folded = append(r.folded, lowerASCII(s))
}

// seal sorts the pending names into a run and merges the runs that are no
// larger than twice the one after them.
func (r *nameRanker) seal() {
	if len(r.pending) == 0 {
		return
	}
	common := r.common
	if !r.any {
		common, r.any = len(r.folded[r.pending[0].f]), true
	}
	first := r.folded[0]
	for _, f := range r.pending {
		s := r.folded[f.f]
		common = min(common, len(s))
		for common > 0 && s[:common] != first[:common] {
			common--
		}
	}
	if common != r.common {
		// A shorter shared prefix: the keys start earlier.
		r.common = common
		for k := range r.sorted {
			r.sorted[k].key = textKey(r.folded[r.sorted[k].f], common)
		}
	}
	for k := range r.pending {
		f := &r.pending[k]
		f.key = textKey(r.folded[f.f], common)
	}
	// Rows come in ID order, and an ID ends with its scope and name, so
	// a batch's names often climb in a few long runs: those are merged
	// rather than sorted.
	var breaks []int
	for k := 1; k < len(r.pending) && len(breaks) <= maxNameRuns; k++ {
		if r.less(&r.pending[k], &r.pending[k-1]) {
			breaks = append(breaks, k)
		}
	}
	at := len(r.sorted)
	if len(breaks) < maxNameRuns {
		r.sorted = append(r.sorted, r.pending...)
		r.starts = append(r.starts, at)
		for _, k := range breaks {
			r.starts = append(r.starts, at+k)
		}
		for len(r.starts) > 1 && r.starts[len(r.starts)-2] >= at {
			r.mergeLast()
		}
	} else {
		r.texts, r.pos = r.texts[:0], r.pos[:0]
		for k := range r.pending {
			r.texts = append(r.texts, r.folded[r.pending[k].f])
			r.pos = append(r.pos, int32(k))
		}
		sortTexts(r.texts, r.pos)
		r.starts = append(r.starts, at)
		for _, p := range r.pos {
			r.sorted = append(r.sorted, r.pending[p])
		}
	}
	r.pending = r.pending[:0]
	for n := len(r.starts); n > 1 && r.starts[n-1]-r.starts[n-2] <= 2*(len(r.sorted)-r.starts[n-1]); n = len(r.starts) {
		r.mergeLast()
	}
}

// maxNameRuns is how many climbing runs a batch's names may fall into
// and still be merged rather than sorted.
const maxNameRuns = 4

// less reports whether x's name sorts before y's.
func (r *nameRanker) less(x, y *foldedText) bool {
	return x.key < y.key || x.key == y.key && r.folded[x.f] < r.folded[y.f]
}

// textKey is the eight bytes of s from off, as a big-endian integer,
// zeros past its end (as sortTexts has them).
func textKey(s string, off int) uint64 {
	var k uint64
	for b := off; b < off+8; b++ {
		k <<= 8
		if b < len(s) {
			k |= uint64(s[b])
		}
	}
	return k
}

// order is every name added, covering rows rows, as a nameOrder.
func (r *nameRanker) order(rows int) *nameOrder {
	r.seal()
	for len(r.starts) > 1 {
		r.mergeLast()
	}
	all := r.sorted
	o := &nameOrder{idx: make([]uint32, len(all)), tie: make([]uint64, (len(all)+63)/64), rows: rows}
	for k, f := range all {
		o.idx[k] = f.i
		if k > 0 && all[k-1].key == f.key && r.folded[all[k-1].f] == r.folded[f.f] {
			o.tie[k/64] |= 1 << (k % 64)
		}
	}
	*r = nameRanker{}
	return o
}

// mergeLast merges the last two runs into one, in place: the first of
// them is copied aside, then merged with the second into where both were;
// where they tie the first run's texts come first (the order among ties
// does not matter: tied texts share a rank).
func (r *nameRanker) mergeLast() {
	n := len(r.starts)
	at, mid := r.starts[n-2], r.starts[n-1]
	r.starts = r.starts[:n-1]
	r.aux = append(r.aux[:0], r.sorted[at:mid]...)
	a, out := r.aux, r.sorted
	i, j, k := 0, mid, at
	for i < len(a) && j < len(out) {
		x, y := &a[i], &out[j]
		if r.less(y, x) {
			out[k] = *y
			j++
		} else {
			out[k] = *x
			i++
		}
		k++
	}
	copy(out[k:], a[i:]) // what remains of the second run is in place
}
