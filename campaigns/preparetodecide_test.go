package campaigns_test

import (
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// A reviewer who opens a campaign has their store readied for it
// (PrepareToDecide, docs/team.md "A reviewer's first decision"): it
// rehearses a decision of one of their items in transactions it rolls
// back. Nothing is recorded — the log's head, the item and its history
// are as before, and the decision made after it is the next event, the
// chain whole — and that first decision is made in one round trip, as
// those after it are, where without it the first went the long way. A
// rehearsal of an item that is not theirs is refused by the server's
// checks and records nothing either. On an evidence file it does
// nothing.
func TestPrepareToDecideRecordsNothing(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		u := f.Path
		rita := "rita"
		if eng == campaignstest.Postgres {
			if _, err := f.Store.InitRoles(ctx); err != nil {
				t.Fatal(err)
			}
			u = loginRole(t, f, "rita", audit.RoleReviewer)
			rita = "rita_" + pgtest.DatabaseName(f.Path)
		}
		if _, err := f.Store.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
			{Email: "rita@acme.test", GitHub: "rita", Status: audit.PersonActive, Aliases: []string{rita}},
			{Email: "sam@acme.test", GitHub: "sam", Status: audit.PersonActive},
		}}, false); err != nil {
			t.Fatal(err)
		}
		create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita", "sam"}})
		c, err := campaigns.Get(ctx, f.Store, "q")
		if err != nil {
			t.Fatal(err)
		}
		var mine, theirs string
		for _, it := range c.Items {
			switch {
			case strings.HasPrefix(it.Reviewer, "rita") && mine == "":
				mine = it.ID
			case strings.HasPrefix(it.Reviewer, "sam") && theirs == "":
				theirs = it.ID
			}
		}
		if mine == "" || theirs == "" {
			t.Fatalf("no item for rita (%q) or sam (%q)", mine, theirs)
		}
		st, err := audit.Open(ctx, u, audit.OpenOptions{Now: f.Clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		before, err := f.Store.LogHead(ctx)
		if err != nil {
			t.Fatal(err)
		}
		unchanged := func(what string) {
			t.Helper()
			head, err := f.Store.LogHead(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if head.Seq != before.Seq || head.Hash != before.Hash {
				t.Errorf("after %s the log's head is event %d %s; want %d %s, nothing recorded", what, head.Seq, head.Hash, before.Seq, before.Hash)
			}
			var history int
			if err := f.Store.QueryRow(ctx, `SELECT count(*) FROM campaign_decisions`).Scan(&history); err != nil {
				t.Fatal(err)
			}
			got, err := campaigns.Get(ctx, f.Store, "q")
			if err != nil {
				t.Fatal(err)
			}
			if got.Progress.Decided != 0 || history != 0 {
				t.Errorf("after %s %d items decided and %d rows of history; want none", what, got.Progress.Decided, history)
			}
		}
		if err := campaigns.PrepareToDecide(ctx, st, rita, "q", theirs); eng == campaignstest.Postgres && err == nil {
			t.Errorf("rehearsing sam's item as rita: no error; want the server's refusal")
		}
		unchanged("rehearsing sam's item")
		if err := campaigns.PrepareToDecide(ctx, st, rita, "q", mine); err != nil {
			t.Fatal(err)
		}
		unchanged("rehearsing rita's item")
		trips := 0
		defer campaigns.OneTripDecided(func() { trips++ })()
		out, err := campaigns.Decide(ctx, st, rita, "q", mine, campaigns.Decommission, "")
		if err != nil {
			t.Fatal(err)
		}
		if out.Event.Seq != before.Seq+1 || out.Event.PrevHash != before.Hash {
			t.Errorf("the first decision is event %d after %s; want %d after %s", out.Event.Seq, out.Event.PrevHash, before.Seq+1, before.Hash)
		}
		if want := map[campaignstest.Engine]int{campaignstest.Postgres: 1}[eng]; trips != want {
			t.Errorf("the first decision after PrepareToDecide: %d made in one round trip; want %d", trips, want)
		}
		if r, err := f.Store.Verify(ctx); err != nil || !r.OK() {
			t.Errorf("the chain: %v %v", r.Problems, err)
		}
	})
}
