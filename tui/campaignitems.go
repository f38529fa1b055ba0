package tui

import (
	"cmp"
	"maps"
	"slices"
	"sync/atomic"

	"github.com/nhi-audit/nhi/filter"
)

// campaignItems are a campaign's items as the TUI holds them: the map
// read whole (Reviewer.Items), never changed, and the decisions taken
// since, a map of their own. Both are replaced, never changed in place,
// since a query off the event loop may be reading them; a decision
// copies the decisions since, not the million items of a campaign over
// everything (issue 21: each decision copied the whole map, and counted
// the user's items again, at a million some 200 MB and a second of the
// event loop each time). Once the decisions since are an eighth of the
// items they are folded into a new map of the items, so a look-up stays
// two look-ups at most and a fold's copy is paid once per many
// decisions.
type campaignItems struct {
	read    map[string]filter.Item
	decided map[string]string // decisions since read, by identity ID
	mine    int               // items assigned to the actor (filter.Item.Mine)
	// whole numbers the read of the items whole these come from: the
	// same number, the same items and reviewers, their decisions aside.
	whole uint64
}

// wholeReads numbers the reads of a campaign's items whole.
var wholeReads atomic.Uint64

// newCampaignItems holds items, as a Reviewer read them whole.
func newCampaignItems(items map[string]filter.Item) *campaignItems {
	c := &campaignItems{read: items, whole: wholeReads.Add(1)}
	for _, it := range items {
		if it.Mine {
			c.mine++
		}
	}
	return c
}

// item is identity id's item; ok is false outside the population.
func (c *campaignItems) item(id string) (filter.Item, bool) {
	if c == nil {
		return filter.Item{}, false
	}
	it, ok := c.read[id]
	if ok && len(c.decided) > 0 {
		if d, changed := c.decided[id]; changed {
			it.Decision = d
		}
	}
	return it, ok
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
	return len(c.read)
}

// withDecisions is c with decision d(id) for each of ids in the
// population (DecisionPending where d says ""); c stays as it was.
func (c *campaignItems) withDecisions(ids []string, d func(id string) string) *campaignItems {
	decided := make(map[string]string, len(c.decided)+len(ids))
	maps.Copy(decided, c.decided)
	for _, id := range ids {
		if _, in := c.read[id]; in {
			decided[id] = cmp.Or(d(id), DecisionPending)
		}
	}
	out := &campaignItems{read: c.read, decided: decided, mine: c.mine, whole: c.whole}
	if len(decided) > max(len(c.read)/8, 64) {
		out.fold()
	}
	return out
}

// withChanged is c with the decisions changed (DecisionsSincer); ok is
// false (read them whole) unless every one changed is among the items.
func (c *campaignItems) withChanged(changed map[string]string) (*campaignItems, bool) {
	for id := range changed {
		if _, in := c.read[id]; !in {
			return nil, false
		}
	}
	return c.withDecisions(slices.Collect(maps.Keys(changed)), func(id string) string { return changed[id] }), true
}

// fold makes the decisions since part of a new map of the items.
func (c *campaignItems) fold() {
	read := maps.Clone(c.read)
	for id, d := range c.decided {
		it := read[id]
		it.Decision = d
		read[id] = it
	}
	c.read, c.decided = read, nil
}
