package audit

import (
	"context"
)

// Suggester derives owner suggestions apart from the read of the table:
// the TUI reads the table without them (EachTableIdentityWithoutSuggestions)
// and derives them once the table is ready, off its event loop, in
// batches (docs/performance.md, "Owners suggested after the table").
// What it gives an identity is what EachTableIdentity gives it. It reads
// the directory of people when it is made, and each snapshot's principals
// as its identities are met: by the keys of their scopes for a snapshot
// of few identities, whole once one has had many. One goroutine at a
// time.
type Suggester struct {
	d *derivation
}

// Suggester reads what suggestions depend on besides the identities and
// the principals: the directory of people. Close releases it.
func (s *Store) Suggester(ctx context.Context) (*Suggester, error) {
	people, err := s.People(ctx)
	if err != nil {
		return nil, err
	}
	d := &derivation{s: s, ev: &snapshotEvaluators{people: people}, principals: principalIndex{},
		byScope: map[int64]map[string][]OwnerSuggestion{}, perBatch: true,
		loads: map[int64]*principalLoad{}, keyed: map[int64]bool{}, seen: map[int64]int{}}
	d.loadsCtx, d.stopLoads = context.WithCancel(ctx)
	return &Suggester{d: d}, nil
}

// Suggest sets the Suggestions of ids, which need their ID's snapshot
// (SnapshotID), kind, name, scope and attributes, as EachTableIdentity
// derives them; identities in ID order, as the table holds them, share
// the most. Lists shared between identities are never changed in place.
func (g *Suggester) Suggest(ctx context.Context, ids []Identity) error {
	shared, scoped, err := g.d.suggestShared(ctx, ids)
	if err != nil {
		return err
	}
	for i := range ids {
		if !shared[i] {
			ids[i].Suggestions = suggestOwnersWith(&ids[i], g.d.ev.people, scoped[i])
		}
	}
	return nil
}

// Close stops the reads of principals still running.
func (g *Suggester) Close() { g.d.close() }
