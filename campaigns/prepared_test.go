package campaigns_test

import (
	"errors"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
)

// A reviewer's store keeps the campaign and the directory of people
// between decisions (on PostgreSQL, where a decision is prepared before
// the lock), but what another process changes in between is seen by the
// next decision: a new alias that makes the reviewer an identity's
// holder, a campaign closed, another campaign decided in.
func TestDecisionSeesWhatChangedSinceTheLast(t *testing.T) {
	campaignstest.Engines(t, func(t *testing.T, eng campaignstest.Engine) {
		f := newFixtureOn(t, eng)
		f.Snapshot(t, nil, population()...)
		create(t, f, campaigns.Spec{Name: "q", Scope: "id:*", Reviewers: []string{"rita"}})
		other, err := audit.Open(ctx, f.Path, audit.OpenOptions{Now: f.Clock.Now})
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()

		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", keyID("api", "1"), campaigns.Decommission, ""); err != nil {
			t.Fatal(err)
		}
		// Another process records that rita also goes by alice, who
		// added the deploy key web/4: rita holds it now.
		if _, err := other.SetPeople(ctx, "hr", audit.PeopleImport{People: []audit.Person{
			{Email: "rita@acme.test", GitHub: "alice", Aliases: []string{"rita"}},
			{Email: "sam@acme.test", GitHub: "sam"},
		}}, false); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", keyID("web", "4"), campaigns.Decommission, ""); !errors.Is(err, campaigns.ErrSelfReview) {
			t.Errorf("rita deciding a key alice added, once the directory says she is alice: %v; want ErrSelfReview", err)
		}
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", keyID("web", "3"), campaigns.Keep, "still used"); err != nil {
			t.Fatal(err)
		}

		// Another process creates a second campaign and closes the first.
		if _, err := campaigns.Create(ctx, other, "lead", campaigns.Spec{Name: "q2", Scope: "id:*", Due: "2026-10-31", Reviewers: []string{"sam"}}); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Close(ctx, other, "lead", "q"); err != nil {
			t.Fatal(err)
		}
		if _, err := campaigns.Decide(ctx, f.Store, "rita", "q", keyID("ops", "5"), campaigns.Decommission, ""); !errors.Is(err, campaigns.ErrClosed) {
			t.Errorf("deciding in a campaign another process closed: %v; want ErrClosed", err)
		}
		o, err := campaigns.Decide(ctx, f.Store, "sam", "q2", keyID("ops", "5"), campaigns.Decommission, "")
		if err != nil {
			t.Fatal(err)
		}
		if !o.Assigned || o.Reviewer != "sam@acme.test" {
			t.Errorf("sam's decision in q2: reviewer %q, assigned %v; want sam's own item", o.Reviewer, o.Assigned)
		}
		if it := item(t, get(t, f, "q2"), keyID("ops", "5")); it.Decision != campaigns.Decommission {
			t.Errorf("q2's item after sam's decision: %q", it.Decision)
		}
		verifyOK(t, f)
	})
}
