package tui

import (
	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// ctrl+r reads the table again as an open reads it (issue 21): the table
// cached at the log's head when there is one (a snapshot command prepares
// it), else every identity derived by deriveTable into a population of
// its own (derivePopulation, as PrepareTable), off the event loop, while
// the old table stays on screen; then it is swapped in, the cursor, the
// filter, the sort and the marks kept (they follow identity IDs, and the
// positions are the same when the identities are). Deriving every row
// again through Refresh, chunk by chunk, as a watch does for the rows it
// names, cost 105 CPU-seconds at a million identities (most of it the
// garbage collector, over rows rebuilt one by one), and marking every row
// dirty held the event loop for seconds. Read as an open reads it
// (BenchmarkCtrlR1M, loaded): 1.1 CPU-seconds from the cache at the
// head; derived, 21.6 beside a table on screen from its cache, an open's
// 19.6, and 44 beside one derived on the heap, where the two tables keep
// the collector busy under tui.Run's soft limit.
//
// When the identities are not those of the table on screen (a snapshot
// added some), the positions the views hold would not follow: the rows of
// the identities on screen are taken from the table read, encoded again
// by the table's own builder, and the new identities show at the next
// open, as before.

// tableReadAgainMsg is ctrl+r's table.
type tableReadAgainMsg struct {
	old *population // the table it was read beside
	pop *population // the table read: the same identities as old, or nil
	// rows, when the identities differ, are old's positions' rows as the
	// table read has them, encoded by old.b; added is how many identities
	// the table read has that old has not.
	rows   map[int32]idRow
	added  int
	readAt *logPoint // a whole read from the store at this head: cache it
	err    error
}

// readTableAgain is ctrl+r's read. A table still loading, or read short,
// or a store that cannot read in batches is derived again row by row.
func (m *Model) readTableAgain() tea.Cmd {
	s, ok := m.st.store.(identityStreamer)
	if !ok || m.loading || m.readShort || m.st.pop.len() == 0 {
		return m.rederiveAll()
	}
	if m.st.touched != nil {
		return nil // a read is on its way
	}
	m.st.touched = map[string]struct{}{}
	l := m.tableLoad()
	ctx, old := m.st.ctx, m.st.pop
	return func() tea.Msg {
		msg := tableReadAgainMsg{old: old}
		head, known := l.before(ctx)
		var pop *population
		if known && l.store != nil {
			if c := cachedTable(ctx, l.dir, l.store, head); c != nil && c.at == head {
				pop = cachedPopulation(c, head)
			}
		}
		if pop == nil {
			var last identitiesBatchMsg
			pop, last = derivePopulation(ctx, s, l, head, known)
			if last.err != nil {
				msg.err = last.err
				return msg
			}
			if err := ctx.Err(); err != nil {
				msg.err = err
				return msg
			}
			msg.readAt = last.readAt
		}
		if sameIdentities(old, pop) {
			msg.pop = pop
			return msg
		}
		msg.rows, msg.added = rowsAsRead(old, pop)
		return msg
	}
}

// cachedPopulation is the table cached in c, as an open takes it
// (sendCached, population.appended).
func cachedPopulation(c *tableCache, head logPoint) *population {
	pop := newPopulation(nil)
	sendCached(pop.b, c, head, func(msg identitiesBatchMsg) error {
		pop = pop.appended(msg.rows, msg.names)
		return nil
	})
	return pop
}

// sameIdentities says a and b hold the same identities at the same
// positions.
func sameIdentities(a, b *population) bool {
	if a.len() != b.len() {
		return false
	}
	for i := range int32(a.len()) {
		if a.id(i) != b.id(i) {
			return false
		}
	}
	return true
}

// rowsAsRead is the row of each identity of old that read holds, as read
// has it, encoded by old's builder (positions of old), and how many
// identities read has that old has not. The attributes and permissions
// are encoded again too: a snapshot may have changed them.
func rowsAsRead(old, read *population) (map[int32]idRow, int) {
	rows := make(map[int32]idRow, old.len())
	found := 0
	for start := 0; start < old.len(); start += reloadChunk {
		end := min(start+reloadChunk, old.len())
		ids := make([]*audit.Identity, 0, end-start)
		at := make([]int32, 0, end-start)
		for i := int32(start); i < int32(end); i++ {
			if j, ok := read.find(old.id(i)); ok {
				ids, at = append(ids, read.identity(j)), append(at, i)
			}
		}
		found += len(ids)
		old.b.mu.Lock()
		for k, i := range at {
			rows[i] = old.b.encode(ids[k])
		}
		old.b.mu.Unlock()
	}
	return rows, read.len() - found
}

// tableReadAgain swaps in the table ctrl+r read, or its rows.
func (m *Model) tableReadAgain(msg tableReadAgainMsg) tea.Cmd {
	touched := m.st.touched
	m.st.touched = nil
	if msg.err != nil {
		m.setFlash("The table was not read again: "+audit.Printable(msg.err.Error()), true)
		return nil
	}
	switch {
	case msg.pop != nil && msg.old.b == m.st.pop.b && msg.pop.len() == m.st.pop.len():
		// The positions of a table stay its identities' once loaded.
		// A newer version than any the views have seen: their sorts'
		// orders are for older ones (identitiesView.orderVersion).
		msg.pop.version = m.st.pop.version + 1
		m.st.pop = msg.pop
		m.cache.pending = nil // the table read is whole: a patch is moot
		if msg.readAt != nil && m.opts.TableCache != "" {
			m.writeCache(*msg.readAt, nil)
		}
		m.setFlash("Read "+storeNoun(m.st.store)+" again: "+plural(m.st.pop.len(), "identity", "identities"), false)
	case msg.pop != nil:
		// The table changed under the read (it cannot, but were it to,
		// its positions would not be the views'): row by row instead.
		return m.rederiveAll()
	default:
		updates := make(map[int32]idRow, len(msg.rows))
		for i, r := range msg.rows {
			if m.st.dirty[m.st.pop.id(i)] == 0 {
				updates[i] = r // a row awaiting a reload gets it
			}
		}
		m.st.pop = m.st.pop.withRows(updates)
		note := "Read " + storeNoun(m.st.store) + " again"
		if msg.added > 0 {
			note += ": " + plural(msg.added, "new identity shows", "new identities show") + " when nhi opens again"
		}
		m.setFlash(note, false)
	}
	for id := range touched {
		m.st.dirty[id]++ // changed since the read began: derived again
	}
	m.layout()
	return tea.Batch(m.broadcast(populationChangedMsg{}), m.reload())
}
