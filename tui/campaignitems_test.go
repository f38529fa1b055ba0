package tui

import (
	"cmp"
	"context"
	"fmt"
	"hash/maphash"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/filter"
)

// itemsAre reports whether c holds exactly the items want.
func itemsAre(c *campaignItems, want map[string]filter.Item) bool {
	if c.len() != len(want) {
		return false
	}
	for id, w := range want {
		if it, ok := c.item(id); !ok || it != w {
			return false
		}
	}
	return true
}

// TestCampaignItemsDecisions: the items after decisions are the items
// read with those decisions, whether the decisions since are kept apart
// or folded in; the items a query holds do not change; an identity
// outside the population gets no item; and a decision copies the
// decisions since, not the items (the map read is the same until a
// fold).
func TestCampaignItemsDecisions(t *testing.T) {
	read := map[string]filter.Item{}
	for i := range 1000 {
		read[fmt.Sprintf("id-%04d", i)] = filter.Item{Reviewer: "alice", Mine: i%2 == 0, Decision: DecisionPending, Findings: i%3 == 0}
	}
	want := maps.Clone(read)
	c := newCampaignItems(maps.All(read))
	if c.mine != 500 || c.len() != 1000 {
		t.Fatalf("mine %d, len %d; want 500, 1000", c.mine, c.len())
	}
	held := c // as a query off the event loop holds them
	decide := func(c *campaignItems, d string, ids ...string) *campaignItems {
		for _, id := range ids {
			if it, ok := want[id]; ok {
				it.Decision = cmp.Or(d, DecisionPending)
				want[id] = it
			}
		}
		return c.withDecisions(ids, func(string) string { return d })
	}
	c = decide(c, DecisionKeep, "id-0001", "id-0002", "not-in-it")
	if _, ok := c.item("not-in-it"); ok {
		t.Error("an identity outside the population has an item")
	}
	if it, _ := c.item("id-0001"); it.Decision != DecisionKeep || !itemsAre(c, want) {
		t.Fatalf("after a keep: id-0001 is %+v", it)
	}
	if it, _ := held.item("id-0001"); it.Decision != DecisionPending {
		t.Errorf("the items a query holds changed: %+v", it)
	}
	if c.core != held.core {
		t.Error("a decision copied the items read")
	}
	// Past an eighth of the items, the decisions are folded in.
	for i := range 200 {
		c = decide(c, DecisionDecommission, fmt.Sprintf("id-%04d", 100+i))
	}
	if c.core == held.core || len(c.decided) >= 125 {
		t.Errorf("after 202 decisions of 1,000 items, %d kept apart (folded: %v)", len(c.decided), c.core != held.core)
	}
	c = decide(c, "", "id-0002") // an undo: pending again
	if it, _ := c.item("id-0002"); it.Decision != DecisionPending || !itemsAre(c, want) || c.mine != 500 {
		t.Fatalf("after the fold and an undo: id-0002 is %+v, mine %d", it, c.mine)
	}
	if _, ok := c.withChanged(map[string]string{"not-in-it": DecisionKeep}); ok {
		t.Error("a change outside the items was taken, where they must be read whole")
	}
	d, ok := c.withChanged(map[string]string{"id-0003": DecisionRotate})
	if it, _ := d.item("id-0003"); !ok || it.Decision != DecisionRotate {
		t.Errorf("a change read since: %+v, %v", it, ok)
	}
}

