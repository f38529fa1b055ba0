package campaigns_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/nhi-audit/nhi/audit"
	"github.com/nhi-audit/nhi/campaigns"
	"github.com/nhi-audit/nhi/campaigns/campaignstest"
	"github.com/nhi-audit/nhi/internal/pgtest"
)

// A reviewer may not decide an item she owns or holds (docs/people.md,
// "Who may not decide"), and on PostgreSQL the database holds her to it
// as it holds her to her own name and her own items (docs/team.md,
// threat model): writing the decision herself through the store's
// transactions — the event, the item's columns and its history row, each
// as nhi would have written them, as she could with psql — is refused
// for an item whose owner recorded at creation or now, or whose holder,
// is her under any alias, and nothing is recorded. Before, nhi refused
// it and the database did not: the record was consistent, nhi verify
// passed, and the report showed a self-review nhi says it refuses.
func TestDatabaseRefusesASelfReview(t *testing.T) {
	f := newFixtureOn(t, campaignstest.Postgres)
	f.Snapshot(t, nil, population()...)
	db := pgtest.DatabaseName(f.Path)
	ritaRole := "rita_" + db
	rita := audit.Person{Email: "rita@acme.test", Aliases: []string{"rita", ritaRole}}
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{rita, {Email: "sam@acme.test", Aliases: []string{"sam"}}}}, false); err != nil {
		t.Fatal(err)
	}
	create(t, f, campaigns.Spec{Name: "q", Scope: "kind:github_deploy_key", Reviewers: []string{"rita@acme.test", "sam@acme.test"}})
	c := get(t, f, "q")
	// Of her items: one whose owner is recorded as her since the
	// campaign froze its population, one whose holder the directory
	// learns since is her (her GitHub login), one neither.
	var owned, held, other string
	for _, it := range c.Items {
		switch {
		case it.Reviewer != "rita@acme.test":
		case owned == "":
			owned = it.ID
		case held == "" && it.NaturalOwner != "":
			held, rita.GitHub = it.ID, it.NaturalOwner
		case other == "" && it.NaturalOwner != rita.GitHub:
			other = it.ID
		}
	}
	if owned == "" || held == "" || other == "" {
		t.Fatalf("rita's items: owned %q, held %q, other %q; the test wants all three", owned, held, other)
	}
	if _, err := f.Store.SetOwner(ctx, "admin", owned, "rita"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.SetPeople(ctx, "admin", audit.PeopleImport{People: []audit.Person{rita}}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Store.InitRoles(ctx); err != nil {
		t.Fatal(err)
	}
	st, err := audit.Open(ctx, loginRole(t, f, "rita", audit.RoleReviewer), audit.OpenOptions{Now: f.Clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	events := func() (n int) {
		t.Helper()
		if err := f.Store.QueryRow(ctx, `SELECT count(*) FROM events`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, id := range []string{owned, held} {
		// Through nhi: refused, the attempt recorded.
		if _, err := campaigns.Decide(ctx, st, "rita@acme.test", "q", id, campaigns.Keep, "mine, kept"); !errors.Is(err, campaigns.ErrSelfReview) {
			t.Errorf("rita deciding %s through nhi: %v; want ErrSelfReview", id, err)
		}
		// Around nhi's checks: the decision as nhi writes one.
		before := events()
		_, err := campaignstest.WriteAround(ctx, st, "rita@acme.test", campaigns.DecidePayload{Campaign: "q", Items: []string{id}, Decision: campaigns.Keep, Reason: "mine, kept"})
		if err == nil || !strings.Contains(err.Error(), "may not decide "+id) {
			t.Errorf("rita writing her own decision on %s: %v; want it refused by the database", id, err)
		} else {
			t.Log(err)
		}
		if n := events(); n != before {
			t.Errorf("her self-review of %s left %d events", id, n-before)
		}
	}
	if r, err := f.Store.Verify(ctx); err != nil || !r.OK() {
		t.Fatalf("verify: %v %v", err, r.Problems)
	}
	// An item she neither owns nor holds she decides as before, either way.
	if _, err := campaigns.Decide(ctx, st, "rita@acme.test", "q", other, campaigns.Decommission, ""); err != nil {
		t.Errorf("rita deciding an item of someone else's: %v", err)
	}
}
