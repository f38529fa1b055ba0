package campaigns_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// No ID is in two of a campaign's snapshots: create refuses the
// snapshots that share one (it reads them merged, each ID once), and a
// snapshot is not changed after. Should a file edited behind nhi's back
// hold one anyway, a bulk decision judges the item as the later snapshot
// observed it, as the map of the selection before did: the selection is
// a run of records for each snapshot, merged with the items in ID order,
// and the later run's record is the one that counts, a record of no
// match included (bulkselect.go).
func TestBulkDecisionJudgesAnIDInTwoSnapshotsAsTheLater(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		first := f.Snapshot(t, nil, key("api", "1", ""), key("api", "2", ""), key("web", "3", ""))
		github := f.Source
		f.Source = slackSource
		later := f.Snapshot(t, nil, slackBot("B1", "deploy-bot"))
		f.Source = github
		// The same ID in both: refused.
		f.Source = slackSource
		both := f.Snapshot(t, nil, key("api", "1", ""))
		f.Source = github
		if _, err := campaigns.Create(ctx, f.Store, "root", campaigns.Spec{Name: "both", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"rita"},
			SnapshotIDs: []int64{first.ID, both.ID}}); err == nil {
			t.Fatal("a campaign over two snapshots that share an ID was created")
		}
		c := create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Due: "2026-12-31", Reviewers: []string{"rita"},
			SnapshotIDs: []int64{first.ID, later.ID}}).Campaign
		if len(c.Snapshots) != 2 || c.Count != 4 {
			t.Fatalf("%d items, snapshots %+v", c.Count, c.Snapshots)
		}
		// The later snapshot gains api/1, in another scope.
		f.Exec(t, `INSERT INTO observations (snapshot_id, identity_id, kind, name, scope, created_at, last_used_at, rotated_at, expires_at, permissions, attributes, findings, material)
			SELECT ?, identity_id, kind, name, 'acme/moved', created_at, last_used_at, rotated_at, expires_at, permissions, attributes, findings, material
			FROM observations WHERE snapshot_id = ? AND identity_id = ?`, later.ID, first.ID, keyID("api", "1"))
		for _, tc := range []struct {
			filter string
			want   []string
		}{
			{"scope:acme/api", []string{keyID("api", "2")}},
			{"scope:acme/moved", []string{keyID("api", "1")}},
			{"decision:pending (scope:acme/moved or scope:acme/web)", []string{keyID("api", "1"), keyID("web", "3")}},
		} {
			o, err := campaigns.DecideMatching(campaigns.Preview(ctx), f.Store, "rita", "q", tc.filter, campaigns.Keep, "in use", false)
			if err != nil {
				t.Fatalf("%s: %v", tc.filter, err)
			}
			if want := slices.Sorted(slices.Values(tc.want)); !slices.Equal(o.Items, want) {
				t.Errorf("%s selects %v; want %v", tc.filter, o.Items, want)
			}
		}
		if _, err := campaigns.DecideMatching(ctx, f.Store, "rita", "q", "scope:acme/moved", campaigns.Keep, "in use", false); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.DecideMatching(ctx, f.Store, "rita", "q", "scope:acme/moved", campaigns.Keep, "in use", false); !errors.Is(err, campaigns.ErrNothingMatched) {
			t.Errorf("deciding again what is decided: %v", err)
		}
	})
}
