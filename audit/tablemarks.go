package audit

import (
	"context"
	"database/sql"
	"fmt"
)

// The change marks of the table read (tableread.go): changeMarks'
// answer, new or changed since the snapshot before its account's newest,
// for each page's identities, found by the reader as it reads the page
// rather than by changeMarks' query over the page's range of IDs. That
// query, run for each page on the deriving goroutine, sought each
// identity's observation in its account's newest snapshot from the one
// before, and scanned the page's identities once per account with two
// snapshots: at 100,000 identities (nhi demo) it was 0.4 of the derive's
// 0.9 CPU-seconds (issue 21). Here a page's new identities are told
// from the first snapshot the reader reads with each, and its changed
// ones by two reads of a range of the observations' key, the newest
// snapshot's and the one before it, compared in Go: no seek an identity.

// markPairs are, for each account with two finished snapshots, its
// newest (cur) and the one before (prev): changeMarks' pairs.
type markPairs struct {
	prevOf map[int64]int64 // cur -> prev
	pairs  []markPair      // those whose cur observed identities
}

// markPair is one account's pair, with the first and last identity IDs
// cur observed, so a page reads the pairs whose range meets its own.
type markPair struct {
	cur, prev int64
	lo, hi    string
}

// markPairsCTE names pair: each account's newest finished snapshot (cur)
// and the finished one before it (prev, NULL when there is none), which
// change marks compare.
const markPairsCTE = `fin AS (SELECT id, source, account FROM snapshots WHERE status IN ('complete', 'partial')),
		latest AS (SELECT source, account, max(id) AS cur FROM fin GROUP BY source, account),
		pair AS (SELECT l.cur,
			(SELECT max(f.id) FROM fin f WHERE f.source = l.source AND f.account = l.account AND f.id < l.cur) AS prev FROM latest l)`

