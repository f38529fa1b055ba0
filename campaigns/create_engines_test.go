package campaigns_test

import (
	"fmt"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// A population of more than one full batch of items (their prepared
// statement run again and again) is recorded the same on PostgreSQL as on
// SQLite: every item, the same population digest, and each verifies.
func TestCreateOfFullBatchesIsTheSameOnBothEngines(t *testing.T) {
	const n = 1234 // two full batches of 500 and a partial one
	obs := make([]audit.Observation, n)
	for i := range obs {
		obs[i] = key(fmt.Sprintf("repo-%05d", i/5), fmt.Sprint(i), fmt.Sprintf("user%d", i%97))
	}
	digests := map[campaignstest.Engine]string{}
	for _, eng := range []campaignstest.Engine{campaignstest.SQLite, campaignstest.Postgres} {
		t.Run(string(eng), func(t *testing.T) {
			f := newFixtureOn(t, eng)
			f.Snapshot(t, nil, obs...)
			res := create(t, f, campaigns.Spec{Name: "q", Scope: "id:*"})
			c, err := campaigns.Get(ctx, f.Store, "q")
			if err != nil {
				t.Fatal(err)
			}
			if res.Campaign.Count != n || len(c.Items) != n || res.Assigned["rita"]+res.Assigned["sam"] != n {
				t.Fatalf("%d items counted, %d recorded, assigned %v; want %d", res.Campaign.Count, len(c.Items), res.Assigned, n)
			}
			if problems, err := campaigns.Verify(ctx, f.Store); err != nil || len(problems) > 0 {
				t.Fatalf("verify: %v %v", problems, err)
			}
			digests[eng] = c.PopulationDigest
		})
	}
	if len(digests) == 2 && digests[campaignstest.SQLite] != digests[campaignstest.Postgres] { // -short skips PostgreSQL
		t.Errorf("population digest %s on SQLite, %s on PostgreSQL", digests[campaignstest.SQLite], digests[campaignstest.Postgres])
	}
}
