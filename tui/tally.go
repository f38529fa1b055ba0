package tui

import "maps"

// tally is what the overview counts (overview.go): identities per status,
// kind, owner, change mark and finding. (Its leavers are :offboard's,
// read with the directory of people: overviewView.readLeavers.) The population keeps it
// as rows arrive and change (population.count), a row at a time, so the
// overview never passes over a million rows on the event loop (issue 21:
// a keypress stays under a frame while the population loads or changes).
// Each version of a population has its own copy (small: a count per kind,
// per kind of finding and per leaver).
type tally struct {
	removed, unowned, fresh, changed int
	kinds                            map[uint32]int // active identities by kind (an index into tables.strs)
	findings                         map[uint32]int // active identities by kind of finding (tables.fkinds)
}

func newTally() *tally {
	return &tally{kinds: map[uint32]int{}, findings: map[uint32]int{}}
}

// clone is a copy that changes independently of t.
func (t *tally) clone() *tally {
	c := *t
	c.kinds, c.findings = maps.Clone(t.kinds), maps.Clone(t.findings)
	return &c
}

// add counts r (of tables tb) d times: 1 as it arrives, -1 as it goes.
func (t *tally) add(tb *tables, r *idRow, d int) {
	switch r.status {
	case textRemoved:
		t.removed += d
		return
	case textNotChecked:
		return // counted by population.notChecked
	}
	// What follows leads to status:active in the overview: it counts
	// only what those lines show.
	t.kinds[r.kind] += d
	if r.owner == textNone {
		t.unowned += d
	}
	switch r.change {
	case textNew:
		t.fresh += d
	case textChanged:
		t.changed += d
	}
	for k := range uint32(r.nFind) {
		t.findings[tb.finds[r.find+k].kind] += d
	}
}
