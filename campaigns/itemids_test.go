package campaigns_test

import (
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// A shell completing nhi decide NAME gets the campaign's item IDs that
// start with what was typed, in the order nhi campaign show lists them,
// and no more than it asked for, on either engine.
func TestItemIDsAreGetsItemsThatStartWithThePrefix(t *testing.T) {
	obs := make([]audit.Observation, 60)
	for i := range obs {
		obs[i] = key(fmt.Sprintf("repo-%d", i%7), fmt.Sprint(i), "alice")
	}
	for _, eng := range []campaignstest.Engine{campaignstest.SQLite, campaignstest.Postgres} {
		t.Run(string(eng), func(t *testing.T) {
			f := newFixtureOn(t, eng)
			f.Snapshot(t, nil, obs...)
			create(t, f, campaigns.Spec{Name: "q", Scope: "id:*"})
			c, err := campaigns.Get(ctx, f.Store, "q")
			if err != nil {
				t.Fatal(err)
			}
			prefix := keyID("repo-3", "")
			var want []string
			for _, it := range c.Items {
				if strings.HasPrefix(it.ID, prefix) {
					want = append(want, it.ID)
				}
			}
			got, err := campaigns.ItemIDs(ctx, f.Store, "q", prefix, 0)
			if err != nil || !reflect.DeepEqual(got, want) || len(want) == 0 {
				t.Errorf("ItemIDs %q: %q %v; want %q", prefix, got, err, want)
			}
			if got, err := campaigns.ItemIDs(ctx, f.Store, "q", "", 5); err != nil || !reflect.DeepEqual(got, ids(c.Items[:5])) {
				t.Errorf("ItemIDs at most 5: %q %v", got, err)
			}
			if _, err := campaigns.ItemIDs(ctx, f.Store, "nope", "", 0); err == nil {
				t.Error("ItemIDs of no campaign: no error")
			}
		})
	}
}

func ids(items []campaigns.Item) []string {
	out := make([]string, len(items))
	for i, it := range items {
		out[i] = it.ID
	}
	return out
}
