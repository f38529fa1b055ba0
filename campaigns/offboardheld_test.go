package campaigns_test

import (
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// Retiring a system holds none of the items its scope selects while it
// freezes, assigns and records them, whatever their number (issue 21:
// --scope 'id:*' or source:aws is every identity of the file; each was
// cloned and held, 2–4 KB, with its frozen row): every so often while it
// freezes them, the frozen items it still holds are counted after a
// collection. What it keeps of each is its ID and snapshot, which the
// offboard.create event lists, a reviewer and a row hash.
func TestOffboardScopeHoldsNoIdentityOfItsScope(t *testing.T) {
	const n = 3000
	f := newFixture(t)
	obs := keys(n, "")
	f.Snapshot(t, nil, obs...)
	var held benchmem.Held[byte] // each item's findings, as frozen
	restore := campaigns.OffboardHeld(func(findings string) { benchmem.AddString(&held, findings) })
	res, err := campaigns.CreateOffboarding(ctx, f.Store, "lead@acme.test", campaigns.OffboardSpec{Scope: "id:*", Reviewers: []string{"rita"}})
	restore()
	if err != nil {
		t.Fatal(err)
	}
	defer res.Close()
	if res.Campaign.Count != n || held.Given() != n {
		t.Fatalf("%d items, %d frozen; want %d", res.Campaign.Count, held.Given(), n)
	}
	listed := 0
	if err := res.EachItem(func(it *campaigns.OffboardItem, id *audit.Identity) error {
		if listed++; id.ID != it.ID || id.Kind != audit.KindGitHubDeployKey || id.Name == "" || id.Scope == "" {
			t.Errorf("item %s listed as %+v", it.ID, id.Observation)
		}
		return nil
	}); err != nil || listed != n {
		t.Fatalf("%d items listed (%v); want %d", listed, err, n)
	}
	t.Logf("%d of %d frozen items held at most", held.Most(), held.Given())
	if held.Most() > 100 {
		t.Errorf("held %d of the %d items it froze at once; want 100 at most", held.Most(), held.Given())
	}
}
