package campaigns_test

import (
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/filter"
)

// lineageKey is deploy key n of the repository whose immutable ID is 42,
// under its name repo: the lineage a connector records with it, so a
// snapshot after the repository is renamed links the old ID to the new.
func lineageKey(repo, n, addedBy string) audit.Observation {
	o := key(repo, n, addedBy)
	o.Attributes[audit.LineageAttribute] = "repository:42/github_deploy_key/" + n
	return o
}

// renamedCampaign is a campaign q over keys api/1, api/2 (repository 42)
// and web/3, frozen before repository api was renamed api-v2, and the
// snapshot after the rename. rita owned api/1 when q was created.
func renamedCampaign(t *testing.T, eng campaignstest.Engine) *fixture {
	t.Helper()
	f := newFixtureOn(t, eng)
	f.Snapshot(t, nil, lineageKey("api", "1", "alice"), lineageKey("api", "2", "bob"), key("web", "3", "carol"))
	if _, err := f.Store.SetOwner(ctx, "lead@acme.test", keyID("api", "1"), "rita"); err != nil {
		t.Fatal(err)
	}
	create(t, f, campaigns.Spec{Name: "q", Scope: "kind:deploy_key"})
	f.Clock.Add(24 * time.Hour)
	f.Snapshot(t, nil, lineageKey("api-v2", "1", "alice"), lineageKey("api-v2", "2", "bob"), key("web", "3", "carol"))
	if a, err := f.Store.Aliases(ctx); err != nil || a[keyID("api", "2")] != keyID("api-v2", "2") {
		t.Fatalf("the rename was not linked: %v %v", a, err)
	}
	return f
}

// TestRenamedItemDecidedByEitherID: an item frozen before its repository
// was renamed keeps its ID, the key of its evidence, and is found under
// the ID its identity has now: its assignment is listed under that ID (so
// the TUI's row of it, and campaign:NAME, match it), deciding it by
// either ID records one decision on it, campaign show names both IDs, and
// the separation rules refuse its owner under either ID: the one frozen
// at creation, and the one recorded since under the new ID. On
// PostgreSQL the decisions go through the one-round-trip path too, once
// an item that was not renamed has made the campaign known to it.
func TestRenamedItemDecidedByEitherID(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := renamedCampaign(t, eng)
		old1, new1 := keyID("api", "1"), keyID("api-v2", "1")
		old2, new2 := keyID("api", "2"), keyID("api-v2", "2")
		web := keyID("web", "3")

		as, err := campaigns.Assignments(ctx, f.Store, "q", "rita")
		if err != nil {
			t.Fatal(err)
		}
		if len(as) != 3 {
			t.Errorf("%d assignments, want 3: %v", len(as), as)
		}
		for _, id := range []string{new1, new2, web} {
			if _, ok := as[id]; !ok {
				t.Errorf("no assignment under %s: %v", id, as)
			}
		}
		for _, id := range []string{old1, old2} {
			if _, ok := as[id]; ok {
				t.Errorf("an assignment under the old ID %s, which no identity has now", id)
			}
		}

		// A decision on an item not renamed (the campaign becomes known
		// to the one-round-trip path on PostgreSQL).
		if _, err := campaigns.Decide(ctx, f.Store, "sam", "q", web, campaigns.Keep, "still used"); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", web, campaigns.Keep, "still used too"); err != nil {
			t.Fatal(err)
		}

		// Owned at creation (frozen under the old ID): refused by either ID.
		for _, id := range []string{new1, old1} {
			if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", id, campaigns.Decommission, ""); !errors.Is(err, campaigns.ErrSelfReview) {
				t.Errorf("rita, the owner at creation, deciding %s: %v; want a self-review refusal", id, err)
			}
		}
		// Owned since under the ID it has now: refused by either ID.
		if _, err := f.Store.SetOwner(ctx, "lead@acme.test", new2, "sam"); err != nil {
			t.Fatal(err)
		}
		for _, id := range []string{old2, new2} {
			if _, err := campaigns.Decide(ctx, f.Store, "sam", "q", id, campaigns.Decommission, ""); !errors.Is(err, campaigns.ErrSelfReview) {
				t.Errorf("sam, the owner recorded under %s, deciding %s: %v; want a self-review refusal", new2, id, err)
			}
		}

		// By the ID now, then by the old one: two decisions of one item.
		o, err := campaigns.Decide(ctx, f.Store, "rita", "q", new2, campaigns.Decommission, "")
		if err != nil {
			t.Fatal(err)
		}
		if o.Item != old2 {
			t.Errorf("decided item %s; want %s, the ID the campaign froze", o.Item, old2)
		}
		if o, err = campaigns.Decide(ctx, f.Store, "rita", "q", old2, campaigns.Keep, "needed after all"); err != nil || o.Item != old2 || o.Previous != campaigns.Decommission {
			t.Fatalf("deciding by the old ID: %+v %v", o, err)
		}
		outs, err := campaigns.DecideEach(ctx, f.Store, "sam", "q", []string{new1}, campaigns.Rotate, "rotate it")
		if err != nil || len(outs) != 1 || outs[0].Item != old1 {
			t.Fatalf("DecideEach by the ID now: %+v %v", outs, err)
		}

		c := get(t, f, "q")
		if len(c.Items) != 3 || c.Progress.Total != 3 || c.Progress.Decided != 3 {
			t.Errorf("%d items, progress %+v; want 3 items, 3 decided", len(c.Items), c.Progress)
		}
		it := item(t, c, old2)
		if it.Decision != campaigns.Keep || len(it.History) != 2 || it.CurrentID != new2 {
			t.Errorf("item %s: %s, %d decisions, now %q; want keep, 2, %s", old2, it.Decision, len(it.History), it.CurrentID, new2)
		}
		if it := item(t, c, old1); it.Decision != campaigns.Rotate || it.CurrentID != new1 {
			t.Errorf("item %s: %s, now %q", old1, it.Decision, it.CurrentID)
		}
		if it := item(t, c, web); it.CurrentID != "" {
			t.Errorf("item %s, not renamed, says it is now %s", web, it.CurrentID)
		}
		// Each refusal is evidence, naming the item as frozen.
		refused := 0
		for _, r := range c.Refused {
			if len(r.Items) == 1 && (r.Items[0] == old1 || r.Items[0] == old2) {
				refused++
			}
		}
		if refused != 4 {
			t.Errorf("%d refusals recorded on the renamed items; want 4: %+v", refused, c.Refused)
		}
		verifyOK(t, f)
	})
}

