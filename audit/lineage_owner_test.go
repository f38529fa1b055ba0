package audit

import "testing"

// TestSnapshotPopulationFollowsRenamedOwner: a snapshot's population as
// a campaign freezes it (EachIdentityInSnapshots, IdentitiesInSnapshot)
// gives a renamed identity the owner recorded under its old ID, as
// Identities does, so a campaign created after the rename freezes the
// owner its readers show (and carry-forward finds it unchanged); an owner
// recorded under the new ID wins.
func TestSnapshotPopulationFollowsRenamedOwner(t *testing.T) {
	eachEngine(t, func(t *testing.T, eng testEngine) {
		s := openAt(t, eng.new(t))
		snapshot(t, s, nil, nil, renamed("old"), obs("other/1", KindGitHubDeployKey))
		if _, err := s.SetOwner(ctx, "auditor@acme.test", renamed("old").ID, "erin"); err != nil {
			t.Fatal(err)
		}
		second := snapshot(t, s, nil, nil, renamed("new"), obs("other/1", KindGitHubDeployKey))
		owners := func() map[string]string {
			t.Helper()
			got := map[string]string{}
			if err := s.EachIdentityInSnapshots(ctx, []int64{second.ID}, func(id *Identity) error {
				got[id.ID] = id.Owner
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			ids, err := s.IdentitiesInSnapshot(ctx, second.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, id := range ids {
				if got[id.ID] != id.Owner {
					t.Errorf("%s: owner %q streamed, %q listed", id.ID, got[id.ID], id.Owner)
				}
			}
			return got
		}
		got := owners()
		if got[renamed("new").ID] != "erin" || got[obs("other/1", KindGitHubDeployKey).ID] != "" {
			t.Errorf("owners %v; want erin on %s, recorded under %s, and none on the other", got, renamed("new").ID, renamed("old").ID)
		}
		if _, err := s.SetOwner(ctx, "auditor@acme.test", renamed("new").ID, "finn"); err != nil {
			t.Fatal(err)
		}
		if got := owners(); got[renamed("new").ID] != "finn" {
			t.Errorf("owner %q; want finn, recorded under the new ID", got[renamed("new").ID])
		}
	})
}
