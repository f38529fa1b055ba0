package audit

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// verifyIdentities rebuilds the identities table from the observations
// of every complete or partial snapshot, in the order they finished, and
// compares: rows deleted, added and edited are named.
//
// It is one merge, in identity order, of the identities table and of
// those snapshots' observations: each identity's first and last snapshot
// (as ranks in that order) and its kinds are gathered as the cursors pass
// it: the table and the observations are each read once, and memory
// holds only what is reported (issue 21; it was a query grouping every
// observation, run twice). On SQLite each snapshot's observations are a
// cursor of their own, in the order of the table's key (snapshot_id,
// identity_id), merged here, so nothing is grouped or sorted in
// temporary storage; all the cursors share one connection, and so read
// the file as it stood when the first was stepped. On PostgreSQL, whose
// connections give one result at a time, and past maxObservationCursors
// snapshots, the database sorts the observations into one cursor instead.
// Both orders are byte by byte, as Go compares (COLLATE "C" on
// PostgreSQL).
//
// A cursor per snapshot reads its observations whole and hashes them as
// they pass: it returns the digests so computed (rowDigest), which
// verify's check of the digests then need not read again; a snapshot
// whose rows were not in the digest's order is not among them.
func (s *Store) verifyIdentities(ctx context.Context, r *VerifyResult, records map[int64]loggedRecord) (map[int64]snapDigest, error) {
	snaps, err := s.finishedInOrder(ctx, records)
	if err != nil {
		return nil, err
	}
	// PostgreSQL's cursors each take a connection of the pool; SQLite's
	// share one.
	var on querier = s.db
	if s.engine != enginePostgres {
		conn, err := s.db.Conn(ctx)
		if err != nil {
			return nil, err
		}
		defer conn.Close()
		on = conn
	}
	obs, err := s.observedInIDOrder(ctx, on, snaps)
	if err != nil {
		return nil, err
	}
	defer obs.close()
	// On SQLite the columns but the ID come packed into one text
	// (tableread.go's packed): the driver's cost is per column, and eight
	// cost a million identities about a second of CPU more (issue 21).
	const identityColumns = `kind, source, account, first_snapshot, last_snapshot, first_seen, last_seen`
	cols := `id, ` + identityColumns
	packedRows := s.engine != enginePostgres
	if packedRows {
		cols = `id, ` + packed(strings.Split(identityColumns, ", ")...)
	}
	rows, err := on.QueryContext(ctx, `SELECT `+cols+` FROM identities ORDER BY `+s.byteOrder("id"))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var (
		id, kind, source, account, firstSeen, lastSeen string
		first, last                                    int64
		pk, firstText, lastText                        string
	)
	nextRow := func() (bool, error) {
		if !rows.Next() {
			return false, rows.Err()
		}
		if !packedRows {
			return true, rows.Scan(&id, &kind, &source, &account, &first, &last, &firstSeen, &lastSeen)
		}
		if err := rows.Scan(&id, &pk); err != nil {
			return true, err
		}
		if unpack(pk, &kind, &source, &account, &firstText, &lastText, &firstSeen, &lastSeen) {
			var err1, err2 error
			first, err1 = strconv.ParseInt(firstText, 10, 64)
			last, err2 = strconv.ParseInt(lastText, 10, 64)
			if err1 == nil && err2 == nil {
				return true, nil
			}
		}
		// A text holds the separator, or a snapshot is not an integer
		// (which the scan names): this row column by column.
		return true, on.QueryRowContext(ctx, `SELECT `+identityColumns+` FROM identities WHERE id = ?`, id).
			Scan(&kind, &source, &account, &first, &last, &firstSeen, &lastSeen)
	}
	var missing, extra, changed []string
	haveRow, err := nextRow()
	if err != nil {
		return nil, err
	}
	haveObs, err := obs.next()
	if err != nil {
		return nil, err
	}
	for haveRow || haveObs {
		var c int // < 0: a row nothing observed; > 0: observed, no row
		switch {
		case !haveObs:
			c = -1
		case !haveRow:
			c = 1
		case id < string(obs.id):
			c = -1
		case id > string(obs.id):
			c = 1
		}
		switch {
		case c < 0:
			extra = append(extra, Printable(id))
		case c > 0:
			missing = append(missing, fmt.Sprintf("%s (observed by snapshot %d)", Printable(string(obs.id)), snaps[obs.last].id))
		default:
			f, l := snaps[obs.first], snaps[obs.last]
			if obs.mixed || kind != string(obs.kind) || source != f.source || account != f.account ||
				first != f.id || last != l.id || firstSeen != f.started || lastSeen != l.started {
				changed = append(changed, Printable(id))
			}
		}
		if c <= 0 {
			if haveRow, err = nextRow(); err != nil {
				return nil, err
			}
		}
		if c >= 0 {
			if haveObs, err = obs.next(); err != nil {
				return nil, err
			}
		}
	}
	listProblem(r, missing, "identities: %d identities the snapshots observed are missing from the table (rows were deleted): %s")
	listProblem(r, extra, "identities: %d identities in the table were never observed by a finished snapshot (rows were added): %s")
	listProblem(r, changed, "identities: %d rows differ from what the snapshots' observations imply (rows were edited): %s")
	return obs.digests, nil
}

