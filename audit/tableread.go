package audit

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// The read of the whole population (issue 21: the TUI's table of a
// million identities, `nhi identities`, shell completion). It hands over
// what Identities returns, derived by the same steps (status, renames,
// findings, marks, suggestions), a batch at a time, so memory stays flat
// however large the file, and reads it the way a table wants it:
//
//   - identities and their latest observations are read as a merge of
//     ranges in ID order (a page of identities, then the observations of
//     the page's snapshot over the page's range of IDs, which the
//     observations' key (snapshot_id, identity_id) gives in that order),
//     rather than a join that seeks every identity's observation: the
//     seek was a third of SQLite's work. Identities whose latest snapshot
//     few of the page share (removed ones) are read by key;
//   - a goroutine reads the next page while the last one is derived, and
//     EachTableIdentity hands each derived chunk to fn on a third
//     (handOver), so the reading, the deriving and what fn does with an
//     identity (the TUI encodes it into a row) each have a goroutine and
//     two cores are used whole;
//   - the reader reads the file a page per read call, not through a map
//     of it (mappedReader): the read calls cost about a CPU-second at a
//     million identities, but every page of the file the read touched
//     counted in the process's resident memory while mapped (the kernel
//     maps the neighbours of a page with it, and the leaves of a range
//     lie all over the file): 1.3 GB at the peak, where the target is
//     800 MB (issue 21); unmapping after every page kept it down and cost
//     three CPU-seconds;
//   - on SQLite a row's columns come packed into one text (tableRead),
//     cut apart in Go: the driver's cost is per column (a lock, a type
//     and a length call and an allocation each), and eighteen columns a
//     row were most of the reader's time; then three (identity,
//     observation, owner); now each query's rows come as one text too
//     (tablepack.go: group_concat of the packed rows, 4,096 a page), as
//     the driver's cost per row (its step's locks, database/sql's, a
//     copy into a string of its own) was the next third of the reader.
//     The reader cuts of each row only what it reads by (the IDs, the
//     snapshots, the material digests), once it has counted the row's
//     separators; the derive cuts the rest (tableRow.cutRest), on the
//     other core. A text a page means what fn keeps of an identity's strings keeps
//     its page's text (a few MB) in memory: the TUI copies what it keeps
//     into its own blocks, the derive clones what it keeps from chunk
//     to chunk;
//   - what the reader reads of the sample file of a million (nhi demo
//     --repos 192000): 200,000 pages of 4 KB, a read call each, for
//     1,004,913 identities (148 bytes of their columns a row, read whole)
//     and their observations (331 of the 515 bytes a row holds: kind,
//     findings and material are left, but the page holds them). The
//     identities' leaves lie in order in the file, the observations' all
//     over it (8,000 of 138,000 follow the one before), so larger reads
//     would spare few calls; through a map of the file each page cost a
//     fault, on this machine twice a read call (13 against 5.5 us), and
//     the map's pages counted in the resident memory. The read calls are
//     the reader's largest cost left, about half of it;
//   - the Identity and its two maps are reused from row to row.

// EachTableIdentity calls fn with every identity Identities would return,
// in the same order and with the same fields. The *Identity, its
// Permissions and Attributes maps, its Findings and its times are reused
// for the next identities: fn copies what it keeps of them (its strings
// and suggestions it may keep). fn is called on a goroutine of the read's own, one call
// at a time, in order, and never after EachTableIdentity returned. An
// error from fn stops the read and is returned.
func (s *Store) EachTableIdentity(ctx context.Context, fn func(*Identity) error) error {
	return s.eachTable(ctx, tableKeep, fn)
}

// EachTableIdentityWithoutSuggestions is EachTableIdentity with no owner
// suggestions: every identity's Suggestions is nil, and the principals
// that suggest owners are not read. The TUI's open reads so, and derives
// the suggestions once its table is ready (Suggester): they were a fifth
// of the instructions of an open of the sample (docs/performance.md),
// and only a few views read them.
func (s *Store) EachTableIdentityWithoutSuggestions(ctx context.Context, fn func(*Identity) error) error {
	return s.eachTable(ctx, tableNoSuggestions, fn)
}