// TestRenamedItemsOfANamedCampaign: campaign:NAME (FilterReview, what
// nhi identities --filter reads) matches a renamed item by the ID the
// identity is listed under now.
func TestRenamedItemsOfANamedCampaign(t *testing.T) {
	f := renamedCampaign(t, campaignstest.SQLite)
	ids, err := f.Store.Identities(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := campaigns.Decide(ctx, f.Store, "sam", "q", keyID("api", "2"), campaigns.Decommission, "gone"); err != nil {
		t.Fatal(err)
	}
	for _, expr := range []string{"campaign:q", "campaign:q decision:decommission"} {
		fl, err := filter.Parse(expr, audit.Vocabulary)
		if err != nil {
			t.Fatal(err)
		}
		r, err := campaigns.FilterReview(ctx, f.Store, "sam", "", fl)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for i := range ids {
			if fl.Match(&ids[i], &filter.Env{Now: f.Clock.Now(), Review: r}) {
				got = append(got, ids[i].ID)
			}
		}
		want := []string{keyID("api-v2", "1"), keyID("api-v2", "2"), keyID("web", "3")}
		if expr != "campaign:q" {
			want = []string{keyID("api-v2", "2")}
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s matches %v; want %v", expr, got, want)
		}
	}
}

// TestRenamedItemsAsOf: the report's read (EachAsOf) gives each renamed
// item its identity's ID now as the log stood at the report's event: a
// report rebuilt as of the campaign's creation names no rename made after.
func TestRenamedItemsAsOf(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := renamedCampaign(t, eng)
		c := get(t, f, "q")
		head, err := f.Store.LogHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, at := range []int64{head.Seq, c.CreateSeq} {
			got := map[string]string{}
			err := campaigns.EachAsOf(ctx, f.Store, "q", at, func(*campaigns.Campaign) error { return nil }, func(b *campaigns.Batch) error {
				for _, it := range b.Items {
					got[it.ID] = it.CurrentID
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{keyID("api", "1"): keyID("api-v2", "1"), keyID("api", "2"): keyID("api-v2", "2"), keyID("web", "3"): ""}
			if at == c.CreateSeq {
				want = map[string]string{keyID("api", "1"): "", keyID("api", "2"): "", keyID("web", "3"): ""}
			}
			if !maps.Equal(got, want) {
				t.Errorf("as of event %d: %v; want %v", at, got, want)
			}
		}
	})
}
