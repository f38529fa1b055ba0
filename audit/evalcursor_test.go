package audit

import (
	"slices"
	"testing"
)

// The cursor a table read's derive evaluates with gives every identity
// the findings its own snapshot's evaluator gives it, however the
// identities switch between snapshots (policies of different starts,
// accounts of different members) and kinds, back and forth, and where
// two snapshots share a kind or a kind comes back after another.
func TestEvalCursorIsFindingsIn(t *testing.T) {
	e := &snapshotEvaluators{
		policy:  DefaultPolicy(),
		members: map[string][]string{"acme": {"alice"}, "beta": {"mallory"}},
		info: map[int64]snapshotAccount{
			1: {account: "acme", started: evalNow},
			2: {account: "beta", started: evalNow.AddDate(-1, 0, 0)},
			3: {account: "acme", started: evalNow.AddDate(0, 0, -200)},
		},
		evals: map[int64]*Evaluator{},
	}
	var ids []Identity
	for _, sn := range []int64{1, 1, 2, 3, 1, 2, 2, 3, 1} {
		for _, o := range riskyObservations(nil) {
			for _, owner := range []string{"", "mallory", "alice"} {
				ids = append(ids, Identity{Owner: owner, Observation: o, SnapshotID: sn})
			}
		}
	}
	// Kinds back and forth within a snapshot too.
	ids = append(ids, ids[len(ids)-1], ids[0], ids[len(ids)-1])
	for sn := range e.info {
		e.prepare(sn)
	}
	cur := evalCursor{e: e}
	var slab findingSlab
	for i := range ids {
		id := &ids[i]
		got, want := cur.findingsIn(id, &slab), e.findingsIn(id, nil)
		if !slices.Equal(got, want) || got == nil {
			t.Errorf("%d: %s of snapshot %d (owner %q): the cursor found %v, its snapshot's evaluator %v", i, id.Kind, id.SnapshotID, id.Owner, got, want)
		}
	}
}