// StreamIdentities is EachTableIdentity for a caller that keeps nothing
// of an identity once fn returns but copies of its strings: an output,
// such as nhi identities (issue 21: a million identities' --json in
// 150 MB). It gives the same identities with the same fields, but holds
// nothing for the whole read that only some identities need: each chunk's
// principals are read by the keys of its own scopes rather than every
// snapshot's whole (half a million in an organisation of 192,000
// repositories, 53 MB), and the suggestion lists the identities of a
// repository share are dropped with the chunk rather than kept for the
// rest of the read (50 MB); an organisation's, a few owners, stay, so
// its members are not read again for each chunk of its org-wide
// identities. Suggestions fn keeps past the call are shared with no
// later identity but those of the same organisation-wide scope.
func (s *Store) StreamIdentities(ctx context.Context, fn func(*Identity) error) error {
	return s.eachTable(ctx, tablePassing, fn)
}

// tableMode is what a read of the table keeps: EachTableIdentity's
// (tableKeep), StreamIdentities' (tablePassing) or
// EachTableIdentityWithoutSuggestions' (tableNoSuggestions).
type tableMode int

const (
	tableKeep tableMode = iota
	tablePassing
	tableNoSuggestions
)

// eachTable is EachTableIdentity, StreamIdentities or
// EachTableIdentityWithoutSuggestions, as mode says.
func (s *Store) eachTable(ctx context.Context, mode tableMode, fn func(*Identity) error) error {
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Three pages circulate: the reader fills one while another waits
	// and the third is derived and handed on.
	free, full := make(chan *tablePage, 3), make(chan *tablePage, 1)
	for range 3 {
		free <- &tablePage{}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		// The reader keeps one connection: its page cache keeps the
		// tables' inner pages from query to query, where the pool's
		// connections each read them again.
		var q readConn = s.db
		if conn, err := s.db.Conn(rctx); err == nil {
			defer conn.Close()
			q = conn
		}
		stmts := &stmtCache{db: q}
		defer stmts.close()
		rd := tableRead{q: q, packed: s.engine == engineSQLite, stmts: stmts}
		var err error
		if rd.marks, err = readMarkPairs(rctx, q); err != nil {
			p := <-free // three are free: nothing is read yet
			p.rows, p.err, p.last = p.rows[:0], err, true
			full <- p // nor sent
			return
		}
		s.readTablePages(rctx, rd, free, full)
	}()
	defer func() {
		cancel()
		<-done
	}()
	return s.deriveTable(ctx, mode, fn, free, full)
}

// deriveTable derives the pages full brings, in order, and hands their
// identities to fn, giving each page back to free once it is through
// with it: eachTable's side of the read, apart from the reader so a
// benchmark can feed it pages read before (BenchmarkDeriveTable1M).
func (s *Store) deriveTable(ctx context.Context, mode tableMode, fn func(*Identity) error, free chan<- *tablePage, full <-chan *tablePage) error {
	passing := mode == tablePassing
	// The derivers are read while the reader reads the first page (the
	// members of a large organisation take a while).
	v, err := s.wholeDerivers(ctx)
	if err != nil {
		return err
	}
	defer v.close()
	v.d.passing, v.d.noSuggestions = passing, mode == tableNoSuggestions
	// EachTableIdentity hands each derived chunk to fn on a goroutine of
	// its own (handOver), so the TUI's encoding into rows runs beside the
	// next chunk's derive; StreamIdentities calls fn here, so the lists
	// it drops with a chunk are dropped once fn is through with them.
	var hand *handOver
	if !passing {
		hand = newHandOver(ctx, fn)
		defer hand.stop()
	}
	var local tableChunk // StreamIdentities' one chunk
	for {
		var p *tablePage
		select {
		case p = <-full:
		case <-ctx.Done():
			return ctx.Err()
		}
		if p.err != nil {
			return p.err
		}
		v.d.marks = p.marks // the reader's, for the page's identities
		// A page is built, derived and handed to fn a chunk at a time,
		// each step over identities the one before just touched: a
		// page's identities, maps and texts at once (several MB) were
		// out of the processor's cache by the next step, and every map
		// look-up of the derive and of fn missed it (issue 21).
		for start := 0; start < len(p.rows); start += deriveChunk {
			c := &local
			if hand != nil {
				var err error
				if c, err = hand.free(); err != nil {
					return err
				}
			}
			var last lastRow // the chunk's own: its maps are the chunk's
			for i := start; i < min(start+deriveChunk, len(p.rows)); i++ {
				r := &p.rows[i]
				if !r.found {
					continue // as the join left it out: no observation
				}
				n := len(c.ids)
				if len(c.attrs) <= n {
					c.attrs, c.perms = append(c.attrs, map[string]string{}), append(c.perms, map[string]string{})
				}
				id, err := r.identity(c.attrs[n], c.perms[n], &c.times, &last)
				if err != nil {
					return err
				}
				c.ids = append(c.ids, id)
			}
			kept, err := v.derive(ctx, c.ids, &c.findings)
			if err != nil {
				return err
			}
			if hand != nil {
				hand.pass(c, kept)
				continue
			}
			for i := range kept {
				if err := fn(&kept[i]); err != nil {
					return err
				}
			}
			c.reset()
		}
		last := p.last
		free <- p
		if last {
			if hand != nil {
				return hand.wait()
			}
			return nil
		}
	}
}

