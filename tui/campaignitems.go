package tui

import (
	"cmp"
	"hash/maphash"
	"iter"
	"maps"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/nhi-audit/nhi/filter"
)

// campaignItems are a campaign's items as the TUI holds them: the items
// read whole (Reviewer.Items), never changed, and the decisions taken
// since, a map of their own. Both are replaced, never changed in place,
// since a query off the event loop may be reading them; a decision
// copies the decisions since, not the million items of a campaign over
// everything (issue 21: each decision copied the whole map, and counted
// the user's items again, at a million some 200 MB and seconds of the
// event loop each time). Once the decisions since are an eighth of the
// items they are folded into new cells, so a look-up stays two at most
// and a fold's copy is paid once per many decisions.
//
// The items read are held with no pointer the collector follows: a
// map[string]filter.Item of a million items held three strings each,
// which every collection of the table's read then scanned (a third of
// the CPU of opening a campaign of a million). Each item is a cell found
// by a 64-bit hash of its ID and checked by a second, independent one:
// two IDs taken for one would need both to agree, a chance of 2^-128
// per look-up. IDs whose first hash an earlier ID had are looked up by
// the ID itself (overflow).
type campaignItems struct {
	core    *itemsCore
	decided map[int32]string // decisions since the read, by cell
	mine    int              // items assigned to the actor (filter.Item.Mine)
	// whole numbers the read of the items whole these come from: the
	// same number, the same items and reviewers, their decisions aside.
	whole uint64
}

// itemsCore are the items of one read, shared by every version made
// from it, never changed (a fold makes new cells and shares the index).
type itemsCore struct {
	index    map[uint64]int32 // the first hash of an ID: its cell
	overflow map[string]int32 // the IDs whose first hash an earlier ID had
	cells    []itemCell
	texts    []string // the reviewers and decisions the cells name
}

// itemCell is one item: its reviewer and decision as indices of texts.
type itemCell struct {
	check    uint64 // the second hash of the ID
	reviewer uint32
	decision uint32
	mine     bool
	findings bool
}

// The seeds of an ID's two hashes, fresh in each process: no file can
// be made to collide them.
var indexSeed, checkSeed = maphash.MakeSeed(), maphash.MakeSeed()

// wholeReads numbers the reads of a campaign's items whole.
var wholeReads atomic.Uint64

// newCampaignItems holds items, as a Reviewer read them whole.
func newCampaignItems(items iter.Seq2[string, filter.Item]) *campaignItems {
	var b itemsBuilder
	for id, it := range items {
		b.add(id, it)
	}
	return b.items()
}

// itemsBuilder builds the items of a read whole, one at a time.
type itemsBuilder struct {
	core  *itemsCore
	texts map[string]uint32
	mine  int
}

// expect makes room for n items, before the first is added: the index
// grown item by item cost as much again as the items' read.
func (b *itemsBuilder) expect(n int) {
	if b.core == nil {
		b.core, b.texts = &itemsCore{index: make(map[uint64]int32, n), cells: make([]itemCell, 0, n)}, map[string]uint32{}
	}
}

// add holds identity id's item.
func (b *itemsBuilder) add(id string, it filter.Item) {
	if b.core == nil {
		b.expect(0)
	}
	core := b.core
	k := int32(len(core.cells))
	core.cells = append(core.cells, itemCell{check: maphash.String(checkSeed, id), reviewer: b.text(it.Reviewer), decision: b.text(it.Decision), mine: it.Mine, findings: it.Findings})
	h := maphash.String(indexSeed, id)
	if _, taken := core.index[h]; !taken {
		core.index[h] = k
	} else {
		if core.overflow == nil {
			core.overflow = map[string]int32{}
		}
		core.overflow[id] = k
	}
	if it.Mine {
		b.mine++
	}
}

// text is the index of s in the texts the cells name.
func (b *itemsBuilder) text(s string) uint32 {
	k, ok := b.texts[s]
	if !ok {
		k = uint32(len(b.core.texts))
		s = strings.Clone(s) // not what it may be part of (campaigns.EachAssignment)
		b.texts[s] = k
		b.core.texts = append(b.core.texts, s)
	}
	return k
}

// items are the items added.
func (b *itemsBuilder) items() *campaignItems {
	if b.core == nil {
		b.core = &itemsCore{}
	}
	if cells := b.core.cells; cap(cells)-len(cells) > len(cells)/8 {
		b.core.cells = slices.Clone(cells) // not the room append grew
	}
	return &campaignItems{core: b.core, mine: b.mine, whole: wholeReads.Add(1)}
}

// find is the cell of identity id; ok is false outside the items.
func (core *itemsCore) find(id string) (k int32, ok bool) {
	if k, ok := core.index[maphash.String(indexSeed, id)]; ok && core.cells[k].check == maphash.String(checkSeed, id) {
		return k, true
	}
	if len(core.overflow) > 0 {
		k, ok = core.overflow[id]
	}
	return k, ok
}

// item is identity id's item; ok is false outside the population.
func (c *campaignItems) item(id string) (filter.Item, bool) {
	if c == nil {
		return filter.Item{}, false
	}
	k, ok := c.core.find(id)
	if !ok {
		return filter.Item{}, false
	}
	cell := &c.core.cells[k]
	it := filter.Item{Reviewer: c.core.texts[cell.reviewer], Mine: cell.mine, Decision: c.core.texts[cell.decision], Findings: cell.findings}
	if len(c.decided) > 0 {
		if d, changed := c.decided[k]; changed {
			it.Decision = d
		}
	}
	return it, true
}

// wholeRead is the number of the read whole c comes from; 0 for none.
func (c *campaignItems) wholeRead() uint64 {
	if c == nil {
		return 0
	}
	return c.whole
}

// len is how many items the campaign holds.
func (c *campaignItems) len() int {
	if c == nil {
		return 0
	}
	return len(c.core.cells)
}

// withDecisions is c with decision d(id) for each of ids in the
// population (DecisionPending where d says ""); c stays as it was.
func (c *campaignItems) withDecisions(ids []string, d func(id string) string) *campaignItems {
	decided := make(map[int32]string, len(c.decided)+len(ids))
	maps.Copy(decided, c.decided)
	for _, id := range ids {
		if k, in := c.core.find(id); in {
			decided[k] = cmp.Or(d(id), DecisionPending)
		}
	}
	out := &campaignItems{core: c.core, decided: decided, mine: c.mine, whole: c.whole}
	if len(decided) > max(len(c.core.cells)/8, 64) {
		out.fold()
	}
	return out
}

// withChanged is c with the decisions changed (DecisionsSincer); ok is
// false (read them whole) unless every one changed is among the items.
func (c *campaignItems) withChanged(changed map[string]string) (*campaignItems, bool) {
	for id := range changed {
		if _, in := c.core.find(id); !in {
			return nil, false
		}
	}
	return c.withDecisions(slices.Collect(maps.Keys(changed)), func(id string) string { return changed[id] }), true
}

// fold makes the decisions since part of new cells, the index shared.
func (c *campaignItems) fold() {
	core := &itemsCore{index: c.core.index, overflow: c.core.overflow, cells: slices.Clone(c.core.cells), texts: slices.Clone(c.core.texts)}
	for k, d := range c.decided {
		i := slices.Index(core.texts, d)
		if i < 0 {
			i = len(core.texts)
			core.texts = append(core.texts, d)
		}
		core.cells[k].decision = uint32(i)
	}
	c.core, c.decided = core, nil
}
