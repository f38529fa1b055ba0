package tui

import (
	"cmp"
	"context"
	"iter"
	"sort"
	"strings"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/filter"
)

// population is the identities the TUI walks, as compact rows (rows.go).
// It is never changed in place: a change makes a new population that
// shares the unchanged rows (copy on write, a chunk of rows at a time), so
// that a filter running in the background reads a consistent, immutable
// set while the auditor keeps working. Positions never move: a row of a
// table is an index into the population.
type population struct {
	t      tables // as of this version
	chunks [][]idRow
	n      int // rows in this version
	b      *rowBuilder
	// index maps an ID to its position, once the rows are not in the
	// order of their IDs (find): while they are (a population read from
	// the store comes in ID order), a binary search over the rows finds
	// an ID, and a million IDs need no map (issue 21: building it was a
	// second of the event loop's time and 40 MB). Every version shares
	// it; it grows while the population loads (appended), so only the
	// event loop reads it.
	index   map[string]int32
	version uint64
	nsrc    int // distinct source/account pairs: SOURCE shows when more than one
	active  int // identities present in their account's newest snapshot
	// notChecked are absent from a later snapshot that could not read
	// where they live: neither active nor removed (docs/filter.md).
	notChecked int
	// srcs is the set nsrc counts; shared and grown like index, so a
	// population read in batches counts the sources of every batch.
	srcs map[[2]uint32]bool
	// tally is what the overview shows, counted as rows come and change.
	tally *tally
	// names is the rows' names ranked while they loaded (nameorder.go),
	// or nil: the sort by name ranks them itself. renamed says a row's
	// name changed since the load began, so a ranking made by the loader
	// no longer fits.
	names   *nameOrder
	renamed bool
	// oldestUse is the earliest last use of the rows that came (noTime:
	// none): LAST USED is as wide as it needs ("3y329d ago",
	// identitiesView.fitLastUsed). A row that changed or went may leave
	// it older than any row now: the column a little wide.
	oldestUse int64
	// oldestCreated is the earliest creation of the rows that came, for
	// AGE as oldestUse is for LAST USED (identitiesView.fitAge).
	oldestCreated int64
	// unsuggested counts the rows whose owner suggestions are not derived
	// yet (suggPending; suggest.go).
	unsuggested int
}

// manySources reports whether the identities come from more than one
// source or account.
func (p *population) manySources() bool { return p.nsrc > 1 }

// sources is how many source/account pairs the identities come from.
func (p *population) sources() int { return p.nsrc }

// len is how many identities the population holds.
func (p *population) len() int { return p.n }

// row is the row at position i.
func (p *population) row(i int32) *idRow { return &p.chunks[i/rowChunk][i%rowChunk] }

// identity is the identity at position i, rebuilt in new memory.
func (p *population) identity(i int32) *audit.Identity { return p.t.identity(p.row(i)) }

// id is the ID of the identity at position i.
func (p *population) id(i int32) string { return p.t.strs.at(p.row(i).id) }

// find is the position of the identity whose ID is id.
func (p *population) find(id string) (int32, bool) {
	if p.index != nil {
		i, ok := p.index[id]
		return i, ok && int(i) < p.n
	}
	// The rows are in the order of their IDs (index).
	i, found := sort.Find(p.n, func(k int) int { return strings.Compare(id, p.id(int32(k))) })
	return int32(i), found
}

// ids yields the ID of every identity.
func (p *population) ids() iter.Seq[string] {
	return func(yield func(string) bool) {
		for i := range p.n {
			if !yield(p.id(int32(i))) {
				return
			}
		}
	}
}

func newPopulation(ids []audit.Identity) *population {
	p := &population{b: newRowBuilder(), srcs: map[[2]uint32]bool{}, tally: newTally(), oldestUse: noTime, oldestCreated: noTime}
	return p.appended(p.b.encodeAll(ids), nil)
}

// encodeAll is the rows of ids.
func (b *rowBuilder) encodeAll(ids []audit.Identity) []idRow {
	b.mu.Lock()
	defer b.mu.Unlock()
	rows := make([]idRow, len(ids))
	for i := range ids {
		rows[i] = b.encode(&ids[i])
	}
	return rows
}