// tableChunk is a chunk of a page's identities as they are built,
// derived and handed over, with the maps they hold: its own, so a chunk
// handed to fn on another goroutine keeps them while the next is built.
type tableChunk struct {
	ids          []Identity
	kept         []Identity // ids the renames keep, derived: a prefix of ids
	attrs, perms []map[string]string
	findings     findingSlab // the findings of kept
	times        timeSlab    // the times of ids: a block of them, for a chunk of deriveChunk
}

// reset empties c for the next chunk: the identities go, so no texts of
// theirs are held; the maps and the blocks of findings and times stay,
// to be cleared and filled again.
func (c *tableChunk) reset() {
	clear(c.ids)
	c.ids, c.kept = c.ids[:0], nil
	c.findings.reset()
	c.times = c.times[:0]
}

// handOver calls fn with the identities of each chunk passed to it, in
// the order passed, on a goroutine of its own: on two cores the TUI's
// encoding of a chunk into rows runs beside the derive of the next, where
// one goroutine derived and encoded every identity in turn and was the
// read's critical path (issue 21: at a million, loaded, its thread took
// 10.4 CPU-seconds, the reader's 6.9; now 4.7 and 5.6, fn's 5.8).
// Chunks circulate as pages do: the deriver fills one while another
// waits and a third is handed to fn.
type handOver struct {
	ctx    context.Context
	cancel context.CancelFunc
	chunks chan *tableChunk // free
	full   chan *tableChunk // derived, for fn; closed by wait or stop
	done   chan struct{}    // closed when the goroutine ends
	err    error            // fn's, or the context's; read after done
	closed bool
}

func newHandOver(ctx context.Context, fn func(*Identity) error) *handOver {
	h := &handOver{chunks: make(chan *tableChunk, 3), full: make(chan *tableChunk, 3), done: make(chan struct{})}
	h.ctx, h.cancel = context.WithCancel(ctx)
	for range 3 {
		h.chunks <- &tableChunk{}
	}
	go func() {
		defer close(h.done)
		for c := range h.full {
			if h.err == nil {
				if h.err = h.ctx.Err(); h.err == nil {
					for i := range c.kept {
						if h.err = fn(&c.kept[i]); h.err != nil {
							h.cancel() // the deriver stops at its next chunk
							break
						}
					}
				}
			}
			c.reset()
			h.chunks <- c
		}
	}()
	return h
}

// free is the next chunk to fill, once fn is through with it; an error
// when fn failed or the read was cancelled.
func (h *handOver) free() (*tableChunk, error) {
	select {
	case c := <-h.chunks:
		return c, nil
	case <-h.ctx.Done():
		if err := h.wait(); err != nil {
			return nil, err
		}
		return nil, h.ctx.Err()
	}
}

