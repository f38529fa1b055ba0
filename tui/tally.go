package tui

import (
	"maps"

	"github.com/nhi-audit/nhi/audit"
)

// tally is what the overview counts (overview.go): identities per status,
// kind, owner, change mark, finding and leaver. The population keeps it
// as rows arrive and change (population.count), a row at a time, so the
// overview never passes over a million rows on the event loop (issue 21:
// a keypress stays under a frame while the population loads or changes).
// Each version of a population has its own copy (small: a count per kind,
// per kind of finding and per leaver).
type tally struct {
	removed, unowned, fresh, changed int
	kinds                            map[uint32]int // active identities by kind (an index into tables.strs)
	findings                         map[uint32]int // active identities by kind of finding (tables.fkinds)
	leavers                          map[string]*leaverTally
}

// leaverTally is how many active or not-checked identities a leaver
// still has (a gap is not a removal: nhi offboard --pending counts them
// too, docs/offboarding.md), and of them how many not checked.
type leaverTally struct{ n, unread int }

func newTally() *tally {
	return &tally{kinds: map[uint32]int{}, findings: map[uint32]int{}, leavers: map[string]*leaverTally{}}
}

// clone is a copy that changes independently of t.
func (t *tally) clone() *tally {
	c := *t
	c.kinds, c.findings = maps.Clone(t.kinds), maps.Clone(t.findings)
	c.leavers = make(map[string]*leaverTally, len(t.leavers))
	for who, l := range t.leavers {
		c.leavers[who] = &leaverTally{l.n, l.unread}
	}
	return &c
}

// add counts r (of tables tb) d times: 1 as it arrives, -1 as it goes.
func (t *tally) add(tb *tables, r *idRow, d int) {
	switch r.status {
	case textRemoved:
		t.removed += d
		return
	case textNotChecked:
		// Counted by population.notChecked, and under its leaver.
		t.addLeavers(tb, r, d, 1)
		return
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
	t.addLeavers(tb, r, d, 0)
}

// addLeavers counts r d times under each leaver its orphaned findings
// name; unread is 1 when r is not checked.
func (t *tally) addLeavers(tb *tables, r *idRow, d, unread int) {
	for k := range uint32(r.nFind) {
		f := tb.finds[r.find+k]
		if tb.fkinds[f.kind].rule != audit.RuleOrphaned || !audit.LeftOwner(tb.finding(r, int(k))) {
			continue
		}
		who := tb.strs.at(r.owner)
		if who == "" {
			who = tb.naturalOwner(r)
		}
		l := t.leavers[who]
		if l == nil {
			l = &leaverTally{}
			t.leavers[who] = l
		}
		l.n += d
		l.unread += unread * d
		if l.n == 0 {
			delete(t.leavers, who)
		}
	}
}

// naturalOwner is audit.NaturalOwner of r's attributes.
func (tb *tables) naturalOwner(r *idRow) string {
	for _, key := range []string{"owner", "login", "added_by"} {
		p := tb.pairs.run(r.attr, r.nAttr)
		for k := 0; k < len(p); k += 2 {
			if tb.strs.at(p[k]) == key && tb.strs.at(p[k+1]) != "" {
				return tb.strs.at(p[k+1])
			}
		}
	}
	return ""
}