// appended is a new version of p with rows (encoded by p.b) added at the
// end. It may share p's last chunk: a version only reads its own length
// of it, and only the latest version is ever appended to. names, if not
// nil, ranks the names of every row, these included (the load's last
// batch).
func (p *population) appended(rows []idRow, names *nameOrder) *population {
	out := &population{t: p.b.tables(), chunks: p.chunks, n: p.n, b: p.b, index: p.index, version: p.version + 1, srcs: p.srcs, active: p.active, notChecked: p.notChecked, tally: p.tally.clone(), renamed: p.renamed, oldestUse: p.oldestUse, oldestCreated: p.oldestCreated, unsuggested: p.unsuggested}
	if len(out.chunks) > 0 {
		// The chunk list itself is copied: a version made by with may
		// have replaced chunks of p that p still reads.
		out.chunks = append([][]idRow(nil), p.chunks...)
	}
	prev := ""
	if out.n > 0 {
		prev = out.id(int32(out.n - 1))
	}
	// Rows that start on a chunk's boundary are whole chunks: they become
	// chunks as they are, not copied (a table read from its cache hands
	// them so, in the file's memory, read-only: a change copies a chunk
	// before it writes, withRows).
	whole := 0
	if out.n%rowChunk == 0 {
		whole = len(rows) / rowChunk * rowChunk
	}
	for k := range rows {
		r := &rows[k]
		c := out.n / rowChunk
		if k < whole {
			if k%rowChunk == 0 {
				out.chunks = append(out.chunks, rows[k:k+rowChunk:k+rowChunk])
			}
		} else {
			if c == len(out.chunks) {
				out.chunks = append(out.chunks, make([]idRow, 0, rowChunk))
			}
			out.chunks[c] = append(out.chunks[c], *r)
		}
		if id := out.t.strs.at(r.id); out.index != nil {
			out.index[id] = int32(out.n)
		} else if out.n > 0 && id <= prev {
			// Out of ID order: from here on, a map finds the IDs.
			out.index = make(map[string]int32, out.n+len(rows)-k)
			for i := range out.n + 1 {
				out.index[out.id(int32(i))] = int32(i)
			}
		} else {
			prev = id
		}
		out.n++
		out.count(r, 1)
		if k == 0 || r.source != rows[k-1].source || r.account != rows[k-1].account {
			out.srcs[[2]uint32{r.source, r.account}] = true
		}
	}
	out.nsrc = len(out.srcs)
	if names != nil && names.rows == out.n && !out.renamed {
		out.names = names
	}
	return out
}

// with is a new version of p in which the identities at the positions of
// updates are replaced.
func (p *population) with(updates map[int32]*audit.Identity) *population {
	rows := make(map[int32]idRow, len(updates))
	p.b.mu.Lock()
	for i, id := range updates {
		rows[i] = p.b.encode(id)
	}
	p.b.mu.Unlock()
	return p.withRows(rows)
}

// withRows is with for rows already encoded by p.b.
func (p *population) withRows(updates map[int32]idRow) *population {
	out := &population{t: p.b.tables(), chunks: append([][]idRow(nil), p.chunks...), n: p.n, b: p.b,
		index: p.index, version: p.version + 1, nsrc: p.nsrc, srcs: p.srcs, active: p.active, notChecked: p.notChecked, tally: p.tally.clone(),
		names: p.names, renamed: p.renamed, oldestUse: p.oldestUse, oldestCreated: p.oldestCreated, unsuggested: p.unsuggested}
	copied := map[int32]bool{}
	for i, r := range updates {
		c := i / rowChunk
		if !copied[c] {
			out.chunks[c] = append(make([]idRow, 0, rowChunk), out.chunks[c]...)
			copied[c] = true
		}
		old := &out.chunks[c][i%rowChunk]
		if out.t.strs.at(r.name) == out.t.strs.at(old.name) {
			// The same name (a name not interned has a new index each
			// time it is encoded): the names' ranking still holds.
			r.name = old.name
		} else {
			out.names, out.renamed = nil, true
		}
		out.count(old, -1)
		out.count(&r, 1)
		*old = r
	}
	return out
}

// count adds d to the counts of r: its status, and the overview's.
func (p *population) count(r *idRow, d int) {
	p.tally.add(&p.t, r, d)
	if d > 0 && r.lastUsed != noTime && (p.oldestUse == noTime || r.lastUsed < p.oldestUse) {
		p.oldestUse = r.lastUsed
	}
	if d > 0 && r.created != noTime && (p.oldestCreated == noTime || r.created < p.oldestCreated) {
		p.oldestCreated = r.created
	}
	switch r.status {
	case textActive:
		p.active += d
	case textNotChecked:
		p.notChecked += d
	}
	if r.nSugg == suggPending {
		p.unsuggested += d
	}
}