// pass hands c, whose derived identities are kept, to fn.
func (h *handOver) pass(c *tableChunk, kept []Identity) {
	c.kept = kept
	h.full <- c // never blocks: full holds all three chunks
}

// wait waits for fn to be through with every chunk passed, and gives its
// error, or the context's if it was cancelled first.
func (h *handOver) wait() error {
	if !h.closed {
		h.closed = true
		close(h.full)
	}
	<-h.done
	return h.err
}

// stop ends the hand-over when the read ends early: fn is not called
// with the chunks still waiting.
func (h *handOver) stop() {
	h.cancel()
	h.wait()
}

// deriveChunk is how many identities EachTableIdentity builds, derives
// and hands over at a time: what with their maps and texts stays in a
// core's cache from one step to the next. A variable so tests can cross
// chunk boundaries inside pages.
var deriveChunk = 256

// tablePage is a page of identities with their latest observations and
// owners, as the reader got them.
type tablePage struct {
	rows []tableRow
	last bool  // no page follows
	err  error // the read failed: no page follows
	// at indexes rows by ID, built when a read does not come in the
	// page's order.
	at map[string]int
	// marks are the change marks of the page's identities (markPairs).
	marks map[string]string
	// cur is what the page's first range read of an account's newest
	// snapshot read (observationRange): its material digests, from the
	// ID from to the ID to, which readMarks need not read again.
	cur struct {
		ok       bool
		sn       int64
		from, to string
		list     []idMaterial
	}
	// curBuf and prevBuf are readMarks' lists of the two snapshots'
	// digests, kept to be filled again by the next page.
	curBuf, prevBuf []idMaterial
}

// tableRow is one identity's columns.
type tableRow struct {
	id, kind, source, account, firstSeen, lastSeen string
	snapshot, firstSnapshot                        int64
	found                                          bool // its observation was read
	name, scope                                    string
	created, lastUsed, rotated, expires            sql.NullString
	perms, attrs, owner                            string
	material                                       string // its observation's digest, for the change marks
	// packed is the row's columns as the packed read got them (the
	// texts above share its memory, and it that of its query's rows,
	// tablepack.go): kept in the row rather than a local, which escaped
	// and took an allocation a row.
	packed string
	// identRest and obsRest are the identity's and the observation's
	// columns the reader did not need, packed as read, for the derive to
	// cut (cutRest): the reader's goroutine is the open's critical path
	// (issue 21), and it cuts only what it reads by (the IDs, the
	// snapshots, the material digests). Empty once cut, and in a read
	// column by column.
	identRest, obsRest string
}

// cutRest cuts the columns the reader left packed into r's fields. The
// reader counted each text's separators (scanIdentity, scanObservation),
// so the cut cannot fall short.
func (r *tableRow) cutRest() {
	if r.identRest != "" {
		rest, _ := CutPacked(r.identRest, &r.kind, &r.source, &r.account, &r.firstSeen)
		r.lastSeen, r.identRest = rest, ""
	}
	if r.obsRest != "" {
		rest, _ := CutPacked(r.obsRest, &r.name, &r.scope, &r.created.String, &r.lastUsed.String, &r.rotated.String, &r.expires.String, &r.perms)
		r.attrs, r.obsRest = rest, ""
		for _, t := range []*sql.NullString{&r.created, &r.lastUsed, &r.rotated, &r.expires} {
			t.Valid = t.String != ""
		}
	}
}

// lastRow is what the previous row of a chunk was built with, which the
// next row often repeats: the text of its permissions and their map (many
// identities have the same permissions, and parsing them again into a map
// of their own was a fortieth of an open of a million, issue 21), and its
// first and last seen times (an identity's snapshots are those of the
// rows around it).
type lastRow struct {
	perms               string
	permsMap            map[string]string
	firstSeen, lastSeen string
	first, last         time.Time
	ok                  bool
}

