package audit

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
)

// observationBatch is how many observations EachObservationInSnapshot
// hands its caller at a time: enough that a caller's lookup per batch
// (a campaign's items of those IDs) costs little, few enough that
// nothing grows with the snapshot.
var observationBatch = 512

// EachObservationInSnapshot gives what ObservationsInSnapshot returns, a
// batch at a time in ID order, holding no more than a batch (issue 21: a
// bulk decision over a campaign of a million items held every
// observation of its snapshots decoded). Each identity is as
// ObservationsInSnapshot gives it: its observation there, the owner
// recorded now (a renamed one's under its old ID), its current status,
// no findings. With kinds not nil, only the identities of those kinds
// are read, and none where kinds is empty: a bulk decision whose filter
// tells the kinds it can match (filter.RequiredKinds) judges those alone
// (issue 21: one by kind:X at a million items read and decoded every
// observation of every kind, twice). fn must not keep the slice or its
// identities' maps past its call; an error from fn stops the read and is
// returned.
func (s *Store) EachObservationInSnapshot(ctx context.Context, snapshotID int64, kinds []string, fn func([]Identity) error) error {
	if kinds != nil && len(kinds) == 0 {
		return nil
	}
	// The status of the identities that are not active is judged first,
	// as ObservationsInSnapshot does: those are few, and the judge reads
	// the store, which a cursor open on one connection must not wait on.
	status, err := s.statusIn(ctx, snapshotID, kinds)
	if err != nil {
		return err
	}
	aliases, err := s.Aliases(ctx)
	if err != nil {
		return err
	}
	olds := predecessors(aliases)
	rows, err := s.snapshotObservationRows(ctx, snapshotID, kinds)
	if err != nil {
		return err
	}
	defer rows.Close()
	batch := make([]Identity, 0, observationBatch)
	flush := func() error {
		if err := inheritOwners(ctx, s.db, olds, batch); err != nil {
			return err
		}
		for i := range batch {
			if st, ok := status[batch[i].ID]; ok {
				batch[i].Status, batch[i].StatusReason = st.Status, st.StatusReason
			}
		}
		err := fn(batch)
		clear(batch) // let go of the batch's strings and maps before the next is read
		batch = batch[:0]
		return err
	}
	for rows.Next() {
		id, _, err := scanIdentity(rows)
		if err != nil {
			return err
		}
		batch = append(batch, id)
		if len(batch) == observationBatch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading snapshot %d: %w", snapshotID, err)
	}
	if len(batch) > 0 {
		return flush()
	}
	return nil
}

// snapshotObservationRows reads the snapshot's observations in ID order,
// byte by byte as Go compares (a bulk decision merges them so with its
// items: campaigns/bulkselect.go), as identityColumns with the snapshot asked for in place of the
// identity's latest one, for scanIdentity; with kinds not nil, those of
// these kinds (OfKinds).
func (s *Store) snapshotObservationRows(ctx context.Context, snapshotID int64, kinds []string) (*sql.Rows, error) {
	cols := strings.Replace(identityColumns, "i.last_snapshot", "o.snapshot_id", 1)
	narrow, args := OfKinds("i.kind", kinds)
	rows, err := s.db.QueryContext(ctx, `SELECT `+cols+`
		FROM observations o
		JOIN identities i ON i.id = o.identity_id
		LEFT JOIN owners w ON w.identity_id = i.id
		WHERE o.snapshot_id = ?`+narrow+` ORDER BY `+s.byteOrder("i.id"), append([]any{snapshotID}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("reading snapshot %d: %w", snapshotID, err)
	}
	return rows, nil
}

// OfKinds is the condition, and its arguments, that keeps of a query
// those rows whose column (a kind) is one of kinds, equal byte for byte
// (as filter's kind term compares it): nothing where kinds is nil, no
// row where it is empty. An identity's kind is the one its first
// observation gave (the snapshot's upsert into identities changes only
// its last snapshot and sighting), and a campaign item's is its
// identity's, frozen at creation: a bulk decision narrows both by it
// (campaigns/bulkselect.go).
func OfKinds(column string, kinds []string) (string, []any) {
	switch {
	case kinds == nil:
		return "", nil
	case len(kinds) == 0:
		return ` AND false`, nil
	}
	args := make([]any, len(kinds))
	for i, k := range kinds {
		args[i] = k
	}
	return ` AND ` + column + ` IN (?` + strings.Repeat(", ?", len(kinds)-1) + `)`, args
}
