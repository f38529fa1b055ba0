package audit

import (
	"context"
	"database/sql/driver"
	"fmt"
	"runtime"
	"sync"
)

// Read access the campaigns package needs to freeze a population and to
// verify remediation, without knowing this package's tables.

// IdentitiesInSnapshot returns the identities one snapshot observed, ordered
// by ID, each as that snapshot saw it: its observation there, the owner
// recorded now, and its findings under the policy in force evaluated as of
// the snapshot's start (SnapshotID is that snapshot). Status is the
// identity's current status.
func (s *Store) IdentitiesInSnapshot(ctx context.Context, snapshotID int64) ([]Identity, error) {
	return s.identitiesInSnapshot(ctx, snapshotID, true)
}

func (s *Store) identitiesInSnapshot(ctx context.Context, snapshotID int64, evaluate bool) ([]Identity, error) {
	var n int // sizes the slice up front, as scanIdentities does
	if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM observations WHERE snapshot_id = ?`, snapshotID).Scan(&n); err != nil {
		return nil, fmt.Errorf("reading snapshot %d: %w", snapshotID, err)
	}
	rows, err := s.snapshotObservationRows(ctx, snapshotID, nil)
	if err != nil {
		return nil, err
	}
	out := make([]Identity, 0, n)
	for rows.Next() {
		// Scanned against "no complete snapshot" so status is decided below
		// from the identity's latest observation, not this one.
		id, _, err := scanIdentity(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// A renamed identity's owner recorded under its old ID follows it.
	aliases, err := s.Aliases(ctx)
	if err != nil {
		return nil, err
	}
	if err := inheritOwners(ctx, s.db, predecessors(aliases), out); err != nil {
		return nil, err
	}
	status, err := s.statusIn(ctx, snapshotID, nil)
	if err != nil {
		return nil, err
	}
	for i := range out {
		if st, ok := status[out[i].ID]; ok {
			out[i].Status, out[i].StatusReason = st.Status, st.StatusReason
		}
	}
	if !evaluate {
		return out, nil
	}
	return out, s.evaluate(ctx, out, "")
}

// statusIn is the current status of each identity a snapshot observed
// that is not active, judged from its latest observation. Each is judged
// as it is read and let go unless it is not active: a snapshot of a
// million identities is not held for it (issue 21). The judge and a
// renamed identity's successor are read on other connections while the
// cursor is open, as EachIdentityInSnapshots reads its pages. With kinds
// not nil, of the identities of those kinds alone (OfKinds).
func (s *Store) statusIn(ctx context.Context, snapshotID int64, kinds []string) (map[string]Identity, error) {
	judge, err := s.newStatusJudge(ctx)
	if err != nil {
		return nil, err
	}
	// An identity that continues under another ID (lineage.go) stands as
	// its successor does.
	aliases, err := s.Aliases(ctx)
	if err != nil {
		return nil, err
	}
	narrow, args := OfKinds("i.kind", kinds)
	rows, err := s.db.QueryContext(ctx, `SELECT i.id, i.kind, i.source, i.account, i.last_snapshot, lo.scope
		FROM observations o JOIN identities i ON i.id = o.identity_id
		JOIN observations lo ON lo.snapshot_id = i.last_snapshot AND lo.identity_id = i.id
		WHERE o.snapshot_id = ?`+narrow, append([]any{snapshotID}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]Identity{}
	for rows.Next() {
		var (
			it            Identity
			kind, account string
		)
		if err := rows.Scan(&it.ID, &kind, &it.Source, &account, &it.SnapshotID, &it.Scope); err != nil {
			return nil, err
		}
		it.Kind = Kind(kind)
		if cur, ok := aliases[it.ID]; ok {
			err := s.db.QueryRowContext(ctx, `SELECT i.kind, i.account, i.last_snapshot, o.scope FROM identities i
				JOIN observations o ON o.snapshot_id = i.last_snapshot AND o.identity_id = i.id WHERE i.id = ?`, cur).
				Scan(&kind, &account, &it.SnapshotID, &it.Scope)
			if err != nil {
				return nil, fmt.Errorf("reading %s, which %s continues as: %w", cur, it.ID, err)
			}
			it.Kind = Kind(kind)
		}
		if err := judge.judge(ctx, &it, account); err != nil {
			return nil, err
		}
		if it.Status != StatusActive {
			out[it.ID] = it
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// ObservedIDs returns the IDs of the identities a snapshot observed.
func (s *Store) ObservedIDs(ctx context.Context, snapshotID int64) (map[string]bool, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT identity_id FROM observations WHERE snapshot_id = ?`, snapshotID)
	if err != nil {
		return nil, fmt.Errorf("reading snapshot %d: %w", snapshotID, err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// Owners returns the owners recorded now, by identity ID, as the
// transaction sees them.
func (t *Tx) Owners(ctx context.Context) (map[string]string, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT identity_id, owner FROM owners`)
	if err != nil {
		return nil, fmt.Errorf("reading owners: %w", err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var id, owner string
		if err := rows.Scan(&id, &owner); err != nil {
			return nil, err
		}
		out[id] = owner
	}
	return out, rows.Err()
}

// Owner returns the owner recorded now for one identity, "" when none.
func (t *Tx) Owner(ctx context.Context, id string) (string, error) {
	return readOwner(ctx, t.tx, id)
}

// Owner returns the owner recorded now for one identity, "" when none,
// outside any write transaction.
func (s *Store) Owner(ctx context.Context, id string) (string, error) {
	return readOwner(ctx, s.db, id)
}

func readOwner(ctx context.Context, q querier, id string) (string, error) {
	var owner string
	err := q.QueryRowContext(ctx, `SELECT COALESCE((SELECT owner FROM owners WHERE identity_id = ?), '')`, id).Scan(&owner)
	if err != nil {
		return "", fmt.Errorf("reading the owner of %s: %w", id, err)
	}
	return owner, nil
}

// ObservationsInSnapshot is IdentitiesInSnapshot without the derived parts:
// no findings, change marks or owner suggestions, for callers that bring
// their own (a campaign's frozen findings) and cannot wait for 100,000
// evaluations.
func (s *Store) ObservationsInSnapshot(ctx context.Context, snapshotID int64) ([]Identity, error) {
	return s.identitiesInSnapshot(ctx, snapshotID, false)
}

// EachIdentityInSnapshots calls fn with every identity the snapshots
// observed, ordered by ID across them, each as IdentitiesInSnapshot gives
// it (its observation there, the owner recorded now, findings under the
// policy in force as of that snapshot's start, its current status) but
// without change marks or owner suggestions, which a campaign does not
// freeze. They are read and evaluated a batch at a time, so memory stays
// flat however many there are (issue 21: a campaign over a million). fn
// must not keep the pointer, nor its Permissions and Attributes maps,
// past its call; an error from fn stops the read and is returned.
func (s *Store) EachIdentityInSnapshots(ctx context.Context, snapshotIDs []int64, fn func(*Identity) error) error {
	if len(snapshotIDs) == 0 {
		return nil
	}
	judge, err := s.newStatusJudge(ctx)
	if err != nil {
		return err
	}
	aliases, err := s.Aliases(ctx)
	if err != nil {
		return err
	}
	olds := predecessors(aliases)
	ev, err := s.evaluators(ctx)
	if err != nil {
		return err
	}
	// The observations stream in ID order (snapshotObservations), each
	// page of them completed with its identities and owners read as
	// ranges (snapshotread.go).
	q, release, err := s.mappedReader(ctx)
	if err != nil {
		return err
	}
	defer release()
	obs, err := s.openSnapshotObservations(ctx, q, snapshotIDs)
	if err != nil {
		return err
	}
	defer obs.close()
	var (
		page = &snapshotPage{}
		buf  = make([]Identity, 0, eachBatch)
		// A page's maps are reused by the next: fn does not keep them.
		attrs, perms []map[string]string
		times        timeSlab
	)
	flush := func() error {
		if err := page.fill(ctx, q, obs.packed); err != nil {
			return err
		}
		var last lastRow // the page's: its maps are the page's
		for i := range page.rows {
			r := &page.rows[i]
			if !r.found {
				continue // as the join left it out: no identity
			}
			if len(attrs) <= i {
				attrs, perms = append(attrs, map[string]string{}), append(perms, map[string]string{})
			}
			it, err := r.identity(attrs[i], perms[i], &times, &last)
			if err != nil {
				return err
			}
			// The status is the identity's now, judged from its latest
			// observation, or its successor's when it continues under
			// another ID (lineage.go).
			account := r.account
			latest := Identity{Observation: Observation{ID: it.ID, Kind: it.Kind, Scope: page.latestScope[i]},
				Source: it.Source, SnapshotID: page.latest[i]}
			if cur, ok := aliases[it.ID]; ok {
				var kind string
				err := q.QueryRowContext(ctx, `SELECT i.kind, i.account, i.last_snapshot, o.scope FROM identities i
					JOIN observations o ON o.snapshot_id = i.last_snapshot AND o.identity_id = i.id WHERE i.id = ?`, cur).
					Scan(&kind, &account, &latest.SnapshotID, &latest.Scope)
				if err != nil {
					return fmt.Errorf("reading %s, which %s continues as: %w", cur, it.ID, err)
				}
				latest.Kind = Kind(kind)
			}
			if err := judge.judge(ctx, &latest, account); err != nil {
				return err
			}
			it.Status, it.StatusReason = latest.Status, latest.StatusReason
			buf = append(buf, it)
		}
		page.reset()
		// A renamed identity's owner recorded under its old ID follows
		// it, before the findings (orphaned) read it.
		if err := inheritOwners(ctx, q, olds, buf); err != nil {
			return err
		}
		for i := range buf {
			ev.prepare(buf[i].SnapshotID)
		}
		// Evaluators are read-only once prepared: the findings of a
		// batch are evaluated on every core.
		workers := min(runtime.GOMAXPROCS(0), 8, len(buf)/1000+1)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				var slab findingSlab // the worker's own
				for i := w; i < len(buf); i += workers {
					buf[i].Findings = ev.findingsIn(&buf[i], &slab)
				}
			})
		}
		wg.Wait()
		for i := range buf {
			if err := fn(&buf[i]); err != nil {
				return err
			}
		}
		clear(buf)
		buf = buf[:0]
		return nil
	}
	var prev string
	for {
		page.rows = append(page.rows, tableRow{})
		r := &page.rows[len(page.rows)-1]
		ok, err := obs.next(ctx, r)
		if err != nil {
			return fmt.Errorf("reading snapshots %v: %w", snapshotIDs, err)
		}
		if !ok {
			page.rows = page.rows[:len(page.rows)-1]
			break
		}
		if prev != "" && r.id <= prev {
			// Campaign digests are over rows in byte order of ID, and the
			// pages' reads merge in it.
			return fmt.Errorf("reading snapshots %v: the database returned %s after %s: it does not order identity IDs byte by byte (its collation), which nhi needs", snapshotIDs, r.id, prev)
		}
		prev = r.id
		if len(page.rows) == eachBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	return flush()
}

// readMapSize is how much of an evidence file mappedReader maps: all of
// it, up to what SQLite allows (SQLITE_MAX_MMAP_SIZE, about 2 GB).
const readMapSize int64 = 2 << 30 // int64: past a 32-bit int

// mappedReader is a connection that reads the evidence file through a
// memory map rather than a read call per page, for a read of a whole
// population: beside the write transaction that inserts a campaign's
// million items as they are read, a read call per page made the whole
// create cost 52 s of CPU, through the map 37 (issue 21).
// release gives the connection back to the pool unmapped, so other
// reads keep the file's pages out of their resident memory. On
// PostgreSQL it is the pool itself.
func (s *Store) mappedReader(ctx context.Context) (q querier, release func(), err error) {
	if s.engine == enginePostgres {
		return s.db, func() {}, nil
	}
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, nil, err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf("PRAGMA mmap_size = %d", readMapSize)); err != nil {
		conn.Close()
		return nil, nil, err
	}
	return conn, func() {
		// A connection still mapped is not handed back to the pool.
		if _, err := conn.ExecContext(context.Background(), "PRAGMA mmap_size = 0"); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
		conn.Close()
	}, nil
}
