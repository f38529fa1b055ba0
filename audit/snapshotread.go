package audit

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// The read side of a campaign's population (EachIdentityInSnapshots),
// read the way the TUI's table is (tableread.go) rather than as one join:
// the chosen snapshots' observations stream in ID order on one cursor,
// and for each page of them the identities' and owners' rows are read as
// one range of their keys, merged in ID order, instead of a seek per row
// into each table (issue 21: a campaign over a million).

// snapshotPage is a page of a snapshot read: the rows as tableread.go
// has them (snapshot: the observation's), with where each identity was
// last seen and the scope it had there.
type snapshotPage struct {
	tablePage
	latest      []int64
	latestScope []string
}

// reset empties the page for the next rows.
func (p *snapshotPage) reset() {
	p.rows, p.at = p.rows[:0], nil
	p.latest, p.latestScope = p.latest[:0], p.latestScope[:0]
}

// fill reads the identities' and owners' columns of the page's rows,
// whose observations are read, and the scope each had where it was last
// seen. A row whose identity is not there is left !found, as the join
// left it out. On SQLite the rows come packed (tableread.go's packed: the
// driver's cost is per column); a page a text of which holds the
// separator is read again column by column.
func (p *snapshotPage) fill(ctx context.Context, q querier, packed bool) error {
	err := p.fillAs(ctx, q, packed)
	if packed && errors.Is(err, errUnpackable) {
		err = p.fillAs(ctx, q, false)
	}
	return err
}

func (p *snapshotPage) fillAs(ctx context.Context, q querier, packed bool) error {
	if len(p.rows) == 0 {
		return nil
	}
	for i := range p.rows {
		p.rows[i].found, p.rows[i].owner = false, ""
	}
	p.at = nil
	p.latest = append(p.latest[:0], make([]int64, len(p.rows))...)
	p.latestScope = append(p.latestScope[:0], make([]string, len(p.rows))...)
	if err := p.readIdentityRange(ctx, q, packed); err != nil {
		return err
	}
	if err := p.readIdentityKeys(ctx, q, packed); err != nil {
		return err
	}
	if err := (tableRead{q: q, packed: packed}).ownerRange(ctx, &p.tablePage); err != nil {
		return err
	}
	return p.readLatestScopes(ctx, q)
}

// identityRangeSlack bounds a range read of identities to this many rows
// per row of the page: where the page's IDs are sparse among the file's
// (a campaign over one source of many), the rest are read by key.
const identityRangeSlack = 8

const snapshotIdentityColumns = `id, kind, source, account, last_snapshot, first_seen, last_seen`

func identityColumnsOf(packedRow bool) string {
	if packedRow {
		return packed("id", "kind", "source", "account", "last_snapshot", "first_seen", "last_seen")
	}
	return snapshotIdentityColumns
}

// readIdentityRange reads the identities from the page's first ID to its
// last in one range of the key, merging them into the rows in ID order.
func (p *snapshotPage) readIdentityRange(ctx context.Context, q querier, packed bool) error {
	rows, err := q.QueryContext(ctx, `SELECT `+identityColumnsOf(packed)+` FROM identities
		WHERE id >= ? AND id <= ? ORDER BY id LIMIT ?`,
		p.rows[0].id, p.rows[len(p.rows)-1].id, identityRangeSlack*len(p.rows))
	if err != nil {
		return fmt.Errorf("reading identities: %w", err)
	}
	defer rows.Close()
	var r tableRow
	var latest int64
	j := 0
	for rows.Next() {
		if err := scanSnapshotIdentity(rows, packed, &r, &latest); err != nil {
			return err
		}
		k := j
		for k < len(p.rows) && p.rows[k].id != r.id {
			k++
		}
		if k == len(p.rows) {
			continue
		}
		j = k + 1
		p.setIdentity(k, &r, latest)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading identities: %w", err)
	}
	return nil
}