// identity is r as an Identity whose maps are attrs and perms (cleared),
// its times taken from times; last is the chunk's previous row, whose map
// of permissions it shares when its permissions are the same text (no
// one writes an identity's maps).
func (r *tableRow) identity(attrs, perms map[string]string, times *timeSlab, last *lastRow) (Identity, error) {
	r.cutRest()
	it := Identity{
		Observation: Observation{ID: r.id, Kind: Kind(r.kind), Name: r.name, Scope: r.scope,
			CreatedAt: times.parse(r.created), LastUsedAt: times.parse(r.lastUsed),
			RotatedAt: times.parse(r.rotated), ExpiresAt: times.parse(r.expires)},
		Source: r.source, Account: r.account, Owner: r.owner, SnapshotID: r.snapshot,
		Status: StatusActive, Findings: []Finding{},
	}
	if !last.ok || r.firstSeen != last.firstSeen {
		last.firstSeen = r.firstSeen
		last.first, _ = parseTime(r.firstSeen)
	}
	if !last.ok || r.lastSeen != last.lastSeen {
		last.lastSeen = r.lastSeen
		last.last, _ = parseTime(r.lastSeen)
	}
	it.FirstSeen, it.LastSeen = last.first, last.last
	var err error
	if last.ok && r.perms == last.perms {
		it.Permissions = last.permsMap
	} else if it.Permissions, err = fillMap(r.perms, perms); err != nil {
		return it, fmt.Errorf("identity %s: permissions: %w", r.id, err)
	}
	last.perms, last.permsMap, last.ok = r.perms, it.Permissions, true
	if it.Attributes, err = fillMap(r.attrs, attrs); err != nil {
		return it, fmt.Errorf("identity %s: attributes: %w", r.id, err)
	}
	return it, nil
}

// timeSlab hands out the times of a read's identities from blocks of
// them, an allocation a block rather than one a time. A block is not
// written again once handed out, so a time a caller keeps stays as it
// is, unless the slab is emptied to be filled again (tableChunk.reset:
// the table read's identities' times are reused as the identities are).
type timeSlab []time.Time

// parse is parseNullTime(s), kept in the slab.
func (ts *timeSlab) parse(s sql.NullString) *time.Time {
	if !s.Valid {
		return nil
	}
	t, err := parseTime(s.String)
	if err != nil {
		return nil
	}
	if len(*ts) == cap(*ts) {
		*ts = make(timeSlab, 0, 1024)
	}
	*ts = append(*ts, t)
	return &(*ts)[len(*ts)-1]
}

// fillMap is unmarshalMap into m, cleared first: nil for an empty object.
func fillMap(s string, m map[string]string) (map[string]string, error) {
	if s == "{}" || s == "" {
		return nil, nil
	}
	clear(m)
	if fillPlainMap(s, m) {
		return m, nil
	}
	clear(m)
	// Decoded through a variable of this branch's own: the parameter's
	// address, taken here, moved it to the heap on every call.
	decoded := m
	if err := json.Unmarshal([]byte(s), &decoded); err != nil {
		return nil, err
	}
	return decoded, nil
}

// readTablePages reads the population into the pages free hands it, in
// ID order, and sends each to full, the last with last (or err) set.
// The first pages are small, so the first identities show at once.
func (s *Store) readTablePages(ctx context.Context, rd tableRead, free <-chan *tablePage, full chan<- *tablePage) {
	after, size := "", min(256, eachBatch)
	for {
		var p *tablePage
		select {
		case p = <-free:
		case <-ctx.Done():
			return
		}
		p.err = rd.page(ctx, p, after, size)
		if errors.Is(p.err, errUnpackable) {
			// A text holds the separator: this page column by column.
			unpacked := rd
			unpacked.packed = false
			p.err = unpacked.page(ctx, p, after, size)
		}
		p.last = p.err != nil || len(p.rows) < size
		if n := len(p.rows); n > 0 {
			after = p.rows[n-1].id
		}
		select {
		case full <- p:
		case <-ctx.Done():
			return
		}
		if p.last {
			return
		}
		size = min(2*size, eachBatch)
	}
}

// tableRead is how the reader queries: on q, with each row's columns
// packed into one text or not, through stmts' statements when it has
// them.
type tableRead struct {
	q      querier
	packed bool
	stmts  *stmtCache
	marks  *markPairs // nil: no marks read (a benchmark's reader)
}