// finishedSnap is a complete or partial snapshot as verifyIdentities
// replays it.
type finishedSnap struct {
	id                               int64
	source, account, started, finish string
}

// finishedInOrder lists the complete and partial snapshots in the order
// they finished: old-form snapshots (no record) before every recorded
// one, by finish time; recorded ones by their record's place in the log.
func (s *Store) finishedInOrder(ctx context.Context, records map[int64]loggedRecord) ([]finishedSnap, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT id, source, account, started_at, coalesce(finished_at, '') FROM snapshots WHERE status IN ('complete', 'partial')`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var snaps []finishedSnap
	for rows.Next() {
		var sn finishedSnap
		if err := rows.Scan(&sn.id, &sn.source, &sn.account, &sn.started, &sn.finish); err != nil {
			return nil, err
		}
		snaps = append(snaps, sn)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	order := func(sn finishedSnap) (int64, string, int64) {
		if lr, ok := records[sn.id]; ok {
			return 1, "", lr.seq
		}
		return 0, sn.finish, sn.id
	}
	sort.Slice(snaps, func(i, j int) bool {
		ra, fa, ia := order(snaps[i])
		rb, fb, ib := order(snaps[j])
		if ra != rb {
			return ra < rb
		}
		if fa != fb {
			return fa < fb
		}
		return ia < ib
	})
	return snaps, nil
}

// maxObservationCursors is how many snapshots' observations SQLite reads
// through cursors of their own. Each is an open statement holding a page
// or two of the file: a few hundred cost little, but a file of years of
// daily snapshots of many accounts holds hundreds of thousands, so past
// it one query sorts them all. A variable so a test can take that way.
var maxObservationCursors = 256

// byteOrder is an ORDER BY term that orders column's texts byte by byte,
// as Go compares strings: SQLite's default (BINARY), PostgreSQL's "C".
func (s *Store) byteOrder(column string) string {
	if s.engine == enginePostgres {
		return column + ` COLLATE "C"`
	}
	return column
}

// observedInIDOrder opens the observations of snaps (ranked by their
// place in it) as one stream in identity order: see verifyIdentities.
func (s *Store) observedInIDOrder(ctx context.Context, on querier, snaps []finishedSnap) (*observedIDs, error) {
	o := &observedIDs{}
	if len(snaps) == 0 {
		return o, nil
	}
	if s.engine == enginePostgres || len(snaps) > maxObservationCursors {
		o.rank = make(map[int64]int, len(snaps))
		var in strings.Builder
		for i, sn := range snaps {
			o.rank[sn.id] = i
			if i > 0 {
				in.WriteByte(',')
			}
			fmt.Fprint(&in, sn.id)
		}
		// The snapshot IDs are integers the file gave.
		rows, err := on.QueryContext(ctx, `SELECT identity_id, kind, snapshot_id FROM observations
			WHERE snapshot_id IN (`+in.String()+`) ORDER BY `+s.byteOrder("identity_id"))
		if err != nil {
			return nil, err
		}
		o.heap = append(o.heap, &observationCursor{rows: rows, rank: -1})
	} else {
		// Each snapshot's cursor reads its observations whole and
		// hashes them into its digest (rowDigest), its scope records
		// hashed first, here, before any cursor is open.
		o.digests = make(map[int64]snapDigest, len(snaps))
		digests := make([]*rowDigest, len(snaps))
		for i, sn := range snaps {
			d, err := startRowDigest(ctx, on, sn.id)
			if err != nil {
				return nil, err
			}
			digests[i] = d
		}
		for i, sn := range snaps {
			c := &observationCursor{rank: i, snapshot: sn.id, digest: digests[i], digests: o.digests}
			cols := `identity_id, kind`
			if c.digest != nil {
				cols, c.whole = recordColumnsPacked, true
				id := sn.id
				c.reread = func(oid string) (*sql.Rows, error) {
					return on.QueryContext(ctx, `SELECT `+recordColumns+` FROM observations WHERE snapshot_id = ? AND identity_id = ?`, id, oid)
				}
			}
			rows, err := on.QueryContext(ctx, `SELECT `+cols+` FROM observations WHERE snapshot_id = ? ORDER BY identity_id`, sn.id)
			if err != nil {
				o.close()
				return nil, err
			}
			c.rows = rows
			o.heap = append(o.heap, c)
		}
	}
	// Each cursor's first row, then the heap.
	var live []*observationCursor
	for _, c := range o.heap {
		ok, err := c.advance(o.rank)
		if err != nil {
			o.close()
			return nil, err
		}
		if ok {
			live = append(live, c)
		} else {
			c.rows.Close()
		}
	}
	o.heap = live
	for i := len(o.heap)/2 - 1; i >= 0; i-- {
		o.down(i)
	}
	return o, nil
}

// observedIDs merges cursors over observations, each in identity order,
// into one identity at a time (next): its ID, its first and last
// snapshot's ranks, and its kind (mixed when its observations disagree).
type observedIDs struct {
	heap        []*observationCursor // a min-heap by the cursors' current ID
	rank        map[int64]int        // snapshot -> rank, for a cursor over several
	digests     map[int64]snapDigest // by snapshot, those its cursor computed
	id, kind    []byte
	mixed       bool
	first, last int
}

// observationCursor is one query's observations in identity order, at
// its current row.
type observationCursor struct {
	rows           *sql.Rows
	rank           int // the snapshot's rank; -1: the rows name their snapshot
	rawID, rawKind sql.RawBytes
	snapshot       int64
	id, kind       []byte // the current row's, kept past the next Scan
	r              int    // the current row's snapshot rank

	// A cursor over one snapshot's observations whole (whole: their
	// recordColumnsPacked) hashes them into digest as it reads them, and puts the digest into
	// digests at its end; digest is nil when the snapshot's rows were
	// not in the digest's order (it is then computed apart).
	whole   bool
	rs      recordScanner
	reread  func(id string) (*sql.Rows, error) // one row of recordColumns
	digest  *rowDigest
	digests map[int64]snapDigest
}

// advance moves c to its next row, reporting whether there was one.
func (c *observationCursor) advance(rank map[int64]int) (bool, error) {
	if !c.rows.Next() {
		if err := c.rows.Err(); err != nil {
			return false, err
		}
		if c.digest != nil {
			c.digests[c.snapshot] = snapDigest{c.digest.sum(), c.digest.counts}
			c.digest = nil
		}
		return false, nil
	}
	if c.whole {
		oid, kind, sum, err := c.rs.scanPacked(c.rows, c.reread)
		if err != nil {
			return false, err
		}
		if c.digest != nil && !c.digest.add(oid, kind, sum) {
			c.digest = nil
		}
		c.id = append(c.id[:0], oid...)
		c.kind = append(c.kind[:0], kind...)
		c.r = c.rank
		return true, nil
	}
	if c.rank >= 0 {
		if err := c.rows.Scan(&c.rawID, &c.rawKind); err != nil {
			return false, err
		}
		c.r = c.rank
	} else {
		if err := c.rows.Scan(&c.rawID, &c.rawKind, &c.snapshot); err != nil {
			return false, err
		}
		c.r = rank[c.snapshot] // the query asked for ranked snapshots only
	}
	c.id = append(c.id[:0], c.rawID...)
	c.kind = append(c.kind[:0], c.rawKind...)
	return true, nil
}

// next moves to the next identity observed, reporting whether there was
// one.
func (o *observedIDs) next() (bool, error) {
	if len(o.heap) == 0 {
		return false, nil
	}
	top := o.heap[0]
	o.id = append(o.id[:0], top.id...)
	o.kind = append(o.kind[:0], top.kind...)
	o.first, o.last, o.mixed = top.r, top.r, false
	for {
		if err := o.advanceTop(); err != nil {
			return false, err
		}
		if len(o.heap) == 0 || !bytes.Equal(o.heap[0].id, o.id) {
			return true, nil
		}
		c := o.heap[0]
		o.first, o.last = min(o.first, c.r), max(o.last, c.r)
		if !bytes.Equal(c.kind, o.kind) {
			o.mixed = true
		}
	}
}

// advanceTop moves the heap's first cursor on, dropping it when done.
func (o *observedIDs) advanceTop() error {
	top := o.heap[0]
	ok, err := top.advance(o.rank)
	if err != nil {
		return err
	}
	if !ok {
		top.rows.Close()
		o.heap = dropTop(o.heap)
	}
	if len(o.heap) > 0 {
		o.down(0)
	}
	return nil
}

// down restores the heap's order below i.
func (o *observedIDs) down(i int) {
	siftDown(o.heap, i, func(a, b *observationCursor) bool { return bytes.Compare(a.id, b.id) < 0 })
}

// close closes the cursors still open.
func (o *observedIDs) close() {
	for _, c := range o.heap {
		c.rows.Close()
	}
	o.heap = nil
}

// listProblem adds one problem naming up to ten of items, sorted.
func listProblem(r *VerifyResult, items []string, format string) {
	if len(items) == 0 {
		return
	}
	sort.Strings(items)
	shown := items
	more := ""
	if len(shown) > 10 {
		shown, more = shown[:10], fmt.Sprintf(" and %d more", len(items)-10)
	}
	r.add(format, len(items), joinComma(shown)+more)
}

func joinComma(s []string) string { return strings.Join(s, ", ") }