// readIdentityKeys reads, by key, the identities readIdentityRange's
// bound left out.
func (p *snapshotPage) readIdentityKeys(ctx context.Context, q querier, packed bool) error {
	var ids []any
	for i := range p.rows {
		if !p.rows[i].found {
			ids = append(ids, p.rows[i].id)
		}
	}
	if len(ids) == 0 {
		return nil
	}
	p.index()
	const chunk = 500
	for start := 0; start < len(ids); start += chunk {
		part := ids[start:min(start+chunk, len(ids))]
		rows, err := q.QueryContext(ctx, `SELECT `+identityColumnsOf(packed)+` FROM identities
			WHERE id IN (?`+strings.Repeat(",?", len(part)-1)+`)`, part...)
		if err != nil {
			return fmt.Errorf("reading identities: %w", err)
		}
		var r tableRow
		var latest int64
		for rows.Next() {
			if err := scanSnapshotIdentity(rows, packed, &r, &latest); err != nil {
				rows.Close()
				return err
			}
			if k, ok := p.at[r.id]; ok {
				p.setIdentity(k, &r, latest)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("reading identities: %w", err)
		}
	}
	return nil
}

func scanSnapshotIdentity(rows *sql.Rows, packed bool, r *tableRow, latest *int64) error {
	if !packed {
		if err := rows.Scan(&r.id, &r.kind, &r.source, &r.account, latest, &r.firstSeen, &r.lastSeen); err != nil {
			return fmt.Errorf("reading identities: %w", err)
		}
		return nil
	}
	var sn string
	if err := rows.Scan(&r.packed); err != nil {
		return fmt.Errorf("reading identities: %w", err)
	}
	if !unpack(r.packed, &r.id, &r.kind, &r.source, &r.account, &sn, &r.firstSeen, &r.lastSeen) {
		return fmt.Errorf("reading identities: %w", errUnpackable)
	}
	var err error
	if *latest, err = strconv.ParseInt(sn, 10, 64); err != nil {
		return fmt.Errorf("identity %s: last snapshot %q: %w", r.id, sn, err)
	}
	return nil
}

// setIdentity copies r's identity columns into row k.
func (p *snapshotPage) setIdentity(k int, r *tableRow, latest int64) {
	row := &p.rows[k]
	row.found = true
	row.kind, row.source, row.account, row.firstSeen, row.lastSeen = r.kind, r.source, r.account, r.firstSeen, r.lastSeen
	p.latest[k] = latest
	if latest == row.snapshot {
		p.latestScope[k] = row.scope
	}
}

// readLatestScopes reads, by key, the scope of the rows whose identity
// was last seen in another snapshot than the one read: over the current
// snapshots, none.
func (p *snapshotPage) readLatestScopes(ctx context.Context, q querier) error {
	bySnapshot := map[int64][]any{}
	for i := range p.rows {
		if p.rows[i].found && p.latest[i] != p.rows[i].snapshot {
			bySnapshot[p.latest[i]] = append(bySnapshot[p.latest[i]], p.rows[i].id)
		}
	}
	if len(bySnapshot) == 0 {
		return nil
	}
	p.index()
	const chunk = 500
	for sn, ids := range bySnapshot {
		for start := 0; start < len(ids); start += chunk {
			part := ids[start:min(start+chunk, len(ids))]
			rows, err := q.QueryContext(ctx, `SELECT identity_id, scope FROM observations
				WHERE snapshot_id = ? AND identity_id IN (?`+strings.Repeat(",?", len(part)-1)+`)`, append([]any{sn}, part...)...)
			if err != nil {
				return fmt.Errorf("reading observations: %w", err)
			}
			for rows.Next() {
				var id, scope string
				if err := rows.Scan(&id, &scope); err != nil {
					rows.Close()
					return fmt.Errorf("reading observations: %w", err)
				}
				if k, ok := p.at[id]; ok {
					p.latestScope[k] = scope
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("reading observations: %w", err)
			}
		}
	}
	return nil
}

// maxSnapshotCursors is how many snapshots' observations a campaign's
// read merges through cursors of their own on SQLite; past it one query
// sorts them (a campaign takes one snapshot per source and account, so
// only a file of hundreds of accounts comes near it). A variable so a
// test can take that way.
var maxSnapshotCursors = 64

// snapshotObservations is the observations of a campaign's snapshots as
// one stream in ID order. On SQLite each snapshot's are a cursor of its
// own, in the order of the table's key (snapshot_id, identity_id), merged
// here: one query over several snapshots ordered by ID made SQLite sort
// every observation into a temporary tree before it gave the first, 2.3
// CPU-seconds of a million-identity campaign (issue 21) during which the
// insert had nothing to do. The cursors share one connection, and so
// read the file as it stood when the first was stepped. On PostgreSQL,
// and past maxSnapshotCursors, the database sorts them into one cursor.
type snapshotObservations struct {
	q       querier
	packed  bool
	cursors []*observationsCursor // a min-heap by the current row's ID
}

// observationsCursor is one query's observations in ID order, at its
// current row.
type observationsCursor struct {
	rows     *sql.Rows
	snapshot int64 // its snapshot; 0: the rows name theirs
	row      tableRow
	dst      []any // what a row is scanned into, row's fields
}

func (s *Store) openSnapshotObservations(ctx context.Context, q querier, snapshotIDs []int64) (*snapshotObservations, error) {
	o := &snapshotObservations{q: q, packed: s.engine == engineSQLite}
	if s.engine == engineSQLite && len(snapshotIDs) <= maxSnapshotCursors {
		for _, sn := range snapshotIDs {
			rows, err := q.QueryContext(ctx, `SELECT `+o.columns()+` FROM observations WHERE snapshot_id = ? ORDER BY identity_id`, sn)
			if err != nil {
				o.close()
				return nil, fmt.Errorf("reading snapshot %d: %w", sn, err)
			}
			o.cursors = append(o.cursors, &observationsCursor{rows: rows, snapshot: sn})
		}
	} else {
		args := make([]any, len(snapshotIDs))
		for i, id := range snapshotIDs {
			args[i] = id
		}
		rows, err := q.QueryContext(ctx, `SELECT snapshot_id, `+o.columns()+` FROM observations
			WHERE snapshot_id IN (?`+strings.Repeat(",?", len(args)-1)+`) ORDER BY identity_id`, args...)
		if err != nil {
			return nil, fmt.Errorf("reading snapshots %v: %w", snapshotIDs, err)
		}
		o.cursors = append(o.cursors, &observationsCursor{rows: rows})
	}
	// Each cursor's first row, then the heap.
	live := o.cursors[:0]
	for _, c := range o.cursors {
		ok, err := o.advance(ctx, c)
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
	clear(o.cursors[len(live):])
	o.cursors = live
	for i := len(o.cursors)/2 - 1; i >= 0; i-- {
		o.down(i)
	}
	return o, nil
}

// columns are an observation's columns but its snapshot: on SQLite the
// ID and the rest packed into one text (tableread.go's packed).
func (o *snapshotObservations) columns() string {
	if o.packed {
		return "identity_id, " + packed("name", "scope", "ifnull(created_at,'')", "ifnull(last_used_at,'')",
			"ifnull(rotated_at,'')", "ifnull(expires_at,'')", "permissions", "attributes")
	}
	return tableObservationColumns
}

// advance moves c to its next row, reporting whether there was one.
func (o *snapshotObservations) advance(ctx context.Context, c *observationsCursor) (bool, error) {
	if !c.rows.Next() {
		if err := c.rows.Err(); err != nil {
			return false, fmt.Errorf("reading observations: %w", err)
		}
		return false, nil
	}
	r := &c.row
	if c.dst == nil {
		c.dst = []any{&r.id, &r.name, &r.scope, &r.created, &r.lastUsed, &r.rotated, &r.expires, &r.perms, &r.attrs}
		if o.packed {
			c.dst = []any{&r.id, &r.packed}
		}
		if c.snapshot == 0 {
			c.dst = append([]any{&r.snapshot}, c.dst...)
		}
	}
	if c.snapshot != 0 {
		r.snapshot = c.snapshot
	}
	if err := c.rows.Scan(c.dst...); err != nil {
		return false, fmt.Errorf("reading observations: %w", err)
	}
	if !o.packed {
		return true, nil
	}
	if unpack(r.packed, &r.name, &r.scope, &r.created.String, &r.lastUsed.String, &r.rotated.String, &r.expires.String, &r.perms, &r.attrs) {
		for _, t := range []*sql.NullString{&r.created, &r.lastUsed, &r.rotated, &r.expires} {
			t.Valid = t.String != ""
		}
		return true, nil
	}
	// A text holds the separator: this row column by column.
	err := o.q.QueryRowContext(ctx, `SELECT name, scope, created_at, last_used_at, rotated_at, expires_at, permissions, attributes
		FROM observations WHERE snapshot_id = ? AND identity_id = ?`, r.snapshot, r.id).
		Scan(&r.name, &r.scope, &r.created, &r.lastUsed, &r.rotated, &r.expires, &r.perms, &r.attrs)
	if err != nil {
		return false, fmt.Errorf("reading observation %s of snapshot %d: %w", r.id, r.snapshot, err)
	}
	return true, nil
}

// next sets r to the next observation in ID order, reporting whether
// there was one.
func (o *snapshotObservations) next(ctx context.Context, r *tableRow) (bool, error) {
	if len(o.cursors) == 0 {
		return false, nil
	}
	top := o.cursors[0]
	*r = top.row
	ok, err := o.advance(ctx, top)
	if err != nil {
		return false, err
	}
	if !ok {
		top.rows.Close()
		o.cursors = dropTop(o.cursors)
	}
	if len(o.cursors) > 1 {
		o.down(0)
	}
	return true, nil
}

// down restores the heap's order below i: by ID, byte by byte.
func (o *snapshotObservations) down(i int) {
	siftDown(o.cursors, i, func(a, b *observationsCursor) bool { return a.row.id < b.row.id })
}

// close closes the cursors still open.
func (o *snapshotObservations) close() {
	for _, c := range o.cursors {
		c.rows.Close()
	}
	o.cursors = nil
}
