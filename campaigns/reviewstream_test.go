package campaigns_test

import (
	"slices"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/filter"
	"github.com/nhi-audit/nhi/internal/benchmem"
)

// TestOrderedReviewAnswersAsFilterReview: the review nhi identities
// --filter reads campaign terms through, a cursor over each campaign's
// items advanced as the identities pass in ID order, answers every
// question as the review holding the campaigns whole does: of each
// identity listed, in the campaign in view and in each named, the items
// of the renamed repository under their IDs now and not their old ones,
// decisions and reviewer:me (as rita, and as nobody) included; asked in
// the reverse order too (each then looked up by its key).
func TestOrderedReviewAnswersAsFilterReview(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := renamedCampaign(t, eng)
		create(t, f, campaigns.Spec{Name: "Q2", Scope: "id:*", Reviewers: []string{"rita"}})
		if _, err := campaigns.DecideMatching(ctx, f.Store, "rita", "Q2", "scope:acme/api-v2", campaigns.Keep, "in use", false); err != nil {
			t.Fatal(err)
		}
		fl, err := filter.Parse("campaign:Q2 decision:pending", audit.Vocabulary)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		err = f.Store.StreamIdentities(ctx, func(id *audit.Identity) error {
			ids = append(ids, id.ID)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, keyID("api", "1"), keyID("api", "2"), "zz-none") // the old IDs, and none
		slices.Sort(ids)
		ids = slices.Compact(ids)
		for _, actor := range []string{"rita", ""} {
			whole, err := campaigns.FilterReview(ctx, f.Store, actor, "q", fl)
			if err != nil {
				t.Fatal(err)
			}
			for _, order := range []string{"ascending", "descending"} {
				asked := slices.Clone(ids)
				if order == "descending" {
					slices.Reverse(asked)
				}
				r, err := campaigns.FilterReviewInOrder(ctx, f.Store, actor, "q", fl)
				if err != nil {
					t.Fatal(err)
				}
				found := 0
				for _, id := range asked {
					for _, c := range []string{"", "q", "q2", "nope"} {
						want, wok := whole.Item(c, id)
						got, gok := r.Item(c, id)
						if got != want || gok != wok {
							t.Errorf("%s, as %q, asked %s: Item(%q, %s) = %+v %v; want %+v %v", order, actor, order, c, id, got, gok, want, wok)
						}
						if gok {
							found++
						}
					}
				}
				if err := r.Close(); err != nil {
					t.Fatal(err)
				}
				if found < 6 || (order == "ascending") != (r.OutOfOrder == 0) {
					t.Errorf("%s: %d items found, %d asked out of order", order, found, r.OutOfOrder)
				}
			}
		}
	})
}

// TestOrderedReviewHoldsTheItemAtTheCursor: nhi identities --filter
// 'campaign:q decision:pending' holds the item at each campaign's
// cursor, not the campaign (issue 21: the campaign read whole as a map
// of items cost 760 B an identity, GBs at a million): every so often
// while the identities pass, the items the review read and still holds
// are counted after a collection.
func TestOrderedReviewHoldsTheItemAtTheCursor(t *testing.T) {
	const n = 3000
	f := newFixture(t)
	obs := keys(n, "")
	f.Snapshot(t, nil, obs...)
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*"})
	fl, err := filter.Parse("campaign:q decision:pending", audit.Vocabulary)
	if err != nil {
		t.Fatal(err)
	}
	var held benchmem.Held[byte] // each item's ID, as read
	restore := campaigns.ReviewHeld(func(id string) { benchmem.AddString(&held, id) })
	defer restore()
	r, err := campaigns.FilterReviewInOrder(ctx, f.Store, "", "", fl)
	if err != nil {
		t.Fatal(err)
	}
	env := &filter.Env{Now: f.Store.Now(), Review: r}
	matched := 0
	err = f.Store.StreamIdentities(ctx, func(id *audit.Identity) error {
		if fl.Match(id, env) {
			matched++
		}
		return nil
	})
	if err == nil {
		err = r.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	if matched != n || held.Given() != n {
		t.Fatalf("matched %d, %d items read; want %d, %d", matched, held.Given(), n, n)
	}
	t.Logf("%d of %d held at most", held.Most(), held.Given())
	if limit := 100; held.Most() > limit {
		t.Errorf("held %d of the %d items it read at once; want %d at most (the item at the cursor)", held.Most(), held.Given(), limit)
	}
}