// readMarkPairs reads the pairs, as changeMarks' query picks them.
func readMarkPairs(ctx context.Context, q querier) (*markPairs, error) {
	rows, err := q.QueryContext(ctx, `
		WITH `+markPairsCTE+`
		SELECT cur, prev,
			(SELECT min(identity_id) FROM observations WHERE snapshot_id = pair.cur),
			(SELECT max(identity_id) FROM observations WHERE snapshot_id = pair.cur)
		FROM pair WHERE prev IS NOT NULL`)
	if err != nil {
		return nil, fmt.Errorf("comparing snapshots: %w", err)
	}
	defer rows.Close()
	m := &markPairs{prevOf: map[int64]int64{}}
	for rows.Next() {
		var (
			p      markPair
			lo, hi sql.NullString
		)
		if err := rows.Scan(&p.cur, &p.prev, &lo, &hi); err != nil {
			return nil, fmt.Errorf("comparing snapshots: %w", err)
		}
		m.prevOf[p.cur] = p.prev
		if lo.Valid && hi.Valid {
			p.lo, p.hi = lo.String, hi.String
			m.pairs = append(m.pairs, p)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("comparing snapshots: %w", err)
	}
	return m, nil
}

// readMarks sets p.marks: changeMarks of the identities between the
// page's first and last IDs.
func (rd tableRead) readMarks(ctx context.Context, p *tablePage) error {
	if p.marks == nil {
		p.marks = map[string]string{}
	}
	clear(p.marks)
	if rd.marks == nil || len(p.rows) == 0 {
		return nil
	}
	// New: last seen in its account's newest snapshot and first seen
	// after the one before it. A page holds every identity of its range.
	for i := range p.rows {
		r := &p.rows[i]
		if prev, ok := rd.marks.prevOf[r.snapshot]; ok && r.firstSnapshot > prev {
			p.marks[r.id] = ChangeNew
		}
	}
	// Changed: observed in both, with another material digest.
	lo, hi := p.rows[0].id, p.rows[len(p.rows)-1].id
	for _, pair := range rd.marks.pairs {
		from, to := lo, hi
		if rd.packed {
			// SQLite orders IDs byte by byte, as Go compares them: a
			// pair whose IDs lie outside the page's is not read. Another
			// database's collation need not (PostgreSQL's), and there
			// each pair's range is the page's.
			from, to = max(lo, pair.lo), min(hi, pair.hi)
			if from > to {
				continue
			}
		}
		cur, err := rd.curMaterials(ctx, p, pair.cur, from, to)
		if err != nil {
			return err
		}
		p.curBuf = cur
		if len(cur) == 0 {
			continue
		}
		prev, err := rd.materials(ctx, pair.prev, from, to, p.prevBuf)
		if err != nil {
			return err
		}
		p.prevBuf = prev
		changedMaterials(cur, prev, p.marks)
	}
	return nil
}

// curMaterials is materials(sn, from, to), taking what the page's range
// read of sn read (p.cur) rather than reading it again: only the parts of
// from..to outside it are read, which hold observations of sn only for
// identities last seen in a later snapshot (one still running), so are
// mostly empty. It fills p.curBuf (emptied first).
func (rd tableRead) curMaterials(ctx context.Context, p *tablePage, sn int64, from, to string) ([]idMaterial, error) {
	c := &p.cur
	if !rd.packed || !c.ok || c.sn != sn || c.from > to || c.to < from { // on SQLite only: see readMarks
		return rd.materials(ctx, sn, from, to, p.curBuf)
	}
	clear(p.curBuf)
	out := p.curBuf[:0]
	if from < c.from {
		before, err := rd.materials(ctx, sn, from, c.from, nil)
		if err != nil {
			return nil, err
		}
		if n := len(before); n > 0 && before[n-1].id == c.from {
			before = before[:n-1] // the range read has it
		}
		out = append(out, before...)
	}
	for _, m := range c.list {
		if from <= m.id && m.id <= to {
			out = append(out, m)
		}
	}
	if c.to < to {
		after, err := rd.materials(ctx, sn, c.to, to, nil)
		if err != nil {
			return nil, err
		}
		if len(after) > 0 && after[0].id == c.to {
			after = after[1:]
		}
		out = append(out, after...)
	}
	return out, nil
}

// idMaterial is an observation's identity and material digest.
type idMaterial struct{ id, material string }

// materials reads snapshot sn's observations from the ID from to the ID
// to (a range of the key), their identities and material digests, in
// the database's order, into buf (emptied first): a page's, reused from
// page to page, where a list grown anew for each page was a tenth of
// what an open of the sample allocated (issue 21).
func (rd tableRead) materials(ctx context.Context, sn int64, from, to string, buf []idMaterial) ([]idMaterial, error) {
	cols := "identity_id, material"
	if rd.packed {
		cols = packedPair("identity_id", "material")
	}
	clear(buf) // no text of an earlier page kept
	out := buf[:0]
	err := rd.eachInKeyOrder(ctx, cols, `FROM observations WHERE snapshot_id = ? AND identity_id >= ? AND identity_id <= ?`, "identity_id",
		[]any{sn, from, to}, func(rows *sql.Rows, text string) error {
			var m idMaterial
			if rd.packed {
				if !unpack(text, &m.id, &m.material) {
					return errUnpackable
				}
			} else if err := rows.Scan(&m.id, &m.material); err != nil {
				return err
			}
			out = append(out, m)
			return nil
		})
	if err != nil {
		return nil, fmt.Errorf("comparing snapshots: %w", err)
	}
	return out, nil
}

// changedMaterials marks changed each identity of both cur and prev
// whose material differs: a merge when both come in Go's order of
// strings, as on SQLite, else through a map (a database's collation
// need not be Go's).
func changedMaterials(cur, prev []idMaterial, marks map[string]string) {
	sorted := func(l []idMaterial) bool {
		for i := 1; i < len(l); i++ {
			if l[i-1].id >= l[i].id {
				return false
			}
		}
		return true
	}
	if !sorted(cur) || !sorted(prev) {
		byID := make(map[string]string, len(prev))
		for _, m := range prev {
			byID[m.id] = m.material
		}
		for _, m := range cur {
			if was, ok := byID[m.id]; ok && was != m.material {
				marks[m.id] = ChangeChanged
			}
		}
		return
	}
	j := 0
	for _, m := range cur {
		for j < len(prev) && prev[j].id < m.id {
			j++
		}
		if j < len(prev) && prev[j].id == m.id && prev[j].material != m.material {
			marks[m.id] = ChangeChanged
		}
	}
}
