package audit

import (
	"reflect"
	"testing"
)

// EachObservationInSnapshot gives, batch after batch, what
// ObservationsInSnapshot returns, on both engines: over a population of
// every status, renamed and owned identities, in batches that end
// anywhere.
func TestEachObservationInSnapshotMatchesObservationsInSnapshot(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		defer func(n int) { observationBatch = n }(observationBatch)
		s := openAt(t, eng.new(t))
		variedPopulation(t, s)
		snaps, err := s.Snapshots(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, batch := range []int{7, 512} {
			observationBatch = batch
			for _, snap := range snaps {
				want, err := s.ObservationsInSnapshot(ctx, snap.ID)
				if err != nil {
					t.Fatal(err)
				}
				var got []Identity
				err = s.EachObservationInSnapshot(ctx, snap.ID, nil, func(b []Identity) error {
					if len(b) > batch {
						t.Fatalf("a batch of %d, asked for %d", len(b), batch)
					}
					got = append(got, b...)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				if len(want) == 0 && len(got) == 0 {
					continue
				}
				if !reflect.DeepEqual(got, want) {
					t.Fatalf("snapshot %d, batches of %d: %d identities, want %d, or they differ", snap.ID, batch, len(got), len(want))
				}
			}
		}
	})
}
