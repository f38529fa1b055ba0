package tui

import (
	"context"
	"errors"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/nhi-audit/nhi/audit"
)

// Owner suggestions after the table (docs/performance.md, "Owners
// suggested after the table"): an open reads the table without them
// (audit.Store.EachTableIdentityWithoutSuggestions, which reads no
// principals either: a fifth of an open's instructions on the sample),
// its rows marked pending (suggPending), and once the table is ready
// derives them off the event loop, a batch of rows at a time, merged into
// the population as they come. Only four places read them: the detail,
// the owner prompt, the person view and person: filters; until every row
// has its suggestions each says that they are loading, never "none" and
// never a count without them. What the table shows, counts, sorts and
// filters otherwise does not depend on them.

// laterSuggester is what a Store offers to open the table before its
// owner suggestions are derived: *audit.Store.
type laterSuggester interface {
	EachTableIdentityWithoutSuggestions(ctx context.Context, fn func(*audit.Identity) error) error
	Suggester(ctx context.Context) (*audit.Suggester, error)
}

var _ laterSuggester = (*audit.Store)(nil)

// suggestBatch is how many rows a message of suggestions covers: 62
// messages for a million rows, each copying the four chunks it writes.
const suggestBatch = 4 * rowChunk

// suggestPart is how many identities are rebuilt, suggested and encoded at
// a time, their attribute maps reused from part to part.
const suggestPart = 256

// suggestState is the derive of the suggestions: the Suggester, made by
// its first batch, while it runs; whether a batch is on its way; and
// the error that stopped it.
type suggestState struct {
	g       *audit.Suggester
	running bool
	err     error
	// cacheAt is the head of a complete read to cache once the
	// suggestions are in, so the cached table carries them.
	cacheAt *logPoint
	// hold starts no batch (tests and benchmarks: what the views say
	// before the suggestions come, and the open measured without them).
	hold bool
}

// suggestedRow is a row that was pending, as it was when its suggestions
// were derived, with them.
type suggestedRow struct {
	i   int32
	row idRow
}

// suggestionsMsg is a batch of derived suggestions: the rows from the
// position the batch began at to next (-1: none was pending).
type suggestionsMsg struct {
	b    *rowBuilder
	g    *audit.Suggester
	rows []suggestedRow
	next int32
	err  error
}

// suggestionsReadyMsg tells the views that every row has its owner
// suggestions, or that they cannot be derived (the state's sugg.err).
type suggestionsReadyMsg struct{}

// suggestionsLoading is what a view says of suggestions not derived yet:
// that they are loading, and how far, or why they stopped.
func (st *state) suggestionsLoading() string {
	if st.suggErr != nil {
		return "owner suggestions: not derived (" + audit.Printable(st.suggErr.Error()) + ")"
	}
	if st.pop.unsuggested == st.pop.len() {
		return "owner suggestions: loading…" // none yet: the table may be loading still
	}
	return "owner suggestions: loading… (" + commas(st.pop.len()-st.pop.unsuggested) + " of " + commas(st.pop.len()) + " identities)"
}

// suggestNext starts the next batch, from position from, when rows are
// pending and no batch is on its way; nil otherwise. Once the table has
// loaded (not while it loads: the rows and the CPU go to the table
// first).
func (m *Model) suggestNext(from int32) tea.Cmd {
	s, ok := m.st.store.(laterSuggester)
	if !ok || m.st.store == nil || m.loading || m.sugg.hold || m.sugg.running || m.sugg.err != nil || m.st.pop.unsuggested == 0 {
		return nil
	}
	m.sugg.running = true
	ctx, pop, g := m.st.ctx, m.st.pop, m.sugg.g
	return func() tea.Msg {
		msg := suggestionsMsg{b: pop.b, g: g, next: -1}
		if g == nil {
			if msg.g, msg.err = s.Suggester(ctx); msg.err != nil {
				return msg
			}
		}
		msg.rows, msg.next, msg.err = suggestRows(ctx, msg.g, pop, from)
		return msg
	}
}