// TestDecisionRequeriesOnlyWhatReadsDecisions: a decision changes the
// rows of a filter only when it has a decision: term. Under any other
// filter the table keeps its rows, with no query over them, once the
// decision is recorded and once the watch has read it back; the row
// decided shows its decision. Under decision:pending the decided row
// leaves. Before, every decision ran the table's query again, twice,
// most of what a decision cost at a million items.
func TestDecisionRequeriesOnlyWhatReadsDecisions(t *testing.T) {
	ctx := context.Background()
	path := evidenceOn(t, "sqlite")
	reviewOn(t, path)
	st, err := audit.Open(ctx, path, audit.OpenOptions{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	m := New(nil, nil, Options{Store: st, Now: clock, Reviewer: campaignsReviewer{st}, Actor: testActor, Campaign: reviewCampaign, TableCache: t.TempDir()})
	m.Update(tea.WindowSizeMsg{Width: 200, Height: 60})
	drain(t, m, m.Init())
	look := func() { drain(t, m, func() tea.Msg { return watchTickMsg{} }) }
	look()
	if m.st.items == nil || m.ids.table.Len() < 3 {
		t.Fatalf("the campaign's items: read %v, %d rows", m.st.items != nil, m.ids.table.Len())
	}
	rows, seq := slices.Clone(m.ids.table.Rows()), m.ids.seq
	press(t, m, "D", "enter")
	look()
	if line := selectedLine(t, m.View()); !strings.Contains(line, "decom") {
		t.Errorf("the row decided does not show it: %q", line)
	}
	if m.ids.seq != seq || !slices.Equal(m.ids.table.Rows(), rows) {
		t.Errorf("with no decision: term a decision ran %d queries; rows %d, were %d", m.ids.seq-seq, m.ids.table.Len(), len(rows))
	}
	press(t, m, "/", "decision:pending", "enter")
	n := m.ids.table.Len()
	press(t, m, "D", "enter")
	look()
	if m.ids.table.Len() != n-1 {
		t.Errorf("under decision:pending a decision left %d rows of %d", m.ids.table.Len(), n)
	}
	decided, err := campaigns.Decisions(ctx, st, reviewCampaign)
	if err != nil {
		t.Fatal(err)
	}
	recorded := 0
	for _, d := range decided {
		if d != campaigns.Pending {
			recorded++
		}
	}
	if recorded != 2 {
		t.Errorf("%d decisions recorded, want 2", recorded)
	}
}

// TestFewRowsChangedPatchTheTable: when a few identities change (an
// owner set on a selection), the table matches those alone: its rows are
// what a query over every row answers, the cursor stays where the user
// was, and no query ran. Sorted, it runs the query.
func TestFewRowsChangedPatchTheTable(t *testing.T) {
	e := newEvidence(t)
	m := e.model(t, 160, 40, Options{Actor: testActor})
	press(t, m, "/", "owner:none", "enter")
	full := func() []int32 {
		var latest atomic.Uint64
		q := query{seq: latest.Add(1), latest: &latest, pop: m.st.pop, filter: m.ids.query, env: m.st.filterEnv(m.ids.query), sort: m.ids.sort}
		return q.run().rows
	}
	before, seq := m.ids.table.Len(), m.ids.seq
	press(t, m, "j", " ", " ", "o", "bob", "enter", "y")
	if n := e.ownerEvents(t); n != 2 {
		t.Fatalf("%d owner events, want 2", n)
	}
	if got, want := m.ids.table.Rows(), full(); len(got) != before-2 || !slices.Equal(got, want) {
		t.Fatalf("after owners set on 2 of %d rows: %d rows, a query answers %d", before, len(got), len(want))
	}
	if m.ids.seq != seq {
		t.Errorf("two rows changed ran %d queries over every row", m.ids.seq-seq)
	}
	// u takes the owners back: the rows come back, in their place.
	press(t, m, "u", "y")
	if got := m.ids.table.Rows(); len(got) != before || !slices.Equal(got, full()) || m.ids.seq != seq {
		t.Errorf("after the undo: %d rows of %d, %d queries", len(got), before, m.ids.seq-seq)
	}
	// Sorted by owner, a change moves rows: the query runs.
	press(t, m, "s") // sort by the next column
	seq = m.ids.seq
	press(t, m, "o", "carol", "enter")
	if m.ids.seq == seq || !slices.Equal(m.ids.table.Rows(), full()) {
		t.Errorf("sorted, an owner set ran %d queries; rows equal a query's: %v", m.ids.seq-seq, slices.Equal(m.ids.table.Rows(), full()))
	}
}

// TestCampaignItemsFirstHashTaken: an ID whose first hash an earlier ID
// had is found by the ID itself, and neither is taken for the other.
func TestCampaignItemsFirstHashTaken(t *testing.T) {
	c := newCampaignItems(maps.All(map[string]filter.Item{
		"a": {Reviewer: "alice", Decision: DecisionPending},
		"b": {Reviewer: "bob", Decision: DecisionKeep},
	}))
	ka, _ := c.core.find("a")
	kb, _ := c.core.find("b")
	// As if b's first hash were a's: b's entry is a's, b in overflow.
	c.core.index[maphash.String(indexSeed, "b")] = ka
	c.core.overflow = map[string]int32{"b": kb}
	if it, ok := c.item("b"); !ok || it.Reviewer != "bob" {
		t.Errorf("b: %+v, %v", it, ok)
	}
	if it, ok := c.item("a"); !ok || it.Reviewer != "alice" {
		t.Errorf("a: %+v, %v", it, ok)
	}
	if _, ok := c.item("c"); ok {
		t.Error("c is no item")
	}
}

// syntheticItems are n items of one campaign, as a Reviewer reads them.
func syntheticItems(n int) *campaignItems {
	var b itemsBuilder
	b.expect(n)
	for i := range n {
		b.add(fmt.Sprintf("github:acme:github_actions_secret:acme/repo-%07d/SECRET", i), filter.Item{Reviewer: "alice@example.com", Mine: i%2 == 0, Decision: DecisionPending})
	}
	return b.items()
}

// TestDecisionCostIsIndependentOfItems: a decision in a campaign of
// 100,000 items allocates what one in 1,000 does (before, it copied the
// whole map of items).
func TestDecisionCostIsIndependentOfItems(t *testing.T) {
	allocs := func(n int) float64 {
		c := syntheticItems(n)
		id := []string{"github:acme:github_actions_secret:acme/repo-0000007/SECRET"}
		keep := func(string) string { return DecisionKeep }
		return testing.AllocsPerRun(20, func() { c.withDecisions(id, keep) })
	}
	if small, large := allocs(1_000), allocs(100_000); large > small {
		t.Errorf("a decision allocates %.0f times in 100,000 items, %.0f in 1,000", large, small)
	}
}

// BenchmarkCampaignItems1M is what a campaign of a million items costs
// the TUI: held (heap-MB, and no pointer the collector follows), a
// look-up (the filter's campaign: term on every row), a decision.
func BenchmarkCampaignItems1M(b *testing.B) {
	const n = 1_000_000
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("github:acme:github_actions_secret:acme/repo-%07d/SECRET", i)
	}
	var c *campaignItems
	b.Run("hold", func(b *testing.B) {
		for b.Loop() {
			c = nil
			before := liveHeap()
			c = syntheticItems(n)
			b.ReportMetric((float64(liveHeap())-float64(before))/(1<<20), "heap-MB")
		}
	})
	b.Run("look-up", func(b *testing.B) {
		k := 0
		for b.Loop() {
			if _, ok := c.item(ids[k%n]); !ok {
				b.Fatal("not found")
			}
			k += 7919
		}
	})
	b.Run("decision", func(b *testing.B) {
		keep := func(string) string { return DecisionKeep }
		k := 0
		for b.Loop() {
			c.withDecisions(ids[k%n:k%n+1], keep)
			k += 7919
		}
	})
}

// countingReview counts the look-ups among a campaign's items.
type countingReview struct {
	filter.Review
	n int
}

func (r *countingReview) Item(campaign, id string) (filter.Item, bool) {
	r.n++
	return r.Review.Item(campaign, id)
}

// TestCampaignQueueLooksUpOnlyWhatTheFilterKeeps: in a campaign, a row
// the user's filter leaves out is not looked up among the campaign's
// items (a million of them, each look-up a miss of the processor's
// cache), and the rows are those of the queue and the filter either way.
func TestCampaignQueueLooksUpOnlyWhatTheFilterKeeps(t *testing.T) {
	const n = 10_000
	ids := manyIdentities(n)
	pop := newPopulation(ids)
	var bl itemsBuilder
	for i := range ids {
		bl.add(ids[i].ID, filter.Item{Reviewer: "alice@example.com", Mine: i%2 == 0, Decision: DecisionPending})
	}
	items := bl.items()
	f, err := filter.Parse("kind:deploy_key", audit.Vocabulary)
	if err != nil {
		t.Fatal(err)
	}
	queue, err := campaignQueue("all", false, f)
	if err != nil {
		t.Fatal(err)
	}
	counted := &countingReview{Review: &review{active: "all", inView: "all", items: items}}
	var latest atomic.Uint64
	rows := query{seq: latest.Add(1), latest: &latest, pop: pop, filter: queue, env: filter.Env{Now: testNow, Review: counted}, sort: sortSpec{col: noSort}}.run().rows
	deployKeys, want := 0, 0
	for i := range ids {
		if ids[i].Kind == audit.KindGitHubDeployKey {
			deployKeys++
			if i%2 == 0 {
				want++
			}
		}
	}
	if len(rows) != want || want == 0 {
		t.Errorf("the queue of deploy keys lists %d rows, want alice's %d", len(rows), want)
	}
	// Two terms read the item (campaign:, reviewer:me), for each deploy
	// key only.
	if counted.n > 2*deployKeys {
		t.Errorf("%d look-ups among the items for %d deploy keys of %d rows", counted.n, deployKeys, n)
	}
}
