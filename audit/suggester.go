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

// SuggestionAttribute reports whether owner suggestions read the
// attribute named k: Suggest reads no other, so a caller that rebuilds
// identities for it (the TUI, from its rows) may give it only these.
// Told by its first byte and length before the map, as isOwnerAttribute.
func SuggestionAttribute(k string) bool {
	return k != "" && len(k) < 64 && suggestionAttributeShapes[k[0]]&(1<<len(k)) != 0 && suggestionAttributes[k]
}

// suggestionAttributes are what suggestOwnersWith, ownName and
// k8sSuggestions read: an identity's own owner attributes
// (ownerAttributes), an access key's IAM user, and a Kubernetes
// object's namespace with its labels and annotations that name owners.
var suggestionAttributes = func() map[string]bool {
	m := map[string]bool{"user": true, "namespace": true}
	for k := range ownerAttributes {
		m[k] = true
	}
	for _, key := range []string{"owner", "team"} {
		m["namespace_label."+key], m["namespace_annotation."+key] = true, true
	}
	return m
}()

var suggestionAttributeShapes = func() (shapes [256]uint64) {
	for k := range suggestionAttributes {
		shapes[k[0]] |= 1 << len(k)
	}
	return shapes
}()
