package audit

import (
	"context"
	"fmt"
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
// left it out.
func (p *snapshotPage) fill(ctx context.Context, q querier) error {
	if len(p.rows) == 0 {
		return nil
	}
	for i := range p.rows {
		p.rows[i].found = false
	}
	p.latest = append(p.latest[:0], make([]int64, len(p.rows))...)
	p.latestScope = append(p.latestScope[:0], make([]string, len(p.rows))...)
	if err := p.readIdentityRange(ctx, q); err != nil {
		return err
	}
	if err := p.readIdentityKeys(ctx, q); err != nil {
		return err
	}
	if err := (tableRead{q: q}).ownerRange(ctx, &p.tablePage); err != nil {
		return err
	}
	return p.readLatestScopes(ctx, q)
}

// identityRangeSlack bounds a range read of identities to this many rows
// per row of the page: where the page's IDs are sparse among the file's
// (a campaign over one source of many), the rest are read by key.
const identityRangeSlack = 8

const snapshotIdentityColumns = `id, kind, source, account, last_snapshot, first_seen, last_seen`

// readIdentityRange reads the identities from the page's first ID to its
// last in one range of the key, merging them into the rows in ID order.
func (p *snapshotPage) readIdentityRange(ctx context.Context, q querier) error {
	rows, err := q.QueryContext(ctx, `SELECT `+snapshotIdentityColumns+` FROM identities
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
		if err := p.scanIdentity(rows, &r, &latest); err != nil {
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
func (p *snapshotPage) readIdentityKeys(ctx context.Context, q querier) error {
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
		rows, err := q.QueryContext(ctx, `SELECT `+snapshotIdentityColumns+` FROM identities
			WHERE id IN (?`+strings.Repeat(",?", len(part)-1)+`)`, part...)
		if err != nil {
			return fmt.Errorf("reading identities: %w", err)
		}
		var r tableRow
		var latest int64
		for rows.Next() {
			if err := p.scanIdentity(rows, &r, &latest); err != nil {
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

func (p *snapshotPage) scanIdentity(rows interface{ Scan(...any) error }, r *tableRow, latest *int64) error {
	if err := rows.Scan(&r.id, &r.kind, &r.source, &r.account, latest, &r.firstSeen, &r.lastSeen); err != nil {
		return fmt.Errorf("reading identities: %w", err)
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