// query runs query on rd.q, through a statement of rd.stmts when it has
// them.
func (rd tableRead) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if rd.stmts == nil {
		return rd.q.QueryContext(ctx, query, args...)
	}
	return rd.stmts.query(ctx, query, args...)
}

// readConn is where a read's statements are prepared: the pool, or one
// connection of it.
type readConn interface {
	querier
	PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
}

// stmtCache prepares each query of a read once: a read of a million
// identities runs its three queries some 250 times each, and preparing
// them every time (SQLite parses and plans the text anew) cost a
// twentieth of the reader. It is one goroutine's.
type stmtCache struct {
	db readConn
	m  map[string]*sql.Stmt
}

func (c *stmtCache) query(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	st, err := c.stmt(ctx, query)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

// stmt is query's statement, prepared the first time.
func (c *stmtCache) stmt(ctx context.Context, query string) (*sql.Stmt, error) {
	st := c.m[query]
	if st == nil {
		var err error
		if st, err = c.db.PrepareContext(ctx, query); err != nil {
			return nil, err
		}
		if c.m == nil {
			c.m = map[string]*sql.Stmt{}
		}
		c.m[query] = st
	}
	return st, nil
}

func (c *stmtCache) close() {
	for _, st := range c.m {
		st.Close()
	}
}

// identityColumns are the identity's columns, those the reader reads
// by first (scanIdentity).
func (rd tableRead) identityColumns() string {
	if rd.packed {
		return packed("id", "last_snapshot", "first_snapshot", "kind", "source", "account", "first_seen", "last_seen")
	}
	return "id, last_snapshot, first_snapshot, kind, source, account, first_seen, last_seen"
}

// identitySeps is how many separators a packed identity row has.
const identitySeps = 7

// scanIdentity reads r's identity columns: from rows, or from the text
// r.packed (rd.packed), whose ID and snapshots it cuts and whose other
// columns it leaves to cutRest, once it has counted the separators.
func (rd tableRead) scanIdentity(rows *sql.Rows, r *tableRow) error {
	if !rd.packed {
		return rows.Scan(&r.id, &r.snapshot, &r.firstSnapshot, &r.kind, &r.source, &r.account, &r.firstSeen, &r.lastSeen)
	}
	if strings.Count(r.packed, packSep) != identitySeps {
		return errUnpackable
	}
	var sn, first string
	r.identRest, _ = CutPacked(r.packed, &r.id, &sn, &first)
	var err error
	if r.snapshot, err = strconv.ParseInt(sn, 10, 64); err != nil {
		return fmt.Errorf("identity %s: last snapshot %q: %w", r.id, sn, err)
	}
	if r.firstSnapshot, err = strconv.ParseInt(first, 10, 64); err != nil {
		return fmt.Errorf("identity %s: first snapshot %q: %w", r.id, first, err)
	}
	return nil
}

// page reads the n identities after the ID after into p, with their
// observations and owners.
func (rd tableRead) page(ctx context.Context, p *tablePage, after string, n int) error {
	p.rows, p.at = p.rows[:0], nil
	clear(p.cur.list)
	p.cur.ok, p.cur.list = false, p.cur.list[:0]
	err := rd.each(ctx, rd.identityColumns(), `FROM identities WHERE id > ? ORDER BY id LIMIT ?`, []any{after, n},
		func(rows *sql.Rows, text string) error {
			p.rows = append(p.rows, tableRow{packed: text})
			r := &p.rows[len(p.rows)-1]
			if err := rd.scanIdentity(rows, r); err != nil {
				return err
			}
			if len(p.rows) > 1 && r.id <= p.rows[len(p.rows)-2].id {
				return errUnpackable // out of order: cut wrong
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("reading identities: %w", err)
	}
	if len(p.rows) == 0 {
		return nil
	}
	// The snapshots the page's identities were last seen in, with the
	// first and last of its rows each holds.
	type span struct{ n, first, last int }
	spans := map[int64]*span{}
	for i := range p.rows {
		sn := p.rows[i].snapshot
		if sp := spans[sn]; sp != nil {
			sp.n, sp.last = sp.n+1, i
		} else {
			spans[sn] = &span{1, i, i}
		}
	}
	for sn, sp := range spans {
		// A range read costs the rows between the first and the last;
		// a read by key, a seek each.
		if sp.n*8 >= sp.last-sp.first+1 {
			err = rd.observationRange(ctx, p, sn, sp.first, sp.last)
		} else {
			err = rd.observationKeys(ctx, p, sn)
		}
		if err != nil {
			return err
		}
	}
	if err := rd.ownerRange(ctx, p); err != nil {
		return err
	}
	return rd.readMarks(ctx, p)
}

// tableObservationColumns are an observation's columns as a table read
// scans them column by column (EachIdentityInSnapshots reads them so).
const tableObservationColumns = `identity_id, name, scope, created_at, last_used_at, rotated_at, expires_at, permissions, attributes`

func (rd tableRead) observationColumns() string {
	if rd.packed {
		// The attributes too: the owners named in them are kept as
		// suggestions, which suggestOwners copies, so no suggestion
		// keeps the whole row.
		// The ID and the material digest first: the reader cuts
		// those, and leaves the rest to cutRest.
		cols := []string{"identity_id"}
		if rd.withMaterial() {
			cols = append(cols, "material")
		}
		return packed(append(cols, "name", "scope", "ifnull(created_at,'')", "ifnull(last_used_at,'')",
			"ifnull(rotated_at,'')", "ifnull(expires_at,'')", "permissions", "attributes")...)
	}
	if rd.withMaterial() {
		return tableObservationColumns + ", material"
	}
	return tableObservationColumns
}

// withMaterial says whether the observations are read with their
// material digests: only where some account has two finished snapshots
// to tell changes between (readMarks); else the digests, 33 bytes a row,
// were read for nothing.
func (rd tableRead) withMaterial() bool { return rd.marks != nil && len(rd.marks.pairs) > 0 }

// observationRange reads snapshot sn's observations of the page's
// rows first to last (ID order) in one range of the key.
func (rd tableRead) observationRange(ctx context.Context, p *tablePage, sn int64, first, last int) error {
	var o tableRow
	j := first
	// The material digests of a range of an account's newest snapshot
	// are kept for its change marks (readMarks): every observation the
	// range holds, whoever it belongs to.
	keep := false
	if rd.marks != nil && !p.cur.ok {
		if _, ok := rd.marks.prevOf[sn]; ok {
			keep = true
			p.cur.ok, p.cur.sn, p.cur.from, p.cur.to = true, sn, p.rows[first].id, p.rows[last].id
		}
	}
	err := rd.eachInKeyOrder(ctx, rd.observationColumns(), `FROM observations
		WHERE snapshot_id = ? AND identity_id >= ? AND identity_id <= ?`, "identity_id", []any{sn, p.rows[first].id, p.rows[last].id},
		func(rows *sql.Rows, text string) error {
			prev := o.id
			o.packed = text
			if err := rd.scanObservation(rows, &o); err != nil {
				return err
			}
			if o.id <= prev {
				return errUnpackable // out of order: cut wrong
			}
			if keep {
				p.cur.list = append(p.cur.list, idMaterial{o.id, o.material})
			}
			// Both reads come in the database's order of IDs: the row
			// this observation belongs to is at j or after it, unless
			// the identity was last seen elsewhere (then the lookup
			// finds it with another snapshot, or not at all).
			k := j
			for k <= last && p.rows[k].id != o.id {
				k++
			}
			if k > last {
				return nil
			}
			j = k + 1
			if r := &p.rows[k]; r.snapshot == sn {
				r.setObservation(&o)
			}
			return nil
		})
	if err != nil {
		return fmt.Errorf("reading observations: %w", err)
	}
	return nil
}

// observationKeys reads snapshot sn's observations of the page's rows
// last seen in it, by key.
func (rd tableRead) observationKeys(ctx context.Context, p *tablePage, sn int64) error {
	var ids []any
	for i := range p.rows {
		if p.rows[i].snapshot == sn {
			ids = append(ids, p.rows[i].id)
		}
	}
	p.index()
	// Not through rd.stmts: the statement differs with the count of keys.
	byKey := tableRead{q: rd.q, packed: rd.packed}
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		var o tableRow
		err := byKey.each(ctx, rd.observationColumns(), `FROM observations
			WHERE snapshot_id = ? AND identity_id IN (?`+strings.Repeat(",?", len(part)-1)+`)`, append([]any{sn}, part...),
			func(rows *sql.Rows, text string) error {
				o.packed = text
				if err := rd.scanObservation(rows, &o); err != nil {
					return err
				}
				if k, ok := p.at[o.id]; ok {
					p.rows[k].setObservation(&o)
				}
				return nil
			})
		if err != nil {
			return fmt.Errorf("reading observations: %w", err)
		}
	}
	return nil
}

// ownerRange reads the owners of the page's identities: one range,
// in ID order like the page.
func (rd tableRead) ownerRange(ctx context.Context, p *tablePage) error {
	cols := "identity_id, owner"
	if rd.packed {
		cols = packedPair("identity_id", "owner")
	}
	var o tableRow // scanned into, one for the read: locals escaped a row at a time
	j := 0
	err := rd.eachInKeyOrder(ctx, cols, `FROM owners WHERE identity_id >= ? AND identity_id <= ?`, "identity_id",
		[]any{p.rows[0].id, p.rows[len(p.rows)-1].id},
		func(rows *sql.Rows, text string) error {
			prev := o.id
			if rd.packed {
				if !unpack(text, &o.id, &o.owner) {
					return errUnpackable
				}
			} else if err := rows.Scan(&o.id, &o.owner); err != nil {
				return err
			}
			if o.id <= prev {
				return errUnpackable // out of order: cut wrong
			}
			k := j
			for k < len(p.rows) && p.rows[k].id != o.id {
				k++
			}
			if k == len(p.rows) {
				return nil // an identity the page does not have
			}
			j = k + 1
			p.rows[k].owner = o.owner
			return nil
		})
	if err != nil {
		return fmt.Errorf("reading owners: %w", err)
	}
	return nil
}

// index builds p.at.
func (p *tablePage) index() {
	if p.at != nil {
		return
	}
	p.at = make(map[string]int, len(p.rows))
	for i := range p.rows {
		p.at[p.rows[i].id] = i
	}
}

// observationSeps is how many separators a packed observation row has
// without its material digest.
const observationSeps = 8

// scanObservation reads o's observation columns: from rows, or from the
// text o.packed (rd.packed), whose ID and material digest it cuts and
// whose other columns it leaves to cutRest, once it has counted the
// separators.
func (rd tableRead) scanObservation(rows *sql.Rows, o *tableRow) error {
	withMaterial := rd.withMaterial()
	switch {
	case !rd.packed && withMaterial:
		return rows.Scan(&o.id, &o.name, &o.scope, &o.created, &o.lastUsed, &o.rotated, &o.expires, &o.perms, &o.attrs, &o.material)
	case !rd.packed:
		return rows.Scan(&o.id, &o.name, &o.scope, &o.created, &o.lastUsed, &o.rotated, &o.expires, &o.perms, &o.attrs)
	case withMaterial:
		if strings.Count(o.packed, packSep) != observationSeps+1 {
			return errUnpackable
		}
		o.obsRest, _ = CutPacked(o.packed, &o.id, &o.material)
	default:
		if strings.Count(o.packed, packSep) != observationSeps {
			return errUnpackable
		}
		o.obsRest, _ = CutPacked(o.packed, &o.id)
	}
	return nil
}

// setObservation copies o's observation columns into r: those read
// column by column, or those the reader left packed (obsRest).
func (r *tableRow) setObservation(o *tableRow) {
	r.found = true
	r.name, r.scope = o.name, o.scope
	r.created, r.lastUsed, r.rotated, r.expires = o.created, o.lastUsed, o.rotated, o.expires
	r.perms, r.attrs = o.perms, o.attrs
	r.obsRest = o.obsRest
}
