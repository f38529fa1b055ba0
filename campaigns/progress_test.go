package campaigns_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/filter"
)

// TestProgressCountsAsTheDatabaseGroups: the progress List and Show give,
// read on SQLite in the items' key order and grouped as they pass (issue
// 21: the database's GROUP BY sorted a million items to find a handful
// of groups), is the progress the database's grouping gave, kept as the
// oracle (ProgressAsGrouped): the same reviewers in the same order and
// spelling, the same counts — over several reviewers and a reviewer map,
// decisions by reviewers, by others and by a reviewer spelt otherwise,
// overrides in conflict, a bulk decision, no-response at close, carried
// items and items no reviewer may review, and deciders whose first item
// comes before or after another's whatever the order they decided in.
func TestProgressCountsAsTheDatabaseGroups(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		owners := []string{"dave", "alice", "carol", "", "bob", "alice", "Dave", "erin"}
		var obs []audit.Observation
		for i := range 40 {
			obs = append(obs, key(fmt.Sprintf("repo-%d", i%4), fmt.Sprint(i), owners[i%len(owners)]))
		}
		obs = append(obs, secret("repo-1", "NPM_TOKEN"), secret("repo-3", "SENTRY_DSN"))
		f.Snapshot(t, nil, obs...)
		create(t, f, campaigns.Spec{Name: "q3", Scope: "id:*", Reviewers: []string{"rita", "sam"},
			ReviewerMap: map[string]string{"dave": "zoe", "carol": "yuri"}})
		countsAsGrouped(t, f) // all pending
		decide := func(actor, id string, d campaigns.Decision) {
			t.Helper()
			if _, err := campaigns.Decide(ctx, f.Store, actor, "q3", id, d, "reviewed"); err != nil {
				t.Fatalf("%s deciding %s: %v", actor, id, err)
			}
		}
		id := func(i int) string { return obs[i].ID }
		decide("rita", id(5), campaigns.Keep)
		decide("sam", id(6), campaigns.Decommission)
		decide("Rita", id(9), campaigns.Rotate)      // rita spelt otherwise
		decide("vic", id(30), campaigns.Keep)        // vic's first item comes late
		decide("uma", id(2), campaigns.Decommission) // uma's, deciding after vic, early
		decide("vic", id(5), campaigns.Rotate)       // over rita's keep: a conflict
		decide("zoe", id(12), campaigns.Keep)        // a mapped reviewer
		decide("Vic", id(1), campaigns.Keep)         // vic spelt otherwise, before all his items
		if _, err := campaigns.DecideMatching(ctx, f.Store, "sam", "q3", "scope:acme/repo-2", campaigns.Decommission, "gone", false); err != nil {
			t.Fatal(err)
		}
		countsAsGrouped(t, f)
		if _, err := campaigns.Close(ctx, f.Store, "lead", "q3"); err != nil {
			t.Fatal(err)
		}
		countsAsGrouped(t, f) // no-response

		// Next quarter, the keeps carried; alice reviews alone, and her own
		// keys go to no one.
		f.Clock.Set("2026-12-15T09:00:00Z")
		f.Snapshot(t, nil, obs...)
		res := create(t, f, campaigns.Spec{Name: "q4", Scope: "id:*", Due: "2027-01-31", CarryForward: "q3", Reviewers: []string{"alice"}})
		if res.Carried == 0 {
			t.Fatal("nothing carried")
		}
		if _, err := campaigns.Decide(ctx, f.Store, "sam", "q4", id(1), campaigns.Decommission, "gone"); err != nil { // alice's: no one's
			t.Fatal(err)
		}
		c := countsAsGrouped(t, f)["q4"]
		last := c.Reviewers[len(c.Reviewers)-1]
		if c.Carried == 0 || last.Reviewer != "" || last.DecidedByOthers != 1 {
			t.Errorf("q4 progress %+v: want carried items and items no one reviews, one decided by sam", c)
		}
	})
}

// countsAsGrouped checks each campaign's progress, as List and Show
// count it, against the database's grouping (and Get's count), and
// returns them by name.
func countsAsGrouped(t *testing.T, f *fixture) map[string]campaigns.Progress {
	t.Helper()
	listCountsAsGet(t, f)
	list, err := campaigns.List(ctx, f.Store)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]campaigns.Progress{}
	for _, c := range list {
		want, err := campaigns.ProgressAsGrouped(ctx, f.Store, c.Name)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(c.Progress, want) {
			t.Errorf("campaign %s: list counts\n%+v\nthe database's grouping counts\n%+v", c.Name, c.Progress, want)
		}
		shown, err := campaigns.Show(ctx, f.Store, c.Name)
		if err != nil || !reflect.DeepEqual(shown.Progress, want) {
			t.Errorf("campaign %s: show counts\n%+v (%v)\nthe database's grouping counts\n%+v", c.Name, shown.Progress, err, want)
		}
		out[c.Name] = c.Progress
	}
	return out
}