// suggestRows derives the suggestions of up to suggestBatch pending rows
// of pop from position from on (from the first if none is), and gives
// them with the position after the last; -1 when none is pending.
func suggestRows(ctx context.Context, g *audit.Suggester, pop *population, from int32) ([]suggestedRow, int32, error) {
	n := int32(pop.len())
	var at []int32
	for _, start := range []int32{from, 0} {
		for i := start; i < n && len(at) < suggestBatch; i++ {
			if pop.row(i).nSugg == suggPending {
				at = append(at, i)
			}
		}
		if len(at) > 0 || start == 0 {
			break
		}
	}
	if len(at) == 0 {
		return nil, -1, nil
	}
	out := make([]suggestedRow, 0, len(at))
	ids := make([]audit.Identity, suggestPart)
	maps := make([]map[string]string, suggestPart)
	for k := range maps {
		maps[k] = map[string]string{}
	}
	for start := 0; start < len(at); start += suggestPart {
		part := at[start:min(start+suggestPart, len(at))]
		for k, i := range part {
			r, t := pop.row(i), &pop.t
			// Only the attributes suggestions read: the rest (a
			// repository's ID, a lineage, a fingerprint) were most of
			// the maps' cost (docs/performance.md).
			clear(maps[k])
			if r.nAttr > 0 {
				p := t.pairs.run(r.attr, r.nAttr)
				for a := 0; a < len(p); a += 2 {
					if key := t.strs.at(p[a]); audit.SuggestionAttribute(key) {
						maps[k][key] = t.strs.at(p[a+1])
					}
				}
			}
			ids[k] = audit.Identity{
				Observation: audit.Observation{ID: t.strs.at(r.id), Kind: audit.Kind(t.strs.at(r.kind)), Name: t.strs.at(r.name),
					Scope: t.strs.at(r.scope), Attributes: maps[k]},
				SnapshotID: r.snapshot,
			}
		}
		if err := g.Suggest(ctx, ids[:len(part)]); err != nil {
			return nil, -1, err
		}
		pop.b.mu.Lock()
		pop.b.index() // a table read from its cache builds its indexes first
		for k, i := range part {
			r := *pop.row(i)
			r.sugg, r.nSugg = pop.b.suggestions(ids[k].Suggestions)
			out = append(out, suggestedRow{i, r})
		}
		pop.b.mu.Unlock()
	}
	return out, at[len(at)-1] + 1, nil
}

// suggested merges a batch: each row still pending and as it was when
// derived takes its suggestions (a row changed since, by a watch or a
// write, waits for the next pass); then the next batch, or, with no row
// pending, the views are told.
func (m *Model) suggested(msg suggestionsMsg) tea.Cmd {
	m.sugg.running = false
	m.sugg.g = msg.g
	if msg.err != nil {
		m.sugg.err, m.st.suggErr = msg.err, msg.err
		m.stopSuggester()
		if m.st.ctx.Err() != nil {
			return nil
		}
		m.setFlash("Owner suggestions could not be derived: "+audit.Printable(msg.err.Error())+". Quit and open the file again to derive them.", true)
		return m.suggestionsReady()
	}
	if msg.b == m.st.pop.b && len(msg.rows) > 0 {
		m.st.pop = m.st.pop.withSuggestions(msg.rows)
	}
	if m.st.pop.unsuggested > 0 && msg.next >= 0 {
		next := msg.next
		if msg.b != m.st.pop.b || int(next) >= m.st.pop.len() {
			next = 0 // another table (ctrl+r), or the end: what is left
		}
		return m.suggestNext(next)
	}
	m.stopSuggester()
	if m.st.pop.unsuggested > 0 {
		// Counted pending, none found: never so, but not derived again
		// and again.
		m.sugg.err = errors.New("the rows waiting for owner suggestions could not be found")
		m.st.suggErr = m.sugg.err
		return m.suggestionsReady()
	}
	if at := m.sugg.cacheAt; at != nil {
		m.sugg.cacheAt = nil
		if s, ok := m.st.store.(tableCacheStore); ok && m.opts.TableCache != "" {
			m.writeCache(*at, s) // only if the log still stands there
		}
	}
	m.layout()
	return m.suggestionsReady()
}

// suggestionsReady tells the owner prompt and the views that the owner
// suggestions are in, or will not come (st.suggErr).
func (m *Model) suggestionsReady() tea.Cmd {
	if p, ok := m.prompt.(*ownerPrompt); ok {
		p.refresh()
	}
	return m.broadcast(suggestionsReadyMsg{})
}

// stopSuggester releases the Suggester.
func (m *Model) stopSuggester() {
	if m.sugg.g != nil {
		m.sugg.g.Close()
		m.sugg.g = nil
	}
}

// withSuggestions is a new version of p in which the rows of updates
// that are still pending and unchanged since they were derived take
// their suggestions.
func (p *population) withSuggestions(updates []suggestedRow) *population {
	out := &population{t: p.b.tables(), chunks: append([][]idRow(nil), p.chunks...), n: p.n, b: p.b,
		index: p.index, version: p.version + 1, nsrc: p.nsrc, srcs: p.srcs, active: p.active, notChecked: p.notChecked, tally: p.tally.clone(),
		names: p.names, renamed: p.renamed, oldestUse: p.oldestUse, oldestCreated: p.oldestCreated, unsuggested: p.unsuggested}
	copied := int32(-1)
	for _, u := range updates {
		if int(u.i) >= out.n {
			continue
		}
		cur := out.row(u.i)
		was := u.row
		was.sugg, was.nSugg = cur.sugg, cur.nSugg
		if cur.nSugg != suggPending || *cur != was {
			continue
		}
		if c := u.i / rowChunk; c != copied {
			// Updates come in the order of their positions: a chunk is
			// copied once, before its first write (the one read from a
			// cache lies in the file's memory, read-only).
			out.chunks[c] = append(make([]idRow, 0, rowChunk), out.chunks[c]...)
			copied = c
			cur = out.row(u.i)
		}
		cur.sugg, cur.nSugg = u.row.sugg, u.row.nSugg
		out.unsuggested--
	}
	return out
}