// state is what the views of one session share. Only the Bubble Tea
// event loop touches it; background commands get immutable copies.
type state struct {
	// pushes are the views asked to open by the message being handled
	// (pushView); the root opens them before the next message.
	pushes []pushViewMsg
	// ctx is the session's: cancelled when the program ends, it stops the
	// reads still running (Run).
	ctx context.Context
	// writeCtx is the caller's, under which the user's changes are
	// written: they outlive the session (inflight.go).
	writeCtx context.Context
	writes   inflight
	snap     *audit.Snapshot
	pop      *population
	// suggErr stopped the derive of the owner suggestions (suggest.go):
	// the rows still pending stay so, and the views that read them say
	// why.
	suggErr error
	// loadTotal is how many identities the file holds, counted beside a
	// read in batches (stream.go): the header says "loading N of
	// loadTotal", or "loading N…" until it is counted; 0 until then.
	loadTotal int
	now       func() time.Time
	store     Store    // nil: nothing to write to or read history from
	reviewer  Reviewer // nil: no campaign features
	actor     string
	readOnly  bool
	// ownersRefused is why this session may not set owners (a
	// PostgreSQL role without nhi_admin: ownerRights), "" where it may or
	// before the store answered: o is then not offered, and says why.
	ownersRefused string

	// The active campaign and its items by identity ID (replaced, never
	// changed in place: a filter may be reading them); nil until read.
	campaign string
	items    *campaignItems
	// itemsAsOf is the log's head read before items were: every event
	// up to it is in them, so reading them again can read only what
	// changed after it (DecisionsSincer). 0: read them whole.
	itemsAsOf int64
	// others are the items of the campaigns the table's filter names
	// besides the active one (campaign:NAME), by lower-case name: read
	// when a filter names them, kept while it does (campaignterms.go).
	// Replaced, never changed in place, as items is.
	others map[string]heldItems
	// othersReading are the campaigns whose items are being read for
	// others, by lower-case name.
	othersReading map[string]bool

	// Loaded in the background on first use.
	owners      []string // Store.KnownOwners
	ownersState loadState
	// diffs are Store.DiffAccount of each source/account whose identity
	// a detail showed ("github/acme"): its own newest pair of snapshots.
	diffs      map[string]*accountDiff
	snapshots  []audit.Snapshot
	snapsState loadState
	campaigns  []Campaign // Reviewer.Campaigns, for the overview
	campsState loadState
	campsErr   error // why the last read failed; campaigns is the one before
	campsAgain bool  // read them again once the read on its way answers
	// campsStale says events came since they were read that only their
	// progress shows, not read again while no view showed it (watch.go,
	// progressOnly): the next view that shows them reads them.
	campsStale bool
	// head is the newest event seen (watch.go): 0 before the first look.
	head int64
	// forOthers: decisions may be recorded on items assigned to other
	// reviewers (:others); the title says so while it is on.
	forOthers bool
	// dirty counts the owner writes of this session per identity ID whose
	// findings still await a reload from the store.
	dirty       map[string]int
	reloading   bool // a reload is running
	reloadAgain bool // and another is needed after it
	// touched is, while ctrl+r reads the table again (reread.go), every
	// identity marked dirty since it began: its row in the table read may
	// predate the change, so it is derived again once that table is in.
	touched map[string]struct{}
}

// markDirty says id's row awaits a reload from the store.
func (s *state) markDirty(id string) {
	s.dirty[id]++
	if s.touched != nil {
		s.touched[id] = struct{}{}
	}
}

type loadState uint8

const (
	notLoaded loadState = iota
	loading
	loaded
)

// writable reports whether this session may write at all.
func (s *state) writable() bool { return !s.readOnly && s.store != nil }

// identity is the identity at position i, rebuilt whole from its row:
// the caller may keep or change it.
func (s *state) identity(i int32) *audit.Identity { return s.pop.identity(i) }

// activeCampaign is the chosen campaign as last listed, or nil when it
// was not listed yet.
func (s *state) activeCampaign() *Campaign {
	for i := range s.campaigns {
		if s.campaigns[i].Name == s.campaign {
			return &s.campaigns[i]
		}
	}
	return nil
}

// decision is the decision on identity id in the active campaign:
// DecisionPending while undecided, "" outside its population (or before
// its items are read).
func (s *state) decision(id string) string {
	it, ok := s.items.item(id)
	if !ok {
		return ""
	}
	return cmp.Or(it.Decision, DecisionPending)
}

// withDecisions is the items with decision d for ids (d "" restores
// pending); the items a query may be reading stay as they were.
func (s *state) withDecisions(ids []string, d func(id string) string) {
	if s.items == nil {
		return // not read yet: their read has the decisions
	}
	s.items = s.items.withDecisions(ids, d)
}

// setItems makes items the active campaign's (nil: not read yet).
func (s *state) setItems(items *campaignItems) {
	if items == nil {
		s.itemsAsOf = 0
	}
	s.items = items
}

// filterEnv is what filter f needs besides the identity, as of now: the
// clock, and the campaigns its campaign terms read, as they stand (the
// maps are replaced, never changed, so a query running off the event loop
// reads a consistent set). The campaign in view is the active one, else
// the one campaign f names (docs/filter.md), as nhi identities has it.
func (s *state) filterEnv(f *filter.Filter) filter.Env {
	env := filter.Env{Now: s.now()}
	if s.items == nil && len(s.others) == 0 {
		return env
	}
	active := strings.ToLower(s.campaign)
	inView := active
	if named := f.Campaigns(); inView == "" && len(named) == 1 {
		inView = strings.ToLower(named[0])
	}
	env.Review = &review{active: active, inView: inView, items: s.items, others: s.others}
	return env
}

// review is a filter.Review over the items the TUI read: the active
// campaign's, and the others a filter names.
type review struct {
	active string // the active campaign, in lower case ("" none)
	inView string // what decision: and reviewer: read
	items  *campaignItems
	others map[string]heldItems
}

func (r *review) Item(campaign, id string) (filter.Item, bool) {
	if campaign == "" {
		campaign = r.inView
	}
	items := r.others[campaign].items
	if campaign == r.active {
		items = r.items
	}
	return items.item(id)
}