// TestNamesReadNoProgress: what resolves a campaign's name or completes
// one (Names) and a filter's campaign terms (FilterReview,
// FilterReviewInOrder) read the campaigns' rows, not their progress,
// where each listed the campaigns with List and so counted every item of
// every campaign (issue 21: ten percent of the CPU of opening the TUI
// on a campaign of a million). List still counts each campaign's.
func TestNamesReadNoProgress(t *testing.T) {
	f := newFixture(t)
	f.Snapshot(t, nil, population()...)
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*"})
	create(t, f, campaigns.Spec{Name: "Other", Scope: "kind:deploy_key"})
	counted := 0
	restore := campaigns.ProgressRead(func(int64) { counted++ })
	defer restore()
	names, err := campaigns.Names(ctx, f.Store)
	if err != nil || fmt.Sprint(names) != "[q Other]" {
		t.Fatalf("names %v, %v; want [q Other], oldest first", names, err)
	}
	for _, expr := range []string{"campaign:Q", "campaign:other decision:pending", "campaign:nope"} {
		fl, err := filter.Parse(expr, audit.Vocabulary)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.FilterReview(ctx, f.Store, "rita", "", fl); (err != nil) != (expr == "campaign:nope") {
			t.Errorf("%s: %v", expr, err)
		}
		r, err := campaigns.FilterReviewInOrder(ctx, f.Store, "rita", "", fl)
		if (err != nil) != (expr == "campaign:nope") {
			t.Errorf("%s in order: %v", expr, err)
		}
		if r != nil {
			r.Close()
		}
	}
	if counted != 0 {
		t.Errorf("the progress of %d campaigns counted to resolve names; want none", counted)
	}
	if _, err := campaigns.List(ctx, f.Store); err != nil || counted != 2 {
		t.Errorf("List counted the progress of %d campaigns (%v); want 2", counted, err)
	}
}

// TestProgressOfADeciderWithTheKeysSeparator: a decider whose name holds
// the unit separator that parts the fields of the key SQLite's items are
// grouped by could make two groups one; the campaign is grouped by the
// database instead, and counts as it does.
func TestProgressOfADeciderWithTheKeysSeparator(t *testing.T) {
	f := newFixture(t)
	f.Snapshot(t, nil, population()...)
	create(t, f, campaigns.Spec{Name: "q", Scope: "id:*"})
	for _, d := range []struct{ actor, id string }{{"vic\x1fkeep", keyID("api", "1")}, {"vic", keyID("web", "3")}} {
		if _, err := campaigns.Decide(ctx, f.Store, d.actor, "q", d.id, campaigns.Keep, "reviewed"); err != nil {
			t.Fatalf("%q deciding: %v", d.actor, err)
		}
	}
	p := countsAsGrouped(t, f)["q"]
	if len(p.Reviewers) != 4 {
		t.Errorf("reviewers %+v; want rita, sam and both vics", p.Reviewers)
	}
}

// TestProgressOverPagesCountsAsTheDatabaseGroups: on SQLite progress
// reads the items a page of 4,096 at a time; groups whose first item
// lies in a later page, and a group met again pages later, count as the
// database's grouping counts them.
func TestProgressOverPagesCountsAsTheDatabaseGroups(t *testing.T) {
	const n = 2*4096 + 5
	f := newFixture(t)
	obs := keys(n, "user")
	f.Snapshot(t, nil, obs...)
	create(t, f, campaigns.Spec{Name: "big", Scope: "id:*", Reviewers: []string{"rita", "sam"}})
	for _, d := range []struct {
		who string
		i   int
	}{{"uma", 8190}, {"vic", 4100}, {"rita", 4095}, {"uma", 3}, {"sam", 8196}, {"wes", 4096}} {
		if _, err := campaigns.Decide(ctx, f.Store, d.who, "big", obs[d.i].ID, campaigns.Keep, "reviewed"); err != nil {
			t.Fatalf("%s deciding item %d: %v", d.who, d.i, err)
		}
	}
	p := countsAsGrouped(t, f)["big"]
	if p.Total != n {
		t.Errorf("progress counts %d items, want %d", p.Total, n)
	}
}
